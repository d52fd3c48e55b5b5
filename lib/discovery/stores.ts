import {
  type AttributeDefinition,
  DescribeTableCommand,
  type DynamoDBClient,
  type KeySchemaElement,
  ListTablesCommand,
  ScanCommand,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import {
  GetObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { KeyAttribute, KeySchema, SecondaryIndex } from '../datamap/schema';
import { readObjectHead } from './content';
import {
  type BucketSample,
  type DiscoverySource,
  keysToList,
  matchesPattern,
  OBJECT_HEAD_BYTES,
  type SampledObject,
  type SampleOptions,
  spread,
  type TableSample,
} from './sample';

/** Scan pages tried per table before giving up on filling the sample: never a full scan. */
const MAX_SCAN_PAGES = 10;

/** An SDK error as words that name no value: its name (AccessDenied, ResourceNotFoundException). */
const errorName = (error: unknown) => (error instanceof Error ? error.name : 'an unknown error');

function keyAttribute(
  elements: readonly KeySchemaElement[] | undefined,
  role: 'HASH' | 'RANGE',
  definitions: readonly AttributeDefinition[],
): KeyAttribute | undefined {
  const name = elements?.find((element) => element.KeyType === role)?.AttributeName;
  if (!name) return undefined;
  const type = definitions.find((definition) => definition.AttributeName === name)?.AttributeType;
  return { name, type: type === 'N' || type === 'B' ? type : 'S' };
}

function keySchemaOf(
  elements: readonly KeySchemaElement[] | undefined,
  definitions: readonly AttributeDefinition[],
): KeySchema | undefined {
  const partitionKey = keyAttribute(elements, 'HASH', definitions);
  if (!partitionKey) return undefined;
  const sortKey = keyAttribute(elements, 'RANGE', definitions);
  return sortKey ? { partitionKey, sortKey } : { partitionKey };
}

/** The key schema and GSIs of a DescribeTable answer (also what `aws dynamodb describe-table` prints). */
export function describedKeys(table: TableDescription | undefined): {
  keySchema?: KeySchema;
  indexes: SecondaryIndex[];
} {
  const definitions = table?.AttributeDefinitions ?? [];
  const keySchema = keySchemaOf(table?.KeySchema, definitions);
  const indexes = (table?.GlobalSecondaryIndexes ?? []).flatMap((index) => {
    const keys = keySchemaOf(index.KeySchema, definitions);
    return keys && index.IndexName ? [{ name: index.IndexName, ...keys }] : [];
  });
  return keySchema ? { keySchema, indexes } : { indexes };
}

async function listTables(dynamodb: DynamoDBClient): Promise<string[]> {
  const names: string[] = [];
  let start: string | undefined;
  do {
    const page = await dynamodb.send(new ListTablesCommand({ ExclusiveStartTableName: start }));
    names.push(...(page.TableNames ?? []));
    start = page.LastEvaluatedTableName;
  } while (start);
  return names;
}

/** Up to `sample` items of a table, read by Scan pages with a Limit: never the whole table. */
async function scanSample(dynamodb: DynamoDBClient, table: string, sample: number) {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, never> | undefined;
  for (let page = 0; page < MAX_SCAN_PAGES && items.length < sample; page += 1) {
    const answer = await dynamodb.send(
      new ScanCommand({ TableName: table, Limit: sample - items.length, ExclusiveStartKey: start }),
    );
    for (const item of answer.Items ?? []) items.push(unmarshall(item));
    start = answer.LastEvaluatedKey as Record<string, never> | undefined;
    if (!start) break;
  }
  return items.slice(0, sample);
}

async function sampleTable(dynamodb: DynamoDBClient, name: string, sample: number): Promise<TableSample> {
  const problems: string[] = [];
  let described: TableDescription | undefined;
  try {
    described = (await dynamodb.send(new DescribeTableCommand({ TableName: name }))).Table;
  } catch (error) {
    problems.push(`DescribeTable failed (${errorName(error)}): the key schema is guessed from the items`);
  }
  const { keySchema, indexes } = describedKeys(described);
  let items: Record<string, unknown>[] = [];
  try {
    items = await scanSample(dynamodb, name, sample);
  } catch (error) {
    problems.push(`Scan failed (${errorName(error)}): no items were read`);
  }
  return {
    name,
    ...(keySchema ? { keySchema } : {}),
    indexes,
    ...(described?.ItemCount !== undefined ? { itemCount: described.ItemCount } : {}),
    items,
    problems,
  };
}

async function listBuckets(s3: S3Client): Promise<string[]> {
  const names: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListBucketsCommand(token ? { ContinuationToken: token } : {}));
    names.push(...(page.Buckets ?? []).flatMap((bucket) => (bucket.Name ? [bucket.Name] : [])));
    token = page.ContinuationToken;
  } while (token);
  return names;
}

