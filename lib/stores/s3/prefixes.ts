import {
  type Identity,
  InvalidIdentityError,
  mergeIdentities,
  normaliseIdentity,
} from '../../datamap/identity';
import type {
  DataMap,
  S3JsonLinesLocateRule,
  S3ParquetLocateRule,
  S3PrefixLocateRule,
  S3SharedLocateRule,
  S3Store,
} from '../../datamap/schema';
import { UnsupportedStoreError } from '../errors';
import { UnsafePrefixValueError } from './errors';

/**
 * The locate rules of an S3 store and the key prefixes they make: `calls/{phone}/` is
 * `calls/+4930123456/` for one subject, and a key under it is that subject's.
 */

/** Whether a locate rule finds per-subject objects under a key prefix template. */
export function isPrefixRule(rule: S3Store['locate'][number]): rule is S3PrefixLocateRule {
  return 'prefix' in rule;
}

/** Whether a locate rule matches lines of JSON-lines objects shared by many subjects. */
export function isJsonLinesRule(rule: S3Store['locate'][number]): rule is S3JsonLinesLocateRule {
  return 'jsonLines' in rule;
}

/** Whether a locate rule matches rows of Parquet objects shared by many subjects. */
export function isParquetRule(rule: S3Store['locate'][number]): rule is S3ParquetLocateRule {
  return 'parquet' in rule;
}

/** Whether a locate rule matches records (lines or rows) of objects shared by many subjects. */
export function isSharedObjectRule(rule: S3Store['locate'][number]): rule is S3SharedLocateRule {
  return isJsonLinesRule(rule) || isParquetRule(rule);
}

/** The prefix and field of a shared-object rule, whichever format it reads. */
export function sharedRuleSpec(rule: S3SharedLocateRule): { prefix: string; field: string } {
  return isJsonLinesRule(rule) ? rule.jsonLines : rule.parquet;
}

/** Whether the store's shared objects are Parquet files (the loader keeps one format per store). */
export function isParquetStore(store: S3Store): boolean {
  return store.locate.some(isParquetRule);
}

/**
 * The subject's identities of one type, each once, with normalised values (normalising again is
 * idempotent and cheap) and the spellings they carry.
 * @throws InvalidIdentityError when a value does not normalise
 */
export function subjectIdentities(
  dataMap: Pick<DataMap, 'identityTypes'>,
  identities: Identity[],
  type: string,
): Identity[] {
  return mergeIdentities(
    identities
      .filter((identity) => identity.type === type)
      .map((identity) => {
        const normalised = normaliseIdentity(dataMap, type, identity.value);
        return { ...normalised, spellings: [...(normalised.spellings ?? []), ...(identity.spellings ?? [])] };
      }),
  );
}

/** The subject's distinct normalised values of one identity type. */
export function subjectValues(
  dataMap: Pick<DataMap, 'identityTypes'>,
  identities: Identity[],
  type: string,
): string[] {
  return subjectIdentities(dataMap, identities, type).map((identity) => identity.value);
}

/**
 * Whether a value can fill a prefix placeholder: with no "/" in it (and not "." or ".."), the
 * value is delimited on both sides by a template that ends in "/", so no other subject's prefix
 * (ann@x.io.evil, +4930123 vs +49301234) can start with this one.
 */
export function isSafePrefixValue(value: string): boolean {
  return !value.includes('/') && value !== '.' && value !== '..';
}

/**
 * The fixed text before and after the placeholder of a prefix template.
 * @throws UnsupportedStoreError for a template the loader would have rejected
 */
export function splitTemplate(store: S3Store, rule: S3PrefixLocateRule): { before: string; after: string } {
  const placeholder = `{${rule.identity}}`;
  const at = rule.prefix.indexOf(placeholder);
  const before = rule.prefix.slice(0, at);
  const after = rule.prefix.slice(at + placeholder.length);
  // The loader enforces these; they are what makes one subject's prefix never a prefix of another's,
  // so they are checked again for stores built without it.
  if (
    at <= 0 ||
    !after.endsWith('/') ||
    /[{}]/.test(before) ||
    /[{}]/.test(after) ||
    rule.prefix.indexOf(placeholder, at + 1) !== -1
  ) {
    throw new UnsupportedStoreError(
      store.id,
      `prefix template "${rule.prefix}" must start with a fixed folder, hold {${rule.identity}} once and end with "/"`,
    );
  }
  return { before, after };
}

/**
 * The subject's key prefix: the template with the value in place of the placeholder.
 * @throws UnsafePrefixValueError when the value contains "/" or is "." or ".."
 */
export function substitutePrefix(store: S3Store, rule: S3PrefixLocateRule, value: string): string {
  const { before, after } = splitTemplate(store, rule);
  if (!isSafePrefixValue(value)) throw new UnsafePrefixValueError(store.id, rule.identity);
  return `${before}${value}${after}`;
}

/**
 * One pattern per prefix rule matching the start of a key under some subject's prefix; the match
 * is that subject's folder (`calls/+4930123456/` of `calls/+4930123456/x.wav`).
 * @throws UnsupportedStoreError for a template the loader would have rejected
 */
export function subjectFolderPatterns(store: S3Store): RegExp[] {
  return store.locate.filter(isPrefixRule).map((rule) => {
    const { before, after } = splitTemplate(store, rule);
    return new RegExp(`^${escapeRegExp(before)}[^/]+${escapeRegExp(after)}`, 's');
  });
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The identities an object key reveals through the store's prefix rules: `calls/+4930123456/x.wav`
 * under `calls/{phone}/` is the phone's, with the key's spelling when it is not the normalised
 * value. Values that do not normalise are left out.
 */
export function identitiesInKey(
  store: S3Store,
  key: string,
  dataMap: Pick<DataMap, 'identityTypes'>,
): Identity[] {
  const found: Identity[] = [];
  for (const rule of store.locate.filter(isPrefixRule)) {
    const value = placeholderValue(store, rule, key);
    if (value === undefined) continue;
    try {
      found.push(normaliseIdentity(dataMap, rule.identity, value));
    } catch (error) {
      if (!(error instanceof InvalidIdentityError)) throw error;
    }
  }
  return mergeIdentities(found);
}

/**
 * The text an object key holds in the place of a prefix rule's placeholder, as stored:
 * `+4930123456` for `calls/+4930123456/x.wav` under `calls/{phone}/`. Undefined when the key is not
 * under the template (no folder after the fixed prefix, or not the template's fixed text after it).
 */
export function placeholderValue(store: S3Store, rule: S3PrefixLocateRule, key: string): string | undefined {
  const { before, after } = splitTemplate(store, rule);
  if (!key.startsWith(before)) return undefined;
  const rest = key.slice(before.length);
  const end = rest.indexOf('/');
  if (end <= 0 || !rest.slice(end).startsWith(after)) return undefined;
  return rest.slice(0, end);
}
