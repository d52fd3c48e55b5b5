import { App, Stack, Validations } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { createLetheStacks } from '../../lib/infra/lethe-app';
import { adtechDataMap, testDataMap } from '../helpers/stacks';

/**
 * cdk-nag 3 is a policy-validation plugin: its findings are not construct annotations
 * (Annotations.fromStack sees none of them) but a report from the plugin, which synthesis
 * turns into a failure. These tests call the pack on the construct tree directly
 * (validateScope, cdk-nag's documented entry point for tests) and also through synthesis.
 */

function findings(scope: IConstruct): string[] {
  return new AwsSolutionsChecks()
    .validateScope(scope)
    .violations.flatMap((violation) =>
      violation.violatingResources.map(
        (resource) => `${violation.severity} ${violation.ruleName} at ${resource.constructPath}`,
      ),
    );
}

/** Every finding, acknowledged or not (what the pack reports when nothing is acknowledged). */
function allFindings(scope: IConstruct): Set<string> {
  const pack = new AwsSolutionsChecks();
  Reflect.set(pack, 'isAcknowledged', () => false);
  return new Set(
    pack
      .validateScope(scope)
      .violations.flatMap((violation) =>
        violation.violatingResources.map((resource) => `${violation.ruleName}@${resource.constructPath}`),
      ),
  );
}

/** Every acknowledgement in the tree: rule id, the construct it is on, and its reason. */
function acknowledgements(scope: IConstruct): { id: string; path: string; reason: string }[] {
  return scope.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) =>
        Object.entries(entry.data as Record<string, string>).map(([id, reason]) => ({
          id: id.replace(/^annotation::/i, ''),
          path: construct.node.path,
          reason,
        })),
      ),
  );
}

const freshApp = () =>
  new App({ context: { 'aws:cdk:bundling-stacks': [] }, builtinCloudFormationValidation: false });

describe.each([
  ['ad-tech data map', () => adtechDataMap(), false, false],
  ['ad-tech data map, demo', () => adtechDataMap(), true, false],
  ['test data map', () => testDataMap(), false, false],
  ['test data map, with the console', () => testDataMap(), false, true],
])('AwsSolutions checks: %s', (_name, dataMap, demo, withConsole) => {
  let app: App;
  let stacks: Stack[];
  beforeAll(() => {
    // Prepare: the pack registered as bin/app.ts does; synthesis fails on any finding.
    app = freshApp();
    const { stateful, workflow } = createLetheStacks(app, { dataMap: dataMap(), demo, console: withConsole });
    stacks = [stateful, workflow];
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    app.synth();
  });

  it('has no unacknowledged error or warning', () => {
    expect(findings(app)).toEqual([]);
  });

  it('has no error or warning annotation, from cdk-nag or CDK itself', () => {
    for (const stack of stacks) {
      const annotations = Annotations.fromStack(stack);
      expect(annotations.findError('*', Match.stringLikeRegexp('AwsSolutions-.*'))).toEqual([]);
      expect(annotations.findWarning('*', Match.stringLikeRegexp('AwsSolutions-.*'))).toEqual([]);
      expect(annotations.findError('*', Match.anyValue())).toEqual([]);
      expect(annotations.findWarning('*', Match.anyValue())).toEqual([]);
    }
  });

  it('acknowledges each finding where it occurs, with a specific reason, and nothing more', () => {
    // Act
    const found = [...allFindings(app)];
    const acks = acknowledgements(app);

    // Assess: every acknowledgement answers a finding on its construct or a child of it.
    const stale = acks.filter(
      (ack) =>
        !found.some(
          (finding) => finding === `${ack.id}@${ack.path}` || finding.startsWith(`${ack.id}@${ack.path}/`),
        ),
    );
    expect(stale).toEqual([]);
    for (const ack of acks) expect(ack.reason.length).toBeGreaterThan(60);
    expect(acks.filter((ack) => !ack.path.includes('/'))).toEqual([]); // never on a whole stack or the app
  });
});

describe('a non-compliant resource', () => {
  it('reports a deliberately non-compliant bucket', () => {
    // Prepare
    const app = freshApp();
    const stack = new Stack(app, 'Scratch');
    new s3.Bucket(stack, 'Careless');

    // Act
    const reported = findings(app);

    // Assess
    expect(reported).toEqual(
      expect.arrayContaining([
        'error AwsSolutions-S1 at Scratch/Careless/Resource',
        'error AwsSolutions-S10 at Scratch/Careless/Resource',
      ]),
    );
  });

  it('fails synthesis when the pack is registered', () => {
    // Prepare
    const app = freshApp();
    new s3.Bucket(new Stack(app, 'Scratch'), 'Careless');
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));

    // Act + Assess
    expect(() => app.synth()).toThrow(/validation-report\.json/);
  });
});
