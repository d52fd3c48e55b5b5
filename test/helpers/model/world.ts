import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { REQUEST_STATES } from '../../../lib/workflow/request-steps';
import {
  type Declarations,
  JUNK_VALUES,
  normalise,
  type StoredForm,
  spell,
  TYPE_NAMES,
  type TypeDeclaration,
  type TypeName,
} from './identities';

/**
 * Random worlds for the model-based test: a data map (identity types, DynamoDB and S3 stores with
 * link chains, masks and exemptions), the records of several subjects and of nobody, and the
 * requests to run. fast-check generates a plan of small choices; the builders here turn any plan
 * into a valid world, so shrinking a plan shrinks the world (fewer stores, records and requests,
 * and choices towards the first option: normalised spellings, attributes present, no exemption).
 */

/** To make every link trusted once links declare a trust level: set this to `{ trust: 'verified' }`. */
const LINK_TRUST: Record<string, string> = {};

export type KeyType = 'S' | 'N' | 'B';
export interface KeyAttr {
  name: string;
  type: KeyType;
}
export type Item = Record<string, AttributeValue>;

export interface MaskField {
  attribute: string;
  with: 'remove' | 'hash' | 'hmac' | 'fixed';
  value?: string;
}

export interface ExemptionSpec {
  when?: {
    attribute: string;
    equals?: string | number | boolean;
    in?: (string | number)[];
    exists?: boolean;
  };
  reason: string;
}

export interface DynamoSpec {
  kind: 'dynamodb';
  id: string;
  table: string;
  partitionKey: KeyAttr;
  sortKey?: KeyAttr;
  indexes: { name: string; partitionKey: KeyAttr; sortKey?: KeyAttr }[];
  locate: { identity: TypeName; attribute: string; index?: string }[];
  links: { identity: TypeName; attribute: string; shape: 'S' | 'L' | 'SS' }[];
  erase: { action: 'delete' } | { action: 'mask'; fields: MaskField[] };
  exemptions: ExemptionSpec[];
}

export interface PrefixSpec {
  kind: 'prefix';
  id: string;
  bucket: string;
  locate: { identity: TypeName; prefix: string }[];
  exemptions: ExemptionSpec[];
}

export interface LinesSpec {
  kind: 'lines';
  id: string;
  bucket: string;
  locate: { identity: TypeName; prefix: string; field: string }[];
  links: { identity: TypeName; attribute: string; shape: 'S' | 'L' }[];
  objects: { key: string; trailingNewline: boolean }[];
  exemptions: ExemptionSpec[];
}

export type StoreSpec = DynamoSpec | PrefixSpec | LinesSpec;

/** Whose a record is: a subject's index, or null for records of nobody any request names. */
export type Owner = number | null;

export type RecordSpec =
  | { kind: 'item'; store: string; owner: Owner; item: Item }
  | { kind: 'object'; store: string; owner: Owner; key: string; body: string }
  | { kind: 'line'; store: string; owner: Owner; objectKey: string; text: string };

export interface Fault {
  /** The Task state that fails, on its `nth` call of the attempt. */
  state: string;
  nth: number;
  /** RecordFailure fails too: the execution dies without recording it, and retry finds it dead. */
  dead: boolean;
}

export interface Operation {
  subject: number;
  type: 'access' | 'erasure';
  given: { type: TypeName; value: string }[];
  fault?: Fault;
}

export interface World {
  declarations: Declarations;
  /** The identity types of the link chain: a request names the first, links lead to the next. */
  chain: TypeName[];
  stores: StoreSpec[];
  subjects: number;
  records: RecordSpec[];
  operations: Operation[];
}

// ---------------------------------------------------------------------------------------------
// Values

const NAMES = ['ada', 'bob', 'cyd', 'dee'];
/** The "subject" whose values fill records nobody asks about. */
export const NOBODY = 7;

