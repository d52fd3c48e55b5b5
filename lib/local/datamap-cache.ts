import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { DataMap } from '../datamap/schema';
import { writeFileAtomicSync } from './atomic-file';
import { packageRoot, packageVersion } from './package-root';

/**
 * The validated data map, kept in the state directory so that a command run on it does not load
 * the YAML parser and the schema library (zod) and validate the file again: together most of a
 * second of a `request list` that needs a tenth of one. A cached data map is trusted only under
 * its key, the SHA-256 of the data map file's bytes and path and of everything validating depends
 * on (lethe's version, the data map code, zod's and yaml's versions), and only when its contents
 * match the digest written with them; anything else (no file, another key, a damaged or half
 * written file) is validated in full. A data map that does not validate is never kept, so its
 * errors are always reported as the full validation reports them.
 */

/** Where a state directory keeps the validated data map. */
export const DATAMAP_CACHE_DIR = 'datamap-cache';
const PREFIX = 'datamap-';

/** Parses and validates a data map (see parseDataMap); tests count the calls. */
export type ValidateDataMap = (source: string, file: string) => DataMap;

/** A data map read through the cache. */
export interface CachedDataMap {
  dataMap: DataMap;
  /** Keeps a data map that was validated in full in the cache; nothing when it came from there. */
  keep(): void;
}

let validatorVersion: string | undefined;

/**
 * SHA-256 of what turns a data map file into a DataMap besides the file: lethe's version, the
 * versions of yaml and zod, and every file of lethe's data map code (the TypeScript sources in
 * development, the compiled JavaScript when built). Computed once per process.
 */
function dataMapCodeVersion(): string {
  if (validatorVersion === undefined) {
    const hash = createHash('sha256')
      .update(`lethe ${packageVersion(join(packageRoot(), 'package.json'))}\0`)
      .update(`yaml ${packageVersion(require.resolve('yaml/package.json'))}\0`)
      .update(`zod ${packageVersion(require.resolve('zod/package.json'))}\0`);
    const codeDir = join(__dirname, '..', 'datamap');
    const files = readdirSync(codeDir)
      .filter((file) => /\.(ts|js)$/.test(file))
      .sort();
    for (const file of files) hash.update(`${file}\0`).update(readFileSync(join(codeDir, file)));
    validatorVersion = hash.digest('hex');
  }
  return validatorVersion;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** The cached data map in `file`, or undefined when there is none or it is not intact. */
function readCached(file: string): DataMap | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  // The first line holds the digest of the rest: a damaged, truncated or edited file does not match.
  const newline = text.indexOf('\n');
  if (newline < 0) return undefined;
  const body = text.slice(newline + 1);
  try {
    const header = JSON.parse(text.slice(0, newline)) as { sha256?: unknown };
    return header.sha256 === sha256(body) ? (JSON.parse(body) as DataMap) : undefined;
  } catch {
    return undefined;
  }
}

/** Writes `dataMap` under `file` and removes the data maps of other keys; a failure only loses the cache. */
function writeCached(file: string, dataMap: DataMap): void {
  const body = JSON.stringify(dataMap);
  // Only what JSON carries exactly: anything else would come back from the cache changed.
  if (!isDeepStrictEqual(JSON.parse(body), dataMap)) return;
  try {
    const dir = join(file, '..');
    mkdirSync(dir, { recursive: true });
    writeFileAtomicSync(file, `${JSON.stringify({ sha256: sha256(body) })}\n${body}`);
    const name = file.slice(dir.length + 1);
    for (const stale of readdirSync(dir).filter((entry) => entry.startsWith(PREFIX) && entry !== name))
      rmSync(join(dir, stale), { force: true });
  } catch {
    // A state directory this process cannot write to (an auditor's copy) still answers, validating each time.
  }
}

/** The full validation: loads the YAML parser and zod. */
const parseInFull: ValidateDataMap = (source, file) =>
  (require('../datamap/load') as typeof import('../datamap/load')).parseDataMap(source, file);

/**
 * The data map in `dataMapPath`, validated, from `<stateDir>/datamap-cache/` when it was kept there
 * under the same key (see the module comment), otherwise validated in full. Reading never writes:
 * call `keep()` once the caller holds the state directory.
 * @throws DataMapError when the file is missing, is not YAML, or does not describe a valid data map
 */
export function loadDataMapCached(
  stateDir: string,
  dataMapPath: string,
  validate: ValidateDataMap = parseInFull,
): CachedDataMap {
  let source: Buffer;
  try {
    source = readFileSync(dataMapPath);
  } catch {
    // The loader's own error names the file and the fix.
    const { loadDataMap } = require('../datamap/load') as typeof import('../datamap/load');
    return { dataMap: loadDataMap(dataMapPath), keep: () => undefined };
  }
  const key = createHash('sha256')
    .update(`${dataMapCodeVersion()}\0${dataMapPath}\0`)
    .update(source)
    .digest('hex')
    .slice(0, 32);
  const file = join(stateDir, DATAMAP_CACHE_DIR, `${PREFIX}${key}.json`);
  const cached = readCached(file);
  if (cached) return { dataMap: cached, keep: () => undefined };
  const dataMap = validate(source.toString('utf8'), dataMapPath);
  return { dataMap, keep: () => writeCached(file, dataMap) };
}
