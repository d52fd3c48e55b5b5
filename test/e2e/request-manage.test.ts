import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SeedSubject } from '../../examples/adtech/seed';
import { type AuditEvent, auditDepsOf, readAuditEvents } from '../../lib/audit/log';
import { openLocalEnvironment } from '../../lib/local/environment';
import type { RequestSummary } from '../../lib/rights/summary';
import { type CliRun, includeAllInReview, lethe, requestSubmitArgs, seedStateDir } from '../helpers/cli';
import { exampleSeed } from '../helpers/world';

/**
 * Request management on fixed dates: the example's policy holds CCPA portability requests for
 * approval; staff approve (never their own), deny with a reason, cancel, extend once within the
 * law, and list what is overdue or due soon. Every transition is audited with who and why, and
 * the subject's notices land in the state directory's outbox without identifiers.
 */

const RECEIVED = '2027-01-31T09:00:00.000Z';
const at = (iso: string) => ({ now: () => new Date(iso) });

describe('lethe request approve|deny|cancel|extend and list --overdue|--due-within', () => {
  let root: string;
  let stateDir: string;
  let subjects: SeedSubject[];

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'lethe-manage-'));
    stateDir = join(root, 'state');
    const seed = exampleSeed(4, 1);
    subjects = seed.subjects;
    await seedStateDir(stateDir, seed);
  }, 120_000);

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  const state = () => ['--state-dir', stateDir];
  const json = (run: CliRun) => JSON.parse(run.out) as RequestSummary;
  const status = async (requestId: string) =>
    json(await lethe(['request', 'status', requestId, ...state(), '--json']));
  const submitPortability = async (who: SeedSubject, requestId: string) =>
    lethe(
      requestSubmitArgs(
        stateDir,
        'portability',
        [`email=${who.email}`],
        ['--jurisdiction', 'ccpa', '--request-id', requestId],
      ),
      at(RECEIVED),
    );
  const auditEvents = async (requestId: string): Promise<AuditEvent[]> => {
    const env = await openLocalEnvironment({ stateDir });
    try {
      return await readAuditEvents(auditDepsOf(env.deps), { requestId });
    } finally {
      await env.close();
    }
  };
  const outbox = () =>
    existsSync(join(stateDir, 'outbox')) ? readdirSync(join(stateDir, 'outbox')).sort() : [];
  const expectRefused = async (argv: string[], message: RegExp, when = RECEIVED) => {
    const id = argv[2]!;
    const before = await status(id);
    const run = await lethe([...argv, ...state()], at(when));
    expect({ code: run.code, out: run.out, lines: run.err.trimEnd().split('\n').length }).toEqual({
      code: 2,
      out: '',
      lines: 1,
    });
    expect(run.err).toMatch(message);
    expect(await status(id)).toEqual(before);
  };

  it('holds a policy-gated request with no execution, refuses self-approval, then runs it once approved', async () => {
    // prepare
    const subject = subjects[0]!;

    // act
    const submitted = json(await submitPortability(subject, 'manage-approve-0001'));

    // assess
    expect(submitted).toMatchObject({
      status: 'pending-approval',
      dueAt: '2027-03-17T09:00:00.000Z',
      stores: [],
    });
    expect((await lethe(['request', 'history', submitted.requestId, ...state(), '--json'])).out.trim()).toBe(
      '[]',
    );
    await expectRefused(
      ['request', 'approve', submitted.requestId, '--by', 'Privacy-Desk'],
      /privacy-desk submitted request manage-approve-0001 and cannot approve it too/i,
    );

    // act
    const approved = json(
      await lethe(
        ['request', 'approve', submitted.requestId, '--by', 'R. Roe', ...state(), '--json'],
        at('2027-02-01T10:00:00.000Z'),
      ),
    );
    const finished = await includeAllInReview(stateDir, approved);

    // assess
    expect(finished.status).toBe('completed');
    expect(finished.approval).toEqual({ by: 'R. Roe', at: '2027-02-01T10:00:00.000Z' });
    const types = (await auditEvents(submitted.requestId)).map((event) => event.type);
    expect(types.slice(0, 3)).toEqual(['request.received', 'request.approved', 'request.verified']);
    const approval = (await auditEvents(submitted.requestId)).find(
      (event) => event.type === 'request.approved',
    );
    expect(approval).toMatchObject({ actor: 'R. Roe', details: { submittedBy: 'privacy-desk' } });
    // The subject's notice: ids, status and the export link, never an identifier.
    const notice = readFileSync(join(stateDir, 'outbox', `${submitted.requestId}.completed.json`), 'utf8');
    expect(JSON.parse(notice)).toMatchObject({
      requestId: submitted.requestId,
      status: 'completed',
      exportLink: expect.stringMatching(/^file:.*manage-approve-0001\.zip$/),
    });
    for (const value of [subject.email, ...subject.cookieIds]) expect(notice).not.toContain(value);

    // a completed request cannot be approved, denied, cancelled or extended
    await expectRefused(['request', 'approve', submitted.requestId, '--by', 'R. Roe'], /is completed/);
    await expectRefused(
      ['request', 'deny', submitted.requestId, '--by', 'R. Roe', '--reason', 'excessive', '--note', 'repeat'],
      /is completed/,
    );
    await expectRefused(
      ['request', 'cancel', submitted.requestId, '--by', 'R. Roe', '--reason', 'dup'],
      /is completed/,
    );
    await expectRefused(
      ['request', 'extend', submitted.requestId, '--by', 'R. Roe', '--days', '5', '--reason', 'busy'],
      /is completed/,
    );
  }, 180_000);

  it('extends once, within the law: past the limit, after the period, and a second time are refused', async () => {
    // prepare: CCPA, due 45 days after receipt, extendable to 90
    const { requestId } = json(await submitPortability(subjects[1]!, 'manage-extend-0001'));

    // act / assess
    await expectRefused(
      ['request', 'extend', requestId, '--by', 'J. Doe', '--days', '46', '--reason', 'complex request'],
      /at most 45 further days: the latest due date is 2027-05-01/,
    );
    await expectRefused(
      ['request', 'extend', requestId, '--by', 'J. Doe', '--days', '10', '--reason', 'complex request'],
      /within the original period, which ended 2027-03-17/,
      '2027-03-18T00:00:00.000Z',
    );
    const extended = json(
      await lethe(
        [
          'request',
          'extend',
          requestId,
          '--by',
          'J. Doe',
          '--days',
          '45',
          '--reason',
          'complex request, ticket 9',
          ...state(),
          '--json',
        ],
        at('2027-03-01T00:00:00.000Z'),
      ),
    );
    expect(extended).toMatchObject({
      status: 'pending-approval',
      dueAt: '2027-05-01T09:00:00.000Z',
      extension: {
        days: 45,
        by: 'J. Doe',
        previousDueAt: '2027-03-17T09:00:00.000Z',
        reason: 'complex request, ticket 9',
      },
    });
    await expectRefused(
      ['request', 'extend', requestId, '--by', 'J. Doe', '--days', '1', '--reason', 'more time'],
      /allows one extension, and this request was extended on 2027-03-01 by 45 days/,
      '2027-03-02T00:00:00.000Z',
    );
    expect((await auditEvents(requestId)).filter((event) => event.type === 'request.extended')).toEqual([
      expect.objectContaining({
        actor: 'J. Doe',
        details: expect.objectContaining({
          days: 45,
          dueAt: '2027-05-01T09:00:00.000Z',
          reason: 'complex request, ticket 9',
        }),
      }),
    ]);
    expect(outbox()).toContain(`${requestId}.extended.json`);
  }, 120_000);

  it('limits a GDPR extension to two further months', async () => {
    // prepare: GDPR, due one month after 31 January (28 February), extendable to 30 April
    const submitted = json(
      await lethe(
        requestSubmitArgs(
          stateDir,
          'access',
          [`email=${subjects[2]!.email}`],
          ['--request-id', 'manage-gdpr-0001'],
        ),
        at(RECEIVED),
      ),
    );
    expect(submitted.dueAt).toBe('2027-02-28T09:00:00.000Z');
    // it ran and waits for review (the example's links are claimed), or ended: only an open one extends
    if (submitted.status !== 'pending-review')
      throw new Error(`expected pending-review, got ${submitted.status}`);

    // act / assess
    await expectRefused(
      [
        'request',
        'extend',
        submitted.requestId,
        '--by',
        'J. Doe',
        '--days',
        '62',
        '--reason',
        'complex request',
      ],
      /GDPR Art\. 12\(3\) allows at most two further months: the latest due date is 2027-04-30/,
    );
    const extended = json(
      await lethe(
        [
          'request',
          'extend',
          submitted.requestId,
          '--by',
          'J. Doe',
          '--days',
          '61',
          '--reason',
          'complex request',
          ...state(),
          '--json',
        ],
        at(RECEIVED),
      ),
    );
    expect(extended.dueAt).toBe('2027-04-30T09:00:00.000Z');
  }, 120_000);

  it('lists overdue requests and those due within some days, open ones only', async () => {
    // prepare: the requests above (received 31 January); manage-extend-0001 is due 1 May
    const list = async (when: string, ...filter: string[]) =>
      (
        JSON.parse(
          (await lethe(['request', 'list', ...filter, ...state(), '--json'], at(when))).out,
        ) as RequestSummary[]
      )
        .map((summary) => summary.requestId)
        .sort();

    // act / assess
    expect(await list('2027-03-01T00:00:00.000Z', '--overdue')).toEqual([]);
    expect(await list('2027-04-21T00:00:00.000Z', '--due-within', '10')).toEqual(['manage-gdpr-0001']);
    expect(await list('2027-04-19T00:00:00.000Z', '--due-within', '10')).toEqual([]);
    expect(await list('2027-04-25T00:00:00.000Z', '--due-within', '10')).toEqual([
      'manage-extend-0001',
      'manage-gdpr-0001',
    ]);
    expect(await list('2027-05-02T00:00:00.000Z', '--overdue')).toEqual([
      'manage-extend-0001',
      'manage-gdpr-0001',
    ]);
  }, 60_000);

  it('denies with the reason the subject is owed, cancels a request not yet running, and refuses bad input', async () => {
    // prepare
    const denied = json(await submitPortability(subjects[3]!, 'manage-deny-0001'));
    const cancelled = json(await submitPortability(subjects[3]!, 'manage-cancel-0001'));

    // act / assess: no reason, an unknown reason, no note
    await expectRefused(
      ['request', 'deny', denied.requestId, '--by', 'R. Roe', '--note', 'no proof'],
      /--reason/,
    );
    await expectRefused(
      ['request', 'deny', denied.requestId, '--by', 'R. Roe', '--reason', 'because', '--note', 'no proof'],
      /--reason must be one of unverifiable-identity, manifestly-unfounded, excessive, legal-exemption, other/,
    );
    await expectRefused(
      ['request', 'deny', denied.requestId, '--by', 'R. Roe', '--reason', 'excessive'],
      /--note/,
    );
    const denyWith = (note: string) => [
      'request',
      'deny',
      denied.requestId,
      '--by',
      'R. Roe',
      '--reason',
      'excessive',
      '--note',
      note,
    ];
    await expectRefused(denyWith(`${subjects[3]!.email} asked`), /--note/);
    const after = json(
      await lethe(
        [...denyWith('third copy this year'), ...state(), '--json'],
        at('2027-02-02T00:00:00.000Z'),
      ),
    );
    expect(after).toMatchObject({
      status: 'rejected',
      reason: 'denied (excessive): third copy this year',
      denial: { reason: 'excessive', note: 'third copy this year', by: 'R. Roe' },
    });
    expect((await auditEvents(denied.requestId)).map((event) => event.type)).toEqual([
      'request.received',
      'request.denied',
    ]);
    expect(
      JSON.parse(readFileSync(join(stateDir, 'outbox', `${denied.requestId}.rejected.json`), 'utf8')),
    ).toMatchObject({
      status: 'rejected',
      reason: 'denied (excessive): third copy this year',
      exportLink: null,
    });

    const closed = json(
      await lethe(
        [
          'request',
          'cancel',
          cancelled.requestId,
          '--by',
          'J. Doe',
          '--reason',
          'submitted twice',
          ...state(),
          '--json',
        ],
        at('2027-02-02T00:00:00.000Z'),
      ),
    );
    expect(closed).toMatchObject({ status: 'closed', reason: 'cancelled: submitted twice' });
    expect((await auditEvents(cancelled.requestId)).at(-1)).toMatchObject({
      type: 'request.cancelled',
      actor: 'J. Doe',
      details: { reason: 'cancelled: submitted twice', previousStatus: 'pending-approval' },
    });
  }, 120_000);
});
