import type { LocatedField } from './identities';
import { type FieldProfile, profileRecords, profileValues } from './profile';
import type { BucketSample } from './sample';
import { shapeOfString } from './shapes';

/**
 * S3 proposals: per-subject folders found in the keys (`calls/+49…/` becomes `calls/{phone}/`)
 * and JSON-lines objects shared by many subjects, grouped by their top folder.
 */

const SUBJECT_SEGMENT_SHAPES = new Set<string>([
  'email',
  'phone-e164',
  'phone-international',
  'phone-national',
  'uuid',
  'imei',
  'opaque-id',
]);

/** Keys under one fixed folder whose next segment is per subject. */
export interface SubjectFolders {
  /** The fixed folders before the subject's segment, with a trailing "/" ("calls/"). */
  prefix: string;
  keys: number;
  /** The subject segments as a field, named after the folder they are in. */
  segment: LocatedField;
}

/** Objects of one structured format under one top folder, their lines or rows profiled as fields. */
export interface SharedObjects {
  prefix: string;
  /** Only JSON-lines objects can be located in; the fields of the others are reported. */
  format: 'json-lines' | 'json' | 'csv';
  objects: number;
  fields: LocatedField[];
}

/** A key segment that may hold something of a person's: never written as it is. */
const personal = (segment: string) => {
  const shape = shapeOfString(segment);
  return (
    SUBJECT_SEGMENT_SHAPES.has(shape) || shape === 'name' || shape === 'free-text' || shape === 'ip-address'
  );
};

const folderOf = (key: string) => key.slice(0, key.lastIndexOf('/') + 1);

/**
 * Groups keys by the fixed folders before their first per-subject segment. A group is kept when
 * most of its segments look like identities (an address, a number, an id) and they differ.
 */
export function subjectFolders(bucket: BucketSample): SubjectFolders[] {
  const groups = new Map<string, { keys: number; segments: string[] }>();
  for (const key of bucket.keys) {
    const folders = key.split('/').slice(0, -1);
    const at = folders.findIndex((segment) => SUBJECT_SEGMENT_SHAPES.has(shapeOfString(segment)));
    // The fixed folders before it go into the draft as they are: never one that looks like a person's.
    if (at < 0 || folders.slice(0, at).some(personal)) continue;
    const prefix = folders
      .slice(0, at)
      .map((segment) => `${segment}/`)
      .join('');
    const group = groups.get(prefix) ?? { keys: 0, segments: [] };
    group.keys += 1;
    group.segments.push(folders[at] as string);
    groups.set(prefix, group);
  }
  return [...groups.entries()].flatMap(([prefix, group]) => {
    const distinct = new Set(group.segments).size;
    const parent = prefix.split('/').filter(Boolean).pop() ?? bucket.name;
    const profile = profileValues(parent, group.segments);
    // a single folder is a folder, not a subject's
    if (distinct < 2 && group.keys < 2) return [];
    return [{ prefix, keys: group.keys, segment: { store: bucket.name, profile } }];
  });
}

/** JSON-lines, JSON and CSV objects grouped by top folder and format, their records profiled. */
export function sharedObjects(bucket: BucketSample): SharedObjects[] {
  const groups = new Map<
    string,
    { prefix: string; format: SharedObjects['format']; objects: number; records: Record<string, unknown>[] }
  >();
  for (const object of bucket.objects) {
    const { format } = object;
    if (format !== 'json-lines' && format !== 'json' && format !== 'csv') continue;
    const top = object.key.includes('/') ? (object.key.split('/')[0] ?? '') : '';
    // The top folder goes into the draft as a prefix: never one that looks like a person's.
    const prefix = top === '' || personal(top) ? '' : `${top}/`;
    const group = groups.get(`${format} ${prefix}`) ?? { prefix, format, objects: 0, records: [] };
    group.objects += 1;
    group.records.push(...object.records);
    groups.set(`${format} ${prefix}`, group);
  }
  return [...groups.values()].map(({ prefix, format, ...group }) => ({
    prefix,
    format,
    objects: group.objects,
    fields: profileRecords(group.records).map((profile: FieldProfile) => ({ store: bucket.name, profile })),
  }));
}

/** How keys are laid out, with counts, values replaced by their shapes: "calls/{phone}/*.wav". */
export function keyShapes(
  bucket: BucketSample,
  folders: readonly SubjectFolders[],
  shared: readonly SharedObjects[],
): { shape: string; keys: number }[] {
  const counts = new Map<string, number>();
  // Only folders the draft names anyway are shown as they are: the fixed folders before subject
  // folders and the top folders of shared objects. Every other segment is shown by its shape, so
  // no value in a key (a name, an id) is ever printed.
  const named = new Set([
    ...folders.flatMap((group) => group.prefix.split('/').filter(Boolean)),
    ...shared.map((group) => group.prefix.replace(/\/$/, '')).filter(Boolean),
  ]);
  const structural = (segment: string) => named.has(segment);
  for (const key of bucket.keys) {
    const segments = key.split('/');
    const file = segments.pop() ?? '';
    const folder = folderOf(key);
    const subject = folders.find((group) => folder.startsWith(group.prefix) && group.segment.identity);
    const shown = segments.map((segment, index) => {
      if (subject && index === subject.prefix.split('/').length - 1) return `{${subject.segment.identity}}`;
      if (structural(segment)) return segment;
      const shape = shapeOfString(segment);
      return `{${shape === 'timestamp' || shape === 'number' ? shape : 'folder'}}`;
    });
    const extension = /\.([A-Za-z0-9]{1,8})$/.exec(file)?.[1];
    const shape = [...shown, extension ? `*.${extension.toLowerCase()}` : '*'].join('/');
    counts.set(shape, (counts.get(shape) ?? 0) + 1);
  }
  return [...counts.entries()]
    .map(([shape, keys]) => ({ shape, keys }))
    .sort((a, b) => b.keys - a.keys)
    .slice(0, 20);
}
