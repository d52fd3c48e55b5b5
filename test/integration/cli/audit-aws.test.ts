import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  ExecutionDoesNotExist,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  SFNClient,
} from '@aws-sdk/client-sfn';
import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import type { StoredAnchor } from '../../../lib/audit/anchor';
import { AUDIT_STREAM, type AuditDeps, appendAuditEvent } from '../../../lib/audit/log';
import type { PeriodReport } from '../../../lib/audit/report';
import type { TimelineEntry } from '../../../lib/audit/timeline';
import type { ChainVerification } from '../../../lib/audit/verify';
import { createLetheDeps } from '../../../lib/deps';
import { createLetheResources, LOCAL_RESOURCES } from '../../../lib/local/environment';
import { createLocalClients } from '../../../lib/local/servers';
import { silentLogger } from '../../../lib/log';
import type { CheckedCertificate } from '../../../lib/rights/certificate-check';
import { certificateDigest, type ErasureCertificate } from '../../../lib/rights/confirm';
import type { RequestRecord } from '../../../lib/rights/request';
import { putNewRequest } from '../../../lib/rights/requests-table';
import { mockDeployedStack, STACK_STATE_MACHINE, stackClients } from '../../helpers/aws-stack';
import { lethe } from '../../helpers/cli';
import { useLocalStores } from '../../helpers/stores';
import { simulateVersionedBuckets } from '../../helpers/versioned-s3';
import { EXAMPLE_DATAMAP_PATH, exampleDataMap, SEED_NOW } from '../../helpers/world';

/**
 * `lethe audit anchor|verify|timeline|report --target aws`: the stack is found through
 * CloudFormation and execution histories come from Step Functions (both mocked, as they exist only
 * on AWS); the requests and audit tables are a real dynalite and the audit bucket a versioned
 * bucket simulated in front of s3rver, as the stack's bucket is versioned: verification reads every
 * version of every anchor, so one written over or hidden behind a delete marker still counts.
 */
