#!/usr/bin/env node
import { runCli } from '../lib/cli/program';

runCli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`lethe: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
