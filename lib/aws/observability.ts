import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { type Logger, type LogLevel, redactIdentifiers } from '../log';
import { METRICS_NAMESPACE, REQUESTS_TABLE_DIMENSION } from './metrics';

/**
 * Powertools for AWS Lambda in the deployed functions: the Logger (CloudWatch's structured JSON,
 * with lethe's redaction), Metrics in the embedded metric format (no PutMetricData), and the
 * Tracer around every AWS SDK client (X-Ray subsegments per call). The local runtime and the CLI
 * keep lib/log.ts: they run outside Lambda, where none of the three adds anything.
 */

/** The service name of every lethe function's logs, metrics and traces. */
export const SERVICE_NAME = 'lethe';

/** The dimension of the per-store record counts: the data map's store id (never a record or subject). */
export const STORE_DIMENSION = 'StoreId';

/** lethe's metrics of requests and records. */
export const LETHE_METRICS = {
  requestsStarted: 'RequestsStarted',
  requestsCompleted: 'RequestsCompleted',
  requestsFailed: 'RequestsFailed',
  recordsLocated: 'RecordsLocated',
  recordsErased: 'RecordsErased',
  recordsPurged: 'RecordsPurged',
} as const;
export type LetheMetric = (typeof LETHE_METRICS)[keyof typeof LETHE_METRICS];

/** One count to publish; per store when it names a store. */
export interface MetricPoint {
  /** A name of LETHE_METRICS, or of lib/aws/metrics.ts (the overdue requests the alarms watch). */
  metric: string;
  value: number;
  storeId?: string;
}

/** What a step's input and result say in metrics: counts only. */
export type StepMetrics = (input: unknown, result: unknown) => MetricPoint[];

/**
 * The JSON replacer that redacts every string the logger writes (message and fields) with the
 * rules of lib/log.ts, except the timestamp Powertools adds: it is ours, and its digits could be
 * taken for a phone number.
 */
export function redactingReplacer(key: string, value: unknown): unknown {
  return typeof value === 'string' && key !== 'timestamp' ? redactIdentifiers(value) : value;
}

/**
 * lethe's Logger written by Powertools' Logger: the same interface (and so the same call sites)
 * as lib/log.ts, the same redaction of every value, Powertools' format and fields (level,
 * service, timestamp, cold start, X-Ray trace id).
 */
export function powertoolsLogger(
  options: { level?: LogLevel; context?: Record<string, string | undefined> } = {},
): Logger {
  const persistentKeys = Object.fromEntries(
    Object.entries(options.context ?? {}).filter(
      (entry): entry is [string, string] => entry[1] !== undefined,
    ),
  );
  const logger = new PowertoolsLogger({
    serviceName: SERVICE_NAME,
    logLevel: (options.level ?? 'info').toUpperCase() as 'DEBUG' | 'INFO' | 'WARN' | 'ERROR',
    jsonReplacerFn: redactingReplacer,
    persistentKeys,
  });
  return {
    debug: (message, fields) => logger.debug(message, { ...fields }),
    info: (message, fields) => logger.info(message, { ...fields }),
    warn: (message, fields) => logger.warn(message, { ...fields }),
    error: (message, fields) => logger.error(message, { ...fields }),
  };
}

/**
 * Publishes counts in the embedded metric format under METRICS_NAMESPACE, with the requests
 * table's name as a dimension (two deployments apart) and the store's id for per-store counts.
 * Each point is one EMF line: a store's count never mixes with another's dimensions.
 */
export function publishMetrics(points: readonly MetricPoint[], requestsTable: string): void {
  for (const { metric, value, storeId } of points) {
    const single = new Metrics({
      namespace: METRICS_NAMESPACE,
      serviceName: SERVICE_NAME,
      singleMetric: true,
    });
    // Without Powertools' `service` dimension: the alarms (lib/infra/monitoring.ts) name the
    // dimensions exactly, and a metric with one more is another metric to CloudWatch.
    single.clearDefaultDimensions();
    single.addDimension(REQUESTS_TABLE_DIMENSION, requestsTable);
    if (storeId !== undefined) single.addDimension(STORE_DIMENSION, storeId);
    single.addMetric(metric, MetricUnit.Count, value);
  }
}

const record = (value: unknown): Record<string, unknown> =>
  value && typeof value === 'object' ? (value as Record<string, unknown>) : {};
const count = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) ? value : 0);
const storeOf = (value: unknown): string | undefined => {
  const storeId = record(value).storeId;
  return typeof storeId === 'string' ? storeId : undefined;
};

/** LocateStore: the records found in its store. */
export const locatedMetrics: StepMetrics = (_input, result) => {
  const storeId = storeOf(result);
  return storeId
    ? [{ metric: LETHE_METRICS.recordsLocated, value: count(record(result).located), storeId }]
    : [];
};

/** EraseStore: the records deleted or masked in its store. */
export const erasedMetrics: StepMetrics = (_input, result) => {
  const storeId = storeOf(result);
  const { erased, masked } = record(result);
  return storeId
    ? [{ metric: LETHE_METRICS.recordsErased, value: count(erased) + count(masked), storeId }]
    : [];
};

/** SweepPage: the records this page purged or anonymised (its totals less those it was given). */
export const purgedMetrics: StepMetrics = (input, result) => {
  const storeId = storeOf(result);
  const done = (item: unknown) => {
    const totals = record(record(item).totals);
    return count(totals.purged) + count(totals.anonymised);
  };
  return storeId ? [{ metric: LETHE_METRICS.recordsPurged, value: done(result) - done(input), storeId }] : [];
};

/** A step whose result's status is `status` counts one request as `metric`. */
export const requestsWithStatus =
  (status: string, metric: LetheMetric): StepMetrics =>
  (_input, result) =>
    record(result).status === status ? [{ metric, value: 1 }] : [];

/** The tracer of the container: active only in Lambda (Powertools switches it off elsewhere). */
export const tracer = new Tracer({ serviceName: SERVICE_NAME });

/** An AWS SDK client whose calls become X-Ray subsegments (in Lambda; unchanged elsewhere). */
export function traced<T>(client: T): T {
  return tracer.captureAWSv3Client(client);
}
