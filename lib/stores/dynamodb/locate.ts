import { type DynamoDBClient, QueryCommand, type QueryCommandInput } from '@aws-sdk/client-dynamodb';
import { type Identity, InvalidIdentityError, identityKey, normaliseIdentity } from '../../datamap/identity';
import type { DataMap, DynamoStore } from '../../datamap/schema';
import { exemptionFor } from '../exemptions';
import { DEFAULT_RETRY_POLICY, type RetryPolicy, withRetry } from '../retry';
import type { ItemKey, LocatedItem, StoreClients, StoreLocation } from '../types';
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
}

/**
 * Finds a subject's items in a DynamoDB store: for each identity whose type has a locate rule,
 * a Query on the table (consistent) or on the rule's GSI by partition key = value, every page.
 * Items found by several identities are recorded once, with the first match. Exemptions are
 * evaluated on each item; the store's links yield the identities revealed (normalised; values
 * that are not valid identities of the linked type are skipped, since one malformed row must
 * not stop a request). Never scans.
 * @param dataMap the identity types, to normalise revealed identities
 * @throws ReadIncompleteError when index hits cannot be re-read from the table after retries
 */
export async function locateInDynamoStore(
  store: DynamoStore,
  identities: Identity[],
  clients: StoreClients,
  dataMap: Pick<DataMap, 'identityTypes'>,
  options: DynamoReadOptions = {},
): Promise<StoreLocation> {
  const policy = options.retry ?? DEFAULT_RETRY_POLICY;
  const client = clients.dynamodb;
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
  const found = new Map<string, Found>();
  // The same identity twice would only repeat the same queries.
  const unique = [...new Map(identities.map((identity) => [identityKey(identity), identity])).values()];

  for (const identity of unique) {
    for (const rule of store.locate.filter((candidate) => candidate.identity === identity.type)) {
      const matched = { identity: identity.type, attribute: rule.attribute, value: identity.value };
      const keyValue = identityKeyValue(ruleKeyType(store, rule), identity.value);
      if (keyValue === undefined) continue;
      const input: QueryCommandInput = {
        TableName: store.table,
        KeyConditionExpression: '#k = :v',
        ExpressionAttributeValues: { ':v': keyValue },
      };
      if (rule.index === undefined) {
        const projected = projection(neededAttributes);
        for await (const page of queryPages(
          client,
          {
            ...input,
            ConsistentRead: true,
            ProjectionExpression: projected.ProjectionExpression,
            ExpressionAttributeNames: { ...projected.ExpressionAttributeNames, '#k': rule.attribute },
          },
          policy,
        )) {
          for (const item of page) {
            const key = itemKeyOf(store, item);
            const id = keyId(store, key);
            if (!found.has(id)) found.set(id, { key, matched, attributes: item });
          }
        }
        continue;
      }

      // A GSI: ask only for the table key (always projected, whatever the index projection),
      // then re-read the items from the table, consistently, in batches of 100.
      const pending = new Map<string, Item>();
      const flush = async () => {
        if (pending.size === 0) return;
        const keys = [...pending.values()];
        pending.clear();
        for (const item of await batchGetChunk(store, client, keys, neededAttributes, policy)) {
          // The index may be stale: keep the item only if the table still says it is the subject's.
          if (!holdsValue(item[rule.attribute], identity.value)) continue;
          const key = itemKeyOf(store, item);
          const id = keyId(store, key);
          if (!found.has(id)) found.set(id, { key, matched, attributes: item });
        }
      };
      const keyProjection = projection(keyNames);
      for await (const page of queryPages(
        client,
        {
          ...input,
          IndexName: rule.index,
          ProjectionExpression: keyProjection.ProjectionExpression,
          ExpressionAttributeNames: { ...keyProjection.ExpressionAttributeNames, '#k': rule.attribute },
        },
        policy,
      )) {
        for (const hit of page) {
          const key = itemKeyOf(store, hit);
          const id = keyId(store, key);
          if (found.has(id) || pending.has(id)) continue;
          pending.set(id, keyToAttributes(store, key));
          if (pending.size >= BATCH_GET_LIMIT) await flush();
        }
      }
      await flush();
    }
  }

  const records: LocatedItem[] = [];
  const revealed = new Map<string, Identity>();
  let exempted = 0;
  for (const { key, matched, attributes } of found.values()) {
    const exemption = exemptionFor(store, itemToJson(attributes));
    if (exemption) exempted += 1;
    const masked = maskFields.length > 0 && isMaskedItem(maskFields, attributes);
    records.push({
      kind: 'item',
      key,
      matched,
      ...(exemption ? { exemption } : {}),
      ...(masked ? { masked } : {}),
    });
    // Exempt items reveal identities too: they are still the subject's, and so is what they link to.
    for (const link of store.links) {
      for (const raw of linkValues(attributes[link.attribute])) {
        try {
          const identity = normaliseIdentity(dataMap, link.identity, raw);
          revealed.set(identityKey(identity), identity);
        } catch (error) {
          if (!(error instanceof InvalidIdentityError)) throw error;
        }
      }
    }
  }
  return { storeId: store.id, records, located: records.length, exempted, revealed: [...revealed.values()] };
}
