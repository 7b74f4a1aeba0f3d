// A jest project that shares one Sealbox sandbox across all its test files.
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  rootDir: __dirname,
  testMatch: ['**/*.example.js'],
  globalSetup: './global-setup.js',
  globalTeardown: './global-teardown.js',
};
