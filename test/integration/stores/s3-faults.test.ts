import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  type DeleteObjectsCommandInput,
  type DeleteObjectsCommandOutput,
  GetObjectCommand,
  type GetObjectCommandOutput,
  HeadObjectCommand,
  ListBucketsCommand,
  PutObjectCommand,
  type S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import type { LocalClients } from '../../../lib/local/servers';
import { EraseIncompleteError, ReadIncompleteError } from '../../../lib/stores/errors';
import { eraseInS3Store, locateInS3Store, readS3Records } from '../../../lib/stores/s3';
import {
  COOKIE_A,
  COOKIE_B,
  COOKIE_E,
  calls,
  clickstream,
  dataMap,
  line,
  useAdtechS3,
} from '../../helpers/adtech-s3';
import { listAll } from '../../helpers/stores';

function retryPolicy() {
  const slept: number[] = [];
  return {
    slept,
    policy: {
      maxAttempts: 5,
      baseDelayMs: 10,
      maxDelayMs: 100,
      sleep: async (ms: number) => {
        slept.push(ms);
      },
    },
  };
}

function s3Error(name: string, status: number): S3ServiceException {
  return new S3ServiceException({
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
    message: `${name} (injected)`,
  });
}

type Next = () => Promise<{ output: unknown }>;
type Interceptor = (
  command: string,
  input: Record<string, unknown>,
  next: Next,
) => Promise<{ output: unknown }>;

/**
 * Puts `interceptor` in front of every request of `client` (before the SDK's own retries), and
 * counts requests by command. Faults thrown here reach lethe's retry logic directly.
 */
function intercept(client: S3Client, interceptor?: Interceptor): Record<string, number> {
  const counts: Record<string, number> = {};
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = context.commandName ?? 'unknown';
      counts[command] = (counts[command] ?? 0) + 1;
      const input = args.input as Record<string, unknown>;
      const proceed = async () => next(args);
      if (!interceptor) return proceed();
      return (await interceptor(command, input, proceed)) as Awaited<ReturnType<typeof next>>;
    },
    { step: 'initialize', name: `intercept-${Math.random()}` },
  );
  return counts;
}

/**
 * s3rver ignores If-Match. This gives `client` the semantics S3 has: a GetObject, PutObject or
 * DeleteObject with IfMatch fails with 412 PreconditionFailed when the object's ETag differs (404 when
 * it is gone), checked against the real server through `raw`. `beforeCheck` runs first, so a test
 * can write to the object exactly between lethe's read and its conditional request.
 */
function enforceIfMatch(
  client: S3Client,
  raw: S3Client,
  beforeCheck?: (command: string, input: Record<string, unknown>) => Promise<void>,
): Record<string, number> {
  return intercept(client, async (command, input, next) => {
    if (!['GetObjectCommand', 'PutObjectCommand', 'DeleteObjectCommand'].includes(command)) return next();
    await beforeCheck?.(command, input);
    if (typeof input.IfMatch !== 'string') return next();
    let etag: string | undefined;
    try {
      etag = (
        await raw.send(new HeadObjectCommand({ Bucket: input.Bucket as string, Key: input.Key as string }))
      ).ETag;
    } catch {
      throw s3Error('NoSuchKey', 404);
    }
    if (etag !== input.IfMatch) throw s3Error('PreconditionFailed', 412);
    return next();
  });
}

/**
 * Runs a DeleteObjects request as S3 would if `failures` (key → error code) failed this time: the
 * other keys are really deleted, the failed ones stay and come back in `Errors`.
 */
async function deleteFailing(
  input: Record<string, unknown>,
  next: Next,
  failures: Map<string, string>,
): Promise<{ output: unknown }> {
  const request = input as unknown as DeleteObjectsCommandInput;
  const objects = request.Delete?.Objects ?? [];
  const errors = objects
    .filter((object) => failures.has(object.Key as string))
    .map((object) => ({ Key: object.Key, Code: failures.get(object.Key as string), Message: 'injected' }));
  const rest = objects.filter((object) => !failures.has(object.Key as string));
  // s3rver rejects an empty Delete list; S3 would have answered with the errors alone
  if (rest.length === 0) return { output: { $metadata: {}, Errors: errors } };
  request.Delete = { ...request.Delete, Objects: rest };
  const result = await next();
  (result.output as DeleteObjectsCommandOutput).Errors = errors;
  return result;
}

