import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { SeedSubject } from '../../../examples/adtech/seed';
import {
  ACTIVE_INDEX_READY,
  HOLDS_TABLE,
  type LegalHold,
  listHolds,
  loadActiveHolds,
  placeHold,
  readyActiveIndex,
  releaseHold,
} from '../../../lib/holds';
import { LOCAL_RESOURCES, openLocalEnvironment } from '../../../lib/local/environment';
import { HOLDS_MIGRATION_FILE } from '../../../lib/local/holds-table';
import { importSeed } from '../../../lib/local/import';
import { silentLogger } from '../../../lib/log';
import type { ErasureCertificate } from '../../../lib/rights/confirm';
import { currentAttempt } from '../../../lib/rights/request';
import { getRequest } from '../../../lib/rights/requests-table';
import { createRequestSteps } from '../../../lib/workflow/request-step-set';
import { type Located, startErasure } from '../../helpers/erasure';
import { openTempEnvironment, type TempEnvironment } from '../../helpers/retention';
import { belongsTo, EXAMPLE_DATAMAP_PATH, exampleSeed, SEED_NOW, snapshotStores } from '../../helpers/world';

/**
 * Legal holds are read through the holds table's sparse index of active holds: one Query per step,
 * however many holds were ever placed and released; holds placed before the index existed are
 * still honoured; and a state directory made before the index gets it.
 */

interface HoldsCall {
  command: string;
  index?: string;
}

/** Records every call to the holds table made through `client`, by command and index. */
function recordHoldsCalls(client: DynamoDBClient, calls: HoldsCall[]): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { TableName?: string; IndexName?: string };
      if (input.TableName === LOCAL_RESOURCES.holdsTable) {
        calls.push({
          command: context.commandName ?? 'unknown',
          ...(input.IndexName ? { index: input.IndexName } : {}),
        });
      }
      return next(args);
    },
    { step: 'initialize', name: 'recordHoldsCalls' },
  );
}

