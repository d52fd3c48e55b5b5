import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import type { StoredAnchor } from '../../../lib/audit/anchor';
import { AUDIT_STREAM, type AuditDeps, appendAuditEvent } from '../../../lib/audit/log';
import type { ChainVerification } from '../../../lib/audit/verify';
import { createLetheDeps } from '../../../lib/deps';
import { createLetheResources, LOCAL_RESOURCES } from '../../../lib/local/environment';
import { createLocalClients } from '../../../lib/local/servers';
import { silentLogger } from '../../../lib/log';
import { mockDeployedStack } from '../../helpers/aws-stack';
import { lethe } from '../../helpers/cli';
import { useLocalStores } from '../../helpers/stores';
import { simulateVersionedBuckets } from '../../helpers/versioned-s3';
import { EXAMPLE_DATAMAP_PATH, exampleDataMap, SEED_NOW } from '../../helpers/world';

/**
 * `lethe audit anchor|verify --target aws`: the stack is found through CloudFormation (mocked, as
 * it exists only on AWS); the audit table is a real dynalite and the audit bucket a versioned
 * bucket simulated in front of s3rver, as the stack's bucket is versioned: verification reads every
 * version of every anchor, so one written over or hidden behind a delete marker still counts.
 */
describe('lethe audit --target aws', () => {
  const local = useLocalStores({ stores: [] });
  const cloudFormation = mockClient(CloudFormationClient);
  const secrets = mockClient(SecretsManagerClient);
  const BUCKET = LOCAL_RESOURCES.auditBucket as string;
  let audit: AuditDeps;
  let versioned: ReturnType<typeof simulateVersionedBuckets>;
  let clients: ReturnType<typeof createLocalClients>;

  beforeAll(async () => {
    await createLetheResources(local.clients);
    clients = createLocalClients(local.servers);
    versioned = simulateVersionedBuckets(clients.s3, local.clients.s3, [BUCKET]);
    const deps = createLetheDeps({
      dataMap: exampleDataMap(),
      clients: local.clients,
      resources: LOCAL_RESOURCES,
      keys: { subjectHash: Buffer.alloc(32), mask: Buffer.alloc(32) },
      exportUrlTtlSeconds: 3600,
      now: () => SEED_NOW,
      log: silentLogger,
    });
    audit = { doc: deps.doc, auditTable: LOCAL_RESOURCES.auditTable, now: () => SEED_NOW };
    for (let index = 0; index < 6; index += 1)
      await appendAuditEvent(audit, { type: 'hold.placed', actor: 'desk', details: { index } });
  });

  afterAll(() => {
    versioned.remove();
    clients.dynamodb.destroy();
    clients.s3.destroy();
  });

  beforeEach(() => {
    cloudFormation.reset();
    secrets.reset();
    mockDeployedStack('Acme', cloudFormation, secrets);
  });

  const run = (...args: string[]) =>
    lethe(['audit', ...args, '--target', 'aws', '--stack', 'Acme', '--datamap', EXAMPLE_DATAMAP_PATH], {
      awsClients: {
        cloudFormation: new CloudFormationClient({}),
        secrets: new SecretsManagerClient({}),
        sfn: new SFNClient({}),
        dynamodb: local.clients.dynamodb,
        s3: clients.s3,
      },
    });

  it('anchors the head in the stack’s audit bucket and verifies the chain against every version of it', async () => {
    // act
    const anchored = await run('anchor', '--by', 'auditor', '--json');
    const verified = await run('verify', '--json');

    // assess
    expect({ code: anchored.code, err: anchored.err }).toEqual({ code: 0, err: '' });
    const anchor = JSON.parse(anchored.out) as StoredAnchor;
    expect(anchor).toMatchObject({ seq: 6, by: 'auditor' });
    expect(versioned.calls.ListObjectVersionsCommand).toBeGreaterThan(0);
    expect(JSON.parse(verified.out)).toMatchObject({ ok: true, anchors: { checked: 1 }, head: { seq: 6 } });
    expect(verified.code).toBe(0);
  });

  it('an anchor hidden behind a delete marker still binds the chain: a cut tail is found', async () => {
    // prepare
    const anchor = JSON.parse((await run('anchor', '--json')).out) as StoredAnchor;
    await clients.s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: anchor.key }));
    const key = { stream: AUDIT_STREAM, seq: anchor.seq };
    const head = (await audit.doc.send(new GetCommand({ TableName: audit.auditTable, Key: key }))).Item;
    await audit.doc.send(new DeleteCommand({ TableName: audit.auditTable, Key: key }));

    // act
    const verified = await run('verify', '--json');
    await audit.doc.send(new PutCommand({ TableName: audit.auditTable, Item: head }));

    // assess
    expect(verified.code).toBe(1);
    expect((JSON.parse(verified.out) as ChainVerification).problem).toMatchObject({
      kind: 'shorter-than-anchor',
      seq: anchor.seq,
      anchor: { key: anchor.key },
    });
  });

  it('an anchor written over keeps its first version: the forged one is named', async () => {
    // prepare: a new head anchored, then a forged version written over the anchor
    await appendAuditEvent(audit, { type: 'hold.released', actor: 'desk' });
    const anchor = JSON.parse((await run('anchor', '--json')).out) as StoredAnchor;
    await clients.s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: anchor.key,
        Body: JSON.stringify({ ...anchor, key: undefined, hash: 'e'.repeat(64) }),
      }),
    );

    // act
    const verified = await run('verify', '--json', '--from', String(anchor.seq));

    // assess
    expect(verified.code).toBe(1);
    const problem = (JSON.parse(verified.out) as ChainVerification).problem;
    expect(problem).toMatchObject({ kind: 'anchor-mismatch', seq: anchor.seq, anchor: { key: anchor.key } });
    expect(problem?.anchor?.versionId).not.toBe(
      (await versioned.versions(BUCKET, anchor.key)).at(-1)?.versionId,
    );
    expect(problem?.anchor?.hash).toBe('e'.repeat(64));
  });
});
