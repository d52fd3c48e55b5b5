import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ADTECH_DYNAMODB_STORES,
  ADTECH_S3_STORES,
  type AdtechSeed,
  type AdtechStoreId,
  generateAdtechSeed,
  type SeedSubject,
  writeSeedFiles,
} from '../../../examples/adtech/seed';
import { loadDataMap, normaliseIdentity } from '../../../lib/datamap';
import { readParquetRows } from '../../helpers/parquet';

const dataMap = loadDataMap(join(__dirname, '../../../examples/adtech/datamap.yaml'));
const NOW = new Date('2026-06-15T00:00:00.000Z');
const THREE_AND_A_HALF_YEARS_MS = 1280 * 86_400_000;

/** Subtracts an ISO-8601 duration of years, months and days (the forms the example uses). */
function before(now: Date, period: string): number {
  const match = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?$/.exec(period);
  if (!match) throw new Error(`unsupported period ${period}`);
  const date = new Date(now.getTime());
  date.setUTCFullYear(date.getUTCFullYear() - Number(match[1] ?? 0));
  date.setUTCMonth(date.getUTCMonth() - Number(match[2] ?? 0));
  date.setUTCDate(date.getUTCDate() - Number(match[3] ?? 0));
  return date.getTime();
}

function retentionCutoff(storeId: string): number {
  const store = dataMap.stores.find((candidate) => candidate.id === storeId);
  if (!store?.retention) throw new Error(`store ${storeId} has no retention rule`);
  return before(NOW, store.retention.period);
}

function norm(type: string, value: unknown): string {
  if (typeof value !== 'string') throw new Error(`${type} value is not a string`);
  return normaliseIdentity(dataMap, type, value).value;
}

function clickLines(seed: AdtechSeed): Record<string, unknown>[] {
  return seed.s3.clickstream.flatMap((object) =>
    String(object.body)
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line) => JSON.parse(line) as Record<string, unknown>),
  );
}

/** The buyer cookie id of every row of the bid logs, read back from the Parquet files. */
async function bidBuyers(seed: AdtechSeed): Promise<unknown[]> {
  const buyers: unknown[] = [];
  for (const object of seed.s3['bid-logs']) {
    const { rows } = await readParquetRows(Buffer.from(object.body));
    for (const row of rows) buyers.push((row.user as { buyeruid?: unknown } | null)?.buyeruid);
  }
  return buyers;
}

/** Counts every store's records per owner, found from the records themselves by identity. */
function ownershipFromRecords(seed: AdtechSeed, buyers: unknown[]) {
  const byEmail = new Map<string, SeedSubject>();
  const byCookie = new Map<string, SeedSubject>();
  const byPhone = new Map<string, SeedSubject>();
  for (const subject of seed.subjects) {
    byEmail.set(subject.email, subject);
    byPhone.set(subject.phone, subject);
    for (const cookieId of subject.cookieIds) byCookie.set(cookieId, subject);
  }
  const counts = new Map<string, Record<AdtechStoreId, number>>();
  const count = (subject: SeedSubject | undefined, storeId: AdtechStoreId) => {
    if (!subject) return false;
    const owned = counts.get(subject.id) ?? {
      inquiries: 0,
      'ad-events': 0,
      conversions: 0,
      'partner-contacts': 0,
      'call-recordings': 0,
      recruitment: 0,
      clickstream: 0,
      'bid-logs': 0,
    };
    owned[storeId] += 1;
    counts.set(subject.id, owned);
    return true;
  };
  let unowned = 0;
  for (const item of seed.dynamodb.inquiries) count(byEmail.get(norm('email', item.email)), 'inquiries');
  for (const item of seed.dynamodb['ad-events'])
    count(byCookie.get(norm('cookieId', item.cookieId)), 'ad-events');
  for (const item of seed.dynamodb.conversions)
    count(byCookie.get(norm('cookieId', item.cookieId)), 'conversions');
  for (const item of seed.dynamodb['partner-contacts']) {
    count(byEmail.get(norm('email', item.email)), 'partner-contacts');
  }
  for (const object of seed.s3['call-recordings']) {
    count(byPhone.get(object.key.split('/')[1] ?? ''), 'call-recordings');
  }
  for (const object of seed.s3.recruitment) count(byEmail.get(object.key.split('/')[1] ?? ''), 'recruitment');
  for (const line of clickLines(seed)) {
    if (!count(byCookie.get(norm('cookieId', line.cookieId)), 'clickstream')) unowned += 1;
  }
  let unownedBids = 0;
  for (const buyer of buyers) if (!count(byCookie.get(norm('cookieId', buyer)), 'bid-logs')) unownedBids += 1;
  return { counts, unowned, unownedBids };
}

