import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { auditDepsOf, readAuditEvents } from '../../../lib/audit/log';
import { verifyAuditChain } from '../../../lib/audit/verify';
import { LocalSweepRunner } from '../../../lib/local/sweep-runner';
import { indexExport } from '../../../lib/rights/earlier-exports';
import { closeRequest } from '../../../lib/rights/lifecycle';
import { recordFailure } from '../../../lib/rights/outcome';
import { purgeExpiredRequestRecords } from '../../../lib/rights/record-expiry';
import { findRequest, updateRequest } from '../../../lib/rights/requests-table';
import { verifyRequest } from '../../../lib/rights/verify';
import { exampleEnvironment } from '../../helpers/environment';
import { submitErasure } from '../../helpers/requests';

/**
 * lethe's own records expire: the record of a request that ended is kept 24 months (by default),
 * then the retention sweep deletes it with a `request.purged` audit event, and any export package
 * of it still stored goes with it. Requests not over, or over more recently, are left alone.
 */
describe('request records past their retention', () => {
  let clock = new Date('2024-01-01T00:00:00Z');
  const environment = exampleEnvironment('lethe-record-expiry-', () => clock);
  let n = 0;

  /** A request received and ended (failed, then closed by staff) at the clock's time. */
  async function endedRequest(): Promise<string> {
    const requestId = await failedRequest();
    await closeRequest(environment().deps, requestId, 'desk', 'the requester withdrew it');
    return requestId;
  }
  /** A request received at the clock's time and left failed: not over, whatever its age. */
  async function failedRequest(): Promise<string> {
    n += 1;
    const { requestId } = await submitErasure(environment(), [
      { type: 'email', value: `expiry${n}@example.com` },
    ]);
    await verifyRequest(environment().deps, requestId);
    await recordFailure(environment().deps, { requestId, failure: { error: 'X' } });
    return requestId;
  }

  it('deletes the records of requests ended more than 24 months ago, audited, with their export package; a dry run only counts', async () => {
    const env = environment();
    // prepare: two requests ended on 2024-01-01, one of them with its export package still stored;
    // one left failed that day; one ended on 2024-06-01
    clock = new Date('2024-01-01T00:00:00Z');
    const old = [await endedRequest(), await endedRequest()];
    const unfinished = await failedRequest();
    const exportKey = `exports/${old[0]}.zip`;
    const bucket = env.deps.resources.exportsBucket;
    await env.deps.clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: exportKey, Body: 'zip' }));
    await updateRequest(env.deps, old[0] as string, {
      by: 'test',
      set: {
        export: {
          bucket,
          key: exportKey,
          expiresAt: '2024-01-02T00:00:00Z',
          sha256: 'ab'.repeat(32),
          bytes: 3,
        },
      },
    });
    clock = new Date('2024-06-01T00:00:00Z');
    const recent = await endedRequest();
    // 24 months (730 days) after 2024-01-01 is 2025-12-31; 2026-01-05 is past it, not for 2024-06-01
    const now = new Date('2026-01-05T00:00:00Z');
    clock = now;

    // act
    const dry = await purgeExpiredRequestRecords(env.deps, { now, dryRun: true });
    const keptByDryRun = await Promise.all(old.map((id) => findRequest(env.deps, id)));
    const result = await purgeExpiredRequestRecords(env.deps, { now, dryRun: false });

    // assess
    expect({ ...dry, requestIds: [...dry.requestIds].sort() }).toEqual({
      purged: 0,
      wouldPurge: 2,
      requestIds: [...old].sort(),
    });
    expect(keptByDryRun.every((record) => record !== undefined)).toBe(true);
    expect({ ...result, requestIds: [...result.requestIds].sort() }).toEqual({
      purged: 2,
      wouldPurge: 0,
      requestIds: [...old].sort(),
    });
    for (const id of old) expect(await findRequest(env.deps, id)).toBeUndefined();
    expect((await findRequest(env.deps, recent))?.status).toBe('closed');
    expect((await findRequest(env.deps, unfinished))?.status).toBe('failed');
    await expect(
      env.deps.clients.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: exportKey })),
    ).rejects.toMatchObject({ name: 'NotFound' });
    const events = await readAuditEvents(auditDepsOf(env.deps));
    const purged = events.filter((event) => event.type === 'request.purged');
    expect(purged.map((event) => event.requestId).sort()).toEqual([...old].sort());
    expect(purged[0]).toMatchObject({
      actor: 'lethe:sweep',
      details: {
        requestType: 'erasure',
        jurisdiction: 'gdpr',
        status: 'closed',
        receivedAt: '2024-01-01T00:00:00.000Z',
        keptDays: 730,
      },
    });
    expect(purged.every((event) => event.subjectHashes?.every((hash) => hash.startsWith('hs256:')))).toBe(
      true,
    );
    expect(JSON.stringify(purged)).not.toContain('@example.com');
    // the request's own events stay in the chain: what happened is still provable
    expect(events.filter((event) => event.requestId === old[0]).map((event) => event.type)).toEqual(
      expect.arrayContaining(['request.received', 'request.closed', 'request.purged']),
    );
    expect(await verifyAuditChain(auditDepsOf(env.deps), [])).toMatchObject({ ok: true });
  });

  it('honours a configured period, and runs with every retention sweep', async () => {
    const env = environment();
    // prepare: the request ended on 2024-06-01 is kept 730 days, but not 365
    const recent = (await purgeExpiredRequestRecords(env.deps, { now: clock, dryRun: true, keepDays: 365 }))
      .requestIds;
    const runner = new LocalSweepRunner({ ...env, deps: { ...env.deps, requestRecordDays: 365 } });

    // act
    const result = await runner.run({ now: clock.toISOString() });

    // assess
    expect(recent).toHaveLength(1);
    expect(result.status).toBe('SUCCEEDED');
    expect(await findRequest(env.deps, recent[0] as string)).toBeUndefined();
    const events = await readAuditEvents(auditDepsOf(env.deps), { requestId: recent[0] as string });
    expect(events.at(-1)).toMatchObject({ type: 'request.purged', details: { keptDays: 365 } });
  });

  it('refuses a period that is not a whole number of days from 1', async () => {
    await expect(
      purgeExpiredRequestRecords(environment().deps, { now: clock, dryRun: true, keepDays: 0 }),
    ).rejects.toThrow('keepDays must be a whole number of days from 1');
  });
});

