import type { S3Request } from './context';
import { AccessDenied, S3Error } from './errors';
import type { BucketRecord } from './store/model';

export function noSuchBucket(name: string): S3Error {
  return new S3Error('NoSuchBucket', 404, 'The specified bucket does not exist', [['BucketName', name]]);
}

/**
 * The bucket a request names, owned by the caller's account. Other accounts (and anonymous
 * callers) are denied until bucket policies can grant them access.
 */
export function requireBucket(req: S3Request): BucketRecord {
  const bucket = req.state.meta.getBucket(req.bucket!);
  if (!bucket) throw noSuchBucket(req.bucket!);
  if (!req.credentials || req.credentials.accountId !== bucket.accountId) throw new AccessDenied();
  return bucket;
}
