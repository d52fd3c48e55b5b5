import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

/**
 * The holds table's key and its sparse index of active holds (see active-index.ts), for the stack
 * (lib/infra/stateful-stack.ts) and the local runtime alike. No SDK code here: the stack imports it.
 */
export const HOLDS_TABLE = {
  partitionKey: 'holdId',
  activeIndex: { name: 'active-holds', partitionKey: 'activeHold' },
} as const;

/** The CreateTable input of the holds table with its active-holds index (the local runtime's). */
export function holdsTableInput(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    KeySchema: [{ AttributeName: HOLDS_TABLE.partitionKey, KeyType: 'HASH' }],
    AttributeDefinitions: [
      { AttributeName: HOLDS_TABLE.partitionKey, AttributeType: 'S' },
      { AttributeName: HOLDS_TABLE.activeIndex.partitionKey, AttributeType: 'S' },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: HOLDS_TABLE.activeIndex.name,
        KeySchema: [{ AttributeName: HOLDS_TABLE.activeIndex.partitionKey, KeyType: 'HASH' }],
        Projection: { ProjectionType: 'ALL' },
      },
    ],
    BillingMode: 'PAY_PER_REQUEST',
  };
}