/** The normalised value `k` (0 or 1) of a type for subject `who`: distinct per subject, type and k. */
export function subjectValue(type: TypeName, who: number, k: number): string {
  switch (type) {
    case 'email':
      return `${NAMES[who] ?? 'zed'}.${k}x@mail${who}.example.com`;
    case 'phone':
      return `+4930${1000000 + who * 100 + k * 10 + 7}`;
    case 'cookie':
      return `abcd${who}${k}ef-f${who}${k}a`;
    case 'ref':
      return `R-${who}${k}abCD`;
    case 'acct':
      return `${200000 + who * 10 + k}`;
    case 'device':
      return `dev-${who}${k}-xy`;
  }
}

/** The forms a type's values are written in by records and requests (others would equal these). */
function formsFor(type: TypeName): StoredForm[] {
  if (type === 'phone') return ['norm', 'phoneSpaced', 'phoneZeros', 'phoneNational', 'spaced'];
  if (type === 'acct') return ['norm', 'spaced'];
  return ['norm', 'upper', 'mixed', 'spaced', 'spacedMixed'];
}

/** Takes choices from a list of small numbers in turn; `next(n)` is in [0, n). Zero is the plainest choice. */
class Picker {
  private index = 0;
  constructor(private readonly picks: readonly number[]) {}
  next(n: number): number {
    if (n <= 1 || this.picks.length === 0) return 0;
    const pick = this.picks[this.index % this.picks.length] ?? 0;
    this.index += 1;
    return pick % n;
  }
  oneOf<T>(options: readonly T[]): T {
    return options[this.next(options.length)] as T;
  }
}

/** A value of `who` for `type`, in a form: half the time normalised. */
function spelledValue(picker: Picker, type: TypeName, who: number, forms = formsFor(type)): string {
  const k = picker.next(2);
  const form = picker.next(2) === 0 ? 'norm' : picker.oneOf(forms);
  return spell(type, subjectValue(type, who, k), form);
}

// ---------------------------------------------------------------------------------------------
// Plans (what fast-check generates)

type ValueOf<A> = A extends fc.Arbitrary<infer T> ? T : never;

const EXEMPTIONS = {
  kindEquals: {
    when: { attribute: 'kind', equals: 'invoice' },
    reason: 'Invoices are kept ten years by tax law',
  },
  kindIn: {
    when: { attribute: 'kind', in: ['invoice', 'contract'] },
    reason: 'Contracts and invoices are kept for the statutory period',
  },
  flagTrue: { when: { attribute: 'flag', equals: true }, reason: 'Flagged records are under fraud review' },
  amountEquals: {
    when: { attribute: 'amount', equals: 42 },
    reason: 'Payments of this class are kept for audit',
  },
  holdExists: {
    when: { attribute: 'legalHold', exists: true },
    reason: 'Records under a litigation hold are kept',
  },
  noteMissing: {
    when: { attribute: 'note', exists: false },
    reason: 'Records without a note are accounting entries',
  },
  all: { reason: 'The whole store is kept as statutory records' },
} satisfies Record<string, ExemptionSpec>;
type ExemptionKind = keyof typeof EXEMPTIONS;
const EXEMPTION_KINDS = Object.keys(EXEMPTIONS) as ExemptionKind[];

