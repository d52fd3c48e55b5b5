import { laterLock, objectLockExemption } from '../../../lib/stores/s3/lock';

describe('S3 Object Lock: how a kept object is reported', () => {
  it('names Object Lock, the mode and the retain-until date in the reason, and gives the date apart', () => {
    // Act
    const exemption = objectLockExemption({
      retainUntil: new Date('2031-05-01T00:00:00.000Z'),
      mode: 'COMPLIANCE',
      legalHold: false,
    });

    // Assess
    expect(exemption).toEqual({
      source: 'object-lock',
      reason:
        'S3 Object Lock retention (COMPLIANCE mode) until 2031-05-01T00:00:00.000Z: a version of the object cannot be deleted before then',
      retainUntil: '2031-05-01T00:00:00.000Z',
    });
  });

  it('says a legal hold keeps it until removed, with no date', () => {
    expect(objectLockExemption({ legalHold: true })).toEqual({
      source: 'object-lock',
      reason:
        'S3 Object Lock legal hold: a version of the object cannot be deleted until the hold is removed',
    });
  });

  it('keeps an object with several locked versions until the latest date, and while any legal hold is on', () => {
    // Prepare
    const early = { retainUntil: new Date('2030-01-01T00:00:00.000Z'), mode: 'GOVERNANCE', legalHold: true };
    const late = { retainUntil: new Date('2040-01-01T00:00:00.000Z'), mode: 'COMPLIANCE', legalHold: false };

    // Act + Assess
    expect(laterLock(early, late)).toEqual({ ...late, legalHold: true });
    expect(laterLock(late, early)).toEqual({ ...late, legalHold: true });
    expect(laterLock(undefined, early)).toEqual(early);
    expect(laterLock({ legalHold: true }, late)).toEqual({ ...late, legalHold: true });
  });
});
