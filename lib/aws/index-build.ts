import * as z from 'zod';
import type { LetheDeps } from '../deps';
import { finishIndexBuild, type IndexBatchResult, indexBatch } from '../lake';
import { StepInputError } from '../workflow/request-steps';

/**
 * The IndexBuild state machine's function: each child batch of its Distributed Map (the S3
 * listing's items, batched, with the store id as BatchInput) runs the same indexBatch as a local
 * build; its last state finishes the build (the watermark) once every batch succeeded.
 */

/** An item of S3ObjectsItemReader: the listing's Key, Etag (quoted, as the API gives it) and Size. */
const listedItem = z.looseObject({
  Key: z.string(),
  Etag: z.string().optional(),
  ETag: z.string().optional(),
  Size: z.number().optional(),
});

const batchEvent = z.object({
  BatchInput: z.object({ storeId: z.string().min(1) }),
  Items: z.array(listedItem).max(1000),
});

const finishEvent = z.object({
  finish: z.literal(true),
  storeId: z.string().min(1),
  /** The execution's start time ($$.Execution.StartTime). */
  startedAt: z.iso.datetime({ offset: true }),
});

/** S3 lists ETags in quotes; S3 events and some readers give them bare. The index keeps the quoted form. */
function quotedEtag(etag: string | undefined): string | undefined {
  if (etag === undefined) return undefined;
  return etag.startsWith('"') ? etag : `"${etag}"`;
}

/**
 * Runs one state of an index build: a batch of listed objects, or the finish.
 * @throws StepInputError when the event is neither
 */
export async function runIndexBuildStep(
  deps: LetheDeps,
  event: unknown,
): Promise<IndexBatchResult | { storeId: string; watermark: string }> {
  const finish = finishEvent.safeParse(event);
  if (finish.success) {
    const watermark = await finishIndexBuild(deps, finish.data.storeId, {
      startedAt: new Date(finish.data.startedAt),
    });
    return { storeId: finish.data.storeId, watermark };
  }
  const batch = batchEvent.safeParse(event);
  if (!batch.success)
    throw new StepInputError('an index build step takes a batch of listed objects or the finish');
  return indexBatch(
    deps,
    batch.data.BatchInput.storeId,
    batch.data.Items.map((item) => {
      const etag = quotedEtag(item.Etag ?? item.ETag);
      return {
        key: item.Key,
        ...(etag === undefined ? {} : { etag }),
        ...(item.Size === undefined ? {} : { size: item.Size }),
      };
    }),
  );
}
