import { createHash } from 'node:crypto';
import { join } from 'node:path';
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import fc from 'fast-check';
import { type Identity, identityKey, normaliseIdentity } from '../../../lib/datamap/identity';
import { getStore, loadDataMap } from '../../../lib/datamap/load';
import type { DataMap, S3Store } from '../../../lib/datamap/schema';
import {
  createBucketIfMissing,
  createLocalClients,
  type LocalClients,
  type LocalServers,
  startLocalServers,
} from '../../../lib/local/servers';
import {
  type ExportedS3Object,
  eraseInS3Store,
  locateInS3Store,
  readS3Records,
  UnsafePrefixValueError,
} from '../../../lib/stores/s3';
import type { ExportedRecord, LocatedLines, LocatedObject } from '../../../lib/stores/types';
import { propertyRun } from '../../helpers/property';
import { listAll } from '../../helpers/stores';

const dataMap = loadDataMap(join(__dirname, '../../../examples/adtech/datamap.yaml'));
const noSleep = { maxAttempts: 5, baseDelayMs: 1, maxDelayMs: 2, sleep: async () => undefined };
const eraseOptions = { hmacKey: Buffer.from('test-key'), retry: noSleep };

function s3Store(map: DataMap, id: string): S3Store {
  const store = getStore(map, id);
  if (store.kind !== 's3') throw new Error(`${id} is not an S3 store`);
  return store;
}

const calls = s3Store(dataMap, 'call-recordings');
const recruitment = s3Store(dataMap, 'recruitment');
const clickstream = s3Store(dataMap, 'clickstream');
/** Recruitment as an older upload form left it: some folders named as the applicant typed the address. */
const legacyRecruitment: S3Store = { ...recruitment, bucket: 'adtech-recruitment-legacy' };
const CLEO_AS_TYPED = ' Cleo.Applicant@Example.COM ';
const CLEO = 'cleo.applicant@example.com';

// Subjects
const BIG_PHONE = '+4930111111';
const PHONE = '+4930123';
const NEIGHBOUR_PHONE = '+49301234';
const COOKIE_A = 'aaaaaaaa-0000-4000-8000-000000000001';
const COOKIE_B = 'bbbbbbbb-0000-4000-8000-000000000002';
const COOKIE_C = 'cccccccc-0000-4000-8000-000000000003';
const COOKIE_D = 'dddddddd-0000-4000-8000-000000000004';

const phone = (value: string): Identity => ({ type: 'phone', value });
const email = (value: string): Identity => ({ type: 'email', value });
const cookie = (value: string): Identity => ({ type: 'cookieId', value });

/** One seeded JSON-lines file: each raw line (without "\n") and whose it is. */
interface LinesFile {
  key: string;
  lines: { text: string; owner?: string }[];
  trailingNewline: boolean;
}

const json = (value: unknown) => JSON.stringify(value);

const clickFiles: LinesFile[] = [
  {
    key: 'clicks/2024-05-01.jsonl',
    trailingNewline: true,
    lines: [
      { text: json({ cookieId: COOKIE_B, ts: 1, url: '/a' }), owner: COOKIE_B },
      { text: json({ cookieId: COOKIE_A, ts: 2, url: '/b', phone: '+49 30 555 0001' }), owner: COOKIE_A },
      {
        text: '{"cookieId": "cccccccc-0000-4000-8000-000000000003",  "ts":3, "ua":"Mozilla/5.0 (ünïcödé)"}',
        owner: COOKIE_C,
      },
      { text: 'not json at all {' },
      { text: json({ cookieId: COOKIE_A.toUpperCase(), ts: 5 }), owner: COOKIE_A },
      { text: `${json({ cookieId: COOKIE_B, ts: 6 })}\r`, owner: COOKIE_B },
      { text: '' },
      { text: json({ cookieId: 12345, ts: 8 }) },
      { text: json({ user: { cookieId: COOKIE_A }, ts: 9 }) },
      { text: json({ cookieId: COOKIE_D, ts: 10, phone: 'not a phone' }), owner: COOKIE_D },
      { text: json({ cookieId: COOKIE_A, ts: 11 }), owner: COOKIE_A },
    ],
  },
  {
    key: 'clicks/2024-05-02.jsonl',
    trailingNewline: true,
    lines: [
      { text: json({ cookieId: COOKIE_A, ts: 20 }), owner: COOKIE_A },
      { text: json({ cookieId: ` ${COOKIE_A} `, ts: 21 }), owner: COOKIE_A },
    ],
  },
  {
    key: 'clicks/2024-05-03.jsonl',
    trailingNewline: false,
    lines: [
      { text: json({ cookieId: COOKIE_B, ts: 30 }), owner: COOKIE_B },
      { text: json({ cookieId: COOKIE_A, ts: 31 }), owner: COOKIE_A },
    ],
  },
  {
    key: 'clicks/2024-05-04.jsonl',
    trailingNewline: true,
    lines: [
      { text: json({ cookieId: COOKIE_C, ts: 40 }), owner: COOKIE_C },
      { text: json({ cookieId: COOKIE_D, ts: 41 }), owner: COOKIE_D },
    ],
  },
  {
    key: 'clicks/eu/2024-05-05.jsonl',
    trailingNewline: true,
    lines: [{ text: json({ cookieId: COOKIE_A, ts: 50, region: 'eu' }), owner: COOKIE_A }],
  },
  {
    // Large enough to span many stream chunks and several 64 KiB output chunks.
    key: 'clicks/2024-05-06.jsonl',
    trailingNewline: true,
    lines: Array.from({ length: 4000 }, (_, i) => {
      const owner = [COOKIE_B, COOKIE_C, COOKIE_D][i % 3] as string;
      return {
        text: json({ cookieId: owner, ts: 600 + i, url: `/page/${i}`, pad: 'x'.repeat(i % 50) }),
        owner,
      };
    }),
  },
];

