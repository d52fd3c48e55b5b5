import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { DeleteCommand, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { hashIdentities } from '../audit/subject-hash';
import type { Identity } from '../datamap/identity';
import type { LetheDeps } from '../deps';
import type { RequestRecord } from './request';
import { findRequest, updateRequest } from './requests-table';

/**
 * An export package is a full copy of a person's data. When the same person is erased, every
 * earlier package of theirs must go too, or the erasure leaves the very data it reports erased in
 * lethe's own bucket. Packages are indexed by the keyed hashes of every identity the exporting
 * request had resolved (an item per hash in the requests table, holding request ids only), so an
 * erasure finds them by any identity without scanning.
 */

const INDEX = 'export-index';
const indexKey = (hash: string) => `exports#${hash}`;

type IndexDeps = Pick<LetheDeps, 'doc' | 'resources' | 'keys' | 'now'>;

/**
 * Notes that `requestId` wrote an export package of the subject with these identities, and keeps
 * on the request the hashes it is indexed under, so the record's purge can take it out again.
 */
export async function indexExport(deps: IndexDeps, requestId: string, identities: readonly Identity[]) {
  const hashes = hashIdentities(deps.keys.subjectHash, identities);
  await updateRequest(deps, requestId, { by: 'lethe:export', set: { exportIndexedUnder: hashes } });
  for (const hash of hashes) {
    await deps.doc.send(
      new UpdateCommand({
        TableName: deps.resources.requestsTable,
        Key: { requestId: indexKey(hash) },
        UpdateExpression: 'SET recordType = :type ADD requestIds :ids',
        ExpressionAttributeValues: { ':type': INDEX, ':ids': new Set([requestId]) },
      }),
    );
  }
}

/** An earlier export package an erasure deleted: its request and when (no identifiers). */
export interface DeletedExport {
  requestId: string;
  deletedAt: string;
}

/**
 * Deletes every export package an earlier request wrote of the subject with these identities
 * (except `requestId`'s own), marks those requests' packages as deleted, and drops the index.
 * Safe to run again: what is deleted stays deleted and is reported again.
 */
export async function deleteEarlierExports(
  deps: Pick<LetheDeps, 'doc' | 'resources' | 'keys' | 'clients' | 'now'>,
  requestId: string,
  identities: readonly Identity[],
): Promise<DeletedExport[]> {
  const hashes = hashIdentities(deps.keys.subjectHash, identities);
  const exporters = new Set<string>();
  for (const hash of hashes) {
    const item = await deps.doc.send(
      new GetCommand({
        TableName: deps.resources.requestsTable,
        Key: { requestId: indexKey(hash) },
        ConsistentRead: true,
      }),
    );
    for (const id of (item.Item?.requestIds as Set<string> | undefined) ?? []) {
      if (id !== requestId) exporters.add(id);
    }
  }
  const deleted: DeletedExport[] = [];
  for (const exporter of [...exporters].sort()) {
    const record = await findRequest(deps, exporter);
    if (!record?.export) continue;
    if (!record.exportDeletedAt) {
      await deps.clients.s3.send(
        new DeleteObjectCommand({ Bucket: record.export.bucket, Key: record.export.key }),
      );
      await updateRequest(deps, exporter, {
        by: `lethe:erasure:${requestId}`,
        set: { exportDeletedAt: deps.now().toISOString(), exportDeletedBy: requestId },
      });
    }
    deleted.push({ requestId: exporter, deletedAt: record.exportDeletedAt ?? deps.now().toISOString() });
  }
  // Kept on the erasing request before the index goes, so a rerun still reports them.
  const own = await findRequest(deps, requestId);
  const known = new Map((own?.exportsDeleted ?? []).map((entry) => [entry.requestId, entry]));
  for (const entry of deleted) if (!known.has(entry.requestId)) known.set(entry.requestId, entry);
  const all = [...known.values()].sort((a, b) => (a.requestId < b.requestId ? -1 : 1));
  await updateRequest(deps, requestId, { by: 'lethe:confirm', set: { exportsDeleted: all } });
  for (const hash of hashes) {
    await deps.doc.send(
      new DeleteCommand({
        TableName: deps.resources.requestsTable,
        Key: { requestId: indexKey(hash) },
        ConditionExpression: 'attribute_not_exists(requestId) OR recordType = :type',
        ExpressionAttributeValues: { ':type': INDEX },
      }),
    );
  }
  return all;
}

/**
 * Takes a request whose record is being purged out of the export index, and drops index items left
 * with no request: the index is keyed by the subject's hashes and must not outlive the records it
 * points to. Safe to run again.
 */
export async function unindexExport(
  deps: Pick<LetheDeps, 'doc' | 'resources'>,
  record: Pick<RequestRecord, 'requestId' | 'exportIndexedUnder'>,
): Promise<void> {
  for (const hash of record.exportIndexedUnder ?? []) {
    const key = { requestId: indexKey(hash) };
    const updated = await deps.doc
      .send(
        new UpdateCommand({
          TableName: deps.resources.requestsTable,
          Key: key,
          UpdateExpression: 'DELETE requestIds :ids',
          ConditionExpression: 'recordType = :type',
          ExpressionAttributeValues: { ':type': INDEX, ':ids': new Set([record.requestId]) },
          ReturnValues: 'ALL_NEW',
        }),
      )
      .catch((error: unknown) => {
        // Gone already: an erasure of the subject dropped the index, or an earlier purge did.
        if (error instanceof Error && error.name === 'ConditionalCheckFailedException') return undefined;
        throw error;
      });
    if (updated && updated.Attributes?.requestIds === undefined) {
      await deps.doc
        .send(
          new DeleteCommand({
            TableName: deps.resources.requestsTable,
            Key: key,
            // An export indexed meanwhile keeps the item.
            ConditionExpression: 'recordType = :type AND attribute_not_exists(requestIds)',
            ExpressionAttributeValues: { ':type': INDEX },
          }),
        )
        .catch((error: unknown) => {
          if (error instanceof Error && error.name === 'ConditionalCheckFailedException') return;
          throw error;
        });
    }
  }
}
