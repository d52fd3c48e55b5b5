import { BatchWriteCommand, DeleteCommand, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { assertNoIdentifiers, checkActorName } from '../audit/free-text';
import { appendAuditEvent, auditDepsOf } from '../audit/log';
import { hashIdentities } from '../audit/subject-hash';
import type { Identity } from '../datamap/identity';
import type { LetheDeps } from '../deps';
import { InvalidRequestError } from './errors';
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

/** One entry as `lethe suppression list` shows it: the keyed hash, the scope and since when, nothing else. */
export interface ListedSuppression {
  subjectHash: string;
  scope: string;
  at: string;
}

/** Every entry of the list (or of one scope), oldest first. Read whole: a staff listing, never a per-record question. */
export async function listSuppressions(
  deps: SuppressionDeps,
  filter: { scope?: string } = {},
): Promise<ListedSuppression[]> {
  const entries: ListedSuppression[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await deps.doc.send(
      new ScanCommand({
        TableName: tableOf(deps),
        ConsistentRead: true,
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    for (const item of (page.Items ?? []) as SuppressionEntry[]) {
      if (filter.scope !== undefined && item.scope !== filter.scope) continue;
      entries.push({ subjectHash: item.subjectHash, scope: item.scope, at: item.at });
    }
    start = page.LastEvaluatedKey;
  } while (start);
  return entries.sort((a, b) =>
    a.at === b.at ? a.subjectHash.localeCompare(b.subjectHash) : a.at.localeCompare(b.at),
  );
}

/** What removing a subject from the list under a scope did. */
export interface SuppressionRemoval {
  scope: string;
  /** Keyed hashes taken off the list under the scope. */
  removed: number;
}

/**
 * Takes the given identities (normalised; links are not followed, so a cookie id a linked email
 * put on the list stays until it is named too) off the list under exactly `scope`, for instance
 * when the subject consented again, and audits who did it and why (`suppression.removed`, keyed
 * hashes only). Entries of other scopes stay.
 * @throws InvalidRequestError when none of them is on the list under the scope (nothing changes)
 * @throws InvalidFreeTextError for a name or reason that is empty, too long or names the subject
 */
export async function removeFromSuppressionList(
  deps: SuppressionDeps & Pick<LetheDeps, 'keys' | 'now' | 'log'>,
  identities: readonly Identity[],
  input: { scope: string; by: string; reason: string },
): Promise<SuppressionRemoval> {
  const by = checkActorName(input.by, '--by');
  const reason = (input.reason ?? '').trim();
  if (reason.length < 3)
    throw new InvalidRequestError('give the reason, e.g. --reason "consented again, ticket 4711"');
  assertNoIdentifiers(reason, identities, 'the reason (--reason)');
  const hashes = await suppressedHashes(deps, hashIdentities(deps.keys.subjectHash, identities), input.scope);
  if (hashes.length === 0) {
    throw new InvalidRequestError(
      `the subject is not on the suppression list under scope ${input.scope}: nothing to remove (see lethe suppression check)`,
    );
  }
  for (const subjectHash of hashes) {
    await deps.doc.send(
      new DeleteCommand({ TableName: tableOf(deps), Key: { subjectHash, scope: input.scope } }),
    );
  }
  await appendAuditEvent(auditDepsOf(deps), {
    type: 'suppression.removed',
    actor: by,
    subjectHashes: hashes,
    details: { scope: input.scope, removed: hashes.length, reason },
  });
  deps.log.info('suppression removed', { scope: input.scope, removed: hashes.length });
  return { scope: input.scope, removed: hashes.length };
}
