import { parseDataMap } from '../datamap/load';
import { draftText } from './draft';
import type { Discovery } from './model';
import { propose } from './propose';
import type { BucketSample, DiscoverySource, TableSample } from './sample';

export { DiscoveryInputError, folderSource } from './folder';
export type { Discovery, FieldReport, ProposedStore, StoreReport } from './model';
export { reportText } from './report';
export type { DiscoverySource, SampleOptions } from './sample';
export { storeSource } from './stores';

/** Raised when no store holds anything discovery can locate a subject by: there is no draft to write. */
export class NothingDiscoveredError extends Error {
  override readonly name = 'NothingDiscoveredError';
}

/** A discovery and its draft data map. */
export interface DiscoveryResult {
  discovery: Discovery;
  /** The draft data map (YAML); it loads with the data map loader. */
  draft: string;
}

/**
 * Reads a sample of every table and bucket of `source` and drafts a data map from what they hold,
 * with a report of what was seen. Values read stay in memory: neither holds one.
 * @throws NothingDiscoveredError when no store holds an identity
 */
export async function discover(source: DiscoverySource, sample: number): Promise<DiscoveryResult> {
  const tables: TableSample[] = [];
  for await (const table of source.tables()) tables.push(table);
  const buckets: BucketSample[] = [];
  for await (const bucket of source.buckets()) buckets.push(bucket);
  const discovery = propose(tables, buckets, { source: source.description, sample });
  if (discovery.stores.length === 0) {
    throw new NothingDiscoveredError(
      `no store of ${source.description} holds anything a subject can be found by (${tables.length} tables, ${buckets.length} buckets read): check --tables, --buckets and the folder layout (DIR/dynamodb/<table>.jsonl, DIR/s3/<bucket>/)`,
    );
  }
  const draft = draftText(discovery);
  // The draft must load as written: a draft that does not is a defect here, not the user's.
  parseDataMap(draft, 'the discovered draft');
  return { discovery, draft };
}
