import type { Command } from 'commander';
import { checkActorName } from '../../audit/free-text';
import type { RequestListFilter } from '../../rights/overdue';
import type { DenialReason, RequestStatus } from '../../rights/request';
import { DENIAL_REASONS } from '../../rights/request-values';
import { EXIT, UsageError } from '../errors';
import { describeRequest } from '../format';
import { checkReasonText, checkRequestId, quoted, wholeNumber } from '../input';
import { type CommandContext, type CommonOptions, common } from './shared';

/** `lethe request list`'s filters as typed. */
export interface ListOptions {
  status?: RequestStatus;
  overdue?: boolean;
  dueWithin?: string;
}

/** The most days `--due-within` and `--days` take: a year says more than any law allows. */
const MAX_DAYS = 366;

function days(text: string, option: string): number {
  const value = wholeNumber(text);
  if (!(value >= 1 && value <= MAX_DAYS)) {
    throw new UsageError(`${option} takes a whole number of days from 1 to ${MAX_DAYS}; got ${quoted(text)}`);
  }
  return value;
}

/** The list filter the options ask for: one deadline filter at most. */
export function listFilter(opts: ListOptions): RequestListFilter {
  if (opts.overdue && opts.dueWithin !== undefined) {
    throw new UsageError(
      'give --overdue or --due-within DAYS, not both (--due-within includes overdue requests)',
    );
  }
  return {
    ...(opts.status ? { status: opts.status } : {}),
    ...(opts.overdue ? { overdue: true } : {}),
    ...(opts.dueWithin !== undefined ? { dueWithinDays: days(opts.dueWithin, '--due-within') } : {}),
  };
}

/**
 * Adds `lethe request approve|deny|cancel|extend`: what privacy staff decide about a request
 * beside running it, each audited with who and why.
 */
export function addManageCommands(request: Command, context: CommandContext): void {
  common(
    request
      .command('approve')
      .description(
        'Approve a request the policy holds for approval, and run it (someone other than its submitter).',
      )
      .argument('<requestId>')
      .requiredOption('--by <name>', 'who approves it (recorded in the audit log)'),
    { target: true },
  )
    .addHelpText('after', '\nExample:\n  lethe request approve 3f1c0e6e-… --by "R. Roe"')
    .action(async (requestId: string, opts: CommonOptions & { by: string }) => {
      checkRequestId(requestId);
      checkActorName(opts.by, '--by');
      await context.withBackend(opts, async (opened) => {
        const summary = await opened.approve(requestId, opts.by);
        context.print(opts, summary, () => describeRequest(summary));
        if (summary.status === 'failed' || summary.status === 'rejected')
          context.exitCode = EXIT.requestFailed;
      });
    });

  common(
    request
      .command('deny')
      .description(
        'Deny a request that is not running (waiting for approval, failed, or waiting for review), with the reason the subject is owed.',
      )
      .argument('<requestId>')
      .requiredOption('--by <name>', 'who denies it (recorded in the audit log)')
      .requiredOption('--reason <reason>', `why: ${DENIAL_REASONS.join(', ')}`)
      .requiredOption('--note <text>', 'the explanation the subject is given, without naming anyone'),
    { target: true },
  )
    .addHelpText(
      'after',
      '\nExample:\n  lethe request deny 3f1c0e6e-… --by "R. Roe" --reason unverifiable-identity --note "the ID document did not match, ticket 4711"',
    )
    .action(async (requestId: string, opts: CommonOptions & { by: string; reason: string; note: string }) => {
      checkRequestId(requestId);
      checkActorName(opts.by, '--by');
      if (!DENIAL_REASONS.includes(opts.reason as DenialReason)) {
        throw new UsageError(
          `--reason must be one of ${DENIAL_REASONS.join(', ')}; got ${quoted(opts.reason)}`,
        );
      }
      checkReasonText(opts.note, '--note');
      await context.withBackend(opts, async (opened) => {
        const summary = await opened.deny(requestId, { by: opts.by, reason: opts.reason, note: opts.note });
        context.print(opts, summary, () => describeRequest(summary));
      });
    });

  common(
    request
      .command('cancel')
      .description('Cancel a request that has not started running (one waiting for approval).')
      .argument('<requestId>')
      .requiredOption('--by <name>', 'who cancels it (recorded in the audit log)')
      .requiredOption('--reason <text>', 'why, without naming the subject (kept in the audit log)'),
    { target: true },
  )
    .addHelpText(
      'after',
      '\nExample:\n  lethe request cancel 3f1c0e6e-… --by "J. Doe" --reason "submitted twice, ticket 4711"',
    )
    .action(async (requestId: string, opts: CommonOptions & { by: string; reason: string }) => {
      checkRequestId(requestId);
      checkActorName(opts.by, '--by');
      checkReasonText(opts.reason);
      await context.withBackend(opts, async (opened) => {
        const summary = await opened.cancel(requestId, opts.by, opts.reason);
        context.print(opts, summary, () => describeRequest(summary));
      });
    });

  common(
    request
      .command('extend')
      .description(
        "Extend a request's due date, once, as far as its law allows (GDPR: two further months; CCPA: 45 further days).",
      )
      .argument('<requestId>')
      .requiredOption('--by <name>', 'who extends it (recorded in the audit log)')
      .requiredOption('--days <n>', 'days added to the due date')
      .requiredOption(
        '--reason <text>',
        'why more time is needed, as the subject is told, without naming anyone',
      ),
    { target: true },
  )
    .addHelpText(
      'after',
      '\nExample:\n  lethe request extend 3f1c0e6e-… --by "J. Doe" --days 30 --reason "complex request: 14 stores, ticket 4711"',
    )
    .action(async (requestId: string, opts: CommonOptions & { by: string; days: string; reason: string }) => {
      checkRequestId(requestId);
      checkActorName(opts.by, '--by');
      const extension = days(opts.days, '--days');
      checkReasonText(opts.reason);
      await context.withBackend(opts, async (opened) => {
        const summary = await opened.extend(requestId, { by: opts.by, days: extension, reason: opts.reason });
        context.print(opts, summary, () => describeRequest(summary));
      });
    });
}
