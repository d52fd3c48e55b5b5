import { buildCheckReport, type StoreCounts } from '../../../lib/check/report';
import type { SourceTally } from '../../../lib/check/tally';
import type { ValueSource } from '../../../lib/stores';

/** The check report: what the counts mean for locate, from counts alone. */

function tally(source: ValueSource, counts: Partial<SourceTally> = {}): SourceTally {
  return {
    ...source,
    records: 10,
    values: 10,
    missing: 0,
    notNormalising: 0,
    notNormalised: 0,
    onlyAsGiven: 0,
    ...counts,
  };
}

const byTable: ValueSource = {
  role: 'locate',
  identity: 'customerId',
  use: 'table',
  attribute: 'customerId',
};
const byIndex: ValueSource = {
  role: 'locate',
  identity: 'email',
  use: 'index',
  attribute: 'email',
  index: 'byEmail',
};
const byPrefix: ValueSource = {
  role: 'locate',
  identity: 'phone',
  use: 'prefix',
  attribute: 'calls/{phone}/',
  keyPrefix: 'calls/',
};
const byLines: ValueSource = {
  role: 'locate',
  identity: 'email',
  use: 'jsonLines',
  attribute: 'email',
  keyPrefix: 'support/',
};
const link: ValueSource = { role: 'link', identity: 'phone', use: 'link', attribute: 'phone' };

function store(storeId: string, sources: SourceTally[], kind: 'dynamodb' | 's3' = 'dynamodb'): StoreCounts {
  return { storeId, kind, records: 10, malformedLines: 0, unreadableObjects: 0, sources };
}

describe('buildCheckReport', () => {
  it('counts as missed, where locate matches exact text, every value that is not in normalised form', () => {
    // Act
    const report = buildCheckReport([
      store('customers', [
        tally(byTable),
        tally(byIndex, { notNormalised: 3, onlyAsGiven: 2, notNormalising: 1 }),
      ]),
      store('calls', [tally(byPrefix, { notNormalised: 2 })], 's3'),
    ]);

    // Assess
    expect(
      report.stores.map((s) => s.sources.map((source) => [source.exactMatch, source.wouldMiss])),
    ).toEqual([
      [
        [true, 0],
        [true, 4],
      ],
      [[true, 2]],
    ]);
    expect(report.stores.map((s) => s.wouldMiss)).toEqual([4, 2]);
    expect(report).toMatchObject({ wouldMiss: 6, clean: false });
  });

  it('counts as missed in JSON lines only what does not normalise, since lines are compared normalised', () => {
    // Act
    const report = buildCheckReport([
      store('support', [tally(byLines, { notNormalised: 7, onlyAsGiven: 3 })], 's3'),
      store('support-2', [tally(byLines, { notNormalising: 2, notNormalised: 7 })], 's3'),
    ]);

    // Assess
    expect(report.stores.map((s) => [s.sources[0]?.exactMatch, s.sources[0]?.wouldMiss])).toEqual([
      [false, 0],
      [false, 2],
    ]);
    expect(report).toMatchObject({ wouldMiss: 2, clean: false });
  });

  it('never counts links as missed, whatever their values: they are read from records already found', () => {
    // Act
    const report = buildCheckReport([
      store('customers', [tally(byTable), tally(link, { notNormalising: 4, notNormalised: 5, missing: 2 })]),
    ]);

    // Assess
    expect(report.stores[0]?.sources[1]).toMatchObject({
      exactMatch: false,
      wouldMiss: null,
      notNormalising: 4,
    });
    expect(report).toMatchObject({ wouldMiss: 0, clean: true });
  });

  it('is clean with no stores, and keeps the counts as they came', () => {
    expect(buildCheckReport([])).toEqual({ stores: [], wouldMiss: 0, clean: true });
    const counts = store('x', [tally(byIndex, { missing: 3, values: 7 })]);
    expect(buildCheckReport([counts]).stores[0]).toMatchObject({
      storeId: 'x',
      records: 10,
      sources: [{ identity: 'email', index: 'byEmail', missing: 3, values: 7 }],
    });
  });
});
