import { ZipFile } from 'yazl';
import { packageFileName } from '../../../lib/rights/export';

describe('file names of objects in the export package', () => {
  it.each([
    ['calls/+4930123/2024-02-01.wav', 'files/call-recordings/calls/+4930123/2024-02-01.wav'],
    ['calls/+4930123/', 'files/call-recordings/calls/+4930123%2F'],
    ['calls/../escape.wav', 'files/call-recordings/calls/%2E%2E/escape.wav'],
    ['calls\\..\\escape.wav', 'files/call-recordings/calls%5C..%5Cescape.wav'],
  ])('packages %j as %j, a name the zip accepts', (key, expected) => {
    // act
    const name = packageFileName('call-recordings', key);

    // assess
    expect(name).toBe(expected);
    expect(() => new ZipFile().addBuffer(Buffer.from('x'), name)).not.toThrow();
  });
});
