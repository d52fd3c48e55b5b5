import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { checkItemsFile, ImportError } from '../../../lib/local/import';
import { contact, importDataMap, writeLines } from '../../helpers/import';

/** The first pass of a file import: every line checked, every bad one reported by number, nothing written. */

const dataMap = importDataMap();
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lethe-import-file-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The ImportError a check of the file throws. */
async function refusal(file: string, locateKeys?: 'refuse' | 'normalise' | 'keep'): Promise<string[]> {
  const error = await checkItemsFile(dataMap, 'contacts', file, locateKeys ? { locateKeys } : {}).then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(ImportError);
  return (error as Error).message.split('\n');
}

const contacts = (count: number) => Array.from({ length: count }, (_, n) => contact(n + 1));

describe('checkItemsFile', () => {
  it('reports an empty-string key at line 26 of 60 as one sentence and one numbered line', async () => {
    // Prepare
    const lines = contacts(60);
    lines[25] = { ...contact(26), email: '' };
    const file = writeLines(join(dir, 'empty-key.jsonl'), lines);

    // Act
    const message = await refusal(file);

    // Assess
    expect(message).toEqual([
      `${file} has 1 line that cannot be imported (of 60), so nothing was imported: fix the lines listed below and run the import again.`,
      `${file}:26: key attribute "email" is empty; DynamoDB key values need at least one character`,
    ]);
  });

  it('lists every bad line by number, in order, one line each, blank lines counted', async () => {
    // Prepare
    const file = writeLines(join(dir, 'many.jsonl'), [
      contact(1),
      '',
      '{"email": "broken@example.com", "seq": ',
      contact(4, { cookieId: 7 }),
      '   ',
      '[1, 2]',
      contact(7, { notes: 'n'.repeat(410 * 1024) }),
      contact(8),
    ]);

    // Act
    const message = await refusal(file);

    // Assess
    expect(message[0]).toMatch(/has 4 lines that cannot be imported \(of 6\), so nothing was imported/);
    expect(message.slice(1).map((line) => line.slice(file.length + 1))).toEqual([
      expect.stringMatching(/^3: not valid JSON; each line must be one JSON object/),
      expect.stringMatching(
        /^4: index byCookie key attribute "cookieId" must be a non-empty string \(S\); it is a number/,
      ),
      expect.stringMatching(/^6: not a JSON object/),
      expect.stringMatching(/^7: the item is 410\.\d KB, over DynamoDB's limit of 400 KB/),
    ]);
  });

  it('reports a 10 MB line by number and size without reading it into memory whole', async () => {
    // Prepare
    const file = writeLines(join(dir, 'long.jsonl'), [
      contact(1),
      contact(2, { blob: 'b'.repeat(10 * 1024 * 1024) }),
      contact(3),
    ]);

    // Act
    const message = await refusal(file);

    // Assess
    expect(message).toHaveLength(2);
    expect(message[1]).toMatch(
      new RegExp(
        `^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2: the line is 10\\.0 MB, longer than the 1\\.0 MB a line may have`,
      ),
    );
  });

  it('refuses a duplicate table key, naming both lines, numbers compared by value', async () => {
    // Prepare
    const file = writeLines(join(dir, 'duplicates.jsonl'), [
      contact(1),
      contact(2),
      { ...contact(1), seq: '1.0', name: 'Someone else' },
      contact(3),
      contact(2),
    ]);

    // Act
    const message = await refusal(file);

    // Assess
    expect(message.slice(1)).toEqual([
      `${file}:3: the same table key as line 1; the second item would replace the first, so keep one of them`,
      `${file}:5: the same table key as line 2; the second item would replace the first, so keep one of them`,
    ]);
  });

  it('refuses locate keys not in normalised form, naming --normalise-keys as the fix', async () => {
    // Prepare
    const file = writeLines(join(dir, 'spellings.jsonl'), [
      contact(1),
      { ...contact(2), email: '  Person2@Example.COM ' },
      contact(3, { cookieId: 'AB-3' }),
    ]);

    // Act
    const message = await refusal(file);

    // Assess
    expect(message[0]).toMatch(/pass --normalise-keys to store locate keys normalised/);
    expect(message.slice(1).map((line) => line.slice(file.length + 1))).toEqual([
      '2: locate key "email" (the table key) is not a normalised email, so locate would not find the item by it',
      '3: locate key "cookieId" (index byCookie) is not a normalised cookieId, so locate would not find the item by it',
    ]);
    expect(message.join('\n')).not.toMatch(/Person2|AB-3/);
  });

  it('passes them with --normalise-keys, counting them, and refuses two spellings of one key', async () => {
    // Prepare
    const file = writeLines(join(dir, 'normalise.jsonl'), [
      { ...contact(1), email: '  Person1@Example.COM ' },
      contact(2, { cookieId: 'AB-2' }),
    ]);
    const twice = writeLines(join(dir, 'twice.jsonl'), [
      contact(1),
      { ...contact(1), email: 'PERSON1@example.com' },
    ]);

    // Act
    const checked = await checkItemsFile(dataMap, 'contacts', file, { locateKeys: 'normalise' });
    const message = await refusal(twice, 'normalise');

    // Assess
    expect(checked).toEqual({ items: 2, normalisedKeys: 2, keptKeys: 0 });
    expect(message.slice(1)).toEqual([
      `${twice}:2: the same table key as line 1; the second item would replace the first, so keep one of them`,
    ]);
  });

  it('never echoes a value of a bad line', async () => {
    // Prepare
    const file = writeLines(join(dir, 'secrets.jsonl'), [
      '{"email": "secret@example.com", "seq": 1, "name": "Secret Name"',
      JSON.stringify({ email: '  Secret@Example.com', seq: 2 }),
      JSON.stringify({ email: 'secret@example.com', seq: 'secret-number' }),
      JSON.stringify({ email: 'secret-not-an-address', seq: 3 }),
    ]);

    // Act
    const message = await refusal(file);

    // Assess
    expect(message).toHaveLength(5);
    expect(message.join('\n').replaceAll(file, '')).not.toMatch(/secret/i);
  });

  it('accepts a byte order mark, CRLF line ends and a last line without a newline', async () => {
    // Prepare
    const file = join(dir, 'windows.jsonl');
    writeFileSync(
      file,
      `\uFEFF${JSON.stringify(contact(1))}\r\n${JSON.stringify(contact(2))}\r\n${JSON.stringify(contact(3))}`,
    );

    // Act
    const checked = await checkItemsFile(dataMap, 'contacts', file);

    // Assess
    expect(checked.items).toBe(3);
  });

  it('reports a line that is not UTF-8 by number', async () => {
    // Prepare
    const file = join(dir, 'latin1.jsonl');
    writeFileSync(
      file,
      Buffer.concat([
        Buffer.from(`${JSON.stringify(contact(1))}\n`),
        Buffer.from('{"email": "m\xfcller@example.com", "seq": 2}\n', 'latin1'),
      ]),
    );

    // Act
    const message = await refusal(file);

    // Assess
    expect(message.slice(1)).toEqual([`${file}:2: not UTF-8 text; save the file as UTF-8`]);
  });

  it('refuses a compressed file as a whole, and a missing one', async () => {
    // Prepare
    const file = join(dir, 'items.jsonl.gz');
    writeFileSync(file, gzipSync(`${JSON.stringify(contact(1))}\n`));

    // Act
    const compressed = await refusal(file);
    const missing = await refusal(join(dir, 'missing.jsonl'));

    // Assess
    expect(compressed).toEqual([
      `${file} is gzip-compressed and nothing was imported: decompress it and import the JSON-lines text`,
    ]);
    expect(missing[0]).toMatch(/cannot read .*missing\.jsonl \(ENOENT\): pass an existing JSON-lines file/);
  });

  it('lists the first 1,000 bad lines and counts the rest', async () => {
    // Prepare
    const file = writeLines(
      join(dir, 'all-bad.jsonl'),
      Array.from({ length: 1_200 }, () => '{'),
    );

    // Act
    const message = await refusal(file);

    // Assess
    expect(message[0]).toMatch(/has 1,200 lines that cannot be imported \(of 1,200\)/);
    expect(message).toHaveLength(1 + 1_000 + 1);
    expect(message[1_000]).toMatch(/:1000: not valid JSON/);
    expect(message[1_001]).toBe('… and 200 more lines that cannot be imported');
  });
});
