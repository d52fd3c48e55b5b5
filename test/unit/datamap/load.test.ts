import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { parse, stringify } from 'yaml';
import {
  DataMapError,
  type DataMapIssue,
  getStore,
  loadDataMap,
  parseDataMap,
  UnknownStoreError,
} from '../../../lib/datamap';
import { propertyRun } from '../../helpers/property';

const EXAMPLE_FILE = join(__dirname, '../../../examples/adtech/datamap.yaml');
const EXAMPLE = readFileSync(EXAMPLE_FILE, 'utf8');
const FILE = 'maps/company.yaml';
const PARSED = parse(EXAMPLE) as { stores: { id: string; erase: { fields?: { attribute: string }[] } }[] };

/** `stores[i]` of the store with this id in the example, so the tests survive reordering. */
function store(id: string): string {
  const index = PARSED.stores.findIndex((candidate) => candidate.id === id);
  if (index < 0) throw new Error(`the example has no store ${id}`);
  return `stores[${index}]`;
}

/** `stores[i].erase.fields[j]` of the mask rule for this attribute in the example. */
function maskField(id: string, attribute: string): string {
  const fields = PARSED.stores.find((candidate) => candidate.id === id)?.erase.fields ?? [];
  const index = fields.findIndex((field) => field.attribute === attribute);
  if (index < 0) throw new Error(`the example masks no ${attribute} in ${id}`);
  return `${store(id)}.erase.fields[${index}]`;
}

/** The example's mask fields block of a store, replaced. */
function replaceMaskFields(replacement: string): string {
  const start = EXAMPLE.indexOf('      fields:\n');
  const end = EXAMPLE.indexOf('    exemptions:', start);
  if (start < 0 || end < 0 || EXAMPLE.indexOf('      fields:\n', start + 1) >= 0) {
    throw new Error('the example must have one mask fields block followed by exemptions');
  }
  return EXAMPLE.slice(0, start) + replacement + EXAMPLE.slice(end);
}

/** The example with `search` (which must occur exactly once) replaced. */
function edit(search: string, replacement: string, source = EXAMPLE): string {
  const at = source.indexOf(search);
  if (at < 0 || source.indexOf(search, at + 1) >= 0) {
    throw new Error(`the example must contain exactly once: ${JSON.stringify(search)}`);
  }
  return source.slice(0, at) + replacement + source.slice(at + search.length);
}

/** 1-based line of the first occurrence of `needle`. */
function lineOf(source: string, needle: string): number {
  const at = source.indexOf(needle);
  if (at < 0) throw new Error(`not found: ${JSON.stringify(needle)}`);
  return source.slice(0, at).split('\n').length;
}

/** The DataMapError parsing throws; fails the test when it throws nothing or something else. */
function rejection(source: string, file = FILE): DataMapError {
  try {
    parseDataMap(source, file);
  } catch (error) {
    if (error instanceof DataMapError) return error;
    throw error;
  }
  throw new Error('the data map was accepted');
}

interface RuleCase {
  rule: string;
  source: string;
  path: string;
  /** Text on the line the issue must point at. */
  at: string;
  /** The fix (or part of it) the message must give. */
  fix: string;
}

describe('parseDataMap: the ad-tech example', () => {
  it('loads, with the defaults of the schema applied', () => {
    // prepare
    const source = EXAMPLE;

    // act
    const dataMap = parseDataMap(source, EXAMPLE_FILE);

    // assess
    expect(dataMap.stores.map((store) => `${store.kind}:${store.id}`)).toEqual([
      'dynamodb:inquiries',
      'dynamodb:ad-events',
      'dynamodb:conversions',
      'dynamodb:partner-contacts',
      's3:call-recordings',
      's3:recruitment',
      's3:clickstream',
      's3:bid-logs',
    ]);
    expect(getStore(dataMap, 'bid-logs').locate).toEqual([
      { identity: 'cookieId', parquet: { prefix: 'bids/', field: 'user.buyeruid' } },
    ]);
    expect(Object.keys(dataMap.identityTypes)).toEqual(['email', 'phone', 'userId', 'cookieId', 'ipAddress']);
    expect(dataMap.identityTypes.email?.caseSensitive).toBe(true);
    expect(dataMap.identityTypes.cookieId?.caseSensitive).toBe(false);
    const inquiries = getStore(dataMap, 'inquiries');
    expect(inquiries.kind === 'dynamodb' && inquiries.indexes).toEqual([]);
    expect(getStore(dataMap, 'recruitment').links).toEqual([]);
    expect(getStore(dataMap, 'clickstream').exemptions).toEqual([]);
  });

  it('never follows IP addresses: no store links them', () => {
    // prepare
    const dataMap = parseDataMap(EXAMPLE, EXAMPLE_FILE);

    // act
    const linked = dataMap.stores.flatMap((store) => store.links.map((link) => link.identity));

    // assess
    expect(linked).not.toContain('ipAddress');
    expect(linked).toEqual(expect.arrayContaining(['cookieId', 'phone']));
  });

  it('loads from the file too', () => {
    // prepare
    const file = EXAMPLE_FILE;

    // act
    const dataMap = loadDataMap(file);

    // assess
    expect(dataMap).toEqual(parseDataMap(EXAMPLE, file));
  });

  it('finds stores by id and names the known ids for an unknown one', () => {
    // prepare
    const dataMap = parseDataMap(EXAMPLE);

    // act
    const act = () => getStore(dataMap, 'crm');

    // assess
    expect(getStore(dataMap, 'conversions').id).toBe('conversions');
    expect(act).toThrow(UnknownStoreError);
    expect(act).toThrow(
      'unknown store "crm"; the data map declares: inquiries, ad-events, conversions, partner-contacts, call-recordings, recruitment, clickstream',
    );
  });

  it('loads the minimal data map of docs/DATAMAP.md', () => {
    // prepare
    const doc = readFileSync(join(__dirname, '../../../docs/DATAMAP.md'), 'utf8');
    const section = doc.slice(doc.indexOf('## A minimal data map'));
    const yaml = /```yaml\n([\s\S]*?)```/.exec(section)?.[1] ?? '';

    // act
    const dataMap = parseDataMap(yaml, 'docs/DATAMAP.md');

    // assess
    expect(dataMap.stores.map((candidate) => candidate.id)).toEqual(['customers']);
    expect(dataMap.stores[0]?.retention?.from).toEqual({ attribute: 'lastLoginAt', format: 'iso8601' });
  });

  it('accepts retention action anonymise on a store that masks', () => {
    // prepare
    const source = edit(
      '        - { attribute: title, with: remove }\n',
      '        - { attribute: title, with: remove }\n    retention:\n      period: P3Y\n      from: { attribute: updatedAt }\n      action: anonymise\n',
    );

    // act
    const dataMap = parseDataMap(source, FILE);

    // assess
    expect(getStore(dataMap, 'partner-contacts').retention).toEqual({
      period: 'P3Y',
      from: { attribute: 'updatedAt', format: 'iso8601' },
      action: 'anonymise',
    });
  });
});

