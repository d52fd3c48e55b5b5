/**
 * Size and load time of each Lambda function's bundle: `npm run bench:bundles [-- --runs N]`.
 *
 * Bundles every function of FUNCTION_SETTINGS with esbuild as the stack does (bundleFunctions:
 * minified CommonJS for Node 22, the AWS SDK bundled, source maps beside), reads the sizes from
 * esbuild's metafile, and times loading each bundle in a fresh Node process (the module scope a
 * cold start runs; it finds no configuration here, so no request is made). Prints a Markdown table
 * for docs/BENCHMARKS.md: the largest packages per function, and the median load time.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { bundleFunctions, largestParts } from '../lib/infra/bundles';

/** Milliseconds to load the bundle in a fresh Node process: the median of `runs`. */
function loadMs(file: string, runs: number): number {
  const script = `const start = process.hrtime.bigint(); require(${JSON.stringify(file)}); process.stdout.write(String(Number(process.hrtime.bigint() - start) / 1e6));`;
  const times = Array.from({ length: runs }, () =>
    Number(
      execFileSync(process.execPath, ['-e', script], {
        env: { PATH: process.env.PATH, AWS_REGION: 'eu-west-1' },
        encoding: 'utf8',
      }),
    ),
  ).sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] ?? Number.NaN;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' } } });
  const runs = Number(values.runs);
  const out = mkdtempSync(join(tmpdir(), 'lethe-bundles-'));
  try {
    process.stderr.write('bundling every function\n');
    const bundles = await bundleFunctions(out);
    console.log('| function | bundle (MB) | load (ms, median) | largest parts (KB) |');
    console.log('| -------- | ----------- | ----------------- | ------------------ |');
    for (const bundle of bundles) {
      const parts = largestParts(bundle)
        .slice(0, 6)
        .map(([name, bytes]) => `${name} ${Math.round(bytes / 1024)}`)
        .join(', ');
      const load = bundle.file ? loadMs(bundle.file, runs).toFixed(0) : '–';
      console.log(`| ${bundle.name} | ${(bundle.bytes / 1_000_000).toFixed(2)} | ${load} | ${parts} |`);
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
