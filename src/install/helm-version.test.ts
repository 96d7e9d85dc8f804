import { helmTooOld } from './helm-version.js';

test('install takes Helm 3.14 and later, and Helm 4; an older or unreadable one is named', () => {
  expect(helmTooOld('v4.3.2\n')).toBeUndefined();
  expect(helmTooOld('v3.14.0+g3fc9f4b')).toBeUndefined();
  expect(helmTooOld('v3.19.5+g1234567\n')).toBeUndefined();
  expect(helmTooOld('v3.13.3+gc8b9489')).toBe('helm v3.13.3+gc8b9489 is too old: install needs 3.14 or later (helm get metadata, upgrade --reset-then-reuse-values)');
  expect(helmTooOld('v2.17.0+ga690bad')).toMatch(/^helm v2\.17\.0\+ga690bad is too old/);
  expect(helmTooOld('')).toBe('helm version --short printed "", not a version');
});
