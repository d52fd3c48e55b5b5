import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * Imports flow one way: the CDK stacks (lib/infra) build on the workflow, the data map and the
 * names the deployed functions read, and nothing they build on imports them back (it would pull
 * aws-cdk-lib into the Lambda bundles and the local runtime's domain code).
 */

const ROOT = resolve(__dirname, '../..');
const LIB = join(ROOT, 'lib');
/** Layers above infra: the embedded runtime synthesizes the stacks' definition; the CLI and console sit on top. */
const ABOVE_INFRA = ['infra', 'local', 'cli', 'console'];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** The project-relative targets of a file's relative imports (static, dynamic and re-exports). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [...text.matchAll(/(?:from|import\(|require\()\s*'(\.{1,2}\/[^']+)'/g)].map(
    (match) => match[1] ?? '',
  );
  return specifiers.map((specifier) => relative(ROOT, resolve(dirname(file), specifier)));
}

const layerOf = (file: string) => relative(LIB, file).split('/')[0] ?? '';

describe('lib/infra imports', () => {
  it('are imported by no layer below them', () => {
    // Prepare
    const below = sourceFiles(LIB).filter((file) => !ABOVE_INFRA.includes(layerOf(file)));

    // Act
    const upward = below.flatMap((file) =>
      importsOf(file)
        .filter((target) => target.startsWith('lib/infra'))
        .map((target) => `${relative(ROOT, file)} -> ${target}`),
    );

    // Assess
    expect(below.map(layerOf)).toEqual(expect.arrayContaining(['datamap', 'workflow', 'aws']));
    expect(upward).toEqual([]);
  });

  it('use from lib/aws only the names the functions read (config), not the runtime wiring', () => {
    // Act
    const aws = sourceFiles(join(LIB, 'infra'))
      .flatMap(importsOf)
      .filter((target) => target.startsWith('lib/aws'));

    // Assess
    expect([...new Set(aws)]).toEqual(['lib/aws/config']);
  });
});
