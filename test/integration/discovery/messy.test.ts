import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { marshall } from '@aws-sdk/util-dynamodb';
import { loadDataMap } from '../../../lib/datamap/load';
import { lethe } from '../../helpers/cli';

/**
 * `lethe discover` on a company unlike the examples: a physiotherapy practice whose export has
 * capitalised file names, attribute names with dashes and underscores, a table in DynamoDB JSON,
 * the patient reference under three names (PatientRef, patient_ref, owner) and as a folder of
 * scans, phones in every spelling, a CSV export beside JSON-lines logs, binary objects, an empty
 * table and bucket, and entries that cannot be read. Every value is planted and distinctive, and
 * none may appear in anything discover prints or writes, nor in anything written to the process
 * streams while it runs.
 */

/** A seeded generator, so the data is the same on every run. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

/** A 15-digit number whose last digit is its Luhn check digit, as an IMEI's is. */
function imei(body: string): string {
  let sum = 0;
  for (let i = 0; i < 14; i += 1) {
    let digit = Number(body[13 - i]);
    if (i % 2 === 0) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return `${body}${(10 - (sum % 10)) % 10}`;
}

const FIRST = ['Quillon', 'Zephyrine', 'Odalric', 'Wendeline', 'Ysolde', 'Thibaut', 'Elvira', 'Ignatz'];
const LAST = ['Vantongeren', 'Okonkwo', 'Haberkorn', 'Szczepanik', 'Lindqvist', 'Moreau'];

interface Patient {
  ref: string;
  email: string;
  mobile: string;
  name: string;
  imei: string;
  ip: string;
  install: string;
}

function practice(count: number): { patients: Patient[]; planted: string[] } {
  const next = random(4242);
  const pick = <T>(list: readonly T[]) => list[Math.floor(next() * list.length)] as T;
  const patients = Array.from({ length: count }, (_, n): Patient => {
    const first = pick(FIRST);
    const last = pick(LAST);
    const subscriber = String(2_000_000 + Math.floor(next() * 7_000_000));
    const spellings = [
      `+49171${subscriber}`,
      `0171 ${subscriber}`,
      `0049 171 ${subscriber}`,
      `+49 (171) ${subscriber}`,
    ];
    return {
      ref: `PR-${String(700_000 + n * 37).padStart(6, '0')}`,
      // emails as a front desk types them: capitals, spaces
      email:
        n % 3 === 0
          ? `  ${first}.${last}${n}@Riverside-Physio.example `
          : `${first.toLowerCase()}.${last.toLowerCase()}${n}@mail.example`,
      mobile: spellings[n % spellings.length] as string,
      name: `${first} ${last}`,
      imei: imei(`35${String(100_000_000_000 + n * 7919).slice(0, 12)}`),
      ip: `203.0.113.${10 + n}`,
      install: `9F3A${String(n).padStart(4, '0')}-77AB-4C1D-9E2F-0123456789AB`,
    };
  });
  const planted = patients.flatMap((p) => [
    p.ref,
    p.email.trim(),
    p.email.trim().toLowerCase(),
    p.mobile,
    p.mobile.replace(/\D/g, ''),
    p.name,
    p.imei,
    p.ip,
    p.install,
  ]);
  return { patients, planted };
}

const NOTE = 'Complains of recurring pain in the left knee after the Wendelstein marathon';

function writeExport(dir: string, patients: Patient[]): void {
  const write = (path: string, content: string | Buffer) => {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  };
  const lines = (records: object[]) => records.map((record) => `${JSON.stringify(record)}\n`).join('');
  write(
    'dynamodb/Patients.jsonl',
    lines(
      patients.map((p, n) => ({
        PatientRef: p.ref,
        'E-Mail': p.email,
        Mobile: p.mobile,
        FullName: p.name,
        DOB: `19${60 + (n % 30)}-0${1 + (n % 9)}-1${n % 9}`,
        notes: `${NOTE} (visit ${n})`,
        insurer: n % 2 ? 'AOK' : 'TK',
      })),
    ),
  );
  // as `aws dynamodb scan` prints items: DynamoDB JSON
  write(
    'dynamodb/appointments.jsonl',
    lines(
      patients.flatMap((p, n) =>
        [1, 2].map((k) =>
          marshall({
            apptId: `A${n}-${k}`,
            patient_ref: p.ref,
            startsAt: `2026-0${k}-1${n % 9}T09:00:00Z`,
            room: k,
          }),
        ),
      ),
    ),
  );
  write(
    'dynamodb/app_devices.jsonl',
    lines(patients.map((p) => ({ deviceImei: p.imei, owner: p.ref, lastIp: p.ip, installId: p.install }))),
  );
  write('dynamodb/empty.jsonl', '');
  mkdirSync(join(dir, 'dynamodb/not-a-file.jsonl'), { recursive: true });
  for (const p of patients.slice(0, 12)) {
    write(
      `s3/riverside-scans/xray/${p.ref}/2025-03-01.dcm`,
      Buffer.from([0, 1, 2, 3, 0xff, 0, 0x44, 0x49, 0x43, 0x4d]),
    );
    write(
      `s3/riverside-scans/xray/${p.ref}/2025-04-11.dcm`,
      Buffer.from([0, 1, 2, 3, 0xfe, 0, 0x44, 0x49, 0x43, 0x4d]),
    );
  }
  write(
    's3/riverside-exports/logs/app-2026-05-01.jsonl',
    lines(
      patients.map((p, n) => ({
        at: `2026-05-01T10:${String(n % 60).padStart(2, '0')}:00Z`,
        user_email: p.email,
        ip: p.ip,
        action: 'login',
      })),
    ),
  );
  write(
    's3/riverside-exports/csv/patients.csv',
    `ref,email,name\n${patients.map((p) => `${p.ref},${p.email.trim()},"${p.name}"`).join('\n')}\n`,
  );
  mkdirSync(join(dir, 's3/riverside-empty'), { recursive: true });
  write('s3/riverside-blobs/a.bin', Buffer.from([0, 0, 0, 1, 2, 3]));
  symlinkSync(join(dir, 'nowhere'), join(dir, 's3/riverside-blobs/dangling'));
}

describe('lethe discover on data it was not designed on', () => {
  let root: string;
  let dir: string;
  let planted: string[];
  const written: string[] = [];
  let spies: jest.SpyInstance[] = [];

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'lethe-discover-messy-'));
    dir = join(root, 'export');
    const made = practice(40);
    planted = [...new Set([...made.planted, NOTE])];
    writeExport(dir, made.patients);
  });

  beforeEach(() => {
    const tap = (chunk: unknown) => {
      written.push(String(chunk));
      return true;
    };
    spies = [
      jest.spyOn(process.stdout, 'write').mockImplementation(tap),
      jest.spyOn(process.stderr, 'write').mockImplementation(tap),
      ...(['log', 'info', 'warn', 'error', 'debug'] as const).map((method) =>
        jest
          .spyOn(console, method)
          .mockImplementation((...args: unknown[]) => void written.push(args.map(String).join(' '))),
      ),
    ];
  });

  afterEach(() => {
    for (const spy of spies) spy.mockRestore();
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('finds the identities under their messy names, links the three names of the patient reference, and reports what it could not read', async () => {
    // Prepare
    const out = join(root, 'draft.yaml');

    // Act
    const run = await lethe(['discover', '--dir', dir, '--out', out, '--json']);

    // Assess
    expect({ code: run.code, err: run.err }).toEqual({ code: 0, err: '' });
    const draft = loadDataMap(out);
    const rulesOf = (id: string) => draft.stores.find((store) => store.id === id)?.locate;
    expect(Object.keys(draft.identityTypes).sort()).toEqual(['email', 'imei', 'patientId', 'phone']);
    expect(draft.identityTypes.phone).toMatchObject({ normalise: 'e164', defaultCountryCode: '49' });
    expect(rulesOf('patients')).toEqual(
      expect.arrayContaining([
        { identity: 'patientId', attribute: 'PatientRef' },
        { identity: 'email', index: 'byE-Mail', attribute: 'E-Mail' },
        { identity: 'phone', index: 'byMobile', attribute: 'Mobile' },
      ]),
    );
    expect(rulesOf('appointments')).toEqual([{ identity: 'patientId', attribute: 'patient_ref' }]);
    expect(rulesOf('app-devices')).toEqual(
      expect.arrayContaining([
        { identity: 'imei', attribute: 'deviceImei' },
        { identity: 'patientId', index: 'byOwner', attribute: 'owner' },
      ]),
    );
    expect(rulesOf('riverside-scans')).toEqual([{ identity: 'patientId', prefix: 'xray/{patientId}/' }]);
    expect(rulesOf('riverside-exports')).toEqual([
      { identity: 'email', jsonLines: { prefix: 'logs/', field: 'user_email' } },
    ]);
    const patients = draft.stores.find((store) => store.id === 'patients');
    expect(patients?.categories).toEqual(
      expect.arrayContaining([
        'user.contact.email',
        'user.contact.phone',
        'user.contact.name',
        'user.content.text',
      ]),
    );

    const report = JSON.parse(run.out) as {
      stores: {
        name: string;
        left?: string;
        problems: string[];
        fields: { name: string; notNormalised: number }[];
      }[];
    };
    const store = (name: string) => report.stores.find((candidate) => candidate.name === name);
    expect(store('empty')?.left).toBe('no items were read');
    expect(store('not-a-file')?.problems).toEqual(['the file cannot be read (EISDIR)']);
    expect(store('riverside-empty')?.left).toBe('the bucket is empty');
    expect(store('riverside-blobs')).toMatchObject({
      left: 'no per-subject folders or JSON-lines fields holding identities were found',
      problems: ['1 folders or files cannot be read and were left out'],
    });
    // a third of the emails carry capitals and spaces; three of four phones are not E.164
    expect(store('Patients')?.fields.find((field) => field.name === 'E-Mail')?.notNormalised).toBeCloseTo(
      14 / 40,
      2,
    );
    expect(store('Patients')?.fields.find((field) => field.name === 'Mobile')?.notNormalised).toBe(0.75);
  });

  it('never prints, writes or logs a value it read', async () => {
    // Prepare
    const out = join(root, 'draft-planted.yaml');

    // Act
    const runs = [
      await lethe(['discover', '--dir', dir, '--out', out, '--force']),
      await lethe(['discover', '--dir', dir]),
      await lethe(['discover', '--dir', dir, '--json', '--debug', '--sample', '3']),
    ];

    // Assess
    const everything = [
      readFileSync(out, 'utf8'),
      ...runs.flatMap((run) => [run.out, run.err]),
      ...written,
    ].join('\n');
    expect(runs.map((run) => run.code)).toEqual([0, 0, 0]);
    expect(everything).toContain('patientId'); // the outputs are there to be searched
    expect(planted.filter((value) => everything.includes(value))).toEqual([]);
  });

  it('exits 2 with one line for a folder it cannot read', async () => {
    // Act
    const run = await lethe(['discover', '--dir', join(root, 'no-such-export')]);

    // Assess
    expect(run.code).toBe(2);
    expect(run.out).toBe('');
    expect(run.err.trimEnd().split('\n')).toHaveLength(1);
    expect(run.err).toMatch(/^lethe: cannot read the folder .*no-such-export \(ENOENT\)/);
  });
});
