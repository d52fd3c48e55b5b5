import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import type { SeedSubject } from '../../examples/adtech/seed';
import { MAX_ACTOR_LENGTH, MAX_FREE_TEXT_LENGTH } from '../../lib/audit/free-text';
import { LocalBackend } from '../../lib/cli/backends';
import { DataMapError, loadDataMap } from '../../lib/datamap/load';
import type { LegalHold } from '../../lib/holds';
import type { FaultInjector } from '../../lib/local/execution';
import { checkItemsFile } from '../../lib/local/import';
import { requestStatusSchema, verificationSchema } from '../../lib/rights/request';
import { JURISDICTIONS, OBJECTION_SCOPE_PATTERN } from '../../lib/rights/request-values';
import type { RequestSummary } from '../../lib/rights/summary';
import { REQUEST_STATES } from '../../lib/workflow/request-steps';
import { holdRecordArgs, lethe, requestSubmitArgs, reviewIncludingAll, seedStateDir } from '../helpers/cli';
import { propertyRun } from '../helpers/property';
import { snapshotEverything } from '../helpers/snapshot';
import { EXAMPLE_DATAMAP_PATH, exampleDataMap, exampleSeed, richestSubject } from '../helpers/world';
import { tapWrites, type WriteTap } from '../helpers/write-tap';

/**
 * Bad input across every command and option of the CLI, generated (seeded: LETHE_PROPERTY_SEED,
 * LETHE_PROPERTY_RUNS; a failure prints the seed and the command that replays it). Each case is
 * one valid command with one thing spoilt, a command line that is wrong as a whole, or an import
 * file of good lines with one to three bad ones among them, and must exit 2 with exactly one line
 * on stderr (a sentence after "lethe: ", what was typed escaped; for an import file, that line and
 * one naming each bad line by number, never its values), nothing on stdout, and nothing changed.
 *
 * "Nothing changed" is checked per case by a tap on the clients of the one open environment every
 * command runs on (CliOptions.localBackend): any request that can write to a table or bucket is
 * recorded, even one that rewrites a value unchanged, which a snapshot cannot see. Around it, the
 * files of the state directory and the fixture folder (names, sizes, modification times; the
 * LevelDB files excepted, which the tap covers) are compared per case, and a full snapshot of
 * every table and bucket (each item, each object's bytes) every 100 cases and at the end.
 */

const dataMap = exampleDataMap();
const STORE_IDS = dataMap.stores.map((store) => store.id);
const IDENTITY_TYPES = Object.keys(dataMap.identityTypes);
const HELP = new Set(['-h', '--help']);
/** A thousand cases in CI, about 15 seconds; LETHE_PROPERTY_RUNS for a longer search (the timeout grows with it). */
const fuzzRun = propertyRun({ numRuns: 1_000 });

/** Characters no typed value may carry through: controls (ESC starts an escape sequence), format characters, separators. */
const INVISIBLE = [
  '\u0000',
  '\u0007',
  '\u0008',
  '\u001b[31m',
  '\u001b]0;owned\u0007',
  '\u001b[2J',
  '\n',
  '\r',
  '\t',
  '\u007f',
  '\u0085',
  '\u200b',
  '\u200d',
  '\u200e',
  '\u202e',
  '\u2028',
  '\u2066',
  '\ufeff',
];

/** `text` with an invisible character inside it (never at either end, where trimming would remove it). */
const withInvisible = (text: string): fc.Arbitrary<string> =>
  fc
    .tuple(fc.constantFrom(...INVISIBLE), fc.integer({ min: 1, max: Math.max(1, text.length - 1) }))
    .map(([character, at]) => `${text.slice(0, at)}${character}${text.slice(at)}`);

/** Long text, prebuilt: a megabyte, and lengths just past the limits (names 200, reasons 1,000, keys 2 KB). */
const LONG = [201, 1_001, 2_049, 70_000, 1_000_000].map((length) => 'x'.repeat(length));
/** Text longer than `limit` characters. */
const longerThan = (limit: number) => fc.constantFrom(...LONG.filter((text) => text.length > limit));

/** Any text at all, up to 40 code points of any plane (lone surrogates and controls included). */
const anyText = fc.string({ unit: 'binary', maxLength: 40 }).filter((text) => !HELP.has(text));

/** Valid or not, a value from this list changes nothing when given where it does not belong. */
const notIn = (allowed: readonly string[]) =>
  fc
    .oneof(
      anyText,
      fc.constantFrom('', ' ', 'ACCESS', 'gdpr ', 'none', 'null', '__proto__', 'constructor', 'toString'),
      ...allowed.slice(0, 2).map((value) => withInvisible(value)),
    )
    .filter((value) => !allowed.includes(value) && !HELP.has(value));

const pad = (value: number) => String(value).padStart(2, '0');
const daysIn = (year: number, month: number) => new Date(Date.UTC(year, month, 0)).getUTCDate();

/** `--now` values that are no moment: days a month lacks, hours past 23, no time, not ISO-8601 at all. */
const badNow = fc.oneof(
  fc.constantFrom(
    '2026-02-30T00:00:00Z',
    '2026-04-31T00:00:00Z',
    '2026-04-01T24:00:00Z',
    '2026-02-29T00:00:00Z',
    '2026-13-01T00:00:00Z',
    '2026-00-10T00:00:00Z',
    '2026-01-00T00:00:00Z',
    '2026-01-01T00:60:00Z',
    '2026-01-01T00:00:60Z',
    '2026-01-01T00:00:00+24:00',
    '2026-01-01',
    '2026-01-01T',
    '2026-1-1T00:00:00Z',
    '2026-01-01t00:00:00z',
    '2026-01-01 00:00:00Z',
    '+2026-01-01T00:00:00Z',
    '1767225600',
    'yesterday',
    'now',
    '',
  ),
  fc
    .record({
      year: fc.integer({ min: 1970, max: 2200 }),
      month: fc.integer({ min: 1, max: 12 }),
      past: fc.integer({ min: 1, max: 9 }),
    })
    .map(({ year, month, past }) => `${year}-${pad(month)}-${pad(daysIn(year, month) + past)}T03:00:00Z`),
  fc
    .record({ hour: fc.integer({ min: 24, max: 99 }), minute: fc.integer({ min: 0, max: 59 }) })
    .map(({ hour, minute }) => `2026-11-01T${pad(hour)}:${pad(minute)}:00Z`),
  fc.integer({ min: 60, max: 99 }).map((minute) => `2026-11-01T03:${minute}:00Z`),
  withInvisible('2026-11-01T03:00:00Z'),
  anyText.filter((text) => !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(text)),
);

/** Names of who acted (`--by`, `--verified-by`) that are none: empty, longer than 200, not plain text. */
const badName = fc.oneof(
  fc.constantFrom('', ' ', '   '),
  longerThan(MAX_ACTOR_LENGTH),
  fc.constantFrom('J. Doe', 'privacy-desk', 'Équipe légale').chain(withInvisible),
);

/** Reasons kept in the audit log that must be refused: too short or long, not one line of plain text, or naming someone. */
const badReason = fc.oneof(
  fc.constantFrom('', 'ab', '  ab  '),
  longerThan(MAX_FREE_TEXT_LENGTH),
  withInvisible('Litigation hold, case 2026-0042'),
  fc.constantFrom(
    'customer ann.other@example.org asked',
    'caller +49 30 1234567 asked',
    'call back on +4930123456',
    'see mail from JOE@EXAMPLE.COM',
  ),
);

