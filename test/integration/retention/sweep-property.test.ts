import { PutObjectCommand } from '@aws-sdk/client-s3';
import fc from 'fast-check';
import { placeHold } from '../../../lib/holds';
import { importItems } from '../../../lib/local/import';
import { LocalSweepRunner } from '../../../lib/local/sweep-runner';
import { cutoff } from '../../../lib/retention';
import { propertyRun } from '../../helpers/property';
import { openTempEnvironment, setLastModified, type TempEnvironment } from '../../helpers/retention';
import { completeSweep } from '../../helpers/sweep';
import { snapshotStores } from '../../helpers/world';

/**
 * For random records, ages and holds: a sweep purges exactly the expired records no hold keeps,
 * and every other record is unchanged byte for byte. Ages cluster around the cut-off (one
 * millisecond or second either side, and exactly at it) where an off-by-one would show.
 */

const DATAMAP = `
version: 1
identityTypes:
  userId: { normalise: opaque }
stores:
  - id: events
    kind: dynamodb
    table: p-events
    keySchema: { partitionKey: { name: userId }, sortKey: { name: eventId } }
    locate: [{ identity: userId, attribute: userId }]
    categories: [behaviour.events]
    purpose: Analytics
    lawfulBasis: consent
    source: Collected automatically
    erase: { action: delete }
    retention: { period: P7D, from: { attribute: at, format: epochMillis } }
  - id: visits
    kind: dynamodb
    table: p-visits
    keySchema: { partitionKey: { name: visitId } }
    indexes: [{ name: byUser, partitionKey: { name: userId } }]
    locate: [{ identity: userId, index: byUser, attribute: userId }]
    categories: [behaviour.visits]
    purpose: Analytics
    lawfulBasis: consent
    source: Collected automatically
    erase: { action: delete }
    retention: { period: P7D, from: { attribute: seenAt, format: iso8601 } }
  - id: docs
    kind: s3
    bucket: p-docs
    locate: [{ identity: userId, prefix: "docs/{userId}/" }]
    categories: [user.content]
    purpose: Storing documents
    lawfulBasis: contract
    source: Provided by the subject
    erase: { action: delete }
    retention: { period: P7D, from: { lastModified: true } }
`;

const NOW = new Date('2026-06-15T12:00:00.000Z');
const DAY = 86_400_000;
const USERS = 4;

const recordArbitrary = fc.record({
  store: fc.constantFrom('events', 'visits', 'docs'),
  user: fc.integer({ min: 0, max: USERS - 1 }),
  // Milliseconds relative to the cut-off: at it, just either side, or anywhere within 3 days.
  offset: fc.oneof(fc.constantFrom(-1, 0, 1), fc.integer({ min: -3 * DAY, max: 3 * DAY })),
  recordHold: fc.integer({ min: 0, max: 5 }).map((n) => n === 0),
});

const scenarioArbitrary = fc.record({
  records: fc.array(recordArbitrary, { minLength: 1, maxLength: 24 }),
  heldUsers: fc.subarray([...Array(USERS).keys()]),
});

describe('retention sweep, property', () => {
  let world: TempEnvironment;
  let runner: LocalSweepRunner;
  let run = 0;

  beforeAll(async () => {
    world = await openTempEnvironment({ yaml: DATAMAP }, { now: () => NOW });
    runner = new LocalSweepRunner(world.env);
  });

  afterAll(async () => {
    await world?.close();
  });

  it('purges exactly the expired, unheld records; everything else is unchanged', async () => {
    const limit = cutoff('P7D', NOW).getTime();
    await fc.assert(
      fc.asyncProperty(scenarioArbitrary, async ({ records, heldUsers }) => {
        // Prepare: this run's records (ids prefixed by the run, so earlier runs never interfere).
        run += 1;
        const { env } = world;
        const user = (n: number) => `r${run}-u${n}`;
        const planned = records.map((record, n) => {
          // S3 keeps LastModified to the second: objects sit whole seconds from the cut-off.
          const offset =
            record.store === 'docs'
              ? Math.sign(record.offset) * Math.ceil(Math.abs(record.offset) / 1000) * 1000
              : record.offset;
          const at = limit + offset;
          return {
            ...record,
            n,
            at,
            expired: at < limit,
            held: record.recordHold || heldUsers.includes(record.user),
          };
        });
        const ids = new Map<string, (typeof planned)[number]>();
        const events = planned.filter((record) => record.store === 'events');
        const visits = planned.filter((record) => record.store === 'visits');
        const docs = planned.filter((record) => record.store === 'docs');
        await importItems(
          env.dataMap,
          'events',
          events.map((record) => ({
            userId: user(record.user),
            eventId: `e${record.n}`,
            at: record.at,
            payload: `event ${record.n}`,
          })),
          env.clients,
        );
        await importItems(
          env.dataMap,
          'visits',
          visits.map((record) => ({
            visitId: `r${run}-v${record.n}`,
            userId: user(record.user),
            seenAt: new Date(record.at).toISOString(),
          })),
          env.clients,
        );
        for (const record of docs) {
          const key = `docs/${user(record.user)}/d${record.n}.txt`;
          await env.clients.s3.send(
            new PutObjectCommand({ Bucket: 'p-docs', Key: key, Body: `doc ${record.n}` }),
          );
          await setLastModified(world.stateDir, 'p-docs', key, new Date(record.at), `doc ${record.n}`.length);
        }
        for (const record of events) ids.set(`events|${user(record.user)}|e${record.n}`, record);
        for (const record of visits) ids.set(`visits|r${run}-v${record.n}`, record);
        for (const record of docs) ids.set(`docs|docs/${user(record.user)}/d${record.n}.txt`, record);
        for (const held of heldUsers) {
          await placeHold(env.deps, {
            subject: { type: 'userId', value: user(held) },
            reason: 'Property hold',
            placedBy: 'test',
          });
        }
        for (const record of planned.filter((candidate) => candidate.recordHold)) {
          const key =
            record.store === 'events'
              ? { userId: user(record.user), eventId: `e${record.n}` }
              : record.store === 'visits'
                ? { visitId: `r${run}-v${record.n}` }
                : `docs/${user(record.user)}/d${record.n}.txt`;
          await placeHold(env.deps, {
            storeId: record.store,
            key,
            reason: 'Property hold',
            placedBy: 'test',
          });
        }
        const mine = (id: string) => ids.has(id);
        const before = new Map(
          [...(await snapshotStores(env.dataMap, env.clients))].filter(([id]) => mine(id)),
        );
        expect(before.size).toBe(planned.length);

        // Act
        await completeSweep(runner, { segments: 2, pageSize: 5 });

        // Assess
        const after = new Map(
          [...(await snapshotStores(env.dataMap, env.clients))].filter(([id]) => mine(id)),
        );
        for (const [id, record] of ids) {
          const shouldGo = record.expired && !record.held;
          expect({ id, at: record.at - limit, held: record.held, present: after.has(id) }).toEqual({
            id,
            at: record.at - limit,
            held: record.held,
            present: !shouldGo,
          });
          if (!shouldGo) expect(after.get(id)?.content).toBe(before.get(id)?.content);
        }
      }),
      propertyRun({ numRuns: 12, seed: 20261101 }),
    );
    // Twelve whole sweeps through the local workflow: minutes on a loaded 2-core machine.
  }, 300_000);
});
