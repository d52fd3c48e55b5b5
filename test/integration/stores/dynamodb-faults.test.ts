import {
  type AttributeValue,
  type BatchGetItemCommandInput,
  type BatchGetItemCommandOutput,
  BatchWriteItemCommand,
  type BatchWriteItemCommandInput,
  type BatchWriteItemCommandOutput,
  type DynamoDBClient,
  ThrottlingException,
} from '@aws-sdk/client-dynamodb';
import { type DataMap, type DynamoStore, getStore, type Identity, loadDataMap } from '../../../lib/datamap';
import type { LocalClients } from '../../../lib/local/servers';
import { eraseInDynamoStore, locateInDynamoStore, readDynamoRecords } from '../../../lib/stores/dynamodb';
import { EraseIncompleteError, ReadIncompleteError } from '../../../lib/stores/errors';
import type { ItemKey, LocatedItem, StoreLocation } from '../../../lib/stores/types';
import { scanAll, useLocalStores } from '../../helpers/stores';

/**
 * Fault paths dynalite never produces (UnprocessedItems/Keys, throttling) are injected by a
 * middleware in front of the real server: withheld requests are really not sent, so what the
 * adapter reports can be checked against what is really left in the table.
 */

const dataMap: DataMap = loadDataMap('examples/adtech/datamap.yaml');
const dynamoMap: DataMap = {
  ...dataMap,
  stores: dataMap.stores.filter((store) => store.kind === 'dynamodb'),
};
const dynamoStores = dynamoMap.stores as DynamoStore[];
const adEvents = getStore(dataMap, 'ad-events') as DynamoStore;
const conversions = getStore(dataMap, 'conversions') as DynamoStore;
const partnerContacts = getStore(dataMap, 'partner-contacts') as DynamoStore;

const HMAC_KEY = Buffer.from('fault-test-mask-key');
const S = (value: string): AttributeValue => ({ S: value });
type Item = Record<string, AttributeValue>;

const SUBJECT = 'aaaaaaaa-0000-4000-8000-00000000000a';
const OTHER = 'bbbbbbbb-0000-4000-8000-00000000000b';
const eventKey = (n: number) => `2024-03-01T00:${String(n).padStart(2, '0')}:00Z#click`;
const event = (cookieId: string, n: number): Item => ({
  cookieId: S(cookieId),
  eventKey: S(eventKey(n)),
  retentionShard: S('all'),
  eventAt: { N: String(1_709_251_200_000 + n) },
  ipAddress: S('203.0.113.9'),
});

function seed(): Record<string, Item[]> {
  return {
    [adEvents.table]: [
      ...Array.from({ length: 60 }, (_, n) => event(SUBJECT, n)),
      ...Array.from({ length: 10 }, (_, n) => event(OTHER, n)),
    ],
    [conversions.table]: [
      ...Array.from({ length: 12 }, (_, n) => ({ conversionId: S(`cv-a-${n}`), cookieId: S(SUBJECT) })),
      { conversionId: S('cv-b-0'), cookieId: S(OTHER) },
    ],
    [partnerContacts.table]: [
      {
        partnerId: S('p-1'),
        contactId: S('c-1'),
        email: S('carol@partner.test'),
        name: S('Carol'),
        role: S('sales'),
      },
      {
        partnerId: S('p-1'),
        contactId: S('c-2'),
        email: S('dan@partner.test'),
        name: S('Dan'),
        role: S('sales'),
      },
    ],
  };
}

/** A policy that never sleeps and records the sleeps it was asked for. */
function fastPolicy(maxAttempts = 4) {
  const slept: number[] = [];
  return {
    slept,
    policy: {
      maxAttempts,
      baseDelayMs: 10,
      maxDelayMs: 100,
      sleep: async (ms: number) => {
        slept.push(ms);
      },
    },
  };
}

const local = useLocalStores(dynamoMap);
let clients: LocalClients;
beforeAll(() => {
  clients = local.clients;
});

function keyAttributesOf(store: DynamoStore, item: Item): Item {
  const { partitionKey, sortKey } = store.keySchema;
  return {
    [partitionKey.name]: item[partitionKey.name]!,
    ...(sortKey ? { [sortKey.name]: item[sortKey.name]! } : {}),
  };
}

