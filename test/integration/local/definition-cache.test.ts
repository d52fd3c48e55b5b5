import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDataMap } from '../../../lib/datamap/load';
import type { DataMap } from '../../../lib/datamap/schema';
import {
  type AslObject,
  cachedWorkflowDefinition,
  requestWorkflowDefinition,
  sweepWorkflowDefinition,
  type WorkflowName,
} from '../../../lib/local/definitions';
import { adtechDataMap, TEST_DATAMAP_YAML } from '../../helpers/stacks';

/** The real synthesis, counted. */
function countingSynthesis() {
  const calls: WorkflowName[] = [];
  const synthesize = (dataMap: DataMap, which: WorkflowName): AslObject => {
    calls.push(which);
    return which === 'request' ? requestWorkflowDefinition(dataMap) : sweepWorkflowDefinition(dataMap);
  };
  return { calls, synthesize };
}

describe('synthesized definitions cached in the state directory', () => {
  let stateDir: string;

  beforeEach(() => {
    stateDir = mkdtempSync(join(tmpdir(), 'lethe-definitions-'));
  });

  afterEach(() => rmSync(stateDir, { recursive: true, force: true }));

  const cacheFiles = () => readdirSync(join(stateDir, 'definitions')).sort();

  test('a data map is synthesized once; the next run reads the definition from the state directory', () => {
    // Prepare
    const dataMap = adtechDataMap();
    const { calls, synthesize } = countingSynthesis();

    // Act
    const first = cachedWorkflowDefinition(stateDir, dataMap, 'request', synthesize);
    const second = cachedWorkflowDefinition(stateDir, adtechDataMap(), 'request', synthesize);

    // Assess
    expect(calls).toEqual(['request']);
    expect(second).toEqual(first);
    expect(cacheFiles()).toEqual([expect.stringMatching(/^request-[0-9a-f]{32}\.json$/)]);
  });

  test('a changed data map is synthesized afresh, and the definition of the old one is removed', () => {
    // Prepare
    const before = adtechDataMap();
    const changed = parseDataMap(TEST_DATAMAP_YAML);
    const { calls, synthesize } = countingSynthesis();
    cachedWorkflowDefinition(stateDir, before, 'sweep', synthesize);
    const [oldFile] = cacheFiles();

    // Act
    const definition = cachedWorkflowDefinition(stateDir, changed, 'sweep', synthesize);

    // Assess
    expect(calls).toEqual(['sweep', 'sweep']);
    expect(definition).toEqual(sweepWorkflowDefinition(changed));
    expect(cacheFiles()).toEqual([expect.stringMatching(/^sweep-[0-9a-f]{32}\.json$/)]);
    expect(cacheFiles()).not.toContain(oldFile);
  });

  test('the request and sweep definitions are kept side by side', () => {
    // Prepare
    const dataMap = adtechDataMap();
    const { calls, synthesize } = countingSynthesis();

    // Act
    cachedWorkflowDefinition(stateDir, dataMap, 'request', synthesize);
    cachedWorkflowDefinition(stateDir, dataMap, 'sweep', synthesize);
    cachedWorkflowDefinition(stateDir, dataMap, 'request', synthesize);

    // Assess
    expect(calls).toEqual(['request', 'sweep']);
    expect(cacheFiles().map((name) => name.split('-')[0])).toEqual(['request', 'sweep']);
  });

  test('a damaged cached definition is synthesized again and replaced', () => {
    // Prepare
    const dataMap = adtechDataMap();
    const { calls, synthesize } = countingSynthesis();
    const expected = cachedWorkflowDefinition(stateDir, dataMap, 'request', synthesize);
    const [file] = cacheFiles();
    writeFileSync(join(stateDir, 'definitions', file!), '{"StartAt": "Ver');

    // Act
    const definition = cachedWorkflowDefinition(stateDir, dataMap, 'request', synthesize);

    // Assess
    expect(calls).toEqual(['request', 'request']);
    expect(definition).toEqual(expected);
    expect(cachedWorkflowDefinition(stateDir, dataMap, 'request', synthesize)).toEqual(expected);
    expect(calls).toHaveLength(2);
  });
});
