import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const { MANIFEST, describeSources, distIsCurrent } = require('../../../bin/sources.js') as {
  MANIFEST: string;
  describeSources(root: string): Record<string, unknown>;
  distIsCurrent(root: string): boolean;
};

/** When the lethe command may run the compiled build: only while it is of the sources as they are. */
describe('whether dist/ is of the current sources', () => {
  let root: string;

  /** What the build does last: record the sources it compiled. */
  const recordBuild = () => {
    mkdirSync(join(root, 'dist'), { recursive: true });
    writeFileSync(join(root, MANIFEST), JSON.stringify({ sources: describeSources(root) }));
  };

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'lethe-sources-'));
    mkdirSync(join(root, 'lib', 'cli'), { recursive: true });
    mkdirSync(join(root, 'bin'));
    writeFileSync(join(root, 'lib', 'cli', 'program.ts'), 'export const a = 1;\n');
    writeFileSync(join(root, 'bin', 'lethe.ts'), 'import "../lib/cli/program";\n');
  });

  afterEach(() => rmSync(root, { recursive: true, force: true }));

  test('a build of the sources as they are is current', () => {
    recordBuild();

    expect(distIsCurrent(root)).toBe(true);
  });

  test('nothing built, or a build that did not finish (no record), is not current', () => {
    expect(distIsCurrent(root)).toBe(false);
  });

  test('an edited source is noticed, even one whose size stayed the same', () => {
    // Prepare
    recordBuild();

    // Act
    writeFileSync(join(root, 'lib', 'cli', 'program.ts'), 'export const a = 2;\n');

    // Assess
    expect(distIsCurrent(root)).toBe(false);
  });

  test('a new or a removed source is noticed', () => {
    recordBuild();
    writeFileSync(join(root, 'lib', 'cli', 'extra.ts'), 'export {};\n');
    expect(distIsCurrent(root)).toBe(false);

    recordBuild();
    rmSync(join(root, 'lib', 'cli', 'extra.ts'));
    expect(distIsCurrent(root)).toBe(false);
  });

  test('a source whose time changed but not its content (a copy, an install) is still current', () => {
    // Prepare
    recordBuild();

    // Act
    utimesSync(join(root, 'lib', 'cli', 'program.ts'), new Date('1985-10-26'), new Date('1985-10-26'));

    // Assess
    expect(distIsCurrent(root)).toBe(true);
  });
});
