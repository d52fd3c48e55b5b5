import type { Command } from 'commander';
import type { LetheDeps } from '../../deps';
import type { IndexBuildResult, IndexStatus } from '../../lake';
import type { IndexBuildOutcome } from '../backends/aws-index-build';
import { EXIT, UsageError } from '../errors';
import { table } from '../format';
import { quoted, wholeNumber } from '../input';
import { type CommandContext, type CommonOptions, common } from './shared';

/** The identity index's code, loaded when an index command runs (it loads the SDK and the data map's parser). */
function lake(): typeof import('../../lake') {
  return require('../../lake') as typeof import('../../lake');
}

/** Objects per batch unless told otherwise (the indexer's default, kept here so --help loads no SDK). */
const DEFAULT_BATCH_SIZE = 100;

type IndexOptions = CommonOptions & { store?: string; batchSize?: string };

/** The indexed stores a command acts on: all of them, or the one named (which must be indexed). */
function storesOf(context: CommandContext, opts: IndexOptions) {
  const dataMap = context.dataMap(opts);
  const indexed = lake().indexedStores(dataMap);
  if (opts.store === undefined) return indexed;
  (require('../../datamap/load') as typeof import('../../datamap/load')).getStore(dataMap, opts.store);
  const store = indexed.find((candidate) => candidate.id === opts.store);
  if (!store) {
    throw new UsageError(
      `store ${quoted(opts.store)} keeps no identity index; indexed stores: ${indexed.map((s) => s.id).join(', ') || 'none (set identityIndex: true on a jsonLines or parquet store)'}`,
    );
  }
  return [store];
}

/** The deps the index commands need: the deployed stack's on AWS, locally the environment's. */
async function withIndexDeps<T>(
  context: CommandContext,
  opts: IndexOptions,
  work: (deps: LetheDeps) => Promise<T>,
): Promise<T> {
  if (opts.target === 'aws') return context.withBackend(opts, (opened) => work(opened.deps));
  return context.withEnvironment(opts, (env) => work(env.deps));
}

function describeBuild(results: IndexBuildResult[]): string {
  if (results.length === 0)
    return 'No store keeps an identity index (set identityIndex: true on a jsonLines or parquet store).';
  return [
    table(
      ['store', 'objects', 'indexed', 'unchanged', 'gone', 'watermark'],
      results.map((result) => [
        result.storeId,
        result.objects,
        result.indexed,
        result.unchanged,
        result.gone,
        result.watermark,
      ]),
    ),
    'Objects modified after the watermark are checked one by one on every request until the next build.',
  ].join('\n');
}

function describeAwsBuild(outcomes: IndexBuildOutcome[]): string {
  if (outcomes.length === 0)
    return 'No store keeps an identity index (set identityIndex: true on a jsonLines or parquet store).';
  const lines = [
    table(
      ['store', 'status', 'objects listed', 'objects done', 'watermark'],
      outcomes.map((outcome) => [
        outcome.storeId,
        outcome.status,
        outcome.objectsListed,
        outcome.objectsDone,
        outcome.watermark ?? '-',
      ]),
    ),
  ];
  for (const outcome of outcomes) {
    if (outcome.error) lines.push(`${outcome.storeId}: ${outcome.error.code}: ${outcome.error.message}`);
    if (outcome.status === 'RUNNING')
      lines.push(`${outcome.storeId}: still running in Step Functions: ${outcome.executionArn}`);
  }
  return lines.join('\n');
}

/**
 * `--target aws`: each store's build runs in the deployed IndexBuild state machine (a Distributed
 * Map over its bucket's listing), one execution per store, waited for with its map runs' counts
 * as progress.
 */
