import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { S3Store } from '../../../lib/datamap/schema';
import { type LocalEnvironment, openLocalEnvironment } from '../../../lib/local/environment';
import { silentLogger } from '../../../lib/log';
import { submitRequest, type WorkflowStarter } from '../../../lib/rights/submit';
import { createRequestSteps } from '../../../lib/workflow/request-step-set';
import { EXAMPLE_DATAMAP_PATH, SEED_NOW } from '../../helpers/world';
import { unzip } from '../../helpers/zip';

/**
 * An export streams each object's body into the zip: the body is never materialised (no
 * transformToByteArray, transformToString or base64 of it), and a body cut short is resumed where
 * it stopped, so the file in the package is the object byte for byte.
 */

const noExecution: WorkflowStarter = {
  start: async ({ requestId }) => ({ executionId: requestId, alreadyStarted: false }),
};

const PHONE = '+4930123456';
const RECORDING_KEY = `calls/${PHONE}/2026-10-01-call.wav`;

type Body = Readable & Record<string, unknown>;

describe('exporting object bodies', () => {
  let stateDir: string;
  let env: LocalEnvironment;
  let bucket: string;
  const recording = randomBytes(3 * 1024 * 1024 + 17);
  /** What the test does to each GetObject body of the recordings bucket. */
  let onBody: (body: Body, input: { Range?: string }) => Body = (body) => body;
  const materialised: string[] = [];
  const ranges: (string | undefined)[] = [];

  beforeAll(async () => {
    stateDir = mkdtempSync(join(tmpdir(), 'lethe-export-stream-'));
    env = await openLocalEnvironment({
      stateDir,
      dataMapPath: EXAMPLE_DATAMAP_PATH,
      init: true,
      now: () => SEED_NOW,
      log: silentLogger,
    });
    bucket = (env.dataMap.stores.find((store) => store.id === 'call-recordings') as S3Store).bucket;
    await env.clients.s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: RECORDING_KEY, Body: recording, ContentType: 'audio/wav' }),
    );
    env.clients.s3.middlewareStack.add(
      (next, context) => async (args) => {
        const result = await next(args);
        const output = result.output as { Body?: Body };
        const input = args.input as { Bucket?: string; Range?: string };
        if (context.commandName !== 'GetObjectCommand' || input.Bucket !== bucket || !output.Body)
          return result;
        ranges.push(input.Range);
        const body = onBody(output.Body, input);
        // Materialising the body (whole, into memory) is what exporting must never do.
        for (const method of ['transformToByteArray', 'transformToString', 'transformToWebStream']) {
          body[method] = () => {
            materialised.push(method);
            throw new Error(`the export called ${method} on an object body`);
          };
        }
        output.Body = body;
        return result;
      },
      { step: 'initialize', name: 'guardObjectBodies' },
    );
  });

  afterAll(async () => {
    await env?.close();
    rmSync(stateDir, { recursive: true, force: true });
  });

  /** An access request for the phone number, run step by step; the recording's file in the package. */
  async function exportRecording(): Promise<Buffer | undefined> {
    const steps = createRequestSteps(env.deps);
    const { requestId } = await submitRequest(env.deps, noExecution, {
      type: 'access',
      subject: [{ type: 'phone', value: PHONE }],
      jurisdiction: 'gdpr',
      verification: { method: 'email-confirmation', verifiedBy: 'privacy-desk' },
    });
    await steps.verify({ requestId, attempt: 1 });
    const { stores } = (await steps.resolve({ requestId, attempt: 1 })) as { stores: string[] };
    const located = [];
    for (const storeId of stores) located.push(await steps.locateStore({ requestId, storeId }));
    const result = (await steps.exportPackage({ requestId, located })) as { exportKey: string };
    const zip = await env.clients.s3.send(
      new GetObjectCommand({ Bucket: env.deps.resources.exportsBucket, Key: result.exportKey }),
    );
    const files = await unzip(
      Buffer.from(
        await (zip.Body as Readable & { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
      ),
    );
    return files.get(`files/call-recordings/${RECORDING_KEY}`);
  }

  it('streams a recording into the package without materialising its body', async () => {
    // prepare
    onBody = (body) => body;
    materialised.length = 0;
    ranges.length = 0;

    // act
    const file = await exportRecording();

    // assess
    expect(materialised).toEqual([]);
    expect(ranges).toEqual([undefined]);
    expect(file?.equals(recording)).toBe(true);
  });

  it('resumes a body cut short from the byte it stopped at', async () => {
    // prepare: the first body breaks after 1 MiB with a connection reset
    let cut = false;
    onBody = (body) => {
      if (cut) return body;
      cut = true;
      const broken = new PassThrough() as unknown as Body;
      let passed = 0;
      body.on('data', (chunk: Buffer) => {
        if (passed >= 1024 * 1024) return;
        const part = chunk.subarray(0, 1024 * 1024 - passed);
        passed += part.length;
        (broken as unknown as PassThrough).write(part);
        if (passed >= 1024 * 1024) {
          body.destroy();
          (broken as unknown as PassThrough).destroy(
            Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
          );
        }
      });
      return broken;
    };
    materialised.length = 0;
    ranges.length = 0;

    // act
    const file = await exportRecording();

    // assess: one ranged GET from what had arrived, and the file whole
    expect(materialised).toEqual([]);
    expect(ranges).toEqual([undefined, expect.stringMatching(/^bytes=\d+-$/)]);
    const resumedAt = Number(/\d+/.exec(ranges[1] ?? '')?.[0]);
    expect(resumedAt).toBeGreaterThan(0);
    expect(resumedAt).toBeLessThanOrEqual(1024 * 1024);
    expect(file?.length).toBe(recording.length);
    expect(file?.equals(recording)).toBe(true);
  });
});