const storePlanArbitrary = fc.record({
  kind: fc.constantFrom('dynamodb' as const, 'lines' as const, 'prefix' as const),
  locateTypes: fc.uniqueArray(fc.constantFrom(...TYPE_NAMES), { minLength: 1, maxLength: 2 }),
  linkTypes: fc.uniqueArray(fc.constantFrom(...TYPE_NAMES), { maxLength: 2 }),
  tableLocate: fc.boolean(),
  keyTypes: fc.array(fc.constantFrom<KeyType>('S', 'B', 'N'), { minLength: 3, maxLength: 3 }),
  recordIdType: fc.constantFrom<KeyType>('S', 'N', 'B'),
  sortKey: fc.constantFrom<KeyType | undefined>(undefined, 'S', 'N'),
  gsiSort: fc.boolean(),
  linkShapes: fc.array(fc.constantFrom('S' as const, 'L' as const, 'SS' as const), {
    minLength: 2,
    maxLength: 2,
  }),
  erase: fc.constantFrom('delete' as const, 'mask' as const),
  maskPicks: fc.array(fc.nat(99), { minLength: 6, maxLength: 6 }),
  exemptions: fc.uniqueArray(fc.constantFrom(...EXEMPTION_KINDS), { maxLength: 2 }),
  linePrefixes: fc.constantFrom('shared' as const, 'own' as const, 'nested' as const),
  objects: fc.integer({ min: 1, max: 3 }),
});
type StorePlan = ValueOf<typeof storePlanArbitrary>;

const declarationsArbitrary: fc.Arbitrary<Declarations> = fc
  .record({
    email: fc.constantFrom(
      undefined,
      [],
      ['as-given'],
      ['trimmed'],
      ['upper'],
      ['as-given', 'trimmed', 'upper'],
    ),
    phone: fc.constantFrom(undefined, [], ['as-given'], ['trimmed']),
    phoneCountry: fc.boolean(),
    cookie: fc.constantFrom(undefined, ['as-given', 'trimmed', 'upper'], ['upper'], []),
    ref: fc.constantFrom(undefined, [], ['trimmed']),
    refCaseSensitive: fc.boolean(),
    acct: fc.constantFrom(undefined, []),
    device: fc.constantFrom(undefined, ['upper'], ['as-given', 'trimmed', 'upper']),
  })
  .map((plan) => {
    const spelled = (declaration: TypeDeclaration, spellings: TypeDeclaration['spellings']) =>
      spellings === undefined ? declaration : { ...declaration, spellings: [...spellings] };
    return {
      email: spelled({ normalise: 'email' }, plan.email as TypeDeclaration['spellings']),
      phone: spelled(
        { normalise: 'e164', ...(plan.phoneCountry ? { defaultCountryCode: '49' } : {}) },
        plan.phone as TypeDeclaration['spellings'],
      ),
      cookie: spelled(
        { normalise: 'opaque', caseSensitive: false, pattern: '[0-9a-f]{8}-[0-9a-f]{4}' },
        plan.cookie as TypeDeclaration['spellings'],
      ),
      ref: spelled(
        {
          normalise: 'opaque',
          pattern: 'R-[0-9]{2}[A-Za-z]{4}',
          ...(plan.refCaseSensitive ? { caseSensitive: true } : {}),
        },
        plan.ref as TypeDeclaration['spellings'],
      ),
      acct: spelled(
        { normalise: 'opaque', pattern: '[1-9][0-9]{5}' },
        plan.acct as TypeDeclaration['spellings'],
      ),
      device: spelled(
        { normalise: 'opaque', caseSensitive: false },
        plan.device as TypeDeclaration['spellings'],
      ),
    };
  });

const recordPlanArbitrary = fc.record({
  store: fc.nat(9),
  owner: fc.nat(9),
  picks: fc.array(fc.nat(99), { minLength: 12, maxLength: 12 }),
});
type RecordPlan = ValueOf<typeof recordPlanArbitrary>;

const operationPlanArbitrary = fc.record({
  subject: fc.nat(9),
  type: fc.constantFrom('access' as const, 'erasure' as const),
  picks: fc.array(fc.nat(99), { minLength: 6, maxLength: 6 }),
  extra: fc.boolean(),
  fault: fc.option(fc.record({ state: fc.nat(5), nth: fc.nat(9), dead: fc.boolean() }), { freq: 2 }),
});
type OperationPlan = ValueOf<typeof operationPlanArbitrary>;

// ---------------------------------------------------------------------------------------------
// Builders

