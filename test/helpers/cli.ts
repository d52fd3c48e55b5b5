import { join } from 'node:path';
import type { AdtechSeed } from '../../examples/adtech/seed';
import type { ShopSeedFiles } from '../../examples/shop/seed';
import { runCli } from '../../lib/cli/program';
import { loadDataMap } from '../../lib/datamap';
import { openLocalEnvironment } from '../../lib/local/environment';
import { importSeed } from '../../lib/local/import';
import type { RequestSummary } from '../../lib/rights/summary';
import { snapshotEverything } from './snapshot';
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
 * `lethe init` with the example data map (or a variant of it at `dataMapPath`), then `lethe import`
 * of every store from the files writeSeedFiles wrote under `seedDir`. Returns what failed
 * (command, code, stderr): empty when all went well.
 */
export async function initWithSeed(
  stateDir: string,
  seedDir: string,
  dataMapPath = EXAMPLE_DATAMAP_PATH,
): Promise<{ command: string; code: number; err: string }[]> {
  const failed: { command: string; code: number; err: string }[] = [];
  const run = async (command: string, args: string[]) => {
    const outcome = await lethe(args);
    if (outcome.code !== 0 || outcome.err !== '')
      failed.push({ command, code: outcome.code, err: outcome.err });
  };
  await run('init', ['init', '--datamap', dataMapPath, '--state-dir', stateDir]);
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

/** The arguments of `lethe hold add` on one record of `store` (a DynamoDB key as JSON, or an object key). */
export function holdRecordArgs(store: string, key: string): string[] {
  return [
    'hold',
    'add',
    '--store',
    store,
    '--key',
    key,
    '--reason',
    'Disputed invoice 4711',
    '--by',
    'Finance',
  ];
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

/** The arguments of `lethe request review` including every store the request waits for, printing JSON. */
export function reviewIncludingAllArgs(stateDir: string, summary: RequestSummary): string[] {
  const stores = summary.review?.stores.map((store) => store.store) ?? [];
  return [
    'request',
    'review',
    summary.requestId,
    '--include',
    ...stores,
    '--by',
    'privacy-desk',
    '--state-dir',
    stateDir,
    '--json',
  ];
}

/**
 * `lethe request review` including every store the request waits for (the subject's own records,
 * as the seed's ground truth says), printing JSON.
 */
export async function reviewIncludingAll(
  stateDir: string,
  summary: RequestSummary,
  options: Parameters<typeof runCli>[1] = {},
): Promise<CliRun> {
  return lethe(reviewIncludingAllArgs(stateDir, summary), options);
}

/**
 * Staff's review of a request that waits for it, including every waiting store, and the summary
 * once the next attempt has run. A request that does not wait for review is returned as it is.
 */
export async function includeAllInReview(stateDir: string, summary: RequestSummary): Promise<RequestSummary> {
  if (summary.status !== 'pending-review') return summary;
  const run = await reviewIncludingAll(stateDir, summary);
  if (run.err !== '') throw new Error(`review failed (${run.code}): ${run.err}`);
  return JSON.parse(run.out) as RequestSummary;
}

/** Every table and bucket of the state directory, lethe's own included (see snapshotEverything). */
export async function snapshotEverythingIn(stateDir: string): Promise<Map<string, string>> {
  const env = await openLocalEnvironment({ stateDir });
  try {
    return await snapshotEverything(env.clients);
  } finally {
    await env.close();
  }
}

/** A state directory initialised for the example data map and loaded with `seed` (directly, not through the CLI). */
export async function seedStateDir(stateDir: string, seed: AdtechSeed): Promise<void> {
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

/**
 * `lethe init` with the shop example and `lethe import` of every store from the files
 * writeShopSeedFiles wrote, keeping the legacy key spellings as the tables hold them. Returns the
 * imports that failed (store, code, stderr): empty when all went well.
 */
export async function initShopWithSeed(
  stateDir: string,
  dataMapPath: string,
  files: ShopSeedFiles,
): Promise<{ store: string; code: number; err: string }[]> {
  const failed: { store: string; code: number; err: string }[] = [];
  const init = await lethe(['init', '--datamap', dataMapPath, '--state-dir', stateDir]);
  if (init.code !== 0) failed.push({ store: '(init)', code: init.code, err: init.err });
  for (const store of loadDataMap(dataMapPath).stores) {
    const source =
      store.kind === 'dynamodb'
        ? ['--file', files.dynamodb[store.id]!, '--keep-key-spellings']
        : ['--dir', files.s3[store.id]!];
    const run = await lethe(['import', '--store', store.id, ...source, '--state-dir', stateDir]);
    if (run.code !== 0 || run.err !== '') failed.push({ store: store.id, code: run.code, err: run.err });
  }
  return failed;
}

/** Submits a request with the CLI and, when it waits for review, includes every store it waits for. */
export async function submitIncludingReview(args: string[]): Promise<RequestSummary> {
  const submitted = await lethe(args);
  if (submitted.err !== '') throw new Error(`submit failed (${submitted.code}): ${submitted.err}`);
  const summary = JSON.parse(submitted.out) as RequestSummary;
  const stateDir = args[args.indexOf('--state-dir') + 1] as string;
  return summary.status === 'pending-review' ? includeAllInReview(stateDir, summary) : summary;
}
