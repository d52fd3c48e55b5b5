import { importItems, importObjects } from '../../lib/local/import';
import { elapsedMs, now, RequestCounter, timed, total } from '../support/measure';
import type { Goal, Row, ScenarioResult } from '../support/report';
import { backgroundSeed, initEnvironment, temporaryStateDir } from '../support/world';
import type { BenchOptions, Scenario } from './types';

/** Goal: a 2,000-subject seed loads in well under a minute, so demos and tests set up fast. */
const ITEMS_PER_SECOND_GOAL = 3_000;
const OBJECTS_PER_SECOND_GOAL = 300;

async function run(options: BenchOptions): Promise<ScenarioResult> {
  const subjects = options.subjects ?? (options.quick ? 300 : 2_000);
  const records = options.records ?? (options.quick ? 5 : 10);

  options.progress(`generating the ad-tech seed: ${subjects} subjects x ${records} records`);
  const generated = await timed(async () => backgroundSeed(subjects, records));
  const seed = generated.value;
  const stateDir = temporaryStateDir('import');
  const opened = await timed(() => initEnvironment(stateDir));
  const env = opened.value;
  const counter = new RequestCounter().attach(env.clients);
  const rows: Row[] = [];
  const data: Record<string, unknown>[] = [];
  let itemCount = 0;
  let itemMs = 0;
  let objectCount = 0;
  let objectMs = 0;
  try {
    for (const [storeId, items] of Object.entries(seed.dynamodb)) {
      counter.reset();
      options.progress(`importing ${items.length} items into ${storeId}`);
      const start = now();
      await importItems(env.dataMap, storeId, items, env.clients);
      const ms = elapsedMs(start);
      const calls = total(counter.snapshot().dynamodb);
      itemCount += items.length;
      itemMs += ms;
      const row = {
        store: storeId,
        kind: 'DynamoDB (dynalite)',
        records: items.length,
        ms: Math.round(ms),
        perSecond: Math.round((items.length / ms) * 1000),
        mbPerSecond: null,
        calls,
      };
      rows.push(row);
      data.push({ ...row, requests: counter.snapshot() });
    }
    for (const [storeId, objects] of Object.entries(seed.s3)) {
      counter.reset();
      options.progress(`uploading ${objects.length} objects into ${storeId}`);
      const bytes = objects.reduce(
        (sum, object) =>
          sum + (typeof object.body === 'string' ? Buffer.byteLength(object.body) : object.body.length),
        0,
      );
      const start = now();
      await importObjects(env.dataMap, storeId, objects, env.clients);
      const ms = elapsedMs(start);
      objectCount += objects.length;
      objectMs += ms;
      const row = {
        store: storeId,
        kind: 'S3 (s3rver)',
        records: objects.length,
        ms: Math.round(ms),
        perSecond: Math.round((objects.length / ms) * 1000),
        mbPerSecond: Math.round((bytes / 1024 / 1024 / ms) * 1000 * 10) / 10,
        calls: total(counter.snapshot().s3),
      };
      rows.push(row);
      data.push({ ...row, bytes, requests: counter.snapshot() });
    }
  } finally {
    await env.close();
  }

  const itemsPerSecond = Math.round((itemCount / itemMs) * 1000);
  const objectsPerSecond = Math.round((objectCount / objectMs) * 1000);
  rows.push(
    {
      store: 'all DynamoDB stores',
      kind: 'items',
      records: itemCount,
      ms: Math.round(itemMs),
      perSecond: itemsPerSecond,
      mbPerSecond: null,
      calls: null,
    },
    {
      store: 'all S3 stores',
      kind: 'objects',
      records: objectCount,
      ms: Math.round(objectMs),
      perSecond: objectsPerSecond,
      mbPerSecond: null,
      calls: null,
    },
  );
  const goals: Goal[] = [
    {
      goal: `seed import into dynalite >= ${ITEMS_PER_SECOND_GOAL.toLocaleString('en-US')} items/s`,
      met: itemsPerSecond >= ITEMS_PER_SECOND_GOAL,
      measured: `${itemsPerSecond.toLocaleString('en-US')} items/s`,
    },
    {
      goal: `seed upload into s3rver >= ${OBJECTS_PER_SECOND_GOAL} objects/s`,
      met: objectsPerSecond >= OBJECTS_PER_SECOND_GOAL,
      measured: `${objectsPerSecond.toLocaleString('en-US')} objects/s`,
    },
  ];
  return {
    scenario: 'import',
    params: { subjects, records },
    tables: [
      {
        title: `Seed import: ${subjects.toLocaleString('en-US')} subjects x ${records} records (importItems / importObjects, as importSeed runs them)`,
        columns: {
          store: 'Store',
          kind: 'Kind',
          records: 'Records',
          ms: 'ms',
          perSecond: 'Records/s',
          mbPerSecond: 'MiB/s',
          calls: 'API calls',
        },
        rows,
        notes: [
          `seed generated in ${Math.round(generated.ms)} ms; local environment created in ${Math.round(opened.ms)} ms`,
          'DynamoDB: BatchWriteItem of 25, one batch at a time; S3: PutObject, 8 uploads in flight',
        ],
      },
    ],
    data: { generateMs: generated.ms, openMs: opened.ms, stores: data },
    goals,
  };
}

export const importScenario: Scenario = {
  name: 'import',
  summary: 'seed generation and import throughput into dynalite (items/s) and s3rver (objects/s)',
  run,
};
