import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { AdtechSeed, SeedSubject } from '../../examples/adtech/seed';
import type { SweepOutcome } from '../../lib/cli/backends';
import type { CliIo } from '../../lib/cli/io';
import { runCli } from '../../lib/cli/program';
import type { LegalHold } from '../../lib/holds';
import { openLocalEnvironment } from '../../lib/local/environment';
import { lethe, seedStateDir, snapshotStateDir } from '../helpers/cli';
import { belongsTo, exampleDataMap, exampleSeed, identifierValues, richestSubject } from '../helpers/world';

const dataMap = exampleDataMap();
/** A year after the seed: plenty has expired in every store with a retention rule. */
const SWEEP_NOW = '2027-11-01T03:00:00.000Z';

describe('lethe sweep and lethe hold, end to end through the locally run sweep state machine', () => {
  let root: string;
  let stateDir: string;
  let seed: AdtechSeed;
  let held: SeedSubject;
  let holdId: string;
  const sweep = (...extra: string[]) =>
    lethe(['sweep', '--now', SWEEP_NOW, '--state-dir', stateDir, '--json', ...extra]);

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'lethe-sweep-e2e-'));
    stateDir = join(root, 'state');
    seed = exampleSeed(12, 4);
    held = richestSubject(seed);
    await seedStateDir(stateDir, seed);
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('counts what would go in a dry run and changes nothing', async () => {
    // prepare
    const before = await snapshotStateDir(stateDir);

    // act
    const run = await sweep('--dry-run');

    // assess
    expect(run.code).toBe(0);
    const outcome = JSON.parse(run.out) as SweepOutcome;
    expect(outcome.status).toBe('SUCCEEDED');
    expect(outcome.summary!.dryRun).toBe(true);
    expect(outcome.summary!.totals.expired).toBeGreaterThan(0);
    // Nothing is purged: what would be is named so.
    expect(outcome.summary!.totals).toMatchObject({ purged: 0, anonymised: 0 });
    expect(outcome.summary!.totals.wouldPurge).toBeGreaterThan(0);
    expect(await snapshotStateDir(stateDir)).toEqual(before);
  });

  it('says "would purge" in the text of a dry run, with every count column, and the totals', async () => {
    // prepare
    const json = JSON.parse((await sweep('--dry-run')).out) as SweepOutcome;

    // act
    const text = await lethe(['sweep', '--dry-run', '--now', SWEEP_NOW, '--state-dir', stateDir]);

    // assess
    expect(text.code).toBe(0);
    const lines = text.out.split('\n');
    const header = lines.find((line) => line.trimStart().startsWith('store'));
    expect(header?.trim().split(/\s{2,}/)).toEqual([
      'store',
      'rule',
      'examined',
      'expired',
      'would purge',
      'would anonymise',
      'already anonymised',
      'held',
      'locked',
      'skipped',
    ]);
    const totals = json.summary!.totals;
    expect(text.out).toContain(
      `in total: would purge ${totals.wouldPurge}, would anonymise ${totals.wouldAnonymise}, ` +
        `${totals.alreadyAnonymised} already anonymised, ${totals.held} held, ${totals.locked} locked, ${totals.skipped} skipped`,
    );
    expect(text.out).not.toMatch(/\bpurged\b/);
  });

  it('keeps every record of a subject on legal hold and purges the other expired records', async () => {
    // prepare
    const placed = await lethe([
      'hold',
      'add',
      '--subject',
      `email=${held.email}`,
      '--reason',
      'Litigation hold, case 2026-0042',
      '--by',
      'Legal',
      '--state-dir',
      stateDir,
      '--json',
    ]);
    expect(placed.code).toBe(0);
    holdId = (JSON.parse(placed.out) as LegalHold).holdId;
    const before = await snapshotStateDir(stateDir);

    // act
    const run = await sweep();

    // assess
    const outcome = JSON.parse(run.out) as SweepOutcome;
    expect(outcome.status).toBe('SUCCEEDED');
    expect(outcome.summary!.totals.held).toBeGreaterThan(0);
    expect(outcome.summary!.totals.purged).toBeGreaterThan(0);
    const after = await snapshotStateDir(stateDir);
    for (const entry of before.values()) {
      if (belongsTo(dataMap, held, entry)) expect(after.get(entry.id)).toEqual(entry);
      else if (after.has(entry.id)) expect(after.get(entry.id)).toEqual(entry);
    }
    expect(after.size).toBeLessThan(before.size);
    // what is left to purge is exactly what the hold keeps
    const again = JSON.parse((await sweep('--dry-run')).out) as SweepOutcome;
    expect(again.summary!.totals.wouldPurge).toBe(0);
    expect(again.summary!.totals.held).toBe(outcome.summary!.totals.held);
  });

  it('purges the held records once the hold is released, and lists the hold as released', async () => {
    // prepare
    const released = await lethe([
      'hold',
      'release',
      holdId,
      '--by',
      'Legal',
      '--state-dir',
      stateDir,
      '--json',
    ]);
    expect(released.code).toBe(0);

    // act
    const outcome = JSON.parse((await sweep()).out) as SweepOutcome;

    // assess
    expect(outcome.summary!.totals.held).toBe(0);
    expect(outcome.summary!.totals.purged).toBeGreaterThan(0);
    const holds = JSON.parse(
      (await lethe(['hold', 'list', '--state-dir', stateDir, '--json'])).out,
    ) as LegalHold[];
    expect(holds.map((hold) => [hold.holdId, hold.status, hold.releasedBy])).toEqual([
      [holdId, 'released', 'Legal'],
    ]);
  });

  it('appends sweep and hold events to the audit log, with no raw identifier anywhere', async () => {
    // prepare
    const env = await openLocalEnvironment({ stateDir });
    const audit =
      (await env.deps.doc.send(new ScanCommand({ TableName: env.deps.resources.auditTable }))).Items ?? [];
    await env.close();
    const histories = readdirSync(join(stateDir, 'executions')).map((file) =>
      readFileSync(join(stateDir, 'executions', file), 'utf8'),
    );

    // act
    const haystack = [JSON.stringify(audit), ...histories, readFileSync(join(stateDir, 'lethe.log'), 'utf8')]
      .join('\n')
      .toLowerCase();

    // assess
    const types = audit.map((event) => event.type);
    expect(types.filter((type) => type === 'sweep.completed')).toHaveLength(6);
    expect(types).toEqual(expect.arrayContaining(['hold.placed', 'hold.released']));
    for (const value of identifierValues(held)) expect(haystack).not.toContain(value.toLowerCase());
  });

  it.each([
    ['a --now that is not ISO-8601', ['sweep', '--now', 'yesterday'], /--now must be an ISO-8601/],
    ['an unknown store', ['sweep', '--store', 'nope'], /unknown store "nope"/],
    ['a store without a retention rule', ['sweep', '--store', 'partner-contacts'], /has no retention rule/],
    [
      'a hold with no scope',
      ['hold', 'add', '--reason', 'Litigation hold', '--by', 'Legal'],
      /either --subject/,
    ],
    [
      'a hold on a malformed identity',
      ['hold', 'add', '--subject', 'email=nope', '--reason', 'Litigation hold', '--by', 'Legal'],
      /email identity is invalid/,
    ],
    ['releasing an unknown hold', ['hold', 'release', 'hold-none', '--by', 'Legal'], /hold-none/],
  ])('rejects %s with exit code 2 and changes nothing', async (_name, args, message) => {
    // prepare
    const before = await snapshotStateDir(stateDir);

    // act
    const run = await lethe([...args, '--state-dir', stateDir]);

    // assess
    expect(run.code).toBe(2);
    expect(run.err).toMatch(message);
    expect(await snapshotStateDir(stateDir)).toEqual(before);
  });

  it('shows live progress through the io where it can rewrite a line, and none with --json', async () => {
    // prepare: an io like a terminal's, recording each progress line and whether it was final
    const written = { out: '', progress: [] as [string, boolean][] };
    const io: CliIo = {
      out: (text) => {
        written.out += `${text}\n`;
      },
      err: () => {},
      progress: (line, final) => written.progress.push([line, final ?? false]),
    };
    const args = ['sweep', '--dry-run', '--now', SWEEP_NOW, '--state-dir', stateDir];

    // act
    const text = await runCli(args, { io });
    const progressOfText = written.progress.splice(0);
    const json = await runCli([...args, '--store', 'inquiries', '--json'], { io });

    // assess
    expect([text, json]).toEqual([0, 0]);
    expect(written.out).toMatch(/^Sweep \S+: SUCCEEDED \(dry run: nothing changed\)/);
    const retained = dataMap.stores.filter((store) => store.retention).map((store) => store.id);
    const finished = progressOfText.filter(([, final]) => final).map(([line]) => line);
    for (const storeId of retained)
      expect(
        finished.some((line) => line.startsWith(`${storeId} segment `) && line.endsWith(' — done')),
      ).toBe(true);
    expect(
      progressOfText.every(
        ([line, final]) =>
          line.includes('would purge') && !line.includes('purged') && final === line.endsWith(' — done'),
      ),
    ).toBe(true);
    expect(written.progress).toEqual([]);
  });
});
