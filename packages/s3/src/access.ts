import type { S3Request } from './context';
import { S3Error } from './errors';
import type { BucketRecord } from './store/model';

export function noSuchBucket(name: string): S3Error {
  return new S3Error('NoSuchBucket', 404, 'The specified bucket does not exist', [['BucketName', name]]);
}

/**
 * The bucket a request names. The caller was authorized for the operation before its handler ran
 * (authorizeOperation, in authorization.ts); this only finds the bucket.
 */
export function requireBucket(req: S3Request): BucketRecord {
  const bucket = req.state.meta.getBucket(req.bucket!);
  if (!bucket) throw noSuchBucket(req.bucket!);
  return bucket;
}
