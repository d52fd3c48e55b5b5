import { createHash } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { ZipFile } from 'yazl';
import { appendAuditEvent, auditDepsOf } from '../audit/log';
import type { Store } from '../datamap/schema';
import { getStore } from '../datamap/validate';
import type { LetheDeps } from '../deps';
import { restrictedLineHashes } from '../holds';
import { readObjectTag, readRecords, streamObject } from '../stores';
import { DEFAULT_RETRY_POLICY } from '../stores/retry';
import type { ExportedRecord, LocatedRecord } from '../stores/types';
import { indexExport } from './earlier-exports';
import { RequestStateError } from './errors';
import { PAGE_RECORDS_PER_STORE, type PageStore, providedBySubject, renderIndexHtml } from './export-page';
import { linesOf, locatedLineHashes, restrictsLines } from './line-restrictions';
import { workingIdentities } from './locate';
import { encryptionParameters, readManifest } from './manifests';
import { getRequest, updateRequest } from './requests-table';

export interface LocatedStoreRef {
  storeId: string;
  manifestKey: string;
  located: number;
}

export interface ExportResult {
  requestId: string;
  exportKey: string;
  bytes: number;
  sha256: string;
  /**
   * Records written per store; Confirm checks them against what was located. A store a
   * portability export leaves out (its data was not provided by the subject) is `omitted`.
   */
  stores: { storeId: string; exported: number; omitted?: 'not-provided-by-subject' }[];
}

/** Art. 15(1) information for one store, as written to manifest.json and index.html. */
export function disclosureFor(store: Store) {
  return {
    store: store.id,
    description: store.description ?? null,
    categories: store.categories,
    purpose: store.purpose,
    lawfulBasis: store.lawfulBasis,
    recipients: store.recipients,
    source: store.source,
    retention: store.retention
      ? { period: store.retention.period, action: store.retention.action }
      : { period: null, note: 'kept until erased on request' },
    exemptions: store.exemptions.map((exemption) => ({
      reason: exemption.reason,
      legalBasis: exemption.legalBasis ?? null,
    })),
  };
}

/** Media and archives do not shrink when deflated again: storing them saves the export's time. */
const ALREADY_COMPRESSED =
  /\.(wav|mp3|m4a|ogg|opus|flac|mp4|mov|webm|jpe?g|png|gif|webp|heic|pdf|zip|gz|bz2|xz|zst|7z|docx|xlsx|pptx)$/i;

/** A cell a spreadsheet would run as a formula: =, +, -, @ or a tab or carriage return first. */
const FORMULA_START = /^[=+\-@\t\r]/;
const PLAIN_NUMBER = /^[+-]?\d+(\.\d+)?([eE][+-]?\d+)?$/;

/**
 * One CSV cell. Values a spreadsheet would evaluate (`=HYPERLINK(…)`, `@SUM(…)`, `-2+3`) get a
 * leading apostrophe, so opening the portability file cannot run what someone typed into a form;
 * plain numbers (-12.5) stay numbers. The JSON files in the package keep every value as stored.
 */