/** Passes a body through until `limit` bytes, then fails the way a reset connection does. */
async function* resetAfter(source: AsyncIterable<Uint8Array>, limit: number): AsyncGenerator<Uint8Array> {
  let seen = 0;
  for await (const chunk of source) {
    yield chunk;
    seen += chunk.length;
    if (seen >= limit) throw Object.assign(new Error('aborted (injected)'), { code: 'ECONNRESET' });
  }
}

/** A JSON-lines file of about 8 MB (past one 5 MiB upload part after filtering), every 10th line the subject's. */
function largeLinesFile(subject: string): string {
  return Array.from(
    { length: 70_000 },
    (_, i) =>
      `${JSON.stringify({ cookieId: i % 10 === 0 ? subject : COOKIE_B, ts: i, url: `/page/${i}`, ref: 'https://example.test/campaign' })}\n`,
  ).join('');
}

// -----------------------------------------------------------------------------------------------

async function getText(s3: S3Client, bucket: string, key: string): Promise<string> {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return object.Body!.transformToString('utf8');
}

/** Every object of every bucket: sha256 of the body, content type and user metadata. */
async function snapshot(s3: S3Client): Promise<Map<string, string>> {
  const result = new Map<string, string>();
  for (const bucket of (await s3.send(new ListBucketsCommand({}))).Buckets ?? []) {
    const keys = await listAll(s3, bucket.Name as string);
    for (let i = 0; i < keys.length; i += 32) {
      await Promise.all(
        keys.slice(i, i + 32).map(async (key) => {
          const object = await s3.send(new GetObjectCommand({ Bucket: bucket.Name, Key: key }));
          const body = Buffer.from(await object.Body!.transformToByteArray());
          const digest = createHash('sha256').update(body).digest('hex');
          result.set(`${bucket.Name}/${key}`, JSON.stringify([digest, object.ContentType, object.Metadata]));
        }),
      );
    }
  }
  return result;
}

/** Everything but `changed` (bucket/key) is as it was, and nothing appeared. */
function expectUntouchedExcept(before: Map<string, string>, after: Map<string, string>, changed: string[]) {
  const skip = new Set(changed);
  const strip = (map: Map<string, string>) => [...map].filter(([key]) => !skip.has(key)).sort();
  expect(strip(after)).toEqual(strip(before));
}

async function seedObjects(s3: S3Client, keys: string[]): Promise<void> {
  for (let i = 0; i < keys.length; i += 100) {
    await Promise.all(
      keys
        .slice(i, i + 100)
        .map((key) =>
          s3.send(new PutObjectCommand({ Bucket: calls.bucket, Key: key, Body: `audio of ${key}` })),
        ),
    );
  }
}

async function seedLines(s3: S3Client, key: string, text: string): Promise<void> {
  await s3.send(
    new PutObjectCommand({
      Bucket: clickstream.bucket,
      Key: key,
      Body: text,
      ContentType: 'application/x-ndjson',
      Metadata: { writer: 'adserver-3' },
    }),
  );
}

/** A concurrent writer: appends a line to the object through the raw client. */
async function appendLine(raw: S3Client, key: string, text: string): Promise<void> {
  const current = await getText(raw, clickstream.bucket, key);
  await seedLines(raw, key, `${current}${text}\n`);
}

const phoneKeys = (phone: string, count: number) =>
  Array.from({ length: count }, (_, i) => `calls/${phone}/${String(i).padStart(5, '0')}.wav`);

/** The subject's located lines in one clickstream object: what a rewrite test erases. */
async function locatedLinesIn(clients: LocalClients, key: string, cookieId: string) {
  const location = await locateInS3Store(
    clickstream,
    [{ type: 'cookieId', value: cookieId }],
    clients,
    dataMap,
  );
  return location.records.filter((record) => record.key === key);
}

