export { createKmsApp, startKmsServer } from './server';
export type { KmsServiceOptions, KmsServerOptions } from './server';
export { KMS_OPERATIONS } from './operations';
export * from './errors';
