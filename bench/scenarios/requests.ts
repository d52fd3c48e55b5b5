import { LocalBackend } from '../../lib/cli/backends';
import type { HistoryEvent } from '../../lib/local/execution';
import { importSeed } from '../../lib/local/import';
import type { RequestSummary } from '../../lib/rights/summary';
import { REQUEST_STATES } from '../../lib/workflow/request-steps';
import { elapsedMs, now, RequestCounter, type ServiceCounts, timed, total } from '../support/measure';
import type { Goal, Row, ScenarioResult, Table } from '../support/report';
import {
  backgroundSeed,
  initEnvironment,
  requestInput,
  seedSize,
  submitReviewed,
  type TargetSubject,
  takenIdentifiers,
  targetSubject,
  temporaryStateDir,
} from '../support/world';
import type { BenchOptions, Scenario } from './types';

/** Goal: erasure deletes at least this many records per second locally (the EraseStores phase). */
const ERASE_RECORDS_PER_SECOND_GOAL = 1_000;

/** Top-level states of the request workflow whose spans are reported. */
const PHASES = [
  'Verify',
  'ResolveIdentities',
  'LocateStores',
  'ExportPackage',
  'EraseStores',
  'Confirm',
  'RecordOutcome',
] as const;

/** DynamoDB operations that read a subject's data. */
const READS = ['Query', 'BatchGetItem'] as const;

/** Calls of `operations` on the data map's tables only (not lethe's requests, audit and holds tables). */
function onDataTables(
  counts: ServiceCounts,
  dataTables: readonly string[],
  operations: readonly string[],
): number {
  return dataTables.reduce((sum, table) => sum + total(counts.dynamodbTables[table] ?? {}, operations), 0);
}

interface EnvironmentSize {
  label: string;
  subjects: number;
  records: number;
}

interface Measurement {
  environment: string;
  adEventItems: number;
  dynamodbItems: number;
  clickstreamObjects: number;
  clickstreamLines: number;
  subject: string;
  k: number;
  type: 'access' | 'erasure';
  status: string;
  wallMs: number;
  phasesMs: Partial<Record<(typeof PHASES)[number], number>>;
  /** LocateStore span per store, ms. */
  locateMs: Record<string, number>;
  historyEvents: number;
  located: number;
  adEventsLocated: number;
  erased: number;
  masked: number;
  exempted: number;
  exportBytes: number | null;
  requests: ServiceCounts;
  /** Calls made by the Task states that locate: LocateStore (and ResolveIdentities, which locates linking stores). */
  locateRequests: ServiceCounts;
  /** Calls made by Confirm (for erasure it locates everything again). */
  confirmRequests: ServiceCounts;
  requestsByPhase: Record<string, ServiceCounts>;
  /** DynamoDB tables of the data map's stores. */
  dataTables: string[];
  /** Query + BatchGetItem on the data map's tables by ResolveIdentities and LocateStore. */
  locateReads: number;
  /** The same by Confirm. */
  confirmReads: number;
  /** Scans of the data map's tables (must be 0) and of lethe's own tables. */
  dataScans: number;
  letheScans: Record<string, number>;
}

/** Span of each LocateStore iteration by store id (the Locate map's items are the data map's stores, in order). */
function locateSpans(events: HistoryEvent[], storeIds: string[]): Record<string, number> {
  const spans: Record<string, number> = {};
  storeIds.forEach((storeId, index) => {
    const at = (type: string) =>
      events.find(
        (event) => event.type === type && event.state === REQUEST_STATES.locateStore && event.index === index,
      )?.at;
    const entered = at('StateEntered');
    const exited = at('StateExited');
    if (entered && exited) spans[storeId] = Date.parse(exited) - Date.parse(entered);
  });
  return spans;
}

/** Span of each top-level state, from its StateEntered to its StateExited event. */
function phaseSpans(events: HistoryEvent[]): Measurement['phasesMs'] {
  const spans: Measurement['phasesMs'] = {};
  for (const phase of PHASES) {
    const entered = events.find(
      (event) => event.type === 'StateEntered' && event.state === phase && event.index === undefined,
    );
    const exited = events.find(
      (event) => event.type === 'StateExited' && event.state === phase && event.index === undefined,
    );
    if (entered && exited) spans[phase] = Date.parse(exited.at) - Date.parse(entered.at);
  }
  return spans;
}

