// Which compiled code is current. Shared by the build (bin/build.js), which records the sources it
// compiled, and the `lethe` command (bin/lethe.js), which runs dist/ only when the sources are
// still those. Plain JavaScript: it runs before anything can compile TypeScript.
const { createHash } = require('node:crypto');
const { existsSync, readdirSync, readFileSync, statSync } = require('node:fs');
const { join } = require('node:path');

/** Folders of TypeScript the build compiles, as tsconfig.build.json includes them. */
const SOURCE_DIRS = ['bin', 'lib', 'lambdas', 'examples'];
/** Folders under those that hold no code of lethe's (generated seed data). */
const SKIPPED = new Set(['node_modules', 'seed', 'cdk.out']);
const MANIFEST = join('dist', 'sources.json');

/** The TypeScript files the build compiles, relative to `root`, sorted. */
function sourceFiles(root) {
  const files = [];
  const walk = (dir) => {
    for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory()) {
        if (!SKIPPED.has(entry.name)) walk(path);
      } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) {
        files.push(path);
      }
    }
  };
  for (const dir of SOURCE_DIRS) if (existsSync(join(root, dir))) walk(dir);
  return files.sort();
}

const digest = (root, file) =>
  createHash('sha256')
    .update(readFileSync(join(root, file)))
    .digest('hex');

/** What the build records of each source: size, modification time and content digest. */
function describeSources(root) {
  return Object.fromEntries(
    sourceFiles(root).map((file) => {
      const stat = statSync(join(root, file));
      return [file, { size: stat.size, mtimeMs: stat.mtimeMs, sha256: digest(root, file) }];
    }),
  );
}

/**
 * True when dist/ was built from the sources exactly as they are now: the same files, each with
 * the size it had, and the modification time it had or (after a copy or an install that reset
 * times) the same content. Anything else (an edit, a new or removed file, no build, a build
 * that did not finish: its record is written last) is false.
 */
function distIsCurrent(root) {
  let recorded;
  try {
    recorded = JSON.parse(readFileSync(join(root, MANIFEST), 'utf8')).sources;
  } catch {
    return false;
  }
  const files = sourceFiles(root);
  if (files.length !== Object.keys(recorded).length) return false;
  for (const file of files) {
    const then = recorded[file];
    if (!then) return false;
    const stat = statSync(join(root, file));
    if (stat.size !== then.size) return false;
    if (stat.mtimeMs !== then.mtimeMs && digest(root, file) !== then.sha256) return false;
  }
  return true;
}

module.exports = { MANIFEST, describeSources, distIsCurrent, sourceFiles };
