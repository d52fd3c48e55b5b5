import type { Command } from 'commander';
import { UsageError } from '../errors';
import { type CommandContext, type CommonOptions, common } from './shared';

/** The port the console listens on unless told otherwise. */
export const DEFAULT_CONSOLE_PORT = 4180;

/** Resolves when the process is asked to stop (Ctrl-C, or a service manager's SIGTERM). */
function stopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(signal);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

/**
 * Adds `lethe console`: the web console for privacy staff and auditors, on 127.0.0.1 only. The
 * server and its templates are loaded when the command runs, never by the other commands.
 */
export function addConsoleCommand(program: Command, context: CommandContext): void {
  common(
    program
      .command('console')
      .description(
        'Serve the web console (requests, holds, sweeps, audit, data inventory) on 127.0.0.1, with a one-time sign-in address.',
      )
      .option('--port <port>', 'the port to listen on (0: any free port)', String(DEFAULT_CONSOLE_PORT)),
    { target: true },
  )
    .addHelpText('after', '\nExamples:\n  lethe console\n  lethe console --port 8080 --state-dir .lethe')
    .action(async (opts: CommonOptions & { port: string }) => {
      if (!/^\d{1,5}$/.test(opts.port) || Number(opts.port) > 65_535)
        throw new UsageError(
          `--port must be a port number from 0 to 65535, e.g. --port 4180; got "${opts.port.slice(0, 20)}"`,
        );
      // Refused before anything starts: the data map the backend would open.
      context.dataMap(opts);
      await context.withBackend(opts, async (backend) => {
        const { startConsole } = await import('../../console/server');
        const stopped = stopSignal();
        const running = await startConsole({
          backend,
          target: opts.target ?? 'local',
          port: Number(opts.port),
        });
        context.io.out(`lethe console listens on ${running.url} (this machine only).`);
        context.io.out(`Sign in, once, at: ${running.loginUrl}`);
        context.io.out('Press Ctrl-C to stop.');
        await stopped;
        await running.close();
        context.io.out('lethe console stopped.');
      });
    });
}