/** Outside the rule's prefix: never located, never touched, although it holds the subject's line. */
const ARCHIVE_KEY = 'archive/2024-04-30.jsonl';

function fileBytes(file: LinesFile, without?: string): Buffer {
  const kept = file.lines.filter((line) => without === undefined || line.owner !== without);
  const text = kept.map((line) => line.text).join('\n');
  return Buffer.from(kept.length > 0 && file.trailingNewline ? `${text}\n` : text, 'utf8');
}

// -----------------------------------------------------------------------------------------------
// Snapshots: every object of every bucket, with a digest of its body and its headers
// -----------------------------------------------------------------------------------------------

interface ObjectState {
  sha256: string;
  contentType: string | undefined;
  metadata: Record<string, string>;
}
type Snapshot = Map<string, ObjectState>;

async function getBytes(s3: S3Client, bucket: string, key: string): Promise<Buffer> {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await object.Body!.transformToByteArray());
}

async function snapshot(s3: S3Client): Promise<Snapshot> {
  const buckets = (await s3.send(new ListBucketsCommand({}))).Buckets ?? [];
  const entries: [string, string][] = [];
  for (const bucket of buckets) {
    for (const key of await listAll(s3, bucket.Name as string)) entries.push([bucket.Name as string, key]);
  }
  const result: Snapshot = new Map();
  for (let i = 0; i < entries.length; i += 32) {
    await Promise.all(
      entries.slice(i, i + 32).map(async ([bucket, key]) => {
        const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        const body = Buffer.from(await object.Body!.transformToByteArray());
        result.set(`${bucket}/${key}`, {
          sha256: createHash('sha256').update(body).digest('hex'),
          contentType: object.ContentType,
          metadata: object.Metadata ?? {},
        });
      }),
    );
  }
  return result;
}

/**
 * After an erasure: exactly `removed` are gone, exactly `rewritten` changed, and every other object
 * of every bucket is byte for byte (and header for header) what it was.
 */
function expectOnlyChanged(
  before: Snapshot,
  after: Snapshot,
  change: { removed?: string[]; rewritten?: string[] },
): void {
  const removed = new Set(change.removed ?? []);
  const rewritten = new Set(change.rewritten ?? []);
  for (const key of removed) expect(after.has(key)).toBe(false);
  const expected = new Map([...before].filter(([key]) => !removed.has(key) && !rewritten.has(key)));
  const actual = new Map([...after].filter(([key]) => !rewritten.has(key)));
  expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
  for (const [key, state] of expected) expect({ key, ...actual.get(key) }).toEqual({ key, ...state });
  for (const key of rewritten) {
    expect(after.has(key)).toBe(true);
    expect(after.get(key)?.sha256).not.toBe(before.get(key)?.sha256);
  }
}

async function collect(iterable: AsyncIterable<ExportedRecord>): Promise<ExportedRecord[]> {
  const records: ExportedRecord[] = [];
  for await (const record of iterable) records.push(record);
  return records;
}

async function putAll(s3: S3Client, bucket: string, objects: { key: string; body: string | Buffer }[]) {
  for (let i = 0; i < objects.length; i += 32) {
    await Promise.all(
      objects
        .slice(i, i + 32)
        .map(({ key, body }) => s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }))),
    );
  }
}

