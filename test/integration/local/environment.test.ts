import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomicSync } from '../../../lib/local/atomic-file';
import { LocalStateError, openLocalEnvironment } from '../../../lib/local/environment';
import { appendHistoryEvent, readHistory } from '../../../lib/local/execution';

const EXAMPLE = join(__dirname, '../../../examples/adtech/datamap.yaml');

describe('the local state directory', () => {
  let work: string;
  let stateDir: string;
  let otherMap: string;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'lethe-env-'));
    stateDir = join(work, 'state');
    otherMap = join(work, 'other.yaml');
    copyFileSync(EXAMPLE, otherMap);
    const env = await openLocalEnvironment({ stateDir, dataMapPath: EXAMPLE, init: true });
    await env.close();
  });

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  test('init with another data map is refused without --force and changes nothing', async () => {
    // Prepare
    const before = readFileSync(join(stateDir, 'config.json'), 'utf8');

    // Act
    const attempt = openLocalEnvironment({ stateDir, dataMapPath: otherMap, init: true });

    // Assess
    await expect(attempt).rejects.toThrow(LocalStateError);
    await expect(attempt).rejects.toThrow(/initialised for the data map .*--force/);
    expect(readFileSync(join(stateDir, 'config.json'), 'utf8')).toBe(before);
  });

  test('init with --force switches the data map', async () => {
    const env = await openLocalEnvironment({ stateDir, dataMapPath: otherMap, init: true, force: true });
    await env.close();

    expect(JSON.parse(readFileSync(join(stateDir, 'config.json'), 'utf8'))).toMatchObject({
      dataMapPath: otherMap,
    });
    const back = await openLocalEnvironment({ stateDir, dataMapPath: EXAMPLE, init: true, force: true });
    await back.close();
  });

  test('an init that cannot take the state directory writes nothing', async () => {
    // Prepare: the directory is held open by another command of this process.
    const held = await openLocalEnvironment({ stateDir });
    const before = readFileSync(join(stateDir, 'config.json'), 'utf8');
    try {
      // Act
      const attempt = openLocalEnvironment({ stateDir, dataMapPath: otherMap, init: true, force: true });

      // Assess
      await expect(attempt).rejects.toThrow(/in use/);
      expect(readFileSync(join(stateDir, 'config.json'), 'utf8')).toBe(before);
    } finally {
      await held.close();
    }
  });

  test('a damaged config file is named in the error', async () => {
    const copy = join(work, 'damaged');
    const env = await openLocalEnvironment({ stateDir: copy, dataMapPath: EXAMPLE, init: true });
    await env.close();
    writeFileSync(join(copy, 'config.json'), '');

    await expect(openLocalEnvironment({ stateDir: copy })).rejects.toThrow(
      new RegExp(`${join(copy, 'config.json')} cannot be read`),
    );
  });
});

describe('the data map an environment runs with', () => {
  let work: string;

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'lethe-env-datamap-'));
  });

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  test('is kept validated by the open, and an edit of the file is picked up by the next one', async () => {
    // Prepare
    const stateDir = join(work, 'state');
    const dataMapPath = join(work, 'datamap.yaml');
    copyFileSync(EXAMPLE, dataMapPath);
    const first = await openLocalEnvironment({ stateDir, dataMapPath, init: true });
    await first.close();
    const kept = readdirSync(join(stateDir, 'datamap-cache'));
    writeFileSync(
      dataMapPath,
      readFileSync(dataMapPath, 'utf8').replace('name: Example Ads Ltd.', 'name: Example Ads GmbH'),
    );

    // Act
    const second = await openLocalEnvironment({ stateDir, readOnly: true });
    await second.close();
    const third = await openLocalEnvironment({ stateDir, readOnly: true });
    await third.close();

    // Assess
    expect(kept).toEqual([expect.stringMatching(/^datamap-[0-9a-f]{32}\.json$/)]);
    expect(first.dataMap.organisation?.name).toBe('Example Ads Ltd.');
    expect([second, third].map((env) => env.dataMap.organisation?.name)).toEqual([
      'Example Ads GmbH',
      'Example Ads GmbH',
    ]);
    expect(readdirSync(join(stateDir, 'datamap-cache'))).not.toEqual(kept);
  });

  test('a data map that no longer validates fails the open, naming the file, path and reason', async () => {
    // Prepare
    const stateDir = join(work, 'broken');
    const dataMapPath = join(work, 'broken.yaml');
    copyFileSync(EXAMPLE, dataMapPath);
    const env = await openLocalEnvironment({ stateDir, dataMapPath, init: true });
    await env.close();
    writeFileSync(
      dataMapPath,
      readFileSync(dataMapPath, 'utf8').replace('kind: dynamodb', 'kind: cassandra'),
    );

    // Act
    const attempt = openLocalEnvironment({ stateDir, readOnly: true });

    // Assess
    await expect(attempt).rejects.toThrow(
      new RegExp(`Invalid data map ${dataMapPath}: stores\\[\\d+\\]\\.kind \\(line \\d+\\)`),
    );
  });
});

describe('atomic writes and histories', () => {
  let work: string;

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'lethe-atomic-'));
  });

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  test('writeFileAtomicSync replaces the file and leaves no temporary file', () => {
    const file = join(work, 'config.json');
    writeFileSync(file, 'old');

    writeFileAtomicSync(file, 'new');

    expect(readFileSync(file, 'utf8')).toBe('new');
    expect(readdirSync(work)).toEqual(['config.json']);
  });

  test('a torn last line of a history (a killed writer) is skipped, and the next event starts a line', () => {
    // Prepare: one complete event and half of another, as a kill -9 mid-append leaves it.
    const executionsDir = join(work, 'executions');
    mkdirSync(executionsDir);
    const file = join(executionsDir, 'r-1.jsonl');
    writeFileSync(
      file,
      `${JSON.stringify({ at: '2026-01-01T00:00:00.000Z', type: 'ExecutionStarted' })}\n{"at":"2026-01`,
    );

    // Act
    appendHistoryEvent(file, { at: '2026-01-01T00:00:01.000Z', type: 'ExecutionAborted' });
    const events = readHistory({ executionsDir }, 'r-1');

    // Assess
    expect(events.map((event) => event.type)).toEqual(['ExecutionStarted', 'ExecutionAborted']);
  });
});
