/**
 * Size and load time of each Lambda function's bundle: `npm run bench:bundles [-- --runs N]`; the
 * same figures as the `bundles` scenario of `npm run bench`.
 *
 * Bundles every function of FUNCTION_SETTINGS with esbuild as the stack does (bundleFunctions:
 * minified CommonJS for Node 22, the AWS SDK bundled, source maps beside), reads the sizes from
 * esbuild's metafile, and times loading each bundle in a fresh Node process (the module scope a
 * cold start runs; it finds no configuration here, so no request is made). Prints a Markdown table
 * for docs/BENCHMARKS.md: the largest packages per function, and the median load time.
 */
import { parseArgs } from 'node:util';
import { bundlesTable, measureBundles } from './scenarios/bundles';
import { renderTable } from './support/report';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' } } });
  const runs = Number(values.runs);
  process.stderr.write('bundling every function\n');
  process.stdout.write(renderTable(bundlesTable(await measureBundles(runs), runs)));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
