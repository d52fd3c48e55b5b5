import { LocalBackend } from '../../lib/cli/backends';
import { importSeed } from '../../lib/local/import';
import { elapsedMs, now } from '../support/measure';
import type { Goal, Table } from '../support/report';
import {
  backgroundSeed,
  initEnvironment,
  requestInput,
  submitReviewed,
  temporaryStateDir,
} from '../support/world';
import type { BenchOptions, Scenario } from './types';

/** Requests of each type: LETHE_BENCH_REQUESTS (the documented figures use 50), else 10 (3 with --quick). */
function requestCount(options: BenchOptions): number {
  const fromEnv = Number(process.env.LETHE_BENCH_REQUESTS);
  if (Number.isSafeInteger(fromEnv) && fromEnv > 0) return fromEnv;
  return options.quick ? 3 : 10;
}

/** The value below which `share` of the sorted samples fall (nearest rank). */
export function percentile(sorted: readonly number[], share: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.max(1, Math.ceil(share * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1] ?? Number.NaN;
}

function summarise(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    count: sorted.length,
    minMs: Math.round(sorted[0] ?? Number.NaN),
    p50Ms: Math.round(percentile(sorted, 0.5)),
    p95Ms: Math.round(percentile(sorted, 0.95)),
    maxMs: Math.round(sorted[sorted.length - 1] ?? Number.NaN),
    meanMs: Math.round(sorted.reduce((a, b) => a + b, 0) / Math.max(sorted.length, 1)),
  };
}

/**
 * Request latency: N access requests, then N erasure requests, one after another, each for a
 * different subject of the example seed, through LocalBackend.submit (the CLI's path, in-process).
 */
export const latencyScenario: Scenario = {
  name: 'latency',
  summary: 'p50/p95 wall time of access and erasure requests on the example, one at a time',
  async run(options) {
    const count = requestCount(options);
    // Two subjects per request pair and a margin: every request has a subject of its own.
    const seed = backgroundSeed(Math.max(2 * count + 10, 40), 10, 3);
    const stateDir = temporaryStateDir('latency');
    const env = await initEnvironment(stateDir);
    try {
      await importSeed(env.dataMap, seed, env.clients);
    } finally {
      await env.close();
    }
    const backend = await LocalBackend.open({ stateDir });
    const samples: Record<'access' | 'erasure', number[]> = { access: [], erasure: [] };
    const reviews = { access: 0, erasure: 0 };
    try {
      const [warm, ...subjects] = seed.subjects;
      if (!warm) throw new Error('the seed has no subjects');
      await submitReviewed(backend, requestInput('access', warm));
      for (const type of ['access', 'erasure'] as const) {
        for (let n = 0; n < count; n += 1) {
          const subject = subjects[type === 'access' ? n : count + n];
          if (!subject) throw new Error('not enough subjects in the seed');
          const start = now();
          const { summary, reviewed } = await submitReviewed(backend, requestInput(type, subject));
          if (reviewed) reviews[type] += 1;
          const ms = elapsedMs(start);
          if (summary.status !== 'completed') {
            throw new Error(`${type} request ${n + 1} ended ${summary.status}`);
          }
          samples[type].push(ms);
          if ((n + 1) % 10 === 0 || n + 1 === count) {
            options.progress(`latency: ${n + 1}/${count} ${type} requests, last ${Math.round(ms)} ms`);
          }
        }
      }
    } finally {
      await backend.dispose();
    }
    const stats = {
      access: summarise(samples.access),
      erasure: summarise(samples.erasure),
    };
    const table: Table = {
      title: `Request latency, ${count} requests of each type, one at a time (ms)`,
      columns: {
        type: 'Type',
        count: 'Requests',
        p50: 'p50',
        p95: 'p95',
        min: 'Min',
        max: 'Max',
        mean: 'Mean',
      },
      rows: (['access', 'erasure'] as const).map((type) => ({
        type,
        count: stats[type].count,
        p50: stats[type].p50Ms,
        p95: stats[type].p95Ms,
        min: stats[type].minMs,
        max: stats[type].maxMs,
        mean: stats[type].meanMs,
      })),
      notes: [
        `Example data map, ${seed.subjects.length} seed subjects × 10 records; each request for another subject, through LocalBackend.submit (submit, the synthesized state machine, the status read)`,
        `Requests that waited for review (records only claimed links reach) had every waiting store included at once, as staff would, and the next attempt ran: counted in their time (access ${reviews.access}, erasure ${reviews.erasure})`,
        'A warm-up access request runs first and is not counted; set LETHE_BENCH_REQUESTS=50 for the documented figures',
      ],
    };
    const goals: Goal[] = [];
    return {
      scenario: 'latency',
      params: { requests: count, subjects: seed.subjects.length, recordsPerSubject: 10 },
      tables: [table],
      data: { stats, samplesMs: samples, reviewed: reviews },
      goals,
    };
  },
};
