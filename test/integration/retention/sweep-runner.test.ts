import { readFileSync } from 'node:fs';
import type { AdtechSeed } from '../../../examples/adtech/seed';
import { readAuditEvents } from '../../../lib/audit/log';
import { type AslObject, sweepWorkflowDefinition } from '../../../lib/local/definitions';
import { readHistory } from '../../../lib/local/execution';
import { importSeed } from '../../../lib/local/import';
import { LocalSweepRunner, type SweepProgress } from '../../../lib/local/sweep-runner';
import type { SweepSummary } from '../../../lib/retention';
import { SWEEP_STATES } from '../../../lib/workflow/sweep-steps';
import {
  applySeedAges,
  isExpiredAdtech,
  openTempEnvironment,
  type TempEnvironment,
} from '../../helpers/retention';
import { completeSweep, foretoldCounts } from '../../helpers/sweep';
import {
  EXAMPLE_DATAMAP_PATH,
  exampleSeed,
  identifierValues,
  SEED_NOW,
  snapshotStores,
} from '../../helpers/world';

/**
 * The sweep state machine, synthesized by CDK, run end to end by aws-local-stepfunctions with the
 * steps in-process: pages loop until every store is done, a crashed page is retried, a failure
 * is recorded, and the results land in the audit log.
 */

describe('the sweep state machine, run locally', () => {
  let world: TempEnvironment;
  let seed: AdtechSeed;
  // Synthesized once: every runner of this file runs the same definition.
  let definition: AslObject;
  let runner: LocalSweepRunner;
  let dryRun: SweepSummary;

  beforeAll(async () => {
    world = await openTempEnvironment({ path: EXAMPLE_DATAMAP_PATH }, { now: () => SEED_NOW });
    seed = exampleSeed();
    await importSeed(world.env.dataMap, seed, world.env.clients);
    await applySeedAges(
      world.stateDir,
      seed,
      Object.fromEntries(
        world.env.dataMap.stores.flatMap((store) => (store.kind === 's3' ? [[store.id, store.bucket]] : [])),
      ),
    );
    definition = sweepWorkflowDefinition(world.env.dataMap);
    runner = new LocalSweepRunner(world.env, { definition });
  });

  afterAll(async () => {
    await world?.close();
  });

  it('dry run: loops over pages of every store and reports what a sweep in whole-store pages reports', async () => {
    // Prepare
    const progress: SweepProgress[] = [];
    const watched = new LocalSweepRunner(world.env, {
      definition,
      onProgress: (item) => progress.push(item),
    });
    const before = await snapshotStores(world.env.dataMap, world.env.clients);
    // The default budget sweeps each store (segment) in one page.
    dryRun = await completeSweep(runner, { now: SEED_NOW, dryRun: true, segments: 2, pageSize: 3 });

    // Act
    const result = await watched.run({ now: SEED_NOW, dryRun: true, segments: 2, pageSize: 3, budgetMs: 0 });

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(foretoldCounts(result.summary)).toEqual(foretoldCounts(dryRun));
    // A dry run purges nothing, and says what it would purge under a name that says so.
    expect(result.summary?.totals).toMatchObject({ purged: 0, anonymised: 0 });
    expect(result.summary?.totals.wouldPurge).toBeGreaterThan(0);
    expect(await snapshotStores(world.env.dataMap, world.env.clients)).toEqual(before);
    // A budget of 0 ends every page after one read: each store takes several pages.
    const adEvents = result.summary?.stores.find((store) => store.storeId === 'ad-events');
    expect(adEvents?.pages).toBeGreaterThanOrEqual(2);
    expect(result.summary?.stores.find((store) => store.storeId === 'inquiries')?.segments).toBe(2);
    const history = readHistory(world.env, result.sweepId);
    const pages = history.filter(
      (event) => event.type === 'StateExited' && event.state === SWEEP_STATES.sweepPage,
    );
    expect(pages.length).toBe(progress.length);
    expect(pages.length).toBeGreaterThan(
      result.summary!.stores.reduce((sum, store) => sum + store.segments, 0),
    );
    expect(progress.filter((item) => item.done).length).toBe(
      result.summary!.stores.reduce((sum, store) => sum + store.segments, 0),
    );
    // The state carries counts and sealed tokens: no identifier is in the history.
    const text = readFileSync(result.historyFile, 'utf8');
    for (const subject of seed.subjects)
      for (const value of identifierValues(subject)) expect(text).not.toContain(value);
  });

  it('purges what is expired; a crashed page is retried and the sweep completes', async () => {
    // Prepare: the second SweepPage call crashes as a Lambda timeout would.
    let calls = 0;
    const crashing = new LocalSweepRunner(world.env, {
      definition,
      faults: (state) => {
        if (state !== SWEEP_STATES.sweepPage) return;
        calls += 1;
        if (calls === 2)
          throw Object.assign(new Error('Task timed out after 300.00 seconds'), { name: 'Sandbox.Timedout' });
      },
    });
    const before = await snapshotStores(world.env.dataMap, world.env.clients);

    // Act
    const result = await crashing.run({
      now: SEED_NOW.toISOString(),
      segments: 2,
      pageSize: 4,
      budgetMs: 0,
      sweepId: 'sweep-local-1',
    });

    // Assess
    expect(result).toMatchObject({ sweepId: 'sweep-local-1', status: 'SUCCEEDED' });
    expect(foretoldCounts(result.summary)).toEqual(foretoldCounts(dryRun));
    expect(result.summary?.totals).toMatchObject({ wouldPurge: 0, wouldAnonymise: 0 });
    const after = await snapshotStores(world.env.dataMap, world.env.clients);
    for (const [id, entry] of before) {
      const gone = isExpiredAdtech(world.env.dataMap, seed, entry, SEED_NOW);
      expect({ id, present: after.has(id) }).toEqual({ id, present: !gone });
      if (!gone) expect(after.get(id)?.content).toBe(entry.content);
    }
    const history = readHistory(world.env, 'sweep-local-1');
    expect(
      history.some((event) => event.state === SWEEP_STATES.sweepPage && event.error === 'Sandbox.Timedout'),
    ).toBe(true);
    const events = await readAuditEvents({
      doc: world.env.deps.doc,
      auditTable: world.env.deps.resources.auditTable,
    });
    const completed = events.filter((event) => event.type === 'sweep.completed').at(-1);
    expect(completed?.details).toMatchObject({
      sweepId: 'sweep-local-1',
      dryRun: false,
      totals: result.summary?.totals,
    });
    expect(typeof completed?.details?.durationMs).toBe('number');
  });

  it('records a failed sweep in the audit log and reports it', async () => {
    // Act: partner-contacts has no retention rule.
    const result = await runner.run({ now: SEED_NOW, storeId: 'partner-contacts', sweepId: 'sweep-local-2' });

    // Assess
    expect(result).toMatchObject({ sweepId: 'sweep-local-2', status: 'FAILED', error: 'SweepFailed' });
    const events = await readAuditEvents({
      doc: world.env.deps.doc,
      auditTable: world.env.deps.resources.auditTable,
    });
    expect(events.filter((event) => event.type === 'sweep.failed').at(-1)?.details).toMatchObject({
      sweepId: 'sweep-local-2',
      state: SWEEP_STATES.planSweep,
      error: 'NoRetentionRuleError',
    });
    await expect(runner.run({ sweepId: 'sweep-local-2' })).rejects.toThrow(/has run already/);
  });
});
