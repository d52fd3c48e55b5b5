import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import {
  type AttributeValue,
  BatchWriteItemCommand,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  paginateListObjectsV2,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import {
  compactDynamoStore,
  createBucketIfMissing,
  createLocalClients,
  createTableIfMissing,
  type LocalClients,
  type LocalServers,
  startLocalServers,
} from '../../../lib/local/servers';
import { identifiersAtRest } from '../../helpers/at-rest';
import { contactsTable } from '../../helpers/stores';

function destroy(clients: LocalClients): void {
  clients.dynamodb.destroy();
  clients.s3.destroy();
}

async function bodyBytes(clients: LocalClients, bucket: string, key: string): Promise<Buffer> {
  const object = await clients.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await object.Body!.transformToByteArray());
}

/** Deterministic pseudo-random bytes, so a corrupted upload cannot match by accident. */
function pseudoRandomBytes(length: number): Buffer {
  const out = Buffer.alloc(length);
  let offset = 0;
  for (let counter = 0; offset < length; counter++) {
    offset += createHash('sha256').update(`block-${counter}`).digest().copy(out, offset);
  }
  return out;
}

describe('local servers (in memory)', () => {
  let servers: LocalServers;
  let clients: LocalClients;

  beforeAll(async () => {
    servers = await startLocalServers();
    clients = createLocalClients(servers);
    await createTableIfMissing(clients.dynamodb, contactsTable);
    await createBucketIfMissing(clients.s3, 'lethe-test');
  });

  afterAll(async () => {
    destroy(clients);
    await servers.stop();
  });

  it('binds both servers to 127.0.0.1 on ephemeral ports', () => {
    // assess
    expect(servers.dynamodbEndpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(servers.s3Endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(servers.s3Endpoint).not.toBe(servers.dynamodbEndpoint);
  });

  it('creates tables and buckets idempotently', async () => {
    // act
    await createTableIfMissing(clients.dynamodb, contactsTable);
    await createBucketIfMissing(clients.s3, 'lethe-test');
    // assess: no ResourceInUse / BucketAlreadyOwnedByYou escaped
    await expect(createBucketIfMissing(clients.s3, 'lethe-test')).resolves.toBeUndefined();
  });

  it('puts and gets a DynamoDB item', async () => {
    // prepare
    const item = { pk: { S: 'user#1' }, email: { S: 'ada@example.com' }, visits: { N: '1' } };
    // act
    await clients.dynamodb.send(new PutItemCommand({ TableName: 'contacts', Item: item }));
    const got = await clients.dynamodb.send(
      new GetItemCommand({ TableName: 'contacts', Key: { pk: { S: 'user#1' } } }),
    );
    // assess
    expect(got.Item).toEqual(item);
  });

  it('supports ConditionExpression on UpdateItem', async () => {
    // prepare
    await clients.dynamodb.send(
      new PutItemCommand({ TableName: 'contacts', Item: { pk: { S: 'user#2' }, seq: { N: '1' } } }),
    );
    const bumpFrom = (expected: string) =>
      clients.dynamodb.send(
        new UpdateItemCommand({
          TableName: 'contacts',
          Key: { pk: { S: 'user#2' } },
          UpdateExpression: 'SET seq = seq + :one',
          ConditionExpression: 'seq = :expected',
          ExpressionAttributeValues: { ':one': { N: '1' }, ':expected': { N: expected } },
          ReturnValues: 'ALL_NEW',
        }),
      );
    // act
    const first = await bumpFrom('1');
    const stale = bumpFrom('1');
    // assess
    expect(first.Attributes?.seq).toEqual({ N: '2' });
    await expect(stale).rejects.toBeInstanceOf(ConditionalCheckFailedException);
  });

  it('compares lists and maps by value in a ConditionExpression, as DynamoDB does', async () => {
    // prepare: a list, a map, and a list of maps and sets (dynalite compared these by reference)
    const stored: Record<string, AttributeValue> = {
      list: { L: [{ S: 'a' }, { N: '1' }] },
      map: { M: { x: { S: 'a' }, y: { L: [{ BOOL: true }] } } },
      nested: { L: [{ M: { tags: { SS: ['p', 'q'] } } }, { NULL: true }] },
    };
    await clients.dynamodb.send(
      new PutItemCommand({ TableName: 'contacts', Item: { pk: { S: 'user#3' }, ...stored } }),
    );
    const setIf = (attribute: string, condition: string, value: AttributeValue) =>
      clients.dynamodb.send(
        new UpdateItemCommand({
          TableName: 'contacts',
          Key: { pk: { S: 'user#3' } },
          UpdateExpression: 'SET touched = :now',
          ConditionExpression: `#a ${condition} :v`,
          ExpressionAttributeNames: { '#a': attribute },
          ExpressionAttributeValues: { ':now': { S: `${attribute} ${condition}` }, ':v': value },
        }),
      );
    const sameSetOtherOrder = { L: [{ M: { tags: { SS: ['q', 'p'] } } }, { NULL: true }] };

    // act and assess: equal values (a set in another order too) pass, others fail
    for (const [attribute, value] of [...Object.entries(stored), ['nested', sameSetOtherOrder] as const]) {
      await expect(setIf(attribute, '=', value)).resolves.toBeDefined();
      await expect(setIf(attribute, '<>', value)).rejects.toBeInstanceOf(ConditionalCheckFailedException);
    }
    const different: [string, AttributeValue][] = [
      ['list', { L: [{ S: 'a' }] }],
      ['list', { L: [{ N: '1' }, { S: 'a' }] }],
      ['list', { L: [{ S: 'a' }, { S: '1' }] }],
      ['map', { M: { x: { S: 'a' } } }],
      ['map', { M: { x: { S: 'a' }, y: { L: [{ BOOL: false }] } } }],
      ['list', { SS: ['a', '1'] }],
    ];
    for (const [attribute, value] of different) {
      await expect(setIf(attribute, '=', value)).rejects.toBeInstanceOf(ConditionalCheckFailedException);
      await expect(setIf(attribute, '<>', value)).resolves.toBeDefined();
    }
  });

  it('queries a global secondary index', async () => {
    // prepare
    await clients.dynamodb.send(
      new PutItemCommand({
        TableName: 'contacts',
        Item: { pk: { S: 'user#3' }, email: { S: 'grace@example.com' } },
      }),
    );
    // act
    const result = await clients.dynamodb.send(
      new QueryCommand({
        TableName: 'contacts',
        IndexName: 'by-email',
        KeyConditionExpression: 'email = :email',
        ExpressionAttributeValues: { ':email': { S: 'grace@example.com' } },
      }),
    );
    // assess
    expect(result.Items?.map((i) => i.pk)).toEqual([{ S: 'user#3' }]);
  });

  it('writes and deletes 25 items with BatchWriteItem, never returning UnprocessedItems', async () => {
    // prepare
    const keys = Array.from({ length: 25 }, (_, i) => ({ pk: { S: `batch#${i}` } }));
    // act
    const put = await clients.dynamodb.send(
      new BatchWriteItemCommand({
        RequestItems: { contacts: keys.map((k) => ({ PutRequest: { Item: { ...k, n: { N: '1' } } } })) },
      }),
    );
    const afterPut = await clients.dynamodb.send(
      new GetItemCommand({ TableName: 'contacts', Key: keys[24]! }),
    );
    const del = await clients.dynamodb.send(
      new BatchWriteItemCommand({
        RequestItems: { contacts: keys.map((k) => ({ DeleteRequest: { Key: k } })) },
      }),
    );
    const afterDelete = await clients.dynamodb.send(
      new GetItemCommand({ TableName: 'contacts', Key: keys[24]! }),
    );
    // assess
    expect(put.UnprocessedItems ?? {}).toEqual({});
    expect(afterPut.Item?.n).toEqual({ N: '1' });
    expect(del.UnprocessedItems ?? {}).toEqual({});
    expect(afterDelete.Item).toBeUndefined();
  });

  it('does not implement TransactWriteItems (documented dynalite limitation)', async () => {
    // prepare
    const put = { TableName: 'contacts', Item: { pk: { S: 'tx#1' } } as Record<string, AttributeValue> };
    // act
    const attempt = clients.dynamodb.send(new TransactWriteItemsCommand({ TransactItems: [{ Put: put }] }));
    // assess
    await expect(attempt).rejects.toMatchObject({ name: 'UnknownOperationException' });
  });

  it('puts and gets a small S3 object', async () => {
    // act
    await clients.s3.send(
      new PutObjectCommand({ Bucket: 'lethe-test', Key: 'small/hello.json', Body: '{"hello":"world"}' }),
    );
    const got = await bodyBytes(clients, 'lethe-test', 'small/hello.json');
    // assess
    expect(got.toString('utf8')).toBe('{"hello":"world"}');
  });

  it('stores a ~5 MB streamed multipart Upload byte-for-byte', async () => {
    // prepare: a stream of unknown length, larger than one 5 MiB part, so Upload goes multipart
    const payload = pseudoRandomBytes(5 * 1024 * 1024 + 123_457);
    const chunks = Array.from({ length: Math.ceil(payload.length / 65_536) }, (_, i) =>
      payload.subarray(i * 65_536, (i + 1) * 65_536),
    );
    // act
    await new Upload({
      client: clients.s3,
      params: { Bucket: 'lethe-test', Key: 'big/stream.bin', Body: Readable.from(chunks) },
    }).done();
    const got = await bodyBytes(clients, 'lethe-test', 'big/stream.bin');
    // assess
    expect(got.length).toBe(payload.length);
    expect(got.equals(payload)).toBe(true);
  });

  it('stores a streamed PutObject body byte-for-byte (sent aws-chunked without WHEN_REQUIRED)', async () => {
    // prepare
    const payload = pseudoRandomBytes(300_000);
    // act
    await clients.s3.send(
      new PutObjectCommand({
        Bucket: 'lethe-test',
        Key: 'big/put-stream.bin',
        Body: Readable.from([payload.subarray(0, 100_000), payload.subarray(100_000)]),
        ContentLength: payload.length,
      }),
    );
    const got = await bodyBytes(clients, 'lethe-test', 'big/put-stream.bin');
    // assess
    expect(got.equals(payload)).toBe(true);
  });

  it('lists 1,100 objects across pages with ListObjectsV2 continuation tokens', async () => {
    // prepare
    const keys = Array.from({ length: 1100 }, (_, i) => `many/${String(i).padStart(5, '0')}.txt`);
    for (let i = 0; i < keys.length; i += 50) {
      await Promise.all(
        keys
          .slice(i, i + 50)
          .map((Key) => clients.s3.send(new PutObjectCommand({ Bucket: 'lethe-test', Key, Body: Key }))),
      );
    }
    // act
    const listed: string[] = [];
    let pages = 0;
    for await (const page of paginateListObjectsV2(
      { client: clients.s3 },
      { Bucket: 'lethe-test', Prefix: 'many/' },
    )) {
      pages++;
      listed.push(...(page.Contents ?? []).map((o) => o.Key!));
    }
    // assess
    expect(pages).toBe(2);
    expect(listed).toEqual(keys);
  });

  it('deletes objects in bulk and serves pre-signed GET URLs', async () => {
    // prepare
    await clients.s3.send(new PutObjectCommand({ Bucket: 'lethe-test', Key: 'gone/a', Body: 'a' }));
    await clients.s3.send(new PutObjectCommand({ Bucket: 'lethe-test', Key: 'gone/b', Body: 'b' }));
    // act
    await clients.s3.send(
      new DeleteObjectsCommand({
        Bucket: 'lethe-test',
        Delete: { Objects: [{ Key: 'gone/a' }, { Key: 'gone/b' }] },
      }),
    );
    const remaining = await clients.s3.send(
      new ListObjectsV2Command({ Bucket: 'lethe-test', Prefix: 'gone/' }),
    );
    const url = await getSignedUrl(
      clients.s3,
      new GetObjectCommand({ Bucket: 'lethe-test', Key: 'small/hello.json' }),
      { expiresIn: 60 },
    );
    const response = await fetch(url);
    // assess
    expect(remaining.KeyCount).toBe(0);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('{"hello":"world"}');
  });
});

describe('local servers with a state directory', () => {
  let stateDir: string;

  beforeAll(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'lethe-state-test-'));
  });

  afterAll(async () => {
    await rm(stateDir, { recursive: true, force: true });
  });

  it('keeps tables, items, buckets and objects across stop and restart', async () => {
    // prepare
    const first = await startLocalServers({ stateDir });
    const firstClients = createLocalClients(first);
    await createTableIfMissing(firstClients.dynamodb, contactsTable);
    await createBucketIfMissing(firstClients.s3, 'lethe-persist');
    await firstClients.dynamodb.send(
      new PutItemCommand({
        TableName: 'contacts',
        Item: { pk: { S: 'kept' }, email: { S: 'k@example.com' } },
      }),
    );
    await firstClients.s3.send(new PutObjectCommand({ Bucket: 'lethe-persist', Key: 'k/1', Body: 'kept' }));
    destroy(firstClients);
    await first.stop();

    // act
    const second = await startLocalServers({ stateDir });
    const secondClients = createLocalClients(second);
    try {
      await createTableIfMissing(secondClients.dynamodb, contactsTable);
      await createBucketIfMissing(secondClients.s3, 'lethe-persist');
      const item = await secondClients.dynamodb.send(
        new GetItemCommand({ TableName: 'contacts', Key: { pk: { S: 'kept' } } }),
      );
      const viaIndex = await secondClients.dynamodb.send(
        new QueryCommand({
          TableName: 'contacts',
          IndexName: 'by-email',
          KeyConditionExpression: 'email = :e',
          ExpressionAttributeValues: { ':e': { S: 'k@example.com' } },
        }),
      );
      const object = await bodyBytes(secondClients, 'lethe-persist', 'k/1');

      // assess
      expect(item.Item?.email).toEqual({ S: 'k@example.com' });
      expect(viaIndex.Count).toBe(1);
      expect(object.toString()).toBe('kept');
    } finally {
      destroy(secondClients);
      await second.stop();
    }
  });

  it('compacts the DynamoDB store so that deleted values leave its files, and keeps the rest', async () => {
    // prepare: items written in one session (so they reach LevelDB's tables), one deleted in the next
    const dir = await mkdtemp(join(tmpdir(), 'lethe-compact-test-'));
    const session = async (work: (clients: LocalClients) => Promise<void>) => {
      const servers = await startLocalServers({ stateDir: dir });
      const clients = createLocalClients(servers);
      try {
        await work(clients);
      } finally {
        destroy(clients);
        await servers.stop();
      }
    };
    await session(async (clients) => {
      await createTableIfMissing(clients.dynamodb, contactsTable);
      for (const [pk, email] of [
        ['gone', 'erased.person@example.com'],
        ['kept', 'kept.person@example.com'],
      ] as const) {
        await clients.dynamodb.send(
          new PutItemCommand({ TableName: 'contacts', Item: { pk: { S: pk }, email: { S: email } } }),
        );
      }
    });
    await session(async (clients) => {
      await clients.dynamodb.send(
        new DeleteItemCommand({ TableName: 'contacts', Key: { pk: { S: 'gone' } } }),
      );
    });
    const lingering = identifiersAtRest(join(dir, 'dynamodb'), ['erased.person@example.com']);

    // act
    await compactDynamoStore(join(dir, 'dynamodb'));

    // assess
    try {
      expect(lingering).not.toEqual([]);
      expect(identifiersAtRest(join(dir, 'dynamodb'), ['erased.person@example.com'])).toEqual([]);
      await session(async (clients) => {
        const kept = await clients.dynamodb.send(
          new GetItemCommand({ TableName: 'contacts', Key: { pk: { S: 'kept' } } }),
        );
        expect(kept.Item?.email).toEqual({ S: 'kept.person@example.com' });
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('fails fast when another instance holds the same state directory', async () => {
    // prepare
    const holder = await startLocalServers({ stateDir });
    try {
      // act
      const contender = startLocalServers({ stateDir });
      // assess
      await expect(contender).rejects.toThrow(/cannot be opened, most likely because another lethe process/);
    } finally {
      await holder.stop();
    }
  });

  it('holds the DynamoDB store from start to stop: another process cannot open it in between', async () => {
    // prepare: another process opening the store as dynalite does, with the same LevelDB binding
    const otherProcessOpens = async (): Promise<string> => {
      const script = `
        const { Level } = require('node:module').createRequire(require.resolve('dynalite'))('level');
        const db = new Level(${JSON.stringify(join(stateDir, 'dynamodb'))});
        db.open().then(() => db.close()).then(() => console.log('opened'), (err) => console.log(err.cause?.code ?? err.code));`;
      const { stdout } = await promisify(execFile)(process.execPath, ['-e', script], { cwd: process.cwd() });
      return stdout.trim();
    };
    const servers = await startLocalServers({ stateDir });
    let whileRunning: string;
    try {
      // act
      whileRunning = await otherProcessOpens();
    } finally {
      await servers.stop();
    }
    const afterStop = await otherProcessOpens();

    // assess
    expect({ whileRunning, afterStop }).toEqual({ whileRunning: 'LEVEL_LOCKED', afterStop: 'opened' });
  });
});
