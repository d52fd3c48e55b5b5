import { type Command, Option } from 'commander';
import type { TimelineEntry } from '../../audit/timeline';
import type { ChainVerification } from '../../audit/verify';
import type { LetheDeps } from '../../deps';
import { writeFileAtomic } from '../../local/atomic-file';
import type { AuditTimeline } from '../backends/audit';
import { EXIT, UsageError } from '../errors';
import { table } from '../format';
import { checkRequestId } from '../input';
import { type CommandContext, type CommonOptions, common } from './shared';

/** What auditors read of a backend, loaded when an audit command runs (it loads the SDK clients). */
function auditReads(): typeof import('../backends/audit') {
  return require('../backends/audit') as typeof import('../backends/audit');
}

/** The audit bucket of the backend, or a usage error naming why there is none. */
function anchorStore(deps: LetheDeps) {
  const { anchorStoreOf } = require('../../audit/anchor') as typeof import('../../audit/anchor');
  const store = anchorStoreOf(deps);
  if (!store) {
    throw new UsageError('this deployment has no audit bucket for anchors: redeploy the stateful stack');
  }
  return store;
}

function describeVerification(result: ChainVerification): string {
  const anchors =
    result.anchors.checked === 0
      ? 'no anchor to compare with (take one with: lethe audit anchor)'
      : `${result.anchors.checked} anchor(s) compared${result.anchors.latest ? `, the latest taken ${result.anchors.latest.anchoredAt} at event ${result.anchors.latest.seq}` : ''}`;
  if (result.problem) {
    return [
      `Audit log NOT intact: ${result.problem.kind} at event ${result.problem.seq}`,
      `  ${result.problem.message}`,
      `  ${result.checked} event(s) checked from ${result.fromSeq}; ${anchors}`,
    ].join('\n');
  }
  if (!result.head) return `Audit log intact: no events from ${result.fromSeq}; ${anchors}.`;
  return `Audit log intact: events ${result.fromSeq} to ${result.head.seq} verified (head ${result.head.hash.slice(0, 16)}…, ${result.head.at}); ${anchors}.`;
}

/** Parses a positive whole number given for `flag`. */
export function positiveInteger(value: string, flag: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) {
    throw new UsageError(`${flag} must be a whole number from 1, e.g. ${flag} 1200; got "${value}"`);
  }
  return Number(value);
}

/** Adds `lethe audit verify|anchor|timeline|report`: what auditors need, locally or on AWS. */
export function addAuditCommands(program: Command, context: CommandContext): void {
  const audit = program
    .command('audit')
    .description('Verify the audit log, anchor it, and read timelines and period reports.');

  common(
    audit
      .command('verify')
      .description(
        'Check the hash chain of the audit log and every anchor: exit 0 when intact, 1 naming the first bad event.',
      )
      .option('--from <seq>', 'start at this event (the one before it is trusted)'),
    { target: true },
  )
    .addHelpText('after', '\nExamples:\n  lethe audit verify\n  lethe audit verify --from 1200 --json')
    .action(async (opts: CommonOptions & { from?: string }) => {
      const fromSeq = opts.from === undefined ? undefined : positiveInteger(opts.from, '--from');
      await context.withBackend(opts, async (opened) => {
        const result = await auditReads().verifyBackendAuditLog(opened, fromSeq);
        context.print(opts, result, () => describeVerification(result));
        if (!result.ok) context.exitCode = EXIT.requestFailed;
      });
    });

  common(
    audit
      .command('anchor')
      .description(
        'Write the head of the audit log (seq, hash, time) to the audit bucket, where no one can rewrite it.',
      )
      .option('--by <name>', 'who takes the anchor (kept with it)', 'lethe:cli'),
    { target: true },
  )
    .addHelpText('after', '\nExample:\n  lethe audit anchor --by "J. Doe"')
    .action(async (opts: CommonOptions & { by: string }) => {
      const by = opts.by.trim();
      if (by.length === 0 || by.length > 200) throw new UsageError('--by is a name of 1 to 200 characters');
      await context.withBackend(opts, async (opened) => {
        const anchor = await (
          require('../../audit/anchor') as typeof import('../../audit/anchor')
        ).anchorAuditLog(
          (require('../../audit/log') as typeof import('../../audit/log')).auditDepsOf(opened.deps),
          anchorStore(opened.deps),
          by,
        );
        context.print(
          opts,
          anchor,
          () =>
            `Anchored event ${anchor.seq} (${anchor.hash.slice(0, 16)}…) at ${anchor.anchoredAt}: ${anchor.key}`,
        );
      });
    });

  addTimelineCommand(audit, context);
  addReportCommand(audit, context);
}

