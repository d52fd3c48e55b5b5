import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { indexQueuedChanges, objectChangesOf } from '../../../lib/aws/index-events';
import type { S3Store } from '../../../lib/datamap/schema';
import { indexHash } from '../../../lib/lake';
import { objectRecord, objectsHolding } from '../../../lib/lake/table';
import { LOCAL_RESOURCES, type LocalEnvironment } from '../../../lib/local/environment';
import { lakeCookie, lakeLog, openLakeEnvironment } from '../../helpers/lake';

/**
 * The identity indexer as S3 event notifications drive it through SQS, against dynalite and
 * s3rver: what a message reports is indexed from the object as it is now.
 */

const BUCKET = 'lake-events';

/** An SQS batch of S3 event notifications, one message per event (as S3 sends them). */
function sqsBatch(events: { id: string; name: string; bucket?: string; key: string; eTag?: string }[]) {
  return {
    Records: events.map((event) => ({
      messageId: event.id,
      body: JSON.stringify({
        Records: [
          {
            eventName: event.name,
            s3: {
              bucket: { name: event.bucket ?? BUCKET },
              object: { key: encodeURIComponent(event.key).replace(/%20/g, '+'), eTag: event.eTag },
            },
          },
        ],
      }),
    })),
  };
}

describe('the identity indexer (dynalite, s3rver)', () => {
  let env: LocalEnvironment;
  let store: S3Store;
  const hash = (n: number) =>
    indexHash(env.deps.keys.subjectHash, { type: 'cookieId', value: lakeCookie(n) });
  const put = (key: string, body: string) =>
    env.clients.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));

  let close: () => Promise<void> = async () => {};

  beforeAll(async () => {
    ({ env, store, close } = await openLakeEnvironment(BUCKET));
  });

  afterAll(() => close());

  it('indexes created objects, drops removed ones, and passes by other buckets, prefixes and test events', async () => {
    // prepare
    await put('clicks/day 1.jsonl', lakeLog('d1', [lakeCookie(1), lakeCookie(2)]));
    const second = await put('clicks/day-2.jsonl', lakeLog('d2', [lakeCookie(2)]));
    await put('other/day-3.jsonl', lakeLog('d3', [lakeCookie(3)]));

    // act
    const response = await indexQueuedChanges(env.deps, {
      Records: [
        ...sqsBatch([
          { id: 'm1', name: 'ObjectCreated:Put', key: 'clicks/day 1.jsonl' },
          { id: 'm2', name: 'ObjectCreated:Put', key: 'clicks/day-2.jsonl', eTag: second.ETag?.slice(1, -1) },
          { id: 'm3', name: 'ObjectCreated:Put', key: 'other/day-3.jsonl' },
          { id: 'm4', name: 'ObjectCreated:Put', bucket: 'someone-else', key: 'clicks/x.jsonl' },
        ]).Records,
        { messageId: 'm5', body: JSON.stringify({ Event: 's3:TestEvent', Bucket: BUCKET }) },
      ],
    });

    // assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(await objectsHolding(env.deps, store.id, [hash(1)])).toEqual(new Set(['clicks/day 1.jsonl']));
    expect(await objectsHolding(env.deps, store.id, [hash(2)])).toEqual(
      new Set(['clicks/day 1.jsonl', 'clicks/day-2.jsonl']),
    );
    expect(await objectsHolding(env.deps, store.id, [hash(3)])).toEqual(new Set());
    expect((await objectRecord(env.deps, store.id, 'clicks/day-2.jsonl'))?.etag).toBe(second.ETag);

    // act: the first log is deleted; its event comes twice
    await env.clients.s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'clicks/day 1.jsonl' }));
    const removed = sqsBatch([
      { id: 'm6', name: 'ObjectRemoved:Delete', key: 'clicks/day 1.jsonl' },
      { id: 'm7', name: 'ObjectRemoved:Delete', key: 'clicks/day 1.jsonl' },
    ]);
    expect(await indexQueuedChanges(env.deps, removed)).toEqual({ batchItemFailures: [] });

    // assess: nothing of it is left; the other log keeps its entries; no raw identifier anywhere
    expect(await objectsHolding(env.deps, store.id, [hash(1)])).toEqual(new Set());
    expect(await objectsHolding(env.deps, store.id, [hash(2)])).toEqual(new Set(['clicks/day-2.jsonl']));
    expect(await objectRecord(env.deps, store.id, 'clicks/day 1.jsonl')).toBeUndefined();
    const dump = JSON.stringify(
      (await env.clients.dynamodb.send(new ScanCommand({ TableName: LOCAL_RESOURCES.identityIndexTable })))
        .Items,
    );
    for (const n of [1, 2, 3]) expect(dump).not.toContain(lakeCookie(n));
  });

  it('reports the messages it could not index, and only those', async () => {
    // act
    const response = await indexQueuedChanges(env.deps, {
      Records: [
        { messageId: 'bad', body: '{"not":"an S3 event"}' },
        ...sqsBatch([{ id: 'good', name: 'ObjectRemoved:Delete', key: 'clicks/never-there.jsonl' }]).Records,
      ],
    });

    // assess
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'bad' }] });
  });

  it('reads keys as S3 encodes them and quotes the ETag as the API does', () => {
    expect(
      objectChangesOf(
        sqsBatch([{ id: 'x', name: 'ObjectCreated:Put', key: 'clicks/a b+c.jsonl', eTag: 'abc' }]).Records[0]
          ?.body ?? '',
      ),
    ).toEqual([{ bucket: BUCKET, key: 'clicks/a b+c.jsonl', change: 'created', etag: '"abc"' }]);
  });
});
