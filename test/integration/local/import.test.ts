import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type BatchWriteItemCommandInput,
  type BatchWriteItemCommandOutput,
  type DynamoDBClient,
  ThrottlingException,
} from '@aws-sdk/client-dynamodb';
import type { DynamoStore } from '../../../lib/datamap/schema';
import { ImportError, ImportIncompleteError, importItems, importItemsFile } from '../../../lib/local/import';
import type { RetryPolicy } from '../../../lib/stores/retry';
import { contact, importDataMap, writeLines } from '../../helpers/import';
import { scanAll, useLocalStores } from '../../helpers/stores';

/**
 * Writing what an import checked, against dynalite: the count is of items DynamoDB acknowledged,
 * through throttling and unprocessed items (injected: dynalite never returns them).
 */

const dataMap = importDataMap();
const contacts = dataMap.stores[0] as DynamoStore;
const local = useLocalStores(dataMap);
const NO_WAIT: RetryPolicy = { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 1, sleep: async () => {} };
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lethe-import-int-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type PutRequest = NonNullable<BatchWriteItemCommandInput['RequestItems']>[string][number];

/**
 * In front of dynalite: throttles the first BatchWriteItem call, and reports as unprocessed the
 * requests `withhold` picks (with the call number). Returns a function that removes it.
 */
function injectWriteFaults(client: DynamoDBClient, withhold: (request: PutRequest, call: number) => boolean) {
  const name = `import-faults-${Math.random()}`;
  let calls = 0;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== 'BatchWriteItemCommand') return next(args);
      calls += 1;
      if (calls === 1) throw new ThrottlingException({ message: 'injected', $metadata: {} });
      const input = args.input as BatchWriteItemCommandInput;
      const [table, requests] = Object.entries(input.RequestItems ?? {})[0]!;
      const held = requests.filter((request) => withhold(request, calls));
      const sent = requests.filter((request) => !held.includes(request));
      const output: BatchWriteItemCommandOutput =
        sent.length > 0
          ? ((await next({ ...args, input: { ...input, RequestItems: { [table]: sent } } }))
              .output as BatchWriteItemCommandOutput)
          : { $metadata: {} };
      return {
        response: {},
        output: { ...output, UnprocessedItems: held.length > 0 ? { [table]: held } : {} },
      } as Awaited<ReturnType<typeof next>>;
    },
    { step: 'initialize', name },
  );
  return () => client.middlewareStack.remove(name);
}

const seqOf = (request: PutRequest) => Number(request.PutRequest?.Item?.seq?.N);

async function storedSeqs(from: number, to: number): Promise<number[]> {
  const items = await scanAll(local.clients.dynamodb, contacts.table);
  return items
    .map((item) => Number(item.seq?.N))
    .filter((seq) => seq >= from && seq <= to)
    .sort((a, b) => a - b);
}

describe('importItemsFile against dynalite', () => {
  it('retries throttling and unprocessed items, and counts every item once it is stored', async () => {
    // Prepare
    const file = writeLines(
      join(dir, 'retried.jsonl'),
      Array.from({ length: 60 }, (_, n) => contact(1_001 + n)),
    );
    const firstSeen = new Map<number, number>();
    const remove = injectWriteFaults(local.clients.dynamodb, (request, call) => {
      const seq = seqOf(request);
      if (!firstSeen.has(seq)) firstSeen.set(seq, call);
      // Every third item is unprocessed the first time it is sent.
      return seq % 3 === 0 && firstSeen.get(seq) === call;
    });

    try {
      // Act
      const result = await importItemsFile(dataMap, 'contacts', file, local.clients, { retry: NO_WAIT });

      // Assess
      expect(result).toEqual({ store: 'contacts', items: 60, written: 60, normalisedKeys: 0, keptKeys: 0 });
      expect(await storedSeqs(1_001, 1_060)).toHaveLength(60);
    } finally {
      remove();
    }
  });

  it('stops when items stay unprocessed past the retries, saying how many were written, which is how many are stored', async () => {
    // Prepare
    const file = writeLines(
      join(dir, 'stuck.jsonl'),
      Array.from({ length: 60 }, (_, n) => contact(2_001 + n)),
    );
    const remove = injectWriteFaults(local.clients.dynamodb, (request) => seqOf(request) > 2_050);

    try {
      // Act
      const error = await importItemsFile(dataMap, 'contacts', file, local.clients, { retry: NO_WAIT }).then(
        () => undefined,
        (thrown: unknown) => thrown,
      );

      // Assess
      expect(error).toBeInstanceOf(ImportIncompleteError);
      expect((error as ImportIncompleteError).written).toBe(50);
      expect((error as Error).message).toMatch(
        /^the import into contacts stopped after writing 50 items: 10 items were still unprocessed after 4 attempts/,
      );
      expect(await storedSeqs(2_001, 2_060)).toHaveLength(50);
    } finally {
      remove();
    }
  });
});

describe('importItems (seeds and tests)', () => {
  it('checks every item first and writes nothing when one is refused or a key repeats', async () => {
    // Prepare
    const items = [contact(3_001), { ...contact(3_002), email: '' }, contact(3_003), contact(3_001)];

    // Act
    const error = await importItems(dataMap, 'contacts', items, local.clients).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );

    // Assess
    expect(error).toBeInstanceOf(ImportError);
    expect((error as Error).message.split('\n')).toEqual([
      '2 of 4 items for store contacts cannot be imported, so nothing was imported: fix the items listed below.',
      'item 2: key attribute "email" is empty; DynamoDB key values need at least one character',
      'item 4: the same table key as item 1',
    ]);
    expect(await storedSeqs(3_001, 3_003)).toEqual([]);
  });

  it('keeps locate keys as given by default, and writes sets and binary as the document client does', async () => {
    // Act
    const written = await importItems(
      dataMap,
      'contacts',
      [{ email: ' Kept@Example.COM ', seq: 3_101, tags: new Set(['a']), token: Buffer.from('t') }],
      local.clients,
    );

    // Assess
    expect(written).toBe(1);
    const [stored] = (await scanAll(local.clients.dynamodb, contacts.table)).filter(
      (item) => item.seq?.N === '3101',
    );
    expect(stored).toEqual({
      email: { S: ' Kept@Example.COM ' },
      seq: { N: '3101' },
      tags: { SS: ['a'] },
      token: { B: expect.any(Uint8Array) },
    });
  });
});
