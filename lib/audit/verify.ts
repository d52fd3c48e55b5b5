import type { StoredAnchor } from './anchor';
import { type AuditDeps, type AuditEvent, GENESIS_HASH, hashAuditEvent, streamAuditEvents } from './log';

/**
 * Verification of the audit log: one pass in sequence order, holding the previous event and the
 * next one (to tell an insertion or a swap from an edit), so memory stays constant however long
 * the log. It stops at the first bad event and says what is wrong with it.
 */

/** What is wrong with the chain at the first bad event. */
export type ChainProblemKind =
  | 'edited'
  | 'missing'
  | 'reordered'
  | 'inserted'
  | 'anchor-mismatch'
  | 'shorter-than-anchor';

export interface ChainProblem {
  kind: ChainProblemKind;
  /** The sequence number of the first bad event (for a missing event: the first one missing). */
  seq: number;
  message: string;
  /** The anchor that disagrees, for anchor problems. */
  anchor?: { key: string; versionId?: string; seq: number; hash: string; anchoredAt: string };
}

export interface ChainVerification {
  ok: boolean;
  fromSeq: number;
  /** Events read and checked. */
  checked: number;
  /** The last event read (the head of the log when the chain is intact). */
  head: { seq: number; hash: string; at: string } | null;
  /** Anchors compared with the chain, and the newest of them. */
  anchors: { checked: number; latest: { seq: number; hash: string; anchoredAt: string } | null };
  problem: ChainProblem | null;
}

/** How far an event is looked for at other positions, to tell a move from an edit. */
const MOVE_WINDOW = 3;

/** Whether an event's stored hash is the hash of its content. */
function selfConsistent(event: AuditEvent): boolean {
  const { hash, ...unhashed } = event;
  return typeof hash === 'string' && hashAuditEvent(unhashed) === hash;
}

/**
 * The sequence number an event's stored hash was computed under, when that is not the one it has
 * now: it was moved there (a swap, an insertion or a removal renumbered it).
 */
function movedFrom(event: AuditEvent): number | undefined {
  const { hash, ...unhashed } = event;
  for (let distance = 1; distance <= MOVE_WINDOW; distance += 1) {
    for (const seq of [event.seq + distance, event.seq - distance]) {
      if (seq >= 1 && hashAuditEvent({ ...unhashed, seq }) === hash) return seq;
    }
  }
  return undefined;
}

/** Why an event that does not match its own hash is wrong, looking at the one after it. */
function classifyBroken(event: AuditEvent, next: AuditEvent | undefined): ChainProblem {
  const seq = event.seq;
  const origin = movedFrom(event);
  const nextOrigin = next && !selfConsistent(next) ? movedFrom(next) : undefined;
  if (origin !== undefined && origin > seq) {
    if (nextOrigin === seq) {
      return {
        kind: 'reordered',
        seq,
        message: `event ${seq} was reordered: it holds the event written as ${origin}, and event ${next?.seq} the one written as ${seq}`,
      };
    }
    return {
      kind: 'missing',
      seq,
      message: `event ${seq} is missing: the log was renumbered after removing it (event ${seq} holds the event written as ${origin})`,
    };
  }
  if (origin !== undefined && origin < seq) {
    return {
      kind: 'inserted',
      seq: origin,
      message: `event ${origin} was inserted: the events after it were renumbered (event ${seq} holds the event written as ${origin})`,
    };
  }
  if (next && nextOrigin === seq) {
    return {
      kind: 'inserted',
      seq,
      message: `event ${seq} was inserted: the event written as ${seq} now sits at ${next.seq}`,
    };
  }
  return {
    kind: 'edited',
    seq,
    message: `event ${seq} was edited: its content no longer matches its hash`,
  };
}

/** A one-event look-ahead over an async iterator. */
class Cursor {
  private buffered: IteratorResult<AuditEvent> | undefined;
  constructor(private readonly source: AsyncIterator<AuditEvent>) {}
  async peek(): Promise<AuditEvent | undefined> {
    this.buffered ??= await this.source.next();
    return this.buffered.done ? undefined : this.buffered.value;
  }
  async next(): Promise<AuditEvent | undefined> {
    const value = await this.peek();
    this.buffered = undefined;
    return value;
  }
}

const anchorView = (anchor: StoredAnchor) => ({
  key: anchor.key,
  ...(anchor.versionId ? { versionId: anchor.versionId } : {}),
  seq: anchor.seq,
  hash: anchor.hash,
  anchoredAt: anchor.anchoredAt,
});

