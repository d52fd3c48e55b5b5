import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { generateShopSeed } from '../../../examples/shop/seed';
import { type CheckReport, checkStores } from '../../../lib/check';
import { loadDataMap } from '../../../lib/datamap/load';
import { createLetheResources, LOCAL_RESOURCES } from '../../../lib/local/environment';
import { importSeed } from '../../../lib/local/import';
import { mockDeployedStack } from '../../helpers/aws-stack';
import { lethe } from '../../helpers/cli';
import { snapshotEverything } from '../../helpers/snapshot';
import { scanAll, useLocalStores } from '../../helpers/stores';
import { SEED_NOW } from '../../helpers/world';

const DATAMAP_PATH = 'examples/shop/datamap.yaml';

/**
 * `lethe check --target aws`: the stack is found as every aws command finds it (CloudFormation and
 * Secrets Manager exist only on AWS and are mocked); the company's tables and buckets are a real
 * dynalite and s3rver holding the shop example, read by the same domain code as locally.
 */
describe('lethe check --target aws', () => {
  const dataMap = loadDataMap(DATAMAP_PATH);
  const local = useLocalStores(dataMap);
  const cloudFormation = mockClient(CloudFormationClient);
  const secrets = mockClient(SecretsManagerClient);
  const seed = generateShopSeed({ customers: 20, seed: 11, now: SEED_NOW });

  beforeAll(async () => {
    await createLetheResources(local.clients);
    await importSeed(dataMap, seed, local.clients);
  });

  beforeEach(() => {
    cloudFormation.reset();
    secrets.reset();
    mockDeployedStack('Acme', cloudFormation, secrets);
  });

  const check = (...extra: string[]) =>
    lethe(['check', '--target', 'aws', '--stack', 'Acme', '--datamap', DATAMAP_PATH, ...extra], {
      awsClients: {
        cloudFormation: new CloudFormationClient({}),
        secrets: new SecretsManagerClient({}),
        sfn: new SFNClient({}),
        ...local.clients,
      },
    });

  it("reads the deployed stack's stores with the same domain code, exits 1 on the legacy rows, changes no store and keeps the counts in the stack's requests table", async () => {
    // prepare
    const expected = await checkStores({ dataMap, clients: local.clients });
    const before = await snapshotEverything(local.clients);

    // act
    const run = await check('--json');

    // assess
    expect({ code: run.code, err: run.err }).toEqual({ code: 1, err: '' });
    expect(JSON.parse(run.out) as CheckReport).toEqual(expected);
    expect(expected.wouldMiss).toBe(seed.customers.filter((c) => c.storedEmail !== c.email).length);
    expect(cloudFormation).toHaveReceivedCommandWith(DescribeStacksCommand, { StackName: 'Acme-Stateful' });
    const after = await snapshotEverything(local.clients);
    const companyEntries = (snapshot: Map<string, string>) =>
      [...snapshot].filter(([key]) => !key.startsWith(`table ${LOCAL_RESOURCES.requestsTable}`));
    expect(companyEntries(after)).toEqual(companyEntries(before));
    const findings = (await scanAll(local.clients.dynamodb, LOCAL_RESOURCES.requestsTable)).map(
      (item) => item.requestId?.S,
    );
    expect(findings.sort()).toEqual(dataMap.stores.map((store) => `check#${store.id}`).sort());
  });

  it('names the stack when it is not deployed', async () => {
    // prepare
    cloudFormation.on(DescribeStacksCommand, { StackName: 'Acme-Stateful' }).resolves({ Stacks: [] });

    // act
    const run = await check('--store', 'orders');

    // assess
    expect(run.code).toBe(2);
    expect(run.err.trim()).toBe('lethe: stack Acme-Stateful not found: deploy it with npx cdk deploy');
  });
});
