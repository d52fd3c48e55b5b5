import { type Identity, InvalidIdentityError, normaliseIdentity } from '../../datamap/identity';
import type { DataMap, S3SharedLocateRule, S3Store } from '../../datamap/schema';
import type { LocatedLines } from '../types';
import { isParquetStore, sharedRuleSpec, subjectValues } from './prefixes';

/**
 * Matching JSON lines to a subject: a line is the subject's when the field of a JSON-lines rule
 * holds one of the subject's values, both sides normalised by the identity type.
 */

const NORMALISATION_CACHE_ENTRIES = 10_000;

/** One JSON-lines rule with the subject's values of its identity type: a line matches when its field is one of them. */
export interface LineMatcher {
  identity: string;
  field: string;
  prefix: string;
  values: Set<string>;
  /** The values are those of identities reached only through claimed links (LocateOptions.claimed). */
  claimed?: boolean;
}

/**
 * Reads a field of a record: a top-level own property for JSON lines (a key "a.b" is one field), a
 * dotted path into struct columns for Parquet rows. Own properties only: a field named
 * "constructor" must not read Object.prototype.
 */
export type FieldReader = (record: Record<string, unknown>, field: string) => unknown;

/** A JSON line's field: its own top-level property. */
export const topLevelField: FieldReader = (record, field) =>
  Object.hasOwn(record, field) ? record[field] : undefined;

const pathCache = new Map<string, string[]>();

/** A Parquet row's field: `user.email` is the `email` of the struct column `user`. */
export const pathField: FieldReader = (record, field) => {
  let path = pathCache.get(field);
  if (!path) {
    path = field.split('.');
    if (pathCache.size < NORMALISATION_CACHE_ENTRIES) pathCache.set(field, path);
  }
  let value: unknown = record;
  for (const segment of path) {
    if (typeof value !== 'object' || value === null || Array.isArray(value) || !Object.hasOwn(value, segment))
      return undefined;
    value = (value as Record<string, unknown>)[segment];
  }
  return value;
};

/** How the store's shared objects' records are read: Parquet fields by path, JSON-lines fields at the top. */
export function fieldReaderOf(store: S3Store): FieldReader {
  return isParquetStore(store) ? pathField : topLevelField;
}

/** The index of the first matcher a record belongs to, -1 when it is someone else's. */
export function matchRecord(
  record: Record<string, unknown>,
  matchers: readonly Pick<LineMatcher, 'identity' | 'field' | 'values'>[],
  normalise: Normaliser,
  fieldOf: FieldReader,
): number {
  return matchers.findIndex((candidate) => {
    const raw = fieldOf(record, candidate.field);
    if (raw === undefined) return false;
    const value = normalise(candidate.identity, raw);
    return value !== undefined && candidate.values.has(value);
  });
}

/** A matcher per shared-object rule (JSON-lines or Parquet) for which the subject has values of the rule's identity type. */
export function lineMatchersFor(
  rules: S3SharedLocateRule[],
  identities: Identity[],
  dataMap: Pick<DataMap, 'identityTypes'>,
): LineMatcher[] {
  return rules.flatMap((rule) => {
    const values = subjectValues(dataMap, identities, rule.identity);
    return values.length === 0
      ? []
      : [
          {
            identity: rule.identity,
            ...sharedRuleSpec(rule),
            values: new Set(values),
          },
        ];
  });
}

/** The prefixes the matchers list, each once. */
export function distinctPrefixes(matchers: LineMatcher[]): string[] {
  return [...new Set(matchers.map((matcher) => matcher.prefix))];
}

/** The prefix of the first matcher covering `key`: the one listing that scans the object. */
export function firstPrefixOf(matchers: LineMatcher[], key: string): string | undefined {
  return matchers.find((matcher) => key.startsWith(matcher.prefix))?.prefix;
}

/**
 * Maps a raw field value to its normalised form for an identity type, or undefined when it is not a
 * string or does not normalise. Without a data map it is the identity function: an exact match on
 * normalised values, which can never match another subject's line (normalisation is idempotent) but
 * misses spellings such as upper-case cookie ids.
 */
export type Normaliser = (identityType: string, raw: unknown) => string | undefined;