const REQUEST_ID = /^[A-Za-z0-9_-]{8,64}$/;
/** What cannot be a request id. */
const badRequestIdForm = fc.oneof(
  fc.constantFrom(
    '',
    'short',
    'a'.repeat(65),
    'has space 1',
    'with.dot.1',
    'ümlaut-id-1',
    '../../etc/x',
    'r'.repeat(2_100),
  ),
  longerThan(64),
  withInvisible('abcdefgh-1234'),
  anyText.filter((text) => !REQUEST_ID.test(text)),
);
/** A request id of the right form that no request has. */
const missingRequestId = fc.stringMatching(/^[a-z0-9]{8,20}$/).map((text) => `missing-${text}`);

const HOLD_ID = /^hold-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** What cannot be a hold id. */
const badHoldIdForm = fc.oneof(
  fc.constantFrom(
    '',
    'hold-',
    'hold-none',
    'HOLD-3f1c0e6e-8a7b-4c55-9d1e-2b6f0a4c9e21',
    `hold-${'0'.repeat(2_100)}`,
  ),
  longerThan(64),
  fc.uuid(), // without its hold- prefix
  fc.uuid().chain((uuid) => withInvisible(`hold-${uuid}`)),
  anyText.filter((text) => !HOLD_ID.test(text)),
);

/** `--subject` values that are no identity: no TYPE=, an unknown type, or a value its type refuses. */
const badIdentity = (email: string): fc.Arbitrary<string> => {
  const invalidValues: Record<string, string[]> = {
    email: [
      '',
      '   ',
      'not-an-email',
      'a@b',
      'ada@example',
      'a@@example.com',
      'a b@example.com',
      '<a>@example.com',
      '"quoted"@example.com',
      'ada@[127.0.0.1]',
      'ada..b@example.com',
      'ada@example.com.',
      'ada@-example.com',
      'аda@example.com', // Cyrillic а
      'ada@exаmple.com',
      'ａda@example.com', // full-width
      `${'a'.repeat(250)}@example.com`,
      `${'a'.repeat(1_100)}@example.com`,
    ],
    phone: [
      '',
      '030 1234567',
      '+0301234567',
      '+12',
      '+1234567890123456',
      '+49 30 ABC',
      '+４９３０１２３４５６',
      '++4930123456',
      'tel:+4930123456',
    ],
    userId: ['', 'u-1234567', 'u-1234567g', 'user-12345678', 'u-12345678x', 'u-１２３４５６７８'],
    cookieId: [
      '',
      'not-a-uuid',
      '123e4567-e89b-12d3-a456-42661417400',
      'g23e4567-e89b-12d3-a456-426614174000',
      '１23e4567-e89b-12d3-a456-426614174000',
    ],
    ipAddress: [
      '',
      '256.1.1.1',
      '1.2.3',
      '01.2.3.4',
      'fe80::1%eth0',
      '1.2.3.4/24',
      'localhost',
      '::ffff:999.1.1.1',
    ],
  };
  const validValues: Record<string, string> = {
    email,
    phone: '+4930123456',
    userId: 'u-12345678',
    cookieId: '123e4567-e89b-12d3-a456-426614174000',
    ipAddress: '203.0.113.7',
  };
  const knownTypes = new Set(IDENTITY_TYPES);
  return fc.oneof(
    // no TYPE=
    fc
      .constantFrom(email, '', '=', `=${email}`, `email:${email}`)
      .filter((text) => !text.includes('=') || text.startsWith('=')),
    // an undeclared type
    fc
      .oneof(
        fc.constantFrom(
          'passport',
          'Email',
          'EMAIL',
          'e-mail',
          'mail',
          '__proto__',
          'constructor',
          'toString',
          'hasOwnProperty',
        ),
        withInvisible('email'),
        anyText.filter((text) => !text.includes('=')),
      )
      .filter((type) => !knownTypes.has(type.trim()) && type !== '')
      .map((type) => `${type}=${email}`),
    // a value the type refuses
    fc
      .constantFrom(...IDENTITY_TYPES)
      .chain((type) =>
        fc
          .oneof(fc.constantFrom(...(invalidValues[type] ?? [''])), withInvisible(validValues[type] ?? 'x'))
          .map((value) => `${type}=${value}`),
      ),
  );
};

/** Store ids the data map does not declare. */
const badStore = fc.oneof(
  fc.constantFrom(
    '',
    'nope',
    'INQUIRIES',
    'inquiries ',
    ' inquiries',
    'adtech-inquiries',
    'ad_events',
    '__proto__',
    'constructor',
    'toString',
  ),
  withInvisible('inquiries'),
  anyText.filter((text) => !STORE_IDS.includes(text)),
);

/** Options no command has (never --help), and flags a command does not take. */
const unknownOption = fc.oneof(
  fc.constantFrom(
    '--yes',
    '--verbose',
    '-x',
    '-v',
    '-V',
    '--subjekt',
    '--stateDir',
    '--state_dir',
    '--no-json',
    '--jsn',
    '--dry',
  ),
  fc.stringMatching(/^--[a-z]{2,12}$/).filter((flag) => !KNOWN_OPTIONS.has(flag)),
  withInvisible('--json'),
);
const KNOWN_OPTIONS = new Set([
  '--state-dir',
  '--datamap',
  '--json',
  '--debug',
  '--target',
  '--stack',
  '--type',
  '--subject',
  '--jurisdiction',
  '--verified-by',
  '--verification',
  '--channel',
  '--request-id',
  '--status',
  '--by',
  '--reason',
  '--store',
  '--dry-run',
  '--now',
  '--key',
  '--file',
  '--dir',
  '--segments',
  '--subjects',
  '--force',
  '--help',
  '--note',
  '--days',
  '--overdue',
  '--due-within',
  '--sample',
  '--out',
  '--tables',
  '--buckets',
]);

const badWholeNumber = (range: readonly string[]) =>
  fc.constantFrom(...range, '', '-1', '1.5', 'abc', '5abc', '0x10', ' 2', '1e1', '99999999999999999999');

interface Fixtures {
  stateDir: string;
  root: string;
  subject: SeedSubject;
  linkedCookieId: string;
  completedId: string;
  failedId: string;
  /** A CCPA portability request the example's policy holds for approval, submitted by privacy-desk. */
  pendingId: string;
  activeHoldId: string;
  releasedHoldId: string;
  /** --datamap values that cannot be used: each has one problem, so its error is one line. */
  badDataMaps: string[];
  /** Another usable data map: init refuses to switch to it without --force. */
  otherDataMap: string;
  /** --state-dir values that are no initialised state directory. */
  badStateDirs: string[];
  /** --file values that are no file of items (generated files with bad lines come from badImportFile). */
  badItemFiles: string[];
  goodItemFile: string;
  s3Dir: string;
  /** A folder with files in it that the demo did not make. */
  keepDir: string;
}

/** One generated case: what it spoils, and the command line. */
interface BadCase {
  what: string;
  argv: string[];
  /** A JSON-lines file to write first, given in argv as IMPORT_FILE: the bad lines' numbers, 1-based. */
  importFile?: { lines: string[]; bad: number[] };
}

