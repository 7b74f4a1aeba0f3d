export { createKmsService, startKmsServer } from './server';
export type { KmsService, KmsServiceOptions, KmsServerOptions } from './server';
export { KmsCore, seededMaterialIds } from './core';
export { KMS_OPERATIONS } from './operations';
export * from './errors';
export { applyKmsSeed, decodeSeedMaterial, isSeedKeyId, KmsSeedError, seedKeysFromJson, seedKeysToJson } from './seed';
export type { SeedKey, SeedGrant, SeedReport } from './seed';
export { isKeySpec, SPEC_INFO } from './key-specs';
export type { KeySpec, KeyUsage } from './key-specs';
