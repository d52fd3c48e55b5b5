import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { AdtechSeed, SeedSubject } from '../../examples/adtech/seed';
import { type AuditEvent, hashAuditEvent, readAuditEvents } from '../../lib/audit/log';
import { openLocalEnvironment } from '../../lib/local/environment';
import { readHistory } from '../../lib/local/execution';
import { executionIdFor, FINAL_STATUSES, type RequestStatus } from '../../lib/rights/request';
import type { RequestSummary } from '../../lib/rights/summary';
import { holdsIdentifier, identifiersAtRest } from '../helpers/at-rest';
import { lethe, requestSubmitArgs, reviewIncludingAll, reviewIncludingAllArgs } from '../helpers/cli';
import { type ChildRun, type KillPoint, parseTrace, runCliChild } from '../helpers/crash/cli-child';
import { random } from '../helpers/crash/random';
import { seededTemplate } from '../helpers/crash/template';
import {
  belongsTo,
  exampleDataMap,
  exampleSeed,
  identifierValues,
  type SnapshotEntry,
  snapshotStores,
} from '../helpers/world';
import { unzip } from '../helpers/zip';

/**
 * Crash trials of whole requests: the real CLI (a child process) submits an access or erasure
 * request, which waits for review (the example's links are claimed), and staff review it
 * (including every store) in a second CLI process. One of the two is killed with SIGKILL at a
 * seeded random point, anywhere from its first write to the compaction of the store on close:
 * before, during or after any call to the local servers in Verify, ResolveIdentities, Locate,
 * RecordReview, Export or Erase, Confirm or RecordOutcome, while appending to the execution
 * history, or after the execution ended. Then a person recovers as they would: submits the same
 * request again (same --request-id), retries it, or submits a new request for the same subject and
 * follows what it says, reviewing whatever waits for review. Whatever the kill, once the request
 * has ended:
 * - it is completed, and what a resubmission printed says what happened (created, resumed, or
 *   nothing run again);
 * - erasure: nothing of the subject is left but exempt records and correctly masked ones, and
 *   every record of anyone else is byte for byte as before; access: the package holds exactly
 *   the subject's records, and no store changed;
 * - no raw identifier of the subject is left anywhere in the state directory (for an access
 *   request: anywhere but the stores and its export package), in any request record or audit event;
 * - no lock is left, every request for the subject has ended, and the audit chain is whole, with
 *   the request's receipt and one completion.
 *
 * Seeded, with a fixed seed by default: LETHE_CRASH_SEED replays a run or searches elsewhere,
 * LETHE_CRASH_TRIALS runs more (default 30), LETHE_CRASH_TRIAL runs one trial of a seed,
 * LETHE_CRASH_VERBOSE=1 prints every trial. Kill points are counted in operations of the process
 * (see test/helpers/crash/kill-switch.ts); steps that run concurrently (the stores of a Map) may
 * interleave differently on a replay.
 */

const TRIALS = Number(process.env.LETHE_CRASH_TRIALS ?? 30);
/**
 * Fixed, so that CI runs the same trials every time (seven of them kill an erasure in
 * EraseStores); LETHE_CRASH_SEED searches elsewhere.
 */
const SEED = Number(process.env.LETHE_CRASH_SEED ?? 312);
const ONLY = process.env.LETHE_CRASH_TRIAL === undefined ? undefined : Number(process.env.LETHE_CRASH_TRIAL);
const VERBOSE = process.env.LETHE_CRASH_VERBOSE === '1';
const REPLAY = `LETHE_CRASH_SEED=${SEED} npx jest test/e2e/crash-requests.test.ts`;

const dataMap = exampleDataMap();
const DATA_BUCKETS = dataMap.stores.flatMap((store) => (store.kind === 's3' ? [store.bucket] : []));
const bucketOf = (storeId: string) => {
  const store = dataMap.stores.find((candidate) => candidate.id === storeId);
  if (store?.kind !== 's3') throw new Error(`${storeId} is no S3 store`);
  return store.bucket;
};

type RequestType = 'access' | 'erasure';
type Recovery = 'resubmit' | 'retry' | 'new-request';
/** The CLI process a kill is aimed at: the one submitting the request, or staff's review of it. */
type Phase = 'submit' | 'review';

