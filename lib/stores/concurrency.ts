/**
 * Bounded concurrency for store calls: enough calls in flight to hide request latency, few
 * enough not to throttle the company's tables and buckets (or lethe itself).
 *
 * One rule on failure, everywhere: once a call has failed no new call starts, the calls already
 * in flight are awaited (nothing keeps running unobserved after the caller has moved on, or
 * after it has reported a failure), and then the first error is thrown.
 */

/**
 * Maps `items` through `task` with at most `limit` tasks in flight; the results are in the order
 * of `items`, whichever task finished first.
 * @throws the first error a task threw, after the tasks in flight at that moment have settled
 */
export async function mapConcurrently<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  if (!Number.isInteger(limit) || limit < 1)
    throw new RangeError('limit must be a whole number of 1 or more');
  const results = new Array<R>(items.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (failure === undefined && next < items.length) {
      const index = next;
      next += 1;
      try {
        results[index] = await task(items[index] as T, index);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.error;
  return results;
}

/** {@link mapConcurrently} for tasks run for their effect. */
export async function forEachConcurrently<T>(
  items: readonly T[],
  limit: number,
  task: (item: T, index: number) => Promise<void>,
): Promise<void> {
  await mapConcurrently(items, limit, task);
}

/** `items` in consecutive batches of at most `size` (the last one may be shorter). */
export function chunks<T>(items: readonly T[], size: number): T[][] {
  const result: T[][] = [];
  for (let start = 0; start < items.length; start += size) result.push(items.slice(start, start + size));
  return result;
}

/**
 * Interleaves several async sources, yielding each value as it arrives. Each source has at most one
 * value in flight, asked for only once its previous value has been consumed, so at most one value
 * per source is held at a time (a page per parallel Scan segment, say).
 * @throws the first error a source threw, after the values in flight at that moment have settled
 *   and every source has been closed
 */
export async function* interleave<T>(sources: readonly AsyncIterable<T>[]): AsyncGenerator<T> {
  const iterators = sources.map((source) => source[Symbol.asyncIterator]());
  type Settled = { index: number } & ({ result: IteratorResult<T> } | { error: unknown });
  const inFlight = new Map<number, Promise<Settled>>();
  const pull = (index: number) => {
    // Settled, never rejected: a failure waiting here while the consumer is busy is not an unhandled rejection.
    const next = (iterators[index] as AsyncIterator<T>).next().then(
      (result): Settled => ({ index, result }),
      (error: unknown): Settled => ({ index, error }),
    );
    inFlight.set(index, next);
  };
  for (let index = 0; index < iterators.length; index += 1) pull(index);
  try {
    while (inFlight.size > 0) {
      const settled = await Promise.race(inFlight.values());
      inFlight.delete(settled.index);
      if ('error' in settled) throw settled.error;
      if (settled.result.done) continue;
      yield settled.result.value;
      pull(settled.index);
    }
  } finally {
    await Promise.all(inFlight.values());
    await Promise.allSettled(iterators.map((iterator) => iterator.return?.()));
  }
}
