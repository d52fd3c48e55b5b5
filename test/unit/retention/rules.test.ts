import { parseDataMap } from '../../../lib/datamap/load';
import { locatePrefixes, sweepPrefixes } from '../../../lib/datamap/prefixes';
import type { S3Store } from '../../../lib/datamap/schema';
import {
  epochCutoffValue,
  iso8601QueryBound,
  parseEpochText,
  parseIso8601,
  parseTimestamp,
} from '../../../lib/datamap/timestamps';
import { InvalidSweepInputError, NoRetentionRuleError } from '../../../lib/retention/errors';
import { cutoff, InvalidDurationError, isExpired, maxPeriodDays } from '../../../lib/retention/rules';
import { planSweep } from '../../../lib/retention/sweep';
import {
  InvalidSweepTokenError,
  openSweepToken,
  sealSweepToken,
  sweepTokenKey,
} from '../../../lib/retention/token';

const at = (iso: string) => new Date(iso);

describe('cutoff: now − period, calendar-wise in UTC', () => {
  it.each([
    [
      'P1M from 31 March is the last day of February',
      'P1M',
      '2026-03-31T10:00:00.000Z',
      '2026-02-28T10:00:00.000Z',
    ],
    ['P1M from 31 March of a leap year', 'P1M', '2028-03-31T10:00:00.000Z', '2028-02-29T10:00:00.000Z'],
    ['P1M from 30 March', 'P1M', '2026-03-30T00:00:00.000Z', '2026-02-28T00:00:00.000Z'],
    [
      'P1M from 31 May keeps the 30th of April',
      'P1M',
      '2026-05-31T23:59:59.999Z',
      '2026-04-30T23:59:59.999Z',
    ],
    ['P1Y from 29 February', 'P1Y', '2028-02-29T12:00:00.000Z', '2027-02-28T12:00:00.000Z'],
    ['P13M across a year', 'P13M', '2026-01-15T00:00:00.000Z', '2024-12-15T00:00:00.000Z'],
    ['P3Y', 'P3Y', '2026-11-01T00:00:00.000Z', '2023-11-01T00:00:00.000Z'],
    ['P90D is 90 days of 24 hours', 'P90D', '2026-11-01T00:00:00.000Z', '2026-08-03T00:00:00.000Z'],
    ['P2W', 'P2W', '2026-03-10T06:00:00.000Z', '2026-02-24T06:00:00.000Z'],
    ['PT12H', 'PT12H', '2026-03-10T06:00:00.000Z', '2026-03-09T18:00:00.000Z'],
    ['P1Y6M then days and time', 'P1Y6M2DT3H4M5S', '2026-08-31T10:00:00.000Z', '2025-02-26T06:55:55.000Z'],
    ['PT30S', 'PT30S', '2026-01-01T00:00:00.000Z', '2025-12-31T23:59:30.000Z'],
  ])('%s', (_name, period, now, expected) => {
    // Act + Assess
    expect(cutoff(period, at(now)).toISOString()).toBe(expected);
  });

  it('is deterministic: the same now always gives the same cut-off', () => {
    const now = at('2026-11-01T03:00:00.000Z');
    expect(cutoff('P13M', now).getTime()).toBe(cutoff('P13M', new Date(now.getTime())).getTime());
  });

  it('refuses a period that is not an ISO-8601 duration', () => {
    expect(() => cutoff('13 months', at('2026-01-01T00:00:00Z'))).toThrow(InvalidDurationError);
    expect(() => cutoff('P', at('2026-01-01T00:00:00Z'))).toThrow(InvalidDurationError);
  });

  it('maxPeriodDays never undercuts the calendar period', () => {
    expect(maxPeriodDays('P1Y')).toBe(366);
    expect(maxPeriodDays('P6M')).toBe(186);
    expect(maxPeriodDays('P90D')).toBe(90);
    expect(maxPeriodDays('PT12H')).toBe(1);
  });
});

