import { Command, CommanderError } from 'commander';
import { addAuditCommands } from './commands/audit';
import { addCheckCommand } from './commands/check';
import { addDemoCommand } from './commands/demo';
import { addHoldCommands } from './commands/hold';
import { addImportCommand } from './commands/import';
import { addInitCommand } from './commands/init';
import { addRequestCommands } from './commands/request';
import { type CliOptions, createCommandContext } from './commands/shared';
import { addSuppressionCommands } from './commands/suppression';
import { addSweepCommand } from './commands/sweep';
import { EXIT, errorLines, exitCodeFor } from './errors';
import { printable } from './format';
import { processIo } from './io';

export type { CliOptions } from './commands/shared';
export type { CliIo } from './io';

/** `lethe request submit`: the words that call a command, for "see … --help". */
function commandPath(command: Command): string {
  const names: string[] = [];
  for (let current: Command | null = command; current; current = current.parent)
    names.unshift(current.name());
  return names.join(' ');
}

/**
 * Commander's error as one line: its message ("error: …", sometimes with a "(Did you mean …?)"
 * line) without the prefix, on one line, and where to read how the command is called.
 */
function usageLine(error: CommanderError, command: Command): string {
  const path = commandPath(command);
  if (error.code === 'commander.help') {
    // A command that only groups others, called without one (`lethe`, `lethe request`).
    const names = command.commands.map((sub) => sub.name()).filter((name) => name !== 'help');
    return `name a command after "${path}", one of ${names.join(', ')}; see "${path} --help"`;
  }
  const message = error.message
    .replace(/^error: /, '')
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .join(' ')
    .replace(/\.$/, '');
  return `${message}; see "${path} --help"`;
}

/**
 * Runs the lethe CLI with `argv` (without node and script) and returns the exit code:
 * 0 success, 1 the request failed, 2 bad input. Errors are one line naming the problem
 * and the fix (a data map with several problems lists them on the lines after); stack
 * traces only with --debug. Everything printed about an error goes through `printable`:
 * it quotes what was typed, which must not reach the terminal as escape sequences.
 */
export async function runCli(argv: string[], options: CliOptions = {}): Promise<number> {
  // The SDK warns on Node 20 that future versions need Node 22: true, and said in the README, not on every run.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const io = options.io ?? processIo();
  const context = createCommandContext(io, options);

  const program = new Command('lethe')
    .description('Data-subject rights requests and retention across DynamoDB and S3, locally or on AWS.')
    .configureOutput({
      writeOut: (text) => io.out(text.trimEnd()),
      // Commander's own error output (its message, or the help of a command called without a
      // subcommand) is replaced by the one line printed below.
      writeErr: () => undefined,
      outputError: () => undefined,
    });
  // in this order in --help
  addInitCommand(program, context);
  addImportCommand(program, context);
  addCheckCommand(program, context);
  addRequestCommands(program, context);
  addSweepCommand(program, context);
  addHoldCommands(program, context);
  addSuppressionCommands(program, context);
  addAuditCommands(program, context);
  addDemoCommand(program, context);

  // Which command failed to parse, so the message can say whose --help to read.
  let failing: Command = program;
  const watch = (command: Command): void => {
    command.exitOverride((error) => {
      failing = command;
      throw error;
    });
    for (const sub of command.commands) watch(sub);
  };
  watch(program);

  try {
    await program.parseAsync(argv, { from: 'user' });
    return context.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // help and version exit through here with code 0; everything else is a usage error
      if (error.exitCode === 0) return EXIT.ok;
      io.err(`lethe: ${printable(usageLine(error, failing))}`);
      return EXIT.badInput;
    }
    const failure = error instanceof Error ? error : new Error(String(error));
    const [first = '', ...details] = errorLines(failure);
    io.err(`lethe: ${printable(first)}`);
    for (const line of details) io.err(printable(line));
    if (argv.includes('--debug') && failure.stack)
      io.err(failure.stack.split('\n').map(printable).join('\n'));
    return exitCodeFor(failure);
  }
}