describe('S3 store adapter against s3rver', () => {
  let servers: LocalServers;
  let clients: LocalClients;
  let s3: S3Client;
  let state: Snapshot;
  const bigKeys = Array.from(
    { length: 1005 },
    (_, i) => `calls/${BIG_PHONE}/2024-01-01T10-00-${String(i).padStart(4, '0')}.wav`,
  );
  const wav = Buffer.from([0x52, 0x49, 0x46, 0x46, 0xff, 0xfe, 0x00, 0x80, 0xc3, 0x28]);

  beforeAll(async () => {
    servers = await startLocalServers();
    clients = createLocalClients(servers);
    s3 = clients.s3;
    for (const store of dataMap.stores) {
      if (store.kind === 's3') await createBucketIfMissing(s3, store.bucket);
    }
    // call recordings: one subject past one listing page and one DeleteObjects batch
    await putAll(
      s3,
      calls.bucket,
      bigKeys.map((key, i) => ({ key, body: `recording ${i}` })),
    );
    await s3.send(
      new PutObjectCommand({
        Bucket: calls.bucket,
        Key: `calls/${PHONE}/2024-02-01.wav`,
        Body: wav,
        ContentType: 'audio/wav',
      }),
    );
    await s3.send(
      new PutObjectCommand({
        Bucket: calls.bucket,
        Key: `calls/${PHONE}/2024-02-01.transcript.txt`,
        Body: 'Caller: Grüß Gott, I would like to book an ad.\n',
        ContentType: 'text/plain; charset=utf-8',
        Metadata: { provider: 'calltrack' },
      }),
    );
    await putAll(s3, calls.bucket, [
      { key: `calls/${NEIGHBOUR_PHONE}/2024-02-02.wav`, body: 'neighbour recording' },
      { key: `calls/${NEIGHBOUR_PHONE}/2024-02-02.transcript.txt`, body: 'neighbour transcript' },
      { key: 'calls/+4930999999/2024-02-03.wav', body: 'someone else' },
      { key: 'calls/README.txt', body: 'one folder per caller' },
    ]);
    // recruitment: ann@x.io and two neighbours whose folder names start with hers
    await putAll(s3, recruitment.bucket, [
      { key: 'applications/ann@x.io/cv.pdf', body: '%PDF-1.7 ann' },
      { key: 'applications/ann@x.io/cover-letter.txt', body: 'Dear hiring manager' },
      { key: 'applications/ann@x.io.evil/cv.pdf', body: '%PDF-1.7 evil' },
      { key: 'applications/ann@x.iox/cv.pdf', body: '%PDF-1.7 iox' },
      { key: 'applications/bob@y.org/cv.pdf', body: '%PDF-1.7 bob' },
    ]);
    await createBucketIfMissing(s3, legacyRecruitment.bucket);
    await putAll(s3, legacyRecruitment.bucket, [
      { key: 'applications/Cleo.Applicant@Example.COM/cv.pdf', body: '%PDF-1.7 cleo, legacy form' },
      { key: `applications/${CLEO}/cover-letter.txt`, body: 'Dear hiring manager' },
      // The same address in a spelling nobody gave: out of reach (a stored value no spelling reaches).
      { key: 'applications/CLEO.APPLICANT@EXAMPLE.COM/cv.pdf', body: '%PDF-1.7 shouted' },
      { key: 'applications/Cleo.Applicant@Example.COM.evil/cv.pdf', body: '%PDF-1.7 someone else' },
      { key: 'applications/Cleo.Applicant@Example.CO/cv.pdf', body: '%PDF-1.7 someone else too' },
    ]);
    // clickstream
    for (const file of clickFiles) {
      await s3.send(
        new PutObjectCommand({
          Bucket: clickstream.bucket,
          Key: file.key,
          Body: fileBytes(file),
          ContentType: 'application/x-ndjson',
          Metadata: { writer: 'adserver-7', batch: file.key.slice(-16, -6) },
        }),
      );
    }
    await s3.send(
      new PutObjectCommand({
        Bucket: clickstream.bucket,
        Key: ARCHIVE_KEY,
        Body: `${json({ cookieId: COOKIE_A, ts: 0 })}\n`,
      }),
    );
    state = await snapshot(s3);
  });

  afterAll(async () => {
    clients.s3.destroy();
    clients.dynamodb.destroy();
    await servers.stop();
  });

  describe('locate', () => {
    it('lists every object under a prefix across pages', async () => {
      // act
      const location = await locateInS3Store(calls, [phone(BIG_PHONE)], clients, dataMap);
      // assess
      expect(location.located).toBe(1005);
      expect(location.exempted).toBe(0);
      expect(location.revealed).toEqual([]);
      const records = location.records as LocatedObject[];
      expect(records.map((record) => record.key).sort()).toEqual([...bigKeys].sort());
      const head = await s3.send(new HeadObjectCommand({ Bucket: calls.bucket, Key: bigKeys[7] }));
      expect(records.find((record) => record.key === bigKeys[7])).toEqual({
        kind: 'object',
        key: bigKeys[7],
        size: 'recording 7'.length,
        etag: head.ETag,
      });
    });

    it('finds a phone folder verbatim ("+") and never the folder of a longer number', async () => {
      // act
      const location = await locateInS3Store(calls, [phone('+49 30 123')], clients, dataMap);
      // assess
      expect(location.records.map((record) => record.key).sort()).toEqual([
        `calls/${PHONE}/2024-02-01.transcript.txt`,
        `calls/${PHONE}/2024-02-01.wav`,
      ]);
    });

    it('never reaches ann@x.io.evil or ann@x.iox for ann@x.io', async () => {
      // act
      const location = await locateInS3Store(recruitment, [email(' Ann@X.io ')], clients, dataMap);
      // assess
      expect(location.records.map((record) => record.key).sort()).toEqual([
        'applications/ann@x.io/cover-letter.txt',
        'applications/ann@x.io/cv.pdf',
      ]);
    });

    it('refuses an identity value containing "/" without echoing it', async () => {
      // prepare
      const escaping = email('ann/bob@y.org');
      // act
      const attempt = locateInS3Store(recruitment, [escaping], clients, dataMap);
      // assess
      await expect(attempt).rejects.toBeInstanceOf(UnsafePrefixValueError);
      await expect(attempt).rejects.toMatchObject({ name: 'UnsafePrefixValueError', storeId: 'recruitment' });
      await attempt.catch((error: Error) => expect(error.message).not.toContain('bob'));
    });

    it('ignores identity types the store does not locate by', async () => {
      // act
      const location = await locateInS3Store(calls, [email('ann@x.io'), cookie(COOKIE_A)], clients, dataMap);
      // assess
      expect(location).toMatchObject({ located: 0, records: [], revealed: [] });
    });

    it('counts the subject’s lines per JSON-lines object, normalising both sides', async () => {
      // act
      const location = await locateInS3Store(clickstream, [cookie(COOKIE_A.toUpperCase())], clients, dataMap);
      // assess
      const records = location.records as LocatedLines[];
      const byKey = Object.fromEntries(records.map((record) => [record.key, record.lineCount]));
      expect(byKey).toEqual({
        'clicks/2024-05-01.jsonl': 3,
        'clicks/2024-05-02.jsonl': 2,
        'clicks/2024-05-03.jsonl': 1,
        'clicks/eu/2024-05-05.jsonl': 1,
      });
      expect(location.located).toBe(7);
      expect(location.exempted).toBe(0);
      // one malformed line; the blank line is not counted
      expect(location.malformedLines).toBe(1);
      const head = await s3.send(
        new HeadObjectCommand({ Bucket: clickstream.bucket, Key: 'clicks/2024-05-01.jsonl' }),
      );
      expect(records.find((record) => record.key === 'clicks/2024-05-01.jsonl')).toEqual({
        kind: 'lines',
        key: 'clicks/2024-05-01.jsonl',
        etag: head.ETag,
        lineCount: 3,
        matched: { identity: 'cookieId', field: 'cookieId', values: [COOKIE_A] },
      });
    });

    it('reveals linked identities from the subject’s lines only, normalised, with the spelling the line holds', async () => {
      // prepare: the example store declares no links; a variant following a phone field does
      const linking: S3Store = {
        ...clickstream,
        links: [{ identity: 'phone', attribute: 'phone', trust: 'claimed' }],
      };
      // act
      const forA = await locateInS3Store(linking, [cookie(COOKIE_A)], clients, dataMap);
      const forD = await locateInS3Store(linking, [cookie(COOKIE_D)], clients, dataMap);
      // assess
      expect(forA.revealed).toEqual([
        { type: 'phone', value: '+49305550001', spellings: ['+49 30 555 0001'] },
      ]);
      expect(forD.revealed).toEqual([]);
    });
  });

  describe('locate with claimed identities', () => {
    const claim = (...claimed: Identity[]) => ({
      claimed: new Map(claimed.map((identity) => [identityKey(identity), `hs256:${identity.value}`])),
    });
    const linesByKey = (records: LocatedLines[]) =>
      Object.fromEntries(records.map((record) => [record.key, record.lineCount]));

    it('marks the objects of a folder only a claimed identity found', async () => {
      // act
      const claimed = await locateInS3Store(calls, [phone(PHONE)], clients, dataMap, claim(phone(PHONE)));
      const verified = await locateInS3Store(
        calls,
        [phone(PHONE)],
        clients,
        dataMap,
        claim(phone(BIG_PHONE)),
      );

      // assess
      expect(claimed.records.map((record) => record.claimedBy)).toEqual([
        [`hs256:${PHONE}`],
        [`hs256:${PHONE}`],
      ]);
      expect(verified.records.map((record) => record.claimedBy)).toEqual([undefined, undefined]);
    });

    it('makes the lines only a claimed identity finds records of their own, and leaves the others unmarked', async () => {
      // prepare: what each cookie finds alone
      const alone = async (value: string) =>
        linesByKey(
          (await locateInS3Store(clickstream, [cookie(value)], clients, dataMap)).records as LocatedLines[],
        );
      const [linesOfA, linesOfB] = [await alone(COOKIE_A), await alone(COOKIE_B)];

      // act
      const location = await locateInS3Store(
        clickstream,
        [cookie(COOKIE_A), cookie(COOKIE_B)],
        clients,
        dataMap,
        claim(cookie(COOKIE_B)),
      );

      // assess
      const records = location.records as LocatedLines[];
      const unmarked = records.filter((record) => !record.claimedBy);
      const marked = records.filter((record) => record.claimedBy);
      expect(Object.keys(linesOfB).length).toBeGreaterThan(0);
      expect(linesByKey(unmarked)).toEqual(linesOfA);
      expect(linesByKey(marked)).toEqual(linesOfB);
      for (const record of marked) {
        expect(record).toMatchObject({ claimedBy: [`hs256:${COOKIE_B}`], matched: { values: [COOKIE_B] } });
      }
      expect(location.located).toBe(
        [...Object.values(linesOfA), ...Object.values(linesOfB)].reduce((sum, count) => sum + count, 0),
      );
    });
  });

  describe('locate by spellings', () => {
    /** Counts the requests an S3 client sends, by command, until `remove` is called. */
    function countRequests(client: S3Client) {
      const counts: Record<string, number> = {};
      const name = `count-${Math.random()}`;
      client.middlewareStack.add(
        (next, context) => async (args) => {
          const command = context.commandName ?? 'unknown';
          counts[command] = (counts[command] ?? 0) + 1;
          return next(args);
        },
        { step: 'initialize', name },
      );
      return { counts, remove: () => client.middlewareStack.remove(name) };
    }

    it('lists the folder of each distinct spelling once: a folder named as typed is found', async () => {
      // prepare: as given, trimmed, and the normalised value: three prefixes
      const cleo = normaliseIdentity(dataMap, 'email', CLEO_AS_TYPED);
      const probe = countRequests(s3);
      // act
      const location = await locateInS3Store(legacyRecruitment, [cleo, cleo], clients, dataMap).finally(
        probe.remove,
      );
      // assess
      expect(location.records.map((record) => record.key).sort()).toEqual([
        'applications/Cleo.Applicant@Example.COM/cv.pdf',
        `applications/${CLEO}/cover-letter.txt`,
      ]);
      expect(probe.counts).toEqual({ ListObjectsV2Command: 3 });
    });

    it('lists only the normalised folder when the address is given normalised', async () => {
      // act
      const location = await locateInS3Store(legacyRecruitment, [email(CLEO)], clients, dataMap);
      // assess
      expect(location.records.map((record) => record.key)).toEqual([`applications/${CLEO}/cover-letter.txt`]);
    });

    it('skips a spelling that cannot be a prefix segment instead of failing the request', async () => {
      // prepare: spellings normalise to the value, so none holds "/" in practice; one given by hand does
      const cleo: Identity = { type: 'email', value: CLEO, spellings: [`../${CLEO}`, '..', 'x/y'] };
      const probe = countRequests(s3);
      // act
      const location = await locateInS3Store(legacyRecruitment, [cleo], clients, dataMap).finally(
        probe.remove,
      );
      // assess
      expect(location.records.map((record) => record.key)).toEqual([`applications/${CLEO}/cover-letter.txt`]);
      expect(probe.counts).toEqual({ ListObjectsV2Command: 1 });
    });

    it('locates only by the new spellings when asked to, and scans no JSON-lines object again', async () => {
      // prepare
      const cleo: Identity = { type: 'email', value: CLEO, spellings: ['Cleo.Applicant@Example.COM'] };
      const probe = countRequests(s3);
      // act
      const folders = await locateInS3Store(legacyRecruitment, [cleo], clients, dataMap, {
        spellingsOnly: true,
      });
      const lines = await locateInS3Store(
        clickstream,
        [{ ...cookie(COOKIE_A), spellings: [COOKIE_A.toUpperCase()] }],
        clients,
        dataMap,
        { spellingsOnly: true },
      ).finally(probe.remove);
      // assess
      expect(folders.records.map((record) => record.key)).toEqual([
        'applications/Cleo.Applicant@Example.COM/cv.pdf',
      ]);
      expect(lines).toMatchObject({ located: 0, records: [], revealed: [] });
      expect(probe.counts).toEqual({ ListObjectsV2Command: 1 });
    });

    it('reveals an identity the subject has when a line spells it in a way not known yet', async () => {
      // prepare
      const linking: S3Store = {
        ...clickstream,
        links: [{ identity: 'phone', attribute: 'phone', trust: 'claimed' }],
      };
      const known = normaliseIdentity(dataMap, 'phone', '+49 30 555 0001');
      // act
      const unspelt = await locateInS3Store(
        linking,
        [cookie(COOKIE_A), phone(known.value)],
        clients,
        dataMap,
      );
      const spelt = await locateInS3Store(linking, [cookie(COOKIE_A), known], clients, dataMap);
      // assess
      expect(unspelt.revealed).toEqual([known]);
      expect(spelt.revealed).toEqual([]);
    });
  });

  describe('read', () => {
    it('exports objects as text or base64 and lines as parsed JSON with line numbers', async () => {
      // prepare
      const objects = await locateInS3Store(calls, [phone(PHONE)], clients, dataMap);
      const lines = await locateInS3Store(clickstream, [cookie(COOKIE_A)], clients, dataMap);
      // act
      const exportedObjects = await collect(readS3Records(calls, objects.records, clients, dataMap));
      const exportedLines = await collect(readS3Records(clickstream, lines.records, clients, dataMap));
      // assess
      const byKey = new Map(exportedObjects.map((record) => [record.key, record.data as ExportedS3Object]));
      expect(byKey.get(`calls/${PHONE}/2024-02-01.transcript.txt`)).toEqual({
        contentType: 'text/plain; charset=utf-8',
        size: Buffer.byteLength('Caller: Grüß Gott, I would like to book an ad.\n'),
        text: 'Caller: Grüß Gott, I would like to book an ad.\n',
      });
      expect(byKey.get(`calls/${PHONE}/2024-02-01.wav`)).toEqual({
        contentType: 'audio/wav',
        size: wav.length,
        base64: wav.toString('base64'),
      });
      expect(exportedObjects.every((record) => record.storeId === 'call-recordings')).toBe(true);
      expect(exportedLines.map((record) => record.key).sort()).toEqual(
        [
          'clicks/2024-05-01.jsonl#L2',
          'clicks/2024-05-01.jsonl#L5',
          'clicks/2024-05-01.jsonl#L11',
          'clicks/2024-05-02.jsonl#L1',
          'clicks/2024-05-02.jsonl#L2',
          'clicks/2024-05-03.jsonl#L2',
          'clicks/eu/2024-05-05.jsonl#L1',
        ].sort(),
      );
      expect(exportedLines.find((record) => record.key === 'clicks/2024-05-01.jsonl#L5')?.data).toEqual({
        cookieId: COOKIE_A.toUpperCase(),
        ts: 5,
      });
    });
    it('without the data map matches only verbatim normalised values, never another subject’s line', async () => {
      // prepare
      const location = await locateInS3Store(clickstream, [cookie(COOKIE_A)], clients, dataMap);
      // act
      const exported = await collect(readS3Records(clickstream, location.records, clients));
      // assess: the upper-case and padded spellings need the identity type's normalisation
      expect(exported.map((record) => record.key).sort()).toEqual(
        [
          'clicks/2024-05-01.jsonl#L2',
          'clicks/2024-05-01.jsonl#L11',
          'clicks/2024-05-02.jsonl#L1',
          'clicks/2024-05-03.jsonl#L2',
          'clicks/eu/2024-05-05.jsonl#L1',
        ].sort(),
      );
    });
  });

  describe('erase', () => {
    it('deletes > 1,000 objects of one subject and nothing else', async () => {
      // prepare
      const before = state;
      const location = await locateInS3Store(calls, [phone(BIG_PHONE)], clients, dataMap);
      // act
      const erasure = await eraseInS3Store(calls, location.records, clients, eraseOptions, dataMap);
      // assess
      expect(erasure).toEqual({
        storeId: 'call-recordings',
        erased: 1005,
        masked: 0,
        exempted: 0,
        exemptions: [],
        failed: 0,
        skipped: 0,
      });
      expect(await listAll(s3, calls.bucket, `calls/${BIG_PHONE}/`)).toEqual([]);
      state = await snapshot(s3);
      expectOnlyChanged(before, state, { removed: bigKeys.map((key) => `${calls.bucket}/${key}`) });
    });

    it('deletes ann@x.io’s application and leaves ann@x.io.evil and ann@x.iox alone', async () => {
      // prepare
      const before = state;
      const location = await locateInS3Store(recruitment, [email('ann@x.io')], clients, dataMap);
      // act
      const erasure = await eraseInS3Store(recruitment, location.records, clients, eraseOptions, dataMap);
      // assess
      expect(erasure.erased).toBe(2);
      expect((await locateInS3Store(recruitment, [email('ann@x.io')], clients, dataMap)).located).toBe(0);
      state = await snapshot(s3);
      expectOnlyChanged(before, state, {
        removed: ['applications/ann@x.io/cv.pdf', 'applications/ann@x.io/cover-letter.txt'].map(
          (key) => `${recruitment.bucket}/${key}`,
        ),
      });
    });

    it('keeps exempted objects and counts them by reason', async () => {
      // prepare
      const exempting: S3Store = {
        ...recruitment,
        exemptions: [
          {
            reason: 'Applications in a pending discrimination claim are kept until it closes',
            legalBasis: 'GDPR Art. 17(3)(e)',
          },
        ],
      };
      const before = state;
      const location = await locateInS3Store(exempting, [email('bob@y.org')], clients, dataMap);
      // act
      const erasure = await eraseInS3Store(exempting, location.records, clients, eraseOptions, dataMap);
      // assess
      expect(location).toMatchObject({ located: 1, exempted: 1 });
      expect(erasure).toMatchObject({
        erased: 0,
        exempted: 1,
        exemptions: [
          {
            reason: 'Applications in a pending discrimination claim are kept until it closes',
            legalBasis: 'GDPR Art. 17(3)(e)',
            source: 'datamap',
            count: 1,
          },
        ],
      });
      state = await snapshot(s3);
      expectOnlyChanged(before, state, {});
    });

    it('rewrites JSON-lines objects without the subject’s lines, others byte for byte', async () => {
      // prepare
      const before = state;
      const location = await locateInS3Store(clickstream, [cookie(COOKIE_A)], clients, dataMap);
      // act
      const erasure = await eraseInS3Store(clickstream, location.records, clients, eraseOptions, dataMap);
      // assess
      expect(erasure).toMatchObject({ erased: 7, failed: 0, skipped: 0, exempted: 0 });
      const again = await locateInS3Store(clickstream, [cookie(COOKIE_A)], clients, dataMap);
      expect(again.located).toBe(0);
      for (const file of clickFiles.filter((candidate) =>
        ['clicks/2024-05-01.jsonl', 'clicks/2024-05-03.jsonl', 'clicks/eu/2024-05-05.jsonl'].includes(
          candidate.key,
        ),
      )) {
        const expected = fileBytes(file, COOKIE_A);
        if (expected.length === 0) continue;
        expect((await getBytes(s3, clickstream.bucket, file.key)).equals(expected)).toBe(true);
      }
      // the last line (the subject's) went, and no trailing newline appeared
      expect((await getBytes(s3, clickstream.bucket, 'clicks/2024-05-03.jsonl')).toString()).toBe(
        json({ cookieId: COOKIE_B, ts: 30 }),
      );
      const rewritten = await s3.send(
        new HeadObjectCommand({ Bucket: clickstream.bucket, Key: 'clicks/2024-05-01.jsonl' }),
      );
      expect(rewritten.ContentType).toBe('application/x-ndjson');
      expect(rewritten.Metadata).toEqual({ writer: 'adserver-7', batch: '2024-05-01' });
      state = await snapshot(s3);
      expectOnlyChanged(before, state, {
        // objects left with none of their lines are deleted
        removed: ['clicks/2024-05-02.jsonl', 'clicks/eu/2024-05-05.jsonl'].map(
          (key) => `${clickstream.bucket}/${key}`,
        ),
        rewritten: ['clicks/2024-05-01.jsonl', 'clicks/2024-05-03.jsonl'].map(
          (key) => `${clickstream.bucket}/${key}`,
        ),
      });
      expect(state.get(`${clickstream.bucket}/${ARCHIVE_KEY}`)).toEqual(
        before.get(`${clickstream.bucket}/${ARCHIVE_KEY}`),
      );
    });

    it('rewrites large objects by reading twice and streaming into an upload, with the same result', async () => {
      // prepare
      const before = state;
      const location = await locateInS3Store(clickstream, [cookie(COOKIE_D)], clients, dataMap);
      const big = clickFiles.find((file) => file.key === 'clicks/2024-05-06.jsonl') as LinesFile;
      // act: a buffer limit of 0 forces the two-read path for every object
      const erasure = await eraseInS3Store(
        clickstream,
        location.records,
        clients,
        { ...eraseOptions, rewriteBufferLimitBytes: 0 },
        dataMap,
      );
      // assess
      const expectedLines = 1 + 1 + big.lines.filter((line) => line.owner === COOKIE_D).length;
      expect(erasure).toMatchObject({ erased: expectedLines, failed: 0 });
      expect((await getBytes(s3, clickstream.bucket, big.key)).equals(fileBytes(big, COOKIE_D))).toBe(true);
      const file4 = clickFiles.find((file) => file.key === 'clicks/2024-05-04.jsonl') as LinesFile;
      expect((await getBytes(s3, clickstream.bucket, file4.key)).equals(fileBytes(file4, COOKIE_D))).toBe(
        true,
      );
      expect((await locateInS3Store(clickstream, [cookie(COOKIE_D)], clients, dataMap)).located).toBe(0);
      state = await snapshot(s3);
      expectOnlyChanged(before, state, {
        rewritten: ['clicks/2024-05-01.jsonl', 'clicks/2024-05-04.jsonl', big.key].map(
          (key) => `${clickstream.bucket}/${key}`,
        ),
      });
    });

    it('erases nothing twice: a second run over the same records changes nothing', async () => {
      // prepare
      const before = state;
      const location = await locateInS3Store(clickstream, [cookie(COOKIE_B)], clients, dataMap);
      const first = await eraseInS3Store(clickstream, location.records, clients, eraseOptions, dataMap);
      const afterFirst = await snapshot(s3);
      expect(first).toMatchObject({ erased: location.located, failed: 0, skipped: 0 });
      expectOnlyChanged(before, afterFirst, {
        removed: [`${clickstream.bucket}/clicks/2024-05-03.jsonl`],
        rewritten: ['clicks/2024-05-01.jsonl', 'clicks/2024-05-06.jsonl'].map(
          (key) => `${clickstream.bucket}/${key}`,
        ),
      });
      // act
      const second = await eraseInS3Store(clickstream, location.records, clients, eraseOptions, dataMap);
      // assess
      expect(second).toMatchObject({ erased: 0, failed: 0, skipped: location.located });
      state = await snapshot(s3);
      expectOnlyChanged(afterFirst, state, {});
    });
  });

  describe('rewrite, any content', () => {
    const COOKIE_F = 'ffffffff-0000-4000-8000-00000000000f';
    /** A line of the subject's (some spellings need normalising), with a flag saying so. */
    const subjectLine = fc
      .tuple(
        fc.constantFrom(COOKIE_F, COOKIE_F.toUpperCase(), ` ${COOKIE_F}\t`),
        fc.string({ unit: 'binary' }),
        fc.boolean(),
      )
      .map(([cookieId, note, invalidUtf8]) => {
        const text = Buffer.from(JSON.stringify({ cookieId, note }), 'utf8');
        // bytes that are not UTF-8 inside a string value: still the subject's line
        const bytes = invalidUtf8
          ? Buffer.concat([text.subarray(0, -2), Buffer.from([0xff, 0xfe]), text.subarray(-2)])
          : text;
        return { bytes, subject: true };
      });
    /** Anything else: other subjects' lines, garbage, blank lines, "\r" endings, bytes that are not UTF-8. */
    const otherLine = fc
      .oneof(
        fc
          .tuple(fc.constantFrom(COOKIE_B, COOKIE_C, 'FFFFFFFF-0000', 42), fc.string({ unit: 'binary' }))
          .map(([cookieId, note]) => JSON.stringify({ cookieId, note })),
        fc.string({ unit: 'binary' }).filter((text) => !text.includes('\n')),
        fc.constantFrom(
          '',
          ' ',
          '\r',
          `${JSON.stringify({ cookieId: COOKIE_B })}\r`,
          `{"user":{"cookieId":"${COOKIE_F}"}}`,
        ),
        fc.uint8Array({ maxLength: 40 }).map((bytes) => Buffer.from(bytes.filter((byte) => byte !== 0x0a))),
      )
      .map((line) => ({ bytes: Buffer.isBuffer(line) ? line : Buffer.from(line, 'utf8'), subject: false }));

    it('removes exactly the subject’s lines and keeps every other byte, whatever the file holds', async () => {
      let run = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.oneof(subjectLine, otherLine), { maxLength: 30 }),
          fc.boolean(),
          fc.boolean(),
          async (lines, trailingNewline, streamed) => {
            // prepare
            const key = `clicks/property/${run++}.jsonl`;
            const join = (kept: typeof lines) =>
              Buffer.concat([
                ...kept.flatMap((line, i) => (i === 0 ? [line.bytes] : [Buffer.from('\n'), line.bytes])),
                ...(trailingNewline && kept.length > 0 ? [Buffer.from('\n')] : []),
              ]);
            const original = join(lines);
            await s3.send(new PutObjectCommand({ Bucket: clickstream.bucket, Key: key, Body: original }));
            const location = await locateInS3Store(clickstream, [cookie(COOKIE_F)], clients, dataMap);
            const records = location.records.filter((record) => record.key === key);
            // act
            const erasure = await eraseInS3Store(
              clickstream,
              records,
              clients,
              { ...eraseOptions, ...(streamed ? { rewriteBufferLimitBytes: 0 } : {}) },
              dataMap,
            );
            // assess
            const removed = lines.filter((line) => line.subject).length;
            const kept = lines.filter((line) => !line.subject);
            expect(records.reduce((sum, record) => sum + (record as LocatedLines).lineCount, 0)).toBe(
              removed,
            );
            expect(erasure.erased).toBe(removed);
            const listed = await listAll(s3, clickstream.bucket, key);
            if (removed === 0) {
              expect((await getBytes(s3, clickstream.bucket, key)).equals(original)).toBe(true);
            } else if (join(kept).toString('utf8').trim() === '') {
              // only blank lines are left: the object is deleted, or holds nothing but line breaks
              const left =
                listed.length === 0 ? '' : (await getBytes(s3, clickstream.bucket, key)).toString('utf8');
              expect(left.trim()).toBe('');
            } else {
              expect((await getBytes(s3, clickstream.bucket, key)).equals(join(kept))).toBe(true);
            }
          },
        ),
        propertyRun({ numRuns: 60 }),
      );
    });

    it('passes a line too long to parse through untouched and counts it as malformed', async () => {
      // prepare: a 9 MiB line (past the 8 MiB parse limit) between the subject's lines
      const key = 'clicks/long-line.jsonl';
      const long = Buffer.alloc(9 * 1024 * 1024, 'x');
      const subject = Buffer.from(json({ cookieId: COOKIE_F, ts: 1 }));
      const other = Buffer.from(json({ cookieId: COOKIE_B, ts: 2 }));
      const nl = Buffer.from('\n');
      await s3.send(
        new PutObjectCommand({
          Bucket: clickstream.bucket,
          Key: key,
          Body: Buffer.concat([subject, nl, long, nl, other, nl, subject]),
        }),
      );
      const location = await locateInS3Store(clickstream, [cookie(COOKIE_F)], clients, dataMap);
      const records = location.records.filter((record) => record.key === key);
      // act
      const erasure = await eraseInS3Store(clickstream, records, clients, eraseOptions, dataMap);
      // assess
      expect(records).toMatchObject([{ lineCount: 2 }]);
      expect(location.malformedLines).toBeGreaterThanOrEqual(1);
      expect(erasure.erased).toBe(2);
      expect((await getBytes(s3, clickstream.bucket, key)).equals(Buffer.concat([long, nl, other]))).toBe(
        true,
      );
    });
  });
});
