import { readFileSync } from 'node:fs';
import { type Command, Option } from 'commander';
import { checkActorName } from '../../audit/free-text';
import { parseIdentityArgument } from '../../datamap/identity';
import { writeFileAtomic } from '../../local/atomic-file';
import type { CheckedCertificate } from '../../rights/certificate-check';
import type { SubmitRequestInput } from '../../rights/request';
import {
  JURISDICTIONS,
  REQUEST_STATUSES,
  REQUEST_TYPES,
  VERIFICATION_METHODS,
} from '../../rights/request-values';
import type { SubmitOutcome } from '../../rights/submit';
import type { RequestSummary } from '../../rights/summary';
import { EXIT, UsageError } from '../errors';
import { describeHistory, describeRequest, describeSubject, table } from '../format';
import { checkReasonText, checkRequestId, quoted } from '../input';
import { addManageCommands, type ListOptions, listFilter } from './request-manage';
import { type CommandContext, type CommonOptions, common } from './shared';

/** The request types `lethe request submit --type` takes: every right. */
const SUBMITTABLE_TYPES = REQUEST_TYPES;

/**
 * A rectification's corrections from `--set FIELD=VALUE` (repeatable) or `--corrections FILE` (a
 * JSON object). Messages name the option or field, never a value: a correction is personal data.
 */