/** Where argv names the generated import file. */
const IMPORT_FILE = '@import-file';

/** Lines any import of the store takes: each a new item, its locate keys normalised. */
const GOOD_ITEMS: Record<'inquiries' | 'conversions', (n: number) => Record<string, unknown>> = {
  inquiries: (n) => ({
    email: `import-${n}@example.com`,
    receivedAt: `2026-01-${pad(1 + (n % 28))}T00:00:00Z`,
    message: 'Please call back',
  }),
  conversions: (n) => ({
    conversionId: `cv-import-${n}`,
    cookieId: `123e4567-e89b-12d3-a456-${String(n).padStart(12, '0')}`,
    convertedAt: 1_767_225_600 + n,
    value: 12.5,
  }),
};

/** A line import must refuse, made from the good item `item` (or `other`, a good item of the same file). */
type LineSpoiler = (item: Record<string, unknown>, other: Record<string, unknown>) => string;
const json = (value: unknown) => JSON.stringify(value);
const withValue =
  (name: string, value: unknown): LineSpoiler =>
  (item) =>
    json({ ...item, [name]: value });
const withoutAttribute =
  (name: string): LineSpoiler =>
  (item) => {
    const { [name]: _dropped, ...rest } = item;
    return json(rest);
  };
const BAD_LINES: Record<'inquiries' | 'conversions', LineSpoiler[]> = {
  inquiries: [
    withoutAttribute('email'),
    withoutAttribute('receivedAt'),
    withValue('email', ''),
    withValue('email', 7),
    withValue('email', null),
    withValue('receivedAt', true),
    withValue('receivedAt', { at: 'now' }),
    withValue('email', ['import@example.com']),
    withValue('notes', 'n'.repeat(410 * 1024)), // over DynamoDB's 400 KB
    withValue('blob', 'b'.repeat(1_100_000)), // a line over 1 MB
    (_item, other) => json(other), // the key of another line
    (item) => json({ ...item, email: String(item.email).toUpperCase() }), // a locate key not normalised
    (item) => json({ ...item, email: ` ${String(item.email)} ` }),
    (item) => `${json(item).slice(0, -1)},"score":1e200}`, // a number DynamoDB cannot hold
    (item) => json(item).slice(0, -1), // cut short
    () => '{"email": broken',
    () => '{"email": "\u001b[2J"',
    () => '[1,2]',
    () => '"just text"',
    () => 'null',
    () => '42',
  ],
  conversions: [
    withValue('cookieId', 12_345), // an index key of the wrong type
    withValue('cookieId', ''),
    withValue('cookieId', { id: 'x' }),
    withValue('conversionId', ''),
    withoutAttribute('conversionId'),
    (_item, other) => json(other),
  ],
};

/** An import file of good lines with one to three bad ones among them. */
const badImportFile = (store: 'inquiries' | 'conversions'): fc.Arbitrary<BadCase> =>
  fc
    .record({
      goods: fc.integer({ min: 1, max: 20 }),
      start: fc.integer({ min: 0, max: 10_000 }),
      spoilt: fc.array(
        fc.record({
          spoiler: fc.constantFrom(...BAD_LINES[store]),
          at: fc.nat(),
          of: fc.nat(),
        }),
        { minLength: 1, maxLength: 3 },
      ),
    })
    .map(({ goods, start, spoilt }) => {
      const items = Array.from({ length: goods }, (_, n) => GOOD_ITEMS[store](start + n));
      // Each line with the key it stores (a repeated key is refused where it repeats) or none when refused anyway.
      const entries: { text: string; key?: number }[] = items.map((item, n) => ({
        text: json(item),
        key: n,
      }));
      spoilt.forEach(({ spoiler, at, of }, index) => {
        const original = of % items.length;
        const text = spoiler(GOOD_ITEMS[store](start + goods + index), items[original]!);
        const entry = text === json(items[original]) ? { text, key: original } : { text };
        entries.splice(at % (entries.length + 1), 0, entry);
      });
      const stored = new Set<number>();
      const bad = entries.flatMap((entry, index) => {
        if (entry.key === undefined) return [index + 1];
        if (stored.has(entry.key)) return [index + 1];
        stored.add(entry.key);
        return [];
      });
      return {
        what: `import: a file with bad lines (${store})`,
        argv: ['import', '--store', store, '--file', IMPORT_FILE],
        importFile: { lines: entries.map((entry) => entry.text), bad },
      };
    });

/** `argv` without `flag` and its value. */
const without = (argv: readonly string[], flag: string): string[] => {
  const at = argv.indexOf(flag);
  return at < 0 ? [...argv] : [...argv.slice(0, at), ...argv.slice(at + 2)];
};

const spoil = (what: string, argv: fc.Arbitrary<string[]>): fc.Arbitrary<BadCase> =>
  argv.map((args) => ({ what, argv: args }));

/**
 * The corruptions every command that takes the common options can get: a state directory that
 * is none, a data map that cannot be used, an unknown option, an extra argument, an option
 * without its value; and for commands that run on AWS, --target aws without --datamap.
 */
function commonSpoils(
  f: Fixtures,
  base: string[],
  options: { target?: boolean; init?: boolean } = {},
): fc.Arbitrary<BadCase>[] {
  const state = ['--state-dir', f.stateDir];
  const spoils = [
    spoil(
      'unknown option',
      fc
        .tuple(unknownOption, fc.boolean())
        .map(([flag, first]) =>
          first ? [...base.slice(0, 1), flag, ...base.slice(1), ...state] : [...base, ...state, flag],
        ),
    ),
    spoil(
      'extra argument',
      anyText.filter((text) => !text.startsWith('-')).map((extra) => [...base, extra, ...state]),
    ),
    spoil(
      'option without its value',
      fc.constantFrom('--state-dir', '--datamap').map((flag) => [...base, ...state, flag]),
    ),
    spoil(
      'unusable data map',
      fc.constantFrom(...f.badDataMaps).map((file) => [...base, '--datamap', file, ...state]),
    ),
  ];
  if (!options.init) {
    spoils.push(
      spoil(
        'no state directory',
        fc.constantFrom(...f.badStateDirs).map((dir) => [...base, '--state-dir', dir]),
      ),
    );
  }
  if (options.target) {
    spoils.push(
      spoil('aws without a data map', fc.constant([...base, '--target', 'aws', ...state])),
      spoil(
        'unknown target',
        notIn(['local', 'aws']).map((target) => [...base, '--target', target, ...state]),
      ),
    );
  }
  return spoils;
}

