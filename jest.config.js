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
  setupFiles: ['<rootDir>/jest.setup.js'],
};