/**
 * Verifies the audit log from `fromSeq` (default 1) to its head against itself and the anchors:
 * each event must match its hash, follow its predecessor's hash, and come right after it; each
 * anchor must name an event the chain holds, with the same hash. Stops at the first problem.
 * @param anchors the anchors at or after `fromSeq` (listAnchors), in any order
 */
export async function verifyAuditChain(
  deps: Pick<AuditDeps, 'doc' | 'auditTable'>,
  anchors: readonly StoredAnchor[],
  options: { fromSeq?: number; pageSize?: number } = {},
): Promise<ChainVerification> {
  const fromSeq = Math.max(1, options.fromSeq ?? 1);
  // Anchors before `fromSeq` bind events not read; one of the empty log (seq 0) binds nothing.
  const pending = [...anchors].filter((anchor) => anchor.seq >= fromSeq).sort((a, b) => a.seq - b.seq);
  let anchorIndex = 0;
  let anchorsChecked = 0;
  const latest = pending.reduce<StoredAnchor | undefined>(
    (newest, anchor) => (!newest || anchor.anchoredAt > newest.anchoredAt ? anchor : newest),
    undefined,
  );
  const cursor = new Cursor(
    streamAuditEvents(deps, {
      fromSeq: fromSeq - 1,
      ...(options.pageSize ? { pageSize: options.pageSize } : {}),
    })[Symbol.asyncIterator](),
  );
  let previous: AuditEvent | undefined;
  let checked = 0;
  const result = (problem: ChainProblem | null): ChainVerification => ({
    ok: problem === null,
    fromSeq,
    checked,
    head: previous ? { seq: previous.seq, hash: previous.hash, at: previous.at } : null,
    anchors: {
      checked: anchorsChecked,
      latest: latest ? { seq: latest.seq, hash: latest.hash, anchoredAt: latest.anchoredAt } : null,
    },
    problem,
  });

  // The event before `fromSeq` is where the checked part hangs from: read, trusted, not checked.
  if (fromSeq > 1) {
    const before = await cursor.peek();
    if (before?.seq === fromSeq - 1) previous = await cursor.next();
  }

  let expected = fromSeq;
  for (let event = await cursor.next(); event; event = await cursor.next()) {
    if (event.seq > expected) {
      const last = event.seq - 1;
      return result({
        kind: 'missing',
        seq: expected,
        message:
          last === expected
            ? `event ${expected} is missing: the log goes from ${expected - 1} to ${event.seq}`
            : `events ${expected} to ${last} are missing: the log goes from ${expected - 1} to ${event.seq}`,
      });
    }
    checked += 1;
    if (!selfConsistent(event)) return result(classifyBroken(event, await cursor.peek()));
    if (previous && event.prevHash !== previous.hash) {
      return result({
        kind: 'edited',
        seq: previous.seq,
        message: `event ${previous.seq} was edited and its hash recomputed: event ${event.seq} records a different hash for it`,
      });
    }
    if (previous === undefined && fromSeq === 1 && event.prevHash !== GENESIS_HASH) {
      return result({
        kind: 'missing',
        seq: 1,
        message: `the events before ${event.seq} are missing: the first event does not start the chain`,
      });
    }
    while (pending[anchorIndex] && (pending[anchorIndex]?.seq ?? 0) <= event.seq) {
      const anchor = pending[anchorIndex] as StoredAnchor;
      anchorIndex += 1;
      anchorsChecked += 1;
      if (anchor.seq === event.seq && anchor.hash !== event.hash) {
        return result({
          kind: 'anchor-mismatch',
          seq: event.seq,
          message: `event ${event.seq} does not match the anchor taken at ${anchor.anchoredAt} (${anchor.key}): the chain was rewritten after it`,
          anchor: anchorView(anchor),
        });
      }
    }
    previous = event;
    expected = event.seq + 1;
  }
  const beyond = pending[pending.length - 1];
  if (beyond && beyond.seq > (previous?.seq ?? 0)) {
    const head = previous?.seq ?? 0;
    return result({
      kind: 'shorter-than-anchor',
      seq: head + 1,
      message: `the chain ends at event ${head}, but the anchor taken at ${beyond.anchoredAt} (${beyond.key}) says it reached ${beyond.seq}: events ${head + 1} to ${beyond.seq} are gone`,
      anchor: anchorView(beyond),
    });
  }
  return result(null);
}