/** Every command, each as a valid command line with one thing spoilt. */
function badCases(f: Fixtures): fc.Arbitrary<BadCase> {
  const state = ['--state-dir', f.stateDir];
  const email = f.subject.email;

  const submitBase = requestSubmitArgs(f.stateDir, 'access', [`email=${email}`]).filter(
    (arg, index, all) => arg !== '--json' && arg !== '--state-dir' && all[index - 1] !== '--state-dir',
  );
  const submitWith = (flag: string, value: string) => {
    const at = submitBase.indexOf(flag);
    return at >= 0
      ? [...submitBase.slice(0, at + 1), value, ...submitBase.slice(at + 2), ...state]
      : [...submitBase, flag, value, ...state];
  };
  const submitWithout = (flag: string) => [...without(submitBase, flag), ...state];
  const submit = [
    spoil(
      'submit: bad --type',
      notIn(['access', 'portability', 'erasure']).map((value) => submitWith('--type', value)),
    ),
    spoil(
      'submit: bad --jurisdiction',
      notIn(JURISDICTIONS).map((value) => submitWith('--jurisdiction', value)),
    ),
    spoil(
      'submit: bad --verification',
      notIn(verificationSchema.shape.method.options).map((value) => submitWith('--verification', value)),
    ),
    spoil(
      'submit: bad --channel',
      notIn(['web', 'email', 'phone', 'mail', 'in-person', 'api', 'cli']).map((value) =>
        submitWith('--channel', value),
      ),
    ),
    spoil(
      'submit: bad --subject',
      badIdentity(email).map((value) => submitWith('--subject', value)),
    ),
    spoil(
      'submit: a bad --subject beside a good one',
      badIdentity(email).map((value) => [...submitBase, '--subject', value, ...state]),
    ),
    spoil('submit: no --subject', fc.constant(submitWithout('--subject'))),
    spoil('submit: no --type', fc.constant(submitWithout('--type'))),
    spoil('submit: no --jurisdiction', fc.constant(submitWithout('--jurisdiction'))),
    spoil('submit: no --verified-by', fc.constant(submitWithout('--verified-by'))),
    spoil(
      'submit: bad --verified-by',
      badName.map((value) => submitWith('--verified-by', value)),
    ),
    spoil(
      'submit: bad --request-id',
      badRequestIdForm.map((value) => submitWith('--request-id', value)),
    ),
    ...commonSpoils(f, submitBase, { target: true }),
  ];

  const byId = (command: string, id: string, extra: string[] = []) => ['request', command, id, ...extra];
  const readById = (['status', 'history'] as const).flatMap((command) => [
    spoil(
      `${command}: bad id`,
      badRequestIdForm.map((id) => [...byId(command, id), ...state]),
    ),
    spoil(
      `${command}: unknown id`,
      missingRequestId.map((id) => [...byId(command, id), ...state]),
    ),
    spoil(`${command}: no id`, fc.constant(['request', command, ...state])),
    ...commonSpoils(f, byId(command, f.completedId), { target: true }),
  ]);

  const retryBase = byId('retry', f.failedId, ['--by', 'Legal']);
  const retry = [
    spoil(
      'retry: bad id',
      badRequestIdForm.map((id) => [...byId('retry', id, ['--by', 'Legal']), ...state]),
    ),
    spoil(
      'retry: unknown id',
      missingRequestId.map((id) => [...byId('retry', id, ['--by', 'Legal']), ...state]),
    ),
    spoil(
      'retry: a completed request',
      fc.constant([...byId('retry', f.completedId, ['--by', 'Legal']), ...state]),
    ),
    spoil(
      'retry: bad --by',
      badName.map((name) => [...byId('retry', f.failedId, ['--by', name]), ...state]),
    ),
    spoil('retry: no --by', fc.constant([...byId('retry', f.failedId), ...state])),
    ...commonSpoils(f, retryBase, { target: true }),
  ];

  const closeArgs = (id: string, by: string, reason: string) => [
    ...byId('close', id, ['--by', by, '--reason', reason]),
    ...state,
  ];
  const closeBase = byId('close', f.failedId, ['--by', 'Legal', '--reason', 'withdrawn, ticket 4711']);
  const close = [
    spoil(
      'close: bad id',
      badRequestIdForm.map((id) => closeArgs(id, 'Legal', 'withdrawn, ticket 4711')),
    ),
    spoil(
      'close: unknown id',
      missingRequestId.map((id) => closeArgs(id, 'Legal', 'withdrawn, ticket 4711')),
    ),
    spoil(
      'close: a completed request',
      fc.constant(closeArgs(f.completedId, 'Legal', 'withdrawn, ticket 4711')),
    ),
    spoil(
      'close: bad --by',
      badName.map((name) => closeArgs(f.failedId, name, 'withdrawn, ticket 4711')),
    ),
    spoil(
      'close: bad --reason',
      badReason.map((reason) => closeArgs(f.failedId, 'Legal', reason)),
    ),
    spoil(
      "close: a reason naming the request's subject",
      fc
        .constantFrom(f.linkedCookieId, f.linkedCookieId.toUpperCase())
        .map((value) => closeArgs(f.failedId, 'Legal', `cookie ${value} asked`)),
    ),
    spoil('close: no --reason', fc.constant([...byId('close', f.failedId, ['--by', 'Legal']), ...state])),
    ...commonSpoils(f, closeBase, { target: true }),
  ];

  const approve = [
    spoil(
      'approve: bad id',
      badRequestIdForm.map((id) => [...byId('approve', id, ['--by', 'Legal']), ...state]),
    ),
    spoil(
      'approve: unknown id',
      missingRequestId.map((id) => [...byId('approve', id, ['--by', 'Legal']), ...state]),
    ),
    spoil(
      'approve: a request that does not wait for approval',
      fc
        .constantFrom(f.completedId, f.failedId)
        .map((id) => [...byId('approve', id, ['--by', 'Legal']), ...state]),
    ),
    spoil(
      'approve: by its submitter',
      fc
        .constantFrom('privacy-desk', 'Privacy-Desk', ' privacy-desk ')
        .map((name) => [...byId('approve', f.pendingId, ['--by', name]), ...state]),
    ),
    spoil(
      'approve: bad --by',
      badName.map((name) => [...byId('approve', f.pendingId, ['--by', name]), ...state]),
    ),
    spoil('approve: no --by', fc.constant([...byId('approve', f.pendingId), ...state])),
    ...commonSpoils(f, byId('approve', f.pendingId, ['--by', 'Legal']), { target: true }),
  ];

  const denyArgs = (id: string, by: string, reason: string, note: string) => [
    ...byId('deny', id, ['--by', by, '--reason', reason, '--note', note]),
    ...state,
  ];
  const deny = [
    spoil(
      'deny: bad id',
      badRequestIdForm.map((id) => denyArgs(id, 'Legal', 'excessive', 'third this year')),
    ),
    spoil(
      'deny: unknown id',
      missingRequestId.map((id) => denyArgs(id, 'Legal', 'excessive', 'third this year')),
    ),
    spoil(
      'deny: a completed request',
      fc.constant(denyArgs(f.completedId, 'Legal', 'excessive', 'third this year')),
    ),
    spoil(
      'deny: bad --reason',
      notIn(['unverifiable-identity', 'manifestly-unfounded', 'excessive', 'legal-exemption', 'other']).map(
        (reason) => denyArgs(f.pendingId, 'Legal', reason, 'third this year'),
      ),
    ),
    spoil(
      'deny: bad --note',
      badReason.map((note) => denyArgs(f.pendingId, 'Legal', 'excessive', note)),
    ),
    spoil(
      'deny: bad --by',
      badName.map((name) => denyArgs(f.pendingId, name, 'excessive', 'third this year')),
    ),
    spoil(
      'deny: no --reason',
      fc.constant([...byId('deny', f.pendingId, ['--by', 'Legal', '--note', 'third this year']), ...state]),
    ),
    spoil(
      'deny: no --note',
      fc.constant([...byId('deny', f.pendingId, ['--by', 'Legal', '--reason', 'excessive']), ...state]),
    ),
    ...commonSpoils(
      f,
      byId('deny', f.pendingId, ['--by', 'Legal', '--reason', 'excessive', '--note', 'third this year']),
      { target: true },
    ),
  ];

  const cancelArgs = (id: string, by: string, reason: string) => [
    ...byId('cancel', id, ['--by', by, '--reason', reason]),
    ...state,
  ];
  const cancel = [
    spoil(
      'cancel: bad id',
      badRequestIdForm.map((id) => cancelArgs(id, 'Legal', 'submitted twice')),
    ),
    spoil(
      'cancel: unknown id',
      missingRequestId.map((id) => cancelArgs(id, 'Legal', 'submitted twice')),
    ),
    spoil(
      'cancel: a request past approval',
      fc.constantFrom(f.completedId, f.failedId).map((id) => cancelArgs(id, 'Legal', 'submitted twice')),
    ),
    spoil(
      'cancel: bad --reason',
      badReason.map((reason) => cancelArgs(f.pendingId, 'Legal', reason)),
    ),
    spoil(
      'cancel: bad --by',
      badName.map((name) => cancelArgs(f.pendingId, name, 'submitted twice')),
    ),
    ...commonSpoils(f, byId('cancel', f.pendingId, ['--by', 'Legal', '--reason', 'submitted twice']), {
      target: true,
    }),
  ];

  const extendArgs = (id: string, days: string, reason = 'complex request') => [
    ...byId('extend', id, ['--by', 'Legal', '--days', days, '--reason', reason]),
    ...state,
  ];
  const extend = [
    spoil(
      'extend: bad id',
      badRequestIdForm.map((id) => extendArgs(id, '10')),
    ),
    spoil(
      'extend: unknown id',
      missingRequestId.map((id) => extendArgs(id, '10')),
    ),
    spoil('extend: a completed request', fc.constant(extendArgs(f.completedId, '10'))),
    spoil(
      'extend: bad --days',
      badWholeNumber(['0', '367', '1000']).map((days) => extendArgs(f.pendingId, days)),
    ),
    spoil(
      "extend: past the law's limit",
      fc.integer({ min: 46, max: 366 }).map((days) => extendArgs(f.pendingId, String(days))),
    ),
    spoil(
      'extend: bad --reason',
      badReason.map((reason) => extendArgs(f.pendingId, '10', reason)),
    ),
    ...commonSpoils(
      f,
      byId('extend', f.pendingId, ['--by', 'Legal', '--days', '10', '--reason', 'complex']),
      {
        target: true,
      },
    ),
  ];

  const statuses = requestStatusSchema.options;
  const list = [
    spoil(
      'request list: bad --status',
      notIn(statuses).map((status) => ['request', 'list', '--status', status, ...state]),
    ),
    spoil(
      'request list: bad --due-within',
      badWholeNumber(['0', '367']).map((days) => ['request', 'list', '--due-within', days, ...state]),
    ),
    spoil(
      'request list: --overdue and --due-within',
      fc.constant(['request', 'list', '--overdue', '--due-within', '7', ...state]),
    ),
    ...commonSpoils(f, ['request', 'list'], { target: true }),
  ];

  const sweep = [
    spoil(
      'sweep: bad --now',
      badNow.map((now) => ['sweep', '--dry-run', '--now', now, ...state]),
    ),
    spoil(
      'sweep: unknown --store',
      badStore.map((store) => ['sweep', '--store', store, ...state]),
    ),
    spoil(
      'sweep: a store without retention',
      fc
        .constantFrom(...dataMap.stores.filter((store) => !store.retention).map((store) => store.id))
        .map((store) => ['sweep', '--store', store, ...state]),
    ),
    ...commonSpoils(f, ['sweep', '--dry-run'], { target: true }),
  ];

  // The data map report, and the console: every spoilt console line is refused before it listens.
  const reports = [
    spoil(
      'datamap report: bad --format',
      notIn(['html', 'csv']).map((format) => ['datamap', 'report', '--format', format, ...state]),
    ),
    ...commonSpoils(f, ['datamap', 'report', '--format', 'csv']),
    spoil(
      'console: bad --port',
      fc
        .oneof(fc.constantFrom('-1', '65536', '99999', '4180.5', '0x10', ''), anyText)
        .filter((port) => !/^\d{1,5}$/.test(port) || Number(port) > 65_535)
        .map((port) => ['console', '--port', port, ...state]),
    ),
    ...commonSpoils(f, ['console', '--port', '0'], { target: true }),
  ];

  const holdSubject = (subject: string, reason: string, by: string) => [
    'hold',
    'add',
    '--subject',
    subject,
    '--reason',
    reason,
    '--by',
    by,
    ...state,
  ];
  const holdRecord = (store: string, key: string) => [...holdRecordArgs(store, key), ...state];
  const validKey = '{"conversionId":"cv-fuzz-1"}';
  const holdSubjectBase = [
    'hold',
    'add',
    '--subject',
    `email=${email}`,
    '--reason',
    'Litigation hold, case 2026-0042',
    '--by',
    'Legal',
  ];
  const holdAdd = [
    spoil(
      'hold add: bad --subject',
      badIdentity(email).map((subject) => holdSubject(subject, 'Litigation hold, case 2026-0042', 'Legal')),
    ),
    spoil(
      'hold add: bad --reason',
      badReason.map((reason) => holdSubject(`email=${email}`, reason, 'Legal')),
    ),
    spoil(
      'hold add: a reason naming a linked identity',
      fc
        .constantFrom(f.linkedCookieId, f.linkedCookieId.toUpperCase())
        .map((value) => holdSubject(`email=${email}`, `cookie ${value} disputed`, 'Legal')),
    ),
    spoil(
      'hold add: bad --by',
      badName.map((by) => holdSubject(`email=${email}`, 'Litigation hold, case 2026-0042', by)),
    ),
    spoil(
      'hold add: unknown --store',
      badStore.map((store) => holdRecord(store, validKey)),
    ),
    spoil(
      'hold add: a key that is none of the store',
      fc
        .oneof(
          fc.constantFrom(
            '',
            'cv-1',
            '[]',
            '"cv-1"',
            'null',
            '{}',
            '{"conversionId":""}',
            '{"conversionId":1}',
            '{"conversionId":"cv-1","cookieId":"x"}',
            '{"conversionid":"cv-1"}',
          ),
          fc
            .constantFrom(2_049, 70_000)
            .map((length) => JSON.stringify({ conversionId: 'c'.repeat(length) })),
        )
        .map((key) => holdRecord('conversions', key)),
    ),
    spoil(
      'hold add: an object key outside the store',
      fc
        .constantFrom('', 'other/x.wav', '/calls/x', `calls/${'9'.repeat(1_100)}/x.wav`)
        .map((key) => holdRecord('call-recordings', key)),
    ),
    spoil(
      'hold add: --subject and --store',
      fc.constant([
        ...holdSubject(`email=${email}`, 'Litigation hold, case 2026-0042', 'Legal'),
        '--store',
        'conversions',
        '--key',
        validKey,
      ]),
    ),
    spoil(
      'hold add: --store without --key',
      fc.constant(without(holdRecord('conversions', validKey), '--key')),
    ),
    spoil(
      'hold add: --key without --store',
      fc.constant(without(holdRecord('conversions', validKey), '--store')),
    ),
    spoil('hold add: no --reason', fc.constant([...without(holdSubjectBase, '--reason'), ...state])),
    spoil('hold add: no --by', fc.constant([...without(holdSubjectBase, '--by'), ...state])),
    ...commonSpoils(f, holdSubjectBase),
  ];

  const holdList = [
    spoil(
      'hold list: bad --status',
      notIn(['active', 'released']).map((status) => ['hold', 'list', '--status', status, ...state]),
    ),
    ...commonSpoils(f, ['hold', 'list']),
  ];

  const holdRelease = [
    spoil(
      'hold release: bad id',
      badHoldIdForm.map((id) => ['hold', 'release', id, '--by', 'Legal', ...state]),
    ),
    spoil(
      'hold release: unknown id',
      fc.uuid().map((uuid) => ['hold', 'release', `hold-${uuid}`, '--by', 'Legal', ...state]),
    ),
    spoil(
      'hold release: released already',
      fc.constant(['hold', 'release', f.releasedHoldId, '--by', 'Legal', ...state]),
    ),
    spoil(
      'hold release: bad --by',
      badName.map((by) => ['hold', 'release', f.activeHoldId, '--by', by, ...state]),
    ),
    spoil('hold release: no --by', fc.constant(['hold', 'release', f.activeHoldId, ...state])),
    spoil('hold release: no id', fc.constant(['hold', 'release', '--by', 'Legal', ...state])),
    ...commonSpoils(f, ['hold', 'release', f.activeHoldId, '--by', 'Legal']),
  ];

  const badScope = anyText.filter((scope) => !OBJECTION_SCOPE_PATTERN.test(scope));
  const suppressionRemove = (subject: string, scope: string, by: string, reason: string) => [
    'suppression',
    'remove',
    '--subject',
    subject,
    '--scope',
    scope,
    '--by',
    by,
    '--reason',
    reason,
    ...state,
  ];
  const removeBase = suppressionRemove(
    `email=${email}`,
    'marketing',
    'Legal',
    'consented again, ticket 4711',
  );
  const suppression = [
    spoil(
      'suppression check: bad --subject',
      badIdentity(email).map((subject) => ['suppression', 'check', '--subject', subject, ...state]),
    ),
    spoil(
      'suppression check: bad --scope',
      badScope.map((scope) => [
        'suppression',
        'check',
        '--subject',
        `email=${email}`,
        '--scope',
        scope,
        ...state,
      ]),
    ),
    spoil('suppression check: no --subject', fc.constant(['suppression', 'check', ...state])),
    ...commonSpoils(f, ['suppression', 'check', '--subject', `email=${email}`], { target: true }),
    spoil(
      'suppression list: bad --scope',
      badScope.map((scope) => ['suppression', 'list', '--scope', scope, ...state]),
    ),
    ...commonSpoils(f, ['suppression', 'list'], { target: true }),
    spoil(
      'suppression remove: bad --subject',
      badIdentity(email).map((subject) =>
        suppressionRemove(subject, 'marketing', 'Legal', 'consented again, ticket 4711'),
      ),
    ),
    spoil(
      'suppression remove: bad --scope',
      badScope.map((scope) =>
        suppressionRemove(`email=${email}`, scope, 'Legal', 'consented again, ticket 4711'),
      ),
    ),
    spoil(
      'suppression remove: bad --by',
      badName.map((by) =>
        suppressionRemove(`email=${email}`, 'marketing', by, 'consented again, ticket 4711'),
      ),
    ),
    spoil(
      'suppression remove: bad --reason',
      badReason.map((reason) => suppressionRemove(`email=${email}`, 'marketing', 'Legal', reason)),
    ),
    spoil('suppression remove: not on the list', fc.constant(removeBase)),
    spoil('suppression remove: no --subject', fc.constant(without(removeBase, '--subject'))),
    spoil('suppression remove: no --scope', fc.constant(without(removeBase, '--scope'))),
    spoil('suppression remove: no --by', fc.constant(without(removeBase, '--by'))),
    spoil('suppression remove: no --reason', fc.constant(without(removeBase, '--reason'))),
    ...commonSpoils(f, removeBase.slice(0, removeBase.length - state.length), { target: true }),
  ];

  const importBase = ['import', '--store', 'inquiries', '--file', f.goodItemFile];
  // Import files get a share of their own (about a fifth of the cases): each holds many lines to get wrong.
  const importFiles = fc
    .oneof(badImportFile('inquiries'), badImportFile('conversions'))
    .map((bad) => ({ ...bad, argv: [...bad.argv, ...state] }));
  const importCases = [
    spoil(
      'import: unknown --store',
      badStore.map((store) => ['import', '--store', store, '--file', f.goodItemFile, ...state]),
    ),
    spoil(
      'import: a file that is no items',
      fc
        .constantFrom(...f.badItemFiles)
        .map((file) => ['import', '--store', 'inquiries', '--file', file, ...state]),
    ),
    spoil(
      'import: a folder into a table',
      fc.constant(['import', '--store', 'inquiries', '--dir', f.s3Dir, ...state]),
    ),
    spoil(
      'import: a file into a bucket',
      fc.constant(['import', '--store', 'recruitment', '--file', f.goodItemFile, ...state]),
    ),
    spoil(
      'import: a file that is not a folder',
      fc.constant(['import', '--store', 'recruitment', '--dir', f.goodItemFile, ...state]),
    ),
    spoil('import: both --file and --dir', fc.constant([...importBase, '--dir', f.s3Dir, ...state])),
    spoil('import: neither --file nor --dir', fc.constant(['import', '--store', 'inquiries', ...state])),
    spoil('import: no --store', fc.constant(['import', '--file', f.goodItemFile, ...state])),
    ...commonSpoils(f, importBase),
  ];

  const discoverBase = ['discover', '--dir', f.keepDir];
  const discover = [
    spoil(
      'discover: bad --sample',
      badWholeNumber(['0', '10001']).map((sample) => ['discover', '--dir', f.root, '--sample', sample]),
    ),
    spoil(
      'discover: unknown --target',
      notIn(['local', 'aws']).map((target) => ['discover', '--target', target, '--dir', f.root]),
    ),
    spoil('discover: --dir with --target aws', fc.constant(['discover', '--target', 'aws', '--dir', f.root])),
    spoil(
      'discover: a --dir that is no folder',
      fc
        .constantFrom(f.goodItemFile, join(f.root, 'no-such-export'))
        .map((dir) => ['discover', '--dir', dir]),
    ),
    spoil(
      'discover: a folder that holds no store with identities',
      fc.constantFrom(f.keepDir, f.s3Dir).map((dir) => ['discover', '--dir', dir]),
    ),
    spoil(
      'discover: an --out that exists, without --force',
      fc.constant(['discover', '--dir', f.root, '--out', f.goodItemFile]),
    ),
    spoil(
      'discover: an empty value',
      fc
        .constantFrom('--dir', '--out', '--tables', '--buckets')
        .map((flag) =>
          flag === '--dir' ? ['discover', '--dir', ''] : ['discover', '--dir', f.root, flag, ' '],
        ),
    ),
    spoil(
      'discover: no state directory',
      fc.constantFrom(...f.badStateDirs).map((dir) => ['discover', '--state-dir', dir]),
    ),
    spoil(
      'discover: unknown option',
      unknownOption
        .filter((flag) => !['--force', '--help'].includes(flag))
        .map((flag) => [...discoverBase, flag]),
    ),
    spoil(
      'discover: extra argument',
      anyText.filter((text) => !text.startsWith('-')).map((extra) => [...discoverBase, extra]),
    ),
    spoil(
      'discover: option without its value',
      fc
        .constantFrom('--dir', '--state-dir', '--sample', '--out', '--tables', '--buckets', '--target')
        .map((flag) => [...discoverBase, flag]),
    ),
  ];

  const check = [
    spoil(
      'check: unknown --store',
      badStore.map((store) => ['check', '--store', store, ...state]),
    ),
    spoil(
      'check: bad --segments',
      badWholeNumber(['0', '65']).map((segments) => ['check', '--segments', segments, ...state]),
    ),
    ...commonSpoils(f, ['check'], { target: true }),
  ];

  const init = [
    spoil(
      'init: unusable data map',
      fc.constantFrom(...f.badDataMaps).map((file) => ['init', '--datamap', file, ...state]),
    ),
    spoil(
      'init: another data map without --force',
      fc.constant(['init', '--datamap', f.otherDataMap, ...state]),
    ),
    spoil('init: no --datamap', fc.constant(['init', ...state])),
    ...commonSpoils(f, ['init', '--datamap', EXAMPLE_DATAMAP_PATH], { init: true }),
  ];

  const demoDir = join(f.root, 'demo-never-made');
  const demo = [
    spoil(
      'demo: bad --subjects',
      badWholeNumber(['0', '1', '100001']).map((subjects) => [
        'demo',
        '--subjects',
        subjects,
        '--state-dir',
        demoDir,
      ]),
    ),
    spoil(
      'demo: a folder it did not make',
      fc.constant(['demo', '--subjects', '2', '--state-dir', f.keepDir]),
    ),
    spoil(
      'demo: --datamap',
      fc.constant(['demo', '--subjects', '2', '--datamap', EXAMPLE_DATAMAP_PATH, '--state-dir', demoDir]),
    ),
    spoil(
      'demo: unknown option',
      unknownOption.map((flag) => ['demo', '--subjects', '2', flag, '--state-dir', demoDir]),
    ),
  ];

  const whole = [
    spoil('no command', fc.constantFrom([], ['request'], ['hold'])),
    spoil(
      'unknown command',
      fc
        .oneof(fc.constantFrom('forget', 'requests', 'Request', 'holds', 'help-me'), anyText)
        .filter(
          (word) =>
            ![
              'init',
              'import',
              'discover',
              'check',
              'request',
              'sweep',
              'hold',
              'suppression',
              'audit',
              'datamap',
              'console',
              'demo',
              'help',
            ].includes(word) && !word.startsWith('-'),
        )
        .map((word) => [word, ...state]),
    ),
    spoil(
      'unknown subcommand',
      fc
        .tuple(
          fc.constantFrom('request', 'hold'),
          fc.constantFrom('review!', 'delete', 'show', 'Submit', 'add '),
        )
        .map(([group, word]) => [group, word, ...state]),
    ),
  ];

  return fc.oneof(
    ...[
      submit,
      readById,
      retry,
      close,
      approve,
      deny,
      cancel,
      extend,
      list,
      sweep,
      reports,
      holdAdd,
      holdList,
      holdRelease,
      suppression,
      importCases,
      discover,
      check,
      init,
      demo,
      whole,
    ].map((cases) => fc.oneof(...cases)),
    { arbitrary: importFiles, weight: 4 },
  );
}