function sum(summary: RequestSummary, field: 'located' | 'erased' | 'masked' | 'exempted'): number {
  return summary.stores.reduce((total, store) => total + store[field], 0);
}

async function measureEnvironment(
  size: EnvironmentSize,
  ks: number[],
  options: BenchOptions,
): Promise<{ measurements: Measurement[]; setup: Record<string, number> }> {
  const background = backgroundSeed(size.subjects, size.records);
  const taken = takenIdentifiers(background);
  const targets: TargetSubject[] = ks.map((k, index) => targetSubject(k, taken, `t${index}`));
  const seeds = [background, ...targets.map((target) => target.seed)];
  const stored = seedSize(seeds);
  const dynamodbItems = Object.values(stored.items).reduce((a, b) => a + b, 0);

  options.progress(
    `[${size.label}] importing ${dynamodbItems.toLocaleString('en-US')} items (ad-events: ${stored.items['ad-events']?.toLocaleString('en-US')}) and ${Object.values(
      stored.objects,
    )
      .reduce((a, b) => a + b, 0)
      .toLocaleString('en-US')} objects`,
  );
  const stateDir = temporaryStateDir(`requests-${size.label}`);
  const imported = await timed(async () => {
    const env = await initEnvironment(stateDir);
    try {
      for (const seed of seeds) await importSeed(env.dataMap, seed, env.clients);
    } finally {
      await env.close();
    }
  });

  const counter = new RequestCounter();
  const stateNames = new Set<string>(Object.values(REQUEST_STATES));
  const opened = await timed(() =>
    LocalBackend.open({
      stateDir,
      // The runtime calls this before every Task: used here only to attribute API calls to the step.
      faults: (stateName) => {
        if (stateNames.has(stateName)) counter.phase = stateName;
      },
    }),
  );
  const backend = opened.value;
  counter.attach(backend.env.clients);
  const storeIds = backend.env.dataMap.stores.map((store) => store.id);
  const dataTables = backend.env.dataMap.stores.flatMap((store) =>
    store.kind === 'dynamodb' ? [store.table] : [],
  );
  const measurements: Measurement[] = [];
  try {
    // Warm-up: the first request pays for JIT and connection set-up; not reported.
    const warmup = await timed(() =>
      submitReviewed(backend, requestInput('access', background.subjects[0] ?? targets[0]!.subject)),
    );
    options.progress(`[${size.label}] warm-up access request: ${Math.round(warmup.ms)} ms`);

    for (const target of targets) {
      const k = target.seed.dynamodb['ad-events'].length;
      for (const type of ['access', 'erasure'] as const) {
        counter.reset('submit');
        const start = now();
        const { summary } = await submitReviewed(backend, requestInput(type, target.subject));
        const wallMs = elapsedMs(start);
        // Counted before reading the history, which reads the request record too.
        const requests = counter.snapshot();
        const locateRequests = counter.snapshot([REQUEST_STATES.resolve, REQUEST_STATES.locateStore]);
        const confirmRequests = counter.snapshot([REQUEST_STATES.confirm]);
        const requestsByPhase = counter.phases();
        const history = await backend.history(summary.requestId);
        if (summary.status !== 'completed') {
          throw new Error(
            `${type} request for ${target.label} ended ${summary.status}: ${JSON.stringify(summary.error ?? summary.reason)}`,
          );
        }
        const adEvents = summary.stores.find((store) => store.store === 'ad-events');
        const measurement: Measurement = {
          environment: `${Math.round((stored.items['ad-events'] ?? 0) / 1000)}k ad events`,
          adEventItems: stored.items['ad-events'] ?? 0,
          dynamodbItems,
          clickstreamObjects: stored.objects.clickstream ?? 0,
          clickstreamLines: stored.clickstreamLines,
          subject: target.label,
          k,
          type,
          status: summary.status,
          wallMs,
          phasesMs: phaseSpans(history),
          locateMs: locateSpans(history, storeIds),
          historyEvents: history.length,
          located: sum(summary, 'located'),
          adEventsLocated: adEvents?.located ?? 0,
          erased: sum(summary, 'erased'),
          masked: sum(summary, 'masked'),
          exempted: sum(summary, 'exempted'),
          exportBytes: summary.export?.bytes ?? null,
          requests,
          locateRequests,
          confirmRequests,
          requestsByPhase,
          dataTables,
          locateReads: onDataTables(locateRequests, dataTables, READS),
          confirmReads: onDataTables(confirmRequests, dataTables, READS),
          dataScans: onDataTables(requests, dataTables, ['Scan']),
          letheScans: Object.fromEntries(
            Object.entries(requests.dynamodbTables)
              .filter(([table, counts]) => !dataTables.includes(table) && (counts.Scan ?? 0) > 0)
              .map(([table, counts]) => [table, counts.Scan ?? 0]),
          ),
        };
        measurements.push(measurement);
        options.progress(
          `[${size.label}] ${type} ${target.label}: ${Math.round(wallMs)} ms, ${measurement.located} records located`,
        );
      }
    }
  } finally {
    await backend.dispose();
  }
  return {
    measurements,
    setup: { importMs: Math.round(imported.ms), backendOpenMs: Math.round(opened.ms) },
  };
}

