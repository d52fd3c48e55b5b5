import type { Command } from 'commander';
import type { CheckReport, SourceReport } from '../../check';
import type { LetheDeps } from '../../deps';
import { EXIT, UsageError } from '../errors';
import { table } from '../format';
import { quoted, wholeNumber } from '../input';
import { type CommandContext, type CommonOptions, common } from './shared';

type CheckOptions = CommonOptions & { store?: string; segments?: string };

/** Where locate looks for a source's values, in words (names from the data map, never a value). */
function describeSource(source: SourceReport): string {
  switch (source.use) {
    case 'table':
      return `table key ${source.attribute}`;
    case 'index':
      return `index ${source.index ?? '?'} key ${source.attribute}`;
    case 'prefix':
      return `key prefix ${source.attribute}`;
    case 'jsonLines':
      return `JSON field ${source.attribute}${source.keyPrefix ? ` under ${source.keyPrefix}` : ''}`;
    case 'parquet':
      return `Parquet column ${source.attribute}${source.keyPrefix ? ` under ${source.keyPrefix}` : ''}`;
    case 'link':
      return `attribute ${source.attribute}`;
  }
}

const HEADERS = [
  'store',
  'finds or links by',
  'where',
  'records',
  'values',
  'missing',
  'not normalising',
  'not normalised',
  'only as given',
  'locate misses',
];

/** The check report for people: one row per store and value source, then what it means. */
export function describeCheck(report: CheckReport): string {
  const rows = report.stores.flatMap((store) =>
    store.sources.map((source) => [
      store.storeId,
      `${source.role} ${source.identity}`,
      describeSource(source),
      source.records,
      source.values,
      source.missing,
      source.notNormalising,
      source.notNormalised,
      source.onlyAsGiven,
      // Links are never missed: a dash, aligned with the numbers above and below it.
      source.wouldMiss ?? '-'.padStart('locate misses'.length),
    ]),
  );
  const records = report.stores.reduce((sum, store) => sum + store.records, 0);
  const lines = [
    `Checked ${report.stores.length} store(s), ${records} record(s); read only, no value printed.`,
    table(HEADERS, rows),
  ];
  for (const store of report.stores) {
    if (store.malformedLines > 0) {
      lines.push(
        `${store.storeId}: ${store.malformedLines} line(s) are not JSON objects; no rule can match them.`,
      );
    }
    if (store.unreadableObjects > 0) {
      lines.push(
        `${store.storeId}: ${store.unreadableObjects} object(s) are compressed; locate cannot read their lines.`,
      );
    }
  }
  const missed = report.stores.flatMap((store) =>
    store.sources
      .filter((source) => (source.wouldMiss ?? 0) > 0)
      .map(
        (source) => `${store.storeId} by ${source.identity} (${describeSource(source)}): ${source.wouldMiss}`,
      ),
  );
  if (missed.length === 0) {
    lines.push('Every locate rule reaches every record it covers by the normalised value.');
  } else {
    lines.push(
      `Locate would miss ${report.wouldMiss} record(s) whose value is not in normalised form:`,
      ...missed.map((line) => `  ${line}`),
      'Keep a normalised copy of the attribute with its own index and locate by it: see "Values locate cannot reach" in docs/DATAMAP.md.',
    );
  }
  return lines.join('\n');
}

/** Keeps what a check found, per store (counts only), so every request says which stores it searched hold values it cannot reach. */
export async function keepFindings(
  deps: Pick<LetheDeps, 'doc' | 'resources' | 'now'>,
  report: CheckReport,
): Promise<void> {
  const checkedAt = deps.now().toISOString();
  const { recordStoreFindings } = require('../../rights/caveats') as typeof import('../../rights/caveats');
  await recordStoreFindings(
    deps,
    report.stores.map((store) => ({
      storeId: store.storeId,
      checkedAt,
      wouldMiss: store.wouldMiss,
      unreadable: store.malformedLines + store.unreadableObjects,
    })),
  );
}

/** The stores' clients: the deployed stack's on AWS; locally the environment alone (no workflow to synthesize). */
async function withStores<T>(
  context: CommandContext,
  opts: CheckOptions,
  work: (deps: Pick<LetheDeps, 'dataMap' | 'clients' | 'doc' | 'resources' | 'now'>) => Promise<T>,
): Promise<T> {
  if (opts.target === 'aws') return context.withBackend(opts, (opened) => work(opened.deps));
  return context.withEnvironment(opts, (env) => work(env.deps));
}

/** Adds `lethe check`: a read-only data-quality pass over the stores' locate and link values. */
export function addCheckCommand(program: Command, context: CommandContext): void {
  common(
    program
      .command('check')
      .description(
        'Count, per store and locate or link attribute, values that are missing, do not normalise or are not in normalised form, and what locate would miss. Reads the stores only (the counts are kept, so every request says which stores it searched hold values it cannot reach); prints no value. Exits 1 when locate would miss records.',
      )
      .option('--store <id>', 'only this store')
      .option('--segments <n>', 'parallel Scan segments per DynamoDB table', '1'),
    { target: true },
  )
    .addHelpText('after', '\nExamples:\n  lethe check\n  lethe check --store customers --json')
    .action(async (opts: CheckOptions) => {
      const segments = wholeNumber(opts.segments ?? '1');
      if (!Number.isInteger(segments) || segments < 1 || segments > 64) {
        throw new UsageError(
          `--segments must be a whole number from 1 to 64; got ${quoted(opts.segments ?? '')}`,
        );
      }
      const { checkStores } = require('../../check') as typeof import('../../check');
      const { getStore } = require('../../datamap/load') as typeof import('../../datamap/load');
      if (opts.store !== undefined) getStore(context.dataMap(opts), opts.store);
      const showProgress = !opts.json && context.io.progress !== undefined;
      const report = await withStores(context, opts, async (deps) => {
        const checked = await checkStores(deps, {
          segments,
          ...(opts.store !== undefined ? { storeIds: [opts.store] } : {}),
          ...(showProgress
            ? {
                onProgress: (progress) =>
                  context.io.progress?.(
                    `${progress.storeId}: ${progress.records} record(s) read${progress.done ? ' — done' : ''}`,
                    progress.done,
                  ),
              }
            : {}),
        });
        await keepFindings(deps, checked);
        return checked;
      });
      context.print(opts, report, () => describeCheck(report));
      // Not a failure of lethe: the stores hold records a request would silently miss.
      if (!report.clean) context.exitCode = EXIT.requestFailed;
    });
}
