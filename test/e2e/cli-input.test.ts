import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { SeedSubject } from '../../examples/adtech/seed';
import { runCli } from '../../lib/cli/program';
import { startLocalServers } from '../../lib/local/servers';
import { holdRecordArgs, lethe, requestSubmitArgs, seedStateDir, snapshotEverythingIn } from '../helpers/cli';
import { EXAMPLE_DATAMAP_PATH, exampleSeed, richestSubject } from '../helpers/world';

/** The lines a run printed on stderr. */
const lines = (text: string): string[] => text.split('\n').filter((line) => line !== '');

describe('lethe on a seeded state directory: input refused in one line, identities shown as understood', () => {
  let root: string;
  let stateDir: string;
  let subject: SeedSubject;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'lethe-cli-input-'));
    stateDir = join(root, 'state');
    const seed = exampleSeed(3, 2);
    subject = richestSubject(seed);
    await seedStateDir(stateDir, seed);
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  /** An access request for the subject, in text: each case spoils one part of it. */
  const submit = (...extra: string[]) =>
    requestSubmitArgs(stateDir, 'access', [`email=${subject.email}`], extra).filter(
      (arg) => arg !== '--json',
    );
  const megabyte = 'x'.repeat(1_000_000);

  it.each([
    ['an empty --request-id', () => submit('--request-id', ''), /"" is not a request id \(--request-id\)/],
    ['a --verified-by of a megabyte', () => submit('--verified-by', megabyte), /--verified-by is 1000000/],
    [
      'a --verified-by with an escape sequence',
      () => submit('--verified-by', 'J.\u001b[2JDoe'),
      /--verified-by holds .*escape sequence/,
    ],
    ['an empty request id', () => ['request', 'status', ''], /"" is not a request id/],
    ['a request id over 2 KB', () => ['request', 'history', 'r'.repeat(2100)], /is not a request id/],
    ['an empty hold id', () => ['hold', 'release', '', '--by', 'Legal'], /"" is not a hold id/],
    [
      'a hold id over 2 KB',
      () => ['hold', 'release', `hold-${'0'.repeat(2100)}`, '--by', 'Legal'],
      /is not a hold id/,
    ],
    [
      'a hold reason of a megabyte',
      () => ['hold', 'add', '--subject', `email=${subject.email}`, '--reason', megabyte, '--by', 'Legal'],
      /reason \(--reason\) is 1000000 characters long/,
    ],
    [
      'a close reason of a megabyte',
      () => ['request', 'close', 'abcdefgh-1234', '--by', 'Legal', '--reason', megabyte],
      /reason \(--reason\) is 1000000 characters long/,
    ],
    [
      'a hold reason on two lines',
      () => ['hold', 'add', '--subject', `email=${subject.email}`, '--reason', 'case\n42', '--by', 'Legal'],
      /the reason \(--reason\) holds a line break/,
    ],
    [
      'an object key longer than S3 takes',
      () => holdRecordArgs('call-recordings', `calls/${'9'.repeat(1_100)}/x.wav`),
      /the object key is longer than any key S3 holds \(1024 bytes\)/,
    ],
    [
      'a DynamoDB key longer than DynamoDB takes',
      () => holdRecordArgs('conversions', JSON.stringify({ conversionId: 'c'.repeat(2_049) })),
      /key attribute "conversionId" of store conversions is longer than any key DynamoDB holds \(2048 bytes\)/,
    ],
    ['February 30', () => ['sweep', '--now', '2026-02-30T00:00:00Z'], /--now must be an ISO-8601 date/],
    ['April 31', () => ['sweep', '--now', '2026-04-31T00:00:00Z', '--dry-run'], /that exists/],
    ['24:00', () => ['sweep', '--now', '2026-04-01T24:00:00Z'], /hours 00 to 23/],
    ['a date without a time', () => ['sweep', '--now', '2026-04-01'], /YYYY-MM-DDTHH:MM:SSZ/],
    ['an unknown store to sweep', () => ['sweep', '--store', 'nope'], /unknown store "nope"/],
    ['an unknown store to check', () => ['check', '--store', ''], /unknown store ""/],
    [
      'an unknown store to import into',
      () => ['import', '--store', 'nope', '--file', 'x.jsonl'],
      /unknown store "nope"/,
    ],
    ['an unknown command', () => ['forget'], /unknown command 'forget'; see "lethe --help"/],
    [
      'an option value outside the choices',
      () => ['request', 'list', '--status', 'gone'],
      /argument 'gone' is invalid\. Allowed choices are .*; see "lethe request list --help"$/m,
    ],
  ])('%s', async (_name, args, message) => {
    // prepare
    const before = await snapshotEverythingIn(stateDir);

    // act
    const run = await lethe([...args(), '--state-dir', stateDir]);

    // assess
    expect({ code: run.code, out: run.out }).toEqual({ code: 2, out: '' });
    expect(lines(run.err)).toEqual([expect.stringMatching(message)]);
    expect(run.err).toMatch(/^lethe: /);
    expect(await snapshotEverythingIn(stateDir)).toEqual(before);
  });

  it('shows what was typed with escape sequences and invisible characters escaped, in lethe and commander errors', async () => {
    // act
    const unknownType = await lethe([
      ...submit(),
      '--subject',
      'em\u001b[31mail\u202e=x',
      '--state-dir',
      stateDir,
    ]);
    const badChoice = await lethe([
      'request',
      'list',
      '--status',
      'x\u001b[2J\u0007',
      '--state-dir',
      stateDir,
    ]);
    const badOption = await lethe(['request', 'list', '--\u001b]0;owned\u0007', '--state-dir', stateDir]);

    // assess
    for (const run of [unknownType, badChoice, badOption]) {
      expect(run.code).toBe(2);
      expect(lines(run.err)).toHaveLength(1);
      expect(lines(run.err).join('')).not.toMatch(/[\p{Cc}\p{Cf}]/u);
    }
    expect(unknownType.err).toContain('em\\u{1b}[31mail\\u{202e} identity is invalid: unknown identity type');
    expect(badChoice.err).toContain("argument 'x\\u{1b}[2J\\u{7}' is invalid");
    expect(badOption.err).toContain("unknown option '--\\u{1b}]0;owned\\u{7}'");
  });

  it.each([
    [
      [],
      /^lethe: name a command after "lethe", one of discover, init, import, check, index, request, sweep, hold, suppression, audit, datamap, console, demo; see "lethe --help"$/,
    ],
    [
      ['hold'],
      /^lethe: name a command after "lethe hold", one of add, list, release; see "lethe hold --help"$/,
    ],
  ])('asks for the command when %j names none, in one line instead of the help', async (args, message) => {
    // act
    const run = await lethe(args);

    // assess
    expect({ code: run.code, out: run.out }).toEqual({ code: 2, out: '' });
    expect(lines(run.err)).toEqual([expect.stringMatching(message)]);
  });

  it('names every problem of a data map: the first line says how many and what to do, one line for each after', async () => {
    // prepare: the example with two problems
    const file = join(root, 'two-problems.yaml');
    const example = readFileSync(EXAMPLE_DATAMAP_PATH, 'utf8');
    writeFileSync(file, example.replace('version: 1', 'version: 2').replace('period: P13M', 'period: P13'));

    // act
    const run = await lethe(['request', 'list', '--datamap', file, '--state-dir', stateDir]);

    // assess
    expect(run.code).toBe(2);
    expect(lines(run.err)).toEqual([
      `lethe: Invalid data map ${file}: 2 problems, each listed below with its path, line and fix; correct them all and run again`,
      expect.stringMatching(/^ {2}- version \(line \d+\): /),
      expect.stringMatching(
        /^ {2}- stores\[1\]\.retention\.period \(line \d+\): must be an ISO-8601 duration/,
      ),
    ]);
  });
  describe('request submit shows the identities as it understood them, on the terminal only', () => {
    const typed = () => ` ${subject.email.toUpperCase()} `;
    const args = (...extra: string[]) =>
      requestSubmitArgs(stateDir, 'access', [`email=${typed()}`], extra).filter((arg) => arg !== '--json');

    it('prints the normalised value and the value as typed on a terminal', async () => {
      // prepare
      let out = '';
      const io = { out: (text: string) => (out += `${text}\n`), err: () => undefined, terminal: true };

      // act
      const code = await runCli(args('--request-id', 'shown-on-terminal'), { io });

      // assess
      expect(code).toBe(0);
      expect(out).toContain(`  subject: email=${subject.email} (as given: '${typed()}')`);
    });

    it('prints no identity with --json, or where the output is not a terminal', async () => {
      // act
      const json = await lethe([...args('--request-id', 'shown-as-json'), '--json']);
      const piped = await lethe(args('--request-id', 'shown-in-a-pipe'));

      // assess
      expect([json.code, piped.code]).toEqual([0, 0]);
      for (const run of [json, piped]) {
        expect(run.out.toLowerCase()).not.toContain(subject.email.toLowerCase());
        expect(run.out).not.toContain('subject:');
      }
    });
  });
});