function unique<T>(values: readonly (T | undefined)[]): T[] {
  return [...new Set(values.filter((value): value is T => value !== undefined))];
}

/** Whether a `fixed` mask value may be written to an attribute read as `type` (the loader refuses valid identities). */
function fixedAllowed(declarations: Declarations, type: TypeName, value: string): boolean {
  return normalise(declarations[type], value) === undefined;
}

const FIXED = '[erased]';

function maskFields(
  plan: StorePlan,
  declarations: Declarations,
  identifying: { attribute: string; type: TypeName; keyType: KeyType }[],
): MaskField[] {
  const picker = new Picker(plan.maskPicks);
  const fields: MaskField[] = identifying.map(({ attribute, type, keyType }) => {
    if (keyType !== 'S') return { attribute, with: 'remove' };
    const strategies: MaskField['with'][] = ['hmac', 'remove', 'hash'];
    if (fixedAllowed(declarations, type, FIXED)) strategies.push('fixed');
    const strategy = picker.oneOf(strategies);
    return strategy === 'fixed' ? { attribute, with: 'fixed', value: FIXED } : { attribute, with: strategy };
  });
  const name = picker.oneOf(['none', 'fixed', 'remove'] as const);
  if (name !== 'none')
    fields.push(
      name === 'fixed'
        ? { attribute: 'name', with: 'fixed', value: FIXED }
        : { attribute: 'name', with: 'remove' },
    );
  const note = picker.oneOf(['none', 'hash', 'hmac', 'remove'] as const);
  // The loader refuses an exemption the masked form meets: removing the note would make a masked
  // record one "without a note" when located again.
  const refused = note === 'remove' && plan.exemptions.includes('noteMissing');
  if (note !== 'none') fields.push({ attribute: 'note', with: refused ? 'hmac' : note });
  return fields;
}

function buildDynamo(
  id: string,
  plan: StorePlan,
  declarations: Declarations,
  forced: { locate?: TypeName; link?: TypeName },
): DynamoSpec {
  const locateTypes = unique([forced.locate, ...plan.locateTypes]).slice(0, 2);
  const linkTypes = unique([forced.link, ...plan.linkTypes]).slice(0, 2);
  // Only account numbers are numbers: an N key of any other type could hold no subject's value.
  const keyTypeOf = (type: TypeName, pick: KeyType | undefined): KeyType =>
    pick === 'N' && type !== 'acct' ? 'S' : (pick ?? 'S');
  const tableType = plan.tableLocate ? locateTypes[0] : undefined;
  const partitionKey: KeyAttr = tableType
    ? { name: tableType, type: keyTypeOf(tableType, plan.keyTypes[0]) }
    : { name: 'rid', type: plan.recordIdType };
  const indexes = locateTypes
    .filter((type) => type !== tableType)
    .map((type, index) => ({
      name: `by_${type}`,
      partitionKey: { name: type, type: keyTypeOf(type, plan.keyTypes[index + 1]) },
      ...(plan.gsiSort ? { sortKey: { name: 'seq', type: 'N' as const } } : {}),
    }));
  const locate = locateTypes.map((type) =>
    type === tableType
      ? { identity: type, attribute: type }
      : { identity: type, index: `by_${type}`, attribute: type },
  );
  const links = linkTypes.map((type, index) => ({
    identity: type,
    attribute: `${type}Link`,
    shape: plan.linkShapes[index] ?? 'S',
  }));
  const identifying = [
    ...indexes.map((index) => ({
      attribute: index.partitionKey.name,
      type: index.partitionKey.name as TypeName,
      keyType: index.partitionKey.type,
    })),
    ...links.map((link) => ({ attribute: link.attribute, type: link.identity, keyType: 'S' as const })),
  ];
  return {
    kind: 'dynamodb',
    id,
    table: `t-${id}`,
    partitionKey,
    ...(plan.sortKey ? { sortKey: { name: 'sk', type: plan.sortKey } } : {}),
    indexes,
    locate,
    links,
    erase:
      plan.erase === 'delete'
        ? { action: 'delete' }
        : { action: 'mask', fields: maskFields(plan, declarations, identifying) },
    exemptions: plan.exemptions.map((kind) => EXEMPTIONS[kind]),
  };
}

