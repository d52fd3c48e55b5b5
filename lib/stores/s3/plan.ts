import type { S3Store } from '../../datamap/schema';
import type { LocatedLines, LocatedObject, LocatedRecord } from '../types';
import { RecordOutsideStoreError } from './errors';
import { isSharedObjectRule, sharedRuleSpec, subjectFolderPatterns } from './prefixes';

/** Located records of an S3 store, sorted into the work read and erase do with them. */
export interface RecordPlan {
  objects: LocatedObject[];
  /** Lines (or Parquet rows) records grouped by object key: several rules may have matched in one object. */
  lines: Map<string, LocatedLines[]>;
  exempt: LocatedRecord[];
}

/**
 * Splits records into work, checking first that each one belongs to this store, so a wrong
 * manifest touches nothing. Objects are de-duplicated; lines records are grouped by object.
 * @param splitExempt put exempted records aside (erasure) instead of with the others (export)
 * @throws RecordOutsideStoreError for a record that is not of this store
 */
export function planRecords(store: S3Store, records: LocatedRecord[], splitExempt = false): RecordPlan {
  const prefixPatterns = subjectFolderPatterns(store);
  const lineRules = store.locate
    .filter(isSharedObjectRule)
    .map((rule) => ({ identity: rule.identity, ...sharedRuleSpec(rule) }));
  const plan: RecordPlan = { objects: [], lines: new Map(), exempt: [] };
  const seenObjects = new Set<string>();
  records.forEach((record, index) => {
    if (record.kind === 'item') {
      throw new RecordOutsideStoreError(store.id, index, 'a DynamoDB item in an S3 store');
    }
    if (record.kind === 'object' && !prefixPatterns.some((pattern) => pattern.test(record.key))) {
      throw new RecordOutsideStoreError(
        store.id,
        index,
        "the key is under none of the store's subject prefixes",
      );
    }
    if (
      record.kind === 'lines' &&
      !lineRules.some(
        (rule) =>
          record.key.startsWith(rule.prefix) &&
          rule.identity === record.matched.identity &&
          rule.field === record.matched.field,
      )
    ) {
      throw new RecordOutsideStoreError(
        store.id,
        index,
        "no JSON-lines or Parquet rule of the store matches the record's prefix and field",
      );
    }
  });
  for (const record of records) {
    if (splitExempt && record.exemption) {
      plan.exempt.push(record);
    } else if (record.kind === 'object') {
      if (seenObjects.has(record.key)) continue;
      seenObjects.add(record.key);
      plan.objects.push(record);
    } else if (record.kind === 'lines') {
      const group = plan.lines.get(record.key) ?? [];
      group.push(record);
      plan.lines.set(record.key, group);
    }
  }
  return plan;
}
