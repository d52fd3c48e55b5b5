import type { Command } from 'commander';
import type { SweepProgress } from '../../local/sweep-runner';
import { EXIT } from '../errors';
import { describeSweep } from '../format';
import { checkNow } from '../input';
import { type CommandContext, type CommonOptions, common } from './shared';

/** A store's progress so far: segment, pages and counts (in a dry run, what would be purged). */
function progressLine(progress: SweepProgress, dryRun: boolean): string {
  const { totals } = progress;
  const counts = dryRun
    ? `would purge ${totals.wouldPurge}, would anonymise ${totals.wouldAnonymise}`
    : `purged ${totals.purged}, anonymised ${totals.anonymised}`;
  return `${progress.storeId} segment ${progress.segment + 1}/${progress.totalSegments}: ${progress.pages} page(s), ${totals.examined} examined, ${counts}${progress.done ? ' — done' : ''}`;
}

/** Adds `lethe sweep`: a retention sweep, with a live progress line where the io offers one. */
export function addSweepCommand(program: Command, context: CommandContext): void {
  common(
    program
      .command('sweep')
      .description('Purge (or anonymise) records past their retention period, honouring legal holds.')
      .option('--store <id>', 'only this store (it must have a retention rule)')
      .option('--dry-run', 'count what would go, change nothing')
      .option(
        '--now <iso-8601>',
        'the moment retention is measured from (default: now), e.g. 2026-11-01T03:00:00Z',
      ),
    { target: true },
  )
    .addHelpText(
      'after',
      '\nExamples:\n  lethe sweep --dry-run\n  lethe sweep --store ad-events --now 2026-11-01T03:00:00Z --json',
    )
    .action(async (opts: CommonOptions & { store?: string; dryRun?: boolean; now?: string }) => {
      const now = opts.now === undefined ? undefined : checkNow(opts.now);
      if (opts.store !== undefined) {
        const { getStore } = require('../../datamap/load') as typeof import('../../datamap/load');
        const { NoRetentionRuleError } = require('../../retention') as typeof import('../../retention');
        const dataMap = context.dataMap(opts);
        getStore(dataMap, opts.store);
        const retained = dataMap.stores.filter((store) => store.retention).map((store) => store.id);
        if (!retained.includes(opts.store)) throw new NoRetentionRuleError(opts.store, retained);
      }
      await context.withBackend(opts, async (opened) => {
        const showProgress = !opts.json && context.io.progress !== undefined;
        const outcome = await opened.sweep(
          {
            dryRun: opts.dryRun ?? false,
            ...(now ? { now } : {}),
            ...(opts.store !== undefined ? { storeId: opts.store } : {}),
          },
          showProgress
            ? (progress) => context.io.progress?.(progressLine(progress, opts.dryRun ?? false), progress.done)
            : undefined,
        );
        context.print(opts, outcome, () => describeSweep(outcome));
        if (outcome.status === 'FAILED') context.exitCode = EXIT.requestFailed;
      });
    });
}
