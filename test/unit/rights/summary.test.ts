import type { RequestRecord } from '../../../lib/rights/request';
import { summariseRequest } from '../../../lib/rights/summary';

const EMAIL = 'ada.lovelace@example.com';
const PHONE = '+4930123456';
const COOKIE = '5dfa9377-e875-4b59-a352-19a94559508b';
const USER_ID = 'u-0123abcd';
/** What the record says of the export package, and the summary repeats. */
const PACKAGE = { sha256: 'a'.repeat(64), bytes: 18_432, expiresAt: '2026-02-09T09:00:00.000Z' };

/** An in-flight record that still holds the raw identities, with every optional field set. */
function inFlightRecord(): RequestRecord {
  return {
    requestId: 'req-2026-0001',
    type: 'access',
    jurisdiction: 'gdpr',
    channel: 'web',
    status: 'completed',
    receivedAt: '2026-01-31T10:00:00.000Z',
    dueAt: '2026-02-28T10:00:00.000Z',
    verification: { method: 'email-confirmation', verifiedBy: 'J. Doe', evidenceRef: 'TICKET-42' },
    submittedBy: 'privacy-desk',
    subject: [
      { type: 'email', value: EMAIL },
      { type: 'phone', value: PHONE },
    ],
    identities: [
      { type: 'cookieId', value: COOKIE },
      { type: 'userId', value: USER_ID },
    ],
    subjectHashes: ['hmac-1f2e3d', 'hmac-4c5b6a'],
    statusHistory: [
      { status: 'received', at: '2026-01-31T10:00:00.000Z', by: 'privacy-desk', note: `from ${EMAIL}` },
      { status: 'completed', at: '2026-02-02T09:00:00.000Z', by: 'lethe:outcome' },
    ],
    stores: [
      { store: 'contacts', located: 2, exported: 2, erased: 0, masked: 0, exempted: 0, remaining: 2 },
      { store: 'ad-events', located: 7, exported: 7, erased: 0, masked: 0, exempted: 0, remaining: 7 },
    ],
    export: { bucket: 'lethe-exports', key: `exports/req-2026-0001/${USER_ID}.zip`, ...PACKAGE },
    certificate: { certificateId: 'cert-1', digest: 'b'.repeat(64) },
    error: { code: 'ExportMismatchError', message: 'export incomplete', state: 'Confirm' },
    reason: 'subject asked twice',
    completedAt: '2026-02-02T09:00:00.000Z',
    executionArn: 'arn:aws:states:eu-west-1:123456789012:execution:lethe:req-2026-0001',
    attempt: 2,
    duplicateOf: 'req-2026-0000',
  };
}

/** The least a record holds: no optional field set. */
function bareRecord(): RequestRecord {
  return {
    requestId: 'req-2026-0002',
    type: 'erasure',
    jurisdiction: 'ccpa',
    channel: 'api',
    status: 'received',
    receivedAt: '2026-03-01T12:00:00.000Z',
    dueAt: '2026-04-15T12:00:00.000Z',
    subjectHashes: [],
    statusHistory: [],
  };
}

