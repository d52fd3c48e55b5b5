import { join } from 'node:path';
import { getStore, loadDataMap } from '../../../lib/datamap/load';
import type { S3Store } from '../../../lib/datamap/schema';
import { UnsupportedStoreError } from '../../../lib/stores/errors';
import { RecordOutsideStoreError, UnsafePrefixValueError } from '../../../lib/stores/s3/errors';
import { createNormaliser, matchersOf, parseLine } from '../../../lib/stores/s3/lines';
import { planRecords } from '../../../lib/stores/s3/plan';
import { identitiesInKey, placeholderValue, substitutePrefix } from '../../../lib/stores/s3/prefixes';
import { type LinePiece, splitLines } from '../../../lib/stores/s3/stream';
import type { LocatedLines } from '../../../lib/stores/types';

/** The pure parts of the S3 adapter: lines, matching, prefixes and record plans, without a server. */

const dataMap = loadDataMap(join(__dirname, '../../../examples/adtech/datamap.yaml'));
const s3Store = (id: string) => getStore(dataMap, id) as S3Store;
const calls = s3Store('call-recordings');
const clicks = s3Store('clickstream');
const COOKIE = 'c0ffee00-0000-4000-8000-000000000001';

async function pieces(chunks: (string | Buffer)[], maxLineBytes?: number): Promise<LinePiece[]> {
  async function* source() {
    for (const chunk of chunks) yield Buffer.from(chunk);
  }
  const result: LinePiece[] = [];
  for await (const piece of splitLines(source(), clicks, maxLineBytes)) result.push(piece);
  return result;
}
const text = (piece: LinePiece) => piece.bytes.toString('utf8');

describe('splitLines', () => {
  it('splits on "\\n" only, across chunks, keeping "\\r" and whether the last line ended', async () => {
    // Act
    const lines = await pieces(['{"a":1}\r\n{"b"', ':2}\n\n{"c":3}']);

    // Assess
    expect(lines.map((piece) => [piece.kind, text(piece), piece.newline])).toEqual([
      ['line', '{"a":1}\r', true],
      ['line', '{"b":2}', true],
      ['line', '', true],
      ['line', '{"c":3}', false],
    ]);
  });

  it('passes a line longer than the limit as pieces, the last one marked', async () => {
    // Act
    const lines = await pieces(['short\n0123456789', 'abcdef\nnext\n'], 8);

    // Assess
    expect(lines.map((piece) => [piece.kind, text(piece), piece.kind === 'long' && piece.end])).toEqual([
      ['line', 'short', false],
      ['long', '0123456789', false],
      ['long', 'abcdef', true],
      ['line', 'next', false],
    ]);
  });

  it('refuses a compressed object rather than seeing no lines in it', async () => {
    await expect(pieces([Buffer.from([0x1f, 0x8b, 0x08, 0x00])])).rejects.toThrow(UnsupportedStoreError);
  });
});

describe('parseLine', () => {
  const normalise = createNormaliser(dataMap);
  const matchers = [{ identity: 'cookieId', field: 'cookieId', values: new Set([COOKIE]) }];

  it('matches a line whose field normalises to one of the values', () => {
    const line = parseLine(
      Buffer.from(`{"cookieId":"${COOKIE.toUpperCase()}","url":"/"}`),
      false,
      matchers,
      normalise,
    );
    expect(line).toEqual({
      kind: 'record',
      record: { cookieId: COOKIE.toUpperCase(), url: '/' },
      matcher: 0,
    });
  });

  it('tells blank, malformed and other people’s lines apart', () => {
    expect(parseLine(Buffer.from('  '), false, matchers, normalise)).toEqual({ kind: 'blank' });
    expect(parseLine(Buffer.from('[1,2]'), false, matchers, normalise)).toEqual({ kind: 'malformed' });
    expect(parseLine(Buffer.from('{"cookieId":'), false, matchers, normalise)).toEqual({ kind: 'malformed' });
    expect(
      parseLine(
        Buffer.from('{"cookieId":"00000000-0000-4000-8000-000000000002"}'),
        false,
        matchers,
        normalise,
      ),
    ).toMatchObject({
      matcher: -1,
    });
  });

  it('strips a byte-order mark from the first line only, and reads own properties only', () => {
    const bom = Buffer.from(`\ufeff{"cookieId":"${COOKIE}"}`);
    expect(parseLine(bom, true, matchers, normalise)).toMatchObject({ matcher: 0 });
    expect(parseLine(bom, false, matchers, normalise)).toEqual({ kind: 'malformed' });
    const inherited = [{ identity: 'cookieId', field: 'constructor', values: new Set([COOKIE]) }];
    expect(parseLine(Buffer.from('{}'), false, inherited, normalise)).toMatchObject({ matcher: -1 });
  });

  it('matches located lines records by the fields and values they were located by', () => {
    const record: LocatedLines = {
      kind: 'lines',
      key: 'clicks/1.jsonl',
      etag: '"e"',
      lineCount: 1,
      matched: { identity: 'cookieId', field: 'cookieId', values: [COOKIE] },
    };
    expect(matchersOf([record])).toEqual(matchers);
  });
});

