import { identityKey } from '../../../lib/datamap/identity';
import { claimedByOf, LinkEdges } from '../../../lib/stores/provenance';

const email = identityKey({ type: 'email', value: 'ada@example.com' });
const phone = identityKey({ type: 'phone', value: '+493012345678' });
const cookie = identityKey({ type: 'cookieId', value: 'c-1' });
const claimed = new Map([
  [phone, 'hs256:phone'],
  [cookie, 'hs256:cookie'],
]);

describe('claimedByOf: whether only claimed identities found a record', () => {
  it('labels a record that only claimed identities found with their sorted labels', () => {
    // act
    const by = claimedByOf([phone, cookie, phone], claimed);

    // assess
    expect(by).toEqual(['hs256:cookie', 'hs256:phone']);
  });

  it('does not mark a record one other identity found too', () => {
    // act
    const by = claimedByOf([phone, email], claimed);

    // assess
    expect(by).toBeUndefined();
  });

  it('marks nothing when the request claims nothing', () => {
    // assess
    expect([
      claimedByOf([phone], undefined),
      claimedByOf([phone], new Map()),
      claimedByOf([], claimed),
    ]).toEqual([undefined, undefined, undefined]);
  });
});

describe('LinkEdges: who revealed whom', () => {
  it('keeps each (from, to, link) once, in the order first added', () => {
    // prepare
    const edges = new LinkEdges();
    const link = { identity: 'phone', attribute: 'phone', trust: 'claimed' as const };
    const revealed = { type: 'phone', value: '+493012345678' };

    // act
    edges.add([email, cookie], revealed, link);
    edges.add([email], revealed, link);
    edges.add([email], revealed, { ...link, attribute: 'mobile' });

    // assess
    expect(edges.list()).toEqual([
      { from: email, to: phone, link },
      { from: cookie, to: phone, link },
      { from: email, to: phone, link: { ...link, attribute: 'mobile' } },
    ]);
  });
});
