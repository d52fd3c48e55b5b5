import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectTaggingCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { AdtechSeed, SeedSubject } from '../../examples/adtech/seed';
import { canonicalJson } from '../../lib/audit/log';
import type { DataMap } from '../../lib/datamap/schema';
import { openLocalEnvironment } from '../../lib/local/environment';
import type { RequestSummary } from '../../lib/rights/summary';
import { lethe, requestSubmitArgs, seedStateDir, submitIncludingReview } from '../helpers/cli';
import {
  belongsTo,
  changedAttributes,
  exampleDataMap,
  exampleSeed,
  identifierValues,
  richestSubject,
  type SnapshotEntry,
  snapshotStores,
} from '../helpers/world';

/**
 * Rectification, restriction, its lift and objection, end to end through the locally run state
 * machine on the adtech example: exactly the subject's records change, everyone else's stay
 * byte-for-byte as they were, and neither the subject's identifiers nor a corrected value is
 * left in the requests table, the audit log or the execution history once the request is over.
 */

// Each test runs whole requests through the local state machine, some with a review in between.
jest.setTimeout(300_000);

const dataMap = exampleDataMap();
const CORRECTED_NAME = 'Adelheid Corrigenda-Musterfrau';

/** Every record, and every S3 object's tags, of the example's stores. */
async function snapshot(stateDir: string) {
  const env = await openLocalEnvironment({ stateDir });
  try {
    const records = await snapshotStores(dataMap, env.clients);
    const tags = new Map<string, string>();
    for (const store of dataMap.stores) {
      if (store.kind !== 's3') continue;
      const page = await env.clients.s3.send(new ListObjectsV2Command({ Bucket: store.bucket }));
      for (const object of page.Contents ?? []) {
        const tagging = await env.clients.s3.send(
          new GetObjectTaggingCommand({ Bucket: store.bucket, Key: object.Key! }),
        );
        tags.set(`${store.id}|${object.Key}`, canonicalJson(tagging.TagSet ?? []));
      }
    }
    return { records, tags };
  } finally {
    await env.close();
  }
}

/** The requests table and audit log as stored, with what `request history` prints. */
async function traces(stateDir: string, requestId: string): Promise<string> {
  const env = await openLocalEnvironment({ stateDir });
  let stored: string;
  try {
    const scan = async (table: string) =>
      JSON.stringify((await env.deps.doc.send(new ScanCommand({ TableName: table }))).Items);
    stored = (await scan(env.deps.resources.requestsTable)) + (await scan(env.deps.resources.auditTable));
  } finally {
    await env.close();
  }
  const history = await lethe(['request', 'history', requestId, '--state-dir', stateDir, '--json']);
  const status = await lethe(['request', 'status', requestId, '--state-dir', stateDir, '--json']);
  return `${stored}\n${history.out}${history.err}\n${status.out}${status.err}`.toLowerCase();
}

function leaked(text: string, values: string[]): string[] {
  return values.filter((value) => text.includes(value.toLowerCase()));
}

function storeOf(dataMap: DataMap, id: string) {
  return dataMap.stores.find((store) => store.id === id)!;
}

