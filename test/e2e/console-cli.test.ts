import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lethe, seedStateDir } from '../helpers/cli';
import { httpRequest } from '../helpers/console';
import { EXAMPLE_DATAMAP_PATH, exampleDataMap, exampleSeed } from '../helpers/world';

/** `lethe console` and `lethe datamap report`, in-process. */
describe('lethe console and lethe datamap report', () => {
  let root: string;
  let stateDir: string;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'lethe-console-cli-'));
    stateDir = join(root, 'state');
    await seedStateDir(stateDir, exampleSeed(2, 1));
  }, 120_000);

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('prints a one-time sign-in address on 127.0.0.1 and stops cleanly on Ctrl-C', async () => {
    const lines: string[] = [];
    let printed: () => void = () => undefined;
    const ready = new Promise<void>((resolve) => {
      printed = resolve;
    });
    const run = (async () => {
      const { runCli } = await import('../../lib/cli/program');
      return runCli(['console', '--port', '0', '--state-dir', stateDir], {
        io: {
          out: (text) => {
            lines.push(text);
            if (text.startsWith('Press Ctrl-C')) printed();
          },
          err: (text) => lines.push(text),
        },
      });
    })();
    await ready;
    const loginUrl = lines
      .join('\n')
      .match(/http:\/\/127\.0\.0\.1:\d+\/login\?token=[\w-]{20,}/)?.[0] as string;

    const signIn = await httpRequest(loginUrl);
    const list = await httpRequest(loginUrl.replace(/\/login.*/, '/requests'));
    process.emit('SIGINT');
    const code = await run;

    expect(signIn.statusCode).toBe(200);
    expect(list.statusCode).toBe(401);
    expect(code).toBe(0);
    expect(lines.at(-1)).toBe('lethe console stopped.');
    await expect(httpRequest(loginUrl)).rejects.toThrow(/ECONNREFUSED/);
  });

  it('refuses a port that cannot be one, with one line and exit 2', async () => {
    const run = await lethe(['console', '--port', '70000', '--state-dir', stateDir]);

    expect(run.code).toBe(2);
    expect(run.err.trim().split('\n')).toHaveLength(1);
  });

  it('writes the record of processing activities as CSV and as HTML, a row per store', async () => {
    const csvPath = join(root, 'processing.csv');
    const htmlPath = join(root, 'processing.html');

    const csv = await lethe([
      'datamap',
      'report',
      '--format',
      'csv',
      '--out',
      csvPath,
      '--datamap',
      EXAMPLE_DATAMAP_PATH,
    ]);
    const html = await lethe([
      'datamap',
      'report',
      '--format',
      'html',
      '--out',
      htmlPath,
      '--datamap',
      EXAMPLE_DATAMAP_PATH,
    ]);

    const stores = exampleDataMap().stores;
    expect([csv.code, html.code]).toEqual([0, 0]);
    const rows = readFileSync(csvPath, 'utf8').trimEnd().split('\n');
    expect(rows[0]).toBe(
      'store,kind,location,description,categories,purpose,lawfulBasis,recipients,source,retention,erase,exemptions',
    );
    expect(rows.slice(1).map((row) => row.split(',')[0])).toEqual(stores.map((store) => store.id));
    const document = readFileSync(htmlPath, 'utf8');
    expect(document).toContain('Record of processing activities (GDPR Art. 30)');
    for (const store of stores) expect(document).toContain(`<th scope="row">${store.id}`);
  });
});
