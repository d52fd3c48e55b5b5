import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { RequestSummary } from '../../lib/rights/summary';
import { lethe, requestSubmitArgs, snapshotStateDir } from '../helpers/cli';
import { contact, IMPORT_DATAMAP_YAML, writeLines } from '../helpers/import';
import type { SnapshotEntry } from '../helpers/world';

/**
 * `lethe import` end to end, in-process: bad input is refused as a whole with every bad line named
 * (never a value) and changes nothing; what is imported is counted as stored; locate keys are
 * normalised on request; folders warn about files no request would find.
 */

let root: string;
let stateDir: string;

const importArgs = (store: string, source: string[], extra: string[] = []) => [
  'import',
  '--store',
  store,
  ...source,
  '--state-dir',
  stateDir,
  ...extra,
];

const entriesOf = (snapshot: Map<string, SnapshotEntry>, storeId: string) =>
  [...snapshot.values()].filter((entry) => entry.storeId === storeId);

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'lethe-import-e2e-'));
  stateDir = join(root, 'state');
  const datamap = join(root, 'datamap.yaml');
  writeFileSync(datamap, IMPORT_DATAMAP_YAML);
  expect((await lethe(['init', '--datamap', datamap, '--state-dir', stateDir])).code).toBe(0);
  // Data already there, so "changes nothing" is measured on a store that holds something.
  const base = writeLines(
    join(root, 'base.jsonl'),
    Array.from({ length: 5 }, (_, n) => contact(n + 1)),
  );
  expect(await lethe(importArgs('contacts', ['--file', base]))).toMatchObject({ code: 0, err: '' });
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Sixty valid items, numbered from 101 so they are new to the store. */
const sixty = () => Array.from({ length: 60 }, (_, n) => contact(101 + n));

describe('lethe import --file: a file with a bad line writes nothing', () => {
  test.each([
    [
      'an empty-string key at line 26 of 60',
      () => sixty().map((item, n) => (n === 25 ? { ...item, email: '' } : item)),
      26,
      /key attribute "email" is empty; DynamoDB key values need at least one character/,
    ],
    [
      'an item of 410 KB',
      () => sixty().map((item, n) => (n === 40 ? { ...item, notes: 'n'.repeat(410 * 1024) } : item)),
      41,
      /the item is 410\.\d KB, over DynamoDB's limit of 400 KB/,
    ],
    [
      'an index key attribute of the wrong type',
      () => sixty().map((item, n) => (n === 9 ? { ...item, cookieId: 12345 } : item)),
      10,
      /index byCookie key attribute "cookieId" must be a non-empty string \(S\); it is a number/,
    ],
    [
      'a 10 MB line',
      () => sixty().map((item, n) => (n === 29 ? { ...item, blob: 'b'.repeat(10 * 1024 * 1024) } : item)),
      30,
      /the line is 10\.0 MB, longer than the 1\.0 MB a line may have/,
    ],
    [
      'a duplicate key',
      () => sixty().map((item, n) => (n === 50 ? { ...contact(103), name: 'Another' } : item)),
      51,
      /the same table key as line 3; the second item would replace the first/,
    ],
  ])('%s', async (_name, lines, lineNumber, problem) => {
    // Prepare
    const file = writeLines(join(root, 'bad.jsonl'), lines());
    const before = await snapshotStateDir(stateDir);

    // Act
    const run = await lethe(importArgs('contacts', ['--file', file]));

    // Assess
    const err = run.err.trimEnd().split('\n');
    expect(run.code).toBe(2);
    expect(run.out).toBe('');
    expect(err).toHaveLength(2);
    expect(err[0]).toMatch(
      /^lethe: .*bad\.jsonl has 1 line that cannot be imported \(of 60\), so nothing was imported: fix the lines listed below and run the import again\.$/,
    );
    expect(err[1]).toContain(`bad.jsonl:${lineNumber}: `);
    expect(err[1]).toMatch(problem);
    expect(run.err).not.toMatch(/person\d+@example\.com|Person \d+|Another/);
    expect(await snapshotStateDir(stateDir)).toEqual(before);
  });

  it('lists every bad line of a file with several, and still writes nothing', async () => {
    // Prepare
    const lines: (Record<string, unknown> | string)[] = sixty();
    lines[1] = '{"email": "broken';
    lines[25] = { ...contact(126), email: '' };
    lines[59] = { ...contact(160), seq: 'sixty' };
    const file = writeLines(join(root, 'several.jsonl'), lines);
    const before = await snapshotStateDir(stateDir);

    // Act
    const run = await lethe(importArgs('contacts', ['--file', file]));

    // Assess
    expect(run.code).toBe(2);
    expect(run.err.trimEnd().split('\n').slice(1)).toEqual([
      expect.stringMatching(/several\.jsonl:2: not valid JSON/),
      expect.stringMatching(/several\.jsonl:26: key attribute "email" is empty/),
      expect.stringMatching(/several\.jsonl:60: key attribute "seq" must be a number/),
    ]);
    expect(await snapshotStateDir(stateDir)).toEqual(before);
  });
});

