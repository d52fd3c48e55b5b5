import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { LocalBackend } from '../../lib/cli/backends';
import type { S3Store } from '../../lib/datamap/schema';
import { type LocalEnvironment, openLocalEnvironment } from '../../lib/local/environment';

/**
 * A data map of one indexed JSON-lines store found by cookie id (case-insensitive), for the
 * identity index tests (`indexed: false`: the same store without one); `retention` adds a 90-day rule from LastModified.
 */
export function lakeDataMapYaml(
  bucket: string,
  options: { retention?: boolean; indexed?: boolean } = {},
): string {
  return `
version: 1
identityTypes:
  cookieId:
    normalise: opaque
    caseSensitive: false
stores:
  - id: clicks
    kind: s3
    bucket: ${bucket}
    locate:
      - identity: cookieId
        jsonLines: { prefix: "clicks/", field: cookieId }
    identityIndex: ${options.indexed ?? true}
    categories: [device.cookie-id]
    purpose: Fraud detection
    lawfulBasis: legitimate-interests
    source: Collected by our ad server
    erase: { action: rewrite }
${options.retention ? '    retention:\n      period: P90D\n      from: { lastModified: true }\n' : ''}`;
}

/**
 * A local backend for lake tests: `hooks.beforeErase` (when set) runs once as the EraseStore step
 * starts, and every GetObject is passed to `onRead` with its bucket and key.
 */
export async function openLakeBackend(
  stateDir: string,
  hooks: { beforeErase?: () => Promise<void> },
  onRead: (bucket: string, key: string) => void,
): Promise<LocalBackend> {
  const backend = await LocalBackend.open({
    stateDir,
    faults: async (state) => {
      const once = hooks.beforeErase;
      if (state !== 'EraseStore' || !once) return;
      hooks.beforeErase = undefined;
      await once();
    },
  });
  backend.env.clients.s3.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { Bucket?: string; Key?: string };
      if (context.commandName === 'GetObjectCommand') onRead(input.Bucket ?? '', input.Key ?? '');
      return next(args);
    },
    { step: 'initialize', name: 'countLakeReads' },
  );
  return backend;
}

/** The n-th cookie id of a lake test (a UUID-shaped value). */
export const lakeCookie = (n: number) =>
  `c0ffee${String(n).padStart(2, '0')}-aaaa-4bbb-8ccc-${String(n).padStart(12, '0')}`;

/** One log object: lines of `cookies` in turn, each with a distinct payload. */
export function lakeLog(name: string, cookies: string[]): string {
  return `${cookies.map((id, n) => JSON.stringify({ cookieId: id, at: `${name}#${n}`, ad: `ad-${n % 5}` })).join('\n')}\n`;
}

/** Calls `onRead` with the key of every GetObject the client sends to the bucket. */
export function watchReads(s3: S3Client, bucket: string, onRead: (key: string) => void): void {
  s3.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { Bucket?: string; Key?: string };
      if (context.commandName === 'GetObjectCommand' && input.Bucket === bucket) onRead(input.Key ?? '');
      return next(args);
    },
    { step: 'initialize', name: `watchReads-${bucket}` },
  );
}

/** The n-th log of other people only (`lines` lines): its key and body. */
export function othersLog(n: number, lines: number): { key: string; body: string } {
  return {
    key: `clicks/others-${String(n).padStart(3, '0')}.jsonl`,
    body: lakeLog(
      `o${n}`,
      Array.from({ length: lines }, (_, i) => lakeCookie(10 + ((n + i) % 50))),
    ),
  };
}

/** A fresh local environment whose data map is lakeDataMapYaml(bucket), and its one store. */
export async function openLakeEnvironment(
  bucket: string,
): Promise<{ env: LocalEnvironment; store: S3Store; close: () => Promise<void> }> {
  const root = mkdtempSync(join(tmpdir(), 'lethe-lake-env-'));
  writeFileSync(join(root, 'datamap.yaml'), lakeDataMapYaml(bucket));
  const env = await openLocalEnvironment({
    stateDir: join(root, 'state'),
    dataMapPath: join(root, 'datamap.yaml'),
    init: true,
  });
  return {
    env,
    store: env.dataMap.stores[0] as S3Store,
    close: async () => {
      await env.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}