const idOf = (store: DynamoStore, key: Record<string, unknown>) =>
  JSON.stringify([
    store.id,
    ...Object.values(key).map((value) => (typeof value === 'object' ? value : { S: value })),
  ]);

async function writeAll(
  table: string,
  requests: NonNullable<BatchWriteItemCommandInput['RequestItems']>[string],
) {
  for (let start = 0; start < requests.length; start += 25) {
    await clients.dynamodb.send(
      new BatchWriteItemCommand({ RequestItems: { [table]: requests.slice(start, start + 25) } }),
    );
  }
}

beforeEach(async () => {
  const world = seed();
  for (const store of dynamoStores) {
    const existing = await scanAll(clients.dynamodb, store.table);
    await writeAll(
      store.table,
      existing.map((item) => ({ DeleteRequest: { Key: keyAttributesOf(store, item) } })),
    );
    await writeAll(
      store.table,
      (world[store.table] ?? []).map((item) => ({ PutRequest: { Item: item } })),
    );
  }
});

/** Every item of every table by store and key, marshalled exactly as stored. */
async function snapshot(): Promise<Map<string, Item>> {
  const result = new Map<string, Item>();
  for (const store of dynamoStores) {
    for (const item of await scanAll(clients.dynamodb, store.table))
      result.set(idOf(store, keyAttributesOf(store, item)), item);
  }
  return result;
}

function expectOnlyChanged(before: Map<string, Item>, after: Map<string, Item>, changed: Set<string>): void {
  const untouched = (snap: Map<string, Item>) => new Map([...snap].filter(([id]) => !changed.has(id)));
  expect(untouched(after)).toStrictEqual(untouched(before));
}

const ids = (store: DynamoStore, location: StoreLocation) =>
  new Set(location.records.map((record) => idOf(store, (record as LocatedItem).key)));

type Fault = (command: string, input: unknown, call: number) => 'throttle' | Error | undefined;

interface Faults {
  /** Throw before sending: the request never reaches the server. */
  fail?: Fault;
  /** BatchWriteItem requests to hold back and report as UnprocessedItems. */
  withholdWrite?: (
    request: NonNullable<BatchWriteItemCommandInput['RequestItems']>[string][number],
    call: number,
  ) => boolean;
  /** BatchGetItem keys to hold back and report as UnprocessedKeys. */
  withholdGet?: (key: Item, call: number) => boolean;
}

/**
 * Injects faults in front of the real dynalite, before the SDK's own retry middleware, so
 * injected throttling reaches lethe's retry logic; counts requests by command.
 */
function injectFaults(client: DynamoDBClient, faults: Faults) {
  const counts: Record<string, number> = {};
  const name = `faults-${Math.random()}`;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = context.commandName ?? 'unknown';
      const call = (counts[command] ?? 0) + 1;
      counts[command] = call;
      const failure = faults.fail?.(command, args.input, call);
      if (failure === 'throttle') {
        throw new ThrottlingException({
          message: 'Rate of requests exceeds the allowed throughput (injected)',
          $metadata: {},
        });
      }
      if (failure) throw failure;

      if (command === 'BatchWriteItemCommand' && faults.withholdWrite) {
        const input = args.input as BatchWriteItemCommandInput;
        const [table, requests] = Object.entries(input.RequestItems ?? {})[0]!;
        const held = requests.filter((request) => faults.withholdWrite!(request, call));
        const sent = requests.filter((request) => !held.includes(request));
        const output: BatchWriteItemCommandOutput =
          sent.length > 0
            ? ((await next({ ...args, input: { ...input, RequestItems: { [table]: sent } } }))
                .output as BatchWriteItemCommandOutput)
            : { $metadata: {}, UnprocessedItems: {} };
        const unprocessed = [...(output.UnprocessedItems?.[table] ?? []), ...held];
        return {
          response: {},
          output: { ...output, UnprocessedItems: unprocessed.length > 0 ? { [table]: unprocessed } : {} },
        } as Awaited<ReturnType<typeof next>>;
      }

      if (command === 'BatchGetItemCommand' && faults.withholdGet) {
        const input = args.input as BatchGetItemCommandInput;
        const [table, request] = Object.entries(input.RequestItems ?? {})[0]!;
        const held = (request.Keys ?? []).filter((key) => faults.withholdGet!(key, call));
        const sent = (request.Keys ?? []).filter((key) => !held.includes(key));
        const output: BatchGetItemCommandOutput =
          sent.length > 0
            ? ((
                await next({
                  ...args,
                  input: { ...input, RequestItems: { [table]: { ...request, Keys: sent } } },
                })
              ).output as BatchGetItemCommandOutput)
            : { $metadata: {}, Responses: { [table]: [] } };
        return {
          response: {},
          output: {
            ...output,
            UnprocessedKeys: held.length > 0 ? { [table]: { ...request, Keys: held } } : {},
          },
        } as Awaited<ReturnType<typeof next>>;
      }
      return next(args);
    },
    { step: 'initialize', name },
  );
  return { counts, remove: () => client.middlewareStack.remove(name) };
}