describe('parseDataMap: mask rules that can be applied and confirmed', () => {
  const cases = [
    {
      rule: 'a fixed mask of a located attribute that is no valid identity',
      source: edit(
        '{ attribute: email, with: hmac }',
        '{ attribute: email, with: fixed, value: "[erased]" }',
      ),
    },
    {
      rule: 'removing an index key of type N',
      source: edit('partitionKey: { name: userId, type: S }', 'partitionKey: { name: userId, type: N }'),
    },
    {
      rule: 'a store masked by its partition key, which stays (the shop loyalty ledger)',
      source: readFileSync(join(__dirname, '../../../examples/shop/datamap.yaml'), 'utf8'),
    },
  ];

  it.each(cases)('accepts $rule', ({ source }) => {
    // prepare: source

    // act
    const act = () => parseDataMap(source, FILE);

    // assess
    expect(act).not.toThrow();
  });
});

describe('parseDataMap: cross-field rules', () => {
  const inquiriesLocate = '      - identity: email\n        attribute: email\n    links:';
  const conversionsLocate =
    '      - identity: cookieId\n        index: byCookie\n        attribute: cookieId';
  const clickstreamRetention =
    '      period: P90D\n      from: { lastModified: true }\n      action: delete\n';
  const recruitmentRetention =
    '      period: P6M\n      from: { lastModified: true }\n      action: delete\n';
  const cases: RuleCase[] = [
    {
      rule: 'a locate rule names an undeclared identity type',
      source: edit(inquiriesLocate, inquiriesLocate.replace('identity: email', 'identity: emailAddress')),
      path: `${store('inquiries')}.locate[0].identity`,
      at: 'identity: emailAddress',
      fix: 'identity type "emailAddress" is not declared in identityTypes; declare it or use one of: email, phone, userId, cookieId, ipAddress',
    },
    {
      rule: 'a link names an undeclared identity type',
      source: edit(
        '      - identity: cookieId\n        attribute: cookieIds',
        '      - identity: visitorId\n        attribute: cookieIds',
      ),
      path: `${store('inquiries')}.links[0].identity`,
      at: 'identity: visitorId',
      fix: 'identity type "visitorId" is not declared in identityTypes',
    },
    {
      rule: 'an identity type named like an Object.prototype member is not declared',
      source: edit(inquiriesLocate, inquiriesLocate.replace('identity: email', 'identity: constructor')),
      path: `${store('inquiries')}.locate[0].identity`,
      at: 'identity: constructor',
      fix: 'identity type "constructor" is not declared in identityTypes',
    },
    {
      rule: 'a locate rule without index is not on the partition key',
      source: edit(inquiriesLocate, inquiriesLocate.replace('attribute: email', 'attribute: name')),
      path: `${store('inquiries')}.locate[0].attribute`,
      at: 'attribute: name\n    links:',
      fix: '"name" is not the table\'s partition key ("email"); name an index whose partition key it is, since locating never scans',
    },
    {
      rule: 'a locate rule names an undeclared index',
      source: edit(conversionsLocate, conversionsLocate.replace('index: byCookie', 'index: byCookieId')),
      path: `${store('conversions')}.locate[0].index`,
      at: 'index: byCookieId',
      fix: 'index "byCookieId" is not declared in indexes; declare it or use one of: byCookie',
    },
    {
      rule: "a locate rule's attribute is not the index's partition key",
      source: edit(
        conversionsLocate,
        conversionsLocate.replace('attribute: cookieId', 'attribute: visitorId'),
      ),
      path: `${store('conversions')}.locate[0].attribute`,
      at: 'attribute: visitorId',
      fix: '"visitorId" is not the partition key of index "byCookie" ("cookieId")',
    },
    {
      rule: 'a DynamoDB store is erased by rewrite',
      source: edit(
        '    erase: { action: delete }\n    retention:\n      period: P3Y',
        '    erase: { action: rewrite }\n    retention:\n      period: P3Y',
      ),
      path: `${store('inquiries')}.erase.action`,
      at: 'erase: { action: rewrite }\n    retention:\n      period: P3Y',
      fix: 'rewrite applies to JSON-lines objects in S3; a DynamoDB store uses delete or mask',
    },
    {
      rule: 'a mask rule masks a key attribute',
      source: edit('{ attribute: title, with: remove }', '{ attribute: partnerId, with: remove }'),
      path: `${maskField('partner-contacts', 'title')}.attribute`,
      at: 'attribute: partnerId, with: remove',
      fix: '"partnerId" is part of the table key, which DynamoDB cannot change in place; use erase.action: delete, or mask the other fields and accept that the key stays',
    },
    {
      rule: 'a mask rule masks an attribute twice',
      source: edit('{ attribute: title, with: remove }', '{ attribute: email, with: remove }'),
      path: `${maskField('partner-contacts', 'title')}.attribute`,
      at: 'attribute: email, with: remove',
      fix: `"email" is already masked by erase.fields[1]; mask each attribute once`,
    },
    {
      rule: 'a mask writes a string into an index key of type N',
      source: edit(
        '{ attribute: userId, with: remove }',
        '{ attribute: userId, with: hmac }',
        edit('partitionKey: { name: userId, type: S }', 'partitionKey: { name: userId, type: N }'),
      ),
      path: `${maskField('partner-contacts', 'userId')}.with`,
      at: 'attribute: userId, with: hmac',
      fix: 'with: hmac writes a string, but "userId" is the partition key of index "byUser" of type N, so every update would fail; use with: remove',
    },
    {
      rule: 'a fixed mask writes an empty string into an index key',
      source: edit('{ attribute: userId, with: remove }', '{ attribute: userId, with: fixed, value: "" }'),
      path: `${maskField('partner-contacts', 'userId')}.with`,
      at: 'attribute: userId, with: fixed',
      fix: '"userId" is the partition key of index "byUser", which cannot hold an empty string, so every update would fail; use a short non-empty value or with: remove',
    },
    {
      rule: 'a fixed mask of a located attribute is itself a valid identity',
      source: edit(
        '{ attribute: email, with: hmac }',
        '{ attribute: email, with: fixed, value: erased@example.com }',
      ),
      path: `${maskField('partner-contacts', 'email')}.value`,
      at: 'attribute: email, with: fixed',
      fix: 'the fixed value is itself a valid email identity: every masked record would hold the same email, a request for it would find them all and a link would join them into one subject; use with: hmac or remove, or a value that is not a valid email',
    },
    {
      rule: 'a fixed mask of a linked attribute is itself a valid identity once normalised',
      source: edit(
        '{ attribute: phone, with: remove }',
        '{ attribute: phone, with: fixed, value: "+49 000 0000000" }',
      ),
      path: `${maskField('partner-contacts', 'phone')}.value`,
      at: 'attribute: phone, with: fixed',
      fix: 'the fixed value is itself a valid phone identity',
    },
    {
      rule: 'an exemption is met by the fixed value a mask writes',
      source: edit('{ attribute: title, with: remove }', '{ attribute: role, with: fixed, value: billing }'),
      path: `${store('partner-contacts')}.exemptions[0].when`,
      at: 'when: { attribute: role, equals: billing }',
      fix: 'erase masks "role" with fixed, and a record so masked meets this exemption: the records erasure masks would be called exempt when located again; decide the exemption on an attribute the mask leaves alone, or mask "role" another way',
    },
    {
      rule: 'an exemption for records without an attribute that a mask removes',
      source: edit('when: { attribute: role, equals: billing }', 'when: { attribute: title, exists: false }'),
      path: `${store('partner-contacts')}.exemptions[0].when`,
      at: 'when: { attribute: title, exists: false }',
      fix: 'erase masks "title" with remove, and a record so masked meets this exemption',
    },
    {
      rule: 'a per-subject S3 store is masked',
      source: edit(
        '    erase: { action: delete }\n    retention:\n      period: P6M',
        '    erase: { action: mask, fields: [{ attribute: email, with: remove }] }\n    retention:\n      period: P6M',
      ),
      path: `${store('recruitment')}.erase.action`,
      at: 'erase: { action: mask',
      fix: 'S3 objects cannot be masked in place: use erase.action: delete',
    },
    {
      rule: 'a JSON-lines store is masked',
      source: edit(
        'erase: { action: rewrite }',
        'erase: { action: mask, fields: [{ attribute: cookieId, with: hmac }] }',
      ),
      path: `${store('clickstream')}.erase.action`,
      at: 'erase: { action: mask',
      fix: "S3 objects cannot be masked in place: use erase.action: rewrite, which removes only the subject's lines",
    },
    {
      rule: 'a masked store leaves an attribute that locates the subject unmasked',
      source: edit('        - { attribute: email, with: hmac }\n', ''),
      path: `${store('partner-contacts')}.erase.fields`,
      at: '      fields:',
      fix: '"email" locates or links the subject but is not masked',
    },
    {
      rule: 'a DynamoDB retention runs from lastModified',
      source: edit('from: { attribute: receivedAt, format: iso8601 }', 'from: { lastModified: true }'),
      path: `${store('inquiries')}.retention.from`,
      at: 'from: { lastModified: true }',
      fix: 'DynamoDB items have no LastModified; name the timestamp attribute: from: { attribute: createdAt }',
    },
    {
      rule: 'the expiry index is not declared',
      source: edit('expiryIndex: { name: byExpiry,', 'expiryIndex: { name: byTime,'),
      path: `${store('ad-events')}.retention.expiryIndex.name`,
      at: 'expiryIndex: { name: byTime,',
      fix: 'index "byTime" is not declared in indexes',
    },
    {
      rule: "the expiry index's sort key is not the retention attribute",
      source: edit(
        'from: { attribute: eventAt, format: epochMillis }',
        'from: { attribute: servedAt, format: epochMillis }',
      ),
      path: `${store('ad-events')}.retention.expiryIndex.name`,
      at: 'expiryIndex: { name: byExpiry,',
      fix: 'index "byExpiry" must have the retention attribute as its sort key',
    },
    {
      rule: 'two stores have the same id',
      source: edit('  - id: conversions\n', '  - id: ad-events\n'),
      path: `${store('conversions')}.id`,
      at: '  - id: ad-events\n    kind: dynamodb\n    table: adtech-conversions',
      fix: `duplicate store id "ad-events" (also ${store('ad-events')}); ids must be unique`,
    },
    {
      rule: 'two stores describe the same table',
      source: edit('table: adtech-conversions', 'table: adtech-ad-events'),
      path: `${store('conversions')}.table`,
      at: 'table: adtech-ad-events\n    description: Conversions',
      fix: `table "adtech-ad-events" is already described by ${store('ad-events')}; describe each table once`,
    },
    {
      rule: 'an S3 prefix has no placeholder',
      source: edit('prefix: "calls/{phone}/"', 'prefix: "calls/"'),
      path: `${store('call-recordings')}.locate[0].prefix`,
      at: 'prefix: "calls/"',
      fix: 'the prefix needs exactly one placeholder {phone} for the located identity, e.g. "calls/{phone}/"',
    },
    {
      rule: "an S3 prefix's placeholder is another identity",
      source: edit('prefix: "calls/{phone}/"', 'prefix: "calls/{email}/"'),
      path: `${store('call-recordings')}.locate[0].prefix`,
      at: 'prefix: "calls/{email}/"',
      fix: 'the prefix needs exactly one placeholder {phone}',
    },
    {
      rule: 'an S3 prefix has two placeholders',
      source: edit('prefix: "calls/{phone}/"', 'prefix: "calls/{phone}/{phone}/"'),
      path: `${store('call-recordings')}.locate[0].prefix`,
      at: 'prefix: "calls/{phone}/{phone}/"',
      fix: 'the prefix needs exactly one placeholder {phone}',
    },
    {
      rule: 'an S3 prefix does not end with "/"',
      source: edit('prefix: "calls/{phone}/"', 'prefix: "calls/{phone}"'),
      path: `${store('call-recordings')}.locate[0].prefix`,
      at: 'prefix: "calls/{phone}"',
      fix: 'the prefix must start with a fixed folder and end with "/", e.g. "calls/{phone}/", so one subject\'s prefix never matches another\'s',
    },
    {
      rule: 'an S3 prefix starts with the placeholder',
      source: edit('prefix: "calls/{phone}/"', 'prefix: "{phone}/calls/"'),
      path: `${store('call-recordings')}.locate[0].prefix`,
      at: 'prefix: "{phone}/calls/"',
      fix: 'the prefix must start with a fixed folder and end with "/"',
    },
    {
      rule: 'an S3 store mixes prefix and jsonLines rules',
      source: edit(
        '        prefix: "calls/{phone}/"\n',
        '        prefix: "calls/{phone}/"\n      - identity: phone\n        jsonLines: { prefix: "cdr/", field: caller }\n',
      ),
      path: `${store('call-recordings')}.locate`,
      at: '    locate:\n      - identity: phone\n        prefix: "calls/',
      fix: 'a store holds either per-subject objects (prefix) or shared objects (jsonLines or parquet), not both; split it in two stores',
    },
    {
      rule: 'a per-subject S3 store keeps an identity index',
      source: edit(
        '        prefix: "calls/{phone}/"\n',
        '        prefix: "calls/{phone}/"\n    identityIndex: true\n',
      ),
      path: `${store('call-recordings')}.identityIndex`,
      at: 'identityIndex: true',
      fix: 'the identity index is for objects shared by many subjects (jsonLines or parquet rules)',
    },
    {
      rule: 'an S3 store mixes jsonLines and parquet rules',
      source: edit(
        '        jsonLines: { prefix: "clicks/", field: cookieId }\n',
        '        jsonLines: { prefix: "clicks/", field: cookieId }\n      - identity: cookieId\n        parquet: { prefix: "bids/", field: user.buyeruid }\n',
      ),
      path: `${store('clickstream')}.locate`,
      at: '    locate:\n      - identity: cookieId\n        jsonLines:',
      fix: 'a store holds either shared JSON-lines objects (jsonLines) or shared Parquet objects (parquet), not both; split it in two stores',
    },
    {
      rule: 'a parquet field path has an empty segment',
      source: edit(
        'jsonLines: { prefix: "clicks/", field: cookieId }',
        'parquet: { prefix: "clicks/", field: "user..buyeruid" }',
      ),
      path: `${store('clickstream')}.locate[0].parquet.field`,
      at: 'field: "user..buyeruid"',
      fix: 'must be a column name, or a dotted path into nested (struct) columns such as "user.email"',
    },
    {
      rule: 'a JSON-lines store is erased by delete',
      source: edit('erase: { action: rewrite }', 'erase: { action: delete }'),
      path: `${store('clickstream')}.erase.action`,
      at: 'erase: { action: delete }\n    retention:\n      period: P90D',
      fix: "JSON-lines objects are shared by many subjects: use erase.action: rewrite, which removes only the subject's lines",
    },
    {
      rule: 'a per-subject S3 store is erased by rewrite',
      source: edit(
        '    erase: { action: delete }\n    retention:\n      period: P6M',
        '    erase: { action: rewrite }\n    retention:\n      period: P6M',
      ),
      path: `${store('recruitment')}.erase.action`,
      at: 'erase: { action: rewrite }\n    retention:\n      period: P6M',
      fix: 'per-subject objects are erased by deleting them: use erase.action: delete',
    },
    {
      rule: 'an S3 store is anonymised without mask rules',
      source: edit(clickstreamRetention, clickstreamRetention.replace('action: delete', 'action: anonymise')),
      path: `${store('clickstream')}.retention.action`,
      at: 'action: anonymise',
      fix: "anonymise uses the store's mask rules: set erase.action to mask with fields, or use action: delete",
    },
    {
      rule: 'a DynamoDB store is anonymised without mask rules',
      source: edit(
        '      from: { attribute: eventAt, format: epochMillis }\n      action: delete',
        '      from: { attribute: eventAt, format: epochMillis }\n      action: anonymise',
      ),
      path: `${store('ad-events')}.retention.action`,
      at: 'action: anonymise',
      fix: "anonymise uses the store's mask rules",
    },
    {
      rule: 'an S3 retention runs from an attribute',
      source: edit(
        recruitmentRetention,
        recruitmentRetention.replace('{ lastModified: true }', '{ attribute: uploadedAt }'),
      ),
      path: `${store('recruitment')}.retention.from`,
      at: 'from: { attribute: uploadedAt }',
      fix: 'S3 retention runs from the object LastModified: from: { lastModified: true }',
    },
    {
      rule: 'an S3 store declares an expiry index',
      source: edit(
        clickstreamRetention,
        `${clickstreamRetention}      expiryIndex: { name: byDay, partitionValue: all }\n`,
      ),
      path: `${store('clickstream')}.retention.expiryIndex`,
      at: 'expiryIndex: { name: byDay',
      fix: 'expiryIndex is for DynamoDB stores; remove it',
    },
    {
      rule: 'an S3 exemption has a condition',
      source: edit(
        recruitmentRetention,
        `${recruitmentRetention}    exemptions:\n      - when: { attribute: status, equals: hired }\n        reason: Files of hired applicants move to the personnel record\n`,
      ),
      path: `${store('recruitment')}.exemptions[0].when`,
      at: 'when: { attribute: status',
      fix: 'S3 objects have no attributes to match; an S3 exemption covers the whole store, so remove when',
    },
  ];

  it.each(cases)('rejects the map when $rule', ({ source, path, at, fix }) => {
    // prepare
    const expected: DataMapIssue = { path, line: lineOf(source, at), message: expect.stringContaining(fix) };

    // act
    const error = rejection(source);

    // assess
    expect(error.name).toBe('DataMapError');
    expect(error.file).toBe(FILE);
    expect(error.issues).toContainEqual(expected);
    expect(error.message).toContain(`Invalid data map ${FILE}: `);
    expect(error.message).toContain(`${path} (line ${expected.line}): ${fix}`);
  });

  it('lists every issue in one error', () => {
    // prepare
    const source = edit(
      'prefix: "calls/{phone}/"',
      'prefix: "calls/"',
      edit('table: adtech-conversions', 'table: adtech-ad-events'),
    );

    // act
    const error = rejection(source);

    // assess
    expect(error.issues.map((issue) => issue.path)).toEqual([
      `${store('conversions')}.table`,
      `${store('call-recordings')}.locate[0].prefix`,
    ]);
  });
});

