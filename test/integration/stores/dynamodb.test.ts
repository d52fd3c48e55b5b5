import { createHash, createHmac } from 'node:crypto';
import {
  type AttributeValue,
  BatchWriteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  type QueryCommandInput,
  type QueryCommandOutput,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  type DataMap,
  type DynamoStore,
  getStore,
  type Identity,
  identityKey,
  loadDataMap,
  normaliseIdentity,
} from '../../../lib/datamap';
import { createLocalClients, type LocalClients } from '../../../lib/local/servers';
import { eraseInDynamoStore, locateInDynamoStore } from '../../../lib/stores/dynamodb';
import {
  eraseInStore,
  locateInStore,
  locateSubject,
  readRecords,
  resolveIdentities,
  resolveIdentityGraph,
  TooManyIdentitiesError,
} from '../../../lib/stores/index';
import type { ExportedRecord, LocatedItem, StoreErasure, StoreLocation } from '../../../lib/stores/types';
import { scanAll, useLocalStores } from '../../helpers/stores';

// ---------------------------------------------------------------------------------------------
// The data map and a small world of subjects

const dataMap: DataMap = loadDataMap('examples/adtech/datamap.yaml');
/** The DynamoDB stores only: the S3 stores are another adapter's tests. */
const dynamoMap: DataMap = {
  ...dataMap,
  stores: dataMap.stores.filter((store) => store.kind === 'dynamodb'),
};
const dynamoStores = dynamoMap.stores as DynamoStore[];
const store = (id: string) => getStore(dataMap, id) as DynamoStore;
const inquiries = store('inquiries');
const adEvents = store('ad-events');
const conversions = store('conversions');
const partnerContacts = store('partner-contacts');

const HMAC_KEY = Buffer.from('test-mask-key-0123456789abcdef');
const FAST_RETRY = { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 2, sleep: async () => {} };

const S = (value: string): AttributeValue => ({ S: value });
const N = (value: number | string): AttributeValue => ({ N: String(value) });
type Item = Record<string, AttributeValue>;

const cookie = (prefix: string, n: number) =>
  `${prefix.repeat(8)}-0000-4000-8000-${String(n).padStart(12, '0')}`;
const ADA = { email: 'ada@example.com', phone: '+4930111111', cookies: [cookie('a', 1), cookie('a', 2)] };
const BOB = { email: 'bob@example.com', cookie: cookie('b', 1) };
const EVE = { email: 'eve@example.com', cookie: cookie('e', 1) };
const SHARED_IP = '203.0.113.7';

function adEvent(cookieId: string, n: number, ip = '198.51.100.1'): Item {
  return {
    cookieId: S(cookieId),
    eventKey: S(`2024-03-01T00:00:${String(n).padStart(2, '0')}Z#imp`),
    retentionShard: S('all'),
    eventAt: N(1_709_251_200_000 + n),
    ipAddress: S(ip),
    userAgent: S('Mozilla/5.0 (test)'),
  };
}

function conversion(id: string, cookieId: string, ip = '198.51.100.1'): Item {
  return {
    conversionId: S(id),
    cookieId: S(cookieId),
    ipAddress: S(ip),
    convertedAt: N(1_709_251_200),
    value: N('19.99'),
  };
}

