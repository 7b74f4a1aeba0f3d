// Starts the sandbox once, before every test file; test files find it through the environment
// (AWS_ENDPOINT_URL_KMS, AWS_ENDPOINT_URL_S3, credentials, region), as the AWS SDKs read it.
// In your project: require('@sealbox/testing').
const { startSandbox } = require('../..');

module.exports = async () => {
  const sandbox = await startSandbox();
  Object.assign(process.env, sandbox.env);
  globalThis.__SEALBOX__ = sandbox;
};
