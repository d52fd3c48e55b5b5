import type { Command } from 'commander';
import { anchorAuditLog, anchorStoreOf, listAnchors } from '../../audit/anchor';
import { auditDepsOf, readAuditEvents } from '../../audit/log';
import { buildTimeline, type TimelineEntry } from '../../audit/timeline';
import { type ChainVerification, verifyAuditChain } from '../../audit/verify';
import type { LetheDeps } from '../../deps';
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
}

/** The timeline of a request as the backend knows it: execution history merged with audit events. */
export async function requestTimeline(backend: LetheBackend, requestId: string): Promise<TimelineEntry[]> {
  const history = await backend.history(requestId);
  const events = await readAuditEvents(auditDepsOf(backend.deps), { requestId });
  return buildTimeline(history, events);
}

function describeTimeline(requestId: string, entries: TimelineEntry[]): string {
  const counts = (entry: TimelineEntry) =>
    Object.entries(entry.counts)
      .map(([name, value]) => `${name} ${value}`)
      .join(', ');
  return `Timeline of ${requestId}\n${table(
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
        "A request's execution states and audit events in time order, with actors, counts, outcomes and durations.",
      )
      .argument('<requestId>'),
    { target: true },
  )
    .addHelpText('after', '\nExample:\n  lethe audit timeline 3f1c0e6e-… --json')
    .action(async (requestId: string, opts: CommonOptions) => {
      checkRequestId(requestId);
      await context.withBackend(opts, async (opened) => {
        const entries = await requestTimeline(opened, requestId);
        context.print(opts, { requestId, entries }, () => describeTimeline(requestId, entries));
      });
    });
}
