import { Command, CommanderError } from 'commander';
import { type CliOptions, type CommandContext, createCommandContext } from './commands/shared';
import { EXIT, errorLines, exitCodeFor } from './errors';
import { printable } from './format';
import { processIo } from './io';

export type { CliOptions } from './commands/shared';
export type { CliIo } from './io';

/** Adds a top-level command (with its subcommands) to the program. */
type AddCommands = (program: Command, context: CommandContext) => void;

/**
 * Every top-level command, in the order `lethe --help` lists them, with the module that defines
 * it. A run loads only the module of the command it names (all of them for `lethe --help`, or
 * when it names none): a person waits for every module loaded. A command module defines its
 * options at load and must stay light: what its actions need (the data map's parser, SDK
 * clients, local servers, aws-cdk-lib) is loaded inside them (see commands/shared.ts).
 */
const COMMANDS: Record<string, () => AddCommands> = {
  discover: () => (require('./commands/discover') as typeof import('./commands/discover')).addDiscoverCommand,
  init: () => (require('./commands/init') as typeof import('./commands/init')).addInitCommand,
  import: () => (require('./commands/import') as typeof import('./commands/import')).addImportCommand,
  check: () => (require('./commands/check') as typeof import('./commands/check')).addCheckCommand,
  index: () =>
    (require('./commands/index-build') as typeof import('./commands/index-build')).addIndexCommands,
  request: () => (require('./commands/request') as typeof import('./commands/request')).addRequestCommands,
  sweep: () => (require('./commands/sweep') as typeof import('./commands/sweep')).addSweepCommand,
  hold: () => (require('./commands/hold') as typeof import('./commands/hold')).addHoldCommands,
  suppression: () =>
    (require('./commands/suppression') as typeof import('./commands/suppression')).addSuppressionCommands,
  audit: () => (require('./commands/audit') as typeof import('./commands/audit')).addAuditCommands,
  datamap: () => (require('./commands/datamap') as typeof import('./commands/datamap')).addDatamapCommands,
  console: () => (require('./commands/console') as typeof import('./commands/console')).addConsoleCommand,
  demo: () => (require('./commands/demo') as typeof import('./commands/demo')).addDemoCommand,
};

/** The commands a run needs: the one its first word names, or all (help, a typo, nothing named). */
function commandsFor(argv: readonly string[]): (() => AddCommands)[] {
  const named = argv[0] !== undefined && Object.hasOwn(COMMANDS, argv[0]) ? COMMANDS[argv[0]] : undefined;
  return named ? [named] : Object.values(COMMANDS);
}

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
  for (const load of commandsFor(argv)) load()(program, context);

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
