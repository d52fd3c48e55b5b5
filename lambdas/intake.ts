import { intakeStarter } from '../lib/aws/deps';
import { submitRequest } from '../lib/rights/submit';

/**
 * Receives a rights request (the SubmitRequest JSON), records it and starts its execution,
 * named by the request id. Returns ids, status and due date only: never the subject.
 */
export const handler = async (event: unknown) => {
  const { deps, starter } = await intakeStarter();
  const { requestId, created, executionId, record } = await submitRequest(deps, starter, event);
  return { requestId, created, executionId, status: record.status, dueAt: record.dueAt };
};
