import { createReadStream, readdirSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { InvalidIdentityError, normaliseIdentity } from '../datamap/identity';
import { getStore } from '../datamap/load';
import { sweepPrefixes } from '../datamap/prefixes';
import type { DataMap, S3Store } from '../datamap/schema';
import { forEachConcurrently } from '../stores/concurrency';
import {
  isJsonLinesRule,
  isPrefixRule,
  isSharedObjectRule,
  placeholderValue,
  sharedRuleSpec,
  splitTemplate,
} from '../stores/s3/prefixes';
import type { StoreClients } from '../stores/types';
import { ImportError, ImportIncompleteError } from './import-errors';
import { textFileProblem } from './import-text';

/**
 * Importing objects into an S3 store: from memory (seeds), or from a folder, whose files are
 * checked first (keys S3 accepts, JSON-lines objects that are uncompressed text, files a request
 * can reach) so that nothing is uploaded unless all pass.
 */

const CONTENT_TYPES: Record<string, string> = {
  '.json': 'application/json',
  '.jsonl': 'application/x-ndjson',
  '.txt': 'text/plain; charset=utf-8',
  '.csv': 'text/csv',
  '.pdf': 'application/pdf',
  '.wav': 'audio/wav',
  '.mp3': 'audio/mpeg',
  '.html': 'text/html',
  '.parquet': 'application/vnd.apache.parquet',
};

const contentTypeOf = (key: string) => CONTENT_TYPES[extname(key)] ?? 'application/octet-stream';

/** S3's longest object key, in UTF-8 bytes. */
const MAX_KEY_BYTES = 1024;
/** Uploads in flight. */
const UPLOADS_IN_FLIGHT = 8;
/** Files named in an error; the rest are counted. */
const MAX_LISTED_FILES = 1_000;

/** The store, which must be an S3 store. */
export function s3Store(dataMap: DataMap, storeId: string): S3Store {
  const store = getStore(dataMap, storeId);
  if (store.kind !== 's3') {
    throw new ImportError(
      `store ${storeId} is a DynamoDB store: import JSON lines with --file FILE.jsonl instead of --dir`,
    );
  }
  return store;
}

/** Uploads objects held in memory to an S3 store; returns how many were uploaded. */
export async function importObjects(
  dataMap: DataMap,
  storeId: string,
  objects: { key: string; body: string | Buffer; contentType?: string }[],
  clients: StoreClients,
): Promise<number> {
  const store = s3Store(dataMap, storeId);
  await forEachConcurrently(objects, UPLOADS_IN_FLIGHT, async (object) => {
    await clients.s3.send(
      new PutObjectCommand({
        Bucket: store.bucket,
        Key: object.key,
        Body: object.body,
        ContentType: object.contentType ?? contentTypeOf(object.key),
      }),
    );
  });
  return objects.length;
}

/** A file of the folder and the key it is uploaded as. */
interface FolderFile {
  path: string;
  key: string;
  size: number;
}

/** Files under a folder, and how many entries were neither files nor folders (links, sockets). */
function listFolder(dir: string): { files: FolderFile[]; skipped: number } {
  const files: FolderFile[] = [];
  let skipped = 0;
  const visit = (folder: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) visit(path);
      else if (entry.isFile())
        files.push({ path, key: relative(dir, path).split(sep).join('/'), size: statSync(path).size });
      else skipped += 1;
    }
  };
  visit(dir);
  // In key order, so what is reported (and uploaded) does not depend on the file system's order.
  files.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { files, skipped };
}

/**
 * Where a key is, for messages: its first folder, or the top of the folder. Never the whole key,
 * which may hold an identifier (`calls/{phone}/…`).
 */
function placeOf(key: string): string {
  const slash = key.indexOf('/');
  return slash === -1 ? 'at the top of the folder' : `in ${key.slice(0, slash + 1)}`;
}

/** Files counted by where they are, in words that never hold a key's identifier; the most first. */
export interface FilePlaces {
  files: number;
  places: { place: string; files: number }[];
}

