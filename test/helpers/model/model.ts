import { createHash, createHmac } from 'node:crypto';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { normalise, spellingsOf, type TypeName } from './identities';
import type {
  DynamoSpec,
  ExemptionSpec,
  Item,
  LinesSpec,
  MaskField,
  PrefixSpec,
  RecordSpec,
  StoreSpec,
  World,
} from './world';
import { itemId } from './world';

/**
 * The model: what lethe should do with a world, computed from docs/DATAMAP.md and the world's own
 * description, never from lethe's code. Given the stores' contents and the identities a request
 * names, it follows links breadth-first to the identities reachable, finds the records each store
 * holds of them (and, by omission, the ones no spelling reaches), says which are exempt, and what
 * erasure leaves: deleted, masked (in masked form), rewritten, or unchanged.
 */

/** What the stores hold: per store id, DynamoDB items by key id, or S3 object bodies by key. */
export type State = Map<string, Map<string, Item | Buffer>>;

/** The identities of a request: per type, each normalised value with the raw forms it is known in. */
export type Identities = Map<TypeName, Map<string, Set<string>>>;

export type LocatedRecord =
  | { kind: 'item'; id: string; item: Item; exemption?: ExemptionSpec }
  | { kind: 'object'; key: string; body: Buffer; exemption?: ExemptionSpec }
  | {
      kind: 'line';
      objectKey: string;
      lineNo: number;
      record: Record<string, unknown>;
      exemption?: ExemptionSpec;
    };

export interface Location {
  identities: Identities;
  /** Per store id, the records a request with these identities locates. */
  stores: Map<string, LocatedRecord[]>;
}

/** The stores' contents before any request, from the world's records. */
export function initialState(world: Pick<World, 'stores' | 'records'>): State {
  const state: State = new Map(world.stores.map((store) => [store.id, new Map()]));
  const lines = new Map<string, string[]>();
  for (const record of world.records) {
    const store = world.stores.find((candidate) => candidate.id === record.store);
    const contents = state.get(record.store);
    if (!store || !contents) continue;
    if (record.kind === 'item' && store.kind === 'dynamodb')
      contents.set(itemId(store, record.item), record.item);
    if (record.kind === 'object') contents.set(record.key, Buffer.from(record.body, 'utf8'));
    if (record.kind === 'line') {
      const key = `${record.store}\u0000${record.objectKey}`;
      lines.set(key, [...(lines.get(key) ?? []), record.text]);
    }
  }
  for (const store of world.stores) {
    if (store.kind !== 'lines') continue;
    for (const object of store.objects) {
      const texts = lines.get(`${store.id}\u0000${object.key}`);
      if (!texts) continue;
      const body = `${texts.join('\n')}${object.trailingNewline ? '\n' : ''}`;
      state.get(store.id)?.set(object.key, Buffer.from(body, 'utf8'));
    }
  }
  return state;
}

