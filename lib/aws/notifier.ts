import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { SubjectNotice, SubjectNotifier } from '../deps';

/** The EventBridge source and detail type of a notice for the subject (rules of a privacy portal match on them). */
export const NOTICE_SOURCE = 'lethe';
export const NOTICE_DETAIL_TYPE = 'lethe request notice';

/** What the event's detail holds: the notice, the export as an S3 URI instead of bucket and key. */
export function noticeDetail(notice: SubjectNotice) {
  const { export: located, ...rest } = notice;
  return {
    ...rest,
    // The portal's own role pre-signs it for the subject: a URL signed with a function's session
    // credentials would stop working when the session ends, long before the link's lifetime.
    exportLink: located ? `s3://${located.bucket}/${located.key}` : null,
    exportExpiresAt: located?.expiresAt ?? null,
  };
}

let containerClient: EventBridgeClient | undefined;

/**
 * Publishes notices for the subject as events on the account's default EventBridge bus: request
 * id, status, dates and where the export is, never an identifier.
 * @throws Error when EventBridge refuses the event (the step is retried)
 */
export function eventBridgeNotifier(client?: EventBridgeClient): SubjectNotifier {
  return {
    async publish(notice) {
      containerClient ??= new EventBridgeClient({});
      const response = await (client ?? containerClient).send(
        new PutEventsCommand({
          Entries: [
            {
              Source: NOTICE_SOURCE,
              DetailType: NOTICE_DETAIL_TYPE,
              Detail: JSON.stringify(noticeDetail(notice)),
            },
          ],
        }),
      );
      if ((response.FailedEntryCount ?? 0) > 0) {
        throw new Error(
          `EventBridge refused the notice of request ${notice.requestId}: ${response.Entries?.[0]?.ErrorCode ?? 'unknown'}`,
        );
      }
    },
  };
}