describe('generateAdtechSeed', () => {
  const options = { subjects: 300, recordsPerSubject: 8, seed: 42, now: NOW };
  const seed = generateAdtechSeed(options);

  it('is deterministic: the same options give deep-equal output', () => {
    // prepare
    const again = { ...options, now: new Date(NOW.getTime()) };

    // act
    const second = generateAdtechSeed(again);

    // assess
    expect(second).toEqual(seed);
  });

  it('gives different data for a different seed', () => {
    // prepare
    const other = { ...options, seed: 43 };

    // act
    const second = generateAdtechSeed(other);

    // assess
    expect(second.subjects.map((s) => s.email)).not.toEqual(seed.subjects.map((s) => s.email));
    expect(second.subjects.map((s) => s.cookieIds)).not.toEqual(seed.subjects.map((s) => s.cookieIds));
    expect(second.subjects.map((s) => s.phone)).not.toEqual(seed.subjects.map((s) => s.phone));
    expect(second.dynamodb['ad-events']).not.toEqual(seed.dynamodb['ad-events']);
  });

  it('defaults now to the start of the current UTC day and does not keep a reference to options.now', () => {
    // prepare: a clock at the last millisecond of a UTC day, where rounding the wrong way would show
    const now = new Date(NOW.getTime());
    jest.useFakeTimers({ now: new Date('2026-03-14T23:59:59.999Z') });

    // act
    let withDefault: AdtechSeed;
    try {
      withDefault = generateAdtechSeed({ subjects: 1, recordsPerSubject: 1 });
    } finally {
      jest.useRealTimers();
    }
    const withNow = generateAdtechSeed({ subjects: 1, recordsPerSubject: 1, now });
    now.setUTCFullYear(2000);

    // assess
    expect(withDefault.now).toEqual(new Date('2026-03-14T00:00:00.000Z'));
    expect(withDefault.seed).toBe(1);
    expect(withNow.now).toEqual(NOW);
  });

  it('rejects counts that are not non-negative integers', () => {
    // prepare
    const bad = [
      { subjects: -1, recordsPerSubject: 1 },
      { subjects: 1.5, recordsPerSubject: 1 },
      { subjects: 1, recordsPerSubject: Number.NaN },
    ];

    // act
    const attempts = bad.map((options) => () => generateAdtechSeed(options));

    // assess
    for (const attempt of attempts) expect(attempt).toThrow(RangeError);
  });

  it('produces nothing for zero subjects', () => {
    // prepare
    const options = { subjects: 0, recordsPerSubject: 10, now: NOW };

    // act
    const empty = generateAdtechSeed(options);

    // assess
    expect(empty.subjects).toEqual([]);
    for (const items of Object.values(empty.dynamodb)) expect(items).toEqual([]);
    for (const objects of Object.values(empty.s3)) expect(objects).toEqual([]);
  });

  it('fills exactly the stores of the data map, of the right kind', () => {
    // prepare
    const kinds = Object.fromEntries(dataMap.stores.map((store) => [store.id, store.kind]));

    // act
    const generated = {
      ...Object.fromEntries(Object.keys(seed.dynamodb).map((id) => [id, 'dynamodb'])),
      ...Object.fromEntries(Object.keys(seed.s3).map((id) => [id, 's3'])),
    };

    // assess
    expect(generated).toEqual(kinds);
    expect([...ADTECH_DYNAMODB_STORES, ...ADTECH_S3_STORES].sort()).toEqual(Object.keys(kinds).sort());
    for (const id of ADTECH_DYNAMODB_STORES) expect(seed.dynamodb[id].length).toBeGreaterThan(0);
    for (const id of ADTECH_S3_STORES) expect(seed.s3[id].length).toBeGreaterThan(0);
  });

  it('gives each subject the record counts the knobs ask for', () => {
    // prepare
    const { recordsPerSubject } = options;

    // act
    const owns = seed.subjects.map((subject) => subject.owns);

    // assess
    expect(seed.subjects).toHaveLength(options.subjects);
    for (const [index, subject] of seed.subjects.entries()) {
      const owned = owns[index]!;
      expect(owned['ad-events']).toBe(recordsPerSubject);
      expect(owned.clickstream).toBe(recordsPerSubject);
      expect(owned['bid-logs']).toBe(Math.ceil(recordsPerSubject / 2));
      expect([1, 2]).toContain(owned.inquiries);
      expect(owned.conversions).toBeLessThanOrEqual(Math.ceil(recordsPerSubject / 3));
      expect(owned['partner-contacts']).toBe(subject.partnerRoles.length);
      expect([0, 2, 4, 6]).toContain(owned['call-recordings']);
      expect([0, 2]).toContain(owned.recruitment);
      expect(subject.cookieIds.length).toBeGreaterThanOrEqual(1);
      expect(subject.cookieIds.length).toBeLessThanOrEqual(3);
    }
  });

  it('scales the stores with recordsPerSubject', () => {
    // prepare
    const small = { subjects: 20, recordsPerSubject: 2, seed: 5, now: NOW };
    const large = { ...small, recordsPerSubject: 30 };

    // act
    const [few, many] = [generateAdtechSeed(small), generateAdtechSeed(large)];

    // assess
    expect(few.dynamodb['ad-events']).toHaveLength(40);
    expect(many.dynamodb['ad-events']).toHaveLength(600);
    expect(clickLines(many).length - many.anonymous.clickstreamLines).toBe(600);
  });

  it('writes only identities that are valid, and normalised where they are keys', () => {
    // prepare
    const identities = seed.subjects.flatMap((subject) => [
      ['email', subject.email],
      ['phone', subject.phone],
      ['ipAddress', subject.ip],
      ...subject.cookieIds.map((cookieId) => ['cookieId', cookieId]),
      ...(subject.userId === undefined ? [] : [['userId', subject.userId]]),
    ]);

    // act
    const normalised = identities.map(([type, value]) => norm(type!, value));

    // assess
    expect(normalised).toEqual(identities.map(([, value]) => value));
    for (const item of seed.dynamodb.inquiries) {
      expect(norm('email', item.email)).toBe(item.email);
      norm('phone', item.phone);
      for (const cookieId of item.cookieIds as string[]) expect(norm('cookieId', cookieId)).toBe(cookieId);
    }
    for (const item of [...seed.dynamodb['ad-events'], ...seed.dynamodb.conversions]) {
      expect(norm('cookieId', item.cookieId)).toBe(item.cookieId);
      expect(norm('ipAddress', item.ip)).toBe(item.ip);
    }
    for (const item of seed.dynamodb['partner-contacts']) {
      expect(norm('email', item.email)).toBe(item.email);
      expect(norm('userId', item.userId)).toBe(item.userId);
      expect(norm('phone', item.phone)).toBe(item.phone);
    }
    for (const line of clickLines(seed)) {
      norm('cookieId', line.cookieId);
      expect(norm('ipAddress', line.ip)).toBe(line.ip);
    }
    for (const cookieId of seed.anonymous.cookieIds) expect(norm('cookieId', cookieId)).toBe(cookieId);
  });

  it('keeps identities unambiguous: no email, phone, cookie id or user id belongs to two subjects', () => {
    // prepare
    const all = {
      email: seed.subjects.map((s) => s.email),
      phone: seed.subjects.map((s) => s.phone),
      cookieId: [...seed.subjects.flatMap((s) => s.cookieIds), ...seed.anonymous.cookieIds],
      userId: seed.subjects.flatMap((s) => (s.userId === undefined ? [] : [s.userId])),
    };

    // act
    const duplicates = Object.fromEntries(
      Object.entries(all).map(([type, values]) => [type, values.length - new Set(values).size]),
    );

    // assess
    expect(duplicates).toEqual({ email: 0, phone: 0, cookieId: 0, userId: 0 });
  });

  it('has the ownership map agree with the records, record by record', async () => {
    // prepare
    const expected = new Map(seed.subjects.map((subject) => [subject.id, subject.owns]));

    // act
    const { counts, unowned, unownedBids } = ownershipFromRecords(seed, await bidBuyers(seed));

    // assess
    for (const subject of seed.subjects) expect(counts.get(subject.id)).toEqual(expected.get(subject.id));
    expect(unowned).toBe(seed.anonymous.clickstreamLines);
    expect(unowned).toBeGreaterThan(0);
    expect(unownedBids).toBe(seed.anonymous.bidRows);
    expect(unownedBids).toBeGreaterThan(0);
  });

  it('links every subject: one inquiry row per subject carries all its cookie ids and its phone', () => {
    // prepare
    const rowsByEmail = new Map<string, Record<string, unknown>[]>();
    for (const item of seed.dynamodb.inquiries) {
      rowsByEmail.set(String(item.email), [...(rowsByEmail.get(String(item.email)) ?? []), item]);
    }

    // act
    const linked = seed.subjects.map((subject) => {
      const rows = rowsByEmail.get(subject.email) ?? [];
      return {
        cookieIds: [...new Set(rows.flatMap((row) => row.cookieIds as string[]))].sort(),
        phones: [...new Set(rows.map((row) => norm('phone', row.phone)))],
      };
    });

    // assess
    seed.subjects.forEach((subject, index) => {
      expect(linked[index]).toEqual({ cookieIds: [...subject.cookieIds].sort(), phones: [subject.phone] });
    });
  });

  it('builds DynamoDB items with their key attributes typed as the key schema says, and unique keys', () => {
    // prepare
    const stores = dataMap.stores.flatMap((store) => (store.kind === 'dynamodb' ? [store] : []));

    // act
    const checked = stores.map((store) => {
      const items = seed.dynamodb[store.id as (typeof ADTECH_DYNAMODB_STORES)[number]];
      const keys = new Set(
        items.map(
          (item) => `${item[store.keySchema.partitionKey.name]}|${item[store.keySchema.sortKey?.name ?? '']}`,
        ),
      );
      return { store, items, uniqueKeys: keys.size };
    });

    // assess
    for (const { store, items, uniqueKeys } of checked) {
      expect(uniqueKeys).toBe(items.length);
      const attributes = [
        store.keySchema.partitionKey,
        ...(store.keySchema.sortKey ? [store.keySchema.sortKey] : []),
        ...store.indexes.flatMap((index) => [index.partitionKey, ...(index.sortKey ? [index.sortKey] : [])]),
      ];
      for (const item of items) {
        for (const attribute of attributes) {
          expect(typeof item[attribute.name]).toBe(attribute.type === 'N' ? 'number' : 'string');
        }
      }
    }
  });

  it('shapes ad events and conversions as the data map and its retention rules expect', () => {
    // prepare
    const events = seed.dynamodb['ad-events'];
    const conversions = seed.dynamodb.conversions;

    // act
    const eventKeysMatch = events.every((item) => item.eventKey === `${item.eventAt}#${item.eventId}`);

    // assess
    expect(eventKeysMatch).toBe(true);
    for (const item of events) {
      expect(item.retentionShard).toBe('all');
      expect(['view', 'click']).toContain(item.type);
      expect(Number.isInteger(item.eventAt)).toBe(true);
      expect(item).toEqual(
        expect.objectContaining({
          ip: expect.any(String),
          userAgent: expect.any(String),
          deviceId: expect.any(String),
          campaignId: expect.any(String),
        }),
      );
    }
    expect(events.some((item) => item.type === 'click')).toBe(true);
    for (const item of conversions) {
      expect(Number.isInteger(item.convertedAt)).toBe(true);
      expect(item.convertedAt as number).toBeLessThan(1e11); // seconds, not milliseconds
      expect(item).toEqual(
        expect.objectContaining({
          conversionId: expect.any(String),
          advertiserId: expect.any(String),
          value: expect.any(Number),
        }),
      );
    }
  });

  it('includes a partner contact with both a billing and a marketing row', () => {
    // prepare
    const rows = seed.dynamodb['partner-contacts'];

    // act
    const both = seed.subjects.filter((subject) => {
      const roles = rows.filter((row) => row.email === subject.email).map((row) => row.role);
      return roles.includes('billing') && roles.includes('marketing');
    });

    // assess
    expect(both.length).toBeGreaterThanOrEqual(1);
    for (const row of rows) {
      expect(['billing', 'marketing']).toContain(row.role);
      expect(row).toEqual(
        expect.objectContaining({
          partnerId: expect.any(String),
          contactId: expect.any(String),
          name: expect.any(String),
        }),
      );
    }
  });

  it('puts S3 objects where the locate rules look: per-subject prefixes and dated JSON-lines files', () => {
    // prepare
    const subjectsByPhone = new Set(seed.subjects.map((s) => s.phone));
    const subjectsByEmail = new Set(seed.subjects.map((s) => s.email));

    // act
    const calls = seed.s3['call-recordings'];
    const applications = seed.s3.recruitment;

    // assess
    for (const object of calls) {
      expect(object.key).toMatch(/^calls\/\+\d+\/\d{8}T\d{6}Z-[0-9a-f]{8}\.(wav|txt)$/);
      expect(subjectsByPhone.has(object.key.split('/')[1]!)).toBe(true);
    }
    const wav = calls.find((object) => object.key.endsWith('.wav'))!;
    expect(Buffer.isBuffer(wav.body)).toBe(true);
    expect(Buffer.from(wav.body).subarray(0, 4).toString('ascii')).toBe('RIFF');
    expect(calls.filter((o) => o.key.endsWith('.txt'))).toHaveLength(calls.length / 2);
    for (const object of applications) {
      expect(object.key).toMatch(/^applications\/[^/]+@[^/]+\/(cv\.pdf|cover-letter\.txt)$/);
      expect(subjectsByEmail.has(object.key.split('/')[1]!)).toBe(true);
    }
    const cv = applications.find((object) => object.key.endsWith('cv.pdf'))!;
    expect(Buffer.isBuffer(cv.body)).toBe(true);
    expect(Buffer.from(cv.body).subarray(0, 5).toString('latin1')).toBe('%PDF-');
    for (const object of seed.s3.clickstream) {
      expect(object.key).toMatch(/^clicks\/\d{4}\/\d{2}\/\d{2}\/part-\d{4}\.jsonl$/);
      expect(object.contentType).toBe('application/x-ndjson');
    }
  });

  it('mixes many subjects and anonymous cookies in each clickstream file, with some cookie ids in UPPERCASE', () => {
    // prepare
    const ownerOf = new Map(seed.subjects.flatMap((s) => s.cookieIds.map((c) => [c, s.id] as const)));

    // act
    const perFile = seed.s3.clickstream.map((object) => {
      const lines = String(object.body)
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      const owners = new Set(lines.map((line) => ownerOf.get(String(line.cookieId).toLowerCase())));
      return { lines, owners };
    });

    // assess
    for (const { lines, owners } of perFile) {
      expect(owners.size).toBeGreaterThanOrEqual(3);
      for (const line of lines) {
        expect(Object.keys(line).sort()).toEqual(['campaignId', 'cookieId', 'ip', 'ts', 'url', 'userAgent']);
      }
    }
    expect(perFile.some(({ owners }) => owners.has(undefined))).toBe(true);
    const uppercase = perFile
      .flatMap(({ lines }) => lines)
      .filter((line) => /[A-F]/.test(String(line.cookieId)));
    expect(uppercase.length).toBeGreaterThan(0);
    for (const line of uppercase) expect(ownerOf.has(String(line.cookieId).toLowerCase())).toBe(true);
  });

  it('puts several subjects behind one NAT address, and flags them', () => {
    // prepare
    const bySubjects = new Map<string, number>();
    for (const subject of seed.subjects) bySubjects.set(subject.ip, (bySubjects.get(subject.ip) ?? 0) + 1);

    // act
    const shared = seed.subjects.filter((subject) => (bySubjects.get(subject.ip) ?? 0) > 1);

    // assess
    expect(shared.length).toBeGreaterThanOrEqual(2);
    for (const subject of seed.subjects) expect(subject.sharedIp).toBe(shared.includes(subject));
  });

  it('keeps the traps in the smallest seeds: a NAT pair, both partner roles, UPPERCASE cookie ids', () => {
    // prepare
    const options = { subjects: 2, recordsPerSubject: 1, seed: 9, now: NOW };

    // act
    const tiny = generateAdtechSeed(options);

    // assess
    expect(tiny.subjects[0]!.ip).toBe(tiny.subjects[1]!.ip);
    expect(tiny.subjects[0]!.partnerRoles).toEqual(['billing', 'marketing']);
    expect(clickLines(tiny).some((line) => /[A-F]/.test(String(line.cookieId)))).toBe(true);
    expect(tiny.s3['call-recordings'].length).toBeGreaterThan(0);
    expect(tiny.s3.recruitment.length).toBeGreaterThan(0);
  });

  it('spreads timestamps so that every retention rule has expired and fresh records', () => {
    // prepare
    const timestamps: Record<string, number[]> = {
      inquiries: seed.dynamodb.inquiries.map((item) => Date.parse(String(item.receivedAt))),
      'ad-events': seed.dynamodb['ad-events'].map((item) => item.eventAt as number),
      conversions: seed.dynamodb.conversions.map((item) => (item.convertedAt as number) * 1000),
      ...Object.fromEntries(
        ADTECH_S3_STORES.map((id) => [id, seed.s3[id].map((object) => object.lastModified.getTime())]),
      ),
    };

    // act
    const split = Object.entries(timestamps).map(([storeId, times]) => {
      const cutoff = retentionCutoff(storeId);
      return {
        storeId,
        expired: times.filter((t) => t < cutoff).length > 0,
        fresh: times.filter((t) => t >= cutoff).length > 0,
      };
    });

    // assess
    expect(split).toEqual(
      Object.keys(timestamps).map((storeId) => ({ storeId, expired: true, fresh: true })),
    );
    for (const times of Object.values(timestamps)) {
      for (const t of times) {
        expect(t).toBeLessThanOrEqual(NOW.getTime());
        expect(t).toBeGreaterThan(NOW.getTime() - THREE_AND_A_HALF_YEARS_MS);
      }
    }
  });

  it('generates 10,000 subjects × 10 records, every cookie id distinct', () => {
    // prepare
    const size = { subjects: 10_000, recordsPerSubject: 10, seed: 3, now: NOW };

    // act
    const large = generateAdtechSeed(size);

    // assess
    expect(large.dynamodb['ad-events']).toHaveLength(100_000);
    expect(new Set(large.subjects.flatMap((s) => s.cookieIds)).size).toBe(
      large.subjects.reduce((n, s) => n + s.cookieIds.length, 0),
    );
  });
});

