/** @type {import('jest').Config} */
const shared = {
  moduleFileExtensions: ['js', 'json', 'ts'],
  testEnvironment: 'node',
  // Type checking is `npm run typecheck`'s job; tests transpile only, which keeps them fast.
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.spec.json' }] },
  moduleNameMapper: { '^@app/redis(|/.*)$': '<rootDir>/libs/redis/src$1' },
  rootDir: __dirname,
};

module.exports = {
  projects: [
    {
      ...shared,
      displayName: 'unit',
      testMatch: ['<rootDir>/apps/**/*.spec.ts', '<rootDir>/libs/**/*.spec.ts'],
    },
    {
      ...shared,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/**/*.int-spec.ts'],
    },
    {
      ...shared,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
    },
  ],
  collectCoverageFrom: [
    'apps/**/src/**/*.ts',
    'libs/**/src/**/*.ts',
    '!**/*.spec.ts',
    '!apps/api/src/main.ts',
    '!**/index.ts',
  ],
  coverageThreshold: { global: { lines: 85 } },
  coverageReporters: ['text-summary', 'text', 'lcov'],
  // Each test file starts its own redis-server; two workers suit the 2-core machines.
  maxWorkers: 2,
  testTimeout: 30000,
};
