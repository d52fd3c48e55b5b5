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

/** Fewer digits than this are too common a run to be taken for a phone number. */
const MIN_PHONE_DIGITS = 7;
const PHONE_LIKE = /^\+?\d[\d\s().\-/\u00a0]*$/;
const DIGIT_SEPARATORS = '[\\s().\\-/\\u00a0]*';

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The spellings of one known value in free text, as a pattern: any case; a phone number by its
 * digits whatever separates them, with + or 00, or without the country code (one to three digits)
 * as people write it at home, trunk 0 or not (`+49 30 123456`, `0049-30-123456`, `030/123456`).
 */
function spellingsOf(value: string): string | undefined {
  if (value.length < 3) return undefined;
  const digits = value.replace(/\D/g, '');
  if (!PHONE_LIKE.test(value) || digits.length < MIN_PHONE_DIGITS) return escapeRegExp(value);
  const spelled = (run: string) => [...run].join(DIGIT_SEPARATORS);
  const alternatives = [
    `(?:(?:\\+|00)${DIGIT_SEPARATORS})?${spelled(digits)}`,
    ...[1, 2, 3]
      .filter((drop) => digits.length - drop >= MIN_PHONE_DIGITS)
      .map((drop) => `(?:0${DIGIT_SEPARATORS})?${spelled(digits.slice(drop))}`),
  ];
  return `(?<!\\d)(?:${alternatives.join('|')})(?!\\d)`;
}

/** One pattern for every spelling of every known value, longest value first; undefined for none. */
function knownPattern(known: readonly string[]): RegExp | undefined {
  const patterns = [...new Set(known)]
    .sort((a, b) => b.length - a.length)
    .map(spellingsOf)
    .filter((pattern): pattern is string => pattern !== undefined);
  return patterns.length === 0 ? undefined : new RegExp(patterns.join('|'), 'giu');
}

/**
 * Replaces each of the `known` values (a subject's identities, in any case, phone numbers in any
 * spelling) and anything shaped like an email, phone number, IP address or UUID (cookie ids) with a
 * placeholder.
 */
export function redactIdentifiers(text: string, known: readonly string[] = []): string {
  const pattern = knownPattern(known);
  return (pattern ? text.replace(pattern, '[redacted]') : text)
    .replace(EMAIL, '[email]')
    .replace(UUID, '[id]')
    .replace(IPV6, (match) => (match.includes('::') || match.split(':').length > 4 ? '[ip]' : match))
    .replace(IPV4, '[ip]')
    .replace(PHONE, (match) => (match.replace(/\D/g, '').length >= MIN_PHONE_DIGITS ? '[phone]' : match));
}

const INTERNATIONAL_PHONE = /\+\d[\d\s().-]{5,}\d/g;

/**
 * What identifier `text` holds, if any: one of the `known` values in any spelling (as
 * {@link redactIdentifiers} finds them), or an email address or an international phone number
 * (+…). IP addresses and UUIDs are not counted: case and ticket numbers can look like them.
 */
export function identifierIn(
  text: string,
  known: readonly string[] = [],
): 'known' | 'email' | 'phone' | undefined {
  if (knownPattern(known)?.test(text)) return 'known';
  if (new RegExp(EMAIL.source).test(text)) return 'email';
  const phones = text.match(INTERNATIONAL_PHONE) ?? [];
  if (phones.some((match) => match.replace(/\D/g, '').length >= MIN_PHONE_DIGITS)) return 'phone';
  return undefined;
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
