import { Command, CommanderError } from 'commander';
import { addAuditCommands } from './commands/audit';
import { addCheckCommand } from './commands/check';
import { addDemoCommand } from './commands/demo';
import { addHoldCommands } from './commands/hold';
import { addImportCommand } from './commands/import';
import { addInitCommand } from './commands/init';
import { addRequestCommands } from './commands/request';
import { type CliOptions, createCommandContext } from './commands/shared';
import { addSweepCommand } from './commands/sweep';
import { EXIT, exitCodeFor } from './errors';
import { processIo } from './io';

export type { CliOptions } from './commands/shared';
export type { CliIo } from './io';

/**
 * Runs the lethe CLI with `argv` (without node and script) and returns the exit code:
 * 0 success, 1 the request failed, 2 bad input. Errors are one line naming the problem
 * and the fix; stack traces only with --debug.
 */
export async function runCli(argv: string[], options: CliOptions = {}): Promise<number> {
  // The SDK warns on Node 20 that future versions need Node 22: true, and said in the README, not on every run.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const io = options.io ?? processIo();
  const context = createCommandContext(io, options);

  const program = new Command('lethe')
    .description('Data-subject rights requests and retention across DynamoDB and S3, locally or on AWS.')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.out(text.trimEnd()),
      writeErr: (text) => io.err(text.trimEnd()),
    })
    .showHelpAfterError('(run with --help for usage)');
  // in this order in --help
  addInitCommand(program, context);
  addImportCommand(program, context);
  addCheckCommand(program, context);
  addRequestCommands(program, context);
  addSweepCommand(program, context);
  addHoldCommands(program, context);
  addAuditCommands(program, context);
  addDemoCommand(program, context);

  try {
    await program.parseAsync(argv, { from: 'user' });
    return context.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // help and version exit through here with code 0; everything else is a usage error
      return error.exitCode === 0 ? EXIT.ok : EXIT.badInput;
    }
    const failure = error instanceof Error ? error : new Error(String(error));
    io.err(`lethe: ${failure.message}`);
    if (argv.includes('--debug') && failure.stack) io.err(failure.stack);
    return exitCodeFor(failure);
  }
}
