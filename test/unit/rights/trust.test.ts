import { subjectHash } from '../../../lib/audit/subject-hash';
import { type Identity, identityKey } from '../../../lib/datamap/identity';
import type { LinkTrust } from '../../../lib/datamap/schema';
import { claimedIdentities, classifyTrust, identityTrust, type TrustEdge } from '../../../lib/rights/trust';
import type { IdentityGraph } from '../../../lib/stores';

const hashKey = Buffer.alloc(32, 7);
const email: Identity = { type: 'email', value: 'ada@example.com' };
const phone: Identity = { type: 'phone', value: '+493012345678' };
const cookie: Identity = { type: 'cookieId', value: '5dfa9377-0000-4000-8000-000000000001' };
const userId: Identity = { type: 'userId', value: 'u-0000abcd' };
const key = identityKey;

const edge = (from: Identity, to: Identity, trust: LinkTrust, store = 'inquiries'): TrustEdge => ({
  from: key(from),
  to: key(to),
  store,
  attribute: to.type,
  trust,
});

const graphEdge = (
  from: Identity,
  to: Identity,
  trust: LinkTrust,
  storeId = 'inquiries',
): IdentityGraph['edges'][number] => ({
  from: key(from),
  to: key(to),
  link: { identity: to.type, attribute: to.type, trust },
  storeId,
});

describe('classifyTrust: how far each identity of a link graph can be trusted', () => {
  it('trusts what verified links reach, and marks claimed what only a claimed link reaches, with its chain', () => {
    // prepare: email -verified-> userId; email -claimed-> phone -verified-> cookie
    const edges = [
      edge(email, userId, 'verified'),
      edge(email, phone, 'claimed'),
      edge(phone, cookie, 'verified', 'partner-contacts'),
    ];

    // act
    const verdicts = classifyTrust([key(email)], edges);

    // assess: the chain is only as good as its weakest link
    expect(verdicts.get(key(email))).toEqual({ trust: 'verified' });
    expect(verdicts.get(key(userId))).toEqual({ trust: 'verified' });
    expect(verdicts.get(key(phone))).toEqual({ trust: 'claimed', path: [edges[1]] });
    expect(verdicts.get(key(cookie))).toEqual({ trust: 'claimed', path: [edges[1], edges[2]] });
  });

  it('trusts an identity that one verified chain reaches, whatever claimed chains reach it too', () => {
    // prepare: the claimed edge comes first, the verified chain is longer
    const edges = [
      edge(email, phone, 'claimed'),
      edge(email, userId, 'verified'),
      edge(userId, phone, 'verified'),
    ];

    // act
    const verdicts = classifyTrust([key(email)], edges);

    // assess
    expect(verdicts.get(key(phone))).toEqual({ trust: 'verified' });
  });

  it('ends on cycles and leaves out what nothing reaches', () => {
    // prepare: phone and cookie reveal each other; userId is reached by nobody
    const edges = [
      edge(email, phone, 'claimed'),
      edge(phone, cookie, 'claimed'),
      edge(cookie, phone, 'claimed'),
      edge(userId, email, 'verified'),
    ];

    // act
    const verdicts = classifyTrust([key(email)], edges);

    // assess
    expect([...verdicts.keys()].sort()).toEqual([key(cookie), key(email), key(phone)].sort());
    expect(verdicts.get(key(cookie))?.path).toEqual([edges[0], edges[1]]);
  });
});

describe('identityTrust: what a request record keeps of its identities’ trust', () => {
  it('keeps types and keyed hashes, never values, and gives a claimed identity its path', () => {
    // prepare
    const identities = [email, phone, cookie];
    const edges = [
      graphEdge(email, phone, 'claimed'),
      graphEdge(phone, cookie, 'claimed', 'partner-contacts'),
    ];

    // act
    const trust = identityTrust({ hashKey, identities, submitted: [email], edges });

    // assess
    expect(trust).toEqual([
      { identity: 'email', hash: subjectHash(hashKey, email), trust: 'verified' },
      {
        identity: 'phone',
        hash: subjectHash(hashKey, phone),
        trust: 'claimed',
        path: {
          from: { identity: 'email', hash: subjectHash(hashKey, email) },
          steps: [
            {
              store: 'inquiries',
              attribute: 'phone',
              identity: 'phone',
              hash: subjectHash(hashKey, phone),
              trust: 'claimed',
            },
          ],
        },
      },
      expect.objectContaining({ identity: 'cookieId', trust: 'claimed' }),
    ]);
    expect(trust[2]?.path?.steps.map((step) => step.store)).toEqual(['inquiries', 'partner-contacts']);
    const text = JSON.stringify(trust);
    for (const identity of identities) expect(text).not.toContain(identity.value);
  });

  it('never takes trust back: an identity an earlier attempt verified stays verified once its link is gone', () => {
    // prepare: attempt 1 reached the phone through a verified link; erasure deleted the row since
    const identities = [email, phone, cookie];
    const first = identityTrust({
      hashKey,
      identities,
      submitted: [email],
      edges: [graphEdge(email, phone, 'verified'), graphEdge(email, cookie, 'claimed')],
    });

    // act
    const again = identityTrust({ hashKey, identities, submitted: [email], edges: [], previous: first });

    // assess: the phone stays verified, the cookie keeps its claimed verdict and path
    expect(again).toEqual(first);
    expect(again.map((entry) => entry.trust)).toEqual(['verified', 'verified', 'claimed']);
  });

  it('counts an identity nothing reaches and nothing was said of as claimed', () => {
    // act
    const trust = identityTrust({ hashKey, identities: [email, userId], submitted: [email], edges: [] });

    // assess
    expect(trust[1]).toEqual({ identity: 'userId', hash: subjectHash(hashKey, userId), trust: 'claimed' });
  });
});

describe('claimedIdentities: what locating marks records by', () => {
  it('labels every identity the trust list does not call verified with its keyed hash', () => {
    // prepare: the cookie has no entry (found after trust was recorded): claimed
    const trust = [
      { identity: 'email', hash: subjectHash(hashKey, email), trust: 'verified' as const },
      { identity: 'phone', hash: subjectHash(hashKey, phone), trust: 'claimed' as const },
    ];

    // act
    const claimed = claimedIdentities(hashKey, [email, phone, cookie], trust);

    // assess
    expect(claimed).toEqual(
      new Map([
        [key(phone), subjectHash(hashKey, phone)],
        [key(cookie), subjectHash(hashKey, cookie)],
      ]),
    );
  });

  it('claims nothing for a request resolved before trust was recorded', () => {
    // act
    const claimed = claimedIdentities(hashKey, [email, phone], undefined);

    // assess
    expect(claimed.size).toBe(0);
  });
});
