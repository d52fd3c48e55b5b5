import { existsSync } from 'node:fs';
import { type Command, Option } from 'commander';
import { UsageError } from '../errors';
import { quoted, wholeNumber } from '../input';
import { type CommandContext, localPaths } from './shared';

interface DiscoverOptions {
  target: 'local' | 'aws';
  dir?: string;
  stateDir?: string;
  tables?: string;
  buckets?: string;
  sample: string;
  out?: string;
  force?: boolean;
  json?: boolean;
  debug?: boolean;
}

const MAX_SAMPLE = 10_000;

function checkedOptions(opts: DiscoverOptions): { sample: number } {
  const sample = wholeNumber(opts.sample);
  if (!Number.isInteger(sample) || sample < 1 || sample > MAX_SAMPLE) {
    throw new UsageError(
      `--sample must be a whole number from 1 to ${MAX_SAMPLE}; got ${quoted(opts.sample)}`,
    );
  }
  for (const [flag, value] of [
    ['--dir', opts.dir],
    ['--out', opts.out],
    ['--tables', opts.tables],
    ['--buckets', opts.buckets],
    ['--state-dir', opts.stateDir],
  ] as const) {
    if (value !== undefined && value.trim() === '')
      throw new UsageError(`${flag} is empty; give a value, or leave the option out`);
  }
  if (opts.target === 'aws' && opts.dir !== undefined) {
    throw new UsageError(
      '--dir reads an export folder locally; leave out --target aws, or --dir to read the AWS account',
    );
  }
  if (opts.out !== undefined && existsSync(opts.out) && !opts.force) {
    throw new UsageError(
      `${quoted(opts.out)} exists; pass --force to replace it, or name another file with --out`,
    );
  }
  return { sample };
}

/**
 * Adds `lethe discover`: drafts a data map from a sample of the stores themselves (an AWS
 * account, the local runtime's stores, or an export folder), with a report of what it saw.
 */
export function addDiscoverCommand(program: Command, context: CommandContext): void {
  program
    .command('discover')
    .description(
      'Draft a data map from the stores themselves: reads a sample of every table and bucket, classifies what the fields hold, and proposes identity types, locate rules, links and categories, every human decision marked TODO. No value read is printed or written.',
    )
    .addOption(
      new Option(
        '--target <target>',
        'where the stores are: local (a folder with --dir, or the local runtime) or aws',
      )
        .choices(['local', 'aws'])
        .default('local'),
    )
    .option('--dir <dir>', 'an export folder: DIR/dynamodb/<table>.jsonl and DIR/s3/<bucket>/…')
    .option('--state-dir <dir>', 'without --dir: the local state directory whose stores are read', '.lethe')
    .option('--tables <pattern>', 'only tables whose names match (glob: *, ?; several separated by commas)')
    .option('--buckets <pattern>', 'only buckets whose names match (glob: *, ?; several separated by commas)')
    .option('--sample <n>', 'items read per table and objects read per bucket', '100')
    .option('--out <file>', 'write the draft here (default: print it, and the report on stderr)')
    .option('--force', 'replace the --out file if it exists')
    .option('--json', 'print one JSON object (the report, and the draft unless --out)')
    .option('--debug', 'print stack traces of errors')
    .addHelpText(
      'after',
      "\nExamples:\n  lethe discover --dir ./export --out draft.yaml\n  lethe discover --target aws --tables 'shop-*' --buckets 'shop-*' --out draft.yaml",
    )
    .action(async (opts: DiscoverOptions) => {
      const { sample } = checkedOptions(opts);
      // Loaded when the command runs: the SDK clients and the classifiers are not needed for --help.
      const discovery = await import('../../discovery');
      const options = {
        sample,
        ...(opts.tables !== undefined ? { tables: opts.tables } : {}),
        ...(opts.buckets !== undefined ? { buckets: opts.buckets } : {}),
      };
      let result: Awaited<ReturnType<typeof discovery.discover>>;
      if (opts.dir !== undefined) {
        result = await discovery.discover(discovery.folderSource(opts.dir, options), sample);
      } else if (opts.target === 'aws') {
        const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
        const { S3Client } = await import('@aws-sdk/client-s3');
        const clients = {
          dynamodb: context.awsClients?.dynamodb ?? new DynamoDBClient({}),
          s3: context.awsClients?.s3 ?? new S3Client({}),
        };
        result = await discovery.discover(
          discovery.storeSource(clients, options, 'the DynamoDB tables and S3 buckets of the AWS account'),
          sample,
        );
      } else {
        const { LOCAL_RESOURCES } = await import('../../local/environment');
        const { stateDir } = localPaths(opts);
        // Every table and bucket lethe keeps for itself, whatever it adds later: not company data.
        const own = Object.values(LOCAL_RESOURCES).filter((name): name is string => typeof name === 'string');
        result = await context.withEnvironment(stateDir !== undefined ? { stateDir } : {}, (env) =>
          discovery.discover(
            discovery.storeSource(
              env.clients,
              {
                ...options,
                skipTables: own,
                skipBuckets: own,
              },
              `the local stores of ${env.stateDir}`,
            ),
            sample,
          ),
        );
      }
      if (opts.out !== undefined) {
        const { writeFileAtomic } = await import('../../local/atomic-file');
        await writeFileAtomic(opts.out, result.draft);
      }
      const todos = (result.draft.match(/TODO/g) ?? []).length;
      if (opts.json) {
        context.io.out(
          JSON.stringify(
            {
              ...(opts.out !== undefined ? { out: opts.out } : { draft: result.draft }),
              todos,
              identityTypes: result.discovery.identityTypes.map((type) => type.name),
              stores: result.discovery.report,
            },
            null,
            2,
          ),
        );
        return;
      }
      const report = discovery.reportText(result.discovery);
      const next = `Answer the ${todos} TODOs in the draft, then: lethe init --datamap ${opts.out ?? 'FILE'}`;
      if (opts.out !== undefined) {
        context.io.out(`${report}\n\nDraft data map written to ${opts.out}. ${next}`);
      } else {
        context.io.out(result.draft.trimEnd());
        context.io.err(`${report}\n\n${next}`);
      }
    });
}