const subject: Identity = { type: 'cookieId', value: SUBJECT };

async function locateEvents(): Promise<StoreLocation> {
  return locateInDynamoStore(adEvents, [subject], clients, dataMap);
}

describe('erasure by delete under faults', () => {
  it('completes through UnprocessedItems and throttling: nothing of the subject left, nothing else touched', async () => {
    // prepare: the first attempt of each batch holds back every 4th item; the 2nd and 5th calls are throttled
    const before = await snapshot();
    const location = await locateEvents();
    const { policy, slept } = fastPolicy(6);
    const seenFirst = new Set<string>();
    const faults = injectFaults(clients.dynamodb, {
      fail: (command, _input, call) =>
        command === 'BatchWriteItemCommand' && (call === 2 || call === 5) ? 'throttle' : undefined,
      withholdWrite: (request) => {
        const id = request.DeleteRequest?.Key?.eventKey?.S ?? '';
        if (seenFirst.has(id)) return false;
        seenFirst.add(id);
        return Number(id.slice(14, 16)) % 4 === 0;
      },
    });
    // act
    const outcome = await eraseInDynamoStore(adEvents, location.records, clients, {
      hmacKey: HMAC_KEY,
      retry: policy,
    }).finally(faults.remove);
    // assess
    expect(outcome).toMatchObject({ storeId: 'ad-events', erased: 60, failed: 0, skipped: 0 });
    // 3 batches + retries for 3 withheld remainders + 2 throttled calls
    expect(faults.counts.BatchWriteItemCommand).toBe(8);
    expect(slept).toHaveLength(5);
    const after = await snapshot();
    const erased = ids(adEvents, location);
    expect(erased.size).toBe(60);
    for (const id of erased) expect(after.has(id)).toBe(false);
    expectOnlyChanged(before, after, erased);
  });

  it('throws EraseIncompleteError naming the count and store, with the failed keys and no key values in the message', async () => {
    // prepare: three items are never processed
    const stuck = new Set([eventKey(3), eventKey(31), eventKey(59)]);
    const before = await snapshot();
    const location = await locateEvents();
    const { policy } = fastPolicy(4);
    const faults = injectFaults(clients.dynamodb, {
      withholdWrite: (request) => stuck.has(request.DeleteRequest?.Key?.eventKey?.S ?? ''),
    });
    // act
    const error = await eraseInDynamoStore(adEvents, location.records, clients, {
      hmacKey: HMAC_KEY,
      retry: policy,
    })
      .then(
        () => undefined,
        (thrown: unknown) => thrown,
      )
      .finally(faults.remove);
    // assess
    expect(error).toBeInstanceOf(EraseIncompleteError);
    const incomplete = error as EraseIncompleteError;
    expect(incomplete.name).toBe('EraseIncompleteError');
    expect(incomplete.storeId).toBe('ad-events');
    expect(incomplete.message).toBe('3 of 60 items in store ad-events were not erased after 4 attempts');
    expect(new Set(incomplete.failedKeys.map((key) => JSON.stringify(key)))).toEqual(
      new Set([...stuck].map((stuckKey) => JSON.stringify({ cookieId: SUBJECT, eventKey: stuckKey }))),
    );
    for (const value of [SUBJECT, ...stuck, '2024-03-01']) expect(incomplete.message).not.toContain(value);
    expect(JSON.stringify(incomplete.outcome)).not.toContain(SUBJECT);
    expect(incomplete.outcome).toMatchObject({ erased: 57, failed: 3 });
    // exactly the stuck items remain; every other item of the subject is gone; nobody else touched
    const after = await snapshot();
    const erased = ids(adEvents, location);
    const remaining = [...erased].filter((id) => after.has(id));
    expect(new Set(remaining)).toEqual(
      new Set(incomplete.failedKeys.map((key) => idOf(adEvents, key as ItemKey))),
    );
    expectOnlyChanged(before, after, erased);
  });

  it('erases what is left when run again after the fault clears (erasure is idempotent)', async () => {
    // prepare: a first run leaves two items behind
    const before = await snapshot();
    const location = await locateEvents();
    const stuck = new Set([eventKey(0), eventKey(1)]);
    const faults = injectFaults(clients.dynamodb, {
      withholdWrite: (request) => stuck.has(request.DeleteRequest?.Key?.eventKey?.S ?? ''),
    });
    await expect(
      eraseInDynamoStore(adEvents, location.records, clients, {
        hmacKey: HMAC_KEY,
        retry: fastPolicy(2).policy,
      }),
    ).rejects.toBeInstanceOf(EraseIncompleteError);
    faults.remove();
    // act
    const outcome = await eraseInDynamoStore(adEvents, location.records, clients, {
      hmacKey: HMAC_KEY,
      retry: fastPolicy(2).policy,
    });
    // assess
    expect(outcome.failed).toBe(0);
    expect((await locateEvents()).located).toBe(0);
    const after = await snapshot();
    const erased = ids(adEvents, location);
    for (const id of erased) expect(after.has(id)).toBe(false);
    expectOnlyChanged(before, after, erased);
  });

  it('gives up on persistent throttling with every key reported, after exactly maxAttempts calls per batch', async () => {
    // prepare
    const before = await snapshot();
    const location = await locateEvents();
    const { policy, slept } = fastPolicy(3);
    const faults = injectFaults(clients.dynamodb, {
      fail: (command) => (command === 'BatchWriteItemCommand' ? 'throttle' : undefined),
    });
    // act
    const outcome = eraseInDynamoStore(adEvents, location.records, clients, {
      hmacKey: HMAC_KEY,
      retry: policy,
    }).finally(faults.remove);
    // assess
    await expect(outcome).rejects.toMatchObject({
      name: 'EraseIncompleteError',
      message: '60 of 60 items in store ad-events were not erased after 3 attempts',
    });
    await outcome.catch((error: EraseIncompleteError) => expect(error.failedKeys).toHaveLength(60));
    expect(faults.counts.BatchWriteItemCommand).toBe(9);
    expect(slept).toHaveLength(6);
    expect(await snapshot()).toStrictEqual(before);
  });

  it('stops at once on an error that retrying cannot fix', async () => {
    // prepare
    const before = await snapshot();
    const location = await locateEvents();
    const { policy, slept } = fastPolicy(5);
    const denied = Object.assign(new Error('not authorised (injected)'), {
      name: 'AccessDeniedException',
      $metadata: { httpStatusCode: 400 },
    });
    const faults = injectFaults(clients.dynamodb, {
      fail: (command) => (command === 'BatchWriteItemCommand' ? denied : undefined),
    });
    // act
    const outcome = eraseInDynamoStore(adEvents, location.records, clients, {
      hmacKey: HMAC_KEY,
      retry: policy,
    }).finally(faults.remove);
    // assess
    await expect(outcome).rejects.toBe(denied);
    expect(slept).toHaveLength(0);
    expect(faults.counts.BatchWriteItemCommand).toBeLessThanOrEqual(3);
    expect(await snapshot()).toStrictEqual(before);
  });
});

