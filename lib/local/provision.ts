import type { AttributeDefinition, CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import type { DataMap, DynamoStore, KeyAttribute } from '../datamap/schema';
import type { StoreClients } from '../stores/types';
import { createBucketIfMissing, createTableIfMissing } from './servers';

/**
 * The CreateTable input for a DynamoDB store as the data map describes it: its key schema and
 * every GSI, on-demand billing. GSIs project ALL attributes: the adapter re-reads index hits
 * from the table anyway, but ALL keeps the local tables close to what most companies deploy.
 * @throws Error when the same attribute is declared with two different types
 */
export function tableInputFor(store: DynamoStore): CreateTableCommandInput {
  const definitions = new Map<string, AttributeDefinition>();
  const define = (attribute: KeyAttribute) => {
    const existing = definitions.get(attribute.name);
    if (existing && existing.AttributeType !== attribute.type) {
      throw new Error(
        `store ${store.id}: attribute "${attribute.name}" is declared both as ${existing.AttributeType} and ${attribute.type}`,
      );
    }
    definitions.set(attribute.name, { AttributeName: attribute.name, AttributeType: attribute.type });
  };
  const keySchema = (partitionKey: KeyAttribute, sortKey?: KeyAttribute) => {
    define(partitionKey);
    if (sortKey) define(sortKey);
    return [
      { AttributeName: partitionKey.name, KeyType: 'HASH' as const },
      ...(sortKey ? [{ AttributeName: sortKey.name, KeyType: 'RANGE' as const }] : []),
    ];
  };

  const input: CreateTableCommandInput = {
    TableName: store.table,
    BillingMode: 'PAY_PER_REQUEST',
    KeySchema: keySchema(store.keySchema.partitionKey, store.keySchema.sortKey),
    AttributeDefinitions: [],
  };
  if (store.indexes.length > 0) {
    input.GlobalSecondaryIndexes = store.indexes.map((index) => ({
      IndexName: index.name,
      KeySchema: keySchema(index.partitionKey, index.sortKey),
      Projection: { ProjectionType: 'ALL' },
    }));
  }
  input.AttributeDefinitions = [...definitions.values()];
  return input;
}

/**
 * Creates every DynamoDB table (key schema and GSIs) and every S3 bucket the data map
 * describes, unless it exists: the local runtime and the integration tests start from this.
 * Existing tables are accepted as they are (their schema is not compared).
 */
export async function createStoresFromDataMap(
  dataMap: Pick<DataMap, 'stores'>,
  clients: StoreClients,
): Promise<void> {
  await Promise.all(
    dataMap.stores.map((store) =>
      store.kind === 'dynamodb'
        ? createTableIfMissing(clients.dynamodb, tableInputFor(store))
        : createBucketIfMissing(clients.s3, store.bucket),
    ),
  );
}
