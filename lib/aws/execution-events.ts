import * as z from 'zod';
import type { EndedExecution } from '../rights/lifecycle';

/**
 * The EventBridge event Step Functions sends when an execution changes status
 * ("Step Functions Execution Status Change"), as far as lethe reads it: never its input or output.
 */
const executionStatusChange = z.object({
  source: z.literal('aws.states'),
  'detail-type': z.literal('Step Functions Execution Status Change'),
  detail: z.object({
    name: z.string().min(1),
    status: z.enum(['FAILED', 'TIMED_OUT', 'ABORTED']),
    error: z.string().nullish(),
    cause: z.string().nullish(),
  }),
});

/** An execution-ended event that is not one: the rule's pattern and this parser disagree. */
export class InvalidExecutionEventError extends Error {
  override readonly name = 'InvalidExecutionEventError';
}

/**
 * The ended execution an EventBridge execution status change describes.
 * @throws InvalidExecutionEventError naming the fields that do not fit (never their values)
 */
export function endedExecutionFromEvent(event: unknown): EndedExecution {
  const parsed = executionStatusChange.safeParse(event);
  if (!parsed.success) {
    throw new InvalidExecutionEventError(
      `not an execution that ended failed, timed out or aborted: ${parsed.error.issues.map((issue) => issue.path.join('.')).join(', ')}`,
    );
  }
  const { name, status, error, cause } = parsed.data.detail;
  return {
    executionName: name,
    status,
    ...(error ? { error } : {}),
    ...(cause ? { cause } : {}),
  };
}
