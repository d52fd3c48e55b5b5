import fc from 'fast-check';
import { decideExpired, expiryOf } from '../../../lib/retention/decide';

const CUTOFF = Date.UTC(2025, 10, 1);

describe('expiryOf: the boundary rule applied to one record', () => {
  it.each([
    ['a millisecond before the cut-off', CUTOFF - 1, 'expired'],
    ['exactly at the cut-off', CUTOFF, 'kept'],
    ['after the cut-off', CUTOFF + 1, 'kept'],
    ['long before the cut-off', 0, 'expired'],
    ['no timestamp (missing or unreadable)', undefined, 'unreadable'],
  ] as const)('%s: %s', (_name, timestampMs, expected) => {
    expect(expiryOf(timestampMs, CUTOFF)).toBe(expected);
  });

  it('calls a record expired exactly when its timestamp is strictly before the cut-off', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e13, max: 1e13 }), fc.integer({ min: -1e13, max: 1e13 }), (t, c) => {
        expect(expiryOf(t, c)).toBe(t < c ? 'expired' : 'kept');
      }),
      { seed: 20261101 },
    );
  });
});

describe('decideExpired: what becomes of an expired record', () => {
  const decide = (
    action: 'delete' | 'anonymise',
    dryRun: boolean,
    record: { held?: boolean; anonymised?: boolean } = {},
  ) => decideExpired({ action, dryRun }, { held: false, anonymised: false, ...record });

  it('purges an unheld record where the rule deletes, and only counts it as would-purge in a dry run', () => {
    expect(decide('delete', false)).toEqual({ verdict: 'purged', apply: true });
    expect(decide('delete', true)).toEqual({ verdict: 'wouldPurge', apply: false });
  });

  it('anonymises an unheld record where the rule anonymises, and only counts it as would-anonymise in a dry run', () => {
    expect(decide('anonymise', false)).toEqual({ verdict: 'anonymised', apply: true });
    expect(decide('anonymise', true)).toEqual({ verdict: 'wouldAnonymise', apply: false });
  });

  it('keeps a held record, whatever the rule, the dry run or its masks say', () => {
    for (const action of ['delete', 'anonymise'] as const) {
      for (const dryRun of [false, true]) {
        for (const anonymised of [false, true]) {
          expect(decide(action, dryRun, { held: true, anonymised })).toEqual({
            verdict: 'held',
            apply: false,
          });
        }
      }
    }
  });

  it('leaves a record anonymised before as it is, and never deletes one for being anonymised', () => {
    expect(decide('anonymise', false, { anonymised: true })).toEqual({
      verdict: 'alreadyAnonymised',
      apply: false,
    });
    expect(decide('anonymise', true, { anonymised: true })).toEqual({
      verdict: 'alreadyAnonymised',
      apply: false,
    });
    expect(decide('delete', false, { anonymised: true })).toEqual({ verdict: 'purged', apply: true });
  });

  it('never changes a store in a dry run, and never touches a held record', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('delete' as const, 'anonymise' as const),
        fc.boolean(),
        fc.boolean(),
        fc.boolean(),
        (action, dryRun, held, anonymised) => {
          const decision = decideExpired({ action, dryRun }, { held, anonymised });
          if (dryRun || held) expect(decision.apply).toBe(false);
          if (held) expect(decision.verdict).toBe('held');
          if (decision.apply) expect(decision.verdict).toBe(action === 'delete' ? 'purged' : 'anonymised');
          // A dry run never says purged or anonymised: it did neither.
          if (dryRun) expect(['purged', 'anonymised']).not.toContain(decision.verdict);
        },
      ),
      { seed: 20261101 },
    );
  });
});