function countPlaces(places: readonly string[]): FilePlaces {
  const counts = new Map<string, number>();
  for (const place of places) counts.set(place, (counts.get(place) ?? 0) + 1);
  const sorted = [...counts].map(([place, files]) => ({ place, files })).sort((a, b) => b.files - a.files);
  return { files: places.length, places: sorted };
}

/**
 * Whether a request can find an object at `key`: under a JSON-lines or Parquet prefix (its records are read), or
 * in a subject folder of a prefix rule whose name is a valid identity, normalised (`found`) or not
 * (`spelled`: found only by that exact spelling). Otherwise where it is, for the warning.
 */
type Reach = { kind: 'found' } | { kind: 'spelled' } | { kind: 'unreachable'; place: string };

function reachOf(dataMap: DataMap, store: S3Store, key: string): Reach {
  if (store.locate.some((rule) => isSharedObjectRule(rule) && key.startsWith(sharedRuleSpec(rule).prefix)))
    return { kind: 'found' };
  let spelled = false;
  let place: string | undefined;
  for (const rule of store.locate.filter(isPrefixRule)) {
    const value = placeholderValue(store, rule, key);
    const normalised = value === undefined ? undefined : normalisedOrUndefined(dataMap, rule.identity, value);
    if (normalised !== undefined && normalised === value) return { kind: 'found' };
    if (normalised !== undefined) spelled = true;
    const { before } = splitTemplate(store, rule);
    if (normalised === undefined && key.startsWith(before))
      place ??= `in ${before} but not in a folder named by a valid ${rule.identity} (${rule.prefix})`;
  }
  return spelled ? { kind: 'spelled' } : { kind: 'unreachable', place: place ?? placeOf(key) };
}

function normalisedOrUndefined(dataMap: DataMap, type: string, value: string): string | undefined {
  try {
    return normaliseIdentity(dataMap, type, value).value;
  } catch (error) {
    if (error instanceof InvalidIdentityError) return undefined;
    throw error;
  }
}

/** What the check of a folder found: every file can be uploaded. */
export interface FolderCheck {
  store: S3Store;
  files: FolderFile[];
  /** Files no request finds (outside every locate prefix, or not in a valid subject folder): uploaded all the same. */
  unreachable: FilePlaces;
  /** Of those, the files outside every sweep prefix as well: no sweep reaches them either. */
  unswept: number;
  /** Files in subject folders whose names are not in normalised form: found only by that spelling. */
  spelled: number;
  /** Entries neither files nor folders (symbolic links, sockets), not uploaded. */
  skipped: number;
}

const under = (prefixes: readonly string[], key: string) => prefixes.some((prefix) => key.startsWith(prefix));

/**
 * Checks a folder for an S3 store before anything is uploaded: every key within S3's 1,024 bytes,
 * every file under a JSON-lines prefix uncompressed UTF-8 text, and at least one file where a
 * request can find it (otherwise it is the wrong folder, such as the whole seed folder). Files no
 * request finds are counted, not refused.
 * @throws ImportError naming what is wrong (files under a JSON-lines prefix by key; other files only
 *   by their first folder, since a key may hold an identifier)
 */