describe('the boundary rule: expired when strictly before the cut-off, kept when at it', () => {
  // Prepare: P1Y before 2026-11-01T00:00:00.000Z is 2025-11-01T00:00:00.000Z.
  const now = at('2026-11-01T00:00:00.000Z');
  const limit = cutoff('P1Y', now);
  const limitMs = limit.getTime();
  const before = limitMs - 1;
  const after = limitMs + 1;

  it('iso8601', () => {
    const read = (text: string) => parseTimestamp('iso8601', text) as number;
    expect(isExpired(read('2025-10-31T23:59:59.999Z'), limit)).toBe(true);
    expect(isExpired(read('2025-11-01T00:00:00.000Z'), limit)).toBe(false);
    expect(isExpired(read('2025-11-01T00:00:00Z'), limit)).toBe(false);
    expect(isExpired(read('2025-11-01T00:00:00.001Z'), limit)).toBe(false);
    // Offsets: the same instants written in other zones.
    expect(isExpired(read('2025-11-01T00:59:59.999+01:00'), limit)).toBe(true);
    expect(isExpired(read('2025-11-01T01:00:00+01:00'), limit)).toBe(false);
    expect(isExpired(read('2025-10-31T19:00:00-0500'), limit)).toBe(false);
    // Sub-millisecond digits round down without moving across the boundary.
    expect(isExpired(read('2025-10-31T23:59:59.9999Z'), limit)).toBe(true);
    expect(isExpired(read('2025-11-01T00:00:00.0001Z'), limit)).toBe(false);
  });

  it('epochSeconds, including fractions of a second', () => {
    const read = (text: string) => parseEpochText('epochSeconds', text) as number;
    const seconds = limitMs / 1000;
    expect(isExpired(read(String(seconds - 1)), limit)).toBe(true);
    expect(isExpired(read(`${seconds - 1}.999`), limit)).toBe(true);
    expect(isExpired(read(String(seconds)), limit)).toBe(false);
    expect(isExpired(read(`${seconds}.000`), limit)).toBe(false);
    expect(isExpired(read(`${seconds}.001`), limit)).toBe(false);
    expect(isExpired(read(String(seconds + 1)), limit)).toBe(false);
    expect(parseTimestamp('epochSeconds', seconds)).toBe(limitMs);
  });

  it('epochMillis', () => {
    const read = (text: string) => parseEpochText('epochMillis', text) as number;
    expect(isExpired(read(String(before)), limit)).toBe(true);
    expect(isExpired(read(String(limitMs)), limit)).toBe(false);
    expect(isExpired(read(String(after)), limit)).toBe(false);
    expect(isExpired(read(`${before}.9`), limit)).toBe(true);
    expect(parseTimestamp('epochMillis', limitMs)).toBe(limitMs);
  });

  it('S3 LastModified (a Date, to the second)', () => {
    expect(isExpired(new Date(limitMs - 1000).getTime(), limit)).toBe(true);
    expect(isExpired(new Date(limitMs).getTime(), limit)).toBe(false);
    expect(isExpired(new Date(limitMs + 1000).getTime(), limit)).toBe(false);
  });

  it('the cut-off as a DynamoDB N value compares exactly like isExpired', () => {
    const odd = limitMs + 533;
    expect(epochCutoffValue('epochMillis', odd)).toBe(String(odd));
    expect(epochCutoffValue('epochSeconds', odd)).toBe(`${Math.floor(odd / 1000)}.533`);
    expect(epochCutoffValue('epochSeconds', limitMs)).toBe(`${limitMs / 1000}.000`);
    expect(epochCutoffValue('epochSeconds', -1)).toBe('-0.001');
  });

  it('the iso8601 index bound lies above every expired timestamp whatever its offset', () => {
    const bound = iso8601QueryBound(limitMs);
    // An instant just before the cut-off written at +14:00 reads 14 hours later.
    expect('2025-11-01T13:59:59.999+14:00' < bound).toBe(true);
    expect('2025-11-01T13:59:59+14:00' < bound).toBe(true);
    expect('2025-10-31' < bound).toBe(true);
  });
});

describe('timestamps that cannot be read are never purged', () => {
  it.each([
    ['iso8601', 'yesterday'],
    ['iso8601', '2026-02-30T00:00:00Z'],
    ['iso8601', '2026-13-01'],
    ['iso8601', '2026-01-01T24:00:00Z'],
    ['iso8601', '2026-01-01t00:00:00z'],
    ['iso8601', ''],
    ['iso8601', 1772450937],
    ['epochSeconds', '1772450937'],
    ['epochMillis', Number.NaN],
    ['epochMillis', undefined],
  ] as const)('%s %p is unreadable', (format, value) => {
    expect(parseTimestamp(format, value as string | number | undefined)).toBeUndefined();
  });

  it('reads the date-only and offset-free forms as UTC', () => {
    expect(parseIso8601('2026-03-02')).toBe(Date.UTC(2026, 2, 2));
    expect(parseIso8601('2026-03-02T11:28')).toBe(Date.UTC(2026, 2, 2, 11, 28));
    expect(parseIso8601('2026-03-02T11:28:57.5')).toBe(Date.UTC(2026, 2, 2, 11, 28, 57, 500));
    expect(parseEpochText('epochSeconds', 'abc')).toBeUndefined();
    expect(parseEpochText('epochSeconds', '-1.0005')).toBe(-1001);
  });
});

describe('sweep prefixes', () => {
  const store = (extra: Partial<S3Store>): S3Store =>
    ({
      id: 'calls',
      kind: 's3',
      bucket: 'b-calls',
      locate: [{ identity: 'phone', prefix: 'calls/{phone}/' }],
      ...extra,
    }) as S3Store;

  it('default to the fixed part of the locate prefixes; retentionPrefix overrides', () => {
    expect(locatePrefixes(store({}))).toEqual(['calls/']);
    expect(sweepPrefixes(store({}))).toEqual(['calls/']);
    expect(sweepPrefixes(store({ retentionPrefix: 'calls/2024/' }))).toEqual(['calls/2024/']);
    expect(sweepPrefixes(store({ retentionPrefix: '' }))).toEqual(['']);
  });
});

