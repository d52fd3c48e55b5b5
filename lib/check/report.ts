import type { ValueSource } from '../stores';
import type { SourceCounts, SourceTally } from './tally';

/**
 * The report of a value check, built from counts alone: it can hold no stored value, key or
 * identifier, so it is safe to print, log and keep.
 */

/** What a value scan counted in one store. */
export interface StoreCounts {
  storeId: string;
  kind: 'dynamodb' | 's3';
  /** Records read: items, objects (per-subject prefixes) or lines that are JSON objects. */
  records: number;
  /** JSON-lines: lines that are not JSON objects; no rule can match them. */
  malformedLines: number;
  /** JSON-lines: objects that cannot be read as lines (compressed). */
  unreadableObjects: number;
  sources: SourceTally[];
}

export interface SourceReport extends ValueSource, SourceCounts {
  /**
   * Whether locate finds records by the exact stored text: a Query on a table's or index's
   * partition key, or the listing of a per-subject key prefix. Only normalised values are found so.
   */
  exactMatch: boolean;
  /**
   * Locate rules: records a request cannot reach by the normalised value. For exact matches, those
   * whose value does not normalise or is not in normalised form; for JSON lines (compared
   * normalised on both sides), those whose value does not normalise. Null for links, which are
   * read from records already found.
   */
  wouldMiss: number | null;
}

export interface StoreReport extends Omit<StoreCounts, 'sources'> {
  sources: SourceReport[];
  /** Records its locate rules would miss, summed over the rules (a record missed by two rules counts twice). */
  wouldMiss: number;
}

export interface CheckReport {
  stores: StoreReport[];
  /** Records locate would miss, over every store. */
  wouldMiss: number;
  /** True when every locate rule reaches every record it covers by the normalised value. */
  clean: boolean;
}

const EXACT_MATCH_USES: ReadonlySet<ValueSource['use']> = new Set(['table', 'index', 'prefix']);

/** A source's counts with what they mean for locate. */
function sourceReport(source: SourceTally): SourceReport {
  const exactMatch = EXACT_MATCH_USES.has(source.use);
  const wouldMiss =
    source.role === 'link'
      ? null
      : exactMatch
        ? source.notNormalising + source.notNormalised
        : source.notNormalising;
  return { ...source, exactMatch, wouldMiss };
}

/**
 * Builds the check report from the counts of each store: per source whether locate matches it
 * exactly and how many records it would therefore miss, the totals, and whether all is clean.
 */
export function buildCheckReport(stores: readonly StoreCounts[]): CheckReport {
  const reports = stores.map((store): StoreReport => {
    const sources = store.sources.map(sourceReport);
    const wouldMiss = sources.reduce((sum, source) => sum + (source.wouldMiss ?? 0), 0);
    return { ...store, sources, wouldMiss };
  });
  const wouldMiss = reports.reduce((sum, store) => sum + store.wouldMiss, 0);
  return { stores: reports, wouldMiss, clean: wouldMiss === 0 };
}
