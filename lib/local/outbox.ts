import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { SubjectNotice, SubjectNotifier } from '../deps';
import { writeFileAtomic } from './atomic-file';

/** The folder of the state directory notices for subjects are written to. */
export const OUTBOX_DIR = 'outbox';

/** A notice as the outbox holds it (and as EventBridge carries it on AWS): ids, status, dates, a link. */
export interface OutboxNotice extends Omit<SubjectNotice, 'export'> {
  /** Where the export package is: locally the file `lethe request status` copies it to. */
  exportLink: string | null;
  exportExpiresAt: string | null;
}

/**
 * The local stand-in for the EventBridge event the deployed stack publishes: one JSON file per
 * notice under `<state dir>/outbox/`, named `<request id>.<status>.json` (so telling the subject
 * twice of one thing writes one file), for whatever sends the messages to pick up and remove.
 */
export function localOutbox(stateDir: string): SubjectNotifier {
  const dir = join(stateDir, OUTBOX_DIR);
  return {
    async publish(notice) {
      const { export: located, ...rest } = notice;
      const written: OutboxNotice = {
        ...rest,
        exportLink: located ? pathToFileURL(join(stateDir, 'exports', `${notice.requestId}.zip`)).href : null,
        exportExpiresAt: located?.expiresAt ?? null,
      };
      await mkdir(dir, { recursive: true });
      await writeFileAtomic(
        join(dir, `${notice.requestId}.${notice.status}.json`),
        `${JSON.stringify(written, null, 2)}\n`,
      );
    },
  };
}
