import { type DynamoDBClient, QueryCommand, type QueryCommandInput } from '@aws-sdk/client-dynamodb';
import {
  type Identity,
  InvalidIdentityError,
  identityKey,
  mergeIdentities,
  normaliseIdentity,
  spellingsOf,
} from '../../datamap/identity';
import type { DataMap, DynamoLocateRule, DynamoStore } from '../../datamap/schema';
import { exemptionFor } from '../exemptions';
import { claimedByOf, LinkEdges } from '../provenance';
import { DEFAULT_RETRY_POLICY, type RetryPolicy, withRetry } from '../retry';
import type { ItemKey, LocatedItem, LocateOptions, StoreClients, StoreLocation } from '../types';
import {
  holdsValue,
  type Item,
  identityKeyValue,
  itemKeyOf,
  itemToJson,
  keyAttributes,
  keyId,
  keyToAttributes,
  linkValues,
  projection,
  ruleKeyType,
} from './keys';
import { isMaskedItem } from './mask';
import { holdsMaskedForm } from './masked-form';
import { BATCH_GET_LIMIT, batchGetChunk, type DynamoReadOptions } from './read';

/** Every page of a Query, following LastEvaluatedKey; throttling is retried with backoff. */
async function* queryPages(
  client: DynamoDBClient,
  input: QueryCommandInput,
  policy: RetryPolicy,
): AsyncGenerator<Item[]> {
  let startKey: Item | undefined;
  do {
    const page = await withRetry(policy, () =>
      client.send(new QueryCommand({ ...input, ...(startKey ? { ExclusiveStartKey: startKey } : {}) })),
    );
    yield page.Items ?? [];
    startKey = page.LastEvaluatedKey;
  } while (startKey);
}

interface Found {
  key: ItemKey;
  matched: LocatedItem['matched'];
  attributes: Item;
  /** identityKey of every identity that found the item. */
  finders: Set<string>;
}

/** What one locate call shares between its queries: the client, what to read, and what was found. */
interface LocateRun {
  client: DynamoDBClient;
  policy: RetryPolicy;
  keyNames: string[];
  neededAttributes: Set<string>;
  /** Items found so far by key id: the first match of an item wins. */
  found: Map<string, Found>;
}

/**
 * One locate rule queried by one value (every page): on the table, consistently; on a GSI, keys
 * only, then the items re-read from the table and kept only if they still hold the value.
 */
async function queryRule(
  store: DynamoStore,
  rule: DynamoLocateRule,
  matched: Found['matched'],
  finder: string,
  run: LocateRun,
): Promise<void> {
  const keyValue = identityKeyValue(ruleKeyType(store, rule), matched.value);
  if (keyValue === undefined) return;
  const input: QueryCommandInput = {
    TableName: store.table,
    KeyConditionExpression: '#k = :v',
    ExpressionAttributeValues: { ':v': keyValue },
  };
  if (rule.index === undefined) {
    const projected = projection(run.neededAttributes);
    for await (const page of queryPages(
      run.client,
      {
        ...input,
        ConsistentRead: true,
        ProjectionExpression: projected.ProjectionExpression,
        ExpressionAttributeNames: { ...projected.ExpressionAttributeNames, '#k': rule.attribute },
      },
      run.policy,
    )) {
      for (const item of page) {
        const key = itemKeyOf(store, item);
        const id = keyId(store, key);
        const known = run.found.get(id);
        if (known) known.finders.add(finder);
        else run.found.set(id, { key, matched, attributes: item, finders: new Set([finder]) });
      }
    }
    return;
  }

  // A GSI: ask only for the table key (always projected, whatever the index projection),
  // then re-read the items from the table, consistently, in batches of 100.
  const pending = new Map<string, Item>();
  const flush = async () => {
    if (pending.size === 0) return;
    const keys = [...pending.values()];
    pending.clear();
    for (const item of await batchGetChunk(store, run.client, keys, run.neededAttributes, run.policy)) {
      // The index may be stale: keep the item only if the table still holds the spelling queried.
      if (!holdsValue(item[rule.attribute], matched.value)) continue;
      const key = itemKeyOf(store, item);
      const id = keyId(store, key);
      const known = run.found.get(id);
      if (known) known.finders.add(finder);
      else run.found.set(id, { key, matched, attributes: item, finders: new Set([finder]) });
    }
  };
  const keyProjection = projection(run.keyNames);
  for await (const page of queryPages(
    run.client,
    {
      ...input,
      IndexName: rule.index,
      ProjectionExpression: keyProjection.ProjectionExpression,
      ExpressionAttributeNames: { ...keyProjection.ExpressionAttributeNames, '#k': rule.attribute },
    },
    run.policy,
  )) {
    for (const hit of page) {
      const key = itemKeyOf(store, hit);
      const id = keyId(store, key);
      const known = run.found.get(id);
      if (known) {
        // Read already, from the table: it counts as found by this identity too only if it holds the
        // value (the index may be stale), since which identities found an item decides its trust.
        if (holdsValue(known.attributes[rule.attribute], matched.value)) known.finders.add(finder);
        continue;
      }
      if (pending.has(id)) continue;
      pending.set(id, keyToAttributes(store, key));
      if (pending.size >= BATCH_GET_LIMIT) await flush();
    }
  }
  await flush();
}

