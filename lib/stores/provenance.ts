import { type Identity, identityKey } from '../datamap/identity';
import type { Link } from '../datamap/schema';
import type { ClaimedBy, LinkEdge } from './types';

/**
 * Which identities found a record, and what that record revealed: what the request's trust in
 * each identity (verified or only claimed) is worked out from. Keys are identityKey values.
 */

/** The edges of a link graph, each (from, to, link) once, in the order first added. */
export class LinkEdges {
  private readonly edges = new Map<string, LinkEdge>();

  /** Records that each of `finders` found a record holding `revealed` in `link`'s attribute. */
  add(finders: Iterable<string>, revealed: Identity, link: Link): void {
    const to = identityKey(revealed);
    for (const from of finders) {
      const id = `${from}\u0001${to}\u0001${link.identity}\u0001${link.attribute}`;
      if (!this.edges.has(id)) this.edges.set(id, { from, to, link });
    }
  }

  list(): LinkEdge[] {
    return [...this.edges.values()];
  }
}

/**
 * The labels a record is marked claimed by: those of its finders when every one of them is a
 * claimed identity, else undefined (one other finder is enough to make the record the subject's).
 */
export function claimedByOf(
  finders: Iterable<string>,
  claimed: ReadonlyMap<string, string> | undefined,
): ClaimedBy | undefined {
  if (!claimed || claimed.size === 0) return undefined;
  const labels = new Set<string>();
  for (const finder of finders) {
    const label = claimed.get(finder);
    if (label === undefined) return undefined;
    labels.add(label);
  }
  return labels.size === 0 ? undefined : [...labels].sort();
}
