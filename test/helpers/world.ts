import { createHash } from 'node:crypto';
import { type AttributeValue, ScanCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { type AdtechSeed, generateAdtechSeed, type SeedSubject } from '../../examples/adtech/seed';
import { canonicalJson } from '../../lib/audit/log';
import { normaliseIdentity } from '../../lib/datamap/identity';
import { loadDataMap } from '../../lib/datamap/load';
import type { DataMap } from '../../lib/datamap/schema';
import type { StoreClients } from '../../lib/stores/types';
import { readParquetRows } from './parquet';

export const EXAMPLE_DATAMAP_PATH = 'examples/adtech/datamap.yaml';
export const exampleDataMap = (): DataMap => loadDataMap(EXAMPLE_DATAMAP_PATH);

/** A fixed "now" so seeds and deadlines are reproducible. */
export const SEED_NOW = new Date('2026-11-01T00:00:00.000Z');

export function exampleSeed(subjects = 12, recordsPerSubject = 4): AdtechSeed {
  return generateAdtechSeed({ subjects, recordsPerSubject, seed: 7, now: SEED_NOW });
}

/** One record of any store, as a comparable string: items and JSON lines by content, objects by digest. */
export interface SnapshotEntry {
  storeId: string;
  id: string;
  content: string;
  /** The record itself (item or parsed JSON line) or, for objects, the key. */
  record: Record<string, unknown> | string;
}

async function readBody(clients: StoreClients, bucket: string, key: string): Promise<Buffer> {
  const response = await clients.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await response.Body!.transformToByteArray());
}

/**
 * Every record of every store of the data map: DynamoDB items by their marshalled
 * attribute values (byte-for-byte), objects by SHA-256 of their bytes, each line of a
 * JSON-lines object by its exact text and each row of a Parquet object by its values (numbered
 * by occurrence, as positions shift when other lines or rows are removed).
 */
export async function snapshotStores(
  dataMap: DataMap,
  clients: StoreClients,
): Promise<Map<string, SnapshotEntry>> {
  const entries = new Map<string, SnapshotEntry>();
  for (const store of dataMap.stores) {
    if (store.kind === 'dynamodb') {
      let startKey: Record<string, AttributeValue> | undefined;
      do {
        const page = await clients.dynamodb.send(
          new ScanCommand({ TableName: store.table, ExclusiveStartKey: startKey }),
        );
        for (const item of page.Items ?? []) {
          const plain = unmarshall(item);
          const key = [store.keySchema.partitionKey.name, store.keySchema.sortKey?.name]
            .filter((name): name is string => name !== undefined)
            .map((name) => String(plain[name]));
          const id = `${store.id}|${key.join('|')}`;
          entries.set(id, { storeId: store.id, id, content: canonicalJson(item), record: plain });
        }
        startKey = page.LastEvaluatedKey;
      } while (startKey);
      continue;
    }
    const jsonLines = store.locate.some((rule) => 'jsonLines' in rule);
    const parquet = store.locate.some((rule) => 'parquet' in rule);
    let token: string | undefined;
    do {
      const page = await clients.s3.send(
        new ListObjectsV2Command({ Bucket: store.bucket, ContinuationToken: token }),
      );
      for (const object of page.Contents ?? []) {
        const body = await readBody(clients, store.bucket, object.Key!);
        if (parquet) {
          // Rows by their values as stored (64-bit integers as decimal strings), numbered by occurrence.
          const seen = new Map<string, number>();
          for (const row of (await readParquetRows(body)).rows) {
            const content = JSON.stringify(row, (_key, value) =>
              typeof value === 'bigint' ? `${value}n` : (value as unknown),
            );
            const occurrence = (seen.get(content) ?? 0) + 1;
            seen.set(content, occurrence);
            const id = `${store.id}|${object.Key}|${content}|${occurrence}`;
            entries.set(id, { storeId: store.id, id, content, record: row });
          }
          continue;
        }
        if (!jsonLines) {
          const id = `${store.id}|${object.Key}`;
          entries.set(id, {
            storeId: store.id,
            id,
            content: createHash('sha256').update(body).digest('hex'),
            record: object.Key!,
          });
          continue;
        }
        const seen = new Map<string, number>();
        for (const line of body.toString('utf8').split('\n')) {
          if (line === '') continue;
          const occurrence = (seen.get(line) ?? 0) + 1;
          seen.set(line, occurrence);
          const id = `${store.id}|${object.Key}|${line}|${occurrence}`;
          entries.set(id, {
            storeId: store.id,
            id,
            content: line,
            record: JSON.parse(line) as Record<string, unknown>,
          });
        }
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }
  return entries;
}

function phoneOf(dataMap: DataMap, raw: unknown): string | undefined {
  if (typeof raw !== 'string') return undefined;
  try {
    return normaliseIdentity(dataMap, 'phone', raw).value;
  } catch {
    return undefined;
  }
}

/**
 * Whether a snapshot entry holds data of `subject`, decided from the seed's ground truth,
 * independently of the locate code under test.
 */
export function belongsTo(dataMap: DataMap, subject: SeedSubject, entry: SnapshotEntry): boolean {
  const cookies = new Set(subject.cookieIds.map((cookie) => cookie.toLowerCase()));
  if (typeof entry.record === 'string') {
    return (
      entry.record.startsWith(`calls/${subject.phone}/`) ||
      entry.record.startsWith(`applications/${subject.email}/`)
    );
  }
  const record = entry.record;
  if (typeof record.email === 'string' && record.email.toLowerCase() === subject.email) return true;
  if (typeof record.cookieId === 'string' && cookies.has(record.cookieId.toLowerCase())) return true;
  // Bid logs: the buyer's cookie id in the struct column user.
  const buyer = (record.user as { buyeruid?: unknown } | null | undefined)?.buyeruid;
  if (typeof buyer === 'string' && cookies.has(buyer.toLowerCase())) return true;
  if (subject.userId && record.userId === subject.userId) return true;
  if (entry.storeId !== 'clickstream' && phoneOf(dataMap, record.phone) === subject.phone) return true;
  return false;
}

/** Raw identifier values of a subject, to scan outputs, logs and events for. */
export function identifierValues(subject: SeedSubject): string[] {
  return [
    subject.email,
    subject.phone,
    ...subject.cookieIds,
    subject.ip,
    ...(subject.userId ? [subject.userId] : []),
  ];
}

/** The subject with the most data reachable through links: partner roles, calls, applications. */
export function richestSubject(seed: AdtechSeed): SeedSubject {
  const score = (subject: SeedSubject) => Object.values(subject.owns).filter((count) => count > 0).length;
  return [...seed.subjects].sort((a, b) => score(b) - score(a))[0]!;
}

/** The attributes in which two snapshots of one item differ, sorted; `(gone)` when it is gone. */
export function changedAttributes(before: SnapshotEntry, after: SnapshotEntry | undefined): string[] {
  if (!after) return ['(gone)'];
  const a = before.record as Record<string, unknown>;
  const b = after.record as Record<string, unknown>;
  return [...new Set([...Object.keys(a), ...Object.keys(b)])]
    .filter((name) => canonicalJson(a[name]) !== canonicalJson(b[name]))
    .sort();
}
