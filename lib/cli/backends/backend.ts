import type { LetheDeps } from '../../deps';
import type { HistoryEvent } from '../../local/execution';
import type { SweepProgress } from '../../local/sweep-runner';
import { redactIdentifiers } from '../../log';
import type { SweepSummary } from '../../retention';
import type { ReviewInput } from '../../rights/lifecycle';
import type { DenyInput, ExtendInput } from '../../rights/manage';
import type { RequestListFilter } from '../../rights/overdue';
import { executionIdFor, type RequestRecord, type SubmitRequestInput } from '../../rights/request';
import type { SubmitOutcome } from '../../rights/submit';
import type { RequestSummary } from '../../rights/summary';

/**
 * Where the CLI's request commands run: the embedded local runtime or a deployed stack.
 * Both call the same domain functions (submitRequest, the requests table, summaries).
 */
export interface LetheBackend {
  readonly deps: LetheDeps;
  /**
   * Records a request and starts it: by default runs it to its end (or, on AWS, waits for its
   * execution); with `wait: false` returns once it is recorded and started, its summary as it is then.
   */
  submit(
    input: SubmitRequestInput,
    options?: SubmitOptions,
  ): Promise<{ summary: RequestSummary; outcome: SubmitOutcome }>;
  /** Runs a failed request again as its next attempt, to its end. */
  retry(requestId: string, by: string): Promise<RequestSummary>;
  /** Ends a failed request (or one waiting for review) without finishing it. */
  close(requestId: string, by: string, reason: string): Promise<RequestSummary>;
  /** Records staff's review of a request waiting for it and runs its next attempt, to its end. */
  review(requestId: string, input: ReviewInput): Promise<RequestSummary>;
  /** Approves a request waiting for approval and runs it, to its end. */
  approve(requestId: string, by: string): Promise<RequestSummary>;
  /** Denies a request that is not running, with the reason the subject is owed. */
  deny(requestId: string, input: DenyInput): Promise<RequestSummary>;
  /** Cancels a request waiting for approval. */
  cancel(requestId: string, by: string, reason: string): Promise<RequestSummary>;
  /** Extends a request's due date once, as far as its law allows. */
  extend(requestId: string, input: ExtendInput): Promise<RequestSummary>;
  status(requestId: string): Promise<RequestSummary>;
  list(filter?: RequestListFilter): Promise<RequestSummary[]>;
  history(requestId: string): Promise<HistoryEvent[]>;
  /** The execution history of a sweep; none when it is unknown (or, on AWS, past Step Functions' 90 days). */
  sweepHistory(sweepId: string): Promise<HistoryEvent[]>;
  /** Runs a retention sweep to its end; a failed sweep is returned, not thrown. */
  sweep(input: SweepRequest, onProgress?: (progress: SweepProgress) => void): Promise<SweepOutcome>;
  /** Releases the backend: stops local servers, destroys clients. */
  dispose(): Promise<void>;
}

/** How a submission waits: to the request's end (the default), or only until it is started. */
export interface SubmitOptions {
  wait?: boolean;
}

/** What `lethe sweep` asks for. */
export interface SweepRequest {
  now?: string;
  dryRun: boolean;
  storeId?: string;
  /** Who started the sweep (the console's signed-in name): the actor of its `sweep.started` event. */
  startedBy?: string;
}

/** How a sweep ended: its summary, or the error it failed with; RUNNING when the wait ran out first. */
export interface SweepOutcome {
  sweepId: string;
  status: 'SUCCEEDED' | 'FAILED' | 'RUNNING';
  summary: SweepSummary | null;
  error: { code: string; message: string } | null;
}

/** The message in a Step Functions failure cause (a Lambda error is JSON with `errorMessage`). */
export function failureMessage(cause: string | undefined): string {
  if (!cause) return '';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    return typeof parsed.errorMessage === 'string' ? parsed.errorMessage : cause;
  } catch {
    return cause;
  }
}

/**
 * The history of every attempt of a request, in order, each event tagged with its attempt when
 * there was more than one. `read` returns the events of one execution.
 */
export async function requestHistory(
  record: RequestRecord,
  read: (executionId: string) => Promise<HistoryEvent[]>,
): Promise<HistoryEvent[]> {
  const attempts = record.attempts ?? [{ attempt: 1, executionId: executionIdFor(record.requestId, 1) }];
  const histories = await Promise.all(attempts.map((attempt) => read(attempt.executionId)));
  if (attempts.length === 1) return histories[0] ?? [];
  return histories.flatMap((events, index) =>
    events.map((event) => ({ ...event, requestAttempt: attempts[index]?.attempt ?? index + 1 })),
  );
}

/** Keys under which an error's text travels: in a history event, and where a Catch puts it in a state's input and output. */
const ERROR_TEXT_KEYS = new Set(['error', 'cause', 'errormessage', 'message', 'trace']);

function redactErrorText(value: unknown, known: readonly string[], underErrorKey: boolean): unknown {
  if (typeof value === 'string') return underErrorKey ? redactIdentifiers(value, known) : value;
  if (Array.isArray(value)) return value.map((entry) => redactErrorText(entry, known, underErrorKey));
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, entry]) => [
      key,
      redactErrorText(entry, known, underErrorKey || ERROR_TEXT_KEYS.has(key.toLowerCase())),
    ]),
  );
}

/**
 * An execution history as `request history` shows it: every error text (the events' error and
 * cause, and the failure a Catch carries through the states' input and output) passed through the
 * redaction filter, with the request's own identities while it still has them. Steps redact their
 * errors at the source; this is for histories written before they did.
 */
export function redactHistory(events: HistoryEvent[], known: readonly string[] = []): HistoryEvent[] {
  return events.map((event) => redactErrorText(event, known, false) as HistoryEvent);
}
