import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { executionArnFor, SfnWorkflowStarter } from '../../../lib/rights/sfn-starter';

const STATE_MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:RequestStateMachine';
const sfn = mockClient(SFNClient);

beforeEach(() => sfn.reset());

describe('SfnWorkflowStarter', () => {
  it('starts an execution named by the request id, with only the request id and attempt as input', async () => {
    // Prepare
    const executionArn = executionArnFor(STATE_MACHINE, 'req-00000001');
    sfn.on(StartExecutionCommand).resolves({ executionArn, startDate: new Date() });
    const starter = new SfnWorkflowStarter(new SFNClient({ region: 'eu-west-1' }), STATE_MACHINE);

    // Act
    const started = await starter.start({ requestId: 'req-00000001', attempt: 1 });

    // Assess
    expect(started).toEqual({ executionId: executionArn, alreadyStarted: false });
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
    expect(sfn).toHaveReceivedCommandWith(StartExecutionCommand, {
      stateMachineArn: STATE_MACHINE,
      name: 'req-00000001',
      input: JSON.stringify({ requestId: 'req-00000001', attempt: 1 }),
    });
  });

  it('names a later attempt after the request and the attempt', async () => {
    // Prepare
    const executionArn = executionArnFor(STATE_MACHINE, 'req-00000001.attempt-2');
    sfn.on(StartExecutionCommand).resolves({ executionArn, startDate: new Date() });
    const starter = new SfnWorkflowStarter(new SFNClient({ region: 'eu-west-1' }), STATE_MACHINE);

    // Act
    const started = await starter.start({ requestId: 'req-00000001', attempt: 2 });

    // Assess
    expect(started).toEqual({ executionId: executionArn, alreadyStarted: false });
    expect(sfn).toHaveReceivedCommandWith(StartExecutionCommand, {
      name: 'req-00000001.attempt-2',
      input: JSON.stringify({ requestId: 'req-00000001', attempt: 2 }),
    });
  });

  it('tells whether an execution is still running', async () => {
    // Prepare
    sfn
      .on(DescribeExecutionCommand, { executionArn: executionArnFor(STATE_MACHINE, 'running-0001') })
      .resolves({ status: 'RUNNING' })
      .on(DescribeExecutionCommand, { executionArn: executionArnFor(STATE_MACHINE, 'ended-00001') })
      .resolves({ status: 'FAILED' })
      .on(DescribeExecutionCommand, { executionArn: executionArnFor(STATE_MACHINE, 'missing-0001') })
      .rejects(Object.assign(new Error('no such execution'), { name: 'ExecutionDoesNotExist' }));
    const starter = new SfnWorkflowStarter(new SFNClient({ region: 'eu-west-1' }), STATE_MACHINE);

    // Act + Assess
    await expect(starter.isRunning('running-0001')).resolves.toBe(true);
    await expect(starter.isRunning('ended-00001')).resolves.toBe(false);
    await expect(starter.isRunning('missing-0001')).resolves.toBe(false);
  });

  it('reports alreadyStarted with the existing execution when the name is taken', async () => {
    // Prepare
    sfn
      .on(StartExecutionCommand)
      .rejects(new ExecutionAlreadyExists({ message: 'Execution Already Exists', $metadata: {} }));
    const starter = new SfnWorkflowStarter(new SFNClient({ region: 'eu-west-1' }), STATE_MACHINE);

    // Act
    const started = await starter.start({ requestId: 'req-00000001', attempt: 1 });

    // Assess
    expect(started).toEqual({
      executionId: 'arn:aws:states:eu-west-1:123456789012:execution:RequestStateMachine:req-00000001',
      alreadyStarted: true,
    });
  });

  it('passes every other error on', async () => {
    // Prepare
    const denied = Object.assign(new Error('not allowed'), { name: 'AccessDeniedException' });
    sfn.on(StartExecutionCommand).rejects(denied);
    const starter = new SfnWorkflowStarter(new SFNClient({ region: 'eu-west-1' }), STATE_MACHINE);

    // Act + Assess
    await expect(starter.start({ requestId: 'req-00000001', attempt: 1 })).rejects.toThrow('not allowed');
  });

  it('refuses an ARN that is not a state machine', () => {
    expect(() => executionArnFor('arn:aws:lambda:eu-west-1:123456789012:function:f', 'x')).toThrow(
      RangeError,
    );
  });
});
