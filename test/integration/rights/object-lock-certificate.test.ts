import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { LocalClients } from '../../../lib/local/servers';
import type { ErasureCertificate } from '../../../lib/rights/confirm';
import { finishErasure, startErasure } from '../../helpers/erasure';
import { openTempEnvironment, rawClientsOf, type TempEnvironment } from '../../helpers/retention';
import { simulateVersionedBuckets, type VersionedBuckets } from '../../helpers/versioned-s3';
import { EXAMPLE_DATAMAP_PATH } from '../../helpers/world';

/**
 * An erasure request over a versioned bucket where S3 Object Lock keeps some of the subject's
 * recordings: the request completes, and the certificate lists them as exempted by Object Lock
 * with the retain-until date. Versioning and Object Lock are simulated in front of s3rver by the
 * middleware of test/helpers/versioned-s3.ts, whose comment says exactly what it simulates
 * (versions, delete markers, ListObjectVersions, versioned deletes, retention and legal holds)
 * and what not (reading noncurrent versions, If-Match on versioned writes, lifecycle rules,
 * versioning Suspended).
 */

const BUCKET = 'adtech-call-recordings';
const PHONE = '+4930555000111';

describe('an erasure certificate with objects S3 Object Lock keeps', () => {
  let world: TempEnvironment;
  let versions: VersionedBuckets;
  let raw: LocalClients;

  beforeAll(async () => {
    world = await openTempEnvironment({ path: EXAMPLE_DATAMAP_PATH });
    raw = await rawClientsOf(world);
    versions = simulateVersionedBuckets(world.env.clients.s3, raw.s3, [BUCKET]);
  });

  afterAll(async () => {
    versions?.remove();
    raw?.s3.destroy();
    raw?.dynamodb.destroy();
    await world?.close();
  });

  it('completes, erases every version of the unlocked recordings, and lists the locked ones as exempt with the date', async () => {
    // Prepare: three recordings of the subject, two versions each; one current version under
    // COMPLIANCE retention until 2099, one earlier version under it.
    const put = async (key: string, body: string) =>
      (await world.env.clients.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body })))
        .VersionId as string;
    const keys = ['a', 'b', 'c'].map((name) => `calls/${PHONE}/${name}.wav`);
    const [free, lockedNow, lockedBefore] = keys as [string, string, string];
    for (const key of keys) await put(key, `${key} v1`);
    const earlier = (await versions.versions(BUCKET, lockedBefore))[0]?.versionId as string;
    for (const key of keys) await put(key, `${key} v2`);
    const retainUntil = new Date('2099-03-01T00:00:00.000Z');
    await versions.lock(BUCKET, lockedNow, 'current', { retainUntil, mode: 'COMPLIANCE' });
    await versions.lock(BUCKET, lockedBefore, earlier, { retainUntil, mode: 'COMPLIANCE' });

    // Act
    const { requestId, located } = await startErasure(world.env.deps, { type: 'phone', value: PHONE });
    const done = await finishErasure(world.env.deps, requestId, located);

    // Assess
    expect(done.status).toBe('completed');
    const store = (done.certificate as ErasureCertificate).stores.find(
      (entry) => entry.store === 'call-recordings',
    );
    expect(store).toMatchObject({ located: 3, erased: 1, exempted: 2, remaining: 0 });
    expect(store?.exemptions).toEqual([
      {
        source: 'object-lock',
        reason: expect.stringContaining(
          'S3 Object Lock retention (COMPLIANCE mode) until 2099-03-01T00:00:00.000Z',
        ),
        retainUntil: '2099-03-01T00:00:00.000Z',
        count: 2,
      },
    ]);
    expect(await versions.versions(BUCKET, free)).toEqual([]);
    expect((await versions.versions(BUCKET, lockedNow)).length).toBe(1);
    expect((await versions.versions(BUCKET, lockedBefore)).map((version) => version.versionId)).toEqual([
      earlier,
    ]);
  });
});