/** The seed: several subjects, an IP shared by Ada and Bob, a billing (exempt) contact, many events for Eve. */
function seed(): Record<string, Item[]> {
  return {
    [inquiries.table]: [
      {
        email: S(ADA.email),
        receivedAt: S('2024-01-05T10:00:00Z'),
        // A string set with one value that is no cookie id at all: it must be skipped, not crash.
        cookieIds: { SS: [ADA.cookies[0]!, 'not-a-cookie'] },
        phone: S('+49 30 111111'),
        message: S('Please stop the ads'),
        ipAddress: S(SHARED_IP),
      },
      {
        email: S(ADA.email),
        receivedAt: S('2024-02-01T09:30:00Z'),
        // A list, upper-cased: cookie ids are case-insensitive and normalised to lower case.
        cookieIds: { L: [S(ADA.cookies[1]!.toUpperCase())] },
        message: S('Follow-up'),
      },
      {
        email: S(BOB.email),
        receivedAt: S('2024-01-07T12:00:00Z'),
        cookieIds: { L: [S(BOB.cookie)] },
        message: S('Same office network as Ada'),
        ipAddress: S(SHARED_IP),
      },
      { email: S(EVE.email), receivedAt: S('2024-01-09T08:00:00Z'), cookieIds: { SS: [EVE.cookie] } },
    ],
    [adEvents.table]: [
      adEvent(ADA.cookies[0]!, 1, SHARED_IP),
      adEvent(ADA.cookies[0]!, 2),
      adEvent(ADA.cookies[0]!, 3),
      adEvent(ADA.cookies[1]!, 1),
      adEvent(ADA.cookies[1]!, 2),
      adEvent(BOB.cookie, 1, SHARED_IP),
      adEvent(BOB.cookie, 2, SHARED_IP),
      ...Array.from({ length: 30 }, (_, n) => adEvent(EVE.cookie, n)),
    ],
    [conversions.table]: [
      {
        ...conversion('c-ada-1', ADA.cookies[0]!, SHARED_IP),
        tags: { SS: ['retarget', 'summer'] },
        scores: { NS: ['1', '2.5'] },
        pixel: { B: Buffer.from([0xde, 0xad, 0xbe, 0xef]) },
        counter: N('12345678901234567890'),
        details: { M: { step: N(2), flags: { L: [{ BOOL: true }, { NULL: true }] } } },
      },
      conversion('c-ada-2', ADA.cookies[1]!),
      conversion('c-bob-1', BOB.cookie, SHARED_IP),
      ...Array.from({ length: 7 }, (_, n) => conversion(`c-eve-${n}`, EVE.cookie)),
    ],
    [partnerContacts.table]: [
      {
        partnerId: S('p-1'),
        contactId: S('c-1'),
        email: S('carol@partner.test'),
        userId: S('u-0000000c'),
        name: S('Carol Example'),
        phone: S('+4930222222'),
        title: S('Head of Sales'),
        role: S('sales'),
      },
      {
        partnerId: S('p-2'),
        contactId: S('c-9'),
        email: S('carol@partner.test'),
        name: S('Carol Example'),
        phone: S('+4930222222'),
        role: S('billing'),
      },
      {
        partnerId: S('p-1'),
        contactId: S('c-2'),
        email: S('dan@partner.test'),
        userId: S('u-0000000d'),
        name: S('Dan Example'),
        role: S('sales'),
      },
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// Harness: servers, reset, snapshots, request counting

const local = useLocalStores(dynamoMap);
let clients: LocalClients;
beforeAll(() => {
  clients = local.clients;
});

function keyOf(dynamoStore: DynamoStore, item: Item): Item {
  const { partitionKey, sortKey } = dynamoStore.keySchema;
  return {
    [partitionKey.name]: item[partitionKey.name]!,
    ...(sortKey ? { [sortKey.name]: item[sortKey.name]! } : {}),
  };
}

/** A printable id for an item: store id and its key values. */
function idOf(dynamoStore: DynamoStore, key: Record<string, unknown>): string {
  const { partitionKey, sortKey } = dynamoStore.keySchema;
  const plain = (value: unknown) =>
    typeof value === 'object' && value !== null ? Object.values(value)[0] : (value as string | number);
  return [dynamoStore.id, plain(key[partitionKey.name]), sortKey ? plain(key[sortKey.name]) : '']
    .map(String)
    .join('|');
}

async function writeAll(
  table: string,
  requests: NonNullable<BatchWriteItemCommand['input']['RequestItems']>[string],
) {
  for (let start = 0; start < requests.length; start += 25) {
    await clients.dynamodb.send(
      new BatchWriteItemCommand({ RequestItems: { [table]: requests.slice(start, start + 25) } }),
    );
  }
}

/** Empties every table and writes the seed, so each test starts from the same world. */
async function reset(extra: Record<string, Item[]> = {}): Promise<void> {
  const world = seed();
  for (const dynamoStore of dynamoStores) {
    const existing = await scanAll(clients.dynamodb, dynamoStore.table);
    await writeAll(
      dynamoStore.table,
      existing.map((item) => ({ DeleteRequest: { Key: keyOf(dynamoStore, item) } })),
    );
    const items = [...(world[dynamoStore.table] ?? []), ...(extra[dynamoStore.table] ?? [])];
    await writeAll(
      dynamoStore.table,
      items.map((item) => ({ PutRequest: { Item: item } })),
    );
  }
}

type Snapshot = Map<string, Item>;

/** Every item of every table, marshalled exactly as DynamoDB returns it, by printable id. */
async function snapshot(): Promise<Snapshot> {
  const result: Snapshot = new Map();
  for (const dynamoStore of dynamoStores) {
    for (const item of await scanAll(clients.dynamodb, dynamoStore.table))
      result.set(idOf(dynamoStore, item), item);
  }
  return result;
}

/** Asserts that nothing but `changed` differs between the snapshots, attribute value for attribute value. */
function expectOnlyChanged(before: Snapshot, after: Snapshot, changed: Set<string>): void {
  const untouched = (snap: Snapshot) => new Map([...snap].filter(([id]) => !changed.has(id)));
  expect(untouched(after)).toStrictEqual(untouched(before));
}

function located(location: StoreLocation): Set<string> {
  const dynamoStore = store(location.storeId);
  return new Set(location.records.map((record) => idOf(dynamoStore, (record as LocatedItem).key)));
}

type CommandName = string;

/** Counts requests by command and optionally rewrites inputs/outputs, in front of the real server. */
function instrument(
  client: DynamoDBClient,
  options: {
    queryLimit?: number;
    onQueryOutput?: (input: QueryCommandInput, output: QueryCommandOutput) => void;
    beforeSend?: (command: CommandName, input: unknown) => Promise<void>;
  } = {},
) {
  const counts: Record<CommandName, number> = {};
  const name = `instrument-${Math.random()}`;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = context.commandName ?? 'unknown';
      counts[command] = (counts[command] ?? 0) + 1;
      if (command === 'QueryCommand' && options.queryLimit !== undefined) {
        (args.input as QueryCommandInput).Limit = options.queryLimit;
      }
      await options.beforeSend?.(command, args.input);
      const result = await next(args);
      if (command === 'QueryCommand') {
        options.onQueryOutput?.(args.input as QueryCommandInput, result.output as QueryCommandOutput);
      }
      return result;
    },
    { step: 'initialize', name },
  );
  return { counts, remove: () => client.middlewareStack.remove(name) };
}

const identity = (type: string, value: string): Identity => ({ type, value });

async function eraseAll(stores: StoreLocation[]): Promise<StoreErasure[]> {
  const outcomes: StoreErasure[] = [];
  for (const location of stores) {
    outcomes.push(
      await eraseInStore(dynamoMap, store(location.storeId), location.records, clients, {
        hmacKey: HMAC_KEY,
        retry: FAST_RETRY,
      }),
    );
  }
  return outcomes;
}

beforeEach(async () => {
  await reset();
});

// ---------------------------------------------------------------------------------------------

describe('locate', () => {
  it('finds items by the table partition key and reveals linked identities, normalised', async () => {
    // prepare
    const ada = [identity('email', ADA.email)];
    // act
    const location = await locateInStore(dataMap, inquiries, ada, clients);
    // assess
    expect(located(location)).toEqual(
      new Set([`inquiries|${ADA.email}|2024-01-05T10:00:00Z`, `inquiries|${ADA.email}|2024-02-01T09:30:00Z`]),
    );
    expect(location).toMatchObject({ storeId: 'inquiries', located: 2, exempted: 0 });
    expect(location.records[0]).toMatchObject({
      kind: 'item',
      matched: { identity: 'email', attribute: 'email', value: ADA.email },
    });
    // 'not-a-cookie' is skipped; the upper-case cookie is lower-cased; the phone is E.164
    expect(new Set(location.revealed.map((found) => `${found.type}=${found.value}`))).toEqual(
      new Set([`cookieId=${ADA.cookies[0]}`, `cookieId=${ADA.cookies[1]}`, `phone=${ADA.phone}`]),
    );
  });

  it('finds items through a GSI and reads exemption conditions from the table', async () => {
    // prepare
    const carol = [identity('email', 'carol@partner.test')];
    // act
    const location = await locateInStore(dataMap, partnerContacts, carol, clients);
    // assess
    expect(located(location)).toEqual(new Set(['partner-contacts|p-1|c-1', 'partner-contacts|p-2|c-9']));
    expect(location.exempted).toBe(1);
    const billing = location.records.find((record) => (record as LocatedItem).key.partnerId === 'p-2');
    expect(billing?.exemption).toEqual({
      source: 'datamap',
      reason: 'Billing contacts appear on invoices, which must be kept for 10 years',
      legalBasis: 'GDPR Art. 17(3)(b); commercial and tax record-keeping law',
    });
    expect(location.revealed).toEqual([identity('phone', '+4930222222')]);
  });

  it('finds an item by a second GSI (userId) and records an item matched by two identities once', async () => {
    // prepare
    const carol = [identity('userId', 'u-0000000c'), identity('email', 'carol@partner.test')];
    // act
    const location = await locateInStore(dataMap, partnerContacts, carol, clients);
    // assess
    expect(location.located).toBe(2);
    const sales = location.records.find((record) => (record as LocatedItem).key.contactId === 'c-1');
    expect((sales as LocatedItem).matched).toEqual({
      identity: 'userId',
      attribute: 'userId',
      value: 'u-0000000c',
    });
  });

  it('marks an item only claimed identities found, never one another identity found too', async () => {
    // prepare: carol's sales row holds her email and user id, her billing row only the email
    const email = identity('email', 'carol@partner.test');
    const userId = identity('userId', 'u-0000000c');
    const claim = (claimed: Identity) => ({
      claimed: new Map([[identityKey(claimed), `hs256:${claimed.type}`]]),
    });
    const marks = (location: StoreLocation) =>
      Object.fromEntries(
        location.records.map((record) => [(record as LocatedItem).key.contactId, record.claimedBy ?? null]),
      );

    // act
    const userIdClaimed = await locateInStore(
      dataMap,
      partnerContacts,
      [userId, email],
      clients,
      claim(userId),
    );
    const emailClaimed = await locateInStore(
      dataMap,
      partnerContacts,
      [userId, email],
      clients,
      claim(email),
    );
    const onlyClaimed = await locateInStore(dataMap, partnerContacts, [userId], clients, claim(userId));

    // assess
    expect(marks(userIdClaimed)).toEqual({ 'c-1': null, 'c-9': null });
    expect(marks(emailClaimed)).toEqual({ 'c-1': null, 'c-9': ['hs256:email'] });
    expect(marks(onlyClaimed)).toEqual({ 'c-1': ['hs256:userId'] });
  });

  it('tells which identity revealed which, through which link and at which trust', async () => {
    // prepare
    const email = identity('email', ADA.email);

    // act
    const graph = await resolveIdentityGraph(dynamoMap, [email], clients);

    // assess: the inquiries' links are claimed in the example
    const inquiryLinks = new Map(inquiries.links.map((link) => [link.identity, link]));
    expect(graph.edges).toEqual(
      expect.arrayContaining([
        ...ADA.cookies.map((value) => ({
          from: identityKey(email),
          to: identityKey(identity('cookieId', value)),
          link: inquiryLinks.get('cookieId'),
          storeId: 'inquiries',
        })),
        {
          from: identityKey(email),
          to: identityKey(identity('phone', ADA.phone)),
          link: inquiryLinks.get('phone'),
          storeId: 'inquiries',
        },
      ]),
    );
    expect(graph.edges).toHaveLength(3);
    expect(graph.edges.every((edge) => edge.link.trust === 'claimed')).toBe(true);
  });

  it('follows links breadth-first: email → inquiries → cookie ids → ad events and conversions', async () => {
    // prepare
    const seedIdentities = [identity('email', ' Ada@Example.com ')];
    // act
    const subject = await locateSubject(dynamoMap, seedIdentities, clients);
    // assess
    expect(new Set(subject.identities.map((found) => `${found.type}=${found.value}`))).toEqual(
      new Set([
        `email=${ADA.email}`,
        `cookieId=${ADA.cookies[0]}`,
        `cookieId=${ADA.cookies[1]}`,
        `phone=${ADA.phone}`,
      ]),
    );
    const byStore = Object.fromEntries(
      subject.stores.map((location) => [location.storeId, located(location)]),
    );
    expect(byStore['ad-events']?.size).toBe(5);
    expect([...(byStore['ad-events'] ?? [])].every((id) => ADA.cookies.some((c) => id.includes(c)))).toBe(
      true,
    );
    expect(byStore.conversions).toEqual(new Set(['conversions|c-ada-1|', 'conversions|c-ada-2|']));
    expect(byStore.inquiries?.size).toBe(2);
    expect(byStore['partner-contacts']?.size).toBe(0);
  });

  it('follows every page of a query (table and GSI) and never scans', async () => {
    // prepare: a page limit of 4 makes Eve's 30 events 8 pages and her 7 conversions 2
    const probe = instrument(clients.dynamodb, { queryLimit: 4 });
    // act
    const subject = await locateSubject(dynamoMap, [identity('email', EVE.email)], clients).finally(
      probe.remove,
    );
    // assess
    const byStore = Object.fromEntries(
      subject.stores.map((location) => [location.storeId, location.located]),
    );
    expect(byStore).toEqual({ inquiries: 1, 'ad-events': 30, conversions: 7, 'partner-contacts': 0 });
    // inquiries: 1 page while resolving + 1 when locating; ad-events 8; conversions 2;
    // partner-contacts by email 1 page while resolving + 1 when locating
    expect(probe.counts).toEqual({ QueryCommand: 14, BatchGetItemCommand: 1 });
    expect(probe.counts.ScanCommand).toBeUndefined();
  });

  it('ignores a stale GSI entry whose table item no longer holds the identity', async () => {
    // prepare: make the index answer for Ada's cookie also return Bob's conversion, as a lagging GSI might
    const probe = instrument(clients.dynamodb, {
      onQueryOutput: (input, output) => {
        if (input.IndexName === 'byCookie')
          output.Items = [...(output.Items ?? []), { conversionId: S('c-bob-1') }];
      },
    });
    // act
    const location = await locateInDynamoStore(
      conversions,
      [identity('cookieId', ADA.cookies[0]!)],
      clients,
      dataMap,
    ).finally(probe.remove);
    // assess
    expect(located(location)).toEqual(new Set(['conversions|c-ada-1|']));
  });

  it('tells, per item of a masking store, whether every masked field holds its masked form, with no extra read', async () => {
    // prepare: contacts filed under a partition key that is the subject's id, masked as the store says
    const byOwner: DynamoStore = {
      ...partnerContacts,
      locate: [{ identity: 'userId', attribute: 'partnerId' }],
      links: [],
      erase: {
        action: 'mask',
        fields: [
          { attribute: 'email', with: 'hmac' },
          { attribute: 'name', with: 'fixed', value: '[erased]' },
          { attribute: 'title', with: 'remove' },
        ],
      },
    };
    const owner = 'u-000000aa';
    const contact = (contactId: string, fields: Item): Item => ({
      partnerId: S(owner),
      contactId: S(contactId),
      role: S('sales'),
      ...fields,
    });
    await reset({
      [partnerContacts.table]: [
        contact('masked', { email: S(`hmac:${'0'.repeat(64)}`), name: S('[erased]') }),
        contact('nothing-to-mask', {}),
        contact('raw-email', { email: S('ann@partner.test'), name: S('[erased]') }),
        contact('title-left', { email: S(`hmac:${'1'.repeat(64)}`), title: S('CFO') }),
        contact('hash-not-hmac', { email: S(`sha256:${'2'.repeat(64)}`) }),
      ],
    });
    const probe = instrument(clients.dynamodb);

    // act
    const location = await locateInStore(dataMap, byOwner, [identity('userId', owner)], clients);
    probe.remove();

    // assess
    const flags = Object.fromEntries(
      location.records.map((record) => [
        (record as LocatedItem).key.contactId,
        (record as LocatedItem).masked,
      ]),
    );
    expect(flags).toEqual({
      masked: true,
      'nothing-to-mask': true,
      'raw-email': undefined,
      'title-left': undefined,
      'hash-not-hmac': undefined,
    });
    expect(probe.counts).toEqual({ QueryCommand: 1 });
  });

  it('never flags items of a store that deletes', async () => {
    // act
    const location = await locateInStore(dataMap, inquiries, [identity('email', ADA.email)], clients);

    // assess
    expect(location.records.map((record) => (record as LocatedItem).masked)).toEqual([undefined, undefined]);
  });

  it('locates nothing, and queries nothing, for identity types the store has no rule for', async () => {
    // prepare
    const probe = instrument(clients.dynamodb);
    // act
    const location = await locateInStore(dataMap, adEvents, [identity('email', ADA.email)], clients).finally(
      probe.remove,
    );
    // assess
    expect(location).toEqual({
      storeId: 'ad-events',
      records: [],
      located: 0,
      exempted: 0,
      revealed: [],
      edges: [],
    });
    expect(probe.counts).toEqual({});
  });

  it('stops with a named error when links reach more identities than allowed', async () => {
    // prepare
    const ada = [identity('email', ADA.email)];
    // act
    const outcome = resolveIdentities(dynamoMap, ada, clients, { maxIdentities: 3 });
    // assess
    await expect(outcome).rejects.toBeInstanceOf(TooManyIdentitiesError);
    await expect(outcome).rejects.toMatchObject({ name: 'TooManyIdentitiesError', limit: 3 });
    const message = await outcome.catch((error: Error) => error.message);
    expect(message).not.toContain(ADA.email);
    expect(message).not.toContain(ADA.cookies[0]);
  });
});

describe('spellings', () => {
  const FRANK = 'frank.partner@partner.test';
  /** How an old partner portal stored Frank's address: as he typed it. */
  const FRANK_AS_TYPED = ' Frank.Partner@Partner.TEST ';
  const frankContact = (contactId: string, email: string, extra: Item = {}): Item => ({
    partnerId: S('p-3'),
    contactId: S(contactId),
    email: S(email),
    name: S('Frank Example'),
    role: S('sales'),
    ...extra,
  });

  it('finds through a GSI an item holding the address as typed, and masks it only while it still holds that spelling', async () => {
    // prepare
    await reset({
      [partnerContacts.table]: [
        frankContact('c-legacy', FRANK_AS_TYPED, { phone: S('+4930333333') }),
        frankContact('c-new', FRANK),
      ],
    });
    const frank = normaliseIdentity(dataMap, 'email', FRANK_AS_TYPED);
    const before = await snapshot();
    const updates: UpdateItemCommand['input'][] = [];
    const probe = instrument(clients.dynamodb, {
      beforeSend: async (command, input) => {
        if (command === 'UpdateItemCommand') updates.push(input as UpdateItemCommand['input']);
      },
    });
    // act
    const location = await locateInStore(dataMap, partnerContacts, [frank], clients);
    const locateCounts = { ...probe.counts };
    const outcome = await eraseInStore(dataMap, partnerContacts, location.records, clients, {
      hmacKey: HMAC_KEY,
      retry: FAST_RETRY,
    }).finally(probe.remove);
    // assess: one Query per distinct spelling (normalised, as typed, trimmed), a re-read per query with hits
    expect(locateCounts).toEqual({ QueryCommand: 3, BatchGetItemCommand: 2 });
    expect(
      location.records.map((record) => [
        (record as LocatedItem).key.contactId,
        (record as LocatedItem).matched,
      ]),
    ).toEqual([
      ['c-new', { identity: 'email', attribute: 'email', value: FRANK }],
      ['c-legacy', { identity: 'email', attribute: 'email', value: FRANK_AS_TYPED }],
    ]);
    expect(location.revealed).toEqual([{ type: 'phone', value: '+4930333333' }]);
    expect(outcome).toMatchObject({ masked: 2, skipped: 0, failed: 0 });
    const legacyUpdate = updates.find((update) => update.Key?.contactId?.S === 'c-legacy');
    expect(legacyUpdate?.ConditionExpression).toContain(' = :guard');
    expect(legacyUpdate?.ExpressionAttributeValues?.[':guard']).toEqual(S(FRANK_AS_TYPED));
    const after = await snapshot();
    expect(after.get('partner-contacts|p-3|c-legacy')?.email).toEqual(
      S(`hmac:${createHmac('sha256', HMAC_KEY).update(FRANK_AS_TYPED).digest('hex')}`),
    );
    expectOnlyChanged(
      before,
      after,
      new Set(['partner-contacts|p-3|c-legacy', 'partner-contacts|p-3|c-new']),
    );
    const again = await locateInStore(dataMap, partnerContacts, [frank], clients);
    expect(again.located).toBe(0);
  });

  it('finds only the spellings it has: another address never, the same address in a spelling nobody gave neither', async () => {
    // prepare: by the email type's normalisation, addresses that differ only in case or spaces are
    // one identity, so a row of any of them is the subject's; a Query still matches only exact values
    await reset({
      [partnerContacts.table]: [
        frankContact('c-legacy', FRANK_AS_TYPED),
        frankContact('c-new', FRANK),
        frankContact('c-shouted', 'FRANK.PARTNER@PARTNER.TEST'),
        frankContact('c-longer', 'Frank.Partner@Partner.TEST.evil'),
        frankContact('c-prefixed', 'xFrank.Partner@Partner.TEST'),
        frankContact('c-shorter', 'Frank.Partner@Partner.TES'),
      ],
    });
    // act
    const asTyped = await locateInStore(
      dataMap,
      partnerContacts,
      [normaliseIdentity(dataMap, 'email', FRANK_AS_TYPED)],
      clients,
    );
    const asNormalised = await locateInStore(
      dataMap,
      partnerContacts,
      [normaliseIdentity(dataMap, 'email', FRANK)],
      clients,
    );
    // assess
    expect(located(asTyped)).toEqual(
      new Set(['partner-contacts|p-3|c-legacy', 'partner-contacts|p-3|c-new']),
    );
    expect(located(asNormalised)).toEqual(new Set(['partner-contacts|p-3|c-new']));
  });

  it('follows a link stored in a legacy spelling to the stores keyed by that spelling, one query per distinct spelling', async () => {
    // prepare: an old tracker wrote Ada's second cookie id in upper case, as her inquiry holds it
    const legacyCookie = ADA.cookies[1]!.toUpperCase();
    await reset({
      [adEvents.table]: [adEvent(legacyCookie, 7), adEvent(legacyCookie, 8)],
      [conversions.table]: [conversion('c-ada-legacy', legacyCookie)],
    });
    const probe = instrument(clients.dynamodb);
    // act
    const subject = await locateSubject(dynamoMap, [identity('email', ADA.email)], clients).finally(
      probe.remove,
    );
    // assess
    expect(subject.identities).toContainEqual({
      type: 'cookieId',
      value: ADA.cookies[1],
      spellings: [legacyCookie],
    });
    const byStore = Object.fromEntries(
      subject.stores.map((location) => [location.storeId, located(location)]),
    );
    expect(byStore['ad-events']?.size).toBe(7);
    expect(byStore['ad-events']).toContain(`ad-events|${legacyCookie}|2024-03-01T00:00:07Z#imp`);
    expect(byStore.conversions).toEqual(
      new Set(['conversions|c-ada-1|', 'conversions|c-ada-2|', 'conversions|c-ada-legacy|']),
    );
    // resolving: inquiries and partner-contacts by email; locating: inquiries 1, partner-contacts 1,
    // ad-events and conversions 3 each (the first cookie id, the second one and its legacy spelling)
    expect(probe.counts).toEqual({ QueryCommand: 10, BatchGetItemCommand: 3 });
  });

  it('locates a known identity again by a spelling a link reveals later, and only by that spelling', async () => {
    // prepare: contact rows reveal the address they hold; Frank's contact holds it as he typed it,
    // and an inquiry of his is keyed by the trimmed spelling
    const linkingEmail: DynamoStore = {
      ...partnerContacts,
      links: [...partnerContacts.links, { identity: 'email', attribute: 'email', trust: 'claimed' }],
    };
    const map: DataMap = {
      ...dynamoMap,
      stores: dynamoMap.stores.map((candidate) =>
        candidate.id === partnerContacts.id ? linkingEmail : candidate,
      ),
    };
    const frankCookie = cookie('f', 1);
    await reset({
      [partnerContacts.table]: [frankContact('c-1', FRANK_AS_TYPED, { userId: S('u-0000000f') })],
      [inquiries.table]: [
        { email: S(FRANK), receivedAt: S('2024-04-01T08:00:00Z') },
        {
          email: S(FRANK_AS_TYPED.trim()),
          receivedAt: S('2019-04-01T08:00:00Z'),
          cookieIds: { SS: [frankCookie] },
        },
      ],
    });
    const queried: string[] = [];
    const probe = instrument(clients.dynamodb, {
      onQueryOutput: (input) => {
        queried.push(`${input.IndexName ?? input.TableName}=${input.ExpressionAttributeValues?.[':v']?.S}`);
      },
    });
    // act
    const identities = await resolveIdentities(
      map,
      [identity('email', FRANK), identity('userId', 'u-0000000f')],
      clients,
    ).finally(probe.remove);
    // assess
    expect(identities).toEqual([
      { type: 'email', value: FRANK, spellings: [FRANK_AS_TYPED, FRANK_AS_TYPED.trim()] },
      { type: 'userId', value: 'u-0000000f' },
      { type: 'cookieId', value: frankCookie },
    ]);
    expect(queried.sort()).toEqual(
      [
        `${inquiries.table}=${FRANK}`,
        `byEmail=${FRANK}`,
        'byUser=u-0000000f',
        `${inquiries.table}=${FRANK_AS_TYPED}`,
        `${inquiries.table}=${FRANK_AS_TYPED.trim()}`,
        `byEmail=${FRANK_AS_TYPED}`,
        `byEmail=${FRANK_AS_TYPED.trim()}`,
      ].sort(),
    );
  });
});

describe('read', () => {
  it('yields located items as plain JSON, in the order located', async () => {
    // prepare
    const location = await locateInStore(
      dataMap,
      conversions,
      [identity('cookieId', ADA.cookies[0]!)],
      clients,
    );
    // act
    const exported: ExportedRecord[] = [];
    for await (const record of readRecords(dataMap, conversions, location.records, clients))
      exported.push(record);
    // assess
    expect(exported).toEqual([
      {
        storeId: 'conversions',
        key: { conversionId: 'c-ada-1' },
        data: {
          conversionId: 'c-ada-1',
          cookieId: ADA.cookies[0],
          ipAddress: SHARED_IP,
          convertedAt: 1_709_251_200,
          value: 19.99,
          tags: ['retarget', 'summer'],
          scores: [1, 2.5],
          pixel: Buffer.from([0xde, 0xad, 0xbe, 0xef]).toString('base64'),
          // beyond 2^53: kept as a string, so no digit is lost
          counter: '12345678901234567890',
          details: { step: 2, flags: [true, null] },
        },
      },
    ]);
  });

  it('reads more than 100 items in batches and skips items deleted since locating', async () => {
    // prepare: 130 events for one cookie, then delete one after locating
    const many = cookie('f', 1);
    await reset({ [adEvents.table]: Array.from({ length: 130 }, (_, n) => adEvent(many, n)) });
    const location = await locateInStore(dataMap, adEvents, [identity('cookieId', many)], clients);
    const gone = adEvent(many, 7);
    await writeAll(adEvents.table, [{ DeleteRequest: { Key: keyOf(adEvents, gone) } }]);
    const probe = instrument(clients.dynamodb);
    // act
    const keys: unknown[] = [];
    for await (const record of readRecords(dataMap, adEvents, location.records, clients))
      keys.push(record.key);
    probe.remove();
    // assess
    expect(location.located).toBe(130);
    expect(keys).toHaveLength(129);
    expect(keys).not.toContainEqual({ cookieId: many, eventKey: gone.eventKey?.S });
    expect(probe.counts).toEqual({ BatchGetItemCommand: 2 });
  });
});

describe('erase', () => {
  it('deletes every item of the subject across stores and touches nothing else', async () => {
    // prepare
    const before = await snapshot();
    const subject = await locateSubject(dynamoMap, [identity('email', ADA.email)], clients);
    const adaItems = new Set(subject.stores.flatMap((location) => [...located(location)]));
    // act
    const outcomes = await eraseAll(subject.stores);
    // assess
    expect(
      outcomes.map(({ storeId, erased, exempted, failed, skipped }) => ({
        storeId,
        erased,
        exempted,
        failed,
        skipped,
      })),
    ).toEqual([
      { storeId: 'inquiries', erased: 2, exempted: 0, failed: 0, skipped: 0 },
      { storeId: 'ad-events', erased: 5, exempted: 0, failed: 0, skipped: 0 },
      { storeId: 'conversions', erased: 2, exempted: 0, failed: 0, skipped: 0 },
      { storeId: 'partner-contacts', erased: 0, exempted: 0, failed: 0, skipped: 0 },
    ]);
    const after = await snapshot();
    expect(adaItems.size).toBe(9);
    for (const id of adaItems) expect(after.has(id)).toBe(false);
    expectOnlyChanged(before, after, adaItems);
    // Bob shares Ada's IP address: his items are all still there
    expect(
      [...after.keys()].filter(
        (id) => id.includes(BOB.cookie) || id.includes(BOB.email) || id.includes('c-bob'),
      ),
    ).toHaveLength(4);
    const again = await locateSubject(dynamoMap, [identity('email', ADA.email)], clients);
    expect(again.stores.map((location) => location.located)).toEqual([0, 0, 0, 0]);
  });

  it('masks the subject’s fields in place, keeps the key, keeps and reports the exempt billing contact', async () => {
    // prepare
    const before = await snapshot();
    const location = await locateInStore(
      dataMap,
      partnerContacts,
      [identity('email', 'carol@partner.test')],
      clients,
    );
    // act
    const outcome = await eraseInStore(dataMap, partnerContacts, location.records, clients, {
      hmacKey: HMAC_KEY,
      retry: FAST_RETRY,
    });
    // assess
    expect(outcome).toEqual({
      storeId: 'partner-contacts',
      erased: 0,
      masked: 1,
      exempted: 1,
      exemptions: [
        {
          reason: 'Billing contacts appear on invoices, which must be kept for 10 years',
          legalBasis: 'GDPR Art. 17(3)(b); commercial and tax record-keeping law',
          source: 'datamap',
          count: 1,
        },
      ],
      failed: 0,
      skipped: 0,
    });
    const after = await snapshot();
    const expectedHmac = `hmac:${createHmac('sha256', HMAC_KEY).update('carol@partner.test').digest('hex')}`;
    expect(after.get('partner-contacts|p-1|c-1')).toStrictEqual({
      partnerId: S('p-1'),
      contactId: S('c-1'),
      email: S(expectedHmac),
      name: S('[erased]'),
      role: S('sales'),
    });
    // the billing contact (exempt) and everyone else: byte-for-byte as before
    expectOnlyChanged(before, after, new Set(['partner-contacts|p-1|c-1']));
    const again = await locateInStore(
      dataMap,
      partnerContacts,
      [identity('email', 'carol@partner.test')],
      clients,
    );
    expect(again.located - again.exempted).toBe(0);
  });

  it('hashes with sha256 when the data map says hash', async () => {
    // prepare: the same store with the e-mail hashed instead of HMAC'd
    const hashing: DynamoStore = {
      ...partnerContacts,
      erase: { action: 'mask', fields: [{ attribute: 'email', with: 'hash' }] },
    };
    const before = await snapshot();
    const location = await locateInStore(dataMap, hashing, [identity('email', 'dan@partner.test')], clients);
    // act
    const outcome = await eraseInDynamoStore(hashing, location.records, clients, {
      hmacKey: HMAC_KEY,
      retry: FAST_RETRY,
    });
    // assess
    expect(outcome.masked).toBe(1);
    const { Item } = await clients.dynamodb.send(
      new GetItemCommand({
        TableName: partnerContacts.table,
        Key: { partnerId: S('p-1'), contactId: S('c-2') },
      }),
    );
    const expectedHash = `sha256:${createHash('sha256').update('dan@partner.test').digest('hex')}`;
    expect(Item?.email).toEqual(S(expectedHash));
    expect(Item?.name).toEqual(S('Dan Example'));
    expectOnlyChanged(before, await snapshot(), new Set(['partner-contacts|p-1|c-2']));
  });

  /** Inquiries masked instead of deleted: cookie ids by hmac, the phone as `phone` says. */
  const inquiriesMasked = (phone: 'remove' | 'hash'): DynamoStore => ({
    ...inquiries,
    erase: {
      action: 'mask',
      fields: [
        { attribute: 'cookieIds', with: 'hmac' },
        { attribute: 'phone', with: phone },
      ],
    },
  });

  it('masks a list and a string set of cookie ids with hmac (the update is conditional on the list as read)', async () => {
    // prepare: inquiries masked instead of deleted; Ada's rows hold her cookie ids as a set and as a list
    const masking = inquiriesMasked('remove');
    const before = await snapshot();
    const location = await locateInStore(dataMap, masking, [identity('email', ADA.email)], clients);

    // act
    const outcome = await eraseInDynamoStore(masking, location.records, clients, {
      hmacKey: HMAC_KEY,
      retry: FAST_RETRY,
    });

    // assess: both masked (a list compared by reference would never pass the condition)
    expect(outcome).toMatchObject({ masked: 2, failed: 0, skipped: 0 });
    const after = await snapshot();
    const rows = [...after.entries()].filter(([id]) => id.startsWith(`inquiries|${ADA.email}|`));
    expect(rows).toHaveLength(2);
    for (const [, item] of rows) {
      expect(item.cookieIds?.S).toMatch(/^hmac:[0-9a-f]{64}$/);
      expect(item.phone).toBeUndefined();
    }
    expectOnlyChanged(before, after, new Set(rows.map(([id]) => id)));
  });

  it('reveals no identity from a masked link, even where the masked form would be a valid identity', async () => {
    // prepare: cookie ids without a pattern, so "hmac:<hex>" is a valid cookie id; Ada's inquiries masked
    const patternless: DataMap = {
      ...dynamoMap,
      identityTypes: { ...dynamoMap.identityTypes, cookieId: { normalise: 'opaque', caseSensitive: false } },
    };
    const masking = inquiriesMasked('hash');
    const ada = [identity('email', ADA.email)];
    const first = await locateInStore(patternless, masking, ada, clients);
    // (without a pattern, the seed's "not-a-cookie" is a cookie id too)
    expect(first.revealed.filter((revealed) => revealed.type === 'cookieId')).toHaveLength(3);
    await eraseInDynamoStore(masking, first.records, clients, { hmacKey: HMAC_KEY, retry: FAST_RETRY });

    // act: locate again, as a retry does (the table key still finds the masked rows)
    const again = await locateInStore(patternless, masking, ada, clients);

    // assess: the rows are found, masked, and their hmac and sha256 values reveal nothing
    expect(again.records).toHaveLength(2);
    expect(again.records.every((record) => record.kind === 'item' && record.masked)).toBe(true);
    expect(again.revealed).toStrictEqual([]);
  });

  it('skips, and counts as not ours, an item whose matched attribute changed after locating', async () => {
    // prepare: locate Carol, then her sales seat is handed to Frank before erasure runs
    const location = await locateInStore(
      dataMap,
      partnerContacts,
      [identity('email', 'carol@partner.test')],
      clients,
    );
    await clients.dynamodb.send(
      new UpdateItemCommand({
        TableName: partnerContacts.table,
        Key: { partnerId: S('p-1'), contactId: S('c-1') },
        UpdateExpression: 'SET email = :e, #n = :n',
        ExpressionAttributeNames: { '#n': 'name' },
        ExpressionAttributeValues: { ':e': S('frank@partner.test'), ':n': S('Frank Example') },
      }),
    );
    const before = await snapshot();
    // act
    const outcome = await eraseInStore(dataMap, partnerContacts, location.records, clients, {
      hmacKey: HMAC_KEY,
      retry: FAST_RETRY,
    });
    // assess
    expect(outcome).toMatchObject({ masked: 0, skipped: 1, exempted: 1, failed: 0 });
    expectOnlyChanged(before, await snapshot(), new Set());
  });

  it('skips an item that changes hands between its read and its conditional update', async () => {
    // prepare: right before the UpdateItem is sent, another writer gives the seat to Frank
    const location = await locateInStore(
      dataMap,
      partnerContacts,
      [identity('email', 'carol@partner.test')],
      clients,
    );
    const other = createLocalClients(local.servers);
    let raced = false;
    const probe = instrument(clients.dynamodb, {
      beforeSend: async (command) => {
        if (command !== 'UpdateItemCommand' || raced) return;
        raced = true;
        await other.dynamodb.send(
          new PutItemCommand({
            TableName: partnerContacts.table,
            Item: {
              partnerId: S('p-1'),
              contactId: S('c-1'),
              email: S('frank@partner.test'),
              name: S('Frank'),
            },
          }),
        );
      },
    });
    const changed = new Set(['partner-contacts|p-1|c-1']);
    const before = await snapshot();
    // act
    const outcome = await eraseInStore(dataMap, partnerContacts, location.records, clients, {
      hmacKey: HMAC_KEY,
      retry: FAST_RETRY,
    }).finally(() => {
      probe.remove();
      other.dynamodb.destroy();
      other.s3.destroy();
    });
    // assess: the update was refused by its condition, and Frank's item is exactly as he wrote it
    expect(raced).toBe(true);
    expect(outcome).toMatchObject({ masked: 0, skipped: 1, exempted: 1, failed: 0 });
    const after = await snapshot();
    expect(after.get('partner-contacts|p-1|c-1')).toStrictEqual({
      partnerId: S('p-1'),
      contactId: S('c-1'),
      email: S('frank@partner.test'),
      name: S('Frank'),
    });
    expectOnlyChanged(before, after, changed);
  });

  it('does not mask an item that became exempt after locating, and reports it as exempt', async () => {
    // prepare
    const location = await locateInStore(
      dataMap,
      partnerContacts,
      [identity('email', 'carol@partner.test')],
      clients,
    );
    await clients.dynamodb.send(
      new UpdateItemCommand({
        TableName: partnerContacts.table,
        Key: { partnerId: S('p-1'), contactId: S('c-1') },
        UpdateExpression: 'SET #r = :r',
        ExpressionAttributeNames: { '#r': 'role' },
        ExpressionAttributeValues: { ':r': S('billing') },
      }),
    );
    const before = await snapshot();
    // act
    const outcome = await eraseInStore(dataMap, partnerContacts, location.records, clients, {
      hmacKey: HMAC_KEY,
      retry: FAST_RETRY,
    });
    // assess
    expect(outcome).toMatchObject({ masked: 0, exempted: 2, skipped: 0 });
    expect(outcome.exemptions).toHaveLength(1);
    expect(outcome.exemptions[0]?.count).toBe(2);
    expectOnlyChanged(before, await snapshot(), new Set());
  });
});

describe('cost', () => {
  it.each([1, 25, 26, 60])(
    'erasing %i items issues ceil(N/25) BatchWriteItem calls and no scans',
    async (count) => {
      // prepare
      const subjectCookie = cookie('c', count);
      await reset({ [adEvents.table]: Array.from({ length: count }, (_, n) => adEvent(subjectCookie, n)) });
      const before = await snapshot();
      const probe = instrument(clients.dynamodb);
      // act
      const location = await locateInStore(dataMap, adEvents, [identity('cookieId', subjectCookie)], clients);
      const outcome = await eraseInStore(dataMap, adEvents, location.records, clients, { hmacKey: HMAC_KEY });
      probe.remove();
      // assess
      expect(outcome.erased).toBe(count);
      expect(probe.counts).toEqual({ QueryCommand: 1, BatchWriteItemCommand: Math.ceil(count / 25) });
      const after = await snapshot();
      const erased = located(location);
      for (const id of erased) expect(after.has(id)).toBe(false);
      expectOnlyChanged(before, after, erased);
    },
  );
});
