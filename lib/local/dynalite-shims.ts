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

/** Installs every shim; idempotent. */
export function installDynaliteShims(): void {
  installCollectionEqualityShim();
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
