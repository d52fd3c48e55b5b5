import * as z from 'zod';
import type { LetheDeps } from '../deps';
import { indexObjectChange, type ObjectChange } from '../lake/events';

/**
 * The identity indexer's wiring: SQS messages carrying S3 event notifications (ObjectCreated:*,
 * ObjectRemoved:*) become object changes for lib/lake. A message whose changes could not all be
 * indexed is reported as a batch item failure, so SQS delivers it again (and after the queue's
 * receive limit, moves it to the dead-letter queue); the others are done.
 */

const s3EventRecord = z.object({
  eventName: z.string(),
  s3: z.object({
    bucket: z.object({ name: z.string() }),
    object: z.object({ key: z.string(), eTag: z.string().optional() }),
  }),
});

const s3Notification = z.union([
  z.object({ Records: z.array(s3EventRecord) }),
  // S3 sends one when the notification is configured: nothing to index.
  z.object({ Event: z.literal('s3:TestEvent') }).transform(() => ({ Records: [] })),
]);

const sqsEvent = z.object({
  Records: z.array(z.object({ messageId: z.string(), body: z.string() })),
});

/** The answer SQS reads from a function with ReportBatchItemFailures. */
export interface BatchResponse {
  batchItemFailures: { itemIdentifier: string }[];
}

/**
 * The object changes one message body reports. Keys arrive URL-encoded with `+` for spaces; the
 * event's ETag is unquoted, the API's is quoted.
 * @throws when the body is not an S3 event notification
 */
export function objectChangesOf(body: string): ObjectChange[] {
  const notification = s3Notification.parse(JSON.parse(body));
  return notification.Records.flatMap((record): ObjectChange[] => {
    const change = record.eventName.startsWith('ObjectCreated:')
      ? 'created'
      : record.eventName.startsWith('ObjectRemoved:')
        ? 'removed'
        : undefined;
    if (!change) return [];
    const key = decodeURIComponent(record.s3.object.key.replace(/\+/g, ' '));
    const etag = record.s3.object.eTag;
    return [
      {
        bucket: record.s3.bucket.name,
        key,
        change,
        ...(change === 'created' && etag ? { etag: `"${etag}"` } : {}),
      },
    ];
  });
}

/**
 * Indexes the changes of a batch of SQS messages, one message after the other. Failures are
 * logged by name and count only: an object key can be an identifier.
 */
export async function indexQueuedChanges(deps: LetheDeps, event: unknown): Promise<BatchResponse> {
  const batch = sqsEvent.parse(event);
  const batchItemFailures: BatchResponse['batchItemFailures'] = [];
  for (const message of batch.Records) {
    try {
      for (const change of objectChangesOf(message.body)) await indexObjectChange(deps, change);
    } catch (error) {
      deps.log.warn('object changes not indexed', {
        messageId: message.messageId,
        error: (error as Error).name,
      });
      batchItemFailures.push({ itemIdentifier: message.messageId });
    }
  }
  return { batchItemFailures };
}
