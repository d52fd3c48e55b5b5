import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  GetExecutionHistoryCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { AwsBackend } from '../../../lib/cli/backends';
import { createLetheResources } from '../../../lib/local/environment';
import { createLocalClients, type LocalServers, startLocalServers } from '../../../lib/local/servers';
import { mockDeployedStack, STACK_STATE_MACHINE } from '../../helpers/aws-stack';
import { exampleDataMap } from '../../helpers/world';

/**
 * `--target aws`: the stack outputs name the resources; the request is written and started
 * by the same domain code as the intake function. CloudFormation, Secrets Manager and Step
 * Functions exist only on AWS and are mocked; the requests table is a real dynalite.
 */
describe('AwsBackend (lethe --target aws)', () => {
  let servers: LocalServers;
  const cloudFormation = mockClient(CloudFormationClient);
  const secrets = mockClient(SecretsManagerClient);
  const sfn = mockClient(SFNClient);

  beforeAll(async () => {
    servers = await startLocalServers();
    await createLetheResources(createLocalClients(servers));
  });

  afterAll(() => servers.stop());

  beforeEach(() => {
    cloudFormation.reset();
    secrets.reset();
    sfn.reset();
    mockDeployedStack('Acme', cloudFormation, secrets);
    sfn.on(DescribeExecutionCommand).resolves({ status: 'SUCCEEDED' });
  });

  const open = () => {
    const local = createLocalClients(servers);
    return AwsBackend.open({
      stackPrefix: 'Acme',
      dataMap: exampleDataMap(),
      pollIntervalMs: 1,
      clients: {
        cloudFormation: new CloudFormationClient({}),
        secrets: new SecretsManagerClient({}),
        sfn: new SFNClient({}),
        ...local,
      },
    });
  };

  it('writes the request and starts one execution named by the request id, with only the id and attempt as input', async () => {
    // prepare
    sfn.on(StartExecutionCommand).resolves({
      executionArn: `${STACK_STATE_MACHINE.replace('stateMachine', 'execution')}:aws-request-0001`,
    });
    const backend = await open();

    // act
    const { summary, outcome } = await backend.submit({
      requestId: 'aws-request-0001',
      type: 'erasure',
      subject: [{ type: 'email', value: 'Ada@Example.com' }],
      jurisdiction: 'ccpa',
      verification: { method: 'id-document', verifiedBy: 'desk' },
    });
    await backend.dispose();

    // assess
    expect(outcome).toBe('created');
    expect(summary).toMatchObject({
      requestId: 'aws-request-0001',
      type: 'erasure',
      status: 'received',
      jurisdiction: 'ccpa',
    });
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
    expect(sfn).toHaveReceivedCommandWith(StartExecutionCommand, {
      stateMachineArn: STACK_STATE_MACHINE,
      name: 'aws-request-0001',
      input: JSON.stringify({ requestId: 'aws-request-0001', attempt: 1 }),
    });
    expect(
      JSON.stringify(sfn.commandCalls(StartExecutionCommand).map((call) => call.args[0].input)),
    ).not.toContain('ada@');
  });

  it('treats an execution that already exists as started, and runs nothing new', async () => {
    // prepare
    sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'exists', $metadata: {} }));
    const backend = await open();

    // act
    const { summary, outcome } = await backend.submit({
      requestId: 'aws-request-0001',
      type: 'erasure',
      subject: [{ type: 'email', value: 'ada@example.com' }],
      jurisdiction: 'ccpa',
      verification: { method: 'id-document', verifiedBy: 'desk' },
    });
    await backend.dispose();

    // assess
    expect(outcome).toBe('unchanged');
    expect(summary.requestId).toBe('aws-request-0001');
  });

  it('reads the timeline from GetExecutionHistory in the local history shape', async () => {
    // prepare
    sfn.on(GetExecutionHistoryCommand).resolves({
      events: [
        {
          id: 1,
          timestamp: new Date('2026-11-01T00:00:00Z'),
          type: 'ExecutionStarted',
          executionStartedEventDetails: { input: '{"requestId":"aws-request-0001"}' },
        },
        {
          id: 2,
          timestamp: new Date('2026-11-01T00:00:01Z'),
          type: 'TaskStateEntered',
          stateEnteredEventDetails: { name: 'Verify', input: '{}' },
        },
        {
          id: 3,
          timestamp: new Date('2026-11-01T00:00:02Z'),
          type: 'TaskFailed',
          taskFailedEventDetails: {
            resourceType: 'lambda',
            resource: 'invoke',
            error: 'ThrottlingException',
            cause: 'slow down',
          },
        },
      ],
    });
    const backend = await open();

    // act
    const history = await backend.history('aws-request-0001');
    await backend.dispose();

    // assess
    expect(history).toEqual([
      { at: '2026-11-01T00:00:00.000Z', type: 'ExecutionStarted', input: { requestId: 'aws-request-0001' } },
      { at: '2026-11-01T00:00:01.000Z', type: 'TaskStateEntered', state: 'Verify', input: {} },
      {
        at: '2026-11-01T00:00:02.000Z',
        type: 'TaskFailed',
        error: 'ThrottlingException',
        cause: 'slow down',
      },
    ]);
  });

  it('redacts identifiers from the errors of a history written before steps redacted them', async () => {
    // prepare: the cause as Lambda reported it, and carried by the Catch into RecordFailure's input
    const cause = JSON.stringify({
      errorType: 'Error',
      errorMessage:
        "file path cannot end with '/': files/call-recordings/calls/+493010882808/ (ann@x.io, 0a0b0c0d-1111-4222-8333-444455556666)",
    });
    sfn.on(GetExecutionHistoryCommand).resolves({
      events: [
        {
          id: 1,
          timestamp: new Date('2026-11-01T00:00:01Z'),
          type: 'TaskFailed',
          taskFailedEventDetails: { resourceType: 'lambda', resource: 'invoke', error: 'Error', cause },
        },
        {
          id: 2,
          timestamp: new Date('2026-11-01T00:00:02Z'),
          type: 'TaskStateEntered',
          stateEnteredEventDetails: {
            name: 'RecordFailure',
            input: JSON.stringify({
              requestId: 'aws-request-0001',
              failure: { Error: 'Error', Cause: cause },
            }),
          },
        },
      ],
    });
    const backend = await open();

    // act
    const history = await backend.history('aws-request-0001');
    await backend.dispose();

    // assess
    const printed = JSON.stringify(history);
    expect(printed).not.toMatch(/493010882808|ann@x\.io|0a0b0c0d/);
    expect(printed).toContain('files/call-recordings/calls/[phone]/');
    expect(history[1]).toMatchObject({ state: 'RecordFailure', input: { requestId: 'aws-request-0001' } });
  });

  it('names the stack when its outputs are missing', async () => {
    // prepare
    cloudFormation.on(DescribeStacksCommand, { StackName: 'Acme-Workflow' }).resolves({
      Stacks: [
        { StackName: 'Acme-Workflow', CreationTime: new Date(), StackStatus: 'CREATE_COMPLETE', Outputs: [] },
      ],
    });

    // act
    const opening = open();

    // assess
    await expect(opening).rejects.toThrow('stack Acme-Workflow has no state machine output');
  });
});
