import { randomBytes } from 'node:crypto';
import { type BidRow, encodeBidRows } from '../../examples/adtech/bids';
import type { Identity } from '../../lib/datamap/identity';
import { getStore } from '../../lib/datamap/load';
import type { S3Store } from '../../lib/datamap/schema';
import { buildIndex, type FilterTally, sharedObjectFilter } from '../../lib/lake';
import type { LocalEnvironment } from '../../lib/local/environment';
import { importObjects } from '../../lib/local/import';
import { eraseInStore, locateInStore } from '../../lib/stores';
import { collectGarbage, type MemoryReport, RequestCounter, timed, withMemory } from '../support/measure';
import type { Goal, Row, ScenarioResult } from '../support/report';
import { initEnvironment, temporaryStateDir } from '../support/world';
import { uuidFrom, xorshift } from './jsonl-rewrite';
import type { BenchOptions, Scenario } from './types';

/**
 * The Parquet store of the example (bid-logs) at two lake sizes, 1x and 10x: one subject's
 * objects read and wall time per locate, identity index vs full read; then a rewrite of one large
 * Parquet object (MiB/s and peak memory) at two object sizes, to see whether memory follows the
 * row group or the object.
 *
 * Sizes are small by default (a 2 MiB and a 20 MiB lake, 8 and 24 MiB objects);
 * LETHE_BENCH_PARQUET_SCALE multiplies them (10 for the 20 MB -> 200 MB lake and a 200 MB object).
 */

const MIB = 1024 * 1024;
const INDEXED_GROWTH_GOAL = 1.3;
/** One row in this many is the subject's (in the subject's objects and the rewritten ones). */
const SUBJECT_EVERY = 100;
const OTHER_COOKIES = 5_000;
/** Rows per object in the lake (the example's exchange files hold 500; lakes hold more). */
const LAKE_ROWS_PER_OBJECT = 20_000;
/** Row group of the large objects: what a Spark or pyarrow writer would typically produce. */
const LARGE_ROW_GROUP = 50_000;
const BYTES_PER_ROW_GUESS = 40;

const USER_AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36',
];

function scale(): number {
  const value = Number(process.env.LETHE_BENCH_PARQUET_SCALE ?? '1');
  return Number.isFinite(value) && value > 0 ? value : 1;
}

/** Deterministic bid rows: `subjectEvery` > 0 puts the subject's cookie in one row of that many (1 in 10 in UPPERCASE). */
function bidRows(count: number, seed: number, subjectCookie: string | undefined): BidRow[] {
  const next = xorshift(seed);
  const cookies = Array.from({ length: OTHER_COOKIES }, () => uuidFrom(next));
  return Array.from({ length: count }, (_, n) => {
    const mine = subjectCookie !== undefined && n % SUBJECT_EVERY === 7;
    const cookie = mine
      ? n % 10 === 0
        ? subjectCookie.toUpperCase()
        : subjectCookie
      : cookies[next() % OTHER_COOKIES];
    return {
      bid_id: `${next().toString(16)}-${n}`,
      ts: BigInt(Date.UTC(2026, 9, 1) + n * 37),
      exchange: ['openx', 'xandr', 'magnite'][next() % 3],
      user: { buyeruid: cookie },
      device: { ip: `192.0.2.${(next() % 254) + 1}`, ua: USER_AGENTS[next() % USER_AGENTS.length] },
      campaign_id: `cmp-${1000 + (next() % 40) * 7}`,
      price: next() % 5 === 0 ? (next() % 900) / 100 : null,
    };
  });
}

interface LakeMeasurement {
  label: string;
  files: number;
  mib: number;
  subjectRows: number;
  fullMs: number;
  fullReads: number;
  buildMs: number;
  indexedMs: number;
  indexedReads: number;
}