describe('rights that change records (adtech example)', () => {
  let root: string;
  let stateDir: string;
  let seed: AdtechSeed;
  let subject: SeedSubject;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'lethe-rights-'));
    stateDir = join(root, 'state');
    seed = exampleSeed(8, 2);
    subject = richestSubject(seed);
    await seedStateDir(stateDir, seed);
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  test('rectification corrects the field in exactly the subject’s records that hold it, and leaves no value behind', async () => {
    // prepare
    const before = await snapshot(stateDir);
    // act
    const summary = await submitIncludingReview(
      requestSubmitArgs(
        stateDir,
        'rectification',
        [`email=${subject.email}`],
        ['--set', `name=${CORRECTED_NAME}`],
      ),
    );
    const after = await snapshot(stateDir);
    // assess
    expect(summary.status).toBe('completed');
    const rectifiable = new Set(
      dataMap.stores.filter((store) => store.rectify?.attributes.includes('name')).map((store) => store.id),
    );
    const corrected: string[] = [];
    for (const [id, entry] of before.records) {
      const record = entry.record as Record<string, unknown>;
      const mine =
        rectifiable.has(entry.storeId) &&
        typeof record.email === 'string' &&
        record.email.toLowerCase() === subject.email &&
        record.name !== undefined;
      const now = after.records.get(id);
      if (mine) {
        expect({ id, changed: changedAttributes(entry, now) }).toEqual({ id, changed: ['name'] });
        expect((now!.record as Record<string, unknown>).name).toBe(CORRECTED_NAME);
        corrected.push(id);
      } else {
        expect({ id, content: now?.content }).toEqual({ id, content: entry.content });
      }
    }
    expect(corrected.length).toBeGreaterThan(0);
    expect(after.records.size).toBe(before.records.size);
    expect(after.tags).toEqual(before.tags);
    const certificate = await lethe([
      'request',
      'certificate',
      summary.requestId,
      '--state-dir',
      stateDir,
      '--json',
    ]);
    const checked = JSON.parse(certificate.out) as {
      ok: boolean;
      certificate: { stores: { store: string; fields?: { field: string; updated: number }[] }[] };
    };
    expect(checked.ok).toBe(true);
    const updated = checked.certificate.stores.flatMap((store) =>
      (store.fields ?? []).map((field) => `${store.store}.${field.field}`),
    );
    expect(updated.length).toBeGreaterThan(0);
    expect(new Set(updated)).toEqual(
      new Set(
        [...rectifiable]
          .filter((id) => corrected.some((c) => c.startsWith(`${id}|`)))
          .map((id) => `${id}.name`),
      ),
    );
    expect(
      checked.certificate.stores.reduce((sum, store) => sum + (store.fields?.[0]?.updated ?? 0), 0),
    ).toBe(corrected.length);
    expect(certificate.out).not.toContain(CORRECTED_NAME);
    expect(
      leaked(await traces(stateDir, summary.requestId), [...identifierValues(subject), CORRECTED_NAME]),
    ).toEqual([]);
  });

  test('restriction marks exactly the subject’s records as the data map says, and its lift takes every mark away', async () => {
    // prepare
    const before = await snapshot(stateDir);
    // act
    const restricted = await submitIncludingReview(
      requestSubmitArgs(stateDir, 'restriction', [`email=${subject.email}`]),
    );
    const during = await snapshot(stateDir);
    const lifted = await submitIncludingReview(
      requestSubmitArgs(stateDir, 'restriction-lift', [`email=${subject.email}`]),
    );
    const after = await snapshot(stateDir);
    // assess
    expect([restricted.status, lifted.status]).toEqual(['completed', 'completed']);
    let marked = 0;
    for (const [id, entry] of before.records) {
      const store = storeOf(dataMap, entry.storeId);
      const now = during.records.get(id);
      if (store.kind === 'dynamodb' && store.restrict?.attribute && belongsTo(dataMap, subject, entry)) {
        expect({ id, changed: changedAttributes(entry, now) }).toEqual({
          id,
          changed: [store.restrict.attribute],
        });
        expect((now!.record as Record<string, unknown>)[store.restrict.attribute]).toBe(restricted.requestId);
        marked += 1;
      } else {
        expect({ id, content: now?.content }).toEqual({ id, content: entry.content });
      }
    }
    let tagged = 0;
    for (const [key, tags] of before.tags) {
      const [storeId, objectKey] = key.split('|') as [string, string];
      const store = storeOf(dataMap, storeId);
      const mine =
        store.restrict?.tag !== undefined &&
        belongsTo(dataMap, subject, { record: objectKey } as SnapshotEntry);
      if (mine) {
        expect(JSON.parse(during.tags.get(key)!)).toContainEqual({
          Key: 'lethe-restricted',
          Value: restricted.requestId,
        });
        tagged += 1;
      } else {
        expect({ key, tags: during.tags.get(key) }).toEqual({ key, tags });
      }
    }
    expect(marked).toBeGreaterThan(0);
    expect(tagged).toBeGreaterThan(0);
    // The lift leaves everything as it was before the restriction, byte for byte.
    expect(after.records).toEqual(before.records);
    expect(after.tags).toEqual(before.tags);
    for (const summary of [restricted, lifted]) {
      expect(leaked(await traces(stateDir, summary.requestId), identifierValues(subject))).toEqual([]);
    }
  });

  test('an opt-out of sale or sharing needs no verification, changes no record, and puts the subject on the suppression list', async () => {
    // prepare
    const before = await snapshot(stateDir);
    const other = seed.subjects.find((candidate) => candidate.email !== subject.email)!;
    // act
    const submitted = await lethe([
      'request',
      'submit',
      '--type',
      'objection',
      '--scope',
      'sale-or-sharing',
      '--subject',
      `email=${subject.email}`,
      '--jurisdiction',
      'ccpa',
      '--state-dir',
      stateDir,
      '--json',
    ]);
    const summary = JSON.parse(submitted.out) as RequestSummary;
    const check = (who: string, scope: string) =>
      lethe(['suppression', 'check', '--subject', who, '--scope', scope, '--state-dir', stateDir, '--json']);
    const optedOut = await check(`email=${subject.email.toUpperCase()}`, 'sale-or-sharing');
    const marketing = await check(`email=${subject.email}`, 'marketing');
    const someoneElse = await check(`email=${other.email}`, 'sale-or-sharing');
    const after = await snapshot(stateDir);
    // assess
    expect(summary.status).toBe('completed');
    expect(optedOut.code).toBe(0);
    expect(JSON.parse(optedOut.out)).toMatchObject({
      suppressed: true,
      matches: [{ scope: 'sale-or-sharing', requestId: summary.requestId }],
    });
    expect([marketing.code, someoneElse.code]).toEqual([3, 3]);
    expect(after).toEqual(before);
    expect(leaked(await traces(stateDir, summary.requestId), identifierValues(subject))).toEqual([]);
    expect(optedOut.out.toLowerCase()).not.toContain(subject.email);
  });

  test('staff take a subject off the list under one scope with an audited reason; the list shows keyed hashes, scopes and times only', async () => {
    // prepare: the subject opted out of sale or sharing and objected to profiling
    for (const scope of ['sale-or-sharing', 'profiling']) {
      await lethe([
        'request',
        'submit',
        '--type',
        'objection',
        '--scope',
        scope,
        '--subject',
        `email=${subject.email}`,
        '--jurisdiction',
        'ccpa',
        ...(scope === 'profiling' ? ['--verified-by', 'privacy-desk'] : []),
        '--state-dir',
        stateDir,
        '--json',
      ]);
    }
    const check = async (scope: string) =>
      (
        await lethe([
          'suppression',
          'check',
          '--subject',
          `email=${subject.email}`,
          '--scope',
          scope,
          '--state-dir',
          stateDir,
        ])
      ).code;
    const listed = await lethe(['suppression', 'list', '--state-dir', stateDir, '--json']);
    const before = await snapshot(stateDir);
    // act
    const remove = (reason: string, json: string[] = []) =>
      lethe([
        'suppression',
        'remove',
        '--subject',
        `email=${subject.email}`,
        '--scope',
        'sale-or-sharing',
        '--by',
        'privacy-desk',
        '--reason',
        reason,
        '--state-dir',
        stateDir,
        ...json,
      ]);
    const naming = await remove(`consented again, wrote from ${subject.email}`);
    const removed = await remove('consented again, ticket 4711', ['--json']);
    const again = await remove('consented again, ticket 4711');
    const audit = await lethe(['audit', 'verify', '--state-dir', stateDir, '--json']);
    const events = await openLocalEnvironment({ stateDir }).then(async (env) => {
      try {
        const page = await env.deps.doc.send(new ScanCommand({ TableName: env.deps.resources.auditTable }));
        return (page.Items ?? []).filter((item) => item.type === 'suppression.removed');
      } finally {
        await env.close();
      }
    });
    // assess
    const entries = JSON.parse(listed.out) as Record<string, unknown>[];
    expect(entries.length).toBeGreaterThan(0);
    for (const entry of entries) {
      expect(Object.keys(entry).sort()).toEqual(['at', 'scope', 'subjectHash']);
      expect(entry.subjectHash).toMatch(/^hs256:[0-9a-f]{64}$/);
    }
    expect(listed.out.toLowerCase()).not.toContain(subject.email);
    expect(naming.code).toBe(2);
    expect(naming.err.trim().split('\n')).toHaveLength(1);
    expect(naming.err.toLowerCase()).not.toContain(subject.email);
    expect(removed.code).toBe(0);
    expect(JSON.parse(removed.out)).toEqual({ scope: 'sale-or-sharing', removed: 1 });
    expect(again.code).toBe(2);
    expect(again.err).toContain('not on the suppression list under scope sale-or-sharing');
    expect([await check('sale-or-sharing'), await check('profiling')]).toEqual([3, 0]);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      actor: 'privacy-desk',
      details: { scope: 'sale-or-sharing', removed: 1, reason: 'consented again, ticket 4711' },
    });
    expect(JSON.stringify(events).toLowerCase()).not.toContain(subject.email);
    expect(audit.code).toBe(0);
    expect(await snapshot(stateDir)).toEqual(before);
  });

  test('withdrawal of consent records it on exactly the subject’s consent records and suppresses that purpose only', async () => {
    // prepare
    const cookie = subject.cookieIds[0]!;
    const before = await snapshot(stateDir);
    // act
    const summary = await submitIncludingReview(
      requestSubmitArgs(
        stateDir,
        'objection',
        [`cookieId=${cookie}`],
        ['--scope', 'consent:personalised-ads'],
      ),
    );
    const after = await snapshot(stateDir);
    const purpose = await lethe([
      'suppression',
      'check',
      '--subject',
      `cookieId=${cookie}`,
      '--scope',
      'consent:personalised-ads',
      '--state-dir',
      stateDir,
    ]);
    const other = await lethe([
      'suppression',
      'check',
      '--subject',
      `cookieId=${cookie}`,
      '--scope',
      'profiling',
      '--state-dir',
      stateDir,
    ]);
    // assess
    expect(summary.status).toBe('completed');
    let withdrawn = 0;
    for (const [id, entry] of before.records) {
      const record = entry.record as Record<string, unknown>;
      const now = after.records.get(id);
      if (entry.storeId === 'ad-events' && String(record.cookieId).toLowerCase() === cookie.toLowerCase()) {
        expect({ id, changed: changedAttributes(entry, now) }).toEqual({
          id,
          changed: ['adConsent', 'adConsentWithdrawnAt'],
        });
        expect((now!.record as Record<string, unknown>).adConsent).toBe('withdrawn');
        withdrawn += 1;
      } else {
        expect({ id, content: now?.content }).toEqual({ id, content: entry.content });
      }
    }
    expect(withdrawn).toBeGreaterThan(0);
    expect([purpose.code, other.code]).toEqual([0, 3]);
    expect(leaked(await traces(stateDir, summary.requestId), identifierValues(subject))).toEqual([]);
  });

  test('correcting a field no store declares rectifiable exits 2 with one line naming it, and writes nothing', async () => {
    // prepare
    const before = await snapshot(stateDir);
    const requestsBefore = await lethe(['request', 'list', '--state-dir', stateDir, '--json']);
    // act
    const refused = await lethe(
      requestSubmitArgs(
        stateDir,
        'rectification',
        [`email=${subject.email}`],
        ['--set', 'cookieId=0000', '--set', `name=${CORRECTED_NAME}`],
      ),
    );
    // assess
    expect(refused.code).toBe(2);
    expect(refused.err.trim().split('\n')).toHaveLength(1);
    expect(refused.err).toContain('field "cookieId" is not rectifiable');
    expect(refused.err).not.toContain(CORRECTED_NAME);
    expect(refused.out).toBe('');
    expect((await lethe(['request', 'list', '--state-dir', stateDir, '--json'])).out).toBe(
      requestsBefore.out,
    );
    expect(await snapshot(stateDir)).toEqual(before);
  });
});
