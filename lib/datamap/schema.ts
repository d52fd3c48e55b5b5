import * as z from 'zod';
import { JURISDICTIONS, REQUEST_TYPES } from './request-kinds';

/**
 * The data map schema: one YAML file describing every store that holds personal data.
 * Every other part of lethe (IAM grants, locating, export, erasure, retention) reads
 * this model, so the schema is strict: unknown keys are errors, not silently ignored,
 * because a typo in a data map would otherwise leave personal data unhandled.
 */

const NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_.-]*$/;
const STORE_ID_PATTERN = /^[a-z][a-z0-9-]{0,62}$/;
/** ISO-8601 durations lethe supports: years, months, weeks, days, hours (P7Y, P30D, PT12H, P1Y6M). */
const DURATION_PATTERN = /^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?$/;
const CATEGORY_PATTERN = /^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)*$/;

function isRegExp(pattern: string): boolean {
  try {
    new RegExp(pattern);
    return true;
  } catch {
    return false;
  }
}

export const identityNormalisationSchema = z.enum(['email', 'e164', 'ipAddress', 'opaque']);
export type IdentityNormalisation = z.infer<typeof identityNormalisationSchema>;

/**
 * Forms of an identity, other than its normalised value, that locating also queries by: a store
 * that holds values as people typed them matches only that exact spelling.
 */
export const identitySpellingSchema = z.enum(['as-given', 'trimmed', 'upper']);
export type IdentitySpelling = z.infer<typeof identitySpellingSchema>;

/**
 * Whether upper-casing a normalised value keeps it the same identity: true where normalising
 * lower-cases (email, IPv6, case-insensitive opaque). For e164 there is nothing to upper-case.
 */
function hasCaseInsensitiveValues(type: { normalise: IdentityNormalisation; caseSensitive?: boolean }) {
  if (type.normalise === 'opaque') return type.caseSensitive === false;
  return type.normalise === 'email' || type.normalise === 'ipAddress';
}

export const identityTypeSchema = z
  .object({
    normalise: identityNormalisationSchema.describe(
      'How values are normalised and validated: email (trim, lowercase), e164 (phone numbers to +<digits>), ipAddress (v4 dotted, v6 canonical), opaque (trimmed; see pattern and caseSensitive)',
    ),
    pattern: z
      .string()
      .refine(isRegExp, 'must be a valid JavaScript regular expression, e.g. "u-[0-9a-f]{8}"')
      .optional()
      .describe('Regular expression a normalised value must match (whole value), e.g. "^u-[0-9a-f]{8}$"'),
    caseSensitive: z
      .boolean()
      .default(true)
      .describe('opaque identities only: false lowercases values before matching'),
    defaultCountryCode: z
      .string()
      .regex(/^[1-9]\d{0,2}$/, 'a country calling code without "+", e.g. "49"')
      .optional()
      .describe(
        'e164 identities only: the country calling code of national numbers ("030 1234567" becomes +49301234567 with "49"); without it national numbers are refused',
      ),
    trunkPrefix: z
      .string()
      .regex(/^\d{0,2}$/, 'the digits a national number starts with, e.g. "0"')
      .optional()
      .describe(
        'e164 identities with defaultCountryCode: the national trunk prefix dropped before the country code is added (default "0"; "" for countries without one)',
      ),
    internationalised: z
      .boolean()
      .optional()
      .describe(
        'email identities only: accept internationalised addresses (RFC 6531, UTF-8 in the local part or domain); by default only the printable ASCII of RFC 5321 is accepted',
      ),
    spellings: z
      .array(identitySpellingSchema)
      .refine((forms) => new Set(forms).size === forms.length, 'name each spelling once')
      .optional()
      .describe(
        'Spellings to locate by besides the normalised value: as-given (exactly as submitted or as a linked record stores it), trimmed (as-given without surrounding spaces), upper (the normalised value in upper case). Default: [as-given, trimmed]; [] locates by the normalised value only',
      ),
    rectifiable: z
      .boolean()
      .optional()
      .describe(
        "Whether a rectification request may correct attributes holding this identity type (default false): an attribute that locate rules or links read this type from may be listed in a store's rectify.attributes only when true",
      ),
    description: z.string().optional(),
  })
  .strict()
  .superRefine((type, ctx) => {
    const onlyFor = (field: 'defaultCountryCode' | 'trunkPrefix' | 'internationalised', kind: string) => {
      if (type[field] !== undefined && type.normalise !== kind) {
        ctx.addIssue({
          code: 'custom',
          path: [field],
          message: `${field} applies to normalise: ${kind} only; remove it from this ${type.normalise} type`,
        });
      }
    };
    onlyFor('defaultCountryCode', 'e164');
    onlyFor('trunkPrefix', 'e164');
    onlyFor('internationalised', 'email');
    if (type.spellings?.includes('upper') && !hasCaseInsensitiveValues(type)) {
      ctx.addIssue({
        code: 'custom',
        path: ['spellings'],
        message:
          type.normalise === 'e164'
            ? 'upper applies to types whose values have letters (email, ipAddress, opaque); remove it from this e164 type'
            : 'upper would be another identity of a case-sensitive opaque type; remove it, or set caseSensitive: false if case does not matter',
      });
    }
  });
