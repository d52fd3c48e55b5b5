import type { S3Client } from '@aws-sdk/client-s3';
import type { DataMap, S3Store } from '../../datamap/schema';
import { mapConcurrently } from '../concurrency';
import type { RetryPolicy } from '../retry';
import type { LocatedLines, LocatedRecord, StoreClients } from '../types';
import { createNormaliser, matchersOf, type Normaliser, parseLine } from './lines';
import { isVersionedBucket } from './objects';
import { planRecords } from './plan';
import { readS3Records } from './read';
import { DEFAULT_REWRITE_BUFFER_LIMIT, editObject, type LineEdit } from './rewrite';

/**
 * Rectification of the subject's lines in shared JSON-lines objects: each object is rewritten
 * through the erasure's rewrite (conditional on the ETag read, every other line byte for byte),
 * with the subject's lines holding a corrected field replaced by the line with the corrected
 * value. A line is corrected only where it holds the field: a correction never adds data.
 */

/** JSON-lines objects rectified at once, as erasure rewrites them. */
const RECTIFY_CONCURRENCY = 4;
const UTF8_BOM = Buffer.from('\ufeff');

/** Per field: lines corrected, and lines that held the corrected value already. */
export interface LineFieldCount {
  field: string;
  updated: number;
  unchanged: number;
}

/** What rectifying one store's lines did: lines, counted once each however many fields changed. */
export interface LinesRectified {
  updated: number;
  unchanged: number;
  skipped: number;
  failed: number;
  held: number;
  fields: LineFieldCount[];
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The fields of `corrections` the store declares rectifiable. */
function correctedFields(store: S3Store, corrections: Readonly<Record<string, unknown>>): string[] {
  const declared = new Set(store.rectify?.attributes ?? []);
  return Object.keys(corrections).filter((field) => declared.has(field));
}

/**
 * The edit of one object: the subject's lines holding a corrected field get the corrected value.
 * Labels counted: `FIELD\u0000updated|unchanged` per field a subject's line holds, and
 * `\u0000line` per subject's line.
 */
function rectifyEdit(
  group: readonly LocatedLines[],
  fields: readonly string[],
  corrections: Readonly<Record<string, unknown>>,
  normalise: Normaliser,
): LineEdit {
  const matchers = matchersOf(group);
  return (bytes, firstLine) => {
    const line = parseLine(bytes, firstLine, matchers, normalise);
    if (line.kind !== 'record' || line.matcher < 0) return { kind: 'keep' };
    const count = ['\u0000line'];
    let changed = false;
    const corrected: Record<string, unknown> = { ...line.record };
    for (const field of fields) {
      if (!Object.hasOwn(line.record, field)) continue;
      const same = sameJson(line.record[field], corrections[field]);
      count.push(`${field}\u0000${same ? 'unchanged' : 'updated'}`);
      if (!same) {
        corrected[field] = corrections[field];
        changed = true;
      }
    }
    if (!changed) return { kind: 'keep', count };
    const text = Buffer.from(JSON.stringify(corrected));
    const bom = firstLine && bytes.subarray(0, UTF8_BOM.length).equals(UTF8_BOM);
    return { kind: 'replace', bytes: bom ? Buffer.concat([UTF8_BOM, text]) : text, count };
  };
}

/**
 * Rectifies the subject's located lines of a JSON-lines store: every line of the subject that
 * holds a corrected field is rewritten with the corrected value, under the same ETag condition
 * and retries as erasure's rewrite. Lines a legal hold keeps are left alone (`held`). Counts only.
 * @throws RecordOutsideStoreError before touching anything, when a record does not belong to the store
 */
export async function rectifyLines(
  store: S3Store,
  records: readonly LocatedRecord[],
  corrections: Readonly<Record<string, unknown>>,
  s3: S3Client,
  dataMap: Pick<DataMap, 'identityTypes'>,
  policy: RetryPolicy,
): Promise<LinesRectified> {
  const result: LinesRectified = { updated: 0, unchanged: 0, skipped: 0, failed: 0, held: 0, fields: [] };
  const lines = records.filter((record): record is LocatedLines => record.kind === 'lines');
  const held = lines.filter((record) => record.exemption?.source === 'hold');
  for (const record of held) result.held += record.lineCount;
  const plan = planRecords(
    store,
    lines.filter((record) => record.exemption?.source !== 'hold'),
  );
  const fields = correctedFields(store, corrections);
  if (plan.lines.size === 0 || fields.length === 0) return result;
  const normalise = createNormaliser(dataMap);
  const versioned = await isVersionedBucket(s3, store.bucket);
  const groups = [...plan.lines.entries()];
  const outcomes = await mapConcurrently(groups, RECTIFY_CONCURRENCY, ([key, group]) =>
    editObject(store, s3, key, rectifyEdit(group, fields, corrections, normalise), {
      policy,
      normalise,
      bufferLimit: DEFAULT_REWRITE_BUFFER_LIMIT,
      versioned,
    }),
  );
  const byField = new Map<string, LineFieldCount>();
  outcomes.forEach((outcome, index) => {
    const located = (groups[index]?.[1] ?? []).reduce((sum, record) => sum + record.lineCount, 0);
    if (!outcome.ok) {
      result.failed += located;
      return;
    }
    const seen = outcome.tally.get('\u0000line') ?? 0;
    result.updated += outcome.replaced;
    result.unchanged += seen - outcome.replaced;
    result.skipped += Math.max(0, located - seen);
    for (const [label, count] of outcome.tally) {
      const [field, kind] = label.split('\u0000');
      if (!field || (kind !== 'updated' && kind !== 'unchanged')) continue;
      const entry = byField.get(field) ?? { field, updated: 0, unchanged: 0 };
      entry[kind] += count;
      byField.set(field, entry);
    }
  });
  result.fields = [...byField.values()].sort((a, b) => a.field.localeCompare(b.field));
  return result;
}

/**
 * Reads the subject's lines again (as an export reads them) and counts those holding a corrected
 * field with another value than the correction (objects gone are not counted; lines a hold keeps
 * are not checked).
 */
export async function checkRectifiedLines(
  store: S3Store,
  records: readonly LocatedRecord[],
  corrections: Readonly<Record<string, unknown>>,
  clients: StoreClients,
  dataMap: Pick<DataMap, 'identityTypes'>,
): Promise<{ checked: number; mismatched: number }> {
  const check = { checked: 0, mismatched: 0 };
  const fields = correctedFields(store, corrections);
  if (fields.length === 0) return check;
  const lines = records.filter(
    (record): record is LocatedLines => record.kind === 'lines' && record.exemption?.source !== 'hold',
  );
  for await (const exported of readS3Records(store, lines, clients, dataMap)) {
    const line = exported.data as Record<string, unknown>;
    const held = fields.filter((field) => Object.hasOwn(line, field));
    if (held.length === 0) continue;
    check.checked += 1;
    if (held.some((field) => !sameJson(line[field], corrections[field]))) check.mismatched += 1;
  }
  return check;
}
