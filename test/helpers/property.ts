import { relative } from 'node:path';
import fc from 'fast-check';

/**
 * Options for every `fc.assert` in the tests, so that any property run can be replayed and
 * lengthened from the command line:
 *
 * - `LETHE_PROPERTY_SEED`: the seed (an integer) instead of the test's default (a seed the test
 *   fixes, or one fixed by its file and name, so CI runs the same cases every time).
 * - `LETHE_PROPERTY_RUNS`: the number of runs instead of the test's default (CI keeps the default;
 *   set it higher for a longer search, e.g. `LETHE_PROPERTY_RUNS=10000 npx jest test/unit`).
 *
 * On failure, fast-check's own report (seed, path, counterexample, shrinks) is thrown with a line
 * that replays it, `LETHE_PROPERTY_SEED=<seed> npx jest <file> -t '<test name>'`, and the message
 * of what the property threw (also the error's cause, whose stack Jest shows).
 */
export interface PropertyRun {
  seed?: number;
  /** The runs this property makes: the default, or LETHE_PROPERTY_RUNS. Scale acceptance counts by it. */
  numRuns: number;
  /** Generic, so these options fit `fc.assert` whatever the property's arguments. */
  reporter: <Ts>(details: fc.RunDetails<Ts>) => void;
}

export const SEED_VARIABLE = 'LETHE_PROPERTY_SEED';
export const RUNS_VARIABLE = 'LETHE_PROPERTY_RUNS';
/** fast-check's own default. */
const DEFAULT_RUNS = 100;

function integerFromEnvironment(name: string, valid: (value: number) => boolean): number | undefined {
  const text = process.env[name]?.trim();
  if (!text) return undefined;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || !valid(value)) {
    throw new Error(`${name} must be an integer${name === RUNS_VARIABLE ? ' above 0' : ''}, got ${text}`);
  }
  return value;
}

/** Single-quotes a value for a POSIX shell. */
const shellQuote = (value: string): string => `'${value.replaceAll("'", `'\\''`)}'`;

/** Escapes a test name for Jest's `-t`, which takes a regular expression. */
const escapeRegExp = (value: string): string => value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The command that reruns the current test with `seed` (and the runs used, when they were overridden). */
export function replayCommand(seed: number): string {
  const { testPath, currentTestName } = expect.getState();
  const runs = process.env[RUNS_VARIABLE]?.trim();
  const variables = [`${SEED_VARIABLE}=${seed}`, ...(runs ? [`${RUNS_VARIABLE}=${runs}`] : [])];
  const file = testPath ? relative(process.cwd(), testPath) : '<test file>';
  const name = currentTestName ? ` -t ${shellQuote(`^${escapeRegExp(currentTestName)}$`)}` : '';
  return `${variables.join(' ')} npx jest ${file}${name}`;
}

/**
 * A seed fixed by the test's file and name: CI explores the same cases on every run, so a red run
 * is a change's doing, never the dice's; LETHE_PROPERTY_SEED explores others.
 */
export function seedOfCurrentTest(): number {
  const { testPath, currentTestName } = expect.getState();
  const text = `${testPath ? relative(process.cwd(), testPath) : ''}\u0000${currentTestName ?? ''}`;
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index += 1) {
    hash = Math.imul(hash ^ text.charCodeAt(index), 0x01000193);
  }
  return hash | 0;
}

/**
 * The options to give `fc.assert`: `defaults` are the test's own run count (and seed, if it
 * fixes one), overridden by LETHE_PROPERTY_RUNS and LETHE_PROPERTY_SEED.
 */
export function propertyRun(defaults: { numRuns?: number; seed?: number } = {}): PropertyRun {
  const seed = integerFromEnvironment(SEED_VARIABLE, () => true) ?? defaults.seed ?? seedOfCurrentTest();
  const numRuns =
    integerFromEnvironment(RUNS_VARIABLE, (value) => value > 0) ?? defaults.numRuns ?? DEFAULT_RUNS;
  return {
    ...(seed === undefined ? {} : { seed }),
    numRuns,
    reporter: <Ts>(details: fc.RunDetails<Ts>) => {
      if (!details.failed) return;
      const report = fc.defaultReportMessage(details) ?? 'Property failed';
      const thrown = details.errorInstance;
      // The message carries what the property threw too: `expect(act).not.toThrow()` shows only the message.
      const got =
        thrown === undefined ? '' : `\n\nGot: ${thrown instanceof Error ? thrown.message : String(thrown)}`;
      throw new Error(`${report}\n\nReplay: ${replayCommand(details.seed)}${got}`, { cause: thrown });
    },
  };
}
