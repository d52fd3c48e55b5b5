import { csvCell } from '../../../lib/rights/export';

describe('CSV cells of the portability export', () => {
  it.each([
    ['=HYPERLINK("http://evil.test","click")', `"'=HYPERLINK(""http://evil.test"",""click"")"`],
    ['+1+cmd|calc', "'+1+cmd|calc"],
    ['-2+3', "'-2+3"],
    ['@SUM(A1:A9)', "'@SUM(A1:A9)"],
    ['\t=1', "'\t=1"],
    ['\r=1', `"'\r=1"`],
  ])('neutralises the formula %j', (value, cell) => {
    // act / assess
    expect(csvCell(value)).toBe(cell);
  });

  it.each([
    ['-12.5', '-12.5'],
    [-3, '-3'],
    ['+49', '+49'],
    ['ada@example.com', 'ada@example.com'],
    ['a, b', '"a, b"'],
    [{ nested: true }, '"{""nested"":true}"'],
  ])('keeps %j as it is', (value, cell) => {
    expect(csvCell(value)).toBe(cell);
  });
});