function timingTable(measurements: Measurement[]): Table {
  const rows: Row[] = measurements.map((m) => {
    const work = m.type === 'access' ? m.phasesMs.ExportPackage : m.phasesMs.EraseStores;
    return {
      table: `${m.adEventItems.toLocaleString('en-US')} / ${m.dynamodbItems.toLocaleString('en-US')}`,
      subject: m.subject,
      type: m.type,
      located: m.located,
      wall: Math.round(m.wallMs),
      resolve: m.phasesMs.ResolveIdentities ?? null,
      locate: m.phasesMs.LocateStores ?? null,
      work: work ?? null,
      confirm: m.phasesMs.Confirm ?? null,
      rate:
        m.type === 'erasure' && work ? Math.round(((m.erased + m.masked) / Math.max(work, 1)) * 1000) : null,
      events: m.historyEvents,
    };
  });
  return {
    title: 'Requests end to end through LocalBackend (synthesized state machine), wall time in ms',
    columns: {
      table: 'ad-events / all items',
      subject: 'Subject',
      type: 'Type',
      located: 'Records located',
      wall: 'Wall',
      resolve: 'Resolve',
      locate: 'Locate',
      work: 'Export / Erase',
      confirm: 'Confirm',
      rate: 'Erased/s',
      events: 'History events',
    },
    rows,
    notes: [
      'Subject k = its ad events; it also has ~k clickstream lines, up to k/3 conversions, 1 inquiry (+1 sometimes), 2 partner-contact rows (1 exempt: billing) and call recordings',
      'Wall = backend.submit(): submit, the whole execution, and the status read (for access: copying the zip out of s3rver into the state directory); a request that waits for review has every waiting store included and its next attempt run, counted in',
      'Phase columns are state spans from the persisted execution history (ms resolution); Erased/s = (erased + masked) / EraseStores span',
    ],
  };
}

function locateTable(measurements: Measurement[]): Table {
  const storeIds = [...new Set(measurements.flatMap((m) => Object.keys(m.locateMs)))];
  return {
    title: 'Where Locate time goes: LocateStore span per store, ms (4 stores at a time)',
    columns: {
      table: 'ad-events items',
      subject: 'Subject',
      type: 'Type',
      ...Object.fromEntries(storeIds.map((id) => [id, id])),
    },
    rows: measurements.map((m) => ({
      table: m.adEventItems.toLocaleString('en-US'),
      subject: m.subject,
      type: m.type,
      ...Object.fromEntries(storeIds.map((id) => [id, m.locateMs[id] ?? null])),
    })),
    notes: [
      'clickstream is a JSON-lines store: locating reads every object under clicks/, so its time follows the size of the log, not the subject',
      'Confirm (erasure) locates every store again in one task and so pays the clickstream read a second time',
    ],
  };
}

