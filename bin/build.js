#!/usr/bin/env node
// `npm run build` (and `npm ci`, through the prepare script): compiles the TypeScript of bin/, lib/,
// lambdas/ and examples/ to CommonJS in dist/, one file per source, for the `lethe` command to run
// without compiling at start. esbuild transpiles (a second or two; tsc needs a minute here): the
// types are checked by `npm run typecheck`, and every file compiles alone (isolatedModules).
// The record of the sources compiled (dist/sources.json) is written last, from their state before
// compiling: bin/lethe.js runs dist/ only while that record matches the sources.
const { renameSync, rmSync, writeFileSync } = require('node:fs');
const { join, resolve } = require('node:path');
const { buildSync } = require('esbuild');
const { MANIFEST, describeSources } = require('./sources.js');

const root = resolve(__dirname, '..');
rmSync(join(root, MANIFEST), { force: true });
const sources = describeSources(root);
buildSync({
  absWorkingDir: root,
  entryPoints: Object.keys(sources),
  outdir: 'dist',
  outbase: '.',
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  logLevel: 'warning',
});
const manifest = join(root, MANIFEST);
writeFileSync(`${manifest}.tmp`, `${JSON.stringify({ sources }, null, 1)}\n`);
renameSync(`${manifest}.tmp`, manifest);
