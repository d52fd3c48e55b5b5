import type { IdentityType, S3LocateRule } from '../datamap/schema';
import { keyShapes, sharedObjects, subjectFolders } from './buckets';
import {
  assignIdentityTypes,
  camelCase,
  idPattern,
  type LocatedField,
  likelyCountryCode,
  opaqueTypeName,
  overlap,
  singular,
} from './identities';
import type {
  Discovery,
  FieldReport,
  ProposedIdentityType,
  ProposedLink,
  ProposedStore,
  StoreReport,
} from './model';
import { type FieldClass, type FieldProfile, profileRecords } from './profile';
import type { BucketSample, ObjectFormat, TableSample } from './sample';
import { dynamoLocateRules, guessKeySchema, retentionAttribute } from './tables';

/**
 * From samples to a proposal: identity types, a store per table or bucket that holds identities,
 * its locate rules, links and categories, and a report of what was seen. Pure: it reads nothing.
 */

const CATEGORIES: Partial<Record<FieldClass, string>> = {
  email: 'user.contact.email',
  phone: 'user.contact.phone',
  name: 'user.contact.name',
  address: 'user.contact.address',
  'free-text': 'user.content.text',
  'ip-address': 'device.ip-address',
  'cookie-id': 'device.cookie-id',
  'device-id': 'device.id',
  imei: 'device.imei',
  'user-agent': 'device.user-agent',
  'subject-id': 'user.account',
};

const STORE_ID = /^[a-z][a-z0-9-]{0,62}$/;

/** A store id from a table or bucket name: lower case, dashes, starting with a letter. */
function storeIdFor(name: string, taken: Set<string>): string {
  let base = name
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  if (!/^[a-z]/.test(base)) base = `store-${base}`;
  base = base.slice(0, 56).replace(/-+$/, '') || 'store';
  let id = base;
  for (let n = 2; taken.has(id) || !STORE_ID.test(id); n += 1) id = `${base}-${n}`;
  taken.add(id);
  return id;
}

function fieldReport(field: LocatedField): FieldReport {
  const { profile } = field;
  return {
    name: profile.name,
    class: profile.classification.class,
    confidence: profile.classification.confidence,
    basis: profile.classification.basis,
    ...(field.identity ? { identity: field.identity } : {}),
    present: profile.present,
    values: profile.values,
    list: profile.list,
    shapes: profile.shapes,
    notNormalised: profile.values > 0 ? Math.round((profile.notNormalised / profile.values) * 100) / 100 : 0,
  };
}

const unclassifiedOf = (fields: readonly LocatedField[]) =>
  fields
    .filter(
      (field) =>
        field.profile.classification.class === 'other' &&
        !field.identity &&
        ((field.profile.shapes.text ?? 0) > 0 || (field.profile.shapes['opaque-id'] ?? 0) > 0),
    )
    .map((field) => field.profile.name);

const categoriesOf = (fields: readonly LocatedField[], extra: string[] = []) => {
  const categories = new Set(
    fields.flatMap((field) => {
      const category = CATEGORIES[field.profile.classification.class];
      return category ? [category] : [];
    }),
  );
  for (const category of extra) categories.add(category);
  return categories.size > 0 ? [...categories].sort() : ['user.unclassified'];
};

interface TableWork {
  sample: TableSample;
  fields: LocatedField[];
}
interface BucketWork {
  sample: BucketSample;
  folders: ReturnType<typeof subjectFolders>;
  shared: ReturnType<typeof sharedObjects>;
}