describe('lethe import --file: what is imported', () => {
  it('says how many items were stored, and that many are', async () => {
    // Prepare
    const file = writeLines(
      join(root, 'thirty.jsonl'),
      Array.from({ length: 30 }, (_, n) => contact(201 + n)),
    );
    const before = entriesOf(await snapshotStateDir(stateDir), 'contacts').length;

    // Act
    const run = await lethe(importArgs('contacts', ['--file', file, '--json']));

    // Assess
    expect(run.code).toBe(0);
    expect(JSON.parse(run.out)).toEqual({ store: 'contacts', imported: 30, normalisedKeys: 0, keptKeys: 0 });
    expect(entriesOf(await snapshotStateDir(stateDir), 'contacts').length).toBe(before + 30);
  });

  it('refuses locate keys not in normalised form, and stores them normalised with --normalise-keys, where locate finds them', async () => {
    // Prepare
    const file = writeLines(join(root, 'legacy.jsonl'), [
      { email: '  Ada.Lovelace@Example.COM ', seq: 1, cookieId: 'C00KIE-ADA', name: 'Ada' },
      contact(301),
    ]);
    const before = await snapshotStateDir(stateDir);

    // Act
    const refused = await lethe(importArgs('contacts', ['--file', file]));
    const unchanged = await snapshotStateDir(stateDir);
    const normalised = await lethe(importArgs('contacts', ['--file', file, '--normalise-keys']));
    const after = entriesOf(await snapshotStateDir(stateDir), 'contacts');
    const access = await lethe(requestSubmitArgs(stateDir, 'access', ['email=ada.lovelace@example.com']));

    // Assess
    expect(refused.code).toBe(2);
    expect(refused.err).toMatch(/pass --normalise-keys to store locate keys normalised/);
    expect(refused.err).toMatch(
      /legacy\.jsonl:1: locate key "email" \(the table key\) is not a normalised email/,
    );
    expect(refused.err).toMatch(
      /legacy\.jsonl:1: .*locate key "cookieId" \(index byCookie\) is not a normalised cookieId/,
    );
    expect(refused.err).not.toMatch(/Lovelace|C00KIE/i);
    expect(unchanged).toEqual(before);
    expect(normalised.code).toBe(0);
    expect(normalised.out).toMatch(
      /^Imported 2 items into contacts\.\n2 locate key values were stored normalised/,
    );
    expect(after.map((entry) => entry.record)).toContainEqual(
      expect.objectContaining({ email: 'ada.lovelace@example.com', cookieId: 'c00kie-ada' }),
    );
    const summary = JSON.parse(access.out) as RequestSummary;
    expect(summary.status).toBe('completed');
    expect(summary.stores.find((store) => store.store === 'contacts')).toMatchObject({ located: 1 });
  });

  it('stores locate keys as given with --keep-key-spellings, and says locate finds them only by that spelling', async () => {
    // Prepare
    const file = writeLines(join(root, 'kept.jsonl'), [{ email: ' Bob@Example.COM', seq: 1, name: 'Bob' }]);

    // Act
    const run = await lethe(importArgs('contacts', ['--file', file, '--keep-key-spellings']));
    const access = await lethe(requestSubmitArgs(stateDir, 'access', ['email=bob@example.com']));

    // Assess
    expect(run.code).toBe(0);
    expect(run.out).toMatch(/1 locate key value is not in normalised form and stored as given/);
    expect(
      entriesOf(await snapshotStateDir(stateDir), 'contacts').map((entry) => entry.record),
    ).toContainEqual(expect.objectContaining({ email: ' Bob@Example.COM' }));
    const summary = JSON.parse(access.out) as RequestSummary;
    expect(summary.stores.find((store) => store.store === 'contacts')).toMatchObject({ located: 0 });
  });

  it.each([
    [
      ['--normalise-keys', '--keep-key-spellings'],
      'contacts',
      /--normalise-keys or --keep-key-spellings, not both/,
    ],
    [['--normalise-keys'], 'letters', /--normalise-keys applies to --file imports into DynamoDB stores only/],
  ])('refuses %j for store %s as a usage error', async (flags, store, message) => {
    // Prepare
    const source = store === 'contacts' ? ['--file', join(root, 'base.jsonl')] : ['--dir', root];

    // Act
    const run = await lethe(importArgs(store, source, flags));

    // Assess
    expect(run.code).toBe(2);
    expect(run.err).toMatch(message);
  });
});