export type IdentityType = z.infer<typeof identityTypeSchema>;

const attributeTypeSchema = z.enum(['S', 'N', 'B']);

export const keyAttributeSchema = z
  .object({
    name: z.string().regex(NAME_PATTERN, 'must be an attribute name such as "userId"'),
    type: attributeTypeSchema.default('S'),
  })
  .strict();
export type KeyAttribute = z.infer<typeof keyAttributeSchema>;

export const keySchemaSchema = z
  .object({
    partitionKey: keyAttributeSchema,
    sortKey: keyAttributeSchema.optional(),
  })
  .strict();
export type KeySchema = z.infer<typeof keySchemaSchema>;

export const secondaryIndexSchema = z
  .object({
    name: z.string().regex(NAME_PATTERN, 'must be an index name such as "byEmail"'),
    partitionKey: keyAttributeSchema,
    sortKey: keyAttributeSchema.optional(),
  })
  .strict();
export type SecondaryIndex = z.infer<typeof secondaryIndexSchema>;

/** DynamoDB: Query the table (no `index`) or a GSI on the attribute that holds the identity. */
export const dynamoLocateRuleSchema = z
  .object({
    identity: z.string().describe('Identity type (a key of identityTypes) this rule finds a subject by'),
    index: z.string().optional().describe('GSI to query; omitted: the table itself'),
    attribute: z
      .string()
      .regex(NAME_PATTERN)
      .describe("Partition key attribute of the table or index that holds the identity's value"),
  })
  .strict();
export type DynamoLocateRule = z.infer<typeof dynamoLocateRuleSchema>;

/** S3: objects under a per-subject prefix, or JSON-lines or Parquet objects filtered on a field. */
export const s3PrefixLocateRuleSchema = z
  .object({
    identity: z.string(),
    prefix: z
      .string()
      .min(1)
      .describe('Key prefix template with exactly one {identityType} placeholder, e.g. "calls/{phone}/"'),
  })
  .strict();

export const s3JsonLinesLocateRuleSchema = z
  .object({
    identity: z.string(),
    jsonLines: z
      .object({
        prefix: z.string().describe('Objects under this prefix are JSON-lines files shared by many subjects'),
        field: z.string().min(1).describe('Top-level field of each line holding the identity value'),
      })
      .strict(),
  })
  .strict();

export const s3ParquetLocateRuleSchema = z
  .object({
    identity: z.string(),
    parquet: z
      .object({
        prefix: z.string().describe('Objects under this prefix are Parquet files shared by many subjects'),
        field: z
          .string()
          .regex(
            /^[^.]+(\.[^.]+)*$/,
            'must be a column name, or a dotted path into nested (struct) columns such as "user.email"',
          )
          .describe(
            'Column holding the identity value; a dotted path ("user.email") reaches into struct columns',
          ),
      })
      .strict(),
  })
  .strict();

