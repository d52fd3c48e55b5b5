import { type Command, Option } from 'commander';
import type { DataMap } from '../../datamap/schema';
import type { LocalEnvironment } from '../../local/environment';
import type { FaultInjector } from '../../local/execution';
import type { AwsBackendClients } from '../backends/aws';
import type { LetheBackend } from '../backends/backend';
import type { LocalBackend } from '../backends/local';
import { EXIT, UsageError } from '../errors';
import type { CliIo } from '../io';

/*
 * Loading is lazy here, and must stay so: `lethe --help`, an argument error, and every command
 * before it needs them, go without the data map's parser (zod, yaml), the SDK clients, the local
 * servers and aws-cdk-lib, which take most of a second to load. Modules that bring them are
 * required where they are first used (`require` for a synchronous use, `await import` otherwise),
 * never at the top of a command module; test/e2e/cli-startup.test.ts checks it.
 */

/** The data map of a state directory, read without opening it (brings the data map's parser). */
function localDataMap(options: { stateDir?: string; dataMapPath?: string }) {
  return (require('../../local/state-dir') as typeof import('../../local/state-dir')).localDataMap(options);
}

/** How the CLI is run: where it writes, and test-only hooks into local runs. */
export interface CliOptions {
  io?: CliIo;
  /** Tests only: inject failures into Task states of local runs. */
  faults?: FaultInjector;
  now?: () => Date;
  /** Tests only: the clients `--target aws` uses (default: the ambient AWS credentials and region). */
  awsClients?: AwsBackendClients;
  /**
   * Tests only: an open local backend that local commands on its state directory run on, and
   * leave open. Opening one starts servers and takes most of a second; a test that runs a
   * thousand commands against one state directory opens it once.
   */
  localBackend?: LocalBackend;
}

/** The options every command takes; `target` and `stack` where a command also runs on AWS. */
export interface CommonOptions {
  stateDir?: string;
  datamap?: string;
  json?: boolean;
  debug?: boolean;
  target?: 'local' | 'aws';
  stack?: string;
}

/** Adds the common options to a command, and `--target`/`--stack` where it can run on AWS. */
export function common(command: Command, options: { target?: boolean } = {}): Command {
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

/** How a command uses what it opens. */
export interface BackendAccess {
  /**
   * The command only reads (lists, statuses, audit reads): locally nothing is created or
   * synthesized, and the S3 server starts only if the command reads from S3.
   */
  readOnly?: boolean;
}

/** What a command needs from the run it belongs to. */
export interface CommandContext {
  readonly io: CliIo;
  /** Tests only: the clients `--target aws` uses (CliOptions.awsClients). */
  readonly awsClients?: AwsBackendClients;
  /** The exit code of the run; commands set it when the request or sweep they ran failed. */
  exitCode: number;
  /** Prints `value` as JSON with --json, otherwise the text. */
  print(opts: CommonOptions, value: unknown, text: () => string): void;
  /**
   * The data map the command will run with, read without opening anything (no server starts,
   * nothing is written): commands check their input against it first, so that input that cannot
   * be right is refused before anything is opened.
   */
  dataMap(opts: CommonOptions): DataMap;
  /** Opens the backend the options name (local by default), runs `work` on it and closes it. */
  withBackend<T>(
    opts: CommonOptions,
    work: (backend: LetheBackend) => Promise<T>,
    access?: BackendAccess,
  ): Promise<T>;
  /** Opens the local environment alone (no workflow), runs `work` on it and closes it. */
  withEnvironment<T>(
    opts: CommonOptions,
    work: (env: LocalEnvironment) => Promise<T>,
    access?: BackendAccess,
  ): Promise<T>;
}

/** The context of one CLI run, writing to `io`. */
export function createCommandContext(io: CliIo, options: CliOptions): CommandContext {
  /** The test hook's backend, when the command runs on its state directory. */
  const shared = (opts: CommonOptions): LocalBackend | undefined => {
    const backend = options.localBackend;
    if (!backend || opts.target === 'aws') return undefined;
    // What opening checks before it starts anything, so that the hook refuses what opening refuses.
    const { stateDir, dataMapPath } = localDataMap(localPaths(opts));
    if (stateDir !== backend.env.stateDir || dataMapPath !== backend.env.dataMapPath) {
      throw new Error(
        `the shared test backend runs ${backend.env.stateDir} with ${backend.env.dataMapPath}, not ${stateDir} with ${dataMapPath}`,
      );
    }
    return backend;
  };
  const open = async (opts: CommonOptions, access: BackendAccess): Promise<LetheBackend> => {
    if (opts.target === 'aws') {
      const { AwsBackend } = require('../backends/aws') as typeof import('../backends/aws');
      return AwsBackend.open({
        stackPrefix: opts.stack ?? 'Lethe',
        dataMap: awsDataMap(opts),
        ...(options.awsClients ? { clients: options.awsClients } : {}),
      });
    }
    const { LocalBackend } = require('../backends/local') as typeof import('../backends/local');
    return LocalBackend.open({
      ...localPaths(opts),
      ...(access.readOnly ? { readOnly: true } : {}),
      ...(options.faults ? { faults: options.faults } : {}),
      ...(options.now ? { now: options.now } : {}),
    });
  };
  return {
    io,
    ...(options.awsClients ? { awsClients: options.awsClients } : {}),
    exitCode: EXIT.ok,
    print: (opts, value, text) => io.out(opts.json ? JSON.stringify(value, null, 2) : text()),
    dataMap: (opts) => (opts.target === 'aws' ? awsDataMap(opts) : localDataMap(localPaths(opts)).dataMap),
    withBackend: async (opts, work, access = {}) => {
      const reused = shared(opts);
      if (reused) return work(reused);
      const opened = await open(opts, access);
      try {
        return await work(opened);
      } finally {
        await opened.dispose();
      }
    },
    withEnvironment: async (opts, work, access = {}) => {
      const reused = shared(opts);
      if (reused) return work(reused.env);
      const { openLocalEnvironment } =
        require('../../local/environment') as typeof import('../../local/environment');
      const env = await openLocalEnvironment({
        ...localPaths(opts),
        ...(access.readOnly ? { readOnly: true } : {}),
      });
      try {
        return await work(env);
      } finally {
        await env.close();
      }
    },
  };
}

/**
 * --state-dir and --datamap as given. An empty one is refused: it would name the working
 * directory, or be taken for no option at all and quietly use another data map.
 */
export function localPaths(opts: CommonOptions): { stateDir?: string; dataMapPath?: string } {
  for (const [flag, value] of [
    ['--state-dir', opts.stateDir],
    ['--datamap', opts.datamap],
  ] as const) {
    if (value !== undefined && value.trim() === '') {
      throw new UsageError(`${flag} is empty; give a path, or leave the option out for the default`);
    }
  }
  return {
    ...(opts.stateDir !== undefined ? { stateDir: opts.stateDir } : {}),
    ...(opts.datamap !== undefined ? { dataMapPath: opts.datamap } : {}),
  };
}

/** The data map of a deployed stack: given with --datamap, as the stack does not hold it. */
function awsDataMap(opts: CommonOptions): DataMap {
  localPaths(opts);
  if (opts.datamap === undefined)
    throw new UsageError('--target aws needs --datamap FILE (the data map the stack was deployed with)');
  return (require('../../datamap/load') as typeof import('../../datamap/load')).loadDataMap(opts.datamap);
}
