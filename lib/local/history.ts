import { appendFileSync, closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { LocalEnvironment } from './environment';

/*
 * The persisted history of a local execution, one JSON event per line in the state directory's
 * executions folder: written as a run goes (./execution) and read by `request history`, `audit
 * timeline` and the console without loading the workflow engine.
 */

/** One entry of an execution's history, the same shape locally and from GetExecutionHistory. */
export interface HistoryEvent {
  at: string;
  type: string;
  state?: string;
  /** Map iteration index, for states inside a Map. */
  index?: number;
  input?: unknown;
  output?: unknown;
  error?: string;
  cause?: string;
  attempt?: number;
  /** The request's attempt the event belongs to, when a request ran more than once. */
  requestAttempt?: number;
}

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED';

/** The file an execution's history is appended to, one JSON event per line. */
export function historyFile(env: Pick<LocalEnvironment, 'executionsDir'>, executionId: string): string {
  return join(env.executionsDir, `${executionId}.jsonl`);
}

/**
 * Appends one event to a history file, on a line of its own even when the previous writer was
 * killed half way through a line.
 */
export function appendHistoryEvent(file: string, event: HistoryEvent): void {
  let separator = '';
  if (existsSync(file) && statSync(file).size > 0) {
    const last = Buffer.alloc(1);
    const fd = openSync(file, 'r');
    try {
      readSync(fd, last, 0, 1, statSync(file).size - 1);
    } finally {
      closeSync(fd);
    }
    if (last[0] !== 0x0a) separator = '\n';
  }
  appendFileSync(file, `${separator}${JSON.stringify(event)}\n`);
}

/** Reads a persisted execution history; an empty list when the execution never started. */
export function readHistory(
  env: Pick<LocalEnvironment, 'executionsDir'>,
  executionId: string,
): HistoryEvent[] {
  const file = historyFile(env, executionId);
  if (!existsSync(file)) return [];
  const lines = readFileSync(file, 'utf8').split('\n');
  const events: HistoryEvent[] = [];
  for (const line of lines) {
    if (line.trim() === '') continue;
    try {
      events.push(JSON.parse(line) as HistoryEvent);
    } catch {
      // A process killed while appending leaves a torn line: that event was never complete.
    }
  }
  return events;
}

/** RUNNING until the history ends with ExecutionSucceeded or ExecutionFailed. */
export function executionStatus(events: HistoryEvent[]): ExecutionStatus | undefined {
  if (events.length === 0) return undefined;
  const last = events[events.length - 1]!;
  if (last.type === 'ExecutionSucceeded') return 'SUCCEEDED';
  if (last.type === 'ExecutionFailed' || last.type === 'ExecutionTerminated') return 'FAILED';
  return 'RUNNING';
}
