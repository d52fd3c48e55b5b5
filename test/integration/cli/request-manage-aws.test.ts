import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { readAuditEvents } from '../../../lib/audit/log';
import { createLetheResources, LOCAL_RESOURCES } from '../../../lib/local/environment';
import { getRequest } from '../../../lib/rights/requests-table';
import type { RequestSummary } from '../../../lib/rights/summary';
import { mockDeployedStack, STACK_STATE_MACHINE, stackClients } from '../../helpers/aws-stack';
import { lethe } from '../../helpers/cli';
import { useLocalStores } from '../../helpers/stores';
import { EXAMPLE_DATAMAP_PATH } from '../../helpers/world';

/**
 * `lethe request approve|deny|cancel|extend|list --target aws`: the same domain code as locally,
 * against the stack's tables. CloudFormation, Secrets Manager, Step Functions and EventBridge exist
 * only on AWS and are mocked; the requests and audit tables are a real dynalite. A CCPA portability
 * request waits for approval under the example's policy, so each test submits one and decides it.
 */
describe('lethe request approve|deny|cancel|extend|list --target aws', () => {
  const local = useLocalStores({ stores: [] });
  const cloudFormation = mockClient(CloudFormationClient);
  const secrets = mockClient(SecretsManagerClient);
  const sfn = mockClient(SFNClient);
  const eventBridge = mockClient(EventBridgeClient);
  // What the assertions read the tables with: the commands under test write them.
  let tables: { doc: DynamoDBDocumentClient; resources: typeof LOCAL_RESOURCES; now: () => Date };

  beforeAll(async () => {
    await createLetheResources(local.clients);
    tables = {
      doc: DynamoDBDocumentClient.from(local.clients.dynamodb),
      resources: LOCAL_RESOURCES,
      now: () => new Date(),
    };
  });

  beforeEach(() => {
    cloudFormation.reset();
    secrets.reset();
    sfn.reset();
    eventBridge.reset();
    mockDeployedStack('Acme', cloudFormation, secrets);
    sfn.on(StartExecutionCommand).resolves({ executionArn: `${STACK_STATE_MACHINE}:started` });
    sfn.on(DescribeExecutionCommand).resolves({ status: 'SUCCEEDED' });
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] });
  });

  /** A lethe command against the mocked stack. */
  const onAws = (...args: string[]) =>
    lethe([...args, '--target', 'aws', '--stack', 'Acme', '--datamap', EXAMPLE_DATAMAP_PATH], {
      awsClients: stackClients({ dynamodb: local.clients.dynamodb, s3: local.clients.s3 }),
    });

  /** Submits a CCPA portability request verified (and so submitted) by `desk`: it waits for approval. */
  const submitWaiting = async (requestId: string) => {
    const run = await onAws(
      ...'request submit --type portability --jurisdiction ccpa --verified-by desk --json'.split(' '),
      ...['--subject', 'email=ada@example.com', '--request-id', requestId],
    );
    expect({ code: run.code, err: run.err }).toEqual({ code: 0, err: '' });
    expect((JSON.parse(run.out) as RequestSummary).status).toBe('pending-approval');
    sfn.resetHistory();
    eventBridge.resetHistory();
  };

  const eventsOf = async (requestId: string) =>
    (await readAuditEvents({ doc: tables.doc, auditTable: LOCAL_RESOURCES.auditTable }, { requestId })).map(
      ({ type, actor }) => ({ type, actor }),
    );

  it('approve starts the first attempt with only the request id and attempt as input', async () => {
    // prepare
    await submitWaiting('aws-approve-0001');

    // act
    const run = await onAws('request', 'approve', 'aws-approve-0001', '--by', 'R. Roe', '--json');

    // assess
    expect({ code: run.code, err: run.err }).toEqual({ code: 0, err: '' });
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
    expect(sfn).toHaveReceivedCommandWith(StartExecutionCommand, {
      stateMachineArn: STACK_STATE_MACHINE,
      name: 'aws-approve-0001',
      input: JSON.stringify({ requestId: 'aws-approve-0001', attempt: 1 }),
    });
    const record = await getRequest(tables, 'aws-approve-0001');
    expect(record).toMatchObject({ status: 'received', approval: { by: 'R. Roe' } });
    expect(await eventsOf('aws-approve-0001')).toContainEqual({ type: 'request.approved', actor: 'R. Roe' });
  });

  it('refuses self-approval: exit 2, one line, nothing started or changed', async () => {
    // prepare
    await submitWaiting('aws-approve-0002');
    const before = await getRequest(tables, 'aws-approve-0002');

    // act: the submitter, spelt differently
    const run = await onAws('request', 'approve', 'aws-approve-0002', '--by', ' Desk ');

    // assess
    expect(run.code).toBe(2);
    expect(run.err.trim().split('\n')).toEqual([expect.stringContaining('cannot approve it too')]);
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 0);
    expect(await getRequest(tables, 'aws-approve-0002')).toEqual(before);
  });

  it('deny ends the request rejected with the reason, audits who denied it and tells the subject', async () => {
    // prepare
    await submitWaiting('aws-deny-0001');

    // act
    const run = await onAws(
      ...['request', 'deny', 'aws-deny-0001', '--by', 'R. Roe', '--reason', 'excessive', '--json'],
      ...['--note', 'a third copy within twelve months, ticket 4711'],
    );

    // assess
    expect({ code: run.code, err: run.err }).toEqual({ code: 0, err: '' });
    expect(await getRequest(tables, 'aws-deny-0001')).toMatchObject({
      status: 'rejected',
      denial: { reason: 'excessive', by: 'R. Roe' },
    });
    expect(await eventsOf('aws-deny-0001')).toContainEqual({ type: 'request.denied', actor: 'R. Roe' });
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 0);
    expect(eventBridge).toHaveReceivedCommandTimes(PutEventsCommand, 1);
    const published = JSON.stringify(eventBridge.commandCalls(PutEventsCommand).map((call) => call.args[0]));
    expect(published).toContain('aws-deny-0001');
    expect(published).not.toContain('ada@');
  });

  it('cancel closes a waiting request and audits who cancelled it', async () => {
    // prepare
    await submitWaiting('aws-cancel-0001');

    // act
    const run = await onAws(
      ...['request', 'cancel', 'aws-cancel-0001', '--by', 'J. Doe', '--json'],
      ...['--reason', 'submitted twice, ticket 4712'],
    );

    // assess
    expect({ code: run.code, err: run.err }).toEqual({ code: 0, err: '' });
    expect(await getRequest(tables, 'aws-cancel-0001')).toMatchObject({
      status: 'closed',
      cancellation: { by: 'J. Doe' },
    });
    expect(await eventsOf('aws-cancel-0001')).toContainEqual({ type: 'request.cancelled', actor: 'J. Doe' });
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 0);
  });

  it('extend moves the due date once and refuses a second extension, changing nothing', async () => {
    // prepare
    await submitWaiting('aws-extend-0001');
    const submitted = await getRequest(tables, 'aws-extend-0001');
    const extend = () =>
      onAws(
        ...['request', 'extend', 'aws-extend-0001', '--by', 'J. Doe', '--days', '30'],
        ...['--reason', 'complex request, ticket 4713'],
      );

    // act
    const first = await extend();
    const extended = await getRequest(tables, 'aws-extend-0001');
    const second = await extend();

    // assess
    expect({ code: first.code, err: first.err }).toEqual({ code: 0, err: '' });
    expect(Date.parse(extended.dueAt!) - Date.parse(submitted.dueAt!)).toBe(30 * 86_400_000);
    expect(extended.extension).toMatchObject({ days: 30, by: 'J. Doe', previousDueAt: submitted.dueAt });
    expect(second.code).toBe(2);
    expect(second.err.trim().split('\n')).toEqual([expect.stringContaining('cannot extend request')]);
    expect(await getRequest(tables, 'aws-extend-0001')).toEqual(extended);
    expect((await eventsOf('aws-extend-0001')).filter(({ type }) => type === 'request.extended')).toEqual([
      { type: 'request.extended', actor: 'J. Doe' },
    ]);
  });

  it('lists by deadline: a CCPA request due in 45 days is due within 46, not within 30, not overdue', async () => {
    // prepare
    await submitWaiting('aws-list-0001');
    const listed = async (...filter: string[]) => {
      const run = await onAws('request', 'list', ...filter, '--json');
      expect({ code: run.code, err: run.err }).toEqual({ code: 0, err: '' });
      return (JSON.parse(run.out) as RequestSummary[]).map((summary) => summary.requestId);
    };

    // act
    const within46 = await listed('--due-within', '46');
    const within30 = await listed('--due-within', '30');
    const overdue = await listed('--overdue');

    // assess
    expect(within46).toContain('aws-list-0001');
    expect(within30).not.toContain('aws-list-0001');
    expect(overdue).not.toContain('aws-list-0001');
  });

  it.each([
    [
      'deny without a known reason',
      ['deny', 'aws-bad-0001', '--by', 'R. Roe', '--reason', 'bored', '--note', 'x y'],
      '--reason',
    ],
    [
      'extend by zero days',
      ['extend', 'aws-bad-0001', '--by', 'J. Doe', '--days', '0', '--reason', 'busy'],
      '--days',
    ],
    ['cancel without an actor', ['cancel', 'aws-bad-0001', '--by', '', '--reason', 'twice'], '--by'],
  ])('%s: exit 2, one line naming the problem, nothing changed', async (_name, args, named) => {
    // prepare
    await submitWaiting('aws-bad-0001');
    const before = await getRequest(tables, 'aws-bad-0001');

    // act
    const run = await onAws('request', ...args);

    // assess
    expect(run.code).toBe(2);
    expect(run.err.trim().split('\n')).toEqual([expect.stringContaining(named)]);
    expect(await getRequest(tables, 'aws-bad-0001')).toEqual(before);
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 0);
    expect(eventBridge).toHaveReceivedCommandTimes(PutEventsCommand, 0);
  });
});
