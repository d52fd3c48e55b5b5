import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { LocalBackend } from '../../lib/cli/backends';
import { LOCAL_RESOURCES } from '../../lib/local/environment';
import type { RequestSummary } from '../../lib/rights/summary';
import { lethe } from '../helpers/cli';
import { openLakeBackend } from '../helpers/lake';
import { type BidRow, bidParquet, codecsOf, readBidParquet, rowGroupSizes } from '../helpers/parquet';
import { unzip } from '../helpers/zip';

/**
 * Parquet stores end to end through the CLI, one with an identity index and one without: a request
 * finds exactly the subject's rows (by a nested column, however the email is spelled), exports
 * them as JSON, and erasure rewrites each object without them, keeping schema, codec, row groups
 * and every other row's values; a write between Locate and Erase is kept, not clobbered.
 */

const INDEXED = 'lake-bids';
const PLAIN = 'lake-bids-raw';
const DATAMAP = `
version: 1
identityTypes:
  email:
    normalise: email
stores:
${[
  ['bids', INDEXED, true],
  ['bids-raw', PLAIN, false],
]
  .map(
    ([id, bucket, indexed]) => `  - id: ${id}
    kind: s3
    bucket: ${bucket}
    locate:
      - identity: email
        parquet: { prefix: "bids/", field: user.email }
    identityIndex: ${indexed}
    categories: [behaviour.bids]
    purpose: Reconciliation with ad exchanges
    lawfulBasis: legitimate-interests
    source: Bid logs of our ad exchange partners
    erase: { action: rewrite }
`,
  )
  .join('')}`;

const SUBJECT = 'ann.lee@example.com';
/** The subject as bid logs spell it. */
const SPELLINGS = [SUBJECT, ' Ann.Lee@Example.COM ', 'ANN.LEE@EXAMPLE.COM'];
const other = (n: number) => `person${n}@example.org`;

let bidCounter = 0;
function bid(email: string | null, name: string): BidRow {
  bidCounter += 1;
  return {
    bid_id: name,
    ts: 1_700_000_000_000n + BigInt(bidCounter) * 1_337n,
    price: bidCounter % 3 === 0 ? null : bidCounter / 100,
    // Some rows of others carry no user at all.
    user: bidCounter % 7 === 0 && !name.includes('#s') ? null : { email, buyeruid: `uid-${bidCounter}` },
    segments: bidCounter % 4 === 0 ? null : ['s1', `s${bidCounter}`],
  };
}

/** Rows of others, `count` of them, named `name#n`. */
const others = (name: string, count: number, from = 0) =>
  Array.from({ length: count }, (_, n) => bid(other(from + n), `${name}#${n}`));

