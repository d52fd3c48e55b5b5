import type { DataMap } from '../datamap/schema';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from '../stores/retry';
import type { StoreClients } from '../stores/types';
import { ImportError } from './import-errors';
import { dynamoStore } from './import-file';
import { importObjects } from './import-objects';
import { createItemChecker, type LocateKeyPolicy } from './item-check';
import { writeItems } from './item-writer';

export { ImportError, ImportIncompleteError } from './import-errors';
export {
  checkItemsFile,
  type ItemsFileCheck,
  type ItemsFileImport,
  type ItemsFileOptions,
  importItemsFile,
} from './import-file';
export { checkFolder, type FolderImport, importDirectory, importObjects } from './import-objects';
export type { LocateKeyPolicy } from './item-check';

/** Items named in an error; the rest are counted. */
const MAX_LISTED_ITEMS = 100;

/**
 * Writes items (documents, as the DynamoDB document client takes them) to a DynamoDB store in
 * batches of 25, retrying unprocessed items; returns how many were written. Every item is checked
 * first as a file import checks its lines, and nothing is written unless all pass. Locate keys are
 * kept as given unless `locateKeys` says otherwise: seeds and tests write legacy spellings on purpose.
 * @throws ImportError naming every refused item by its position (from 1)
 * @throws ImportIncompleteError when writing stopped part way
 */
export async function importItems(
  dataMap: DataMap,
  storeId: string,
  items: readonly Record<string, unknown>[],
  clients: StoreClients,
  retry: RetryPolicy = DEFAULT_RETRY_POLICY,
  locateKeys: LocateKeyPolicy = 'keep',
): Promise<number> {
  const store = dynamoStore(dataMap, storeId);
  const check = createItemChecker(dataMap, store, locateKeys, 'document');
  const firstOf = new Map<string, number>();
  const problems: string[] = [];
  const checked = items.flatMap((document, index) => {
    const verdict = check(document);
    const position = index + 1;
    if (!verdict.ok) {
      problems.push(`item ${position}: ${verdict.problems.join('; ')}`);
      return [];
    }
    const first = firstOf.get(verdict.keyDigest);
    if (first !== undefined) {
      problems.push(`item ${position}: the same table key as item ${first}`);
      return [];
    }
    firstOf.set(verdict.keyDigest, position);
    return [verdict.item];
  });
  if (problems.length > 0) {
    throw new ImportError(
      `${problems.length} of ${items.length} items for store ${store.id} cannot be imported, so nothing was imported: fix the items listed below.`,
      [...problems.slice(0, MAX_LISTED_ITEMS)],
    );
  }
  return writeItems(store, clients.dynamodb, checked, retry);
}

/** Seed data in the shape the example's generator produces, for the demo, tests and benchmarks. */
export interface StoreSeed {
  dynamodb: Record<string, Record<string, unknown>[]>;
  s3: Record<string, { key: string; body: string | Buffer; contentType: string }[]>;
}

/** Loads seed data into every store it names. */
export async function importSeed(dataMap: DataMap, seed: StoreSeed, clients: StoreClients): Promise<void> {
  for (const [storeId, items] of Object.entries(seed.dynamodb))
    await importItems(dataMap, storeId, items, clients);
  for (const [storeId, objects] of Object.entries(seed.s3))
    await importObjects(dataMap, storeId, objects, clients);
}