describe('the export index when request records expire', () => {
  let clock = new Date('2024-01-01T00:00:00Z');
  const environment = exampleEnvironment('lethe-record-expiry-index-', () => clock);
  let n = 0;

  /** A request ended at the clock's time whose export was indexed under these identities. */
  async function endedExport(emails: string[]): Promise<string> {
    n += 1;
    const { requestId } = await submitErasure(environment(), [
      { type: 'email', value: `own${n}@example.com` },
    ]);
    await verifyRequest(environment().deps, requestId);
    await recordFailure(environment().deps, { requestId, failure: { error: 'X' } });
    await closeRequest(environment().deps, requestId, 'desk', 'the requester withdrew it');
    await indexExport(
      environment().deps,
      requestId,
      emails.map((value) => ({ type: 'email', value })),
    );
    return requestId;
  }
  async function indexItems(): Promise<Record<string, unknown>[]> {
    const env = environment();
    const page = await env.deps.doc.send(
      new ScanCommand({ TableName: env.deps.resources.requestsTable, ConsistentRead: true }),
    );
    return (page.Items ?? []).filter((item) => item.recordType === 'export-index');
  }

  it('takes a purged record out of the index, and drops items that point to no request', async () => {
    const env = environment();
    // prepare: two exports ended on 2024-01-01 (one only of a person nobody else exported), one
    // on 2024-06-01 of the shared person
    clock = new Date('2024-01-01T00:00:00Z');
    const old = [
      await endedExport(['shared@example.com', 'alone@example.com']),
      await endedExport(['shared@example.com']),
    ];
    clock = new Date('2024-06-01T00:00:00Z');
    const recent = await endedExport(['shared@example.com']);
    const before = await indexItems();
    const now = new Date('2026-01-05T00:00:00Z');
    clock = now;

    // act
    const result = await purgeExpiredRequestRecords(env.deps, { now, dryRun: false });
    const again = await purgeExpiredRequestRecords(env.deps, { now, dryRun: false });

    // assess
    expect([...result.requestIds].sort()).toEqual([...old].sort());
    expect(again.purged).toBe(0);
    expect(before).toHaveLength(2);
    const after = await indexItems();
    expect(after).toHaveLength(1);
    expect([...((after[0]?.requestIds as Set<string> | undefined) ?? [])]).toEqual([recent]);
    expect(JSON.stringify(after)).not.toContain('@example.com');
  });
});
