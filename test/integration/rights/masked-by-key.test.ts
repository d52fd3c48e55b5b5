import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AttributeValue, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { type LocalEnvironment, openLocalEnvironment } from '../../../lib/local/environment';
import { certificateDigest, type ErasureCertificate } from '../../../lib/rights/confirm';
import { ResidualDataError } from '../../../lib/rights/errors';
import type { LocateStoreResult } from '../../../lib/rights/locate';
import { getRequest } from '../../../lib/rights/requests-table';
import { submitRequest, type WorkflowStarter } from '../../../lib/rights/submit';
import { createRequestSteps } from '../../../lib/workflow/request-step-set';
import { scanAll } from '../../helpers/stores';
import { SEED_NOW } from '../../helpers/world';

/**
 * A store masked by the subject's key, end to end through the request steps: a members table
 * (deleted) reveals the member id, and a notes table keyed by that id masks its free text and
 * keeps complaints. Masking cannot change the key, so Confirm finds the masked notes again and
 * must tell erased-by-masking from residual.
 */

const DATAMAP = `version: 1
identityTypes:
  email: { normalise: email }
  memberId: { normalise: opaque, pattern: "m-[0-9]{4}" }
stores:
  - id: members
    kind: dynamodb
    table: it-members
    keySchema:
      partitionKey: { name: memberId }
    indexes:
      - name: byEmail
        partitionKey: { name: email }
    locate:
      - { identity: email, index: byEmail, attribute: email }
      - { identity: memberId, attribute: memberId }
    links:
      # the row's own key, assigned by the club: verified
      - { identity: memberId, attribute: memberId, trust: verified }
    categories: [user.account, user.contact.email]
    purpose: Running the members' accounts
    lawfulBasis: contract
    source: Provided by the data subject
    erase: { action: delete }
  - id: notes
    kind: dynamodb
    table: it-notes
    keySchema:
      partitionKey: { name: memberId }
      sortKey: { name: noteId }
    locate:
      - { identity: memberId, attribute: memberId }
    categories: [user.content.notes]
    purpose: Keeping staff notes on members
    lawfulBasis: legitimate-interests
    source: Written by staff
    erase:
      action: mask
      fields:
        - { attribute: text, with: fixed, value: "[erased]" }
        - { attribute: author, with: hmac }
        - { attribute: phone, with: remove }
    exemptions:
      - when: { attribute: kind, equals: complaint }
        reason: Complaints are kept while the complaint procedure runs
`;

type Item = Record<string, AttributeValue>;
const S = (value: string): AttributeValue => ({ S: value });

interface Member {
  memberId: string;
  email: string;
  notes: Item[];
}

/** Members with notes of every shape: each masked field present or absent, some complaints, one masked before. */
function generateMembers(count: number): Member[] {
  return Array.from({ length: count }, (_, m) => {
    const memberId = `m-${String(1000 + m)}`;
    const notes = Array.from({ length: 3 + (m % 4) }, (_, n): Item => {
      const shape = (m * 7 + n) % 8;
      return {
        memberId: S(memberId),
        noteId: S(`n-${n}`),
        kind: S(n === 1 && m % 2 === 0 ? 'complaint' : 'note'),
        ...(shape & 1 ? { text: S(`Called about order ${m}-${n}`) } : {}),
        ...(shape & 2 ? { author: S(`agent-${n}`) } : {}),
        ...(shape & 4 ? { phone: S(`+4930${1000000 + m * 10 + n}`) } : {}),
        points: { N: String(10 * n) },
      };
    });
    // Masked before (by retention, say): nothing left to change, still the member's note.
    notes.push({ memberId: S(memberId), noteId: S('n-old'), kind: S('note'), text: S('[erased]') });
    return { memberId, email: `member${m}@example.com`, notes };
  });
}

const noExecution: WorkflowStarter = {
  start: async ({ requestId }) => ({ executionId: requestId, alreadyStarted: false }),
};

const idOf = (item: Item) => [item.memberId?.S, item.noteId?.S].filter(Boolean).join('|');

