/**
 * lethe benchmarks: `npm run bench [-- --scenario NAME --subjects N --records N --quick --keep --json FILE]`.
 * See bench/README.md for what each scenario measures; committed results are in docs/BENCHMARKS.md.
 *
 * Tables (Markdown) go to stdout, progress to stderr, and every run is appended to
 * bench/results/latest.json; `--json FILE` also writes the run alone (every figure) to FILE. Run with NODE_OPTIONS=--expose-gc for GC-settled memory baselines.
 */
import '../lib/local/polyfills';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { bundlesScenario } from './scenarios/bundles';
import { cliStartupScenario } from './scenarios/cli-startup';
import { exportMemoryScenario } from './scenarios/export-memory';
import { importScenario } from './scenarios/import';
import { jsonlRewriteScenario } from './scenarios/jsonl-rewrite';
import { lakeLocateScenario } from './scenarios/lake-locate';
import { latencyScenario } from './scenarios/latency';
import { parquetLakeScenario } from './scenarios/parquet-lake';
import { requestsScenario } from './scenarios/requests';
import { sweepScenario } from './scenarios/sweep';
import type { BenchOptions, Scenario } from './scenarios/types';
import { elapsedMs, gcExposed, now } from './support/measure';
import {
  appendResults,
  type BenchRun,
  machineDescription,
  renderGoals,
  renderTable,
  type ScenarioResult,
} from './support/report';
import { keepTemporaryState, removeTemporaryState } from './support/world';

// Known and documented: the SDK warns on Node 20 that future versions need Node 22.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const SCENARIOS: Scenario[] = [
  importScenario,
  requestsScenario,
  exportMemoryScenario,
  jsonlRewriteScenario,
  cliStartupScenario,
  lakeLocateScenario,
  parquetLakeScenario,
  latencyScenario,
  sweepScenario,
  bundlesScenario,
];
const RESULTS_FILE = resolve(__dirname, 'results', 'latest.json');

const USAGE = `Usage: npm run bench -- [options]

Options:
  --scenario NAME   run one scenario (repeatable); default: all
                    ${SCENARIOS.map((scenario) => `${scenario.name}: ${scenario.summary}`).join('\n                    ')}
  --subjects N      the scenario's main subject count (import: seed subjects; requests: the large
                    table's background subjects, the small one gets N/10)
  --records N       records per subject (import, requests); export-memory: the subject's
                    call recordings of 1 MiB in the largest case; jsonl-rewrite: lines per file
  --quick           small sizes, a smoke run in under 30 s
  --keep            keep the temporary state directories (their paths are printed)
  --no-save         do not append the results to bench/results/latest.json
  --json FILE       also write this run (machine, options, every figure of every scenario) to FILE
  --help            this text

For memory baselines after a full GC: NODE_OPTIONS=--expose-gc npm run bench`;

function positiveInteger(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed) || parsed <= 0) {
    throw new Error(`--${name} must be a positive integer (got "${value}")`);
  }
  return parsed;
}

function parse(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      scenario: { type: 'string', multiple: true },
      subjects: { type: 'string' },
      records: { type: 'string' },
      quick: { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      'no-save': { type: 'boolean', default: false },
      json: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  const names = values.scenario ?? SCENARIOS.map((scenario) => scenario.name);
  const scenarios = names.map((name) => {
    const scenario = SCENARIOS.find((candidate) => candidate.name === name);
    if (!scenario) {
      throw new Error(
        `unknown scenario "${name}": choose from ${SCENARIOS.map((candidate) => candidate.name).join(', ')}`,
      );
    }
    return scenario;
  });
  return {
    help: values.help,
    scenarios,
    keep: values.keep,
    save: !values['no-save'],
    json: values.json,
    options: {
      quick: values.quick,
      subjects: positiveInteger('subjects', values.subjects),
      records: positiveInteger('records', values.records),
    },
  };
}

async function main(argv: string[]): Promise<number> {
  let args: ReturnType<typeof parse>;
  try {
    args = parse(argv);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  keepTemporaryState(args.keep);
  const interrupted = () => {
    removeTemporaryState();
    process.exit(130);
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);

  const started = now();
  const startedAt = new Date().toISOString();
  const progress = (message: string) =>
    process.stderr.write(`[${(elapsedMs(started) / 1000).toFixed(1).padStart(6)} s] ${message}\n`);
  const options: BenchOptions = {
    quick: args.options.quick,
    ...(args.options.subjects === undefined ? {} : { subjects: args.options.subjects }),
    ...(args.options.records === undefined ? {} : { records: args.options.records }),
    progress,
  };
  const machine = machineDescription();
  process.stdout.write(
    `# lethe benchmarks${options.quick ? ' (--quick)' : ''}\n\n${machine.cpus} x ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node ${machine.node}, ${machine.platform}; --expose-gc: ${gcExposed ? 'yes' : 'no (memory baselines include garbage)'}\n\n`,
  );

  const results: ScenarioResult[] = [];
  let failed = false;
  try {
    for (const scenario of args.scenarios) {
      progress(`scenario ${scenario.name}: ${scenario.summary}`);
      const scenarioStart = now();
      try {
        const result = await scenario.run(options);
        result.durationMs = Math.round(elapsedMs(scenarioStart));
        results.push(result);
        process.stdout.write(`## ${scenario.name} (${(result.durationMs / 1000).toFixed(1)} s)\n\n`);
        for (const table of result.tables) process.stdout.write(`${renderTable(table)}\n`);
        process.stdout.write(renderGoals(result.goals));
        process.stdout.write('\n');
      } catch (error) {
        failed = true;
        progress(`scenario ${scenario.name} failed: ${(error as Error).stack ?? String(error)}`);
      }
    }
  } finally {
    const kept = removeTemporaryState();
    for (const dir of kept) progress(`kept state directory ${dir}`);
  }

  const run: BenchRun = {
    startedAt,
    finishedAt: new Date().toISOString(),
    argv,
    machine,
    results,
  };
  if (args.save && results.length > 0) {
    appendResults(RESULTS_FILE, run);
    progress(`results appended to ${RESULTS_FILE}`);
  }
  if (args.json) {
    const file = resolve(args.json);
    writeFileSync(file, `${JSON.stringify(run, null, 2)}\n`);
    progress(`results written to ${file}`);
  }
  const unmet = results.flatMap((result) => result.goals.filter((goal) => !goal.met));
  progress(
    `done in ${(elapsedMs(started) / 1000).toFixed(1)} s: ${results.length} scenario(s), ${unmet.length} goal(s) not met${failed ? ', some scenarios FAILED' : ''}`,
  );
  return failed ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    removeTemporaryState();
    process.exitCode = 1;
  },
);
