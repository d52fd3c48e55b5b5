import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  type AttributeValue,
  DeleteTableCommand,
  DescribeTableCommand,
  PutItemCommand,
  ResourceNotFoundException,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { LetheResources } from '../deps';
// These modules alone: the rest of lib/holds (audit, stores) is not needed to open a state directory.
import { readyActiveIndex } from '../holds/active-index';
import { HOLDS_TABLE, holdsTableInput } from '../holds/table-schema';
import { writeFileAtomicSync } from './atomic-file';
import type { LocalClients } from './servers';
import { createTableIfMissing } from './servers';
import { readStateJson } from './state-dir';

type Item = Record<string, AttributeValue>;

/** In the state directory while the holds table is rebuilt with its index: the holds, to put back. */
export const HOLDS_MIGRATION_FILE = 'holds-migration.json';

async function describeHolds(clients: LocalClients, tableName: string) {
  try {
    return (await clients.dynamodb.send(new DescribeTableCommand({ TableName: tableName }))).Table;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return undefined;
    throw error;
  }
}

async function scanAll(clients: LocalClients, tableName: string): Promise<Item[]> {
  const items: Item[] = [];
  let startKey: Item | undefined;
  do {
    const page = await clients.dynamodb.send(
      new ScanCommand({ TableName: tableName, ConsistentRead: true, ExclusiveStartKey: startKey }),
    );
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items;
}

async function deleteAndWait(clients: LocalClients, tableName: string): Promise<void> {
  await clients.dynamodb.send(new DeleteTableCommand({ TableName: tableName }));
  for (let delayMs = 10; await describeHolds(clients, tableName); delayMs = Math.min(delayMs * 2, 500))
    await new Promise((resolve) => setTimeout(resolve, delayMs));
}

/** Puts holds back, never over one already there (which can only be newer). */
async function putBack(clients: LocalClients, tableName: string, items: readonly Item[]): Promise<void> {
  for (const item of items) {
    try {
      await clients.dynamodb.send(
        new PutItemCommand({
          TableName: tableName,
          Item: item,
          ConditionExpression: 'attribute_not_exists(#key)',
          ExpressionAttributeNames: { '#key': HOLDS_TABLE.partitionKey },
        }),
      );
    } catch (error) {
      if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
    }
  }
}

/**
 * Creates the holds table with its active-holds index (lib/holds/active-index.ts), or gives an
 * existing one the index. The local DynamoDB server cannot add an index to a table, so a table
 * made before the index existed is rebuilt: its holds are written to a file in the state
 * directory first (atomically), the table is created again with the index, the holds are put
 * back and the file removed. A run cut short anywhere is finished by the next open, from the file.
 * Then every active hold is given the index attribute (readyActiveIndex).
 */
export async function ensureHoldsTable(
  clients: LocalClients,
  resources: LetheResources,
  stateDir: string | undefined,
): Promise<void> {
  const tableName = resources.holdsTable;
  const backup = stateDir ? join(stateDir, HOLDS_MIGRATION_FILE) : undefined;
  const table = await describeHolds(clients, tableName);
  // A table being deleted (a rebuild cut short) has no index any more either: it is deleted again.
  const indexed = (table?.GlobalSecondaryIndexes ?? []).some(
    (index) => index.IndexName === HOLDS_TABLE.activeIndex.name,
  );
  let items: Item[] | undefined;
  if (backup && existsSync(backup)) {
    items = readStateJson<Item[]>(backup);
  } else if (table && !indexed) {
    items = await scanAll(clients, tableName);
    if (backup) writeFileAtomicSync(backup, JSON.stringify(items), { mode: 0o600 });
  }
  if (table && !indexed) await deleteAndWait(clients, tableName);
  await createTableIfMissing(clients.dynamodb, holdsTableInput(tableName));
  if (items) await putBack(clients, tableName, items);
  await readyActiveIndex({ doc: DynamoDBDocumentClient.from(clients.dynamodb), resources });
  if (backup) rmSync(backup, { force: true });
}
