import { existsSync, mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import type { AdtechSeed, SeedSubject } from '../../examples/adtech/seed';
import type { DataMap } from '../../lib/datamap/schema';
import {
  type LocalEnvironment,
  type OpenLocalEnvironmentOptions,
  openLocalEnvironment,
} from '../../lib/local/environment';
import { createLocalClients, type LocalClients } from '../../lib/local/servers';
import { silentLogger } from '../../lib/log';
import { cutoff } from '../../lib/retention/rules';
import { belongsTo, type SnapshotEntry } from './world';

/** Shared by the retention tests: temporary environments, S3 ages, and request counting. */

export interface TempEnvironment {
  env: LocalEnvironment;
  stateDir: string;
  close(): Promise<void>;
}

/** A fresh local environment in a temporary state dir, for a data map given as YAML text or a path. */
export async function openTempEnvironment(
  dataMap: { yaml: string } | { path: string },
  options: Omit<OpenLocalEnvironmentOptions, 'stateDir' | 'dataMapPath' | 'init'> = {},
): Promise<TempEnvironment> {
  const stateDir = mkdtempSync(join(tmpdir(), 'lethe-retention-'));
  let dataMapPath: string;
  if ('yaml' in dataMap) {
    dataMapPath = join(stateDir, 'datamap.yaml');
    writeFileSync(dataMapPath, dataMap.yaml);
  } else {
    dataMapPath = dataMap.path;
  }
  const env = await openLocalEnvironment({
    stateDir,
    dataMapPath,
    init: true,
    log: silentLogger,
    ...options,
  });
  return {
    env,
    stateDir,
    close: async () => {
      await env.close();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

/**
 * A second set of clients to the environment's local servers, without the middleware a test puts
 * on the environment's own (a simulator reads and writes the real objects through it).
 */
export async function rawClientsOf(world: TempEnvironment): Promise<LocalClients> {
  const endpoint = await world.env.clients.s3.config.endpoint?.();
  if (!endpoint) throw new Error('the environment has no S3 endpoint');
  const s3Endpoint = `${endpoint.protocol}//${endpoint.hostname}:${endpoint.port}`;
  return createLocalClients({ s3Endpoint, dynamodbEndpoint: s3Endpoint });
}

/**
 * Sets an object's LastModified in s3rver, which reports the mtime of the file it keeps the
 * object in (to the second, as S3 does). Call it once the object's PutObject has returned: the
 * local servers answer a PutObject only when that file is written (see the put shim in
 * lib/local/servers.ts), so nothing writes it afterwards and no waiting is needed. Checks that
 * the file holds all `size` bytes and that the time stuck, and says so if not.
 */
export async function setLastModified(
  stateDir: string,
  bucket: string,
  key: string,
  at: Date,
  size: number,
): Promise<void> {
  const parts = key.split('/');
  const name = parts.pop() as string;
  const file = join(stateDir, 's3', bucket, ...parts, `${name}._S3rver_object`);
  const written = existsSync(file) ? statSync(file).size : undefined;
  if (written !== size) {
    throw new Error(
      `s3rver holds ${written ?? 'no'} bytes for ${bucket}/${key}, not ${size}: set its LastModified after its PutObject has returned`,
    );
  }
  utimesSync(file, at, at);
  if (Math.floor(statSync(file).mtimeMs / 1000) !== Math.floor(at.getTime() / 1000)) {
    throw new Error(`could not set the LastModified of ${bucket}/${key}`);
  }
}

/** Gives every seeded S3 object the LastModified the seed says it has. */
export async function applySeedAges(
  stateDir: string,
  seed: AdtechSeed,
  buckets: Record<string, string>,
): Promise<void> {
  for (const [storeId, objects] of Object.entries(seed.s3)) {
    const bucket = buckets[storeId];
    if (!bucket) continue;
    for (const object of objects) {
      await setLastModified(
        stateDir,
        bucket,
        object.key,
        object.lastModified,
        Buffer.byteLength(object.body),
      );
    }
  }
}

/**
 * Counts the commands a client sends, by name, through a middleware at the front of its stack.
 * `fail` may throw to inject a fault before the request is sent. Returns a remover.
 */
export function countCommands(
  client: DynamoDBClient | S3Client,
  counts: Map<string, number>,
  fail?: (commandName: string, count: number) => void,
): () => void {
  const name = `count-${Math.random().toString(36).slice(2)}`;
  const stack = client.middlewareStack as {
    add: (middleware: unknown, options: { step: string; name: string }) => void;
    remove: (name: string) => boolean;
  };
  stack.add(
    (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) =>
      async (args: unknown) => {
        const command = context.commandName ?? 'unknown';
        const count = (counts.get(command) ?? 0) + 1;
        counts.set(command, count);
        fail?.(command, count);
        return next(args);
      },
    { step: 'initialize', name },
  );
  return () => {
    stack.remove(name);
  };
}

// ---------------------------------------------------------------------------------------------
// What a sweep of the ad-tech example should do, computed from the seed, independently of lethe

/** The object key of a snapshot entry of an S3 store (objects by key, JSON lines by their object). */
export const objectKeyOf = (entry: SnapshotEntry): string =>
  typeof entry.record === 'string' ? entry.record : (entry.id.split('|')[1] ?? '');

/** When an ad-tech record's retention period started, from the seed (objects: LastModified, to the second). */
export function adtechTimestamp(seed: AdtechSeed, entry: SnapshotEntry): number | undefined {
  const record = entry.record as Record<string, unknown>;
  switch (entry.storeId) {
    case 'inquiries':
      return Date.parse(String(record.receivedAt));
    case 'ad-events':
      return Number(record.eventAt);
    case 'conversions':
      return Number(record.convertedAt) * 1000;
    case 'call-recordings':
    case 'recruitment':
    case 'clickstream':
    case 'bid-logs': {
      const key = objectKeyOf(entry);
      const object = seed.s3[entry.storeId].find((candidate) => candidate.key === key);
      return object ? Math.floor(object.lastModified.getTime() / 1000) * 1000 : undefined;
    }
    default:
      return undefined; // partner-contacts: no retention rule
  }
}

/** Whether an ad-tech record is past its retention period at `now` (strictly before the cut-off). */
export function isExpiredAdtech(
  dataMap: DataMap,
  seed: AdtechSeed,
  entry: SnapshotEntry,
  now: Date,
): boolean {
  const store = dataMap.stores.find((candidate) => candidate.id === entry.storeId);
  const timestamp = adtechTimestamp(seed, entry);
  if (!store?.retention || timestamp === undefined) return false;
  return timestamp < cutoff(store.retention.period, now).getTime();
}

/** Lines of the click logs or rows of the bid logs: a record inside an object shared by many people. */
const isSharedLog = (entry: SnapshotEntry) => entry.storeId === 'clickstream' || entry.storeId === 'bid-logs';

/**
 * The ids of the expired entries a sweep keeps: records of held subjects (a JSON-lines object is
 * kept whole when one line is a held subject's) and records held one by one.
 */
export function heldEntryIds(
  dataMap: DataMap,
  entries: SnapshotEntry[],
  holds: { subjects: SeedSubject[]; recordIds: string[] },
): Set<string> {
  const ofHeldSubject = (entry: SnapshotEntry) =>
    holds.subjects.some((subject) => belongsTo(dataMap, subject, entry));
  const heldObjects = new Set(
    entries.filter((entry) => isSharedLog(entry) && ofHeldSubject(entry)).map(objectKeyOf),
  );
  return new Set(
    entries
      .filter(
        (entry) =>
          (isSharedLog(entry) ? heldObjects.has(objectKeyOf(entry)) : ofHeldSubject(entry)) ||
          holds.recordIds.includes(entry.id),
      )
      .map((entry) => entry.id),
  );
}
