import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { OVERDUE_REQUESTS_METRIC } from '../../../lib/aws/metrics';
import {
  erasedMetrics,
  LETHE_METRICS,
  locatedMetrics,
  powertoolsLogger,
  publishMetrics,
  purgedMetrics,
  requestsWithStatus,
} from '../../../lib/aws/observability';

/** Powertools in the deployed functions: redacted structured logs, EMF metrics, traced SDK clients. */

/** Every line the test's code writes to stdout or stderr, parsed. */
function captured(act: () => void): Record<string, unknown>[] {
  const lines: string[] = [];
  const collect = (chunk: unknown) => {
    lines.push(String(chunk));
    return true;
  };
  const out = jest.spyOn(process.stdout, 'write').mockImplementation(collect);
  const err = jest.spyOn(process.stderr, 'write').mockImplementation(collect);
  try {
    act();
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
  return lines
    .join('')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('the Powertools logger', () => {
  it('writes structured JSON with the service, level and fields', () => {
    // Act
    const [line] = captured(() =>
      powertoolsLogger({ level: 'info', context: { function: 'lethe-verify' } }).info('request verified', {
        requestId: 'req-00000001',
        stores: 3,
      }),
    );

    // Assess
    expect(line).toMatchObject({
      level: 'INFO',
      message: 'request verified',
      service: 'lethe',
      function: 'lethe-verify',
      requestId: 'req-00000001',
      stores: 3,
    });
    expect(typeof line?.timestamp).toBe('string');
  });

  it('redacts identifiers in the message and every field, as lib/log.ts does', () => {
    // Act
    const lines = captured(() =>
      powertoolsLogger().warn('no match for ada@example.com', {
        detail: 'called +44 20 7946 0958 from 203.0.113.7',
        cookies: ['0f8fad5b-d9cb-469f-a165-70867728950e'],
      }),
    );

    // Assess
    const text = JSON.stringify(lines);
    for (const identifier of ['ada@example.com', '7946', '203.0.113.7', '0f8fad5b']) {
      expect(text).not.toContain(identifier);
    }
    expect(lines[0]).toMatchObject({
      message: 'no match for [email]',
      detail: 'called [phone] from [ip]',
      cookies: ['[id]'],
    });
  });

  it('keeps to its level', () => {
    expect(captured(() => powertoolsLogger({ level: 'warn' }).info('quiet'))).toEqual([]);
  });
});

describe('publishMetrics', () => {
  it('writes one EMF line per count, with exactly the requests table and the store as dimensions', () => {
    // Act
    const lines = captured(() =>
      publishMetrics(
        [
          { metric: LETHE_METRICS.recordsLocated, value: 4, storeId: 'contacts' },
          { metric: OVERDUE_REQUESTS_METRIC, value: 2 },
        ],
        'lethe-requests',
      ),
    );

    // Assess: what the alarms and dashboards read, and nothing else (no service dimension).
    expect(lines).toHaveLength(2);
    const [located, overdue] = lines as [Record<string, unknown>, Record<string, unknown>];
    expect(located).toMatchObject({
      RequestsTable: 'lethe-requests',
      StoreId: 'contacts',
      RecordsLocated: 4,
    });
    expect(located._aws).toMatchObject({
      CloudWatchMetrics: [
        {
          Namespace: 'Lethe',
          Dimensions: [['RequestsTable', 'StoreId']],
          Metrics: [{ Name: 'RecordsLocated', Unit: 'Count' }],
        },
      ],
    });
    expect(overdue._aws).toMatchObject({
      CloudWatchMetrics: [{ Namespace: 'Lethe', Dimensions: [['RequestsTable']] }],
    });
    expect(overdue.OverdueRequests).toBe(2);
    expect(overdue).not.toHaveProperty('service');
  });
});

describe('what each step counts', () => {
  it('LocateStore: records located in its store', () => {
    expect(locatedMetrics({}, { storeId: 'contacts', located: 3, exempted: 1 })).toEqual([
      { metric: 'RecordsLocated', value: 3, storeId: 'contacts' },
    ]);
  });

  it('EraseStore: records deleted or masked in its store', () => {
    expect(erasedMetrics({}, { storeId: 'profiles', erased: 2, masked: 5, exempted: 1 })).toEqual([
      { metric: 'RecordsErased', value: 7, storeId: 'profiles' },
    ]);
  });

  it("SweepPage: what this page purged or anonymised, not the store's running totals", () => {
    const before = { storeId: 'events', totals: { purged: 100, anonymised: 10 } };
    const after = { storeId: 'events', totals: { purged: 130, anonymised: 15 } };
    expect(purgedMetrics(before, after)).toEqual([{ metric: 'RecordsPurged', value: 35, storeId: 'events' }]);
  });

  it('RecordOutcome and RecordFailure: one request each, only in that status', () => {
    const completed = requestsWithStatus('completed', LETHE_METRICS.requestsCompleted);
    expect(completed({}, { requestId: 'r', status: 'completed' })).toEqual([
      { metric: 'RequestsCompleted', value: 1 },
    ]);
    expect(completed({}, { requestId: 'r', status: 'pending-review' })).toEqual([]);
  });
});

describe('the tracer', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it("wraps the container's SDK clients in Lambda, so each call is an X-Ray subsegment", () => {
    // Prepare: the Lambda environment, read when the module loads.
    process.env.AWS_EXECUTION_ENV = 'AWS_Lambda_nodejs22.x';
    process.env.AWS_REGION = 'eu-west-1';
    let middleware: string[] = [];
    jest.isolateModules(() => {
      // Act
      const { awsClients } = require('../../../lib/aws/deps') as typeof import('../../../lib/aws/deps');
      middleware = awsClients().dynamodb.middlewareStack.identify();
    });

    // Assess: X-Ray's middleware, which a plain client has not.
    const plain = new DynamoDBClient({ region: 'eu-west-1' }).middlewareStack.identify();
    const added = middleware.filter((name) => !plain.includes(name));
    expect(added.some((name) => /xray/i.test(name))).toBe(true);
  });

  it('leaves the clients alone outside Lambda', () => {
    delete process.env.AWS_EXECUTION_ENV;
    process.env.AWS_REGION = 'eu-west-1';
    let middleware: string[] = [];
    jest.isolateModules(() => {
      const { awsClients } = require('../../../lib/aws/deps') as typeof import('../../../lib/aws/deps');
      middleware = awsClients().dynamodb.middlewareStack.identify();
    });
    expect(middleware).toEqual(new DynamoDBClient({ region: 'eu-west-1' }).middlewareStack.identify());
  });
});
