import * as z from 'zod';
import type { LetheDeps } from '../deps';
import { advanceSweepItem, recordSweep, recordSweepFailure, type SweepItem, startSweep } from '../retention';
import { reapStaleRequests } from '../rights/reaper';
import { purgeExpiredRequestRecords } from '../rights/record-expiry';
import { StepInputError } from './request-steps';

/**
 * The sweep workflow's Task states, by the name they have in the state machine. The CDK
 * definition, the Lambda handlers and the local sweep runner all key off this one table.
 */
export const SWEEP_STATES = {
  planSweep: 'PlanSweep',
  sweepPage: 'SweepPage',
  reapRequests: 'ReapRequests',
  recordSweep: 'RecordSweep',
  recordSweepFailure: 'RecordSweepFailure',
} as const;
export type SweepStep = keyof typeof SWEEP_STATES;

const counts = z.object({
  examined: z.number().int().min(0),
  expired: z.number().int().min(0),
  purged: z.number().int().min(0),
  anonymised: z.number().int().min(0),
  wouldPurge: z.number().int().min(0),
  wouldAnonymise: z.number().int().min(0),
  alreadyAnonymised: z.number().int().min(0),
  held: z.number().int().min(0),
  // Absent in the state of sweeps started before restrictions were kept.
  restricted: z.number().int().min(0).default(0),
  locked: z.number().int().min(0),
  skipped: z.number().int().min(0),
});

const sweepItem = z.object({
  sweepId: z.string().min(1),
  storeId: z.string().min(1),
  segment: z.number().int().min(0),
  totalSegments: z.number().int().min(1),
  now: z.string().min(1),
  dryRun: z.boolean(),
  budgetMs: z.number().min(0),
  pageSize: z.number().int().min(1).max(1000).nullable(),
  token: z.string().nullable(),
  totals: counts,
  pages: z.number().int().min(0),
});

/** Input schemas: a step parses what it is given before doing anything (no `any` at the boundary). */
export const sweepStepInputSchemas = {
  /**
   * The execution name, and the execution input as given: the schedule sends `{}`, the CLI
   * `{ now, dryRun, storeId }`, the console also `startedBy` (the signed-in name).
   */
  planSweep: z.object({
    sweepId: z.string().min(1),
    /** The machine's own ARN, to ask whether an earlier sweep still runs (AWS only). */
    stateMachineArn: z.string().min(1).optional(),
    input: z.object({
      now: z.string().optional(),
      dryRun: z.boolean().optional(),
      storeId: z.string().min(1).optional(),
      startedBy: z.string().min(1).max(200).optional(),
      segments: z.number().int().min(1).optional(),
      budgetMs: z.number().min(0).optional(),
      pageSize: z.number().int().min(1).max(1000).nullable().optional(),
    }),
  }),
  sweepPage: sweepItem,
  reapRequests: z.object({ sweepId: z.string().min(1), now: z.string().min(1), dryRun: z.boolean() }),
  recordSweep: z.object({
    sweepId: z.string().min(1),
    startedAt: z.string().nullable().optional(),
    now: z.string().min(1),
    dryRun: z.boolean(),
    swept: z.array(
      sweepItem.pick({ storeId: true, segment: true, totalSegments: true, totals: true, pages: true }),
    ),
  }),
  recordSweepFailure: z.object({
    sweepId: z.string().min(1),
    failure: z.object({
      state: z.string().optional(),
      error: z.string().optional(),
      cause: z.string().optional(),
    }),
  }),
} satisfies Record<SweepStep, z.ZodType>;

function parse<S extends SweepStep>(step: S, input: unknown): z.infer<(typeof sweepStepInputSchemas)[S]> {
  const parsed = sweepStepInputSchemas[step].safeParse(input);
  if (!parsed.success) {
    throw new StepInputError(
      `${SWEEP_STATES[step]} received invalid input: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`,
    );
  }
  return parsed.data as z.infer<(typeof sweepStepInputSchemas)[S]>;
}

/*
 * Each step is a function of its own, so a Lambda handler imports only its step and the bundler
 * leaves the other steps' code out of that function's bundle.
 */

