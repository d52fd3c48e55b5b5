import { locatePrefixes } from '../../datamap/prefixes';
import type { S3Store } from '../../datamap/schema';
import type { ScannedRecord, StoreContext, ValueScanOptions, ValueScanPage } from '../adapter';
import { UnsupportedStoreError } from '../errors';
import { DEFAULT_RETRY_POLICY, withRetry } from '../retry';
import { valueSources } from '../sources';
import { fieldReaderOf } from './lines';
import { listObjectPages } from './objects';
import { isParquetStore, isPrefixRule, isSharedObjectRule, placeholderValue } from './prefixes';
import { openSharedRecords } from './shared-records';

const DEFAULT_PAGE_SIZE = 1_000;

/**
 * Scans an S3 store for a value check. Per-subject prefix stores: every object under the rules'
 * fixed prefixes is a record, its value the key's text in the placeholder's place (objects are
 * never read). JSON-lines and Parquet stores: every object under the rules' prefixes is streamed
 * record by record (a line that is a JSON object, a row), with the values (as stored) of the fields
 * of the rules and links. Objects are
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
  const jsonLines = store.locate.some(isSharedObjectRule);
  const parquet = isParquetStore(store);
  const fieldOf = fieldReaderOf(store);
  const fields = sources.map((source) => source.attribute);

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
        const object = await withRetry(policy, () => openSharedRecords(store, s3, key, { fields }));
        if (!object) continue; // deleted since it was listed
        const applies = coverage(key);
        let counted = 0;
        const countUnreadable = () => {
          const fresh = object.unreadable.count - counted;
          counted = object.unreadable.count;
          // An undecodable Parquet object is one unreadable object; JSON-lines count malformed lines.
          if (parquet) page.unreadableObjects += fresh;
          else page.malformedLines += fresh;
        };
        try {
          for await (const { record } of object.records) {
            countUnreadable();
            page.records.push({
              values: sources.map((source) => fieldOf(record, source.attribute)),
              applies,
            });
            if (page.records.length >= pageSize) {
              yield page;
              page = { records: [], malformedLines: 0, unreadableObjects: 0 };
            }
          }
          countUnreadable();
        } catch (error) {
          // A compressed object is refused before its first line: count it, and read on.
          if (!(error instanceof UnsupportedStoreError)) throw error;
          page.unreadableObjects += 1;
        }
      }
    }
  }
  if (page.records.length > 0 || page.malformedLines > 0 || page.unreadableObjects > 0) yield page;
}
