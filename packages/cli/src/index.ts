export { startSealbox } from './sandbox';
export type { Sealbox, SealboxOptions } from './sandbox';
export { parseStartOptions, UsageError, DEFAULTS } from './options';
export type { StartOptions } from './options';
export { loadSeed, parseSeed, SeedError, EMPTY_SEED } from './seed';
export type { Seed, SeedBucket, SeedObject, SeedCorsRule, SeedReport } from './seed';
export { applySeedInProcess, applySeedRemote, checkSeed, seedSummary } from './apply-seed';
export { SEED_EXAMPLE } from './seed-example';
export { DataDirLockedError } from './lock';
