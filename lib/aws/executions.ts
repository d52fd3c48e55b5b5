import { SFNClient } from '@aws-sdk/client-sfn';
import { SfnWorkflowStarter } from '../rights/sfn-starter';
import { traced } from './observability';

/**
 * Step Functions, for the two functions that use it: intake starts executions, Verify asks
 * whether the execution of a request holding a lock still runs. Only their handlers import this
 * module, so only their bundles carry the Step Functions client.
 */

let sfnClient: SFNClient | undefined;

/** The starter (and execution probe) of a state machine, through the container's client (created once). */
export function sfnExecutions(stateMachineArn: string): SfnWorkflowStarter {
  sfnClient ??= traced(new SFNClient({}));
  return new SfnWorkflowStarter(sfnClient, stateMachineArn);
}
