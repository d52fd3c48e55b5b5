import type { Discovery, FieldReport, StoreReport } from './model';

/** The discovery report as text: per store, what was read and how each field was classified. */

const percent = (share: number) => `${Math.round(share * 100)}%`;

function shapesText(field: FieldReport): string {
  return Object.entries(field.shapes)
    .sort((a, b) => (b[1] ?? 0) - (a[1] ?? 0))
    .map(([shape, count]) => `${shape} ${count}`)
    .join(', ');
}

function fieldLines(fields: readonly FieldReport[]): string[] {
  if (fields.length === 0) return [];
  const rows = fields.map((field) => [
    field.name + (field.list ? ' (list)' : ''),
    field.identity ? `${field.class} -> ${field.identity}` : field.class,
    field.class === 'other' ? '' : field.confidence.toFixed(2),
    String(field.values),
    field.values > 0 ? percent(field.notNormalised) : '',
    shapesText(field),
  ]);
  const header = ['field', 'class', 'confidence', 'values', 'not normalised', 'shapes'];
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: string[]) =>
    `    ${cells
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd()}`;
  return [line(header), ...rows.map(line)];
}

function storeLines(store: StoreReport, discovery: Discovery): string[] {
  const proposed = discovery.stores.find((candidate) => candidate.id === store.id);
  const what = store.kind === 'dynamodb' ? 'DynamoDB table' : 'S3 bucket';
  const read =
    store.kind === 'dynamodb'
      ? `${store.read} items read${store.itemCount ? ` of about ${store.itemCount}` : ''}`
      : `${store.keysListed ?? 0}${store.moreKeys ? '+' : ''} keys listed, ${store.read} objects read (${Object.entries(
          store.formats ?? {},
        )
          .map(([format, count]) => `${count} ${format}`)
          .join(', ')})`;
  const lines = [`${store.id ?? '(not in the draft)'}: ${what} ${store.name}: ${read}`];
  if (store.left) lines.push(`  left out of the draft: ${store.left}`);
  if (proposed?.keySchema) {
    const key = proposed.keySchema;
    lines.push(
      `  key: ${key.partitionKey.name}${key.sortKey ? ` + ${key.sortKey.name}` : ''}${proposed.keyGuessed ? ' (guessed from the items)' : ''}`,
    );
  }
  if (proposed) {
    const rules = proposed.locate.map((rule) =>
      'attribute' in rule
        ? `${rule.identity} by ${rule.attribute}${rule.index ? ` (index ${rule.index}${proposed.proposedIndexes.includes(rule.index) ? ', proposed' : ''})` : ' (table key)'}`
        : 'prefix' in rule
          ? `${rule.identity} by prefix ${rule.prefix}`
          : 'jsonLines' in rule
            ? `${rule.identity} by JSON-lines field ${rule.jsonLines.field} under ${rule.jsonLines.prefix || 'the bucket root'}`
            : `${rule.identity} by Parquet column ${rule.parquet.field} under ${rule.parquet.prefix || 'the bucket root'}`,
    );
    lines.push(`  locate: ${rules.join('; ')}`);
    for (const link of proposed.links) {
      lines.push(
        `  link: ${link.attribute} reveals ${link.identity}, which locates ${link.reaches.join(', ')} (${link.matched} sampled values found there)`,
      );
    }
  }
  for (const shape of store.keyShapes ?? []) lines.push(`  keys: ${shape.shape} (${shape.keys})`);
  lines.push(...fieldLines(store.fields));
  if (store.unclassified.length > 0) lines.push(`  not classified: ${store.unclassified.join(', ')}`);
  for (const problem of store.problems) lines.push(`  problem: ${problem}`);
  return lines;
}

/** The report of a discovery, one block per store. */
export function reportText(discovery: Discovery): string {
  const inDraft = discovery.report.filter((store) => store.id !== undefined).length;
  const lines = [
    `Read ${discovery.report.length} stores of ${discovery.source}; ${inDraft} hold identities and are in the draft.`,
    `Identity types: ${discovery.identityTypes.map((type) => type.name).join(', ') || 'none'}.`,
  ];
  for (const store of discovery.report) lines.push('', ...storeLines(store, discovery));
  return lines.join('\n');
}
