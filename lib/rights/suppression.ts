import { BatchWriteCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { hashIdentities } from '../audit/subject-hash';
import type { Identity } from '../datamap/identity';
import type { LetheDeps } from '../deps';
import type { ObjectionScope } from './request';

/**
 * The suppression list: who objected to what, for downstream systems to ask before they market
 * to, sell or share the data of, or profile someone. One item per keyed subject hash and scope,
 * with when and by which request: never an identifier, so the list outlives the request. A
 * question hashes the identities it is asked about with the same key.
 */

/** The suppression list does not exist on this deployment (a stack deployed before it). */
export class SuppressionListMissingError extends Error {
  override readonly name = 'SuppressionListMissingError';
  constructor() {
    super('this deployment has no suppression list: deploy the current stack, or run locally');
  }
}

/** One entry of the list, as stored. */
export interface SuppressionEntry {
  subjectHash: string;
  scope: ObjectionScope;
  at: string;
  requestId: string;
  jurisdiction: string;
}

type SuppressionDeps = Pick<LetheDeps, 'doc' | 'resources'>;

function tableOf(deps: SuppressionDeps): string {
  const table = deps.resources.suppressionTable;
  if (!table) throw new SuppressionListMissingError();
  return table;
}

/** Whether an entry of scope `entry` answers a question about `asked`: the same scope, or `all`. */
export function scopeCovers(entry: string, asked: string): boolean {
  return entry === asked || entry === 'all';
}

/**
 * Adds a subject's keyed hashes to the list under a scope. Writing the same entry again (a
 * retried step) keeps the time it was first recorded.
 */
export async function addToSuppressionList(
  deps: SuppressionDeps,
  subjectHashes: readonly string[],
  entry: Omit<SuppressionEntry, 'subjectHash'>,
): Promise<void> {
  const table = tableOf(deps);
  const existing = await Promise.all(subjectHashes.map((hash) => entriesOf(deps, hash)));
  const missing = subjectHashes.filter(
    (_hash, index) => !(existing[index] ?? []).some((found) => found.scope === entry.scope),
  );
  for (let start = 0; start < missing.length; start += 25) {
    let items: Record<string, unknown>[] | undefined = missing
      .slice(start, start + 25)
      .map((subjectHash) => ({ PutRequest: { Item: { ...entry, subjectHash } } }));
    for (let round = 0; items && items.length > 0 && round < 8; round += 1) {
      const result = await deps.doc.send(new BatchWriteCommand({ RequestItems: { [table]: items } }));
      items = result.UnprocessedItems?.[table] as Record<string, unknown>[] | undefined;
    }
    if (items && items.length > 0) throw new Error(`${items.length} suppression entries were not written`);
  }
}

async function entriesOf(deps: SuppressionDeps, subjectHash: string): Promise<SuppressionEntry[]> {
  const entries: SuppressionEntry[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await deps.doc.send(
      new QueryCommand({
        TableName: tableOf(deps),
        KeyConditionExpression: 'subjectHash = :hash',
        ExpressionAttributeValues: { ':hash': subjectHash },
        ConsistentRead: true,
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    entries.push(...((page.Items ?? []) as SuppressionEntry[]));
    start = page.LastEvaluatedKey;
  } while (start);
  return entries;
}

/** The answer to "is this person suppressed?": the scopes that apply, each with when and which request. */
export interface SuppressionAnswer {
  suppressed: boolean;
  /** The scope asked about; undefined: any. */
  scope?: string;
  /** Entries that apply, without the hashes, oldest first. */
  matches: { scope: string; since: string; requestId: string }[];
}

/**
 * Whether any of the identities (normalised) is on the suppression list for `scope` (an entry of
 * that scope or of `all`), or for any scope when none is given. Reads only.
 */
export async function checkSuppression(
  deps: SuppressionDeps & Pick<LetheDeps, 'keys'>,
  identities: readonly Identity[],
  scope?: string,
): Promise<SuppressionAnswer> {
  const hashes = hashIdentities(deps.keys.subjectHash, identities);
  const found = (await Promise.all(hashes.map((hash) => entriesOf(deps, hash)))).flat();
  const applying = found.filter((entry) => scope === undefined || scopeCovers(entry.scope, scope));
  const byScope = new Map<string, SuppressionAnswer['matches'][number]>();
  for (const entry of applying.sort((a, b) => a.at.localeCompare(b.at))) {
    if (!byScope.has(entry.scope))
      byScope.set(entry.scope, { scope: entry.scope, since: entry.at, requestId: entry.requestId });
  }
  const matches = [...byScope.values()];
  return { suppressed: matches.length > 0, ...(scope ? { scope } : {}), matches };
}

/** The hashes among `subjectHashes` the list holds under exactly `scope`. */
export async function suppressedHashes(
  deps: SuppressionDeps,
  subjectHashes: readonly string[],
  scope: string,
): Promise<string[]> {
  const entries = await Promise.all(subjectHashes.map((hash) => entriesOf(deps, hash)));
  return subjectHashes.filter((_hash, index) =>
    (entries[index] ?? []).some((entry) => entry.scope === scope),
  );
}
