import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import type { SweepPosition } from '../stores';

/**
 * The continuation token of a sweep page. It says where the next page starts: a DynamoDB
 * LastEvaluatedKey (which holds the table key, and table keys are often identifiers: cookie ids,
 * e-mail addresses) or an S3 key to list after (which can be `calls/+4930…/`). The token travels
 * in the state machine's state and execution history, where no identifier may appear, so it is
 * sealed: AES-256-GCM under a key derived (HKDF) from lethe's subject-hash key, bound to the
 * store, segment and cut-off it was issued for. It is opaque, tamper-evident, and useless to
 * anyone without lethe's key.
 */

/** What a token is valid for: a page of the same store, segment and cut-off only. */
export interface TokenScope {
  storeId: string;
  segment: number;
  totalSegments: number;
  cutoffMs: number;
}

/** A token that does not open, or was issued for another store, segment or cut-off. */
export class InvalidSweepTokenError extends Error {
  override readonly name = 'InvalidSweepTokenError';
}

const VERSION = 'st1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** The token key: HKDF-SHA-256 of the subject-hash key under its own label, never the key itself. */
export function sweepTokenKey(subjectHashKey: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', subjectHashKey, 'lethe', 'lethe/sweep-token/v1', 32));
}

// Binary key attributes are Uint8Arrays: JSON carries them as base64.
const replacer = (_key: string, value: unknown) =>
  value instanceof Uint8Array ? { $b64: Buffer.from(value).toString('base64') } : value;
const reviver = (_key: string, value: unknown) =>
  value !== null && typeof value === 'object' && typeof (value as { $b64?: unknown }).$b64 === 'string'
    ? new Uint8Array(Buffer.from((value as { $b64: string }).$b64, 'base64'))
    : value;

function aad(scope: TokenScope): Buffer {
  return Buffer.from(
    JSON.stringify([VERSION, scope.storeId, scope.segment, scope.totalSegments, scope.cutoffMs]),
  );
}

/** Seals a position into an opaque token for `scope`. */
export function sealSweepToken(key: Buffer, scope: TokenScope, position: SweepPosition): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(aad(scope));
  const body = Buffer.concat([cipher.update(JSON.stringify(position, replacer), 'utf8'), cipher.final()]);
  return `${VERSION}.${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url')}`;
}

/**
 * Opens a token issued by {@link sealSweepToken} for the same scope.
 * @throws InvalidSweepTokenError when it is malformed, altered, or for another scope
 */
export function openSweepToken(key: Buffer, scope: TokenScope, token: string): SweepPosition {
  const [version, payload] = token.split('.');
  if (version !== VERSION || !payload) {
    throw new InvalidSweepTokenError('not a sweep continuation token (or one of another version)');
  }
  const bytes = Buffer.from(payload, 'base64url');
  if (bytes.length <= IV_BYTES + TAG_BYTES)
    throw new InvalidSweepTokenError('the continuation token is truncated');
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, IV_BYTES));
    decipher.setAAD(aad(scope));
    decipher.setAuthTag(bytes.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    const text = Buffer.concat([
      decipher.update(bytes.subarray(IV_BYTES + TAG_BYTES)),
      decipher.final(),
    ]).toString('utf8');
    return JSON.parse(text, reviver) as SweepPosition;
  } catch {
    throw new InvalidSweepTokenError(
      `the continuation token does not open for store ${scope.storeId}, segment ${scope.segment} of ${scope.totalSegments} ` +
        'and this cut-off: it was altered, issued for another page, or by another key',
    );
  }
}
