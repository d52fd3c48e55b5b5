import { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  GetObjectTaggingCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type PutObjectCommandInput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { type Identity, InvalidIdentityError, identityKey, normaliseIdentity } from '../datamap/identity';
import type { DataMap, S3JsonLinesLocateRule, S3PrefixLocateRule, S3Store } from '../datamap/schema';
import { mapConcurrently } from './concurrency';
import { EraseIncompleteError, ReadIncompleteError, UnsupportedStoreError } from './errors';
import { exemptionFor } from './exemptions';
import {
  DEFAULT_RETRY_POLICY,
  isRetryableError,
  type RetryPolicy,
  waitBeforeRetry,
  withRetry,
} from './retry';
import type {
  EraseOptions,
  Exemption,
  ExportedRecord,
  LocatedLines,
  LocatedObject,
  LocatedRecord,
  StoreClients,
  StoreErasure,
  StoreLocation,
} from './types';

/**
 * The S3 adapter: per-subject objects found under a key prefix (deleted on erasure) and JSON-lines
 * objects shared by many subjects (rewritten without the subject's lines on erasure).
 *
 * Object keys are personal data here (`calls/+4930123456/…`, `applications/ann@x.io/…`), so no
 * key, line or value ever goes into an error message; keys travel only in `failedKeys` fields and
 * in the located records, which are written to the manifests bucket, never to logs or state.
 */

/** DeleteObjects accepts at most 1,000 keys per call. */
export const DELETE_BATCH_SIZE = 1_000;
/**
 * Longest line parsed as JSON. Longer lines are counted as malformed and passed through on rewrite
 * piece by piece, so one pathological line cannot make memory grow with the object.
 */
const MAX_LINE_BYTES = 8 * 1024 * 1024;
/** Exports below this size are text whenever the bytes are valid UTF-8, whatever the content type says. */
const TEXT_EXPORT_LIMIT = 1024 * 1024;
/** Rewrites of objects up to this size filter into memory from one read; larger ones stream (see rewriteOnce). */
const DEFAULT_REWRITE_BUFFER_LIMIT = 8 * 1024 * 1024;
/** Objects streamed in parallel: enough to hide request latency, few enough to keep memory and S3 request rates low. */
const SCAN_CONCURRENCY = 8;
const REWRITE_CONCURRENCY = 4;
/** Output of a rewrite is coalesced into chunks of about this size instead of one write per line. */
const OUTPUT_CHUNK_BYTES = 64 * 1024;
const NORMALISATION_CACHE_ENTRIES = 10_000;
const NEWLINE = Buffer.from('\n');

/**
 * A subject's identity value cannot be used as a key prefix segment: it contains "/" (or is "." or
 * ".."), so substituting it into the prefix template could reach into another subject's folder.
 * The message names the store and identity type, never the value.
 */
export class UnsafePrefixValueError extends Error {
  override readonly name = 'UnsafePrefixValueError';
  constructor(
    readonly storeId: string,
    readonly identityType: string,
  ) {
    super(
      `store ${storeId}: a ${identityType} identity contains "/" or is a relative path segment, so it cannot be ` +
        "substituted into the key prefix without escaping the subject's folder; locate this subject by hand",
    );
  }
}

/**
 * A located record handed to read or erase does not belong to this store: wrong kind, a key outside
 * every locate prefix of the store, or a match on a field the store does not locate by. Usually a
 * manifest paired with the wrong store. Nothing is touched when it is raised.
 */
export class RecordOutsideStoreError extends Error {
  override readonly name = 'RecordOutsideStoreError';
  constructor(
    readonly storeId: string,
    /** Position of the offending record in the list given; the key itself is withheld. */
    readonly recordIndex: number,
    reason: string,
  ) {
    super(`store ${storeId}: record #${recordIndex} does not belong to this store: ${reason}`);
  }
}

/**
 * What locating an S3 store found. `malformedLines` counts lines of the JSON-lines objects scanned
 * that are not JSON objects (blank lines excluded): they cannot be matched, so a rising count means
 * personal data may be hiding where lethe cannot see it. It is a count only, never content.
 */
export interface S3StoreLocation extends StoreLocation {
  malformedLines: number;
}

/** EraseOptions plus S3-specific tuning, all optional. */
export interface S3EraseOptions extends EraseOptions {
  /**
   * Objects up to this many bytes are rewritten from one read filtered into memory; larger ones are
   * read twice (once to see whether anything goes, once to stream into a multipart upload). Default 8 MiB.
   */
  rewriteBufferLimitBytes?: number;
}

// ---------------------------------------------------------------------------------------------
// Locate
// ---------------------------------------------------------------------------------------------

/**
 * Finds a subject's records in an S3 store.
 *
 * - Prefix rules list every object under the subject's prefix (all pages) and return one
 *   {@link LocatedObject} each.
 * - JSON-lines rules stream every object under the rule's prefix line by line (bounded memory) and
 *   return one {@link LocatedLines} per object and rule that holds lines of the subject; `located`
 *   counts lines. Links of the store are read from the matching lines into `revealed`.
 *
 * Values are normalised by their identity type on both sides (the subject's values and each line's
 * field), so `ABC…` in a log line matches the subject's `abc…` cookie id when the type is
 * case-insensitive.
 *
 * @throws UnsafePrefixValueError when a prefix rule's identity value contains "/"
 * @throws InvalidIdentityError when a subject's identity does not normalise
 * @throws UnsupportedStoreError for a prefix template the loader would have rejected, or a compressed JSON-lines object
 */
export async function locateInS3Store(
  store: S3Store,
  identities: Identity[],
  clients: StoreClients,
  dataMap: Pick<DataMap, 'identityTypes'>,
): Promise<S3StoreLocation> {
  const exemption = exemptionFor(store);
  const prefixRules = store.locate.filter(isPrefixRule);
  const lineRules = store.locate.filter(isJsonLinesRule);
  const records: LocatedRecord[] = [];
  let located = 0;
  let malformedLines = 0;
  const revealed = new Map<string, Identity>();

  const seenObjects = new Set<string>();
  for (const rule of prefixRules) {
    for (const value of subjectValues(dataMap, identities, rule.identity)) {
      const prefix = substitutePrefix(store, rule, value);
      for await (const object of listObjects(clients.s3, store.bucket, prefix)) {
        // S3 only returns keys under the prefix; the check costs nothing and guards a misbehaving endpoint.
        if (!object.key.startsWith(prefix) || seenObjects.has(object.key)) continue;
        seenObjects.add(object.key);
        records.push({
          kind: 'object',
          key: object.key,
          size: object.size,
          ...(object.etag === undefined ? {} : { etag: object.etag }),
          ...(exemption ? { exemption } : {}),
        });
        located += 1;
      }
    }
  }

  const matchers = lineMatchersFor(lineRules, identities, dataMap);
  if (matchers.length > 0) {
    const normalise = createNormaliser(dataMap);
    const subjectKeys = new Set(identities.map((identity) => identityKey(identity)));
    for (const prefix of distinctPrefixes(matchers)) {
      for await (const page of listObjectPages(clients.s3, store.bucket, prefix)) {
        const keys = page.filter((object) => object.key.startsWith(prefix)).map((object) => object.key);
        const scans = await mapConcurrently(keys, SCAN_CONCURRENCY, (key) =>
          // A prefix nested in another one's would list the same object twice: only its first prefix scans it.
          firstPrefixOf(matchers, key) === prefix
            ? scanObject(store, clients.s3, key, matchers, normalise)
            : Promise.resolve(undefined),
        );
        for (const [index, scan] of scans.entries()) {
          const key = keys[index];
          if (!scan || key === undefined) continue;
          malformedLines += scan.malformed;
          for (const identity of scan.revealed) {
            const id = identityKey(identity);
            if (!subjectKeys.has(id)) revealed.set(id, identity);
          }
          for (const [matcherIndex, lineCount] of scan.lineCounts.entries()) {
            const matcher = matchers[matcherIndex];
            if (!matcher || lineCount === 0) continue;
            records.push({
              kind: 'lines',
              key,
              etag: scan.etag,
              lineCount,
              matched: {
                identity: matcher.identity,
                field: matcher.field,
                values: [...matcher.values].sort(),
              },
              ...(exemption ? { exemption } : {}),
            });
            located += lineCount;
          }
        }
      }
    }
  }

  return {
    storeId: store.id,
    records,
    located,
    exempted: exemption ? located : 0,
    revealed: [...revealed.values()],
    malformedLines,
  };
}

function isPrefixRule(rule: S3Store['locate'][number]): rule is S3PrefixLocateRule {
  return 'prefix' in rule;
}

function isJsonLinesRule(rule: S3Store['locate'][number]): rule is S3JsonLinesLocateRule {
  return 'jsonLines' in rule;
}

/** The subject's distinct normalised values of one identity type (normalising again is idempotent and cheap). */
function subjectValues(
  dataMap: Pick<DataMap, 'identityTypes'>,
  identities: Identity[],
  type: string,
): string[] {
  const values = new Set<string>();
  for (const identity of identities) {
    if (identity.type === type) values.add(normaliseIdentity(dataMap, type, identity.value).value);
  }
  return [...values];
}

function splitTemplate(store: S3Store, rule: S3PrefixLocateRule): { before: string; after: string } {
  const placeholder = `{${rule.identity}}`;
  const at = rule.prefix.indexOf(placeholder);
  const before = rule.prefix.slice(0, at);
  const after = rule.prefix.slice(at + placeholder.length);
  // The loader enforces these; they are what makes one subject's prefix never a prefix of another's,
  // so they are checked again for stores built without it.
  if (
    at <= 0 ||
    !after.endsWith('/') ||
    /[{}]/.test(before) ||
    /[{}]/.test(after) ||
    rule.prefix.indexOf(placeholder, at + 1) !== -1
  ) {
    throw new UnsupportedStoreError(
      store.id,
      `prefix template "${rule.prefix}" must start with a fixed folder, hold {${rule.identity}} once and end with "/"`,
    );
  }
  return { before, after };
}

function substitutePrefix(store: S3Store, rule: S3PrefixLocateRule, value: string): string {
  const { before, after } = splitTemplate(store, rule);
  // With no "/" in the value and a template ending in "/", the value is delimited on both sides: no
  // other subject's prefix (ann@x.io.evil, +4930123 vs +49301234) can start with this one.
  if (value.includes('/') || value === '.' || value === '..') {
    throw new UnsafePrefixValueError(store.id, rule.identity);
  }
  return `${before}${value}${after}`;
}

/**
 * The identities an object key reveals through the store's prefix rules: `calls/+4930123456/x.wav`
 * under `calls/{phone}/` is the phone's. Values that do not normalise are left out.
 */
export function identitiesInKey(
  store: S3Store,
  key: string,
  dataMap: Pick<DataMap, 'identityTypes'>,
): Identity[] {
  const found: Identity[] = [];
  for (const rule of store.locate.filter(isPrefixRule)) {
    const { before, after } = splitTemplate(store, rule);
    if (!key.startsWith(before)) continue;
    const rest = key.slice(before.length);
    const end = rest.indexOf('/');
    if (end <= 0 || !rest.slice(end).startsWith(after)) continue;
    try {
      found.push(normaliseIdentity(dataMap, rule.identity, rest.slice(0, end)));
    } catch (error) {
      if (!(error instanceof InvalidIdentityError)) throw error;
    }
  }
  return found;
}

/**
 * Streams a JSON-lines object and yields, line by line, the identities each line holds in the
 * fields of the store's JSON-lines rules (for rules whose prefix covers the key) and links,
 * normalised. Stops reading when the consumer stops iterating. Nothing when the object is gone.
 * @throws UnsupportedStoreError for a compressed object
 */
export async function* lineIdentities(
  store: S3Store,
  s3: S3Client,
  key: string,
  dataMap: Pick<DataMap, 'identityTypes'>,
): AsyncGenerator<Identity> {
  const rules = store.locate.filter(isJsonLinesRule).filter((rule) => key.startsWith(rule.jsonLines.prefix));
  const normalise = createNormaliser(dataMap);
  const object = await withRetry(DEFAULT_RETRY_POLICY, () => getObjectOrUndefined(s3, store.bucket, key));
  if (!object) return;
  let lineNo = 0;
  for await (const piece of splitLines(bodyChunks(object.Body), store)) {
    if (piece.kind === 'long') continue;
    lineNo += 1;
    const line = parseLine(piece.bytes, lineNo === 1, [], normalise);
    if (line.kind !== 'record') continue;
    for (const rule of rules) {
      if (!Object.hasOwn(line.record, rule.jsonLines.field)) continue;
      const value = normalise(rule.identity, line.record[rule.jsonLines.field]);
      if (value !== undefined) yield { type: rule.identity, value };
    }
    yield* linkedIdentities(store, line.record, normalise);
  }
}

interface ListedObject {
  key: string;
  size: number;
  etag?: string;
}

async function* listObjectPages(
  s3: S3Client,
  bucket: string,
  prefix: string,
  policy: RetryPolicy = DEFAULT_RETRY_POLICY,
): AsyncGenerator<ListedObject[]> {
  let continuationToken: string | undefined;
  do {
    const token = continuationToken;
    const page = await withRetry(policy, () =>
      s3.send(
        new ListObjectsV2Command({
          Bucket: bucket,
          Prefix: prefix,
          ...(token === undefined ? {} : { ContinuationToken: token }),
        }),
      ),
    );
    yield (page.Contents ?? []).flatMap((object) =>
      object.Key === undefined
        ? []
        : [
            {
              key: object.Key,
              size: object.Size ?? 0,
              ...(object.ETag === undefined ? {} : { etag: object.ETag }),
            },
          ],
    );
    continuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (continuationToken !== undefined);
}

async function* listObjects(s3: S3Client, bucket: string, prefix: string): AsyncGenerator<ListedObject> {
  for await (const page of listObjectPages(s3, bucket, prefix)) yield* page;
}

// ---------------------------------------------------------------------------------------------
// JSON-lines matching
// ---------------------------------------------------------------------------------------------

/** One JSON-lines rule with the subject's values of its identity type: a line matches when its field is one of them. */
interface LineMatcher {
  identity: string;
  field: string;
  prefix: string;
  values: Set<string>;
}

function lineMatchersFor(
  rules: S3JsonLinesLocateRule[],
  identities: Identity[],
  dataMap: Pick<DataMap, 'identityTypes'>,
): LineMatcher[] {
  return rules.flatMap((rule) => {
    const values = subjectValues(dataMap, identities, rule.identity);
    return values.length === 0
      ? []
      : [
          {
            identity: rule.identity,
            field: rule.jsonLines.field,
            prefix: rule.jsonLines.prefix,
            values: new Set(values),
          },
        ];
  });
}

function distinctPrefixes(matchers: LineMatcher[]): string[] {
  return [...new Set(matchers.map((matcher) => matcher.prefix))];
}

function firstPrefixOf(matchers: LineMatcher[], key: string): string | undefined {
  return matchers.find((matcher) => key.startsWith(matcher.prefix))?.prefix;
}

/**
 * Maps a raw field value to its normalised form for an identity type, or undefined when it is not a
 * string or does not normalise. Without a data map it is the identity function: an exact match on
 * normalised values, which can never match another subject's line (normalisation is idempotent) but
 * misses spellings such as upper-case cookie ids.
 */
type Normaliser = (identityType: string, raw: unknown) => string | undefined;

function createNormaliser(dataMap: Pick<DataMap, 'identityTypes'> | undefined): Normaliser {
  // Log files repeat the same few ids on many lines; normalising (regex tests, URL parsing for IPv6)
  // once per distinct value keeps scanning cost close to JSON.parse alone.
  const cache = new Map<string, string | null>();
  return (identityType, raw) => {
    if (typeof raw !== 'string') return undefined;
    if (!dataMap) return raw;
    const cacheKey = `${identityType}\u0000${raw}`;
    const cached = cache.get(cacheKey);
    if (cached !== undefined) return cached ?? undefined;
    let normalised: string | null;
    try {
      normalised = normaliseIdentity(dataMap, identityType, raw).value;
    } catch (error) {
      if (!(error instanceof InvalidIdentityError)) throw error;
      normalised = null;
    }
    if (cache.size >= NORMALISATION_CACHE_ENTRIES) cache.clear();
    cache.set(cacheKey, normalised);
    return normalised ?? undefined;
  };
}

type ParsedLine =
  | { kind: 'blank' }
  | { kind: 'malformed' }
  | { kind: 'record'; record: Record<string, unknown>; matcher: number };

const UTF8_BOM = '\ufeff';

/**
 * Parses one line and finds the first matcher it belongs to (`matcher` -1: someone else's line).
 * A line counts once even when several rules match it.
 */
function parseLine(
  bytes: Buffer,
  firstLine: boolean,
  matchers: readonly Pick<LineMatcher, 'identity' | 'field' | 'values'>[],
  normalise: Normaliser,
): ParsedLine {
  let text = bytes.toString('utf8');
  if (firstLine && text.startsWith(UTF8_BOM)) text = text.slice(1);
  if (text.trim() === '') return { kind: 'blank' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { kind: 'malformed' };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { kind: 'malformed' };
  const record = parsed as Record<string, unknown>;
  const matcher = matchers.findIndex((candidate) => {
    // Own properties only: a field named "constructor" must not read Object.prototype.
    if (!Object.hasOwn(record, candidate.field)) return false;
    const value = normalise(candidate.identity, record[candidate.field]);
    return value !== undefined && candidate.values.has(value);
  });
  return { kind: 'record', record, matcher };
}

/** Identities the store's links reveal in one of the subject's lines (a string or a list of strings each). */
function linkedIdentities(
  store: S3Store,
  record: Record<string, unknown>,
  normalise: Normaliser,
): Identity[] {
  const found: Identity[] = [];
  for (const link of store.links) {
    if (!Object.hasOwn(record, link.attribute)) continue;
    const raw = record[link.attribute];
    for (const candidate of Array.isArray(raw) ? raw : [raw]) {
      const value = normalise(link.identity, candidate);
      if (value !== undefined) found.push({ type: link.identity, value });
    }
  }
  return found;
}

interface ObjectScan {
  etag: string;
  /** Lines of the subject per matcher index. */
  lineCounts: number[];
  malformed: number;
  revealed: Identity[];
}

/** Streams one JSON-lines object and counts the subject's lines; undefined when the object is gone. */
async function scanObject(
  store: S3Store,
  s3: S3Client,
  key: string,
  matchers: LineMatcher[],
  normalise: Normaliser,
): Promise<ObjectScan | undefined> {
  // Only rules whose prefix covers the key apply to it.
  const applicable = matchers.map((matcher) => key.startsWith(matcher.prefix));
  // The whole scan is retried, so a stream reset half way never leaves partial counts behind.
  return withRetry(DEFAULT_RETRY_POLICY, async () => {
    const object = await getObjectOrUndefined(s3, store.bucket, key);
    if (!object) return undefined;
    const scan: ObjectScan = {
      etag: object.ETag ?? '',
      lineCounts: matchers.map(() => 0),
      malformed: 0,
      revealed: [],
    };
    const active = matchers.map((matcher, index) =>
      applicable[index] ? matcher : { ...matcher, values: new Set<string>() },
    );
    let lineNo = 0;
    for await (const piece of splitLines(bodyChunks(object.Body), store)) {
      if (piece.kind === 'long') {
        if (piece.end) {
          lineNo += 1;
          scan.malformed += 1;
        }
        continue;
      }
      lineNo += 1;
      const line = parseLine(piece.bytes, lineNo === 1, active, normalise);
      if (line.kind === 'malformed') scan.malformed += 1;
      if (line.kind !== 'record' || line.matcher < 0) continue;
      scan.lineCounts[line.matcher] = (scan.lineCounts[line.matcher] ?? 0) + 1;
      scan.revealed.push(...linkedIdentities(store, line.record, normalise));
    }
    return scan;
  });
}

// ---------------------------------------------------------------------------------------------
// Streaming lines
// ---------------------------------------------------------------------------------------------

/**
 * A line of an object, split on "\n" only and kept as raw bytes ("\r" stays part of the line), so a
 * rewrite reproduces every other line byte for byte. readline would be shorter but decodes (lossy
 * for invalid UTF-8), treats a lone "\r" as a line end and forgets whether the object ended with a
 * newline, each of which would alter other subjects' bytes.
 *
 * `newline`: a "\n" followed the line (false only for an object's unterminated last line).
 * Lines longer than MAX_LINE_BYTES arrive as `long` pieces instead, `end` on the last one.
 */
type LinePiece =
  | { kind: 'line'; bytes: Buffer; newline: boolean }
  | { kind: 'long'; bytes: Buffer; end: boolean; newline: boolean };

const GZIP_MAGIC = [0x1f, 0x8b];
const ZSTD_MAGIC = [0x28, 0xb5, 0x2f, 0xfd];

function startsWithBytes(chunk: Uint8Array, magic: number[]): boolean {
  return chunk.length >= magic.length && magic.every((byte, index) => chunk[index] === byte);
}

async function* splitLines(
  chunks: AsyncIterable<Uint8Array>,
  store: S3Store,
  maxLineBytes = MAX_LINE_BYTES,
): AsyncGenerator<LinePiece> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let inLongLine = false;
  let first = true;
  for await (const chunk of chunks) {
    if (chunk.length === 0) continue;
    if (first) {
      first = false;
      // A compressed object parses as nothing but malformed lines: the subject's lines would be
      // invisible and the erasure would report success over them. Refuse instead.
      if (startsWithBytes(chunk, GZIP_MAGIC) || startsWithBytes(chunk, ZSTD_MAGIC)) {
        throw new UnsupportedStoreError(
          store.id,
          'an object under a JSON-lines prefix is compressed; lethe reads and rewrites uncompressed JSON lines only',
        );
      }
    }
    const buffer = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let start = 0;
    for (let newline = buffer.indexOf(0x0a, start); newline !== -1; newline = buffer.indexOf(0x0a, start)) {
      const part = buffer.subarray(start, newline);
      start = newline + 1;
      if (inLongLine) {
        yield { kind: 'long', bytes: part, end: true, newline: true };
        inLongLine = false;
      } else if (pendingBytes + part.length > maxLineBytes) {
        for (const held of pending) yield { kind: 'long', bytes: held, end: false, newline: false };
        yield { kind: 'long', bytes: part, end: true, newline: true };
      } else {
        yield {
          kind: 'line',
          bytes: pending.length === 0 ? part : Buffer.concat([...pending, part]),
          newline: true,
        };
      }
      pending = [];
      pendingBytes = 0;
    }
    const rest = buffer.subarray(start);
    if (rest.length === 0) continue;
    if (inLongLine) {
      yield { kind: 'long', bytes: rest, end: false, newline: false };
    } else if (pendingBytes + rest.length > maxLineBytes) {
      for (const held of pending) yield { kind: 'long', bytes: held, end: false, newline: false };
      yield { kind: 'long', bytes: rest, end: false, newline: false };
      pending = [];
      pendingBytes = 0;
      inLongLine = true;
    } else {
      pending.push(rest);
      pendingBytes += rest.length;
    }
  }
  if (inLongLine) yield { kind: 'long', bytes: Buffer.alloc(0), end: true, newline: false };
  else if (pendingBytes > 0 || pending.length > 0) {
    yield { kind: 'line', bytes: Buffer.concat(pending), newline: false };
  }
}

function bodyChunks(body: GetObjectCommandOutput['Body']): AsyncIterable<Uint8Array> {
  // In Node the SDK returns an IncomingMessage (async iterable); browsers and mocks may give a web stream or Blob.
  if (body && typeof (body as Partial<AsyncIterable<Uint8Array>>)[Symbol.asyncIterator] === 'function') {
    return body as AsyncIterable<Uint8Array>;
  }
  if (body instanceof Blob) return body.stream() as unknown as AsyncIterable<Uint8Array>;
  if (body === undefined) return Readable.from([]);
  throw new TypeError('GetObject returned a body that is not a stream');
}

async function getObjectOrUndefined(
  s3: S3Client,
  bucket: string,
  key: string,
  ifMatch?: string,
): Promise<GetObjectCommandOutput | undefined> {
  try {
    return await s3.send(
      new GetObjectCommand({
        Bucket: bucket,
        Key: key,
        ...(ifMatch === undefined ? {} : { IfMatch: ifMatch }),
      }),
    );
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

function errorStatus(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
}

function isNotFound(error: unknown): boolean {
  return (
    error instanceof Error &&
    (error.name === 'NoSuchKey' || error.name === 'NotFound' || errorStatus(error) === 404)
  );
}

/** Someone else wrote the object between our read and our write (412), or S3 saw two conditional writes race (409). */
function isWriteConflict(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return (
    error.name === 'PreconditionFailed' ||
    error.name === 'ConditionalRequestConflict' ||
    error instanceof ObjectChangedError ||
    errorStatus(error) === 412 ||
    errorStatus(error) === 409
  );
}

/** Raised inside a rewrite when the object no longer has the ETag it was read with; handled like a 412. */
class ObjectChangedError extends Error {
  override readonly name = 'ObjectChangedError';
}

// ---------------------------------------------------------------------------------------------
// Read (export)
// ---------------------------------------------------------------------------------------------

/** What an exported S3 object looks like: text when it is readable as such, otherwise base64. */
export interface ExportedS3Object {
  contentType: string;
  size: number;
  text?: string;
  base64?: string;
}

/**
 * Reads the located records of an S3 store for an export, one at a time, so only one object (or one
 * line) is held in memory at once.
 *
 * - Objects yield `{ contentType, size, text }` when the bytes are valid UTF-8 and the content type
 *   is textual (text/*, JSON) or the object is under 1 MiB; `{ contentType, size, base64 }` otherwise.
 * - JSON-lines objects yield each line of the subject as `{ key: "<object key>#L<line number>", data: <parsed line> }`.
 *
 * Objects that have gone since locating are skipped (nothing is held any more).
 *
 * @param dataMap the data map's identity types, to match lines exactly as locate did; without it a
 *   line matches only when its field holds a normalised value verbatim
 * @throws ReadIncompleteError after the other records were yielded, when some could not be read after retries
 * @throws RecordOutsideStoreError before reading anything, when a record does not belong to the store
 */
export async function* readS3Records(
  store: S3Store,
  records: LocatedRecord[],
  clients: StoreClients,
  dataMap?: Pick<DataMap, 'identityTypes'>,
): AsyncGenerator<ExportedRecord> {
  const plan = planRecords(store, records);
  const normalise = createNormaliser(dataMap);
  const policy = DEFAULT_RETRY_POLICY;
  const failedKeys: string[] = [];

  for (const record of plan.objects) {
    let data: ExportedS3Object | undefined;
    try {
      data = await withRetry(policy, () => readObject(clients.s3, store.bucket, record.key));
    } catch {
      failedKeys.push(record.key);
      continue;
    }
    if (data) yield { storeId: store.id, key: record.key, data };
  }

  for (const [key, group] of plan.lines) {
    const matchers = group.map((record) => ({
      identity: record.matched.identity,
      field: record.matched.field,
      values: new Set(record.matched.values),
    }));
    // A retry resumes after the last line yielded, and only on the same object version.
    let yieldedThrough = 0;
    let etag: string | undefined;
    for (let attempt = 1; ; attempt += 1) {
      try {
        const object = await getObjectOrUndefined(clients.s3, store.bucket, key);
        if (!object) break;
        if (etag !== undefined && object.ETag !== etag) throw new ObjectChangedError();
        etag = object.ETag;
        let lineNo = 0;
        for await (const piece of splitLines(bodyChunks(object.Body), store)) {
          if (piece.kind === 'long') {
            if (piece.end) lineNo += 1;
            continue;
          }
          lineNo += 1;
          if (lineNo <= yieldedThrough) continue;
          const line = parseLine(piece.bytes, lineNo === 1, matchers, normalise);
          if (line.kind !== 'record' || line.matcher < 0) continue;
          yieldedThrough = lineNo;
          yield { storeId: store.id, key: `${key}#L${lineNo}`, data: line.record };
        }
        break;
      } catch (error) {
        if (attempt >= policy.maxAttempts || !isRetryableError(error)) {
          failedKeys.push(key);
          break;
        }
        await waitBeforeRetry(policy, attempt);
      }
    }
  }

  if (failedKeys.length > 0) throw new ReadIncompleteError(store.id, failedKeys, policy.maxAttempts);
}

async function readObject(s3: S3Client, bucket: string, key: string): Promise<ExportedS3Object | undefined> {
  const object = await getObjectOrUndefined(s3, bucket, key);
  if (!object) return undefined;
  const bytes = Buffer.from(object.Body ? await object.Body.transformToByteArray() : new Uint8Array());
  const contentType = object.ContentType ?? 'application/octet-stream';
  const textual = /^text\//i.test(contentType) || /json/i.test(contentType);
  const text = (textual || bytes.length < TEXT_EXPORT_LIMIT) && decodeUtf8(bytes);
  return typeof text === 'string'
    ? { contentType, size: bytes.length, text }
    : { contentType, size: bytes.length, base64: bytes.toString('base64') };
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function decodeUtf8(bytes: Buffer): string | false {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Erase
// ---------------------------------------------------------------------------------------------

interface RecordPlan {
  objects: LocatedObject[];
  /** Lines records grouped by object key: several rules may have matched lines in one object. */
  lines: Map<string, LocatedLines[]>;
  exempt: LocatedRecord[];
}

/** Splits records into work, checking first that each one belongs to this store, so a wrong manifest touches nothing. */
function planRecords(store: S3Store, records: LocatedRecord[], splitExempt = false): RecordPlan {
  const prefixPatterns = store.locate.filter(isPrefixRule).map((rule) => {
    const { before, after } = splitTemplate(store, rule);
    return new RegExp(`^${escapeRegExp(before)}[^/]+${escapeRegExp(after)}`, 's');
  });
  const lineRules = store.locate.filter(isJsonLinesRule);
  const plan: RecordPlan = { objects: [], lines: new Map(), exempt: [] };
  const seenObjects = new Set<string>();
  records.forEach((record, index) => {
    if (record.kind === 'item') {
      throw new RecordOutsideStoreError(store.id, index, 'a DynamoDB item in an S3 store');
    }
    if (record.kind === 'object' && !prefixPatterns.some((pattern) => pattern.test(record.key))) {
      throw new RecordOutsideStoreError(
        store.id,
        index,
        "the key is under none of the store's subject prefixes",
      );
    }
    if (
      record.kind === 'lines' &&
      !lineRules.some(
        (rule) =>
          record.key.startsWith(rule.jsonLines.prefix) &&
          rule.identity === record.matched.identity &&
          rule.jsonLines.field === record.matched.field,
      )
    ) {
      throw new RecordOutsideStoreError(
        store.id,
        index,
        "no JSON-lines rule of the store matches the record's prefix and field",
      );
    }
  });
  for (const record of records) {
    if (splitExempt && record.exemption) {
      plan.exempt.push(record);
    } else if (record.kind === 'object') {
      if (seenObjects.has(record.key)) continue;
      seenObjects.add(record.key);
      plan.objects.push(record);
    } else if (record.kind === 'lines') {
      const group = plan.lines.get(record.key) ?? [];
      group.push(record);
      plan.lines.set(record.key, group);
    }
  }
  return plan;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function recordCount(record: LocatedRecord): number {
  return record.kind === 'lines' ? record.lineCount : 1;
}

/**
 * A bucket with versioning on (or suspended, with versions kept): deleting or rewriting an
 * object there leaves its earlier versions, so an erasure would report data gone that is not.
 */
export class VersionedBucketError extends Error {
  override readonly name = 'VersionedBucketError';
  constructor(
    readonly storeId: string,
    readonly bucket: string,
    readonly status: string,
  ) {
    super(
      `bucket ${bucket} (store ${storeId}) has versioning ${status.toLowerCase()}: deleting would leave earlier versions of the data; lethe refuses rather than report it erased (deleting object versions is not supported yet)`,
    );
  }
}

/**
 * Refuses to delete from a versioned bucket. A server without versioning support (s3rver
 * answers NotImplemented) has no versions to leave behind; any other error (AccessDenied)
 * propagates, since then nobody knows.
 * @throws VersionedBucketError when versioning is Enabled or Suspended
 */
export async function assertUnversionedBucket(s3: S3Client, store: S3Store): Promise<void> {
  try {
    const versioning = await s3.send(new GetBucketVersioningCommand({ Bucket: store.bucket }));
    if (versioning.Status === 'Enabled' || versioning.Status === 'Suspended') {
      throw new VersionedBucketError(store.id, store.bucket, versioning.Status);
    }
  } catch (error) {
    if ((error as Error).name !== 'NotImplemented') throw error;
  }
}

/**
 * Erases the located records of an S3 store and reports counts only.
 *
 * - Objects are deleted with DeleteObjects, 1,000 keys per call (Quiet). Per-key errors that are
 *   worth retrying (InternalError, SlowDown, …) and throttled or failed calls are retried with capped
 *   exponential backoff and full jitter; `erased` counts keys deleted (S3 reports a key that had
 *   already gone as deleted too).
 * - JSON-lines objects are rewritten without the subject's lines (matched as locate matched them),
 *   every other line kept byte for byte, in order, with the object's trailing-newline convention,
 *   content type, metadata, tags and encryption settings. The write is conditional on the ETag
 *   read (`If-Match`), so a concurrent writer is never overwritten: on 412 the object is read and
 *   filtered again. An object left with no line is deleted, conditional on the ETag as well.
 *   `erased` counts lines removed; `skipped` counts located lines that had gone by then.
 * - Exempted records are left alone and counted by reason.
 *
 * Local caveat: s3rver ignores If-Match on GetObject, PutObject, CompleteMultipartUpload and
 * DeleteObject. The ETag of a second read is compared client-side, but the window between reading
 * and writing is only closed on real S3 (conditional writes on PutObject and CompleteMultipartUpload
 * since 2024, on DeleteObject since 2025). s3rver also rejects AbortMultipartUpload, so a failed
 * large rewrite leaves its uploaded parts behind locally; on S3 Upload aborts them.
 *
 * @param dataMap identity types, to match lines exactly as locate did; without it only verbatim
 *   normalised values match (never another subject's line, but maybe not every spelling)
 * @throws EraseIncompleteError after everything else was erased, when keys or objects still failed
 *   after retries; the message holds counts and the store only, the keys are in `failedKeys`
 * @throws RecordOutsideStoreError before touching anything, when a record does not belong to the store
 */
export async function eraseInS3Store(
  store: S3Store,
  records: LocatedRecord[],
  clients: StoreClients,
  options: S3EraseOptions,
  dataMap?: Pick<DataMap, 'identityTypes'>,
): Promise<StoreErasure> {
  const policy = options.retry ?? DEFAULT_RETRY_POLICY;
  const plan = planRecords(store, records, true);
  const erasure: StoreErasure = {
    storeId: store.id,
    erased: 0,
    masked: 0,
    exempted: 0,
    exemptions: [],
    failed: 0,
    skipped: 0,
  };
  countExemptions(erasure, plan.exempt);
  if (plan.objects.length > 0 || plan.lines.size > 0) await assertUnversionedBucket(clients.s3, store);

  const failedKeys: string[] = [];
  let attempted = 0;
  let attemptsUsed = 0;

  const keys = plan.objects.map((record) => record.key);
  attempted += keys.length;
  for (let start = 0; start < keys.length; start += DELETE_BATCH_SIZE) {
    const batch = await deleteBatch(
      clients.s3,
      store.bucket,
      keys.slice(start, start + DELETE_BATCH_SIZE),
      policy,
    );
    erasure.erased += batch.deleted;
    failedKeys.push(...batch.failed);
    erasure.failed += batch.failed.length;
    attemptsUsed = Math.max(attemptsUsed, batch.attempts);
  }

  const normalise = createNormaliser(dataMap);
  const groups = [...plan.lines.entries()];
  attempted += groups.length;
  const rewriteOptions: RewriteOptions = {
    policy,
    normalise,
    bufferLimit: options.rewriteBufferLimitBytes ?? DEFAULT_REWRITE_BUFFER_LIMIT,
  };
  const outcomes = await mapConcurrently(groups, REWRITE_CONCURRENCY, ([key, group]) =>
    rewriteObject(store, clients.s3, key, group, rewriteOptions),
  );
  outcomes.forEach((outcome, index) => {
    const [key, group] = groups[index] ?? ['', []];
    const located = group.reduce((sum, record) => sum + record.lineCount, 0);
    attemptsUsed = Math.max(attemptsUsed, outcome.attempts);
    if (!outcome.ok) {
      failedKeys.push(key);
      erasure.failed += located;
      return;
    }
    erasure.erased += outcome.removed;
    erasure.skipped += Math.max(0, located - outcome.removed);
  });

  if (failedKeys.length > 0) {
    throw new EraseIncompleteError(store.id, failedKeys, {
      total: attempted,
      attempts: attemptsUsed,
      noun: plan.lines.size > 0 && plan.objects.length === 0 ? 'object' : 'record',
    });
  }
  return erasure;
}

function countExemptions(erasure: StoreErasure, exempt: LocatedRecord[]): void {
  for (const record of exempt) {
    const exemption = record.exemption as Exemption;
    const count = recordCount(record);
    erasure.exempted += count;
    const entry = erasure.exemptions.find(
      (candidate) =>
        candidate.reason === exemption.reason &&
        candidate.source === exemption.source &&
        candidate.legalBasis === exemption.legalBasis,
    );
    if (entry) entry.count += count;
    else {
      erasure.exemptions.push({
        reason: exemption.reason,
        ...(exemption.legalBasis === undefined ? {} : { legalBasis: exemption.legalBasis }),
        source: exemption.source,
        count,
      });
    }
  }
}

export interface BatchOutcome {
  deleted: number;
  failed: string[];
  attempts: number;
}

/** Per-key DeleteObjects error codes are retried when the same code would be as a whole-call error. */
function isRetryableKeyError(code: string | undefined): boolean {
  if (code === undefined) return true;
  const asError = new Error(code);
  asError.name = code;
  return isRetryableError(asError);
}

/**
 * Deletes up to 1,000 keys with one DeleteObjects call (Quiet), retrying the keys S3 reports as
 * failed and the call when throttled. A key that has gone already counts as deleted.
 */
export async function deleteBatch(
  s3: S3Client,
  bucket: string,
  keys: string[],
  policy: RetryPolicy,
): Promise<BatchOutcome> {
  let pending = keys;
  const failed: string[] = [];
  let attempts = 0;
  while (pending.length > 0) {
    attempts += 1;
    const lastAttempt = attempts >= policy.maxAttempts;
    const inBatch = new Set(pending);
    let retry: string[] = [];
    try {
      const output = await s3.send(
        new DeleteObjectsCommand({
          Bucket: bucket,
          Delete: { Objects: pending.map((Key) => ({ Key })), Quiet: true },
        }),
      );
      for (const entry of output.Errors ?? []) {
        if (entry.Key === undefined || !inBatch.has(entry.Key)) continue;
        inBatch.delete(entry.Key);
        if (!lastAttempt && isRetryableKeyError(entry.Code)) retry.push(entry.Key);
        else failed.push(entry.Key);
      }
    } catch (error) {
      if (lastAttempt || !isRetryableError(error)) {
        failed.push(...pending);
        break;
      }
      retry = pending;
    }
    pending = retry;
    if (pending.length > 0) await waitBeforeRetry(policy, attempts);
  }
  return { deleted: keys.length - failed.length, failed, attempts };
}

interface RewriteOptions {
  policy: RetryPolicy;
  normalise: Normaliser;
  bufferLimit: number;
}

type RewriteOutcome = { ok: true; removed: number; attempts: number } | { ok: false; attempts: number };

/** Rewrites one object without the subject's lines, starting over (bounded) when a concurrent write wins. */
async function rewriteObject(
  store: S3Store,
  s3: S3Client,
  key: string,
  group: LocatedLines[],
  options: RewriteOptions,
): Promise<RewriteOutcome> {
  const matchers = group.map((record) => ({
    identity: record.matched.identity,
    field: record.matched.field,
    values: new Set(record.matched.values),
  }));
  const isSubjectLine = (bytes: Buffer, firstLine: boolean): boolean => {
    const line = parseLine(bytes, firstLine, matchers, options.normalise);
    return line.kind === 'record' && line.matcher >= 0;
  };
  for (let attempt = 1; ; attempt += 1) {
    try {
      const removed = await rewriteOnce(store, s3, key, isSubjectLine, options.bufferLimit);
      return { ok: true, removed, attempts: attempt };
    } catch (error) {
      const again = isWriteConflict(error) || isRetryableError(error);
      if (!again || attempt >= options.policy.maxAttempts) return { ok: false, attempts: attempt };
      await waitBeforeRetry(options.policy, attempt);
    }
  }
}

interface FilterStats {
  removed: number;
  kept: number;
  bytes: number;
}

/**
 * The object's bytes without the subject's lines. Kept lines are joined with "\n" and a final "\n"
 * is written only if the object ended with one, so removing the last line does not add or drop a
 * trailing newline. Lines too long to parse cannot be matched (locate counts them as malformed), so
 * they stream through unchanged.
 */
async function* filteredChunks(
  pieces: AsyncIterable<LinePiece>,
  isSubjectLine: (bytes: Buffer, firstLine: boolean) => boolean,
  stats: FilterStats,
): AsyncGenerator<Buffer> {
  let out: Buffer[] = [];
  let outBytes = 0;
  let lineNo = 0;
  let inLongLine = false;
  let endsWithNewline = false;
  const emit = (bytes: Buffer) => {
    if (bytes.length === 0) return;
    out.push(bytes);
    outBytes += bytes.length;
    stats.bytes += bytes.length;
  };
  const startKeptLine = () => {
    if (stats.kept > 0) emit(NEWLINE);
    stats.kept += 1;
  };
  for await (const piece of pieces) {
    if (piece.kind === 'line') {
      lineNo += 1;
      endsWithNewline = piece.newline;
      if (isSubjectLine(piece.bytes, lineNo === 1)) {
        stats.removed += 1;
      } else {
        startKeptLine();
        emit(piece.bytes);
      }
    } else {
      if (!inLongLine) {
        lineNo += 1;
        startKeptLine();
        inLongLine = true;
      }
      emit(piece.bytes);
      if (piece.end) {
        inLongLine = false;
        endsWithNewline = piece.newline;
      }
    }
    if (outBytes >= OUTPUT_CHUNK_BYTES) {
      yield Buffer.concat(out);
      out = [];
      outBytes = 0;
    }
  }
  if (stats.kept > 0 && endsWithNewline) emit(NEWLINE);
  if (outBytes > 0) yield Buffer.concat(out);
}

/** Passes chunks through, failing the stream if they do not add up to exactly `expected` bytes. */
async function* exactLength(chunks: AsyncIterable<Buffer>, expected: number): AsyncGenerator<Buffer> {
  let total = 0;
  for await (const chunk of chunks) {
    total += chunk.length;
    if (total > expected) throw new ObjectChangedError('the object grew between the two reads of a rewrite');
    yield chunk;
  }
  if (total !== expected)
    throw new ObjectChangedError('the object shrank between the two reads of a rewrite');
}

/**
 * One read-filter-write round; returns the lines removed. Conflicts surface as errors the caller retries.
 *
 * Objects up to the buffer limit are filtered into memory from one read and written with PutObject.
 * Larger ones are read twice: once to learn whether anything is to be removed (so an object without
 * the subject's lines is never rewritten, which would reset its LastModified and with it the
 * retention clock of everyone else's lines), then again, pinned to the first read's ETag, streamed
 * through the filter into a multipart Upload (bounded memory: a few 5 MiB parts in flight).
 *
 * Multipart matters beyond memory: the new object only comes into being at CompleteMultipartUpload,
 * after the read has finished, and a failed read aborts the upload. Streaming the read straight into
 * a PutObject of the same key would, on s3rver, truncate the file being read and store a partial
 * object (S3 itself writes atomically, but lethe must not lose data locally either).
 */
async function rewriteOnce(
  store: S3Store,
  s3: S3Client,
  key: string,
  isSubjectLine: (bytes: Buffer, firstLine: boolean) => boolean,
  bufferLimit: number,
): Promise<number> {
  const object = await getObjectOrUndefined(s3, store.bucket, key);
  if (!object) return 0;
  const etag = object.ETag;
  if (etag === undefined) {
    if (object.Body) destroyBody(object.Body);
    throw new TypeError('GetObject returned no ETag: a conditional rewrite is impossible');
  }
  const stats: FilterStats = { removed: 0, kept: 0, bytes: 0 };
  const filtered = filteredChunks(splitLines(bodyChunks(object.Body), store), isSubjectLine, stats);

  let buffered: Buffer | undefined;
  if ((object.ContentLength ?? Number.POSITIVE_INFINITY) <= bufferLimit) {
    const chunks: Buffer[] = [];
    for await (const chunk of filtered) chunks.push(chunk);
    buffered = Buffer.concat(chunks);
  } else {
    for await (const _chunk of filtered) {
      // sizing pass: only the stats are needed
    }
  }
  if (stats.removed === 0) return 0;

  try {
    if (stats.kept === 0) {
      await s3.send(new DeleteObjectCommand({ Bucket: store.bucket, Key: key, IfMatch: etag }));
      return stats.removed;
    }
    const params: PutObjectCommandInput = {
      Bucket: store.bucket,
      Key: key,
      IfMatch: etag,
      ...(await preservedAttributes(s3, store.bucket, key, object)),
    };
    if (buffered !== undefined) {
      await s3.send(new PutObjectCommand({ ...params, Body: buffered, ContentLength: buffered.length }));
      return stats.removed;
    }

    const again = await getObjectOrUndefined(s3, store.bucket, key, etag);
    // s3rver ignores If-Match on reads, so the version is also checked here.
    if (!again || again.ETag !== etag) {
      if (again?.Body) destroyBody(again.Body);
      throw new ObjectChangedError('the object changed between the two reads of a rewrite');
    }
    const secondPass: FilterStats = { removed: 0, kept: 0, bytes: 0 };
    const chunks = filteredChunks(splitLines(bodyChunks(again.Body), store), isSubjectLine, secondPass);
    const body = Readable.from(exactLength(chunks, stats.bytes), { objectMode: false });
    let readError: unknown;
    body.once('error', (error) => {
      readError = error;
    });
    try {
      // IfMatch reaches PutObject (one part) or CompleteMultipartUpload (several), where S3 checks it.
      await new Upload({ client: s3, params: { ...params, Body: body } }).done();
    } catch (error) {
      // A failed read is the cause worth retrying on; Upload may report its clean-up instead (s3rver
      // rejects AbortMultipartUpload with MethodNotAllowed).
      throw readError ?? error;
    } finally {
      // Closes the second read when the upload failed before consuming it.
      body.destroy();
    }
    return stats.removed;
  } catch (error) {
    // Deleted by someone else since our read: the subject's lines are gone with it; never recreate it.
    if (isNotFound(error)) return stats.removed;
    throw error;
  }
}

function destroyBody(body: NonNullable<GetObjectCommandOutput['Body']>): void {
  const destroyable = body as { destroy?: () => void };
  if (typeof destroyable.destroy === 'function') destroyable.destroy();
}

/** What PutObject would otherwise reset: headers, user metadata, tags and encryption settings. */
async function preservedAttributes(
  s3: S3Client,
  bucket: string,
  key: string,
  object: GetObjectCommandOutput,
): Promise<Partial<PutObjectCommandInput>> {
  const attributes: Partial<PutObjectCommandInput> = {
    ...(object.ContentType === undefined ? {} : { ContentType: object.ContentType }),
    ...(object.ContentEncoding === undefined ? {} : { ContentEncoding: object.ContentEncoding }),
    ...(object.ContentLanguage === undefined ? {} : { ContentLanguage: object.ContentLanguage }),
    ...(object.ContentDisposition === undefined ? {} : { ContentDisposition: object.ContentDisposition }),
    ...(object.CacheControl === undefined ? {} : { CacheControl: object.CacheControl }),
    ...(object.Metadata === undefined ? {} : { Metadata: object.Metadata }),
    ...(object.StorageClass === undefined ? {} : { StorageClass: object.StorageClass }),
    ...(object.ServerSideEncryption === undefined
      ? {}
      : { ServerSideEncryption: object.ServerSideEncryption }),
    ...(object.SSEKMSKeyId === undefined ? {} : { SSEKMSKeyId: object.SSEKMSKeyId }),
    ...(object.BucketKeyEnabled === undefined ? {} : { BucketKeyEnabled: object.BucketKeyEnabled }),
  };
  if ((object.TagCount ?? 0) > 0) {
    const tagging = await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key }));
    const tags = new URLSearchParams();
    for (const tag of tagging.TagSet ?? []) {
      if (tag.Key !== undefined) tags.append(tag.Key, tag.Value ?? '');
    }
    attributes.Tagging = tags.toString();
  }
  return attributes;
}
