import { getStore } from '../datamap/load';
import type { DataMap } from '../datamap/schema';
import type { LetheDeps } from '../deps';
import { type StoreClients, scanStoreValues, type ValueScanOptions, valueSources } from '../stores';
import { buildCheckReport, type CheckReport, type StoreCounts } from './report';
import { createClassifier, emptyTallies, tallyRecord } from './tally';

/** How far a check has read: records of the store so far, and whether it is done. */
export interface CheckProgress {
  storeId: string;
  records: number;
  done: boolean;
}

export interface CheckOptions extends ValueScanOptions {
  /** Only these stores, in this order; default every store of the data map. */
  storeIds?: readonly string[];
  /** Called after every page and once more when a store is done. */
  onProgress?: (progress: CheckProgress) => void;
}

/**
 * A data-quality check of the stores: reads every record's locate and link values (read-only, a
 * page at a time, one store after the other) and reports per store and value source how many are
 * missing, do not normalise, or are not in normalised form, and what locate would therefore miss.
 * The report holds counts only, never a value.
 * @throws UnknownStoreError naming the known stores, before anything is read
 */
export async function checkStores(
  deps: Pick<LetheDeps, 'dataMap'> & { clients: StoreClients },
  options: CheckOptions = {},
): Promise<CheckReport> {
  const dataMap: DataMap = deps.dataMap;
  const { storeIds, onProgress, ...scanOptions } = options;
  const stores = storeIds ? storeIds.map((id) => getStore(dataMap, id)) : dataMap.stores;
  const classify = createClassifier(dataMap);
  const counted: StoreCounts[] = [];
  for (const store of stores) {
    const tallies = emptyTallies(valueSources(store));
    let records = 0;
    let malformedLines = 0;
    let unreadableObjects = 0;
    for await (const page of scanStoreValues(dataMap, store, deps.clients, scanOptions)) {
      for (const record of page.records) tallyRecord(tallies, record, classify);
      records += page.records.length;
      malformedLines += page.malformedLines;
      unreadableObjects += page.unreadableObjects;
      onProgress?.({ storeId: store.id, records, done: false });
    }
    onProgress?.({ storeId: store.id, records, done: true });
    counted.push({
      storeId: store.id,
      kind: store.kind,
      records,
      malformedLines,
      unreadableObjects,
      sources: tallies,
    });
  }
  return buildCheckReport(counted);
}
