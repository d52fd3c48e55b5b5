import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  DescribeExecutionCommand,
  DescribeMapRunCommand,
  ListMapRunsCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { AwsBackend } from '../../../lib/cli/backends';
import type { IndexBuildOutcome } from '../../../lib/cli/backends/aws-index-build';
import { EXIT } from '../../../lib/cli/errors';
import { createLetheResources } from '../../../lib/local/environment';
import { createLocalClients } from '../../../lib/local/servers';
import { mockDeployedStack, STACK_INDEX_BUILD_MACHINE } from '../../helpers/aws-stack';
import { lethe } from '../../helpers/cli';
import { useLocalStores } from '../../helpers/stores';
import { EXAMPLE_DATAMAP_PATH, exampleDataMap } from '../../helpers/world';

/**
 * `lethe index build --target aws`: one IndexBuild execution per indexed store, with only its id as
 * input, waited for with its map runs' counts as progress. CloudFormation and Step Functions exist
 * only on AWS and are mocked.
 */
describe('lethe index build --target aws', () => {
  const local = useLocalStores({ stores: [] });
  const cloudFormation = mockClient(CloudFormationClient);
  const secrets = mockClient(SecretsManagerClient);
  const sfn = mockClient(SFNClient);
  const executionOf = (name: string) =>
    `${STACK_INDEX_BUILD_MACHINE.replace(':stateMachine:', ':execution:')}:${name}`;

  beforeAll(async () => {
    await createLetheResources(local.clients);
  });

  beforeEach(() => {
    cloudFormation.reset();
    secrets.reset();
    sfn.reset();
    mockDeployedStack('Acme', cloudFormation, secrets);
    sfn.on(StartExecutionCommand).callsFake((input: { name: string }) => ({
      executionArn: executionOf(input.name),
      startDate: new Date(),
    }));
    sfn.on(ListMapRunsCommand).resolves({ mapRuns: [{ mapRunArn: 'run-1' } as never] });
    sfn.on(DescribeMapRunCommand).resolves({ itemCounts: { total: 250, succeeded: 250 } as never });
  });

  const clients = () => ({
    cloudFormation: new CloudFormationClient({}),
    secrets: new SecretsManagerClient({}),
    sfn: new SFNClient({}),
    ...createLocalClients(local.servers),
  });

  it('starts one execution per indexed store and reports each watermark', async () => {
    // prepare
    sfn
      .on(DescribeExecutionCommand)
      .resolves({ status: 'SUCCEEDED', output: JSON.stringify({ watermark: '2026-12-03T09:45:00.000Z' }) });

    // act
    const result = await lethe(
      ['index', 'build', '--target', 'aws', '--stack', 'Acme', '--datamap', EXAMPLE_DATAMAP_PATH, '--json'],
      { awsClients: clients() },
    );

    // assess
    expect({ code: result.code, err: result.err }).toEqual({ code: 0, err: '' });
    const outcomes = JSON.parse(result.out) as IndexBuildOutcome[];
    expect(outcomes.map((outcome) => [outcome.storeId, outcome.status, outcome.watermark])).toEqual([
      ['clickstream', 'SUCCEEDED', '2026-12-03T09:45:00.000Z'],
      ['bid-logs', 'SUCCEEDED', '2026-12-03T09:45:00.000Z'],
    ]);
    expect(outcomes[0]).toMatchObject({ objectsListed: 250, objectsDone: 250 });
    const started = sfn.commandCalls(StartExecutionCommand).map((call) => call.args[0].input);
    expect(started.map((input) => [input.stateMachineArn, input.input])).toEqual([
      [STACK_INDEX_BUILD_MACHINE, JSON.stringify({ storeId: 'clickstream' })],
      [STACK_INDEX_BUILD_MACHINE, JSON.stringify({ storeId: 'bid-logs' })],
    ]);
  });

  it('builds only the store named, and fails with the execution’s error', async () => {
    // prepare
    sfn.on(DescribeExecutionCommand).resolves({
      status: 'FAILED',
      error: 'States.ExceedToleratedFailureThreshold',
      cause: 'The specified tolerated failure threshold was exceeded',
    });

    // act
    const result = await lethe(
      [
        'index',
        'build',
        '--target',
        'aws',
        '--stack',
        'Acme',
        '--datamap',
        EXAMPLE_DATAMAP_PATH,
        '--store',
        'bid-logs',
      ],
      { awsClients: clients() },
    );

    // assess
    expect(result.code).toBe(EXIT.requestFailed);
    expect(result.out).toContain('bid-logs: States.ExceedToleratedFailureThreshold');
    expect(sfn.commandCalls(StartExecutionCommand).map((call) => call.args[0].input.input)).toEqual([
      JSON.stringify({ storeId: 'bid-logs' }),
    ]);
  });

  it('polls the execution until it ends, reporting its map runs as progress', async () => {
    // prepare
    sfn
      .on(DescribeExecutionCommand)
      .resolvesOnce({ status: 'RUNNING' })
      .resolvesOnce({ status: 'RUNNING' })
      .resolves({ status: 'SUCCEEDED', output: JSON.stringify({ watermark: '2026-12-03T09:45:00.000Z' }) });
    sfn
      .on(DescribeMapRunCommand)
      .resolvesOnce({ itemCounts: { total: 250, succeeded: 100 } as never })
      .resolves({ itemCounts: { total: 250, succeeded: 250 } as never });
    const backend = await AwsBackend.open({
      stackPrefix: 'Acme',
      dataMap: exampleDataMap(),
      pollIntervalMs: 1,
      clients: clients(),
    });
    const progress: [number, boolean][] = [];

    // act
    const outcome = await backend.buildIndex('clickstream', (step) =>
      progress.push([step.objectsDone, step.done]),
    );
    await backend.dispose();

    // assess
    expect(outcome).toMatchObject({ status: 'SUCCEEDED', objectsListed: 250, objectsDone: 250 });
    expect(progress).toEqual([
      [100, false],
      [250, false],
      [250, true],
    ]);
    expect(sfn).toHaveReceivedCommandTimes(DescribeExecutionCommand, 3);
  });
});
