import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import {
  jurisdictionSchema,
  MAX_SUBJECT_SPELLINGS,
  requestTypeSchema,
  submitRequestSchema,
  verificationSchema,
} from '../rights/request';
import type { LetheFunction } from './lethe-function';
import { acknowledgeRule } from './nag';

export interface LetheIntakeApiProps {
  /** The intake function: the same intake code as the CLI (lib/aws/intake-api.ts). */
  readonly intake: LetheFunction;
  /** Encrypts the access log. */
  readonly key: kms.IKey;
}

const text = (maxLength: number): apigateway.JsonSchema => ({
  type: apigateway.JsonSchemaType.STRING,
  minLength: 1,
  maxLength,
});
const oneOf = (values: readonly string[]): apigateway.JsonSchema => ({
  type: apigateway.JsonSchemaType.STRING,
  enum: [...values],
});

/**
 * The body of POST /requests as API Gateway checks it before the function runs: the shape of
 * submitRequestSchema (the function parses it again, with the data map's identity rules).
 */
export function submitRequestModel(): apigateway.JsonSchema {
  const { channel } = submitRequestSchema.shape;
  return {
    schema: apigateway.JsonSchemaVersion.DRAFT4,
    title: 'SubmitRequest',
    type: apigateway.JsonSchemaType.OBJECT,
    required: ['type', 'subject', 'jurisdiction'],
    additionalProperties: false,
    properties: {
      requestId: { type: apigateway.JsonSchemaType.STRING, pattern: '^[A-Za-z0-9_-]{8,64}$' },
      type: oneOf(requestTypeSchema.options),
      subject: {
        type: apigateway.JsonSchemaType.ARRAY,
        minItems: 1,
        maxItems: 20,
        items: {
          type: apigateway.JsonSchemaType.OBJECT,
          required: ['type', 'value'],
          additionalProperties: false,
          properties: {
            type: text(64),
            value: text(1024),
            spellings: {
              type: apigateway.JsonSchemaType.ARRAY,
              maxItems: MAX_SUBJECT_SPELLINGS,
              items: text(1024),
            },
          },
        },
      },
      jurisdiction: oneOf(jurisdictionSchema.options),
      channel: oneOf(channel.unwrap().options),
      receivedAt: text(40),
      verification: {
        type: apigateway.JsonSchemaType.OBJECT,
        required: ['method', 'verifiedBy'],
        additionalProperties: false,
        properties: {
          method: oneOf(verificationSchema.shape.method.options),
          verifiedBy: text(200),
          verifiedAt: text(40),
          evidenceRef: text(256),
        },
      },
      submittedBy: text(200),
    },
  };
}

/**
 * The intake HTTP API for a privacy portal: `POST /requests` submits a request, `GET
 * /requests/{requestId}` reads its status, both through the intake function. Every method needs
 * IAM authorisation (SigV4: the portal's role is granted execute-api:Invoke), the body is
 * validated against the SubmitRequest model before the function runs, and the access log holds
 * who called what, never a body.
 */
export class LetheIntakeApi extends Construct {
  public readonly api: apigateway.RestApi;

  constructor(scope: Construct, id: string, props: LetheIntakeApiProps) {
    super(scope, id);
    const accessLog = new logs.LogGroup(this, 'AccessLog', {
      encryptionKey: props.key,
      retention: logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.api = new apigateway.RestApi(this, 'Api', {
      description: 'lethe intake: privacy portals submit data-subject requests and read their status (IAM)',
      endpointConfiguration: { types: [apigateway.EndpointType.REGIONAL] },
      // API Gateway writes logs only through the account's CloudWatch role; kept when the stack goes,
      // as other APIs of the account may rely on it.
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN,
      defaultMethodOptions: { authorizationType: apigateway.AuthorizationType.IAM },
      deployOptions: {
        stageName: 'v1',
        tracingEnabled: true,
        metricsEnabled: true,
        loggingLevel: apigateway.MethodLoggingLevel.ERROR,
        // Bodies hold the subject's identities: never in a log.
        dataTraceEnabled: false,
        accessLogDestination: new apigateway.LogGroupLogDestination(accessLog),
        accessLogFormat: apigateway.AccessLogFormat.jsonWithStandardFields({
          caller: true,
          httpMethod: true,
          ip: true,
          protocol: true,
          requestTime: true,
          resourcePath: true,
          responseLength: true,
          status: true,
          user: true,
        }),
      },
    });
    const validator = this.api.addRequestValidator('Validator', {
      validateRequestBody: true,
      validateRequestParameters: true,
    });
    const model = this.api.addModel('SubmitRequest', {
      contentType: 'application/json',
      modelName: 'SubmitRequest',
      schema: submitRequestModel(),
    });
    const integration = new apigateway.LambdaIntegration(props.intake.fn, { proxy: true });
    const requests = this.api.root.addResource('requests');
    requests.addMethod('POST', integration, {
      authorizationType: apigateway.AuthorizationType.IAM,
      requestValidator: validator,
      requestModels: { 'application/json': model },
    });
    requests.addResource('{requestId}').addMethod('GET', integration, {
      authorizationType: apigateway.AuthorizationType.IAM,
      requestValidator: validator,
      requestParameters: { 'method.request.path.requestId': true },
    });

    const cloudWatchRole = this.api.node.tryFindChild('CloudWatchRole');
    if (cloudWatchRole) {
      Validations.of(cloudWatchRole).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        reason:
          "The account's API Gateway logging role (execution and access logs need it) takes AWS's own service-role policy, which AWS keeps current with what API Gateway writes; it holds no data access.",
      });
    }
    for (const method of this.api.methods) {
      acknowledgeRule(
        method,
        'COG4',
        'The intake API is called by a privacy portal, a machine with an IAM role, not by people signing in: every method requires IAM (SigV4) authorisation instead of a Cognito user pool.',
      );
    }
    acknowledgeRule(
      this.api.deploymentStage,
      'APIG3',
      'Only IAM-signed calls reach the function (an unsigned call is refused by API Gateway before any integration runs), bodies are validated against a model, and the portal is the only caller: a WAF web ACL would filter nothing the IAM check does not.',
    );
  }
}
