import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { S3Store } from '../../../lib/datamap/schema';
import { indexHash, indexObject, sharedObjectFilter } from '../../../lib/lake';
import { deleteEntriesBefore, objectRecord, objectsHolding } from '../../../lib/lake/table';
import type { LocalEnvironment } from '../../../lib/local/environment';
import { openLakeEnvironment } from '../../helpers/lake';

const lines = (...ids: string[]) => `${ids.map((id) => JSON.stringify({ cookieId: id })).join('\n')}\n`;

describe('keeping the identity index of one object (dynalite, s3rver)', () => {
  let env: LocalEnvironment;
  let store: S3Store;
  const hash = (value: string) => indexHash(env.deps.keys.subjectHash, { type: 'cookieId', value });
  const put = (key: string, body: string) =>
    env.clients.s3.send(new PutObjectCommand({ Bucket: store.bucket, Key: key, Body: body }));

  let close: () => Promise<void> = async () => {};

  beforeAll(async () => {
    ({ env, store, close } = await openLakeEnvironment('lake-index-clicks'));
  });

  afterAll(() => close());

  it('takes back the entries of identities an object no longer holds, and keeps the others', async () => {
    // prepare
    await put('clicks/one.jsonl', lines('AAA', 'bbb'));
    expect(await indexObject(env.deps, store, 'clicks/one.jsonl')).toBe('indexed');
    expect(await objectsHolding(env.deps, 'clicks', [hash('aaa')])).toEqual(new Set(['clicks/one.jsonl']));

    // act: someone rewrites the object without aaa
    await put('clicks/one.jsonl', lines('bbb', 'ccc'));
    await indexObject(env.deps, store, 'clicks/one.jsonl');

    // assess
    expect(await objectsHolding(env.deps, 'clicks', [hash('aaa')])).toEqual(new Set());
    expect(await objectsHolding(env.deps, 'clicks', [hash('bbb'), hash('ccc')])).toEqual(
      new Set(['clicks/one.jsonl']),
    );
    expect((await objectRecord(env.deps, 'clicks', 'clicks/one.jsonl'))?.gen).toBe(2);
  });

  it('never takes back an entry a newer indexing wrote again', async () => {
    // prepare: generation 2 wrote bbb's entry; a slow indexing of generation 1 cleans up late
    const before = await objectsHolding(env.deps, 'clicks', [hash('bbb')]);
    expect(before.size).toBe(1);

    // act
    await deleteEntriesBefore(env.deps, 'clicks', 'clicks/one.jsonl', [hash('bbb')], 1);

    // assess
    expect(await objectsHolding(env.deps, 'clicks', [hash('bbb')])).toEqual(before);
  });

  it('has a locate read what it does not describe at its current ETag, whatever the index says', async () => {
    // prepare: no build yet, so no filter; then a build's watermark
    expect(await sharedObjectFilter(env.deps, store, [{ type: 'cookieId', value: 'ddd' }])).toBeUndefined();
    const { writeIndexMeta } = await import('../../../lib/lake/table');
    await writeIndexMeta(env.deps, 'clicks', {
      watermark: new Date(0).toISOString(),
      builtAt: '',
      objects: 1,
    });
    await put('clicks/two.jsonl', lines('ddd'));
    const filter = await sharedObjectFilter(env.deps, store, [{ type: 'cookieId', value: 'ddd' }]);
    const listed = [
      {
        key: 'clicks/one.jsonl',
        etag: (await objectRecord(env.deps, 'clicks', 'clicks/one.jsonl'))?.etag,
        lastModified: new Date(),
      },
      { key: 'clicks/two.jsonl', etag: '"not-indexed"', lastModified: new Date() },
      { key: 'clicks/one.jsonl', etag: '"changed"', lastModified: new Date() },
    ];

    // act
    const selected = await filter?.select(listed);

    // assess: the indexed object without ddd is passed by; the unindexed and the changed ones are read
    expect(selected).toEqual([false, true, true]);
  });
});
