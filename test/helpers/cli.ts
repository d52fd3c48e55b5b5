import { join } from 'node:path';
import type { AdtechSeed } from '../../examples/adtech/seed';
import { runCli } from '../../lib/cli/program';
import { openLocalEnvironment } from '../../lib/local/environment';
import { importSeed } from '../../lib/local/import';
import { EXAMPLE_DATAMAP_PATH, exampleDataMap, SEED_NOW, type SnapshotEntry, snapshotStores } from './world';

export interface CliRun {
  code: number;
  out: string;
  err: string;
}

/** Runs the lethe CLI in-process, capturing what it prints. */
export async function lethe(args: string[], options: Parameters<typeof runCli>[1] = {}): Promise<CliRun> {
  let out = '';
  let err = '';
  const code = await runCli(args, {
    ...options,
    io: { out: (text) => (out += `${text}\n`), err: (text) => (err += `${text}\n`) },
  });
  return { code, out, err };
}

/**
 * `lethe init` with the example data map, then `lethe import` of every store from the files
 * writeSeedFiles wrote under `seedDir`. Returns what failed (command, code, stderr): empty when all went well.
 */
export async function initWithSeed(
  stateDir: string,
  seedDir: string,
): Promise<{ command: string; code: number; err: string }[]> {
  const failed: { command: string; code: number; err: string }[] = [];
  const run = async (command: string, args: string[]) => {
    const outcome = await lethe(args);
    if (outcome.code !== 0 || outcome.err !== '')
      failed.push({ command, code: outcome.code, err: outcome.err });
  };
  await run('init', ['init', '--datamap', EXAMPLE_DATAMAP_PATH, '--state-dir', stateDir]);
  for (const store of exampleDataMap().stores) {
    const source =
      store.kind === 'dynamodb'
        ? ['--file', join(seedDir, `${store.id}.jsonl`)]
        : ['--dir', join(seedDir, store.id)];
    await run(`import ${store.id}`, ['import', '--store', store.id, ...source, '--state-dir', stateDir]);
  }
  return failed;
}

/** The arguments of `lethe request submit` for a GDPR request verified by the privacy desk, printing JSON. */
export function requestSubmitArgs(
  stateDir: string,
  type: string,
  subject: string[],
  extra: string[] = [],
): string[] {
  return [
    'request',
    'submit',
    '--type',
    type,
    '--subject',
    ...subject,
    '--jurisdiction',
    'gdpr',
    '--verified-by',
    'privacy-desk',
    '--state-dir',
    stateDir,
    '--json',
    ...extra,
  ];
}

/** A state directory initialised with the example data map and holding `seed`, imported directly. */
export async function initStateDirWithSeed(stateDir: string, seed: AdtechSeed): Promise<void> {
  const env = await openLocalEnvironment({
    stateDir,
    dataMapPath: EXAMPLE_DATAMAP_PATH,
    init: true,
    now: () => SEED_NOW,
  });
  try {
    await importSeed(env.dataMap, seed, env.clients);
  } finally {
    await env.close();
  }
}

/** Everything in every store, read through a short-lived environment on the same state directory. */
export async function snapshotStateDir(stateDir: string): Promise<Map<string, SnapshotEntry>> {
  const env = await openLocalEnvironment({ stateDir });
  try {
    return await snapshotStores(env.dataMap, env.clients);
  } finally {
    await env.close();
  }
}
