import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AdtechSeed, type SeedSubject, writeSeedFiles } from '../../examples/adtech/seed';
import { openLocalEnvironment } from '../../lib/local/environment';
import type { HistoryEvent } from '../../lib/local/execution';
import { submitRequest } from '../../lib/rights/submit';
import type { RequestSummary } from '../../lib/rights/summary';
import {
  includeAllInReview,
  initWithSeed,
  lethe,
  requestSubmitArgs,
  reviewIncludingAll,
  snapshotStateDir,
} from '../helpers/cli';
import {
  belongsTo,
  EXAMPLE_DATAMAP_PATH,
  exampleDataMap,
  exampleSeed,
  identifierValues,
  richestSubject,
  type SnapshotEntry,
} from '../helpers/world';
import { unzip } from '../helpers/zip';

const dataMap = exampleDataMap();

/** Everything in every store, read through a short-lived environment on the same state directory. */

describe('lethe CLI end to end: the synthesized state machine run locally', () => {
  let root: string;
  let stateDir: string;
  let seed: AdtechSeed;
  let subject: SeedSubject;
  const submitArgs = (type: string, extra: string[] = []) =>
    requestSubmitArgs(stateDir, type, [`email=${subject.email}`], extra);

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'lethe-e2e-'));
    stateDir = join(root, 'state');
    seed = exampleSeed(10, 3);
    subject = richestSubject(seed);
    const files = writeSeedFiles(seed, join(root, 'seed'));
    expect(await initWithSeed(stateDir, join(root, 'seed'))).toEqual([]);
    expect(files).toBeDefined();
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('answers an access request with exactly the seeded records of a subject known by email only', async () => {
    // prepare
    const before = await snapshotStateDir(stateDir);

    // act: the cookie ids and the phone come from the subject's inquiries (claimed links): the
    // records only they reach wait for review, and the desk includes them (the seed says they are hers)
    const run = await lethe(submitArgs('access'));
    const summary = await includeAllInReview(stateDir, JSON.parse(run.out) as RequestSummary);

    // assess
    expect(run.code).toBe(0);
    expect(summary).toMatchObject({ type: 'access', status: 'completed', error: null, certificate: null });
    const files = await unzip(readFileSync(summary.export!.path!));
    for (const store of dataMap.stores) {
      const expected = [...before.values()].filter(
        (entry) => entry.storeId === store.id && belongsTo(dataMap, subject, entry),
      );
      const data = JSON.parse(files.get(`data/${store.id}.json`)!.toString('utf8')) as {
        records: { key: unknown; data?: unknown; file?: string }[];
      };
      expect({ store: store.id, records: data.records.length }).toEqual({
        store: store.id,
        records: expected.length,
      });
      if (holdsRecords(store)) {
        const exported = data.records.map((record) => JSON.stringify(record.data)).sort();
        const seeded = expected.map((entry) => JSON.stringify(entry.record)).sort();
        expect(exported.map((text) => JSON.parse(text) as unknown)).toEqual(
          seeded.map((text) => JSON.parse(text) as unknown),
        );
      } else if (isParquet(store)) {
        // Rows (with 64-bit integers) are compared value for value in test/e2e/lake-parquet.test.ts.
        for (const record of data.records) expect(record.data).toBeDefined();
      } else {
        for (const record of data.records) expect(files.has(record.file!)).toBe(true);
      }
    }
    expect(summary.stores.every((store) => store.exported === store.located)).toBe(true);
    expect(await snapshotStateDir(stateDir)).toEqual(before);
  });

  it('runs an erasure across every store: only exemptions remain and everyone else is byte-for-byte unchanged', async () => {
    // prepare
    const before = await snapshotStateDir(stateDir);

    // act
    const run = await lethe(submitArgs('erasure'));
    const summary = await includeAllInReview(stateDir, JSON.parse(run.out) as RequestSummary);

    // assess
    expect(run.code).toBe(0);
    expect(summary.status).toBe('completed');
    expect(summary.stores.every((store) => store.remaining === 0)).toBe(true);
    const after = await snapshotStateDir(stateDir);
    for (const entry of before.values()) {
      const mine = belongsTo(dataMap, subject, entry);
      const record = entry.record as Record<string, unknown>;
      if (!mine) expect(after.get(entry.id)).toEqual(entry);
      else if (entry.storeId === 'partner-contacts' && record.role === 'billing')
        expect(after.get(entry.id)).toEqual(entry);
      else if (entry.storeId === 'partner-contacts')
        expect(after.get(entry.id)?.content).not.toBe(entry.content);
      else expect(after.has(entry.id)).toBe(false);
    }
    const remainingOfSubject = [...after.values()].filter(
      (entry) =>
        belongsTo(dataMap, subject, entry) &&
        !(
          entry.storeId === 'partner-contacts' && (entry.record as Record<string, unknown>).role === 'billing'
        ),
    );
    expect(remainingOfSubject).toEqual([]);
  });

  it('runs a request submitted twice under one request id once', async () => {
    // prepare
    const args = submitArgs('access', ['--request-id', 'same-request-0001']);
    const first = await lethe(args);
    const historyFile = join(stateDir, 'executions', 'same-request-0001.jsonl');
    const eventsAfterFirst = readFileSync(historyFile, 'utf8');

    // act
    const second = await lethe(args);

    // assess
    expect([first.code, second.code]).toEqual([0, 0]);
    expect(readFileSync(historyFile, 'utf8')).toBe(eventsAfterFirst);
    expect((JSON.parse(second.out) as RequestSummary).requestId).toBe('same-request-0001');
    const list = JSON.parse(
      (await lethe(['request', 'list', '--state-dir', stateDir, '--json'])).out,
    ) as RequestSummary[];
    expect(list.filter((entry) => entry.requestId === 'same-request-0001')).toHaveLength(1);
  });

  it('runs again a request whose process died mid-run, when it is submitted again', async () => {
    // prepare: a request recorded and started, whose history stops after ExecutionStarted
    const args = submitArgs('access', ['--request-id', 'crashed-request-0001']);
    const env = await openLocalEnvironment({ stateDir });
    await submitRequest(
      env.deps,
      { start: async ({ requestId }) => ({ executionId: requestId, alreadyStarted: false }) },
      {
        requestId: 'crashed-request-0001',
        type: 'access',
        subject: [{ type: 'email', value: subject.email }],
        jurisdiction: 'gdpr',
        channel: 'cli',
        verification: { method: 'other', verifiedBy: 'privacy-desk' },
        submittedBy: 'privacy-desk',
      },
    );
    await env.close();
    const historyFile = join(stateDir, 'executions', 'crashed-request-0001.jsonl');
    writeFileSync(
      historyFile,
      `${JSON.stringify({ at: new Date().toISOString(), type: 'ExecutionStarted' })}\n`,
    );

    // act
    const run = await lethe(args);

    // assess: the subject was erased above, so no claimed link is left to wait for review
    expect(run.code).toBe(0);
    expect((JSON.parse(run.out) as RequestSummary).status).toBe('completed');
    const types = readFileSync(historyFile, 'utf8')
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as HistoryEvent).type);
    expect(types.filter((type) => type === 'ExecutionAborted')).toHaveLength(1);
    expect(types.at(-1)).toBe('ExecutionSucceeded');
  });

  it('ends a request whose step fails as failed, with the failing state and error in its history', async () => {
    // prepare: the erase step of one store fails every time
    const other = seed.subjects.find(
      (candidate) => candidate !== subject && candidate.owns['ad-events'] > 0,
    )!;
    const faults = (state: string, payload: unknown) => {
      if (state === 'EraseStore' && (payload as { storeId?: string }).storeId === 'ad-events') {
        const error = new Error('simulated outage of the ad-events table');
        error.name = 'StoreUnavailableError';
        throw error;
      }
    };

    // act
    const run = await lethe(
      [
        'request',
        'submit',
        '--type',
        'erasure',
        '--subject',
        `email=${other.email}`,
        '--jurisdiction',
        'gdpr',
        '--verified-by',
        'desk',
        '--state-dir',
        stateDir,
        '--json',
      ],
      { faults },
    );
    // The erasure pauses for review before it erases anything; the reviewed attempt fails.
    const reviewed = await reviewIncludingAll(stateDir, JSON.parse(run.out) as RequestSummary, { faults });

    // assess
    expect(run.code).toBe(0);
    expect(reviewed.code).toBe(1);
    const summary = JSON.parse(reviewed.out) as RequestSummary;
    expect(summary.status).toBe('failed');
    expect(summary.error).toMatchObject({ code: 'StoreUnavailableError', state: 'EraseStores' });
    expect(summary.error!.message).toContain('simulated outage');
    const history = JSON.parse(
      (await lethe(['request', 'history', summary.requestId, '--state-dir', stateDir, '--json'])).out,
    ) as HistoryEvent[];
    expect(
      history.some((event) => event.state === 'EraseStore' && event.error === 'StoreUnavailableError'),
    ).toBe(true);
    expect(history.some((event) => event.state === 'RecordFailure' && event.type === 'StateExited')).toBe(
      true,
    );
    expect(history.at(-1)?.type).toBe('ExecutionFailed');
    // The failed request still holds the subject: a new request for them is told to retry it.
    const again = await lethe([
      'request',
      'submit',
      '--type',
      'erasure',
      '--subject',
      `email=${other.email}`,
      '--jurisdiction',
      'gdpr',
      '--verified-by',
      'desk',
      '--state-dir',
      stateDir,
      '--json',
    ]);
    const duplicate = JSON.parse(again.out) as RequestSummary;
    expect(duplicate).toMatchObject({ status: 'duplicate', duplicateOf: summary.requestId });
    expect(duplicate.reason).toContain(`lethe request retry ${summary.requestId}`);
    // Retrying finishes it from what it had resolved, and the certificate accounts for both attempts.
    const retried = await lethe([
      'request',
      'retry',
      summary.requestId,
      '--by',
      'desk',
      '--state-dir',
      stateDir,
      '--json',
    ]);
    expect(retried.code).toBe(0);
    const finished = JSON.parse(retried.out) as RequestSummary & {
      certificate: { attempts: { attempt: number; reason: string; failed: { code: string } | null }[] };
    };
    expect(finished).toMatchObject({ status: 'completed', attempt: 3 });
    expect(
      finished.certificate.attempts.map((attempt) => [
        attempt.attempt,
        attempt.reason,
        attempt.failed?.code ?? null,
      ]),
    ).toEqual([
      [1, 'submitted', null],
      [2, 'review', 'StoreUnavailableError'],
      [3, 'retry', null],
    ]);
    expect(finished.stores.find((store) => store.store === 'ad-events')).toMatchObject({ remaining: 0 });
    const retriedHistory = JSON.parse(
      (await lethe(['request', 'history', summary.requestId, '--state-dir', stateDir, '--json'])).out,
    ) as HistoryEvent[];
    expect(
      retriedHistory
        .filter((event) => event.type === 'ExecutionStarted')
        .map((event) => event.requestAttempt),
    ).toEqual([1, 2, 3]);
  });

  it('leaves no raw identifier of the subject in histories, logs, outputs or audit events', async () => {
    // prepare: the runs above are persisted under the state directory
    const histories = readdirSync(join(stateDir, 'executions')).map((file) =>
      readFileSync(join(stateDir, 'executions', file), 'utf8'),
    );
    const env = await openLocalEnvironment({ stateDir });
    const { ScanCommand } = await import('@aws-sdk/lib-dynamodb');
    const audit = await env.deps.doc.send(new ScanCommand({ TableName: env.deps.resources.auditTable }));
    const requests = await env.deps.doc.send(
      new ScanCommand({ TableName: env.deps.resources.requestsTable }),
    );
    await env.close();
    // One command at a time: like separate processes, two environments cannot share a state directory.
    const statusOutputs: string[] = [];
    for (const item of (requests.Items ?? []).filter((entry) => entry.recordType === 'request')) {
      statusOutputs.push(
        (await lethe(['request', 'status', String(item.requestId), '--state-dir', stateDir, '--json'])).out,
      );
    }

    // act
    const log = readFileSync(join(stateDir, 'lethe.log'), 'utf8');
    const haystack = [
      ...histories,
      log,
      JSON.stringify(audit.Items),
      JSON.stringify(requests.Items),
      ...statusOutputs,
    ]
      .join('\n')
      .toLowerCase();

    // assess
    expect(histories.length).toBeGreaterThanOrEqual(4);
    expect(log).toContain('store erased');
    expect(audit.Items!.length).toBeGreaterThanOrEqual(8);
    for (const value of identifierValues(subject)) expect(haystack).not.toContain(value.toLowerCase());
  });
});

