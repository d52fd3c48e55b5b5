import { spawn } from 'node:child_process';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { transformSync } from 'esbuild';

/**
 * The real lethe command (bin/lethe.js) in a child process with the kill switch preloaded (see
 * kill-switch.ts): what a person runs, killed with SIGKILL where a kill trial says. bin/lethe.js
 * runs the compiled build when it is of the current sources, and the sources through tsx when
 * they were edited since: a trial never runs stale code.
 */

const ROOT = join(__dirname, '../../..');

let killSwitchFile: string | undefined;

/**
 * The kill switch as JavaScript, compiled once per test process and preloaded with --require:
 * the child then needs no TypeScript loader of its own, and starts as the installed command does.
 */
function killSwitch(): string {
  if (killSwitchFile === undefined) {
    const { code } = transformSync(readFileSync(join(__dirname, 'kill-switch.ts'), 'utf8'), {
      loader: 'ts',
      format: 'cjs',
      platform: 'node',
      target: 'node20',
    });
    const file = join(tmpdir(), `lethe-kill-switch-${process.pid}.js`);
    writeFileSync(`${file}.tmp`, code);
    renameSync(`${file}.tmp`, file);
    process.once('exit', () => rmSync(file, { force: true }));
    killSwitchFile = file;
  }
  return killSwitchFile;
}
/** A child that has not ended by then is hung, not slow: it is killed and the trial fails. */
const HANG_MS = 180_000;

/** Where to kill the child: see kill-switch.ts for what each setting means. */
export interface KillPoint {
  /** Count operations from the execution entering this state; from the start of the process when absent. */
  from?: string;
  /** Count only operations whose label starts with this. */
  on?: string;
  at?: number;
  when?: 'before' | 'during' | 'after';
  delayMs?: number;
  /** Kill this long after the execution's last history event instead. */
  tailMs?: number;
}

export interface ChildRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** What the kill switch said it killed at (`12 during dynamodb PutItem lethe-requests`, `tail`), if it did. */
  killedAt?: string;
}

function killEnvironment(kill: KillPoint | undefined, trace: boolean): Record<string, string> {
  const env: Record<string, string> = {};
  if (trace) env.LETHE_KILL_TRACE = '1';
  if (!kill) return env;
  if (kill.from !== undefined) env.LETHE_KILL_FROM = kill.from;
  if (kill.on !== undefined) env.LETHE_KILL_ON = kill.on;
  if (kill.at !== undefined) env.LETHE_KILL_AT = String(kill.at);
  if (kill.when !== undefined) env.LETHE_KILL_WHEN = kill.when;
  if (kill.delayMs !== undefined) env.LETHE_KILL_DELAY_MS = String(kill.delayMs);
  if (kill.tailMs !== undefined) env.LETHE_KILL_TAIL_MS = String(kill.tailMs);
  return env;
}

/** Runs `lethe <args>` in a child process, killed as `kill` says (never, when absent). */
export function runCliChild(
  args: string[],
  kill?: KillPoint,
  options: { trace?: boolean } = {},
): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--require', killSwitch(), join(ROOT, 'bin/lethe.js'), ...args], {
      cwd: ROOT,
      env: { ...process.env, ...killEnvironment(kill, options.trace ?? false) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const hang = setTimeout(() => child.kill('SIGKILL'), HANG_MS);
    child.on('error', (error) => {
      clearTimeout(hang);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(hang);
      const killedAt = /^killed (.+)$/m.exec(stderr)?.[1];
      resolve({ code, signal, stdout, stderr, ...(killedAt ? { killedAt } : {}) });
    });
  });
}

/** One operation of a traced run: its number, when (ms since the process started) and what. */
export interface TracedOperation {
  number: number;
  ms: number;
  label: string;
}

/** The operations and the exit time a traced child (LETHE_KILL_TRACE) printed to stderr. */
export function parseTrace(stderr: string): { operations: TracedOperation[]; exitMs: number } {
  const operations = [...stderr.matchAll(/^op (\d+) (\d+) (.+)$/gm)].map((match) => ({
    number: Number(match[1]),
    ms: Number(match[2]),
    label: match[3]!,
  }));
  const exit = /^exit (\d+)/m.exec(stderr);
  if (!exit || operations.length === 0) throw new Error(`not a traced run:\n${stderr.slice(0, 2000)}`);
  return { operations, exitMs: Number(exit[1]) };
}