/**
 * Finds a subject's items in a DynamoDB store: for each identity whose type has a locate rule,
 * a Query on the table (consistent) or on the rule's GSI by partition key = value, every page,
 * and one more for each other spelling of the identity (a key matches exactly, and a table may
 * hold the value as someone typed it); a spelling that cannot be a key of the rule's type is
 * skipped. Items found by several identities or spellings are recorded once, with the first match
 * (the spelling that found it). Exemptions are evaluated on each item; the store's links yield the
 * identities revealed (normalised, with the value as stored as a spelling; values that are not
 * valid identities of the linked type are skipped, since one malformed row must not stop a
 * request, and so are links in their masked form). Never scans.
 * @param identities as resolveIdentities returns them: normalised, with their spellings
 * @param dataMap the identity types, to normalise revealed identities
 * @param options.spellingsOnly query only the identities' spellings, not their values (located before)
 * @throws ReadIncompleteError when index hits cannot be re-read from the table after retries
 */
export async function locateInDynamoStore(
  store: DynamoStore,
  identities: Identity[],
  clients: StoreClients,
  dataMap: Pick<DataMap, 'identityTypes'>,
  options: DynamoReadOptions & LocateOptions = {},
): Promise<StoreLocation> {
  const policy = options.retry ?? DEFAULT_RETRY_POLICY;
  const keyNames = keyAttributes(store).map((attribute) => attribute.name);
  // Whether a record of a masking store is masked already is read with it: Confirm needs no other read.
  const maskFields = store.erase.action === 'mask' ? store.erase.fields : [];
  // Only what locating needs: keys, the matched attributes, exemption conditions, links and masks.
  // Less data over the wire and in memory; read capacity is charged on the item either way.
  const neededAttributes = new Set([
    ...keyNames,
    ...store.locate.map((rule) => rule.attribute),
    ...store.exemptions.flatMap((exemption) => (exemption.when ? [exemption.when.attribute] : [])),
    ...store.links.map((link) => link.attribute),
    ...maskFields.map((field) => field.attribute),
  ]);
  const run: LocateRun = { client: clients.dynamodb, policy, keyNames, neededAttributes, found: new Map() };
  // One query per rule and distinct spelling: the same identity or spelling twice would only
  // repeat the same queries.
  const queried = new Set<string>();
  for (const identity of mergeIdentities(identities)) {
    const spellings = options.spellingsOnly ? (identity.spellings ?? []) : spellingsOf(identity);
    for (const [ruleIndex, rule] of store.locate.entries()) {
      if (rule.identity !== identity.type) continue;
      for (const spelling of spellings) {
        if (queried.has(`${ruleIndex}\u0000${spelling}`)) continue;
        queried.add(`${ruleIndex}\u0000${spelling}`);
        await queryRule(
          store,
          rule,
          { identity: identity.type, attribute: rule.attribute, value: spelling },
          identityKey(identity),
          run,
        );
      }
    }
  }

  const records: LocatedItem[] = [];
  const revealed: Identity[] = [];
  const edges = new LinkEdges();
  let exempted = 0;
  for (const { key, matched, attributes, finders } of run.found.values()) {
    const exemption = exemptionFor(store, itemToJson(attributes));
    if (exemption) exempted += 1;
    const masked = maskFields.length > 0 && isMaskedItem(maskFields, attributes);
    const claimedBy = claimedByOf(finders, options.claimed);
    records.push({
      kind: 'item',
      key,
      matched,
      ...(exemption ? { exemption } : {}),
      ...(masked ? { masked } : {}),
      ...(claimedBy ? { claimedBy } : {}),
    });
    // Exempt items reveal identities too: they are still the subject's, and so is what they link to.
    for (const link of store.links) {
      // A masked link holds lethe's pseudonym (hmac:…), not an identity: on a retry, the masked
      // record located again must not add it to the subject's identities.
      if (holdsMaskedForm(store, link.attribute, attributes[link.attribute])) continue;
      for (const raw of linkValues(attributes[link.attribute])) {
        try {
          const identity = normaliseIdentity(dataMap, link.identity, raw);
          revealed.push(identity);
          edges.add(finders, identity, link);
        } catch (error) {
          if (!(error instanceof InvalidIdentityError)) throw error;
        }
      }
    }
  }
  return {
    storeId: store.id,
    records,
    located: records.length,
    exempted,
    revealed: mergeIdentities(revealed),
    edges: edges.list(),
  };
}
