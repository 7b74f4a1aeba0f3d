export { createKmsService, startKmsServer } from './server';
export type { KmsService, KmsServiceOptions, KmsServerOptions } from './server';
export { KmsCore } from './core';
export { KMS_OPERATIONS } from './operations';
export * from './errors';
