import { locatePrefixes } from '../../datamap/prefixes';
import type { S3Store } from '../../datamap/schema';
import type { ScannedRecord, StoreContext, ValueScanOptions, ValueScanPage } from '../adapter';
import { UnsupportedStoreError } from '../errors';
import { DEFAULT_RETRY_POLICY, withRetry } from '../retry';
import { valueSources } from '../sources';
import { createNormaliser, parseLine } from './lines';
import { destroyBody, getObjectOrUndefined, listObjectPages } from './objects';
import { isJsonLinesRule, isPrefixRule, placeholderValue } from './prefixes';
import { bodyChunks, splitLines } from './stream';

const DEFAULT_PAGE_SIZE = 1_000;

/**
 * Scans an S3 store for a value check. Per-subject prefix stores: every object under the rules'
 * fixed prefixes is a record, its value the key's text in the placeholder's place (objects are
 * never read). JSON-lines stores: every object under the rules' prefixes is streamed line by line,
 * each line that is a JSON object a record, with the fields of the rules and links. Objects are
 * read one at a time; lines are handed on in pages of `pageSize`.
 */
export async function* scanS3Values(
  store: S3Store,
  context: StoreContext,
  options: ValueScanOptions,
): AsyncGenerator<ValueScanPage> {
  const sources = valueSources(store);
  const policy = options.retry ?? DEFAULT_RETRY_POLICY;
  const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
  const s3 = context.clients.s3;
  const coverage = (key: string) =>
    sources.map((source) => source.keyPrefix === undefined || key.startsWith(source.keyPrefix));
  const jsonLines = store.locate.some(isJsonLinesRule);
  // No normalising while parsing: the check wants the values as stored.
  const asStored = createNormaliser(undefined);

  let page: ValueScanPage = { records: [], malformedLines: 0, unreadableObjects: 0 };
  for (const prefix of locatePrefixes(store)) {
    for await (const listed of listObjectPages(s3, store.bucket, prefix, policy, pageSize)) {
      // S3 only returns keys under the prefix; the check guards a misbehaving endpoint.
      const keys = listed.map((object) => object.key).filter((key) => key.startsWith(prefix));
      if (!jsonLines) {
        yield {
          records: keys.map(
            (key): ScannedRecord => ({
              // Prefix stores have locate rules only (see valueSources): one value per rule.
              values: store.locate.map((rule) =>
                isPrefixRule(rule) ? placeholderValue(store, rule, key) : undefined,
              ),
              applies: coverage(key),
            }),
          ),
          malformedLines: 0,
          unreadableObjects: 0,
        };
        continue;
      }
      for (const key of keys) {
        const object = await withRetry(policy, () => getObjectOrUndefined(s3, store.bucket, key));
        if (!object) continue; // deleted since it was listed
        const applies = coverage(key);
        let lineNo = 0;
        try {
          for await (const piece of splitLines(bodyChunks(object.Body), store)) {
            if (piece.kind === 'long') {
              if (piece.end) {
                lineNo += 1;
                page.malformedLines += 1;
              }
              continue;
            }
            lineNo += 1;
            const line = parseLine(piece.bytes, lineNo === 1, [], asStored);
            if (line.kind === 'malformed') page.malformedLines += 1;
            if (line.kind !== 'record') continue;
            page.records.push({
              values: sources.map((source) =>
                Object.hasOwn(line.record, source.attribute) ? line.record[source.attribute] : undefined,
              ),
              applies,
            });
            if (page.records.length >= pageSize) {
              yield page;
              page = { records: [], malformedLines: 0, unreadableObjects: 0 };
            }
          }
        } catch (error) {
          // A compressed object is refused before its first line: count it, and read on.
          if (!(error instanceof UnsupportedStoreError)) throw error;
          if (object.Body) destroyBody(object.Body);
          page.unreadableObjects += 1;
        }
      }
    }
  }
  if (page.records.length > 0 || page.malformedLines > 0 || page.unreadableObjects > 0) yield page;
}
