import { buildCheckReport } from '../../../lib/check';
import { describeCheck } from '../../../lib/cli/commands/check';

/** The text report of lethe check, from counts alone. */
describe('describeCheck', () => {
  const counts = { records: 3, values: 3, missing: 0, notNormalising: 0, notNormalised: 0, onlyAsGiven: 0 };

  it('prints a row per source, a dash where links cannot miss, notes on broken lines, and the misses', () => {
    // prepare
    const report = buildCheckReport([
      {
        storeId: 'support',
        kind: 's3',
        records: 3,
        malformedLines: 2,
        unreadableObjects: 1,
        sources: [
          {
            role: 'locate',
            identity: 'email',
            use: 'jsonLines',
            attribute: 'email',
            keyPrefix: 'support/',
            ...counts,
          },
          { role: 'link', identity: 'phone', use: 'link', attribute: 'phone', ...counts, notNormalised: 2 },
        ],
      },
      {
        storeId: 'customers',
        kind: 'dynamodb',
        records: 3,
        malformedLines: 0,
        unreadableObjects: 0,
        sources: [
          {
            role: 'locate',
            identity: 'email',
            use: 'index',
            attribute: 'email',
            index: 'byEmail',
            ...counts,
            notNormalised: 2,
            onlyAsGiven: 1,
          },
        ],
      },
    ]);

    // act
    const lines = describeCheck(report).split('\n');

    // assess
    expect(lines[0]).toBe('Checked 2 store(s), 6 record(s); read only, no value printed.');
    expect(lines[2]).toMatch(
      /^support +locate email +JSON field email under support\/ +3 +3 +0 +0 +0 +0 +0$/,
    );
    expect(lines[3]).toMatch(/^support +link phone +attribute phone +3 +3 +0 +0 +2 +0 +-$/);
    expect(lines[4]).toMatch(/^customers +locate email +index byEmail key email +3 +3 +0 +0 +2 +1 +2$/);
    expect(lines.slice(5)).toEqual([
      'support: 2 line(s) are not JSON objects; no rule can match them.',
      'support: 1 object(s) are compressed; locate cannot read their lines.',
      'Locate would miss 2 record(s) whose value is not in normalised form:',
      '  customers by email (index byEmail key email): 2',
      'Keep a normalised copy of the attribute with its own index and locate by it: see "Values locate cannot reach" in docs/DATAMAP.md.',
    ]);
  });
});
