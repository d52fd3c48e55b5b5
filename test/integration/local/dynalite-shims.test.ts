import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BatchWriteItemCommand,
  type CreateTableCommandInput,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  createLocalClients,
  createTableIfMissing,
  type LocalClients,
  type LocalServers,
  startLocalServers,
} from '../../../lib/local/servers';
import { contactsTable } from '../../helpers/stores';

/**
 * The local DynamoDB writes an item and its index entries together: a process killed between two
 * separate writes (index entries gone, item left) kept an erased record with the subject's values
 * that no locate through the index could find again, so a request said completed while it was left.
 */

const TABLE = 'contacts-atomic';
const table: CreateTableCommandInput = { ...contactsTable, TableName: TABLE };

/** dynalite's own LevelDB class, whose writes are counted. */
const { Level } = createRequire(require.resolve('dynalite'))('level') as {
  Level: { prototype: Record<'_put' | '_del' | '_batch', (...args: unknown[]) => unknown> };
};

const keyText = (key: unknown) => (Buffer.isBuffer(key) ? key.toString('utf8') : String(key));

describe('local DynamoDB writes', () => {
  let dir: string;
  let servers: LocalServers;
  let clients: LocalClients;
  /** The keys of each LevelDB write, in order. */
  let writes: string[][] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lethe-atomic-'));
    servers = await startLocalServers({ stateDir: dir });
    clients = createLocalClients(servers);
    await createTableIfMissing(clients.dynamodb, table);
    const record = (keys: unknown[]) => writes.push(keys.map(keyText));
    const put = Level.prototype._put;
    const del = Level.prototype._del;
    const batch = Level.prototype._batch;
    jest.spyOn(Level.prototype, '_put').mockImplementation(function (this: unknown, ...args) {
      record([args[0]]);
      return put.apply(this, args);
    });
    jest.spyOn(Level.prototype, '_del').mockImplementation(function (this: unknown, ...args) {
      record([args[0]]);
      return del.apply(this, args);
    });
    jest.spyOn(Level.prototype, '_batch').mockImplementation(function (this: unknown, ...args) {
      record((args[0] as { key: unknown }[]).map((operation) => operation.key));
      return batch.apply(this, args);
    });
  });

  afterAll(async () => {
    jest.restoreAllMocks();
    clients.dynamodb.destroy();
    clients.s3.destroy();
    await servers.stop();
    await rm(dir, { recursive: true, force: true });
  });

  beforeEach(async () => {
    await clients.dynamodb.send(
      new PutItemCommand({ TableName: TABLE, Item: { pk: { S: 'c1' }, email: { S: 'ana@example.com' } } }),
    );
    writes = [];
  });

  const byEmail = async (email: string) =>
    (
      await clients.dynamodb.send(
        new QueryCommand({
          TableName: TABLE,
          IndexName: 'by-email',
          KeyConditionExpression: 'email = :email',
          ExpressionAttributeValues: { ':email': { S: email } },
        }),
      )
    ).Items ?? [];

  /** Whether one write holds the item's key and its index entry's. */
  const together = (keys: string[]) =>
    keys.some((key) => key.startsWith(`item-${TABLE}~`)) &&
    keys.some((key) => key.startsWith(`index-global~${TABLE}~by-email~`));

  it.each([
    [
      'DeleteItem',
      () => new DeleteItemCommand({ TableName: TABLE, Key: { pk: { S: 'c1' } } }),
      { item: false, ana: 0, masked: 0 },
    ],
    [
      'BatchWriteItem (delete)',
      () =>
        new BatchWriteItemCommand({
          RequestItems: { [TABLE]: [{ DeleteRequest: { Key: { pk: { S: 'c1' } } } }] },
        }),
      { item: false, ana: 0, masked: 0 },
    ],
    [
      'UpdateItem (masking the index key)',
      () =>
        new UpdateItemCommand({
          TableName: TABLE,
          Key: { pk: { S: 'c1' } },
          UpdateExpression: 'SET email = :masked',
          ExpressionAttributeValues: { ':masked': { S: 'hmac:00' } },
        }),
      { item: true, ana: 0, masked: 1 },
    ],
    [
      'PutItem (replacing it)',
      () => new PutItemCommand({ TableName: TABLE, Item: { pk: { S: 'c1' }, email: { S: 'hmac:00' } } }),
      { item: true, ana: 0, masked: 1 },
    ],
  ])('%s changes the item and its index entries in one LevelDB write', async (_name, command, expected) => {
    // act
    await clients.dynamodb.send(command() as DeleteItemCommand);

    // assess: one write, all or nothing, and the table and its index agree
    expect({ writes: writes.length, together: writes.map(together) }).toEqual({
      writes: 1,
      together: [true],
    });
    const item = await clients.dynamodb.send(
      new GetItemCommand({ TableName: TABLE, Key: { pk: { S: 'c1' } } }),
    );
    expect({
      item: item.Item !== undefined,
      ana: (await byEmail('ana@example.com')).length,
      masked: (await byEmail('hmac:00')).length,
    }).toEqual(expected);
  });
});
