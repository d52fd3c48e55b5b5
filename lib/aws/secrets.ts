import { hkdfSync } from 'node:crypto';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { LetheDeps } from '../deps';
import { traced } from './observability';

/**
 * The HMAC keys from Secrets Manager. Only the functions the stack gives the secret import this
 * module (their handlers pass `hmacKeysFromSecretsManager` to the step container), so only their
 * bundles carry the Secrets Manager client.
 */

/** The HMAC keys in the secret are missing, malformed or too short. Never includes key material. */
export class InvalidHmacSecretError extends Error {
  override readonly name = 'InvalidHmacSecretError';
}

const MIN_KEY_BYTES = 32;
const MIN_SEED_LENGTH = 32;

/**
 * Reads the two HMAC keys from the secret's JSON. Either explicit keys, base64 of at least 32
 * bytes each: `{"subjectHash": "...", "mask": "..."}`; or the form the stack generates,
 * `{"seed": "<64 random characters>"}` (Secrets Manager generates one random string per
 * secret), from which both keys are derived with HKDF-SHA-256 under distinct labels.
 */
export function parseHmacKeys(secretString: string): LetheDeps['keys'] {
  let value: unknown;
  try {
    value = JSON.parse(secretString);
  } catch {
    throw new InvalidHmacSecretError('the HMAC secret is not JSON');
  }
  const record = (value ?? {}) as Record<string, unknown>;
  if (typeof record.subjectHash === 'string' || typeof record.mask === 'string') {
    const decode = (field: 'subjectHash' | 'mask') => {
      const text = record[field];
      const key = typeof text === 'string' ? Buffer.from(text, 'base64') : Buffer.alloc(0);
      if (key.length < MIN_KEY_BYTES) {
        throw new InvalidHmacSecretError(
          `the HMAC secret's "${field}" must be base64 of at least ${MIN_KEY_BYTES} random bytes`,
        );
      }
      return key;
    };
    return { subjectHash: decode('subjectHash'), mask: decode('mask') };
  }
  if (typeof record.seed === 'string' && record.seed.length >= MIN_SEED_LENGTH) {
    const derive = (label: string) =>
      Buffer.from(hkdfSync('sha256', record.seed as string, 'lethe', `lethe/${label}/v1`, MIN_KEY_BYTES));
    return { subjectHash: derive('subject-hash'), mask: derive('mask') };
  }
  throw new InvalidHmacSecretError(
    `the HMAC secret must hold {"subjectHash", "mask"} (base64, ${MIN_KEY_BYTES}+ bytes each) or {"seed"} (${MIN_SEED_LENGTH}+ characters)`,
  );
}

const keyCache = new Map<string, Promise<LetheDeps['keys']>>();

/**
 * The HMAC keys from Secrets Manager, fetched once per container: the promise is cached, so
 * concurrent cold-start callers share one request; a failed fetch is forgotten and retried.
 */
export function loadHmacKeys(client: SecretsManagerClient, secretArn: string): Promise<LetheDeps['keys']> {
  let keys = keyCache.get(secretArn);
  if (!keys) {
    keys = client.send(new GetSecretValueCommand({ SecretId: secretArn })).then((response) => {
      if (!response.SecretString) throw new InvalidHmacSecretError('the HMAC secret has no string value');
      return parseHmacKeys(response.SecretString);
    });
    keys.catch(() => keyCache.delete(secretArn));
    keyCache.set(secretArn, keys);
  }
  return keys;
}

let secretsClient: SecretsManagerClient | undefined;

/** The HMAC keys of the secret, through the container's Secrets Manager client (created once). */
export function hmacKeysFromSecretsManager(secretArn: string): Promise<LetheDeps['keys']> {
  secretsClient ??= traced(new SecretsManagerClient({}));
  return loadHmacKeys(secretsClient, secretArn);
}

/** Forgets the fetched keys and the client: for tests only. */
export function resetSecretsForTests(): void {
  secretsClient = undefined;
  keyCache.clear();
}
