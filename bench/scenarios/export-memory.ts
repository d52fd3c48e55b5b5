import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { LocalBackend } from '../../lib/cli/backends';
import { getStore } from '../../lib/datamap/load';
import type { LocalEnvironment } from '../../lib/local/environment';
import { importSeed } from '../../lib/local/import';
import { LocalRequestRunner } from '../../lib/local/request-runner';
import { submitRequest } from '../../lib/rights/submit';
import { REQUEST_STATES } from '../../lib/workflow/request-steps';
import { collectGarbage, type MemoryReport, RequestCounter, timed, withMemory } from '../support/measure';
import type { Goal, Row, ScenarioResult } from '../support/report';
import {
  backgroundSeed,
  includeWaitingStores,
  initEnvironment,
  requestInput,
  type TargetSubject,
  takenIdentifiers,
  targetSubject,
  temporaryStateDir,
} from '../support/world';
import type { BenchOptions, Scenario } from './types';

const MIB = 1024 * 1024;
/** One call recording: 1 MiB of random bytes (incompressible, like real audio). */
const RECORDING_BYTES = MIB;

/**
 * Goal: the export step's memory does not grow with the package. Allowed growth from the smallest
 * to the largest package: 10% of the package size difference (plus 16 MiB of noise).
 */
const GROWTH_ALLOWANCE = 0.1;
const NOISE_MIB = 16;

/**
 * The size of the one large recording of the last case: LETHE_BENCH_LARGE_RECORDING_MIB (e.g. 1024
 * for a 1 GiB recording), else 64 MiB (16 with --quick).
 */
function largeRecordingBytes(options: BenchOptions): number {
  const fromEnv = Number(process.env.LETHE_BENCH_LARGE_RECORDING_MIB);
  if (Number.isSafeInteger(fromEnv) && fromEnv > 0) return fromEnv * MIB;
  return (options.quick ? 16 : 64) * MIB;
}

/** Random bytes, made a MiB at a time as they are sent: the process never holds the object. */
function randomStream(bytes: number): Readable {
  return Readable.from(
    (function* () {
      for (let sent = 0; sent < bytes; sent += MIB) yield randomBytes(Math.min(MIB, bytes - sent));
    })(),
  );
}

/** Replaces the subject's call recordings with `count` recordings of `bytes` each, uploaded a few at a time. */
async function uploadRecordings(
  env: LocalEnvironment,
  target: TargetSubject,
  count: number,
  bytes = RECORDING_BYTES,
): Promise<void> {
  const store = getStore(env.dataMap, 'call-recordings');
  if (store.kind !== 's3') throw new Error('call-recordings is expected to be an S3 store');
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const index = next;
      next += 1;
      // Made when sent, so the process never holds all recordings at once.
      await env.clients.s3.send(
        new PutObjectCommand({
          Bucket: store.bucket,
          Key: `calls/${target.subject.phone}/bench-${String(index).padStart(5, '0')}.wav`,
          Body: bytes > RECORDING_BYTES ? randomStream(bytes) : randomBytes(bytes),
          ContentLength: bytes,
          ContentType: 'audio/wav',
        }),
      );
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
}

interface ExportMeasurement {
  recordings: number;
  recordingBytes: number;
  subjectAdEvents: number;
  packageBytes: number;
  located: number;
  workflowMs: number;
  /** Span of the ExportPackage state, from the execution history. */
  exportStepMs: number | null;
  workflow: MemoryReport;
  copyOutMs: number;
  copyOut: MemoryReport;
  s3Calls: Record<string, number>;
}

