import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { getStore } from '../datamap/load';
import type { DataMap, DynamoStore, S3Store } from '../datamap/schema';
import { chunks, forEachConcurrently } from '../stores/concurrency';
import { DEFAULT_RETRY_POLICY, type RetryPolicy, waitBeforeRetry } from '../stores/retry';
import type { StoreClients } from '../stores/types';

/** Input to import that is wrong: nothing was written. */
export class ImportError extends Error {
  override readonly name = 'ImportError';
}

const CONTENT_TYPES: Record<string, string> = {
  '.json': 'application/json',
  '.jsonl': 'application/x-ndjson',
  '.txt': 'text/plain; charset=utf-8',
  '.csv': 'text/csv',
  '.pdf': 'application/pdf',
  '.wav': 'audio/wav',
  '.mp3': 'audio/mpeg',
  '.html': 'text/html',
};

function dynamoStore(dataMap: DataMap, storeId: string): DynamoStore {
  const store = getStore(dataMap, storeId);
  if (store.kind !== 'dynamodb') {
    throw new ImportError(
      `store ${storeId} is an S3 store: import a folder with --dir DIR instead of --file`,
    );
  }
  return store;
}

function s3Store(dataMap: DataMap, storeId: string): S3Store {
  const store = getStore(dataMap, storeId);
  if (store.kind !== 's3') {
    throw new ImportError(
      `store ${storeId} is a DynamoDB store: import JSON lines with --file FILE.jsonl instead of --dir`,
    );
  }
  return store;
}

/**
 * Parses JSON-lines text into items for a DynamoDB store, checking every line before
 * anything is written: each must be a JSON object holding the table's key attributes.
 * @throws ImportError naming the file, the line number and what is wrong
 */
export function parseItemLines(store: DynamoStore, text: string, file: string): Record<string, unknown>[] {
  const items: Record<string, unknown>[] = [];
  const keys = [store.keySchema.partitionKey, store.keySchema.sortKey].filter((key) => key !== undefined);
  text.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    const at = `${file}:${index + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new ImportError(
        `${at}: not valid JSON (${(error as Error).message}); each line must be one JSON object`,
      );
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new ImportError(`${at}: expected a JSON object, one item per line`);
    }
    const item = value as Record<string, unknown>;
    for (const key of keys) {
      const keyValue = item[key.name];
      const expected = key.type === 'N' ? 'number' : 'string';
      if (typeof keyValue !== expected) {
        throw new ImportError(
          `${at}: key attribute "${key.name}" must be a ${expected} (table ${store.table}); it is ${keyValue === undefined ? 'missing' : typeof keyValue}`,
        );
      }
    }
    items.push(item);
  });
  return items;
}

/** Writes items to a DynamoDB store in batches of 25, retrying unprocessed items. */
export async function importItems(
  dataMap: DataMap,
  storeId: string,
  items: Record<string, unknown>[],
  clients: StoreClients,
  retry: RetryPolicy = DEFAULT_RETRY_POLICY,
): Promise<number> {
  const store = dynamoStore(dataMap, storeId);
  const doc = DynamoDBDocumentClient.from(clients.dynamodb, {
    marshallOptions: { removeUndefinedValues: true },
  });
  const writeBatch = async (batch: Record<string, unknown>[]) => {
    let pending = batch.map((Item) => ({ PutRequest: { Item } }));
    for (let attempt = 1; pending.length > 0; attempt += 1) {
      const result = await doc.send(new BatchWriteCommand({ RequestItems: { [store.table]: pending } }));
      pending = (result.UnprocessedItems?.[store.table] ?? []) as typeof pending;
      if (pending.length === 0) break;
      if (attempt >= retry.maxAttempts)
        throw new ImportError(`${pending.length} items were not written to ${store.id}`);
      await waitBeforeRetry(retry, attempt);
    }
  };
  // A few batches in flight: one at a time leaves the table (and dynalite) idle between round trips.
  await forEachConcurrently(chunks(items, 25), 4, writeBatch);
  return items.length;
}

/** Imports a JSON-lines file of items into a DynamoDB store; checks every line before writing. */
export async function importItemsFile(
  dataMap: DataMap,
  storeId: string,
  file: string,
  clients: StoreClients,
) {
  const store = dynamoStore(dataMap, storeId);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ImportError(
      `cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'}): pass an existing JSON-lines file`,
    );
  }
  return importItems(dataMap, storeId, parseItemLines(store, text, file), clients);
}

/** Uploads objects to an S3 store. */
export async function importObjects(
  dataMap: DataMap,
  storeId: string,
  objects: { key: string; body: string | Buffer; contentType?: string }[],
  clients: StoreClients,
): Promise<number> {
  const store = s3Store(dataMap, storeId);
  await forEachConcurrently(objects, 8, async (object) => {
    await clients.s3.send(
      new PutObjectCommand({
        Bucket: store.bucket,
        Key: object.key,
        Body: object.body,
        ContentType: object.contentType ?? CONTENT_TYPES[extname(object.key)] ?? 'application/octet-stream',
      }),
    );
  });
  return objects.length;
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? listFiles(path) : entry.isFile() ? [path] : [];
  });
}

/** Uploads every file under a folder to an S3 store; keys are the paths relative to the folder. */
export async function importDirectory(dataMap: DataMap, storeId: string, dir: string, clients: StoreClients) {
  s3Store(dataMap, storeId);
  let isDirectory = false;
  try {
    isDirectory = statSync(dir).isDirectory();
  } catch {
    // reported below
  }
  if (!isDirectory) throw new ImportError(`${dir} is not a folder: pass --dir with the folder to upload`);
  const objects = listFiles(dir).map((path) => ({
    key: relative(dir, path).split(sep).join('/'),
    body: readFileSync(path),
  }));
  return importObjects(dataMap, storeId, objects, clients);
}

/** Seed data in the shape the example's generator produces, for the demo, tests and benchmarks. */
export interface StoreSeed {
  dynamodb: Record<string, Record<string, unknown>[]>;
  s3: Record<string, { key: string; body: string | Buffer; contentType: string }[]>;
}

/** Loads seed data into every store it names. */
export async function importSeed(dataMap: DataMap, seed: StoreSeed, clients: StoreClients): Promise<void> {
  for (const [storeId, items] of Object.entries(seed.dynamodb))
    await importItems(dataMap, storeId, items, clients);
  for (const [storeId, objects] of Object.entries(seed.s3))
    await importObjects(dataMap, storeId, objects, clients);
}
