import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { loadDataMap } from '../datamap/load';
import type { DataMap } from '../datamap/schema';
import { createLetheDeps, type LetheDeps, type LetheResources } from '../deps';
import { createLogger, type Logger } from '../log';
import type { RetryPolicy } from '../stores/retry';
import { writeFileAtomicSync } from './atomic-file';
import { createStoresFromDataMap } from './provision';
import {
  compactDynamoStore,
  createBucketIfMissing,
  createLocalClients,
  createTableIfMissing,
  type LocalClients,
  startLocalServers,
} from './servers';

const LOCAL_AUDIT_BUCKET = 'lethe-audit';

/** Names of lethe's own tables and buckets in the local runtime. */
export const LOCAL_RESOURCES: LetheResources = {
  requestsTable: 'lethe-requests',
  auditTable: 'lethe-audit',
  holdsTable: 'lethe-holds',
  manifestsBucket: 'lethe-manifests',
  exportsBucket: 'lethe-exports',
  auditBucket: LOCAL_AUDIT_BUCKET,
  auditBucketVersioned: false,
  suppressionTable: 'lethe-suppression',
};

export const DEFAULT_STATE_DIR = '.lethe';

const openStateDirs = new Set<string>();

/** A state directory that was never initialised, or was initialised for another data map. */
export class LocalStateError extends Error {
  override readonly name = 'LocalStateError';
}

interface LocalConfig {
  version: 1;
  dataMapPath: string;
  createdAt: string;
}

interface LocalKeys {
  subjectHash: string;
  mask: string;
}

/** In the state directory while deleted values may still be in the DynamoDB store's files. */
const COMPACTION_PENDING_FILE = 'compaction-pending';

export interface LocalEnvironment {
  stateDir: string;
  dataMapPath: string;
  dataMap: DataMap;
  clients: LocalClients;
  deps: LetheDeps;
  /** Where execution histories are persisted, one JSON file per execution. */
  executionsDir: string;
  /**
   * Asks `close` to compact the DynamoDB store once the servers have stopped, so that values deleted
   * by this process (erased records, identities a finished request dropped) leave its files. Call
   * it before deleting: the wish is kept in the state directory until a compaction has run, so when
   * the process dies first, the next command that opens the directory compacts it on close.
   */
  compactOnClose(): void;
  close(): Promise<void>;
}

export interface OpenLocalEnvironmentOptions {
  stateDir?: string;
  /** Required for init; otherwise the data map recorded at init is used unless this overrides it. */
  dataMapPath?: string;
  /** Create the state directory, keys, lethe's tables and buckets and the data map's stores. */
  init?: boolean;
  /** With init: switch a state directory initialised for another data map to this one. */
  force?: boolean;
  log?: Logger;
  now?: () => Date;
  retry?: RetryPolicy;
  exportUrlTtlSeconds?: number;
}

function readJson<T>(file: string): T {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch (error) {
    throw new LocalStateError(
      `${file} cannot be read (${(error as Error).message}); restore it from a backup or run init again`,
      { cause: error },
    );
  }
}

/** The suppression list's table: one item per keyed subject hash and scope (see lib/rights/suppression.ts). */
export function suppressionTableInput(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    KeySchema: [
      { AttributeName: 'subjectHash', KeyType: 'HASH' },
      { AttributeName: 'scope', KeyType: 'RANGE' },
    ],
    AttributeDefinitions: [
      { AttributeName: 'subjectHash', AttributeType: 'S' },
      { AttributeName: 'scope', AttributeType: 'S' },
    ],
    BillingMode: 'PAY_PER_REQUEST',
  };
}

/** The audit log's table: one stream of events, by sequence number. */
export function auditTableInput(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    KeySchema: [
      { AttributeName: 'stream', KeyType: 'HASH' },
      { AttributeName: 'seq', KeyType: 'RANGE' },
    ],
    AttributeDefinitions: [
      { AttributeName: 'stream', AttributeType: 'S' },
      { AttributeName: 'seq', AttributeType: 'N' },
    ],
    BillingMode: 'PAY_PER_REQUEST',
  };
}

