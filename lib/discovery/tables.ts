import type {
  DynamoLocateRule,
  KeyAttribute,
  KeySchema,
  SecondaryIndex,
  TimestampFormat,
} from '../datamap/schema';
import type { LocatedField } from './identities';
import type { FieldProfile } from './profile';

/**
 * DynamoDB proposals: the key schema (from DescribeTable, or guessed from items when only an
 * export is at hand) and locate rules by the table key, a GSI, or an index to create.
 */

/** Names a data map can give as key attributes. */
const ATTRIBUTE_NAME = /^[A-Za-z][A-Za-z0-9_.-]*$/;

const isIdNamed = (name: string) => /(^|[a-z_])(id|key)$/i.test(name) || /(Id|Key|ID)$/.test(name);
const isTimeNamed = (name: string) => /(At|_at|Time|Date|timestamp|_ts)$/i.test(name);

/** Attributes every sampled item has with a string or number value: what a key can be. */
function keyCandidates(items: readonly Record<string, unknown>[], profiles: readonly FieldProfile[]) {
  return profiles.filter(
    (profile) =>
      profile.present === items.length &&
      ATTRIBUTE_NAME.test(profile.name) &&
      !profile.list &&
      items.every((item) => {
        const value = item[profile.name];
        return (typeof value === 'string' && value !== '') || typeof value === 'number';
      }),
  );
}

const keyOf = (items: readonly Record<string, unknown>[], name: string): KeyAttribute => ({
  name,
  type: items.every((item) => typeof item[name] === 'number') ? 'N' : 'S',
});

function unique(items: readonly Record<string, unknown>[], names: readonly string[]): boolean {
  const seen = new Set<string>();
  for (const item of items) {
    const key = JSON.stringify(names.map((name) => item[name]));
    if (seen.has(key)) return false;
    seen.add(key);
  }
  return true;
}

/**
 * A key schema that fits the sampled items: items grouped under an identity (several per
 * subject, as an event table keeps them) get that identity as partition key and the attribute
 * that tells them apart as sort key; otherwise the id that is unique per item. A guess, which
 * the draft marks for a person to correct from the real table.
 */
export function guessKeySchema(
  items: readonly Record<string, unknown>[],
  fields: readonly LocatedField[],
): KeySchema | undefined {
  const profiles = fields.map((field) => field.profile);
  const candidates = keyCandidates(items, profiles);
  if (candidates.length === 0) return undefined;
  const identityNames = new Set(fields.filter((field) => field.identity).map((field) => field.profile.name));
  const grouping = candidates
    .filter((profile) => identityNames.has(profile.name) && profile.comparable.size < items.length)
    .sort((a, b) => a.comparable.size - b.comparable.size);
  const sortPreference = (profile: FieldProfile) =>
    isIdNamed(profile.name) ? 0 : isTimeNamed(profile.name) ? 1 : identityNames.has(profile.name) ? 3 : 2;
  for (const partition of grouping) {
    const sort = candidates
      .filter((profile) => profile !== partition && unique(items, [partition.name, profile.name]))
      .sort((a, b) => sortPreference(a) - sortPreference(b))[0];
    if (sort) return { partitionKey: keyOf(items, partition.name), sortKey: keyOf(items, sort.name) };
  }
  const single = candidates
    .filter((profile) => unique(items, [profile.name]))
    .sort((a, b) => {
      const rank = (p: FieldProfile) => (identityNames.has(p.name) ? 0 : isIdNamed(p.name) ? 1 : 2);
      return rank(a) - rank(b);
    })[0];
  if (single) return { partitionKey: keyOf(items, single.name) };
  const [first] = candidates;
  return first ? { partitionKey: keyOf(items, first.name) } : undefined;
}

/** "by" and the attribute in PascalCase: the name of a proposed index. */
export const indexNameFor = (attribute: string) =>
  `by${attribute.charAt(0).toUpperCase()}${attribute.slice(1).replace(/[^A-Za-z0-9_.-]/g, '')}`;

/**
 * Locate rules for a table's identity attributes: the table key, a GSI whose partition key the
 * attribute is, or (where the keys were guessed, or nothing else locates the table) a GSI to create.
 */
export function dynamoLocateRules(
  keySchema: KeySchema,
  indexes: SecondaryIndex[],
  keyGuessed: boolean,
  fields: readonly LocatedField[],
): { locate: DynamoLocateRule[]; proposedIndexes: SecondaryIndex[]; unlocated: string[] } {
  const locate: DynamoLocateRule[] = [];
  const proposedIndexes: SecondaryIndex[] = [];
  const unlocated: string[] = [];
  const identityFields = fields.filter((field) => field.identity && !field.profile.list);
  for (const field of identityFields) {
    const attribute = field.profile.name;
    const identity = field.identity as string;
    if (!ATTRIBUTE_NAME.test(attribute)) {
      unlocated.push(attribute);
      continue;
    }
    if (keySchema.partitionKey.name === attribute) {
      locate.push({ identity, attribute });
      continue;
    }
    const index = indexes.find((candidate) => candidate.partitionKey.name === attribute);
    if (index) {
      locate.push({ identity, index: index.name, attribute });
    } else if (keyGuessed) {
      const name = indexNameFor(attribute);
      proposedIndexes.push({ name, partitionKey: { name: attribute, type: 'S' } });
      locate.push({ identity, index: name, attribute });
    } else {
      unlocated.push(attribute);
    }
  }
  // A table its identities cannot reach is still a table of personal data: propose one index.
  const first = identityFields.find((field) => unlocated.includes(field.profile.name));
  if (locate.length === 0 && first && ATTRIBUTE_NAME.test(first.profile.name)) {
    const name = indexNameFor(first.profile.name);
    proposedIndexes.push({ name, partitionKey: { name: first.profile.name, type: 'S' } });
    locate.push({ identity: first.identity as string, index: name, attribute: first.profile.name });
    unlocated.splice(unlocated.indexOf(first.profile.name), 1);
  }
  return { locate, proposedIndexes, unlocated };
}

/** The timestamp attribute a retention period would most likely run from, and its format. */
export function retentionAttribute(
  items: readonly Record<string, unknown>[],
  profiles: readonly FieldProfile[],
): { attribute: string; format: TimestampFormat } | undefined {
  const timestamps = profiles.filter(
    (profile) => profile.classification.class === 'timestamp' && !profile.list,
  );
  const preferred = /creat|receiv|placed|event|occurr|convert|sent|^at$/i;
  const chosen = timestamps.find((profile) => preferred.test(profile.name)) ?? timestamps[0];
  if (!chosen) return undefined;
  const numbers = items.map((item) => item[chosen.name]).filter((value) => typeof value === 'number');
  if (numbers.length === 0) return { attribute: chosen.name, format: 'iso8601' };
  return { attribute: chosen.name, format: numbers.every((n) => n > 1e11) ? 'epochMillis' : 'epochSeconds' };
}