export async function checkFolder(dataMap: DataMap, storeId: string, dir: string): Promise<FolderCheck> {
  const store = s3Store(dataMap, storeId);
  let isDirectory = false;
  try {
    isDirectory = statSync(dir).isDirectory();
  } catch {
    // reported below
  }
  if (!isDirectory) throw new ImportError(`${dir} is not a folder: pass --dir with the folder to upload`);
  const { files, skipped } = listFolder(dir);
  const jsonLines = store.locate.flatMap((rule) => (isJsonLinesRule(rule) ? [rule.jsonLines.prefix] : []));
  const problems: string[] = [];
  for (const file of files) {
    const bytes = Buffer.byteLength(file.key, 'utf8');
    if (bytes > MAX_KEY_BYTES) {
      problems.push(
        `a file ${placeOf(file.key)}: its key is ${bytes.toLocaleString('en-US')} bytes, over S3's limit of ${MAX_KEY_BYTES.toLocaleString('en-US')}; shorten its path`,
      );
      continue;
    }
    if (!under(jsonLines, file.key)) continue;
    const problem = await textFileProblem(file.path);
    if (problem) problems.push(`${file.key}: ${problem}`);
  }
  if (problems.length > 0) {
    const count = problems.length === 1 ? '1 file' : `${problems.length.toLocaleString('en-US')} files`;
    throw new ImportError(
      `${dir} has ${count} that cannot be imported into store ${store.id}, so nothing was imported: fix the files listed below and run the import again.`,
      [
        ...problems.slice(0, MAX_LISTED_FILES),
        ...(problems.length > MAX_LISTED_FILES
          ? [`… and ${(problems.length - MAX_LISTED_FILES).toLocaleString('en-US')} more files`]
          : []),
      ],
    );
  }
  const reaches = files.map((file) => ({ key: file.key, reach: reachOf(dataMap, store, file.key) }));
  const unreachable = reaches.flatMap(({ key, reach }) =>
    reach.kind === 'unreachable' ? [{ key, place: reach.place }] : [],
  );
  if (files.length > 0 && unreachable.length === files.length) {
    const own = join(dir, store.id);
    const hint = statSync(own, { throwIfNoEntry: false })?.isDirectory() ? ` (--dir ${own}?)` : '';
    const prefixes = store.locate.map((rule) =>
      isPrefixRule(rule) ? rule.prefix : sharedRuleSpec(rule).prefix,
    );
    throw new ImportError(
      `none of the ${files.length.toLocaleString('en-US')} files under ${dir} is where a request of store ${store.id} looks (${prefixes.join(', ')}), so nothing was imported: pass the folder whose relative paths are the object keys${hint}.`,
    );
  }
  const sweep = sweepPrefixes(store);
  return {
    store,
    files,
    unreachable: countPlaces(unreachable.map((file) => file.place)),
    unswept: unreachable.filter((file) => !under(sweep, file.key)).length,
    spelled: reaches.filter(({ reach }) => reach.kind === 'spelled').length,
    skipped,
  };
}

/** What an import of a folder did. */
export interface FolderImport extends Omit<FolderCheck, 'store' | 'files'> {
  store: string;
  /** Objects uploaded. */
  written: number;
}

/**
 * Uploads every file under a folder to an S3 store, keys being the paths relative to the folder,
 * after checking them all ({@link checkFolder}): nothing is uploaded unless every file passes.
 * Files outside every locate prefix are uploaded too (the result counts them, so the caller can
 * warn). Each object gets the time of its upload as LastModified.
 * @throws ImportError when a file cannot be imported (nothing uploaded)
 * @throws ImportIncompleteError when uploading stopped part way (the count uploaded is in it)
 */
export async function importDirectory(
  dataMap: DataMap,
  storeId: string,
  dir: string,
  clients: StoreClients,
): Promise<FolderImport> {
  const { store, files, ...counts } = await checkFolder(dataMap, storeId, dir);
  let written = 0;
  try {
    await forEachConcurrently(files, UPLOADS_IN_FLIGHT, async (file) => {
      await clients.s3.send(
        new PutObjectCommand({
          Bucket: store.bucket,
          Key: file.key,
          Body: createReadStream(file.path),
          ContentLength: file.size,
          ContentType: contentTypeOf(file.key),
        }),
      );
      written += 1;
    });
  } catch (error) {
    throw new ImportIncompleteError(
      `the import into ${store.id} stopped after uploading ${written} of ${files.length} files (${error instanceof Error ? error.name : 'error'}); run the same import again (an object with the same key is replaced)`,
      written,
      { cause: error },
    );
  }
  return { store: store.id, ...counts, written };
}
