import type { Server } from 'node:http';
import { createRequire } from 'node:module';

/**
 * Patches to dynalite 4 (the embedded DynamoDB), installed once per process before it starts,
 * where it answers differently from DynamoDB in ways lethe relies on.
 */

/** An attribute value as dynalite holds it: the DynamoDB JSON wire form (binary as base64). */
type WireValue = Record<string, unknown>;
type WireItem = Record<string, WireValue>;

/** A node of a parsed condition expression: a comparison, a function, or and/or/not. */
interface ExpressionNode {
  type: string;
  name?: string;
  args: unknown[];
}

interface DynaliteDb {
  checkConditional(data: { _condition?: { expression: ExpressionNode } }, existingItem?: WireItem): unknown;
  mapPath(path: unknown[], item: WireItem): WireValue | undefined;
}

const EQUALITY_SHIM_MARK = Symbol.for('lethe.local.dynaliteCollectionEqualityShim');
const ATOMIC_WRITE_SHIM_MARK = Symbol.for('lethe.local.dynaliteAtomicItemWriteShim');

// dynalite ships no type declarations: the few members used here.
/** dynalite's options, as lethe sets them. */
export interface DynaliteOptions {
  path?: string;
  createTableMs?: number;
  deleteTableMs?: number;
  updateTableMs?: number;
}

/** The database a dynalite server keeps its tables in (LevelDB with a path, in memory without). */
export interface DynaliteDatabase {
  open(): Promise<void>;
}

/**
 * A dynalite server (not yet listening) and the database it keeps its tables in, which dynalite
 * would open on its own, later, with nobody to hear it fail. Open the database before anything
 * else happens in this tick (`await created.database.open()`): that open is then the only one,
 * and its error is the caller's.
 */
export function createDynalite(options: DynaliteOptions): { server: Server; database: DynaliteDatabase } {
  const load = createRequire(require.resolve('dynalite'));
  const db = load('./db') as { create(options: DynaliteOptions): { db: DynaliteDatabase } };
  const create = db.create;
  let database: DynaliteDatabase | undefined;
  // dynalite makes its store inside the call and keeps it to itself: the store is caught as it is made.
  db.create = (storeOptions) => {
    const store = create(storeOptions);
    database = store.db;
    return store;
  };
  let server: Server;
  try {
    server = (load('./index') as (options: DynaliteOptions) => Server)(options);
  } finally {
    db.create = create;
  }
  if (!database) throw new Error('dynalite made no store: its internals changed');
  return { server, database };
}

/** Installs every shim; idempotent. */
export function installDynaliteShims(): void {
  installCollectionEqualityShim();
  installAtomicItemWriteShim();
}

/** Whether two numbers in DynamoDB's decimal text are the same number ("1" and "1.0" are). */
function sameNumber(a: unknown, b: unknown): boolean {
  return typeof a === 'string' && typeof b === 'string' && (a === b || Number(a) === Number(b));
}

/** Sets are equal when they hold the same members, in any order. */
function sameMembers(a: unknown, b: unknown, same: (x: unknown, y: unknown) => boolean): boolean {
  if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
  return a.every((member) => b.some((other) => same(member, other)));
}

/** DynamoDB's equality of two attribute values: same type, and the same value, lists and maps element by element. */
function sameValue(a: WireValue | undefined, b: WireValue | undefined): boolean {
  if (!a || !b) return false;
  const [type] = Object.keys(a);
  if (type === undefined || Object.keys(b)[0] !== type) return false;
  const x = a[type];
  const y = b[type];
  switch (type) {
    case 'N':
      return sameNumber(x, y);
    case 'NS':
      return sameMembers(x, y, sameNumber);
    case 'SS':
    case 'BS':
      return sameMembers(x, y, (m, n) => m === n);
    case 'L':
      return (
        Array.isArray(x) &&
        Array.isArray(y) &&
        x.length === y.length &&
        x.every((element, index) => sameValue(element as WireValue, y[index] as WireValue))
      );
    case 'M': {
      const left = x as WireItem;
      const right = y as WireItem;
      const keys = Object.keys(left);
      return (
        keys.length === Object.keys(right).length &&
        keys.every((key) => Object.hasOwn(right, key) && sameValue(left[key], right[key]))
      );
    }
    default:
      return x === y;
  }
}

