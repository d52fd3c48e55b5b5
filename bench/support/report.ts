import { type ExecFileSyncOptionsWithStringEncoding, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { cpus, platform, release, totalmem } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { gcExposed } from './measure';

const REPO_ROOT = resolve(__dirname, '..', '..');

export type Cell = string | number | boolean | null;
export type Row = Record<string, Cell>;

/** One printed table: its columns are the keys of `columns`, in order, headed by the values. */
export interface Table {
  title: string;
  columns: Record<string, string>;
  rows: Row[];
  notes?: string[];
}

export interface ScenarioResult {
  scenario: string;
  /** The knobs the scenario ran with. */
  params: Record<string, unknown>;
  tables: Table[];
  /** Everything measured, for the JSON results (tables show a selection). */
  data: unknown;
  /** Goals checked by the scenario: met or not, with the measured value. */
  goals: Goal[];
  durationMs?: number;
}

export interface Goal {
  goal: string;
  met: boolean;
  measured: string;
}

function formatCell(value: Cell): string {
  if (value === null) return '–';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return String(value);
    if (Number.isInteger(value)) return value.toLocaleString('en-US');
    return value.toLocaleString('en-US', { maximumFractionDigits: Math.abs(value) < 10 ? 2 : 1 });
  }
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  return value;
}

/** A GitHub-flavoured Markdown table, so printed output can be pasted into docs/BENCHMARKS.md. */
export function renderTable(table: Table): string {
  const keys = Object.keys(table.columns);
  const header = keys.map((key) => table.columns[key] ?? key);
  const body = table.rows.map((row) => keys.map((key) => formatCell(row[key] ?? null)));
  const widths = header.map((title, index) =>
    Math.max(title.length, 3, ...body.map((cells) => (cells[index] ?? '').length)),
  );
  const numeric = keys.map((key) => table.rows.every((row) => typeof row[key] !== 'string'));
  const line = (cells: string[]) =>
    `| ${cells.map((cell, index) => (numeric[index] ? cell.padStart(widths[index]!) : cell.padEnd(widths[index]!))).join(' | ')} |`;
  const rule = `|${widths.map((width, index) => (numeric[index] ? `${'-'.repeat(width + 1)}:` : '-'.repeat(width + 2))).join('|')}|`;
  const lines = [`### ${table.title}`, '', line(header), rule, ...body.map(line)];
  if (table.notes && table.notes.length > 0) lines.push('', ...table.notes.map((note) => `- ${note}`));
  return `${lines.join('\n')}\n`;
}

export function renderGoals(goals: Goal[]): string {
  if (goals.length === 0) return '';
  return renderTable({
    title: 'Goals',
    columns: { goal: 'Goal', met: 'Met', measured: 'Measured' },
    rows: goals.map((goal) => ({ goal: goal.goal, met: goal.met, measured: goal.measured })),
  });
}

/** The commit measured, and whether the working tree had changes: results depend on both. */
function gitRevision(): { commit: string; dirty: boolean } | null {
  try {
    const options: ExecFileSyncOptionsWithStringEncoding = {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    };
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], options).trim();
    const status = execFileSync(
      'git',
      ['status', '--porcelain', '--', 'lib', 'examples', 'bin', 'lambdas'],
      options,
    );
    return { commit, dirty: status.trim() !== '' };
  } catch {
    return null;
  }
}

/** What the numbers were measured on. */
export function machineDescription() {
  const cores = cpus();
  return {
    cpus: cores.length,
    cpuModel: cores[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    platform: `${platform()} ${release()}`,
    gcExposed,
    git: gitRevision(),
  };
}

export interface BenchRun {
  startedAt: string;
  finishedAt: string;
  argv: string[];
  machine: ReturnType<typeof machineDescription>;
  results: ScenarioResult[];
}

/** Runs kept in the results file; older ones are dropped so it cannot grow without bound. */
const KEEP_RUNS = 10;

/**
 * The results file is JSON inside the repository, so `npm run lint` (Biome) checks it: it is
 * written the way Biome formats it, by Biome itself when installed (a dev dependency), else as
 * plain JSON.stringify output.
 */
function formatJson(file: string, text: string): string {
  const biome = join(REPO_ROOT, 'node_modules', '.bin', 'biome');
  if (!existsSync(biome)) return text;
  try {
    return execFileSync(biome, ['format', `--stdin-file-path=${relative(REPO_ROOT, file)}`], {
      cwd: REPO_ROOT,
      input: text,
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
      stdio: ['pipe', 'pipe', 'ignore'],
    });
  } catch {
    return text;
  }
}

/**
 * Appends a run to the results file (a JSON array of runs, newest last, the last 10 kept).
 * Written to a `.tmp` file first and renamed, so an interrupted run never leaves a truncated
 * file behind.
 */
export function appendResults(file: string, run: BenchRun): void {
  mkdirSync(dirname(file), { recursive: true });
  let runs: BenchRun[] = [];
  if (existsSync(file)) {
    try {
      const parsed = JSON.parse(readFileSync(file, 'utf8')) as unknown;
      if (Array.isArray(parsed)) runs = parsed as BenchRun[];
    } catch {
      // An unreadable results file is replaced rather than stopping a finished run from being saved.
    }
  }
  runs.push(run);
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, formatJson(file, `${JSON.stringify(runs.slice(-KEEP_RUNS), null, 2)}\n`));
  renameSync(temporary, file);
}