describe('erasure by mask under faults', () => {
  const carol: Identity = { type: 'email', value: 'carol@partner.test' };

  it('masks through throttled reads and updates, touching nothing else', async () => {
    // prepare
    const before = await snapshot();
    const location = await locateInDynamoStore(partnerContacts, [carol], clients, dataMap);
    const { policy } = fastPolicy(4);
    const faults = injectFaults(clients.dynamodb, {
      fail: (command, _input, call) =>
        (command === 'GetItemCommand' || command === 'UpdateItemCommand') && call === 1
          ? 'throttle'
          : undefined,
    });
    // act
    const outcome = await eraseInDynamoStore(partnerContacts, location.records, clients, {
      hmacKey: HMAC_KEY,
      retry: policy,
    }).finally(faults.remove);
    // assess
    expect(outcome).toMatchObject({ masked: 1, failed: 0, skipped: 0 });
    expect(faults.counts).toEqual({ GetItemCommand: 3, UpdateItemCommand: 2 });
    const after = await snapshot();
    const changed = ids(partnerContacts, location);
    expect(after.get([...changed][0]!)?.name).toEqual(S('[erased]'));
    expectOnlyChanged(before, after, changed);
  });

  it('reports a mask that throttling outlasts as EraseIncompleteError without the e-mail in the message', async () => {
    // prepare
    const before = await snapshot();
    const location = await locateInDynamoStore(partnerContacts, [carol], clients, dataMap);
    const faults = injectFaults(clients.dynamodb, {
      fail: (command) => (command === 'UpdateItemCommand' ? 'throttle' : undefined),
    });
    // act
    const outcome = eraseInDynamoStore(partnerContacts, location.records, clients, {
      hmacKey: HMAC_KEY,
      retry: fastPolicy(3).policy,
    }).finally(faults.remove);
    // assess
    await expect(outcome).rejects.toMatchObject({
      name: 'EraseIncompleteError',
      storeId: 'partner-contacts',
      failedKeys: [{ partnerId: 'p-1', contactId: 'c-1' }],
      message: '1 of 1 item in store partner-contacts was not erased after 3 attempts',
    });
    await outcome.catch((error: Error) => expect(error.message).not.toContain('carol'));
    expect(await snapshot()).toStrictEqual(before);
  });
});

