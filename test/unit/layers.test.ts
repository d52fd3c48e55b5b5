import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * Imports flow one way, from the bottom of this list up (see docs/ARCHITECTURE.md). A folder
 * may import its own files and any folder on a lower floor; folders on one floor (rights and
 * retention; cli and lambdas) never import each other, and nothing imports a floor above it.
 */
const FLOORS: readonly (readonly string[])[] = [
  ['lib/log'],
  ['lib/datamap'],
  ['lib/stores'],
  // Discovery reads stores to draft a data map; nothing below the CLI needs it.
  ['lib/discovery'],
  ['lib/deps'],
  // The identity index of shared-object stores: rights and retention keep it and read through it.
  ['lib/lake'],
  ['lib/audit'],
  ['lib/holds'],
  ['lib/rights', 'lib/retention', 'lib/check'],
  ['lib/workflow'],
  ['lib/aws'],
  ['lib/infra'],
  // The embedded runtime synthesizes the infra stacks to run the very definition AWS runs.
  ['lib/local'],
  ['examples'],
  // The console runs over the CLI's backends; the CLI's `console` command loads it lazily.
  ['lib/cli/backends'],
  ['lib/console'],
  ['lib/cli', 'lambdas'],
  ['bin'],
];

/** Finer rules within the floors: what a folder may take from one below it, and no more. */
const ONLY: readonly { from: string; to: string; allowed: readonly string[]; why: string }[] = [
  {
    from: 'lib/infra',
    to: 'lib/aws',
    allowed: ['lib/aws/config', 'lib/aws/metrics'],
    why: 'the stacks need the names the functions read and the metrics they publish, not the runtime wiring (it would pull the SDK into synth)',
  },
];

const ROOT = resolve(__dirname, '../..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** The project-relative targets of a file's relative imports (static, type-only, dynamic and re-exports). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [...text.matchAll(/(?:from|import\(|require\(|import)\s*'(\.{1,2}\/[^']+)'/g)].map(
    (match) => match[1] ?? '',
  );
  return specifiers.map((specifier) => relative(ROOT, resolve(dirname(file), specifier)));
}

/** The floor group a project path belongs to: the longest FLOORS entry it is in. */
function groupOf(path: string): string | undefined {
  const candidates = FLOORS.flat().filter(
    (group) => path === group || path.startsWith(`${group}/`) || path === `${group}.ts`,
  );
  return candidates.sort((a, b) => b.length - a.length)[0];
}

const floorOf = (group: string) => FLOORS.findIndex((floor) => floor.includes(group));

const files = ['lib', 'lambdas', 'bin', 'examples'].flatMap((dir) => sourceFiles(join(ROOT, dir)));

describe('imports flow one way', () => {
  it('every source file is on a floor', () => {
    const unplaced = files.map((file) => relative(ROOT, file)).filter((file) => groupOf(file) === undefined);

    expect(unplaced).toEqual([]);
  });

  it('no file imports a folder on its own floor or above it', () => {
    // Act
    const upward = files.flatMap((file) => {
      const from = groupOf(relative(ROOT, file)) as string;
      return importsOf(file).flatMap((target) => {
        const to = groupOf(target);
        if (to === undefined || to === from || floorOf(to) < floorOf(from)) return [];
        return [`${relative(ROOT, file)} -> ${target} (${from} may not import ${to})`];
      });
    });

    // Assess
    expect(upward).toEqual([]);
  });

  it.each(ONLY)('$from takes only $allowed from $to: $why', ({ from, to, allowed }) => {
    const taken = files
      .filter((file) => groupOf(relative(ROOT, file)) === from)
      .flatMap(importsOf)
      .filter((target) => groupOf(target) === to);

    expect([...new Set(taken)].filter((target) => !allowed.includes(target))).toEqual([]);
  });
});
