import { GetObjectCommand, type GetObjectCommandOutput, type S3Client } from '@aws-sdk/client-s3';
import type { DataMap, S3Store } from '../../datamap/schema';
import { ReadIncompleteError } from '../errors';
import {
  DEFAULT_RETRY_POLICY,
  isRetryableError,
  type RetryPolicy,
  waitBeforeRetry,
  withRetry,
} from '../retry';
import type { ExportedRecord, LocatedRecord, StoreClients } from '../types';
import { ObjectChangedError } from './errors';
import { createNormaliser, fieldReaderOf, matchersOf, matchRecord } from './lines';
import { destroyBody, getObjectOrUndefined, isFolderMarker, isNotFound } from './objects';
import { rowAsJson } from './parquet-file';
import { planRecords } from './plan';
import { isParquetStore } from './prefixes';
import { openSharedRecords, positionMarker } from './shared-records';
import { bodyChunks } from './stream';

/** Exports below this size are text whenever the bytes are valid UTF-8, whatever the content type says. */
const TEXT_EXPORT_LIMIT = 1024 * 1024;

/** What an exported S3 object looks like: text when it is readable as such, otherwise base64. */
export interface ExportedS3Object {
  contentType: string;
  size: number;
  text?: string;
  base64?: string;
}

/**
 * Reads the located records of an S3 store for an export, one at a time, so only one object (or one
 * line) is held in memory at once.
 *
 * - Objects yield `{ contentType, size, text }` when the bytes are valid UTF-8 and the content type
 *   is textual (text/*, JSON) or the object is under 1 MiB; `{ contentType, size, base64 }` otherwise.
 * - JSON-lines objects yield each line of the subject as `{ key: "<object key>#L<line number>", data: <parsed line> }`.
 * - Parquet objects yield each row of the subject as `{ key: "<object key>#R<row number>", data: <row as JSON> }`
 *   (64-bit integers as numbers when exact, strings otherwise; bytes as base64).
 *
 * Objects that have gone since locating are skipped (nothing is held any more).
 *
 * @param dataMap the data map's identity types, to match lines exactly as locate did; without it a
 *   line matches only when its field holds a normalised value verbatim
 * @throws ReadIncompleteError after the other records were yielded, when some could not be read after retries
 * @throws RecordOutsideStoreError before reading anything, when a record does not belong to the store
 */
export async function* readS3Records(
  store: S3Store,
  records: LocatedRecord[],
  clients: StoreClients,
  dataMap?: Pick<DataMap, 'identityTypes'>,
): AsyncGenerator<ExportedRecord> {
  const plan = planRecords(store, records);
  const normalise = createNormaliser(dataMap);
  const fieldOf = fieldReaderOf(store);
  const marker = positionMarker(store);
  const parquet = isParquetStore(store);
  const policy = DEFAULT_RETRY_POLICY;
  const failedKeys: string[] = [];

  for (const record of plan.objects) {
    // A manifest written before locate passed folder markers by may still list one.
    if (isFolderMarker(record)) continue;
    let data: ExportedS3Object | undefined;
    try {
      data = await withRetry(policy, () => readObject(clients.s3, store.bucket, record.key));
    } catch {
      failedKeys.push(record.key);
      continue;
    }
    if (data) yield { storeId: store.id, key: record.key, data };
  }

  for (const [key, group] of plan.lines) {
    const matchers = matchersOf(group);
    // A retry resumes after the last line yielded, and only on the same object version.
    let yieldedThrough = 0;
    let etag: string | undefined;
    for (let attempt = 1; ; attempt += 1) {
      try {
        const object = await openSharedRecords(store, clients.s3, key);
        if (!object) break;
        if (etag !== undefined && object.etag !== etag) throw new ObjectChangedError();
        etag = object.etag;
        for await (const { record, position } of object.records) {
          if (position <= yieldedThrough) continue;
          if (matchRecord(record, matchers, normalise, fieldOf) < 0) continue;
          yieldedThrough = position;
          yield {
            storeId: store.id,
            key: `${key}${marker}${position}`,
            data: parquet ? rowAsJson(record) : record,
          };
        }
        break;
      } catch (error) {
        if (attempt >= policy.maxAttempts || !isRetryableError(error)) {
          failedKeys.push(key);
          break;
        }
        await waitBeforeRetry(policy, attempt);
      }
    }
  }

  if (failedKeys.length > 0) throw new ReadIncompleteError(store.id, failedKeys, policy.maxAttempts);
}

/**
 * Streams one object of `store` (a located `object` record) as its bytes arrive, for a file in an
 * export package: nothing is held beyond the chunk in hand, however large the object. A read cut
 * short is resumed where it stopped (a ranged GET on the same ETag) with the retry policy's
 * attempts. An object gone since locating yields nothing, as readS3Records skips it.
 * @throws RecordOutsideStoreError before reading, when the key is under none of the store's prefixes
 * @throws ReadIncompleteError when it cannot be read after retries, or it changed while being read
 */
export async function* streamS3Object(
  store: S3Store,
  key: string,
  clients: StoreClients,
  policy: RetryPolicy = DEFAULT_RETRY_POLICY,
): AsyncGenerator<Uint8Array> {
  planRecords(store, [{ kind: 'object', key, size: 0 }]);
  let sent = 0;
  let etag: string | undefined;
  let size: number | undefined;
  for (let attempt = 1; ; attempt += 1) {
    let body: GetObjectCommandOutput['Body'];
    try {
      if (size !== undefined && sent >= size) return;
      let object: GetObjectCommandOutput;
      try {
        object = await clients.s3.send(
          new GetObjectCommand({
            Bucket: store.bucket,
            Key: key,
            ...(etag === undefined
              ? {}
              : { IfMatch: etag, ...(sent > 0 ? { Range: `bytes=${sent}-` } : {}) }),
          }),
        );
      } catch (error) {
        if (etag === undefined && isNotFound(error)) return;
        throw error;
      }
      etag ??= object.ETag;
      size ??= object.ContentLength;
      body = object.Body;
      for await (const chunk of bodyChunks(object.Body)) {
        sent += chunk.length;
        yield chunk;
      }
      return;
    } catch (error) {
      if (body) destroyBody(body);
      if (attempt >= policy.maxAttempts || !isRetryableError(error)) {
        throw new ReadIncompleteError(store.id, [key], attempt);
      }
      await waitBeforeRetry(policy, attempt);
    }
  }
}

async function readObject(s3: S3Client, bucket: string, key: string): Promise<ExportedS3Object | undefined> {
  const object = await getObjectOrUndefined(s3, bucket, key);
  if (!object) return undefined;
  const bytes = Buffer.from(object.Body ? await object.Body.transformToByteArray() : new Uint8Array());
  const contentType = object.ContentType ?? 'application/octet-stream';
  const textual = /^text\//i.test(contentType) || /json/i.test(contentType);
  const text = (textual || bytes.length < TEXT_EXPORT_LIMIT) && decodeUtf8(bytes);
  return typeof text === 'string'
    ? { contentType, size: bytes.length, text }
    : { contentType, size: bytes.length, base64: bytes.toString('base64') };
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function decodeUtf8(bytes: Buffer): string | false {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return false;
  }
}
