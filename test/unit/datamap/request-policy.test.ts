import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataMapError, parseDataMap } from '../../../lib/datamap';

/** The data map's request policy names request types and jurisdictions lethe knows, or fails naming the value. */

const EXAMPLE = readFileSync(join(__dirname, '../../../examples/adtech/datamap.yaml'), 'utf8');
const RULE = '  - types: [portability]\n    jurisdictions: [ccpa]\n';

function messagesOf(source: string): string[] {
  try {
    parseDataMap(source, 'datamap.yaml');
  } catch (error) {
    if (error instanceof DataMapError) return error.issues.map((issue) => `${issue.path}: ${issue.message}`);
    throw error;
  }
  throw new Error('the data map was accepted');
}

describe('requestPolicy', () => {
  it('accepts every jurisdiction lethe knows, the US states and the UK and Swiss laws among them', () => {
    // prepare
    const source = EXAMPLE.replace(
      RULE,
      '  - types: [portability, erasure]\n    jurisdictions: [us-va, us-co, uk-gdpr, fadp]\n',
    );

    // act
    const map = parseDataMap(source, 'datamap.yaml');

    // assess
    expect(EXAMPLE).toContain(RULE);
    expect(map.requestPolicy[0]?.jurisdictions).toEqual(['us-va', 'us-co', 'uk-gdpr', 'fadp']);
  });

  it.each([
    [
      'a misspelt jurisdiction',
      '  - types: [portability]\n    jurisdictions: [california]\n',
      'requestPolicy[0].jurisdictions[0]: expected one of "gdpr", "uk-gdpr", "fadp", "ccpa", "us-ca"',
    ],
    [
      'a misspelt request type',
      '  - types: [portabilty]\n    jurisdictions: [ccpa]\n',
      'requestPolicy[0].types[0]: expected one of "access", "portability"',
    ],
  ])('refuses %s, naming the value and what it may be', (_case, rule, message) => {
    // act
    const messages = messagesOf(EXAMPLE.replace(RULE, rule));

    // assess
    expect(messages).toEqual([expect.stringContaining(message)]);
    expect(messages[0]).toMatch(/got "(california|portabilty)"$/);
  });
});
