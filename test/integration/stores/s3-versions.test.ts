import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { LocalClients } from '../../../lib/local/servers';
import { exemptLockedRecords } from '../../../lib/stores';
import { eraseInS3Store, locateInS3Store } from '../../../lib/stores/s3';
import { COOKIE_A, COOKIE_B, calls, clickstream, dataMap, line, useAdtechS3 } from '../../helpers/adtech-s3';
import { listAll } from '../../helpers/stores';
import { simulateVersionedBuckets, type VersionedBuckets } from '../../helpers/versioned-s3';

/**
 * Erasure in versioned buckets and under S3 Object Lock. s3rver has neither, so a client
 * middleware (test/helpers/versioned-s3.ts) simulates them in front of it. It simulates: versioning
 * Enabled; a new version (with its VersionId) on every PutObject and CompleteMultipartUpload;
 * delete markers for deletes without a VersionId; versioned deletes (DeleteObject, DeleteObjects)
 * that make the next newest version current again; ListObjectVersions, paged (two entries a page
 * here, so every listing pages); Object Lock retention and legal holds on chosen versions, which
 * refuse a versioned delete with AccessDenied as S3 does, and GetObjectRetention and
 * GetObjectLegalHold. It does not simulate: reading a noncurrent version, If-Match on versioned
 * writes, governance bypass, bucket default retention, lifecycle rules, versioning Suspended, and
 * ListObjectsV2 (s3rver's own, current versions only).
 */

const FAR = new Date('2099-01-01T00:00:00.000Z');
const ERASE = { hmacKey: Buffer.alloc(1) };

async function put(s3: S3Client, bucket: string, key: string, body: string): Promise<string> {
  const output = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  return output.VersionId as string;
}

async function getText(s3: S3Client, bucket: string, key: string): Promise<string> {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return object.Body!.transformToString('utf8');
}

const ids = async (versions: VersionedBuckets, bucket: string, key: string) =>
  (await versions.versions(bucket, key)).map((version) => version.versionId);