function buildPrefix(id: string, plan: StorePlan, forced: { locate?: TypeName }): PrefixSpec {
  const locateTypes = unique([forced.locate, ...plan.locateTypes]).slice(0, 2);
  return {
    kind: 'prefix',
    id,
    bucket: `b-${id}`,
    locate: locateTypes.map((type, rule) => ({ identity: type, prefix: `${id}${'ab'[rule]}/{${type}}/` })),
    exemptions: plan.exemptions.includes('all') ? [EXEMPTIONS.all] : [],
  };
}

function buildLines(id: string, plan: StorePlan, forced: { locate?: TypeName; link?: TypeName }): LinesSpec {
  const locateTypes = unique([forced.locate, ...plan.locateTypes]).slice(0, 2);
  const linkTypes = unique([forced.link, ...plan.linkTypes]).slice(0, 2);
  const prefixOf = (rule: number): string => {
    switch (plan.linePrefixes) {
      case 'shared':
        return `${id}/`;
      case 'own':
        return `${id}${'ab'[rule]}/`;
      case 'nested':
        return rule === 0 ? `${id}/` : `${id}/n/`;
    }
  };
  const locate = locateTypes.map((type, rule) => ({ identity: type, prefix: prefixOf(rule), field: type }));
  return {
    kind: 'lines',
    id,
    bucket: `b-${id}`,
    locate,
    links: linkTypes.map((type, index) => ({
      identity: type,
      attribute: `${type}Link`,
      shape: plan.linkShapes[index] === 'S' ? 'S' : 'L',
    })),
    objects: Array.from({ length: plan.objects }, (_, n) => ({
      key: `${locate[n % locate.length]?.prefix ?? `${id}/`}o${n}.jsonl`,
      trailingNewline: n % 2 === 0,
    })),
    exemptions: plan.exemptions.includes('all') ? [EXEMPTIONS.all] : [],
  };
}

/** Link values of a record of `who`: mostly the owner's values, sometimes absent or not an identity at all. */
function linkValues(
  picker: Picker,
  declarations: Declarations,
  type: TypeName,
  who: number,
  shape: 'S' | 'L' | 'SS',
): string[] | undefined {
  const choice = picker.next(6);
  if (choice === 4) return undefined;
  const junk = JUNK_VALUES.filter((value) => normalise(declarations[type], value) === undefined);
  if (choice === 5 && junk.length > 0) return [picker.oneOf(junk)];
  const count = shape === 'S' ? 1 : picker.next(2) + 1;
  const values = Array.from({ length: count }, () => spelledValue(picker, type, who));
  return shape === 'SS' ? [...new Set(values)] : values;
}

function keyValue(type: KeyType, text: string): AttributeValue {
  switch (type) {
    case 'S':
      return { S: text };
    case 'N':
      return { N: text };
    case 'B':
      return { B: Buffer.from(text, 'utf8') };
  }
}

/** The identity value an item holds in a key attribute of `type`: N keys only hold normalised account numbers. */
function keyedValue(picker: Picker, identity: TypeName, keyType: KeyType, who: number): AttributeValue {
  if (keyType === 'N') return { N: subjectValue(identity, who, picker.next(2)) };
  return keyValue(keyType, spelledValue(picker, identity, who));
}