const TRUE_OPERANDS = [{ S: '1' }, { S: '1' }];
const FALSE_OPERANDS = [{ S: '1' }, { S: '0' }];

/**
 * The expression with every `=` and `<>` between two lists or two maps already decided (as a
 * comparison of two constant strings): dynalite compares their elements by reference, so such a
 * comparison is always false there, while DynamoDB compares lists and maps by value. Anything
 * else is left for dynalite to evaluate.
 */
function decideCollectionComparisons(db: DynaliteDb, node: ExpressionNode, item: WireItem): ExpressionNode {
  if (node.type === 'and' || node.type === 'or' || node.type === 'not') {
    return {
      ...node,
      args: node.args.map((arg) => decideCollectionComparisons(db, arg as ExpressionNode, item)),
    };
  }
  if ((node.type !== '=' && node.type !== '<>') || node.args.length !== 2) return node;
  // An operand is a path into the item (an array) or a value from ExpressionAttributeValues.
  const [left, right] = node.args.map((arg) =>
    Array.isArray(arg) ? db.mapPath(arg, item) : (arg as WireValue | undefined),
  );
  const isCollection = (value: WireValue | undefined) =>
    value !== undefined && value !== null && ('L' in value || 'M' in value);
  if (!isCollection(left) && !isCollection(right)) return node;
  const equal = sameValue(left, right);
  return { type: '=', args: equal === (node.type === '=') ? TRUE_OPERANDS : FALSE_OPERANDS };
}

/**
 * dynalite decides `a = :v` for a list or map attribute by comparing object references, so the
 * condition never holds, and `<>` always does. DynamoDB supports equality for all types, lists and
 * maps included, which is what lethe's masking relies on: an UpdateItem is conditional on each
 * hashed attribute still holding the value that was hashed, and a list of cookie ids could never be
 * masked locally. Condition expressions of PutItem, UpdateItem and DeleteItem get these comparisons
 * decided by value before dynalite evaluates the rest.
 */
function installCollectionEqualityShim(): void {
  const db = createRequire(require.resolve('dynalite'))('./db') as DynaliteDb & {
    [EQUALITY_SHIM_MARK]?: true;
  };
  if (db[EQUALITY_SHIM_MARK]) return;
  db[EQUALITY_SHIM_MARK] = true;
  const original = db.checkConditional.bind(db);
  db.checkConditional = (data, existingItem) => {
    const condition = data._condition;
    if (!condition) return original(data, existingItem);
    const expression = decideCollectionComparisons(db, condition.expression, existingItem ?? {});
    return original({ ...data, _condition: { ...condition, expression } }, existingItem);
  };
}

/** One write of a LevelDB batch, with the key as dynalite stores it (prefixed by table or index). */
interface LevelOperation {
  type: 'put' | 'del';
  key: string;
  value?: unknown;
}

type Callback = (err?: Error | null) => void;

/** dynalite's view of one table's items: keys without the table's prefix. */
interface ItemDb {
  put(key: string, value: unknown, callback: Callback): void;
  del(key: string, callback: Callback): void;
  [ATOMIC_WRITE_SHIM_MARK]?: { pending?: LevelOperation[] };
}

interface DynaliteStore {
  db: { batch(operations: LevelOperation[], callback: Callback): void };
  getItemDb(tableName: string): ItemDb;
}

interface DynaliteTable {
  TableName: string;
  LocalSecondaryIndexes?: unknown[];
  GlobalSecondaryIndexes?: unknown[];
}

interface IndexActions {
  puts: { index: string; key: string; item: WireItem }[];
  deletes: { index: string; key: string }[];
}

