import { isNormalisedForm, PHONE_SHAPES, shapeOf, type ValueShape } from './shapes';

/**
 * What a field (a DynamoDB attribute, a JSON-lines field, a key segment) holds, judged from its
 * name and the shapes of the values sampled. Identity classes are what a subject can be found by.
 */
export type FieldClass =
  | 'email'
  | 'phone'
  | 'ip-address'
  | 'cookie-id'
  | 'device-id'
  | 'imei'
  | 'subject-id'
  | 'id'
  | 'name'
  | 'free-text'
  | 'address'
  | 'timestamp'
  | 'user-agent'
  | 'other';

/** Classes a subject is located by: each becomes an identity type in the draft. */
export const IDENTITY_CLASSES: readonly FieldClass[] = [
  'email',
  'phone',
  'cookie-id',
  'device-id',
  'imei',
  'subject-id',
];

/** How sure discovery is of a classification, and what it rests on. */
export interface Classification {
  class: FieldClass;
  /** 0 to 1: the share of values of the shape, lowered when the name does not agree. */
  confidence: number;
  basis: 'name' | 'values' | 'name and values';
}

/** Values kept per field to find links (values of one field that are keys of another); never shown. */
const MAX_KEPT_VALUES = 10_000;
const MAX_RAW_VALUES = 500;

/** The shapes and counts of one field across the records sampled. */
export interface FieldProfile {
  name: string;
  /** Records that have the field. */
  present: number;
  /** Values seen (each element of a list counts). */
  values: number;
  /** True when some record holds a list or set of values. */
  list: boolean;
  shapes: Partial<Record<ValueShape, number>>;
  /** String values not in the form lethe normalises their type to (case, spaces, national phone form). */
  notNormalised: number;
  /** Keys of map values (`line1`, `city`, …), which can tell an address. */
  mapKeys: Set<string>;
  /** Values in comparable form (trimmed, lower case), for overlaps between fields; never printed. */
  comparable: Set<string>;
  /** The first string values as they are, for the form of ids (their pattern); never printed. */
  raw: string[];
  classification: Classification;
}

/** Profiles of all top-level fields of `records`, by name, in the order first seen. */
export function profileRecords(records: readonly Record<string, unknown>[]): FieldProfile[] {
  const profiles = new Map<string, FieldProfile>();
  for (const record of records) {
    for (const [name, value] of Object.entries(record)) {
      let profile = profiles.get(name);
      if (!profile) {
        profile = emptyProfile(name);
        profiles.set(name, profile);
      }
      addValue(profile, value);
    }
  }
  return [...profiles.values()].map((profile) => ({ ...profile, classification: classify(profile) }));
}

/** A profile of loose string values (key segments), classified under `name`. */
export function profileValues(name: string, values: readonly string[]): FieldProfile {
  const profile = emptyProfile(name);
  for (const value of values) addValue(profile, value);
  return { ...profile, classification: classify(profile) };
}

function emptyProfile(name: string): FieldProfile {
  return {
    name,
    present: 0,
    values: 0,
    list: false,
    shapes: {},
    notNormalised: 0,
    mapKeys: new Set(),
    comparable: new Set(),
    raw: [],
    classification: { class: 'other', confidence: 0, basis: 'values' },
  };
}

function addScalar(profile: FieldProfile, value: unknown): void {
  const shape = shapeOf(value);
  profile.values += 1;
  profile.shapes[shape] = (profile.shapes[shape] ?? 0) + 1;
  if (typeof value === 'string') {
    if (!isNormalisedForm(shape, value)) profile.notNormalised += 1;
    if (profile.comparable.size < MAX_KEPT_VALUES) profile.comparable.add(value.trim().toLowerCase());
    if (profile.raw.length < MAX_RAW_VALUES) profile.raw.push(value.trim());
  } else if (shape === 'map' && value !== null && typeof value === 'object') {
    for (const key of Object.keys(value)) profile.mapKeys.add(key);
  }
}

function addValue(profile: FieldProfile, value: unknown): void {
  profile.present += 1;
  if (Array.isArray(value) || value instanceof Set) {
    profile.list = true;
    for (const element of value) addScalar(profile, element);
  } else {
    addScalar(profile, value);
  }
}

const HINTS: { class: FieldClass; name: RegExp }[] = [
  { class: 'email', name: /e-?mail/i },
  { class: 'phone', name: /phone|mobile|msisdn|^tel$|telephone|^fax|handy/i },
  { class: 'ip-address', name: /(^|[^a-z])ip($|[^a-z]|addr)|^ip|remote_?addr|client_?ip/i },
  { class: 'imei', name: /imei/i },
  { class: 'user-agent', name: /user_?agent|^ua$/i },
  { class: 'cookie-id', name: /cookie/i },
  { class: 'device-id', name: /device|idfa|gaid|adid|advertising_?id/i },
  {
    class: 'subject-id',
    name: /^(uid|sub)$|(user|customer|cust|member|account|client|subscriber|patient|candidate|applicant|player|person|visitor|guest|profile|employee|driver|rider|student|buyer|shopper|kunde|tenant|citizen)s?[-_ ]?(id|ids|no|num|number|key|ref)?$/i,
  },
  {
    class: 'free-text',
    name: /message|notes?$|comment|body$|text$|transcript|description|feedback|bio$|remarks?$|content$/i,
  },
  { class: 'address', name: /address|street|postcode|zip|^addr/i },
  {
    class: 'name',
    name: /(^|[a-z_])(first|last|full|sur|given|family|nick|display|middle|contact|shipping|billing)?_?name$|^name$/i,
  },
  { class: 'timestamp', name: /(At|_at|Time|_time|Date|_date|timestamp|_ts|On)$/ },
];
/** Names of fields that hold words about things, not people, even when they look like a name. */
const THINGS =
  /company|title|role|brand|product|city|country|campaign|org|department|job|position|label|category|type|status|channel|topic|locale|currency|sku|plan|tier|region|source|stage/i;
