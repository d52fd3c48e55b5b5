import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { handler as verifyHandler } from '../../../lambdas/verify';
import { DATAMAP_FILE_ENV, LETHE_ENV, LetheConfigError, parseLetheConfig } from '../../../lib/aws/config';
import { bundledDataMap, createAwsDeps, resetContainerForTests } from '../../../lib/aws/deps';
import {
  hmacKeysFromSecretsManager,
  InvalidHmacSecretError,
  loadHmacKeys,
  parseHmacKeys,
  resetSecretsForTests,
} from '../../../lib/aws/secrets';
import { RequestNotFoundError } from '../../../lib/rights/errors';
import { adtechDataMap } from '../../helpers/stacks';

const ENV = {
  [LETHE_ENV.requestsTable]: 'requests',
  [LETHE_ENV.auditTable]: 'audit',
  [LETHE_ENV.holdsTable]: 'holds',
  [LETHE_ENV.manifestsBucket]: 'manifests',
  [LETHE_ENV.exportsBucket]: 'exports',
  [LETHE_ENV.kmsKeyId]: 'arn:aws:kms:eu-west-1:123456789012:key/abc',
};
const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:lethe-hmac-AbCdEf';
const base64Key = (fill: number) => Buffer.alloc(32, fill).toString('base64');

let scratch: string;
beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'lethe-deps-'));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The ad-tech data map as the JSON file the stack bundles with every function. */
function dataMapFile(): string {
  const file = join(scratch, 'datamap.json');
  writeFileSync(file, JSON.stringify(adtechDataMap()));
  return file;
}

const secrets = mockClient(SecretsManagerClient);
const documents = mockClient(DynamoDBDocumentClient);

beforeEach(() => {
  secrets.reset();
  documents.reset();
  resetContainerForTests();
  resetSecretsForTests();
});

describe('parseLetheConfig', () => {
  it('reads the resource names and defaults the rest', () => {
    const config = parseLetheConfig(ENV);
    expect(config).toEqual({
      resources: {
        requestsTable: 'requests',
        auditTable: 'audit',
        holdsTable: 'holds',
        manifestsBucket: 'manifests',
        exportsBucket: 'exports',
        kmsKeyId: ENV[LETHE_ENV.kmsKeyId],
      },
      exportUrlTtlSeconds: 86_400,
      logLevel: 'info',
    });
  });

  it.each([
    [{ ...ENV, [LETHE_ENV.requestsTable]: undefined }, LETHE_ENV.requestsTable],
    [{ ...ENV, [LETHE_ENV.exportUrlTtlSeconds]: 'a day' }, LETHE_ENV.exportUrlTtlSeconds],
    [{ ...ENV, [LETHE_ENV.exportUrlTtlSeconds]: String(8 * 86_400) }, LETHE_ENV.exportUrlTtlSeconds],
    [{ ...ENV, [LETHE_ENV.requestRecordDays]: '0' }, LETHE_ENV.requestRecordDays],
    [{ ...ENV, [LETHE_ENV.requestRecordDays]: 'two years' }, LETHE_ENV.requestRecordDays],
    [{ ...ENV, [LETHE_ENV.logLevel]: 'loud' }, LETHE_ENV.logLevel],
    [{ ...ENV, [LETHE_ENV.hmacSecretArn]: 'my-secret' }, LETHE_ENV.hmacSecretArn],
  ])('names the variable that is wrong (%#)', (env, variable) => {
    expect(() => parseLetheConfig(env)).toThrow(LetheConfigError);
    expect(() => parseLetheConfig(env)).toThrow(new RegExp(`: ${variable}: `));
  });
});

