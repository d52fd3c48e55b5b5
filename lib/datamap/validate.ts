import type * as z from 'zod';
import { maskIssues } from './masking';
import { rightsIssues } from './rights';
import { type DataMap, type DynamoStore, dataMapSchema, type S3Store, type Store } from './schema';

/**
 * Validating a data map already read into plain values: the schema, then the rules across
 * fields. YAML parsing stays in load.ts, so what runs on Lambda (which reads the data map as
 * JSON) does not carry a YAML parser.
 */

/** One problem found in a data map: where it is and what to do about it. */
export interface DataMapIssue {
  /** Path inside the document, e.g. `stores[2].locate[0].index`. */
  path: string;
  /** 1-based line in the file, when the path exists in it. */
  line?: number;
  message: string;
}

/** One issue as a line: where it is (path and line, when known) and what to do. */
function describeIssue(issue: DataMapIssue): string {
  const where = `${issue.path}${issue.line ? `${issue.path ? ' ' : ''}(line ${issue.line})` : ''}`;
  return where ? `${where}: ${issue.message}` : issue.message;
}

/**
 * A data map that cannot be used. The message names the file and every issue with its path,
 * line and fix, so one run of the loader is enough to repair the file. Its first line (`summary`)
 * is complete on its own: the one issue, or how many there are and what to do about them; with
 * several, each follows on a line of its own (`details`).
 */
export class DataMapError extends Error {
  override readonly name = 'DataMapError';
  /** The first line: the file and the problem, or the number of problems, and the fix. */
  readonly summary: string;
  /** One line per issue when there are several; empty when the summary says it all. */
  readonly details: string[];
  constructor(
    readonly file: string,
    readonly issues: DataMapIssue[],
  ) {
    const summary =
      issues.length === 1
        ? `Invalid data map ${file}: ${describeIssue(issues[0]!)}`
        : `Invalid data map ${file}: ${issues.length} problems, each listed below with its path, line and fix; correct them all and run again`;
    const details = issues.length === 1 ? [] : issues.map((issue) => `  - ${describeIssue(issue)}`);
    super([summary, ...details].join('\n'));
    this.summary = summary;
    this.details = details;
  }
}

export type PathSegment = string | number;

function formatPath(path: readonly PathSegment[]): string {
  return path.reduce<string>((text, segment) => {
    if (typeof segment === 'number') return `${text}[${segment}]`;
    return text ? `${text}.${segment}` : segment;
  }, '');
}

function describeZodIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'unrecognized_keys':
      return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}: remove ${issue.keys.length > 1 ? 'them' : 'it'} or check the spelling (see docs/DATAMAP.md)`;
    case 'invalid_type':
      return issue.input === undefined
        ? `required: add ${describeExpected(issue.expected)} (see docs/DATAMAP.md)`
        : `expected ${describeExpected(issue.expected)}, got ${describeValue(issue.input)}`;
    case 'invalid_value': {
      const allowed = issue.values.map((v) => JSON.stringify(v)).join(', ');
      return issue.input === undefined
        ? `required: set it to ${issue.values.length > 1 ? 'one of ' : ''}${allowed}`
        : `expected ${issue.values.length > 1 ? 'one of ' : ''}${allowed}, got ${describeValue(issue.input)}`;
    }
    case 'invalid_key':
      // A record key (an identity type name) that fails its own schema: say why.
      return `invalid name: ${issue.issues.map((inner) => inner.message).join('; ')}`;
    case 'invalid_union': {
      // A discriminated union (store kind, erase action) names its allowed values: say which.
      const options = 'options' in issue ? issue.options : undefined;
      if (issue.discriminator !== undefined && options && options.length > 0) {
        const input = issue.input as Record<string, unknown> | undefined;
        const given = input?.[issue.discriminator];
        const allowed = options.map((v) => JSON.stringify(v)).join(', ');
        return given === undefined
          ? `required: set ${issue.discriminator} to one of ${allowed}`
          : `expected one of ${allowed}, got ${describeValue(given)}`;
      }
      return 'matches none of the allowed forms; see docs/DATAMAP.md for the forms of this field';
    }
    default:
      return issue.message;
  }
}

function describeExpected(expected: string): string {
  switch (expected) {
    case 'object':
    case 'record':
      return 'a mapping';
    case 'array':
      return 'a list';
    default:
      return `a ${expected}`;
  }
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  return String(value);
}

/** Cross-field rules zod cannot express per field: references between parts of the map. */
function semanticIssues(dataMap: DataMap): { path: PathSegment[]; message: string }[] {
  const issues: { path: PathSegment[]; message: string }[] = [];
  const identityNames = Object.keys(dataMap.identityTypes);
  const checkIdentity = (identity: string, path: PathSegment[]) => {
    if (!Object.hasOwn(dataMap.identityTypes, identity)) {
      issues.push({
        path,
        message: `identity type "${identity}" is not declared in identityTypes; declare it or use one of: ${identityNames.join(', ')}`,
      });
    }
  };
  const seenIds = new Map<string, number>();
  const seenResources = new Map<string, number>();

  dataMap.stores.forEach((store: Store, index) => {
    const at = (...rest: PathSegment[]): PathSegment[] => ['stores', index, ...rest];
    const previous = seenIds.get(store.id);
    if (previous !== undefined) {
      issues.push({
        path: at('id'),
        message: `duplicate store id "${store.id}" (also stores[${previous}]); ids must be unique`,
      });
    }
    seenIds.set(store.id, index);
    const resource = store.kind === 'dynamodb' ? `table:${store.table}` : `bucket:${store.bucket}`;
    const sameResource = seenResources.get(resource);
    if (sameResource !== undefined && store.kind === 'dynamodb') {
      issues.push({
        path: at('table'),
        message: `table "${store.table}" is already described by stores[${sameResource}]; describe each table once`,
      });
    }
    seenResources.set(resource, index);

    store.links.forEach((link, linkIndex) => {
      checkIdentity(link.identity, at('links', linkIndex, 'identity'));
    });
    if (store.kind === 'dynamodb') issues.push(...dynamoIssues(store, dataMap, at, checkIdentity));
    else issues.push(...s3Issues(store, at, checkIdentity));
    for (const issue of rightsIssues(store, dataMap)) issues.push({ ...issue, path: at(...issue.path) });

    if (store.retention?.action === 'anonymise' && store.erase.action !== 'mask') {
      issues.push({
        path: at('retention', 'action'),
        message:
          "anonymise uses the store's mask rules: set erase.action to mask with fields, or use action: delete",
      });
    }
  });
  return issues;
}

type At = (...rest: PathSegment[]) => PathSegment[];
type CheckIdentity = (identity: string, path: PathSegment[]) => void;

function dynamoIssues(
  store: DynamoStore,
  dataMap: Pick<DataMap, 'identityTypes'>,
  at: At,
  checkIdentity: CheckIdentity,
) {
  const issues: { path: PathSegment[]; message: string }[] = [];
  const indexNames = store.indexes.map((index) => index.name);
  store.locate.forEach((rule, ruleIndex) => {
    checkIdentity(rule.identity, at('locate', ruleIndex, 'identity'));
    if (rule.index === undefined) {
      if (rule.attribute !== store.keySchema.partitionKey.name) {
        issues.push({
          path: at('locate', ruleIndex, 'attribute'),
          message: `"${rule.attribute}" is not the table's partition key ("${store.keySchema.partitionKey.name}"); name an index whose partition key it is, since locating never scans`,
        });
      }
      return;
    }
    const index = store.indexes.find((candidate) => candidate.name === rule.index);
    if (!index) {
      issues.push({
        path: at('locate', ruleIndex, 'index'),
        message: `index "${rule.index}" is not declared in indexes; declare it${indexNames.length ? ` or use one of: ${indexNames.join(', ')}` : ''}`,
      });
    } else if (index.partitionKey.name !== rule.attribute) {
      issues.push({
        path: at('locate', ruleIndex, 'attribute'),
        message: `"${rule.attribute}" is not the partition key of index "${index.name}" ("${index.partitionKey.name}")`,
      });
    }
  });
  if (store.erase.action === 'rewrite') {
    issues.push({
      path: at('erase', 'action'),
      message: 'rewrite applies to JSON-lines objects in S3; a DynamoDB store uses delete or mask',
    });
  }
  for (const issue of maskIssues(store, dataMap)) issues.push({ ...issue, path: at(...issue.path) });
  const from = store.retention?.from;
  if (from && 'lastModified' in from) {
    issues.push({
      path: at('retention', 'from'),
      message:
        'DynamoDB items have no LastModified; name the timestamp attribute: from: { attribute: createdAt }',
    });
  }
  const expiryIndex = store.retention?.expiryIndex;
  if (expiryIndex) {
    const index = store.indexes.find((candidate) => candidate.name === expiryIndex.name);
    if (!index) {
      issues.push({
        path: at('retention', 'expiryIndex', 'name'),
        message: `index "${expiryIndex.name}" is not declared in indexes`,
      });
    } else if (!index.sortKey || (from && 'attribute' in from && index.sortKey.name !== from.attribute)) {
      issues.push({
        path: at('retention', 'expiryIndex', 'name'),
        message: `index "${expiryIndex.name}" must have the retention attribute as its sort key`,
      });
    }
  }
  return issues;
}