/** Who each record of the world belongs to, by store and id (lines by their text), for messages and checks. */
export function owners(world: Pick<World, 'stores' | 'records'>): Map<string, RecordSpec['owner']> {
  const result = new Map<string, RecordSpec['owner']>();
  for (const record of world.records) {
    const store = world.stores.find((candidate) => candidate.id === record.store);
    if (record.kind === 'item' && store?.kind === 'dynamodb') {
      result.set(`${record.store}|${itemId(store, record.item)}`, record.owner);
    } else if (record.kind === 'object') {
      result.set(`${record.store}|${record.key}`, record.owner);
    } else if (record.kind === 'line') {
      result.set(`${record.store}|line|${record.text}`, record.owner);
    }
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// Values as JSON

/** A DynamoDB value as plain JSON, as the data map's exemptions and an export see it. */
export function toJson(value: AttributeValue | undefined): unknown {
  if (value === undefined) return undefined;
  if (value.S !== undefined) return value.S;
  if (value.N !== undefined) return Number(value.N);
  if (value.B !== undefined) return Buffer.from(value.B).toString('base64');
  if (value.BOOL !== undefined) return value.BOOL;
  if (value.NULL !== undefined) return null;
  if (value.L !== undefined) return value.L.map(toJson);
  if (value.SS !== undefined) return [...value.SS];
  if (value.M !== undefined) return itemJson(value.M);
  return undefined;
}

export function itemJson(item: Item): Record<string, unknown> {
  return Object.fromEntries(Object.entries(item).map(([name, value]) => [name, toJson(value)]));
}

/** Lines of a JSON-lines body: split on line breaks, the empty piece after a final break dropped. */
export function bodyLines(body: Buffer): string[] {
  const text = body.toString('utf8');
  const lines = text.split('\n');
  if (text.endsWith('\n')) lines.pop();
  return lines;
}

function parseObjectLine(text: string): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Locating

function addIdentity(identities: Identities, type: TypeName, value: string, raw: string): boolean {
  let values = identities.get(type);
  if (!values) {
    values = new Map();
    identities.set(type, values);
  }
  const raws = values.get(value);
  if (!raws) {
    values.set(value, new Set([raw]));
    return true;
  }
  if (raws.has(raw)) return false;
  raws.add(raw);
  return true;
}

/** Every string a type's identities are located by (each value and its spellings). */
function spellingsByType(
  world: Pick<World, 'declarations'>,
  identities: Identities,
  type: TypeName,
): Set<string> {
  const all = new Set<string>();
  for (const [value, raws] of identities.get(type) ?? []) {
    for (const spelling of spellingsOf(world.declarations[type], value, raws)) all.add(spelling);
  }
  return all;
}

/** "An N key is queried only with a numeric value": a spelling that is no number cannot match. */
const NUMBER = /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/;

/** Whether a key attribute holding `stored` is found by a Query for `spelling` (DynamoDB matches exactly). */
function keyMatches(stored: AttributeValue | undefined, type: 'S' | 'N' | 'B', spelling: string): boolean {
  if (stored === undefined) return false;
  switch (type) {
    case 'S':
      return stored.S === spelling;
    case 'N':
      return stored.N !== undefined && NUMBER.test(spelling) && Number(stored.N) === Number(spelling);
    case 'B':
      return stored.B !== undefined && Buffer.from(stored.B).equals(Buffer.from(spelling, 'utf8'));
  }
}

function hasType(value: AttributeValue | undefined, type: 'S' | 'N' | 'B'): boolean {
  return value !== undefined && value[type] !== undefined;
}

function itemLocated(
  world: Pick<World, 'declarations'>,
  store: DynamoSpec,
  item: Item,
  identities: Identities,
): boolean {
  return store.locate.some((rule) => {
    const index =
      rule.index === undefined ? undefined : store.indexes.find((candidate) => candidate.name === rule.index);
    const keyType = index ? index.partitionKey.type : store.partitionKey.type;
    // An item is in a GSI only when it holds the index's key attributes with their declared types.
    if (
      index &&
      !(
        hasType(item[index.partitionKey.name], keyType) &&
        (!index.sortKey || hasType(item[index.sortKey.name], index.sortKey.type))
      )
    ) {
      return false;
    }
    const spellings = spellingsByType(world, identities, rule.identity);
    return [...spellings].some((spelling) => keyMatches(item[rule.attribute], keyType, spelling));
  });
}

function objectLocated(
  world: Pick<World, 'declarations'>,
  store: PrefixSpec,
  key: string,
  identities: Identities,
): boolean {
  return store.locate.some((rule) => {
    const [before, after] = rule.prefix.split(`{${rule.identity}}`);
    // "A spelling that cannot be an S3 prefix segment (it holds /) is skipped."
    return [...spellingsByType(world, identities, rule.identity)]
      .filter((spelling) => !spelling.includes('/'))
      .some((spelling) => key.startsWith(`${before}${spelling}${after}`));
  });
}

function lineLocated(
  world: Pick<World, 'declarations'>,
  store: LinesSpec,
  objectKey: string,
  record: Record<string, unknown>,
  identities: Identities,
): boolean {
  // "The subject's lines are those whose top-level field normalises to one of the subject's values."
  return store.locate.some(
    (rule) =>
      objectKey.startsWith(rule.prefix) &&
      Object.hasOwn(record, rule.field) &&
      identities
        .get(rule.identity)
        ?.has(normalise(world.declarations[rule.identity], record[rule.field]) ?? '\u0000') === true,
  );
}

/** "The first matching exemption of a store applies"; S3 exemptions cover the whole store. */
function exemptionOf(store: StoreSpec, record?: Record<string, unknown>): ExemptionSpec | undefined {
  return store.exemptions.find((exemption) => {
    const when = exemption.when;
    if (!when) return true;
    if (!record) return false;
    const value = record[when.attribute];
    if (when.exists !== undefined) return (value !== undefined && value !== null) === when.exists;
    if (when.equals !== undefined) return value === when.equals;
    return when.in?.some((candidate) => candidate === value) ?? false;
  });
}

/** The records of one store the identities locate, with their exemptions. */
function locateStore(
  world: Pick<World, 'declarations'>,
  store: StoreSpec,
  contents: Map<string, Item | Buffer>,
  identities: Identities,
): LocatedRecord[] {
  const located: LocatedRecord[] = [];
  for (const [id, content] of contents) {
    switch (store.kind) {
      case 'dynamodb': {
        const item = content as Item;
        if (!itemLocated(world, store, item, identities)) continue;
        const exemption = exemptionOf(store, itemJson(item));
        located.push({ kind: 'item', id, item, ...(exemption ? { exemption } : {}) });
        break;
      }
      case 'prefix': {
        if (!objectLocated(world, store, id, identities)) continue;
        const exemption = exemptionOf(store);
        located.push({
          kind: 'object',
          key: id,
          body: content as Buffer,
          ...(exemption ? { exemption } : {}),
        });
        break;
      }
      case 'lines': {
        const exemption = exemptionOf(store);
        bodyLines(content as Buffer).forEach((text, index) => {
          const record = parseObjectLine(text);
          if (!record || !lineLocated(world, store, id, record, identities)) return;
          located.push({
            kind: 'line',
            objectKey: id,
            lineNo: index + 1,
            record,
            ...(exemption ? { exemption } : {}),
          });
        });
        break;
      }
    }
  }
  return located;
}

/** The raw values a located record's links hold: strings, or lists (and string sets) of strings. */
function linkRaws(store: StoreSpec, record: LocatedRecord): { type: TypeName; raw: string }[] {
  if (store.kind === 'prefix') return [];
  const found: { type: TypeName; raw: string }[] = [];
  for (const link of store.links) {
    let raws: unknown[] = [];
    if (record.kind === 'item') {
      const value = record.item[link.attribute];
      // "Once masked, the record holds no other attribute that locates or links the subject": a
      // link in the masked form of its mask rule (hmac:<hex>) reveals nothing.
      const mask =
        store.kind === 'dynamodb' && store.erase.action === 'mask'
          ? store.erase.fields.find((field) => field.attribute === link.attribute)
          : undefined;
      if (mask && value !== undefined && isMasked(mask, value)) continue;
      if (value?.S !== undefined) raws = [value.S];
      else if (value?.SS !== undefined) raws = value.SS;
      else if (value?.L !== undefined) raws = value.L.map((element) => element.S);
    } else if (record.kind === 'line' && Object.hasOwn(record.record, link.attribute)) {
      const value = record.record[link.attribute];
      raws = Array.isArray(value) ? value : [value];
    }
    for (const raw of raws) if (typeof raw === 'string') found.push({ type: link.identity, raw });
  }
  return found;
}

/**
 * What a request naming `given` locates: links followed breadth-first until no new identity (or
 * spelling) appears, exempt records revealing identities too; then every store located with all of
 * them. Given values are raw, as a person typed them; `known` are identities the request resolved
 * before (a retry starts from them: "a request's identity set only grows").
 */
export function locate(
  world: Pick<World, 'declarations' | 'stores'>,
  state: State,
  given: { type: TypeName; value: string }[],
  known: Identities = new Map(),
): Location {
  const identities: Identities = new Map();
  for (const [type, values] of known) {
    for (const [value, raws] of values) for (const raw of raws) addIdentity(identities, type, value, raw);
  }
  for (const identity of given) {
    const value = normalise(world.declarations[identity.type], identity.value);
    if (value === undefined)
      throw new Error(`the model was asked for an invalid ${identity.type}: ${identity.value}`);
    addIdentity(identities, identity.type, value, identity.value);
  }
  for (let changed = true; changed; ) {
    changed = false;
    for (const store of world.stores) {
      for (const record of locateStore(world, store, state.get(store.id) ?? new Map(), identities)) {
        for (const { type, raw } of linkRaws(store, record)) {
          const value = normalise(world.declarations[type], raw);
          if (value !== undefined && addIdentity(identities, type, value, raw)) changed = true;
        }
      }
    }
  }
  return {
    identities,
    stores: new Map(
      world.stores.map((store) => [
        store.id,
        locateStore(world, store, state.get(store.id) ?? new Map(), identities),
      ]),
    ),
  };
}

/** How many identities (type and normalised value) a location holds. */
export function identityCount(location: Location): number {
  return [...location.identities.values()].reduce((sum, values) => sum + values.size, 0);
}

// ---------------------------------------------------------------------------------------------
// Erasure

/** A value the model cannot know exactly (the hash of a list): any value of this form will do. */
export interface Pattern {
  pattern: RegExp;
}
export type ExpectedItem = Record<string, AttributeValue | Pattern>;
export type ExpectedState = Map<string, Map<string, ExpectedItem | Item | Buffer>>;

const MASKED_FORM = { hash: /^sha256:[0-9a-f]{64}$/, hmac: /^hmac:[0-9a-f]{64}$/ } as const;

/** Whether an attribute is in the masked form of its rule ("absent for remove, sha256:<64 hex> for hash, …"). */
function isMasked(field: MaskField, value: AttributeValue | undefined): boolean {
  if (value === undefined) return true;
  switch (field.with) {
    case 'remove':
      return false;
    case 'hash':
    case 'hmac':
      return value.S !== undefined && MASKED_FORM[field.with].test(value.S);
    case 'fixed':
      return value.S === field.value;
  }
}

/** The masked form of one attribute: exact for strings, a pattern where the docs do not say what is hashed. */
function maskedValue(
  field: MaskField,
  value: AttributeValue,
  maskKey: Buffer,
): AttributeValue | Pattern | undefined {
  switch (field.with) {
    case 'remove':
      return undefined;
    case 'fixed':
      return { S: field.value ?? '' };
    case 'hash':
      return value.S !== undefined
        ? { S: `sha256:${createHash('sha256').update(value.S, 'utf8').digest('hex')}` }
        : { pattern: MASKED_FORM.hash };
    case 'hmac':
      return value.S !== undefined
        ? { S: `hmac:${createHmac('sha256', maskKey).update(value.S, 'utf8').digest('hex')}` }
        : { pattern: MASKED_FORM.hmac };
  }
}

/** An item after masking: masked attributes in masked form, every other attribute as it was. */
export function maskItem(fields: readonly MaskField[], item: Item, maskKey: Buffer): ExpectedItem {
  const masked: ExpectedItem = { ...item };
  for (const field of fields) {
    const value = item[field.attribute];
    if (value === undefined || isMasked(field, value)) continue;
    const replacement = maskedValue(field, value, maskKey);
    if (replacement === undefined) delete masked[field.attribute];
    else masked[field.attribute] = replacement;
  }
  return masked;
}

/** Per store, what Erase should report: records deleted (lines removed), masked, and kept by exemptions. */
export interface ErasureCounts {
  located: number;
  erased: number;
  masked: number;
  exempted: number;
}

/** What the stores hold after an erasure of the location, and the counts per store. */
export function erasure(
  world: Pick<World, 'stores'>,
  state: State,
  location: Location,
  maskKey: Buffer,
): { expected: ExpectedState; counts: Map<string, ErasureCounts> } {
  const expected: ExpectedState = new Map(
    [...state].map(([storeId, contents]) => [storeId, new Map(contents)]),
  );
  const counts = new Map<string, ErasureCounts>();
  for (const store of world.stores) {
    const located = location.stores.get(store.id) ?? [];
    const contents = expected.get(store.id) ?? new Map();
    const count: ErasureCounts = { located: located.length, erased: 0, masked: 0, exempted: 0 };
    counts.set(store.id, count);
    const removedLines = new Map<string, Set<number>>();
    for (const record of located) {
      if (record.exemption) {
        count.exempted += 1;
        continue;
      }
      switch (record.kind) {
        case 'item':
          if (store.kind === 'dynamodb' && store.erase.action === 'mask') {
            contents.set(record.id, maskItem(store.erase.fields, record.item, maskKey));
            count.masked += 1;
          } else {
            contents.delete(record.id);
            count.erased += 1;
          }
          break;
        case 'object':
          contents.delete(record.key);
          count.erased += 1;
          break;
        case 'line':
          removedLines.set(
            record.objectKey,
            new Set([...(removedLines.get(record.objectKey) ?? []), record.lineNo]),
          );
          count.erased += 1;
          break;
      }
    }
    // "rewrite each object without the subject's lines": every other line byte for byte, the final
    // line break kept as it was; an object left with no line is deleted.
    for (const [key, removed] of removedLines) {
      const body = state.get(store.id)?.get(key) as Buffer;
      const kept = bodyLines(body).filter((_, index) => !removed.has(index + 1));
      if (kept.length === 0) contents.delete(key);
      else
        contents.set(
          key,
          Buffer.from(`${kept.join('\n')}${body.toString('utf8').endsWith('\n') ? '\n' : ''}`, 'utf8'),
        );
    }
  }
  return { expected, counts };
}

// ---------------------------------------------------------------------------------------------
// Access

/** One record as the export's data/<store>.json lists it. */
export interface ExportedRecord {
  key: unknown;
  data?: unknown;
  file?: string;
  size?: number;
}

function plainKey(value: AttributeValue | undefined): string | number | undefined {
  if (value?.S !== undefined) return value.S;
  if (value?.N !== undefined) return Number(value.N);
  if (value?.B !== undefined) return Buffer.from(value.B).toString('base64');
  return undefined;
}

/** What an export of the location holds per store: the records of data/<store>.json and the files of objects. */
export function exportOf(
  world: Pick<World, 'stores'>,
  location: Location,
): Map<string, { records: ExportedRecord[]; files: Map<string, Buffer> }> {
  const result = new Map<string, { records: ExportedRecord[]; files: Map<string, Buffer> }>();
  for (const store of world.stores) {
    const records: ExportedRecord[] = [];
    const files = new Map<string, Buffer>();
    for (const record of location.stores.get(store.id) ?? []) {
      switch (record.kind) {
        case 'item': {
          if (store.kind !== 'dynamodb') break;
          const key: Record<string, unknown> = {
            [store.partitionKey.name]: plainKey(record.item[store.partitionKey.name]),
          };
          if (store.sortKey) key[store.sortKey.name] = plainKey(record.item[store.sortKey.name]);
          records.push({ key, data: itemJson(record.item) });
          break;
        }
        case 'object': {
          const file = `files/${store.id}/${record.key}`;
          records.push({ key: record.key, file, size: record.body.length });
          files.set(file, record.body);
          break;
        }
        case 'line':
          records.push({ key: `${record.objectKey}#L${record.lineNo}`, data: record.record });
          break;
      }
    }
    result.set(store.id, { records, files });
  }
  return result;
}