describe('prefixes', () => {
  it('substitutes a value into the template, refusing one that could leave the subject’s folder', () => {
    const rule = calls.locate[0] as Extract<S3Store['locate'][number], { prefix: string }>;
    expect(substitutePrefix(calls, rule, '+4930123456')).toBe('calls/+4930123456/');
    for (const value of ['+49/30', '.', '..']) {
      expect(() => substitutePrefix(calls, rule, value)).toThrow(UnsafePrefixValueError);
    }
  });

  it('reads the identity a key reveals under a per-subject prefix, and none elsewhere', () => {
    expect(identitiesInKey(calls, 'calls/+4930123456/2026-01-01.wav', dataMap)).toEqual([
      { type: 'phone', value: '+4930123456' },
    ]);
    expect(identitiesInKey(calls, 'calls/2026-01-01.wav', dataMap)).toEqual([]);
    expect(identitiesInKey(calls, 'other/+4930123456/x.wav', dataMap)).toEqual([]);
  });

  it('reads the placeholder text of a key as stored, normalised or not, and nothing outside a subject folder', () => {
    const rule = calls.locate[0] as Extract<S3Store['locate'][number], { prefix: string }>;
    expect(placeholderValue(calls, rule, 'calls/0049 30 123456/x.wav')).toBe('0049 30 123456');
    expect(placeholderValue(calls, rule, 'calls/+4930123456/sub/x.wav')).toBe('+4930123456');
    expect(placeholderValue(calls, rule, 'calls/x.wav')).toBeUndefined();
    expect(placeholderValue(calls, rule, 'calls//x.wav')).toBeUndefined();
    expect(placeholderValue(calls, rule, 'other/+4930123456/x.wav')).toBeUndefined();
  });
});

describe('planRecords', () => {
  it('groups lines records by object, de-duplicates objects and puts exempted records aside', () => {
    // Prepare
    const lines = (values: string[]): LocatedLines => ({
      kind: 'lines',
      key: 'clicks/1.jsonl',
      etag: '"e"',
      lineCount: values.length,
      matched: { identity: 'cookieId', field: 'cookieId', values },
    });
    const object = { kind: 'object' as const, key: 'calls/+4930123456/a.wav', size: 1 };
    const exemption = { source: 'datamap' as const, reason: 'Kept by law' };

    // Act
    const clickPlan = planRecords(clicks, [lines(['a']), lines(['b'])]);
    const callPlan = planRecords(
      calls,
      [object, object, { ...object, key: 'calls/+49301/b.wav', exemption }],
      true,
    );

    // Assess
    expect([...clickPlan.lines.entries()]).toEqual([['clicks/1.jsonl', [lines(['a']), lines(['b'])]]]);
    expect(callPlan.objects).toEqual([object]);
    expect(callPlan.exempt).toHaveLength(1);
  });

  it('refuses, before anything is touched, a record that is not of the store', () => {
    const outside = { kind: 'object' as const, key: 'elsewhere/+4930123456/a.wav', size: 1 };
    const item = {
      kind: 'item' as const,
      key: { id: 'x' },
      matched: { identity: 'phone', attribute: 'p', value: 'x' },
    };
    expect(() => planRecords(calls, [outside])).toThrow(RecordOutsideStoreError);
    expect(() => planRecords(calls, [item])).toThrow(RecordOutsideStoreError);
  });
});
