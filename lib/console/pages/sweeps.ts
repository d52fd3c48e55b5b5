import type { FastifyInstance } from 'fastify';
import { sweepRuns } from '../../cli/backends/audit';
import { parseIso8601 } from '../../datamap/timestamps';
import { barChart } from '../charts';
import { postedForm, text } from '../forms';
import type { ConsoleContext } from '../server';

/** Adds the Sweeps page: recorded runs with per-store counts, a chart of what was purged, and a (dry) run from the page. */
export function addSweepPages(app: FastifyInstance, context: ConsoleContext): void {
  const { backend } = context;
  const retained = backend.deps.dataMap.stores.filter((store) => store.retention).map((store) => store.id);
  const options = {
    store: [
      { value: '', label: 'every store with a retention rule' },
      ...retained.map((id) => ({ value: id, label: id })),
    ],
  };

  const sweepsPage = context.formPage('@sweeps', async () => {
    const runs = await sweepRuns(backend.deps);
    const purged = runs
      .filter((run) => !run.dryRun)
      .flatMap((run) =>
        run.stores.map((store) => ({
          label: `${run.recordedAt.slice(0, 16).replace('T', ' ')} ${store.storeId}`,
          value: store.purged + store.anonymised,
        })),
      );
    return {
      title: 'Retention sweeps',
      section: '/sweeps',
      runs: [...runs].reverse(),
      chart: barChart(`Records purged or anonymised per store and sweep (${purged.length} bar(s))`, purged),
      options,
    };
  });

  app.get('/sweeps', async (request, reply) => sweepsPage(request, reply, { mode: 'dry-run' }, {}));

  app.post('/sweeps', async (request, reply) => {
    const { body, values, errors } = postedForm(request);
    const storeId = text(body, 'store');
    if (storeId !== '' && !retained.includes(storeId))
      errors.store = `choose a store with a retention rule: ${retained.join(', ')}`;
    const mode = text(body, 'mode');
    if (mode !== 'dry-run' && mode !== 'sweep') errors.mode = 'choose a dry run or a sweep';
    const nowText = text(body, 'now');
    const nowMs = nowText === '' ? undefined : parseIso8601(nowText);
    if (nowText !== '' && (nowMs === undefined || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(nowText)))
      errors.now = 'an ISO-8601 date and time that exists, such as 2026-11-01T03:00:00Z';
    if (Object.keys(errors).length) return sweepsPage(request, reply, values, errors, 400);
    const outcome = await backend.sweep({
      dryRun: mode === 'dry-run',
      startedBy: context.staff(request).name,
      ...(nowMs !== undefined ? { now: new Date(nowMs).toISOString() } : {}),
      ...(storeId !== '' ? { storeId } : {}),
    });
    const what = `${mode === 'dry-run' ? 'Dry run' : 'Sweep'} ${outcome.sweepId}`;
    const notice = {
      SUCCEEDED: `${what} finished.`,
      // On AWS the page answers before the sweep ends: its run appears here once recorded.
      RUNNING: `${what} started: reload this page to see its counts once it has ended.`,
      FAILED: `Sweep ${outcome.sweepId} failed: ${outcome.error?.code ?? 'error'}: ${outcome.error?.message ?? ''}`,
    }[outcome.status];
    return sweepsPage(request, reply, { mode }, {}, outcome.status === 'FAILED' ? 500 : 200, { notice });
  });
}
