import {
  closeSync,
  createReadStream,
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  statSync,
} from 'node:fs';
import { basename, join } from 'node:path';
import { createInterface } from 'node:readline';
import type { TableDescription } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { readObjectHead } from './content';
import {
  type BucketSample,
  type DiscoverySource,
  keysToList,
  matchesPattern,
  OBJECT_HEAD_BYTES,
  type SampledObject,
  type SampleOptions,
  spread,
  type TableSample,
} from './sample';
import { describedKeys } from './stores';

/**
 * An export folder laid out as `lethe import` reads it: `DIR/dynamodb/<table>.jsonl` (one item a
 * line, for `--file`) and `DIR/s3/<bucket>/…` (the objects by key, for `--dir`). A folder without
 * those two holds the same side by side (`DIR/<table>.jsonl`, `DIR/<bucket>/`), as the examples'
 * seed generators write them. `<table>.describe.json` beside a table's file, the output of
 * `aws dynamodb describe-table`, gives its key schema and indexes; without it they are guessed.
 */

/** Raised when the folder itself cannot be read: nothing can be discovered. */
export class DiscoveryInputError extends Error {
  override readonly name = 'DiscoveryInputError';
}

const DYNAMO_VALUE_TYPES = new Set(['S', 'N', 'B', 'SS', 'NS', 'BS', 'M', 'L', 'NULL', 'BOOL']);

/** An item in DynamoDB JSON (`{"email": {"S": "…"}}`, as `aws dynamodb scan` prints) as a document. */
function documentOf(item: Record<string, unknown>): Record<string, unknown> {
  const values = Object.values(item);
  const typed =
    values.length > 0 &&
    values.every(
      (value) =>
        value !== null &&
        typeof value === 'object' &&
        !Array.isArray(value) &&
        Object.keys(value).length === 1 &&
        DYNAMO_VALUE_TYPES.has(Object.keys(value)[0] ?? ''),
    );
  if (!typed) return item;
  try {
    return unmarshall(item as Parameters<typeof unmarshall>[0]);
  } catch {
    return item;
  }
}

async function firstLines(
  file: string,
  count: number,
): Promise<{ items: Record<string, unknown>[]; bad: number }> {
  const items: Record<string, unknown>[] = [];
  let bad = 0;
  const stream = createReadStream(file, { encoding: 'utf8' });
  const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
  try {
    for await (const line of lines) {
      if (line.trim() === '') continue;
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        parsed = undefined;
      }
      if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed))
        items.push(documentOf(parsed as Record<string, unknown>));
      else bad += 1;
      if (items.length + bad >= count) break;
    }
  } finally {
    lines.close();
    stream.destroy();
  }
  return { items, bad };
}

function describedTable(file: string): { described?: TableDescription; problem?: string } {
  if (!existsSync(file)) return {};
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as { Table?: TableDescription } & TableDescription;
    return { described: parsed.Table ?? parsed };
  } catch {
    return {
      problem: `${basename(file)} is not the JSON that aws dynamodb describe-table prints; the keys are guessed`,
    };
  }
}

async function sampleTableFile(file: string, sample: number): Promise<TableSample> {
  const name = basename(file, '.jsonl');
  const problems: string[] = [];
  const { described, problem } = describedTable(join(file, '..', `${name}.describe.json`));
  if (problem) problems.push(problem);
  const { keySchema, indexes } = describedKeys(described);
  let items: Record<string, unknown>[] = [];
  try {
    const read = await firstLines(file, sample);
    items = read.items;
    if (read.bad > 0)
      problems.push(`${read.bad} of the first ${read.bad + items.length} lines are not JSON objects`);
  } catch (error) {
    problems.push(`the file cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  return { name, ...(keySchema ? { keySchema, indexes } : {}), items, problems };
}

/** Files under `dir` as keys (paths relative to it, with "/"), up to `limit`, in key order. */
function walkKeys(dir: string, limit: number, problems: string[]): { keys: string[]; more: boolean } {
  const keys: string[] = [];
  let unreadable = 0;
  let more = false;
  const walk = (at: string, prefix: string) => {
    let entries: string[];
    try {
      entries = readdirSync(at).sort();
    } catch {
      unreadable += 1;
      return;
    }
    for (const entry of entries) {
      if (keys.length >= limit) {
        more = true;
        return;
      }
      const path = join(at, entry);
      let stat: ReturnType<typeof statSync>;
      try {
        stat = statSync(path);
      } catch {
        unreadable += 1;
        continue;
      }
      if (stat.isDirectory()) walk(path, `${prefix}${entry}/`);
      else if (stat.isFile()) keys.push(`${prefix}${entry}`);
    }
  };
  walk(dir, '');
  if (unreadable > 0) problems.push(`${unreadable} folders or files cannot be read and were left out`);
  return { keys: keys.sort(), more };
}

function readFileHead(file: string): { head: Buffer; truncated: boolean } {
  const descriptor = openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(OBJECT_HEAD_BYTES + 1);
    const read = readSync(descriptor, buffer, 0, buffer.length, 0);
    return {
      head: buffer.subarray(0, Math.min(read, OBJECT_HEAD_BYTES)),
      truncated: read > OBJECT_HEAD_BYTES,
    };
  } finally {
    closeSync(descriptor);
  }
}

function sampleBucketFolder(dir: string, sample: number): BucketSample {
  const problems: string[] = [];
  const { keys, more } = walkKeys(dir, keysToList(sample), problems);
  const objects: SampledObject[] = [];
  let unread = 0;
  for (const key of spread(keys, sample)) {
    try {
      const { head, truncated } = readFileHead(join(dir, ...key.split('/')));
      objects.push(readObjectHead(key, head, truncated, sample));
    } catch {
      unread += 1;
      objects.push({ key, format: 'unread', records: [], badLines: 0 });
    }
  }
  if (unread > 0) problems.push(`${unread} files cannot be read`);
  return { name: basename(dir), keys, moreKeys: more, objects, problems };
}

function entriesOf(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch (error) {
    throw new DiscoveryInputError(
      `cannot read the folder ${dir} (${(error as NodeJS.ErrnoException).code ?? 'error'}): pass a folder laid out as DIR/dynamodb/<table>.jsonl and DIR/s3/<bucket>/`,
    );
  }
}

const isDirectory = (path: string) => {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
};

/** The tables and buckets of an export folder (see the layout above). */
export function folderSource(dir: string, options: SampleOptions): DiscoverySource {
  const top = entriesOf(dir);
  const nested = top.includes('dynamodb') || top.includes('s3');
  const tableDir = nested ? join(dir, 'dynamodb') : dir;
  const bucketDir = nested ? join(dir, 's3') : dir;
  const tableFiles = (nested && !top.includes('dynamodb') ? [] : entriesOf(tableDir))
    .filter((entry) => entry.endsWith('.jsonl') && matchesPattern(basename(entry, '.jsonl'), options.tables))
    .map((entry) => join(tableDir, entry));
  const bucketDirs = (nested && !top.includes('s3') ? [] : entriesOf(bucketDir))
    .filter((entry) => !(nested ? [] : ['dynamodb', 's3']).includes(entry) && !entry.startsWith('.'))
    .map((entry) => join(bucketDir, entry))
    .filter((path) => isDirectory(path) && matchesPattern(basename(path), options.buckets));
  return {
    description: `the folder ${dir}`,
    async *tables() {
      for (const file of tableFiles) yield await sampleTableFile(file, options.sample);
    },
    async *buckets() {
      for (const folder of bucketDirs) yield sampleBucketFolder(folder, options.sample);
    },
  };
}
