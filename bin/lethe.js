#!/usr/bin/env node
// The `lethe` command. It runs the compiled JavaScript in dist/ (built by `npm ci` through the prepare
// script, or `npm run build`) when that build is of the sources as they are now, and otherwise the
// TypeScript sources through tsx: a developer who edited a file and did not build again gets the
// code they wrote, never a stale build (bin/sources.js compares every source with what the build
// recorded, in a few milliseconds). The compiled code starts several times faster than tsx does.
const { distIsCurrent } = require('./sources.js');

if (distIsCurrent(require('node:path').resolve(__dirname, '..'))) {
  require('../dist/bin/lethe.js');
} else {
  require('tsx/cjs');
  require('./lethe.ts');
}
