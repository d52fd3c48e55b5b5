import { type Command, Option } from 'commander';
import { anchorAuditLog, anchorStoreOf, listAnchors } from '../../audit/anchor';
import { type AuditEvent, auditDepsOf, streamAuditEvents } from '../../audit/log';
import {
  buildPeriodReport,
  type PeriodReport,
  reportCsv,
  reportHtml,
  sweepsFromEvents,
} from '../../audit/report';
import { buildTimeline, type TimelineEntry } from '../../audit/timeline';
import { type ChainVerification, verifyAuditChain } from '../../audit/verify';
import type { LetheDeps } from '../../deps';
import { writeFileAtomic } from '../../local/atomic-file';
import { RequestNotFoundError } from '../../rights/errors';
import { listRequests } from '../../rights/requests-table';
import type { LetheBackend } from '../backends';
import { EXIT, UsageError } from '../errors';
import { table } from '../format';
import { checkRequestId } from '../input';
import { type CommandContext, type CommonOptions, common } from './shared';

/** The audit bucket of the backend, or a usage error naming why there is none. */
function anchorStore(deps: LetheDeps) {
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

/** Verifies the backend's audit log against its anchors. */
export async function verifyBackendAuditLog(
  backend: LetheBackend,
  fromSeq: number | undefined,
): Promise<ChainVerification> {
  const store = anchorStoreOf(backend.deps);
  const anchors = store ? await listAnchors(store, fromSeq ?? 0) : [];
  return verifyAuditChain(auditDepsOf(backend.deps), anchors, fromSeq ? { fromSeq } : {});
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
        const result = await verifyBackendAuditLog(opened, fromSeq);
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
        const anchor = await anchorAuditLog(auditDepsOf(opened.deps), anchorStore(opened.deps), by);
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

/** What a timeline is of: a request, or a retention sweep. */
export interface AuditTimeline {
  of: 'request' | 'sweep';
  entries: TimelineEntry[];
}

/**
 * The timeline of a request or a sweep as the backend knows it: its execution history merged with
 * its audit events (a request's by request id, a sweep's by the sweep id its events carry), read in
 * one pass over the log. A request whose record was purged (past its retention), or whose
 * execution history Step Functions no longer keeps, has its audit events only.
 * @throws UsageError when neither the requests table nor the audit log knows the id
 */
export async function auditTimeline(backend: LetheBackend, id: string): Promise<AuditTimeline> {
  const requestEvents: AuditEvent[] = [];
  const sweepEvents: AuditEvent[] = [];
  for await (const event of streamAuditEvents(auditDepsOf(backend.deps))) {
    if (event.requestId === id) requestEvents.push(event);
    else if (event.details?.sweepId === id) sweepEvents.push(event);
  }
  try {
    return { of: 'request', entries: buildTimeline(await backend.history(id), requestEvents) };
  } catch (error) {
    if (!(error instanceof RequestNotFoundError)) throw error;
  }
  if (requestEvents.length > 0) return { of: 'request', entries: buildTimeline([], requestEvents) };
  if (sweepEvents.length > 0) {
    return { of: 'sweep', entries: buildTimeline(await backend.sweepHistory(id), sweepEvents) };
  }
  throw new UsageError(
    `no request or sweep ${id} is known: neither the requests table nor the audit log has it (lethe request list)`,
  );
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
      await context.withBackend(opts, async (opened) => {
        const timeline = await auditTimeline(opened, id);
        const output =
          timeline.of === 'sweep'
            ? { sweepId: id, entries: timeline.entries }
            : { requestId: id, entries: timeline.entries };
        context.print(opts, output, () => describeTimeline(id, timeline));
      });
    });
}

/** The period report of the backend's requests received in [from, to). */
export async function backendPeriodReport(
  backend: LetheBackend,
  period: { from: string; to: string; now: Date },
): Promise<PeriodReport> {
  const records = await listRequests(backend.deps);
  return buildPeriodReport({
    ...period,
    requests: records.map((record) => ({
      requestId: record.requestId,
      type: record.type,
      jurisdiction: record.jurisdiction,
      status: record.status,
      receivedAt: record.receivedAt,
      dueAt: record.dueAt,
      respondedAt: record.completedAt ?? null,
      reason: record.reason ?? null,
    })),
    sweeps: await sweepsFromEvents(streamAuditEvents(auditDepsOf(backend.deps))),
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
        await context.withBackend(opts, async (opened) => {
          const report = await backendPeriodReport(opened, { from, to, now: opened.deps.now() });
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
        });
      },
    );
}
