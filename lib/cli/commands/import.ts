import type { Command } from 'commander';
import { getStore } from '../../datamap/load';
import { importDirectory, importItemsFile } from '../../local/import';
import { UsageError } from '../errors';
import { type CommandContext, type CommonOptions, common } from './shared';

/** Adds `lethe import`: loads JSON lines into a DynamoDB store or a folder into an S3 store. */
export function addImportCommand(program: Command, context: CommandContext): void {
  common(
    program
      .command('import')
      .description(
        'Load data into a store: JSON lines into a DynamoDB store, or a folder of files into an S3 store.',
      )
      .requiredOption('--store <id>', 'store id from the data map')
      .option('--file <file.jsonl>', 'DynamoDB items, one JSON object a line')
      .option('--dir <dir>', 'files for an S3 store; keys are the paths relative to the folder')
      .addHelpText(
        'after',
        '\nExamples:\n  lethe import --store inquiries --file inquiries.jsonl\n  lethe import --store recruitment --dir ./applications-export',
      ),
  ).action(async (opts: CommonOptions & { store: string; file?: string; dir?: string }) => {
    if ((opts.file === undefined) === (opts.dir === undefined)) {
      throw new UsageError(
        'import needs exactly one of --file FILE.jsonl (DynamoDB store) or --dir DIR (S3 store)',
      );
    }
    getStore(context.dataMap(opts), opts.store); // an unknown store is refused before anything opens
    await context.withEnvironment(opts, async (env) => {
      const count =
        opts.file !== undefined
          ? await importItemsFile(env.dataMap, opts.store, opts.file, env.clients)
          : await importDirectory(env.dataMap, opts.store, opts.dir!, env.clients);
      context.print(
        opts,
        { store: opts.store, imported: count },
        () => `Imported ${count} ${opts.file !== undefined ? 'items' : 'objects'} into ${opts.store}`,
      );
    });
  });
}
