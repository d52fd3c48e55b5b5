import { join } from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Identity } from '../../../lib/datamap/identity';
import { loadDataMap } from '../../../lib/datamap/load';
import { eraseInS3Store, locateInS3Store, readS3Records } from '../../../lib/stores/s3';
import type { ExportedRecord, LocatedObject } from '../../../lib/stores/types';
import { countCommands } from '../../helpers/retention';
import { listAll, s3StoreOf, useLocalStores } from '../../helpers/stores';

/**
 * Folder markers: the zero-byte `calls/+4930123/` objects the S3 console and sync tools create to
 * show a folder. One under a subject's prefix used to become a located "record" that broke every
 * access request of that subject.
 */

const dataMap = loadDataMap(join(__dirname, '../../../examples/adtech/datamap.yaml'));
const noSleep = { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2, sleep: async () => undefined };
const eraseOptions = { hmacKey: Buffer.from('test-key'), retry: noSleep };

const calls = s3StoreOf(dataMap, 'call-recordings');
const clickstream = s3StoreOf(dataMap, 'clickstream');

const PHONE = '+4930123';
const NEIGHBOUR = '+4930999';
const COOKIE = 'aaaaaaaa-0000-4000-8000-000000000001';
const phone = (value: string): Identity => ({ type: 'phone', value });

async function put(s3: S3Client, bucket: string, key: string, body: string) {
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
}

async function collect(iterable: AsyncIterable<ExportedRecord>): Promise<ExportedRecord[]> {
  const records: ExportedRecord[] = [];
  for await (const record of iterable) records.push(record);
  return records;
}

describe('S3 folder markers (s3rver)', () => {
  const stores = useLocalStores(dataMap);

  beforeEach(async () => {
    for (const key of [
      `calls/${PHONE}/`,
      `calls/${PHONE}/2024-02-01.wav`,
      `calls/${PHONE}/2024-02-01.txt`,
      `calls/${NEIGHBOUR}/`,
      `calls/${NEIGHBOUR}/2024-03-01.wav`,
    ]) {
      await put(stores.clients.s3, calls.bucket, key, key.endsWith('/') ? '' : `bytes of ${key}`);
    }
    await put(stores.clients.s3, clickstream.bucket, 'clicks/2024/', '');
    await put(stores.clients.s3, clickstream.bucket, 'clicks/2024/05-01.jsonl', `{"cookieId":"${COOKIE}"}\n`);
  });

  it('locates the objects under a subject’s prefix and passes its folder marker by', async () => {
    // act
    const location = await locateInS3Store(calls, [phone(PHONE)], stores.clients, dataMap);

    // assess
    expect(location.located).toBe(2);
    expect(location.records.map((record) => record.key).sort()).toEqual([
      `calls/${PHONE}/2024-02-01.txt`,
      `calls/${PHONE}/2024-02-01.wav`,
    ]);
  });

  it('passes a folder marker under a JSON-lines prefix by without reading it', async () => {
    // prepare
    const counts = new Map<string, number>();
    const remove = countCommands(stores.clients.s3, counts);

    // act
    const location = await locateInS3Store(
      clickstream,
      [{ type: 'cookieId', value: COOKIE }],
      stores.clients,
      dataMap,
    ).finally(remove);

    // assess
    expect(location.records.map((record) => record.key)).toEqual(['clicks/2024/05-01.jsonl']);
    expect(counts.get('GetObjectCommand')).toBe(1);
  });

  it('reads past a folder marker listed by a manifest written before markers were passed by', async () => {
    // prepare
    const location = await locateInS3Store(calls, [phone(PHONE)], stores.clients, dataMap);
    const marker: LocatedObject = { kind: 'object', key: `calls/${PHONE}/`, size: 0 };

    // act
    const exported = await collect(
      readS3Records(calls, [marker, ...location.records], stores.clients, dataMap),
    );

    // assess
    expect(exported.map((record) => record.key).sort()).toEqual([
      `calls/${PHONE}/2024-02-01.txt`,
      `calls/${PHONE}/2024-02-01.wav`,
    ]);
  });

  it('erases the marker of a folder it empties, and no other marker', async () => {
    // prepare
    const location = await locateInS3Store(calls, [phone(PHONE)], stores.clients, dataMap);

    // act
    const erasure = await eraseInS3Store(calls, location.records, stores.clients, eraseOptions, dataMap);

    // assess
    expect(erasure).toMatchObject({ erased: 2, failed: 0 });
    expect(await listAll(stores.clients.s3, calls.bucket)).toEqual([
      `calls/${NEIGHBOUR}/`,
      `calls/${NEIGHBOUR}/2024-03-01.wav`,
    ]);
  });

  it('keeps the marker of a folder that still holds an exempted object', async () => {
    // prepare
    const location = await locateInS3Store(calls, [phone(PHONE)], stores.clients, dataMap);
    const [kept, erased] = location.records as [LocatedObject, LocatedObject];
    const records = [{ ...kept, exemption: { source: 'datamap' as const, reason: 'Kept by law' } }, erased];

    // act
    const erasure = await eraseInS3Store(calls, records, stores.clients, eraseOptions, dataMap);

    // assess
    expect(erasure).toMatchObject({ erased: 1, exempted: 1 });
    expect(await listAll(stores.clients.s3, calls.bucket, `calls/${PHONE}/`)).toEqual([
      `calls/${PHONE}/`,
      kept.key,
    ]);
  });
});
