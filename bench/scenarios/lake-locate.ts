import { ScanCommand } from '@aws-sdk/client-dynamodb';
import type { Identity } from '../../lib/datamap/identity';
import { getStore } from '../../lib/datamap/load';
import type { S3Store } from '../../lib/datamap/schema';
import { buildIndex, type FilterTally, sharedObjectFilter } from '../../lib/lake';
import type { LocalEnvironment } from '../../lib/local/environment';
import { importObjects } from '../../lib/local/import';
import { locateInStore } from '../../lib/stores';
import { RequestCounter, timed } from '../support/measure';
import type { Goal, Row, ScenarioResult } from '../support/report';
import { initEnvironment, temporaryStateDir } from '../support/world';
import { clickFiles, uuidFrom, xorshift } from './jsonl-rewrite';
import type { BenchOptions, Scenario } from './types';

const MIB = 1024 * 1024;
/** Goal: with the index, a locate on the 10x lake takes at most this much longer than on the 1x lake. */
const INDEXED_GROWTH_GOAL = 1.3;
/** Indexed locates per lake size; the median is reported. */
const INDEXED_RUNS = 5;

interface LakeMeasurement {
  label: string;
  files: number;
  mib: number;
  subjectLines: number;
  fullMs: number;
  fullReads: number;
  buildMs: number;
  buildMibs: number;
  indexedMs: number;
  indexedReads: number;
  located: number;
  entries: number;
  entryBytes: number;
  identities: number;
}

/**
 * One lake size: the subject's lines sit in the first files only (as a subject's clicks sit in
 * the days they visited), the rest of the lake is everyone else's.
 */
async function measureLake(label: string, files: number, linesPerFile: number, options: BenchOptions) {
  const env: LocalEnvironment = await initEnvironment(temporaryStateDir('lake'));
  try {
    const store = getStore(env.dataMap, 'clickstream') as S3Store;
    const subjectCookie = uuidFrom(xorshift(42));
    const identities: Identity[] = [{ type: 'cookieId', value: subjectCookie }];
    const mine = clickFiles({ label, files: 4, linesPerFile }, subjectCookie);
    const others = clickFiles({ label, files, linesPerFile }, uuidFrom(xorshift(7)));
    others.objects.splice(0, 4);
    const objects = [...mine.objects, ...others.objects];
    const bytes = objects.reduce((sum, object) => sum + object.body.length, 0);
    options.progress(`[${label}] uploading ${objects.length} files (${(bytes / MIB).toFixed(1)} MiB)`);
    await importObjects(env.dataMap, store.id, objects, env.clients);
    objects.length = 0;
    const counter = new RequestCounter().attach(env.clients);

    const full = await timed(() => locateInStore(env.dataMap, store, identities, env.clients));
    const fullReads = counter.snapshot().s3.GetObject ?? 0;
    const build = await timed(() => buildIndex(env.deps, store));
    const locateIndexed = async () => {
      const tally: FilterTally = { listed: 0, selected: 0, hits: 0 };
      const sharedObjects = await sharedObjectFilter(env.deps, store, identities, { tally });
      return locateInStore(
        env.dataMap,
        store,
        identities,
        env.clients,
        sharedObjects ? { sharedObjects } : {},
      );
    };
    // The median of a few runs: one locate takes tens of milliseconds, where a single run on a
    // loaded machine says more about the load than about the lake.
    const runs: { value: Awaited<ReturnType<typeof locateIndexed>>; ms: number }[] = [];
    let indexedReads = 0;
    for (let run = 0; run < INDEXED_RUNS; run += 1) {
      counter.reset();
      runs.push(await timed(locateIndexed));
      indexedReads = Math.max(indexedReads, counter.snapshot().s3.GetObject ?? 0);
    }
    runs.sort((a, b) => a.ms - b.ms);
    const indexed = runs[Math.floor(runs.length / 2)] ?? runs[0];
    if (!indexed) throw new Error('no indexed run');
    if (indexed.value.located !== full.value.located || full.value.located !== mine.subjectLines) {
      throw new Error(
        `${label}: ${mine.subjectLines} lines written, ${full.value.located} full, ${indexed.value.located} indexed`,
      );
    }
    const scan = await env.clients.dynamodb.send(
      new ScanCommand({ TableName: env.deps.resources.identityIndexTable ?? '' }),
    );
    const entries = (scan.Items ?? []).filter((item) => item.pk?.S?.startsWith('h#'));
    // DynamoDB bills an item by its attribute names and values: pk, sk, gen (a number, ~2 bytes).
    const entryBytes = entries.reduce(
      (sum, item) => sum + 2 + (item.pk?.S?.length ?? 0) + 2 + (item.sk?.S?.length ?? 0) + 3 + 2,
      0,
    );
    const identitiesIndexed = new Set(entries.map((item) => item.pk?.S)).size;
    options.progress(
      `[${label}] full read ${Math.round(full.ms)} ms (${fullReads} GETs), build ${Math.round(build.ms)} ms, indexed ${Math.round(indexed.ms)} ms (${indexedReads} GETs)`,
    );
    return {
      label,
      files,
      mib: Math.round((bytes / MIB) * 10) / 10,
      subjectLines: mine.subjectLines,
      fullMs: Math.round(full.ms),
      fullReads,
      buildMs: Math.round(build.ms),
      buildMibs: Math.round((bytes / MIB / build.ms) * 1000 * 10) / 10,
      indexedMs: Math.round(indexed.ms),
      indexedReads,
      located: indexed.value.located,
      entries: entries.length,
      entryBytes,
      identities: identitiesIndexed,
    } satisfies LakeMeasurement;
  } finally {
    await env.close();
  }
}