function buildItem(
  store: DynamoSpec,
  declarations: Declarations,
  who: number,
  seq: number,
  picker: Picker,
): Item {
  const item: Item = {};
  const tableRule = store.locate.find((rule) => rule.index === undefined);
  item[store.partitionKey.name] = tableRule
    ? keyedValue(picker, tableRule.identity, store.partitionKey.type, who)
    : keyValue(store.partitionKey.type, store.partitionKey.type === 'N' ? String(seq) : `r${seq}`);
  if (store.sortKey)
    item[store.sortKey.name] = keyValue(
      store.sortKey.type,
      store.sortKey.type === 'N' ? String(seq) : `s${seq}`,
    );
  item.seq = { N: String(seq) };
  for (const index of store.indexes) {
    if (picker.next(5) === 4) continue; // not in the (sparse) index
    item[index.partitionKey.name] = keyedValue(
      picker,
      index.partitionKey.name as TypeName,
      index.partitionKey.type,
      who,
    );
  }
  for (const link of store.links) {
    const values = linkValues(picker, declarations, link.identity, who, link.shape);
    if (values === undefined) continue;
    item[link.attribute] =
      link.shape === 'S' && values.length === 1
        ? { S: values[0] as string }
        : link.shape === 'SS'
          ? { SS: values }
          : { L: values.map((value) => ({ S: value })) };
  }
  item.name = { S: `Name ${seq}` };
  item.kind = { S: picker.oneOf(['order', 'invoice', 'contract', 'ticket']) };
  const flag = picker.oneOf([undefined, true, false]);
  if (flag !== undefined) item.flag = { BOOL: flag };
  const amount = picker.oneOf([undefined, '42', '7']);
  if (amount !== undefined) item.amount = { N: amount };
  if (picker.next(4) === 3) item.legalHold = { S: 'case-17' };
  if (picker.next(4) !== 3) item.note = { S: `note ${seq}` };
  return item;
}

function buildLine(
  store: LinesSpec,
  declarations: Declarations,
  who: number,
  seq: number,
  picker: Picker,
): Record<string, unknown> {
  const line: Record<string, unknown> = { n: seq, event: 'click' };
  for (const rule of store.locate) {
    if (picker.next(5) === 4) continue;
    line[rule.field] = spelledValue(picker, rule.identity, who);
  }
  for (const link of store.links) {
    const values = linkValues(picker, declarations, link.identity, who, link.shape);
    if (values === undefined) continue;
    line[link.attribute] = link.shape === 'S' ? values[0] : values;
  }
  return line;
}

/** The stable id of a DynamoDB item: its key values, binary as base64. */
export function itemId(store: DynamoSpec, item: Item): string {
  const plain = (value: AttributeValue | undefined) =>
    value?.S ?? value?.N ?? (value?.B !== undefined ? Buffer.from(value.B).toString('base64') : undefined);
  return JSON.stringify([
    plain(item[store.partitionKey.name]),
    ...(store.sortKey ? [plain(item[store.sortKey.name])] : []),
  ]);
}

function buildRecords(
  world: Omit<World, 'records' | 'operations'>,
  plans: RecordPlan[],
  anchorStores: number,
): RecordSpec[] {
  const records: RecordSpec[] = [];
  const itemIds = new Set<string>();
  let seq = 0;
  const add = (storeIndex: number, owner: Owner, picker: Picker) => {
    const store = world.stores[storeIndex];
    if (!store) return;
    seq += 1;
    const who = owner ?? NOBODY;
    switch (store.kind) {
      case 'dynamodb': {
        const item = buildItem(store, world.declarations, who, seq, picker);
        const id = `${store.id}|${itemId(store, item)}`;
        if (itemIds.has(id)) return; // the same key twice: the first record keeps it
        itemIds.add(id);
        records.push({ kind: 'item', store: store.id, owner, item });
        return;
      }
      case 'prefix': {
        const rule = picker.oneOf(store.locate);
        const [before] = rule.prefix.split('{');
        records.push({
          kind: 'object',
          store: store.id,
          owner,
          key: `${before}${spelledValue(picker, rule.identity, who)}/doc${seq}.txt`,
          body: `document ${seq}\n`,
        });
        return;
      }
      case 'lines': {
        const object = picker.oneOf(store.objects);
        const malformed = owner === null && picker.next(4) === 3;
        const text = malformed
          ? `{"n": ${seq}, "broken`
          : JSON.stringify(buildLine(store, world.declarations, who, seq, picker));
        records.push({ kind: 'line', store: store.id, owner, objectKey: object.key, text });
        return;
      }
    }
  };
  // Anchors: each subject has a plain record in each store of the chain, so every link is followed.
  for (let store = 0; store < anchorStores; store += 1) {
    for (let subject = 0; subject < world.subjects; subject += 1) add(store, subject, new Picker([]));
  }
  for (const plan of plans) {
    const owner = plan.owner % (world.subjects + 1);
    add(plan.store % world.stores.length, owner === world.subjects ? null : owner, new Picker(plan.picks));
  }
  return records;
}