describe('parseDataMap: schema rules', () => {
  const cases: RuleCase[] = [
    {
      rule: 'a key is unknown (a typo)',
      source: edit('    table: adtech-inquiries', '    tabel: adtech-inquiries'),
      path: `${store('inquiries')}`,
      at: 'tabel: adtech-inquiries',
      fix: 'unknown key "tabel": remove it or check the spelling (see docs/DATAMAP.md)',
    },
    {
      rule: 'a required field is missing (reported on its parent)',
      source: edit('    purpose: Answering inquiries and requests people send us\n', ''),
      path: `${store('inquiries')}.purpose`,
      at: '  - id: inquiries',
      fix: 'required: add a string',
    },
    {
      rule: 'version is missing',
      source: edit('version: 1\n', ''),
      path: 'version',
      at: 'organisation:',
      fix: 'required: set it to 1',
    },
    {
      rule: 'the store kind is unknown',
      source: edit(
        '    kind: s3\n    bucket: adtech-call-recordings',
        '    kind: gcs\n    bucket: adtech-call-recordings',
      ),
      path: `${store('call-recordings')}.kind`,
      at: 'kind: gcs',
      fix: 'expected one of "dynamodb", "s3", got "gcs"',
    },
    {
      rule: 'the erase action is unknown',
      source: edit('erase: { action: rewrite }', 'erase: { action: shred }'),
      path: `${store('clickstream')}.erase.action`,
      at: 'action: shred',
      fix: 'expected one of "delete", "mask", "rewrite", got "shred"',
    },
    {
      rule: 'a lawful basis is not one of GDPR Art. 6',
      source: edit('lawfulBasis: contract', 'lawfulBasis: gut-feeling'),
      path: `${store('partner-contacts')}.lawfulBasis`,
      at: 'lawfulBasis: gut-feeling',
      fix: 'expected one of "consent", "contract", "legal-obligation", "vital-interests", "public-task", "legitimate-interests", got "gut-feeling"',
    },
    {
      rule: 'a store id is not lowercase',
      source: edit('  - id: inquiries', '  - id: Inquiries'),
      path: `${store('inquiries')}.id`,
      at: 'id: Inquiries',
      fix: 'must be lowercase letters, digits and dashes, e.g. "ad-events"',
    },
    {
      rule: 'a list is given where a mapping belongs',
      source: edit('erase: { action: rewrite }', 'erase: [rewrite]'),
      path: `${store('clickstream')}.erase`,
      at: 'erase: [rewrite]',
      fix: 'expected a mapping, got a list',
    },
    {
      rule: 'a mask rule "fixed" has no value',
      source: edit('{ attribute: name, with: fixed, value: "[erased]" }', '{ attribute: name, with: fixed }'),
      path: `${maskField('partner-contacts', 'name')}.value`,
      at: '{ attribute: name, with: fixed }',
      fix: 'with: fixed needs a value, e.g. value: "[erased]"',
    },
    {
      rule: 'a mask rule other than "fixed" has a value',
      source: edit('{ attribute: email, with: hmac }', '{ attribute: email, with: hmac, value: x }'),
      path: `${maskField('partner-contacts', 'email')}.value`,
      at: 'value: x',
      fix: 'value is only used with with: fixed; remove it or set with: fixed (got with: hmac)',
    },
    {
      rule: 'mask has no fields',
      source: replaceMaskFields('      fields: []\n'),
      path: `${store('partner-contacts')}.erase.fields`,
      at: 'fields: []',
      fix: 'mask needs at least one field to mask',
    },
    {
      rule: 'an exemption condition sets two tests',
      source: edit(
        'when: { attribute: role, equals: billing }',
        'when: { attribute: role, equals: billing, exists: true }',
      ),
      path: `${store('partner-contacts')}.exemptions[0].when`,
      at: 'when: { attribute: role',
      fix: 'set exactly one of equals, in or exists',
    },
    {
      rule: 'an exemption gives no real reason',
      source: edit(
        'reason: Billing contacts appear on invoices, which must be kept for 10 years',
        'reason: law',
      ),
      path: `${store('partner-contacts')}.exemptions[0].reason`,
      at: 'reason: law',
      fix: 'give the legal reason in words',
    },
    {
      rule: 'a retention period is not an ISO-8601 duration',
      source: edit('period: P13M', 'period: 13 months'),
      path: `${store('ad-events')}.retention.period`,
      at: 'period: 13 months',
      fix: 'must be an ISO-8601 duration such as P90D, P13M, P7Y or PT12H',
    },
    {
      rule: 'a timestamp format is unknown',
      source: edit('format: epochSeconds', 'format: unix'),
      path: `${store('conversions')}.retention.from`,
      at: 'from: { attribute: convertedAt, format: unix }',
      fix: 'matches none of the allowed forms',
    },
    {
      rule: 'an identity pattern is not a regular expression',
      source: edit('pattern: "u-[0-9a-f]{8}"', 'pattern: "u-[0-9a-f"'),
      path: 'identityTypes.userId.pattern',
      at: 'pattern: "u-[0-9a-f"',
      fix: 'must be a valid JavaScript regular expression',
    },
    {
      rule: 'an identity type names a spelling lethe does not know',
      source: edit(
        '  email:\n    normalise: email\n',
        '  email:\n    normalise: email\n    spellings: [as-given, lower]\n',
      ),
      path: 'identityTypes.email.spellings[1]',
      at: 'spellings: [as-given, lower]',
      fix: 'expected one of "as-given", "trimmed", "upper", got "lower"',
    },
    {
      rule: 'an identity type names a spelling twice',
      source: edit(
        '  email:\n    normalise: email\n',
        '  email:\n    normalise: email\n    spellings: [upper, upper]\n',
      ),
      path: 'identityTypes.email.spellings',
      at: 'spellings: [upper, upper]',
      fix: 'name each spelling once',
    },
    {
      rule: 'a case-sensitive opaque type locates by the upper-case form, which is another identity',
      source: edit(
        '    pattern: "u-[0-9a-f]{8}"\n',
        '    pattern: "u-[0-9a-f]{8}"\n    spellings: [as-given, upper]\n',
      ),
      path: 'identityTypes.userId.spellings',
      at: 'spellings: [as-given, upper]',
      fix: 'upper would be another identity of a case-sensitive opaque type; remove it, or set caseSensitive: false',
    },
    {
      rule: 'a phone type locates by the upper-case form, which has no letters to change',
      source: edit(
        '  phone:\n    normalise: e164\n',
        '  phone:\n    normalise: e164\n    spellings: [upper]\n',
      ),
      path: 'identityTypes.phone.spellings',
      at: 'spellings: [upper]',
      fix: 'upper applies to types whose values have letters',
    },
    {
      rule: 'an identity type is not camelCase',
      source: edit('  userId:\n', '  user_id:\n'),
      path: 'identityTypes.user_id',
      at: 'user_id:',
      fix: 'invalid name: identity type names are camelCase',
    },
    {
      rule: 'a category is not dotted lowercase',
      source: edit(
        'categories: [behaviour.conversions, device.cookie-id, device.ip-address]',
        'categories: [Conversions]',
        edit(
          'categories: [device.cookie-id, device.ip-address, behaviour.conversions]',
          'categories: [behaviour.conversions, device.cookie-id, device.ip-address]',
        ),
      ),
      path: `${store('conversions')}.categories[0]`,
      at: 'categories: [Conversions]',
      fix: 'must be a dotted category such as user.contact.email',
    },
    {
      rule: 'no store is declared',
      source: `${EXAMPLE.slice(0, EXAMPLE.indexOf('stores:'))}stores: []\n`,
      path: 'stores',
      at: 'stores: []',
      fix: 'declare at least one store',
    },
  ];

  it.each(cases)('rejects the map when $rule', ({ source, path, at, fix }) => {
    // prepare
    const line = lineOf(source, at);

    // act
    const error = rejection(source);

    // assess
    expect(error.file).toBe(FILE);
    expect(error.issues).toContainEqual({ path, line, message: expect.stringContaining(fix) });
    expect(error.message).toContain(`${path} (line ${line}): `);
  });
});

