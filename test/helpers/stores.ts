import {
  type AttributeValue,
  type CreateTableCommandInput,
  type DynamoDBClient,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { getStore } from '../../lib/datamap/load';
import type { DataMap, S3Store } from '../../lib/datamap/schema';
import { createStoresFromDataMap } from '../../lib/local/provision';
import {
  createLocalClients,
  type LocalClients,
  type LocalServers,
  startLocalServers,
} from '../../lib/local/servers';

/** A small table keyed by `pk` with an index on `email` (projecting everything), for tests of the local servers. */
export const contactsTable: CreateTableCommandInput = {
  TableName: 'contacts',
  BillingMode: 'PAY_PER_REQUEST',
  AttributeDefinitions: [
    { AttributeName: 'pk', AttributeType: 'S' },
    { AttributeName: 'email', AttributeType: 'S' },
  ],
  KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
  GlobalSecondaryIndexes: [
    {
      IndexName: 'by-email',
      KeySchema: [{ AttributeName: 'email', KeyType: 'HASH' }],
      Projection: { ProjectionType: 'ALL' },
    },
  ],
};

/** A store of the data map that the test needs to be an S3 store. */
export function s3StoreOf(dataMap: DataMap, id: string): S3Store {
  const store = getStore(dataMap, id);
  if (store.kind !== 's3') throw new Error(`${id} is not an S3 store`);
  return store;
}

/** Every item of a table, all pages, as stored (AttributeValues): for byte-for-byte comparisons. */
export async function scanAll(
  dynamodb: DynamoDBClient,
  table: string,
): Promise<Record<string, AttributeValue>[]> {
  const items: Record<string, AttributeValue>[] = [];
  let startKey: Record<string, AttributeValue> | undefined;
  do {
    const page = await dynamodb.send(
      new ScanCommand({ TableName: table, ...(startKey ? { ExclusiveStartKey: startKey } : {}) }),
    );
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items;
}

/** Every object key under a prefix, all pages. */
export async function listAll(s3: S3Client, bucket: string, prefix = ''): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        Prefix: prefix,
        ...(token ? { ContinuationToken: token } : {}),
      }),
    );
    keys.push(...(page.Contents ?? []).map((object) => object.Key as string));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

/**
 * Starts dynalite and s3rver for a test file and creates the data map's tables and buckets;
 * stops them after the file. `clients` is usable from the first beforeAll hook that follows.
 */
export function useLocalStores(dataMap: Pick<DataMap, 'stores'>): {
  readonly clients: LocalClients;
  readonly servers: LocalServers;
} {
  let servers: LocalServers | undefined;
  let clients: LocalClients | undefined;
  beforeAll(async () => {
    servers = await startLocalServers();
    clients = createLocalClients(servers);
    await createStoresFromDataMap(dataMap, clients);
  });
  afterAll(async () => {
    clients?.dynamodb.destroy();
    clients?.s3.destroy();
    await servers?.stop();
  });
  return {
    get clients() {
      if (!clients)
        throw new Error(
          'useLocalStores: the servers are not started yet (use clients inside hooks or tests)',
        );
      return clients;
    },
    get servers() {
      if (!servers)
        throw new Error(
          'useLocalStores: the servers are not started yet (use servers inside hooks or tests)',
        );
      return servers;
    },
  };
}
