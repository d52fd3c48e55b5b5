import { BatchGetCommand, type BatchGetCommandOutput, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { LetheDeps } from '../deps';

/**
 * What a request cannot know by itself: whether a store holds the subject's values in spellings
 * no query reaches. `lethe check` finds out (counts only) and its findings are kept per store in
 * the requests table; every request then says, beside its answer, which of the stores it searched
 * hold values locate cannot reach, or were never checked. An answer to an access request is only
 * complete as far as that goes, and it says so rather than claim more.
 */

const CHECK = 'check';
const findingKey = (storeId: string) => `check#${storeId}`;

/** What the last `lethe check` of a store found: counts only. */
export interface StoreFinding {
  storeId: string;
  checkedAt: string;
  /** Records whose locate value is not in normalised form (or does not normalise): a request misses them. */
  wouldMiss: number;
  /** JSON-lines lines that are not JSON objects, and compressed objects: nobody can match them. */
  unreadable: number;
}

/** A caveat on a request's answer, per store it searched. */
export type RequestCaveat =
  | { storeId: string; kind: 'unreachable-values'; count: number; checkedAt: string }
  | { storeId: string; kind: 'unreadable-records'; count: number; checkedAt: string }
  | { storeId: string; kind: 'never-checked' };

type FindingDeps = Pick<LetheDeps, 'doc' | 'resources'>;

/** Keeps what a check found in each store it read, replacing the store's earlier finding. */
export async function recordStoreFindings(
  deps: FindingDeps,
  findings: readonly StoreFinding[],
): Promise<void> {
  for (const finding of findings) {
    await deps.doc.send(
      new PutCommand({
        TableName: deps.resources.requestsTable,
        Item: { requestId: findingKey(finding.storeId), recordType: CHECK, ...finding },
      }),
    );
  }
}

/** The last findings of these stores (absent for a store never checked). */
export async function readStoreFindings(
  deps: FindingDeps,
  storeIds: readonly string[],
): Promise<Map<string, StoreFinding>> {
  const found = new Map<string, StoreFinding>();
  for (let start = 0; start < storeIds.length; start += 100) {
    const keys = storeIds.slice(start, start + 100).map((storeId) => ({ requestId: findingKey(storeId) }));
    let pending: Record<string, unknown>[] | undefined = keys;
    for (let round = 0; pending && pending.length > 0 && round < 8; round += 1) {
      const response: BatchGetCommandOutput = await deps.doc.send(
        new BatchGetCommand({
          RequestItems: { [deps.resources.requestsTable]: { Keys: pending, ConsistentRead: true } },
        }),
      );
      for (const item of response.Responses?.[deps.resources.requestsTable] ?? []) {
        if (item.recordType === CHECK) found.set(String(item.storeId), item as unknown as StoreFinding);
      }
      pending = response.UnprocessedKeys?.[deps.resources.requestsTable]?.Keys;
    }
  }
  return found;
}

/** The caveats on an answer that searched these stores, from the stores' last findings. */
export async function caveatsFor(deps: FindingDeps, storeIds: readonly string[]): Promise<RequestCaveat[]> {
  const findings = await readStoreFindings(deps, storeIds);
  return storeIds.flatMap((storeId): RequestCaveat[] => {
    const finding = findings.get(storeId);
    if (!finding) return [{ storeId, kind: 'never-checked' }];
    const caveats: RequestCaveat[] = [];
    if (finding.wouldMiss > 0) {
      caveats.push({
        storeId,
        kind: 'unreachable-values',
        count: finding.wouldMiss,
        checkedAt: finding.checkedAt,
      });
    }
    if (finding.unreadable > 0) {
      caveats.push({
        storeId,
        kind: 'unreadable-records',
        count: finding.unreadable,
        checkedAt: finding.checkedAt,
      });
    }
    return caveats;
  });
}