async function run(options: BenchOptions): Promise<ScenarioResult> {
  const linesPerFile = options.records ?? 1_000;
  const base = options.quick ? 8 : 40;
  const small = await measureLake('1x', base, linesPerFile, options);
  const large = await measureLake('10x', base * 10, linesPerFile, options);
  const rows: Row[] = [small, large].map((m) => ({ ...m }));
  const growth = large.indexedMs / Math.max(1, small.indexedMs);
  const goals: Goal[] = [
    {
      goal: "with the index, objects read = the subject's objects plus the unindexed tail, at any lake size",
      met: small.indexedReads === 4 && large.indexedReads === 4,
      measured: `1x: ${small.indexedReads} of ${small.files} objects; 10x: ${large.indexedReads} of ${large.files} (full read: ${small.fullReads}, ${large.fullReads})`,
    },
    {
      goal: `with the index, locate at 10x takes <= ${INDEXED_GROWTH_GOAL}x the time at 1x`,
      met: growth <= INDEXED_GROWTH_GOAL,
      measured: `${small.indexedMs} -> ${large.indexedMs} ms (${growth.toFixed(2)}x; full read ${small.fullMs} -> ${large.fullMs} ms)`,
    },
  ];
  const perMillion = (m: LakeMeasurement) =>
    Math.round(((m.entryBytes / Math.max(1, m.entries)) * 1e6) / MIB);
  return {
    scenario: 'lake-locate',
    params: { linesPerFile, sizes: [small.files, large.files], subjectFiles: 4 },
    tables: [
      {
        title: 'Lake locate: one subject in a JSON-lines store, full read vs identity index',
        columns: {
          label: 'Lake',
          files: 'Objects',
          mib: 'MiB',
          subjectLines: "Subject's lines",
          fullReads: 'Full read: GETs',
          fullMs: 'Full read ms',
          indexedReads: 'Indexed: GETs',
          indexedMs: `Indexed ms (median of ${INDEXED_RUNS})`,
          buildMs: 'Index build ms',
          buildMibs: 'Build MiB/s',
          entries: 'Index entries',
        },
        rows,
        notes: [
          "The subject's lines are in 4 objects; every other object holds other people's lines only",
          'Indexed: the index is read (one Query per identity), the bucket listed, and only the objects the index names or does not describe at their ETag are read',
          `Index size: about ${perMillion(large)} MiB of entries per million (object, identity) pairs (pk + sk + generation); ${large.identities.toLocaleString('en-US')} identities in ${large.files} objects`,
        ],
      },
    ],
    data: { measurements: [small, large] },
    goals,
  };
}

export const lakeLocateScenario: Scenario = {
  name: 'lake-locate',
  summary:
    'one subject in a JSON-lines lake of 1x and 10x size: objects read and time, full read vs identity index',
  run,
};