const FAULT_STATES = {
  access: ['Verify', 'ResolveIdentities', 'LocateStore', 'ExportPackage', 'Confirm', 'RecordOutcome'],
  erasure: ['Verify', 'ResolveIdentities', 'LocateStore', 'EraseStore', 'Confirm', 'RecordOutcome'],
} as const;
const MAP_STATES: string[] = [REQUEST_STATES.locateStore, REQUEST_STATES.eraseStore];

function buildOperation(world: Omit<World, 'operations'>, plan: OperationPlan): Operation {
  const picker = new Picker(plan.picks);
  const subject = plan.subject % world.subjects;
  const given = (type: TypeName, k: number) => {
    const value = subjectValue(type, subject, k);
    // Only spellings that are the subject's value: a request for another identity is another test.
    const forms = formsFor(type).filter(
      (form) => normalise(world.declarations[type], spell(type, value, form)) === value,
    );
    return { type, value: spell(type, value, picker.oneOf(forms)) };
  };
  const root = world.chain[0] as TypeName;
  const identities = [given(root, 0)];
  if (plan.extra) {
    const type = picker.oneOf(TYPE_NAMES);
    if (type !== root) identities.push(given(type, picker.next(2)));
  }
  const fault = plan.fault
    ? {
        state: FAULT_STATES[plan.type][plan.fault.state % FAULT_STATES[plan.type].length] as string,
        nth: 0,
        dead: plan.fault.dead,
      }
    : undefined;
  if (fault)
    fault.nth = MAP_STATES.includes(fault.state) ? 1 + ((plan.fault?.nth ?? 0) % world.stores.length) : 1;
  return { subject, type: plan.type, given: identities, ...(fault ? { fault } : {}) };
}

/** Worlds: 2 or 3 subjects, a link chain of depth 1 to 4 and up to 2 more stores, records and 1 to `maxOperations` requests. */
export function worldArbitrary(options: { maxOperations: number; maxRecords: number }): fc.Arbitrary<World> {
  return fc
    .record({
      declarations: declarationsArbitrary,
      subjects: fc.integer({ min: 2, max: 3 }),
      depth: fc.integer({ min: 1, max: 4 }),
      chain: fc.shuffledSubarray([...TYPE_NAMES], { minLength: 5, maxLength: 5 }),
      backbone: fc.array(storePlanArbitrary, { minLength: 5, maxLength: 5 }),
      extras: fc.array(storePlanArbitrary, { maxLength: 2 }),
      records: fc.array(recordPlanArbitrary, { maxLength: options.maxRecords }),
      operations: fc.array(operationPlanArbitrary, { minLength: 1, maxLength: options.maxOperations }),
    })
    .map((plan) => {
      const chain = plan.chain.slice(0, plan.depth + 1);
      const stores: StoreSpec[] = [];
      const world = { declarations: plan.declarations, chain, subjects: plan.subjects, stores };
      const build = (plan: StorePlan, forced: { locate?: TypeName; link?: TypeName }, mustLink: boolean) => {
        const id = `s${stores.length}`;
        // A store that passes the chain on must be able to hold links: per-subject objects cannot.
        const kind = mustLink && plan.kind === 'prefix' ? 'dynamodb' : plan.kind;
        stores.push(
          kind === 'dynamodb'
            ? buildDynamo(id, plan, world.declarations, forced)
            : kind === 'lines'
              ? buildLines(id, plan, forced)
              : buildPrefix(id, plan, forced),
        );
      };
      chain.forEach((type, index) => {
        const next = chain[index + 1];
        build(
          plan.backbone[index] as StorePlan,
          { locate: type, ...(next ? { link: next } : {}) },
          next !== undefined,
        );
      });
      for (const extra of plan.extras) build(extra, {}, false);
      const records = buildRecords(world, plan.records, chain.length);
      const withRecords = { ...world, records };
      return {
        ...withRecords,
        operations: plan.operations.map((operation) => buildOperation(withRecords, operation)),
      };
    });
}