function s3Issues(store: S3Store, at: At, checkIdentity: CheckIdentity) {
  const issues: { path: PathSegment[]; message: string }[] = [];
  // Rules over shared objects (JSON-lines or Parquet), and those of them that are Parquet.
  let shared = 0;
  let parquet = 0;
  store.locate.forEach((rule, ruleIndex) => {
    checkIdentity(rule.identity, at('locate', ruleIndex, 'identity'));
    if ('prefix' in rule) {
      const placeholders = [...rule.prefix.matchAll(/\{([^}]*)\}/g)].map((match) => match[1]);
      if (placeholders.length !== 1 || placeholders[0] !== rule.identity) {
        issues.push({
          path: at('locate', ruleIndex, 'prefix'),
          message: `the prefix needs exactly one placeholder {${rule.identity}} for the located identity, e.g. "calls/{${rule.identity}}/"`,
        });
      } else if (rule.prefix.startsWith(`{${rule.identity}}`) || !rule.prefix.endsWith('/')) {
        issues.push({
          path: at('locate', ruleIndex, 'prefix'),
          message:
            'the prefix must start with a fixed folder and end with "/", e.g. "calls/{phone}/", so one subject\'s prefix never matches another\'s',
        });
      }
    } else {
      shared += 1;
      if ('parquet' in rule) parquet += 1;
    }
  });
  if (shared > 0 && shared !== store.locate.length) {
    issues.push({
      path: at('locate'),
      message:
        'a store holds either per-subject objects (prefix) or shared objects (jsonLines or parquet), not both; split it in two stores',
    });
  } else if (parquet > 0 && parquet !== shared) {
    issues.push({
      path: at('locate'),
      message:
        'a store holds either shared JSON-lines objects (jsonLines) or shared Parquet objects (parquet), not both; split it in two stores',
    });
  }
  if (store.identityIndex && shared === 0) {
    issues.push({
      path: at('identityIndex'),
      message:
        'the identity index is for objects shared by many subjects (jsonLines or parquet rules); a per-subject prefix finds its objects by listing: remove identityIndex',
    });
  }
  if (store.erase.action === 'mask') {
    // lethe masks DynamoDB attributes; an object would have to be rewritten, which is what rewrite is.
    issues.push({
      path: at('erase', 'action'),
      message:
        shared > 0
          ? "S3 objects cannot be masked in place: use erase.action: rewrite, which removes only the subject's lines or rows"
          : 'S3 objects cannot be masked in place: use erase.action: delete',
    });
  } else if (shared > 0 && store.erase.action !== 'rewrite') {
    issues.push({
      path: at('erase', 'action'),
      message:
        parquet > 0
          ? "Parquet objects are shared by many subjects: use erase.action: rewrite, which removes only the subject's rows"
          : "JSON-lines objects are shared by many subjects: use erase.action: rewrite, which removes only the subject's lines",
    });
  } else if (shared === 0 && store.erase.action !== 'delete') {
    issues.push({
      path: at('erase', 'action'),
      message: 'per-subject objects are erased by deleting them: use erase.action: delete',
    });
  }
  if (store.retention && !('lastModified' in store.retention.from)) {
    issues.push({
      path: at('retention', 'from'),
      message: 'S3 retention runs from the object LastModified: from: { lastModified: true }',
    });
  }
  if (store.retention?.expiryIndex) {
    issues.push({
      path: at('retention', 'expiryIndex'),
      message: 'expiryIndex is for DynamoDB stores; remove it',
    });
  }
  store.exemptions.forEach((exemption, exemptionIndex) => {
    if (exemption.when) {
      issues.push({
        path: at('exemptions', exemptionIndex, 'when'),
        message:
          'S3 objects have no attributes to match; an S3 exemption covers the whole store, so remove when',
      });
    }
  });
  return issues;
}

