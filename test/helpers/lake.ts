import { LocalBackend } from '../../lib/cli/backends';

/**
 * A data map of one indexed JSON-lines store found by cookie id (case-insensitive), for the
 * identity index tests; `retention` adds a 90-day rule from LastModified.
 */
export function lakeDataMapYaml(bucket: string, options: { retention?: boolean } = {}): string {
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
    identityIndex: true
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