describe('writeSeedFiles', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'lethe-seed-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes one JSON-lines file per DynamoDB store and one file per S3 object, dated as the object', () => {
    // prepare
    const seed = generateAdtechSeed({ subjects: 12, recordsPerSubject: 3, seed: 2, now: NOW });

    // act
    const written = writeSeedFiles(seed, dir);

    // assess
    for (const storeId of ADTECH_DYNAMODB_STORES) {
      const text = readFileSync(join(dir, `${storeId}.jsonl`), 'utf8');
      expect(text.endsWith('\n')).toBe(true);
      const items = text
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line) as unknown);
      expect(items).toEqual(seed.dynamodb[storeId]);
    }
    let objects = 0;
    for (const storeId of ADTECH_S3_STORES) {
      for (const object of seed.s3[storeId]) {
        const file = join(dir, storeId, ...object.key.split('/'));
        expect(readFileSync(file)).toEqual(Buffer.from(object.body));
        expect(Math.abs(statSync(file).mtimeMs - object.lastModified.getTime())).toBeLessThan(1000);
        objects += 1;
      }
    }
    expect(written.files).toBe(ADTECH_DYNAMODB_STORES.length + objects);
    expect(Object.keys(written.dynamodb).sort()).toEqual([...ADTECH_DYNAMODB_STORES].sort());
  });

  it('replaces an earlier seed, so no object of it stays behind', () => {
    // prepare
    writeSeedFiles(generateAdtechSeed({ subjects: 30, recordsPerSubject: 2, seed: 1, now: NOW }), dir);
    const smaller = generateAdtechSeed({ subjects: 3, recordsPerSubject: 2, seed: 2, now: NOW });

    // act
    writeSeedFiles(smaller, dir);

    // assess
    const listed = (folder: string): string[] =>
      readdirSync(folder, { withFileTypes: true }).flatMap((entry) =>
        entry.isDirectory()
          ? listed(join(folder, entry.name)).map((f) => `${entry.name}/${f}`)
          : [entry.name],
      );
    for (const storeId of ADTECH_S3_STORES) {
      expect(listed(join(dir, storeId)).sort()).toEqual(smaller.s3[storeId].map((o) => o.key).sort());
    }
  });
});
