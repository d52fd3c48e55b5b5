import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { AdtechSeed, SeedSubject } from '../../../examples/adtech/seed';
import { type LocalEnvironment, openLocalEnvironment } from '../../../lib/local/environment';
import { importSeed } from '../../../lib/local/import';
import { createLogger } from '../../../lib/log';
import type { ErasureCertificate } from '../../../lib/rights/confirm';
import { reviewRequest } from '../../../lib/rights/lifecycle';
import { getRequest } from '../../../lib/rights/requests-table';
import { submitRequest, type WorkflowStarter } from '../../../lib/rights/submit';
import { createRequestSteps } from '../../../lib/workflow/request-step-set';
import {
  belongsTo,
  EXAMPLE_DATAMAP_PATH,
  exampleSeed,
  identifierValues,
  richestSubject,
  SEED_NOW,
  type SnapshotEntry,
  snapshotStores,
} from '../../helpers/world';
import { unzip } from '../../helpers/zip';

const noExecution: WorkflowStarter = {
  start: async ({ requestId }) => ({ executionId: requestId, alreadyStarted: false }),
};

describe('request workflow steps, driven in order against dynalite and s3rver', () => {
  let stateDir: string;
  let env: LocalEnvironment;
  let seed: AdtechSeed;
  let subject: SeedSubject;
  const logLines: string[] = [];
  const stepOutputs: unknown[] = [];

  /**
   * Runs the steps of one request in order. The example's links are claimed, so an attempt may
   * pause for review: then staff include every waiting store (the seed says they are the
   * subject's) and the next attempt runs from Verify, as `lethe request review` would start it.
   */
  async function runSteps(requestId: string, type: 'access' | 'portability' | 'erasure') {
    const steps = createRequestSteps(env.deps);
    const record = async <T>(output: Promise<T>) => {
      const value = await output;
      stepOutputs.push(value);
      return value;
    };
    let located: Record<string, unknown>[] = [];
    let attempt = 1;
    for (; ; attempt += 1) {
      const verify = (await record(steps.verify({ requestId, attempt }))) as { outcome: string };
      expect(verify.outcome).toBe('proceed');
      const resolved = (await record(steps.resolve({ requestId, attempt }))) as { stores: string[] };
      located = [];
      for (const storeId of resolved.stores) {
        located.push((await record(steps.locateStore({ requestId, storeId }))) as Record<string, unknown>);
      }
      const review = (await record(steps.recordReview({ requestId, attempt, located }))) as {
        paused: boolean;
      };
      if (!review.paused) break;
      expect(attempt).toBe(1);
      const waiting = (await getRequest(env.deps, requestId)).review?.stores ?? [];
      await reviewRequest(env.deps, noExecution, requestId, {
        include: waiting.map((store) => store.store),
        by: 'privacy-desk',
      });
    }
    const state: Record<string, unknown> = { requestId, attempt, located };
    if (type !== 'erasure') {
      state.export = await record(steps.exportPackage({ requestId, located }));
    } else {
      const erased = [];
      for (const entry of located) {
        erased.push(
          await record(
            steps.eraseStore({ requestId, attempt, storeId: entry.storeId, manifestKey: entry.manifestKey }),
          ),
        );
      }
      state.erased = erased;
    }
    await record(steps.confirm(state));
    await record(steps.recordOutcome({ requestId, attempt }));
  }

  beforeAll(async () => {
    stateDir = mkdtempSync(join(tmpdir(), 'lethe-steps-'));
    env = await openLocalEnvironment({
      stateDir,
      dataMapPath: EXAMPLE_DATAMAP_PATH,
      init: true,
      now: () => SEED_NOW,
      log: createLogger({ level: 'debug', write: (line) => logLines.push(line) }),
    });
    seed = exampleSeed();
    subject = richestSubject(seed);
    await importSeed(env.dataMap, seed, env.clients);
  });

  afterAll(async () => {
    await env?.close();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('exports exactly the subject records across every store, with the Art. 15 information', async () => {
    // prepare
    const { requestId } = await submitRequest(env.deps, noExecution, {
      type: 'access',
      subject: [{ type: 'email', value: `  ${subject.email.toUpperCase()} ` }],
      jurisdiction: 'gdpr',
      verification: { method: 'account-login', verifiedBy: 'privacy-desk' },
    });
    const before = await snapshotStores(env.dataMap, env.clients);

    // act
    await runSteps(requestId, 'access');

    // assess: the package holds, per store, exactly the subject's seeded records
    const done = await getRequest(env.deps, requestId);
    expect(done.status).toBe('completed');
    const zipObject = await env.clients.s3.send(
      new GetObjectCommand({ Bucket: done.export!.bucket, Key: done.export!.key }),
    );
    const files = await unzip(Buffer.from(await zipObject.Body!.transformToByteArray()));
    const manifest = JSON.parse(files.get('manifest.json')!.toString('utf8')) as {
      stores: {
        store: string;
        records: number;
        categories: string[];
        purpose: string;
        lawfulBasis: string;
        recipients: string[];
        source: string;
      }[];
    };
    for (const store of env.dataMap.stores) {
      const data = JSON.parse(files.get(`data/${store.id}.json`)!.toString('utf8')) as {
        records: { key: unknown; data?: Record<string, unknown> }[];
      };
      const expected = [...before.values()].filter(
        (entry) => entry.storeId === store.id && belongsTo(env.dataMap, subject, entry),
      );
      expect({ store: store.id, count: data.records.length }).toEqual({
        store: store.id,
        count: expected.length,
      });
      expect(data.records.length).toBe(subject.owns[store.id as keyof SeedSubject['owns']]);
      for (const exported of data.records) {
        if (exported.data) {
          const asEntry: SnapshotEntry = { storeId: store.id, id: '', content: '', record: exported.data };
          expect(belongsTo(env.dataMap, subject, asEntry)).toBe(true);
        }
      }
      const disclosure = manifest.stores.find((entry) => entry.store === store.id)!;
      expect(disclosure).toMatchObject({
        categories: store.categories,
        purpose: store.purpose,
        lawfulBasis: store.lawfulBasis,
        recipients: store.recipients,
        source: store.source,
        records: expected.length,
      });
    }
    expect(files.get('index.html')!.toString('utf8')).toContain('A copy of your personal data');
    // and an access request changes nothing
    expect(await snapshotStores(env.dataMap, env.clients)).toEqual(before);
  });

  it('adds a CSV per store to a portability package, one row per field', async () => {
    // prepare
    const { requestId } = await submitRequest(env.deps, noExecution, {
      type: 'portability',
      subject: [{ type: 'email', value: subject.email }],
      jurisdiction: 'gdpr',
      verification: { method: 'account-login', verifiedBy: 'privacy-desk' },
    });

    // act
    await runSteps(requestId, 'portability');

    // assess
    const done = await getRequest(env.deps, requestId);
    const zipObject = await env.clients.s3.send(
      new GetObjectCommand({ Bucket: done.export!.bucket, Key: done.export!.key }),
    );
    const files = await unzip(Buffer.from(await zipObject.Body!.transformToByteArray()));
    const csv = files.get('data/inquiries.csv')!.toString('utf8').trim().split('\n');
    expect(csv[0]).toBe('record,field,value');
    expect(csv.some((row) => row.includes(',email,') && row.endsWith(subject.email))).toBe(true);
    expect(files.has('data/call-recordings.csv')).toBe(false); // files, not rows
    // Observed device data is not what the subject provided (Art. 20): it is left out.
    expect(files.has('data/clickstream.json')).toBe(false);
    expect(done.stores?.find((store) => store.store === 'clickstream')).toMatchObject({ exported: 0 });
  });

  it('erases the subject everywhere but the exemption, leaves everyone else byte-for-byte, and certifies the counts', async () => {
    // prepare
    const before = await snapshotStores(env.dataMap, env.clients);
    const { requestId } = await submitRequest(env.deps, noExecution, {
      type: 'erasure',
      subject: [{ type: 'email', value: subject.email }],
      jurisdiction: 'gdpr',
      verification: { method: 'email-confirmation', verifiedBy: 'privacy-desk' },
    });

    // act
    await runSteps(requestId, 'erasure');

    // assess
    const after = await snapshotStores(env.dataMap, env.clients);
    const mine = [...before.values()].filter((entry) => belongsTo(env.dataMap, subject, entry));
    const others = [...before.values()].filter((entry) => !belongsTo(env.dataMap, subject, entry));
    expect(mine.length).toBeGreaterThan(10);
    for (const entry of others) expect(after.get(entry.id)).toEqual(entry);
    for (const entry of mine) {
      const now = after.get(entry.id);
      const record = entry.record as Record<string, unknown>;
      if (entry.storeId === 'partner-contacts' && record.role === 'billing') {
        expect(now).toEqual(entry); // exempt: kept as it was
      } else if (entry.storeId === 'partner-contacts') {
        const masked = now!.record as Record<string, unknown>;
        expect(masked).toMatchObject({
          name: '[erased]',
          partnerId: record.partnerId,
          contactId: record.contactId,
        });
        expect(String(masked.email)).toMatch(/^hmac:/);
        expect(masked).not.toHaveProperty('phone');
        expect(masked).not.toHaveProperty('userId');
      } else {
        expect(now).toBeUndefined();
      }
    }
    expect(after.size).toBe(
      before.size - mine.filter((entry) => entry.storeId !== 'partner-contacts').length,
    );

    const done = await getRequest(env.deps, requestId);
    expect(done.status).toBe('completed');
    expect(done.subject).toBeUndefined();
    expect(done.identities).toBeUndefined();
    const certificate = done.certificate as ErasureCertificate;
    for (const store of certificate.stores) {
      const seeded = subject.owns[store.store as keyof SeedSubject['owns']];
      expect({ store: store.store, located: store.located, remaining: store.remaining }).toEqual({
        store: store.store,
        located: seeded,
        remaining: 0,
      });
      if (store.store === 'partner-contacts') {
        expect(store.exempted).toBe(subject.partnerRoles.filter((role) => role === 'billing').length);
        expect(store.masked).toBe(subject.partnerRoles.filter((role) => role !== 'billing').length);
      } else {
        expect(store.erased).toBe(seeded);
      }
    }
    expect(certificate.digest).toMatch(/^[0-9a-f]{64}$/);
  });

  it('never lets a raw identifier of the subject into step outputs, logs, request records or audit events', async () => {
    // prepare: the two requests above ran; collect everything they left behind
    const audit = await env.deps.doc.send(new ScanCommand({ TableName: env.deps.resources.auditTable }));
    const requests = await env.deps.doc.send(
      new ScanCommand({ TableName: env.deps.resources.requestsTable }),
    );

    // act
    const haystack = JSON.stringify({
      stepOutputs,
      logLines,
      audit: audit.Items,
      requests: requests.Items,
    }).toLowerCase();

    // assess
    expect(audit.Items?.length).toBeGreaterThanOrEqual(4);
    expect(logLines.length).toBeGreaterThan(0);
    for (const value of identifierValues(subject)) expect(haystack).not.toContain(value.toLowerCase());
  });
});