describe('HMAC keys', () => {
  it('reads explicit base64 keys', () => {
    const keys = parseHmacKeys(JSON.stringify({ subjectHash: base64Key(1), mask: base64Key(2) }));
    expect(keys.subjectHash.equals(Buffer.alloc(32, 1))).toBe(true);
    expect(keys.mask.equals(Buffer.alloc(32, 2))).toBe(true);
  });

  it('derives two different keys from the generated seed, the same every time', () => {
    const secret = JSON.stringify({ format: 'lethe-hmac-keys/v1', seed: 'x'.repeat(64) });
    const keys = parseHmacKeys(secret);
    expect(keys.subjectHash).toHaveLength(32);
    expect(keys.subjectHash.equals(keys.mask)).toBe(false);
    expect(parseHmacKeys(secret).subjectHash.equals(keys.subjectHash)).toBe(true);
  });

  it.each([
    'not json',
    JSON.stringify({ subjectHash: base64Key(1) }),
    JSON.stringify({ subjectHash: 'c2hvcnQ=', mask: base64Key(2) }),
    JSON.stringify({ seed: 'too short' }),
  ])('refuses a secret without usable keys (%#), never echoing it', (secret) => {
    expect(() => parseHmacKeys(secret)).toThrow(InvalidHmacSecretError);
    try {
      parseHmacKeys(secret);
    } catch (error) {
      expect((error as Error).message).not.toContain(base64Key(1));
    }
  });

  it('fetches the secret once however many callers, and again after a failure', async () => {
    // Prepare
    secrets
      .on(GetSecretValueCommand)
      .rejectsOnce(Object.assign(new Error('throttled'), { name: 'ThrottlingException' }))
      .resolves({ SecretString: JSON.stringify({ seed: 's'.repeat(64) }) });
    const client = new SecretsManagerClient({ region: 'eu-west-1' });

    // Act
    await expect(loadHmacKeys(client, SECRET_ARN)).rejects.toThrow('throttled');
    const [first, second] = await Promise.all([
      loadHmacKeys(client, SECRET_ARN),
      loadHmacKeys(client, SECRET_ARN),
    ]);

    // Assess
    expect(first).toBe(second);
    expect(secrets).toHaveReceivedCommandTimes(GetSecretValueCommand, 2);
  });
});

describe('createAwsDeps', () => {
  it('builds the deps from the environment and the bundled data map', async () => {
    // Prepare
    const dataMap = bundledDataMap(dataMapFile());

    // Act
    const { deps } = await createAwsDeps({ env: ENV, dataMap });

    // Assess
    expect(deps.resources.requestsTable).toBe('requests');
    expect(deps.dataMap.stores.map((store) => store.id)).toContain('clickstream');
    expect(deps.exportUrlTtlSeconds).toBe(86_400);
    expect(deps.requestRecordDays).toBeUndefined();
  });

  it('keeps ended requests as long as the stack says, when it says', async () => {
    // act
    const { deps } = await createAwsDeps({
      env: { ...ENV, [LETHE_ENV.requestRecordDays]: '1095' },
      dataMap: bundledDataMap(dataMapFile()),
    });

    // assess
    expect(deps.requestRecordDays).toBe(1095);
  });

  it('gives a function without the secret keys that say so when used', async () => {
    const { deps } = await createAwsDeps({ env: ENV, dataMap: adtechDataMap() });
    expect(() => deps.keys.subjectHash).toThrow(new RegExp(LETHE_ENV.hmacSecretArn));
  });

  it("loads the HMAC keys through the handler's capability", async () => {
    secrets.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ seed: 's'.repeat(64) }) });
    const { deps } = await createAwsDeps({
      env: { ...ENV, AWS_REGION: 'eu-west-1', [LETHE_ENV.hmacSecretArn]: SECRET_ARN },
      dataMap: adtechDataMap(),
      hmacKeys: hmacKeysFromSecretsManager,
    });
    expect(deps.keys.subjectHash).toHaveLength(32);
    expect(secrets).toHaveReceivedCommandWith(GetSecretValueCommand, { SecretId: SECRET_ARN });
  });

  it('refuses a secret its handler cannot load, naming the variable', async () => {
    await expect(
      createAwsDeps({ env: { ...ENV, [LETHE_ENV.hmacSecretArn]: SECRET_ARN }, dataMap: adtechDataMap() }),
    ).rejects.toThrow(new RegExp(`${LETHE_ENV.hmacSecretArn}.*hmacKeysFromSecretsManager`));
  });

  it('refuses to start without a bundled data map', () => {
    expect(() => bundledDataMap(join(scratch, 'missing.json'))).toThrow(LetheConfigError);
  });

  it('refuses to start with an invalid bundled data map, naming what is wrong', () => {
    const file = join(scratch, 'invalid.json');
    writeFileSync(file, JSON.stringify({ ...adtechDataMap(), stores: [{ id: 'x' }] }));
    expect(() => bundledDataMap(file)).toThrow(/invalid\.json[\s\S]*stores\[0\]/);
  });
});

describe('a step handler', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it('runs its step with deps built from the environment', async () => {
    // Prepare: the environment the stack sets, the data map as a file as the stack bundles it.
    Object.assign(process.env, ENV, {
      AWS_REGION: 'eu-west-1',
      [LETHE_ENV.hmacSecretArn]: SECRET_ARN,
      [DATAMAP_FILE_ENV]: dataMapFile(),
    });
    secrets.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ seed: 's'.repeat(64) }) });
    documents.on(GetCommand).resolves({});

    // Act + Assess: Verify reads the request record first; there is none.
    await expect(verifyHandler({ requestId: 'req-00000001' })).rejects.toThrow(RequestNotFoundError);
    expect(documents).toHaveReceivedCommandWith(GetCommand, {
      TableName: 'requests',
      Key: { requestId: 'req-00000001' },
    });
  });
});
