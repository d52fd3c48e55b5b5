import { createHash } from 'node:crypto';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, ListBucketsCommand } from '@aws-sdk/client-s3';
import { canonicalJson } from '../../lib/audit/log';
import type { StoreClients } from '../../lib/stores/types';
import { listAll, scanAll } from './stores';

/**
 * Everything the local servers hold, every table and bucket (lethe's own included), as comparable
 * text: each item byte for byte, each object by its bytes, ETag and LastModified. Equal snapshots
 * before and after a command mean it wrote nothing anywhere.
 */
export async function snapshotEverything(clients: StoreClients): Promise<Map<string, string>> {
  const entries = new Map<string, string>();
  let startTable: string | undefined;
  do {
    const page = await clients.dynamodb.send(
      new ListTablesCommand(startTable ? { ExclusiveStartTableName: startTable } : {}),
    );
    for (const table of page.TableNames ?? []) {
      const items = (await scanAll(clients.dynamodb, table)).map(canonicalJson).sort();
      entries.set(`table ${table}`, `${items.length} items`);
      for (const [index, item] of items.entries()) entries.set(`table ${table} #${index}`, item);
    }
    startTable = page.LastEvaluatedTableName;
  } while (startTable);
  const buckets = await clients.s3.send(new ListBucketsCommand({}));
  for (const { Name: bucket } of buckets.Buckets ?? []) {
    if (!bucket) continue;
    const keys = await listAll(clients.s3, bucket);
    entries.set(`bucket ${bucket}`, `${keys.length} objects`);
    for (const key of keys) {
      const object = await clients.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      const body = Buffer.from(await object.Body!.transformToByteArray());
      entries.set(
        `bucket ${bucket} ${key}`,
        `${createHash('sha256').update(body).digest('hex')} ${object.ETag} ${object.LastModified?.toISOString()}`,
      );
    }
  }
  return entries;
}