describe('parseDataMap and loadDataMap: the file itself', () => {
  it('reports a YAML syntax error with its line', () => {
    // prepare
    const source = edit(
      'purpose: Answering inquiries and requests people send us',
      'purpose: "Answering inquiries and requests people send us',
    );

    // act
    const error = rejection(source);

    // assess
    expect(error.issues).toEqual([
      {
        path: '',
        line: lineOf(source, 'purpose: "Answering'),
        message: 'YAML syntax: Missing closing "quote',
      },
    ]);
    expect(error.message).toBe(
      `Invalid data map ${FILE}: (line ${lineOf(source, 'purpose: "Answering')}): YAML syntax: Missing closing "quote`,
    );
  });

  it('says on its first line how many problems there are and what to do, then one line for each', () => {
    // prepare: two problems in one file
    const source = edit('period: P13M', 'period: P13').replace('version: 1', 'version: 2');

    // act
    const error = rejection(source);

    // assess
    expect(error.issues).toHaveLength(2);
    expect(error.summary).toBe(
      `Invalid data map ${FILE}: 2 problems, each listed below with its path, line and fix; correct them all and run again`,
    );
    expect(error.details).toEqual(
      error.issues.map((issue) => `  - ${issue.path} (line ${issue.line}): ${issue.message}`),
    );
    expect(error.message).toBe([error.summary, ...error.details].join('\n'));
  });

  it('says a single problem on one line, with its fix', () => {
    // act
    const error = rejection(edit('period: P13M', 'period: P13'));

    // assess
    expect(error.details).toEqual([]);
    expect(error.message).toBe(error.summary);
    expect(error.message).not.toContain('\n');
    expect(error.summary).toMatch(
      new RegExp(`^Invalid data map ${FILE}: .*retention\\.period \\(line \\d+\\): `),
    );
  });

  it('reports a key given twice as a syntax error on its line', () => {
    // prepare
    const source = edit(
      '    kind: dynamodb\n    table: adtech-inquiries',
      '    kind: dynamodb\n    kind: s3\n    table: adtech-inquiries',
    );

    // act
    const error = rejection(source);

    // assess
    expect(error.issues).toEqual([
      {
        path: '',
        line: lineOf(source, 'kind: s3\n    table: adtech-inquiries'),
        message: 'YAML syntax: Map keys must be unique',
      },
    ]);
  });

  it('rejects an alias without anchor, which the YAML parser throws for', () => {
    // prepare
    const source = edit('erase: { action: rewrite }', 'erase: *rewrite');

    // act
    const error = rejection(source);

    // assess
    expect(error.issues).toEqual([
      {
        path: '',
        message: expect.stringMatching(/^YAML: Unresolved alias .*; a data map needs no anchors or aliases/),
      },
    ]);
  });

  it('rejects an alias bomb without expanding it', () => {
    // prepare
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (const name of 'bcdefgh') {
      const previous = String.fromCharCode(name.charCodeAt(0) - 1);
      levels.push(`${name}: &${name} [${Array(10).fill(`*${previous}`).join(', ')}]`);
    }

    // act
    const error = rejection(levels.join('\n'));

    // assess
    expect(error.issues[0]?.message).toMatch(/^YAML: Excessive alias count/);
  });

  it.each([
    ['an empty file', ''],
    ['a file of comments', '# the data map\n\n# comes later\n'],
    ['a file with only a document marker', '---\n'],
  ])('rejects %s with how a data map starts', (_, source) => {
    // prepare
    const input = source;

    // act
    const error = rejection(input);

    // assess
    expect(error.issues).toEqual([
      {
        path: '',
        message: 'the file is empty: a data map starts with "version: 1" (see examples/adtech/datamap.yaml)',
      },
    ]);
  });

  it.each([
    ['a list', '- version: 1\n', 'expected a mapping, got a list'],
    ['a string', 'stores and tables\n', 'expected a mapping, got "stores and tables"'],
    ['a number', '42\n', 'expected a mapping, got 42'],
  ])('rejects a document that is %s', (_, source, message) => {
    // prepare
    const input = source;

    // act
    const error = rejection(input);

    // assess
    expect(error.issues).toEqual([{ path: '', line: 1, message }]);
  });

  describe('loadDataMap', () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'lethe-datamap-'));
    });
    afterEach(() => {
      rmSync(dir, { recursive: true, force: true });
    });

    it('names a missing file and how to pass one', () => {
      // prepare
      const file = join(dir, 'missing.yaml');

      // act
      const act = () => loadDataMap(file);

      // assess
      expect(act).toThrow(DataMapError);
      expect(act).toThrow(
        `Invalid data map ${file}: file not found: pass an existing data map, e.g. --datamap examples/adtech/datamap.yaml`,
      );
    });

    it('reports a directory as unreadable', () => {
      // prepare
      const file = dir;

      // act
      const act = () => loadDataMap(file);

      // assess
      expect(act).toThrow('cannot read the file (EISDIR)');
    });

    it('names the file in errors about its content', () => {
      // prepare
      const file = join(dir, 'datamap.yaml');
      writeFileSync(file, edit('period: P13M', 'period: P13'));

      // act
      const act = () => loadDataMap(file);

      // assess
      expect(act).toThrow(
        `Invalid data map ${file}: ${store('ad-events')}.retention.period (line ${lineOf(EXAMPLE, 'period: P13M')}): `,
      );
    });
  });
});

