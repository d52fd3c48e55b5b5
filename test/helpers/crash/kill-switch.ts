/**
 * Preloaded into a real lethe CLI process for kill trials (compiled to JavaScript by cli-child.ts):
 *   node --require kill-switch.js bin/lethe.js request submit ...
 *
 * It changes nothing the CLI does; it counts the process's operations and kills the process with
 * SIGKILL at the one it is told to, so a trial can land anywhere in a request: before, while or
 * after any call to the local DynamoDB or S3 server (every read and write of every step, the
 * request record, locks, manifests, the audit log), or while an event is appended to the
 * execution history. An operation is an HTTP request the SDK sends to the in-process servers, or
 * the append of one history event.
 *
 * Environment:
 * - LETHE_KILL_AT=N: kill at the N-th operation (1-based); unset: never.
 * - LETHE_KILL_FROM=STATE: count N from the execution entering that state (its StateEntered event
 *   is operation 1), so that a kill lands in a chosen step whatever came before it.
 * - LETHE_KILL_ON=LABEL: count only operations whose label starts with LABEL (see below), so that a
 *   test can kill at a named write: `dynamodb PutItem lethe-audit`, `history ExecutionStarted`.
 * - LETHE_KILL_WHEN=before|during|after: before it starts; while it runs (LETHE_KILL_DELAY_MS after
 *   the request was sent, while the server may be half way through it; for a history append, half
 *   the line is written, as a torn write would leave it); or once it has completed.
 * - LETHE_KILL_TAIL_MS=T: instead, kill T ms after the execution's last history event (its end),
 *   while the CLI copies an export, prints, stops the servers and compacts the store.
 * - LETHE_KILL_TRACE=1: print every operation to stderr (`op N <ms> <label>`) and `exit <ms> ops N` at
 *   exit, ms counted from the start of the process.
 * Before dying it prints `killed N <label>` (or `killed tail`) to stderr, synchronously.
 */
import fs from 'node:fs';
import http from 'node:http';
import { syncBuiltinESMExports } from 'node:module';

const killAt = Number(process.env.LETHE_KILL_AT ?? 0);
const killFrom = process.env.LETHE_KILL_FROM;
const killOn = process.env.LETHE_KILL_ON ?? '';
const when = process.env.LETHE_KILL_WHEN ?? 'before';
const delayMs = Number(process.env.LETHE_KILL_DELAY_MS ?? 0);
const tailMs =
  process.env.LETHE_KILL_TAIL_MS === undefined ? undefined : Number(process.env.LETHE_KILL_TAIL_MS);
const trace = process.env.LETHE_KILL_TRACE === '1';
const started = Date.now();
let operations = 0;
/** Operations since the execution entered LETHE_KILL_FROM; undefined until then. */
let sinceFrom: number | undefined = killFrom === undefined ? 0 : undefined;

function say(text: string): void {
  fs.writeSync(2, `${text}\n`);
}

function die(label: string): never {
  say(`killed ${label}`);
  process.kill(process.pid, 'SIGKILL');
  // SIGKILL cannot be caught; this only satisfies the type checker.
  throw new Error('unreachable');
}

/** Counts one operation; returns its number when it is the one to kill at. */
function count(label: string): number | undefined {
  operations += 1;
  if (trace) say(`op ${operations} ${Date.now() - started} ${label}`);
  if (sinceFrom === undefined && label === `history StateEntered ${killFrom}`) sinceFrom = 0;
  if (sinceFrom === undefined || !label.startsWith(killOn)) return undefined;
  sinceFrom += 1;
  return sinceFrom === killAt ? operations : undefined;
}

/**
 * A label naming the service, the operation and the table or bucket (never a key or a value), e.g.
 * `dynamodb UpdateItem lethe-requests`, `s3 PUT lethe-manifests`, `history StateEntered Confirm`.
 */
function labelOf(options: http.RequestOptions, body: string | undefined): string {
  const headers = (options.headers ?? {}) as Record<string, string | string[] | number | undefined>;
  const target = headers['x-amz-target'] ?? headers['X-Amz-Target'];
  if (typeof target === 'string') {
    const table = body ? /"TableName":"([^"]+)"/.exec(body)?.[1] : undefined;
    const tables = body && !table ? /"RequestItems":\{"([^"]+)"/.exec(body)?.[1] : undefined;
    return `dynamodb ${target.split('.').pop()} ${table ?? tables ?? ''}`.trim();
  }
  const bucket = (options.path ?? '').split('/')[1]?.split('?')[0] ?? '';
  return `s3 ${options.method ?? 'GET'} ${bucket}`;
}

const originalRequest = http.request;
function countingRequest(...args: unknown[]): http.ClientRequest {
  const request = (originalRequest as (...a: unknown[]) => http.ClientRequest)(...args);
  const options = (
    typeof args[0] === 'object' && !(args[0] instanceof URL) ? args[0] : {}
  ) as http.RequestOptions;
  const originalEnd = request.end.bind(request);
  request.end = ((...endArgs: unknown[]) => {
    const chunk = endArgs[0];
    const body =
      typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString('utf8') : undefined;
    const label = labelOf(options, body);
    const number = count(label);
    if (number !== undefined) {
      if (when === 'before') die(`${number} before ${label}`);
      if (when === 'after')
        request.once('response', (response) => response.once('end', () => die(`${number} after ${label}`)));
      else request.once('finish', () => setTimeout(() => die(`${number} during ${label}`), delayMs));
    }
    return (originalEnd as (...a: unknown[]) => http.ClientRequest)(...endArgs);
  }) as typeof request.end;
  return request;
}
(http as { request: unknown }).request = countingRequest;

const originalAppend = fs.appendFileSync;
(fs as { appendFileSync: unknown }).appendFileSync = (
  file: fs.PathOrFileDescriptor,
  data: string | Uint8Array,
  options?: fs.WriteFileOptions,
) => {
  const isHistory =
    typeof file === 'string' && file.includes(`${'/'}executions${'/'}`) && file.endsWith('.jsonl');
  if (!isHistory) return originalAppend(file, data, options);
  const text = String(data);
  const type = /"type":"([^"]+)"/.exec(text)?.[1] ?? 'event';
  const state = /"state":"([^"]+)"/.exec(text)?.[1];
  const label = `history ${type}${state ? ` ${state}` : ''}`;
  const number = count(label);
  if (number !== undefined) {
    if (when === 'before') die(`${number} before ${label}`);
    if (when === 'during') {
      originalAppend(file, text.slice(0, Math.max(1, Math.floor(text.length / 2))), options);
      die(`${number} during ${label}`);
    }
  }
  originalAppend(file, data, options);
  if (number !== undefined) die(`${number} after ${label}`);
  if (tailMs !== undefined && (type === 'ExecutionSucceeded' || type === 'ExecutionFailed')) {
    setTimeout(() => die('tail'), tailMs).unref();
  }
};
syncBuiltinESMExports();

if (trace) process.on('exit', () => say(`exit ${Date.now() - started} ops ${operations}`));
