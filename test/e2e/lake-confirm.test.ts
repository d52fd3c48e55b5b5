import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { LocalBackend } from '../../lib/cli/backends';
import type { RequestSummary } from '../../lib/rights/summary';
import { lethe, requestSubmitArgs } from '../helpers/cli';
import { lakeCookie, lakeDataMapYaml, lakeLog, othersLog, watchReads } from '../helpers/lake';
import { setLastModified } from '../helpers/retention';

/**
 * Confirm after an erasure in a store of shared objects, indexed or not, reads again only the
 * objects Erase rewrote and those modified since Locate began: never the rest of the lake.
 */

const BUCKET = 'lake-confirm';
const DAY_MS = 24 * 60 * 60 * 1000;

const cookie = lakeCookie;
const logBody = lakeLog;
const SUBJECT = cookie(1);

describe.each([
  { indexed: false, label: 'without an index' },
  { indexed: true, label: 'with an identity index' },
])('Confirm on a JSON-lines store $label', ({ indexed }) => {
  let root: string;
  let stateDir: string;
  let backend: LocalBackend;
  let state = '';
  /** GetObject calls on the store's bucket, with the state that made them. */
  let reads: { state: string; key: string }[] = [];
  let beforeErase: (() => Promise<void>) | undefined;

  const put = async (key: string, body: string, age = DAY_MS) => {
    await backend.env.clients.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
    if (age > 0)
      await setLastModified(stateDir, BUCKET, key, new Date(Date.now() - age), Buffer.byteLength(body));
  };
  /** Makes an object a day old (the rewrites of an earlier erasure, as a day later). */
  const age = async (key: string) => {
    const head = await backend.env.clients.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
    await setLastModified(stateDir, BUCKET, key, new Date(Date.now() - DAY_MS), head.ContentLength ?? 0);
  };
  const run = (args: string[]) => lethe([...args, '--state-dir', stateDir], { localBackend: backend });
  /** `count` day-old logs of other people, 10 lines each. */
  const writeOthers = async (from: number, count: number) => {
    for (let n = from; n < from + count; n += 1) {
      const log = othersLog(n, 10);
      await put(log.key, log.body);
    }
  };
  const erase = async () => {
    const outcome = await lethe(requestSubmitArgs(stateDir, 'erasure', [`cookieId=${SUBJECT}`]), {
      localBackend: backend,
    });
    expect(outcome.err).toBe('');
    return JSON.parse(outcome.out) as RequestSummary;
  };
  const confirmReads = () =>
    reads
      .filter((read) => read.state === 'Confirm')
      .map((read) => read.key)
      .sort();

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'lethe-lake-confirm-'));
    stateDir = join(root, 'state');
    writeFileSync(join(root, 'datamap.yaml'), lakeDataMapYaml(BUCKET, { indexed }));
    expect(
      (await lethe(['init', '--datamap', join(root, 'datamap.yaml'), '--state-dir', stateDir])).code,
    ).toBe(0);
    backend = await LocalBackend.open({
      stateDir,
      faults: async (stateName) => {
        state = stateName;
        if (stateName !== 'EraseStore' || !beforeErase) return;
        const once = beforeErase;
        beforeErase = undefined;
        await once();
      },
    });
    watchReads(backend.env.clients.s3, BUCKET, (key) => reads.push({ state, key }));
  });

  afterAll(async () => {
    await backend?.dispose();
    rmSync(root, { recursive: true, force: true });
  });

  it('reads what Erase rewrote and what changed since Locate, at two lake sizes', async () => {
    // prepare: the subject in two day-old logs among 10 of others
    await put('clicks/a.jsonl', logBody('a', [cookie(20), SUBJECT]));
    await put('clicks/b.jsonl', logBody('b', [SUBJECT, cookie(21)]));
    await writeOthers(0, 10);
    if (indexed) expect((await run(['index'])).code).toBe(0);
    // someone writes a log (of another person) while the erasure runs
    beforeErase = () => put('clicks/during-1.jsonl', logBody('d1', [cookie(22)]), 0);

    // act
    reads = [];
    const small = await erase();

    // assess: the rewritten logs and the one written meanwhile, nothing else
    expect(small.status).toBe('completed');
    expect(confirmReads()).toEqual(['clicks/a.jsonl', 'clicks/b.jsonl', 'clicks/during-1.jsonl']);

    // prepare: a day later the subject is back in one more log; the lake grew fivefold (others only)
    for (const key of ['clicks/a.jsonl', 'clicks/b.jsonl', 'clicks/during-1.jsonl']) await age(key);
    await put('clicks/c.jsonl', logBody('c', [SUBJECT, cookie(23)]));
    await writeOthers(10, 50);
    if (indexed) expect((await run(['index'])).code).toBe(0);
    beforeErase = () => put('clicks/during-2.jsonl', logBody('d2', [cookie(24)]), 0);

    // act
    reads = [];
    const large = await erase();

    // assess: as many reads as on the small lake
    expect(large.status).toBe('completed');
    expect(confirmReads()).toEqual(['clicks/c.jsonl', 'clicks/during-2.jsonl']);
  });
});
