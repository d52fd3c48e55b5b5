import { resolve } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { DataMapError, loadDataMap } from '../lib/datamap/load';
import type { DataMap } from '../lib/datamap/schema';
import { createLetheStacks, DEFAULT_STACK_PREFIX } from '../lib/infra/lethe-app';

/**
 * The CDK app. Context:
 *   -c datamap=PATH       the data map (default from cdk.json: examples/adtech/datamap.yaml)
 *   -c demo=true          also create the data map's stores, so the example deploys whole (its
 *                         buckets named <name>-<account>-<region>, for the account and region
 *                         the CLI deploys to)
 *   -c stackPrefix=NAME   stack names NAME-Stateful and NAME-Workflow (default Lethe)
 *   -c sweepSchedule=EXPR when the retention sweep runs, an EventBridge Scheduler expression in
 *                         UTC (default "cron(0 3 * * ? *)": daily at 03:00 UTC)
 *   -c alarmEmail=ADDRESS who the alarm topic e-mails (default: nobody; subscribe later)
 *   -c mapConcurrency=N   stores (or scan segments) a Map runs at once, 1 to 40 (default 4)
 *   -c requestRecordDays=N days an ended request's record is kept before the sweep purges it
 *                         (default 730: 24 months, the CCPA minimum for request records)
 * Every stack is checked with cdk-nag's AwsSolutions pack: a finding without an
 * acknowledgement fails the synth.
 */
const app = new App();
const context = (key: string): unknown => app.node.tryGetContext(key);
const datamapFile = resolve(String(context('datamap') ?? 'examples/adtech/datamap.yaml'));

let dataMap: DataMap;
try {
  dataMap = loadDataMap(datamapFile);
} catch (error) {
  if (!(error instanceof DataMapError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exit(1);
}

const demo = ['true', '1'].includes(String(context('demo')));
// The CDK CLI sets these from the credentials it deploys with: the demo names its buckets after them.
const account = process.env.CDK_DEFAULT_ACCOUNT;
const region = process.env.CDK_DEFAULT_REGION;
createLetheStacks(app, {
  dataMap,
  demo,
  stackPrefix: String(context('stackPrefix') ?? DEFAULT_STACK_PREFIX),
  ...(demo && account && region ? { env: { account, region } } : {}),
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