function tableStore(work: TableWork, id: string): { store?: ProposedStore; left?: string } {
  const { sample, fields } = work;
  if (!/^[A-Za-z0-9_.-]{3,255}$/.test(sample.name)) return { left: 'the name is no DynamoDB table name' };
  if (sample.items.length === 0) return { left: 'no items were read' };
  if (!fields.some((field) => field.identity)) return { left: 'no attribute holds an identity' };
  const keyGuessed = sample.keySchema === undefined;
  const keySchema = sample.keySchema ?? guessKeySchema(sample.items, fields);
  if (!keySchema) return { left: 'no attribute every item has could be its key' };
  const indexes = sample.indexes ?? [];
  const { locate, proposedIndexes, unlocated } = dynamoLocateRules(keySchema, indexes, keyGuessed, fields);
  if (locate.length === 0) return { left: 'its identity attributes cannot be keys of an index' };
  const notes = unlocated.map(
    (attribute) =>
      `${attribute} holds identities but is no key of the table or an index: locating never scans, so add a GSI on it to locate by it`,
  );
  const retentionFrom = retentionAttribute(
    sample.items,
    fields.map((field) => field.profile),
  );
  return {
    store: {
      id,
      kind: 'dynamodb',
      name: sample.name,
      keySchema,
      keyGuessed,
      indexes: [...indexes, ...proposedIndexes],
      proposedIndexes: proposedIndexes.map((index) => index.name),
      locate,
      links: [],
      categories: categoriesOf(fields),
      erase: 'delete',
      ...(retentionFrom ? { retentionFrom } : {}),
      notes,
    },
  };
}

function bucketStore(work: BucketWork, id: string): { store?: ProposedStore; left?: string } {
  const { sample, folders, shared } = work;
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(sample.name))
    return { left: 'the name is no S3 bucket name' };
  if (sample.keys.length === 0) return { left: 'the bucket is empty' };
  const prefixRules: S3LocateRule[] = folders.flatMap((group) =>
    group.segment.identity && group.prefix !== ''
      ? [{ identity: group.segment.identity, prefix: `${group.prefix}{${group.segment.identity}}/` }]
      : [],
  );
  const lineRules: S3LocateRule[] = shared
    .filter((group) => group.format === 'json-lines')
    .flatMap((group) =>
      group.fields
        .filter((field) => field.identity && !field.profile.list)
        .map((field) => ({
          identity: field.identity as string,
          jsonLines: { prefix: group.prefix, field: field.profile.name },
        })),
    );
  const notes: string[] = shared
    .filter((group) => group.format !== 'json-lines' && group.fields.some((field) => field.identity))
    .map(
      (group) =>
        `${group.format.toUpperCase()} objects under ${group.prefix || 'the bucket root'} hold identities, but lethe locates only in JSON-lines objects and per-subject folders: convert them, or keep them out of reach of requests knowingly`,
    );
  if (folders.some((group) => group.prefix === '' && group.segment.identity)) {
    notes.push(
      'some keys start with a per-subject folder: lethe needs a fixed folder before it ("calls/{phone}/"), so those keys are not located',
    );
  }
  const prefixKeys = folders
    .filter((group) => group.segment.identity)
    .reduce((sum, group) => sum + group.keys, 0);
  const lineObjects = shared
    .filter((group) => group.format === 'json-lines')
    .reduce((sum, group) => sum + group.objects, 0);
  const usePrefixes = prefixRules.length > 0 && (lineRules.length === 0 || prefixKeys >= lineObjects);
  const locate = usePrefixes ? prefixRules : lineRules;
  if (locate.length === 0)
    return { left: 'no per-subject folders or JSON-lines fields holding identities were found' };
  if (prefixRules.length > 0 && lineRules.length > 0) {
    notes.push(
      `the bucket holds both per-subject folders and shared JSON-lines objects; a store holds one or the other, so the ${usePrefixes ? 'JSON-lines' : 'folder'} rules were left out: describe them as a second store of their own bucket`,
    );
  }
  const formats = new Set(sample.objects.map((object) => object.format));
  const fileCategories = usePrefixes
    ? ['binary', 'parquet', 'unread'].some((format) => formats.has(format as ObjectFormat))
      ? ['user.content.files']
      : []
    : [];
  const fields = [...folders.map((group) => group.segment), ...shared.flatMap((group) => group.fields)];
  return {
    store: {
      id,
      kind: 's3',
      name: sample.name,
      keyGuessed: false,
      indexes: [],
      proposedIndexes: [],
      locate,
      links: [],
      categories: categoriesOf(fields, fileCategories),
      erase: usePrefixes ? 'delete' : 'rewrite',
      retentionFrom: { lastModified: true },
      notes,
    },
  };
}

