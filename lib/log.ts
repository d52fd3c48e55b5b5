/**
 * A small structured logger. Fields are for counts, ids and names only; every line also
 * passes through `redactIdentifiers` as a safety net, because a subject identifier in a
 * log is a breach of the very promise lethe makes.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, string | number | boolean | null | undefined | string[] | number[]>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

const EMAIL = /[^\s@"'<>()[\],;:]+@[^\s@"'<>()[\],;:]+\.[A-Za-z]{2,}/g;
// International form only (+… or 00…): a bare digit run is as likely a date, a count or an id.
const PHONE = /(?:\+|\b00)\d[\d\s().-]{5,}\d/g;
const IPV4 = /\b(?:\d{1,3}\.){3}\d{1,3}\b/g;
const IPV6 = /(?:[0-9a-fA-F]{1,4})?(?::[0-9a-fA-F]{0,4}){2,7}/g;
const UUID = /\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b/g;

/**
 * Replaces anything shaped like an email, phone number, IP address or UUID (cookie ids),
 * and each of the `known` values, with a placeholder.
 */
export function redactIdentifiers(text: string, known: readonly string[] = []): string {
  let result = text;
  for (const value of known) {
    if (value.length >= 3) result = result.split(value).join('[redacted]');
  }
  return result
    .replace(EMAIL, '[email]')
    .replace(UUID, '[id]')
    .replace(IPV6, (match) => (match.includes('::') || match.split(':').length > 4 ? '[ip]' : match))
    .replace(IPV4, '[ip]')
    .replace(PHONE, (match) => (match.replace(/\D/g, '').length >= 7 ? '[phone]' : match));
}

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** A JSON-lines logger writing to `write` (stderr by default) at or above `level`. */
export function createLogger(
  options: { level?: LogLevel; write?: (line: string) => void; context?: LogFields } = {},
): Logger {
  const threshold = LEVELS[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const emit = (level: LogLevel, message: string, fields?: LogFields) => {
    if (LEVELS[level] < threshold) return;
    // The timestamp is added after redaction: it is ours, and date digits look like a phone number.
    const body = redactIdentifiers(JSON.stringify({ message, ...options.context, ...fields }));
    write(
      `{"level":${JSON.stringify(level)},"time":${JSON.stringify(new Date().toISOString())},${body.slice(1)}`,
    );
  };
  return {
    debug: (message, fields) => emit('debug', message, fields),
    info: (message, fields) => emit('info', message, fields),
    warn: (message, fields) => emit('warn', message, fields),
    error: (message, fields) => emit('error', message, fields),
  };
}

/** A logger that discards everything, for tests and quiet CLI runs. */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
