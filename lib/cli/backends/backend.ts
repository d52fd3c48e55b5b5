import type { LetheDeps } from '../../deps';
import type { HistoryEvent } from '../../local/execution';
import type { SweepProgress } from '../../local/sweep-runner';
import type { SweepSummary } from '../../retention';
import type { RequestStatus, SubmitRequestInput } from '../../rights/request';
import type { RequestSummary } from '../../rights/summary';

/**
 * Where the CLI's request commands run: the embedded local runtime or a deployed stack.
 * Both call the same domain functions (submitRequest, the requests table, summaries).
 */
export interface LetheBackend {
  readonly deps: LetheDeps;
  submit(input: SubmitRequestInput): Promise<{ summary: RequestSummary; created: boolean }>;
  status(requestId: string): Promise<RequestSummary>;
  list(status?: RequestStatus): Promise<RequestSummary[]>;
  history(requestId: string): Promise<HistoryEvent[]>;
  /** Runs a retention sweep to its end; a failed sweep is returned, not thrown. */
  sweep(input: SweepRequest, onProgress?: (progress: SweepProgress) => void): Promise<SweepOutcome>;
  close(): Promise<void>;
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
