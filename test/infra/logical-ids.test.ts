import { App, type CfnElement, CfnResource, Stack } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import { Construct, type IConstruct } from 'constructs';
import { cdkLogicalId, logicalIdWithoutGroups } from '../../lib/infra/logical-ids';
import { adtechDataMap, type BuiltStacks, buildStacks } from '../helpers/stacks';

/** A resource at the end of a path of plain constructs below `stack`. */
function resourceAt(stack: Stack, path: string[]): CfnResource {
  const parents = path.slice(0, -1).reduce<Construct>((scope, id) => new Construct(scope, id), stack);
  return new CfnResource(parents, path[path.length - 1] ?? 'Resource', { type: 'Test::Resource' });
}

class Group extends Construct {}

/** A stack that leaves Group constructs out of its logical ids, as lethe's stacks do. */
class GroupingStack extends Stack {
  protected override allocateLogicalId(element: CfnElement): string {
    return (
      logicalIdWithoutGroups(this, element, (scope: IConstruct) => scope instanceof Group) ??
      super.allocateLogicalId(element)
    );
  }
}

const logicalId = (element: CfnElement) => Stack.of(element).resolve(element.logicalId);

describe('cdkLogicalId', () => {
  it.each<[string, string[]]>([
    ['one resource', ['Table']],
    ['an L2 resource', ['RequestsTable', 'Resource']],
    ['a nested resource', ['VerifyFunction', 'Role', 'DefaultPolicy', 'Resource']],
    ['an id with a dash', ['Store-orders', 'Resource']],
    ['a Default id', ['Queue', 'Default', 'Resource']],
    ['an id that repeats the end of its parent', ['Schedule', 'SweepSchedule', 'Resource']],
    ['a repeated id', ['Item', 'Item']],
    ['one id too long to stand alone', ['A'.repeat(260)]],
    ['ids too long for the readable part', ['B'.repeat(150), 'C'.repeat(150)]],
  ])('allocates what CDK allocates for %s', (_what, path) => {
    // Prepare
    const stack = new Stack(new App(), 'Scratch');
    const resource = resourceAt(stack, path);

    // Act + Assess
    expect(cdkLogicalId(path)).toBe(logicalId(resource));
  });
});

describe('logicalIdWithoutGroups', () => {
  it('gives a resource under a group the logical id it has without the group', () => {
    // Prepare: the same resources, flat in one stack and grouped in the other.
    const app = new App();
    const flat = new Stack(app, 'Flat');
    const grouped = new GroupingStack(app, 'Grouped');
    const group = new Group(grouped, 'Requests');
    const flatResources = [
      resourceAt(flat, ['Machine', 'Resource']),
      resourceAt(flat, ['Fn', 'Role', 'Resource']),
    ];
    const groupedResources = [
      new CfnResource(new Construct(group, 'Machine'), 'Resource', { type: 'Test::Resource' }),
      new CfnResource(new Construct(new Construct(group, 'Fn'), 'Role'), 'Resource', {
        type: 'Test::Resource',
      }),
    ];

    // Act
    const ids = groupedResources.map(logicalId);

    // Assess
    expect(ids).toEqual(flatResources.map(logicalId));
  });

  it('leaves a resource under no group to the stack', () => {
    // Prepare
    const stack = new GroupingStack(new App(), 'Grouped');
    const resource = resourceAt(stack, ['Machine', 'Resource']);

    // Act + Assess
    expect(logicalIdWithoutGroups(stack, resource, (scope) => scope instanceof Group)).toBeUndefined();
  });
});

