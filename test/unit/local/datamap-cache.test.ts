import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DataMapError, loadDataMap, parseDataMap } from '../../../lib/datamap/load';
import type { DataMap } from '../../../lib/datamap/schema';
import { DATAMAP_CACHE_DIR, loadDataMapCached } from '../../../lib/local/datamap-cache';

const EXAMPLES = resolve(__dirname, '../../../examples');

/** The real validation, counted. */
function countingValidation() {
  const calls: string[] = [];
  const validate = (source: string, file: string): DataMap => {
    calls.push(file);
    return parseDataMap(source, file);
  };
  return { calls, validate };
}

describe('the validated data map cached in the state directory', () => {
  let work: string;
  let stateDir: string;
  let dataMapPath: string;

  beforeEach(() => {
    work = mkdtempSync(join(tmpdir(), 'lethe-datamap-cache-'));
    stateDir = join(work, 'state');
    dataMapPath = join(work, 'datamap.yaml');
    copyFileSync(join(EXAMPLES, 'adtech', 'datamap.yaml'), dataMapPath);
  });

  afterEach(() => rmSync(work, { recursive: true, force: true }));

  const cacheFiles = () => readdirSync(join(stateDir, DATAMAP_CACHE_DIR));
  const cacheFile = () => join(stateDir, DATAMAP_CACHE_DIR, cacheFiles()[0] ?? 'none');

  test.each(['adtech', 'shop'])(
    'the %s data map is validated once, and read back from the state directory exactly as validated',
    (example) => {
      // Prepare
      const path = join(EXAMPLES, example, 'datamap.yaml');
      const { calls, validate } = countingValidation();
      loadDataMapCached(stateDir, path, validate).keep();

      // Act
      const cached = loadDataMapCached(stateDir, path, validate);

      // Assess
      expect(calls).toEqual([path]);
      expect(cached.dataMap).toStrictEqual(loadDataMap(path));
      expect(cacheFiles()).toEqual([expect.stringMatching(/^datamap-[0-9a-f]{32}\.json$/)]);
    },
  );

  test('reading writes nothing: a data map is kept only when the caller says so', () => {
    // Act
    const { calls, validate } = countingValidation();
    loadDataMapCached(stateDir, dataMapPath, validate);
    loadDataMapCached(stateDir, dataMapPath, validate);

    // Assess
    expect(calls).toHaveLength(2);
    expect(readdirSync(work)).toEqual(['datamap.yaml']);
  });

  test('a changed data map is validated afresh and replaces the one kept before', () => {
    // Prepare
    const { calls, validate } = countingValidation();
    loadDataMapCached(stateDir, dataMapPath, validate).keep();
    const [before] = cacheFiles();
    const yaml = readFileSync(dataMapPath, 'utf8');
    writeFileSync(dataMapPath, yaml.replace('name: Example Ads Ltd.', 'name: Example Ads GmbH'));

    // Act
    const changed = loadDataMapCached(stateDir, dataMapPath, validate);
    changed.keep();

    // Assess
    expect(calls).toHaveLength(2);
    expect(changed.dataMap.organisation?.name).toBe('Example Ads GmbH');
    expect(cacheFiles()).toEqual([expect.stringMatching(/^datamap-[0-9a-f]{32}\.json$/)]);
    expect(cacheFiles()).not.toContain(before);
    expect(loadDataMapCached(stateDir, dataMapPath, validate).dataMap.organisation?.name).toBe(
      'Example Ads GmbH',
    );
    expect(calls).toHaveLength(2);
  });

  test.each([
    ['emptied', () => ''],
    ['cut short, as a full disk leaves it', (text: string) => text.slice(0, Math.floor(text.length / 2))],
    ['not JSON', () => 'not json\n{'],
    [
      'edited, its digest left as it was',
      (text: string) => text.replace('"Example Ads Ltd."', '"Somebody Else Ltd."'),
    ],
    [
      'given a digest that is not its own',
      (text: string) => `{"sha256":"${'0'.repeat(64)}"}${text.slice(text.indexOf('\n'))}`,
    ],
  ])(
    'a cached data map %s is not trusted: the file is validated in full and the cache rewritten',
    (_what, damage) => {
      // Prepare
      const { calls, validate } = countingValidation();
      loadDataMapCached(stateDir, dataMapPath, validate).keep();
      const file = cacheFile();
      const intact = readFileSync(file, 'utf8');
      writeFileSync(file, damage(intact));

      // Act
      const loaded = loadDataMapCached(stateDir, dataMapPath, validate);
      loaded.keep();

      // Assess
      expect(calls).toHaveLength(2);
      expect(loaded.dataMap).toStrictEqual(loadDataMap(dataMapPath));
      expect(loaded.dataMap.organisation?.name).toBe('Example Ads Ltd.');
      expect(readFileSync(file, 'utf8')).toBe(intact);
    },
  );

  test('a data map made invalid after a valid one was kept fails with its file, path, line and reason', () => {
    // Prepare
    loadDataMapCached(stateDir, dataMapPath).keep();
    const yaml = readFileSync(dataMapPath, 'utf8');
    writeFileSync(dataMapPath, yaml.replace('kind: dynamodb', 'kind: cassandra'));

    // Act
    const attempt = () => loadDataMapCached(stateDir, dataMapPath);

    // Assess
    expect(attempt).toThrow(DataMapError);
    expect(attempt).toThrow(
      new RegExp(`Invalid data map ${dataMapPath}: stores\\[\\d+\\]\\.kind \\(line \\d+\\)`),
    );
  });

  test('a data map that is no longer YAML, or no longer there, fails as it does without a cache', () => {
    // Prepare
    loadDataMapCached(stateDir, dataMapPath).keep();

    // Act + Assess
    writeFileSync(dataMapPath, 'stores: [\n');
    expect(() => loadDataMapCached(stateDir, dataMapPath)).toThrow(/YAML syntax/);
    rmSync(dataMapPath);
    expect(() => loadDataMapCached(stateDir, dataMapPath)).toThrow(
      new RegExp(`Invalid data map ${dataMapPath}: .*file not found`),
    );
  });

  test('a state directory it cannot write to still answers, validating each time', () => {
    // Prepare: where the cache directory would go, a file
    writeFileSync(stateDir, '');
    const { calls, validate } = countingValidation();

    // Act
    loadDataMapCached(stateDir, dataMapPath, validate).keep();
    const again = loadDataMapCached(stateDir, dataMapPath, validate);

    // Assess
    expect(calls).toHaveLength(2);
    expect(again.dataMap).toStrictEqual(loadDataMap(dataMapPath));
  });
});
