import { accessSync, constants, statSync } from 'node:fs';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { getStore } from '../datamap/load';
import type { DataMap, DynamoStore } from '../datamap/schema';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from '../stores/retry';
import type { StoreClients } from '../stores/types';
import { ImportError, ImportIncompleteError } from './import-errors';
import { fileLines } from './import-text';
import { type CheckedItem, createItemChecker, type LocateKeyPolicy } from './item-check';
import { writeItems } from './item-writer';

/**
 * Importing a JSON-lines file into a DynamoDB store in two passes over the file: the first checks
 * every line and writes nothing unless all pass, the second writes. Both read the file a chunk at a
 * time, so memory grows only with the number of items (a short digest of each key, to find
 * duplicates), never with the file.
 */

/** Longer lines are refused unread: no DynamoDB item (at most 400 KB) is written as a line this long. */
export const MAX_LINE_BYTES = 1024 * 1024;
/** Bad lines listed in an error; the rest are counted. */
const MAX_LISTED_LINES = 1_000;

export interface ItemsFileOptions {
  /** Locate keys not in normalised form: refused (default), stored normalised, or kept as they are. */
  locateKeys?: LocateKeyPolicy;
  retry?: RetryPolicy;
}

/** What the first pass found: every line passed. */
export interface ItemsFileCheck {
  /** Items the file holds (non-blank lines). */
  items: number;
  /** Locate key values that will be stored normalised (`locateKeys: 'normalise'`). */
  normalisedKeys: number;
  /** Locate key values not in normalised form that will be stored as they are (`locateKeys: 'keep'`). */
  keptKeys: number;
}

/** What an import of a file did. */
export interface ItemsFileImport extends ItemsFileCheck {
  store: string;
  /** Items DynamoDB acknowledged. */
  written: number;
}

/** The store, which must be a DynamoDB store. */
export function dynamoStore(dataMap: DataMap, storeId: string): DynamoStore {
  const store = getStore(dataMap, storeId);
  if (store.kind !== 'dynamodb') {
    throw new ImportError(
      `store ${storeId} is an S3 store: import a folder with --dir DIR instead of --file`,
    );
  }
  return store;
}

function requireFile(file: string): { size: number; mtimeMs: number } {
  try {
    const stat = statSync(file);
    if (stat.isFile()) {
      accessSync(file, constants.R_OK);
      return { size: stat.size, mtimeMs: stat.mtimeMs };
    }
  } catch (error) {
    throw new ImportError(
      `cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'}): pass an existing JSON-lines file`,
    );
  }
  throw new ImportError(`${file} is not a file: pass a JSON-lines file with --file`);
}

const refuseCompressed =
  (file: string) =>
  (format: string): never => {
    throw new ImportError(
      `${file} is ${format}-compressed and nothing was imported: decompress it and import the JSON-lines text`,
    );
  };

/** A checked line, or what is wrong with it. */
type LineVerdict =
  | { number: number; problem: string; locateKeys: boolean }
  | (CheckedItem & { number: number });

/** Every non-blank line of the file, checked for the store. */
async function* checkedLines(
  dataMap: DataMap,
  store: DynamoStore,
  file: string,
  policy: LocateKeyPolicy,
): AsyncGenerator<LineVerdict> {
  const check = createItemChecker(dataMap, store, policy, 'json');
  for await (const line of fileLines(file, MAX_LINE_BYTES, refuseCompressed(file))) {
    if ('problem' in line) {
      yield { number: line.number, problem: line.problem, locateKeys: false };
      continue;
    }
    if (line.text.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line.text);
    } catch {
      // JSON.parse's message quotes the text around the error: personal data.
      yield {
        number: line.number,
        problem: 'not valid JSON; each line must be one JSON object (check quotes, commas and brackets)',
        locateKeys: false,
      };
      continue;
    }
    const verdict = check(value);
    yield verdict.ok
      ? { ...verdict, number: line.number }
      : { number: line.number, problem: verdict.problems.join('; '), locateKeys: verdict.locateKeys };
  }
}