describe("the deployed stacks' logical ids", () => {
  // A changed logical id makes CloudFormation replace the resource: an empty table, a deploy that
  // fails on a log group name that exists, a state machine without its execution history.
  let built: BuiltStacks;
  const ids = (template: Template, type: string) => Object.keys(template.findResources(type)).sort();

  beforeAll(() => {
    // Prepare: demo mode, so the data map's tables and buckets are built too.
    built = buildStacks(adtechDataMap(), { demo: true });
  });

  it("keep lethe's key, tables, buckets and secret, and the demo's stores", () => {
    expect(ids(built.statefulTemplate, 'AWS::KMS::Key')).toEqual(['Key961B73FD']);
    expect(ids(built.statefulTemplate, 'AWS::SecretsManager::Secret')).toEqual(['HmacKeys0BA29F57']);
    expect(ids(built.statefulTemplate, 'AWS::DynamoDB::Table')).toEqual([
      'AuditTableB07F8EEB',
      'HoldsTable75B0DC3A',
      'IdentityIndexTable26F35A51',
      'RequestsTable419243C7',
      'Storeadevents7A2267AD',
      'Storeconversions148256DB',
      'Storeinquiries5016E975',
      'StorepartnercontactsFC6612D9',
      'SuppressionTableBB2F31F9',
    ]);
    expect(ids(built.statefulTemplate, 'AWS::S3::Bucket')).toEqual([
      'AccessLogsBucket83982689',
      'AuditBucketB01E0AE8',
      'ExportsBucket5A12738B',
      'ManifestsBucketC7093610',
      'Storebidlogs6F5B120B',
      'StorecallrecordingsBE989E9F',
      'StoreclickstreamB54EC741',
      'Storerecruitment453650C0',
    ]);
  });

  it('keep the state machines, their named log groups and the dead-letter queue', () => {
    expect(ids(built.workflowTemplate, 'AWS::StepFunctions::StateMachine')).toEqual([
      'IndexBuildIndexBuildStateMachine52C95F18',
      'RequestStateMachine8E370E0D',
      'StoreSweepStateMachineDF4D20A4',
      'SweepStateMachine1AE78EE3',
    ]);
    const logGroups = built.workflowTemplate.findResources('AWS::Logs::LogGroup');
    const named = Object.keys(logGroups).filter(
      (id) => logGroups[id]?.Properties?.LogGroupName !== undefined,
    );
    expect(named.sort()).toEqual([
      'IndexBuildIndexBuildWorkflowLogs24DE056D',
      'RequestWorkflowLogsB992D8A9',
      'SweepWorkflowLogsF9783258',
    ]);
    expect(ids(built.workflowTemplate, 'AWS::SQS::Queue')).toEqual([
      'IdentityIndexerDeadLetterQueue731C64F0',
      'IdentityIndexerQueue88CA5203',
      'SweepScheduleDeadLetterQueue20E78FA4',
    ]);
  });

  it("keep every function's logical id: in-flight executions call them by ARN", () => {
    expect(ids(built.workflowTemplate, 'AWS::Lambda::Function')).toEqual([
      'ApplyStoreFunction9370A09C',
      // CDK's handler of the indexed store's bucket notifications
      'BucketNotificationsHandler050a0587b7544547bf325f094a3db8347ECC3691',
      'ConfirmFunctionAC981D73',
      'EraseStoreFunctionFA82E68B',
      'ExecutionEndedFunction4F8F7579',
      'ExportPackageFunction1DAA4AC4',
      'IdentityIndexerIndexObjectsFunctionC497E1FA',
      'IndexBuildIndexBatchFunction64C4FEC1',
      'IntakeFunction7BE986CE',
      'LocateStoreFunction20715BBB',
      'OverdueRequestsFunction63959465',
      'PlanSweepFunction2FF1A861',
      'ReapRequestsFunctionA91F57A1',
      'RecordFailureFunction51C7B31D',
      'RecordOutcomeFunctionAB8385A6',
      'RecordReviewFunctionF9A54F38',
      'RecordSuppressionFunction0074486C',
      'RecordSweepFailureFunctionE651508C',
      'RecordSweepFunction1A776DEF',
      'ResolveIdentitiesFunction0F3883FC',
      'SuppressionCheckFunction063CA551',
      'SweepPageFunction54A2D269',
      'VerifyFunction35DB5B42',
    ]);
  });
});
