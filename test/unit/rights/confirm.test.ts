import { createHash } from 'node:crypto';
import fc from 'fast-check';
import type { DataMap } from '../../../lib/datamap/schema';
import { certificateDigest, dataMapDigest, type ErasureCertificate } from '../../../lib/rights/confirm';
import { propertyRun } from '../../helpers/property';
import { exampleDataMap } from '../../helpers/world';

type UnsignedCertificate = Omit<ErasureCertificate, 'digest'>;

function certificate(): UnsignedCertificate {
  return {
    certificateId: '3f0c2a8e-9b1d-4c55-8f43-2d7e1a6b9c01',
    requestId: 'req-2026-0001',
    requestType: 'erasure',
    jurisdiction: 'gdpr',
    subjectHashes: ['hmac-1f2e3d', 'hmac-4c5b6a'],
    receivedAt: '2026-01-31T10:00:00.000Z',
    erasedAt: '2026-02-02T09:00:00.000Z',
    issuedAt: '2026-02-02T09:00:00.000Z',
    dataMapDigest: 'c'.repeat(64),
    stores: [
      {
        store: 'contacts',
        located: 3,
        exported: 0,
        erased: 1,
        masked: 1,
        exempted: 1,
        remaining: 0,
        exemptions: [
          {
            reason: 'Invoices kept 10 years (HGB §257)',
            legalBasis: 'GDPR Art. 17(3)(b)',
            source: 'datamap',
            count: 1,
          },
        ],
      },
      {
        store: 'ad-events',
        located: 7,
        exported: 0,
        erased: 7,
        masked: 0,
        exempted: 0,
        remaining: 0,
        exemptions: [],
      },
    ],
    attempts: [
      {
        attempt: 1,
        startedAt: '2026-01-31T10:00:00.000Z',
        by: 'privacy desk',
        reason: 'submitted',
        erased: [{ store: 'contacts', erased: 1, masked: 1 }],
        failed: { code: 'EraseIncompleteError', state: 'EraseStores', at: '2026-01-31T10:05:00.000Z' },
      },
      {
        attempt: 2,
        startedAt: '2026-02-02T08:59:00.000Z',
        by: 'J. Doe',
        reason: 'retry',
        erased: [{ store: 'ad-events', erased: 7, masked: 0 }],
        failed: null,
      },
    ],
    exportsDeleted: [{ requestId: 'req-2026-0000', deletedAt: '2026-02-02T09:00:00.000Z' }],
    caveats: [
      { storeId: 'contacts', kind: 'unreachable-values', count: 2, checkedAt: '2026-01-30T00:00:00.000Z' },
      { storeId: 'ad-events', kind: 'never-checked' },
    ],
  };
}

/** The same value with the keys of every object, at every depth, in reverse order. */
function reverseKeys<T>(value: T): T {
  if (Array.isArray(value)) return value.map(reverseKeys) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .reverse()
        .map(([key, entry]) => [key, reverseKeys(entry)]),
    ) as T;
  }
  return value;
}

type Path = (string | number)[];

/** The path of every leaf (string, number, boolean, null), arrays and objects alike. */
function leafPaths(value: unknown, path: Path = []): Path[] {
  if (Array.isArray(value)) return value.flatMap((entry, index) => leafPaths(entry, [...path, index]));
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, entry]) => leafPaths(entry, [...path, key]));
  }
  return [path];
}

/** The path of every object property, at any depth (array elements excluded). */
function propertyPaths(value: unknown, path: Path = []): Path[] {
  if (Array.isArray(value)) return value.flatMap((entry, index) => propertyPaths(entry, [...path, index]));
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, entry]) => [
      [...path, key],
      ...propertyPaths(entry, [...path, key]),
    ]);
  }
  return [];
}

type Node = Record<string | number, unknown>;

/** A deep copy of `value`, and the object or array that holds the value at `path` in it. */
function copyToParent<T>(value: T, path: Path): { copy: T; parent: Node; last: string | number } {
  const copy = structuredClone(value);
  const parent = path.slice(0, -1).reduce<Node>((node, key) => node[key] as Node, copy as Node);
  return { copy, parent, last: path[path.length - 1]! };
}

/** A deep copy without the property at `path`. */
function withPropertyRemoved<T>(value: T, path: Path): T {
  const { copy, parent, last } = copyToParent(value, path);
  delete parent[last];
  return copy;
}