/** Per identity type, the stores it locates and the field each is located by (for overlaps). */
function locatedValues(stores: readonly ProposedStore[], fieldsOf: Map<string, LocatedField[]>) {
  const byType = new Map<string, { store: string; profile?: FieldProfile }[]>();
  for (const store of stores) {
    for (const rule of store.locate) {
      const name =
        'attribute' in rule ? rule.attribute : 'jsonLines' in rule ? rule.jsonLines.field : undefined;
      const field = (fieldsOf.get(store.id) ?? []).find(
        (candidate) =>
          candidate.identity === rule.identity && (name === undefined || candidate.profile.name === name),
      );
      const list = byType.get(rule.identity) ?? [];
      list.push({ store: store.id, ...(field ? { profile: field.profile } : {}) });
      byType.set(rule.identity, list);
    }
  }
  return byType;
}

/**
 * Links: an identity attribute of a table that reveals an identity another store is located by,
 * where the table is found by something else (else the attribute reveals what was known).
 */
function proposeLinks(stores: ProposedStore[], fieldsOf: Map<string, LocatedField[]>): void {
  const located = locatedValues(stores, fieldsOf);
  for (const store of stores) {
    if (store.kind !== 'dynamodb') continue;
    for (const field of fieldsOf.get(store.id) ?? []) {
      if (!field.identity) continue;
      const targets = (located.get(field.identity) ?? []).filter((target) => target.store !== store.id);
      if (targets.length === 0) continue;
      const foundOtherwise = store.locate.some(
        (rule) =>
          !('attribute' in rule) || rule.identity !== field.identity || rule.attribute !== field.profile.name,
      );
      if (!foundOtherwise) continue;
      const link: ProposedLink = {
        identity: field.identity,
        attribute: field.profile.name,
        reaches: [...new Set(targets.map((target) => target.store))],
        matched: Math.max(
          0,
          ...targets.map((target) => (target.profile ? overlap(field.profile, target.profile) : 0)),
        ),
      };
      store.links.push(link);
    }
  }
}

function identityDeclarations(
  fields: readonly LocatedField[],
  stores: readonly ProposedStore[],
): ProposedIdentityType[] {
  const used = new Set(
    stores.flatMap((store) => [...store.locate, ...store.links].map((rule) => rule.identity)),
  );
  return [...used].sort().map((name) => {
    const typed = fields.filter((field) => field.identity === name);
    const cls = typed[0]?.profile.classification.class;
    const notes: string[] = [];
    let declaration: IdentityType;
    if (cls === 'email') declaration = { normalise: 'email', caseSensitive: true };
    else if (cls === 'phone') {
      declaration = { normalise: 'e164', caseSensitive: true };
      const code = likelyCountryCode(typed.map((field) => field.profile));
      if (code) {
        declaration.defaultCountryCode = code;
        notes.push(
          `national numbers (without a country code) were seen, and +${code} looks like their country: confirm it, or remove defaultCountryCode to refuse national numbers`,
        );
      }
    } else {
      const uuids = typed.some((field) => (field.profile.shapes.uuid ?? 0) > field.profile.values / 2);
      declaration = uuids
        ? { normalise: 'opaque', caseSensitive: false }
        : { normalise: 'opaque', caseSensitive: true };
    }
    const patternSeen =
      cls && !['email', 'phone'].includes(cls) ? idPattern(typed.map((field) => field.profile)) : undefined;
    return { name, declaration, ...(patternSeen ? { patternSeen } : {}), notes };
  });
}

