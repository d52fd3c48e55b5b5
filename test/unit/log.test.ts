import { createLogger, identifierIn, redactIdentifiers } from '../../lib/log';

describe('redactIdentifiers', () => {
  it.each([
    ['an email', 'mail ada.lovelace@example.com now', 'mail [email] now'],
    ['a phone in international form', 'call +49 30 1234567', 'call [phone]'],
    ['a phone with 00 prefix', 'call 0049301234567', 'call [phone]'],
    ['an IPv4 address', 'from 203.0.113.7', 'from [ip]'],
    ['a compressed IPv6 address', 'from 2001:db8::1', 'from [ip]'],
    ['a full IPv6 address', 'from fe80:0:0:0:1:2:3:4', 'from [ip]'],
    ['a cookie id (UUID)', 'cookie 0000000a-aaaa-4bbb-8ccc-000000000001', 'cookie [id]'],
  ])('hides %s', (_name, text, expected) => {
    // act
    const redacted = redactIdentifiers(text);

    // assess
    expect(redacted).toBe(expected);
  });

  it.each([
    ['a timestamp', 'at 2026-11-29T12:04:15.334Z'],
    ['a count', 'erased 1234567 items'],
    ['a clock time', 'took until 12:04:15'],
  ])('keeps %s', (_name, text) => {
    // act
    const redacted = redactIdentifiers(text);

    // assess
    expect(redacted).toBe(text);
  });

  it('hides known values of the subject even when they look like nothing special', () => {
    // act
    const redacted = redactIdentifiers('account u-5b7009a7 failed', ['u-5b7009a7']);

    // assess
    expect(redacted).toBe('account [redacted] failed');
  });

  it.each([
    ['in another case', 'mail Ada.Lovelace@Example.COM failed', 'ada.lovelace@example.com'],
    ['a cookie id in upper case', 'cookie ABCDEF12-xyz failed', 'abcdef12-xyz'],
    ['a phone with spaces', 'folder calls/+49 30 1088 2808/ failed', '+493010882808'],
    ['a phone with 00 and dashes', 'folder 0049-30-10882808 failed', '+493010882808'],
    ['a phone as written at home', 'folder (030) 1088-2808 failed', '+493010882808'],
    ['a phone without its country code or trunk 0', 'folder 3010882808 failed', '+493010882808'],
  ])('hides a known value spelled %s', (_name, text, value) => {
    // act
    const redacted = redactIdentifiers(text, [value]);

    // assess
    expect(redacted).toMatch(/^\S+ \S*\[redacted\]\S* failed$/);
  });

  it('keeps a longer number that only contains a known phone number', () => {
    // act / assess
    expect(identifierIn('order 4930108828089', ['+493010882808'])).toBeUndefined();
  });
});

describe('identifierIn', () => {
  it.each([
    ['a known value in any spelling', 'as agreed with +49 (30) 1088 2808', 'known'],
    ['an email address', 'requested by counsel@lawfirm.example', 'email'],
    ['an international phone number', 'call back on +44 20 7946 0958', 'phone'],
  ])('finds %s', (_name, text, kind) => {
    // act / assess
    expect(identifierIn(text, ['+493010882808'])).toBe(kind);
  });

  it.each([
    ['a case number', 'Litigation hold, case 2026-0042'],
    ['an invoice number', 'Disputed invoice 4711, see ticket 0042-2026'],
    ['a date', 'until the hearing on 2026-11-29'],
  ])('finds nothing in %s', (_name, text) => {
    // act / assess
    expect(identifierIn(text, ['+493010882808'])).toBeUndefined();
  });
});

describe('createLogger', () => {
  it('writes JSON lines with level, time and fields, redacting identifiers but not its own timestamp', () => {
    // prepare
    const lines: string[] = [];
    const log = createLogger({ level: 'info', write: (line) => lines.push(line) });

    // act
    log.debug('not written');
    log.info('located', { requestId: 'r-1', note: 'ada@example.com' });

    // assess
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(entry).toMatchObject({ level: 'info', message: 'located', requestId: 'r-1', note: '[email]' });
    expect(String(entry.time)).toMatch(/^\d{4}-\d{2}-\d{2}T/);
  });
});
