#!/usr/bin/env node
// The installed `lethe` command: runs the TypeScript entry through tsx, a runtime dependency.
require('tsx/cjs');
require('./lethe.ts');