/** Names, sizes and modification times of every file under `dir`, except under `skip`. */
function fileStates(dir: string, skip: string[]): Map<string, string> {
  const states = new Map<string, string>();
  const walk = (at: string) => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      if (skip.includes(path)) continue;
      if (entry.isDirectory()) walk(path);
      else {
        const stat = statSync(path);
        states.set(relative(dir, path), `${stat.size} ${stat.mtimeMs}`);
      }
    }
    states.set(relative(dir, at) || '.', 'folder');
  };
  walk(dir);
  return states;
}

/** Text the store servers or the SDK say, which must never reach staff as the answer to bad input. */
const RAW_STORE_MESSAGE =
  /One or more parameter values|ValidationException|AttributeValue|exceeded the maximum|Item size|hashkey|SerializationException|\bat .*\.(js|ts):\d+/;

describe('lethe CLI fuzz: generated bad input across every command exits 2 with one line and changes nothing', () => {
  let f: Fixtures;
  let backend: LocalBackend;
  let tap: WriteTap;
  let filesBefore: Map<string, string>;
  let storesBefore: Map<string, string>;
  let importsDir: string;
  const createdInCwd = !existsSync(resolve('.lethe'));

  beforeAll(async () => {
    const root = mkdtempSync(join(tmpdir(), 'lethe-cli-fuzz-'));
    const stateDir = join(root, 'state');
    const seed = exampleSeed(3, 2);
    const subject = richestSubject(seed);
    const other = seed.subjects.find((candidate) => candidate !== subject)!;
    await seedStateDir(stateDir, seed);

    // A completed request, a failed one holding its resolved identities, an active and a released hold.
    const submitted = async (who: SeedSubject, requestId: string, faults?: FaultInjector) => {
      const run = await lethe(
        requestSubmitArgs(stateDir, 'access', [`email=${who.email}`], ['--request-id', requestId]),
        faults ? { faults } : {},
      );
      const summary = JSON.parse(run.out) as RequestSummary;
      if (summary.status !== 'pending-review') return summary;
      // The example's claimed links make the request wait for staff; they include everything.
      const reviewed = await reviewIncludingAll(stateDir, summary, faults ? { faults } : {});
      return JSON.parse(reviewed.out) as RequestSummary;
    };
    const completed = await submitted(other, 'fuzz-completed-0001');
    const failed = await submitted(subject, 'fuzz-failed-0001', (state) => {
      if (state === REQUEST_STATES.exportPackage) throw new Error('simulated outage');
    });
    expect([completed.status, failed.status]).toEqual(['completed', 'failed']);
    const pending = JSON.parse(
      (
        await lethe(
          requestSubmitArgs(
            stateDir,
            'portability',
            [`email=${other.email}`],
            ['--jurisdiction', 'ccpa', '--request-id', 'fuzz-pending-0001'],
          ),
        )
      ).out,
    ) as RequestSummary;
    expect(pending.status).toBe('pending-approval');
    const hold = async (reason: string) => {
      const run = await lethe([
        'hold',
        'add',
        '--subject',
        `email=${other.email}`,
        '--reason',
        reason,
        '--by',
        'Legal',
        '--state-dir',
        stateDir,
        '--json',
      ]);
      return (JSON.parse(run.out) as LegalHold).holdId;
    };
    const activeHoldId = await hold('Litigation hold, case 2026-0042');
    const releasedHoldId = await hold('Litigation hold, case 2026-0043');
    expect(
      (await lethe(['hold', 'release', releasedHoldId, '--by', 'Legal', '--state-dir', stateDir])).code,
    ).toBe(0);

    const file = (name: string, content: string) => {
      const path = join(root, name);
      writeFileSync(path, content);
      return path;
    };
    const example = (search: string, replacement: string) =>
      file(
        `datamap-${replacement.length}-${search.length}.yaml`,
        readFileSync(EXAMPLE_DATAMAP_PATH, 'utf8').replace(search, replacement),
      );
    const badDataMaps = [
      join(root, 'no-such-datamap.yaml'),
      root,
      file('empty.yaml', ''),
      file('not-yaml.yaml', 'version: 1\nstores: [unclosed\n'),
      example('version: 1', 'version: 2'),
      example('period: P13M', 'period: P13'),
    ];
    // Each has exactly one problem: its message is one line.
    for (const path of badDataMaps) {
      let issues = 0;
      try {
        loadDataMap(path);
      } catch (error) {
        issues = error instanceof DataMapError ? error.issues.length : Number.NaN;
      }
      expect({ path, issues }).toEqual({ path, issues: 1 });
    }
    const otherDataMap = join(root, 'other-datamap.yaml');
    copyFileSync(EXAMPLE_DATAMAP_PATH, otherDataMap);
    const damaged = join(root, 'damaged-state');
    mkdirSync(damaged);
    writeFileSync(join(damaged, 'config.json'), '{"version": 1,');
    const s3Dir = join(root, 'objects');
    mkdirSync(join(s3Dir, 'applications'), { recursive: true });
    writeFileSync(join(s3Dir, 'applications', 'cv.txt'), 'cv');
    const keepDir = join(root, 'keep');
    mkdirSync(keepDir);
    writeFileSync(join(keepDir, 'keep.txt'), 'someone else’s file');
    f = {
      stateDir,
      root,
      subject,
      linkedCookieId: subject.cookieIds[0]!,
      completedId: completed.requestId,
      failedId: failed.requestId,
      pendingId: pending.requestId,
      activeHoldId,
      releasedHoldId,
      badDataMaps,
      otherDataMap,
      badStateDirs: [join(root, 'no-such-state'), root, file('a-file', 'x'), damaged, ''],
      badItemFiles: [join(root, 'no-such.jsonl'), s3Dir],
      goodItemFile: file('good.jsonl', '{"email":"new@example.com","receivedAt":"2026-01-01T00:00:00Z"}\n'),
      s3Dir,
      keepDir,
    };

    importsDir = mkdtempSync(join(tmpdir(), 'lethe-cli-fuzz-imports-'));
    // The good lines the generated import files are made of pass import's checks.
    for (const store of ['inquiries', 'conversions'] as const) {
      const path = join(importsDir, `good-${store}.jsonl`);
      writeFileSync(path, `${[1, 2, 3].map((n) => json(GOOD_ITEMS[store](n))).join('\n')}\n`);
      expect(await checkItemsFile(dataMap, store, path)).toEqual({
        items: 3,
        normalisedKeys: 0,
        keptKeys: 0,
      });
    }

    backend = await LocalBackend.open({ stateDir });
    tap = tapWrites(backend.env.clients);
    storesBefore = await snapshotEverything(backend.env.clients);
    filesBefore = fileStates(root, [join(stateDir, 'dynamodb')]);
  }, 120_000);

  afterAll(async () => {
    await backend?.dispose();
    if (f) rmSync(f.root, { recursive: true, force: true });
    if (importsDir) rmSync(importsDir, { recursive: true, force: true });
  });

  it(
    'refuses every case in one line, writes nothing, and leaves every table, bucket and file as it was',
    async () => {
      let cases = 0;
      // The state is shared by every case: once one changed it, each later case (shrinking's too)
      // would fail for that, so they all name the case that did.
      let changedBy: BadCase | undefined;
      await fc.assert(
        fc.asyncProperty(badCases(f), async ({ what, argv: given, importFile }) => {
          // prepare
          if (changedBy) throw new Error(`an earlier case changed the state: ${JSON.stringify(changedBy)}`);
          tap.clear();
          let argv = given;
          let listed: string[] = [];
          if (importFile) {
            // Written outside the folder whose files are compared.
            const path = join(importsDir, `case-${cases}.jsonl`);
            writeFileSync(path, `${importFile.lines.join('\n')}\n`);
            argv = given.map((arg) => (arg === IMPORT_FILE ? path : arg));
            listed = importFile.bad.map((number) => `${path}:${number}: `);
          }

          // act
          const run = await lethe(argv, { localBackend: backend });

          // assess
          const lines = run.err.split('\n').filter((line) => line !== '');
          const seen = { what, code: run.code, out: run.out, lines: lines.length, writes: [...tap.writes] };
          if (tap.writes.length > 0) changedBy = { what, argv };
          // One line, or for an import file the line that says nothing was imported and one per bad line.
          expect(seen).toEqual({ what, code: 2, out: '', lines: 1 + listed.length, writes: [] });
          expect(lines.slice(1).map((line) => line.slice(0, line.indexOf(': ') + 2))).toEqual(listed);
          if (importFile) expect(lines[0]).toMatch(/cannot be imported .*, so nothing was imported: fix /);
          for (const detail of lines.slice(1)) {
            expect(detail).not.toMatch(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u);
            expect(detail).not.toMatch(RAW_STORE_MESSAGE);
            expect(detail).not.toMatch(/import-\d+@example\.com|cv-import-\d+|123e4567/i); // no value
          }
          const [line = ''] = lines;
          // A sentence: lethe's prefix, then words, with what was typed escaped.
          expect(line).toMatch(/^lethe: \S+( \S+){3,}/);
          expect(line).not.toMatch(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u);
          expect(line).not.toMatch(/run with --help|^lethe: error:|[:,;]$/);
          expect(line).not.toMatch(RAW_STORE_MESSAGE);
          // The shared environment must not hide a command that tried to open the state directory itself.
          expect(line).not.toMatch(/in use by another lethe command/);
          const files = fileStates(f.root, [join(f.stateDir, 'dynamodb')]);
          if (!isDeepStrictEqual(files, filesBefore)) changedBy = { what, argv };
          expect(files).toEqual(filesBefore);
          cases += 1;
          if (cases % 100 === 0) expect(await snapshotEverything(backend.env.clients)).toEqual(storesBefore);
        }),
        fuzzRun,
      );
      expect(await snapshotEverything(backend.env.clients)).toEqual(storesBefore);
      expect(existsSync(resolve('.lethe'))).toBe(!createdInCwd);
    },
    60_000 + fuzzRun.numRuns * 100,
  );

  it('would see a command that writes: the tap and the snapshot catch a hold placed through the same backend', async () => {
    // prepare
    tap.clear();

    // act
    const run = await lethe(
      [
        'hold',
        'add',
        '--store',
        'conversions',
        '--key',
        '{"conversionId":"cv-control"}',
        '--reason',
        'Disputed invoice 4711',
        '--by',
        'Finance',
        '--state-dir',
        f.stateDir,
      ],
      { localBackend: backend },
    );

    // assess
    expect(run.code).toBe(0);
    expect(tap.writes).toEqual(expect.arrayContaining(['DynamoDB PutItem']));
    expect(await snapshotEverything(backend.env.clients)).not.toEqual(storesBefore);
  });
});