/**
 * The states a kill is aimed at, in workflow order, per process: submitted, the request waits for
 * review after RecordReview; the reviewed attempt runs on to ExportPackage or EraseStores.
 */
const STATES: Record<Phase, (type: RequestType) => string[]> = {
  submit: () => ['Verify', 'ResolveIdentities', 'LocateStores', 'RecordReview'],
  review: (type) => [
    ...STATES.submit(type),
    type === 'access' ? 'ExportPackage' : 'EraseStores',
    'Confirm',
    'RecordOutcome',
  ],
};

/** Where kills can be aimed in one process: operations per phase and the time after the execution ended. */
interface Calibration {
  /** Operations from the start of the process to the execution's first event. */
  startOperations: number;
  /** Per state: operations from entering it to entering the next (the last: to the end). */
  stateOperations: Map<string, number>;
  /** From the execution's last event to the end of the process. */
  tailMs: number;
}

function calibration(what: string, states: string[], run: ChildRun): Calibration {
  const { operations, exitMs } = parseTrace(run.stderr);
  const numberOf = (label: string) => {
    const found = operations.find((operation) => operation.label === label);
    if (!found) throw new Error(`the traced ${what} has no "${label}"`);
    return found;
  };
  const starts = states.map((state) => numberOf(`history StateEntered ${state}`).number);
  const stateOperations = new Map(
    states.map((state, index) => [state, (starts[index + 1] ?? operations.length + 1) - starts[index]!]),
  );
  return {
    startOperations: numberOf('history ExecutionStarted').number,
    stateOperations,
    tailMs: exitMs - numberOf('history ExecutionSucceeded').ms,
  };
}

type Calibrations = Record<RequestType, Record<Phase, Calibration>>;

interface Trial {
  index: number;
  subject: SeedSubject;
  type: RequestType;
  recovery: Recovery;
  requestId: string;
  /** The process the kill is aimed at. */
  phase: Phase;
  /** Where in it: `start` (before its execution), a state of STATES, or `tail`. */
  aim: string;
  kill: KillPoint;
}