export const s3LocateRuleSchema = z.union([
  s3PrefixLocateRuleSchema,
  s3JsonLinesLocateRuleSchema,
  s3ParquetLocateRuleSchema,
]);
export type S3PrefixLocateRule = z.infer<typeof s3PrefixLocateRuleSchema>;
export type S3JsonLinesLocateRule = z.infer<typeof s3JsonLinesLocateRuleSchema>;
export type S3ParquetLocateRule = z.infer<typeof s3ParquetLocateRuleSchema>;
/** A rule over objects shared by many subjects (JSON-lines or Parquet): located by a field of each record. */
export type S3SharedLocateRule = S3JsonLinesLocateRule | S3ParquetLocateRule;
export type S3LocateRule = z.infer<typeof s3LocateRuleSchema>;

/**
 * How far a link's values can be trusted to be the subject's: `verified` when the company checked
 * them (a phone confirmed by SMS, a user id bound to a login), `claimed` when someone typed them (a
 * contact form's phone field), which can be another person's.
 */
export const linkTrustSchema = z.enum(['verified', 'claimed']);
export type LinkTrust = z.infer<typeof linkTrustSchema>;

/** An identity a store reveals: the record's attribute (a string, or a list/set of strings) holds more identities. */
export const linkSchema = z
  .object({
    identity: z.string().describe('Identity type the attribute holds'),
    attribute: z
      .string()
      .min(1)
      .describe('Attribute (DynamoDB) or JSON field (JSON-lines) holding the value(s)'),
    trust: linkTrustSchema
      .default('claimed')
      .describe(
        "verified: the company checked the value (a phone confirmed by SMS, a login-bound user id), followed automatically; claimed (default): typed by people, so it can be someone else's: records reached only through claimed links wait for staff review before they are exported or erased",
      ),
  })
  .strict();
export type Link = z.infer<typeof linkSchema>;

export const maskStrategySchema = z.enum(['remove', 'hash', 'hmac', 'fixed']);
export type MaskStrategy = z.infer<typeof maskStrategySchema>;

export const maskFieldSchema = z
  .object({
    attribute: z.string().regex(NAME_PATTERN),
    with: maskStrategySchema.describe(
      'remove: delete the attribute; hash: SHA-256 of the value; hmac: keyed HMAC-SHA-256; fixed: the given value',
    ),
    value: z.string().optional().describe('The replacement, for with: fixed'),
  })
  .strict()
  .superRefine((field, ctx) => {
    if (field.with === 'fixed' && field.value === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['value'],
        message: 'with: fixed needs a value, e.g. value: "[erased]"',
      });
    }
    if (field.with !== 'fixed' && field.value !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['value'],
        message: `value is only used with with: fixed; remove it or set with: fixed (got with: ${field.with})`,
      });
    }
  });
export type MaskField = z.infer<typeof maskFieldSchema>;

export const eraseSchema = z.discriminatedUnion('action', [
  z.object({ action: z.literal('delete') }).strict(),
  z
    .object({
      action: z.literal('mask'),
      fields: z.array(maskFieldSchema).min(1, 'mask needs at least one field to mask'),
    })
    .strict(),
  z.object({ action: z.literal('rewrite') }).strict(),
]);
export type EraseRule = z.infer<typeof eraseSchema>;

export const timestampFormatSchema = z.enum(['iso8601', 'epochSeconds', 'epochMillis']);
export type TimestampFormat = z.infer<typeof timestampFormatSchema>;

export const retentionSchema = z
  .object({
    period: z
      .string()
      .regex(DURATION_PATTERN, 'must be an ISO-8601 duration such as P90D, P13M, P7Y or PT12H'),
    from: z
      .union([
        z
          .object({
            attribute: z.string().regex(NAME_PATTERN),
            format: timestampFormatSchema.default('iso8601'),
          })
          .strict(),
        z.object({ lastModified: z.literal(true) }).strict(),
      ])
      .describe('What the period runs from: a timestamp attribute, or (S3) the object LastModified'),
    action: z.enum(['delete', 'anonymise']).default('delete'),
    expiryIndex: z
      .object({
        name: z.string(),
        partitionValue: z
          .string()
          .describe('Constant partition key value of the index (e.g. "all"); its sort key is the timestamp'),
      })
      .strict()
      .optional()
      .describe('DynamoDB: a GSI whose sort key is the retention timestamp, so sweeps query instead of scan'),
  })
  .strict();
