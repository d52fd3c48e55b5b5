import type { Command } from 'commander';
import { parseIdentityArgument } from '../../datamap/identity';
import { OBJECTION_SCOPE_PATTERN } from '../../rights/request-values';
import { UsageError } from '../errors';
import { table } from '../format';
import { type CommandContext, type CommonOptions, common } from './shared';

/** Exit code of `lethe suppression check` when the subject is not suppressed (0 when it is). */
export const NOT_SUPPRESSED_EXIT = 3;

const SCOPE_USAGE =
  '--scope is marketing, sale-or-sharing, profiling, all, or consent:PURPOSE (e.g. consent:newsletter)';

function checkScope(scope: string | undefined): void {
  if (scope !== undefined && !OBJECTION_SCOPE_PATTERN.test(scope)) throw new UsageError(SCOPE_USAGE);
}

function checkSubject(subject: string[] | undefined): asserts subject is string[] {
  if (!subject || subject.length === 0) {
    throw new UsageError('give the subject: --subject TYPE=VALUE, e.g. --subject email=ada@example.com');
  }
}

/**
 * Adds `lethe suppression check|list|remove`: whether a subject objected (opt-outs, withdrawn
 * consent), the list by keyed hash, and taking a subject off it (audited).
 */
export function addSuppressionCommands(program: Command, context: CommandContext): void {
  const suppression = program
    .command('suppression')
    .description('The suppression list: subjects who objected, opted out or withdrew consent.');
  addCheckCommand(suppression, context);
  addListCommand(suppression, context);
  addRemoveCommand(suppression, context);
}

function addCheckCommand(suppression: Command, context: CommandContext): void {
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
      checkSubject(opts.subject);
      checkScope(opts.scope);
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

function addListCommand(suppression: Command, context: CommandContext): void {
  common(
    suppression
      .command('list')
      .description(
        'Every entry of the suppression list, oldest first: keyed subject hash, scope and since when (never an identifier).',
      )
      .option('--scope <scope>', 'only entries of this scope'),
    { target: true },
  )
    .addHelpText('after', '\nExample:\n  lethe suppression list --scope sale-or-sharing --json')
    .action(async (opts: CommonOptions & { scope?: string }) => {
      checkScope(opts.scope);
      await context.withBackend(
        opts,
        async (opened) => {
          const { listSuppressions } =
            require('../../rights/suppression') as typeof import('../../rights/suppression');
          const entries = await listSuppressions(
            opened.deps,
            opts.scope !== undefined ? { scope: opts.scope } : {},
          );
          context.print(opts, entries, () =>
            entries.length === 0
              ? 'The suppression list is empty.'
              : table(
                  ['subject hash', 'scope', 'since'],
                  entries.map((entry) => [entry.subjectHash, entry.scope, entry.at]),
                ),
          );
        },
        { readOnly: true },
      );
    });
}

function addRemoveCommand(suppression: Command, context: CommandContext): void {
  common(
    suppression
      .command('remove')
      .description(
        'Take a subject off the suppression list under one scope (e.g. they consented again): audited with who and why. Links are not followed: name every identity to remove.',
      )
      .option(
        '--subject <TYPE=VALUE...>',
        'an identity of the subject (repeatable), e.g. email=ada@example.com',
      )
      .requiredOption('--scope <scope>', 'the scope to remove, e.g. marketing or consent:newsletter')
      .requiredOption('--by <name>', 'who removes it')
      .requiredOption(
        '--reason <text>',
        'why, without naming the subject, e.g. "consented again, ticket 4711"',
      ),
    { target: true },
  )
    .addHelpText(
      'after',
      '\nExample:\n  lethe suppression remove --subject email=ada@example.com --scope consent:newsletter --by privacy-desk --reason "consented again, ticket 4711"',
    )
    .action(
      async (opts: CommonOptions & { subject?: string[]; scope: string; by: string; reason: string }) => {
        checkSubject(opts.subject);
        checkScope(opts.scope);
        const dataMap = context.dataMap(opts);
        const subject = opts.subject.map((argument) => parseIdentityArgument(dataMap, argument));
        await context.withBackend(opts, async (opened) => {
          const { removeFromSuppressionList } =
            require('../../rights/suppression') as typeof import('../../rights/suppression');
          const removal = await removeFromSuppressionList(opened.deps, subject, {
            scope: opts.scope,
            by: opts.by,
            reason: opts.reason,
          });
          context.print(
            opts,
            removal,
            () =>
              `Removed ${removal.removed} keyed hash(es) from the suppression list under ${removal.scope}.`,
          );
        });
      },
    );
}