describe('erasure of a store masked by the subject key', () => {
  let stateDir: string;
  let env: LocalEnvironment;
  const members = generateMembers(6);

  async function snapshot(table: string): Promise<Map<string, Item>> {
    return new Map((await scanAll(env.clients.dynamodb, table)).map((item) => [idOf(item), item]));
  }

  /** Runs the request steps of an erasure of `member` up to and including Confirm; returns Confirm's input. */
  async function eraseUpToConfirm(member: Member) {
    const { requestId } = await submitRequest(env.deps, noExecution, {
      type: 'erasure',
      subject: [{ type: 'email', value: member.email }],
      jurisdiction: 'gdpr',
      verification: { method: 'email-confirmation', verifiedBy: 'privacy-desk' },
    });
    const steps = createRequestSteps(env.deps);
    expect(await steps.verify({ requestId })).toMatchObject({ outcome: 'proceed' });
    const { stores } = (await steps.resolve({ requestId })) as { stores: string[] };
    const located: LocateStoreResult[] = [];
    for (const storeId of stores) {
      located.push((await steps.locateStore({ requestId, storeId })) as LocateStoreResult);
    }
    const erased = [];
    for (const entry of located) {
      erased.push(
        await steps.eraseStore({ requestId, storeId: entry.storeId, manifestKey: entry.manifestKey }),
      );
    }
    const state = { requestId, located, erased };
    return { requestId, steps, state };
  }

  beforeAll(async () => {
    stateDir = mkdtempSync(join(tmpdir(), 'lethe-masked-by-key-'));
    const dataMapPath = join(stateDir, 'datamap.yaml');
    writeFileSync(dataMapPath, DATAMAP);
    env = await openLocalEnvironment({ stateDir, dataMapPath, init: true, now: () => SEED_NOW });
    for (const member of members) {
      await env.clients.dynamodb.send(
        new PutItemCommand({
          TableName: 'it-members',
          Item: { memberId: S(member.memberId), email: S(member.email), name: S('A Member') },
        }),
      );
      for (const note of member.notes) {
        await env.clients.dynamodb.send(new PutItemCommand({ TableName: 'it-notes', Item: note }));
      }
    }
  });

  afterAll(async () => {
    await env?.close();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('masks the notes, keeps complaints, completes, and certifies the masked count and the key that stays', async () => {
    // prepare
    const member = members[0]!;
    const [membersBefore, notesBefore] = [await snapshot('it-members'), await snapshot('it-notes')];
    const exempt = member.notes.filter((note) => note.kind?.S === 'complaint');
    const masked = member.notes.filter((note) => note.kind?.S !== 'complaint');
    expect(exempt.length).toBeGreaterThan(0);

    // act
    const { requestId, steps, state } = await eraseUpToConfirm(member);
    await steps.confirm(state);
    await steps.recordOutcome({ requestId });

    // assess: the request completed with a certificate that says what was masked and what stays
    const done = await getRequest(env.deps, requestId);
    expect(done.status).toBe('completed');
    const certificate = done.certificate as ErasureCertificate;
    const { digest, ...unsigned } = certificate;
    expect(certificateDigest(unsigned)).toBe(digest);
    expect(certificate.stores.find((store) => store.store === 'notes')).toEqual({
      store: 'notes',
      located: member.notes.length,
      exported: 0,
      erased: 0,
      masked: masked.length,
      exempted: exempt.length,
      remaining: 0,
      exemptions: [
        {
          reason: 'Complaints are kept while the complaint procedure runs',
          source: 'datamap',
          count: exempt.length,
        },
      ],
      retained: [
        {
          attribute: 'memberId',
          reason:
            'partition key of the table: DynamoDB cannot change a key in place; once masked, the record holds no other attribute that locates or links the subject',
        },
      ],
    });
    expect(certificate.stores.find((store) => store.store === 'members')).not.toHaveProperty('retained');

    // and the stores: the member's notes masked, complaints and everyone else byte-for-byte as before
    const [membersAfter, notesAfter] = [await snapshot('it-members'), await snapshot('it-notes')];
    expect(membersAfter.has(member.memberId)).toBe(false);
    for (const [id, item] of membersBefore)
      if (id !== member.memberId) expect(membersAfter.get(id)).toStrictEqual(item);
    for (const [id, before] of notesBefore) {
      const after = notesAfter.get(id);
      const mine = before.memberId?.S === member.memberId;
      if (!mine || before.kind?.S === 'complaint') {
        expect({ id, item: after }).toStrictEqual({ id, item: before });
        continue;
      }
      const { text, author, phone, ...kept } = before;
      expect({ id, text: after?.text, author: after?.author?.S?.slice(0, 5), phone: after?.phone }).toEqual({
        id,
        text: text ? S('[erased]') : undefined,
        author: author ? 'hmac:' : undefined,
        phone: undefined,
      });
      const { text: _t, author: _a, phone: _p, ...keptAfter } = after ?? {};
      expect(keptAfter).toStrictEqual(kept);
    }
    expect(notesAfter.size).toBe(notesBefore.size);
  });

  it('reports a masked note a writer restored after erasure as residual when Confirm runs again', async () => {
    // prepare: an erasure confirmed once, then a writer puts an original value back
    const member = members[3]!;
    const { requestId, steps, state } = await eraseUpToConfirm(member);
    expect(await steps.confirm(state)).toMatchObject({ confirmed: true });
    const restored = member.notes.find((note) => note.text && note.kind?.S !== 'complaint')!;
    await env.clients.dynamodb.send(
      new UpdateItemCommand({
        TableName: 'it-notes',
        Key: { memberId: restored.memberId!, noteId: restored.noteId! },
        UpdateExpression: 'SET #text = :original',
        ExpressionAttributeNames: { '#text': 'text' },
        ExpressionAttributeValues: { ':original': restored.text! },
      }),
    );
    const othersBefore = [...(await snapshot('it-notes'))].filter(([id]) => !id.startsWith(member.memberId));

    // act
    const rerun = steps.confirm(state);

    // assess
    await expect(rerun).rejects.toThrow(ResidualDataError);
    await expect(rerun).rejects.toMatchObject({ remaining: [{ store: 'notes', count: 1 }] });
    const record = await getRequest(env.deps, requestId);
    expect(record.status).toBe('in-progress');
    expect(record.stores?.find((store) => store.store === 'notes')?.remaining).toBe(1);
    const othersAfter = [...(await snapshot('it-notes'))].filter(([id]) => !id.startsWith(member.memberId));
    expect(othersAfter).toStrictEqual(othersBefore);
  });
});
