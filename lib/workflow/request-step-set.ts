import type { LetheDeps } from '../deps';
import { exportPackageStep } from './export-step';
import {
  applyStoreStep,
  confirmStep,
  eraseStoreStep,
  locateStoreStep,
  REQUEST_STATES,
  type RequestStep,
  recordFailureStep,
  recordOutcomeStep,
  recordReviewStep,
  recordSuppressionStep,
  redactingStep,
  resolveStep,
  type StepFunction,
  verifyStep,
} from './request-steps';

export interface RequestStepOptions {
  /**
   * Tests: runs before each step, inside its error redaction, so a fault thrown here is reported
   * as a failure of the step itself would be. Gets the Task state's name and the step's input.
   */
  faults?: (stateName: string, input: unknown) => void | Promise<void>;
}

/**
 * Every step of the request workflow, each redacting its errors (redactingStep): what the local
 * runtime runs. A Lambda handler takes only its own step instead.
 */
export function createRequestSteps(
  deps: LetheDeps,
  options: RequestStepOptions = {},
): Record<RequestStep, (input: unknown) => Promise<unknown>> {
  const steps: Record<RequestStep, StepFunction> = {
    verify: verifyStep,
    resolve: resolveStep,
    locateStore: locateStoreStep,
    recordReview: recordReviewStep,
    exportPackage: exportPackageStep,
    eraseStore: eraseStoreStep,
    recordSuppression: recordSuppressionStep,
    applyStore: applyStoreStep,
    confirm: confirmStep,
    recordOutcome: recordOutcomeStep,
    recordFailure: recordFailureStep,
  };
  const faults = options.faults;
  return Object.fromEntries(
    (Object.keys(steps) as RequestStep[]).map((step) => [
      step,
      redactingStep(
        deps,
        steps[step],
        faults ? (input: unknown) => faults(REQUEST_STATES[step], input) : undefined,
      ),
    ]),
  ) as Record<RequestStep, (input: unknown) => Promise<unknown>>;
}
