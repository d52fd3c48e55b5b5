import type { DataMap, Store } from '../datamap/schema';
import { csvCell } from './export';

/**
 * The record of processing activities (GDPR Art. 30) as the data map describes it: one row per
 * store, with what an auditor asks of each. Built from the data map alone, so it never drifts
 * from what lethe actually exports, erases and sweeps.
 */
export interface InventoryRow {
  storeId: string;
  kind: Store['kind'];
  /** The table or bucket. */
  location: string;
  description: string;
  categories: string[];
  purpose: string;
  lawfulBasis: string;
  recipients: string[];
  source: string;
  /** e.g. "P13M from eventAt, then delete"; "until erased on request" without a rule. */
  retention: string;
  /** e.g. "delete", "mask email, phone". */
  erase: string;
  /** Each exemption as "reason (legal basis)". */
  exemptions: string[];
}

/** The inventory of a data map: who the controller is, and a row per store in data-map order. */
export interface Inventory {
  organisation: { name: string | null; controller: string | null; contact: string | null };
  rows: InventoryRow[];
}

function retentionText(store: Store): string {
  const rule = store.retention;
  if (!rule) return 'until erased on request';
  const from = 'attribute' in rule.from ? rule.from.attribute : 'object LastModified';
  return `${rule.period} from ${from}, then ${rule.action}`;
}

function eraseText(store: Store): string {
  if (store.erase.action !== 'mask') return store.erase.action;
  return `mask ${store.erase.fields.map((field) => `${field.attribute} (${field.with})`).join(', ')}`;
}

/** The record of processing activities of `dataMap`, one row per store. */
export function buildInventory(dataMap: DataMap): Inventory {
  return {
    organisation: {
      name: dataMap.organisation?.name ?? null,
      controller: dataMap.organisation?.controller ?? null,
      contact: dataMap.organisation?.contact ?? null,
    },
    rows: dataMap.stores.map((store) => ({
      storeId: store.id,
      kind: store.kind,
      location: store.kind === 'dynamodb' ? store.table : store.bucket,
      description: store.description ?? '',
      categories: store.categories,
      purpose: store.purpose,
      lawfulBasis: store.lawfulBasis,
      recipients: store.recipients,
      source: store.source,
      retention: retentionText(store),
      erase: eraseText(store),
      exemptions: store.exemptions.map((exemption) =>
        exemption.legalBasis ? `${exemption.reason} (${exemption.legalBasis})` : exemption.reason,
      ),
    })),
  };
}

const CSV_COLUMNS = [
  'store',
  'kind',
  'location',
  'description',
  'categories',
  'purpose',
  'lawfulBasis',
  'recipients',
  'source',
  'retention',
  'erase',
  'exemptions',
] as const;

/** The inventory as CSV: a header and a row per store, lists joined with "; ", cells a spreadsheet cannot run. */
export function inventoryCsv(inventory: Inventory): string {
  const lines = inventory.rows.map((row) =>
    [
      row.storeId,
      row.kind,
      row.location,
      row.description,
      row.categories.join('; '),
      row.purpose,
      row.lawfulBasis,
      row.recipients.join('; '),
      row.source,
      row.retention,
      row.erase,
      row.exemptions.join('; '),
    ]
      .map(csvCell)
      .join(','),
  );
  return `${[CSV_COLUMNS.join(','), ...lines].join('\n')}\n`;
}
