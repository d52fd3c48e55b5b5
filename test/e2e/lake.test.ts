import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { LocalBackend } from '../../lib/cli/backends';
import { LOCAL_RESOURCES } from '../../lib/local/environment';
import type { RequestSummary } from '../../lib/rights/summary';
import { lethe, requestSubmitArgs } from '../helpers/cli';
import { lakeCookie, lakeDataMapYaml, lakeLog, openLakeBackend, othersLog } from '../helpers/lake';
import { unzip } from '../helpers/zip';

/**
 * A JSON-lines store with an identity index, end to end through the CLI: a request reads the
 * objects holding its subject and those the index does not describe yet, finds exactly the
 * subject's lines, and erasure leaves every other line byte for byte.
 */

const BUCKET = 'lake-clicks';
const DATAMAP = lakeDataMapYaml(BUCKET, { retention: true });

const cookie = lakeCookie;
const logBody = lakeLog;
const SUBJECT = cookie(1);

describe('an indexed JSON-lines store', () => {
  let root: string;
  let stateDir: string;
  let backend: LocalBackend;
  /** GetObject calls on the store's bucket, by key. */
  let reads: string[] = [];
  /** `beforeErase` runs before the EraseStore step, once. */
  const hooks: { beforeErase?: () => Promise<void> } = {};

  const put = (key: string, body: string) =>
    backend.env.clients.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
  const get = async (key: string) =>
    (await backend.env.clients.s3
      .send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))
      .then((object) => object.Body?.transformToString() ?? '')) as string;
  const run = (args: string[]) => lethe([...args, '--state-dir', stateDir], { localBackend: backend });
  const submit = async (type: 'access' | 'erasure') => {
    const outcome = await lethe(requestSubmitArgs(stateDir, type, [`cookieId=${SUBJECT.toUpperCase()}`]), {
      localBackend: backend,
    });
    expect(outcome.err).toBe('');
    return JSON.parse(outcome.out) as RequestSummary;
  };
  /** Objects of other people only: `count` logs of 20 lines each. */
  const writeOthers = async (from: number, count: number) => {
    for (let n = from; n < from + count; n += 1) {
      const log = othersLog(n, 20);
      await put(log.key, log.body);
    }
  };

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'lethe-lake-'));
    stateDir = join(root, 'state');
    writeFileSync(join(root, 'datamap.yaml'), DATAMAP);
    expect(
      (await lethe(['init', '--datamap', join(root, 'datamap.yaml'), '--state-dir', stateDir])).code,
    ).toBe(0);
    backend = await openLakeBackend(stateDir, hooks, (bucket, key) => {
      if (bucket === BUCKET) reads.push(key);
    });
  });

  afterAll(async () => {
    await backend?.dispose();
    rmSync(root, { recursive: true, force: true });
  });

  it('reads the subject objects and the unindexed ones only, at any lake size, and erases exactly the subject lines', async () => {
    // prepare: the subject in two indexed logs, 10 logs of others; then the index is built
    await put('clicks/a.jsonl', logBody('a', [cookie(20), SUBJECT, cookie(21), SUBJECT]));
    await put('clicks/b.jsonl', logBody('b', [SUBJECT.toUpperCase(), cookie(22)]));
    await put('clicks/c.jsonl', logBody('c', [cookie(23), cookie(24)]));
    await writeOthers(0, 10);
    const build = await run(['index', '--json']);
    expect(build.err).toBe('');
    expect(JSON.parse(build.out)).toEqual([
      expect.objectContaining({ storeId: 'clicks', objects: 13, indexed: 13 }),
    ]);
    // Index lag: a log written after the build, and one rewritten since by someone else.
    await put('clicks/late.jsonl', logBody('late', [cookie(25), SUBJECT]));
    await put('clicks/c.jsonl', logBody('c2', [cookie(23), SUBJECT, cookie(24)]));

    // act: an access request on the small lake
    reads = [];
    const small = await submit('access');
    const smallReads = [...reads].sort();

    // assess: exactly the subject's five lines, read from the four objects that hold them
    expect(small.status).toBe('completed');
    const exported = await exportedLines(small);
    expect(exported.map((line) => line.at).sort()).toEqual(['a#1', 'a#3', 'b#0', 'c2#1', 'late#1']);
    expect(new Set(smallReads)).toEqual(
      new Set(['clicks/a.jsonl', 'clicks/b.jsonl', 'clicks/c.jsonl', 'clicks/late.jsonl']),
    );

    // act: the lake grows fivefold (others only) and the index is brought up to date
    await writeOthers(10, 40);
    const rebuilt = await run(['index', '--json']);
    expect(JSON.parse(rebuilt.out)).toEqual([
      expect.objectContaining({ objects: 54, indexed: 42, unchanged: 12 }),
    ]);
    reads = [];
    const large = await submit('access');

    // assess: the same reads as on the small lake
    expect(large.status).toBe('completed');
    expect([...reads].sort()).toEqual(smallReads);

    // act: erasure, while someone appends a line of another person to a log of the subject
    const before = new Map<string, string>();
    for (const key of ['clicks/a.jsonl', 'clicks/b.jsonl', 'clicks/c.jsonl', 'clicks/others-003.jsonl'])
      before.set(key, await get(key));
    hooks.beforeErase = async () => {
      await put(
        'clicks/b.jsonl',
        `${before.get('clicks/b.jsonl')}${JSON.stringify({ cookieId: cookie(30), at: 'b#late' })}\n`,
      );
    };
    reads = [];
    const erasure = await submit('erasure');
    const erasureReads = [...reads];

    // assess: the subject's lines are gone, everyone else's are byte for byte where they were,
    // the line written meanwhile included; the other logs were read by nobody but the index
    expect(erasure.status).toBe('completed');
    const withoutSubject = (text: string) =>
      text
        .split('\n')
        .filter((line) => !line.toLowerCase().includes(SUBJECT))
        .join('\n');
    expect(await get('clicks/a.jsonl')).toBe(withoutSubject(before.get('clicks/a.jsonl') ?? ''));
    expect(await get('clicks/b.jsonl')).toBe(
      `${withoutSubject(before.get('clicks/b.jsonl') ?? '')}${JSON.stringify({ cookieId: cookie(30), at: 'b#late' })}\n`,
    );
    expect(await get('clicks/c.jsonl')).toBe(withoutSubject(before.get('clicks/c.jsonl') ?? ''));
    expect(await get('clicks/others-003.jsonl')).toBe(before.get('clicks/others-003.jsonl'));
    expect(erasureReads.filter((key) => key.startsWith('clicks/others-'))).toEqual([]);

    // assess: the index holds keyed hashes and object keys, no cookie id in any spelling
    const index = await backend.env.clients.dynamodb.send(
      new ScanCommand({ TableName: LOCAL_RESOURCES.identityIndexTable }),
    );
    const dump = JSON.stringify(index.Items).toLowerCase();
    expect(index.Items?.length).toBeGreaterThan(50);
    for (let n = 0; n < 60; n += 1) expect(dump).not.toContain(cookie(n).toLowerCase().slice(0, 13));

    // act: a later request for the same subject
    reads = [];
    const again = await submit('access');
    const laterReads = [...reads];

    // assess: nothing of the subject is left, and the index no longer points at its logs
    expect(again.status).toBe('completed');
    expect(await exportedLines(again)).toEqual([]);
    expect(laterReads).toEqual([]);
    const status = await run(['index', 'status', '--json']);
    expect(JSON.parse(status.out)).toEqual([
      expect.objectContaining({ storeId: 'clicks', objectsIndexed: 54, watermark: expect.any(String) }),
    ]);
  });

  it('forgets what a sweep deleted: no item and no entry is left of the purged logs', async () => {
    // act: a sweep a year from now purges every log
    const sweep = await run(['sweep', '--store', 'clicks', '--now', '2099-01-01T00:00:00Z', '--json']);

    // assess
    expect(sweep.err).toBe('');
    expect(JSON.parse(sweep.out)).toMatchObject({ status: 'SUCCEEDED' });
    const status = await run(['index', 'status', '--json']);
    expect(JSON.parse(status.out)).toEqual([expect.objectContaining({ objectsIndexed: 0 })]);
    const index = await backend.env.clients.dynamodb.send(
      new ScanCommand({ TableName: LOCAL_RESOURCES.identityIndexTable }),
    );
    expect((index.Items ?? []).map((item) => item.pk?.S?.slice(0, 2))).toEqual(['s#']);
  });
});

/** The JSON lines of the store in a request's export package. */
async function exportedLines(summary: RequestSummary): Promise<Record<string, unknown>[]> {
  const files = await unzip(readFileSync(summary.export?.path ?? ''));
  const data = JSON.parse(files.get('data/clicks.json')?.toString('utf8') ?? '{"records":[]}') as {
    records: { data: Record<string, unknown> }[];
  };
  return data.records.map((record) => record.data);
}
