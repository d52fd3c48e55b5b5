import { InvalidIdentityError, normaliseIdentity } from '../datamap/identity';
import type { DataMap } from '../datamap/schema';
import type { ScannedRecord, ValueSource } from '../stores';

/**
 * Counting what a value scan reads, per value source: how many values are missing, do not
 * normalise, or are not in normalised form. Only counts leave here; the values are dropped.
 */

/** The counts of one value source of a store. */
export interface SourceCounts {
  /** Records the source covers (S3: objects or lines under its prefix). */
  records: number;
  /** Values seen: one per record that has the attribute, one per element of a link's list. */
  values: number;
  /** Records without the attribute (absent or null). */
  missing: number;
  /** Values that are no valid identity of the type: not a string, or refused by its normaliser. */
  notNormalising: number;
  /** Values that normalise, but whose stored text differs from the normalised value. */
  notNormalised: number;
  /**
   * Of those, values whose stored text is not even trimmed (surrounding spaces or tabs): only a
   * request giving that exact text, whitespace included, finds them by the stored spelling.
   */
  onlyAsGiven: number;
}

/** How a stored value stands to its identity type's normalised form. */
export type ValueClass = 'normalised' | 'notNormalised' | 'onlyAsGiven' | 'notNormalising';

/** A classifier of raw values by identity type (see {@link createClassifier}). */
export type ValueClassifier = (identityType: string, raw: unknown) => ValueClass;

const CACHE_ENTRIES = 10_000;

/**
 * Classifies stored values against their identity type's normalisation, caching recent answers:
 * stores repeat the same few values (a customer id on every order) across many records.
 */
export function createClassifier(dataMap: Pick<DataMap, 'identityTypes'>): ValueClassifier {
  const cache = new Map<string, ValueClass>();
  return (identityType, raw) => {
    if (typeof raw !== 'string') return 'notNormalising';
    const cacheKey = `${identityType}\u0000${raw}`;
    const cached = cache.get(cacheKey);
    if (cached !== undefined) return cached;
    let verdict: ValueClass;
    try {
      const { value } = normaliseIdentity(dataMap, identityType, raw);
      verdict = value === raw ? 'normalised' : raw.trim() === raw ? 'notNormalised' : 'onlyAsGiven';
    } catch (error) {
      if (!(error instanceof InvalidIdentityError)) throw error;
      verdict = 'notNormalising';
    }
    if (cache.size >= CACHE_ENTRIES) cache.clear();
    cache.set(cacheKey, verdict);
    return verdict;
  };
}

/** A value source with its counts. */
export type SourceTally = ValueSource & SourceCounts;

/** Each source with zero counts. */
export function emptyTallies(sources: readonly ValueSource[]): SourceTally[] {
  return sources.map((source) => ({
    ...source,
    records: 0,
    values: 0,
    missing: 0,
    notNormalising: 0,
    notNormalised: 0,
    onlyAsGiven: 0,
  }));
}

/**
 * The values a record holds in a source: a link's list or set is several values (as locate reads
 * links); a locate rule's attribute is one value, whatever it holds (a list there matches nothing).
 */
function valuesIn(source: ValueSource, raw: unknown): unknown[] {
  return source.role === 'link' && Array.isArray(raw) ? raw : [raw];
}

/** Adds one scanned record to the tallies of its store's sources (index-aligned with `record.values`). */
export function tallyRecord(tallies: SourceTally[], record: ScannedRecord, classify: ValueClassifier): void {
  tallies.forEach((tally, index) => {
    if (record.applies?.[index] === false) return;
    tally.records += 1;
    const raw = record.values[index];
    if (raw === undefined || raw === null) {
      tally.missing += 1;
      return;
    }
    for (const value of valuesIn(tally, raw)) {
      tally.values += 1;
      const verdict = classify(tally.identity, value);
      if (verdict === 'notNormalising') tally.notNormalising += 1;
      else if (verdict !== 'normalised') {
        tally.notNormalised += 1;
        if (verdict === 'onlyAsGiven') tally.onlyAsGiven += 1;
      }
    }
  });
}
