import { closeRequest } from '../../../lib/rights/lifecycle';
import { recordFailure } from '../../../lib/rights/outcome';
import { countOverdueRequests } from '../../../lib/rights/overdue';
import { verifyRequest } from '../../../lib/rights/verify';
import { exampleEnvironment } from '../../helpers/environment';
import { submitErasure } from '../../helpers/requests';
import { SEED_NOW } from '../../helpers/world';

/** What the hourly overdue-requests function publishes: open requests and those past their due date. */

const DAY_MS = 24 * 60 * 60 * 1000;

describe('countOverdueRequests', () => {
  const env = exampleEnvironment('lethe-overdue-');

  it('counts the requests not over, and those whose due date has passed', async () => {
    // prepare: three GDPR requests received now (due in a month); one failed, one closed
    const submit = (n: number) => submitErasure(env(), [{ type: 'email', value: `overdue${n}@example.com` }]);
    const [open, failed, closed] = [await submit(1), await submit(2), await submit(3)];
    for (const request of [failed, closed]) {
      await verifyRequest(env().deps, request.requestId);
      await recordFailure(env().deps, { requestId: request.requestId, failure: { error: 'X' } });
    }
    await closeRequest(env().deps, closed.requestId, 'desk', 'withdrawn, ticket 1');
    expect(open.record.status).toBe('received');

    // act
    const today = await countOverdueRequests(env().deps, SEED_NOW);
    const inSixWeeks = await countOverdueRequests(env().deps, new Date(SEED_NOW.getTime() + 42 * DAY_MS));

    // assess: the open and the failed one are not over; six weeks on, both are overdue
    expect(today).toEqual({ open: 2, overdue: 0 });
    expect(inSixWeeks).toEqual({ open: 2, overdue: 2 });
  });
});
