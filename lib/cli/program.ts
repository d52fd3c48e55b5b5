import { Command, CommanderError, Option } from 'commander';
import { parseIdentityArgument } from '../datamap/identity';
import { getStore, loadDataMap } from '../datamap/load';
import { listHolds, placeHold, releaseHold } from '../holds';
import { openLocalEnvironment } from '../local/environment';
import type { FaultInjector } from '../local/execution';
import { importDirectory, importItemsFile } from '../local/import';
import { NoRetentionRuleError } from '../retention';
import { requestStatusSchema, type SubmitRequestInput, verificationSchema } from '../rights/request';
import { AwsBackend, type LetheBackend, LocalBackend } from './backends';
import { runDemo } from './demo';
import { EXIT, exitCodeFor, UsageError } from './errors';
import { describeHistory, describeHoldScope, describeRequest, describeSweep, table } from './format';
import { type CliIo, processIo } from './io';

export type { CliIo } from './io';

export interface CliOptions {
  io?: CliIo;
  /** Tests only: inject failures into Task states of local runs. */
  faults?: FaultInjector;
  now?: () => Date;
}

interface CommonOptions {
  stateDir?: string;
  datamap?: string;
  json?: boolean;
  debug?: boolean;
  target?: 'local' | 'aws';
  stack?: string;
}

function common(command: Command, options: { target?: boolean } = {}): Command {
  command
    .option('--state-dir <dir>', 'local state directory', '.lethe')
    .option('--datamap <file>', 'data map YAML (default: the one given to lethe init)')
    .option('--json', 'print one JSON object instead of text')
    .option('--debug', 'print stack traces of errors');
  if (options.target) {
    command
      .addOption(new Option('--target <target>', 'where to run').choices(['local', 'aws']).default('local'))
      .option('--stack <prefix>', 'with --target aws: the stack name prefix used at deploy', 'Lethe');
  }
  return command;
}

/**
 * Runs the lethe CLI with `argv` (without node and script) and returns the exit code:
 * 0 success, 1 the request failed, 2 bad input. Errors are one line naming the problem
 * and the fix; stack traces only with --debug.
 */
