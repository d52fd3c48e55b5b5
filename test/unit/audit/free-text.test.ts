import {
  assertNoIdentifiers,
  InvalidFreeTextError,
  MAX_FREE_TEXT_LENGTH,
} from '../../../lib/audit/free-text';

const subject = [
  { type: 'email', value: 'ada@example.com' },
  { type: 'phone', value: '+493010882808' },
  { type: 'cookieId', value: 'ck-7f3a9b', spellings: ['CK-7F3A9B-legacy'] },
];

describe('assertNoIdentifiers', () => {
  it.each([
    ['an identity in another case', 'Asked by ADA@example.com'],
    ['a linked phone with separators', 'Caller on 030 / 1088 2808 complained'],
    ['a cookie id', 'Disputed profile ck-7f3a9b'],
    ['a stored spelling', 'Disputed profile ck-7f3a9b-LEGACY'],
    ['anyone’s email address', 'Ask counsel@lawfirm.example'],
    ['an international phone number', 'Call +44 20 7946 0958'],
  ])('refuses %s, naming the field and not the value', (_name, text) => {
    // act
    const check = () => assertNoIdentifiers(text, subject, 'the reason (--reason)');

    // assess
    expect(check).toThrow(InvalidFreeTextError);
    expect(check).toThrow(/^the reason \(--reason\) holds .*audit log.*case/);
    expect(() => check()).not.toThrow(/ada|1088|ck-7f|counsel|7946/i);
  });

  it('refuses text longer than the limit, before looking inside', () => {
    // act
    const check = () => assertNoIdentifiers('x'.repeat(MAX_FREE_TEXT_LENGTH + 1), subject, 'the note');

    // assess
    expect(check).toThrow(/^the note is 1001 characters long; keep it to 1000/);
  });

  it.each([
    ['a case number', 'Litigation hold, case 2026-0042'],
    ['a request id', 'Duplicate of 3f1c0e6e-4b8a-4c1e-9a51-2f1b7b9d2f10'],
    ['text at the limit', 'y'.repeat(MAX_FREE_TEXT_LENGTH)],
  ])('accepts %s', (_name, text) => {
    // act / assess
    expect(() => assertNoIdentifiers(text, subject, 'the note')).not.toThrow();
  });
});