describe('locating and reading under faults', () => {
  it('retries throttled queries and unprocessed BatchGetItem keys and finds everything', async () => {
    // prepare: every first BatchGetItem holds back a third of its keys; the first query is throttled
    const expected = await locateInDynamoStore(conversions, [subject], clients, dataMap);
    const faults = injectFaults(clients.dynamodb, {
      fail: (command, _input, call) => (command === 'QueryCommand' && call === 1 ? 'throttle' : undefined),
      withholdGet: (key, call) => call === 1 && Number(key.conversionId?.S?.slice(5)) % 3 === 0,
    });
    // act
    const location = await locateInDynamoStore(conversions, [subject], clients, dataMap, {
      retry: fastPolicy(4).policy,
    }).finally(faults.remove);
    // assess
    expect(ids(conversions, location)).toEqual(ids(conversions, expected));
    expect(location.located).toBe(12);
    expect(faults.counts).toEqual({ QueryCommand: 2, BatchGetItemCommand: 2 });
  });

  it('reads every record through UnprocessedKeys', async () => {
    // prepare
    const location = await locateInDynamoStore(conversions, [subject], clients, dataMap);
    const faults = injectFaults(clients.dynamodb, { withholdGet: (_key, call) => call <= 2 });
    // act
    const keys: ItemKey[] = [];
    for await (const record of readDynamoRecords(conversions, location.records, clients, {
      retry: fastPolicy(4).policy,
    })) {
      keys.push(record.key as ItemKey);
    }
    faults.remove();
    // assess
    expect(keys).toEqual(location.records.map((record) => (record as LocatedItem).key));
    expect(faults.counts.BatchGetItemCommand).toBe(3);
  });

  it('throws ReadIncompleteError when keys stay unprocessed, rather than exporting less', async () => {
    // prepare
    const location = await locateInDynamoStore(conversions, [subject], clients, dataMap);
    const faults = injectFaults(clients.dynamodb, { withholdGet: (key) => key.conversionId?.S === 'cv-a-4' });
    // act
    const read = async () => {
      for await (const _record of readDynamoRecords(conversions, location.records, clients, {
        retry: fastPolicy(3).policy,
      })) {
        // drain
      }
    };
    const outcome = read().finally(faults.remove);
    // assess
    await expect(outcome).rejects.toBeInstanceOf(ReadIncompleteError);
    await expect(outcome).rejects.toMatchObject({
      name: 'ReadIncompleteError',
      storeId: 'conversions',
      failedKeys: [{ conversionId: 'cv-a-4' }],
    });
    await outcome.catch((error: Error) => expect(error.message).not.toContain('cv-a-4'));
  });
});