/**
 * Reads a raw field value as an identity of a type: normalised, with the value as written as a
 * spelling (see normaliseIdentity), or undefined when it is not a string or does not normalise.
 * The identities returned are shared between calls: never change them.
 */
export type IdentityReader = (identityType: string, raw: unknown) => Identity | undefined;

/** A caching {@link IdentityReader} over the data map's identity types. */
export function createIdentityReader(dataMap: Pick<DataMap, 'identityTypes'>): IdentityReader {
  // Log files repeat the same few ids on many lines; normalising (regex tests, URL parsing for IPv6)
  // once per distinct value keeps scanning cost close to JSON.parse alone.
  const cache = new Map<string, Identity | null>();
  return (identityType, raw) => {
    if (typeof raw !== 'string') return undefined;
    const cacheKey = `${identityType}\u0000${raw}`;
    const cached = cache.get(cacheKey);
    if (cached !== undefined) return cached ?? undefined;
    let identity: Identity | null;
    try {
      identity = normaliseIdentity(dataMap, identityType, raw);
    } catch (error) {
      if (!(error instanceof InvalidIdentityError)) throw error;
      identity = null;
    }
    if (cache.size >= NORMALISATION_CACHE_ENTRIES) cache.clear();
    cache.set(cacheKey, identity);
    return identity ?? undefined;
  };
}

/** The {@link Normaliser} of an identity reader: the normalised value of what it reads. */
export function normaliserOf(read: IdentityReader): Normaliser {
  return (identityType, raw) => read(identityType, raw)?.value;
}

/** A caching {@link Normaliser} over the data map's identity types (the identity function without one). */
export function createNormaliser(dataMap: Pick<DataMap, 'identityTypes'> | undefined): Normaliser {
  if (!dataMap) return (_identityType, raw) => (typeof raw === 'string' ? raw : undefined);
  return normaliserOf(createIdentityReader(dataMap));
}

export type ParsedLine =
  | { kind: 'blank' }
  | { kind: 'malformed' }
  | { kind: 'record'; record: Record<string, unknown>; matcher: number };

const UTF8_BOM = '\ufeff';

/**
 * Parses one line and finds the first matcher it belongs to (`matcher` -1: someone else's line).
 * A line counts once even when several rules match it.
 */
export function parseLine(
  bytes: Buffer,
  firstLine: boolean,
  matchers: readonly Pick<LineMatcher, 'identity' | 'field' | 'values'>[],
  normalise: Normaliser,
): ParsedLine {
  let text = bytes.toString('utf8');
  if (firstLine && text.startsWith(UTF8_BOM)) text = text.slice(1);
  if (text.trim() === '') return { kind: 'blank' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { kind: 'malformed' };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { kind: 'malformed' };
  const record = parsed as Record<string, unknown>;
  return { kind: 'record', record, matcher: matchRecord(record, matchers, normalise, topLevelField) };
}

/**
 * Identities the store's links reveal in one of the subject's lines (a string or a list of strings
 * each), with the values as the line spells them.
 */
export function linkedIdentities(
  store: S3Store,
  record: Record<string, unknown>,
  read: IdentityReader,
): Identity[] {
  const fieldOf = fieldReaderOf(store);
  return store.links.flatMap((link) => identitiesOfLink(link, record, read, fieldOf));
}

/** The identities one link reveals in a line: its field's value, or each value of a list. */
export function identitiesOfLink(
  link: S3Store['links'][number],
  record: Record<string, unknown>,
  read: IdentityReader,
  fieldOf: FieldReader = topLevelField,
): Identity[] {
  const raw = fieldOf(record, link.attribute);
  if (raw === undefined) return [];
  const found: Identity[] = [];
  for (const candidate of Array.isArray(raw) ? raw : [raw]) {
    const identity = read(link.identity, candidate);
    if (identity !== undefined) found.push(identity);
  }
  return found;
}

/** The matchers of located lines records of one object: the fields and values they were located by. */
export function matchersOf(
  group: readonly LocatedLines[],
): Pick<LineMatcher, 'identity' | 'field' | 'values'>[] {
  return group.map((record) => ({
    identity: record.matched.identity,
    field: record.matched.field,
    values: new Set(record.matched.values),
  }));
}
