/**
 * Legal holds: records that must be kept whatever retention or an erasure request says, for
 * litigation, an investigation or a regulator. A hold lives in lethe's holds table (key
 * `holdId`) and is scoped either
 *
 * - to a SUBJECT, given as one identity (`email=ann@example.com`). The table keeps no
 *   identifier: only keyed hashes (lib/audit/subject-hash.ts) of that identity and of every
 *   identity reachable from it through the data map's links when the hold is placed, so that a
 *   hold placed by e-mail also covers the cookie ids the e-mail leads to. Identities linked
 *   after the hold was placed are not covered: place the hold again to refresh it.
 * - or to one RECORD of one store: a DynamoDB item by its key (JSON), an S3 object by its key
 *   (for a JSON-lines store, the whole object).
 *
 * A hold is never deleted: releasing it marks it released, by whom and when, so the table is a
 * record of every hold ever placed; the steps read the active ones through a sparse index that
 * released holds drop out of (active-index.ts). Placing and releasing append `hold.placed` / `hold.released`
 * to the audit log with no raw identifier: subject holds by their subject hashes, record holds
 * by a keyed hash of store and key (record keys are often identifiers themselves).
 *
 * How holds are honoured:
 * - erasure requests: Locate marks every record of a held subject, and every held record, as
 *   exempted with the hold's reason (source `hold`, with the hold id); Erase keeps it and the
 *   certificate reports it; Confirm applies the same holds, so a held record is not "residual".
 * - retention sweeps never purge a held record (lib/retention/), and say how many they kept.
 */
export { ACTIVE_HOLD_ATTRIBUTE, ACTIVE_INDEX_READY, readyActiveIndex } from './active-index';
export * from './errors';
export type {
  HoldDeps,
  HoldStatus,
  LegalHold,
  PlaceHoldInput,
  PlaceRecordHoldInput,
  PlaceSubjectHoldInput,
} from './hold';
export { listHolds } from './list';
export {
  type ActiveHolds,
  applyHolds,
  holdExemption,
  holdOnRecord,
  holdOnSubject,
  loadActiveHolds,
  markHeld,
  NO_HOLDS,
  recordMatchId,
} from './matching';
export { canonicalRecordKey, checkHoldId, recordHash } from './record-keys';
export {
  liftLineRestrictions,
  placeLineRestrictions,
  restrictedLineHashes,
  restrictionId,
} from './restrictions';
export { type CheckedHoldInput, checkHoldInput, placeHold, releaseHold } from './table';
export { HOLDS_TABLE, holdsTableInput } from './table-schema';
