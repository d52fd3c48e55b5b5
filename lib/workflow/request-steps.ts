import * as z from 'zod';
import { requestIdentifierValues } from '../audit/free-text';
import type { LetheDeps } from '../deps';
import { redactIdentifiers } from '../log';
import { applyRequestStore, recordRequestSuppression } from '../rights/apply';
import { confirmRequest } from '../rights/confirm';
import { eraseRequestStore } from '../rights/erase';
import { locateRequestStore, resolveRequestIdentities } from '../rights/locate';
import { recordFailure, recordOutcome } from '../rights/outcome';
import { getRequest } from '../rights/requests-table';
import { recordReviewRequest } from '../rights/review';
import { verifyRequest } from '../rights/verify';

/**
 * The request workflow's Task states, by the name they have in the state machine. The CDK
 * definition, the Lambda handlers and the local runtime all key off this one table.
 */
export const REQUEST_STATES = {
  verify: 'Verify',
  resolve: 'ResolveIdentities',
  locateStore: 'LocateStore',
  recordReview: 'RecordReview',
  exportPackage: 'ExportPackage',
  eraseStore: 'EraseStore',
  recordSuppression: 'RecordSuppression',
  applyStore: 'ApplyStore',
  confirm: 'Confirm',
  recordOutcome: 'RecordOutcome',
  recordFailure: 'RecordFailure',
} as const;
export type RequestStep = keyof typeof REQUEST_STATES;

const requestId = z.string().min(1);
/** The attempt the execution runs; executions started before attempts existed ran attempt 1. */
const attempt = z.number().int().min(1).default(1);
const counts = z.object({
  storeId: z.string(),
  manifestKey: z.string(),
  located: z.number(),
  exempted: z.number(),
  // Review counts (LocateStoreResult); absent in the state of executions started before review existed.
  claimed: z.number().default(0),
  pendingReview: z.number().default(0),
  excluded: z.number().default(0),
});

/** Input schemas: a step parses what it is given before doing anything (no `any` at the boundary). */
export const stepInputSchemas = {
  verify: z.object({ requestId, attempt, stateMachineArn: z.string().min(1).optional() }),
  resolve: z.object({ requestId, attempt }),
  locateStore: z.object({ requestId, storeId: z.string().min(1) }),
  recordReview: z.object({
    requestId,
    attempt,
    located: z.array(counts.extend({ requestId: z.string().optional() })),
  }),
  exportPackage: z.object({
    requestId,
    located: z.array(counts.extend({ requestId: z.string().optional() })),
  }),
  eraseStore: z.object({ requestId, attempt, storeId: z.string().min(1), manifestKey: z.string().min(1) }),
  recordSuppression: z.object({ requestId, attempt }),
  applyStore: z.object({ requestId, attempt, storeId: z.string().min(1), manifestKey: z.string().min(1) }),
  confirm: z.object({
    requestId,
    attempt,
    located: z.array(counts.extend({ requestId: z.string().optional() })),
    erased: z.array(z.looseObject({ storeId: z.string() })).optional(),
    export: z.looseObject({ exportKey: z.string() }).optional(),
    applied: z.array(z.looseObject({ storeId: z.string() })).optional(),
  }),
  recordOutcome: z.object({ requestId, attempt }),
  recordFailure: z.object({
    requestId,
    attempt,
    failure: z.object({
      state: z.string().optional(),
      error: z.string().optional(),
      cause: z.string().optional(),
    }),
  }),
} satisfies Record<RequestStep, z.ZodType>;

/** Invalid input for a step: a wiring bug, never retried. */
export class StepInputError extends Error {
  override readonly name = 'StepInputError';
}

/**
 * A step's input, parsed by its schema.
 * @throws StepInputError naming each invalid field (a wiring bug, never retried)
 */
export function parseStepInput<S extends RequestStep>(
  step: S,
  input: unknown,
): z.infer<(typeof stepInputSchemas)[S]> {
  const parsed = stepInputSchemas[step].safeParse(input);
  if (!parsed.success) {
    throw new StepInputError(
      `${REQUEST_STATES[step]} received invalid input: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`,
    );
  }
  return parsed.data as z.infer<(typeof stepInputSchemas)[S]>;
}

/** What a step's error may be redacted against: the request's identities, while it still has them. */
async function knownIdentifiers(deps: LetheDeps, input: unknown): Promise<string[]> {
  const id = (input as { requestId?: unknown } | null | undefined)?.requestId;
  if (typeof id !== 'string') return [];
  try {
    return requestIdentifierValues(await getRequest(deps, id));
  } catch {
    // The record cannot be read (gone, or the table is down): the generic patterns still apply.
    return [];
  }
}

/**
 * The error a step throws, with every identifier of the request (in any spelling) and anything
 * shaped like one redacted from its message and stack. Its `name` (what Retry and Catch match on)
 * and class are kept; the Lambda runtime and the local engine both report only name, message and
 * stack, and these end up in the execution history, the request record and the audit log.
 */