interface DynaliteIndexDb {
  updateIndexes(
    store: DynaliteStore,
    table: DynaliteTable,
    existingItem: WireItem | undefined,
    item: WireItem | null,
    callback: Callback,
  ): void;
  getIndexActions(
    indexes: unknown[],
    existingItem: WireItem | undefined,
    item: WireItem | null,
    table: DynaliteTable,
  ): IndexActions;
  [ATOMIC_WRITE_SHIM_MARK]?: true;
}

/**
 * The table's item view, made to write an item together with the index changes waiting for it
 * (set by updateIndexes just before) in one LevelDB batch.
 */
function atomicItemDb(store: DynaliteStore, tableName: string): ItemDb {
  const itemDb = store.getItemDb(tableName);
  if (itemDb[ATOMIC_WRITE_SHIM_MARK]) return itemDb;
  const slot: { pending?: LevelOperation[] } = {};
  itemDb[ATOMIC_WRITE_SHIM_MARK] = slot;
  // dynalite keeps a table's items under `item-<table>~` in its one LevelDB (getItemDb).
  const itemKey = (key: string) => `item-${tableName}~${key}`;
  const put = itemDb.put.bind(itemDb);
  const del = itemDb.del.bind(itemDb);
  itemDb.put = (key, value, callback) => {
    const pending = slot.pending;
    slot.pending = undefined;
    if (!pending) return put(key, value, callback);
    store.db.batch([...pending, { type: 'put', key: itemKey(key), value }], callback);
  };
  itemDb.del = (key, callback) => {
    const pending = slot.pending;
    slot.pending = undefined;
    if (!pending) return del(key, callback);
    store.db.batch([...pending, { type: 'del', key: itemKey(key) }], callback);
  };
  return itemDb;
}

/**
 * dynalite writes an item's secondary index entries and then the item, as separate LevelDB
 * writes (PutItem, UpdateItem, DeleteItem and each item of a BatchWriteItem). DynamoDB changes an
 * item and its indexes together. Locally the server runs in the CLI's process, so a process killed
 * between the two writes left an erased item whose index entries were gone: still in the table
 * with the subject's values, and never found again by a locate through that index, so a request
 * could say completed while a record of the subject was left. Here the index changes wait for the
 * item's own write (each of those actions makes it right after updateIndexes, within the item's
 * lock), and all of them go to LevelDB in one batch: all or nothing.
 */
function installAtomicItemWriteShim(): void {
  const db = createRequire(require.resolve('dynalite'))('./db') as DynaliteIndexDb;
  if (db[ATOMIC_WRITE_SHIM_MARK]) return;
  db[ATOMIC_WRITE_SHIM_MARK] = true;
  db.updateIndexes = (store, table, existingItem, item, callback) => {
    if (!existingItem && !item) return callback();
    const operations: LevelOperation[] = [];
    for (const indexType of ['Local', 'Global'] as const) {
      const indexes = table[`${indexType}SecondaryIndexes`] ?? [];
      const actions = db.getIndexActions(indexes, existingItem, item, table);
      // dynalite keeps an index's entries under `index-<local|global>~<table>~<index>~` (getIndexDb).
      const prefix = (index: string) => `index-${indexType.toLowerCase()}~${table.TableName}~${index}~`;
      for (const { index, key } of actions.deletes)
        operations.push({ type: 'del', key: prefix(index) + key });
      for (const { index, key, item: entry } of actions.puts)
        operations.push({ type: 'put', key: prefix(index) + key, value: entry });
    }
    const slot = atomicItemDb(store, table.TableName)[ATOMIC_WRITE_SHIM_MARK]!;
    slot.pending = operations;
    try {
      callback();
    } finally {
      // The caller wrote no item right away (no dynalite action does that): the index changes go alone.
      if (slot.pending === operations) {
        slot.pending = undefined;
        if (operations.length > 0) store.db.batch(operations, () => {});
      }
    }
  };
}