describe('an empty --state-dir or --datamap', () => {
  it.each([
    ['request list', ['request', 'list', '--state-dir', ''], '--state-dir'],
    ['sweep', ['sweep', '--dry-run', '--state-dir', ' '], '--state-dir'],
    ['demo', ['demo', '--subjects', '2', '--state-dir', ''], '--state-dir'],
    ['init', ['init', '--datamap', '', '--state-dir', 'never-made'], '--datamap'],
    ['check on AWS', ['check', '--target', 'aws', '--datamap', ''], '--datamap'],
  ])(
    '%s: refused in one line, instead of taking the working directory or the default',
    async (_name, args, flag) => {
      // prepare
      const hadDefault = existsSync(resolve('.lethe'));

      // act
      const run = await lethe(args);

      // assess
      expect({ code: run.code, out: run.out }).toEqual({ code: 2, out: '' });
      expect(lines(run.err)).toEqual([
        `lethe: ${flag} is empty; give a path, or leave the option out for the default`,
      ]);
      expect(existsSync(resolve('.lethe'))).toBe(hadDefault);
      expect(existsSync(resolve('never-made'))).toBe(false);
    },
  );
});

describe('lethe init on a state directory that exists', () => {
  let root: string;
  let stateDir: string;
  let otherMap: string;
  const config = () => readFileSync(join(stateDir, 'config.json'), 'utf8');

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'lethe-cli-init-'));
    stateDir = join(root, 'state');
    otherMap = join(root, 'other.yaml');
    copyFileSync(EXAMPLE_DATAMAP_PATH, otherMap);
    expect((await lethe(['init', '--datamap', EXAMPLE_DATAMAP_PATH, '--state-dir', stateDir])).code).toBe(0);
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('refuses another data map without --force and changes nothing', async () => {
    // prepare
    const before = config();

    // act
    const run = await lethe(['init', '--datamap', otherMap, '--state-dir', stateDir]);

    // assess
    expect(run.code).toBe(2);
    expect(lines(run.err)).toEqual([
      expect.stringMatching(/initialised for the data map .* run init again with --force/),
    ]);
    expect(config()).toBe(before);
  });

  it('refuses while another process holds the state directory, before writing anything', async () => {
    // prepare: the DynamoDB store locked, as another lethe process would hold it
    const before = config();
    const holder = await startLocalServers({ stateDir });
    let run: Awaited<ReturnType<typeof lethe>>;
    try {
      // act
      run = await lethe(['init', '--datamap', otherMap, '--force', '--state-dir', stateDir]);
    } finally {
      await holder.stop();
    }

    // assess
    expect(run.code).toBe(2);
    expect(lines(run.err)).toEqual([
      expect.stringMatching(/another lethe process is using this state directory/),
    ]);
    expect(config()).toBe(before);
  });

  it('switches the data map with --force', async () => {
    // act
    const run = await lethe(['init', '--datamap', otherMap, '--force', '--state-dir', stateDir, '--json']);

    // assess
    expect(run.code).toBe(0);
    expect(JSON.parse(config())).toMatchObject({ dataMapPath: otherMap });
    expect(JSON.parse(run.out)).toMatchObject({ dataMap: otherMap });
  });
});

describe('lethe demo', () => {
  let root: string;

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'lethe-cli-demo-'));
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('refuses a state directory holding files it did not make, and deletes nothing', async () => {
    // prepare
    const folder = join(root, 'mine');
    mkdirSync(folder);
    writeFileSync(join(folder, 'keep.txt'), 'important');

    // act
    const run = await lethe(['demo', '--subjects', '2', '--state-dir', folder]);

    // assess
    expect(run.code).toBe(2);
    expect(lines(run.err)).toEqual([
      expect.stringMatching(/holds files the demo did not make; .* new or empty folder/),
    ]);
    expect(readFileSync(join(folder, 'keep.txt'), 'utf8')).toBe('important');
  });

  it('refuses --datamap, which it would ignore', async () => {
    // act
    const run = await lethe(['demo', '--datamap', 'mine.yaml', '--state-dir', resolve(root, 'fresh')]);

    // assess
    expect(run.code).toBe(2);
    expect(lines(run.err)).toEqual([expect.stringMatching(/always runs the example data map/)]);
  });
});