// ---------------------------------------------------------------------------------------------
// The data map

const DISCLOSURE = {
  categories: ['user.records'],
  purpose: 'Generated store of the model test',
  lawfulBasis: 'contract',
  source: 'Generated by the model test',
};

/** The data map of a world, as the plain object its YAML holds. */
export function dataMapObject(world: Pick<World, 'declarations' | 'stores'>): Record<string, unknown> {
  return {
    version: 1,
    identityTypes: world.declarations,
    stores: world.stores.map(storeObject),
  };
}

/** One store of the data map, as its YAML holds it. */
function storeObject(store: StoreSpec): Record<string, unknown> {
  switch (store.kind) {
    case 'dynamodb':
      return {
        id: store.id,
        kind: 'dynamodb',
        table: store.table,
        keySchema: {
          partitionKey: store.partitionKey,
          ...(store.sortKey ? { sortKey: store.sortKey } : {}),
        },
        indexes: store.indexes,
        locate: store.locate,
        ...DISCLOSURE,
        links: store.links.map(({ identity, attribute }) => ({ identity, attribute, ...LINK_TRUST })),
        erase: store.erase,
        exemptions: store.exemptions,
      };
    case 'prefix':
      return {
        id: store.id,
        kind: 's3',
        bucket: store.bucket,
        locate: store.locate,
        ...DISCLOSURE,
        erase: { action: 'delete' },
        exemptions: store.exemptions,
      };
    case 'lines':
      return {
        id: store.id,
        kind: 's3',
        bucket: store.bucket,
        locate: store.locate.map(({ identity, prefix, field }) => ({
          identity,
          jsonLines: { prefix, field },
        })),
        ...DISCLOSURE,
        links: store.links.map(({ identity, attribute }) => ({ identity, attribute, ...LINK_TRUST })),
        erase: { action: 'rewrite' },
        exemptions: store.exemptions,
      };
  }
}

/** The data map of a world as YAML, as a person would write it. */
export function dataMapYaml(world: Pick<World, 'declarations' | 'stores'>): string {
  return stringify(dataMapObject(world), { aliasDuplicateObjects: false });
}

/** A world as text for a person: the data map as YAML, then every record and request, one a line. */
export function describeWorld(world: World): string {
  const json = (value: unknown) =>
    JSON.stringify(value, (_key, inner: unknown) =>
      typeof inner === 'object' && inner !== null && (inner as { type?: string }).type === 'Buffer'
        ? `base64:${Buffer.from((inner as { data: number[] }).data).toString('base64')}`
        : inner,
    );
  return [
    `# chain: ${world.chain.join(' -> ')}; subjects: ${world.subjects}`,
    dataMapYaml(world),
    '# records',
    ...world.records.map((record) => json(record)),
    '# operations',
    ...world.operations.map((operation) => json(operation)),
    '',
  ].join('\n');
}
