/**
 * Size and load time of each Lambda function's bundle: `npm run bench:bundles [-- --runs N]`.
 *
 * Bundles every function of FUNCTION_SETTINGS with esbuild as the stack does (NodejsFunction:
 * minified CommonJS for Node 22, the AWS SDK bundled, source maps beside), reads the sizes from
 * esbuild's metafile, and times loading each bundle in a fresh Node process (the module scope a
 * cold start runs; it finds no configuration here, so no request is made). Prints a Markdown table
 * for docs/BENCHMARKS.md: the largest packages per function, and the median load time.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { build, type Metafile } from 'esbuild';
import { FUNCTION_SETTINGS } from '../lib/infra/workflow-function';

const ROOT = resolve(__dirname, '..');

/** The package (or project folder) an input file of the metafile belongs to. */
function owner(input: string): string {
  const inModules = input.split('node_modules/').pop() ?? input;
  if (inModules !== input) {
    const parts = inModules.split('/');
    return (inModules.startsWith('@') ? parts.slice(0, 2) : parts.slice(0, 1)).join('/');
  }
  return input.split('/').slice(0, 2).join('/');
}

function largest(metafile: Metafile, count: number): string {
  const output = Object.values(metafile.outputs).find((candidate) => candidate.entryPoint);
  const byOwner = new Map<string, number>();
  for (const [input, { bytesInOutput }] of Object.entries(output?.inputs ?? {})) {
    byOwner.set(owner(input), (byOwner.get(owner(input)) ?? 0) + bytesInOutput);
  }
  return [...byOwner]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, bytes]) => `${name} ${Math.round(bytes / 1024)}`)
    .join(', ');
}

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
    const rows: string[] = [];
    for (const [name, settings] of Object.entries(FUNCTION_SETTINGS)) {
      process.stderr.write(`bundling ${name}\n`);
      const outfile = join(out, name, 'index.js');
      const { metafile } = await build({
        entryPoints: [join(ROOT, settings.entry)],
        bundle: true,
        minify: true,
        sourcemap: true,
        sourcesContent: false,
        platform: 'node',
        target: 'node22',
        format: 'cjs',
        outfile,
        metafile: true,
        logLevel: 'error',
      });
      const bytes =
        metafile.outputs[Object.keys(metafile.outputs).find((file) => file.endsWith('.js')) ?? '']?.bytes;
      rows.push(
        `| ${name} | ${((bytes ?? 0) / 1_000_000).toFixed(2)} | ${loadMs(outfile, runs).toFixed(0)} | ${largest(metafile, 6)} |`,
      );
    }
    console.log('| function | bundle (MB) | load (ms, median) | largest parts (KB) |');
    console.log('| -------- | ----------- | ----------------- | ------------------ |');
    for (const row of rows) console.log(row);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
