import type { AuditEvent } from './log';

/**
 * A request's timeline: the states its executions went through merged with its audit events, in
 * time order, so an auditor sees in one list what ran, who acted, with which counts and outcome,
 * and how long each state took. Built from what both sources already hold: counts, names and
 * keyed hashes, never a raw identifier.
 */

/** An execution history event as the backends read it (local runtime or Step Functions). */
export interface ExecutionEventInput {
  at: string;
  type: string;
  state?: string;
  index?: number;
  output?: unknown;
  error?: string;
  requestAttempt?: number;
}

export interface TimelineEntry {
  at: string;
  source: 'execution' | 'audit';
  /** The audit event type, or the execution event type and state (`StateExited Confirm`). */
  what: string;
  actor: string | null;
  attempt: number | null;
  /** For a state's exit: how long it ran since it was entered. */
  durationMs: number | null;
  /** Numbers the event carries (located, erased, bytes…), per store where it names one. */
  counts: Record<string, number>;
  storeId: string | null;
  /** An outcome: a final status, an error code, a verdict. */
  outcome: string | null;
  /** The audit event's place in the chain. */
  seq: number | null;
}

function numbersOf(value: unknown): Record<string, number> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return {};
  return Object.fromEntries(
    Object.entries(value).filter((entry): entry is [string, number] => typeof entry[1] === 'number'),
  );
}

function auditEntry(event: AuditEvent): TimelineEntry {
  const details = event.details ?? {};
  const text = (key: string) => (typeof details[key] === 'string' ? (details[key] as string) : null);
  const { attempt, ...counts } = numbersOf(details);
  return {
    at: event.at,
    source: 'audit',
    what: event.type,
    actor: event.actor,
    attempt: attempt ?? null,
    durationMs: null,
    counts,
    storeId: text('storeId'),
    outcome: text('status') ?? text('error') ?? text('reason'),
    seq: event.seq,
  };
}

/**
 * Merges a request's execution history (every attempt) with its audit events, oldest first; an
 * audit event and an execution event at the same moment keep the execution's first.
 */
export function buildTimeline(
  history: readonly ExecutionEventInput[],
  events: readonly AuditEvent[],
): TimelineEntry[] {
  const entered = new Map<string, number>();
  const execution = history.map((event): TimelineEntry => {
    const key = `${event.requestAttempt ?? 1}|${event.state ?? ''}|${event.index ?? ''}`;
    let durationMs: number | null = null;
    if (event.type.endsWith('StateEntered')) entered.set(key, Date.parse(event.at));
    if (event.type.endsWith('StateExited')) {
      const start = entered.get(key);
      if (start !== undefined) durationMs = Math.max(0, Date.parse(event.at) - start);
    }
    const output = event.type.endsWith('StateExited') ? numbersOf(event.output) : {};
    const storeId =
      event.output && typeof event.output === 'object' && 'storeId' in event.output
        ? String((event.output as { storeId: unknown }).storeId)
        : null;
    return {
      at: event.at,
      source: 'execution',
      what: event.state ? `${event.type} ${event.state}` : event.type,
      actor: null,
      attempt: event.requestAttempt ?? null,
      durationMs,
      counts: output,
      storeId,
      outcome: event.error ?? null,
      seq: null,
    };
  });
  const merged = [...execution, ...events.map(auditEntry)];
  // A stable sort: each source keeps its own order among equal times.
  return merged.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
}
