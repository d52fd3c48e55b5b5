import { intakeStarter } from '../lib/aws/deps';
import { sfnExecutions } from '../lib/aws/executions';
import { handleIntakeApi, isIntakeApiEvent } from '../lib/aws/intake-api';
import { LETHE_METRICS, publishMetrics } from '../lib/aws/observability';
import { hmacKeysFromSecretsManager } from '../lib/aws/secrets';
import { submitRequest } from '../lib/rights/submit';

// Module scope: configuration and data map are read and checked at cold start.
const intake = intakeStarter({ hmacKeys: hmacKeysFromSecretsManager, executions: sfnExecutions });

/**
 * Receives a rights request and starts its execution, named by the request id: through the intake
 * API (API Gateway: POST /requests, GET /requests/{requestId}), or invoked directly with the
 * SubmitRequest JSON. Returns ids, status and due date only: never the subject.
 */
export const handler = async (event: unknown) => {
  const { deps, starter } = await intake();
  if (isIntakeApiEvent(event)) return handleIntakeApi(deps, starter, event);
  const { requestId, created, executionId, record } = await submitRequest(deps, starter, event);
  if (created)
    publishMetrics([{ metric: LETHE_METRICS.requestsStarted, value: 1 }], deps.resources.requestsTable);
  return { requestId, created, executionId, status: record.status, dueAt: record.dueAt };
};