function refusal(
  file: string,
  bad: { number: number; problem: string }[],
  badLines: number,
  items: number,
  locateKeys: boolean,
) {
  const fix = locateKeys
    ? 'fix the lines listed below, or pass --normalise-keys to store locate keys normalised (or --keep-key-spellings to store them as they are), and run the import again'
    : 'fix the lines listed below and run the import again';
  const lines = badLines === 1 ? '1 line' : `${badLines.toLocaleString('en-US')} lines`;
  const listed = bad.map((line) => `${file}:${line.number}: ${line.problem}`);
  const unlisted = badLines - bad.length;
  return new ImportError(
    `${file} has ${lines} that cannot be imported (of ${items.toLocaleString('en-US')}), so nothing was imported: ${fix}.`,
    [
      ...listed,
      ...(unlisted > 0
        ? [`… and ${unlisted.toLocaleString('en-US')} more lines that cannot be imported`]
        : []),
    ],
  );
}

/**
 * The first pass of an import: checks every line of a JSON-lines file for a DynamoDB store (a JSON
 * object; the table's key attributes present with their declared types; index key attributes, where
 * present, of theirs; numbers DynamoDB can hold; at most 400 KB; no table key twice; locate keys in
 * normalised form unless the policy says otherwise). Writes nothing.
 * @throws ImportError listing every bad line by number with what is wrong (never a value)
 */
export async function checkItemsFile(
  dataMap: DataMap,
  storeId: string,
  file: string,
  options: Pick<ItemsFileOptions, 'locateKeys'> = {},
): Promise<ItemsFileCheck> {
  const store = dynamoStore(dataMap, storeId);
  requireFile(file);
  const firstLineOf = new Map<string, number>();
  const bad: { number: number; problem: string }[] = [];
  const counts: ItemsFileCheck = { items: 0, normalisedKeys: 0, keptKeys: 0 };
  let badLines = 0;
  let locateKeys = false;
  const refuse = (number: number, problem: string) => {
    badLines += 1;
    if (bad.length < MAX_LISTED_LINES) bad.push({ number, problem });
  };
  for await (const line of checkedLines(dataMap, store, file, options.locateKeys ?? 'refuse')) {
    counts.items += 1;
    if ('problem' in line) {
      locateKeys ||= line.locateKeys;
      refuse(line.number, line.problem);
      continue;
    }
    const first = firstLineOf.get(line.keyDigest);
    if (first !== undefined) {
      refuse(
        line.number,
        `the same table key as line ${first}; the second item would replace the first, so keep one of them`,
      );
      continue;
    }
    firstLineOf.set(line.keyDigest, line.number);
    counts.normalisedKeys += line.normalisedKeys;
    counts.keptKeys += line.keptKeys;
  }
  if (badLines > 0) throw refusal(file, bad, badLines, counts.items, locateKeys);
  return counts;
}

/**
 * Imports a JSON-lines file of items into a DynamoDB store: checks every line first
 * ({@link checkItemsFile}) and writes nothing unless all pass, then writes the items in batches.
 * Returns what was checked and how many items DynamoDB acknowledged.
 * @throws ImportError listing the bad lines (nothing written)
 * @throws ImportIncompleteError when writing stopped part way (the count written is in it)
 */
export async function importItemsFile(
  dataMap: DataMap,
  storeId: string,
  file: string,
  clients: StoreClients,
  options: ItemsFileOptions = {},
): Promise<ItemsFileImport> {
  const store = dynamoStore(dataMap, storeId);
  const policy = options.locateKeys ?? 'refuse';
  const before = requireFile(file);
  const checked = await checkItemsFile(dataMap, storeId, file, { locateKeys: policy });
  const changed = () =>
    new ImportIncompleteError(
      `${file} changed while it was imported; import it again once it is complete`,
      0,
    );
  const current = requireFile(file);
  if (current.size !== before.size || current.mtimeMs !== before.mtimeMs) throw changed();
  async function* items(): AsyncGenerator<Record<string, AttributeValue>> {
    for await (const line of checkedLines(dataMap, store, file, policy)) {
      if ('problem' in line) throw changed();
      yield line.item;
    }
  }
  const written = await writeItems(store, clients.dynamodb, items(), options.retry ?? DEFAULT_RETRY_POLICY);
  return { store: store.id, ...checked, written };
}
