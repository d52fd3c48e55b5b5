import type { ObjectFormat, SampledObject } from './sample';

/**
 * Reading the first bytes of an object as records: JSON lines, a JSON document, CSV rows. Parse
 * errors are counted, never quoted (a parser's message can hold the text it choked on).
 */

const PARQUET_MAGIC = 'PAR1';

function isBinary(head: Buffer): boolean {
  const probe = head.subarray(0, 1024);
  if (probe.includes(0)) return true;
  // Text decodes without replacement characters; most binary formats do not.
  const text = probe.toString('utf8');
  const replaced = (text.match(/\uFFFD/g) ?? []).length;
  return replaced > 2;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Splits one CSV line into fields (quoted fields may hold commas and doubled quotes). */
function csvFields(line: string): string[] {
  const fields: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < line.length; i += 1) {
    const char = line[i];
    if (quoted) {
      if (char === '"' && line[i + 1] === '"') {
        current += '"';
        i += 1;
      } else if (char === '"') quoted = false;
      else current += char;
    } else if (char === '"') quoted = true;
    else if (char === ',') {
      fields.push(current);
      current = '';
    } else current += char;
  }
  fields.push(current);
  return fields;
}

function csvRecords(lines: string[], limit: number): Record<string, unknown>[] {
  const [header, ...rows] = lines;
  if (!header) return [];
  const names = csvFields(header).map((name) => name.trim());
  return rows.slice(0, limit).map((row) => {
    const values = csvFields(row);
    return Object.fromEntries(names.map((name, i) => [name, values[i] ?? '']));
  });
}

const looksLikeCsv = (key: string, lines: string[]) =>
  /\.csv$/i.test(key) ||
  (lines.length >= 2 &&
    (lines[0]?.split(',').length ?? 0) >= 2 &&
    lines.slice(1, 5).every((line) => csvFields(line).length === csvFields(lines[0] ?? '').length));

/**
 * The records at the start of an object whose first bytes are `head`: up to `limit` lines or
 * rows. `truncated` says the object goes on past the head, so its last line may be cut.
 */
export function readObjectHead(key: string, head: Buffer, truncated: boolean, limit: number): SampledObject {
  const object = (format: ObjectFormat, records: Record<string, unknown>[] = [], badLines = 0) => ({
    key,
    format,
    records,
    badLines,
  });
  if (head.subarray(0, 4).toString('latin1') === PARQUET_MAGIC) return object('parquet');
  if (head.length === 0) return object('text');
  if (isBinary(head)) return object('binary');
  const text = head.toString('utf8').replace(/^\uFEFF/, '');
  const whole = truncated ? undefined : parseJson(text);
  if (Array.isArray(whole)) return object('json', whole.filter(isRecord).slice(0, limit));
  if (isRecord(whole)) return object('json', [whole]);
  const lines = text.split(/\r?\n/);
  if (truncated) lines.pop();
  const nonBlank = lines.filter((line) => line.trim() !== '');
  const parsed = nonBlank.slice(0, limit).map((line) => parseJson(line));
  const records = parsed.filter(isRecord);
  if (records.length > 0 && records.length >= parsed.length / 2) {
    return object('json-lines', records, parsed.length - records.length);
  }
  if (looksLikeCsv(key, nonBlank)) return object('csv', csvRecords(nonBlank, limit));
  return object('text');
}
