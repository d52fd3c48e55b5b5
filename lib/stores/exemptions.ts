import type { Exemption as ExemptionRule, Store } from '../datamap/schema';
import type { Exemption } from './types';

function matches(rule: ExemptionRule, record: Record<string, unknown> | undefined): boolean {
  const condition = rule.when;
  if (!condition) return true;
  if (!record) return false;
  const value = record[condition.attribute];
  if (condition.exists !== undefined) return (value !== undefined && value !== null) === condition.exists;
  if (condition.equals !== undefined) return value === condition.equals;
  if (condition.in !== undefined) return condition.in.some((candidate) => candidate === value);
  return false;
}

/**
 * The data-map exemption that keeps a record from erasure, if any: the first rule whose
 * condition the record meets. S3 records pass no attributes, so only store-wide rules apply.
 */
export function exemptionFor(store: Store, record?: Record<string, unknown>): Exemption | undefined {
  const rule = store.exemptions.find((candidate) => matches(candidate, record));
  if (!rule) return undefined;
  return {
    source: 'datamap',
    reason: rule.reason,
    ...(rule.legalBasis === undefined ? {} : { legalBasis: rule.legalBasis }),
  };
}
