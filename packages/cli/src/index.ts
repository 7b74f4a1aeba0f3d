export { startSealbox } from './sandbox';
export type { Sealbox, SealboxOptions } from './sandbox';
export { parseStartOptions, UsageError, DEFAULTS } from './options';
export type { StartOptions } from './options';
export { loadSeed, parseSeed, SeedError } from './seed';
export type { Seed } from './seed';
export { DataDirLockedError } from './lock';
