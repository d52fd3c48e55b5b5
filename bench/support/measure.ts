import { performance } from 'node:perf_hooks';
import type { LocalClients } from '../../lib/local/servers';

/** Milliseconds since `start` (from {@link now}), to one decimal. */
export function elapsedMs(start: number): number {
  return Math.round((performance.now() - start) * 10) / 10;
}

export const now = (): number => performance.now();

/** Times an async call. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = now();
  const value = await fn();
  return { value, ms: elapsedMs(start) };
}

const gcHook = (globalThis as { gc?: () => void }).gc;

/** Whether the process runs with --expose-gc (e.g. NODE_OPTIONS=--expose-gc npm run bench). */
export const gcExposed = typeof gcHook === 'function';

/** A full collection when --expose-gc is set, so memory baselines are not inflated by garbage; else a no-op. */
export function collectGarbage(): void {
  if (!gcHook) return;
  gcHook();
  gcHook();
}

const MB = 1024 * 1024;
const toMb = (bytes: number) => Math.round((bytes / MB) * 10) / 10;

export interface MemoryReport {
  /** Resident set size when sampling started (after a GC when exposed), MiB. */
  baselineRssMb: number;
  peakRssMb: number;
  /** Peak RSS minus baseline RSS: what the measured work added to the process. */
  peakRssDeltaMb: number;
  /** Peak of V8 heap used + external memory (Buffers) minus its baseline, MiB: JS-reachable memory. */
  peakHeapDeltaMb: number;
  /** Of which Buffers / ArrayBuffers (file and network data). */
  peakArrayBuffersDeltaMb: number;
  /** The process's RSS high-water mark so far (getrusage ru_maxrss): never goes down. */
  processMaxRssMb: number;
  samples: number;
}

/**
 * Samples process.memoryUsage() on a timer while async work runs. The sampler shares the event
 * loop with the work, so a synchronous burst between two ticks can be missed; the streaming code
 * measured here yields to the loop constantly, and `processMaxRssMb` (the kernel's high-water mark)
 * is reported alongside as a cross-check.
 */
export class MemorySampler {
  private timer: NodeJS.Timeout | undefined;
  private baseline = process.memoryUsage();
  private peakRss = 0;
  private peakHeap = 0;
  private peakArrayBuffers = 0;
  private samples = 0;

  constructor(private readonly intervalMs = 5) {}

  start(): void {
    collectGarbage();
    this.baseline = process.memoryUsage();
    this.peakRss = this.baseline.rss;
    this.peakHeap = this.baseline.heapUsed + this.baseline.external;
    this.peakArrayBuffers = this.baseline.arrayBuffers;
    this.samples = 0;
    this.timer = setInterval(() => this.sample(), this.intervalMs);
  }

  private sample(): void {
    const usage = process.memoryUsage();
    this.samples += 1;
    this.peakRss = Math.max(this.peakRss, usage.rss);
    this.peakHeap = Math.max(this.peakHeap, usage.heapUsed + usage.external);
    this.peakArrayBuffers = Math.max(this.peakArrayBuffers, usage.arrayBuffers);
  }

  stop(): MemoryReport {
    this.sample();
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    return {
      baselineRssMb: toMb(this.baseline.rss),
      peakRssMb: toMb(this.peakRss),
      peakRssDeltaMb: toMb(this.peakRss - this.baseline.rss),
      peakHeapDeltaMb: toMb(this.peakHeap - this.baseline.heapUsed - this.baseline.external),
      peakArrayBuffersDeltaMb: toMb(this.peakArrayBuffers - this.baseline.arrayBuffers),
      processMaxRssMb: toMb(process.resourceUsage().maxRSS * 1024),
      samples: this.samples,
    };
  }
}

/** Runs `fn` while sampling memory. */
export async function withMemory<T>(
  fn: () => Promise<T>,
): Promise<{ value: T; ms: number; memory: MemoryReport }> {
  const sampler = new MemorySampler();
  sampler.start();
  try {
    const { value, ms } = await timed(fn);
    return { value, ms, memory: sampler.stop() };
  } catch (error) {
    sampler.stop();
    throw error;
  }
}

