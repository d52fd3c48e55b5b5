import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type AdtechSeed, generateAdtechSeed, type SeedSubject } from '../../examples/adtech/seed';
import type { LocalBackend } from '../../lib/cli/backends';
import type { LetheDeps } from '../../lib/deps';
import { type LocalEnvironment, openLocalEnvironment } from '../../lib/local/environment';
import { reviewRequest } from '../../lib/rights/lifecycle';
import { getRequest } from '../../lib/rights/requests-table';
import type { WorkflowStarter } from '../../lib/rights/submit';
import type { RequestSummary } from '../../lib/rights/summary';

/** The example data map every scenario runs against. */
export const DATAMAP_PATH = resolve(__dirname, '../../examples/adtech/datamap.yaml');

/**
 * Seeds are generated relative to a fixed moment, so the same options give the same bytes on any
 * day (key and line lengths, and with them the timings, do not drift with the date).
 */
export const SEED_NOW = new Date('2026-11-01T00:00:00.000Z');

const stateDirs = new Set<string>();
let keepStateDirs = false;

/** Keep the state directories after the run (--keep), for inspection. */
export function keepTemporaryState(keep: boolean): void {
  keepStateDirs = keep;
}

/** A fresh state directory under the OS temp dir, removed by {@link removeTemporaryState}. */
export function temporaryStateDir(label: string): string {
  const dir = mkdtempSync(join(tmpdir(), `lethe-bench-${label}-`));
  stateDirs.add(dir);
  return dir;
}

/** Removes every state directory this run created (unless --keep); returns those kept. */
export function removeTemporaryState(): string[] {
  if (keepStateDirs) return [...stateDirs];
  for (const dir of stateDirs) rmSync(dir, { recursive: true, force: true });
  stateDirs.clear();
  return [];
}

/** Creates lethe's tables and buckets and the data map's stores in a new state directory. */
export async function initEnvironment(stateDir: string): Promise<LocalEnvironment> {
  return openLocalEnvironment({ stateDir, dataMapPath: DATAMAP_PATH, init: true });
}

export function backgroundSeed(subjects: number, recordsPerSubject: number, seed = 1): AdtechSeed {
  return generateAdtechSeed({ subjects, recordsPerSubject, seed, now: SEED_NOW });
}

/** Every value that identifies someone in a seed, to keep added subjects apart from it. */
function identifiersOf(seed: AdtechSeed): Set<string> {
  const values = new Set<string>();
  for (const subject of seed.subjects) {
    values.add(subject.email);
    values.add(subject.phone);
    for (const cookieId of subject.cookieIds) values.add(cookieId);
    if (subject.userId) values.add(subject.userId);
  }
  for (const cookieId of seed.anonymous.cookieIds) values.add(cookieId);
  for (const contact of seed.dynamodb['partner-contacts']) values.add(String(contact.contactId));
  for (const conversion of seed.dynamodb.conversions) values.add(String(conversion.conversionId));
  return values;
}

export interface TargetSubject {
  /** A short label for tables: "k=1,000". */
  label: string;
  subject: SeedSubject;
  /** The subject's records (and the anonymous clickstream lines the generator mixes into its files). */
  seed: AdtechSeed;
}

/**
 * One more subject with `records` ad events and clickstream lines (and what the generator gives
 * subject 0: two partner-contact rows, one exempt, call recordings, conversions), to be imported
 * next to a background seed. Its identities are checked against `taken` (and added to it), and its
 * clickstream files get keys of their own, so it never overwrites or shares data with the others.
 */
export function targetSubject(records: number, taken: Set<string>, tag: string): TargetSubject {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const seed = generateAdtechSeed({
      subjects: 1,
      recordsPerSubject: records,
      seed: 10_000 + records + attempt,
      now: SEED_NOW,
    });
    const mine = identifiersOf(seed);
    if ([...mine].some((value) => taken.has(value))) continue;
    for (const value of mine) taken.add(value);
    for (const object of seed.s3.clickstream) object.key = object.key.replace('/part-', `/${tag}-part-`);
    return { label: `k=${records.toLocaleString('en-US')}`, subject: seed.subjects[0]!, seed };
  }
  throw new Error(`could not generate a subject with ${records} records apart from the others`);
}

/** The identities of every subject of a seed, as a set to draw target subjects apart from. */
export function takenIdentifiers(seed: AdtechSeed): Set<string> {
  return identifiersOf(seed);
}

export interface SeedSize {
  items: Record<string, number>;
  objects: Record<string, number>;
  objectBytes: Record<string, number>;
  clickstreamLines: number;
}

const byteLength = (body: string | Buffer) =>
  typeof body === 'string' ? Buffer.byteLength(body) : body.length;

/** How much a set of seeds puts into each store. */
export function seedSize(seeds: AdtechSeed[]): SeedSize {
  const size: SeedSize = { items: {}, objects: {}, objectBytes: {}, clickstreamLines: 0 };
  for (const seed of seeds) {
    for (const [store, items] of Object.entries(seed.dynamodb))
      size.items[store] = (size.items[store] ?? 0) + items.length;
    for (const [store, objects] of Object.entries(seed.s3)) {
      size.objects[store] = (size.objects[store] ?? 0) + objects.length;
      size.objectBytes[store] =
        (size.objectBytes[store] ?? 0) + objects.reduce((sum, object) => sum + byteLength(object.body), 0);
    }
    for (const object of seed.s3.clickstream) {
      const body = typeof object.body === 'string' ? object.body : object.body.toString('utf8');
      size.clickstreamLines += body.split('\n').filter((line) => line !== '').length;
    }
  }
  return size;
}

/** A request's subject and verification as the CLI would submit them. */
export function requestInput(type: 'access' | 'erasure', subject: SeedSubject, requestId?: string) {
  return {
    ...(requestId ? { requestId } : {}),
    type,
    subject: [{ type: 'email', value: subject.email }],
    jurisdiction: 'gdpr' as const,
    channel: 'api' as const,
    verification: { method: 'email-confirmation' as const, verifiedBy: 'lethe bench' },
  };
}

/** Who includes waiting stores in review in the benchmarks. */
const BENCH_REVIEWER = 'bench-reviewer';

/**
 * Submits a request through the backend and, when it waits for review (the example's links are
 * claimed: records only they reach wait for staff), includes every waiting store as staff would;
 * the summary once the request has ended. The seeds' subjects own what their links reach.
 */
export async function submitReviewed(
  backend: LocalBackend,
  input: ReturnType<typeof requestInput>,
): Promise<{ summary: RequestSummary; reviewed: boolean }> {
  const { summary } = await backend.submit(input);
  if (summary.status !== 'pending-review') return { summary, reviewed: false };
  const include = summary.review?.stores.map((store) => store.store) ?? [];
  return {
    summary: await backend.review(summary.requestId, { include, by: BENCH_REVIEWER }),
    reviewed: true,
  };
}

/** As submitReviewed, for the runner LocalBackend uses (the execution alone, no status read). */
export async function includeWaitingStores(
  deps: LetheDeps,
  runner: WorkflowStarter,
  requestId: string,
): Promise<boolean> {
  const record = await getRequest(deps, requestId);
  if (record.status !== 'pending-review') return false;
  const include = record.review?.stores.map((store) => store.store) ?? [];
  await reviewRequest(deps, runner, requestId, { include, by: BENCH_REVIEWER });
  return true;
}
