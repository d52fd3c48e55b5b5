import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { executionArnFor, SfnWorkflowStarter } from '../../../lib/rights/sfn-starter';

const STATE_MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:RequestStateMachine';
const sfn = mockClient(SFNClient);

beforeEach(() => sfn.reset());

describe('SfnWorkflowStarter', () => {
  it('starts an execution named by the request id, with only the request id as input', async () => {
    // Prepare
    const executionArn = executionArnFor(STATE_MACHINE, 'req-00000001');
    sfn.on(StartExecutionCommand).resolves({ executionArn, startDate: new Date() });
    const starter = new SfnWorkflowStarter(new SFNClient({ region: 'eu-west-1' }), STATE_MACHINE);

    // Act
    const started = await starter.start('req-00000001');

    // Assess
    expect(started).toEqual({ executionId: executionArn, alreadyStarted: false });
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
    expect(sfn).toHaveReceivedCommandWith(StartExecutionCommand, {
      stateMachineArn: STATE_MACHINE,
      name: 'req-00000001',
      input: JSON.stringify({ requestId: 'req-00000001' }),
    });
  });

  it('reports alreadyStarted with the existing execution when the name is taken', async () => {
    // Prepare
    sfn
      .on(StartExecutionCommand)
      .rejects(new ExecutionAlreadyExists({ message: 'Execution Already Exists', $metadata: {} }));
    const starter = new SfnWorkflowStarter(new SFNClient({ region: 'eu-west-1' }), STATE_MACHINE);

    // Act
    const started = await starter.start('req-00000001');

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
    await expect(starter.start('req-00000001')).rejects.toThrow('not allowed');
  });

  it('refuses an ARN that is not a state machine', () => {
    expect(() => executionArnFor('arn:aws:lambda:eu-west-1:123456789012:function:f', 'x')).toThrow(
      RangeError,
    );
  });
});