async function run(options: BenchOptions): Promise<ScenarioResult> {
  const largest = options.records ?? (options.quick ? 32 : 200);
  const counts = [...new Set([Math.max(1, Math.round(largest / 4)), largest])];
  const adEvents = options.quick ? 200 : 1_000;

  const background = backgroundSeed(options.quick ? 50 : 200, 5);
  const taken = takenIdentifiers(background);
  const largeBytes = largeRecordingBytes(options);
  const targets = [
    ...counts.map((count, index) => ({
      count,
      bytes: RECORDING_BYTES,
      target: targetSubject(adEvents, taken, `m${index}`),
    })),
    // One recording as large as a long call (1 GiB with LETHE_BENCH_LARGE_RECORDING_MIB=1024).
    { count: 1, bytes: largeBytes, target: targetSubject(adEvents, taken, 'm-large') },
  ];

  const stateDir = temporaryStateDir('export-memory');
  options.progress(
    `uploading ${counts.join(' + ')} recordings of 1 MiB, one of ${largeBytes / MIB} MiB, and ${targets.length} subjects with ${adEvents} ad events`,
  );
  const env = await initEnvironment(stateDir);
  try {
    await importSeed(env.dataMap, background, env.clients);
    for (const { count, bytes, target } of targets) {
      await importSeed(env.dataMap, target.seed, env.clients);
      await uploadRecordings(env, target, count, bytes);
    }
  } finally {
    await env.close();
  }

  const backend = await LocalBackend.open({ stateDir });
  const counter = new RequestCounter().attach(backend.env.clients);
  const measurements: ExportMeasurement[] = [];
  try {
    // The runner LocalBackend.submit uses, made here so that the two halves of submit (the
    // execution, then the status read that copies the package out) are measured apart.
    const runner = new LocalRequestRunner(backend.env);
    const warmup = await timed(() =>
      submitRequest(backend.env.deps, runner, requestInput('access', background.subjects[0]!)).then(
        ({ requestId }) => includeWaitingStores(backend.env.deps, runner, requestId),
      ),
    );
    options.progress(`warm-up access request: ${Math.round(warmup.ms)} ms`);

    for (const { count, bytes, target } of targets) {
      collectGarbage();
      counter.reset();
      const workflow = await withMemory(() =>
        submitRequest(backend.env.deps, runner, requestInput('access', target.subject)).then(
          async (submitted) => {
            await includeWaitingStores(backend.env.deps, runner, submitted.requestId);
            return submitted;
          },
        ),
      );
      const s3Calls = counter.snapshot().s3;
      collectGarbage();
      const copyOut = await withMemory(() => backend.status(workflow.value.requestId));
      const summary = copyOut.value;
      const history = await backend.history(summary.requestId);
      const at = (type: string) =>
        history.find((event) => event.type === type && event.state === REQUEST_STATES.exportPackage)?.at;
      const entered = at('StateEntered');
      const exited = at('StateExited');
      if (summary.status !== 'completed' || !summary.export) {
        throw new Error(`access request ended ${summary.status}: ${JSON.stringify(summary.error)}`);
      }
      const measurement: ExportMeasurement = {
        recordings: count,
        recordingBytes: bytes,
        subjectAdEvents: adEvents,
        packageBytes: summary.export.bytes,
        located: summary.stores.reduce((sum, store) => sum + store.located, 0),
        workflowMs: workflow.ms,
        exportStepMs: entered && exited ? Date.parse(exited) - Date.parse(entered) : null,
        workflow: workflow.memory,
        copyOutMs: copyOut.ms,
        copyOut: copyOut.memory,
        s3Calls,
      };
      measurements.push(measurement);
      options.progress(
        `${count} recordings of ${bytes / MIB} MiB: package ${(measurement.packageBytes / MIB).toFixed(0)} MiB, execution ${Math.round(workflow.ms)} ms, peak heap+buffers +${workflow.memory.peakHeapDeltaMb} MiB; copy-out +${copyOut.memory.peakHeapDeltaMb} MiB`,
      );
    }
  } finally {
    await backend.dispose();
  }

  const rows: Row[] = measurements.flatMap((m) => [
    {
      phase: 'execution (Locate, ExportPackage, Confirm)',
      recordings: m.recordings,
      recordingMib: Math.round(m.recordingBytes / MIB),
      located: m.located,
      packageMib: Math.round(m.packageBytes / MIB),
      ms: Math.round(m.workflowMs),
      exportMs: m.exportStepMs,
      mibs: m.exportStepMs ? Math.round((m.packageBytes / MIB / m.exportStepMs) * 1000 * 10) / 10 : null,
      rssDelta: m.workflow.peakRssDeltaMb,
      heapDelta: m.workflow.peakHeapDeltaMb,
      buffersDelta: m.workflow.peakArrayBuffersDeltaMb,
      maxRss: m.workflow.processMaxRssMb,
    },
    {
      phase: 'LocalBackend.status: copy package to state dir',
      recordings: m.recordings,
      recordingMib: Math.round(m.recordingBytes / MIB),
      located: m.located,
      packageMib: Math.round(m.packageBytes / MIB),
      ms: Math.round(m.copyOutMs),
      exportMs: null,
      mibs: Math.round((m.packageBytes / MIB / m.copyOutMs) * 1000 * 10) / 10,
      rssDelta: m.copyOut.peakRssDeltaMb,
      heapDelta: m.copyOut.peakHeapDeltaMb,
      buffersDelta: m.copyOut.peakArrayBuffersDeltaMb,
      maxRss: m.copyOut.processMaxRssMb,
    },
  ]);

  const goals: Goal[] = [];
  const small = measurements[0];
  const large = measurements.filter((m) => m.recordingBytes === RECORDING_BYTES).at(-1);
  const single = measurements.find((m) => m.recordingBytes > RECORDING_BYTES);
  if (small && single) {
    const allowed = ((single.packageBytes - small.packageBytes) / MIB) * GROWTH_ALLOWANCE + NOISE_MIB;
    goals.push({
      goal: `one large recording: export peak heap+buffers grows <= ${GROWTH_ALLOWANCE * 100}% of the package growth + ${NOISE_MIB} MiB`,
      met: single.workflow.peakHeapDeltaMb - small.workflow.peakHeapDeltaMb <= allowed,
      measured: `1 x ${Math.round(single.recordingBytes / MIB)} MiB: execution peak +${single.workflow.peakHeapDeltaMb} MiB (RSS +${single.workflow.peakRssDeltaMb}), against +${small.workflow.peakHeapDeltaMb} for ${Math.round(small.packageBytes / MIB)} MiB (allowed growth ${allowed.toFixed(0)} MiB)`,
    });
  }
  if (small && large && large !== small) {
    const packageGrowthMib = (large.packageBytes - small.packageBytes) / MIB;
    const allowed = packageGrowthMib * GROWTH_ALLOWANCE + NOISE_MIB;
    const execGrowth = large.workflow.peakHeapDeltaMb - small.workflow.peakHeapDeltaMb;
    goals.push({
      goal: `export memory bounded: peak heap+buffers grows <= ${GROWTH_ALLOWANCE * 100}% of the package growth + ${NOISE_MIB} MiB`,
      met: execGrowth <= allowed,
      measured: `package ${Math.round(small.packageBytes / MIB)} -> ${Math.round(large.packageBytes / MIB)} MiB; execution peak +${small.workflow.peakHeapDeltaMb} -> +${large.workflow.peakHeapDeltaMb} MiB (allowed growth ${allowed.toFixed(0)} MiB)`,
    });
    const copyGrowth = large.copyOut.peakHeapDeltaMb - small.copyOut.peakHeapDeltaMb;
    goals.push({
      goal: 'fetching the package (LocalBackend.status) is bounded the same way',
      met: copyGrowth <= allowed,
      measured: `copy-out peak +${small.copyOut.peakHeapDeltaMb} -> +${large.copyOut.peakHeapDeltaMb} MiB (allowed growth ${allowed.toFixed(0)} MiB)`,
    });
  }

  return {
    scenario: 'export-memory',
    params: {
      recordings: counts,
      recordingBytes: RECORDING_BYTES,
      largeRecordingBytes: largeBytes,
      subjectAdEvents: adEvents,
    },
    tables: [
      {
        title: `Export memory: access request for a subject with ${adEvents.toLocaleString('en-US')} ad events and N call recordings of 1 MiB, or one large recording`,
        columns: {
          phase: 'Phase',
          recordings: 'N recordings',
          recordingMib: 'Recording MiB',
          located: 'Records located',
          packageMib: 'Package MiB',
          ms: 'ms',
          exportMs: 'ExportPackage ms',
          mibs: 'Package MiB/s',
          rssDelta: 'Peak RSS delta MiB',
          heapDelta: 'Peak heap+buffers delta MiB',
          buffersDelta: 'of which Buffers MiB',
          maxRss: 'Process max RSS MiB',
        },
        rows,
        notes: [
          'Package MiB/s: package size / ExportPackage span (execution rows) or / copy time (status rows)',
          'Deltas are peaks sampled every 5 ms over the phase, against a baseline taken just before it (after a full GC with --expose-gc)',
          'dynalite and s3rver run in this process: their memory (s3rver receiving the multipart upload, serving GETs) is part of these numbers',
          'Process max RSS is the kernel high-water mark since start: it only moves when a phase needs more than any phase before it',
        ],
      },
    ],
    data: { measurements },
    goals,
  };
}

export const exportMemoryScenario: Scenario = {
  name: 'export-memory',
  summary: 'peak RSS and heap while exporting a subject with many records and large S3 objects',
  run,
};
