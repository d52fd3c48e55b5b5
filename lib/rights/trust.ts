import { subjectHash } from '../audit/subject-hash';
import { type Identity, identityKey } from '../datamap/identity';
import type { LinkTrust } from '../datamap/schema';
import type { IdentityGraph } from '../stores';

/**
 * How far a request can trust each identity it resolved. The identities submitted were verified
 * with the requester; an identity is `verified` when a chain of verified links leads to it from
 * one of them, and `claimed` when every chain that reaches it passes a claimed link: a value
 * somebody typed (a contact form's phone field), which can be another person's. Records only
 * claimed identities find wait for staff review before they are exported or erased.
 */

/** One edge of a request's link graph: a record `from` found revealed `to` through a store's link. */
export interface TrustEdge {
  from: string;
  to: string;
  store: string;
  attribute: string;
  trust: LinkTrust;
}

/** What the graph says of one identity: verified, or claimed with the edges of one chain that reaches it. */
export interface TrustVerdict {
  trust: LinkTrust;
  /** For a claimed identity: the edges from a verified identity to it, in order (a shortest chain). */
  path?: TrustEdge[];
}

/**
 * Classifies every identity the edges reach from `verified`: verified when reached through
 * verified edges only, claimed otherwise, with a shortest chain from a verified identity. An
 * identity reached both ways is verified (one chain the company checked is enough); one reached
 * through a claimed edge and then verified ones is claimed (the chain is only as good as its
 * weakest link). Each identity is visited once per pass, so cycles end.
 * @param verified keys of the identities trusted from the start (those submitted)
 */
export function classifyTrust(
  verified: Iterable<string>,
  edges: readonly TrustEdge[],
): Map<string, TrustVerdict> {
  const outgoing = new Map<string, TrustEdge[]>();
  for (const edge of edges) {
    const list = outgoing.get(edge.from);
    if (list) list.push(edge);
    else outgoing.set(edge.from, [edge]);
  }
  const verdicts = new Map<string, TrustVerdict>();
  // First pass: everything verified edges reach from the verified identities.
  const queue = [...new Set(verified)];
  for (const key of queue) verdicts.set(key, { trust: 'verified' });
  for (let at = 0; at < queue.length; at += 1) {
    for (const edge of outgoing.get(queue[at]!) ?? []) {
      if (edge.trust !== 'verified' || verdicts.has(edge.to)) continue;
      verdicts.set(edge.to, { trust: 'verified' });
      queue.push(edge.to);
    }
  }
  // Second pass, breadth-first from every verified identity along any edge: the rest is claimed,
  // with the edge that first reached it, so each chain is a shortest one.
  const reachedBy = new Map<string, TrustEdge>();
  for (let at = 0; at < queue.length; at += 1) {
    for (const edge of outgoing.get(queue[at]!) ?? []) {
      if (verdicts.has(edge.to)) continue;
      reachedBy.set(edge.to, edge);
      verdicts.set(edge.to, { trust: 'claimed' });
      queue.push(edge.to);
    }
  }
  for (const [key, edge] of reachedBy) {
    const path: TrustEdge[] = [edge];
    for (let previous = reachedBy.get(edge.from); previous; previous = reachedBy.get(previous.from))
      path.unshift(previous);
    verdicts.set(key, { trust: 'claimed', path });
  }
  return verdicts;
}

/** One link of a chain as the request record, the audit log and staff see it: types and keyed hashes. */
export interface TrustStep {
  store: string;
  attribute: string;
  /** The identity type the link revealed, and the keyed hash of the identity. */
  identity: string;
  hash: string;
  trust: LinkTrust;
}

/** A chain of links from a verified identity to a claimed one. */
export interface TrustPath {
  from: { identity: string; hash: string };
  steps: TrustStep[];
}

/**
 * A resolved identity's trust, kept on the request record beside the identities (and dropped
 * with them): its type and keyed hash, never its value.
 */
export interface IdentityTrust {
  identity: string;
  hash: string;
  trust: LinkTrust;
  /** For a claimed identity: how it was reached (absent when no chain is known any more). */
  path?: TrustPath;
}

/**
 * The trust of each of a request's identities after a Resolve: the submitted identities, and those
 * an earlier attempt found verified, are trusted from the start (trust is never taken back: the
 * rows that proved it may be erased by now); the graph decides the rest. An identity the graph no
 * longer reaches keeps what an earlier attempt said of it, and is claimed if nothing was said.
 * @param hashKey the subject-hash key: paths carry keyed hashes, never values
 */
export function identityTrust(options: {
  hashKey: Buffer;
  identities: readonly Identity[];
  submitted: readonly Identity[];
  edges: IdentityGraph['edges'];
  previous?: readonly IdentityTrust[];
}): IdentityTrust[] {
  const hashes = new Map(
    options.identities.map((identity) => [identityKey(identity), subjectHash(options.hashKey, identity)]),
  );
  const previous = new Map((options.previous ?? []).map((entry) => [entry.hash, entry]));
  const trusted = [
    ...options.submitted.map(identityKey),
    ...[...hashes].flatMap(([key, hash]) => (previous.get(hash)?.trust === 'verified' ? [key] : [])),
  ];
  const verdicts = classifyTrust(
    trusted,
    options.edges.map((edge) => ({
      from: edge.from,
      to: edge.to,
      store: edge.storeId,
      attribute: edge.link.attribute,
      trust: edge.link.trust,
    })),
  );
  const typeOf = (key: string) => key.slice(0, key.indexOf('\u0000'));
  const hashOf = (key: string) => hashes.get(key) ?? '';
  return options.identities.map((identity): IdentityTrust => {
    const key = identityKey(identity);
    const hash = hashOf(key);
    const verdict = verdicts.get(key);
    if (!verdict) return previous.get(hash) ?? { identity: identity.type, hash, trust: 'claimed' };
    if (verdict.trust === 'verified' || !verdict.path?.[0]) {
      return { identity: identity.type, hash, trust: verdict.trust };
    }
    const origin = verdict.path[0].from;
    return {
      identity: identity.type,
      hash,
      trust: 'claimed',
      path: {
        from: { identity: typeOf(origin), hash: hashOf(origin) },
        steps: verdict.path.map((edge) => ({
          store: edge.store,
          attribute: edge.attribute,
          identity: typeOf(edge.to),
          hash: hashOf(edge.to),
          trust: edge.trust,
        })),
      },
    };
  });
}

/**
 * The request's claimed identities by identityKey, each labelled with its keyed hash: what
 * locating marks records by (LocateOptions.claimed). Identities without a trust entry count as
 * claimed once the request has any, since Resolve gives every identity one; a request resolved
 * before trust was recorded has none, and is taken as it was then.
 */
export function claimedIdentities(
  hashKey: Buffer,
  identities: readonly Identity[],
  trust: readonly IdentityTrust[] | undefined,
): Map<string, string> {
  const claimed = new Map<string, string>();
  if (!trust) return claimed;
  const verified = new Set(trust.filter((entry) => entry.trust === 'verified').map((entry) => entry.hash));
  for (const identity of identities) {
    const hash = subjectHash(hashKey, identity);
    if (!verified.has(hash)) claimed.set(identityKey(identity), hash);
  }
  return claimed;
}