/** A deep copy with the leaf at `path` changed to another value of the same type. */
function withLeafChanged<T>(value: T, path: Path): T {
  const { copy, parent, last } = copyToParent(value, path);
  const leaf = parent[last];
  parent[last] =
    typeof leaf === 'number'
      ? leaf + 1 !== leaf
        ? leaf + 1
        : leaf / 2 // past 2^53, adding 1 gives the same number
      : typeof leaf === 'boolean'
        ? !leaf
        : typeof leaf === 'string'
          ? `${leaf}x`
          : 'was null';
  return copy;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** What both digests promise, checked on a realistic value: a certificate, the example data map. */
interface DigestCase<T> {
  name: string;
  digest: (value: T) => string;
  sample: () => T;
  /** A deeply nested leaf that must be among those edited, so nesting is really covered. */
  nestedLeaf: Path;
  edits: [string, (value: T) => void][];
}

const certificateCase: DigestCase<UnsignedCertificate> = {
  name: 'certificateDigest',
  digest: certificateDigest,
  sample: certificate,
  nestedLeaf: ['stores', 0, 'exemptions', 0, 'reason'],
  edits: [
    ['a store removed', (c) => c.stores.pop()],
    ['stores reordered', (c) => c.stores.reverse()],
    ['subject hashes reordered', (c) => c.subjectHashes.reverse()],
    ['an exemption removed', (c) => c.stores[0]!.exemptions.pop()],
    ['an optional field removed', (c) => delete c.stores[0]!.exemptions[0]!.legalBasis],
    ['a field added', (c) => Object.assign(c, { note: 'added later' })],
    ['a field added with a null value', (c) => Object.assign(c.stores[1]!, { note: null })],
    ['a number turned into a string', (c) => Object.assign(c.stores[1]!, { erased: '7' })],
  ],
};

const dataMapCase: DigestCase<DataMap> = {
  name: 'dataMapDigest',
  digest: dataMapDigest,
  sample: exampleDataMap,
  nestedLeaf: ['stores', 0, 'retention', 'period'],
  edits: [
    ['a store removed', (map) => map.stores.pop()],
    ['stores reordered', (map) => map.stores.reverse()],
    ['an identity type removed', (map) => delete map.identityTypes[Object.keys(map.identityTypes)[0]!]],
  ],
};

describe.each([certificateCase, dataMapCase] as DigestCase<unknown>[])(
  '$name',
  ({ digest, sample, nestedLeaf, edits }) => {
    it('is a SHA-256 that does not depend on the order of keys, at any depth', () => {
      // prepare
      const original = sample();
      const reordered = reverseKeys(original);

      // act
      const [a, b] = [digest(original), digest(reordered)];

      // assess
      expect(JSON.stringify(reordered)).not.toBe(JSON.stringify(original)); // the order really differs
      expect(a).toMatch(SHA256_HEX);
      expect(b).toBe(a);
    });

    it('is the same after a JSON round trip, as when stored and read back', () => {
      // prepare
      const original = sample();
      const readBack: unknown = JSON.parse(JSON.stringify(original));

      // act
      const recomputed = digest(readBack);

      // assess
      expect(recomputed).toBe(digest(original));
    });

    it('changes when any value is edited, nested ones included', () => {
      // prepare
      const original = sample();
      const paths = leafPaths(original);
      const before = digest(original);

      // act
      const unchanged = paths
        .filter((path) => digest(withLeafChanged(original, path)) === before)
        .map((path) => path.join('.'));

      // assess
      expect(paths).toContainEqual(nestedLeaf);
      expect(paths.length).toBeGreaterThan(20);
      expect(unchanged).toEqual([]);
    });

    it.each(edits)('changes with %s', (_case, edit) => {
      // prepare
      const original = sample();
      const edited = structuredClone(original);
      edit(edited);

      // act
      const [before, after] = [digest(original), digest(edited)];

      // assess
      expect(after).not.toBe(before);
    });
  },
);

describe('certificateDigest', () => {
  it('is the SHA-256 of the canonical JSON: keys sorted at every depth, no whitespace', () => {
    // prepare: the canonical form written out by hand, so the digest of issued certificates stays checkable
    const unsigned = {
      requestId: 'r-1',
      stores: [{ store: 's', located: 1, exemptions: [{ reason: 'kept by law', count: 1 }] }],
      certificateId: 'c-1',
    } as unknown as UnsignedCertificate;
    const canonical =
      '{"certificateId":"c-1","requestId":"r-1","stores":[{"exemptions":[{"count":1,"reason":"kept by law"}],"located":1,"store":"s"}]}';

    // act
    const digest = certificateDigest(unsigned);

    // assess
    expect(digest).toBe(createHash('sha256').update(canonical).digest('hex'));
  });

  it('for any JSON object: equal under key reordering, different after any leaf edit or removed key', () => {
    // prepare
    const objects = fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 3 }), {
      minKeys: 1,
      maxKeys: 8,
    });
    let edited = 0;

    // act
    const run = propertyRun({ numRuns: 200 });
    const act = () =>
      fc.assert(
        fc.property(objects, fc.nat(), fc.nat(), (object, pickLeaf, pickKey) => {
          const value = object as unknown as UnsignedCertificate;
          const digest = certificateDigest(value);
          const leaves = leafPaths(value);
          const leaf = leaves[pickLeaf % leaves.length];
          const keys = propertyPaths(value);
          const key = keys[pickKey % keys.length]!;

          // assess (per object)
          expect(certificateDigest(reverseKeys(value))).toBe(digest);
          expect(certificateDigest(withPropertyRemoved(value, key))).not.toBe(digest);
          if (leaf !== undefined && leaf.length > 0) {
            expect(certificateDigest(withLeafChanged(value, leaf))).not.toBe(digest);
            edited += 1;
          }
        }),
        run,
      );

    // assess
    expect(act).not.toThrow();
    expect(edited).toBeGreaterThan(run.numRuns / 2); // most objects have a leaf to edit: both halves run
  });
});