/** A hold as releaseHold leaves it: released, out of the active-holds index. */
const releasedHold = (n: number): LegalHold => ({
  holdId: `hold-00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
  scope: 'record',
  storeId: 'ad-events',
  recordKey: JSON.stringify({ cookieId: `c-${n}`, eventKey: `e-${n}` }),
  recordHash: `hash-${n}`,
  reason: 'Closed investigation',
  placedBy: 'legal-team',
  placedAt: '2025-01-01T00:00:00.000Z',
  status: 'released',
  releasedBy: 'legal-team',
  releasedAt: '2025-06-01T00:00:00.000Z',
});

const QUERY_OF_ACTIVE_HOLDS: HoldsCall = { command: 'QueryCommand', index: HOLDS_TABLE.activeIndex.name };

describe('active legal holds', () => {
  let world: TempEnvironment;
  let subjects: SeedSubject[];
  const calls: HoldsCall[] = [];

  beforeAll(async () => {
    world = await openTempEnvironment({ path: EXAMPLE_DATAMAP_PATH }, { now: () => SEED_NOW });
    const seed = exampleSeed();
    await importSeed(world.env.dataMap, seed, world.env.clients);
    subjects = seed.subjects.filter((subject) => subject.owns['ad-events'] > 1);
    recordHoldsCalls(world.env.clients.dynamodb, calls);
  });

  afterAll(async () => {
    await world?.close();
  });

  it('are read with one Query of the active-holds index per step, however many holds were released', async () => {
    // prepare: 1,500 released holds, and one active hold on an ad event of the subject
    const { deps } = world.env;
    const released = Array.from({ length: 1_500 }, (_, n) => releasedHold(n));
    for (let start = 0; start < released.length; start += 25) {
      await deps.doc.send(
        new BatchWriteCommand({
          RequestItems: {
            [LOCAL_RESOURCES.holdsTable]: released
              .slice(start, start + 25)
              .map((hold) => ({ PutRequest: { Item: hold } })),
          },
        }),
      );
    }
    const subject = subjects[0]!;
    const event = [...(await snapshotStores(world.env.dataMap, world.env.clients)).values()].find(
      (entry) => entry.storeId === 'ad-events' && belongsTo(world.env.dataMap, subject, entry),
    )!;
    const record = event.record as Record<string, unknown>;
    await placeHold(deps, {
      storeId: 'ad-events',
      key: { cookieId: String(record.cookieId), eventKey: String(record.eventKey) },
      reason: 'Fraud investigation FR-9',
      placedBy: 'fraud-desk',
    });
    const { requestId, located } = await startErasure(deps, { type: 'email', value: subject.email });
    const steps = createRequestSteps(deps);
    const attempt = currentAttempt(await getRequest(deps, requestId));

    // act: every step that applies holds, each with the calls it made to the holds table
    const perStep: { step: string; calls: HoldsCall[] }[] = [];
    const measured = async <T>(step: string, run: () => Promise<T>): Promise<T> => {
      calls.length = 0;
      const result = await run();
      perStep.push({ step, calls: [...calls] });
      return result;
    };
    const relocated: Located[] = [];
    for (const store of located) {
      relocated.push(
        (await measured(`locateStore ${store.storeId}`, () =>
          steps.locateStore({ requestId, storeId: store.storeId }),
        )) as Located,
      );
    }
    const erased: unknown[] = [];
    for (const store of relocated) {
      erased.push(
        await measured(`eraseStore ${store.storeId}`, () =>
          steps.eraseStore({ requestId, attempt, storeId: store.storeId, manifestKey: store.manifestKey }),
        ),
      );
    }
    await measured('confirm', () => steps.confirm({ requestId, attempt, located: relocated, erased }));

    // assess: one Query of the index per step (Confirm too, for all stores), never a Scan
    expect(perStep).toHaveLength(located.length * 2 + 1);
    for (const { step, calls: made } of perStep)
      expect({ step, made }).toEqual({ step, made: [QUERY_OF_ACTIVE_HOLDS] });
    // and the hold still keeps its record
    const certificate = (await getRequest(deps, requestId)).certificate as ErasureCertificate;
    expect(certificate.stores.find((store) => store.store === 'ad-events')).toMatchObject({
      exempted: 1,
      remaining: 0,
    });
    expect((await snapshotStores(world.env.dataMap, world.env.clients)).get(event.id)).toEqual(event);
  });

  it('a released hold leaves the index; holds placed before it existed count until it is readied', async () => {
    // prepare: one hold placed and released, one active hold as stored before the index existed
    const { deps } = world.env;
    const placed = await placeHold(deps, {
      storeId: 'ad-events',
      key: { cookieId: 'c-released', eventKey: 'e-1' },
      reason: 'Short-lived hold',
      placedBy: 'legal-team',
    });
    await releaseHold(deps, placed.holdId, 'legal-team');
    const legacy = { ...releasedHold(9_999), status: 'active' as const };
    delete legacy.releasedAt;
    delete legacy.releasedBy;
    await deps.doc.send(new PutCommand({ TableName: LOCAL_RESOURCES.holdsTable, Item: legacy }));
    await deps.doc.send(
      new DeleteCommand({ TableName: LOCAL_RESOURCES.holdsTable, Key: { holdId: ACTIVE_INDEX_READY } }),
    );

    // act
    calls.length = 0;
    const beforeReady = await loadActiveHolds(deps);
    const readBeforeReady = [...calls];
    await readyActiveIndex(deps);
    calls.length = 0;
    const afterReady = await loadActiveHolds(deps);
    const readAfterReady = [...calls];

    // assess: the legacy hold is active both times (a Scan finds it until the index is complete)
    const activeIds = (active: typeof beforeReady) =>
      [...active.records.values()].flatMap((byKey) => [...byKey.values()].map((hold) => hold.holdId));
    for (const active of [beforeReady, afterReady]) {
      expect(activeIds(active)).toContain(legacy.holdId);
      expect(activeIds(active)).not.toContain(placed.holdId);
    }
    expect(readBeforeReady).toEqual([QUERY_OF_ACTIVE_HOLDS, { command: 'ScanCommand' }]);
    expect(readAfterReady).toEqual([QUERY_OF_ACTIVE_HOLDS]);
    // staff still see every hold, and no bookkeeping
    const listed = await listHolds(deps);
    expect(listed.map((hold) => hold.holdId)).toEqual(expect.arrayContaining([placed.holdId, legacy.holdId]));
    expect(listed.find((hold) => hold.holdId === placed.holdId)).toEqual({
      ...placed,
      status: 'released',
      releasedBy: 'legal-team',
      releasedAt: expect.any(String),
    });
    expect(listed.some((hold) => hold.holdId === ACTIVE_INDEX_READY)).toBe(false);
  });
});

describe('a state directory made before the active-holds index', () => {
  const activeHold: LegalHold = {
    ...releasedHold(1),
    status: 'active',
  };
  delete activeHold.releasedAt;
  delete activeHold.releasedBy;

  /** Makes the holds table as lethe did before the index, with an active and a released hold. */
  async function oldHoldsTable(world: TempEnvironment): Promise<void> {
    const { clients, deps } = world.env;
    await clients.dynamodb.send(new DeleteTableCommand({ TableName: LOCAL_RESOURCES.holdsTable }));
    for (let n = 0; n < 100; n += 1) {
      try {
        await clients.dynamodb.send(
          new CreateTableCommand({
            TableName: LOCAL_RESOURCES.holdsTable,
            KeySchema: [{ AttributeName: 'holdId', KeyType: 'HASH' }],
            AttributeDefinitions: [{ AttributeName: 'holdId', AttributeType: 'S' }],
            BillingMode: 'PAY_PER_REQUEST',
          }),
        );
        break;
      } catch (error) {
        if ((error as Error).name !== 'ResourceInUseException') throw error;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    for (const hold of [activeHold, releasedHold(2)])
      await deps.doc.send(new PutCommand({ TableName: LOCAL_RESOURCES.holdsTable, Item: hold }));
  }

  async function reopen(world: TempEnvironment) {
    await world.env.close();
    world.env = await openLocalEnvironment({ stateDir: world.stateDir, log: silentLogger });
  }

  it.each([
    ['is rebuilt with the index on open, its holds kept', false],
    ['is finished on the next open when the rebuild was cut short after the table was dropped', true],
  ])('%s', async (_name, cutShort) => {
    // prepare
    const world = await openTempEnvironment({ path: EXAMPLE_DATAMAP_PATH });
    try {
      await oldHoldsTable(world);
      if (cutShort) {
        // What a rebuild leaves when it dies between dropping the table and creating it again.
        const { Items } = await world.env.clients.dynamodb.send(
          new ScanCommand({ TableName: LOCAL_RESOURCES.holdsTable }),
        );
        writeFileSync(join(world.stateDir, HOLDS_MIGRATION_FILE), JSON.stringify(Items));
        await world.env.clients.dynamodb.send(
          new DeleteTableCommand({ TableName: LOCAL_RESOURCES.holdsTable }),
        );
      }

      // act
      await reopen(world);

      // assess: the index exists, both holds are there, the active one is read by Query
      const { Table } = await world.env.clients.dynamodb.send(
        new DescribeTableCommand({ TableName: LOCAL_RESOURCES.holdsTable }),
      );
      expect(Table?.GlobalSecondaryIndexes?.map((index) => index.IndexName)).toEqual([
        HOLDS_TABLE.activeIndex.name,
      ]);
      expect((await listHolds(world.env.deps)).map((hold) => hold.holdId).sort()).toEqual(
        [activeHold.holdId, releasedHold(2).holdId].sort(),
      );
      const calls: HoldsCall[] = [];
      recordHoldsCalls(world.env.clients.dynamodb, calls);
      const active = await loadActiveHolds(world.env.deps);
      expect(active.count).toBe(1);
      expect(active.records.get('ad-events')?.size).toBe(1);
      expect(calls).toEqual([QUERY_OF_ACTIVE_HOLDS]);
      expect(existsSync(join(world.stateDir, HOLDS_MIGRATION_FILE))).toBe(false);
    } finally {
      await world.close();
    }
  });
});
