import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AdtechSeed, generateAdtechSeed } from '../../examples/adtech/seed';
import { loadDataMap } from '../../lib/datamap/load';
import type { RequestSummary } from '../../lib/rights/summary';
import { includeAllInReview, lethe, requestSubmitArgs } from '../helpers/cli';
import { writeExportFolder } from '../helpers/export-folder';
import { EXAMPLE_DATAMAP_PATH, richestSubject, SEED_NOW } from '../helpers/world';

/**
 * The onboarding path the discover command exists for: a company with nothing but an export of
 * its stores drafts a data map in one command, loads its data with it, and runs its first
 * request. The request must reach every store the subject has records in.
 */
describe('from an export folder to the first request, through lethe discover', () => {
  let root: string;
  let seed: AdtechSeed;

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'lethe-discover-e2e-'));
    seed = generateAdtechSeed({ subjects: 8, recordsPerSubject: 3, seed: 11, now: SEED_NOW });
    writeExportFolder(loadDataMap(EXAMPLE_DATAMAP_PATH), seed, join(root, 'export'));
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('drafts, imports and answers an access request that reaches every store the subject is in', async () => {
    // Prepare: the draft, its TODOs answered as a person would (here: the purpose of each store)
    const exportDir = join(root, 'export');
    const draftPath = join(root, 'datamap.yaml');
    const stateDir = join(root, 'state');
    const discovered = await lethe(['discover', '--dir', exportDir, '--out', draftPath, '--sample', '10000']);
    expect({ code: discovered.code, err: discovered.err }).toEqual({ code: 0, err: '' });
    writeFileSync(
      draftPath,
      readFileSync(draftPath, 'utf8').replaceAll(
        '"TODO: why the company keeps this data" # TODO',
        '"Serving our customers"',
      ),
    );
    const draft = loadDataMap(draftPath);
    expect((await lethe(['init', '--datamap', draftPath, '--state-dir', stateDir])).code).toBe(0);
    for (const store of draft.stores) {
      const source =
        store.kind === 'dynamodb'
          ? ['--file', join(exportDir, 'dynamodb', `${store.table}.jsonl`), '--keep-key-spellings']
          : ['--dir', join(exportDir, 's3', store.bucket)];
      const run = await lethe(['import', '--store', store.id, ...source, '--state-dir', stateDir]);
      expect({ store: store.id, code: run.code, err: run.err }).toEqual({
        store: store.id,
        code: 0,
        err: '',
      });
    }
    const subject = richestSubject(seed);

    // Act
    const submitted = await lethe(requestSubmitArgs(stateDir, 'access', [`email=${subject.email}`]));
    const summary = await includeAllInReview(stateDir, JSON.parse(submitted.out) as RequestSummary);

    // Assess
    expect(summary.status).toBe('completed');
    const hand = loadDataMap(EXAMPLE_DATAMAP_PATH);
    // Discovery samples text only: it cannot draft the Parquet bid logs yet, so they are not expected.
    const isParquet = (store: (typeof hand.stores)[number] | undefined) =>
      store?.kind === 's3' && store.locate.some((rule) => 'parquet' in rule);
    const expected = Object.entries(subject.owns)
      .filter(([, count]) => count > 0)
      .map(([storeId]) => hand.stores.find((candidate) => candidate.id === storeId))
      .filter((store) => !isParquet(store))
      .map((store) => (store?.kind === 'dynamodb' ? store.table : store?.bucket))
      .sort();
    const found = summary.stores
      .filter((store) => store.located > 0)
      .map((store) => {
        const drafted = draft.stores.find((candidate) => candidate.id === store.store);
        return drafted?.kind === 'dynamodb' ? drafted.table : drafted?.bucket;
      });
    expect(expected.filter((name) => !found.includes(name))).toEqual([]);
  });
});
