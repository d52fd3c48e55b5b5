import { App } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import { Template as Templates } from 'aws-cdk-lib/assertions';
import { withDemoBucketNames } from '../../lib/infra/demo-stores';
import { createLetheStacks } from '../../lib/infra/lethe-app';
import { actionsOn, adtechDataMap, bucketNamed, buildStacks, roleStatements } from '../helpers/stacks';

/** Deployable twice: in another account or region, and again after `cdk destroy`. */

type Resource = { Type: string; DeletionPolicy?: string; Properties?: Record<string, unknown> };
const NAME_PROPERTIES = [
  'BucketName',
  'TableName',
  'LogGroupName',
  'Name',
  'AliasName',
  'TopicName',
  'QueueName',
];
const ENV = { account: '123456789012', region: 'eu-west-1' };

/** Each retained resource with a name property, and that name. */
function retainedNames(template: Template): { id: string; type: string; name: unknown }[] {
  const resources = template.toJSON().Resources as Record<string, Resource>;
  return Object.entries(resources).flatMap(([id, resource]) =>
    resource.DeletionPolicy === 'Retain'
      ? NAME_PROPERTIES.filter((property) => resource.Properties?.[property] !== undefined).map(
          (property) => ({
            id,
            type: resource.Type,
            name: resource.Properties?.[property],
          }),
        )
      : [],
  );
}

describe('names of what outlives the stacks', () => {
  it("lethe's retained resources are named after the account and region, or the stack's creation", () => {
    // Prepare: the default stacks (no demo stores).
    const built = buildStacks(adtechDataMap());

    // Assess: a fixed name would make the next deploy after `cdk destroy` fail on the retained one.
    for (const template of [built.statefulTemplate, built.workflowTemplate]) {
      for (const { id, name } of retainedNames(template)) {
        const text = JSON.stringify(name);
        const unique =
          (text.includes('"AWS::AccountId"') && text.includes('"AWS::Region"')) ||
          text.includes('"AWS::StackId"');
        expect({ id, name, unique }).toEqual({ id, name, unique: true });
      }
    }
  });

  it('demo buckets carry the account and region they are deployed to, everywhere the stacks use them', () => {
    // Act
    const app = new App({
      context: { 'aws:cdk:bundling-stacks': [] },
      builtinCloudFormationValidation: false,
    });
    const { stateful, workflow } = createLetheStacks(app, { dataMap: adtechDataMap(), demo: true, env: ENV });

    // Assess
    const buckets = Object.values(Templates.fromStack(stateful).findResources('AWS::S3::Bucket'))
      .map((bucket) => (bucket as Resource).Properties?.BucketName)
      .filter((name): name is string => typeof name === 'string');
    expect(buckets.sort()).toEqual([
      'adtech-bid-logs-123456789012-eu-west-1',
      'adtech-call-recordings-123456789012-eu-west-1',
      'adtech-clickstream-123456789012-eu-west-1',
      'adtech-recruitment-123456789012-eu-west-1',
    ]);
    const statements = roleStatements(Templates.fromStack(workflow), workflow.functions.eraseStore.role);
    expect(actionsOn(statements, bucketNamed('adtech-clickstream-123456789012-eu-west-1'))).toContain(
      's3:PutObject',
    );
    expect(actionsOn(statements, bucketNamed('adtech-clickstream'))).toEqual([]);
    expect(workflow.stores.map((store) => store.store.id).sort()).toEqual(
      adtechDataMap()
        .stores.map((store) => store.id)
        .sort(),
    );
  });

  it('an environment-agnostic synth keeps the names; a name over 63 characters is refused', () => {
    const dataMap = adtechDataMap();
    expect(withDemoBucketNames(dataMap, {})).toBe(dataMap);
    const long = {
      ...dataMap,
      stores: dataMap.stores.map((store) =>
        store.kind === 's3' ? { ...store, bucket: 'b'.repeat(41) } : store,
      ),
    };
    expect(() => withDemoBucketNames(long, ENV)).toThrow(/over S3's 63 characters/);
  });
});
