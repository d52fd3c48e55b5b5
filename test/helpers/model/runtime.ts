import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataMap } from '../../../lib/datamap/schema';
import { createLetheDeps } from '../../../lib/deps';
import type { AslObject } from '../../../lib/local/definitions';
import { createLetheResources, LOCAL_RESOURCES, type LocalEnvironment } from '../../../lib/local/environment';
import type { FaultInjector } from '../../../lib/local/execution';
import { createStoresFromDataMap } from '../../../lib/local/provision';
import { LocalRequestRunner } from '../../../lib/local/request-runner';
import { createLocalClients, startLocalServers } from '../../../lib/local/servers';
import { silentLogger } from '../../../lib/log';

/**
 * One generated world on its own in-memory local servers: lethe's tables and buckets, the data
 * map's stores, and an environment the local request runner runs the workflow over.
 */

/** The key `with: hmac` masks use in these worlds, so the model can compute the masked form. */
export const MASK_KEY = Buffer.alloc(32, 0x5a);
export const NOW = new Date('2026-06-01T12:00:00.000Z');

export interface WorldRuntime {
  env: LocalEnvironment;
  /** A runner over the environment: with `faults`, each step calls it first. */
  runner(faults?: FaultInjector): LocalRequestRunner;
  close(): Promise<void>;
}

export async function openWorldRuntime(dataMap: DataMap, definition: AslObject): Promise<WorldRuntime> {
  const servers = await startLocalServers();
  const clients = createLocalClients(servers);
  const stateDir = mkdtempSync(join(tmpdir(), 'lethe-model-'));
  const close = async () => {
    clients.dynamodb.destroy();
    clients.s3.destroy();
    await servers.stop();
    rmSync(stateDir, { recursive: true, force: true });
  };
  try {
    await createLetheResources(clients);
    await createStoresFromDataMap(dataMap, clients);
  } catch (error) {
    await close();
    throw error;
  }
  const deps = createLetheDeps({
    dataMap,
    clients,
    resources: LOCAL_RESOURCES,
    keys: { subjectHash: Buffer.alloc(32, 0x11), mask: MASK_KEY },
    exportUrlTtlSeconds: 3600,
    now: () => NOW,
    log: silentLogger,
    retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5 },
  });
  const env: LocalEnvironment = {
    stateDir,
    dataMapPath: join(stateDir, 'datamap.yaml'),
    dataMap,
    clients,
    deps,
    executionsDir: stateDir,
    compactOnClose: () => undefined,
    close,
  };
  return {
    env,
    runner: (faults) => new LocalRequestRunner(env, { definition, ...(faults ? { faults } : {}) }),
    close,
  };
}
