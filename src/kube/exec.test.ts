import { exitCodeOf } from './exec.js';

test('the exit code of an exec is in the status the API server sends at its end', () => {
  expect(exitCodeOf({ status: 'Success' })).toBe(0);
  expect(exitCodeOf({ status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '3' }] } })).toBe(3);
  expect(exitCodeOf({ status: 'Failure', message: 'container not found' })).toBeNull();
});
