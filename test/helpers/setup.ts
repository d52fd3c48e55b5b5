import 'aws-sdk-client-mock-jest';
import fc from 'fast-check';
import '../../lib/local/polyfills';
import { SEED_VARIABLE, seedOfCurrentTest } from './property';

// The SDK warns on Node 20 that future releases need Node 22; known and documented, not test output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

// Property tests that pass fast-check no seed of their own still run the same cases on every CI
// run (seeded by the test's file and name, or LETHE_PROPERTY_SEED); propertyRun's options win.
beforeEach(() => {
  const fromEnvironment = Number(process.env[SEED_VARIABLE]?.trim() || Number.NaN);
  fc.configureGlobal({ seed: Number.isSafeInteger(fromEnvironment) ? fromEnvironment : seedOfCurrentTest() });
});
