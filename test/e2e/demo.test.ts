import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { RequestSummary } from '../../lib/rights/summary';

const PACKAGE_ROOT = resolve(__dirname, '..', '..');
const run = promisify(execFile);

describe('lethe demo from outside the repository', () => {
  let cwd: string;

  beforeAll(() => {
    cwd = mkdtempSync(join(tmpdir(), 'lethe-demo-'));
  });

  afterAll(() => rmSync(cwd, { recursive: true, force: true }));

  it('runs the lethe command from any directory, with the example found beside the code', async () => {
    // prepare: a working directory with no examples/ in it
    const command = [join(PACKAGE_ROOT, 'bin', 'lethe.js'), 'demo', '--subjects', '2', '--json'];

    // act
    const { stdout } = await run(process.execPath, command, { cwd });

    // assess
    const result = JSON.parse(stdout) as { access: RequestSummary; erasure: RequestSummary };
    expect([result.access.status, result.erasure.status]).toEqual(['completed', 'completed']);
    const config = JSON.parse(readFileSync(join(cwd, '.lethe', 'demo', 'config.json'), 'utf8')) as {
      dataMapPath: string;
    };
    expect(config.dataMapPath).toBe(join(PACKAGE_ROOT, 'examples', 'adtech', 'datamap.yaml'));
  });
});