export function csvCell(value: unknown): string {
  const raw = typeof value === 'string' ? value : JSON.stringify(value);
  const text = FORMULA_START.test(raw) && !PLAIN_NUMBER.test(raw) ? `'${raw}` : raw;
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * The file an object is packaged as: its key under `files/<store>/`, with what zip tools refuse in a
 * file name escaped: a trailing "/" (a non-empty object may have a folder-like key), ".." segments
 * and backslashes (read as separators).
 */
export function packageFileName(storeId: string, key: string): string {
  const name = key
    .replace(/\\/g, '%5C')
    .split('/')
    .map((segment) => (segment === '..' ? '%2E%2E' : segment))
    .join('/');
  return `files/${storeId}/${name.endsWith('/') ? `${name.slice(0, -1)}%2F` : name}`;
}

function keyText(record: ExportedRecord): string {
  return typeof record.key === 'string' ? record.key : JSON.stringify(record.key);
}

/**
 * Export: streams every located record into a zip in the exports bucket (multipart, so
 * memory stays bounded): one JSON file per store (and CSV for portability), the objects'
 * original files, `manifest.json` with the Art. 15(1) information per store, and `index.html`.
 */
export async function exportPackage(
  deps: LetheDeps,
  requestId: string,
  located: LocatedStoreRef[],
): Promise<ExportResult> {
  const record = await getRequest(deps, requestId);
  if (record.type !== 'access' && record.type !== 'portability') {
    throw new RequestStateError(`request ${requestId} is a ${record.type} request: nothing to export`);
  }
  const generatedAt = deps.now().toISOString();
  const zip = new ZipFile();
  const counts = new Map<string, number>();
  const rows: PageStore[] = [];
  const portability = record.type === 'portability';
  const omitted: ExportResult['stores'] = [];

  for (const ref of located) {
    const store = getStore(deps.dataMap, ref.storeId);
    if (portability && !providedBySubject(deps.dataMap, store)) {
      // Art. 20 covers what the subject provided: the rest is in an access export, not this one.
      omitted.push({ storeId: store.id, exported: 0, omitted: 'not-provided-by-subject' });
      continue;
    }
    const manifest = await readManifest(deps, ref.manifestKey);
    counts.set(store.id, 0);
    const row: PageStore = {
      store,
      exported: 0,
      restricted: 0,
      files: [`data/${store.id}.json`],
      records: [],
    };
    const restrictAttribute = store.kind === 'dynamodb' ? store.restrict?.attribute : undefined;
    const restrictTag = store.kind === 's3' ? store.restrict?.tag : undefined;
    const bucket = store.kind === 's3' ? store.bucket : '';
    rows.push(row);
    const objects = manifest.records.filter(
      (entry): entry is Extract<LocatedRecord, { kind: 'object' }> => entry.kind === 'object',
    );
    const others = manifest.records.filter((entry) => entry.kind !== 'object');

    // Object stores: the original files, each streamed from the store when the zip reaches it, so
    // a recording of any size passes through in chunks and is never held whole.
    for (const object of objects) {
      if (store.kind !== 's3') continue;
      const file = packageFileName(store.id, object.key);
      row.files.push(file);
      zip.addReadStream(Readable.from(streamObject(store, object.key, deps.clients)), file, {
        compress: !ALREADY_COMPRESSED.test(object.key),
      });
    }
    const jsonStream = Readable.from(
      (async function* () {
        yield `{"store":${JSON.stringify(store.id)},"records":[`;
        let first = true;
        for (const object of objects) {
          row.exported += 1;
          // A restricted record is shown as such (GDPR Art. 18): the subject sees what is only stored.
          const restricted =
            restrictTag !== undefined &&
            typeof (await readObjectTag(
              deps.clients.s3,
              bucket,
              object.key,
              restrictTag,
              DEFAULT_RETRY_POLICY,
            )) === 'string';
          if (restricted) row.restricted += 1;
          yield `${first ? '\n' : ',\n'}${JSON.stringify({ key: object.key, file: packageFileName(store.id, object.key), size: object.size, ...(restricted ? { restricted } : {}) })}`;
          first = false;
        }
        // The subject's lines are restricted by lethe's records, not by a mark in the line.
        const lines = restrictsLines(store) ? linesOf(others) : [];
        const linesRestricted =
          lines.length > 0 &&
          (await restrictedLineHashes(deps, store.id, locatedLineHashes(deps, lines))).size > 0;
        for await (const exported of readRecords(deps.dataMap, store, others, deps.clients)) {
          row.exported += 1;
          const data = exported.data as Record<string, unknown> | null;
          const restricted =
            linesRestricted ||
            (restrictAttribute !== undefined &&
              data !== null &&
              typeof data === 'object' &&
              restrictAttribute in data);
          if (restricted) row.restricted += 1;
          if (row.records.length < PAGE_RECORDS_PER_STORE) row.records.push(exported.data);
          yield `${first ? '\n' : ',\n'}${JSON.stringify({ key: exported.key, data: exported.data, ...(restricted ? { restricted } : {}) })}`;
          first = false;
        }
        yield '\n]}\n';
        counts.set(store.id, row.exported);
      })(),
    );
    zip.addReadStream(jsonStream, `data/${store.id}.json`);
    if (portability && others.length > 0) {
      row.files.push(`data/${store.id}.csv`);
      zip.addReadStream(
        Readable.from(
          (async function* () {
            yield 'record,field,value\n';
            for await (const exported of readRecords(deps.dataMap, store, others, deps.clients)) {
              const fields =
                exported.data && typeof exported.data === 'object'
                  ? Object.entries(exported.data)
                  : [['value', exported.data]];
              for (const [field, value] of fields)
                yield `${csvCell(keyText(exported))},${csvCell(field)},${csvCell(value)}\n`;
            }
          })(),
        ),
        `data/${store.id}.csv`,
      );
    }
  }

  const controller =
    deps.dataMap.organisation?.controller ?? deps.dataMap.organisation?.name ?? 'the controller';
  // Entries are written in order, so by the time these are read every store file is done.
  zip.addReadStream(
    Readable.from(
      (async function* () {
        yield JSON.stringify(
          {
            requestId,
            requestType: record.type,
            jurisdiction: record.jurisdiction,
            receivedAt: record.receivedAt,
            generatedAt,
            controller,
            contact: deps.dataMap.organisation?.contact ?? null,
            stores: rows.map((row) => ({
              ...disclosureFor(row.store),
              records: row.exported,
              ...(row.restricted > 0 ? { restricted: row.restricted } : {}),
              files: row.files,
            })),
          },
          null,
          2,
        );
      })(),
    ),
    'manifest.json',
  );
  zip.addReadStream(
    Readable.from(
      (async function* () {
        yield renderIndexHtml(deps.dataMap, record, generatedAt, rows, controller);
      })(),
    ),
    'index.html',
  );
  zip.end();

  const exportKey = `exports/${requestId}.zip`;
  const hash = createHash('sha256');
  let bytes = 0;
  const body = new PassThrough();
  zip.outputStream.on('data', (chunk: Buffer) => {
    hash.update(chunk);
    bytes += chunk.length;
  });
  zip.outputStream.on('error', (error) => body.destroy(error));
  zip.outputStream.pipe(body);
  await new Upload({
    client: deps.clients.s3,
    params: {
      Bucket: deps.resources.exportsBucket,
      Key: exportKey,
      Body: body,
      ContentType: 'application/zip',
      ...encryptionParameters(deps.resources),
    },
  }).done();

  const sha256 = hash.digest('hex');
  const expiresAt = new Date(deps.now().getTime() + deps.exportUrlTtlSeconds * 1000).toISOString();
  await updateRequest(deps, requestId, {
    by: 'lethe:export',
    set: { export: { bucket: deps.resources.exportsBucket, key: exportKey, expiresAt, sha256, bytes } },
  });
  // So that an erasure of this person, by any of these identities, deletes this copy of their data.
  await indexExport(deps, requestId, workingIdentities(record, requestId));
  const stores: ExportResult['stores'] = [
    ...rows.map((row) => ({ storeId: row.store.id, exported: counts.get(row.store.id) ?? row.exported })),
    ...omitted,
  ];
  await appendAuditEvent(auditDepsOf(deps), {
    type: 'request.exported',
    actor: 'lethe:export',
    requestId,
    subjectHashes: record.subjectHashes,
    details: { requestType: record.type, sha256, bytes, expiresAt, stores },
  });
  deps.log.info('export written', { requestId, bytes, stores: rows.length });
  return { requestId, exportKey, bytes, sha256, stores };
}

/** A pre-signed download link for an export, valid for the configured lifetime (at most 7 days). */
export async function exportDownloadUrl(
  deps: Pick<LetheDeps, 'clients' | 'exportUrlTtlSeconds'>,
  bucket: string,
  key: string,
) {
  return getSignedUrl(deps.clients.s3, new GetObjectCommand({ Bucket: bucket, Key: key }), {
    expiresIn: deps.exportUrlTtlSeconds,
  });
}
