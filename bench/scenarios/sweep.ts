import {
  type AttributeValue,
  BatchWriteItemCommand,
  DeleteItemCommand,
  type DynamoDBClient,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import type { DynamoStore } from '../../lib/datamap/schema';
import { sweepStorePage } from '../../lib/retention';
import { elapsedMs, now } from '../support/measure';
import type { Goal, Table } from '../support/report';
import { initEnvironment, SEED_NOW, temporaryStateDir } from '../support/world';
import type { BenchOptions, Scenario } from './types';

const STORE_ID = 'ad-events';
/** Added before every DynamoDB call in the second measurement: an in-region round trip. */
const ROUND_TRIP_MS = 5;
const DAY_MS = 24 * 60 * 60 * 1000;

/** Items in the table: LETHE_BENCH_SWEEP_ITEMS (the documented figures use 200,000), else 20,000 (4,000 with --quick). */
function itemCount(options: BenchOptions): number {
  const fromEnv = Number(process.env.LETHE_BENCH_SWEEP_ITEMS);
  if (Number.isSafeInteger(fromEnv) && fromEnv >= 2) return fromEnv;
  return options.quick ? 4_000 : 20_000;
}

type Item = Record<string, AttributeValue>;

/** Item `n` of the ad-events table: even ones two years old (expired), odd ones a day old. */
function adEvent(n: number): Item {
  const expired = n % 2 === 0;
  const at = SEED_NOW.getTime() - (expired ? 730 : 1) * DAY_MS - (n % 1000) * 1000;
  return {
    cookieId: { S: `bench-cookie-${n % 20_000}` },
    eventKey: { S: `${at}#${String(n).padStart(8, '0')}` },
    retentionShard: { S: 'all' },
    eventAt: { N: String(at) },
    kind: { S: n % 7 === 0 ? 'click' : 'impression' },
    campaignId: { S: `campaign-${n % 97}` },
    ip: { S: `192.0.2.${n % 250}` },
    userAgent: { S: 'Mozilla/5.0 (X11; Linux x86_64) bench' },
  };
}

const keyOf = (item: Item): Item => ({ cookieId: item.cookieId!, eventKey: item.eventKey! });

/** Sends BatchWriteItem calls of 25, `inFlight` at a time, retrying unprocessed items. */
async function batchWrite(
  client: DynamoDBClient,
  table: string,
  requests: Record<string, unknown>[],
  inFlight: number,
): Promise<number> {
  let calls = 0;
  let next = 0;
  const worker = async () => {
    for (;;) {
      const start = next;
      next += 25;
      if (start >= requests.length) return;
      let pending = requests.slice(start, start + 25);
      while (pending.length > 0) {
        calls += 1;
        const answer = await client.send(
          new BatchWriteItemCommand({ RequestItems: { [table]: pending as never } }),
        );
        pending = (answer.UnprocessedItems?.[table] ?? []) as Record<string, unknown>[];
      }
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return calls;
}

async function countItems(client: DynamoDBClient, table: string): Promise<number> {
  let count = 0;
  let startKey: Item | undefined;
  do {
    const page = await client.send(
      new ScanCommand({ TableName: table, Select: 'COUNT', ExclusiveStartKey: startKey }),
    );
    count += page.Count ?? 0;
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return count;
}

const perSecond = (items: number, ms: number) => Math.round((items / Math.max(ms, 1)) * 1000);

/** Adds `ms` before every call of `client` (a network round trip, which dynalite in-process has not); a remover. */
function addRoundTrip(client: DynamoDBClient, ms: number): () => void {
  const name = 'benchRoundTrip';
  client.middlewareStack.add(
    (next) => async (args) => {
      await new Promise((resolve) => setTimeout(resolve, ms));
      return next(args);
    },
    { step: 'initialize', name },
  );
  return () => {
    client.middlewareStack.remove(name);
  };
}

interface Run {
  roundTripMs: number;
  sweepMs: number;
  sweepPages: number;
  examined: number;
  purged: number;
  rawMs: number;
  rawCalls: number;
  loopItems: number;
  loopMs: number;
  rates: { sweep: number; raw: number; loop: number };
  ofRaw: number;
  ofLoop: number;
}

/**
 * Retention sweep throughput on the example's ad-events store (expiry index): N items, half
 * expired. The sweep (sweepStorePage until done) against, in the same run and table, the floor of
 * deleting the same expired items by key with BatchWriteItem (25 per call, 4 in flight, as lethe's
 * deletes) and a DeleteItem loop (one call per item, one at a time).
 */
export const sweepScenario: Scenario = {
  name: 'sweep',
  summary: 'retention sweep of half-expired ad events vs raw BatchWriteItem deletes and a DeleteItem loop',
  async run(options) {
    const total = itemCount(options);
    const stateDir = temporaryStateDir('sweep');
    const env = await initEnvironment(stateDir);
    const store = env.dataMap.stores.find((candidate) => candidate.id === STORE_ID) as DynamoStore;
    const table = store.table;
    const client = env.clients.dynamodb;
    try {
      const all = Array.from({ length: total }, (_, n) => adEvent(n));
      const expired = all.filter((_, n) => n % 2 === 0);
      const put = (items: Item[]) =>
        batchWrite(
          client,
          table,
          items.map((item) => ({ PutRequest: { Item: item } })),
          8,
        );

      /** The sweep, raw deletes of the same items and the loop; the expired items are gone after. */
      const measure = async (roundTripMs: number, loopCount: number): Promise<Run> => {
        const label = roundTripMs > 0 ? ` (+${roundTripMs} ms per call)` : '';
        await put(expired);
        const removeRoundTrip = roundTripMs > 0 ? addRoundTrip(client, roundTripMs) : () => {};
        try {
          // 1. The sweep
          options.progress(`sweep: sweeping ${expired.length.toLocaleString('en-US')} expired items${label}`);
          let sweepPages = 0;
          let purged = 0;
          let examined = 0;
          const sweepStart = now();
          let token: string | null | undefined;
          do {
            const page = await sweepStorePage(env.deps, { storeId: STORE_ID, now: SEED_NOW, token });
            sweepPages += 1;
            purged += page.purged;
            examined += page.examined;
            token = page.nextToken;
          } while (token);
          const sweepMs = elapsedMs(sweepStart);
          removeRoundTrip();
          const left = await countItems(client, table);
          if (purged !== expired.length || left !== total - expired.length) {
            throw new Error(`the sweep purged ${purged} of ${expired.length} expired items; ${left} left`);
          }

          // 2. Raw BatchWriteItem deletes of the same items, by key
          await put(expired);
          const removeAgain = roundTripMs > 0 ? addRoundTrip(client, roundTripMs) : () => {};
          options.progress(`sweep: raw BatchWriteItem deletes${label}`);
          const rawStart = now();
          const rawCalls = await batchWrite(
            client,
            table,
            expired.map((item) => ({ DeleteRequest: { Key: keyOf(item) } })),
            4,
          );
          const rawMs = elapsedMs(rawStart);
          removeAgain();

          // 3. A DeleteItem loop, one item at a time
          const looped = expired.slice(0, loopCount);
          await put(looped);
          const removeLast = roundTripMs > 0 ? addRoundTrip(client, roundTripMs) : () => {};
          options.progress(`sweep: DeleteItem loop over ${loopCount.toLocaleString('en-US')} items${label}`);
          const loopStart = now();
          for (const item of looped)
            await client.send(new DeleteItemCommand({ TableName: table, Key: keyOf(item) }));
          const loopMs = elapsedMs(loopStart);
          removeLast();

          const rates = {
            sweep: perSecond(purged, sweepMs),
            raw: perSecond(expired.length, rawMs),
            loop: perSecond(loopCount, loopMs),
          };
          return {
            roundTripMs,
            sweepMs,
            sweepPages,
            examined,
            purged,
            rawMs,
            rawCalls,
            loopItems: loopCount,
            loopMs,
            rates,
            ofRaw: Math.round((rates.sweep / rates.raw) * 100) / 100,
            ofLoop: Math.round((rates.sweep / rates.loop) * 10) / 10,
          };
        } finally {
          removeRoundTrip();
        }
      };

      options.progress(`sweep: writing ${total.toLocaleString('en-US')} items`);
      await put(all.filter((_, n) => n % 2 === 1));
      const loopCount = Math.min(expired.length, Math.max(1_000, Math.round(expired.length / 10)));
      const local = await measure(0, loopCount);
      // The same with a network round trip per call, as on AWS, where batching saves round trips.
      const withRoundTrip = await measure(ROUND_TRIP_MS, Math.min(loopCount, 2_000));
      const runs = [local, withRoundTrip];

      const tableOut: Table = {
        title: `Sweep throughput: ${expired.length.toLocaleString('en-US')} expired among ${total.toLocaleString('en-US')} ad events (dynalite)`,
        columns: {
          roundTrip: 'Added per call',
          sweep: 'Sweep items/s',
          raw: 'Raw BatchWriteItem items/s',
          loop: 'DeleteItem loop items/s',
          ofRaw: 'Sweep / raw',
          ofLoop: 'Sweep / loop',
          sweepMs: 'Sweep ms',
          rawCalls: 'Raw calls',
        },
        rows: runs.map((run) => ({
          roundTrip: run.roundTripMs > 0 ? `${run.roundTripMs} ms` : 'none (local)',
          sweep: run.rates.sweep,
          raw: run.rates.raw,
          loop: run.rates.loop,
          ofRaw: run.ofRaw,
          ofLoop: run.ofLoop,
          sweepMs: Math.round(run.sweepMs),
          rawCalls: run.rawCalls,
        })),
        notes: [
          'Sweep: sweepStorePage until done (expiry index Query, consistent BatchGetItem re-read of every hit, BatchWriteItem deletes 25 per call, 4 in flight); raw: BatchWriteItem deletes of the same keys, known in advance, 25 per call, 4 in flight; loop: DeleteItem, one at a time',
          `Loop rates over ${local.loopItems.toLocaleString('en-US')} and ${withRoundTrip.loopItems.toLocaleString('en-US')} items; the second row adds ${ROUND_TRIP_MS} ms before every DynamoDB call (a network round trip, which the in-process dynalite has not)`,
          'Set LETHE_BENCH_SWEEP_ITEMS=200000 for the documented figures (100k expired among 200k)',
        ],
      };
      const goals: Goal[] = runs.flatMap((run) => {
        const where = run.roundTripMs > 0 ? ` (+${run.roundTripMs} ms per call)` : ' (local)';
        return [
          {
            goal: `Sweep ≥ 70% of raw BatchWriteItem deletes${where}`,
            met: run.ofRaw >= 0.7,
            measured: `${Math.round(run.ofRaw * 100)}%`,
          },
          {
            goal: `Sweep ≥ 10× a DeleteItem loop${where}`,
            met: run.ofLoop >= 10,
            measured: `${run.ofLoop}×`,
          },
        ];
      });
      return {
        scenario: 'sweep',
        params: { items: total, expired: expired.length, roundTripMs: ROUND_TRIP_MS },
        tables: [tableOut],
        data: { runs },
        goals,
      };
    } finally {
      await env.close();
    }
  },
};