describe('lethe CLI rejects bad input with exit code 2, a clear message, and no change', () => {
  let root: string;
  let stateDir: string;
  let before: Map<string, SnapshotEntry>;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'lethe-e2e-bad-'));
    stateDir = join(root, 'state');
    await lethe(['init', '--datamap', EXAMPLE_DATAMAP_PATH, '--state-dir', stateDir]);
    writeFileSync(
      join(root, 'inquiries.jsonl'),
      '{"email":"a@example.com","receivedAt":"2026-01-01T00:00:00Z"}\n{"email": broken\n',
    );
    before = await snapshotStateDir(stateDir);
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  const submit = (...args: string[]) => ['request', 'submit', '--state-dir', '', ...args];

  it.each([
    [
      'an unknown request type',
      () =>
        submit(
          '--type',
          'forget',
          '--subject',
          'email=a@example.com',
          '--jurisdiction',
          'gdpr',
          '--verified-by',
          'x',
        ),
      /forget.*(access|choices)/i,
    ],
    [
      'a malformed identity',
      () =>
        submit(
          '--type',
          'erasure',
          '--subject',
          'email=not-an-email',
          '--jurisdiction',
          'gdpr',
          '--verified-by',
          'x',
        ),
      /email identity is invalid/,
    ],
    [
      'an identity without TYPE=',
      () =>
        submit(
          '--type',
          'erasure',
          '--subject',
          'a@example.com',
          '--jurisdiction',
          'gdpr',
          '--verified-by',
          'x',
        ),
      /TYPE=VALUE/,
    ],
    [
      'an undeclared identity type',
      () =>
        submit(
          '--type',
          'erasure',
          '--subject',
          'passport=X1',
          '--jurisdiction',
          'gdpr',
          '--verified-by',
          'x',
        ),
      /unknown identity type/,
    ],
    [
      'a missing verifier',
      () => submit('--type', 'erasure', '--subject', 'email=a@example.com', '--jurisdiction', 'gdpr'),
      /--verified-by/,
    ],
    [
      'a missing data map',
      () => ['init', '--datamap', 'no/such/datamap.yaml', '--state-dir', ''],
      /file not found/,
    ],
    [
      'an unknown store',
      () => ['import', '--store', 'nope', '--file', 'x.jsonl', '--state-dir', ''],
      /unknown store "nope"/,
    ],
    [
      'a malformed JSON line',
      () => ['import', '--store', 'inquiries', '--file', '@root/inquiries.jsonl', '--state-dir', ''],
      /inquiries\.jsonl:2: not valid JSON/,
    ],
    [
      'a folder for a DynamoDB store',
      () => ['import', '--store', 'inquiries', '--dir', '@root', '--state-dir', ''],
      /DynamoDB store/,
    ],
    [
      'an unknown request id',
      () => ['request', 'status', 'no-such-request', '--state-dir', ''],
      /does not exist/,
    ],
  ])('%s', async (_name, args, message) => {
    // prepare
    const argv = args().map((arg) => (arg === '' ? stateDir : arg.replace('@root', root)));

    // act
    const run = await lethe(argv);

    // assess
    expect(run.code).toBe(2);
    expect(run.err).toMatch(message);
    expect(run.err.trim().split('\n').length).toBeLessThanOrEqual(2);
    expect(run.err).not.toMatch(/\n\s+at /); // no stack trace without --debug
    expect(await snapshotStateDir(stateDir)).toEqual(before);
    const list = JSON.parse(
      (await lethe(['request', 'list', '--state-dir', stateDir, '--json'])).out,
    ) as unknown[];
    expect(list).toEqual([]);
  });
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
