import fc from 'fast-check';
import { chunks, forEachConcurrently, interleave, mapConcurrently } from '../../../lib/stores/concurrency';

/**
 * Tasks the test settles by hand, so the order in which they finish is chosen by the test and
 * no assertion depends on timing.
 */
function controlledTasks<T>() {
  const started: T[] = [];
  const pending = new Map<T, { resolve: (value: string) => void; reject: (error: Error) => void }>();
  let inFlight = 0;
  let maxInFlight = 0;
  const task = (item: T) =>
    new Promise<string>((resolve, reject) => {
      started.push(item);
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      const done = () => {
        inFlight -= 1;
        pending.delete(item);
      };
      pending.set(item, {
        resolve: (value) => {
          done();
          resolve(value);
        },
        reject: (error) => {
          done();
          reject(error);
        },
      });
    });
  return {
    task,
    started,
    get inFlight() {
      return inFlight;
    },
    get maxInFlight() {
      return maxInFlight;
    },
    resolve: (item: T) => pending.get(item)?.resolve(`done ${String(item)}`),
    reject: (item: T, error: Error) => pending.get(item)?.reject(error),
    isPending: (item: T) => pending.has(item),
  };
}

/** Lets every promise callback queued so far run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('mapConcurrently', () => {
  it('keeps the order of the items, whichever task finishes first', async () => {
    // Prepare
    const tasks = controlledTasks<number>();

    // Act: the tasks finish in reverse order.
    const result = mapConcurrently([0, 1, 2, 3], 4, tasks.task);
    await settle();
    for (const item of [3, 2, 1, 0]) {
      tasks.resolve(item);
      await settle();
    }

    // Assess
    await expect(result).resolves.toEqual(['done 0', 'done 1', 'done 2', 'done 3']);
  });

  it('never has more than `limit` tasks in flight, and starts the next as one finishes', async () => {
    // Prepare
    const tasks = controlledTasks<number>();
    const items = Array.from({ length: 7 }, (_, n) => n);

    // Act
    const result = mapConcurrently(items, 3, tasks.task);
    await settle();
    const startedAtFirst = [...tasks.started];
    tasks.resolve(1);
    await settle();
    const startedAfterOne = [...tasks.started];
    for (const item of items) {
      tasks.resolve(item);
      await settle();
    }

    // Assess
    expect(startedAtFirst).toEqual([0, 1, 2]);
    expect(startedAfterOne).toEqual([0, 1, 2, 3]);
    expect(tasks.maxInFlight).toBe(3);
    await expect(result).resolves.toHaveLength(7);
  });

  it('starts no new task after a failure, awaits the ones in flight, then throws the first error', async () => {
    // Prepare
    const tasks = controlledTasks<number>();
    const items = Array.from({ length: 10 }, (_, n) => n);
    let outcome: 'pending' | 'rejected' = 'pending';

    // Act: task 1 fails while 0 and 2 are in flight; then 2 fails too, then 0 finishes.
    const result = mapConcurrently(items, 3, tasks.task);
    result.catch(() => {
      outcome = 'rejected';
    });
    await settle();
    tasks.reject(1, new Error('first failure'));
    await settle();
    const outcomeWhileInFlight = outcome;
    tasks.reject(2, new Error('second failure'));
    await settle();
    const outcomeWithOneInFlight = outcome;
    tasks.resolve(0);
    await settle();

    // Assess
    expect(tasks.started).toEqual([0, 1, 2]);
    expect(outcomeWhileInFlight).toBe('pending');
    expect(outcomeWithOneInFlight).toBe('pending');
    expect(tasks.inFlight).toBe(0);
    await expect(result).rejects.toThrow('first failure');
  });

  it('returns an empty list for no items, and refuses a limit below 1', async () => {
    await expect(mapConcurrently([], 4, async () => 1)).resolves.toEqual([]);
    await expect(mapConcurrently([1], 0, async () => 1)).rejects.toThrow(RangeError);
  });

  it('maps every item exactly once, in order, for any limit', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer(), { maxLength: 40 }),
        fc.integer({ min: 1, max: 12 }),
        async (items, limit) => {
          // Act: each task yields a varying number of times, so tasks finish out of order.
          let inFlight = 0;
          let maxInFlight = 0;
          const result = await mapConcurrently(items, limit, async (item, index) => {
            inFlight += 1;
            maxInFlight = Math.max(maxInFlight, inFlight);
            for (let turn = 0; turn < Math.abs(item) % 5; turn += 1) await Promise.resolve();
            inFlight -= 1;
            return [index, item];
          });

          // Assess
          expect(result).toEqual(items.map((item, index) => [index, item]));
          expect(maxInFlight).toBeLessThanOrEqual(limit);
        },
      ),
      { seed: 20261101 },
    );
  });
});

describe('forEachConcurrently', () => {
  it('runs every task and, on a failure, stops starting tasks and throws after those in flight', async () => {
    // Prepare
    const tasks = controlledTasks<string>();
    let finished = false;

    // Act
    const run = forEachConcurrently(['a', 'b', 'c', 'd'], 2, async (item) => {
      await tasks.task(item);
    });
    run.catch(() => {
      finished = true;
    });
    await settle();
    tasks.reject('b', new Error('b failed'));
    await settle();
    const finishedWhileAInFlight = finished;
    tasks.resolve('a');
    await settle();

    // Assess
    expect(tasks.started).toEqual(['a', 'b']);
    expect(finishedWhileAInFlight).toBe(false);
    await expect(run).rejects.toThrow('b failed');
  });
});

describe('chunks', () => {
  it('splits items into consecutive batches of at most the size', () => {
    expect(chunks([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(chunks([], 25)).toEqual([]);
    expect(chunks([1, 2], 25)).toEqual([[1, 2]]);
  });
});

describe('interleave', () => {
  /** A source that yields `values`, letting `delays[n]` rounds of callbacks pass before value n. */
  async function* source(values: number[], delays: number[] = [], log?: string[], name = '') {
    try {
      for (const [n, value] of values.entries()) {
        log?.push(`${name} asked`);
        for (let round = 0; round < (delays[n] ?? 0); round += 1) await settle();
        yield value;
      }
    } finally {
      log?.push(`${name} closed`);
    }
  }

  it('yields every value of every source once, each source in its own order', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(fc.tuple(fc.integer(), fc.nat(3)), { maxLength: 6 }), { maxLength: 4 }),
        async (specs) => {
          // Act
          const seen: [number, number][] = [];
          const tagged = specs.map((spec, index) =>
            (async function* () {
              for await (const value of source(
                spec.map(([value]) => value),
                spec.map(([, delay]) => delay),
              ))
                yield [index, value] as [number, number];
            })(),
          );
          for await (const pair of interleave(tagged)) seen.push(pair);

          // Assess
          specs.forEach((spec, index) => {
            expect(seen.filter(([from]) => from === index).map(([, value]) => value)).toEqual(
              spec.map(([value]) => value),
            );
          });
          expect(seen).toHaveLength(specs.flat().length);
        },
      ),
    );
  });

  it('asks a source for its next value only once the previous one has been consumed', async () => {
    // Prepare
    const log: string[] = [];
    const merged = interleave([source([1, 2, 3], [], log, 'a'), source([4, 5, 6], [], log, 'b')]);

    // Act: take one value, then let everything queued run.
    const first = await merged.next();
    await settle();
    const asked = log.filter((entry) => entry.endsWith('asked')).length;
    await merged.return(undefined);

    // Assess: each source was asked once, and the consumed one was not asked again yet.
    expect(first.value).toBeDefined();
    expect(asked).toBe(2);
    expect(log.filter((entry) => entry.endsWith('closed')).sort()).toEqual(['a closed', 'b closed']);
  });

  it('throws the first error, after closing the other sources', async () => {
    // Prepare
    const log: string[] = [];
    async function* failing() {
      yield 0;
      throw new Error('segment failed');
    }

    // Act
    const run = (async () => {
      const seen: number[] = [];
      for await (const value of interleave([failing(), source([1, 2, 3], [2, 2, 2], log, 'slow')])) {
        seen.push(value);
      }
      return seen;
    })();

    // Assess
    await expect(run).rejects.toThrow('segment failed');
    expect(log).toContain('slow closed');
  });
});
