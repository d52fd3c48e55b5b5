import { ArnFormat, Aws, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as authorizers from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import * as integrations from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { CONSOLE_ENV, CONSOLE_GROUPS, CONSOLE_SIGN_IN_PATHS } from '../aws/config';
import { type FunctionLogLevel, LetheFunction } from './lethe-function';
import {
  ANCHOR_PREFIX,
  EXPORT_PREFIX,
  MANIFEST_PREFIX,
  type OwnResources,
  ownResourceNames,
} from './lethe-grants';
import { acknowledgeRule, acknowledgeWildcardResource } from './nag';
import { RoleGrants } from './role-grants';

/** The console's Lambda functions: the handler files (bundled as every lethe function is). */
export const CONSOLE_FUNCTIONS = {
  consoleRead: { entry: 'lambdas/console.ts', description: 'lethe console: pages (GET), reads only' },
  consoleAct: {
    entry: 'lambdas/console.ts',
    description: "lethe console: privacy staff's actions (POST)",
  },
  consoleAuthorizer: {
    entry: 'lambdas/console-authorizer.ts',
    description: "lethe console: verifies the staff member's Cognito ID token",
  },
} as const;

export interface LetheConsoleProps {
  readonly own: OwnResources;
  readonly requestStateMachine: sfn.StateMachine;
  readonly sweepStateMachine: sfn.StateMachine;
  readonly dataMapJson: string;
  /** The Hosted UI's domain prefix (globally unique per region); default `<resource prefix>-console-<account>`. */
  readonly domainPrefix: string;
  readonly logLevel?: FunctionLogLevel;
}

/**
 * The privacy console on AWS: the same app as `lethe console` in two Lambda functions behind an
 * HTTP API (TLS only, throttled, access-logged, no CORS), staff signing in with a Cognito user
 * pool's Hosted UI. Every route but the sign-in's own goes through an authoriser that verifies
 * the ID token; `privacy-staff` may act, `auditors` may only read. GET routes go to a function
 * with read grants only; POST routes to one that also holds what privacy staff's actions need.
 */
export class LetheConsole extends Construct {
  public readonly userPool: cognito.UserPool;
  public readonly client: cognito.UserPoolClient;
  public readonly api: apigwv2.HttpApi;
  public readonly reader: LetheFunction;
  public readonly actor: LetheFunction;
  public readonly authorizer: LetheFunction;
  /** Where staff sign in. */
  public readonly signInUrl: string;

  constructor(scope: Construct, id: string, props: LetheConsoleProps) {
    super(scope, id);
    const { own } = props;

    this.userPool = new cognito.UserPool(this, 'Staff', {
      // Staff accounts are made by an administrator (docs/OPERATIONS.md), never by sign-up.
      selfSignUpEnabled: false,
      signInAliases: { username: true, email: true },
      mfa: cognito.Mfa.REQUIRED,
      mfaSecondFactor: { otp: true, sms: false },
      passwordPolicy: {
        minLength: 14,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
      },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      deletionProtection: true,
      // Threat protection: compromised credentials and risky sign-ins are blocked, for a few staff accounts.
      featurePlan: cognito.FeaturePlan.PLUS,
      standardThreatProtectionMode: cognito.StandardThreatProtectionMode.FULL_FUNCTION,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    new cognito.CfnUserPoolGroup(this, 'PrivacyStaffGroup', {
      userPoolId: this.userPool.userPoolId,
      groupName: CONSOLE_GROUPS.act,
      description:
        'May act: submit, approve, deny, extend, cancel, retry, close, review; place and release holds; run sweeps',
    });
    new cognito.CfnUserPoolGroup(this, 'AuditorsGroup', {
      userPoolId: this.userPool.userPoolId,
      groupName: CONSOLE_GROUPS.read,
      description: 'May only read: requests, holds, sweeps, the audit log and the data inventory',
    });
    const domain = this.userPool.addDomain('SignIn', { cognitoDomain: { domainPrefix: props.domainPrefix } });
    const hostedUiUrl = domain.baseUrl();

    const accessLog = new logs.LogGroup(this, 'AccessLog', {
      encryptionKey: own.key,
      retention: logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // No CORS: the pages are served by the API itself, and no other origin may call it.
    this.api = new apigwv2.HttpApi(this, 'Api', {
      description: 'lethe console: pages for privacy staff and auditors (Cognito sign-in)',
      createDefaultStage: false,
    });
    this.api.addStage('Stage', {
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: 20, burstLimit: 40 },
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(accessLog),
        // Who did what: the verified staff name, never a body or a query string.
        format: apigateway.AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            time: '$context.requestTime',
            ip: '$context.identity.sourceIp',
            method: '$context.httpMethod',
            route: '$context.routeKey',
            status: '$context.status',
            staff: '$context.authorizer.name',
            authorizerError: '$context.authorizer.error',
            integrationError: '$context.integrationErrorMessage',
          }),
        ),
      },
    });
    this.signInUrl = `${this.api.apiEndpoint}/auth/login`;

    this.client = this.userPool.addClient('Console', {
      // A public client: the console exchanges the code with PKCE, and holds no secret.
      generateSecret: false,
      authFlows: {},
      oAuth: {
        flows: { authorizationCodeGrant: true },
        scopes: [cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE],
        callbackUrls: [`${this.api.apiEndpoint}/auth/callback`],
        logoutUrls: [this.signInUrl],
      },
      supportedIdentityProviders: [cognito.UserPoolClientIdentityProvider.COGNITO],
      idTokenValidity: Duration.hours(1),
      accessTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.hours(12),
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
    });

    const consoleEnv = {
      [CONSOLE_ENV.userPoolId]: this.userPool.userPoolId,
      [CONSOLE_ENV.clientId]: this.client.userPoolClientId,
      [CONSOLE_ENV.hostedUiUrl]: hostedUiUrl,
    };
    const consoleFunction = (name: 'consoleRead' | 'consoleAct', mode: 'read' | 'act') =>
      new LetheFunction(this, name === 'consoleRead' ? 'ReadFunction' : 'ActFunction', {
        entry: CONSOLE_FUNCTIONS[name].entry,
        description: CONSOLE_FUNCTIONS[name].description,
        memorySize: 1024,
        // API Gateway answers within 30 seconds; the console never waits for an execution.
        timeout: Duration.seconds(29),
        key: own.key,
        resources: {
          ...ownResourceNames(own),
          ...(own.auditBucket ? { auditBucket: own.auditBucket.bucketName } : {}),
        },
        dataMapJson: props.dataMapJson,
        // Only the acting function hashes subjects (requests submitted, holds placed).
        ...(mode === 'act' ? { hmacSecretArn: own.hmacSecret.secretArn } : {}),
        stateMachineArn: props.requestStateMachine.stateMachineArn,
        sweepStateMachineArn: props.sweepStateMachine.stateMachineArn,
        ...(props.logLevel ? { logLevel: props.logLevel } : {}),
        environment: { ...consoleEnv, [CONSOLE_ENV.mode]: mode },
      });
    this.reader = consoleFunction('consoleRead', 'read');
    this.actor = consoleFunction('consoleAct', 'act');
    this.authorizer = new LetheFunction(this, 'AuthorizerFunction', {
      entry: CONSOLE_FUNCTIONS.consoleAuthorizer.entry,
      description: CONSOLE_FUNCTIONS.consoleAuthorizer.description,
      timeout: Duration.seconds(10),
      key: own.key,
      resources: ownResourceNames(own),
      dataMapJson: props.dataMapJson,
      environment: {
        [CONSOLE_ENV.userPoolId]: this.userPool.userPoolId,
        [CONSOLE_ENV.clientId]: consoleEnv[CONSOLE_ENV.clientId],
      },
    });
    const reading = new RoleGrants(this.reader.role);
    this.grantReading(reading, props);
    reading.apply();
    const acting = new RoleGrants(this.actor.role);
    this.grantReading(acting, props);
    this.grantActing(acting, props);
    acting.apply();

    const staff = new authorizers.HttpLambdaAuthorizer('Staff', this.authorizer.fn, {
      responseTypes: [authorizers.HttpLambdaResponseType.SIMPLE],
      // A browser sends the ID token in its cookie; no cookie, no call of the authoriser.
      identitySource: ['$request.header.cookie'],
      resultsCacheTtl: Duration.minutes(5),
    });
    const read = new integrations.HttpLambdaIntegration('Read', this.reader.fn);
    const act = new integrations.HttpLambdaIntegration('Act', this.actor.fn);
    this.api.addRoutes({
      path: '/',
      methods: [apigwv2.HttpMethod.GET],
      integration: read,
      authorizer: staff,
    });
    this.api.addRoutes({
      path: '/{proxy+}',
      methods: [apigwv2.HttpMethod.GET],
      integration: read,
      authorizer: staff,
    });
    this.api.addRoutes({
      path: '/{proxy+}',
      methods: [apigwv2.HttpMethod.POST],
      integration: act,
      authorizer: staff,
    });
    for (const path of CONSOLE_SIGN_IN_PATHS) {
      const [route] = this.api.addRoutes({
        path,
        methods: [apigwv2.HttpMethod.GET],
        integration: read,
        authorizer: new apigwv2.HttpNoneAuthorizer(),
      });
      if (route)
        acknowledgeRule(
          route,
          'APIG4',
          'The sign-in itself (the redirect to the Hosted UI, its callback, the sign-out): no one is signed in yet; it only exchanges a code for a token, which the authoriser then checks on every other route.',
        );
    }
  }

  /** What every page reads: request records, the audit log and its anchors, holds, executions, export links. */
  private grantReading(grants: RoleGrants, props: LetheConsoleProps): void {
    const { own } = props;
    grants.allow(['dynamodb:GetItem', 'dynamodb:Scan'], [own.requestsTable.tableArn]);
    grants.allow(['dynamodb:Query'], [own.auditTable.tableArn]);
    grants.allow(['dynamodb:GetItem', 'dynamodb:Scan'], [own.holdsTable.tableArn]);
    // The download link of an export package is pre-signed with the console's own credentials.
    allowUnder(
      grants,
      ['s3:GetObject'],
      own.exportsBucket,
      EXPORT_PREFIX,
      'Export packages are "exports/<requestId>.zip": the console pre-signs download links of that prefix only.',
    );
    if (own.auditBucket) {
      allowUnder(
        grants,
        ['s3:GetObject', 's3:GetObjectVersion'],
        own.auditBucket,
        ANCHOR_PREFIX,
        'The audit page checks the chain against the anchors, "anchors/<seq>-<time>.json": read only, that prefix only.',
      );
      grants.allow(['s3:ListBucket', 's3:ListBucketVersions'], [own.auditBucket.bucketArn], {
        StringLike: { 's3:prefix': [`${ANCHOR_PREFIX}*`] },
      });
    }
    const executions = [props.requestStateMachine, props.sweepStateMachine].map((machine) =>
      executionsOf(this, machine),
    );
    for (const arn of executions)
      acknowledgeWildcardResource(
        grants.role,
        arn,
        "A request's or sweep's timeline: the executions of lethe's own state machines, named by request or sweep id, not known at deploy time.",
      );
    grants.allow(['states:DescribeExecution', 'states:GetExecutionHistory'], executions);
    grants.allow(
      ['kms:Decrypt', 'kms:DescribeKey'],
      [own.key.keyArn],
      viaServices('dynamodb', 's3', 'secretsmanager'),
    );
  }

  /** What privacy staff's actions write: requests and their audit events, holds, executions started, notices. */
  private grantActing(grants: RoleGrants, props: LetheConsoleProps): void {
    const { own } = props;
    // Submit, close, deny, cancel, extend, retry, review, approve (and what they settle).
    grants.allow(
      ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
      [own.requestsTable.tableArn],
    );
    grants.allow(['dynamodb:PutItem'], [own.auditTable.tableArn]);
    grants.allow(['dynamodb:PutItem', 'dynamodb:UpdateItem'], [own.holdsTable.tableArn]);
    // Ending a request deletes its manifests.
    allowUnder(
      grants,
      ['s3:DeleteObject'],
      own.manifestsBucket,
      MANIFEST_PREFIX,
      'Manifests are "requests/<requestId>/...": a request the console ends has its manifests deleted, that prefix only.',
    );
    grants.allow(['s3:ListBucket'], [own.manifestsBucket.bucketArn], {
      StringLike: { 's3:prefix': [`${MANIFEST_PREFIX}*`] },
    });
    grants.allow(['secretsmanager:GetSecretValue'], [own.hmacSecret.secretArn]);
    grants.allow(
      ['states:StartExecution'],
      [props.requestStateMachine.stateMachineArn, props.sweepStateMachine.stateMachineArn],
    );
    // A denial or an extension tells the subject, as the workflow's notices do.
    grants.allow(
      ['events:PutEvents'],
      [`arn:${Aws.PARTITION}:events:${Aws.REGION}:${Aws.ACCOUNT_ID}:event-bus/default`],
    );
    grants.allow(
      ['kms:Encrypt', 'kms:GenerateDataKey'],
      [own.key.keyArn],
      viaServices('dynamodb', 's3', 'secretsmanager'),
    );
  }
}

/** Allows `actions` on the objects under `prefix` of `bucket` only, the wildcard acknowledged with `why`. */
function allowUnder(
  grants: RoleGrants,
  actions: string[],
  bucket: s3.IBucket,
  prefix: string,
  why: string,
): void {
  const objects = bucket.arnForObjects(`${prefix}*`);
  acknowledgeWildcardResource(grants.role, objects, why);
  grants.allow(actions, [objects]);
}

/** The executions of a state machine: `arn:...:execution:<machine name>:*`. */
function executionsOf(scope: Construct, machine: sfn.StateMachine): string {
  return Stack.of(scope).formatArn({
    service: 'states',
    resource: 'execution',
    resourceName: `${machine.stateMachineName}:*`,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
}

/** The key used only by these services on the function's behalf. */
function viaServices(...services: string[]) {
  return {
    StringEquals: { 'kms:ViaService': services.map((service) => `${service}.${Aws.REGION}.amazonaws.com`) },
  };
}
