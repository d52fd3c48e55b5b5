import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateAdtechSeed } from '../../../examples/adtech/seed';
import { generateShopSeed } from '../../../examples/shop/seed';
import { loadDataMap, parseDataMap } from '../../../lib/datamap/load';
import type { DataMap, Store } from '../../../lib/datamap/schema';
import { shapeOfString } from '../../../lib/discovery/shapes';
import { openLocalEnvironment } from '../../../lib/local/environment';
import { importSeed, type StoreSeed } from '../../../lib/local/import';
import { lethe } from '../../helpers/cli';
import { writeExportFolder } from '../../helpers/export-folder';
import { SEED_NOW } from '../../helpers/world';

/**
 * `lethe discover` on the examples' seed data, held against the hand-written data maps: the draft
 * must find every locate attribute and every link the example declares (with the identity types
 * matched one to one), and load. Read as an export folder (keys guessed) and through the local
 * stores (keys and indexes from DescribeTable).
 */

interface Example {
  name: string;
  dataMapPath: string;
  seed: () => StoreSeed;
}

const EXAMPLES: Example[] = [
  {
    name: 'adtech',
    dataMapPath: 'examples/adtech/datamap.yaml',
    seed: () => generateAdtechSeed({ subjects: 12, recordsPerSubject: 4, seed: 7, now: SEED_NOW }),
  },
  {
    name: 'shop',
    dataMapPath: 'examples/shop/datamap.yaml',
    seed: () => generateShopSeed({ customers: 40, seed: 7, now: SEED_NOW }),
  },
];

const nameOf = (store: Store) => (store.kind === 'dynamodb' ? store.table : store.bucket);

/** A locate rule or link with the identity type left out: what must match between the maps. */
function ruleShapes(store: Store): { where: string; identity: string }[] {
  const rules = store.locate.map((rule) => {
    if ('attribute' in rule) return { where: `attribute ${rule.attribute}`, identity: rule.identity };
    if ('prefix' in rule)
      return { where: `prefix ${rule.prefix.replace(/\{[^}]*\}/, '{}')}`, identity: rule.identity };
    if ('parquet' in rule)
      return { where: `parquet ${rule.parquet.prefix} ${rule.parquet.field}`, identity: rule.identity };
    return { where: `jsonLines ${rule.jsonLines.prefix} ${rule.jsonLines.field}`, identity: rule.identity };
  });
  return rules;
}

/**
 * What the hand-written map declares that the draft lacks: locate rules and links (by store,
 * attribute, prefix or field), and identity types the draft splits or merges differently.
 */
function missingFromDraft(hand: DataMap, draft: DataMap, options: { sameIndexes: boolean }): string[] {
  const missing: string[] = [];
  const typeOf = new Map<string, Set<string>>();
  const match = (handType: string, draftType: string) => {
    const seen = typeOf.get(handType) ?? new Set();
    seen.add(draftType);
    typeOf.set(handType, seen);
  };
  for (const store of hand.stores) {
    // Discovery samples text (JSON, JSON lines, CSV): it does not read Parquet yet, so a Parquet
    // store is never drafted. Known gap, not a regression.
    if (store.kind === 's3' && store.locate.some((rule) => 'parquet' in rule)) continue;
    const drafted = draft.stores.find(
      (candidate) => candidate.kind === store.kind && nameOf(candidate) === nameOf(store),
    );
    if (!drafted) {
      missing.push(`store ${store.id}`);
      continue;
    }
    const draftedRules = ruleShapes(drafted);
    for (const rule of ruleShapes(store)) {
      const found = draftedRules.find((candidate) => candidate.where === rule.where);
      if (found) match(rule.identity, found.identity);
      else missing.push(`${store.id}: locate by ${rule.where}`);
    }
    if (options.sameIndexes && store.kind === 'dynamodb' && drafted.kind === 'dynamodb') {
      for (const rule of store.locate) {
        const found = drafted.locate.find((candidate) => candidate.attribute === rule.attribute);
        if (found && found.index !== rule.index)
          missing.push(`${store.id}: locate ${rule.attribute} through ${rule.index ?? 'the table'}`);
      }
    }
    for (const link of store.links) {
      const found = drafted.links.find((candidate) => candidate.attribute === link.attribute);
      if (found) match(link.identity, found.identity);
      else missing.push(`${store.id}: link ${link.attribute}`);
    }
  }
  for (const [handType, draftTypes] of typeOf) {
    if (draftTypes.size !== 1)
      missing.push(`identity type ${handType} is ${[...draftTypes].join(' and ')} in the draft`);
  }
  const drafted = [...typeOf.values()].map((types) => [...types][0]);
  if (new Set(drafted).size !== drafted.length)
    missing.push('two identity types of the example are one in the draft');
  return missing;
}