/** The data map a command runs with: the one it was given, or the one recorded at init. */
function recordedDataMapPath(
  stateDir: string,
  existing: LocalConfig | undefined,
  options: Pick<OpenLocalEnvironmentOptions, 'stateDir' | 'dataMapPath'>,
): string {
  if (!existing) {
    throw new LocalStateError(
      `no lethe environment in ${stateDir}: run "lethe init --datamap FILE${options.stateDir ? ` --state-dir ${options.stateDir}` : ''}" first`,
    );
  }
  return options.dataMapPath ? resolve(options.dataMapPath) : existing.dataMapPath;
}

/**
 * The data map an (initialised) local environment runs with, read without opening it: no server
 * starts and nothing is written. Commands check their input against it before they open anything.
 * @throws LocalStateError when the state directory was never initialised
 * @throws DataMapError when the data map cannot be used
 */
export function localDataMap(options: Pick<OpenLocalEnvironmentOptions, 'stateDir' | 'dataMapPath'> = {}): {
  stateDir: string;
  dataMapPath: string;
  dataMap: DataMap;
} {
  const stateDir = resolve(options.stateDir ?? DEFAULT_STATE_DIR);
  const configFile = join(stateDir, 'config.json');
  const existing = existsSync(configFile) ? readJson<LocalConfig>(configFile) : undefined;
  const dataMapPath = recordedDataMapPath(stateDir, existing, options);
  return { stateDir, dataMapPath, dataMap: loadDataMap(dataMapPath) };
}

