import { type AttributeValue, ScanCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoStore } from '../../datamap/schema';
import type { StoreContext, ValueScanOptions, ValueScanPage, ValueSource } from '../adapter';
import { interleave } from '../concurrency';
import { DEFAULT_RETRY_POLICY, withRetry } from '../retry';
import { valueSources } from '../sources';
import { type Item, keyAttributes, projection } from './keys';

const DEFAULT_PAGE_SIZE = 1_000;

/**
 * The raw value of one attribute as the source's reader sees it. Locate queries a key by its text
 * (a number's digits, a binary's UTF-8 bytes: see identityKeyValue); links are read as strings,
 * string sets and lists of strings (see linkValues). Anything else stays an AttributeValue, which
 * is no string and so no identity.
 */
function rawValue(value: AttributeValue | undefined, source: ValueSource): unknown {
  if (value === undefined || value.NULL === true) return undefined;
  if (value.S !== undefined) return value.S;
  if (source.role === 'locate') {
    if (value.N !== undefined) return value.N;
    if (value.B !== undefined) return Buffer.from(value.B).toString('utf8');
    return value;
  }
  if (value.SS !== undefined) return value.SS;
  if (value.L !== undefined) return value.L.map((element) => element.S ?? element);
  return value;
}

/**
 * Scans a DynamoDB store for a value check: a Scan (parallel segments when asked) projecting only
 * the table key and the attributes of the store's locate rules and links, page by page.
 */
export async function* scanDynamoValues(
  store: DynamoStore,
  context: StoreContext,
  options: ValueScanOptions,
): AsyncGenerator<ValueScanPage> {
  const sources = valueSources(store);
  const projected = projection([
    ...keyAttributes(store).map((key) => key.name),
    ...sources.map((source) => source.attribute),
  ]);
  const segments = options.segments ?? 1;
  if (!Number.isInteger(segments) || segments < 1) {
    throw new RangeError('segments must be a whole number of 1 or more');
  }
  const policy = options.retry ?? DEFAULT_RETRY_POLICY;
  const client = context.clients.dynamodb;

  async function* segmentPages(segment: number): AsyncGenerator<ValueScanPage> {
    let startKey: Item | undefined;
    do {
      const after = startKey;
      const page = await withRetry(policy, () =>
        client.send(
          new ScanCommand({
            TableName: store.table,
            ...projected,
            ConsistentRead: options.consistentRead ?? false,
            Limit: options.pageSize ?? DEFAULT_PAGE_SIZE,
            ...(segments > 1 ? { Segment: segment, TotalSegments: segments } : {}),
            ...(after ? { ExclusiveStartKey: after } : {}),
          }),
        ),
      );
      yield {
        records: (page.Items ?? []).map((item) => ({
          values: sources.map((source) => rawValue(item[source.attribute], source)),
        })),
        malformedLines: 0,
        unreadableObjects: 0,
      };
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  }

  yield* segments === 1
    ? segmentPages(0)
    : interleave(Array.from({ length: segments }, (_, segment) => segmentPages(segment)));
}
