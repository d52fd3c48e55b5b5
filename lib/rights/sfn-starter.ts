import { type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { WorkflowStarter } from './submit';

/** The ARN Step Functions gives the execution named `name` of `stateMachineArn`. */
export function executionArnFor(stateMachineArn: string, name: string): string {
  const parts = stateMachineArn.split(':');
  if (parts.length !== 7 || parts[5] !== 'stateMachine') {
    throw new RangeError(`not a state machine ARN: ${stateMachineArn}`);
  }
  return [...parts.slice(0, 5), 'execution', parts[6], name].join(':');
}

/**
 * Starts the request workflow on AWS Step Functions. The execution is named by the request id,
 * so a request runs at most once: starting it again finds the existing execution
 * (ExecutionAlreadyExists) and reports `alreadyStarted` instead of failing. The input is the
 * request id only: steps read everything else from the requests table.
 * Used by the intake Lambda and by the CLI with `--target aws`.
 */
export class SfnWorkflowStarter implements WorkflowStarter {
  constructor(
    private readonly client: SFNClient,
    readonly stateMachineArn: string,
  ) {}

  async start(requestId: string): Promise<{ executionId: string; alreadyStarted: boolean }> {
    try {
      const response = await this.client.send(
        new StartExecutionCommand({
          stateMachineArn: this.stateMachineArn,
          name: requestId,
          input: JSON.stringify({ requestId }),
        }),
      );
      return {
        executionId: response.executionArn ?? executionArnFor(this.stateMachineArn, requestId),
        alreadyStarted: false,
      };
    } catch (error) {
      // Standard workflows: the same name with the same input returns the running execution;
      // after it closed (or with other input) the name is taken and this error says so.
      if ((error as Error).name !== 'ExecutionAlreadyExists') throw error;
      return { executionId: executionArnFor(this.stateMachineArn, requestId), alreadyStarted: true };
    }
  }
}