describe('continuation tokens', () => {
  const key = sweepTokenKey(Buffer.alloc(32, 7));
  const scope = { storeId: 'ad-events', segment: 0, totalSegments: 1, cutoffMs: 1_000 };

  it('round-trip, and reveal no key value', () => {
    // Prepare
    const position = {
      kind: 'dynamodb' as const,
      startKey: { cookieId: { S: 'ann@example.com' }, b: { B: new Uint8Array([1, 2]) } },
    };

    // Act
    const token = sealSweepToken(key, scope, position);

    // Assess
    expect(token).not.toContain('ann');
    expect(openSweepToken(key, scope, token)).toEqual(position);
  });

  it('do not open for another store, segment, cut-off or key', () => {
    const token = sealSweepToken(key, scope, {
      kind: 's3',
      prefixIndex: 0,
      startAfter: 'calls/+4930123456/',
    });
    expect(() => openSweepToken(key, { ...scope, storeId: 'other' }, token)).toThrow(InvalidSweepTokenError);
    expect(() => openSweepToken(key, { ...scope, cutoffMs: 2_000 }, token)).toThrow(InvalidSweepTokenError);
    expect(() => openSweepToken(sweepTokenKey(Buffer.alloc(32, 8)), scope, token)).toThrow(
      InvalidSweepTokenError,
    );
    expect(() => openSweepToken(key, scope, `${token.slice(0, -2)}AA`)).toThrow(InvalidSweepTokenError);
    expect(() => openSweepToken(key, scope, 'garbage')).toThrow(InvalidSweepTokenError);
  });
});

describe('planning a sweep', () => {
  const dataMap = parseDataMap(
    `
version: 1
identityTypes: { userId: { normalise: opaque } }
stores:
  - id: events
    kind: dynamodb
    table: t-events
    keySchema: { partitionKey: { name: userId } }
    locate: [{ identity: userId, attribute: userId }]
    categories: [behaviour.events]
    purpose: Analytics
    lawfulBasis: consent
    source: Collected automatically
    erase: { action: delete }
    retention: { period: P30D, from: { attribute: at, format: epochMillis } }
  - id: orders
    kind: dynamodb
    table: t-orders
    keySchema: { partitionKey: { name: userId } }
    locate: [{ identity: userId, attribute: userId }]
    categories: [user.orders]
    purpose: Orders
    lawfulBasis: contract
    source: Provided by the subject
    erase: { action: delete }
  - id: files
    kind: s3
    bucket: t-files
    locate: [{ identity: userId, prefix: "files/{userId}/" }]
    categories: [user.content]
    purpose: Uploads
    lawfulBasis: contract
    source: Provided by the subject
    erase: { action: delete }
    retention: { period: P1Y, from: { lastModified: true } }
`,
    'test',
  );
  const deps = { dataMap, now: () => new Date('2026-11-01T03:00:00.000Z') };

  it('plans the stores with a retention rule, scanned ones in segments, with one fixed now', () => {
    // Act
    const plan = planSweep(deps, { sweepId: 'sweep-1', segments: 3, now: '2026-10-01T00:00:00' });

    // Assess: an offset-free now is UTC.
    expect(plan.now).toBe('2026-10-01T00:00:00.000Z');
    expect(plan.stores).toEqual(['events', 'files']);
    expect(plan.items.map((item) => [item.storeId, item.segment, item.totalSegments])).toEqual([
      ['events', 0, 3],
      ['events', 1, 3],
      ['events', 2, 3],
      ['files', 0, 1],
    ]);
    expect(
      plan.items.every(
        (item) =>
          item.token === null && item.pages === 0 && item.now === plan.now && item.sweepId === 'sweep-1',
      ),
    ).toBe(true);
    expect(planSweep(deps, { sweepId: 'sweep-1' }).now).toBe('2026-11-01T03:00:00.000Z');
  });

  it('refuses a store without a retention rule, a bad now and bad segments', () => {
    expect(() => planSweep(deps, { sweepId: 'sweep-1', storeId: 'orders' })).toThrow(NoRetentionRuleError);
    expect(() => planSweep(deps, { sweepId: 'sweep-1', now: 'tomorrow' })).toThrow(InvalidSweepInputError);
    expect(() => planSweep(deps, { sweepId: 'sweep-1', segments: 0 })).toThrow(InvalidSweepInputError);
    expect(() => planSweep(deps, { sweepId: 'sweep-1', pageSize: 5000 })).toThrow(InvalidSweepInputError);
  });
});
