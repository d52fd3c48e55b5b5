import type { Command } from 'commander';
import type { FolderImport, ItemsFileImport, LocateKeyPolicy } from '../../local/import';
import { UsageError } from '../errors';
import { type CommandContext, type CommonOptions, common } from './shared';

interface ImportOptions extends CommonOptions {
  store: string;
  file?: string;
  dir?: string;
  normaliseKeys?: boolean;
  keepKeySpellings?: boolean;
}

const count = (n: number, one: string, many: string) =>
  `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;

function locateKeyPolicy(opts: ImportOptions): LocateKeyPolicy {
  if (opts.normaliseKeys && opts.keepKeySpellings) {
    throw new UsageError(
      'import takes --normalise-keys or --keep-key-spellings, not both: choose whether locate keys are stored normalised or as they are',
    );
  }
  if (opts.dir !== undefined && (opts.normaliseKeys || opts.keepKeySpellings)) {
    throw new UsageError(
      `${opts.normaliseKeys ? '--normalise-keys' : '--keep-key-spellings'} applies to --file imports into DynamoDB stores only; remove it when importing a folder with --dir`,
    );
  }
  return opts.normaliseKeys ? 'normalise' : opts.keepKeySpellings ? 'keep' : 'refuse';
}

function itemsText(result: ItemsFileImport): string {
  const lines = [`Imported ${count(result.written, 'item', 'items')} into ${result.store}.`];
  if (result.normalisedKeys > 0) {
    lines.push(
      `${count(result.normalisedKeys, 'locate key value was', 'locate key values were')} stored normalised, so locate (and the table or index the data map names) finds them by the normalised value.`,
    );
  }
  if (result.keptKeys > 0) {
    lines.push(
      `${count(result.keptKeys, 'locate key value is', 'locate key values are')} not in normalised form and stored as given: locate finds those items only by that exact spelling (lethe check counts them).`,
    );
  }
  return lines.join('\n');
}

/**
 * The warnings of a folder import, one line each: files no request will find (imported all the
 * same), files found only by the exact spelling of their folder, entries that are not files.
 */
function folderWarnings(result: FolderImport): string[] {
  const warnings: string[] = [];
  const { files, places } = result.unreachable;
  if (files > 0) {
    const where = places
      .slice(0, 5)
      .map((place) => `${place.files} ${place.place}`)
      .join(', ');
    const more = places.length > 5 ? ', …' : '';
    const sweep =
      result.unswept === 0
        ? 'a retention sweep still reaches them'
        : result.unswept === files
          ? 'nor will a retention sweep'
          : `nor will a retention sweep, for ${result.unswept} of them`;
    warnings.push(
      `${count(files, 'file is', 'files are')} where no request of store ${result.store} will find ${files === 1 ? 'it' : 'them'} (${where}${more}); ${files === 1 ? 'it was' : 'they were'} imported, but ${sweep}: move ${files === 1 ? 'it' : 'them'} under a prefix the data map locates by, or leave ${files === 1 ? 'it' : 'them'} out of the folder.`,
    );
  }
  if (result.spelled > 0) {
    warnings.push(
      `${count(result.spelled, 'file is', 'files are')} in subject folders whose names are not in normalised form, so a request finds them only by that exact spelling (lethe check counts them): rename the folders to the normalised value.`,
    );
  }
  if (result.skipped > 0) {
    warnings.push(
      `${count(result.skipped, 'entry', 'entries')} of the folder ${result.skipped === 1 ? 'is' : 'are'} neither a file nor a folder (a symbolic link, say) and ${result.skipped === 1 ? 'was' : 'were'} not imported.`,
    );
  }
  return warnings;
}

/** Adds `lethe import`: loads JSON lines into a DynamoDB store or a folder into an S3 store. */
export function addImportCommand(program: Command, context: CommandContext): void {
  common(
    program
      .command('import')
      .description(
        'Load data into a store: JSON lines into a DynamoDB store, or a folder of files into an S3 store. Every line or file is checked first; nothing is written unless all pass.',
      )
      .requiredOption('--store <id>', 'store id from the data map')
      .option('--file <file.jsonl>', 'DynamoDB items, one JSON object a line')
      .option('--dir <dir>', 'files for an S3 store; keys are the paths relative to the folder')
      .option(
        '--normalise-keys',
        'store locate keys (the attributes locate rules query) in normalised form instead of refusing lines that hold them otherwise',
      )
      .option(
        '--keep-key-spellings',
        'store locate keys as the file spells them, normalised or not (a copy of a table with legacy values; locate finds those only by their exact spelling)',
      )
      .addHelpText(
        'after',
        '\nExamples:\n  lethe import --store inquiries --file inquiries.jsonl\n  lethe import --store inquiries --file legacy.jsonl --normalise-keys\n  lethe import --store recruitment --dir ./applications-export',
      ),
  ).action(async (opts: ImportOptions) => {
    if ((opts.file === undefined) === (opts.dir === undefined)) {
      throw new UsageError(
        'import needs exactly one of --file FILE.jsonl (DynamoDB store) or --dir DIR (S3 store)',
      );
    }
    const locateKeys = locateKeyPolicy(opts);
    const { getStore } = require('../../datamap/load') as typeof import('../../datamap/load');
    const { importDirectory, importItemsFile } =
      require('../../local/import') as typeof import('../../local/import');
    getStore(context.dataMap(opts), opts.store); // an unknown store is refused before anything opens
    await context.withEnvironment(opts, async (env) => {
      if (opts.file !== undefined) {
        const result = await importItemsFile(env.dataMap, opts.store, opts.file, env.clients, { locateKeys });
        context.print(
          opts,
          {
            store: result.store,
            imported: result.written,
            normalisedKeys: result.normalisedKeys,
            keptKeys: result.keptKeys,
          },
          () => itemsText(result),
        );
        return;
      }
      const result = await importDirectory(env.dataMap, opts.store, opts.dir as string, env.clients);
      for (const warning of folderWarnings(result)) context.io.err(`lethe: warning: ${warning}`);
      context.print(
        opts,
        {
          store: result.store,
          imported: result.written,
          unreachable: result.unreachable.files,
          unswept: result.unswept,
          spelled: result.spelled,
          skipped: result.skipped,
        },
        () => `Imported ${count(result.written, 'object', 'objects')} into ${result.store}.`,
      );
    });
  });
}
