import { PutObjectCommand } from '@aws-sdk/client-s3';
import { runIndexBuildStep } from '../../../lib/aws/index-build';
import type { S3Store } from '../../../lib/datamap/schema';
import { indexHash, WATERMARK_MARGIN_MS } from '../../../lib/lake';
import { objectRecord, objectsHolding, readIndexMeta } from '../../../lib/lake/table';
import type { LocalEnvironment } from '../../../lib/local/environment';
import { StepInputError } from '../../../lib/workflow/request-steps';
import { openLakeEnvironment } from '../../helpers/lake';

const lines = (...ids: string[]) => `${ids.map((id) => JSON.stringify({ cookieId: id })).join('\n')}\n`;

/**
 * The IndexBatch function of the IndexBuild state machine, on a real dynalite and s3rver: a child
 * batch as the Distributed Map hands it over (S3ObjectsItemReader items, BatchInput) runs the local
 * build's indexBatch; the finish records the watermark from the execution's start.
 */
describe('an index build step on AWS (dynalite, s3rver)', () => {
  let env: LocalEnvironment;
  let store: S3Store;
  let close: () => Promise<void> = async () => {};
  const hash = (value: string) => indexHash(env.deps.keys.subjectHash, { type: 'cookieId', value });
  const put = async (key: string, body: string) =>
    (await env.clients.s3.send(new PutObjectCommand({ Bucket: store.bucket, Key: key, Body: body }))).ETag;

  beforeAll(async () => {
    ({ env, store, close } = await openLakeEnvironment('lake-index-build-step'));
  });

  afterAll(() => close());

  it('indexes a child batch of listed objects, skipping folder markers and keys outside the prefix', async () => {
    // prepare: the listing's items, as S3ObjectsItemReader gives them (Etag quoted)
    const etag = await put('clicks/a.jsonl', lines('aaa'));
    await put('other/b.jsonl', lines('bbb'));
    const event = {
      BatchInput: { storeId: 'clicks' },
      Items: [
        { Key: 'clicks/', Etag: '"d41d8cd98f00b204e9800998ecf8427e"', Size: 0 },
        { Key: 'clicks/a.jsonl', Etag: etag, Size: 20, LastModified: '2026-12-01T00:00:00Z' },
        { Key: 'other/b.jsonl', Etag: '"x"', Size: 20 },
      ],
    };

    // act
    const result = await runIndexBuildStep(env.deps, event);

    // assess
    expect(result).toEqual({ objects: 1, indexed: 1, unchanged: 0, gone: 0 });
    expect(await objectsHolding(env.deps, 'clicks', [hash('aaa')])).toEqual(new Set(['clicks/a.jsonl']));
    expect(await objectsHolding(env.deps, 'clicks', [hash('bbb')])).toEqual(new Set());
    expect(await objectRecord(env.deps, 'clicks', 'other/b.jsonl')).toBeUndefined();
    expect((await objectRecord(env.deps, 'clicks', 'clicks/a.jsonl'))?.etag).toBe(etag);
  });

  it('skips an object already indexed at the listed ETag, given bare or quoted', async () => {
    // prepare
    const etag = (await objectRecord(env.deps, 'clicks', 'clicks/a.jsonl'))?.etag ?? '';
    const bare = etag.replace(/"/g, '');

    // act
    const result = await runIndexBuildStep(env.deps, {
      BatchInput: { storeId: 'clicks' },
      Items: [{ Key: 'clicks/a.jsonl', Etag: bare, Size: 20 }],
    });

    // assess
    expect(result).toEqual({ objects: 1, indexed: 0, unchanged: 1, gone: 0 });
  });

  it("records the watermark at the execution's start less the margin, and never moves it back", async () => {
    // prepare
    const startedAt = '2026-12-03T10:00:00.000Z';
    const watermark = new Date(Date.parse(startedAt) - WATERMARK_MARGIN_MS).toISOString();

    // act
    const finished = await runIndexBuildStep(env.deps, { finish: true, storeId: 'clicks', startedAt });
    const older = await runIndexBuildStep(env.deps, {
      finish: true,
      storeId: 'clicks',
      startedAt: '2026-12-02T10:00:00.000Z',
    });

    // assess: objects counts what the index describes
    expect(finished).toEqual({ storeId: 'clicks', watermark });
    expect(older).toEqual({ storeId: 'clicks', watermark });
    expect(await readIndexMeta(env.deps, 'clicks')).toMatchObject({ watermark, objects: 1 });
  });

  it('refuses anything but a batch or a finish', async () => {
    // act
    const step = runIndexBuildStep(env.deps, { storeId: 'clicks' });

    // assess
    await expect(step).rejects.toBeInstanceOf(StepInputError);
  });
});