function planTrial(index: number, seed: AdtechSeed, calibrations: Calibrations): Trial {
  const next = random((SEED ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const subject = pick(seed.subjects);
  const type = pick(['access', 'erasure'] as const);
  const recovery = pick(['resubmit', 'retry', 'new-request'] as const);
  // Acting on the stores is where the reported data loss happened: aimed at twice as often.
  const act = STATES.review(type)[4]!;
  const aims: [Phase, string][] = [
    ...(['start', ...STATES.submit(type), 'tail'] as const).map((aim): [Phase, string] => ['submit', aim]),
    ...['start', ...STATES.review(type), act, 'tail'].map((aim): [Phase, string] => ['review', aim]),
  ];
  const [phase, aim] = pick(aims);
  const calibrated = calibrations[type][phase];
  const when = pick(['before', 'during', 'after'] as const);
  const requestId = `crash-${SEED.toString(36)}-${index}`;
  const within = (operations: number) => 1 + Math.floor(next() * operations);
  let kill: KillPoint;
  if (aim === 'tail') kill = { tailMs: Math.floor(next() * (calibrated.tailMs + 20)) };
  else if (aim === 'start') kill = { at: within(calibrated.startOperations), when };
  else kill = { from: aim, at: within(calibrated.stateOperations.get(aim)!), when };
  if (kill.when === 'during') kill.delayMs = Math.floor(next() * 4);
  return { index, subject, type, recovery, requestId, phase, aim, kill };
}

/** Where the killed run was, from its execution history: the last event, with its state. */
function lastEvent(stateDir: string, executionId: string): string {
  const events = readHistory({ executionsDir: join(stateDir, 'executions') }, executionId);
  const last = events.at(-1);
  return last ? `${last.type}${last.state ? ` ${last.state}` : ''}` : 'no history';
}

/** A record of what a person did and saw, for the failure message. */
class Transcript {
  readonly lines: string[] = [];
  note(line: string): void {
    this.lines.push(line);
  }
}

const submitArgs = (stateDir: string, trial: Trial, requestId: string, json = true) =>
  requestSubmitArgs(
    stateDir,
    trial.type,
    [`email=${trial.subject.email}`],
    ['--request-id', requestId],
  ).filter((arg) => json || arg !== '--json');

async function statusOf(stateDir: string, requestId: string): Promise<RequestSummary | undefined> {
  const run = await lethe(['request', 'status', requestId, '--state-dir', stateDir, '--json']);
  if (run.code === 2 && /does not exist/.test(run.err)) return undefined;
  if (run.code !== 0) throw new Error(`status of ${requestId}: exit ${run.code}: ${run.err}`);
  return JSON.parse(run.out) as RequestSummary;
}

const isFinal = (status: RequestStatus) => FINAL_STATUSES.includes(status);

/**
 * Does what a person does until the request has ended: reviews it while it waits for review
 * (including every store: the seed says the records are the subject's), retries it while it has
 * failed or claims to run with nothing running; a failure is retried twice at most.
 */
async function finish(stateDir: string, requestId: string, transcript: Transcript): Promise<RequestSummary> {
  let failures = 0;
  for (let step = 0; step < 8; step += 1) {
    const summary = (await statusOf(stateDir, requestId))!;
    if (isFinal(summary.status)) return summary;
    if (summary.status === 'failed' && ++failures > 2)
      throw new Error(`${requestId} still failed after two retries`);
    const run =
      summary.status === 'pending-review'
        ? await reviewIncludingAll(stateDir, summary)
        : await lethe([
            'request',
            'retry',
            requestId,
            '--by',
            'crash-desk',
            '--state-dir',
            stateDir,
            '--json',
          ]);
    const action = summary.status === 'pending-review' ? 'review' : 'retry';
    transcript.note(`${action} ${requestId} (was ${summary.status}): exit ${run.code} ${run.err.trim()}`);
    expect(run.err).toBe('');
    const after = JSON.parse(run.out) as RequestSummary;
    transcript.note(`  -> ${after.status} (attempt ${after.attempt})`);
  }
  throw new Error(`${requestId} did not end`);
}

/** Submits the same request again (text output, as a person reads it) and checks what it says. */
async function resubmit(
  stateDir: string,
  trial: Trial,
  before: RequestSummary | undefined,
  transcript: Transcript,
) {
  const run = await lethe(submitArgs(stateDir, trial, trial.requestId, false));
  const said = run.out.split('\n')[0] ?? '';
  transcript.note(
    `resubmit ${trial.requestId} (was ${before?.status ?? 'absent'}): exit ${run.code}: ${said}`,
  );
  expect(run.err).toBe('');
  if (!before) expect(said).not.toMatch(/^(Resumed|Already submitted)/);
  else if (isFinal(before.status)) expect(said).toBe('Already submitted; nothing was run again.');
  else if (before.status === 'failed')
    expect(said).toMatch(/^Already submitted, and it failed; nothing was run again/);
  else if (before.status === 'pending-review')
    expect(said).toMatch(/^Already submitted, and it waits for review; nothing was run again/);
  else expect(said).toMatch(/^Resumed: /);
  return finish(stateDir, trial.requestId, transcript);
}

/** Recovers from the kill as `trial.recovery` says; returns the id of the request that fulfilled it. */
async function recover(stateDir: string, trial: Trial, transcript: Transcript): Promise<string> {
  const before = await statusOf(stateDir, trial.requestId);
  transcript.note(
    `status ${trial.requestId}: ${before ? `${before.status}, attempt ${before.attempt}` : 'absent'}`,
  );
  switch (trial.recovery) {
    case 'resubmit':
      await resubmit(stateDir, trial, before, transcript);
      return trial.requestId;
    case 'retry': {
      if (before && !isFinal(before.status) && before.status !== 'pending-review') {
        await finish(stateDir, trial.requestId, transcript);
        return trial.requestId;
      }
      const refused = await lethe([
        'request',
        'retry',
        trial.requestId,
        '--by',
        'crash-desk',
        '--state-dir',
        stateDir,
      ]);
      transcript.note(`retry ${trial.requestId}: exit ${refused.code} ${refused.err.trim()}`);
      expect(refused.code).toBe(2);
      if (before?.status === 'pending-review') {
        // Refused, naming the review it waits for: the person reviews it.
        expect(refused.err).toMatch(/it waits for review/);
        await finish(stateDir, trial.requestId, transcript);
        return trial.requestId;
      }
      if (before) {
        expect(refused.err).toMatch(/it has ended/);
        return trial.requestId;
      }
      // Never recorded: the person submits it again.
      expect(refused.err).toMatch(/does not exist/);
      await resubmit(stateDir, trial, before, transcript);
      return trial.requestId;
    }
    case 'new-request': {
      const fresh = `${trial.requestId}-n1`;
      await lethe(submitArgs(stateDir, trial, fresh));
      const answer = (await statusOf(stateDir, fresh))!;
      transcript.note(`new request ${fresh}: ${answer.status}${answer.reason ? ` (${answer.reason})` : ''}`);
      const mustWait =
        before !== undefined && ['in-progress', 'failed', 'pending-review'].includes(before.status);
      if (mustWait) expect(answer.status).toBe('duplicate');
      if (answer.status === 'duplicate') {
        // It names the request holding the subject and says how to finish it.
        expect(answer.duplicateOf).toBe(trial.requestId);
        expect(answer.reason).toMatch(new RegExp(`lethe request (retry|review) ${trial.requestId}`));
        await finish(stateDir, trial.requestId, transcript);
        // Once it has ended, a new request for the subject is no duplicate.
        const again = `${trial.requestId}-n2`;
        await lethe(submitArgs(stateDir, trial, again));
        const last = await finish(stateDir, again, transcript);
        transcript.note(`new request ${again}: ${last.status}`);
        expect(last.status).toBe('completed');
        return trial.requestId;
      }
      expect((await finish(stateDir, fresh, transcript)).status).toBe('completed');
      if (before && !isFinal(before.status)) {
        // Killed before it took the subject's lock: the new request ran; the dead one is still
        // listed as running, and a person finishes it from the list.
        const listed = JSON.parse(
          (await lethe(['request', 'list', '--state-dir', stateDir, '--json'])).out,
        ) as RequestSummary[];
        expect(listed.find((entry) => entry.requestId === trial.requestId)?.status).toBe(before.status);
        await finish(stateDir, trial.requestId, transcript);
      }
      return before ? trial.requestId : fresh;
    }
  }
}

/** Whether the audit chain is whole: sequence numbers in order, each event hashing to its hash and naming the one before. */
function chainBreaks(events: AuditEvent[]): string[] {
  const breaks: string[] = [];
  let previous = '0'.repeat(64);
  events.forEach((event, position) => {
    const { hash, ...unhashed } = event;
    if (event.seq !== position + 1) breaks.push(`event ${position + 1} has seq ${event.seq}`);
    if (event.prevHash !== previous) breaks.push(`event ${event.seq} does not name the hash before it`);
    if (hashAuditEvent(unhashed) !== hash) breaks.push(`event ${event.seq} does not hash to its hash`);
    previous = hash;
  });
  return breaks;
}

/** The subject's records in an export package, against the seed's own ownership of the records before. */
function exportMismatches(
  files: Map<string, Buffer>,
  before: Map<string, SnapshotEntry>,
  subject: SeedSubject,
): string[] {
  const mismatches: string[] = [];
  for (const store of dataMap.stores) {
    const expected = [...before.values()].filter(
      (entry) => entry.storeId === store.id && belongsTo(dataMap, subject, entry),
    );
    const file = files.get(`data/${store.id}.json`);
    if (!file) {
      mismatches.push(`${store.id}: no data file`);
      continue;
    }
    const records = (JSON.parse(file.toString('utf8')) as { records: { data?: unknown; file?: string }[] })
      .records;
    if (holdsRecords(store)) {
      const exported = records.map((record) => JSON.stringify(record.data)).sort();
      const seeded = expected.map((entry) => JSON.stringify(entry.record)).sort();
      if (exported.join('\n') !== seeded.join('\n'))
        mismatches.push(`${store.id}: exported ${exported.length} records, the subject has ${seeded.length}`);
    } else if (isParquet(store)) {
      // Rows (with 64-bit integers) are compared value for value in test/e2e/lake-parquet.test.ts.
      if (records.length !== expected.length || records.some((record) => record.data === undefined))
        mismatches.push(`${store.id}: exported ${records.length} rows, the subject has ${expected.length}`);
    } else if (
      records.length !== expected.length ||
      records.some((record) => !files.has(record.file ?? ''))
    ) {
      mismatches.push(`${store.id}: exported ${records.length} files, the subject has ${expected.length}`);
    }
  }
  return mismatches;
}

/** What erasing `subject` does to a record, by the seed's own ownership and the data map's rules. */
function erasureOf(subject: SeedSubject, entry: SnapshotEntry): 'kept' | 'masked' | 'erased' {
  if (!belongsTo(dataMap, subject, entry)) return 'kept';
  if (entry.storeId !== 'partner-contacts') return 'erased';
  // Billing contacts are exempt: invoices must be kept.
  return (entry.record as Record<string, unknown>).role === 'billing' ? 'kept' : 'masked';
}

/** How a record after an erasure differs from what the erasure must leave of it; undefined when it does not. */
function erasureMismatch(
  subject: SeedSubject,
  entry: SnapshotEntry,
  now: SnapshotEntry | undefined,
): string | undefined {
  switch (erasureOf(subject, entry)) {
    case 'kept':
      return now?.content === entry.content
        ? undefined
        : `${entry.storeId}: a record that must stay changed or went`;
    case 'erased':
      return now ? `${entry.storeId}: a record of the subject is left` : undefined;
    case 'masked': {
      // As the data map says: name fixed, email an HMAC, userId, phone and title removed, the rest untouched.
      if (!now) return `${entry.storeId}: a record to mask is gone`;
      const masked = now.record as Record<string, unknown>;
      const {
        userId: _userId,
        phone: _phone,
        title: _title,
        ...rest
      } = entry.record as Record<string, unknown>;
      const expected = { ...rest, name: '[erased]', email: masked.email };
      if (typeof masked.email !== 'string' || !/^hmac:[0-9a-f]{64}$/.test(masked.email))
        return `${entry.storeId}: email not masked with an HMAC`;
      const sorted = (record: Record<string, unknown>) => JSON.stringify(Object.entries(record).sort());
      return sorted(masked) === sorted(expected)
        ? undefined
        : `${entry.storeId}: not masked as the data map says`;
    }
  }
}

describe('requests whose CLI process is killed at a random point', () => {
  let work: string;
  let template: string;
  let seed: AdtechSeed;
  let before: Map<string, SnapshotEntry>;
  let calibrations: Calibrations;

  beforeAll(async () => {
    // Prepare: one small seeded state directory, copied for every trial.
    work = mkdtempSync(join(tmpdir(), 'lethe-crash-'));
    seed = exampleSeed(8, 2);
    ({ template, records: before } = await seededTemplate(work, seed));
    // Where the operations of each phase are: one traced, uninterrupted submission and review per
    // request type.
    const richest = seed.subjects[0]!;
    const traced = await Promise.all(
      (['access', 'erasure'] as const).map(async (type) => {
        const stateDir = join(work, `calibration-${type}`);
        cpSync(template, stateDir, { recursive: true });
        const submitted = await runCliChild(
          requestSubmitArgs(
            stateDir,
            type,
            [`email=${richest.email}`],
            ['--request-id', `calibration-${type}`],
          ),
          undefined,
          { trace: true },
        );
        expect({ type, code: submitted.code }).toEqual({ type, code: 0 });
        const paused = JSON.parse(submitted.stdout) as RequestSummary;
        expect({ type, status: paused.status }).toEqual({ type, status: 'pending-review' });
        const reviewed = await runCliChild(reviewIncludingAllArgs(stateDir, paused), undefined, {
          trace: true,
        });
        expect({ type, code: reviewed.code }).toEqual({ type, code: 0 });
        const phases: Record<Phase, Calibration> = {
          submit: calibration(`${type} submission`, STATES.submit(type), submitted),
          review: calibration(`${type} review`, STATES.review(type), reviewed),
        };
        return [type, phases] as const;
      }),
    );
    calibrations = Object.fromEntries(traced) as Calibrations;
  }, 300_000);

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  test(`every killed request ends completed with nothing of the subject left (${ONLY === undefined ? TRIALS : 1} trials, seed ${SEED})`, async () => {
    const trials = (ONLY === undefined ? [...Array(TRIALS).keys()] : [ONLY]).map((index) =>
      planTrial(index, seed, calibrations),
    );
    const failures: string[] = [];
    const kills = new Map<string, number>();
    // The next trial's children start while this one recovers in-process: two cores, one each.
    const launch = async (trial: Trial) => {
      const stateDir = join(work, `trial-${trial.index}`);
      cpSync(template, stateDir, { recursive: true });
      const args = submitArgs(stateDir, trial, trial.requestId);
      if (trial.phase === 'submit') return { runs: [await runCliChild(args, trial.kill)], stateDir };
      // Submitted uninterrupted, it waits for review: staff's review is the process killed.
      const submitted = await runCliChild(args);
      const paused = JSON.parse(submitted.stdout || '{}') as Partial<RequestSummary>;
      if (paused.status !== 'pending-review') return { runs: [submitted], stateDir };
      const reviewed = await runCliChild(
        reviewIncludingAllArgs(stateDir, paused as RequestSummary),
        trial.kill,
      );
      return { runs: [submitted, reviewed], stateDir };
    };
    let pending = trials[0] ? launch(trials[0]) : undefined;
    try {
      for (const [position, trial] of trials.entries()) {
        const { runs, stateDir } = await pending!;
        const run = runs.at(-1)!;
        const following = trials[position + 1];
        pending = following ? launch(following) : undefined;
        const attempt = runs.length;
        const diedIn = `${attempt > 1 ? 'review: ' : ''}${lastEvent(stateDir, executionIdFor(trial.requestId, attempt))}`;
        const started = Date.now();
        kills.set(diedIn, (kills.get(diedIn) ?? 0) + 1);
        const transcript = new Transcript();
        try {
          await runTrial(stateDir, trial, runs, transcript);
        } catch (error) {
          failures.push(
            [
              `trial ${trial.index} (seed ${SEED}): ${trial.type} of ${trial.subject.id}, aimed at ${trial.phase} ${trial.aim} ${JSON.stringify(trial.kill)}, killed at ${run.killedAt ?? 'nothing (it finished)'}, history ends with ${diedIn}, recovered by ${trial.recovery}`,
              `  replay: LETHE_CRASH_TRIAL=${trial.index} ${REPLAY}`,
              ...transcript.lines.map((line) => `  ${line}`),
              `  ${(error as Error).message.split('\n').join('\n  ')}`,
            ].join('\n'),
          );
        } finally {
          rmSync(stateDir, { recursive: true, force: true });
          if (VERBOSE)
            process.stdout.write(
              `trial ${trial.index}: ${trial.type} ${trial.subject.id} aimed ${trial.phase} ${trial.aim} ${JSON.stringify(trial.kill)} killed ${run.killedAt ?? '-'} in ${diedIn}; ${trial.recovery} ${Date.now() - started} ms\n${transcript.lines.map((line) => `  ${line}\n`).join('')}`,
            );
        }
      }
    } finally {
      await pending;
    }
    // Where the kills landed, so a run that missed the steps it aims at is visible.
    process.stdout.write(
      `crash trials (seed ${SEED}): history at the kill ended with ${JSON.stringify(Object.fromEntries(kills))}\n`,
    );
    if (failures.length > 0)
      throw new Error(
        `${failures.length} of ${trials.length} trials failed (replay all: ${REPLAY})\n\n${failures.join('\n\n')}`,
      );
  }, 1_800_000);

  async function runTrial(
    stateDir: string,
    trial: Trial,
    runs: ChildRun[],
    transcript: Transcript,
  ): Promise<void> {
    for (const [position, run] of runs.entries()) {
      const what = position === 0 ? 'submit' : 'review';
      transcript.note(
        `${what} child: exit ${run.code ?? run.signal}, killed at ${run.killedAt ?? 'nothing'}`,
      );
      if (!run.killedAt)
        expect({ what, code: run.code, err: run.stderr }).toEqual({ what, code: 0, err: '' });
    }

    // act: recover as a person would, then look at every request there is
    const fulfilled = await recover(stateDir, trial, transcript);
    const summary = (await statusOf(stateDir, fulfilled))!;
    const requests = JSON.parse(
      (await lethe(['request', 'list', '--state-dir', stateDir, '--json'])).out,
    ) as RequestSummary[];

    // assess: the request completed, and every request for the subject has ended
    expect({ request: fulfilled, status: summary.status }).toEqual({
      request: fulfilled,
      status: 'completed',
    });
    expect(
      requests
        .filter((request) => !isFinal(request.status))
        .map((request) => `${request.requestId} ${request.status}`),
    ).toEqual([]);

    // assess: no raw identifier at rest, searched before anything opens the store again
    const values = identifierValues(trial.subject);
    const kept =
      trial.type === 'erasure'
        ? // What legitimately stays: other people's records (a shared IP) and the subject's exempt ones.
          [...before.values()].filter((entry) => erasureOf(trial.subject, entry) === 'kept')
        : [];
    // Whole objects that stay are skipped (the seed's phone numbers share digits across countries);
    // items and lines that stay rule out the values they hold.
    const keptObjects = kept.flatMap((entry) => (typeof entry.record === 'string' ? [entry] : []));
    const checked = values.filter(
      (value) =>
        !kept.some((entry) => typeof entry.record !== 'string' && holdsIdentifier(entry.content, [value])),
    );
    const skip = (path: string) =>
      keptObjects.some((entry) =>
        path.startsWith(join('s3', bucketOf(entry.storeId), `${entry.record as string}._S3rver_`)),
      ) ||
      (trial.type === 'access' &&
        (path.startsWith('dynamodb') ||
          path.startsWith('exports') ||
          path.startsWith(join('s3', 'lethe-exports')) ||
          DATA_BUCKETS.some((bucket) => path.startsWith(join('s3', bucket)))));
    expect({ atRest: identifiersAtRest(stateDir, checked, skip) }).toEqual({ atRest: [] });

    const env = await openLocalEnvironment({ stateDir });
    try {
      // assess: the stores
      const after = await snapshotStores(env.dataMap, env.clients);
      if (trial.type === 'erasure') {
        const wrong = [...before.values()].flatMap(
          (entry) => erasureMismatch(trial.subject, entry, after.get(entry.id)) ?? [],
        );
        const appeared = [...after.keys()].filter((id) => !before.has(id));
        expect({ wrong, appeared }).toEqual({ wrong: [], appeared: [] });
      } else {
        expect(after).toEqual(before);
        const path = summary.export?.path;
        expect({ exportPath: typeof path }).toEqual({ exportPath: 'string' });
        expect(exportMismatches(await unzip(readFileSync(path!)), before, trial.subject)).toEqual([]);
      }

      // assess: lethe's own records: no lock, no identifier, a whole audit chain
      const items = await env.deps.doc.send(new ScanCommand({ TableName: env.deps.resources.requestsTable }));
      const locks = (items.Items ?? []).filter((item) => item.recordType === 'lock');
      expect({ locks }).toEqual({ locks: [] });
      const audit = await readAuditEvents({ doc: env.deps.doc, auditTable: env.deps.resources.auditTable });
      expect({ breaks: chainBreaks(audit) }).toEqual({ breaks: [] });
      const ofRequest = audit.filter((event) => event.requestId === fulfilled).map((event) => event.type);
      expect({
        received: ofRequest.includes('request.received'),
        completed: ofRequest.filter((type) => type === 'request.completed').length,
      }).toEqual({ received: true, completed: 1 });
      expect({
        identifiersInRecords: holdsIdentifier(JSON.stringify(items.Items), values),
        identifiersInAudit: holdsIdentifier(JSON.stringify(audit), values),
      }).toEqual({ identifiersInRecords: false, identifiersInAudit: false });
    } finally {
      await env.close();
    }
  }
});

type ExampleStore = (typeof dataMap)['stores'][number];
/** A store whose export holds the records themselves (items, lines), not files. */
function holdsRecords(store: ExampleStore): boolean {
  return store.kind === 'dynamodb' || store.locate.some((rule) => 'jsonLines' in rule);
}
/** A store of Parquet rows: exported as records too. */
function isParquet(store: ExampleStore): boolean {
  return store.kind === 's3' && store.locate.some((rule) => 'parquet' in rule);
}
