import { hashIdentities } from '../audit/subject-hash';
import type { Store } from '../datamap/schema';
import type { LetheDeps } from '../deps';
import { liftLineRestrictions, placeLineRestrictions, restrictedLineHashes } from '../holds';
import type { LocatedLines, LocatedRecord, RecordAction, StoreRecordsResult } from '../stores';
import { workingIdentities } from './locate';
import type { RequestRecord } from './request';

/**
 * Restriction of the subject's lines in shared JSON-lines objects, for stores that declare
 * `restrict: { lines: true }`: not a mark on the object (that would restrict everyone in it) but
 * lethe's restriction records (lib/holds/restrictions.ts), keyed by the keyed hash of each identity
 * the lines were located by. Sweeps keep those lines, exports show them restricted, a lift
 * releases the records.
 */

/** Whether the store restricts lines by lethe's records. */
export function restrictsLines(store: Store): boolean {
  return store.kind === 's3' && store.restrict?.lines === true;
}

/** The located lines records of a manifest. */
export function linesOf(records: readonly LocatedRecord[]): LocatedLines[] {
  return records.filter((record): record is LocatedLines => record.kind === 'lines');
}

/** The keyed hashes of the identities located lines were found by. */
export function locatedLineHashes(deps: Pick<LetheDeps, 'keys'>, lines: readonly LocatedLines[]): string[] {
  return hashIdentities(
    deps.keys.subjectHash,
    lines.flatMap((line) => line.matched.values.map((value) => ({ type: line.matched.identity, value }))),
  );
}

/** The hashes a lift releases: every identity of the subject, so lines gone since are released too. */
function liftHashes(deps: Pick<LetheDeps, 'keys'>, record: RequestRecord, lines: readonly LocatedLines[]) {
  return [
    ...new Set([
      ...hashIdentities(deps.keys.subjectHash, workingIdentities(record, record.requestId)),
      ...locatedLineHashes(deps, lines),
    ]),
  ];
}

/**
 * Places (restriction) or releases (restriction-lift) the restriction records of the subject's
 * lines in one store. Counts lines: `updated` when records changed, `unchanged` when they were so already.
 */
export async function applyLineRestriction(
  deps: LetheDeps,
  record: RequestRecord,
  store: Store,
  lines: readonly LocatedLines[],
  action: Extract<RecordAction, { kind: 'restrict' | 'lift' }>,
): Promise<Pick<StoreRecordsResult, 'updated' | 'unchanged'>> {
  const count = lines.reduce((sum, line) => sum + line.lineCount, 0);
  const at = deps.now().toISOString();
  const changed =
    action.kind === 'restrict'
      ? await placeLineRestrictions(deps, store.id, locatedLineHashes(deps, lines), {
          requestId: record.requestId,
          at,
        })
      : await liftLineRestrictions(deps, store.id, liftHashes(deps, record, lines), {
          requestId: record.requestId,
          at,
        });
  return changed > 0 ? { updated: count, unchanged: 0 } : { updated: 0, unchanged: count };
}

/**
 * Reads the restriction records again: after a restriction every hash the lines were located by
 * is restricted, after a lift none of the subject's is.
 * @returns the hashes that do not hold what the request wrote
 */
export async function checkLineRestriction(
  deps: LetheDeps,
  record: RequestRecord,
  store: Store,
  lines: readonly LocatedLines[],
  action: Extract<RecordAction, { kind: 'restrict' | 'lift' }>,
): Promise<number> {
  if (action.kind === 'restrict') {
    const hashes = locatedLineHashes(deps, lines);
    const restricted = await restrictedLineHashes(deps, store.id, hashes);
    return hashes.filter((hash) => !restricted.has(hash)).length;
  }
  return (await restrictedLineHashes(deps, store.id, liftHashes(deps, record, lines))).size;
}