describe('lethe audit --target aws', () => {
  const local = useLocalStores({ stores: [] });
  const cloudFormation = mockClient(CloudFormationClient);
  const secrets = mockClient(SecretsManagerClient);
  const sfn = mockClient(SFNClient);
  let deps: ReturnType<typeof createLetheDeps>;
  let outDir: string;
  const BUCKET = LOCAL_RESOURCES.auditBucket as string;
  let audit: AuditDeps;
  let versioned: ReturnType<typeof simulateVersionedBuckets>;
  let clients: ReturnType<typeof createLocalClients>;

  beforeAll(async () => {
    await createLetheResources(local.clients);
    clients = createLocalClients(local.servers);
    versioned = simulateVersionedBuckets(clients.s3, local.clients.s3, [BUCKET]);
    outDir = mkdtempSync(join(tmpdir(), 'lethe-audit-aws-'));
    deps = createLetheDeps({
      dataMap: exampleDataMap(),
      clients: local.clients,
      resources: LOCAL_RESOURCES,
      keys: { subjectHash: Buffer.alloc(32), mask: Buffer.alloc(32) },
      exportUrlTtlSeconds: 3600,
      now: () => SEED_NOW,
      log: silentLogger,
    });
    audit = { doc: deps.doc, auditTable: LOCAL_RESOURCES.auditTable, now: () => SEED_NOW };
    for (let index = 0; index < 6; index += 1)
      await appendAuditEvent(audit, { type: 'hold.placed', actor: 'desk', details: { index } });
  });

  afterAll(() => {
    rmSync(outDir, { recursive: true, force: true });
    versioned.remove();
    clients.dynamodb.destroy();
    clients.s3.destroy();
  });

  beforeEach(() => {
    cloudFormation.reset();
    secrets.reset();
    sfn.reset();
    mockDeployedStack('Acme', cloudFormation, secrets);
  });

  /** A lethe command against the mocked stack. */
  const onAws = (...args: string[]) =>
    lethe([...args, '--target', 'aws', '--stack', 'Acme', '--datamap', EXAMPLE_DATAMAP_PATH], {
      awsClients: stackClients({ dynamodb: local.clients.dynamodb, s3: clients.s3 }),
    });
  const run = (...args: string[]) => onAws('audit', ...args);

  it('anchors the head in the stack’s audit bucket and verifies the chain against every version of it', async () => {
    // act
    const anchored = await run('anchor', '--by', 'auditor', '--json');
    const verified = await run('verify', '--json');

    // assess
    expect({ code: anchored.code, err: anchored.err }).toEqual({ code: 0, err: '' });
    const anchor = JSON.parse(anchored.out) as StoredAnchor;
    expect(anchor).toMatchObject({ seq: 6, by: 'auditor' });
    expect(versioned.calls.ListObjectVersionsCommand).toBeGreaterThan(0);
    expect(JSON.parse(verified.out)).toMatchObject({ ok: true, anchors: { checked: 1 }, head: { seq: 6 } });
    expect(verified.code).toBe(0);
  });

  it('an anchor hidden behind a delete marker still binds the chain: a cut tail is found', async () => {
    // prepare
    const anchor = JSON.parse((await run('anchor', '--json')).out) as StoredAnchor;
    await clients.s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: anchor.key }));
    const key = { stream: AUDIT_STREAM, seq: anchor.seq };
    const head = (await audit.doc.send(new GetCommand({ TableName: audit.auditTable, Key: key }))).Item;
    await audit.doc.send(new DeleteCommand({ TableName: audit.auditTable, Key: key }));

    // act
    const verified = await run('verify', '--json');
    await audit.doc.send(new PutCommand({ TableName: audit.auditTable, Item: head }));

    // assess
    expect(verified.code).toBe(1);
    expect((JSON.parse(verified.out) as ChainVerification).problem).toMatchObject({
      kind: 'shorter-than-anchor',
      seq: anchor.seq,
      anchor: { key: anchor.key },
    });
  });

  it('an anchor written over keeps its first version: the forged one is named', async () => {
    // prepare: a new head anchored, then a forged version written over the anchor
    await appendAuditEvent(audit, { type: 'hold.released', actor: 'desk' });
    const anchor = JSON.parse((await run('anchor', '--json')).out) as StoredAnchor;
    await clients.s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: anchor.key,
        Body: JSON.stringify({ ...anchor, key: undefined, hash: 'e'.repeat(64) }),
      }),
    );

    // act
    const verified = await run('verify', '--json', '--from', String(anchor.seq));

    // assess
    expect(verified.code).toBe(1);
    const problem = (JSON.parse(verified.out) as ChainVerification).problem;
    expect(problem).toMatchObject({ kind: 'anchor-mismatch', seq: anchor.seq, anchor: { key: anchor.key } });
    expect(problem?.anchor?.versionId).not.toBe(
      (await versioned.versions(BUCKET, anchor.key)).at(-1)?.versionId,
    );
    expect(problem?.anchor?.hash).toBe('e'.repeat(64));
  });

  /** A request record as the workflow leaves it once ended: keyed hashes, dates, outcome; no identifier. */
  const endedRecord = (
    requestId: string,
    fields: Pick<RequestRecord, 'type' | 'jurisdiction' | 'status' | 'receivedAt' | 'dueAt' | 'completedAt'> &
      Partial<RequestRecord>,
  ): RequestRecord => ({
    requestId,
    channel: 'web',
    subjectHashes: [`hs256:${'cd'.repeat(32)}`],
    statusHistory: [{ status: fields.status, at: fields.completedAt as string, by: 'lethe:outcome' }],
    ...fields,
  });
  /** Appends an event as a step would at `at`. */
  const appendAt = (at: string, input: Parameters<typeof appendAuditEvent>[1]) =>
    appendAuditEvent({ ...audit, now: () => new Date(at) }, input);
  const sfnEvent = (id: number, at: string, type: string, details: Partial<HistoryEvent>): HistoryEvent => ({
    id,
    timestamp: new Date(at),
    type: type as HistoryEvent['type'],
    ...details,
  });

  it('timeline: the execution history from Step Functions merged with the audit events, in time order, with durations and counts', async () => {
    // prepare: an erasure that ran on AWS, its audit events, and its execution's history
    const requestId = 'aws-timeline-0001';
    await putNewRequest(
      deps,
      endedRecord(requestId, {
        type: 'erasure',
        jurisdiction: 'ccpa',
        status: 'completed',
        receivedAt: '2026-11-02T10:00:00.000Z',
        dueAt: '2026-12-17T10:00:00.000Z',
        completedAt: '2026-11-02T10:00:09.000Z',
      }),
    );
    await appendAt('2026-11-02T10:00:00.000Z', {
      type: 'request.received',
      actor: 'privacy-desk',
      requestId,
    });
    await appendAt('2026-11-02T10:00:05.000Z', {
      type: 'request.erased',
      actor: 'lethe:erase',
      requestId,
      details: { storeId: 'partner-contacts', erased: 2, masked: 1 },
    });
    await appendAt('2026-11-02T10:00:08.500Z', {
      type: 'request.completed',
      actor: 'lethe:outcome',
      requestId,
      details: { status: 'completed' },
    });
    await appendAt('2026-11-02T10:00:08.600Z', {
      type: 'request.received',
      actor: 'desk',
      requestId: 'other-0001',
    });
    sfn
      .on(GetExecutionHistoryCommand, {
        executionArn: `${STACK_STATE_MACHINE.replace(':stateMachine:', ':execution:')}:${requestId}`,
      })
      .resolves({
        events: [
          sfnEvent(1, '2026-11-02T10:00:00.200Z', 'ExecutionStarted', {
            executionStartedEventDetails: { input: JSON.stringify({ requestId, attempt: 1 }) },
          }),
          sfnEvent(2, '2026-11-02T10:00:01.000Z', 'TaskStateEntered', {
            stateEnteredEventDetails: { name: 'Verify', input: '{}' },
          }),
          sfnEvent(3, '2026-11-02T10:00:03.000Z', 'TaskStateExited', {
            stateExitedEventDetails: { name: 'Verify', output: '{}' },
          }),
          sfnEvent(4, '2026-11-02T10:00:04.000Z', 'TaskStateEntered', {
            stateEnteredEventDetails: { name: 'EraseStore', input: '{}' },
          }),
          sfnEvent(5, '2026-11-02T10:00:06.500Z', 'TaskStateExited', {
            stateExitedEventDetails: {
              name: 'EraseStore',
              output: JSON.stringify({ storeId: 'partner-contacts', erased: 2 }),
            },
          }),
          sfnEvent(6, '2026-11-02T10:00:09.000Z', 'ExecutionSucceeded', {
            executionSucceededEventDetails: { output: '{}' },
          }),
        ],
      });

    // act
    const result = await run('timeline', requestId, '--json');
    const text = await run('timeline', requestId);

    // assess
    expect({ code: result.code, err: result.err }).toEqual({ code: 0, err: '' });
    const { entries } = JSON.parse(result.out) as { entries: TimelineEntry[] };
    expect(entries.map((entry) => `${entry.source}: ${entry.what}`)).toEqual([
      'audit: request.received',
      'execution: ExecutionStarted',
      'execution: TaskStateEntered Verify',
      'execution: TaskStateExited Verify',
      'execution: TaskStateEntered EraseStore',
      'audit: request.erased',
      'execution: TaskStateExited EraseStore',
      'audit: request.completed',
      'execution: ExecutionSucceeded',
    ]);
    const exited = (state: string) => entries.find((entry) => entry.what === `TaskStateExited ${state}`);
    expect(exited('Verify')?.durationMs).toBe(2000);
    expect(exited('EraseStore')).toMatchObject({
      durationMs: 2500,
      storeId: 'partner-contacts',
      counts: { erased: 2 },
    });
    expect(entries.find((entry) => entry.what === 'request.erased')).toMatchObject({
      actor: 'lethe:erase',
      storeId: 'partner-contacts',
      counts: { erased: 2, masked: 1 },
    });
    expect(entries.find((entry) => entry.what === 'request.completed')?.outcome).toBe('completed');
    expect(text.out).toContain(`Timeline of ${requestId}`);
    expect(text.out).toContain('2500 ms');
  });

  it('timeline: a request whose record was purged still has its audit events; an unknown one is refused (exit 2)', async () => {
    // prepare: only the audit log knows this request now
    const requestId = 'aws-timeline-0002';
    await appendAt('2026-11-03T10:00:00.000Z', { type: 'request.received', actor: 'desk', requestId });
    await appendAt('2026-11-03T10:00:01.000Z', { type: 'request.purged', actor: 'lethe:sweep', requestId });

    // act
    const purged = await run('timeline', requestId, '--json');
    const unknown = await run('timeline', 'aws-timeline-9999', '--json');

    // assess
    expect(purged.code).toBe(0);
    const { entries } = JSON.parse(purged.out) as { entries: TimelineEntry[] };
    expect(entries.map((entry) => entry.what)).toEqual(['request.received', 'request.purged']);
    expect(sfn.commandCalls(GetExecutionHistoryCommand)).toHaveLength(0);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain('aws-timeline-9999');
  });

  it('timeline: a request older than the 90 days Step Functions keeps a history has its audit events', async () => {
    // prepare
    const requestId = 'aws-timeline-0003';
    await putNewRequest(
      deps,
      endedRecord(requestId, {
        type: 'access',
        jurisdiction: 'gdpr',
        status: 'completed',
        receivedAt: '2026-01-05T10:00:00.000Z',
        dueAt: '2026-02-05T10:00:00.000Z',
        completedAt: '2026-01-05T10:00:09.000Z',
      }),
    );
    await appendAt('2026-01-05T10:00:00.000Z', { type: 'request.received', actor: 'desk', requestId });
    await appendAt('2026-01-05T10:00:09.000Z', {
      type: 'request.completed',
      actor: 'lethe:outcome',
      requestId,
    });
    sfn
      .on(GetExecutionHistoryCommand)
      .rejects(new ExecutionDoesNotExist({ message: 'Execution Does Not Exist', $metadata: {} }));

    // act
    const result = await run('timeline', requestId, '--json');

    // assess
    expect({ code: result.code, err: result.err }).toEqual({ code: 0, err: '' });
    const { entries } = JSON.parse(result.out) as { entries: TimelineEntry[] };
    expect(entries.map((entry) => entry.what)).toEqual(['request.received', 'request.completed']);
    expect(sfn.commandCalls(GetExecutionHistoryCommand)).toHaveLength(1);
  });

  it('certificate: checked against its digest and the audit event that issued it, from the stack; exit 1 once altered', async () => {
    // prepare: an erasure's certificate in its record, and the event that issued it
    const requestId = 'aws-certificate-0001';
    const { digest: _digest, ...unsigned }: ErasureCertificate = {
      certificateId: 'cert-0001',
      requestId,
      requestType: 'erasure',
      jurisdiction: 'gdpr',
      subjectHashes: [`hs256:${'cd'.repeat(32)}`],
      receivedAt: '2026-11-04T10:00:00.000Z',
      erasedAt: '2026-11-04T10:00:06.000Z',
      issuedAt: '2026-11-04T10:00:07.000Z',
      dataMapDigest: 'ef'.repeat(32),
      stores: [
        {
          store: 'partner-contacts',
          located: 3,
          exported: 0,
          erased: 2,
          masked: 1,
          exempted: 0,
          remaining: 0,
          exemptions: [],
        },
      ],
      attempts: [],
      exportsDeleted: [],
      caveats: [],
      digest: '',
    };
    const certificate = { ...unsigned, digest: certificateDigest(unsigned) };
    const record = endedRecord(requestId, {
      type: 'erasure',
      jurisdiction: 'gdpr',
      status: 'completed',
      receivedAt: '2026-11-04T10:00:00.000Z',
      dueAt: '2026-12-04T10:00:00.000Z',
      completedAt: '2026-11-04T10:00:08.000Z',
      certificate,
    });
    await putNewRequest(deps, record);
    await appendAt('2026-11-04T10:00:07.000Z', {
      type: 'request.certificate-issued',
      actor: 'lethe:confirm',
      requestId,
      details: { certificateId: certificate.certificateId, digest: certificate.digest },
    });
    const out = join(outDir, 'certificate.json');

    // act
    const valid = await onAws('request', 'certificate', requestId, '--out', out);
    await deps.doc.send(
      new PutCommand({
        TableName: LOCAL_RESOURCES.requestsTable,
        Item: {
          ...record,
          recordType: 'request',
          certificate: { ...certificate, stores: [{ ...certificate.stores[0], erased: 3, masked: 0 }] },
        },
      }),
    );
    const altered = await onAws('request', 'certificate', requestId, '--json');

    // assess
    expect({ code: valid.code, err: valid.err }).toEqual({ code: 0, err: '' });
    expect(valid.out).toContain('VALID');
    const written = JSON.parse(readFileSync(out, 'utf8')) as CheckedCertificate;
    expect(written).toMatchObject({ ok: true, issuedEventMatches: true, digest: { matches: true } });
    expect(written.backedBy.map((event) => event.type)).toEqual(['request.certificate-issued']);
    expect(altered.code).toBe(1);
    expect(JSON.parse(altered.out)).toMatchObject({ ok: false, digest: { matches: false } });
  });

  it('report: the requests table and the sweeps of the stack, with the same figures in JSON, CSV and HTML', async () => {
    // prepare: in December 2026, one access request answered in 5 days, one erasure denied after
    // 1 day, one erasure still open a day after its due date (the backend's clock is the real one,
    // later than that); one sweep purged 65 records of a store, in two pages
    await putNewRequest(
      deps,
      endedRecord('aws-report-0001', {
        type: 'access',
        jurisdiction: 'ccpa',
        status: 'completed',
        receivedAt: '2026-12-01T00:00:00.000Z',
        dueAt: '2027-01-15T00:00:00.000Z',
        completedAt: '2026-12-06T00:00:00.000Z',
      }),
    );
    await putNewRequest(
      deps,
      endedRecord('aws-report-0002', {
        type: 'erasure',
        jurisdiction: 'gdpr',
        status: 'rejected',
        reason: 'identity not verified',
        receivedAt: '2026-12-02T00:00:00.000Z',
        dueAt: '2027-01-02T00:00:00.000Z',
        completedAt: '2026-12-03T00:00:00.000Z',
      }),
    );
    const { completedAt: _open, ...open } = endedRecord('aws-report-0003', {
      type: 'erasure',
      jurisdiction: 'gdpr',
      status: 'failed',
      receivedAt: '2026-12-01T12:00:00.000Z',
      dueAt: '2026-12-02T12:00:00.000Z',
      completedAt: '2026-12-04T00:00:00.000Z',
    });
    await putNewRequest(deps, open);
    const page = (purged: number) => ({
      type: 'sweep.page' as const,
      actor: 'lethe:sweep',
      details: {
        sweepId: 'scheduled-1',
        storeId: 'clickstream',
        page: 1,
        dryRun: false,
        purged,
        anonymised: 0,
      },
    });
    await appendAt('2026-12-05T03:00:00.000Z', page(25));
    await appendAt('2026-12-05T03:00:01.000Z', page(40));
    const file = (format: string) => join(outDir, `report.${format}`);

    // act
    const runs = [];
    for (const format of ['json', 'csv', 'html'])
      runs.push(
        await run(
          'report',
          '--from',
          '2026-12-01',
          '--to',
          '2027-01-01',
          '--format',
          format,
          '--out',
          file(format),
          '--json',
        ),
      );

    // assess
    expect(runs.map((result) => [result.code, result.err])).toEqual([
      [0, ''],
      [0, ''],
      [0, ''],
    ]);
    const report = JSON.parse(readFileSync(file('json'), 'utf8')) as PeriodReport;
    expect(report.requests.map((row) => [row.requestId, row.daysTaken, row.overdue])).toEqual([
      ['aws-report-0001', 5, false],
      ['aws-report-0003', null, true],
      ['aws-report-0002', 1, false],
    ]);
    expect(report.totals).toMatchObject({
      received: 3,
      completed: 1,
      denied: 1,
      deniedByReason: { 'identity not verified': 1 },
      overdue: 1,
      open: 1,
      medianDaysToRespond: 3,
      meanDaysToRespond: 3,
    });
    expect(report.sweeps).toEqual([
      { at: '2026-12-05T03:00:00.000Z', storeId: 'clickstream', purged: 65, anonymised: 0 },
    ]);
    const csv = readFileSync(file('csv'), 'utf8');
    expect(csv).toContain('all,all,3,1,1,1,1,3,3');
    expect(csv).toContain('identity not verified,1');
    const html = readFileSync(file('html'), 'utf8');
    expect(html).toContain(
      '<th scope="row">all</th><td>3</td><td>1</td><td>1</td><td>1</td><td>1</td><td>3</td><td>3</td>',
    );
    expect(html).toContain('clickstream');
    expect(JSON.parse(runs[0]?.out ?? '{}')).toMatchObject({ format: 'json', totals: { received: 3 } });
  });
});
