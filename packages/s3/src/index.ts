export { createS3Service, startS3Server } from './server';
export type { S3Service, S3ServiceOptions, S3ServerOptions } from './server';
export { ROUTES, matchRoute } from './routes';
export type { Route, Level } from './routes';
export { resolveAddress, DEFAULT_VIRTUAL_HOST_SUFFIXES } from './addressing';
export { S3Error } from './errors';
export { escapeXml, el, s3Document } from './xml';
export { snapshotS3Database, s3DatabaseCounts, referencedBlobIds, blobFile } from './store/snapshot';
export type { S3DatabaseCounts } from './store/snapshot';
