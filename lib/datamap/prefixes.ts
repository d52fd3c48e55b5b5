import type { S3Store } from './schema';

/**
 * The fixed key prefixes (before any placeholder) under which a store's objects are located:
 * `calls/` for `calls/{phone}/`, the prefix of a JSON-lines rule. A prefix covered by a shorter
 * one is dropped, so the prefixes never overlap.
 */
export function locatePrefixes(store: S3Store): string[] {
  const fixed = store.locate.map((rule) =>
    'prefix' in rule
      ? rule.prefix.slice(0, rule.prefix.indexOf('{'))
      : 'jsonLines' in rule
        ? rule.jsonLines.prefix
        : rule.parquet.prefix,
  );
  return [...new Set(fixed)].filter(
    (prefix, _, all) => !all.some((other) => other !== prefix && prefix.startsWith(other)),
  );
}

/**
 * The distinct prefixes of a store's shared-object (JSON-lines, Parquet) rules, none inside
 * another, so no object is listed twice: what an identity index covers and its S3 notifications watch.
 */
export function sharedObjectPrefixes(store: S3Store): string[] {
  const prefixes = [
    ...new Set(
      store.locate.flatMap((rule) =>
        'jsonLines' in rule ? [rule.jsonLines.prefix] : 'parquet' in rule ? [rule.parquet.prefix] : [],
      ),
    ),
  ];
  return prefixes.filter((prefix) => !prefixes.some((other) => other !== prefix && prefix.startsWith(other)));
}

/**
 * Where a retention sweep lists an S3 store: its `retentionPrefix` when the data map sets one
 * (`""` is the whole bucket), otherwise the fixed prefixes of its locate rules, which is where the
 * store's objects are. Objects elsewhere in a bucket are not the store's and are never swept.
 */
export function sweepPrefixes(store: S3Store): string[] {
  return store.retentionPrefix !== undefined ? [store.retentionPrefix] : locatePrefixes(store);
}