/** Every string in the seed's items that is a person's (an address, a number, an id, a name, text). */
function personalValues(seed: StoreSeed): string[] {
  const personal = new Set([
    'email',
    'phone-e164',
    'phone-international',
    'phone-national',
    'uuid',
    'ip-address',
    'name',
    'free-text',
  ]);
  const strings = (value: unknown): string[] =>
    typeof value === 'string' ? [value] : Array.isArray(value) ? value.flatMap(strings) : [];
  const values = Object.values(seed.dynamodb).flatMap((items) =>
    items.flatMap((item) => Object.values(item).flatMap(strings)),
  );
  return [...new Set(values.map((value) => value.trim()))].filter((value) =>
    personal.has(shapeOfString(value)),
  );
}

describe('lethe discover on the examples: the draft finds what the hand-written maps declare', () => {
  let root: string;

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'lethe-discover-examples-'));
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  describe.each(EXAMPLES)('$name', (example) => {
    const hand = loadDataMap(example.dataMapPath);

    it('from an export folder', async () => {
      // Prepare
      const dir = join(root, `${example.name}-export`);
      writeExportFolder(hand, example.seed(), dir);
      const out = join(root, `${example.name}-export-draft.yaml`);

      // Act
      const run = await lethe(['discover', '--dir', dir, '--out', out]);

      // Assess
      expect({ code: run.code, err: run.err }).toEqual({ code: 0, err: '' });
      const draft = loadDataMap(out);
      expect(missingFromDraft(hand, draft, { sameIndexes: false })).toEqual([]);
      expect(draft.stores.every((store) => store.links.every((link) => link.trust === 'claimed'))).toBe(true);
      expect(draft.stores.every((store) => store.retention === undefined)).toBe(true);
    });

    it('through the local stores', async () => {
      // Prepare
      const stateDir = join(root, `${example.name}-state`);
      const env = await openLocalEnvironment({
        stateDir,
        dataMapPath: example.dataMapPath,
        init: true,
        now: () => SEED_NOW,
      });
      try {
        await importSeed(env.dataMap, example.seed(), env.clients);
      } finally {
        await env.close();
      }

      // Act
      const run = await lethe(['discover', '--state-dir', stateDir, '--json']);

      // Assess
      expect({ code: run.code, err: run.err }).toEqual({ code: 0, err: '' });
      const result = JSON.parse(run.out) as { draft: string; stores: { name: string }[] };
      const draft = parseDataMap(result.draft);
      expect(missingFromDraft(hand, draft, { sameIndexes: true })).toEqual([]);
      // lethe's own tables and buckets are not company data
      expect(result.stores.map((store) => store.name).filter((name) => name.startsWith('lethe-'))).toEqual(
        [],
      );
      // and no value it read is in the draft or the report
      const values = personalValues(example.seed());
      expect(values.length).toBeGreaterThan(20);
      expect(values.filter((value) => run.out.includes(value))).toEqual([]);
    });
  });

  it('writes nothing but the draft, and refuses to replace it without --force', async () => {
    // Prepare
    const dir = join(root, 'adtech-export');
    const out = join(root, 'kept.yaml');
    writeFileSync(out, 'mine\n');

    // Act
    const refused = await lethe(['discover', '--dir', dir, '--out', out]);
    const forced = await lethe(['discover', '--dir', dir, '--out', out, '--force']);

    // Assess
    expect(refused.code).toBe(2);
    expect(refused.err.trim().split('\n')).toHaveLength(1);
    expect(forced.code).toBe(0);
    expect(readFileSync(out, 'utf8')).toContain('version: 1');
  });
});