export type RequestCounts = Record<string, number>;

export interface ServiceCounts {
  dynamodb: RequestCounts;
  s3: RequestCounts;
  /** DynamoDB calls by table, then operation (a BatchGetItem or BatchWriteItem counts for each table it names). */
  dynamodbTables: Record<string, RequestCounts>;
}

const emptyCounts = (): ServiceCounts => ({ dynamodb: {}, s3: {}, dynamodbTables: {} });

/** The tables a DynamoDB call addresses. */
function tablesOf(input: unknown): string[] {
  const { TableName, RequestItems } = (input ?? {}) as { TableName?: unknown; RequestItems?: unknown };
  if (typeof TableName === 'string') return [TableName];
  if (RequestItems && typeof RequestItems === 'object') return Object.keys(RequestItems);
  return [];
}

/**
 * Counts the AWS API calls the SDK clients send, by service and operation ("Query",
 * "BatchWriteItem", "GetObject"…), with a middleware at the end of the finalize step: inside the
 * SDK's retry loop, so a retried call counts once per attempt, as AWS would bill it. The
 * DynamoDB document client shares its base client's middleware stack and is counted too.
 *
 * Calls are also attributed to the current `phase` (set by the caller, e.g. from the workflow's
 * Task state that is running), so a request's reads can be split into locate, export and erase.
 */
export class RequestCounter {
  private byPhase = new Map<string, ServiceCounts>();
  /** Where calls are attributed from now on. */
  phase = 'other';

  attach(clients: LocalClients): this {
    const options = { step: 'finalizeRequest', priority: 'low', name: 'letheBenchRequestCounter' } as const;
    clients.dynamodb.middlewareStack.add(
      (next, context) => async (args) => {
        this.bump('dynamodb', context.commandName, tablesOf(args.input));
        return next(args);
      },
      options,
    );
    clients.s3.middlewareStack.add(
      (next, context) => async (args) => {
        this.bump('s3', context.commandName);
        return next(args);
      },
      options,
    );
    return this;
  }

  private bump(service: 'dynamodb' | 's3', commandName: string | undefined, tables: string[] = []): void {
    const operation = (commandName ?? 'Unknown').replace(/Command$/, '');
    let counts = this.byPhase.get(this.phase);
    if (!counts) {
      counts = emptyCounts();
      this.byPhase.set(this.phase, counts);
    }
    counts[service][operation] = (counts[service][operation] ?? 0) + 1;
    for (const table of tables) {
      const byTable = counts.dynamodbTables[table] ?? {};
      byTable[operation] = (byTable[operation] ?? 0) + 1;
      counts.dynamodbTables[table] = byTable;
    }
  }

  reset(phase = 'other'): void {
    this.byPhase.clear();
    this.phase = phase;
  }

  /** Calls since the last reset, in the given phases (all when omitted). */
  snapshot(phases?: readonly string[]): ServiceCounts {
    const sum = emptyCounts();
    const add = (into: RequestCounts, from: RequestCounts) => {
      for (const [operation, count] of Object.entries(from)) into[operation] = (into[operation] ?? 0) + count;
    };
    for (const [phase, counts] of this.byPhase) {
      if (phases && !phases.includes(phase)) continue;
      add(sum.dynamodb, counts.dynamodb);
      add(sum.s3, counts.s3);
      for (const [table, byTable] of Object.entries(counts.dynamodbTables)) {
        const into = sum.dynamodbTables[table] ?? {};
        add(into, byTable);
        sum.dynamodbTables[table] = into;
      }
    }
    return sum;
  }

  /** Calls since the last reset, per phase. */
  phases(): Record<string, ServiceCounts> {
    return Object.fromEntries([...this.byPhase.keys()].map((phase) => [phase, this.snapshot([phase])]));
  }
}

/** Sum of the counts whose operation is in `operations` (all when omitted). */
export function total(counts: RequestCounts, operations?: readonly string[]): number {
  return Object.entries(counts)
    .filter(([operation]) => !operations || operations.includes(operation))
    .reduce((sum, [, count]) => sum + count, 0);
}
