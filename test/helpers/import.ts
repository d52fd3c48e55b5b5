import { writeFileSync } from 'node:fs';
import { parseDataMap } from '../../lib/datamap/load';
import type { DataMap } from '../../lib/datamap/schema';

/**
 * A data map for import tests: a table keyed by email (located by it) and a number, with an index
 * on a cookie id (located by it) and one on a binary token; an S3 store with per-subject folders, and
 * one with shared JSON-lines files.
 */
export const IMPORT_DATAMAP_YAML = `
version: 1
identityTypes:
  email: { normalise: email }
  cookieId: { normalise: opaque, caseSensitive: false }
stores:
  - id: contacts
    kind: dynamodb
    table: import-contacts
    keySchema:
      partitionKey: { name: email, type: S }
      sortKey: { name: seq, type: N }
    indexes:
      - name: byCookie
        partitionKey: { name: cookieId, type: S }
      - name: byToken
        partitionKey: { name: token, type: B }
    locate:
      - { identity: email, attribute: email }
      - { identity: cookieId, index: byCookie, attribute: cookieId }
    categories: [user.contact.email]
    purpose: Testing imports
    lawfulBasis: consent
    source: Written by the tests
    erase: { action: delete }
  - id: letters
    kind: s3
    bucket: import-letters
    locate:
      - { identity: email, prefix: "letters/{email}/" }
    categories: [user.content.message]
    purpose: Testing imports
    lawfulBasis: consent
    source: Written by the tests
    erase: { action: delete }
  - id: chats
    kind: s3
    bucket: import-chats
    locate:
      - { identity: email, jsonLines: { prefix: "chats/", field: email } }
    categories: [user.content.message]
    purpose: Testing imports
    lawfulBasis: consent
    source: Written by the tests
    erase: { action: rewrite }
`;

export const importDataMap = (): DataMap => parseDataMap(IMPORT_DATAMAP_YAML, 'import-datamap.yaml');

/** A valid contacts item, the n-th of a file: its own email, normalised. */
export function contact(n: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { email: `person${n}@example.com`, seq: n, name: `Person ${n}`, ...extra };
}

/** Writes items (or raw lines, given as strings) as a JSON-lines file. */
export function writeLines(path: string, lines: readonly (Record<string, unknown> | string)[]): string {
  writeFileSync(
    path,
    lines.map((line) => (typeof line === 'string' ? line : JSON.stringify(line))).join('\n'),
  );
  return path;
}
