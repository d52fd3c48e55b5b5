import { readAuditEvents } from '../../../lib/audit/log';
import type { ExecutionProbe } from '../../../lib/deps';
import { createSweepSteps } from '../../../lib/workflow/sweep-steps';
import { exampleEnvironment } from '../../helpers/environment';

/** A sweep that finds an earlier one still running skips its run, audited (PlanSweep, against dynalite). */

const SWEEP_MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:SweepStateMachine';

describe('PlanSweep while another sweep runs', () => {
  const env = exampleEnvironment('lethe-sweep-skip-');
  /** The steps with an execution probe whose machine runs `running` (besides the one asking). */
  const stepsWith = (running: string[]) => {
    const asked: string[] = [];
    const probe: ExecutionProbe = {
      isRunning: async () => false,
      othersRunning: async (executionId) => running.filter((name) => name !== executionId),
    };
    const steps = createSweepSteps({
      ...env().deps,
      executionProbeFor: (arn) => {
        asked.push(arn);
        return probe;
      },
    });
    return { steps, asked };
  };
  const sweepEvents = async (sweepId: string) =>
    (await readAuditEvents({ doc: env().deps.doc, auditTable: env().deps.resources.auditTable })).filter(
      (event) => event.details?.sweepId === sweepId,
    );

  it('skips, plans nothing and audits sweep.skipped naming the running sweep', async () => {
    // Prepare
    const { steps, asked } = stepsWith(['scheduled-yesterday', 'scheduled-today']);

    // Act
    const plan = (await steps.planSweep({
      sweepId: 'scheduled-today',
      stateMachineArn: SWEEP_MACHINE,
      input: {},
    })) as { skipped: boolean; items: unknown[]; stores: unknown[] };

    // Assess
    expect(asked).toEqual([SWEEP_MACHINE]);
    expect(plan).toMatchObject({ skipped: true, items: [], stores: [] });
    const events = await sweepEvents('scheduled-today');
    expect(events.map((event) => [event.type, event.details?.runningSweeps])).toEqual([
      ['sweep.skipped', ['scheduled-yesterday']],
    ]);
  });

  it('plans and audits sweep.started when no other sweep runs', async () => {
    const { steps } = stepsWith(['alone']);
    const plan = (await steps.planSweep({ sweepId: 'alone', stateMachineArn: SWEEP_MACHINE, input: {} })) as {
      skipped: boolean;
      items: unknown[];
    };
    expect(plan.skipped).toBe(false);
    expect(plan.items.length).toBeGreaterThan(0);
    expect((await sweepEvents('alone')).map((event) => event.type)).toEqual(['sweep.started']);
  });
});