async function redactStepError(deps: LetheDeps, input: unknown, error: unknown): Promise<Error> {
  const failure = error instanceof Error ? error : new Error(String(error));
  const known = await knownIdentifiers(deps, input);
  const message = redactIdentifiers(failure.message, known);
  const stack = failure.stack === undefined ? undefined : redactIdentifiers(failure.stack, known);
  try {
    failure.message = message;
    failure.stack = stack;
    return failure;
  } catch {
    // A frozen error: a plain one under the same name carries the redacted text instead.
    const copy = new Error(message);
    copy.name = failure.name;
    copy.stack = stack;
    return copy;
  }
}

/** One step: the raw state input in, parsed, the domain function called. */
export type StepFunction = (deps: LetheDeps, input: unknown) => Promise<unknown>;

/*
 * Each step is a function of its own, so a Lambda handler imports only its step and the bundler
 * leaves the other steps' code (and the clients only they use) out of that function's bundle.
 */

/** Verify (REQUEST_STATES.verify). */
export async function verifyStep(deps: LetheDeps, input: unknown): Promise<unknown> {
  const { requestId: id, attempt: run, stateMachineArn } = parseStepInput('verify', input);
  const probe =
    !deps.executions && stateMachineArn && deps.executionProbeFor
      ? deps.executionProbeFor(stateMachineArn)
      : undefined;
  return verifyRequest(probe ? { ...deps, executions: probe } : deps, id, run);
}

/** ResolveIdentities (REQUEST_STATES.resolve). */
export async function resolveStep(deps: LetheDeps, input: unknown): Promise<unknown> {
  return resolveRequestIdentities(deps, parseStepInput('resolve', input).requestId);
}

/** LocateStore (REQUEST_STATES.locateStore). */
export async function locateStoreStep(deps: LetheDeps, input: unknown): Promise<unknown> {
  const { requestId: id, storeId } = parseStepInput('locateStore', input);
  return locateRequestStore(deps, id, storeId);
}

/** RecordReview (REQUEST_STATES.recordReview). */
export async function recordReviewStep(deps: LetheDeps, input: unknown): Promise<unknown> {
  return recordReviewRequest(deps, parseStepInput('recordReview', input));
}

/** EraseStore (REQUEST_STATES.eraseStore). */
export async function eraseStoreStep(deps: LetheDeps, input: unknown): Promise<unknown> {
  const { requestId: id, attempt: run, storeId, manifestKey } = parseStepInput('eraseStore', input);
  return eraseRequestStore(deps, id, storeId, manifestKey, run);
}

/** Confirm (REQUEST_STATES.confirm). */
export async function confirmStep(deps: LetheDeps, input: unknown): Promise<unknown> {
  const parsed = parseStepInput('confirm', input);
  return confirmRequest(deps, parsed as Parameters<typeof confirmRequest>[1]);
}

/** RecordSuppression (REQUEST_STATES.recordSuppression): an objection's subject onto the suppression list. */
export async function recordSuppressionStep(deps: LetheDeps, input: unknown): Promise<unknown> {
  const { requestId: id, attempt: run } = parseStepInput('recordSuppression', input);
  return recordRequestSuppression(deps, id, run);
}

/** ApplyStore (REQUEST_STATES.applyStore): a rectification's or restriction's changes to one store. */
export async function applyStoreStep(deps: LetheDeps, input: unknown): Promise<unknown> {
  const { requestId: id, attempt: run, storeId, manifestKey } = parseStepInput('applyStore', input);
  return applyRequestStore(deps, id, storeId, manifestKey, run);
}

/** RecordOutcome (REQUEST_STATES.recordOutcome). */
export async function recordOutcomeStep(deps: LetheDeps, input: unknown): Promise<unknown> {
  const { requestId: id, attempt: run } = parseStepInput('recordOutcome', input);
  return recordOutcome(deps, id, run);
}

/** RecordFailure (REQUEST_STATES.recordFailure). */
export async function recordFailureStep(deps: LetheDeps, input: unknown): Promise<unknown> {
  return recordFailure(deps, parseStepInput('recordFailure', input));
}

/**
 * A step whose errors leave it without identifiers (see redactStepError): redaction happens here,
 * at the source, because Step Functions keeps an error's Cause in the execution history for 90
 * days. `before` runs first, inside the redaction (tests inject faults there).
 */
export function redactingStep(
  deps: LetheDeps,
  step: StepFunction,
  before?: (input: unknown) => void | Promise<void>,
): (input: unknown) => Promise<unknown> {
  return async (input) => {
    try {
      await before?.(input);
      return await step(deps, input);
    } catch (error) {
      throw await redactStepError(deps, input, error);
    }
  };
}
