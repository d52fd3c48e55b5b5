import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { elapsedMs, now } from '../support/measure';
import type { Goal, Row, ScenarioResult } from '../support/report';
import { temporaryStateDir } from '../support/world';
import type { BenchOptions, Scenario } from './types';

const ROOT = resolve(__dirname, '..', '..');
const LETHE = join(ROOT, 'bin', 'lethe.js');

/** The lethe command's build state: the compiled code runs only while it is of the current sources. */
const { distIsCurrent } = require(join(ROOT, 'bin', 'sources.js')) as {
  distIsCurrent(root: string): boolean;
};

interface Command {
  label: string;
  args: string[];
  /** Goal: at most this many times the bare runtime (`node -e 0`). */
  target?: number;
}

/** Wall time of one process, from spawn to exit, in ms; an unexpected exit code throws. */
function timeProcess(args: string[], expectedCodes: number[], cwd: string): number {
  const start = now();
  const result = spawnSync(process.execPath, args, { cwd, encoding: 'utf8' });
  const ms = elapsedMs(start);
  if (result.status === null || !expectedCodes.includes(result.status)) {
    throw new Error(
      `node ${args.join(' ')} exited ${result.status ?? result.signal}: ${result.stderr.slice(0, 500)}`,
    );
  }
  return ms;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

/**
 * `cli-startup`: how long the lethe command takes, as a person or a script runs it, in a new
 * process each time, against the bare runtime measured in the same run: each command alternates
 * with `node -e 0`, round after round, and is reported as the ratio of the two medians, so that
 * the machine's speed and load cancel out.
 */
async function run(options: BenchOptions): Promise<ScenarioResult> {
  const rounds = options.quick ? 3 : 9;
  if (!distIsCurrent(ROOT)) {
    options.progress('cli-startup: dist/ is not of the current sources: building it (npm run build)');
    const built = spawnSync(process.execPath, [join(ROOT, 'bin', 'build.js')], { stdio: 'inherit' });
    if (built.status !== 0) throw new Error('npm run build failed');
  }

  const stateDir = temporaryStateDir('cli-startup');
  // not the state directory itself: the demo deletes it and makes it afresh
  const cwd = dirname(stateDir);
  options.progress('cli-startup: the demo state (lethe demo --subjects 5)');
  const demo = spawnSync(
    process.execPath,
    [LETHE, 'demo', '--subjects', '5', '--json', '--state-dir', stateDir],
    {
      cwd,
      encoding: 'utf8',
    },
  );
  if (demo.status !== 0) throw new Error(`lethe demo failed: ${demo.stderr.slice(0, 500)}`);
  const requestId = (JSON.parse(demo.stdout) as { erasure: { requestId: string } }).erasure.requestId;

  const commands: Command[] = [
    { label: 'lethe --help', args: ['--help'], target: 3 },
    { label: 'lethe request --help', args: ['request', '--help'], target: 3 },
    { label: 'argument error: lethe request list --bogus', args: ['request', 'list', '--bogus'], target: 3 },
    { label: 'argument error: lethe request status (no id)', args: ['request', 'status'], target: 3 },
    {
      label: 'lethe request list (demo state)',
      args: ['request', 'list', '--state-dir', stateDir],
      target: 6,
    },
    {
      label: 'lethe request status ID (demo state)',
      args: ['request', 'status', requestId, '--state-dir', stateDir],
      target: 6,
    },
    { label: 'lethe hold list (demo state)', args: ['hold', 'list', '--state-dir', stateDir] },
    {
      label: 'lethe audit timeline ID (demo state)',
      args: ['audit', 'timeline', requestId, '--state-dir', stateDir],
    },
  ];

  const samples = new Map<string, { command: number[]; baseline: number[] }>(
    commands.map((command) => [command.label, { command: [], baseline: [] }]),
  );
  timeProcess(['-e', '0'], [0], cwd); // warm-up: file cache
  for (const command of commands) timeProcess([LETHE, ...command.args], [0, 2], cwd);
  for (let round = 1; round <= rounds; round += 1) {
    options.progress(`cli-startup: round ${round} of ${rounds}`);
    for (const command of commands) {
      const sample = samples.get(command.label)!;
      sample.baseline.push(timeProcess(['-e', '0'], [0], cwd));
      sample.command.push(timeProcess([LETHE, ...command.args], [0, 2], cwd));
    }
  }

  const rows: Row[] = commands.map((command) => {
    const sample = samples.get(command.label)!;
    const ms = median(sample.command);
    const baseline = median(sample.baseline);
    return {
      command: command.label,
      ms: Math.round(ms),
      baseline: Math.round(baseline),
      ratio: Math.round((ms / baseline) * 10) / 10,
      target: command.target === undefined ? null : `≤ ${command.target}×`,
    };
  });
  const goals: Goal[] = [3, 6].map((target) => {
    const held = rows.filter((row) => row.target === `≤ ${target}×`);
    return {
      goal: `${held.map((row) => row.command).join(', ')}: each ≤ ${target}× node -e 0`,
      met: held.every((row) => (row.ratio as number) <= target),
      measured: held.map((row) => `${row.ratio}×`).join(', '),
    };
  });
  return {
    scenario: 'cli-startup',
    params: { rounds, compiled: true },
    tables: [
      {
        title: `The lethe command's wall time, median of ${rounds} runs, each run alternating with node -e 0`,
        columns: {
          command: 'Command',
          ms: 'Median ms',
          baseline: 'node -e 0 ms',
          ratio: '× node -e 0',
          target: 'Target',
        },
        rows,
        notes: [
          'Whole process: spawn to exit of `node bin/lethe.js ...` (the compiled build in dist/), from a new process each time',
          'The demo state: `lethe demo --subjects 5`, two requests and their audit events',
        ],
      },
    ],
    data: { samples: Object.fromEntries(samples) },
    goals,
  };
}

export const cliStartupScenario: Scenario = {
  name: 'cli-startup',
  summary: "each CLI command's wall time as a ratio to node -e 0 measured in the same run",
  run,
};
