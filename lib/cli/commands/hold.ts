import { type Command, Option } from 'commander';
import { checkActorName } from '../../audit/free-text';
import { UsageError } from '../errors';
import { describeHoldScope, printable, table } from '../format';
import { type CommandContext, type CommonOptions, common } from './shared';

/** Adds `lethe hold add|list|release`: legal holds. */
export function addHoldCommands(program: Command, context: CommandContext): void {
  const hold = program
    .command('hold')
    .description('Legal holds: records kept from sweeps and erasure until released.');
  common(
    hold
      .command('add')
      .description(
        'Place a legal hold on a subject (every record reachable from the identity) or on one record.',
      )
      .option('--subject <TYPE=VALUE>', 'the subject to hold, e.g. email=ada@example.com')
      .option('--store <id>', 'with --key: the store of the record to hold')
      .option('--key <key>', 'with --store: the DynamoDB key as JSON, or the S3 object key')
      .requiredOption(
        '--reason <text>',
        'why, e.g. "Litigation hold, case 2026-0042" (no names or identifiers)',
      )
      .requiredOption('--by <name>', 'who places the hold'),
  )
    .addHelpText(
      'after',
      '\nExamples:\n  lethe hold add --subject email=ada@example.com --reason "Litigation hold, case 2026-0042" --by "Legal"\n  lethe hold add --store conversions --key \'{"conversionId":"cv-123"}\' --reason "Disputed invoice 4711" --by "Finance"',
    )
    .action(
      async (
        opts: CommonOptions & { subject?: string; store?: string; key?: string; reason: string; by: string },
      ) => {
        const bySubject = opts.subject !== undefined;
        const byRecord = opts.store !== undefined || opts.key !== undefined;
        if (bySubject === byRecord || (byRecord && (opts.store === undefined || opts.key === undefined))) {
          throw new UsageError('hold add needs either --subject TYPE=VALUE, or --store ID with --key KEY');
        }
        const input = bySubject
          ? { subject: opts.subject!, reason: opts.reason, placedBy: opts.by }
          : { storeId: opts.store!, key: opts.key!, reason: opts.reason, placedBy: opts.by };
        const { checkHoldInput, placeHold } = require('../../holds') as typeof import('../../holds');
        // Everything the data map alone can refuse is refused before anything opens.
        checkHoldInput(context.dataMap(opts), input);
        await context.withBackend(opts, async (opened) => {
          const placed = await placeHold(opened.deps, input);
          context.print(
            opts,
            placed,
            () => `Placed hold ${placed.holdId} (${describeHoldScope(placed)}): ${printable(placed.reason)}`,
          );
        });
      },
    );

  common(
    hold
      .command('list')
      .description('List legal holds, oldest first.')
      .addOption(
        new Option('--status <status>', 'only active or released holds').choices(['active', 'released']),
      ),
  )
    .addHelpText('after', '\nExample:\n  lethe hold list --status active')
    .action(async (opts: CommonOptions & { status?: 'active' | 'released' }) => {
      const { listHolds } = require('../../holds/list') as typeof import('../../holds/list');
      await context.withBackend(
        opts,
        async (opened) => {
          const holds = await listHolds(opened.deps, opts.status ? { status: opts.status } : {});
          context.print(opts, holds, () =>
            holds.length === 0
              ? 'No legal holds.'
              : table(
                  ['hold', 'status', 'scope', 'placed', 'by', 'reason'],
                  holds.map((entry) => [
                    entry.holdId,
                    entry.status,
                    describeHoldScope(entry),
                    entry.placedAt,
                    printable(entry.placedBy),
                    printable(entry.reason),
                  ]),
                ),
          );
        },
        { readOnly: true },
      );
    });

  common(
    hold
      .command('release')
      .description('Release a legal hold; it stays listed, marked released, for the audit trail.')
      .argument('<holdId>')
      .requiredOption('--by <name>', 'who releases the hold'),
  )
    .addHelpText('after', '\nExample:\n  lethe hold release hold-3f1c0e6e --by "Legal"')
    .action(async (holdId: string, opts: CommonOptions & { by: string }) => {
      const { checkHoldId, releaseHold } = require('../../holds') as typeof import('../../holds');
      checkHoldId(holdId);
      checkActorName(opts.by, '--by');
      await context.withBackend(opts, async (opened) => {
        const released = await releaseHold(opened.deps, holdId, opts.by);
        context.print(
          opts,
          released,
          () =>
            `Released hold ${released.holdId} (${describeHoldScope(released)}) by ${printable(released.releasedBy ?? opts.by)}`,
        );
      });
    });
}
