import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HistoryEvent } from '../../lib/local/execution';
import { executionIdFor } from '../../lib/rights/request';
import type { RequestSummary } from '../../lib/rights/summary';
import { includeAllInReview, lethe } from '../helpers/cli';
import { EXAMPLE_DATAMAP_PATH } from '../helpers/world';

/** A person with an inquiry (email → cookie) and `events` ad events under that cookie. */
function personLines(index: number, events: number) {
  const email = `person${index}@example.org`;
  const cookieId = `0000000${index}-aaaa-4bbb-8ccc-${String(index).padStart(12, '0')}`;
  const inquiry = { email, receivedAt: '2026-10-01T10:00:00.000Z', cookieIds: [cookieId], message: 'hello' };
  const adEvents = Array.from({ length: events }, (_, n) => ({
    cookieId,
    eventKey: `${1_790_000_000_000 + n}#e${n}`,
    eventAt: 1_790_000_000_000 + n,
    retentionShard: 'all',
    type: n % 7 === 0 ? 'click' : 'view',
    campaignId: `c${n % 13}`,
  }));
  return { email, inquiry, adEvents };
}

describe('the cost of a request does not grow with the data', () => {
  let root: string;
  let stateDir: string;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'lethe-cost-'));
    stateDir = join(root, 'state');
    await lethe(['init', '--datamap', EXAMPLE_DATAMAP_PATH, '--state-dir', stateDir]);
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('runs the same state transitions for a subject with 10 records and one with 5,000', async () => {
    // prepare
    const small = personLines(1, 10);
    const large = personLines(2, 5_000);
    writeFileSync(
      join(root, 'inquiries.jsonl'),
      [small.inquiry, large.inquiry].map((line) => JSON.stringify(line)).join('\n'),
    );
    writeFileSync(
      join(root, 'ad-events.jsonl'),
      [...small.adEvents, ...large.adEvents].map((line) => JSON.stringify(line)).join('\n'),
    );
    expect(
      (
        await lethe([
          'import',
          '--store',
          'inquiries',
          '--file',
          join(root, 'inquiries.jsonl'),
          '--state-dir',
          stateDir,
        ])
      ).code,
    ).toBe(0);
    expect(
      (
        await lethe([
          'import',
          '--store',
          'ad-events',
          '--file',
          join(root, 'ad-events.jsonl'),
          '--state-dir',
          stateDir,
        ])
      ).code,
    ).toBe(0);

    // act
    const erase = async (email: string) => {
      const run = await lethe([
        'request',
        'submit',
        '--type',
        'erasure',
        '--subject',
        `email=${email}`,
        '--jurisdiction',
        'ccpa',
        '--verified-by',
        'desk',
        '--state-dir',
        stateDir,
        '--json',
      ]);
      // The cookie id comes from the inquiry (a claimed link): the desk includes its ad events.
      const summary = await includeAllInReview(stateDir, JSON.parse(run.out) as RequestSummary);
      const events = [1, 2].flatMap((attempt) =>
        readFileSync(
          join(stateDir, 'executions', `${executionIdFor(summary.requestId, attempt)}.jsonl`),
          'utf8',
        )
          .trim()
          .split('\n')
          .map((line) => JSON.parse(line) as HistoryEvent),
      );
      return { summary, events };
    };
    const smallRun = await erase(small.email);
    const largeRun = await erase(large.email);

    // assess: both completed, the large one really erased 5,000 records, with identical transitions
    const adEvents = (run: typeof smallRun) =>
      run.summary.stores.find((store) => store.store === 'ad-events')!;
    expect([smallRun.summary.status, largeRun.summary.status]).toEqual(['completed', 'completed']);
    expect([adEvents(smallRun).erased, adEvents(largeRun).erased]).toEqual([10, 5_000]);
    const transitions = (run: typeof smallRun) =>
      run.events.map((event) => `${event.type}:${event.state ?? ''}`).sort();
    expect(transitions(largeRun)).toEqual(transitions(smallRun));
  }, 120_000);
});
