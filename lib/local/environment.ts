import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import type { DataMap } from '../datamap/schema';
import { createLetheDeps, type LetheDeps, type LetheResources } from '../deps';
import { identityIndexTableInput } from '../lake/table';
import { createLogger, type Logger } from '../log';
import type { RetryPolicy } from '../stores/retry';
import { writeFileAtomicSync } from './atomic-file';
import { loadDataMapCached } from './datamap-cache';
import { ensureHoldsTable } from './holds-table';
import { localOutbox } from './outbox';
import { createStoresFromDataMap } from './provision';
import {
  compactDynamoStore,
  createBucketIfMissing,
  createLocalClientsWithS3OnDemand,
  createTableIfMissing,
  type LocalClients,
  startLocalServersWithS3OnDemand,
} from './servers';
import {
  type LocalConfig,
  LocalStateError,
  readLocalConfig,
  readStateJson,
  recordedDataMapPath,
} from './state-dir';

export { DEFAULT_STATE_DIR, LocalStateError, localDataMap } from './state-dir';

const LOCAL_AUDIT_BUCKET = 'lethe-audit';

/** Names of lethe's own tables and buckets in the local runtime. */
export const LOCAL_RESOURCES: LetheResources = {
  requestsTable: 'lethe-requests',
  auditTable: 'lethe-audit',
  holdsTable: 'lethe-holds',
  identityIndexTable: 'lethe-identity-index',
  manifestsBucket: 'lethe-manifests',
  exportsBucket: 'lethe-exports',
  auditBucket: LOCAL_AUDIT_BUCKET,
  auditBucketVersioned: false,
  suppressionTable: 'lethe-suppression',
};

const openStateDirs = new Set<string>();

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
  /**
   * The caller only reads (a list, a status, an audit read): nothing is created on open, and
   * the S3 server starts only if something is read from S3.
   */
  readOnly?: boolean;
  log?: Logger;
  now?: () => Date;
  retry?: RetryPolicy;
  exportUrlTtlSeconds?: number;
  /** Days an ended request's record is kept before the sweep purges it; default 730 (24 months). */
  requestRecordDays?: number;
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

/**
 * Creates lethe's own tables (requests, audit, holds) and buckets (manifests, exports), unless they
 * exist. `stateDir`: where an interrupted rebuild of the holds table is finished from (see ensureHoldsTable).
 */
export async function createLetheResources(clients: LocalClients, stateDir?: string): Promise<void> {
  await Promise.all([
    createTableIfMissing(clients.dynamodb, {
      TableName: LOCAL_RESOURCES.requestsTable,
      KeySchema: [{ AttributeName: 'requestId', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'requestId', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
    createTableIfMissing(clients.dynamodb, auditTableInput(LOCAL_RESOURCES.auditTable)),
    createBucketIfMissing(clients.s3, LOCAL_RESOURCES.manifestsBucket),
    createBucketIfMissing(clients.s3, LOCAL_RESOURCES.exportsBucket),
    createAddedResources(clients, stateDir),
  ]);
}

/**
 * What lethe added after its first releases (the audit bucket anchors go to, the identity index
 * table, the suppression list, the holds table's active-holds index): created on open too, for
 * state directories initialised before they existed.
 */
async function createAddedResources(clients: LocalClients, stateDir?: string): Promise<void> {
  await Promise.all([
    ensureHoldsTable(clients, LOCAL_RESOURCES, stateDir),
    createBucketIfMissing(clients.s3, LOCAL_AUDIT_BUCKET),
    createTableIfMissing(
      clients.dynamodb,
      identityIndexTableInput(LOCAL_RESOURCES.identityIndexTable ?? 'lethe-identity-index'),
    ),
    createTableIfMissing(clients.dynamodb, suppressionTableInput(LOCAL_RESOURCES.suppressionTable as string)),
  ]);
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
  // Every step runs in this process locally, erasure included. A read-only open never erases, and
  // does not load the S3 client and Parquet writer this needs (CLI start-up).
  if (!options.readOnly) {
    const { enableParquetRewrites } = require('../stores/s3/erase') as typeof import('../stores/s3/erase');
    const { rewriteParquetObject } =
      require('../stores/s3/parquet-rewrite') as typeof import('../stores/s3/parquet-rewrite');
    enableParquetRewrites(rewriteParquetObject);
  }
  const { stateDir, configFile, existing } = readLocalConfig(options.stateDir);
  const keysFile = join(stateDir, 'keys.json');
  let dataMapPath: string;
  if (options.init) {
    if (options.readOnly) throw new LocalStateError('init writes: it cannot open read-only');
    if (!options.dataMapPath) throw new LocalStateError('init needs a data map: --datamap FILE');
    dataMapPath = resolve(options.dataMapPath);
  } else {
    dataMapPath = recordedDataMapPath(stateDir, existing, options);
  }
  // Validated (or read from the cache) before anything is started or created: a bad data map fails here.
  const loaded = loadDataMapCached(stateDir, dataMapPath);
  const dataMap = loaded.dataMap;
  if (options.init && existing && existing.dataMapPath !== dataMapPath && !options.force) {
    throw new LocalStateError(
      `${stateDir} was initialised for the data map ${existing.dataMapPath}; to switch it to ${dataMapPath}, run init again with --force (the stores and requests already there stay)`,
    );
  }

  // LevelDB allows one opener; a second one in the same process would not fail, it would hang.
  if (openStateDirs.has(stateDir)) {
    throw new LocalStateError(
      `${stateDir} is in use by another lethe command in this process; run commands one at a time`,
    );
  }
  openStateDirs.add(stateDir);
  let servers: Awaited<ReturnType<typeof startLocalServersWithS3OnDemand>>;
  try {
    // Starting the servers takes the state directory's lock: nothing is written before it is ours.
    // s3rver starts with the first S3 call, which a command that only reads tables never makes.
    servers = await startLocalServersWithS3OnDemand({ stateDir });
  } catch (error) {
    openStateDirs.delete(stateDir);
    throw error;
  }
  const clients = createLocalClientsWithS3OnDemand(servers);
  const destroyClients = () => {
    clients.dynamodb.destroy();
    if (clients.s3Started()) clients.s3.destroy();
  };
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
    keys = readStateJson<LocalKeys>(keysFile);
    if (options.init) {
      await createLetheResources(clients, stateDir);
      await createStoresFromDataMap(dataMap, clients);
    } else if (!options.readOnly) {
      await createAddedResources(clients, stateDir);
    }
  } catch (error) {
    destroyClients();
    await servers.stop();
    openStateDirs.delete(stateDir);
    throw error;
  }
  // The state directory is ours now: the next command reads the data map without validating it.
  loaded.keep();
  const executionsDir = join(stateDir, 'executions');
  if (!options.readOnly) mkdirSync(executionsDir, { recursive: true });
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
    notifier: localOutbox(stateDir),
    ...(options.requestRecordDays !== undefined ? { requestRecordDays: options.requestRecordDays } : {}),
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
      destroyClients();
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