describe('lethe import --dir', () => {
  /** Writes files under a new folder; returns the folder. */
  function folder(name: string, files: Record<string, string | Buffer>): string {
    const dir = join(root, name);
    for (const [key, body] of Object.entries(files)) {
      mkdirSync(join(dir, key, '..'), { recursive: true });
      writeFileSync(join(dir, key), body);
    }
    return dir;
  }

  it('imports files no request would find, warning by folder without naming them', async () => {
    // Prepare
    const dir = folder('letters-export', {
      'letters/ada@example.com/1.txt': 'Dear Ada',
      'letters/Ada@Example.com/2.txt': 'Dear Ada again',
      'letters/letters/3.txt': 'Misplaced',
      'notes.txt': 'Not a letter',
    });

    // Act
    const run = await lethe(importArgs('letters', ['--dir', dir]));

    // Assess
    expect(run.code).toBe(0);
    expect(run.out).toBe('Imported 4 objects into letters.\n');
    expect(run.err.trimEnd().split('\n')).toEqual([
      'lethe: warning: 2 files are where no request of store letters will find them (1 in letters/ but not in a folder named by a valid email (letters/{email}/), 1 at the top of the folder); they were imported, but nor will a retention sweep, for 1 of them: move them under a prefix the data map locates by, or leave them out of the folder.',
      'lethe: warning: 1 file is in subject folders whose names are not in normalised form, so a request finds them only by that exact spelling (lethe check counts them): rename the folders to the normalised value.',
    ]);
    expect(entriesOf(await snapshotStateDir(stateDir), 'letters').map((entry) => entry.record)).toEqual(
      expect.arrayContaining(['letters/ada@example.com/1.txt', 'letters/letters/3.txt', 'notes.txt']),
    );
  });

  it('refuses the whole seed folder given for one store, pointing at its own folder, and uploads nothing', async () => {
    // Prepare
    const seed = folder('seed', {
      'contacts.jsonl': `${JSON.stringify(contact(1))}\n`,
      'letters/letters/ada@example.com/1.txt': 'Dear Ada',
      'chats/chats/day-1.jsonl': `${JSON.stringify({ email: 'ada@example.com', text: 'Hi' })}\n`,
    });
    const before = await snapshotStateDir(stateDir);

    // Act
    const run = await lethe(importArgs('letters', ['--dir', seed]));

    // Assess
    expect(run.code).toBe(2);
    expect(run.err.trimEnd()).toBe(
      `lethe: none of the 3 files under ${seed} is where a request of store letters looks (letters/{email}/), so nothing was imported: pass the folder whose relative paths are the object keys (--dir ${join(seed, 'letters')}?).`,
    );
    expect(await snapshotStateDir(stateDir)).toEqual(before);
  });

  it('refuses compressed or binary files under a JSON-lines prefix, naming them, and uploads nothing', async () => {
    // Prepare
    const line = `${JSON.stringify({ email: 'ada@example.com', text: 'Hi' })}\n`;
    const dir = folder('chats-export', {
      'chats/day-1.jsonl': line,
      'chats/day-2.jsonl.gz': gzipSync(line),
      'chats/day-3.jsonl': Buffer.from([0x7b, 0x00, 0x7d, 0x0a]),
    });
    const before = await snapshotStateDir(stateDir);

    // Act
    const run = await lethe(importArgs('chats', ['--dir', dir]));

    // Assess
    expect(run.code).toBe(2);
    expect(run.err.trimEnd().split('\n')).toEqual([
      `lethe: ${dir} has 2 files that cannot be imported into store chats, so nothing was imported: fix the files listed below and run the import again.`,
      'chats/day-2.jsonl.gz: gzip-compressed; lethe reads JSON lines as uncompressed text only: decompress it',
      'chats/day-3.jsonl: binary (it holds NUL bytes), not JSON-lines text',
    ]);
    expect(await snapshotStateDir(stateDir)).toEqual(before);
  });
});