/** Where a path of the data map is in its source, when known (the YAML loader knows lines). */
export type LineOf = (path: readonly PathSegment[]) => number | undefined;

/**
 * Validates a data map read into plain values (from YAML or JSON).
 * @param content the parsed document
 * @param file the file name used in error messages
 * @param lineOf the line of a path in the source, for error messages
 * @throws DataMapError naming the file, each path (and line), what is wrong and the fix
 */
export function checkDataMap(content: unknown, file: string, lineOf: LineOf = () => undefined): DataMap {
  if (content === null || content === undefined) {
    throw new DataMapError(file, [
      {
        path: '',
        message: 'the file is empty: a data map starts with "version: 1" (see examples/adtech/datamap.yaml)',
      },
    ]);
  }
  const parsed = dataMapSchema.safeParse(content, { reportInput: true });
  if (!parsed.success) {
    throw new DataMapError(
      file,
      parsed.error.issues.map((issue) => {
        const path = issue.path.filter((segment): segment is PathSegment => typeof segment !== 'symbol');
        // An unknown key is reported on its own line rather than where its mapping starts.
        const linePath =
          issue.code === 'unrecognized_keys' && issue.keys[0] ? [...path, issue.keys[0]] : path;
        return { path: formatPath(path), line: lineOf(linePath), message: describeZodIssue(issue) };
      }),
    );
  }
  const issues = semanticIssues(parsed.data);
  if (issues.length > 0) {
    throw new DataMapError(
      file,
      issues.map((issue) => ({
        path: formatPath(issue.path),
        line: lineOf(issue.path),
        message: issue.message,
      })),
    );
  }
  return parsed.data;
}

/** Finds a store by id. @throws Error naming the known store ids when it is not in the data map */
export function getStore(dataMap: DataMap, storeId: string): Store {
  const store = dataMap.stores.find((candidate) => candidate.id === storeId);
  if (!store) {
    throw new UnknownStoreError(
      storeId,
      dataMap.stores.map((candidate) => candidate.id),
    );
  }
  return store;
}

/** A store id that the data map does not declare. */
export class UnknownStoreError extends Error {
  override readonly name = 'UnknownStoreError';
  constructor(
    readonly storeId: string,
    readonly known: string[],
  ) {
    super(`unknown store "${storeId}"; the data map declares: ${known.join(', ')}`);
  }
}
