import type { Exemption as ExemptionRule, Store } from '../datamap/schema';
import type { Exemption, StoreErasure } from './types';

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

/** Counts kept records by exemption (source, reason and legal basis), for the erasure certificate. */
export class ExemptionTally {
  private readonly counts = new Map<string, StoreErasure['exemptions'][number]>();
  total = 0;

  /** Counts `count` records (items, objects, or lines) kept by `exemption`. */
  add(exemption: Exemption, count = 1): void {
    this.total += count;
    const id = JSON.stringify([
      exemption.source,
      exemption.reason,
      exemption.legalBasis ?? null,
      exemption.retainUntil ?? null,
    ]);
    const entry = this.counts.get(id);
    if (entry) entry.count += count;
    else {
      this.counts.set(id, {
        reason: exemption.reason,
        ...(exemption.legalBasis === undefined ? {} : { legalBasis: exemption.legalBasis }),
        source: exemption.source,
        ...(exemption.retainUntil === undefined ? {} : { retainUntil: exemption.retainUntil }),
        count,
      });
    }
  }

  /** The counts by exemption, in the order each was first seen. */
  entries(): StoreErasure['exemptions'] {
    return [...this.counts.values()];
  }
}