/** Creates lethe's own tables (requests, audit, holds) and buckets (manifests, exports), unless they exist. */
export async function createLetheResources(clients: LocalClients): Promise<void> {
  await Promise.all([
    createTableIfMissing(clients.dynamodb, {
      TableName: LOCAL_RESOURCES.requestsTable,
      KeySchema: [{ AttributeName: 'requestId', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'requestId', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
    createTableIfMissing(clients.dynamodb, auditTableInput(LOCAL_RESOURCES.auditTable)),
    createTableIfMissing(clients.dynamodb, {
      TableName: LOCAL_RESOURCES.holdsTable,
      KeySchema: [{ AttributeName: 'holdId', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'holdId', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
    createBucketIfMissing(clients.s3, LOCAL_RESOURCES.manifestsBucket),
    createBucketIfMissing(clients.s3, LOCAL_RESOURCES.exportsBucket),
    createAuditBucket(clients),
  ]);
}

/**
 * The bucket anchors go to and the suppression list: created on open too, for state directories
 * initialised before they existed.
 */
async function createAuditBucket(clients: LocalClients): Promise<void> {
  await createBucketIfMissing(clients.s3, LOCAL_AUDIT_BUCKET);
  await createTableIfMissing(
    clients.dynamodb,
    suppressionTableInput(LOCAL_RESOURCES.suppressionTable as string),
  );
}

/**
 * Opens (and with `init`, creates) a local environment: dynalite and s3rver in-process on
 * 127.0.0.1 persisting under the state directory, lethe's own tables and buckets, the data
 * map's stores, and the HMAC keys, which are generated once and kept in the state directory.
 * @throws LocalStateError when the state directory was never initialised
 */
export async function openLocalEnvironment(
  options: OpenLocalEnvironmentOptions = {},
): Promise<LocalEnvironment> {
  const stateDir = resolve(options.stateDir ?? DEFAULT_STATE_DIR);
  const configFile = join(stateDir, 'config.json');
  const keysFile = join(stateDir, 'keys.json');
  const existing = existsSync(configFile) ? readJson<LocalConfig>(configFile) : undefined;
  let dataMapPath: string;
  if (options.init) {
    if (!options.dataMapPath) throw new LocalStateError('init needs a data map: --datamap FILE');
    dataMapPath = resolve(options.dataMapPath);
    loadDataMap(dataMapPath); // fail before creating anything
    if (existing && existing.dataMapPath !== dataMapPath && !options.force) {
      throw new LocalStateError(
        `${stateDir} was initialised for the data map ${existing.dataMapPath}; to switch it to ${dataMapPath}, run init again with --force (the stores and requests already there stay)`,
      );
    }
  } else {
    dataMapPath = recordedDataMapPath(stateDir, existing, options);
  }
  const dataMap = loadDataMap(dataMapPath);

  // LevelDB allows one opener; a second one in the same process would not fail, it would hang.
  if (openStateDirs.has(stateDir)) {
    throw new LocalStateError(
      `${stateDir} is in use by another lethe command in this process; run commands one at a time`,
    );
  }
  openStateDirs.add(stateDir);
  let servers: Awaited<ReturnType<typeof startLocalServers>>;
  try {
    // Starting the servers takes the state directory's lock: nothing is written before it is ours.
    servers = await startLocalServers({ stateDir });
  } catch (error) {
    openStateDirs.delete(stateDir);
    throw error;
  }
  const clients = createLocalClients(servers);
  let keys: LocalKeys;
  try {
    if (options.init) {
      const config: LocalConfig = existing
        ? { ...existing, dataMapPath }
        : { version: 1, dataMapPath, createdAt: new Date().toISOString() };
      writeFileAtomicSync(configFile, `${JSON.stringify(config, null, 2)}\n`);
      if (!existsSync(keysFile)) {
        const fresh: LocalKeys = {
          subjectHash: randomBytes(32).toString('base64'),
          mask: randomBytes(32).toString('base64'),
        };
        writeFileAtomicSync(keysFile, `${JSON.stringify(fresh)}\n`, { mode: 0o600 });
      }
    }
    keys = readJson<LocalKeys>(keysFile);
    if (options.init) {
      await createLetheResources(clients);
      await createStoresFromDataMap(dataMap, clients);
    } else {
      await createAuditBucket(clients);
    }
  } catch (error) {
    clients.dynamodb.destroy();
    clients.s3.destroy();
    await servers.stop();
    openStateDirs.delete(stateDir);
    throw error;
  }
  const executionsDir = join(stateDir, 'executions');
  mkdirSync(executionsDir, { recursive: true });
  const deps = createLetheDeps({
    dataMap,
    clients,
    resources: LOCAL_RESOURCES,
    keys: { subjectHash: Buffer.from(keys.subjectHash, 'base64'), mask: Buffer.from(keys.mask, 'base64') },
    exportUrlTtlSeconds: options.exportUrlTtlSeconds ?? 24 * 60 * 60,
    now: options.now ?? (() => new Date()),
    // Locally the structured log goes to a file in the state directory, like a Lambda's log group.
    log:
      options.log ??
      createLogger({
        level: 'info',
        write: (line) => appendFileSync(join(stateDir, 'lethe.log'), `${line}\n`),
      }),
    ...(options.retry ? { retry: options.retry } : {}),
  });
  const compactionPending = join(stateDir, COMPACTION_PENDING_FILE);
  let compact = existsSync(compactionPending);
  return {
    stateDir,
    dataMapPath,
    dataMap,
    clients,
    deps,
    executionsDir,
    compactOnClose: () => {
      if (!compact) writeFileSync(compactionPending, '');
      compact = true;
    },
    close: async () => {
      clients.dynamodb.destroy();
      clients.s3.destroy();
      try {
        await servers.stop();
        if (compact) {
          await compactDynamoStore(join(stateDir, 'dynamodb'));
          rmSync(compactionPending, { force: true });
        }
      } finally {
        openStateDirs.delete(stateDir);
      }
    },
  };
}
