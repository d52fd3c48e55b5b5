import type { KeyAttribute } from '../datamap/schema';
import type { Discovery, ProposedIdentityType, ProposedStore } from './model';

/**
 * The draft data map as YAML text, every decision a person must make marked `# TODO` beside a
 * safe default: retention left out (nothing expires until someone says when), links `claimed`
 * (records reached through them wait for staff review), erasure by delete or, for objects shared
 * by many subjects, by rewriting them without the subject's lines. Only names, shapes and counts
 * are written, never a sampled value.
 */

/** A YAML scalar: JSON strings are YAML double-quoted scalars, so any name is written safely. */
const q = (value: string) => JSON.stringify(value);

const keyText = (key: KeyAttribute) => `{ name: ${q(key.name)}, type: ${key.type} }`;

function identityTypeLines(type: ProposedIdentityType): string[] {
  const { declaration } = type;
  const lines = [`  ${type.name}:`, `    normalise: ${declaration.normalise}`];
  if (declaration.normalise === 'opaque') {
    lines.push(
      `    caseSensitive: ${declaration.caseSensitive === false ? 'false' : 'true'} # TODO: false when upper and lower case are the same id`,
    );
  }
  if (declaration.defaultCountryCode) {
    lines.push(
      `    defaultCountryCode: ${q(declaration.defaultCountryCode)} # TODO: ${type.notes[0] ?? 'confirm'}`,
    );
  }
  if (type.patternSeen) {
    lines.push(
      `    # TODO: the ids seen look like ${q(type.patternSeen)}; add it as pattern: to refuse requests with ids of another form`,
    );
  }
  return lines;
}

function dynamoLines(store: ProposedStore): string[] {
  const lines = [`    table: ${q(store.name)}`];
  const key = store.keySchema;
  if (!key) return lines;
  if (store.keyGuessed) {
    lines.push(
      "    # TODO: key schema guessed from the items; replace it with the table's own (aws dynamodb describe-table)",
    );
  }
  lines.push('    keySchema:', `      partitionKey: ${keyText(key.partitionKey)}`);
  if (key.sortKey) lines.push(`      sortKey: ${keyText(key.sortKey)}`);
  if (store.indexes.length > 0) {
    lines.push('    indexes:');
    for (const index of store.indexes) {
      if (store.proposedIndexes.includes(index.name)) {
        lines.push(
          '      # TODO: proposed, not seen on the table: create this GSI (locating never scans), or remove it and the locate rule that uses it',
        );
      }
      lines.push(`      - name: ${q(index.name)}`, `        partitionKey: ${keyText(index.partitionKey)}`);
      if (index.sortKey) lines.push(`        sortKey: ${keyText(index.sortKey)}`);
    }
  }
  return lines;
}

function locateLines(store: ProposedStore): string[] {
  const lines = ['    locate:'];
  for (const rule of store.locate) {
    lines.push(`      - identity: ${rule.identity}`);
    if ('attribute' in rule) {
      if (rule.index) lines.push(`        index: ${q(rule.index)}`);
      lines.push(`        attribute: ${q(rule.attribute)}`);
    } else if ('prefix' in rule) {
      lines.push(`        prefix: ${q(rule.prefix)}`);
    } else if ('jsonLines' in rule) {
      lines.push(
        `        jsonLines: { prefix: ${q(rule.jsonLines.prefix)}, field: ${q(rule.jsonLines.field)} }`,
      );
    } else {
      lines.push(`        parquet: { prefix: ${q(rule.parquet.prefix)}, field: ${q(rule.parquet.field)} }`);
    }
  }
  return lines;
}

function linkLines(store: ProposedStore): string[] {
  if (store.links.length === 0) return [];
  const lines = ['    links:'];
  for (const link of store.links) {
    const evidence = link.matched > 0 ? `; ${link.matched} sampled values were found there` : '';
    lines.push(
      `      # TODO: trust: verified only if the company checked these values (else records reached through them wait for review); reaches ${link.reaches.join(', ')}${evidence}`,
      `      - identity: ${link.identity}`,
      `        attribute: ${q(link.attribute)}`,
      '        trust: claimed',
    );
  }
  return lines;
}

function retentionLines(store: ProposedStore): string[] {
  const from = store.retentionFrom;
  const fromText = !from
    ? '{ attribute: TIMESTAMP_ATTRIBUTE, format: iso8601 }'
    : 'lastModified' in from
      ? '{ lastModified: true }'
      : `{ attribute: ${q(from.attribute)}, format: ${from.format} }`;
  return [
    '    # TODO: retention: how long the data is kept, then deleted or anonymised; nothing expires until it is set, e.g.',
    '    # retention:',
    '    #   period: P3Y',
    `    #   from: ${fromText}`,
    '    #   action: delete',
  ];
}

function storeLines(store: ProposedStore): string[] {
  const lines = [`  - id: ${store.id}`, `    kind: ${store.kind}`];
  if (store.kind === 'dynamodb') lines.push(...dynamoLines(store));
  else lines.push(`    bucket: ${q(store.name)}`);
  for (const note of store.notes) lines.push(`    # TODO: ${note}`);
  lines.push(...locateLines(store), ...linkLines(store));
  lines.push(
    `    categories: [${store.categories.join(', ')}] # TODO: check; add what the classes seen do not show (user.account, commerce.orders, …)`,
    '    purpose: "TODO: why the company keeps this data" # TODO',
    '    lawfulBasis: legitimate-interests # TODO: consent, contract, legal-obligation, vital-interests, public-task or legitimate-interests',
    '    recipients: [] # TODO: who receives this data',
    '    source: "TODO: where this data comes from" # TODO',
  );
  if (store.erase === 'rewrite') {
    lines.push(
      "    erase: { action: rewrite } # JSON-lines objects are shared by many subjects: erasure removes only the subject's lines",
    );
  } else if (store.kind === 'dynamodb') {
    lines.push(
      '    erase: { action: delete } # TODO: delete the item, or mask its personal fields and keep the rest ({ action: mask, fields: [...] })',
    );
  } else {
    lines.push('    erase: { action: delete } # per-subject objects are erased by deleting them');
  }
  lines.push(
    ...retentionLines(store),
    '    # TODO: exemptions: records kept despite erasure, with the legal reason (invoices kept by law, open claims)',
  );
  return lines;
}

/** The draft data map text of a discovery. */
export function draftText(discovery: Discovery): string {
  const lines = [
    `# A draft data map, written by lethe discover from ${discovery.source.replace(/\s+/g, ' ')}`,
    `# (up to ${discovery.sample} items or objects read per store). Every TODO is a decision for a person:`,
    '# answer each, then load it with lethe init --datamap FILE. Only names, shapes and counts of the',
    '# data were used; no value read was written here.',
    'version: 1',
    '',
    '# TODO: organisation: { name: …, controller: …, contact: … }, named in every export',
    'identityTypes:',
    ...discovery.identityTypes.flatMap(identityTypeLines),
    '',
    'stores:',
  ];
  discovery.stores.forEach((store, index) => {
    if (index > 0) lines.push('');
    lines.push(...storeLines(store));
  });
  return `${lines.join('\n')}\n`;
}