function describeTimeline(id: string, timeline: AuditTimeline): string {
  const { entries } = timeline;
  const counts = (entry: TimelineEntry) =>
    Object.entries(entry.counts)
      .map(([name, value]) => `${name} ${value}`)
      .join(', ');
  return `Timeline of ${timeline.of === 'sweep' ? `sweep ${id}` : id}\n${table(
    ['at', 'source', 'what', 'store', 'actor', 'took', 'counts', 'outcome'],
    entries.map((entry) => [
      entry.at,
      entry.seq === null ? entry.source : `audit #${entry.seq}`,
      entry.what,
      entry.storeId ?? '',
      entry.actor ?? '',
      entry.durationMs === null ? '' : `${entry.durationMs} ms`,
      counts(entry),
      entry.outcome ?? '',
    ]),
  )}`;
}

/** Adds `lethe audit timeline`. */
export function addTimelineCommand(audit: Command, context: CommandContext): void {
  common(
    audit
      .command('timeline')
      .description(
        "A request's or a sweep's execution states and audit events in time order, with actors, counts, outcomes and durations.",
      )
      .argument('<id>', 'a request id, or a sweep id (as lethe sweep prints it)'),
    { target: true },
  )
    .addHelpText(
      'after',
      '\nExamples:\n  lethe audit timeline 3f1c0e6e-… --json\n  lethe audit timeline sweep-20271101T030000Z-3fa9c1',
    )
    .action(async (id: string, opts: CommonOptions) => {
      checkRequestId(id, 'a request or sweep id');
      await context.withBackend(
        opts,
        async (opened) => {
          const timeline = await auditReads().auditTimeline(opened, id);
          if (!timeline) {
            throw new UsageError(
              `no request or sweep ${id} is known: neither the requests table nor the audit log has it (lethe request list)`,
            );
          }
          const output =
            timeline.of === 'sweep'
              ? { sweepId: id, entries: timeline.entries }
              : { requestId: id, entries: timeline.entries };
          context.print(opts, output, () => describeTimeline(id, timeline));
        },
        { readOnly: true },
      );
    });
}

function isoDate(value: string, flag: string): string {
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(Date.parse(value))) {
    throw new UsageError(`${flag} must be a date such as 2026-01-01 (or a date and time); got "${value}"`);
  }
  return value;
}

/** Adds `lethe audit report`. */
export function addReportCommand(audit: Command, context: CommandContext): void {
  common(
    audit
      .command('report')
      .description(
        'A period report (11 CCR §7102 figures): per request and in total, received, completed, denied, overdue, median and mean days to respond.',
      )
      .requiredOption('--from <date>', 'the first day of the period (requests received from then)')
      .requiredOption('--to <date>', 'the day after the period (requests received before then)')
      .addOption(
        new Option('--format <format>', 'what to write').choices(['json', 'csv', 'html']).default('json'),
      )
      .requiredOption('--out <file>', 'the file to write'),
    { target: true },
  )
    .addHelpText(
      'after',
      '\nExample:\n  lethe audit report --from 2026-01-01 --to 2027-01-01 --format html --out report-2026.html',
    )
    .action(
      async (
        opts: CommonOptions & { from: string; to: string; format: 'json' | 'csv' | 'html'; out: string },
      ) => {
        const from = isoDate(opts.from, '--from');
        const to = isoDate(opts.to, '--to');
        await context.withBackend(
          opts,
          async (opened) => {
            const report = await auditReads().backendPeriodReport(opened, {
              from,
              to,
              now: opened.deps.now(),
            });
            const { reportCsv, reportHtml } =
              require('../../audit/report') as typeof import('../../audit/report');
            const text =
              opts.format === 'csv'
                ? reportCsv(report)
                : opts.format === 'html'
                  ? reportHtml(report)
                  : `${JSON.stringify(report, null, 2)}\n`;
            await writeFileAtomic(opts.out, text);
            context.print(
              opts,
              { out: opts.out, format: opts.format, totals: report.totals },
              () =>
                `Report ${report.from.slice(0, 10)} to ${report.to.slice(0, 10)} written to ${opts.out} (${opts.format}): ${report.totals.received} received, ${report.totals.completed} completed, ${report.totals.denied} denied, ${report.totals.overdue} overdue; median ${report.totals.medianDaysToRespond ?? '—'} days, mean ${report.totals.meanDaysToRespond ?? '—'} days.`,
            );
          },
          { readOnly: true },
        );
      },
    );
}
