import type { DataMap, S3Store } from '../datamap/schema';
import { isIndexed } from './follow';
import { countIndexedObjects, type IndexDeps, readIndexMeta } from './table';

/** One indexed store as `lethe index status` shows it. */
export interface IndexStatus {
  storeId: string;
  /** Objects the index describes. */
  objectsIndexed: number;
  /** Objects the last build listed; null before the first build. */
  objectsAtBuild: number | null;
  /** Objects modified before this were indexed by the last build; null before the first build. */
  watermark: string | null;
  builtAt: string | null;
  /** Seconds from the watermark to now: how far back objects are checked one by one; null before the first build. */
  lagSeconds: number | null;
}

/** The stores the data map indexes (JSON-lines and Parquet stores with identityIndex). */
export function indexedStores(dataMap: Pick<DataMap, 'stores'>): S3Store[] {
  return dataMap.stores.filter(
    (store): store is S3Store => store.kind === 's3' && store.identityIndex === true,
  );
}

/** Per indexed store: objects indexed, watermark and lag. */
export async function indexStatus(
  deps: IndexDeps,
  options: { storeIds?: string[]; clock?: () => Date } = {},
): Promise<IndexStatus[]> {
  const now = (options.clock ?? (() => new Date()))();
  const stores = indexedStores(deps.dataMap).filter(
    (store) => !options.storeIds || options.storeIds.includes(store.id),
  );
  return Promise.all(
    stores
      .filter((store) => isIndexed(deps, store))
      .map(async (store) => {
        const [meta, objectsIndexed] = await Promise.all([
          readIndexMeta(deps, store.id),
          countIndexedObjects(deps, store.id),
        ]);
        return {
          storeId: store.id,
          objectsIndexed,
          objectsAtBuild: meta?.objects ?? null,
          watermark: meta?.watermark ?? null,
          builtAt: meta?.builtAt ?? null,
          lagSeconds: meta
            ? Math.max(0, Math.round((now.getTime() - Date.parse(meta.watermark)) / 1000))
            : null,
        };
      }),
  );
}
