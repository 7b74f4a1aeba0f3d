import type { S3Request } from './context';
import { S3Error } from './errors';
import type { BucketRecord, ObjectVersion } from './store/model';

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

/**
 * requireBucket for handlers that only read the bucket's record (GetObject, HeadObject, PutObject):
 * the shared, frozen record (MetadataStore.bucketView), parsed once per change of the bucket.
 */
export function requireBucketView(req: S3Request): BucketRecord {
  const bucket = req.state.meta.bucketView(req.bucket!);
  if (!bucket) throw noSuchBucket(req.bucket!);
  return bucket as BucketRecord;
}

/**
 * The version a request names (the latest without a versionId), as the metadata store holds it,
 * looked up once per request: authorization (s3:ExistingObjectTag, an object's ACL) and the GET
 * handler ask for the same one. The memo holds only while no object was written since
 * (MetadataStore.objectsGeneration), so a write between the two, by this request or another, is
 * seen. Callers must not change the version they get.
 */
export function lookupVersion(req: S3Request, bucket: string, key: string, versionId: string | undefined): ObjectVersion | undefined {
  const meta = req.state.meta;
  const memo = req.lookup;
  if (memo && memo.generation === meta.objectsGeneration && memo.bucket === bucket && memo.key === key && memo.versionId === versionId) return memo.version;
  const version = versionId !== undefined ? meta.version(bucket, key, versionId) : meta.latest(bucket, key);
  req.lookup = { generation: meta.objectsGeneration, bucket, key, versionId, version };
  return version;
}