/** Proposes a data map from table and bucket samples. */
export function propose(
  tables: readonly TableSample[],
  buckets: readonly BucketSample[],
  context: { source: string; sample: number },
): Discovery {
  const tableWork: TableWork[] = tables.map((sample) => ({
    sample,
    fields: profileRecords(sample.items).map((profile) => ({ store: sample.name, profile })),
  }));
  const bucketWork: BucketWork[] = buckets.map((sample) => ({
    sample,
    folders: subjectFolders(sample),
    shared: sharedObjects(sample),
  }));
  const allFields = [
    ...tableWork.flatMap((work) => work.fields),
    ...bucketWork.flatMap((work) => [
      ...work.folders.map((group) => group.segment),
      ...work.shared.flatMap((group) => group.fields),
    ]),
  ];
  assignIdentityTypes(allFields);
  // Per-subject folders whose segments matched no identity field are a type of their own.
  for (const work of bucketWork) {
    for (const group of work.folders) {
      const { segment } = group;
      const shapes = segment.profile.shapes;
      const idLike = (shapes['opaque-id'] ?? 0) + (shapes.uuid ?? 0) >= segment.profile.values * 0.8;
      if (!segment.identity && idLike && segment.profile.comparable.size >= 2) {
        segment.identity = opaqueTypeName(camelCase(singular(segment.profile.name)));
        segment.profile.classification = { class: 'subject-id', confidence: 0.5, basis: 'values' };
      }
    }
  }

  const taken = new Set<string>();
  const stores: ProposedStore[] = [];
  const report: StoreReport[] = [];
  const fieldsOf = new Map<string, LocatedField[]>();
  for (const work of tableWork) {
    const id = storeIdFor(work.sample.name, taken);
    const { store, left } = tableStore(work, id);
    if (store) {
      stores.push(store);
      fieldsOf.set(id, work.fields);
    } else taken.delete(id);
    report.push({
      ...(store ? { id } : {}),
      kind: 'dynamodb',
      name: work.sample.name,
      read: work.sample.items.length,
      ...(work.sample.itemCount !== undefined ? { itemCount: work.sample.itemCount } : {}),
      fields: work.fields.map(fieldReport),
      unclassified: unclassifiedOf(work.fields),
      problems: work.sample.problems,
      ...(left ? { left } : {}),
    });
  }
  for (const work of bucketWork) {
    const id = storeIdFor(work.sample.name, taken);
    const { store, left } = bucketStore(work, id);
    const fields = [
      ...work.folders.map((group) => group.segment),
      ...work.shared.flatMap((group) => group.fields),
    ];
    if (store) {
      stores.push(store);
      fieldsOf.set(id, fields);
    } else taken.delete(id);
    const formats: Partial<Record<ObjectFormat, number>> = {};
    for (const object of work.sample.objects) formats[object.format] = (formats[object.format] ?? 0) + 1;
    const badLines = work.sample.objects.reduce((sum, object) => sum + object.badLines, 0);
    report.push({
      ...(store ? { id } : {}),
      kind: 's3',
      name: work.sample.name,
      read: work.sample.objects.length,
      keysListed: work.sample.keys.length,
      moreKeys: work.sample.moreKeys,
      formats,
      keyShapes: keyShapes(work.sample, work.folders, work.shared),
      fields: fields.map(fieldReport),
      unclassified: unclassifiedOf(fields),
      problems: [
        ...work.sample.problems,
        ...(badLines > 0 ? [`${badLines} lines of JSON-lines objects are not JSON objects`] : []),
      ],
      ...(left ? { left } : {}),
    });
  }
  proposeLinks(stores, fieldsOf);
  return {
    source: context.source,
    sample: context.sample,
    identityTypes: identityDeclarations(allFields, stores),
    stores,
    report,
  };
}
