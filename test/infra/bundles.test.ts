import { bundleFunctions, type FunctionBundle, largestParts } from '../../lib/infra/bundles';
import { FUNCTION_SETTINGS } from '../../lib/infra/workflow-function';

/**
 * Every function's bundle, built as the stack builds it, stays within 1 MB minified (issue 11:
 * cold start), and carries only what its own step uses.
 */

const LIMIT_BYTES = 1_000_000;

let bundles: FunctionBundle[];

beforeAll(async () => {
  // Prepare: one esbuild run over every function (a few seconds; nothing is written).
  bundles = await bundleFunctions();
}, 120_000);

const bundle = (name: string) => bundles.find((candidate) => candidate.name === name);
const packages = (name: string) => largestParts(bundle(name) as FunctionBundle).map(([owner]) => owner);

it('bundles every function', () => {
  expect(bundles.map(({ name }) => name).sort()).toEqual(Object.keys(FUNCTION_SETTINGS).sort());
});

it('keeps each bundle within 1 MB', () => {
  const sizes = Object.fromEntries(bundles.map(({ name, bytes }) => [name, bytes]));
  for (const [name, bytes] of Object.entries(sizes)) {
    expect({ name, within: bytes <= LIMIT_BYTES, bytes }).toEqual({ name, within: true, bytes });
  }
});

it("leaves other steps' code out: Verify carries no zip writer, only the export step does", () => {
  expect(packages('verify')).not.toContain('yazl');
  expect(packages('exportPackage')).toContain('yazl');
});

it('gives the Step Functions and Secrets Manager clients only to the functions that use them', () => {
  expect(packages('intake')).toContain('@aws-sdk/client-sfn');
  expect(packages('recordOutcome')).not.toContain('@aws-sdk/client-sfn');
  expect(packages('verify')).toContain('@aws-sdk/client-secrets-manager');
  expect(packages('recordSweep')).not.toContain('@aws-sdk/client-secrets-manager');
});
