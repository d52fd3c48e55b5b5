import { Match, type Template } from 'aws-cdk-lib/assertions';
import { JURISDICTIONS } from '../../lib/datamap/request-kinds';
import { adtechDataMap, buildStacks } from '../helpers/stacks';

/** The intake API: IAM on every method, the body validated against the SubmitRequest model, no body in any log. */
describe('intake HTTP API', () => {
  let template: Template;
  beforeAll(() => {
    template = buildStacks(adtechDataMap()).workflowTemplate;
  });

  const methods = () => Object.values(template.findResources('AWS::ApiGateway::Method'));

  it('requires IAM authorisation on every method, and has no unauthorised one', () => {
    // act
    const found = methods().map((method) => ({
      httpMethod: method.Properties.HttpMethod,
      authorization: method.Properties.AuthorizationType,
    }));

    // assess
    expect(found.map((method) => method.httpMethod).sort()).toEqual(['GET', 'POST']);
    for (const method of found) expect(method.authorization).toBe('AWS_IAM');
  });

  it('validates the body of POST /requests against the SubmitRequest model before the function runs', () => {
    // prepare
    const validators = template.findResources('AWS::ApiGateway::RequestValidator');
    const [validatorId] = Object.keys(validators);
    const post = methods().find((method) => method.Properties.HttpMethod === 'POST')!;

    // assess
    expect(validators[validatorId!]!.Properties).toMatchObject({ ValidateRequestBody: true });
    expect(post.Properties.RequestValidatorId).toEqual({ Ref: validatorId });
    expect(post.Properties.RequestModels).toEqual({ 'application/json': expect.anything() });
    template.hasResourceProperties('AWS::ApiGateway::Model', {
      ContentType: 'application/json',
      Schema: Match.objectLike({
        required: ['type', 'subject', 'jurisdiction'],
        additionalProperties: false,
        properties: Match.objectLike({
          type: { type: 'string', enum: Match.arrayWith(['access', 'erasure']) },
          jurisdiction: { type: 'string', enum: [...JURISDICTIONS] },
          subject: Match.objectLike({ type: 'array', minItems: 1 }),
        }),
      }),
    });
  });

  it('logs who called what, never a body', () => {
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      MethodSettings: [Match.objectLike({ DataTraceEnabled: false, LoggingLevel: 'ERROR' })],
      AccessLogSetting: Match.objectLike({ Format: Match.not(Match.stringLikeRegexp('requestBody|body')) }),
    });
  });

  it('sends every method to the intake function, the same intake code as the CLI', () => {
    for (const method of methods()) {
      expect(method.Properties.Integration).toMatchObject({
        Type: 'AWS_PROXY',
        IntegrationHttpMethod: 'POST',
      });
      expect(JSON.stringify(method.Properties.Integration.Uri)).toMatch(/IntakeFunction/);
    }
  });
});
