import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { getStore, loadDataMap } from '../../../lib/datamap/load';
import { createStoresFromDataMap } from '../../../lib/local/provision';
import { createLocalClients, type LocalClients, startLocalServers } from '../../../lib/local/servers';
import { random } from '../../helpers/crash/random';
import { listAll } from '../../helpers/stores';

/**
 * Kill trials for the embedded S3 server: a process erasing one subject from shared JSON-lines
 * objects is killed with SIGKILL at a random moment of the rewrite. Whatever the moment, every
 * object must stay readable, its ETag must describe its bytes, and every other person's lines
 * must be there byte for byte and in order (the subject's lines gone or not, per object).
 *
 * Seeded: LETHE_CRASH_SEED replays a run, LETHE_CRASH_TRIALS runs more (default 20).
 */

const DATAMAP = join(__dirname, '../../../examples/adtech/datamap.yaml');
const STORE = 'clickstream';
const SUBJECT = 'aaaaaaaa-0000-4000-8000-00000000000a';
const OBJECTS = 12;
const LINES_PER_OBJECT = 300;
const TRIALS = Number(process.env.LETHE_CRASH_TRIALS ?? 20);
const SEED = Number(process.env.LETHE_CRASH_SEED ?? Date.now() % 2 ** 31);
const CHILD = join(__dirname, '../../helpers/crash/erase-lines-child.ts');

const cookie = (n: number) =>
  `${n.toString(16).padStart(8, '0')}-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

/** The shared objects: every fifth line is the subject's, the rest belong to 40 other people. */
function objectLines(index: number): string[] {
  return Array.from({ length: LINES_PER_OBJECT }, (_, line) =>
    JSON.stringify({
      cookieId: line % 5 === index % 5 ? SUBJECT : cookie(1 + ((index * 7 + line) % 40)),
      ts: index * 10_000 + line,
      url: `/page/${line}?ref=${'x'.repeat(line % 50)}`,
      // Enough bytes per object (~1 MB) that a write takes long enough to be interrupted.
      ua: 'Mozilla/5.0 '.repeat(280),
    }),
  );
}

const bucket = () => {
  const store = getStore(loadDataMap(DATAMAP), STORE);
  if (store.kind !== 's3') throw new Error('clickstream is an S3 store');
  return store.bucket;
};

/** Runs the child on `stateDir`; kills it `killAfterMs` after it starts erasing (never, when undefined). */
function runChild(
  stateDir: string,
  bufferLimit: number,
  killAfterMs: number | undefined,
): Promise<{ finished: boolean; eraseMs?: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', CHILD, stateDir, DATAMAP, STORE, 'cookieId', SUBJECT, String(bufferLimit)],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (killAfterMs !== undefined && stdout.includes('erasing\n')) {
        const delay = killAfterMs;
        killAfterMs = undefined;
        setTimeout(() => child.kill('SIGKILL'), delay);
      }
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('exit', () => {
      const done = /done (\d+)/.exec(stdout);
      resolve({ finished: done !== null, ...(done ? { eraseMs: Number(done[1]) } : {}), stderr });
    });
  });
}

async function readAll(clients: LocalClients, name: string): Promise<Map<string, Buffer>> {
  const objects = new Map<string, Buffer>();
  for (const key of await listAll(clients.s3, name)) {
    const response = await clients.s3.send(new GetObjectCommand({ Bucket: name, Key: key }));
    const body = Buffer.from(await response.Body!.transformToByteArray());
    // The ETag must describe these bytes: a stale checksum file would make conditional rewrites lie.
    expect(response.ETag).toBe(`"${createHash('md5').update(body).digest('hex')}"`);
    objects.set(key, body);
  }
  return objects;
}

describe('a process killed during a JSON-lines rewrite', () => {
  let template: string;
  let work: string;
  const originals = new Map<string, string[]>();

  beforeAll(async () => {
    // Prepare: one state directory with the shared objects, copied for every trial.
    work = mkdtempSync(join(tmpdir(), 'lethe-kill-'));
    template = join(work, 'template');
    const servers = await startLocalServers({ stateDir: template });
    const clients = createLocalClients(servers);
    try {
      await createStoresFromDataMap(loadDataMap(DATAMAP), clients);
      for (let index = 0; index < OBJECTS; index += 1) {
        const key = `clicks/2026-01-${String(index + 1).padStart(2, '0')}.jsonl`;
        const lines = objectLines(index);
        originals.set(key, lines);
        await clients.s3.send(
          new PutObjectCommand({ Bucket: bucket(), Key: key, Body: `${lines.join('\n')}\n` }),
        );
      }
    } finally {
      clients.dynamodb.destroy();
      clients.s3.destroy();
      await servers.stop();
    }
  });

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  test(`leaves every object readable and everyone else's lines intact (${TRIALS} trials, seed ${SEED})`, async () => {
    const next = random(SEED);
    // Calibrate: how long an uninterrupted erase takes here, so kills land across the whole rewrite.
    const calibration = join(work, 'calibration');
    cpSync(template, calibration, { recursive: true });
    const baseline = await runChild(calibration, 16 * 1024, undefined);
    expect(baseline).toMatchObject({ finished: true });
    const window = Math.max(5, (baseline.eraseMs ?? 50) * 1.2);

    for (let trial = 0; trial < TRIALS; trial += 1) {
      // Half the trials stream through the large-object path, half rewrite from memory.
      const bufferLimit = next() < 0.5 ? 16 * 1024 : 8 * 1024 * 1024;
      const killAfter = Math.floor(next() * window);
      const stateDir = join(work, `trial-${trial}`);
      cpSync(template, stateDir, { recursive: true });

      await runChild(stateDir, bufferLimit, killAfter);

      const servers = await startLocalServers({ stateDir });
      const clients = createLocalClients(servers);
      try {
        const objects = await readAll(clients, bucket());
        const context = `seed ${SEED}, trial ${trial} (replay: LETHE_CRASH_SEED=${SEED})`;
        for (const [key, lines] of originals) {
          const others = lines.filter((line) => !line.includes(SUBJECT));
          const body = objects.get(key);
          if (body === undefined) {
            // Gone only if it held nothing but the subject's lines (never here).
            throw new Error(`${context}: ${key} disappeared`);
          }
          const now = body
            .toString('utf8')
            .split('\n')
            .filter((line) => line !== '');
          const kept = now.filter((line) => !line.includes(SUBJECT));
          expect({ context, key, kept }).toEqual({ context, key, kept: others });
          // Either untouched or fully rewritten: never a mix, never a truncated line.
          expect([lines.length, others.length]).toContain(now.length);
        }
      } finally {
        clients.dynamodb.destroy();
        clients.s3.destroy();
        await servers.stop();
        rmSync(stateDir, { recursive: true, force: true });
      }
    }
  }, 600_000);
});
