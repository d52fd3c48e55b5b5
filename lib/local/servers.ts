import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  type DescribeTableCommandOutput,
  DynamoDBClient,
  ResourceInUseException,
  ResourceNotFoundException,
} from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import { createDynalite, type DynaliteDatabase, installDynaliteShims } from './dynalite-shims';
import { installS3rverShims, removeLeftoverTemporaryFiles } from './s3rver-shims';

/** Endpoints of the in-process DynamoDB (dynalite) and S3 (s3rver) servers. */
export interface LocalServers {
  dynamodbEndpoint: string;
  s3Endpoint: string;
  /** Closes both servers (and removes the temporary S3 directory when no stateDir was given). */
  stop(): Promise<void>;
}

export interface StartLocalServersOptions {
  /**
   * When set, dynalite persists under `<stateDir>/dynamodb` (LevelDB) and s3rver under
   * `<stateDir>/s3`; otherwise DynamoDB is in memory and S3 lives in a temporary directory
   * removed on stop.
   */
  stateDir?: string;
}

/** Clients pointed at the local servers: the store clients lethe's domain code takes. */
export interface LocalClients {
  dynamodb: DynamoDBClient;
  s3: S3Client;
}

// s3rver ships no type declarations (and there is no @types package): the few members used here.
interface S3rverOptions {
  address: string;
  port: number;
  silent: boolean;
  directory: string;
}
interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  httpServer?: Server;
}
// dynalite's own LevelDB binding, resolved from dynalite so hoisting cannot hand us another copy.
const { Level } = createRequire(require.resolve('dynalite'))('level') as {
  Level: new (
    path: string,
    options?: { keyEncoding?: 'buffer'; valueEncoding?: 'buffer' },
  ) => {
    open(): Promise<void>;
    close(): Promise<void>;
    compactRange(start: Buffer, end: Buffer): Promise<void>;
  };
};

/**
 * s3rver only accepts requests signed with its hard-coded dummy key pair (anything else is
 * rejected with InvalidAccessKeyId); dynalite does not check signatures at all.
 */
const LOCAL_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;
const LOCAL_REGION = 'us-east-1';
const LOOPBACK = '127.0.0.1';

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeDynalite(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    // SDK clients keep sockets alive; without this close() would wait for them to time out.
    server.closeIdleConnections();
    server.close((err) => (err ? reject(err) : resolve()));
  });
}

/**
 * Starts dynalite and s3rver in this process on 127.0.0.1, each on an ephemeral port, without
 * any logging. With `stateDir` the data survives a restart; without it nothing is left behind
 * after {@link LocalServers.stop}.
 *
 * Fails fast (and releases whatever it started) if the DynamoDB store cannot be opened, e.g.
 * because another process holds the LevelDB lock of the same stateDir.
 */
export async function startLocalServers(options: StartLocalServersOptions = {}): Promise<LocalServers> {
  const servers = await startLocalServersWithS3OnDemand(options);
  try {
    return {
      dynamodbEndpoint: servers.dynamodbEndpoint,
      s3Endpoint: await servers.s3Endpoint(),
      stop: servers.stop,
    };
  } catch (err) {
    await servers.stop().catch(() => undefined);
    throw err;
  }
}

/** The local servers with S3 started on first use: see startLocalServersWithS3OnDemand. */
export interface LocalServersWithS3OnDemand {
  dynamodbEndpoint: string;
  /** Starts s3rver the first time it is called; its endpoint. */
  s3Endpoint(): Promise<string>;
  /** Closes dynalite, and s3rver if it was started. */
  stop(): Promise<void>;
}

/**
 * Starts dynalite as startLocalServers does, and s3rver only when its endpoint is first asked
 * for: a command that reads only DynamoDB tables (a request list, a hold list) never loads or
 * starts the S3 server.
 */
export async function startLocalServersWithS3OnDemand(
  options: StartLocalServersOptions = {},
): Promise<LocalServersWithS3OnDemand> {
  installDynaliteShims();

  const { stateDir } = options;
  let dynamoPath: string | undefined;
  if (stateDir) {
    dynamoPath = join(stateDir, 'dynamodb');
    await mkdir(dynamoPath, { recursive: true });
  }

  // Tables go ACTIVE almost at once: the 500 ms default only slows every local start and test.
  const { server: dynamo, database } = createDynalite({
    ...(dynamoPath ? { path: dynamoPath } : {}),
    createTableMs: 10,
    deleteTableMs: 10,
    updateTableMs: 10,
  });
  // Opened here, in the tick dynalite was made in, so that this is its only open (see createDynalite).
  await openDynamoStore(database, dynamoPath);

  let dynamoListening = false;
  let s3: Promise<{ endpoint: string; stop(): Promise<void> }> | undefined;
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      const results = await Promise.allSettled([
        dynamoListening ? closeDynalite(dynamo) : Promise.resolve(),
        // a start that failed has released what it started
        s3
          ? s3.then(
              (started) => started.stop(),
              () => undefined,
            )
          : Promise.resolve(),
      ]);
      const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failure) throw failure.reason;
    })();
    return stopped;
  };

  try {
    const dynamoPort = await listen(dynamo);
    dynamoListening = true;
    // No request to check it answers: the store is open, and the server listens.
    const dynamodbEndpoint = `http://${LOOPBACK}:${dynamoPort}`;
    return {
      dynamodbEndpoint,
      s3Endpoint: async () => {
        if (stopped) throw new Error('the local servers were stopped');
        s3 ??= startS3rver(stateDir);
        return (await s3).endpoint;
      },
      stop,
    };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}

