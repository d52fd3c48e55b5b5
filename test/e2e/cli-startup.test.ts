import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { openLocalEnvironment } from '../../lib/local/environment';
import { EXAMPLE_DATAMAP_PATH } from '../helpers/world';

const ROOT = resolve(__dirname, '..', '..');
const run = promisify(execFile);

/** Packages that take most of a second to load, or start servers: only commands that use them may. */
const HEAVY = [
  'aws-cdk-lib',
  'aws-local-stepfunctions',
  'dynalite',
  's3rver',
  '@aws-sdk/client-dynamodb',
  '@aws-sdk/client-s3',
  '@aws-sdk/client-sfn',
  '@aws-sdk/client-cloudformation',
  'zod',
  'yaml',
];

/**
 * Runs the CLI in one fresh process, command after command, and says after each which heavy
 * packages the process had loaded by then. A fresh process, because a test's module registry
 * already holds them; the TypeScript sources through tsx, because those are what a test checks.
 */
async function heavyPackagesAfter(commands: string[][]): Promise<string[][]> {
  const script = `
    const { runCli } = require(${JSON.stringify(join(ROOT, 'lib/cli/program'))});
    const heavy = ${JSON.stringify(HEAVY)};
    const loaded = () => heavy.filter((name) =>
      Object.keys(require.cache).some((file) => file.includes('/node_modules/' + name + '/')));
    (async () => {
      const after = [];
      for (const argv of ${JSON.stringify(commands)}) {
        await runCli(argv, { io: { out: () => {}, err: () => {} } });
        after.push(loaded());
      }
      process.stdout.write(JSON.stringify(after));
    })();`;
  const { stdout } = await run(process.execPath, ['--require', 'tsx/cjs', '-e', script], { cwd: ROOT });
  return JSON.parse(stdout) as string[][];
}

describe('what a CLI command loads', () => {
  let work: string;
  let stateDir: string;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'lethe-startup-'));
    stateDir = join(work, 'state');
    const env = await openLocalEnvironment({ stateDir, dataMapPath: EXAMPLE_DATAMAP_PATH, init: true });
    await env.close();
  });

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  test('help and argument errors load none of the heavy packages; read-only commands only DynamoDB', async () => {
    // Act
    const [help, groupHelp, unknownOption, missingArgument, badRequestId, status, list, holds, timeline] =
      await heavyPackagesAfter([
        ['--help'],
        ['request', '--help'],
        ['request', 'list', '--bogus'],
        ['request', 'status'],
        ['request', 'status', 'no!', '--state-dir', stateDir],
        ['request', 'status', 'req-never-submitted', '--state-dir', stateDir],
        ['request', 'list', '--state-dir', stateDir],
        ['hold', 'list', '--state-dir', stateDir],
        ['audit', 'timeline', 'req-never-submitted', '--state-dir', stateDir],
      ]);

    // Assess
    expect({ help, groupHelp, unknownOption, missingArgument, badRequestId }).toEqual({
      help: [],
      groupHelp: [],
      unknownOption: [],
      missingArgument: [],
      badRequestId: [],
    });
    // The data map comes validated from the state directory (init kept it there): no YAML parser, no zod.
    // Each list is of what the process had loaded by then: every command adds nothing to the first.
    const dynamoOnly = ['dynalite', '@aws-sdk/client-dynamodb'];
    expect({ status, list, holds, timeline }).toEqual({
      status: dynamoOnly,
      list: dynamoOnly,
      holds: dynamoOnly,
      timeline: dynamoOnly,
    });
  });
});
