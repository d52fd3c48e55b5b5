/**
 * Writes docs/datamap.schema.json, the JSON Schema of the data map, from the zod schema in
 * lib/datamap/schema.ts, for editors (YAML language server) and other tools. Run with
 * `npm run schema` after changing the schema; a unit test fails while the committed file is stale.
 *
 * The JSON Schema describes the shape of each field. The cross-field rules (identity types
 * that exist, indexes that are declared, erase actions that fit the store) are enforced only
 * when lethe loads the data map: see docs/DATAMAP.md.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { dataMapSchema } from '../lib/datamap/schema';

export const DATAMAP_SCHEMA_FILE = join(__dirname, '..', 'docs', 'datamap.schema.json');
export const DATAMAP_SCHEMA_ID = 'urn:lethe:datamap:v1';

/** The data map's JSON Schema (draft 2020-12) describing the YAML as written: defaults are optional. */
export function dataMapJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(dataMapSchema, {
    io: 'input',
    target: 'draft-2020-12',
  }) as Record<string, unknown>;
  const { $schema, ...rest } = generated;
  return {
    $schema,
    $id: DATAMAP_SCHEMA_ID,
    title: 'lethe data map',
    description:
      'Describes every DynamoDB table and S3 bucket holding personal data: how to locate a subject, what to export, how to erase, when records expire. Generated from lib/datamap/schema.ts by `npm run schema`; cross-field rules are checked when lethe loads the file (docs/DATAMAP.md).',
    ...rest,
  };
}

/** The file's exact text: two-space JSON with a final newline. */
export function dataMapJsonSchemaText(): string {
  return `${JSON.stringify(dataMapJsonSchema(), null, 2)}\n`;
}

if (require.main === module) {
  writeFileSync(DATAMAP_SCHEMA_FILE, dataMapJsonSchemaText());
  process.stdout.write(`wrote ${DATAMAP_SCHEMA_FILE}\n`);
}