/** Starts s3rver on `<stateDir>/s3`, or on a temporary directory removed on stop. */
async function startS3rver(
  stateDir: string | undefined,
): Promise<{ endpoint: string; stop(): Promise<void> }> {
  installS3rverShims();
  let s3Directory: string;
  let temporaryS3Directory: string | undefined;
  if (stateDir) {
    s3Directory = join(stateDir, 's3');
    await mkdir(s3Directory, { recursive: true });
    await removeLeftoverTemporaryFiles(s3Directory);
  } else {
    temporaryS3Directory = await mkdtemp(join(tmpdir(), 'lethe-s3-'));
    s3Directory = temporaryS3Directory;
  }
  const S3rver = require('s3rver') as new (options: S3rverOptions) => S3rverInstance;
  const s3 = new S3rver({ address: LOOPBACK, port: 0, silent: true, directory: s3Directory });
  let listening = false;
  const stop = async () => {
    try {
      if (listening) await closeS3rver(s3);
    } finally {
      if (temporaryS3Directory) await rm(temporaryS3Directory, { recursive: true, force: true });
    }
  };
  try {
    const address = await s3.run();
    listening = true;
    return { endpoint: `http://${LOOPBACK}:${address.port}`, stop };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}

function closeS3rver(s3: S3rverInstance): Promise<void> {
  s3.httpServer?.closeIdleConnections();
  return s3.close();
}

/** The local DynamoDB store could not be opened: another process holds it (LevelDB allows one). */
export class LocalStoreLockedError extends Error {
  override readonly name = 'LocalStoreLockedError';
}

/**
 * Opens the store of a dynalite server. dynalite would open LevelDB on its own, after it is made,
 * and when the LOCK is held (another lethe process, or another instance in this one, on the same
 * stateDir) no request would ever be answered: opened here, the failure is a clear error instead.
 * The store stays open, its LOCK held, until the server closes: no other process can open the
 * state directory in between, and LevelDB is opened once per start.
 */
async function openDynamoStore(database: DynaliteDatabase, path: string | undefined): Promise<void> {
  try {
    await database.open();
  } catch (err) {
    if (path === undefined) throw err;
    throw new LocalStoreLockedError(
      `the local DynamoDB store at ${path} cannot be opened, most likely because another lethe process is using this state directory; let that command finish (or stop it) and run this one again`,
      { cause: (err as { cause?: unknown }).cause ?? err },
    );
  }
}

/**
 * Compacts the LevelDB store dynalite keeps under `path`, which must be closed (stop the servers
 * first). LevelDB keeps deleted and overwritten values in its log and tables until a compaction
 * rewrites them, so an erased subject's values, and the identities a finished request dropped,
 * would stay on disk. The whole key space is compacted; then the info log (a manual compaction
 * writes keys into it) is removed and the store opened once more, so the manifest, which names
 * the first and last key of every table, is written afresh with the live tables only.
 */
export async function compactDynamoStore(path: string): Promise<void> {
  const db = new Level(path, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  await db.open();
  try {
    // dynalite's keys are text: nothing sorts after a run of 0xff bytes.
    await db.compactRange(Buffer.alloc(0), Buffer.alloc(64, 0xff));
  } finally {
    await db.close();
  }
  await Promise.all(['LOG', 'LOG.old'].map((name) => rm(join(path, name), { force: true })));
  await db.open();
  await db.close();
}

function clientConfig<Endpoint>(endpoint: Endpoint, maxAttempts: number) {
  return { endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, maxAttempts };
}

/**
 * Creates SDK clients pointed at the local servers, with the settings s3rver needs.
 *
 * Static credentials and region keep the SDK from reading AWS profiles, env credentials or IMDS.
 * Three attempts (the SDK default) absorb a rare reset socket without hiding real errors behind
 * long backoff.
 */
export function createLocalClients(
  servers: Pick<LocalServers, 'dynamodbEndpoint' | 's3Endpoint'>,
): LocalClients {
  return {
    dynamodb: new DynamoDBClient(clientConfig(servers.dynamodbEndpoint, 3)),
    s3: localS3Client(servers.s3Endpoint),
  };
}

/**
 * The clients of servers whose S3 starts on demand: the S3 client (and the SDK module it comes
 * from) is made on first use, and its first request starts s3rver.
 */
export function createLocalClientsWithS3OnDemand(
  servers: Pick<LocalServersWithS3OnDemand, 'dynamodbEndpoint' | 's3Endpoint'>,
): LocalClients & { s3Started(): boolean } {
  let s3: S3Client | undefined;
  return {
    dynamodb: new DynamoDBClient(clientConfig(servers.dynamodbEndpoint, 3)),
    get s3() {
      s3 ??= localS3Client(async () => ({ url: new URL(await servers.s3Endpoint()) }));
      return s3;
    },
    s3Started: () => s3 !== undefined,
  };
}

function localS3Client(endpoint: string | (() => Promise<{ url: URL }>)): S3Client {
  const { S3Client } = require('@aws-sdk/client-s3') as typeof import('@aws-sdk/client-s3');
  return new S3Client({
    ...clientConfig(endpoint, 3),
    // s3rver resolves buckets from the path; virtual-host style would need DNS for <bucket>.127.0.0.1.
    forcePathStyle: true,
    // With the SDK default (WHEN_SUPPORTED) a PutObject whose Body is a stream is sent
    // `aws-chunked` with a trailing CRC32; s3rver does not decode that encoding and stores the
    // chunk framing as content (100,000 bytes came back as 100,045). Buffered bodies and
    // lib-storage multipart parts happen to survive, which makes the bug easy to miss.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    // s3rver sends no x-amz-checksum-* headers, so validation would only ever be skipped; keeping
    // it off avoids depending on that.
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/**
 * Creates the bucket unless it exists. Safe to call concurrently and on every start.
 */
export async function createBucketIfMissing(s3: S3Client, name: string): Promise<void> {
  const { CreateBucketCommand, HeadBucketCommand, S3ServiceException } =
    require('@aws-sdk/client-s3') as typeof import('@aws-sdk/client-s3');
  try {
    await s3.send(new HeadBucketCommand({ Bucket: name }));
    return;
  } catch (err) {
    if (!(err instanceof S3ServiceException) || err.$metadata.httpStatusCode !== 404) throw err;
  }
  try {
    await s3.send(new CreateBucketCommand({ Bucket: name }));
  } catch (err) {
    // Lost a race with another creator: the bucket exists, which is all we wanted.
    if (
      err instanceof S3ServiceException &&
      ['BucketAlreadyOwnedByYou', 'BucketAlreadyExists'].includes(err.name)
    )
      return;
    throw err;
  }
}

export interface CreateTableIfMissingOptions {
  /** How long to wait for the table and its indexes to become ACTIVE. Default 5 minutes (AWS can be slow). */
  timeoutMs?: number;
}

/**
 * Creates the table unless it exists, then waits until it and all its global secondary indexes
 * are ACTIVE. An existing table is accepted as is: its key schema is not compared with `input`.
 *
 * Polls itself instead of using the SDK waiter, whose 20 s minimum delay would dominate a local
 * start where dynalite activates a table within milliseconds.
 */
export async function createTableIfMissing(
  dynamodb: DynamoDBClient,
  input: CreateTableCommandInput,
  options: CreateTableIfMissingOptions = {},
): Promise<void> {
  const tableName = input.TableName;
  if (!tableName) throw new Error('createTableIfMissing: TableName is required');
  if (!(await describeTable(dynamodb, tableName))) {
    try {
      await dynamodb.send(new CreateTableCommand(input));
    } catch (err) {
      if (!(err instanceof ResourceInUseException)) throw err;
    }
  }

  const deadline = Date.now() + (options.timeoutMs ?? 5 * 60_000);
  let delayMs = 25;
  for (;;) {
    const table = (await describeTable(dynamodb, tableName))?.Table;
    const indexesActive = (table?.GlobalSecondaryIndexes ?? []).every((i) => i.IndexStatus === 'ACTIVE');
    if (table?.TableStatus === 'ACTIVE' && indexesActive) return;
    if (Date.now() > deadline) {
      throw new Error(
        `table ${tableName} not ACTIVE after ${options.timeoutMs ?? 300_000} ms (${table?.TableStatus})`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    delayMs = Math.min(delayMs * 2, 2_000);
  }
}

async function describeTable(
  dynamodb: DynamoDBClient,
  tableName: string,
): Promise<DescribeTableCommandOutput | undefined> {
  try {
    return await dynamodb.send(new DescribeTableCommand({ TableName: tableName }));
  } catch (err) {
    if (err instanceof ResourceNotFoundException) return undefined;
    throw err;
  }
}