/** PlanSweep (SWEEP_STATES.planSweep). */
export async function planSweepStep(deps: LetheDeps, input: unknown): Promise<unknown> {
  const { sweepId, stateMachineArn, input: parsed } = parse('planSweep', input);
  const probe = stateMachineArn ? deps.executionProbeFor?.(stateMachineArn) : undefined;
  const listRunning = probe?.othersRunning?.bind(probe);
  return startSweep(
    deps,
    {
      sweepId,
      ...(parsed.now !== undefined ? { now: parsed.now } : {}),
      ...(parsed.dryRun !== undefined ? { dryRun: parsed.dryRun } : {}),
      ...(parsed.storeId !== undefined ? { storeId: parsed.storeId } : {}),
      ...(parsed.startedBy !== undefined ? { startedBy: parsed.startedBy } : {}),
      ...(parsed.segments !== undefined ? { segments: parsed.segments } : {}),
      ...(parsed.budgetMs !== undefined ? { budgetMs: parsed.budgetMs } : {}),
      ...(parsed.pageSize !== undefined ? { pageSize: parsed.pageSize } : {}),
    },
    listRunning ? () => listRunning(sweepId) : undefined,
  );
}

/**
 * SweepPage (SWEEP_STATES.sweepPage): takes a Map item and returns the item for the next page:
 * the same store and segment, the new token (null when done) and the running totals. The state
 * therefore carries only ids, counts and a sealed token, never a record or an identifier.
 */
export async function sweepPageStep(deps: LetheDeps, input: unknown): Promise<unknown> {
  return advanceSweepItem(deps, parse('sweepPage', input) as SweepItem);
}

/**
 * ReapRequests (SWEEP_STATES.reapRequests): closes the requests nobody finished
 * (lib/rights/reaper.ts) and purges the records of requests that ended longer ago than they are
 * kept (lib/rights/record-expiry.ts).
 */
export async function reapRequestsStep(deps: LetheDeps, input: unknown): Promise<unknown> {
  const { now, dryRun } = parse('reapRequests', input);
  const reaped = await reapStaleRequests(deps, {
    now: new Date(now),
    dryRun,
    ...(deps.staleRequestDays !== undefined ? { staleAfterDays: deps.staleRequestDays } : {}),
  });
  const records = await purgeExpiredRequestRecords(deps, {
    now: new Date(now),
    dryRun,
    ...(deps.requestRecordDays !== undefined ? { keepDays: deps.requestRecordDays } : {}),
  });
  return { ...reaped, recordsPurged: records.purged, recordsWouldPurge: records.wouldPurge };
}

/** RecordSweep (SWEEP_STATES.recordSweep): appends `sweep.completed` with the totals. */
export async function recordSweepStep(deps: LetheDeps, input: unknown): Promise<unknown> {
  return recordSweep(deps, parse('recordSweep', input));
}

/** RecordSweepFailure (SWEEP_STATES.recordSweepFailure). */
export async function recordSweepFailureStep(deps: LetheDeps, input: unknown): Promise<unknown> {
  return recordSweepFailure(deps, parse('recordSweepFailure', input));
}

/**
 * The sweep step functions over `deps`: what the local sweep runner runs. A Lambda handler takes
 * only its own step instead.
 *
 * PlanSweep appends `sweep.started` before any page runs; each SweepPage appends `sweep.page`
 * after its writes; ReapRequests closes the requests nobody finished; RecordSweep appends
 * `sweep.completed` with the totals.
 */
export function createSweepSteps(deps: LetheDeps): Record<SweepStep, (input: unknown) => Promise<unknown>> {
  const steps: Record<SweepStep, (deps: LetheDeps, input: unknown) => Promise<unknown>> = {
    planSweep: planSweepStep,
    sweepPage: sweepPageStep,
    reapRequests: reapRequestsStep,
    recordSweep: recordSweepStep,
    recordSweepFailure: recordSweepFailureStep,
  };
  return Object.fromEntries(
    (Object.keys(steps) as SweepStep[]).map((step) => [step, (input: unknown) => steps[step](deps, input)]),
  ) as Record<SweepStep, (input: unknown) => Promise<unknown>>;
}
