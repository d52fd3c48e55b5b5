import { getStore } from '../../../lib/datamap/load';
import { valueSources } from '../../../lib/stores';
import { exampleDataMap } from '../../helpers/world';

/** Where each store of the example holds identity values, as the check reads them. */
describe('valueSources', () => {
  const dataMap = exampleDataMap();

  it('lists a DynamoDB store’s locate rules (table or index) and then its links', () => {
    expect(valueSources(getStore(dataMap, 'partner-contacts'))).toEqual([
      { role: 'locate', identity: 'email', use: 'index', attribute: 'email', index: 'byEmail' },
      { role: 'locate', identity: 'userId', use: 'index', attribute: 'userId', index: 'byUser' },
      { role: 'link', identity: 'phone', use: 'link', attribute: 'phone' },
    ]);
    expect(valueSources(getStore(dataMap, 'inquiries'))[0]).toEqual({
      role: 'locate',
      identity: 'email',
      use: 'table',
      attribute: 'email',
    });
  });

  it('lists an S3 store’s rules with the key prefix each covers', () => {
    expect(valueSources(getStore(dataMap, 'call-recordings'))).toEqual([
      { role: 'locate', identity: 'phone', use: 'prefix', attribute: 'calls/{phone}/', keyPrefix: 'calls/' },
    ]);
    expect(valueSources(getStore(dataMap, 'clickstream'))).toEqual([
      { role: 'locate', identity: 'cookieId', use: 'jsonLines', attribute: 'cookieId', keyPrefix: 'clicks/' },
    ]);
  });
});
