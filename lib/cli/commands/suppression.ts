import type { Command } from 'commander';
import { parseIdentityArgument } from '../../datamap/identity';
import { OBJECTION_SCOPE_PATTERN } from '../../rights/request-values';
import { UsageError } from '../errors';
import { table } from '../format';
import { type CommandContext, type CommonOptions, common } from './shared';

/** Exit code of `lethe suppression check` when the subject is not suppressed (0 when it is). */
export const NOT_SUPPRESSED_EXIT = 3;

/** Adds `lethe suppression check`: whether a subject objected (opt-outs, withdrawn consent). */
export function addSuppressionCommands(program: Command, context: CommandContext): void {
  const suppression = program
    .command('suppression')
    .description('The suppression list: subjects who objected, opted out or withdrew consent.');
  common(
    suppression
      .command('check')
      .description(
        `Whether a subject is on the suppression list: exit 0 suppressed, ${NOT_SUPPRESSED_EXIT} not suppressed, 2 bad input.`,
      )
      .option(
        '--subject <TYPE=VALUE...>',
        'an identity of the subject (repeatable), e.g. email=ada@example.com',
      )
      .option(
        '--scope <scope>',
        'marketing, sale-or-sharing, profiling, all, or consent:PURPOSE; an entry of scope all answers every scope (default: any scope)',
      ),
    { target: true },
  )
    .addHelpText(
      'after',
      '\nExamples:\n  lethe suppression check --subject email=ada@example.com --scope sale-or-sharing\n  lethe suppression check --subject cookieId=c-123 --json',
    )
    .action(async (opts: CommonOptions & { subject?: string[]; scope?: string }) => {
      if (!opts.subject || opts.subject.length === 0) {
        throw new UsageError('give the subject: --subject TYPE=VALUE, e.g. --subject email=ada@example.com');
      }
      if (opts.scope !== undefined && !OBJECTION_SCOPE_PATTERN.test(opts.scope)) {
        throw new UsageError(
          '--scope is marketing, sale-or-sharing, profiling, all, or consent:PURPOSE (e.g. consent:newsletter)',
        );
      }
      const dataMap = context.dataMap(opts);
      const subject = opts.subject.map((argument) => parseIdentityArgument(dataMap, argument));
      await context.withBackend(opts, async (opened) => {
        const { answerSuppressionQuestion } =
          require('../../rights/suppression-question') as typeof import('../../rights/suppression-question');
        const answer = await answerSuppressionQuestion(opened.deps, {
          subject: subject.map(({ type, value }) => ({ type, value })),
          ...(opts.scope !== undefined ? { scope: opts.scope } : {}),
        });
        context.print(opts, answer, () =>
          answer.suppressed
            ? `Suppressed${opts.scope ? ` for ${opts.scope}` : ''}:\n${table(
                ['scope', 'since', 'request'],
                answer.matches.map((match) => [match.scope, match.since, match.requestId]),
              )}`
            : `Not suppressed${opts.scope ? ` for ${opts.scope}` : ''}.`,
        );
        if (!answer.suppressed) context.exitCode = NOT_SUPPRESSED_EXIT;
      });
    });
}
