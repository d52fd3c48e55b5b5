import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { KeyAttribute } from '../datamap/schema';

/**
 * DynamoDB's rules for an item, checked before anything is written: a PutItem that breaks one
 * fails on AWS (ValidationException) and can take dynalite down mid-import, after earlier
 * batches were written. None of these messages holds a value: items are personal data.
 */

/** DynamoDB's largest item: 400 KB, attribute names and values counted together. */
export const MAX_ITEM_BYTES = 400 * 1024;
/** DynamoDB's largest partition key value (table and index alike). */
export const MAX_PARTITION_KEY_BYTES = 2048;
/** DynamoDB's largest sort key value (table and index alike). */
export const MAX_SORT_KEY_BYTES = 1024;
/** Lists and maps nest at most this deep. */
const MAX_NESTING = 32;
/** DynamoDB numbers: up to 38 significant digits, magnitudes from 1E-130 to below 1E+126. */
const MAX_SIGNIFICANT_DIGITS = 38;
const MIN_EXPONENT = -130;
const MAX_EXPONENT = 125;

const NUMBER_TEXT = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/** A decimal number as its significant digits (no leading or trailing zeros) and a power of ten. */
interface Decimal {
  negative: boolean;
  digits: string;
  exponent: number;
}

function parseDecimal(text: string): Decimal | undefined {
  const match = NUMBER_TEXT.exec(text);
  if (!match) return undefined;
  const [, sign = '', whole = '', fraction = '', exponent = '0'] = match;
  if (whole === '' && fraction === '') return undefined;
  const significant = `${whole}${fraction}`.replace(/^0+/, '');
  if (significant === '') return { negative: false, digits: '', exponent: 0 };
  const digits = significant.replace(/0+$/, '');
  return {
    negative: sign === '-',
    digits,
    exponent: Number(exponent) - fraction.length + (significant.length - digits.length),
  };
}

/**
 * What is wrong with the text of a number as DynamoDB stores it, or undefined when it can be
 * stored: decimal digits with an optional sign, point and exponent, at most 38 significant digits,
 * a magnitude between 1E-130 and 9.99…E+125 (or zero).
 */
export function numberProblem(text: string): string | undefined {
  const decimal = parseDecimal(text);
  if (!decimal) return 'is not a decimal number';
  if (decimal.digits.length > MAX_SIGNIFICANT_DIGITS)
    return `has more than ${MAX_SIGNIFICANT_DIGITS} significant digits, more than DynamoDB keeps`;
  const magnitude = decimal.exponent + decimal.digits.length - 1;
  if (decimal.digits !== '' && (magnitude < MIN_EXPONENT || magnitude > MAX_EXPONENT))
    return 'is outside the range DynamoDB stores (1E-130 to 9.9E+125)';
  return undefined;
}

/**
 * One text for every spelling of the same number ("5", "5.0", "0.5e1"), as DynamoDB compares key
 * numbers by value. Only for texts {@link numberProblem} accepts.
 */
export function canonicalNumber(text: string): string {
  const decimal = parseDecimal(text);
  if (!decimal || decimal.digits === '') return '0';
  return `${decimal.negative ? '-' : ''}${decimal.digits}e${decimal.exponent}`;
}

function numberSize(text: string): number {
  const digits = parseDecimal(text)?.digits.length ?? text.length;
  return Math.ceil(digits / 2) + 1;
}

const utf8Bytes = (text: string) => Buffer.byteLength(text, 'utf8');

/**
 * The size DynamoDB counts for an attribute value: strings by their UTF-8 bytes, binary by its
 * bytes, numbers by about one byte per two significant digits plus one, booleans and null one byte,
 * lists and maps three bytes plus one per element plus the elements (and, for maps, their names).
 */
export function attributeSize(value: AttributeValue): number {
  if (value.S !== undefined) return utf8Bytes(value.S);
  if (value.N !== undefined) return numberSize(value.N);
  if (value.B !== undefined) return value.B.byteLength;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.SS !== undefined) return value.SS.reduce((sum, text) => sum + utf8Bytes(text), 0);
  if (value.NS !== undefined) return value.NS.reduce((sum, text) => sum + numberSize(text), 0);
  if (value.BS !== undefined) return value.BS.reduce((sum, bytes) => sum + bytes.byteLength, 0);
  if (value.L !== undefined) return value.L.reduce((sum, element) => sum + 1 + attributeSize(element), 3);
  if (value.M !== undefined)
    return Object.entries(value.M).reduce(
      (sum, [name, element]) => sum + 1 + utf8Bytes(name) + attributeSize(element),
      3,
    );
  return 0;
}

/** The size DynamoDB counts for an item, against its 400 KB limit: every attribute's name and value. */
export function itemSize(item: Record<string, AttributeValue>): number {
  return Object.entries(item).reduce((sum, [name, value]) => sum + utf8Bytes(name) + attributeSize(value), 0);
}

/** The key type an attribute value has, or undefined for a value no key can hold. */
export function keyTypeOf(value: AttributeValue): KeyAttribute['type'] | undefined {
  if (value.S !== undefined) return 'S';
  if (value.N !== undefined) return 'N';
  if (value.B !== undefined) return 'B';
  return undefined;
}

/** What kind of value an attribute holds, in words, for messages that must not show the value. */
export function describeValue(value: AttributeValue): string {
  if (value.S !== undefined) return value.S === '' ? 'an empty string' : 'a string';
  if (value.N !== undefined) return 'a number';
  if (value.B !== undefined) return 'binary';
  if (value.BOOL !== undefined) return 'a boolean';
  if (value.NULL !== undefined) return 'null';
  if (value.L !== undefined) return 'a list';
  if (value.M !== undefined) return 'an object';
  return 'a set';
}

/** The byte length of a key value, as DynamoDB limits it. */
export function keyValueBytes(value: AttributeValue): number {
  if (value.S !== undefined) return utf8Bytes(value.S);
  if (value.B !== undefined) return value.B.byteLength;
  return 0;
}

/**
 * What in an attribute's value DynamoDB would refuse, each once: numbers it cannot hold and lists
 * or maps nested deeper than 32 levels.
 */
export function valueProblems(value: AttributeValue): string[] {
  const problems = new Set<string>();
  const visit = (current: AttributeValue, depth: number) => {
    const numbers = current.N !== undefined ? [current.N] : (current.NS ?? []);
    for (const text of numbers) {
      const problem = numberProblem(text);
      if (problem) problems.add(`holds a number that ${problem}`);
    }
    const children = current.L ?? (current.M ? Object.values(current.M) : undefined);
    if (children === undefined) return;
    if (depth >= MAX_NESTING) {
      problems.add(`nests lists or objects deeper than DynamoDB's ${MAX_NESTING} levels`);
      return;
    }
    for (const child of children) visit(child, depth + 1);
  };
  visit(value, 0);
  return [...problems];
}