describe('Parquet stores', () => {
  let root: string;
  let stateDir: string;
  let backend: LocalBackend;
  /** GetObject calls per bucket, by key (a ranged read counts as a call). */
  let reads: string[] = [];
  /** `beforeErase` runs before the EraseStore step, once. */
  const hooks: { beforeErase?: () => Promise<void> } = {};

  const put = (bucket: string, key: string, body: Buffer) =>
    backend.env.clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  const get = async (bucket: string, key: string) =>
    Buffer.from(
      await backend.env.clients.s3
        .send(new GetObjectCommand({ Bucket: bucket, Key: key }))
        .then((object) => object.Body?.transformToByteArray() ?? new Uint8Array()),
    );
  const run = (args: string[]) => lethe([...args, '--state-dir', stateDir], { localBackend: backend });
  const submit = async (type: 'access' | 'erasure') => {
    const outcome = await run([
      'request',
      'submit',
      '--type',
      type,
      '--subject',
      `email=${SPELLINGS[1]}`,
      '--jurisdiction',
      'gdpr',
      '--verified-by',
      'privacy-desk',
      '--json',
    ]);
    expect(outcome.err).toBe('');
    return JSON.parse(outcome.out) as RequestSummary;
  };

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'lethe-parquet-'));
    stateDir = join(root, 'state');
    writeFileSync(join(root, 'datamap.yaml'), DATAMAP);
    const init = await lethe(['init', '--datamap', join(root, 'datamap.yaml'), '--state-dir', stateDir]);
    expect(init.err).toBe('');
    backend = await openLakeBackend(stateDir, hooks, (bucket, key) => {
      reads.push(`${bucket}/${key}`);
    });
  });

  afterAll(async () => {
    await backend?.dispose();
    rmSync(root, { recursive: true, force: true });
  });

  it('finds, exports and erases exactly the subject rows of an indexed store, reading only its objects and the unindexed tail', async () => {
    // prepare: the subject in two objects (Snappy and gzip, 4-row groups), others in nine more
    const a = bidParquet(
      [
        ...others('a', 3),
        bid(SPELLINGS[0] ?? '', 'a#s1'),
        ...others('a', 5, 3),
        bid(SPELLINGS[1] ?? '', 'a#s2'),
      ],
      { codec: 'SNAPPY', rowGroupSize: 4 },
    );
    const b = bidParquet([bid(SPELLINGS[2] ?? '', 'b#s1'), ...others('b', 6)], {
      codec: 'GZIP',
      rowGroupSize: 3,
    });
    await put(INDEXED, 'bids/a.parquet', a);
    await put(INDEXED, 'bids/b.parquet', b);
    for (let n = 0; n < 9; n += 1)
      await put(INDEXED, `bids/others-${n}.parquet`, bidParquet(others(`o${n}`, 12, n * 3)));
    const build = await run(['index', '--store', 'bids', '--json']);
    expect(build.err).toBe('');
    expect(JSON.parse(build.out)).toEqual([
      expect.objectContaining({ storeId: 'bids', objects: 11, indexed: 11 }),
    ]);
    // Index lag: an object written after the build holds the subject too.
    await put(INDEXED, 'bids/late.parquet', bidParquet([...others('late', 2), bid(SUBJECT, 'late#s1')]));

    // act
    reads = [];
    const access = await submit('access');

    // assess: the subject's four rows as JSON (nested struct, timestamp as ISO 8601), read
    // from the three objects holding them and nothing else of the indexed store
    expect(access.status).toBe('completed');
    const exported = await exportedRows(access, 'bids');
    expect(exported.map((row) => row.bid_id).sort()).toEqual(['a#s1', 'a#s2', 'b#s1', 'late#s1']);
    expect(exported.find((row) => row.bid_id === 'a#s2')).toMatchObject({
      user: { email: SPELLINGS[1] },
      ts: expect.stringMatching(/^2023-11-14T\d\d:\d\d:\d\d\.\d{3}Z$/),
    });
    expect(new Set(reads.filter((read) => read.startsWith(`${INDEXED}/`)))).toEqual(
      new Set(['bids/a.parquet', 'bids/b.parquet', 'bids/late.parquet'].map((key) => `${INDEXED}/${key}`)),
    );

    // act: erasure, while an exchange rewrites b.parquet with one more row of someone else
    const bBefore = await readBidParquet(b);
    const extra = bid(other(99), 'b#late');
    hooks.beforeErase = async () => {
      await put(
        INDEXED,
        'bids/b.parquet',
        bidParquet([...bBefore.rows, extra], { codec: 'GZIP', rowGroupSize: 3 }),
      );
    };
    const othersBefore = await get(INDEXED, 'bids/others-3.parquet');
    const erasure = await submit('erasure');

    // assess: the subject's rows are gone; every other row is there, value for value, in order;
    // schema, codec, key-value metadata and row groups (less the removed rows) kept
    expect(erasure.status).toBe('completed');
    const aBefore = await readBidParquet(a);
    const aAfter = await readBidParquet(await get(INDEXED, 'bids/a.parquet'));
    expect(aAfter.rows).toEqual(aBefore.rows.filter((row) => !row.bid_id.includes('#s')));
    expect(aAfter.metadata.schema).toEqual(aBefore.metadata.schema);
    expect(codecsOf(aAfter.metadata)).toEqual(['SNAPPY']);
    expect(rowGroupSizes(aAfter.metadata)).toEqual([3, 4, 1]);
    expect(aAfter.metadata.key_value_metadata).toEqual(aBefore.metadata.key_value_metadata);
    const bAfter = await readBidParquet(await get(INDEXED, 'bids/b.parquet'));
    expect(bAfter.rows).toEqual([...bBefore.rows.slice(1), extra]);
    expect(codecsOf(bAfter.metadata)).toEqual(['GZIP']);
    expect(rowGroupSizes(bAfter.metadata)).toEqual([2, 3, 2]);
    expect(await get(INDEXED, 'bids/others-3.parquet')).toEqual(othersBefore);

    // assess: the index holds keyed hashes, no email in any spelling; a later request finds nothing
    const index = await backend.env.clients.dynamodb.send(
      new ScanCommand({ TableName: LOCAL_RESOURCES.identityIndexTable }),
    );
    const dump = JSON.stringify(index.Items).toLowerCase();
    expect(index.Items?.length).toBeGreaterThan(20);
    expect(dump).not.toContain('ann.lee');
    expect(dump).not.toContain('person1');
    reads = [];
    const again = await submit('access');
    expect(again.status).toBe('completed');
    expect(await exportedRows(again, 'bids')).toEqual([]);
    expect(reads.filter((read) => read.startsWith(`${INDEXED}/`))).toEqual([]);
  });

  it('finds and erases the subject rows of a store without an index by reading every object', async () => {
    // prepare
    const mixed = bidParquet([...others('m', 5), bid(SPELLINGS[2] ?? '', 'm#s1'), ...others('m', 3, 5)], {
      codec: 'UNCOMPRESSED',
      rowGroupSize: 5,
    });
    await put(PLAIN, 'bids/mixed.parquet', mixed);
    await put(PLAIN, 'bids/only-subject.parquet', bidParquet([bid(SUBJECT, 'only#s1')]));
    const othersOnly = bidParquet(others('x', 8));
    await put(PLAIN, 'bids/others.parquet', othersOnly);

    // act
    reads = [];
    const access = await submit('access');

    // assess
    expect(access.status).toBe('completed');
    expect((await exportedRows(access, 'bids-raw')).map((row) => row.bid_id).sort()).toEqual([
      'm#s1',
      'only#s1',
    ]);
    expect(new Set(reads.filter((read) => read.startsWith(`${PLAIN}/`)))).toEqual(
      new Set(['mixed', 'only-subject', 'others'].map((name) => `${PLAIN}/bids/${name}.parquet`)),
    );

    // act
    const erasure = await submit('erasure');

    // assess: the row is gone, the object that held only the subject is deleted, the rest unchanged
    expect(erasure.status).toBe('completed');
    const before = await readBidParquet(mixed);
    const after = await readBidParquet(await get(PLAIN, 'bids/mixed.parquet'));
    expect(after.rows).toEqual(before.rows.filter((row) => row.bid_id !== 'm#s1'));
    expect(codecsOf(after.metadata)).toEqual(['UNCOMPRESSED']);
    expect(rowGroupSizes(after.metadata)).toEqual([5, 3]);
    await expect(get(PLAIN, 'bids/only-subject.parquet')).rejects.toMatchObject({ name: 'NoSuchKey' });
    expect(await get(PLAIN, 'bids/others.parquet')).toEqual(othersOnly);
  });
});

/** The rows of a store in a request's export package. */
async function exportedRows(summary: RequestSummary, storeId: string): Promise<Record<string, unknown>[]> {
  const files = await unzip(readFileSync(summary.export?.path ?? ''));
  const data = JSON.parse(files.get(`data/${storeId}.json`)?.toString('utf8') ?? '{"records":[]}') as {
    records: { data: Record<string, unknown> }[];
  };
  return data.records.map((record) => record.data);
}
