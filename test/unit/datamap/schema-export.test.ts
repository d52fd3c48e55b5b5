import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { DATAMAP_SCHEMA_FILE, DATAMAP_SCHEMA_ID, dataMapJsonSchemaText } from '../../../bin/export-schema';

const EXAMPLE = join(__dirname, '../../../examples/adtech/datamap.yaml');

type JsonSchema = Record<string, unknown>;

/**
 * A small validator for the keywords the exported schema uses (type, const, enum, pattern,
 * minLength, minItems, properties, required, additionalProperties, propertyNames, items,
 * anyOf, oneOf). It returns the paths that fail, so a failing test says where.
 */
function validate(schema: JsonSchema, value: unknown, path = '$'): string[] {
  const errors: string[] = [];
  const type = schema.type as string | undefined;
  const isObject = typeof value === 'object' && value !== null && !Array.isArray(value);
  if (type === 'object' && !isObject) return [`${path}: not an object`];
  if (type === 'array' && !Array.isArray(value)) return [`${path}: not an array`];
  if (type === 'string' && typeof value !== 'string') return [`${path}: not a string`];
  if (type === 'number' && typeof value !== 'number') return [`${path}: not a number`];
  if (type === 'boolean' && typeof value !== 'boolean') return [`${path}: not a boolean`];
  if ('const' in schema && schema.const !== value)
    errors.push(`${path}: not ${JSON.stringify(schema.const)}`);
  if (Array.isArray(schema.enum) && !schema.enum.includes(value)) errors.push(`${path}: not in enum`);
  if (typeof value === 'string') {
    if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern).test(value)) {
      errors.push(`${path}: does not match ${schema.pattern}`);
    }
    if (typeof schema.minLength === 'number' && value.length < schema.minLength)
      errors.push(`${path}: too short`);
  }
  if (Array.isArray(value)) {
    if (typeof schema.minItems === 'number' && value.length < schema.minItems)
      errors.push(`${path}: too few`);
    if (schema.items) {
      value.forEach((item, index) => {
        errors.push(...validate(schema.items as JsonSchema, item, `${path}[${index}]`));
      });
    }
  }
  if (isObject) {
    const record = value as Record<string, unknown>;
    const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
    for (const key of (schema.required ?? []) as string[]) {
      if (!(key in record)) errors.push(`${path}.${key}: required`);
    }
    for (const [key, child] of Object.entries(record)) {
      if (schema.propertyNames)
        errors.push(...validate(schema.propertyNames as JsonSchema, key, `${path}{${key}}`));
      if (properties[key]) errors.push(...validate(properties[key], child, `${path}.${key}`));
      else if (schema.additionalProperties === false) errors.push(`${path}.${key}: not allowed`);
      else if (typeof schema.additionalProperties === 'object') {
        errors.push(...validate(schema.additionalProperties as JsonSchema, child, `${path}.${key}`));
      }
    }
  }
  for (const keyword of ['anyOf', 'oneOf'] as const) {
    const options = schema[keyword] as JsonSchema[] | undefined;
    if (!options) continue;
    const matching = options.filter((option) => validate(option, value, path).length === 0).length;
    if (matching === 0 || (keyword === 'oneOf' && matching > 1)) {
      errors.push(`${path}: matches ${matching} of the ${keyword} forms`);
    }
  }
  return errors;
}

function at(schema: unknown, ...path: (string | number)[]): JsonSchema {
  let node = schema;
  for (const segment of path) {
    if (typeof node !== 'object' || node === null) throw new Error(`no ${path.join('.')} in the schema`);
    node = (node as Record<string | number, unknown>)[segment];
  }
  if (typeof node !== 'object' || node === null) throw new Error(`no ${path.join('.')} in the schema`);
  return node as JsonSchema;
}

