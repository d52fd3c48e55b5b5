import { type Command, Option } from 'commander';
import { writeFileAtomic } from '../../local/atomic-file';
import { type CommandContext, type CommonOptions, common, localPaths } from './shared';

/** Adds `lethe datamap report`: the record of processing activities (GDPR Art. 30) from the data map. */
export function addDatamapCommands(program: Command, context: CommandContext): void {
  const datamap = program.command('datamap').description('Read the data map as auditors ask for it.');
  common(
    datamap
      .command('report')
      .description(
        'The record of processing activities (GDPR Art. 30): every store with kind, categories, purpose, lawful basis, recipients, retention and erasure.',
      )
      .addOption(new Option('--format <format>', 'what to write').choices(['html', 'csv']).default('html'))
      .option('--out <file>', 'write to this file (default: print it)'),
  )
    .addHelpText(
      'after',
      '\nExamples:\n  lethe datamap report --format html --out processing.html\n  lethe datamap report --format csv --datamap examples/adtech/datamap.yaml',
    )
    .action(async (opts: CommonOptions & { format: 'html' | 'csv'; out?: string }) => {
      const { loadDataMap } = require('../../datamap/load') as typeof import('../../datamap/load');
      const { buildInventory, inventoryCsv } =
        require('../../rights/inventory') as typeof import('../../rights/inventory');
      // The data map alone is read: a file given needs no initialised state directory.
      const dataMap =
        opts.datamap !== undefined
          ? loadDataMap(localPaths(opts).dataMapPath as string)
          : context.dataMap(opts);
      const text =
        opts.format === 'csv'
          ? inventoryCsv(buildInventory(dataMap))
          : // The console's template renders the document: loaded only for this format.
            (await import('../../console/views')).renderInventoryDocument(dataMap, new Date());
      if (opts.out === undefined) {
        context.io.out(text.trimEnd());
        return;
      }
      await writeFileAtomic(opts.out, text);
      if (!opts.json)
        context.io.err(`Wrote the record of processing activities (${opts.format}) to ${opts.out}`);
    });
}