export type RetentionRule = z.infer<typeof retentionSchema>;

export const exemptionSchema = z
  .object({
    when: z
      .object({
        attribute: z.string().min(1),
        equals: z.union([z.string(), z.number(), z.boolean()]).optional(),
        in: z.array(z.union([z.string(), z.number()])).optional(),
        exists: z.boolean().optional(),
      })
      .strict()
      .superRefine((condition, ctx) => {
        const given = [condition.equals, condition.in, condition.exists].filter(
          (v) => v !== undefined,
        ).length;
        if (given !== 1) {
          ctx.addIssue({
            code: 'custom',
            message: 'set exactly one of equals, in or exists, e.g. { attribute: kind, equals: invoice }',
          });
        }
      })
      .optional()
      .describe('Which records the exemption covers; omitted: every record of the store'),
    reason: z.string().min(10, 'give the legal reason in words, e.g. "Invoices kept 10 years (HGB §257)"'),
    legalBasis: z.string().optional().describe('Statute or article, e.g. "GDPR Art. 17(3)(b); HGB §257"'),
    retainFor: z.string().regex(DURATION_PATTERN).optional(),
  })
  .strict();
export type Exemption = z.infer<typeof exemptionSchema>;

/** A consent purpose, as `objection --scope consent:PURPOSE` names it. */
export const CONSENT_PURPOSE_PATTERN = /^[a-z][a-z0-9-]{0,62}$/;

/** Attributes a rectification request may correct in a store (GDPR Art. 16, CCPA right to correct). */
export const rectifySchema = z
  .object({
    attributes: z
      .array(z.string().regex(NAME_PATTERN, 'must be an attribute name such as "name"'))
      .min(1, 'list the attributes a rectification may correct, e.g. [name, address]')
      .refine((names) => new Set(names).size === names.length, 'name each attribute once'),
  })
  .strict();
export type RectifyRule = z.infer<typeof rectifySchema>;

/**
 * How a store marks records restricted (GDPR Art. 18): an attribute on DynamoDB items, an object
 * tag on S3 objects (the mark holds the id of the restriction request that placed it), and for the
 * lines of shared JSON-lines objects a restriction record lethe keeps (`lines: true`).
 */
export const restrictSchema = z
  .object({
    attribute: z
      .string()
      .regex(NAME_PATTERN, 'must be an attribute name such as "processingRestricted"')
      .optional()
      .describe('DynamoDB: the attribute set on restricted items'),
    tag: z
      .string()
      .regex(/^[A-Za-z0-9_.:/=+@-]{1,128}$/, 'must be an S3 tag key such as "lethe-restricted"')
      .optional()
      .describe('S3: the object tag set on restricted objects'),
    lines: z
      .literal(true)
      .optional()
      .describe(
        "S3 JSON-lines: restrict the subject's lines by a record lethe keeps (keyed hash and store), never by marking the shared object",
      ),
  })
  .strict();
export type RestrictRule = z.infer<typeof restrictSchema>;

/** Where a store records consent for a purpose: withdrawal sets the attribute to `withdrawn`. */
export const consentRecordSchema = z
  .object({
    purpose: z
      .string()
      .regex(CONSENT_PURPOSE_PATTERN, 'must be a purpose name such as "newsletter" (lowercase, dashes)'),
    attribute: z
      .string()
      .regex(NAME_PATTERN, 'must be an attribute name such as "marketingConsent"')
      .describe('The attribute holding the consent'),
    withdrawn: z
      .union([z.string(), z.number(), z.boolean()])
      .default(false)
      .describe('The value the attribute is set to when consent is withdrawn (default false)'),
    withdrawnAtAttribute: z
      .string()
      .regex(NAME_PATTERN)
      .optional()
      .describe('An attribute set to the time of withdrawal (ISO-8601)'),
  })
  .strict();
