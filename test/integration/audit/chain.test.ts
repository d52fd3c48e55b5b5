import { randomUUID } from 'node:crypto';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { type AnchorStore, anchorAuditLog, listAnchors } from '../../../lib/audit/anchor';
import {
  AUDIT_STREAM,
  type AuditDeps,
  type AuditEvent,
  appendAuditEvent,
  hashAuditEvent,
  readAuditEvents,
} from '../../../lib/audit/log';
import { type ChainProblemKind, verifyAuditChain } from '../../../lib/audit/verify';
import { createLetheDeps } from '../../../lib/deps';
import { auditTableInput } from '../../../lib/local/environment';
import { createBucketIfMissing, createTableIfMissing } from '../../../lib/local/servers';
import { silentLogger } from '../../../lib/log';
import { propertyRun } from '../../helpers/property';
import { useLocalStores } from '../../helpers/stores';
import { exampleDataMap, SEED_NOW } from '../../helpers/world';

/**
 * The audit log's hash chain against a real dynalite: every kind of tampering an operator with
 * write access to the table could do is detected by verification, which names the first bad event
 * and what is wrong with it; anchors in the audit bucket catch a chain rewritten or cut short.
 */
describe('audit chain verification', () => {
  const local = useLocalStores({ stores: [] });
  let clock = SEED_NOW.getTime();
  const now = () => {
    clock += 1000;
    return new Date(clock);
  };
  /** Each log's own anchors bucket, so anchors of one test never bind another's log. */
  const bucketOf = new Map<string, string>();

  /** A fresh, empty audit table (and the deps to append to it). */
  async function freshLog(): Promise<AuditDeps> {
    const auditTable = `audit-${randomUUID()}`;
    await createTableIfMissing(local.clients.dynamodb, auditTableInput(auditTable));
    const { doc } = createLetheDeps({
      dataMap: exampleDataMap(),
      clients: local.clients,
      resources: {
        requestsTable: 'unused',
        auditTable,
        holdsTable: 'unused',
        manifestsBucket: 'unused',
        exportsBucket: 'unused',
      },
      keys: { subjectHash: Buffer.alloc(32), mask: Buffer.alloc(32) },
      exportUrlTtlSeconds: 3600,
      now,
      log: silentLogger,
    });
    const bucket = `anchors-${randomUUID()}`;
    await createBucketIfMissing(local.clients.s3, bucket);
    bucketOf.set(auditTable, bucket);
    return { doc, auditTable, now };
  }

  async function logOf(length: number): Promise<AuditDeps> {
    const deps = await freshLog();
    for (let index = 1; index <= length; index += 1) {
      await appendAuditEvent(deps, {
        type: index % 3 === 0 ? 'sweep.page' : 'request.received',
        actor: `writer-${index % 4}`,
        requestId: `req-${String(index).padStart(8, '0')}`,
        subjectHashes: [`hs256:${'ab'.repeat(32)}`],
        details: { index, counts: { purged: index * 2 } },
      });
    }
    return deps;
  }

  const anchors = (deps: AuditDeps): AnchorStore => ({
    s3: local.clients.s3,
    bucket: bucketOf.get(deps.auditTable) as string,
    versioned: false,
  });
  const verify = async (deps: AuditDeps, options: { fromSeq?: number; withAnchors?: boolean } = {}) =>
    verifyAuditChain(
      deps,
      options.withAnchors ? await listAnchors(anchors(deps), options.fromSeq ?? 0) : [],
      {
        ...(options.fromSeq ? { fromSeq: options.fromSeq } : {}),
        pageSize: 7,
      },
    );

  const events = (deps: AuditDeps) => readAuditEvents(deps);
  const put = (deps: AuditDeps, event: AuditEvent) =>
    deps.doc.send(new PutCommand({ TableName: deps.auditTable, Item: event }));
  const remove = (deps: AuditDeps, seq: number) =>
    deps.doc.send(new DeleteCommand({ TableName: deps.auditTable, Key: { stream: AUDIT_STREAM, seq } }));
  const rehash = (event: AuditEvent): AuditEvent => {
    const { hash: _hash, ...unhashed } = event;
    return { ...event, hash: hashAuditEvent(unhashed) };
  };
  const at = (list: AuditEvent[], seq: number) => list.find((event) => event.seq === seq) as AuditEvent;

  /** Every way of tampering the tests apply: each returns the kind and event verification must name. */
  const TAMPERING: Record<
    string,
    (deps: AuditDeps, list: AuditEvent[], seq: number) => Promise<{ kind: ChainProblemKind; seq: number }>
  > = {
    'edit a count': async (deps, list, seq) => {
      const event = at(list, seq);
      await put(deps, { ...event, details: { ...event.details, index: -1 } });
      return { kind: 'edited', seq };
    },
    'edit the actor': async (deps, list, seq) => {
      await put(deps, { ...at(list, seq), actor: 'someone-else' });
      return { kind: 'edited', seq };
    },
    'edit and recompute the hash': async (deps, list, seq) => {
      await put(deps, rehash({ ...at(list, seq), type: 'request.closed' }));
      return { kind: 'edited', seq };
    },
    'delete an event': async (deps, _list, seq) => {
      await remove(deps, seq);
      return { kind: 'missing', seq };
    },
    'delete an event and renumber the rest': async (deps, list, seq) => {
      const last = list.length;
      for (let moved = seq + 1; moved <= last; moved += 1)
        await put(deps, { ...at(list, moved), seq: moved - 1 });
      await remove(deps, last);
      return { kind: 'missing', seq };
    },
    'swap two events': async (deps, list, seq) => {
      await put(deps, { ...at(list, seq + 1), seq });
      await put(deps, { ...at(list, seq), seq: seq + 1 });
      return { kind: 'reordered', seq };
    },
    'insert a forged event and renumber the rest': async (deps, list, seq) => {
      for (let moved = list.length; moved >= seq; moved -= 1)
        await put(deps, { ...at(list, moved), seq: moved + 1 });
      const previous = at(list, seq - 1);
      const forged = rehash({
        ...at(list, seq),
        actor: 'forger',
        prevHash: previous.hash,
        hash: '',
      });
      await put(deps, forged);
      return { kind: 'inserted', seq };
    },
    'insert an unhashed event and renumber the rest': async (deps, list, seq) => {
      for (let moved = list.length; moved >= seq; moved -= 1)
        await put(deps, { ...at(list, moved), seq: moved + 1 });
      await put(deps, { ...at(list, seq), actor: 'forger' });
      return { kind: 'inserted', seq };
    },
  };

  it('verifies an intact chain, page after page, from the first event or any later one', async () => {
    // prepare
    const deps = await logOf(20);

    // act
    const whole = await verify(deps);
    const tail = await verify(deps, { fromSeq: 15 });

    // assess
    expect(whole).toMatchObject({ ok: true, checked: 20, problem: null, head: { seq: 20 } });
    expect(tail).toMatchObject({ ok: true, fromSeq: 15, checked: 6, problem: null });
  });

  it.each(Object.keys(TAMPERING))('detects and names the event: %s', async (name) => {
    // prepare
    const deps = await logOf(10);
    const list = await events(deps);
    const expected = await (TAMPERING[name] as (typeof TAMPERING)[string])(deps, list, 6);

    // act
    const result = await verify(deps);

    // assess
    expect(result.ok).toBe(false);
    expect(result.problem).toMatchObject(expected);
    expect(result.problem?.message).toContain(`event ${expected.seq}`);
  });

  it('with --from, checks only from there: tampering before is not read, tampering after is found', async () => {
    // prepare
    const deps = await logOf(10);
    const list = await events(deps);
    await put(deps, { ...at(list, 3), actor: 'someone-else' });

    // act
    const after = await verify(deps, { fromSeq: 5 });
    const before = await verify(deps, { fromSeq: 2 });

    // assess
    expect(after).toMatchObject({ ok: true, checked: 6 });
    expect(before.problem).toMatchObject({ kind: 'edited', seq: 3 });
  });

  describe('against anchors', () => {
    it('a tail cut off after an anchor: the chain is shorter than the anchor says', async () => {
      // prepare
      const deps = await logOf(10);
      const anchor = await anchorAuditLog(deps, anchors(deps), 'auditor');
      for (const seq of [8, 9, 10]) await remove(deps, seq);

      // act
      const withAnchors = await verify(deps, { withAnchors: true, fromSeq: 1 });
      const without = await verifyAuditChain(deps, []);

      // assess
      expect(without.ok).toBe(true);
      expect(withAnchors.problem).toMatchObject({
        kind: 'shorter-than-anchor',
        seq: 8,
        anchor: { key: anchor.key, seq: 10 },
      });
      expect(withAnchors.problem?.message).toContain('event 7');
    });

    it('a chain rewritten whole after an anchor no longer matches it', async () => {
      // prepare
      const deps = await logOf(10);
      await anchorAuditLog(deps, anchors(deps), 'auditor');
      const list = await events(deps);
      let previous = at(list, 4);
      for (let seq = 5; seq <= 10; seq += 1) {
        const rewritten = rehash({ ...at(list, seq), actor: 'rewriter', prevHash: previous.hash });
        await put(deps, rewritten);
        previous = rewritten;
      }

      // act
      const result = await verify(deps, { withAnchors: true });

      // assess
      expect(await verifyAuditChain(deps, [])).toMatchObject({ ok: true });
      expect(result.problem).toMatchObject({ kind: 'anchor-mismatch', seq: 10 });
    });

    it('an anchor changed (locally, where nothing locks it) no longer matches the chain', async () => {
      // prepare
      const deps = await logOf(5);
      const anchor = await anchorAuditLog(deps, anchors(deps), 'auditor');
      await local.clients.s3.send(
        new PutObjectCommand({
          Bucket: anchors(deps).bucket,
          Key: anchor.key,
          Body: JSON.stringify({ ...anchor, key: undefined, hash: 'f'.repeat(64) }),
        }),
      );

      // act
      const result = await verify(deps, { withAnchors: true });

      // assess
      expect(result.problem).toMatchObject({ kind: 'anchor-mismatch', seq: 5, anchor: { key: anchor.key } });
    });

    it('an intact chain agrees with every anchor taken as it grew', async () => {
      // prepare
      const deps = await logOf(3);
      await anchorAuditLog(deps, anchors(deps), 'auditor');
      await appendAuditEvent(deps, { type: 'hold.placed', actor: 'desk' });
      await anchorAuditLog(deps, anchors(deps), 'lethe:sweep');

      // act
      const result = await verify(deps, { withAnchors: true });

      // assess
      expect(result).toMatchObject({ ok: true, head: { seq: 4 } });
      expect(result.anchors.checked).toBeGreaterThanOrEqual(2);
    });
  });

  it('finds any single tampering at any position and names it (seeded property)', async () => {
    const kinds = Object.keys(TAMPERING);
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 6, max: 10 }),
        fc.constantFrom(...kinds),
        fc.nat(),
        async (length, name, position) => {
          // prepare: any event but the first and the last two (a swap needs one after it)
          const deps = await logOf(length);
          const list = await events(deps);
          const seq = 2 + (position % (length - 3));
          const expected = await (TAMPERING[name] as (typeof TAMPERING)[string])(deps, list, seq);

          // act
          const result = await verify(deps);

          // assess
          expect(result.problem).toMatchObject(expected);
        },
      ),
      propertyRun({ numRuns: 20, seed: 1212 }),
    );
  });

  it('eight writers appending at once leave one gap-free chain that verifies', async () => {
    // prepare
    const deps = await freshLog();
    const writers = 8;
    const perWriter = 25;

    // act
    await Promise.all(
      Array.from({ length: writers }, async (_, writer) => {
        for (let index = 0; index < perWriter; index += 1) {
          await appendAuditEvent(deps, {
            type: 'sweep.page',
            actor: `writer-${writer}`,
            details: { writer, index },
          });
        }
      }),
    );

    // assess
    const list = await events(deps);
    expect(list.map((event) => event.seq)).toEqual(
      Array.from({ length: writers * perWriter }, (_, i) => i + 1),
    );
    const written = list.map((event) => `${event.details?.writer}/${event.details?.index}`).sort();
    expect(new Set(written).size).toBe(writers * perWriter);
    expect(await verifyAuditChain(deps, [])).toMatchObject({ ok: true, checked: writers * perWriter });
  });
});
