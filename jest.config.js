// Tests run from TypeScript sources, transpiled only (tsc type-checks them before jest runs).
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/packages'],
  testMatch: ['**/test/**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.test.json' }] },
  // packages/cli is published as `sealbox` (packages/testing imports it by that name).
  moduleNameMapper: { '^sealbox$': '<rootDir>/packages/cli/src/index.ts', '^@sealbox/([a-z0-9-]+)$': '<rootDir>/packages/$1/src/index.ts' },
  testTimeout: 30000,
  // Every core: most suites wait on sockets and child processes (the AWS CLI, boto3, Chromium),
  // so two workers on two cores finish well inside the ten minutes `npm test` may take.
  maxWorkers: '100%',
  setupFiles: ['<rootDir>/jest.setup.js'],
};