export type ConsentRecord = z.infer<typeof consentRecordSchema>;

const disclosureFields = {
  description: z.string().optional(),
  categories: z
    .array(z.string().regex(CATEGORY_PATTERN, 'must be a dotted category such as user.contact.email'))
    .min(1, 'list the data categories the store holds, e.g. [user.contact.email]'),
  purpose: z.string().min(3).describe('Why the data is processed (GDPR Art. 15(1)(a))'),
  lawfulBasis: z.enum([
    'consent',
    'contract',
    'legal-obligation',
    'vital-interests',
    'public-task',
    'legitimate-interests',
  ]),
  recipients: z
    .array(z.string())
    .default([])
    .describe('Recipients or categories of recipients (Art. 15(1)(c))'),
  source: z.string().min(3).describe('Where the data came from (Art. 15(1)(g))'),
  links: z.array(linkSchema).default([]),
  fields: z
    .record(z.string().min(1), z.string().min(1))
    .optional()
    .describe('Readable names of the attributes the export page shows, e.g. { createdAt: "Signed up on" }'),
  automatedDecisions: z
    .string()
    .min(3)
    .optional()
    .describe(
      'Automated decision-making or profiling with this data, its logic and consequences (Art. 15(1)(h)); omitted: the organisation statement',
    ),
  transfers: z
    .string()
    .min(3)
    .optional()
    .describe(
      'Transfers of this data outside the EU/EEA and their safeguards (Art. 15(2)); omitted: the organisation statement',
    ),
  erase: eraseSchema,
  retention: retentionSchema.optional(),
  exemptions: z.array(exemptionSchema).default([]),
  rectify: rectifySchema
    .optional()
    .describe(
      'Attributes (DynamoDB) or fields of JSON-lines lines (S3) a rectification request may correct; omitted: none',
    ),
  restrict: restrictSchema
    .optional()
    .describe(
      'How records are marked restricted: attribute (DynamoDB) or tag (S3); omitted: not restrictable',
    ),
  consent: z
    .array(consentRecordSchema)
    .optional()
    .describe('DynamoDB: consent records per purpose, updated when the subject withdraws consent'),
};

/**
 * The customer-managed KMS key a company store is encrypted with: a key ARN, not an alias (IAM
 * grants on a key name the key itself).
 */
const kmsKeyArnSchema = z
  .string()
  .regex(
    /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/,
    'must be a KMS key ARN, arn:aws:kms:<region>:<account>:key/<key id> (not an alias)',
  )
  .optional()
  .describe(
    'The customer-managed KMS key the table or bucket is encrypted with (SSE-KMS): the steps that read the store are granted kms:Decrypt on it, those that write objects kms:GenerateDataKey too, only through DynamoDB or S3. Omitted: AWS-owned or AWS-managed keys, which need no grant',
  );

export const dynamoStoreSchema = z
  .object({
    id: z.string().regex(STORE_ID_PATTERN, 'must be lowercase letters, digits and dashes, e.g. "ad-events"'),
    kind: z.literal('dynamodb'),
    table: z.string().regex(/^[A-Za-z0-9_.-]{3,255}$/, 'must be a DynamoDB table name'),
    keySchema: keySchemaSchema,
    indexes: z.array(secondaryIndexSchema).default([]),
    locate: z.array(dynamoLocateRuleSchema).min(1, 'add at least one locate rule'),
    kmsKeyArn: kmsKeyArnSchema,
    ...disclosureFields,
  })
  .strict();
export type DynamoStore = z.infer<typeof dynamoStoreSchema>;

