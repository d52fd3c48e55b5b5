import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleFunctions, largestParts } from '../../lib/infra/bundles';
import type { Goal, Table } from '../support/report';
import type { Scenario } from './types';

/** What the stack's bundle test holds each function to (test/infra/bundles.test.ts): the console's pages carry a web framework. */
const BUNDLE_LIMIT_BYTES = 1_000_000;
const CONSOLE_LIMIT_BYTES = 2_000_000;
const limitOf = (name: string) =>
  name === 'consoleRead' || name === 'consoleAct' ? CONSOLE_LIMIT_BYTES : BUNDLE_LIMIT_BYTES;

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

export interface BundleMeasurement {
  name: string;
  bytes: number;
  /** Median time to require the bundle in a fresh Node process, ms. */
  loadMs: number | null;
  /** The largest inputs by package or lib/ folder, bytes. */
  parts: [string, number][];
}

/**
 * Bundles every function as the stack does (bundleFunctions: esbuild, minified CommonJS for Node 22,
 * the AWS SDK bundled), reads the sizes from esbuild's metafile, and times loading each bundle.
 */
export async function measureBundles(runs: number): Promise<BundleMeasurement[]> {
  const out = mkdtempSync(join(tmpdir(), 'lethe-bundles-'));
  try {
    const bundles = await bundleFunctions(out);
    return bundles.map((bundle) => ({
      name: bundle.name,
      bytes: bundle.bytes,
      loadMs: bundle.file && runs > 0 ? Math.round(loadMs(bundle.file, runs)) : null,
      parts: largestParts(bundle).slice(0, 6),
    }));
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** The table `npm run bench:bundles` prints and the bundles scenario reports. */
export function bundlesTable(bundles: BundleMeasurement[], runs: number): Table {
  return {
    title: 'Lambda bundles (esbuild metafile)',
    columns: {
      name: 'function',
      mb: 'bundle (MB)',
      load: `load (ms, median of ${runs})`,
      parts: 'largest parts (KB)',
    },
    rows: bundles.map((bundle) => ({
      name: bundle.name,
      mb: Math.round(bundle.bytes / 10_000) / 100,
      load: bundle.loadMs,
      parts: bundle.parts.map(([name, bytes]) => `${name} ${Math.round(bytes / 1024)}`).join(', '),
    })),
  };
}

/** Per-function bundle sizes, as part of `npm run bench` (load times: 3 runs, 1 with --quick). */
export const bundlesScenario: Scenario = {
  name: 'bundles',
  summary: "each Lambda function's bundle size from esbuild's metafile, and its load time",
  async run(options) {
    const runs = options.quick ? 1 : 3;
    options.progress('bundles: bundling every function');
    const bundles = await measureBundles(runs);
    const over = bundles.filter((bundle) => bundle.bytes >= limitOf(bundle.name));
    const largest = Math.max(
      ...bundles
        .filter((bundle) => limitOf(bundle.name) === BUNDLE_LIMIT_BYTES)
        .map((bundle) => bundle.bytes),
    );
    const goals: Goal[] = [
      {
        goal: `Every bundle under ${BUNDLE_LIMIT_BYTES.toLocaleString('en-US')} bytes (the console's pages under ${CONSOLE_LIMIT_BYTES.toLocaleString('en-US')})`,
        met: over.length === 0,
        measured:
          over.length === 0
            ? `largest outside the console's pages: ${largest.toLocaleString('en-US')} bytes`
            : `over: ${over.map((bundle) => `${bundle.name} ${bundle.bytes.toLocaleString('en-US')}`).join(', ')}`,
      },
    ];
    return {
      scenario: 'bundles',
      params: { loadRuns: runs },
      tables: [bundlesTable(bundles, runs)],
      data: { bundles },
      goals,
    };
  },
};
