import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';

/** DynamoDB operations that change nothing. */
const DYNAMODB_READS = new Set([
  'GetItem',
  'BatchGetItem',
  'Query',
  'Scan',
  'TransactGetItems',
  'DescribeTable',
  'ListTables',
  'DescribeTimeToLive',
  'DescribeContinuousBackups',
  'ListTagsOfResource',
]);

/** What a request on the wire would do: the DynamoDB operation, or the S3 method and path. */
interface WireRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
}

/**
 * A tap on store clients that records every request able to change a table or a bucket that the
 * server accepted: a DynamoDB operation other than a read, and an S3 request other than GET or
 * HEAD. It sees each request as it goes on the wire (after the document client has marshalled
 * it), so nothing sent through these clients escapes it, whatever the command, and a write that
 * changes no byte (putting an item back as it was) is seen as well. A write the server refused (a
 * conditional update whose condition failed) changed nothing and is not recorded.
 */
export interface WriteTap {
  /** The writes recorded since the last `clear`, e.g. `DynamoDB PutItem`, `S3 PUT /bucket/key`. */
  readonly writes: readonly string[];
  clear(): void;
}

export function tapWrites(clients: { dynamodb: DynamoDBClient; s3: S3Client }): WriteTap {
  const writes: string[] = [];
  const step = { step: 'finalizeRequest' as const, name: 'letheWriteTap', override: true };
  clients.dynamodb.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as WireRequest;
      const operation = (request.headers['x-amz-target'] ?? '').split('.').pop() ?? '';
      const result = await next(args);
      if (!DYNAMODB_READS.has(operation)) writes.push(`DynamoDB ${operation || request.method}`);
      return result;
    },
    step,
  );
  clients.s3.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as WireRequest;
      const result = await next(args);
      if (request.method !== 'GET' && request.method !== 'HEAD')
        writes.push(`S3 ${request.method} ${request.path}`);
      return result;
    },
    step,
  );
  return {
    writes,
    clear: () => {
      writes.length = 0;
    },
  };
}
