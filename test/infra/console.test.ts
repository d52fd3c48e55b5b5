import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { CONSOLE_ENV, CONSOLE_GROUPS, CONSOLE_SIGN_IN_PATHS } from '../../lib/aws/config';
import type { LetheConsole } from '../../lib/infra/console';
import { createLetheStacks } from '../../lib/infra/lethe-app';
import { buildStacks, roleStatements, type Statement, testDataMap } from '../helpers/stacks';

/**
 * The console on AWS (a stack option, off by default): a Cognito user pool with the two groups,
 * an HTTP API whose every route but the sign-in's goes through the authoriser, and functions
 * granted what their side does: the GET side reads only, the POST side also acts.
 */

/** The workflow stack with the console, by prop or by the `console` context flag. */
function withConsole(by: 'prop' | 'context') {
  const app = new App({
    context: { 'aws:cdk:bundling-stacks': [], ...(by === 'context' ? { console: 'true' } : {}) },
    builtinCloudFormationValidation: false,
  });
  const { workflow } = createLetheStacks(app, {
    dataMap: testDataMap(),
    ...(by === 'prop' ? { console: true } : {}),
  });
  return { workflow, template: Template.fromStack(workflow), console: workflow.console as LetheConsole };
}

const built = withConsole('prop');
const { template } = built;

const WRITES =
  /^(dynamodb:(Put|Update|Delete|BatchWrite)|s3:(Put|Delete)|states:Start|secretsmanager:|events:|kms:(Encrypt|GenerateDataKey))/;
const actionsOf = (statements: Statement[]) =>
  [...new Set(statements.flatMap((statement) => statement.actions))].sort();

it('adds nothing unless asked: no user pool, no API, no console function', () => {
  const { workflowTemplate } = buildStacks(testDataMap());

  expect(Object.keys(workflowTemplate.findResources('AWS::Cognito::UserPool'))).toEqual([]);
  expect(Object.keys(workflowTemplate.findResources('AWS::ApiGatewayV2::Api'))).toEqual([]);
  expect(JSON.stringify(workflowTemplate.toJSON())).not.toContain(CONSOLE_ENV.mode);
});

it('is turned on by the console context flag as by the prop', () => {
  const fromContext = withConsole('context').template;

  fromContext.resourceCountIs('AWS::Cognito::UserPool', 1);
  fromContext.resourceCountIs('AWS::ApiGatewayV2::Api', 1);
});

it('makes a user pool staff cannot sign up to, with MFA, and the privacy-staff and auditors groups', () => {
  template.hasResourceProperties('AWS::Cognito::UserPool', {
    AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
    MfaConfiguration: 'ON',
  });
  const groups = Object.values(template.findResources('AWS::Cognito::UserPoolGroup')).map(
    (group) => (group.Properties as { GroupName: string }).GroupName,
  );
  expect(groups.sort()).toEqual([CONSOLE_GROUPS.read, CONSOLE_GROUPS.act].sort());
  template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
    GenerateSecret: false,
    AllowedOAuthFlows: ['code'],
    AllowedOAuthFlowsUserPoolClient: true,
  });
});

it('puts the authoriser on every route but the sign-in, and sends POST to the acting function only', () => {
  const routes = Object.values(template.findResources('AWS::ApiGatewayV2::Route')).map(
    (route) => route.Properties as { RouteKey: string; AuthorizationType?: string; AuthorizerId?: unknown },
  );
  const open = routes.filter((route) => route.AuthorizationType !== 'CUSTOM').map((route) => route.RouteKey);
  expect(open.sort()).toEqual(CONSOLE_SIGN_IN_PATHS.map((path) => `GET ${path}`).sort());
  for (const route of routes.filter((candidate) => candidate.AuthorizationType === 'CUSTOM'))
    expect(route.AuthorizerId).toBeDefined();
  expect(routes.map((route) => route.RouteKey).sort()).toEqual(
    [
      'GET /',
      'GET /{proxy+}',
      'POST /{proxy+}',
      ...CONSOLE_SIGN_IN_PATHS.map((path) => `GET ${path}`),
    ].sort(),
  );
  // Each route's integration, by the function it invokes.
  const integrations = template.findResources('AWS::ApiGatewayV2::Integration');
  const functionOf = (routeKey: string) => {
    const route = Object.values(template.findResources('AWS::ApiGatewayV2::Route')).find(
      (candidate) => (candidate.Properties as { RouteKey: string }).RouteKey === routeKey,
    );
    const target = JSON.stringify(route?.Properties.Target);
    const [, integration] = Object.entries(integrations).find(([id]) => target.includes(`"${id}"`)) ?? [];
    return JSON.stringify(integration?.Properties.IntegrationUri);
  };
  const logicalId = (fn: { node: { defaultChild?: unknown } }) =>
    built.workflow.getLogicalId(fn.node.defaultChild as Parameters<typeof built.workflow.getLogicalId>[0]);
  expect(functionOf('POST /{proxy+}')).toContain(logicalId(built.console.actor.fn));
  expect(functionOf('GET /{proxy+}')).toContain(logicalId(built.console.reader.fn));
  expect(functionOf('GET /auth/callback')).toContain(logicalId(built.console.reader.fn));
  template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
    AuthorizerType: 'REQUEST',
    EnableSimpleResponses: true,
    IdentitySource: ['$request.header.cookie'],
  });
});

it('serves over TLS only, throttled, access-logged, without CORS', () => {
  template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
    ProtocolType: 'HTTP',
    CorsConfiguration: Match.absent(),
  });
  template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
    StageName: '$default',
    DefaultRouteSettings: { ThrottlingRateLimit: Match.anyValue(), ThrottlingBurstLimit: Match.anyValue() },
    AccessLogSettings: {
      DestinationArn: Match.anyValue(),
      Format: Match.stringLikeRegexp('authorizer.name'),
    },
  });
});

it('grants the reading function no write at all, and the acting function what the actions write', () => {
  const reads = actionsOf(roleStatements(template, built.console.reader.role));
  const acts = actionsOf(roleStatements(template, built.console.actor.role));

  expect(reads.filter((action) => WRITES.test(action))).toEqual([]);
  expect(reads).toEqual(
    expect.arrayContaining([
      'dynamodb:GetItem',
      'dynamodb:Query',
      'dynamodb:Scan',
      'states:GetExecutionHistory',
    ]),
  );
  expect(acts).toEqual(
    expect.arrayContaining([
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'states:StartExecution',
      'secretsmanager:GetSecretValue',
      'events:PutEvents',
    ]),
  );
  // Nothing of the data map's stores: the console reads lethe's own records, the workflow does the rest.
  const stores = testDataMap().stores.map((store) =>
    store.kind === 'dynamodb' ? store.table : store.bucket,
  );
  for (const statement of roleStatements(template, built.console.actor.role))
    for (const resource of statement.resources)
      expect(stores.some((name) => resource.includes(`/${name}`) || resource.includes(`:::${name}`))).toBe(
        false,
      );
});

it('gives the authoriser nothing but its logs', () => {
  const actions = actionsOf(roleStatements(template, built.console.authorizer.role));

  expect(actions.filter((action) => !/^(logs|xray):/.test(action))).toEqual([]);
});
