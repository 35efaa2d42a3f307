/** @type {import('jest').Config} */
const shared = {
  moduleFileExtensions: ['js', 'json', 'ts'],
  testEnvironment: 'node',
  // Type checking is `npm run typecheck`'s job; tests transpile only, which keeps them fast.
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.spec.json' }] },
  moduleNameMapper: {
    '^@app/redis(|/.*)$': '<rootDir>/libs/redis/src$1',
    '^@app/client(|/.*)$': '<rootDir>/libs/client/src$1',
  },
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
  // A worker that ran an e2e file (a whole Nest app, ts-jest's compiler) needs more than Jest's
  // default 500 ms to wind down on a loaded 2-core machine, and was then force-killed with "A worker
  // process has failed to exit gracefully" although nothing stays open (--detectOpenHandles finds
  // nothing; with a longer grace period every worker exits by itself). A real leak still shows: a
  // worker that has not exited after 10 s is force-killed with the same warning.
  workerGracefulExitTimeout: 10000,
  // A hang still fails; 30 s was exceeded by healthy tests that start several apps on a loaded machine.
  testTimeout: 60000,
};
