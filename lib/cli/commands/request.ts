import { type Command, Option } from 'commander';
import { parseIdentityArgument } from '../../datamap/identity';
import { requestStatusSchema, type SubmitRequestInput, verificationSchema } from '../../rights/request';
import { EXIT, UsageError } from '../errors';
import { describeHistory, describeRequest, table } from '../format';
import { type CommandContext, type CommonOptions, common } from './shared';

/** Adds `lethe request submit|status|list|history`: data-subject requests, locally or on AWS. */
export function addRequestCommands(program: Command, context: CommandContext): void {
  const request = program.command('request').description('Submit data-subject requests and follow them.');
  common(
    request
      .command('submit')
      .description('Run a data-subject request to completion and print its outcome.')
      .addOption(
        new Option('--type <type>', 'the right exercised')
          .choices(['access', 'portability', 'erasure'])
          .makeOptionMandatory(),
      )
      .option(
        '--subject <TYPE=VALUE...>',
        'an identity of the subject (repeatable), e.g. email=ada@example.com',
      )
      .addOption(
        new Option('--jurisdiction <law>', 'the law the request is made under')
          .choices(['gdpr', 'ccpa'])
          .makeOptionMandatory(),
      )
      .option(
        '--verified-by <name>',
        'who verified the requester is the subject (required for access and erasure)',
      )
      .addOption(
        new Option('--verification <method>', 'how the requester was verified')
          .choices(verificationSchema.shape.method.options)
          .default('other'),
      )
      .addOption(
        new Option('--channel <channel>', 'how the request arrived')
          .choices(['web', 'email', 'phone', 'mail', 'in-person', 'api', 'cli'])
          .default('cli'),
      )
      .option(
        '--request-id <id>',
        'your own request id (8-80 letters, digits, - or _); resubmitting it runs nothing again',
      ),
    { target: true },
  )
    .addHelpText(
      'after',
      '\nExamples:\n  lethe request submit --type access --subject email=ada@example.com --jurisdiction gdpr --verified-by "J. Doe"\n  lethe request submit --type erasure --subject email=ada@example.com --subject phone=+4930123456 --jurisdiction ccpa --verified-by desk --json',
    )
    .action(
      async (
        opts: CommonOptions & {
          type: 'access' | 'portability' | 'erasure';
          subject?: string[];
          jurisdiction: 'gdpr' | 'ccpa';
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
        if (!opts.verifiedBy?.trim()) {
          throw new UsageError(
            `${opts.type} requests need --verified-by NAME: who verified the requester is the subject`,
          );
        }
        await context.withBackend(opts, async (opened) => {
          const subject = opts.subject!.map((argument) =>
            parseIdentityArgument(opened.deps.dataMap, argument),
          );
          const input: SubmitRequestInput = {
            type: opts.type,
            subject,
            jurisdiction: opts.jurisdiction,
            channel: opts.channel as SubmitRequestInput['channel'],
            verification: {
              method: opts.verification as NonNullable<SubmitRequestInput['verification']>['method'],
              verifiedBy: opts.verifiedBy!,
            },
            submittedBy: opts.verifiedBy!,
            ...(opts.requestId ? { requestId: opts.requestId } : {}),
          };
          const { summary, created } = await opened.submit(input);
          context.print(
            opts,
            summary,
            () =>
              `${created ? '' : 'Already submitted; nothing was run again.\n'}${describeRequest(summary)}`,
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
      await context.withBackend(opts, async (opened) => {
        const summary = await opened.status(requestId);
        context.print(opts, summary, () => describeRequest(summary));
      });
    });

  common(
    request
      .command('list')
      .description('List requests, newest first.')
      .addOption(
        new Option('--status <status>', 'only requests in this status').choices(requestStatusSchema.options),
      ),
    { target: true },
  )
    .addHelpText('after', '\nExample:\n  lethe request list --status failed')
    .action(async (opts: CommonOptions & { status?: (typeof requestStatusSchema.options)[number] }) => {
      await context.withBackend(opts, async (opened) => {
        const summaries = await opened.list(opts.status);
        context.print(opts, summaries, () =>
          summaries.length === 0
            ? 'No requests.'
            : table(
                ['request', 'type', 'status', 'received', 'due'],
                summaries.map((s) => [s.requestId, s.type, s.status, s.receivedAt, s.dueAt]),
              ),
        );
      });
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
      await context.withBackend(opts, async (opened) => {
        const events = await opened.history(requestId);
        context.print(opts, events, () => `History of ${requestId}\n${describeHistory(events)}`);
      });
    });
}