describe('summariseRequest', () => {
  it('gives exactly the summary fields, with the export where the caller says it is', () => {
    // prepare
    const record = inFlightRecord();
    const location = { path: '/tmp/lethe/exports/req-2026-0001.zip', url: null };

    // act
    const summary = summariseRequest(record, location);

    // assess
    expect(summary).toStrictEqual({
      requestId: 'req-2026-0001',
      type: 'access',
      status: 'completed',
      jurisdiction: 'gdpr',
      receivedAt: '2026-01-31T10:00:00.000Z',
      dueAt: '2026-02-28T10:00:00.000Z',
      completedAt: '2026-02-02T09:00:00.000Z',
      stores: record.stores,
      export: { path: '/tmp/lethe/exports/req-2026-0001.zip', url: null, ...PACKAGE, deletedAt: null },
      certificate: { certificateId: 'cert-1', digest: 'b'.repeat(64) },
      error: { code: 'ExportMismatchError', message: 'export incomplete', state: 'Confirm' },
      reason: 'subject asked twice',
      attempt: 2,
      duplicateOf: 'req-2026-0000',
      review: null,
      caveats: [],
    });
  });

  it('carries no subject identity, verification evidence or export bucket and key', () => {
    // prepare
    const record = inFlightRecord();

    // act
    const text = JSON.stringify(summariseRequest(record, { path: null, url: 'https://exports.example/x' }));

    // assess: the record itself holds each of these, so the check is not vacuous
    const recordText = JSON.stringify(record);
    for (const secret of [EMAIL, PHONE, COOKIE, USER_ID, 'lethe-exports', 'TICKET-42']) {
      expect(recordText).toContain(secret);
      expect(text).not.toContain(secret);
    }
  });

  it.each([
    [
      'a pre-signed URL',
      { path: null, url: 'https://exports.example/req-2026-0001.zip?X-Amz-Signature=abc' },
    ],
    ['a local path', { path: '/tmp/lethe/exports/req-2026-0001.zip', url: null }],
    ['both', { path: '/tmp/lethe/exports/req-2026-0001.zip', url: 'https://exports.example/x.zip' }],
    ['no location (as in a listing)', undefined],
  ])('takes the export location from the caller (%s), the rest from the record', (_case, location) => {
    // prepare
    const record = inFlightRecord();

    // act
    const summary = summariseRequest(record, location);

    // assess
    expect(summary.export).toStrictEqual({
      path: location?.path ?? null,
      url: location?.url ?? null,
      ...PACKAGE,
      deletedAt: null,
    });
  });

  it('gives no path or link for a package a later erasure deleted, and says when', () => {
    // prepare
    const record: RequestRecord = { ...inFlightRecord(), exportDeletedAt: '2026-03-01T00:00:00.000Z' };

    // act
    const summary = summariseRequest(record, { path: '/tmp/gone.zip', url: 'https://gone.example' });

    // assess
    expect(summary.export).toStrictEqual({
      path: null,
      url: null,
      ...PACKAGE,
      deletedAt: '2026-03-01T00:00:00.000Z',
    });
  });

  it.each([
    ['absent', undefined],
    ['null', null],
  ])('reports no export when the record has none (%s), whatever location is given', (_case, exported) => {
    // prepare
    const record: RequestRecord = { ...inFlightRecord(), export: exported };

    // act
    const summary = summariseRequest(record, { path: '/tmp/stale.zip', url: 'https://stale.example' });

    // assess
    expect(summary.export).toBeNull();
  });

  it('gives null (and no stores) for everything a new request does not have yet', () => {
    // prepare
    const record = bareRecord();

    // act
    const summary = summariseRequest(record, null);

    // assess
    expect(summary).toStrictEqual({
      requestId: 'req-2026-0002',
      type: 'erasure',
      status: 'received',
      jurisdiction: 'ccpa',
      receivedAt: '2026-03-01T12:00:00.000Z',
      dueAt: '2026-04-15T12:00:00.000Z',
      completedAt: null,
      stores: [],
      export: null,
      certificate: null,
      error: null,
      reason: null,
      attempt: 1,
      duplicateOf: null,
      review: null,
      caveats: [],
    });
  });

  it('shows what waits for review, and the command that decides it, only while the request waits', () => {
    // prepare: a request paused for review, then the same after staff decided
    const path = {
      from: { identity: 'email', hash: `hs256:${'1'.repeat(64)}` },
      steps: [
        {
          store: 'inquiries',
          attribute: 'phone',
          identity: 'phone',
          hash: `hs256:${'2'.repeat(64)}`,
          trust: 'claimed' as const,
        },
      ],
    };
    const waiting: RequestRecord = {
      ...bareRecord(),
      status: 'pending-review',
      review: {
        attempt: 1,
        requestedAt: '2026-03-01T12:01:00.000Z',
        stores: [{ store: 'call-recordings', records: 3, paths: [path] }],
      },
    };
    const decision = {
      store: 'call-recordings',
      decision: 'exclude' as const,
      by: 'J. Doe',
      at: '2026-03-02T09:00:00.000Z',
      attempt: 1,
    };
    const decided: RequestRecord = { ...waiting, status: 'completed', reviewDecisions: [decision] };

    // act
    const whileWaiting = summariseRequest(waiting);
    const afterwards = summariseRequest(decided);

    // assess
    expect(whileWaiting.review).toStrictEqual({
      stores: [{ store: 'call-recordings', records: 3, paths: [path] }],
      decisions: [],
      command:
        'lethe request review req-2026-0002 --include STORE... --exclude STORE... --by NAME [--note TEXT]',
    });
    expect(afterwards.review).toStrictEqual({
      stores: [{ store: 'call-recordings', records: 3, paths: [path] }],
      decisions: [decision],
      command: null,
    });
  });

  it('keeps an explicit null error as null', () => {
    // prepare
    const record: RequestRecord = { ...bareRecord(), error: null };

    // act
    const summary = summariseRequest(record);

    // assess
    expect(summary.error).toBeNull();
    expect(Object.keys(summary)).toContain('error');
  });
});
