import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

let root: string | undefined;

/**
 * lethe's package folder: the nearest folder at or above this module with a package.json. The
 * same folder whether lethe runs from its TypeScript sources or from the compiled copy in dist/
 * (which has no package.json of its own), so files that ship beside the code (the example data
 * map, package.json) are found from either.
 */
export function packageRoot(): string {
  if (root === undefined) {
    let current = __dirname;
    while (!existsSync(join(current, 'package.json')) && dirname(current) !== current)
      current = dirname(current);
    root = current;
  }
  return root;
}

/** The version in a package.json file. */
export function packageVersion(packageJson: string): string {
  return String((JSON.parse(readFileSync(packageJson, 'utf8')) as { version?: unknown }).version);
}