async function measureLake(label: string, files: number, options: BenchOptions): Promise<LakeMeasurement> {
  const env: LocalEnvironment = await initEnvironment(temporaryStateDir('parquet-lake'));
  try {
    const store = getStore(env.dataMap, 'bid-logs') as S3Store;
    const subjectCookie = uuidFrom(xorshift(42));
    const identities: Identity[] = [{ type: 'cookieId', value: subjectCookie }];
    const objects: { key: string; body: Buffer; contentType: string }[] = [];
    let subjectRows = 0;
    let bytes = 0;
    for (let file = 0; file < files; file += 1) {
      // The subject's bids sit in the first 4 objects only.
      const rows = bidRows(LAKE_ROWS_PER_OBJECT, file + 1, file < 4 ? subjectCookie : undefined);
      if (file < 4) subjectRows += Math.ceil((LAKE_ROWS_PER_OBJECT - 7) / SUBJECT_EVERY);
      const body = encodeBidRows(rows, 5_000);
      bytes += body.length;
      objects.push({
        key: `bids/dt=2026-10-01/part-${String(file).padStart(5, '0')}.snappy.parquet`,
        body,
        contentType: 'application/vnd.apache.parquet',
      });
    }
    options.progress(`[parquet ${label}] uploading ${files} objects (${(bytes / MIB).toFixed(1)} MiB)`);
    await importObjects(env.dataMap, store.id, objects, env.clients);
    objects.length = 0;
    const counter = new RequestCounter().attach(env.clients);
    const full = await timed(() => locateInStore(env.dataMap, store, identities, env.clients));
    const fullReads = counter.snapshot().s3.GetObject ?? 0;
    const build = await timed(() => buildIndex(env.deps, store));
    counter.reset();
    const tally: FilterTally = { listed: 0, selected: 0, hits: 0 };
    const indexed = await timed(async () => {
      const sharedObjects = await sharedObjectFilter(env.deps, store, identities, { tally });
      return locateInStore(
        env.dataMap,
        store,
        identities,
        env.clients,
        sharedObjects ? { sharedObjects } : {},
      );
    });
    const indexedReads = counter.snapshot().s3.GetObject ?? 0;
    if (indexed.value.located !== full.value.located || full.value.located !== subjectRows)
      throw new Error(
        `parquet ${label}: ${subjectRows} rows written, ${full.value.located} full, ${indexed.value.located} indexed`,
      );
    options.progress(
      `[parquet ${label}] full read ${Math.round(full.ms)} ms (${fullReads} GETs), indexed ${Math.round(indexed.ms)} ms (${indexedReads} GETs)`,
    );
    return {
      label,
      files,
      mib: Math.round((bytes / MIB) * 10) / 10,
      subjectRows,
      fullMs: Math.round(full.ms),
      fullReads,
      buildMs: Math.round(build.ms),
      indexedMs: Math.round(indexed.ms),
      indexedReads,
    };
  } finally {
    await env.close();
  }
}

interface RewriteMeasurement {
  label: string;
  rows: number;
  mib: number;
  removed: number;
  eraseMs: number;
  memory: MemoryReport;
}

async function measureRewrite(
  label: string,
  targetMib: number,
  options: BenchOptions,
): Promise<RewriteMeasurement> {
  const env: LocalEnvironment = await initEnvironment(temporaryStateDir('parquet-rewrite'));
  try {
    const store = getStore(env.dataMap, 'bid-logs') as S3Store;
    const subjectCookie = uuidFrom(xorshift(42));
    const identities: Identity[] = [{ type: 'cookieId', value: subjectCookie }];
    const rowCount = Math.round((targetMib * MIB) / BYTES_PER_ROW_GUESS);
    const body = encodeBidRows(bidRows(rowCount, 99, subjectCookie), LARGE_ROW_GROUP);
    options.progress(
      `[parquet rewrite ${label}] ${rowCount.toLocaleString('en-US')} rows, ${(body.length / MIB).toFixed(1)} MiB`,
    );
    await importObjects(
      env.dataMap,
      store.id,
      [{ key: 'bids/large.snappy.parquet', body, contentType: 'application/vnd.apache.parquet' }],
      env.clients,
    );
    const mib = Math.round((body.length / MIB) * 10) / 10;
    const located = await locateInStore(env.dataMap, store, identities, env.clients);
    collectGarbage();
    const erased = await withMemory(() =>
      eraseInStore(env.dataMap, store, located.records, env.clients, { hmacKey: randomBytes(32) }),
    );
    if (erased.value.erased !== located.located || located.located === 0)
      throw new Error(`parquet rewrite ${label}: ${located.located} located, ${erased.value.erased} erased`);
    options.progress(
      `[parquet rewrite ${label}] ${Math.round(erased.ms)} ms, peak +${erased.memory.peakHeapDeltaMb} MiB`,
    );
    return {
      label,
      rows: rowCount,
      mib,
      removed: erased.value.erased,
      eraseMs: erased.ms,
      memory: erased.memory,
    };
  } finally {
    await env.close();
  }
}

