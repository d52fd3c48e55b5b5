import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LocalEnvironment, openLocalEnvironment } from '../../lib/local/environment';
import { EXAMPLE_DATAMAP_PATH, SEED_NOW } from './world';

/**
 * A fresh state directory initialised with the example data map, its clock fixed at SEED_NOW
 * (or `now`, for tests that move time on), opened before the tests of the calling describe block
 * and removed after them. Returns the environment (defined once they run).
 */
export function exampleEnvironment(prefix: string, now: () => Date = () => SEED_NOW): () => LocalEnvironment {
  let stateDir: string;
  let env: LocalEnvironment | undefined;
  beforeAll(async () => {
    stateDir = mkdtempSync(join(tmpdir(), prefix));
    env = await openLocalEnvironment({
      stateDir,
      dataMapPath: EXAMPLE_DATAMAP_PATH,
      init: true,
      now,
    });
  });
  afterAll(async () => {
    await env?.close();
    rmSync(stateDir, { recursive: true, force: true });
  });
  return () => {
    if (!env) throw new Error('the environment opens before the tests run');
    return env;
  };
}
