import type { Link, Store } from '../datamap/schema';
import type { ValueSource } from './adapter';

function linkSource(link: Link): ValueSource {
  return { role: 'link', identity: link.identity, use: 'link', attribute: link.attribute };
}

/**
 * The value sources of a store, in a fixed order: its locate rules, then its links. Links of an S3
 * store with per-subject prefixes are left out: locate never reads those objects' contents, so their
 * links reveal nothing.
 */
export function valueSources(store: Store): ValueSource[] {
  if (store.kind === 'dynamodb') {
    return [
      ...store.locate.map(
        (rule): ValueSource =>
          rule.index === undefined
            ? { role: 'locate', identity: rule.identity, use: 'table', attribute: rule.attribute }
            : {
                role: 'locate',
                identity: rule.identity,
                use: 'index',
                attribute: rule.attribute,
                index: rule.index,
              },
      ),
      ...store.links.map(linkSource),
    ];
  }
  const rules = store.locate.map(
    (rule): ValueSource =>
      'prefix' in rule
        ? {
            role: 'locate',
            identity: rule.identity,
            use: 'prefix',
            attribute: rule.prefix,
            keyPrefix: rule.prefix.slice(0, rule.prefix.indexOf('{')),
          }
        : {
            role: 'locate',
            identity: rule.identity,
            use: 'jsonLines' in rule ? 'jsonLines' : 'parquet',
            attribute: 'jsonLines' in rule ? rule.jsonLines.field : rule.parquet.field,
            keyPrefix: 'jsonLines' in rule ? rule.jsonLines.prefix : rule.parquet.prefix,
          },
  );
  const shared = store.locate.some((rule) => 'jsonLines' in rule || 'parquet' in rule);
  return [...rules, ...(shared ? store.links.map(linkSource) : [])];
}