async function buildOnAws(
  context: CommandContext,
  opts: IndexOptions,
  storeIds: string[],
): Promise<IndexBuildOutcome[]> {
  const showProgress = !opts.json && context.io.progress !== undefined;
  return context.withBackend(opts, async (opened) => {
    const { AwsBackend } = require('../backends/aws') as typeof import('../backends/aws');
    if (!(opened instanceof AwsBackend)) throw new Error('--target aws opened no deployed stack');
    const outcomes: IndexBuildOutcome[] = [];
    for (const storeId of storeIds) {
      outcomes.push(
        await opened.buildIndex(
          storeId,
          showProgress
            ? (progress) =>
                context.io.progress?.(
                  `${progress.storeId}: ${progress.objectsDone} of ${progress.objectsListed} listed object(s) done${progress.done ? ' — done' : ''}`,
                  progress.done,
                )
            : undefined,
        ),
      );
    }
    return outcomes;
  });
}

function describeStatus(statuses: IndexStatus[]): string {
  if (statuses.length === 0)
    return 'No store keeps an identity index (set identityIndex: true on a jsonLines or parquet store).';
  return table(
    ['store', 'objects indexed', 'objects at build', 'watermark', 'lag'],
    statuses.map((status) => [
      status.storeId,
      status.objectsIndexed,
      status.objectsAtBuild ?? '-',
      status.watermark ?? 'never built: read in full',
      status.lagSeconds === null ? '-' : `${status.lagSeconds} s`,
    ]),
  );
}

/** Adds `lethe index` (build or bring up to date) and `lethe index status`. */
export function addIndexCommands(program: Command, context: CommandContext): void {
  const index = program
    .command('index')
    .description(
      'The identity index of the shared-object stores the data map indexes (identityIndex: true): keyed hashes of the identities each object holds, so a request reads only the objects holding its subject.',
    );
  common(
    index
      .command('build', { isDefault: true })
      .description(
        'Build the index, or bring it up to date (the default: "lethe index"). Objects already indexed at their current version are not read again.',
      )
      .option('--store <id>', 'only this store')
      .option(
        '--batch-size <n>',
        'objects per batch (a local build; on AWS each child batch of the Distributed Map is 100 objects)',
        String(DEFAULT_BATCH_SIZE),
      ),
    { target: true },
  )
    .addHelpText(
      'after',
      '\nExamples:\n  lethe index\n  lethe index --store clickstream\n  lethe index build --target aws --store clickstream\n  lethe index status',
    )
    .action(async (opts: IndexOptions) => {
      const batchSize = wholeNumber(opts.batchSize ?? String(DEFAULT_BATCH_SIZE));
      if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 1000) {
        throw new UsageError(
          `--batch-size must be a whole number from 1 to 1000; got ${quoted(opts.batchSize ?? '')}`,
        );
      }
      const stores = storesOf(context, opts);
      if (opts.target === 'aws') {
        const outcomes = await buildOnAws(
          context,
          opts,
          stores.map((store) => store.id),
        );
        context.print(opts, outcomes, () => describeAwsBuild(outcomes));
        if (outcomes.some((outcome) => outcome.status === 'FAILED')) context.exitCode = EXIT.requestFailed;
        return;
      }
      const showProgress = !opts.json && context.io.progress !== undefined;
      const results = await withIndexDeps(context, opts, async (deps) => {
        const built: IndexBuildResult[] = [];
        for (const store of stores) {
          built.push(
            await lake().buildIndex(deps, store, {
              batchSize,
              ...(showProgress
                ? {
                    onProgress: (progress) =>
                      context.io.progress?.(
                        `${progress.storeId}: ${progress.objects} object(s) listed, ${progress.indexed} indexed, ${progress.unchanged} unchanged${progress.done ? ' — done' : ''}`,
                        progress.done,
                      ),
                  }
                : {}),
            }),
          );
        }
        return built;
      });
      context.print(opts, results, () => describeBuild(results));
    });

  common(
    index
      .command('status')
      .description(
        'Per indexed store: objects indexed, the watermark of the last build and how far behind it is.',
      )
      .option('--store <id>', 'only this store'),
    { target: true },
  ).action(async (opts: IndexOptions) => {
    const stores = storesOf(context, opts);
    const statuses = await withIndexDeps(context, opts, (deps) =>
      lake().indexStatus(deps, { storeIds: stores.map((store) => store.id) }),
    );
    context.print(opts, statuses, () => describeStatus(statuses));
  });
}