async function run(options: BenchOptions): Promise<ScenarioResult> {
  const factor = scale();
  // 2 MiB -> 20 MiB lake by default (20,000-row objects of about 0.5 MiB).
  const base = Math.max(4, Math.round((options.quick ? 4 : 4) * factor));
  const small = await measureLake('1x', base, options);
  const large = await measureLake('10x', base * 10, options);
  const rewrites = [
    await measureRewrite('smaller', (options.quick ? 4 : 8) * factor, options),
    await measureRewrite('larger', (options.quick ? 12 : 24) * factor, options),
  ];
  const growth = large.indexedMs / Math.max(1, small.indexedMs);
  const mibs = (m: RewriteMeasurement) => Math.round((m.mib / m.eraseMs) * 1000 * 10) / 10;
  const [first, last] = [rewrites[0] as RewriteMeasurement, rewrites[1] as RewriteMeasurement];
  const goals: Goal[] = [
    {
      goal: "Parquet, with the index: objects read = the subject's objects at any lake size",
      met: small.indexedReads === large.indexedReads,
      measured: `1x: ${small.indexedReads} GETs for ${small.files} objects; 10x: ${large.indexedReads} for ${large.files} (full read: ${small.fullReads}, ${large.fullReads})`,
    },
    {
      goal: `Parquet, with the index: locate at 10x takes <= ${INDEXED_GROWTH_GOAL}x the time at 1x`,
      met: growth <= INDEXED_GROWTH_GOAL,
      measured: `${small.indexedMs} -> ${large.indexedMs} ms (${growth.toFixed(2)}x; full read ${small.fullMs} -> ${large.fullMs} ms)`,
    },
    {
      goal: 'Parquet rewrite memory follows the row group, not the object',
      met: last.memory.peakHeapDeltaMb - first.memory.peakHeapDeltaMb <= (last.mib - first.mib) * 0.25 + 24,
      measured: `object ${first.mib} -> ${last.mib} MiB: peak heap+buffers +${first.memory.peakHeapDeltaMb} -> +${last.memory.peakHeapDeltaMb} MiB`,
    },
  ];
  return {
    scenario: 'parquet-lake',
    params: {
      scale: factor,
      rowsPerObject: LAKE_ROWS_PER_OBJECT,
      subjectEvery: SUBJECT_EVERY,
      largeRowGroup: LARGE_ROW_GROUP,
    },
    tables: [
      {
        title: 'Parquet lake locate: one subject in the bid-logs store, full read vs identity index',
        columns: {
          label: 'Lake',
          files: 'Objects',
          mib: 'MiB',
          subjectRows: "Subject's rows",
          fullReads: 'Full read: GETs',
          fullMs: 'Full read ms',
          indexedReads: 'Indexed: GETs',
          indexedMs: 'Indexed ms',
          buildMs: 'Index build ms',
        },
        rows: [small, large].map((m) => ({ ...m })) as Row[],
        notes: [
          "The subject's rows are in 4 objects (1 row in 100); every other object holds other people's rows only",
          'A Parquet object is read for the located column only; objects over 16 MiB by ranged GETs (a GET per column chunk read)',
        ],
      },
      {
        title: 'Parquet rewrite of one large object (Snappy, 50,000-row groups): 1 row in 100 removed',
        columns: {
          label: 'Object',
          rows: 'Rows',
          mib: 'MiB',
          removed: 'Rows removed',
          eraseMs: 'Rewrite ms',
          mibs: 'MiB/s',
          heap: 'Peak heap+buffers MiB',
          rss: 'Peak RSS MiB',
        },
        rows: rewrites.map((m) => ({
          label: m.label,
          rows: m.rows,
          mib: m.mib,
          removed: m.removed,
          eraseMs: Math.round(m.eraseMs),
          mibs: mibs(m),
          heap: m.memory.peakHeapDeltaMb,
          rss: m.memory.peakRssDeltaMb,
        })),
        notes: [
          'eraseInStore on the located rows: a first pass reads the matched column, a second decodes each row group, drops the subject rows and encodes it into a multipart upload',
          'Objects over 8 MiB are read by ranged GETs pinned to the ETag, one row group at a time',
        ],
      },
    ],
    data: { lakes: [small, large], rewrites },
    goals,
  };
}

export const parquetLakeScenario: Scenario = {
  name: 'parquet-lake',
  summary:
    'one subject in a Parquet lake of 1x and 10x size (index vs full read), and a large Parquet rewrite: MiB/s and peak memory',
  run,
};
