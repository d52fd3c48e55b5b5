import type { LetheDeps } from '../../deps';
import type { HistoryEvent } from '../../local/execution';
import type { SweepProgress } from '../../local/sweep-runner';
import type { SweepSummary } from '../../retention';
import {
  executionIdFor,
  type RequestRecord,
  type RequestStatus,
  type SubmitRequestInput,
} from '../../rights/request';
import type { SubmitOutcome } from '../../rights/submit';
import type { RequestSummary } from '../../rights/summary';

/**
 * Where the CLI's request commands run: the embedded local runtime or a deployed stack.
 * Both call the same domain functions (submitRequest, the requests table, summaries).
 */
export interface LetheBackend {
  readonly deps: LetheDeps;
  submit(input: SubmitRequestInput): Promise<{ summary: RequestSummary; outcome: SubmitOutcome }>;
  /** Runs a failed request again as its next attempt, to its end. */
  retry(requestId: string, by: string): Promise<RequestSummary>;
  /** Ends a failed request (or one waiting for review) without finishing it. */
  close(requestId: string, by: string, reason: string): Promise<RequestSummary>;
  status(requestId: string): Promise<RequestSummary>;
  list(status?: RequestStatus): Promise<RequestSummary[]>;
  history(requestId: string): Promise<HistoryEvent[]>;
  /** Runs a retention sweep to its end; a failed sweep is returned, not thrown. */
  sweep(input: SweepRequest, onProgress?: (progress: SweepProgress) => void): Promise<SweepOutcome>;
  /** Releases the backend: stops local servers, destroys clients. */
  dispose(): Promise<void>;
}

/** What `lethe sweep` asks for. */
export interface SweepRequest {
  now?: string;
  dryRun: boolean;
  storeId?: string;
}

/** How a sweep ended: its summary, or the error it failed with. */
export interface SweepOutcome {
  sweepId: string;
  status: 'SUCCEEDED' | 'FAILED';
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