/** Names that end like a person's name field but name a thing. */
const NOT_A_PERSON =
  /(file|bucket|table|host|company|product|campaign|brand|shop|store|domain|user|app|device|event|display|item|sku|title|key)_?name$/i;

/** The class a field's name suggests, if any. */
export function nameHint(name: string): FieldClass | undefined {
  for (const hint of HINTS) {
    if (!hint.name.test(name)) continue;
    if (hint.class === 'name' && NOT_A_PERSON.test(name)) continue;
    if (hint.class === 'address' && /e-?mail|ip/i.test(name)) continue;
    return hint.class;
  }
  if (/(^|[a-z_])(id|ids|key|ref)$/i.test(name) || /Id$|Ids$|ID$/.test(name)) return 'id';
  return undefined;
}

/** The most common shape among non-empty values, phone spellings counted together, with its share. */
function dominantShape(profile: FieldProfile): { shape: ValueShape | 'phone'; share: number } | undefined {
  const counts = new Map<ValueShape | 'phone', number>();
  let total = 0;
  for (const [shape, count] of Object.entries(profile.shapes) as [ValueShape, number][]) {
    if (shape === 'empty') continue;
    const key = PHONE_SHAPES.includes(shape) ? 'phone' : shape;
    counts.set(key, (counts.get(key) ?? 0) + count);
    total += count;
  }
  const [best] = [...counts.entries()].sort((a, b) => b[1] - a[1]);
  return best && total > 0 ? { shape: best[0], share: best[1] / total } : undefined;
}

const DISTINCTIVE: Partial<Record<ValueShape | 'phone', FieldClass>> = {
  email: 'email',
  phone: 'phone',
  'ip-address': 'ip-address',
  imei: 'imei',
};

/** Classifies a profiled field by its name and the shapes of its values. */
export function classify(profile: FieldProfile): Classification {
  const hint = nameHint(profile.name);
  const dominant = dominantShape(profile);
  const share = dominant?.share ?? 0;
  const sure = (cls: FieldClass, agrees: boolean): Classification => ({
    class: cls,
    confidence: round(agrees ? Math.max(share, 0.9) : share * 0.85),
    basis: agrees ? 'name and values' : 'values',
  });
  if (dominant && share >= 0.6) {
    const distinctive = DISTINCTIVE[dominant.shape];
    if (distinctive) return sure(distinctive, hint === distinctive);
    if (dominant.shape === 'uuid' || dominant.shape === 'opaque-id') {
      const idClass: FieldClass[] = ['cookie-id', 'device-id', 'subject-id', 'imei'];
      if (hint && idClass.includes(hint)) return sure(hint, true);
      if (dominant.shape === 'uuid' && hint !== 'id') {
        // A UUID nobody named: most often a cookie or device id, but only a person can say.
        return { class: 'device-id', confidence: round(share * 0.5), basis: 'values' };
      }
      return { class: hint === 'id' ? 'id' : 'other', confidence: round(share * 0.7), basis: 'values' };
    }
    if (dominant.shape === 'timestamp') return sure('timestamp', hint === 'timestamp');
    if (dominant.shape === 'number' && hint === 'timestamp') return sure('timestamp', true);
    if (hint === 'user-agent') return sure('user-agent', true);
    if (
      dominant.shape === 'name' &&
      (hint === 'name' || (hint === undefined && share >= 0.8 && !THINGS.test(profile.name)))
    )
      return sure('name', hint === 'name');
    if (
      dominant.shape === 'free-text' &&
      (hint === 'free-text' || (hint === undefined && !THINGS.test(profile.name)))
    )
      return sure('free-text', hint === 'free-text');
  }
  if (
    hint === 'address' &&
    (dominant?.shape === 'map' || dominant?.shape === 'free-text' || dominant?.shape === 'text')
  )
    return { class: 'address', confidence: 0.7, basis: 'name' };
  if (
    dominant?.shape === 'map' &&
    ['line1', 'street', 'city', 'postcode', 'zip'].some((key) => profile.mapKeys.has(key))
  )
    return { class: 'address', confidence: 0.7, basis: 'values' };
  const textual = dominant && ['name', 'free-text', 'text', 'opaque-id'].includes(dominant.shape);
  if (hint === 'name' && textual) return { class: 'name', confidence: 0.6, basis: 'name' };
  if (hint === 'free-text' && textual) return { class: 'free-text', confidence: 0.6, basis: 'name' };
  return { class: 'other', confidence: 0, basis: 'values' };
}

const round = (n: number) => Math.round(n * 100) / 100;
