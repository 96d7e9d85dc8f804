// Unit tests sit beside the code (src/**/*.test.ts); integration tests start real processes (test/).
const common = {
  preset: undefined,
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.test.json' }] },
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
};
export default {
  projects: [
    { ...common, displayName: 'unit', roots: ['<rootDir>/src', '<rootDir>/steps'], testMatch: ['**/*.test.ts'] },
    { ...common, displayName: 'integration', roots: ['<rootDir>/test'], testMatch: ['**/*.test.ts'] },
  ],
  testTimeout: 120000,
  // One temporary folder per jest run, removed at its end (test/global-setup.js).
  globalSetup: '<rootDir>/test/global-setup.js',
  globalTeardown: '<rootDir>/test/global-teardown.js',
};