function readCorrections(opts: {
  set?: string[];
  corrections?: string;
}): Record<string, unknown> | undefined {
  if (opts.set !== undefined && opts.corrections !== undefined) {
    throw new UsageError('give corrections with --set or with --corrections FILE, not both');
  }
  if (opts.corrections !== undefined) {
    let text: string;
    try {
      text = readFileSync(opts.corrections, 'utf8');
    } catch {
      throw new UsageError(`--corrections: the file ${quoted(opts.corrections)} cannot be read`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new UsageError('--corrections: the file is not JSON; write {"FIELD": "corrected value"}');
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new UsageError('--corrections: the file must hold one JSON object, {"FIELD": "corrected value"}');
    }
    return parsed as Record<string, unknown>;
  }
  if (opts.set === undefined) return undefined;
  const corrections: Record<string, unknown> = {};
  for (const argument of opts.set) {
    const separator = argument.indexOf('=');
    if (separator <= 0) throw new UsageError('--set takes FIELD=VALUE, e.g. --set name="Ada Berg"');
    const field = argument.slice(0, separator);
    if (Object.hasOwn(corrections, field)) {
      throw new UsageError(`--set names field ${quoted(field)} twice; give each field once`);
    }
    corrections[field] = argument.slice(separator + 1);
  }
  return corrections;
}

/** Adds `lethe request submit|status|list|history|retry|close|review`: data-subject requests, locally or on AWS. */
export function addRequestCommands(program: Command, context: CommandContext): void {
  const request = program.command('request').description('Submit data-subject requests and follow them.');
  common(
    request
      .command('submit')
      .description('Run a data-subject request to completion and print its outcome.')
      .addOption(
        new Option('--type <type>', 'the right exercised').choices(SUBMITTABLE_TYPES).makeOptionMandatory(),
      )
      .option(
        '--scope <scope>',
        'objection only: marketing, sale-or-sharing (the CCPA opt-out), profiling, all, or consent:PURPOSE',
      )
      .option(
        '--set <FIELD=VALUE...>',
        'rectification only: a corrected value (repeatable), e.g. --set name="Ada Berg"',
      )
      .option('--corrections <file>', 'rectification only: a JSON file of corrected values, {"FIELD": VALUE}')
      .option(
        '--subject <TYPE=VALUE...>',
        'an identity of the subject (repeatable), e.g. email=ada@example.com',
      )
      .addOption(
        new Option('--jurisdiction <law>', 'the law the request is made under')
          .choices(JURISDICTIONS)
          .makeOptionMandatory(),
      )
      .option(
        '--verified-by <name>',
        'who verified the requester is the subject (required for every type but an opt-out of sale or sharing)',
      )
      .addOption(
        new Option('--verification <method>', 'how the requester was verified')
          .choices(VERIFICATION_METHODS)
          .default('other'),
      )
      .addOption(
        new Option('--channel <channel>', 'how the request arrived')
          .choices(['web', 'email', 'phone', 'mail', 'in-person', 'api', 'cli'])
          .default('cli'),
      )
      .option(
        '--request-id <id>',
        'your own request id (8-64 letters, digits, - or _); resubmitting it creates nothing new',
      ),
    { target: true },
  )
    .addHelpText(
      'after',
      '\nExamples:\n  lethe request submit --type access --subject email=ada@example.com --jurisdiction gdpr --verified-by "J. Doe"\n  lethe request submit --type erasure --subject email=ada@example.com --subject phone=+4930123456 --jurisdiction ccpa --verified-by desk --json\n  lethe request submit --type rectification --set name="Ada Berg" --subject email=ada@example.com --jurisdiction gdpr --verified-by desk\n  lethe request submit --type objection --scope sale-or-sharing --subject email=ada@example.com --jurisdiction ccpa',
    )
    .action(
      async (
        opts: CommonOptions & {
          type: (typeof SUBMITTABLE_TYPES)[number];
          scope?: string;
          set?: string[];
          corrections?: string;
          subject?: string[];
          jurisdiction: (typeof JURISDICTIONS)[number];
          verifiedBy?: string;
          verification: string;
          channel: string;
          requestId?: string;
        },
      ) => {
        if (!opts.subject || opts.subject.length === 0) {
          throw new UsageError(
            'give the subject: --subject TYPE=VALUE, e.g. --subject email=ada@example.com',
          );
        }
        const optOut = opts.type === 'objection' && opts.scope === 'sale-or-sharing';
        if (opts.verifiedBy === undefined && !optOut) {
          throw new UsageError(
            `${opts.type} requests need --verified-by NAME: who verified the requester is the subject`,
          );
        }
        const verifiedBy =
          opts.verifiedBy === undefined ? undefined : checkActorName(opts.verifiedBy, '--verified-by');
        const corrections = readCorrections(opts);
        if (opts.requestId !== undefined) checkRequestId(opts.requestId, 'a request id (--request-id)');
        const dataMap = context.dataMap(opts);
        const given = opts.subject.map((argument) => ({
          argument,
          identity: parseIdentityArgument(dataMap, argument),
        }));
        await context.withBackend(opts, async (opened) => {
          const input: SubmitRequestInput = {
            type: opts.type,
            subject: given.map(({ identity }) => identity),
            jurisdiction: opts.jurisdiction,
            channel: opts.channel as SubmitRequestInput['channel'],
            ...(verifiedBy === undefined
              ? { submittedBy: 'cli' }
              : {
                  verification: {
                    method: opts.verification as NonNullable<SubmitRequestInput['verification']>['method'],
                    verifiedBy,
                  },
                  submittedBy: verifiedBy,
                }),
            ...(opts.scope !== undefined ? { scope: opts.scope } : {}),
            // Checked against the data map when submitted (parseSubmission), value by value.
            ...(corrections ? { corrections: corrections as SubmitRequestInput['corrections'] } : {}),
            ...(opts.requestId !== undefined ? { requestId: opts.requestId } : {}),
          };
          const { summary, outcome } = await opened.submit(input);
          // The normalised identities only where the person who typed them reads: never in --json,
          // a file or a pipe, which end up in logs.
          const subjectLines = context.io.terminal === true ? describeSubject(given) : '';
          context.print(opts, { ...summary, outcome }, () =>
            [submitNote(outcome, summary), describeRequest(summary), subjectLines].filter(Boolean).join('\n'),
          );
          if (summary.status === 'failed' || summary.status === 'rejected')
            context.exitCode = EXIT.requestFailed;
        });
      },
    );

  common(
    request.command('status').description("Show a request's status and outcome.").argument('<requestId>'),
    { target: true },
  )
    .addHelpText('after', '\nExample:\n  lethe request status 3f1c0e6e-…')
    .action(async (requestId: string, opts: CommonOptions) => {
      checkRequestId(requestId);
      await context.withBackend(
        opts,
        async (opened) => {
          const summary = await opened.status(requestId);
          context.print(opts, summary, () => describeRequest(summary));
        },
        { readOnly: true },
      );
    });

  common(
    request
      .command('list')
      .description('List requests, newest first.')
      .addOption(new Option('--status <status>', 'only requests in this status').choices(REQUEST_STATUSES))
      .option('--overdue', 'only open requests past their due date')
      .option('--due-within <days>', 'only open requests due within this many days (overdue ones too)'),
    { target: true },
  )
    .addHelpText(
      'after',
      '\nExamples:\n  lethe request list --status failed\n  lethe request list --overdue\n  lethe request list --due-within 7',
    )
    .action(async (opts: CommonOptions & ListOptions) => {
      const filter = listFilter(opts);
      await context.withBackend(
        opts,
        async (opened) => {
          const summaries = await opened.list(filter);
          context.print(opts, summaries, () =>
            summaries.length === 0
              ? 'No requests.'
              : table(
                  ['request', 'type', 'status', 'received', 'due'],
                  summaries.map((s) => [s.requestId, s.type, s.status, s.receivedAt, s.dueAt]),
                ),
          );
        },
        { readOnly: true },
      );
    });

  common(
    request
      .command('history')
      .description("Show a request's timeline: every state entered and exited.")
      .argument('<requestId>'),
    { target: true },
  )
    .addHelpText('after', '\nExample:\n  lethe request history 3f1c0e6e-…')
    .action(async (requestId: string, opts: CommonOptions) => {
      checkRequestId(requestId);
      await context.withBackend(
        opts,
        async (opened) => {
          const events = await opened.history(requestId);
          context.print(opts, events, () => `History of ${requestId}\n${describeHistory(events)}`);
        },
        { readOnly: true },
      );
    });

  common(
    request
      .command('retry')
      .description('Run a failed request again, from the identities it had resolved, as its next attempt.')
      .argument('<requestId>')
      .requiredOption('--by <name>', 'who retries it (recorded in the audit log)'),
    { target: true },
  )
    .addHelpText('after', '\nExample:\n  lethe request retry 3f1c0e6e-… --by "J. Doe"')
    .action(async (requestId: string, opts: CommonOptions & { by: string }) => {
      checkRequestId(requestId);
      checkActorName(opts.by, '--by');
      await context.withBackend(opts, async (opened) => {
        const summary = await opened.retry(requestId, opts.by);
        context.print(opts, summary, () => describeRequest(summary));
        if (summary.status === 'failed') context.exitCode = EXIT.requestFailed;
      });
    });

  common(
    request
      .command('close')
      .description('End a failed request (or one waiting for review) without finishing it.')
      .argument('<requestId>')
      .requiredOption('--by <name>', 'who closes it (recorded in the audit log)')
      .requiredOption('--reason <text>', 'why, without naming the subject (kept in the audit log)'),
    { target: true },
  )
    .addHelpText(
      'after',
      '\nExample:\n  lethe request close 3f1c0e6e-… --by "J. Doe" --reason "subject withdrew the request, ticket 4711"',
    )
    .action(async (requestId: string, opts: CommonOptions & { by: string; reason: string }) => {
      checkRequestId(requestId);
      checkActorName(opts.by, '--by');
      checkReasonText(opts.reason);
      await context.withBackend(opts, async (opened) => {
        const summary = await opened.close(requestId, opts.by, opts.reason);
        context.print(opts, summary, () => describeRequest(summary));
      });
    });

  addReviewCommand(request, context);
  addManageCommands(request, context);
  addCertificateCommand(request, context);
}

/**
 * Adds `lethe request review`: staff decide, per store, about records only claimed links reached
 * (values people typed) and the request runs on.
 */
function addReviewCommand(request: Command, context: CommandContext): void {
  common(
    request
      .command('review')
      .description(
        'Decide about a pending-review request: include or exclude, per store, the records only claimed links reached, then run it on.',
      )
      .argument('<requestId>')
      .option('--include <store...>', "stores whose waiting records are the subject's: export or erase them")
      .option('--exclude <store...>', 'stores whose waiting records are left alone (reported as excluded)')
      .requiredOption('--by <name>', 'who reviewed it (recorded in the audit log)')
      .option('--note <text>', 'why, without naming anyone (kept in the audit log)'),
    { target: true },
  )
    .addHelpText(
      'after',
      '\nEvery store the request waits for must be named once, with --include or --exclude (see lethe request status ID).\nExample:\n  lethe request review 3f1c0e6e-… --include call-recordings --exclude ad-events clickstream --by "J. Doe" --note "ticket 4711"',
    )
    .action(
      async (
        requestId: string,
        opts: CommonOptions & { include?: string[]; exclude?: string[]; by: string; note?: string },
      ) => {
        checkRequestId(requestId);
        if (!opts.include?.length && !opts.exclude?.length) {
          throw new UsageError(
            `decide the stores that wait: --include STORE... and/or --exclude STORE... (see lethe request status ${requestId})`,
          );
        }
        await context.withBackend(opts, async (opened) => {
          const summary = await opened.review(requestId, {
            by: opts.by,
            ...(opts.include ? { include: opts.include } : {}),
            ...(opts.exclude ? { exclude: opts.exclude } : {}),
            ...(opts.note === undefined ? {} : { note: opts.note }),
          });
          context.print(opts, summary, () => describeRequest(summary));
          if (summary.status === 'failed') context.exitCode = EXIT.requestFailed;
        });
      },
    );
}

/** Adds `lethe request certificate`: the erasure certificate, its digest and the audit events behind it checked. */
function addCertificateCommand(request: Command, context: CommandContext): void {
  common(
    request
      .command('certificate')
      .description(
        "Hand over a request's erasure certificate: its digest checked, with the audit events that back it; exit 1 if it does not match.",
      )
      .argument('<requestId>')
      .option('--out <file>', 'also write the certificate and its check to this JSON file'),
    { target: true },
  )
    .addHelpText('after', '\nExample:\n  lethe request certificate 3f1c0e6e-… --out certificate.json')
    .action(async (requestId: string, opts: CommonOptions & { out?: string }) => {
      checkRequestId(requestId);
      const { auditDepsOf, readAuditEvents } = require('../../audit/log') as typeof import('../../audit/log');
      const { checkCertificate } =
        require('../../rights/certificate-check') as typeof import('../../rights/certificate-check');
      const { getRequest } =
        require('../../rights/requests-table') as typeof import('../../rights/requests-table');
      await context.withBackend(
        opts,
        async (opened) => {
          const record = await getRequest(opened.deps, requestId);
          const events = await readAuditEvents(auditDepsOf(opened.deps), { requestId });
          const checked = checkCertificate(record, events);
          if (opts.out) await writeFileAtomic(opts.out, `${JSON.stringify(checked, null, 2)}\n`);
          context.print(opts, checked, () => describeCertificate(checked, opts.out));
          if (!checked.ok) context.exitCode = EXIT.requestFailed;
        },
        { readOnly: true },
      );
    });
}

/**
 * The certificate's stores as a table: erased, masked and remaining for an erasure; records
 * updated and the fields corrected (names and counts) for the rights that change records.
 */
function certificateTable(stores: CheckedCertificate['certificate']['stores']): string {
  const changed = stores as unknown as {
    store: string;
    located: number;
    updated?: number;
    unchanged?: number;
    skipped?: number;
    fields?: { field: string; updated: number; unchanged: number }[];
  }[];
  if (changed.some((store) => store.updated !== undefined)) {
    return table(
      ['store', 'located', 'updated', 'unchanged', 'skipped', 'fields'],
      changed.map((store) => [
        store.store,
        String(store.located),
        String(store.updated ?? 0),
        String(store.unchanged ?? 0),
        String(store.skipped ?? 0),
        (store.fields ?? []).map((field) => `${field.field} ${field.updated}/${field.unchanged}`).join(', '),
      ]),
    );
  }
  return table(
    ['store', 'located', 'erased', 'masked', 'exempted', 'remaining'],
    stores.map((store) =>
      [store.store, store.located, store.erased, store.masked, store.exempted, store.remaining].map(String),
    ),
  );
}

function describeCertificate(checked: CheckedCertificate, out: string | undefined): string {
  const { certificate } = checked;
  const lines = [
    `Erasure certificate ${certificate.certificateId} for request ${checked.requestId}: ${checked.ok ? 'VALID' : 'DOES NOT MATCH'}`,
    ...checked.problems.map((problem) => `  ${problem}`),
    `  digest ${checked.digest.stored}${checked.digest.matches ? ' (recomputed: matches)' : ` (recomputed: ${checked.digest.computed})`}`,
    `  issued ${certificate.issuedAt}; received ${certificate.receivedAt}; data map ${certificate.dataMapDigest.slice(0, 16)}…`,
    certificateTable(certificate.stores),
    `Backed by ${checked.backedBy.length} audit event(s): ${checked.backedBy.map((event) => `#${event.seq} ${event.type}`).join(', ')}`,
  ];
  if (out) lines.push(`Written to ${out}`);
  return lines.join('\n');
}

/** What submitting did, when it was not simply a new request run to its end. */
function submitNote(outcome: SubmitOutcome, summary: RequestSummary): string {
  if (outcome === 'created' || summary.status === 'pending-approval') return '';
  if (outcome === 'resumed') {
    return "Resumed: this request's earlier run stopped before it ended; it ran again from the request's saved state.";
  }
  switch (summary.status) {
    case 'failed':
      return `Already submitted, and it failed; nothing was run again. Finish it with: lethe request retry ${summary.requestId} --by NAME`;
    case 'pending-review':
      return `Already submitted, and it waits for review; nothing was run again: lethe request review ${summary.requestId}`;
    case 'received':
    case 'verifying':
    case 'in-progress':
      return 'Already submitted, and still running; nothing new was started.';
    default:
      return 'Already submitted; nothing was run again.';
  }
}
