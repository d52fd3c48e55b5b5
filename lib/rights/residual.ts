import { type RetainedAttribute, retainedKeyAttributes } from '../datamap/masking';
import type { Store } from '../datamap/schema';
import type { LocatedRecord } from '../stores/types';

/**
 * What Confirm holds an erasure to. A record located again after erasure is residual unless an
 * exemption or a legal hold keeps it, or it is erased-by-masking: an item of a store that erases by
 * masking whose masked attributes are all absent or in their masked form. Such an item may still be
 * found through a table key that masking cannot change; the certificate names that key. An item
 * whose masked attributes hold original values again (a writer restored them) is residual.
 */

/**
 * The subject's records still present that erasure should have removed: for delete stores every
 * located record not kept, for mask stores those not erased-by-masking, for JSON-lines stores the
 * subject's lines. Records only claimed links reached (`claimedBy`) count only when staff included
 * the store in review: otherwise the request never set out to erase them.
 * @param options.includeClaimed whether staff included the store's claimed records
 */
export function residualCount(
  store: Store,
  records: readonly LocatedRecord[],
  options: { includeClaimed?: boolean } = {},
): number {
  const masks = store.erase.action === 'mask';
  let residual = 0;
  for (const record of records) {
    if (record.exemption) continue;
    if (record.claimedBy && !options.includeClaimed) continue;
    if (record.kind === 'lines') residual += record.lineCount;
    else if (!(masks && record.kind === 'item' && record.masked === true)) residual += 1;
  }
  return residual;
}

/**
 * The attributes a masked record keeps with the subject's value, and why, for the certificate of
 * a store that erases by masking; undefined for other stores.
 */
export function retainedAttributes(store: Store): RetainedAttribute[] | undefined {
  return store.kind === 'dynamodb' && store.erase.action === 'mask'
    ? retainedKeyAttributes(store)
    : undefined;
}
