import {
  DescribeTableCommand,
  DynamoDBClient,
  ListTablesCommand,
  ScanCommand,
  type ScanCommandInput,
} from '@aws-sdk/client-dynamodb';
import {
  GetObjectCommand,
  type GetObjectCommandOutput,
  ListBucketsCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import { marshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { parseDataMap } from '../../../lib/datamap/load';
import { lethe } from '../../helpers/cli';

/**
 * `lethe discover --target aws`: list, describe, scan and get calls answered by mocks (the
 * local servers stand in for an account elsewhere; here what matters is what is asked of AWS).
 * Every listing is paged; the events table holds 10,000 items, of which only --sample are read.
 */

const TABLE_ITEMS = 10_000;
/** The mock's Scan answers at most this many items a page, whatever the Limit, as DynamoDB does at 1 MB. */
const PAGE = 7;

function eventItem(n: number) {
  const hex = n.toString(16).padStart(12, '0');
  return {
    visitorId: `0b6f6a52-1c2d-4e5f-8a9b-${hex}`,
    eventAt: 1_700_000_000_000 + n,
    page: '/pricing',
    clientIp: `198.51.100.${n % 250}`,
  };
}

const ACCOUNT_EMAILS = Array.from({ length: 30 }, (_, n) => `member${n}@example.org`);

describe('lethe discover --target aws (mocked DynamoDB and S3)', () => {
  const dynamodb = mockClient(DynamoDBClient);
  const s3 = mockClient(S3Client);
  const clients = {
    dynamodb: new DynamoDBClient({ region: 'eu-west-1' }),
    s3: new S3Client({ region: 'eu-west-1' }),
  };

  beforeEach(() => {
    dynamodb.reset();
    s3.reset();
    dynamodb
      .on(ListTablesCommand, { ExclusiveStartTableName: undefined })
      .resolves({ TableNames: ['web-events', 'empty-table'], LastEvaluatedTableName: 'empty-table' })
      .on(ListTablesCommand, { ExclusiveStartTableName: 'empty-table' })
      .resolves({ TableNames: ['members'] });
    dynamodb.on(DescribeTableCommand, { TableName: 'web-events' }).resolves({
      Table: {
        TableName: 'web-events',
        ItemCount: TABLE_ITEMS,
        KeySchema: [
          { AttributeName: 'visitorId', KeyType: 'HASH' },
          { AttributeName: 'eventAt', KeyType: 'RANGE' },
        ],
        AttributeDefinitions: [
          { AttributeName: 'visitorId', AttributeType: 'S' },
          { AttributeName: 'eventAt', AttributeType: 'N' },
        ],
      },
    });
    dynamodb.on(DescribeTableCommand, { TableName: 'empty-table' }).resolves({
      Table: {
        TableName: 'empty-table',
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        AttributeDefinitions: [],
      },
    });
    dynamodb.on(DescribeTableCommand, { TableName: 'members' }).resolves({
      Table: {
        TableName: 'members',
        KeySchema: [{ AttributeName: 'memberId', KeyType: 'HASH' }],
        AttributeDefinitions: [
          { AttributeName: 'memberId', AttributeType: 'S' },
          { AttributeName: 'email', AttributeType: 'S' },
        ],
        GlobalSecondaryIndexes: [
          { IndexName: 'byEmail', KeySchema: [{ AttributeName: 'email', KeyType: 'HASH' }], Projection: {} },
        ],
      },
    });
    dynamodb.on(ScanCommand).callsFake((input: ScanCommandInput) => {
      if (input.TableName === 'empty-table') return { Items: [] };
      if (input.TableName === 'members') {
        return {
          Items: ACCOUNT_EMAILS.map((email, n) =>
            marshall({
              memberId: `mem-${String(n).padStart(6, '0')}`,
              email,
              visitorIds: [eventItem(n).visitorId],
            }),
          ),
        };
      }
      const start = input.ExclusiveStartKey ? Number(input.ExclusiveStartKey.n?.N) : 0;
      const count = Math.min(input.Limit ?? TABLE_ITEMS, PAGE, TABLE_ITEMS - start);
      const items = Array.from({ length: count }, (_, i) => marshall(eventItem(start + i)));
      const next = start + count;
      return {
        Items: items,
        ...(next < TABLE_ITEMS ? { LastEvaluatedKey: { n: { N: String(next) } } } : {}),
      };
    });

    s3.on(ListBucketsCommand, {})
      .resolves({ Buckets: [{ Name: 'member-uploads' }], ContinuationToken: 'more' })
      .on(ListBucketsCommand, { ContinuationToken: 'more' })
      .resolves({ Buckets: [{ Name: 'empty-bucket' }] });
    const keys = ACCOUNT_EMAILS.flatMap((email) => [
      `uploads/${email}/photo.jpg`,
      `uploads/${email}/letter.txt`,
    ]);
    s3.on(ListObjectsV2Command, { Bucket: 'member-uploads', ContinuationToken: undefined })
      .resolves({
        Contents: keys.slice(0, 25).map((Key) => ({ Key })),
        IsTruncated: true,
        NextContinuationToken: 'page-2',
      })
      .on(ListObjectsV2Command, { Bucket: 'member-uploads', ContinuationToken: 'page-2' })
      .resolves({ Contents: keys.slice(25).map((Key) => ({ Key })), IsTruncated: false });
    s3.on(ListObjectsV2Command, { Bucket: 'empty-bucket' }).resolves({ KeyCount: 0, IsTruncated: false });
    s3.on(GetObjectCommand).callsFake((input: { Key: string }) => {
      const body = input.Key.endsWith('.jpg')
        ? Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a, 0x46, 0x49, 0x46, 0, 1, 0xff, 0xfe, 0xfd])
        : Buffer.from('Dear team,\nplease find my letter attached.\n');
      return {
        Body: { transformToByteArray: async () => new Uint8Array(body) },
        ContentRange: `bytes 0-${body.length - 1}/${body.length}`,
      } as unknown as GetObjectCommandOutput;
    });
  });

  afterAll(() => {
    dynamodb.restore();
    s3.restore();
  });

  it('reads only --sample items of a 10,000-item table, by paged Scans with a Limit, and drafts from what it read', async () => {
    // Act
    const run = await lethe(['discover', '--target', 'aws', '--sample', '25', '--json'], {
      awsClients: clients,
    });

    // Assess
    expect({ code: run.code, err: run.err }).toEqual({ code: 0, err: '' });
    const scans = dynamodb
      .commandCalls(ScanCommand)
      .filter((call) => call.args[0].input.TableName === 'web-events');
    const read = scans.reduce(
      (sum, call) => sum + Math.min(PAGE, call.args[0].input.Limit ?? TABLE_ITEMS),
      0,
    );
    expect(scans.length).toBe(Math.ceil(25 / PAGE));
    expect(read).toBe(25);
    expect(scans.every((call) => (call.args[0].input.Limit ?? Number.POSITIVE_INFINITY) <= 25)).toBe(true);
    expect(dynamodb.commandCalls(ListTablesCommand)).toHaveLength(2);
    expect(
      s3.commandCalls(ListObjectsV2Command).filter((call) => call.args[0].input.Bucket === 'member-uploads'),
    ).toHaveLength(2);
    // objects read: at most --sample, each only its first bytes
    const gets = s3.commandCalls(GetObjectCommand);
    expect(gets.length).toBe(25);
    expect(gets.every((call) => /^bytes=0-\d+$/.test(call.args[0].input.Range ?? ''))).toBe(true);

    const valuesRead = [...ACCOUNT_EMAILS, ...Array.from({ length: 30 }, (_, n) => eventItem(n).visitorId)];
    expect(valuesRead.filter((value) => run.out.includes(value))).toEqual([]);
    const result = JSON.parse(run.out) as {
      draft: string;
      stores: { name: string; read: number; left?: string; itemCount?: number }[];
    };
    const draft = parseDataMap(result.draft);
    const byName = (name: string) => result.stores.find((store) => store.name === name);
    expect(byName('web-events')).toMatchObject({ read: 25, itemCount: TABLE_ITEMS });
    expect(byName('empty-table')?.left).toBe('no items were read');
    expect(byName('empty-bucket')?.left).toBe('the bucket is empty');
    expect(draft.stores.map((store) => [store.id, store.locate])).toEqual([
      ['web-events', [{ identity: 'visitorId', attribute: 'visitorId' }]],
      [
        'members',
        [
          { identity: 'memberId', attribute: 'memberId' },
          { identity: 'email', index: 'byEmail', attribute: 'email' },
        ],
      ],
      ['member-uploads', [{ identity: 'email', prefix: 'uploads/{email}/' }]],
    ]);
    // the members row reveals the visitor ids the events table is keyed by: a link, claimed by default
    expect(draft.stores.find((store) => store.id === 'members')?.links).toContainEqual({
      identity: 'visitorId',
      attribute: 'visitorIds',
      trust: 'claimed',
    });
  });

  it('names the failing call in words, and drafts the rest', async () => {
    // Prepare
    const denied = Object.assign(new Error('User is not authorized to perform: s3:GetObject'), {
      name: 'AccessDenied',
    });
    s3.on(GetObjectCommand).rejects(denied);

    // Act
    const run = await lethe(['discover', '--target', 'aws', '--sample', '10', '--json'], {
      awsClients: clients,
    });

    // Assess
    expect(run.code).toBe(0);
    const result = JSON.parse(run.out) as { stores: { name: string; problems: string[] }[] };
    expect(result.stores.find((store) => store.name === 'member-uploads')?.problems).toEqual([
      '10 objects could not be read (AccessDenied)',
    ]);
  });
});
