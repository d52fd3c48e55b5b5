import type { Command } from 'commander';
import { UsageError } from '../errors';
import { table } from '../format';
import { type CommandContext, type CommonOptions, common, localPaths } from './shared';

/** Adds `lethe init`: creates the local environment for a data map. */
export function addInitCommand(program: Command, context: CommandContext): void {
  common(
    program
      .command('init')
      .description(
        'Create the local environment for a data map: servers, lethe tables and buckets, and the stores.',
      )
      .option(
        '--force',
        'switch a state directory initialised for another data map to this one (its stores and requests stay)',
      )
      .addHelpText('after', '\nExample:\n  lethe init --datamap examples/adtech/datamap.yaml'),
  ).action(async (opts: CommonOptions & { force?: boolean }) => {
    const { stateDir, dataMapPath } = localPaths(opts);
    if (dataMapPath === undefined)
      throw new UsageError(
        'init needs --datamap FILE, e.g. lethe init --datamap examples/adtech/datamap.yaml',
      );
    const { openLocalEnvironment } =
      require('../../local/environment') as typeof import('../../local/environment');
    const env = await openLocalEnvironment({
      ...(stateDir !== undefined ? { stateDir } : {}),
      dataMapPath,
      init: true,
      force: opts.force ?? false,
    });
    await env.close();
    const stores = env.dataMap.stores.map((store) => ({
      id: store.id,
      kind: store.kind,
      name: store.kind === 'dynamodb' ? store.table : store.bucket,
    }));
    context.print(opts, { stateDir: env.stateDir, dataMap: env.dataMapPath, stores }, () =>
      [
        `Initialised ${env.stateDir} for ${env.dataMapPath}`,
        table(
          ['store', 'kind', 'table/bucket'],
          stores.map((s) => [s.id, s.kind, s.name]),
        ),
      ].join('\n'),
    );
  });
}