export const s3StoreSchema = z
  .object({
    id: z
      .string()
      .regex(STORE_ID_PATTERN, 'must be lowercase letters, digits and dashes, e.g. "call-recordings"'),
    kind: z.literal('s3'),
    bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name'),
    locate: z.array(s3LocateRuleSchema).min(1, 'add at least one locate rule'),
    retentionPrefix: z
      .string()
      .optional()
      .describe(
        'Prefix a retention sweep lists ("" is the whole bucket); default: the fixed prefixes of the locate rules (e.g. "calls/" for "calls/{phone}/")',
      ),
    identityIndex: z
      .boolean()
      .optional()
      .describe(
        'Shared objects (jsonLines, parquet): keep an identity index (keyed hashes of the identities each object holds) so a request reads only the objects holding the subject plus those newer than the index; build it with "lethe index". Omitted or false: every object is read on every request',
      ),
    kmsKeyArn: kmsKeyArnSchema,
    ...disclosureFields,
  })
  .strict();
export type S3Store = z.infer<typeof s3StoreSchema>;

export const storeSchema = z.discriminatedUnion('kind', [dynamoStoreSchema, s3StoreSchema]);
export type Store = z.infer<typeof storeSchema>;

/** A data category as a person reads it, and whether the subject provided it (GDPR Art. 20). */
export const categoryInfoSchema = z
  .object({
    label: z.string().min(1).describe('The category in words, e.g. "Cookie identifier"'),
    providedBySubject: z
      .boolean()
      .default(false)
      .describe('The subject gave this data (typed it, uploaded it): it goes into a portability export'),
  })
  .strict();
export type CategoryInfo = z.infer<typeof categoryInfoSchema>;

/**
 * One rule of the request policy: for the request types (and jurisdictions) it names, whether a
 * request waits for staff approval before it runs and whether the requester's identity must have
 * been verified. Later rules override earlier ones for what they set.
 */
export const requestPolicyRuleSchema = z
  .object({
    types: z
      // The loader names the value given and the values allowed.
      .array(z.enum(REQUEST_TYPES))
      .min(1, 'name the request types the rule is for, e.g. [erasure]'),
    jurisdictions: z.array(z.enum(JURISDICTIONS)).min(1).optional().describe('Omitted: every jurisdiction'),
    approval: z.enum(['required', 'not-required']).optional(),
    verification: z.enum(['required', 'not-required']).optional(),
  })
  .strict();
export type RequestPolicyRule = z.infer<typeof requestPolicyRuleSchema>;

export const dataMapSchema = z
  .object({
    version: z.literal(1),
    organisation: z
      .object({
        name: z.string(),
        controller: z.string().optional().describe('The controller named in exports'),
        contact: z.string().optional().describe('Where subjects can reach the privacy team'),
        supervisoryAuthority: z
          .string()
          .min(3)
          .optional()
          .describe('The supervisory authority a subject may complain to (Art. 15(1)(f)), with its address'),
        automatedDecisions: z
          .string()
          .min(3)
          .optional()
          .describe('Automated decision-making and profiling, or that there is none (Art. 15(1)(h))'),
        transfers: z
          .string()
          .min(3)
          .optional()
          .describe('Transfers outside the EU/EEA and their safeguards, or that there are none (Art. 15(2))'),
      })
      .strict()
      .optional(),
    identityTypes: z
      .record(
        z.string().regex(/^[a-z][A-Za-z0-9]*$/, 'identity type names are camelCase'),
        identityTypeSchema,
      )
      .refine((types) => Object.keys(types).length > 0, 'declare at least one identity type'),
    stores: z.array(storeSchema).min(1, 'declare at least one store'),
    categories: z
      .record(
        z.string().regex(CATEGORY_PATTERN, 'must be a dotted category such as user.contact.email'),
        categoryInfoSchema,
      )
      .optional()
      .describe(
        'What the data categories mean to a person, and which the subject provided (only those go into a portability export)',
      ),
    requestPolicy: z
      .array(requestPolicyRuleSchema)
      .default([])
      .describe(
        'Which requests wait for staff approval or need identity verification, per type and jurisdiction',
      ),
  })
  .strict();

export type DataMap = z.infer<typeof dataMapSchema>;
export type DataMapInput = z.input<typeof dataMapSchema>;