export async function runCli(argv: string[], options: CliOptions = {}): Promise<number> {
  // The SDK warns on Node 20 that future versions need Node 22: true, and said in the README, not on every run.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const io = options.io ?? processIo();
  let exitCode: number = EXIT.ok;
  const print = (opts: CommonOptions, value: unknown, text: () => string) =>
    io.out(opts.json ? JSON.stringify(value, null, 2) : text());

  const backend = async (opts: CommonOptions): Promise<LetheBackend> => {
    if (opts.target === 'aws') {
      if (!opts.datamap)
        throw new UsageError('--target aws needs --datamap FILE (the data map the stack was deployed with)');
      return AwsBackend.open({ stackPrefix: opts.stack ?? 'Lethe', dataMap: loadDataMap(opts.datamap) });
    }
    return LocalBackend.open({
      ...(opts.stateDir ? { stateDir: opts.stateDir } : {}),
      ...(opts.datamap ? { dataMapPath: opts.datamap } : {}),
      ...(options.faults ? { faults: options.faults } : {}),
      ...(options.now ? { now: options.now } : {}),
    });
  };
  const withBackend = async <T>(
    opts: CommonOptions,
    work: (backend: LetheBackend) => Promise<T>,
  ): Promise<T> => {
    const opened = await backend(opts);
    try {
      return await work(opened);
    } finally {
      await opened.close();
    }
  };

  const program = new Command('lethe')
    .description('Data-subject rights requests and retention across DynamoDB and S3, locally or on AWS.')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.out(text.trimEnd()),
      writeErr: (text) => io.err(text.trimEnd()),
    })
    .showHelpAfterError('(run with --help for usage)');

  common(
    program
      .command('init')
      .description(
        'Create the local environment for a data map: servers, lethe tables and buckets, and the stores.',
      )
      .addHelpText('after', '\nExample:\n  lethe init --datamap examples/adtech/datamap.yaml'),
  ).action(async (opts: CommonOptions) => {
    if (!opts.datamap)
      throw new UsageError(
        'init needs --datamap FILE, e.g. lethe init --datamap examples/adtech/datamap.yaml',
      );
    const env = await openLocalEnvironment({
      stateDir: opts.stateDir,
      dataMapPath: opts.datamap,
      init: true,
    });
    await env.close();
    const stores = env.dataMap.stores.map((store) => ({
      id: store.id,
      kind: store.kind,
      name: store.kind === 'dynamodb' ? store.table : store.bucket,
    }));
    print(opts, { stateDir: env.stateDir, dataMap: env.dataMapPath, stores }, () =>
      [
        `Initialised ${env.stateDir} for ${env.dataMapPath}`,
        table(
          ['store', 'kind', 'table/bucket'],
          stores.map((s) => [s.id, s.kind, s.name]),
        ),
      ].join('\n'),
    );
  });

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
    const env = await openLocalEnvironment({
      stateDir: opts.stateDir,
      ...(opts.datamap ? { dataMapPath: opts.datamap } : {}),
    });
    try {
      const count = opts.file
        ? await importItemsFile(env.dataMap, opts.store, opts.file, env.clients)
        : await importDirectory(env.dataMap, opts.store, opts.dir!, env.clients);
      print(
        opts,
        { store: opts.store, imported: count },
        () => `Imported ${count} ${opts.file ? 'items' : 'objects'} into ${opts.store}`,
      );
    } finally {
      await env.close();
    }
  });

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
        await withBackend(opts, async (opened) => {
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
          print(
            opts,
            summary,
            () =>
              `${created ? '' : 'Already submitted; nothing was run again.\n'}${describeRequest(summary)}`,
          );
          if (summary.status === 'failed' || summary.status === 'rejected') exitCode = EXIT.requestFailed;
        });
      },
    );

  common(
    request.command('status').description("Show a request's status and outcome.").argument('<requestId>'),
    { target: true },
  )
    .addHelpText('after', '\nExample:\n  lethe request status 3f1c0e6e-…')
    .action(async (requestId: string, opts: CommonOptions) => {
      await withBackend(opts, async (opened) => {
        const summary = await opened.status(requestId);
        print(opts, summary, () => describeRequest(summary));
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
      await withBackend(opts, async (opened) => {
        const summaries = await opened.list(opts.status);
        print(opts, summaries, () =>
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
      await withBackend(opts, async (opened) => {
        const events = await opened.history(requestId);
        print(opts, events, () => `History of ${requestId}\n${describeHistory(events)}`);
      });
    });

  common(
    program
      .command('sweep')
      .description('Purge (or anonymise) records past their retention period, honouring legal holds.')
      .option('--store <id>', 'only this store (it must have a retention rule)')
      .option('--dry-run', 'count what would go, change nothing')
      .option(
        '--now <iso-8601>',
        'the moment retention is measured from (default: now), e.g. 2026-11-01T03:00:00Z',
      ),
    { target: true },
  )
    .addHelpText(
      'after',
      '\nExamples:\n  lethe sweep --dry-run\n  lethe sweep --store ad-events --now 2026-11-01T03:00:00Z --json',
    )
    .action(async (opts: CommonOptions & { store?: string; dryRun?: boolean; now?: string }) => {
      if (
        opts.now !== undefined &&
        (!/^\d{4}-\d{2}-\d{2}T/.test(opts.now) || Number.isNaN(Date.parse(opts.now)))
      ) {
        throw new UsageError(
          `--now must be an ISO-8601 date and time such as 2026-11-01T03:00:00Z; got "${opts.now}"`,
        );
      }
      await withBackend(opts, async (opened) => {
        const { dataMap } = opened.deps;
        if (opts.store) {
          getStore(dataMap, opts.store);
          const retained = dataMap.stores.filter((store) => store.retention).map((store) => store.id);
          if (!retained.includes(opts.store)) throw new NoRetentionRuleError(opts.store, retained);
        }
        const live = !opts.json && io.progress !== undefined;
        const outcome = await opened.sweep(
          {
            dryRun: opts.dryRun ?? false,
            ...(opts.now ? { now: opts.now } : {}),
            ...(opts.store ? { storeId: opts.store } : {}),
          },
          live
            ? (progress) =>
                io.progress?.(
                  `${progress.storeId} segment ${progress.segment + 1}/${progress.totalSegments}: ${progress.pages} page(s), ${progress.totals.examined} examined, ${progress.totals.purged + progress.totals.anonymised} ${opts.dryRun ? 'would go' : 'purged or anonymised'}${progress.done ? ' — done' : ''}`,
                  progress.done,
                )
            : undefined,
        );
        print(opts, outcome, () => describeSweep(outcome));
        if (outcome.status === 'FAILED') exitCode = EXIT.requestFailed;
      });
    });

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
        await withBackend(opts, async (opened) => {
          const placed = bySubject
            ? await placeHold(opened.deps, { subject: opts.subject!, reason: opts.reason, placedBy: opts.by })
            : await placeHold(opened.deps, {
                storeId: opts.store!,
                key: opts.key!,
                reason: opts.reason,
                placedBy: opts.by,
              });
          print(
            opts,
            placed,
            () => `Placed hold ${placed.holdId} (${describeHoldScope(placed)}): ${placed.reason}`,
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
      await withBackend(opts, async (opened) => {
        const holds = await listHolds(opened.deps, opts.status ? { status: opts.status } : {});
        print(opts, holds, () =>
          holds.length === 0
            ? 'No legal holds.'
            : table(
                ['hold', 'status', 'scope', 'placed', 'by', 'reason'],
                holds.map((entry) => [
                  entry.holdId,
                  entry.status,
                  describeHoldScope(entry),
                  entry.placedAt,
                  entry.placedBy,
                  entry.reason,
                ]),
              ),
        );
      });
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
      await withBackend(opts, async (opened) => {
        const released = await releaseHold(opened.deps, holdId, opts.by);
        print(
          opts,
          released,
          () => `Released hold ${released.holdId} (${describeHoldScope(released)}) by ${opts.by}`,
        );
      });
    });

  common(
    program
      .command('demo')
      .description(
        'Seed the ad-tech example into a fresh state directory and run an access and an erasure request.',
      )
      .option('--subjects <n>', 'subjects to seed', '60')
      .addHelpText('after', '\nExample:\n  lethe demo --state-dir .lethe/demo'),
  ).action(async (opts: CommonOptions & { subjects: string }) => {
    const subjects = Number.parseInt(opts.subjects, 10);
    if (!Number.isInteger(subjects) || subjects < 2 || subjects > 100_000) {
      throw new UsageError('--subjects must be a whole number from 2 to 100000');
    }
    const stateDir = opts.stateDir === '.lethe' ? '.lethe/demo' : (opts.stateDir ?? '.lethe/demo');
    const result = await runDemo({ stateDir, subjects, io, json: opts.json ?? false });
    if (result.failed) exitCode = EXIT.requestFailed;
  });

  let debug = argv.includes('--debug');
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // help and version exit through here with code 0; everything else is a usage error
      return error.exitCode === 0 ? EXIT.ok : EXIT.badInput;
    }
    debug ||= false;
    const failure = error instanceof Error ? error : new Error(String(error));
    io.err(`lethe: ${failure.message}`);
    if (debug && failure.stack) io.err(failure.stack);
    return exitCodeFor(failure);
  }
}
