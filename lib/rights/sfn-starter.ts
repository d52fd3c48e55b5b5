import {
  DescribeExecutionCommand,
  ListExecutionsCommand,
  type SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import type { ExecutionProbe } from '../deps';
import { executionIdFor } from './request';
import type { ExecutionStart, StartedExecution, WorkflowStarter } from './submit';

/** The ARN Step Functions gives the execution named `name` of `stateMachineArn`. */
export function executionArnFor(stateMachineArn: string, name: string): string {
  const parts = stateMachineArn.split(':');
  if (parts.length !== 7 || parts[5] !== 'stateMachine') {
    throw new RangeError(`not a state machine ARN: ${stateMachineArn}`);
  }
  return [...parts.slice(0, 5), 'execution', parts[6], name].join(':');
}

/**
 * Starts the request workflow on AWS Step Functions. The execution is named by the request id and
 * attempt (executionIdFor), so an attempt runs at most once: starting it again finds the existing
 * execution (ExecutionAlreadyExists) and reports `alreadyStarted` instead of failing. The input is
 * the request id and attempt only: steps read everything else from the requests table.
 * Used by the intake Lambda and by the CLI with `--target aws`.
 */
export class SfnWorkflowStarter implements WorkflowStarter, ExecutionProbe {
  constructor(
    private readonly client: SFNClient,
    readonly stateMachineArn: string,
  ) {}

  async start({ requestId, attempt }: ExecutionStart): Promise<StartedExecution> {
    const name = executionIdFor(requestId, attempt);
    try {
      const response = await this.client.send(
        new StartExecutionCommand({
          stateMachineArn: this.stateMachineArn,
          name,
          input: JSON.stringify({ requestId, attempt }),
        }),
      );
      return {
        executionId: response.executionArn ?? executionArnFor(this.stateMachineArn, name),
        alreadyStarted: false,
      };
    } catch (error) {
      // Standard workflows: the same name with the same input returns the running execution;
      // after it closed (or with other input) the name is taken and this error says so.
      if ((error as Error).name !== 'ExecutionAlreadyExists') throw error;
      return { executionId: executionArnFor(this.stateMachineArn, name), alreadyStarted: true };
    }
  }

  /** Whether the execution of this name (a request id and attempt) is RUNNING; false when there is none. */
  async isRunning(executionId: string): Promise<boolean> {
    try {
      const execution = await this.client.send(
        new DescribeExecutionCommand({ executionArn: executionArnFor(this.stateMachineArn, executionId) }),
      );
      return execution.status === 'RUNNING';
    } catch (error) {
      if ((error as Error).name === 'ExecutionDoesNotExist') return false;
      throw error;
    }
  }

  /** The names of the machine's RUNNING executions but `executionId` (the first page: a few at most). */
  async othersRunning(executionId: string): Promise<string[]> {
    const listed = await this.client.send(
      new ListExecutionsCommand({
        stateMachineArn: this.stateMachineArn,
        statusFilter: 'RUNNING',
        maxResults: 10,
      }),
    );
    return (listed.executions ?? [])
      .map((execution) => execution.name ?? '')
      .filter((name) => name !== executionId && name !== '');
  }
}