describe('S3 erasure in versioned buckets and under Object Lock (simulated in front of s3rver)', () => {
  const s3 = useAdtechS3();
  let raw: LocalClients;
  let clients: LocalClients;
  let versions: VersionedBuckets;

  beforeEach(() => {
    raw = s3.raw;
    clients = s3.clients;
    versions = simulateVersionedBuckets(clients.s3, raw.s3, [calls.bucket, clickstream.bucket], {
      pageSize: 2,
    });
  });

  afterEach(() => {
    versions.remove();
  });

  const locateCalls = (phone: string) =>
    locateInS3Store(calls, [{ type: 'phone', value: phone }], clients, dataMap);
  const locateClicksOfA = async () =>
    (await locateInS3Store(clickstream, [{ type: 'cookieId', value: COOKIE_A }], clients, dataMap)).records;

  it('deletes every version and delete marker of each located object, and nothing of anyone else', async () => {
    // prepare: three versions of one recording; a version, a delete marker and a version of
    // another; someone else's recording with two versions.
    const a = 'calls/+4930000101/a.wav';
    const b = 'calls/+4930000101/b.wav';
    const other = 'calls/+4930000102/a.wav';
    for (const version of [1, 2, 3]) await put(clients.s3, calls.bucket, a, `a v${version}`);
    await put(clients.s3, calls.bucket, b, 'b v1');
    await clients.s3.send(new DeleteObjectCommand({ Bucket: calls.bucket, Key: b }));
    await put(clients.s3, calls.bucket, b, 'b v2');
    for (const version of [1, 2]) await put(clients.s3, calls.bucket, other, `other v${version}`);
    const otherBefore = await ids(versions, calls.bucket, other);
    expect((await versions.versions(calls.bucket, b)).map((version) => version.deleteMarker)).toEqual([
      false,
      true,
      false,
    ]);
    const location = await locateCalls('+4930000101');
    const before = { ...versions.calls };

    // act
    const erasure = await eraseInS3Store(calls, location.records, clients, ERASE);

    // assess
    expect(erasure).toMatchObject({ erased: 2, exempted: 0, failed: 0 });
    expect(await versions.versions(calls.bucket, a)).toEqual([]);
    expect(await versions.versions(calls.bucket, b)).toEqual([]);
    expect(await listAll(raw.s3, calls.bucket, 'calls/+4930000101/')).toEqual([]);
    expect(await ids(versions, calls.bucket, other)).toEqual(otherBefore);
    expect(await getText(raw.s3, calls.bucket, other)).toBe('other v2');
    // six versions and markers: one DeleteObjects call; one versioning check per erasure
    expect((versions.calls.DeleteObjectsCommand ?? 0) - (before.DeleteObjectsCommand ?? 0)).toBe(1);
    expect((versions.calls.GetBucketVersioningCommand ?? 0) - (before.GetBucketVersioningCommand ?? 0)).toBe(
      1,
    );
  });

  it('leaves exactly the version a rewrite wrote, and the versions of keys it is a prefix of', async () => {
    // prepare: two versions holding the subject's lines, a longer key beside it, and an object
    // whose every line is the subject's.
    const key = 'clicks/versioned.jsonl';
    const longer = 'clicks/versioned.jsonl.bak';
    const onlyA = 'clicks/versioned-only-a.jsonl';
    await put(clients.s3, clickstream.bucket, key, `${line(COOKIE_A, 1)}\n${line(COOKIE_B, 2)}\n`);
    await put(
      clients.s3,
      clickstream.bucket,
      key,
      `${line(COOKIE_A, 1)}\n${line(COOKIE_B, 2)}\n${line(COOKIE_B, 3)}\n`,
    );
    for (const ts of [1, 2]) await put(clients.s3, clickstream.bucket, longer, `${line(COOKIE_A, ts)}\n`);
    for (const ts of [1, 2]) await put(clients.s3, clickstream.bucket, onlyA, `${line(COOKIE_A, ts)}\n`);
    const longerBefore = await ids(versions, clickstream.bucket, longer);
    const records = (await locateClicksOfA()).filter((record) => record.key === key || record.key === onlyA);

    // act
    const erasure = await eraseInS3Store(clickstream, records, clients, ERASE, dataMap);

    // assess
    expect(erasure).toMatchObject({ erased: 2, exempted: 0, failed: 0 });
    const left = await versions.versions(clickstream.bucket, key);
    expect(left).toHaveLength(1);
    expect(left[0]?.latest).toBe(true);
    expect(await getText(raw.s3, clickstream.bucket, key)).toBe(
      `${line(COOKIE_B, 2)}\n${line(COOKIE_B, 3)}\n`,
    );
    expect(await versions.versions(clickstream.bucket, onlyA)).toEqual([]);
    expect(await listAll(raw.s3, clickstream.bucket, onlyA)).toEqual([]);
    expect(await ids(versions, clickstream.bucket, longer)).toEqual(longerBefore);
  });

  it('reports objects S3 Object Lock keeps as exempt with the retain-until date, erases the rest, and does not fail', async () => {
    // prepare: an earlier version under COMPLIANCE retention; a current version under a legal
    // hold; an unlocked recording with two versions.
    const retained = 'calls/+4930000103/retained.wav';
    const held = 'calls/+4930000103/held.wav';
    const free = 'calls/+4930000103/free.wav';
    const lockedVersion = await put(clients.s3, calls.bucket, retained, 'retained v1');
    await put(clients.s3, calls.bucket, retained, 'retained v2');
    await versions.lock(calls.bucket, retained, lockedVersion, { retainUntil: FAR, mode: 'COMPLIANCE' });
    const heldVersion = await put(clients.s3, calls.bucket, held, 'held v1');
    await versions.lock(calls.bucket, held, 'current', { legalHold: true });
    for (const version of [1, 2]) await put(clients.s3, calls.bucket, free, `free v${version}`);
    const location = await locateCalls('+4930000103');

    // act
    const erasure = await eraseInS3Store(calls, location.records, clients, ERASE);
    const again = await locateCalls('+4930000103');
    const confirmed = await exemptLockedRecords(dataMap, calls, again, clients);

    // assess: counted as exempt by Object Lock, never as erased or failed
    expect(erasure).toMatchObject({ erased: 1, exempted: 2, failed: 0 });
    expect(erasure.exemptions).toEqual(
      expect.arrayContaining([
        {
          source: 'object-lock',
          reason: expect.stringMatching(
            /S3 Object Lock retention \(COMPLIANCE mode\) until 2099-01-01T00:00:00\.000Z/,
          ),
          retainUntil: '2099-01-01T00:00:00.000Z',
          count: 1,
        },
        { source: 'object-lock', reason: expect.stringMatching(/S3 Object Lock legal hold/), count: 1 },
      ]),
    );
    expect(erasure.exemptions).toHaveLength(2);
    // every unlocked version went; the locked one is current again, as S3 makes it
    expect(await ids(versions, calls.bucket, retained)).toEqual([lockedVersion]);
    expect(await getText(raw.s3, calls.bucket, retained)).toBe('retained v1');
    expect(await ids(versions, calls.bucket, held)).toEqual([heldVersion]);
    expect(await versions.versions(calls.bucket, free)).toEqual([]);
    // found again after erasure, both are exempt (by the current version's lock), not residual
    expect(again.located).toBe(2);
    expect(confirmed.exempted).toBe(2);
    expect(confirmed.records.map((record) => record.exemption?.source)).toEqual([
      'object-lock',
      'object-lock',
    ]);
    expect(confirmed.records.find((record) => record.key === retained)?.exemption?.retainUntil).toBe(
      '2099-01-01T00:00:00.000Z',
    );
  });

  it('rewrites a JSON-lines object whose earlier version is locked, and reports the located lines exempt', async () => {
    // prepare
    const key = 'clicks/locked-history.jsonl';
    const lockedVersion = await put(
      clients.s3,
      clickstream.bucket,
      key,
      `${line(COOKIE_A, 1)}\n${line(COOKIE_B, 2)}\n`,
    );
    await versions.lock(clickstream.bucket, key, lockedVersion, { retainUntil: FAR, mode: 'GOVERNANCE' });
    await put(
      clients.s3,
      clickstream.bucket,
      key,
      `${line(COOKIE_A, 1)}\n${line(COOKIE_B, 2)}\n${line(COOKIE_A, 3)}\n`,
    );
    const records = (await locateClicksOfA()).filter((record) => record.key === key);

    // act
    const erasure = await eraseInS3Store(clickstream, records, clients, ERASE, dataMap);

    // assess: the current object no longer holds the lines; the locked version does, so the two
    // located lines are reported exempt with the date, not erased
    expect(erasure).toMatchObject({ erased: 0, exempted: 2, failed: 0 });
    expect(erasure.exemptions).toEqual([
      expect.objectContaining({ source: 'object-lock', retainUntil: '2099-01-01T00:00:00.000Z', count: 2 }),
    ]);
    expect(await getText(raw.s3, clickstream.bucket, key)).toBe(`${line(COOKIE_B, 2)}\n`);
    const left = await versions.versions(clickstream.bucket, key);
    expect(left.map((version) => [version.latest, version.versionId === lockedVersion])).toEqual([
      [true, false],
      [false, true],
    ]);
  });
});
