import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { AdtechSeed, SeedSubject } from '../../examples/adtech/seed';
import type { StoredAnchor } from '../../lib/audit/anchor';
import { type AuditEvent, auditDepsOf, readAuditEvents } from '../../lib/audit/log';
import type { PeriodReport } from '../../lib/audit/report';
import type { TimelineEntry } from '../../lib/audit/timeline';
import type { ChainVerification } from '../../lib/audit/verify';
import { openLocalEnvironment } from '../../lib/local/environment';
import type { CheckedCertificate } from '../../lib/rights/certificate-check';
import type { ErasureCertificate } from '../../lib/rights/confirm';
import type { RequestRecord } from '../../lib/rights/request';
import type { RequestSummary } from '../../lib/rights/summary';
import { type CliRun, includeAllInReview, lethe, requestSubmitArgs, seedStateDir } from '../helpers/cli';
import { exampleDataMap, exampleSeed, identifierValues } from '../helpers/world';

/**
 * What an auditor does from the CLI alone, on a local state directory where requests and a sweep
 * ran: verify the chain and its anchors, take an anchor, and find tampering named.
 */
describe('lethe audit, end to end', () => {
  let root: string;
  let stateDir: string;
  let seed: AdtechSeed;
  let erased: SeedSubject;
  let accessed: SeedSubject;
  let erasureId: string;
  let accessId: string;
  let sweepId: string;
  const outputs: string[] = [];
  const run = async (args: string[]): Promise<CliRun> => {
    const result = await lethe([...args, '--state-dir', stateDir]);
    outputs.push(result.out, result.err);
    return result;
  };

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'lethe-audit-e2e-'));
    stateDir = join(root, 'state');
    seed = exampleSeed(6, 3);
    [erased, accessed] = seed.subjects as [SeedSubject, SeedSubject];
    await seedStateDir(stateDir, seed);
    const erasure = await lethe(requestSubmitArgs(stateDir, 'erasure', [`email=${erased.email}`]));
    const access = await lethe(requestSubmitArgs(stateDir, 'access', [`email=${accessed.email}`]));
    // records only claimed links reach wait for review: the desk includes them, as the seed says they are theirs
    erasureId = (await includeAllInReview(stateDir, JSON.parse(erasure.out) as RequestSummary)).requestId;
    accessId = (await includeAllInReview(stateDir, JSON.parse(access.out) as RequestSummary)).requestId;
    const sweep = await lethe(['sweep', '--now', '2027-11-01T03:00:00Z', '--state-dir', stateDir, '--json']);
    expect([erasure.code, access.code, sweep.code]).toEqual([0, 0, 0]);
    sweepId = (JSON.parse(sweep.out) as { sweepId: string }).sweepId;
  });

  afterAll(() => {
    // No output of any audit command names a subject.
    const text = outputs.join('\n').toLowerCase();
    for (const value of [...identifierValues(erased), ...identifierValues(accessed)])
      expect(text).not.toContain(value.toLowerCase());
    rmSync(root, { recursive: true, force: true });
  });

  async function auditEvents(): Promise<AuditEvent[]> {
    const env = await openLocalEnvironment({ stateDir });
    try {
      return await readAuditEvents(auditDepsOf(env.deps));
    } finally {
      await env.close();
    }
  }

  it('every step of a request and of the sweep is in the chain, subjects only as keyed hashes', async () => {
    // act
    const events = await auditEvents();

    // assess
    const typesOf = (requestId: string) => events.filter((e) => e.requestId === requestId).map((e) => e.type);
    const count = (types: string[], type: string) => types.filter((t) => t === type).length;
    const stores = exampleDataMap().stores.length;
    const erasure = typesOf(erasureId);
    expect([erasure[0], erasure.at(-1)]).toEqual(['request.received', 'request.completed']);
    expect(erasure).toEqual(
      expect.arrayContaining(['request.verified', 'request.confirmed', 'request.certificate-issued']),
    );
    expect(count(erasure, 'request.erased')).toBe(stores);
    expect(count(erasure, 'request.located') % stores).toBe(0);
    expect(erasure.indexOf('request.certificate-issued')).toBeGreaterThan(
      erasure.lastIndexOf('request.erased'),
    );
    const access = typesOf(accessId);
    expect([access[0], access.at(-1)]).toEqual(['request.received', 'request.completed']);
    expect(count(access, 'request.exported')).toBe(1);
    expect(count(access, 'request.erased')).toBe(0);
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(['sweep.started', 'sweep.completed']));
    for (const event of events.filter((e) => e.requestId))
      expect(event.subjectHashes?.every((hash) => hash.startsWith('hs256:'))).toBe(true);
    const text = JSON.stringify(events).toLowerCase();
    for (const value of [...identifierValues(erased), ...identifierValues(accessed)])
      expect(text).not.toContain(value.toLowerCase());
  });

  it('verify: the chain is intact and agrees with the anchor the sweep took', async () => {
    // act
    const result = await run(['audit', 'verify', '--json']);
    const text = await run(['audit', 'verify']);

    // assess
    expect({ code: result.code, err: result.err }).toEqual({ code: 0, err: '' });
    const verification = JSON.parse(result.out) as ChainVerification;
    expect(verification).toMatchObject({ ok: true, problem: null });
    expect(verification.anchors.checked).toBe(1);
    expect(verification.head?.seq).toBe((await auditEvents()).length);
    expect(text.out).toMatch(/^Audit log intact: events 1 to \d+ verified/);
  });

  it('anchor: writes the head on demand, and verify checks it too', async () => {
    // act
    const anchored = await run(['audit', 'anchor', '--by', 'auditor', '--json']);
    const verified = await run(['audit', 'verify', '--json']);

    // assess
    expect(anchored.code).toBe(0);
    const anchor = JSON.parse(anchored.out) as StoredAnchor;
    expect(anchor).toMatchObject({ by: 'auditor', seq: (await auditEvents()).length });
    expect(JSON.parse(verified.out)).toMatchObject({ ok: true, anchors: { checked: 2 } });
  });

  it('verify exits 1 naming an edited event, and passes again once it is restored', async () => {
    // prepare
    const events = await auditEvents();
    const original = events.find((event) => event.type === 'request.erased') as AuditEvent;
    const env = await openLocalEnvironment({ stateDir });
    const put = (item: AuditEvent) =>
      env.deps.doc.send(new PutCommand({ TableName: env.deps.resources.auditTable, Item: item }));
    await put({ ...original, details: { ...original.details, erased: -1 } });
    await env.close();

    // act
    const tampered = await run(['audit', 'verify']);
    const restoreEnv = await openLocalEnvironment({ stateDir });
    await restoreEnv.deps.doc.send(
      new PutCommand({ TableName: restoreEnv.deps.resources.auditTable, Item: original }),
    );
    await restoreEnv.close();
    const restored = await run(['audit', 'verify', '--json']);

    // assess
    expect(tampered.code).toBe(1);
    expect(tampered.out).toContain(`Audit log NOT intact: edited at event ${original.seq}`);
    expect(restored.code).toBe(0);
  });

  it('timeline: the execution states and the audit events of a request, in time order, with counts and durations', async () => {
    // act
    const result = await run(['audit', 'timeline', erasureId, '--json']);
    const text = await run(['audit', 'timeline', erasureId]);

    // assess
    expect({ code: result.code, err: result.err }).toEqual({ code: 0, err: '' });
    const { entries } = JSON.parse(result.out) as { entries: TimelineEntry[] };
    const times = entries.map((entry) => Date.parse(entry.at));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    const audited = entries.filter((entry) => entry.source === 'audit').map((entry) => entry.what);
    expect(audited[0]).toBe('request.received');
    expect(audited.at(-1)).toBe('request.completed');
    expect(audited).toContain('request.certificate-issued');
    expect(entries.some((entry) => entry.what === 'StateExited Confirm' && entry.durationMs !== null)).toBe(
      true,
    );
    const erasedEntries = entries.filter((entry) => entry.what === 'request.erased');
    expect(erasedEntries.every((entry) => entry.storeId !== null && 'erased' in entry.counts)).toBe(true);
    expect(entries.find((entry) => entry.what === 'request.received')?.actor).toBe('privacy-desk');
    expect(text.out).toContain(`Timeline of ${erasureId}`);
  });

  it('timeline of a sweep: its execution states and its audit events, page by page, with counts and durations', async () => {
    // act
    const result = await run(['audit', 'timeline', sweepId, '--json']);
    const text = await run(['audit', 'timeline', sweepId]);

    // assess
    expect({ code: result.code, err: result.err }).toEqual({ code: 0, err: '' });
    const output = JSON.parse(result.out) as { sweepId: string; entries: TimelineEntry[] };
    expect(output.sweepId).toBe(sweepId);
    const times = output.entries.map((entry) => Date.parse(entry.at));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    const audited = output.entries.filter((entry) => entry.source === 'audit');
    expect(audited[0]?.what).toBe('sweep.started');
    expect(audited.at(-1)?.what).toBe('sweep.completed');
    const pages = audited.filter((entry) => entry.what === 'sweep.page');
    expect(pages.length).toBeGreaterThan(0);
    expect(pages.every((entry) => entry.storeId !== null && 'purged' in entry.counts)).toBe(true);
    expect(
      output.entries.some(
        (entry) => entry.what.endsWith('StateExited SweepPage') && entry.durationMs !== null,
      ),
    ).toBe(true);
    expect(text.out).toContain(`Timeline of sweep ${sweepId}`);
  });

  it('timeline: an id no request or sweep has is refused (exit 2)', async () => {
    // act
    const result = await run(['audit', 'timeline', 'nothing-by-this-id']);

    // assess
    expect(result.code).toBe(2);
    expect(result.err).toContain('no request or sweep nothing-by-this-id is known');
  });

  it('certificate: valid, its digest recomputed and backed by the audit events, written with --out', async () => {
    // prepare
    const out = join(root, 'certificate.json');

    // act
    const result = await run(['request', 'certificate', erasureId, '--out', out]);

    // assess
    expect({ code: result.code, err: result.err }).toEqual({ code: 0, err: '' });
    expect(result.out).toContain('VALID');
    const written = JSON.parse(readFileSync(out, 'utf8')) as CheckedCertificate;
    outputs.push(readFileSync(out, 'utf8'));
    expect(written).toMatchObject({ ok: true, issuedEventMatches: true, digest: { matches: true } });
    expect(written.backedBy.map((event) => event.type)).toContain('request.certificate-issued');
  });

  it('certificate: exit 1 when the certificate in the record was altered; exit 2 for a request without one', async () => {
    // prepare
    const env = await openLocalEnvironment({ stateDir });
    const table = env.deps.resources.requestsTable;
    const original = (
      await env.deps.doc.send(new GetCommand({ TableName: table, Key: { requestId: erasureId } }))
    ).Item as RequestRecord;
    const certificate = original.certificate as ErasureCertificate;
    const altered = {
      ...certificate,
      stores: certificate.stores.map((store) => ({ ...store, remaining: 0, erased: store.erased + 1 })),
    };
    await env.deps.doc.send(
      new PutCommand({ TableName: table, Item: { ...original, certificate: altered } }),
    );
    await env.close();

    // act
    const tampered = await run(['request', 'certificate', erasureId, '--json']);
    const restore = await openLocalEnvironment({ stateDir });
    await restore.deps.doc.send(new PutCommand({ TableName: table, Item: original }));
    await restore.close();
    const none = await run(['request', 'certificate', accessId]);

    // assess
    expect(tampered.code).toBe(1);
    expect(JSON.parse(tampered.out)).toMatchObject({ ok: false, digest: { matches: false } });
    expect(none.code).toBe(2);
    expect(none.err).toContain('has no erasure certificate');
  });

  it('report: the period report in JSON, CSV and HTML, with the same figures and no identifier', async () => {
    // prepare
    const file = (format: string) => join(root, `report.${format}`);
    const period = ['--from', '2020-01-01', '--to', '2100-01-01'];

    // act
    const runs: CliRun[] = [];
    // one command at a time: a state directory has one opener
    for (const format of ['json', 'csv', 'html'])
      runs.push(
        await run(['audit', 'report', ...period, '--format', format, '--out', file(format), '--json']),
      );

    // assess
    expect(runs.map((result) => result.code)).toEqual([0, 0, 0]);
    const json = JSON.parse(readFileSync(file('json'), 'utf8')) as PeriodReport;
    const csv = readFileSync(file('csv'), 'utf8');
    const html = readFileSync(file('html'), 'utf8');
    outputs.push(JSON.stringify(json), csv, html);
    expect(json.totals).toMatchObject({ received: 2, completed: 2, denied: 0, open: 0 });
    expect(json.byType.erasure?.received).toBe(1);
    expect(json.sweeps.length).toBeGreaterThan(0);
    expect(csv).toContain(`all,all,2,2,0,`);
    expect(csv).toContain(erasureId);
    expect(html).toContain('<svg ');
    expect(html).toContain(`<td>${accessId}</td>`);
  });

  it('refuses a --from that is not a sequence number (exit 2)', async () => {
    // act
    const result = await run(['audit', 'verify', '--from', 'yesterday']);

    // assess
    expect(result.code).toBe(2);
    expect(result.err).toContain('--from must be a whole number');
  });
});