describe('S3 store adapter under injected faults (s3rver)', () => {
  const s3 = useAdtechS3();
  let raw: LocalClients;
  let faulty: LocalClients;

  beforeAll(async () => {
    raw = s3.raw;
    await seedObjects(raw.s3, ['calls/+4930000009/keep.wav', 'calls/+49300000091/keep.wav']);
    // the subject's line outside the rule's prefix: never touched
    await seedLines(raw.s3, 'archive/bystander.jsonl', `${line(COOKIE_A, 0)}\n`);
  });

  beforeEach(() => {
    faulty = s3.clients;
  });

  describe('DeleteObjects', () => {
    it('retries keys reported in Errors (InternalError, SlowDown) until every one is gone', async () => {
      // prepare
      const keys = phoneKeys('+4930000001', 30);
      await seedObjects(raw.s3, keys);
      const failing = keys.filter((_, i) => i % 5 === 0);
      const sentKeys: string[][] = [];
      const counts = intercept(faulty.s3, async (command, input, next) => {
        if (command !== 'DeleteObjectsCommand') return next();
        const request = input as unknown as DeleteObjectsCommandInput;
        sentKeys.push((request.Delete?.Objects ?? []).map((object) => object.Key as string));
        // attempt 1: InternalError on six keys; attempt 2: SlowDown on three; attempt 3: all succeed
        const attempt = sentKeys.length;
        const fail = attempt === 1 ? failing : attempt === 2 ? failing.slice(0, 3) : [];
        return deleteFailing(
          input,
          next,
          new Map(fail.map((key) => [key, attempt === 1 ? 'InternalError' : 'SlowDown'])),
        );
      });
      const { slept, policy } = retryPolicy();
      const before = await snapshot(raw.s3);
      const location = await locateInS3Store(
        calls,
        [{ type: 'phone', value: '+4930000001' }],
        faulty,
        dataMap,
      );
      // act
      const erasure = await eraseInS3Store(calls, location.records, faulty, {
        hmacKey: Buffer.alloc(1),
        retry: policy,
      });
      // assess
      expect(erasure).toMatchObject({ erased: 30, failed: 0 });
      expect(counts.DeleteObjectsCommand).toBe(3);
      expect(sentKeys[1]).toEqual(failing);
      expect(sentKeys[2]).toEqual(failing.slice(0, 3));
      expect(slept).toHaveLength(2);
      expect(await listAll(raw.s3, calls.bucket, 'calls/+4930000001/')).toEqual([]);
      expectUntouchedExcept(
        before,
        await snapshot(raw.s3),
        keys.map((key) => `${calls.bucket}/${key}`),
      );
    });

    it('retries a throttled call (503 SlowDown) with backoff', async () => {
      // prepare
      const keys = phoneKeys('+4930000002', 12);
      await seedObjects(raw.s3, keys);
      let throttled = 0;
      const counts = intercept(faulty.s3, async (command, _input, next) => {
        if (command === 'DeleteObjectsCommand' && throttled < 2) {
          throttled += 1;
          throw s3Error('SlowDown', 503);
        }
        return next();
      });
      const { slept, policy } = retryPolicy();
      const before = await snapshot(raw.s3);
      const location = await locateInS3Store(
        calls,
        [{ type: 'phone', value: '+4930000002' }],
        faulty,
        dataMap,
      );
      // act
      const erasure = await eraseInS3Store(calls, location.records, faulty, {
        hmacKey: Buffer.alloc(1),
        retry: policy,
      });
      // assess
      expect(erasure).toMatchObject({ erased: 12, failed: 0 });
      expect(counts.DeleteObjectsCommand).toBe(3);
      expect(slept).toHaveLength(2);
      expect(slept.every((ms) => ms >= 0 && ms <= 100)).toBe(true);
      expect(await listAll(raw.s3, calls.bucket, 'calls/+4930000002/')).toEqual([]);
      expectUntouchedExcept(
        before,
        await snapshot(raw.s3),
        keys.map((key) => `${calls.bucket}/${key}`),
      );
    });

    it('raises EraseIncompleteError with the failed keys, and no key in the message, when retries run out', async () => {
      // prepare
      const keys = phoneKeys('+4930000003', 20);
      await seedObjects(raw.s3, keys);
      const stuck = keys[7] as string;
      const counts = intercept(faulty.s3, async (command, input, next) => {
        if (command !== 'DeleteObjectsCommand') return next();
        return deleteFailing(input, next, new Map([[stuck, 'InternalError']]));
      });
      const { policy } = retryPolicy();
      const before = await snapshot(raw.s3);
      const location = await locateInS3Store(
        calls,
        [{ type: 'phone', value: '+4930000003' }],
        faulty,
        dataMap,
      );
      // act
      const attempt = eraseInS3Store(calls, location.records, faulty, {
        hmacKey: Buffer.alloc(1),
        retry: policy,
      });
      // assess
      const error = (await attempt.catch((caught: unknown) => caught)) as EraseIncompleteError;
      expect(error).toBeInstanceOf(EraseIncompleteError);
      expect(error).toMatchObject({
        name: 'EraseIncompleteError',
        storeId: 'call-recordings',
        failedKeys: [stuck],
      });
      expect(error.message).toMatch(/1 of 20/);
      expect(error.message).not.toMatch(/\+?4930000003|calls\/|\.wav/);
      expect(counts.DeleteObjectsCommand).toBe(policy.maxAttempts);
      expect(await listAll(raw.s3, calls.bucket, 'calls/+4930000003/')).toEqual([stuck]);
      expectUntouchedExcept(
        before,
        await snapshot(raw.s3),
        keys.filter((key) => key !== stuck).map((key) => `${calls.bucket}/${key}`),
      );
    });

    it('does not retry a key that failed for good (AccessDenied)', async () => {
      // prepare
      const keys = phoneKeys('+4930000004', 3);
      await seedObjects(raw.s3, keys);
      const denied = keys[0] as string;
      const counts = intercept(faulty.s3, async (command, input, next) => {
        if (command !== 'DeleteObjectsCommand') return next();
        return deleteFailing(input, next, new Map([[denied, 'AccessDenied']]));
      });
      const location = await locateInS3Store(
        calls,
        [{ type: 'phone', value: '+4930000004' }],
        faulty,
        dataMap,
      );
      // act
      const attempt = eraseInS3Store(calls, location.records, faulty, {
        hmacKey: Buffer.alloc(1),
        retry: retryPolicy().policy,
      });
      // assess
      await expect(attempt).rejects.toMatchObject({ name: 'EraseIncompleteError', failedKeys: [denied] });
      expect(counts.DeleteObjectsCommand).toBe(1);
    });
  });

  describe('read', () => {
    it('resumes an export after a reset read without repeating or skipping a line', async () => {
      // prepare
      const key = 'clicks/export-reset.jsonl';
      const lines = Array.from({ length: 3_000 }, (_, i) =>
        JSON.stringify({ cookieId: i % 10 === 0 ? COOKIE_A : COOKIE_B, ts: i, pad: 'p'.repeat(40) }),
      );
      await seedLines(raw.s3, key, `${lines.join('\n')}\n`);
      const records = await locatedLinesIn(raw, key, COOKIE_A);
      let reads = 0;
      intercept(faulty.s3, async (command, _input, next) => {
        const result = await next();
        if (command === 'GetObjectCommand' && reads++ === 0) {
          const output = result.output as GetObjectCommandOutput;
          const body = output.Body as unknown as AsyncIterable<Uint8Array>;
          output.Body = Readable.from(
            resetAfter(body, 64 * 1024),
          ) as unknown as GetObjectCommandOutput['Body'];
        }
        return result;
      });
      // act
      const exported: string[] = [];
      for await (const record of readS3Records(clickstream, records, faulty, dataMap)) {
        exported.push(record.key as string);
      }
      // assess
      expect(reads).toBe(2);
      expect(exported).toEqual(Array.from({ length: 300 }, (_, i) => `${key}#L${i * 10 + 1}`));
    });

    it('yields what it can, then raises ReadIncompleteError naming the unreadable objects', async () => {
      // prepare
      const phone = '+4930000077';
      const keys = phoneKeys(phone, 3);
      await seedObjects(raw.s3, keys);
      const location = await locateInS3Store(calls, [{ type: 'phone', value: phone }], raw, dataMap);
      intercept(faulty.s3, async (command, input, next) => {
        if (command === 'GetObjectCommand' && input.Key === keys[1]) throw s3Error('AccessDenied', 403);
        return next();
      });
      // act
      const exported: string[] = [];
      let failure: unknown;
      try {
        for await (const record of readS3Records(calls, location.records, faulty, dataMap)) {
          exported.push(record.key as string);
        }
      } catch (error) {
        failure = error;
      }
      // assess
      expect(exported.sort()).toEqual([keys[0], keys[2]]);
      expect(failure).toBeInstanceOf(ReadIncompleteError);
      expect(failure).toMatchObject({ storeId: 'call-recordings', failedKeys: [keys[1]] });
      expect((failure as Error).message).not.toContain(phone);
    });
  });

  describe('cost', () => {
    it.each([
      [1, 1],
      [1000, 1],
      [1001, 2],
    ])('erasing %i objects issues %i DeleteObjects call(s)', async (count, calls_) => {
      // prepare
      const phone = `+49400000${String(count).padStart(4, '0')}`;
      const keys = phoneKeys(phone, count);
      await seedObjects(raw.s3, keys);
      const counts = intercept(faulty.s3);
      const location = await locateInS3Store(calls, [{ type: 'phone', value: phone }], faulty, dataMap);
      // act
      const erasure = await eraseInS3Store(calls, location.records, faulty, { hmacKey: Buffer.alloc(1) });
      // assess
      expect(erasure.erased).toBe(count);
      expect(counts.DeleteObjectsCommand).toBe(calls_);
      // locate's listing, and one more to see whether the emptied folder has a marker left
      expect(counts.ListObjectsV2Command).toBe(Math.ceil(count / 1000) + 1);
      expect(await listAll(raw.s3, calls.bucket, `calls/${phone}/`)).toEqual([]);
    });

    it('rewrites a small object with one read and one write, a large one with two reads and one write', async () => {
      // prepare
      await seedLines(raw.s3, 'clicks/cost-small.jsonl', `${line(COOKIE_A, 1)}\n${line(COOKIE_B, 2)}\n`);
      await seedLines(raw.s3, 'clicks/cost-large.jsonl', `${line(COOKIE_A, 1)}\n${line(COOKIE_B, 2)}\n`);
      const location = await locateInS3Store(
        clickstream,
        [{ type: 'cookieId', value: COOKIE_A }],
        raw,
        dataMap,
      );
      const small = location.records.filter((record) => record.key === 'clicks/cost-small.jsonl');
      const large = location.records.filter((record) => record.key === 'clicks/cost-large.jsonl');
      const counts = intercept(faulty.s3);
      // act
      await eraseInS3Store(clickstream, small, faulty, { hmacKey: Buffer.alloc(1) }, dataMap);
      const afterSmall = { ...counts };
      await eraseInS3Store(
        clickstream,
        large,
        faulty,
        { hmacKey: Buffer.alloc(1), rewriteBufferLimitBytes: 0 },
        dataMap,
      );
      // assess
      // one GetBucketVersioning per erasure: versioned buckets are erased version by version
      expect(afterSmall).toEqual({ GetBucketVersioningCommand: 1, GetObjectCommand: 1, PutObjectCommand: 1 });
      expect(counts).toEqual({ GetBucketVersioningCommand: 2, GetObjectCommand: 3, PutObjectCommand: 2 });
      expect(await getText(raw.s3, clickstream.bucket, 'clicks/cost-large.jsonl')).toBe(
        `${line(COOKIE_B, 2)}\n`,
      );
    });
  });

  describe('conditional rewrite', () => {
    it('s3rver itself ignores If-Match (why the tests below emulate S3)', async () => {
      // prepare
      await seedLines(raw.s3, 'clicks/ifmatch.jsonl', 'one\n');
      // act
      const put = raw.s3.send(
        new PutObjectCommand({
          Bucket: clickstream.bucket,
          Key: 'clicks/ifmatch.jsonl',
          Body: 'two\n',
          IfMatch: '"0"',
        }),
      );
      // assess
      await expect(put).resolves.toBeDefined();
      expect(await getText(raw.s3, clickstream.bucket, 'clicks/ifmatch.jsonl')).toBe('two\n');
    });

    it('re-reads on 412 and keeps the line a concurrent writer added between read and write', async () => {
      // prepare
      const key = 'clicks/concurrent.jsonl';
      await seedLines(raw.s3, key, `${line(COOKIE_B, 1)}\n${line(COOKIE_A, 2)}\n${line(COOKIE_B, 3)}\n`);
      const records = await locatedLinesIn(raw, key, COOKIE_A);
      let raced = false;
      const counts = enforceIfMatch(faulty.s3, raw.s3, async (command) => {
        if (command === 'PutObjectCommand' && !raced) {
          raced = true;
          // someone else's click, and one more of the subject's, land after lethe's read
          await appendLine(raw.s3, key, line(COOKIE_E, 4));
          await appendLine(raw.s3, key, line(COOKIE_A, 5));
        }
      });
      const before = await snapshot(raw.s3);
      // act
      const erasure = await eraseInS3Store(
        clickstream,
        records,
        faulty,
        { hmacKey: Buffer.alloc(1), retry: retryPolicy().policy },
        dataMap,
      );
      // assess
      expect(counts.PutObjectCommand).toBe(2);
      expect(erasure).toMatchObject({ erased: 2, failed: 0, skipped: 0 });
      expect(await getText(raw.s3, clickstream.bucket, key)).toBe(
        `${line(COOKIE_B, 1)}\n${line(COOKIE_B, 3)}\n${line(COOKIE_E, 4)}\n`,
      );
      const head = await raw.s3.send(new HeadObjectCommand({ Bucket: clickstream.bucket, Key: key }));
      expect(head).toMatchObject({ ContentType: 'application/x-ndjson', Metadata: { writer: 'adserver-3' } });
      expectUntouchedExcept(before, await snapshot(raw.s3), [`${clickstream.bucket}/${key}`]);
    });

    it('detects a write between the two reads of a large rewrite, even where If-Match is ignored', async () => {
      // prepare: no emulation, so only lethe's own ETag comparison can notice
      const key = 'clicks/concurrent-large.jsonl';
      await seedLines(raw.s3, key, `${line(COOKIE_A, 1)}\n${line(COOKIE_B, 2)}\n`);
      const records = await locatedLinesIn(raw, key, COOKIE_A);
      let reads = 0;
      intercept(faulty.s3, async (command, _input, next) => {
        if (command === 'GetObjectCommand' && ++reads === 2) await appendLine(raw.s3, key, line(COOKIE_E, 3));
        return next();
      });
      // act
      const erasure = await eraseInS3Store(
        clickstream,
        records,
        faulty,
        { hmacKey: Buffer.alloc(1), retry: retryPolicy().policy, rewriteBufferLimitBytes: 0 },
        dataMap,
      );
      // assess
      expect(erasure).toMatchObject({ erased: 1, failed: 0 });
      expect(reads).toBe(4);
      expect(await getText(raw.s3, clickstream.bucket, key)).toBe(
        `${line(COOKIE_B, 2)}\n${line(COOKIE_E, 3)}\n`,
      );
    });

    it('does not delete an emptied object that a concurrent writer has just added to', async () => {
      // prepare
      const key = 'clicks/only-subject.jsonl';
      await seedLines(raw.s3, key, `${line(COOKIE_A, 1)}\n${line(COOKIE_A, 2)}\n`);
      const records = await locatedLinesIn(raw, key, COOKIE_A);
      let raced = false;
      const counts = enforceIfMatch(faulty.s3, raw.s3, async (command) => {
        if (command === 'DeleteObjectCommand' && !raced) {
          raced = true;
          await appendLine(raw.s3, key, line(COOKIE_E, 3));
        }
      });
      // act
      const erasure = await eraseInS3Store(
        clickstream,
        records,
        faulty,
        { hmacKey: Buffer.alloc(1), retry: retryPolicy().policy },
        dataMap,
      );
      // assess
      expect(counts).toMatchObject({ DeleteObjectCommand: 1, PutObjectCommand: 1 });
      expect(erasure).toMatchObject({ erased: 2, failed: 0 });
      expect(await getText(raw.s3, clickstream.bucket, key)).toBe(`${line(COOKIE_E, 3)}\n`);
    });

    it('never leaves a partial object when the streaming read fails half way (retries, then gives up)', async () => {
      // prepare: every second read of the large path resets after 6.3 MiB, once one upload part went out
      const key = 'clicks/large-reset.jsonl';
      const original = largeLinesFile(COOKIE_A);
      await seedLines(raw.s3, key, original);
      const records = await locatedLinesIn(raw, key, COOKIE_A);
      const counts = intercept(faulty.s3, async (command, input, next) => {
        const result = await next();
        if (command === 'GetObjectCommand' && typeof input.IfMatch === 'string') {
          const output = result.output as GetObjectCommandOutput;
          const body = output.Body as unknown as AsyncIterable<Uint8Array>;
          output.Body = Readable.from(
            resetAfter(body, 6.3 * 1024 * 1024),
          ) as unknown as GetObjectCommandOutput['Body'];
        }
        return result;
      });
      const { policy } = retryPolicy();
      const before = await snapshot(raw.s3);
      // act
      const attempt = eraseInS3Store(
        clickstream,
        records,
        faulty,
        { hmacKey: Buffer.alloc(1), retry: policy, rewriteBufferLimitBytes: 0 },
        dataMap,
      );
      // assess
      await expect(attempt).rejects.toMatchObject({ name: 'EraseIncompleteError', failedKeys: [key] });
      expect(counts.UploadPartCommand ?? 0).toBeGreaterThan(0);
      expect(counts.CompleteMultipartUploadCommand ?? 0).toBe(0);
      expect(counts.GetObjectCommand).toBe(2 * policy.maxAttempts);
      expect(await getText(raw.s3, clickstream.bucket, key)).toBe(original);
      expectUntouchedExcept(before, await snapshot(raw.s3), []);
    });

    it('streams a large rewrite through a multipart upload and recovers from a reset read', async () => {
      // prepare
      const key = 'clicks/large-once.jsonl';
      const original = largeLinesFile(COOKIE_A);
      await seedLines(raw.s3, key, original);
      const records = await locatedLinesIn(raw, key, COOKIE_A);
      let resets = 0;
      const counts = intercept(faulty.s3, async (command, input, next) => {
        const result = await next();
        if (command === 'GetObjectCommand' && typeof input.IfMatch === 'string' && resets++ === 0) {
          const output = result.output as GetObjectCommandOutput;
          const body = output.Body as unknown as AsyncIterable<Uint8Array>;
          output.Body = Readable.from(
            resetAfter(body, 6.3 * 1024 * 1024),
          ) as unknown as GetObjectCommandOutput['Body'];
        }
        return result;
      });
      const before = await snapshot(raw.s3);
      // act
      const erasure = await eraseInS3Store(
        clickstream,
        records,
        faulty,
        { hmacKey: Buffer.alloc(1), retry: retryPolicy().policy, rewriteBufferLimitBytes: 0 },
        dataMap,
      );
      // assess
      expect(erasure).toMatchObject({ erased: 7_000, failed: 0 });
      expect(counts.CompleteMultipartUploadCommand).toBe(1);
      const expected = original
        .split('\n')
        .filter((entry) => !entry.includes(COOKIE_A))
        .join('\n');
      expect(await getText(raw.s3, clickstream.bucket, key)).toBe(expected);
      const head = await raw.s3.send(new HeadObjectCommand({ Bucket: clickstream.bucket, Key: key }));
      expect(head).toMatchObject({ ContentType: 'application/x-ndjson', Metadata: { writer: 'adserver-3' } });
      expectUntouchedExcept(before, await snapshot(raw.s3), [`${clickstream.bucket}/${key}`]);
    });

    it('gives up after bounded attempts when every write loses the race', async () => {
      // prepare
      const key = 'clicks/hot.jsonl';
      await seedLines(raw.s3, key, `${line(COOKIE_A, 1)}\n${line(COOKIE_B, 2)}\n`);
      const records = await locatedLinesIn(raw, key, COOKIE_A);
      let writes = 0;
      const counts = enforceIfMatch(faulty.s3, raw.s3, async (command) => {
        if (command === 'PutObjectCommand') await appendLine(raw.s3, key, line(COOKIE_E, 100 + writes++));
      });
      const { policy } = retryPolicy();
      // act
      const attempt = eraseInS3Store(
        clickstream,
        records,
        faulty,
        { hmacKey: Buffer.alloc(1), retry: policy },
        dataMap,
      );
      // assess
      const error = (await attempt.catch((caught: unknown) => caught)) as EraseIncompleteError;
      expect(error).toBeInstanceOf(EraseIncompleteError);
      expect(error.failedKeys).toEqual([key]);
      expect(error.message).not.toContain('hot.jsonl');
      expect(error.message).not.toContain(COOKIE_A);
      expect(counts.PutObjectCommand).toBe(policy.maxAttempts);
      // nothing was overwritten: every concurrent line is still there
      const text = await getText(raw.s3, clickstream.bucket, key);
      expect(text.split('\n').filter((entry) => entry.includes(COOKIE_E))).toHaveLength(policy.maxAttempts);
    });
  });
});
