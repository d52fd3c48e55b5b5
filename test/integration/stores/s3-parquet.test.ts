import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { CompressionCodec } from 'hyparquet';
import { parseDataMap } from '../../../lib/datamap/load';
import type { S3Store } from '../../../lib/datamap/schema';
import {
  createBucketIfMissing,
  createLocalClients,
  type LocalClients,
  type LocalServers,
  startLocalServers,
} from '../../../lib/local/servers';
import { enableParquetRewrites, eraseInS3Store, locateInS3Store } from '../../../lib/stores/s3';
import { canWriteCodec } from '../../../lib/stores/s3/parquet-file';
import { rewriteParquetObject } from '../../../lib/stores/s3/parquet-rewrite';
import { type BidRow, bidParquet, codecsOf, readBidParquet, rowGroupSizes } from '../../helpers/parquet';

/**
 * The Parquet side of the S3 adapter against s3rver: every codec lethe can write is kept by a
 * rewrite, one it cannot write is refused with a named error and the object left as it was, and a
 * large object is read and rewritten by ranges (row group by row group) with the same result.
 */

const BUCKET = 'parquet-bids';
const dataMap = parseDataMap(
  `
version: 1
identityTypes:
  email:
    normalise: email
  cookieId:
    normalise: opaque
    caseSensitive: false
stores:
  - id: bids
    kind: s3
    bucket: ${BUCKET}
    locate:
      - identity: email
        parquet: { prefix: "bids/", field: user.email }
    links:
      - { identity: cookieId, attribute: user.buyeruid, trust: verified }
    categories: [behaviour.bids]
    purpose: Reconciliation
    lawfulBasis: legitimate-interests
    source: Exchanges
    erase: { action: rewrite }
`,
  'datamap.yaml',
);
const store = dataMap.stores[0] as S3Store;
const noSleep = { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2, sleep: async () => undefined };
const SUBJECT = { type: 'email', value: 'ann.lee@example.com' };

function rows(count: number, subjectEvery: number): BidRow[] {
  return Array.from({ length: count }, (_, n) => ({
    bid_id: `bid-${n}`,
    ts: 1_700_000_000_000n + BigInt(n),
    price: n % 5 === 0 ? null : n / 4,
    user: {
      email:
        n % subjectEvery === 0
          ? n % 2
            ? ' ANN.Lee@example.com'
            : 'ann.lee@example.com'
          : `p${n}@example.org`,
      buyeruid: `UID-${n}`,
    },
    segments: n % 3 === 0 ? null : [`s${n}`],
  }));
}

describe('Parquet objects in S3', () => {
  let servers: LocalServers;
  let clients: LocalClients;
  let s3: S3Client;

  const put = (key: string, body: Buffer) =>
    s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
  const get = async (key: string) =>
    Buffer.from(
      (await (
        await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))
      ).Body?.transformToByteArray()) ?? new Uint8Array(),
    );
  const locateAndErase = async (bufferLimit?: number) => {
    const location = await locateInS3Store(store, [SUBJECT], { ...clients }, dataMap);
    const erasure = await eraseInS3Store(
      store,
      location.records,
      { ...clients },
      {
        hmacKey: Buffer.from('k'),
        retry: noSleep,
        ...(bufferLimit ? { rewriteBufferLimitBytes: bufferLimit } : {}),
      },
      dataMap,
    );
    return { location, erasure };
  };

  beforeAll(async () => {
    enableParquetRewrites(rewriteParquetObject);
    servers = await startLocalServers();
    clients = createLocalClients(servers);
    s3 = clients.s3;
    await createBucketIfMissing(s3, BUCKET);
  });

  afterAll(async () => {
    clients.s3.destroy();
    clients.dynamodb.destroy();
    await servers.stop();
  });

  const writable = (['UNCOMPRESSED', 'SNAPPY', 'GZIP', 'BROTLI', 'ZSTD'] as CompressionCodec[]).filter(
    canWriteCodec,
  );
  it.each(writable)('rewrites a %s object in its codec, every other row value for value', async (codec) => {
    // prepare
    const source = bidParquet(rows(40, 4), { codec, rowGroupSize: 16 });
    const key = `bids/${codec}.parquet`;
    await put(key, source);

    // act
    const { location, erasure } = await locateAndErase();

    // assess: ten rows found (every 4th), links revealed, then removed; the rest kept exactly
    expect(location.located).toBe(10);
    expect(location.revealed.map((identity) => identity.value)).toContain('uid-4');
    expect(erasure.erased).toBe(10);
    const before = await readBidParquet(source);
    const after = await readBidParquet(await get(key));
    expect(after.rows).toEqual(before.rows.filter((_row, n) => n % 4 !== 0));
    expect(after.metadata.schema).toEqual(before.metadata.schema);
    expect(codecsOf(after.metadata)).toEqual([codec]);
    expect(rowGroupSizes(after.metadata)).toEqual([12, 12, 6]);
  });

  it('reads and rewrites a large object by ranges, one row group at a time, with the same result', async () => {
    // prepare: 2,000 rows in 10 row groups; the subject in every 50th
    const source = bidParquet(rows(2000, 50), { codec: 'SNAPPY', rowGroupSize: 200 });
    await put('bids/large.parquet', source);
    const ranged: string[] = [];
    s3.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { Range?: string };
        if (context.commandName === 'GetObjectCommand' && input.Range) ranged.push(input.Range);
        return next(args);
      },
      { step: 'initialize', name: 'countRanges' },
    );

    // act: objects over 1 KiB are read by ranges
    const { erasure } = await locateAndErase(1024);
    s3.middlewareStack.remove('countRanges');

    // assess
    expect(erasure.erased).toBe(40);
    expect(ranged.length).toBeGreaterThan(10);
    const before = await readBidParquet(source);
    const after = await readBidParquet(await get('bids/large.parquet'));
    expect(after.rows).toEqual(before.rows.filter((_row, n) => n % 50 !== 0));
    expect(rowGroupSizes(after.metadata)).toEqual(Array.from({ length: 10 }, () => 196));
  });

  it('refuses to rewrite an object in a codec it cannot write, and leaves it as it was', async () => {
    // prepare: an LZ4_RAW object holding the subject (readable, but lethe cannot write LZ4_RAW)
    const source = bidParquet(rows(12, 3), { codec: 'LZ4_RAW', rowGroupSize: 6 });
    await put('bids/lz4.parquet', source);

    // act
    const location = await locateInS3Store(store, [SUBJECT], { ...clients }, dataMap);
    const erased = eraseInS3Store(
      store,
      location.records,
      { ...clients },
      { hmacKey: Buffer.from('k'), retry: noSleep },
      dataMap,
    );

    // assess: found, refused by name, not a byte changed; the message names no key or value
    expect(location.records.filter((record) => record.key === 'bids/lz4.parquet')).toHaveLength(1);
    await expect(erased).rejects.toMatchObject({
      name: 'ParquetCodecUnsupportedError',
      message: expect.stringContaining('LZ4_RAW'),
    });
    await expect(erased).rejects.not.toMatchObject({
      message: expect.stringMatching(/lz4\.parquet|ann\.lee/),
    });
    expect(await get('bids/lz4.parquet')).toEqual(source);
  });
});