async function listKeys(s3: S3Client, bucket: string, limit: number) {
  const keys: string[] = [];
  let token: string | undefined;
  let more = false;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        ContinuationToken: token,
        MaxKeys: Math.min(1_000, limit - keys.length),
      }),
    );
    keys.push(...(page.Contents ?? []).flatMap((object) => (object.Key ? [object.Key] : [])));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
    more = token !== undefined;
  } while (token && keys.length < limit);
  return { keys: keys.slice(0, limit), more: more || keys.length > limit };
}

async function readHead(s3: S3Client, bucket: string, key: string, sample: number): Promise<SampledObject> {
  const answer = await s3.send(
    new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=0-${OBJECT_HEAD_BYTES - 1}` }),
  );
  const bytes = Buffer.from((await answer.Body?.transformToByteArray()) ?? new Uint8Array());
  const head = bytes.subarray(0, OBJECT_HEAD_BYTES);
  const total = answer.ContentRange ? Number(answer.ContentRange.split('/')[1]) : bytes.length;
  return readObjectHead(
    key,
    head,
    Number.isFinite(total) ? total > head.length : bytes.length > head.length,
    sample,
  );
}

async function sampleBucket(s3: S3Client, name: string, sample: number): Promise<BucketSample> {
  const problems: string[] = [];
  let listing = { keys: [] as string[], more: false };
  try {
    listing = await listKeys(s3, name, keysToList(sample));
  } catch (error) {
    problems.push(`ListObjectsV2 failed (${errorName(error)}): nothing was read`);
  }
  const objects: SampledObject[] = [];
  let failed = 0;
  let failure = '';
  for (const key of spread(listing.keys, sample)) {
    try {
      objects.push(await readHead(s3, name, key, sample));
    } catch (error) {
      failed += 1;
      failure = errorName(error);
      objects.push({ key, format: 'unread', records: [], badLines: 0 });
    }
  }
  if (failed > 0) problems.push(`${failed} objects could not be read (${failure})`);
  return { name, keys: listing.keys, moreKeys: listing.more, objects, problems };
}

/**
 * The tables and buckets an account's clients reach (AWS, or the local runtime's servers): tables
 * listed and described, a Scan of at most `sample` items each; buckets listed, their keys listed
 * and the first bytes of at most `sample` objects each, spread over the listing.
 */
export function storeSource(
  clients: { dynamodb: DynamoDBClient; s3: S3Client },
  options: SampleOptions,
  description: string,
): DiscoverySource {
  const wanted = (name: string, patterns: string | undefined, skip: readonly string[] | undefined) =>
    matchesPattern(name, patterns) && !(skip ?? []).includes(name);
  return {
    description,
    async *tables() {
      for (const name of await listTables(clients.dynamodb)) {
        if (wanted(name, options.tables, options.skipTables))
          yield await sampleTable(clients.dynamodb, name, options.sample);
      }
    },
    async *buckets() {
      for (const name of await listBuckets(clients.s3)) {
        if (wanted(name, options.buckets, options.skipBuckets))
          yield await sampleBucket(clients.s3, name, options.sample);
      }
    },
  };
}