describe('parseDataMap: robustness', () => {
  type Path = (string | number)[];

  /** Every path in a parsed YAML value, the root included. */
  function paths(value: unknown, prefix: Path = []): Path[] {
    const children = Array.isArray(value)
      ? value.flatMap((item, index) => paths(item, [...prefix, index]))
      : typeof value === 'object' && value !== null
        ? Object.entries(value).flatMap(([key, child]) => paths(child, [...prefix, key]))
        : [];
    return [prefix, ...children];
  }

  function parentOf(root: unknown, path: Path): { parent: unknown; key: string | number } | undefined {
    if (path.length === 0) return undefined;
    let parent = root as Record<string | number, unknown>;
    for (const segment of path.slice(0, -1)) parent = parent[segment] as Record<string | number, unknown>;
    return { parent, key: path[path.length - 1]! };
  }

  const junk = fc.oneof(
    fc.string({ maxLength: 20 }),
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.array(fc.string({ maxLength: 8 }), { maxLength: 3 }),
    fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 3 }),
    fc.constantFrom(
      'delete',
      'mask',
      'rewrite',
      'dynamodb',
      's3',
      'email',
      'P1Y',
      '{phone}',
      'calls/{phone}/',
    ),
  );
  const mutation = fc.record({
    kind: fc.constantFrom('delete', 'replace', 'insert'),
    at: fc.nat(),
    key: fc.oneof(
      fc.string({ maxLength: 12 }),
      fc.constantFrom('index', 'prefix', 'when', 'fields', 'sortKey'),
    ),
    value: junk,
  });

  type MutationStep = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

  function mutate(document: unknown, mutations: MutationStep[]): unknown {
    let root = structuredClone(document);
    for (const { kind, at, key, value } of mutations) {
      const all = paths(root);
      const path = all[at % all.length]!;
      const target = parentOf(root, path);
      if (kind === 'insert') {
        const node =
          path.length === 0 ? root : (target!.parent as Record<string | number, unknown>)[target!.key];
        if (Array.isArray(node)) node.push(value);
        else if (typeof node === 'object' && node !== null) (node as Record<string, unknown>)[key] = value;
      } else if (!target) {
        root = kind === 'delete' ? null : value;
      } else if (Array.isArray(target.parent)) {
        if (kind === 'delete') target.parent.splice(Number(target.key), 1);
        else target.parent[Number(target.key)] = value;
      } else {
        const parent = target.parent as Record<string | number, unknown>;
        if (kind === 'delete') delete parent[target.key];
        else parent[target.key] = value;
      }
    }
    return root;
  }

  /** Parsing either succeeds or throws a DataMapError naming the file: nothing else. */
  function parsesOrNamesTheFile(source: string): boolean {
    try {
      parseDataMap(source, FILE);
      return true;
    } catch (error) {
      expect(error).toBeInstanceOf(DataMapError);
      const dataMapError = error as DataMapError;
      expect(dataMapError.message.startsWith(`Invalid data map ${FILE}: `)).toBe(true);
      expect(dataMapError.issues.length).toBeGreaterThan(0);
      for (const issue of dataMapError.issues) {
        expect(typeof issue.message).toBe('string');
        if (issue.line !== undefined) expect(Number.isInteger(issue.line) && issue.line > 0).toBe(true);
      }
      return false;
    }
  }

  const example = parse(EXAMPLE) as unknown;

  it('loads the example after a YAML round trip (the mutations start from a valid map)', () => {
    // prepare
    const source = stringify(example);

    // act
    const accepted = parsesOrNamesTheFile(source);

    // assess
    expect(accepted).toBe(true);
  });

  it('accepts or rejects with DataMapError any mutation of the example: deleted keys, replaced values, junk keys', () => {
    // prepare
    let rejected = 0;
    const run = propertyRun({ numRuns: 200 });

    // act
    const act = () =>
      fc.assert(
        fc.property(fc.array(mutation, { minLength: 1, maxLength: 3 }), (mutations) => {
          if (!parsesOrNamesTheFile(stringify(mutate(example, mutations)))) rejected += 1;
        }),
        run,
      );

    // assess
    expect(act).not.toThrow();
    expect(rejected).toBeGreaterThan(run.numRuns / 2); // most mutations break the map: the error path is exercised
  });

  it('accepts or rejects with DataMapError any edit of the example text', () => {
    // prepare
    const edits = fc.record({
      at: fc.nat({ max: EXAMPLE.length }),
      remove: fc.nat({ max: 40 }),
      insert: fc.oneof(
        fc.string({ maxLength: 10 }),
        fc.constantFrom(
          ':',
          '- ',
          '{',
          '}',
          '[',
          ']',
          '"',
          "'",
          '&a ',
          '*a',
          '!!binary ',
          '\t',
          '\n  ',
          '#',
          '? ',
          '|',
        ),
      ),
    });

    // act
    const act = () =>
      fc.assert(
        fc.property(fc.array(edits, { minLength: 1, maxLength: 3 }), (changes) => {
          let source = EXAMPLE;
          for (const { at, remove, insert } of changes) {
            source = source.slice(0, at) + insert + source.slice(at + remove);
          }
          parsesOrNamesTheFile(source);
        }),
        propertyRun({ numRuns: 200 }),
      );

    // assess
    expect(act).not.toThrow();
  });

  it('rejects random strings and random YAML values with DataMapError', () => {
    // prepare
    const sources = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.string({ maxLength: 200 }),
      fc.jsonValue().map((value) => String(stringify(value) ?? '')),
      fc.anything().map((value) => {
        try {
          return String(stringify(value) ?? '');
        } catch {
          return String(value);
        }
      }),
    );

    // act
    const act = () =>
      fc.assert(
        fc.property(sources, (source) => {
          parsesOrNamesTheFile(source);
        }),
        propertyRun({ numRuns: 500 }),
      );

    // assess
    expect(act).not.toThrow();
  });
});

describe('kmsKeyArn', () => {
  const withKey = (kmsKeyArn: string) => {
    const map = parse(EXAMPLE) as { stores: Record<string, unknown>[] };
    map.stores[0] = { ...map.stores[0], kmsKeyArn };
    return stringify(map);
  };

  it('takes a key ARN', () => {
    const key = 'arn:aws:kms:eu-west-1:111122223333:key/11111111-1111-1111-1111-111111111111';
    expect(parseDataMap(withKey(key), FILE).stores[0]?.kmsKeyArn).toBe(key);
  });

  it('refuses an alias, saying it must be a key ARN', () => {
    expect(() => parseDataMap(withKey('arn:aws:kms:eu-west-1:111122223333:alias/stores'), FILE)).toThrow(
      /stores\[0\]\.kmsKeyArn.*must be a KMS key ARN/,
    );
  });
});
