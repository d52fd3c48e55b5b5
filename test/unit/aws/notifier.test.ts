import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { eventBridgeNotifier, NOTICE_DETAIL_TYPE, NOTICE_SOURCE } from '../../../lib/aws/notifier';

/** EventBridge has no local server: its client is mocked, for what it is sent and for a refusal. */
describe('eventBridgeNotifier', () => {
  const events = mockClient(EventBridgeClient);
  afterEach(() => events.reset());

  it('publishes the request id, status and the export as an S3 link, nothing else', async () => {
    // prepare
    events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: '1' }] });

    // act
    await eventBridgeNotifier(new EventBridgeClient({})).publish({
      requestId: 'req-00000001',
      status: 'completed',
      at: '2027-02-01T00:00:00.000Z',
      requestType: 'access',
      dueAt: '2027-03-01T00:00:00.000Z',
      export: { bucket: 'exports', key: 'exports/req-00000001.zip', expiresAt: '2027-02-02T00:00:00.000Z' },
    });

    // assess
    const [call] = events.commandCalls(PutEventsCommand);
    const entry = call!.args[0].input.Entries![0]!;
    expect({ source: entry.Source, type: entry.DetailType }).toEqual({
      source: NOTICE_SOURCE,
      type: NOTICE_DETAIL_TYPE,
    });
    expect(JSON.parse(entry.Detail!)).toEqual({
      requestId: 'req-00000001',
      status: 'completed',
      at: '2027-02-01T00:00:00.000Z',
      requestType: 'access',
      dueAt: '2027-03-01T00:00:00.000Z',
      exportLink: 's3://exports/exports/req-00000001.zip',
      exportExpiresAt: '2027-02-02T00:00:00.000Z',
    });
  });

  it('fails when EventBridge refuses the event, so the step is retried', async () => {
    // prepare
    events
      .on(PutEventsCommand)
      .resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'ThrottlingException' }] });

    // act / assess
    await expect(
      eventBridgeNotifier(new EventBridgeClient({})).publish({
        requestId: 'req-00000002',
        status: 'rejected',
        at: '2027-02-01T00:00:00.000Z',
        requestType: 'access',
        dueAt: '2027-03-01T00:00:00.000Z',
        reason: 'denied (excessive): third copy',
      }),
    ).rejects.toThrow(/refused the notice of request req-00000002: ThrottlingException/);
  });
});