function requestsTable(measurements: Measurement[]): Table {
  const rows: Row[] = measurements.map((m) => ({
    table: m.adEventItems.toLocaleString('en-US'),
    subject: m.subject,
    type: m.type,
    query: m.requests.dynamodb.Query ?? 0,
    batchGet: m.requests.dynamodb.BatchGetItem ?? 0,
    batchWrite: m.requests.dynamodb.BatchWriteItem ?? 0,
    dataScans: m.dataScans,
    letheScans: Object.values(m.letheScans).reduce((a, b) => a + b, 0),
    own: total(m.requests.dynamodb, ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem']),
    locateReads: m.locateReads,
    confirmReads: m.confirmReads,
    s3Get: m.requests.s3.GetObject ?? 0,
    s3List: m.requests.s3.ListObjectsV2 ?? 0,
    s3Other: total(m.requests.s3) - (m.requests.s3.GetObject ?? 0) - (m.requests.s3.ListObjectsV2 ?? 0),
  }));
  return {
    title: 'API calls per request (counted by a client middleware)',
    columns: {
      table: 'ad-events items',
      subject: 'Subject',
      type: 'Type',
      query: 'Query',
      batchGet: 'BatchGetItem',
      batchWrite: 'BatchWriteItem',
      dataScans: 'Scan (data stores)',
      letheScans: 'Scan (lethe tables)',
      own: 'Get/Put/Update/DeleteItem',
      locateReads: 'Locate reads',
      confirmReads: 'Confirm reads',
      s3Get: 'S3 GetObject',
      s3List: 'S3 List',
      s3Other: 'S3 other',
    },
    rows,
    notes: [
      "Query, BatchGetItem, BatchWriteItem: all tables; Locate reads = Query + BatchGetItem on the data map's tables by ResolveIdentities and the LocateStore tasks; Confirm reads = the same by Confirm (erasure locates everything again)",
      "Scan (lethe tables): scans of lethe's own tables (legal holds), not of subject data; Get/Put/Update/DeleteItem: lethe's requests, audit and lock records",
      'S3 GetObject grows with the clickstream store: a JSON-lines store is located by reading every object under its prefix',
    ],
  };
}

function goalsFor(measurements: Measurement[], labels: string[]): Goal[] {
  const goals: Goal[] = [];
  const scans = measurements.reduce((n, m) => n + m.dataScans, 0);
  const letheScans = measurements.reduce(
    (n, m) => n + Object.values(m.letheScans).reduce((a, b) => a + b, 0),
    0,
  );
  const scannedTables = [...new Set(measurements.flatMap((m) => Object.keys(m.letheScans)))];
  goals.push({
    goal: "no Scan of a data map store's table during any request",
    met: scans === 0,
    measured: `${scans} Scan calls on data tables${letheScans > 0 ? `; ${letheScans} on lethe's own ${scannedTables.join(', ')} (${(letheScans / measurements.length).toFixed(0)} per request on average)` : ''}`,
  });

  if (labels.length >= 2) {
    const small = labels[0]!;
    const large = labels[labels.length - 1]!;
    const mismatches: string[] = [];
    const compared: string[] = [];
    for (const m of measurements.filter((candidate) => candidate.environment === large)) {
      const other = measurements.find(
        (candidate) => candidate.environment === small && candidate.k === m.k && candidate.type === m.type,
      );
      if (!other) continue;
      // Every DynamoDB call, by operation: the request's whole DynamoDB bill, not only locating.
      const calls = (x: Measurement) =>
        JSON.stringify(Object.entries(x.requests.dynamodb).sort(([a], [b]) => a.localeCompare(b)));
      compared.push(`${m.type} k=${m.k}: ${total(other.requests.dynamodb)} vs ${total(m.requests.dynamodb)}`);
      if (calls(m) !== calls(other)) mismatches.push(`${m.type} k=${m.k}`);
    }
    goals.push({
      goal: `a request makes the same DynamoDB calls (count by operation) at ${small} and at ${large}`,
      met: mismatches.length === 0,
      measured: `${compared.join('; ')}${mismatches.length > 0 ? `; differ: ${mismatches.join(', ')}` : ''}`,
    });
  }

  const erasures = measurements.filter((m) => m.type === 'erasure');
  const perK = erasures.map((m) => ({ k: m.k, reads: m.locateReads }));
  const largest = perK.reduce((a, b) => (b.k > a.k ? b : a), perK[0] ?? { k: 0, reads: 0 });
  // O(k): a Query page holds up to 1 MB, a BatchGetItem 100 keys; allow a few calls per 100 records.
  const bound = Math.ceil(largest.k / 100) * 3 + 30;
  goals.push({
    goal: 'locate reads grow O(k) with the subject, not with the table: <= 3 per 100 records + 30',
    met: perK.every((entry) => entry.reads <= Math.ceil(entry.k / 100) * 3 + 30),
    measured: `${perK.map((entry) => `k=${entry.k}: ${entry.reads}`).join('; ')} (bound at largest k: ${bound})`,
  });

  const big = erasures.reduce<Measurement | undefined>((a, b) => (!a || b.k > a.k ? b : a), undefined);
  if (big?.phasesMs.EraseStores) {
    const rate = Math.round(((big.erased + big.masked) / big.phasesMs.EraseStores) * 1000);
    goals.push({
      goal: `erasure >= ${ERASE_RECORDS_PER_SECOND_GOAL.toLocaleString('en-US')} records/s locally (EraseStores, largest subject)`,
      met: rate >= ERASE_RECORDS_PER_SECOND_GOAL,
      measured: `${rate.toLocaleString('en-US')} records/s (${big.erased + big.masked} records in ${big.phasesMs.EraseStores} ms, ${big.environment})`,
    });
  }

  if (labels.length >= 2) {
    const small = labels[0]!;
    const large = labels[labels.length - 1]!;
    const ratios = measurements
      .filter((m) => m.environment === large)
      .flatMap((m) => {
        const other = measurements.find((c) => c.environment === small && c.k === m.k && c.type === m.type);
        return other ? [{ label: `${m.type} k=${m.k}`, ratio: m.wallMs / other.wallMs }] : [];
      });
    const worst = ratios.reduce((a, b) => (b.ratio > a.ratio ? b : a), ratios[0] ?? { label: '', ratio: 1 });
    goals.push({
      goal: `a request's wall time does not grow with the data: ${large} / ${small} <= 1.5 for the same subject`,
      met: ratios.every((entry) => entry.ratio <= 1.5),
      measured: `${ratios.map((entry) => `${entry.label}: x${entry.ratio.toFixed(2)}`).join('; ')} (worst ${worst.label})`,
    });
  }
  return goals;
}

async function run(options: BenchOptions): Promise<ScenarioResult> {
  const records = options.records ?? (options.quick ? 20 : 50);
  const subjects = options.subjects ?? (options.quick ? 300 : 2_000);
  const sizes: EnvironmentSize[] = [
    { label: 'small', subjects: Math.max(2, Math.round(subjects / 10)), records },
    { label: 'large', subjects, records },
  ];
  const ks = options.quick ? [10, 1_000] : [10, 1_000, 10_000];
  const measurements: Measurement[] = [];
  const setup: Record<string, Record<string, number>> = {};
  for (const size of sizes) {
    const result = await measureEnvironment(size, ks, options);
    measurements.push(...result.measurements);
    setup[size.label] = result.setup;
  }
  const labels = [...new Set(measurements.map((m) => m.environment))];
  const timing = timingTable(measurements);
  timing.notes?.push(
    ...sizes.map(
      (size, index) =>
        `${labels[index]}: background ${size.subjects.toLocaleString('en-US')} subjects x ${size.records} records, plus the subjects k; import ${setup[size.label]?.importMs} ms, LocalBackend.open ${setup[size.label]?.backendOpenMs} ms`,
    ),
  );
  return {
    scenario: 'requests',
    params: { sizes, subjectsRecords: ks },
    tables: [timing, requestsTable(measurements), locateTable(measurements)],
    // The per-phase counts hold everything the locate/confirm subsets and table list repeat.
    data: {
      setup,
      measurements: measurements.map((m) => {
        const { locateRequests: _locate, confirmRequests: _confirm, dataTables: _tables, ...kept } = m;
        return kept;
      }),
    },
    goals: goalsFor(measurements, labels),
  };
}

export const requestsScenario: Scenario = {
  name: 'requests',
  summary:
    'access and erasure of one subject end to end through LocalBackend, at growing subject (k) and table sizes; API calls by type',
  run,
};