describe('docs/datamap.schema.json', () => {
  const committed = readFileSync(DATAMAP_SCHEMA_FILE, 'utf8');
  const schema = JSON.parse(committed) as JsonSchema;
  const example = parse(readFileSync(EXAMPLE, 'utf8')) as Record<string, unknown>;

  it('equals the schema generated from lib/datamap/schema.ts (run `npm run schema` when this fails)', () => {
    // prepare
    const file = DATAMAP_SCHEMA_FILE;

    // act
    const fresh = dataMapJsonSchemaText();

    // assess
    expect(readFileSync(file, 'utf8')).toBe(fresh);
  });

  it('names itself and its JSON Schema dialect', () => {
    // prepare
    const expected = { $schema: 'https://json-schema.org/draft/2020-12/schema', $id: DATAMAP_SCHEMA_ID };

    // act
    const header = { $schema: schema.$schema, $id: schema.$id };

    // assess
    expect(header).toEqual(expected);
    expect(schema.title).toBe('lethe data map');
  });

  it('describes the key paths of the data map', () => {
    // prepare
    const stores = at(schema, 'properties', 'stores', 'items', 'oneOf') as unknown as JsonSchema[];

    // act
    const kinds = stores.map((store) => at(store, 'properties', 'kind').const);
    const dynamodb = stores[kinds.indexOf('dynamodb')]!;
    const s3 = stores[kinds.indexOf('s3')]!;

    // assess
    expect(kinds.sort()).toEqual(['dynamodb', 's3']);
    expect(at(schema, 'properties', 'version').const).toBe(1);
    expect(
      at(schema, 'properties', 'identityTypes', 'additionalProperties', 'properties', 'normalise').enum,
    ).toEqual(['email', 'e164', 'ipAddress', 'opaque']);
    expect(dynamodb.required).toEqual(
      expect.arrayContaining(['id', 'kind', 'table', 'keySchema', 'locate', 'erase']),
    );
    expect(s3.required).toEqual(expect.arrayContaining(['id', 'kind', 'bucket', 'locate', 'erase']));
    expect(at(dynamodb, 'properties', 'retention', 'properties', 'expiryIndex', 'properties')).toHaveProperty(
      'partitionValue',
    );
    // prefix, jsonLines, parquet
    expect(at(s3, 'properties', 'locate', 'items', 'anyOf')).toHaveLength(3);
    expect(at(dynamodb, 'properties', 'erase', 'oneOf')).toHaveLength(3);
    // io: 'input': fields with a default are optional in the YAML
    expect(at(dynamodb, 'properties', 'keySchema', 'properties', 'partitionKey').required).toEqual(['name']);
    expect(dynamodb.required).not.toContain('indexes');
  });

  it('accepts the ad-tech example', () => {
    // prepare
    const document = example;

    // act
    const errors = validate(schema, document);

    // assess
    expect(errors).toEqual([]);
  });

  it('rejects the example with an unknown key, a wrong kind, a missing locate rule or an unknown erase action', () => {
    // prepare
    const stores = example.stores as Record<string, unknown>[];
    const { locate: _locate, ...withoutLocate } = stores[0]!;
    const broken = {
      'unknown key': { ...example, verison: 1 },
      'wrong kind': { ...example, stores: [{ ...stores[0], kind: 'mysql' }] },
      'missing locate': { ...example, stores: [withoutLocate] },
      'unknown erase action': { ...example, stores: [{ ...stores[4], erase: { action: 'shred' } }] },
    };

    // act
    const results = Object.fromEntries(
      Object.entries(broken).map(([name, document]) => [name, validate(schema, document)]),
    );

    // assess
    expect(results['unknown key']).toEqual(['$.verison: not allowed']);
    expect(results['wrong kind']).toEqual(['$.stores[0]: matches 0 of the oneOf forms']);
    expect(results['missing locate']).toEqual(['$.stores[0]: matches 0 of the oneOf forms']);
    expect(results['unknown erase action']).toEqual(['$.stores[0]: matches 0 of the oneOf forms']);
    const dynamodb = at(schema, 'properties', 'stores', 'items', 'oneOf', 0);
    expect(validate(dynamodb, withoutLocate)).toContain('$.locate: required');
  });
});
