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
 * The version a request names, as the metadata store holds it, looked up once: authorization
 * (s3:ExistingObjectTag, an object's ACL) and the GET handler ask for the same one. The latest
 * version comes from the store's shared view (MetadataStore.latestView), a named version from a
 * memo on the request; both hold only while no object was written since
 * (MetadataStore.objectsGeneration), so a write between two lookups, by this request or another,
 * is seen. Callers must not change the version they get (it may be frozen).
 */
export function lookupVersion(req: S3Request, bucket: string, key: string, versionId: string | undefined): ObjectVersion | undefined {
  const meta = req.state.meta;
  if (versionId === undefined) return meta.latestView(bucket, key) as ObjectVersion | undefined;
  const memo = req.lookup;
  if (memo && memo.generation === meta.objectsGeneration && memo.bucket === bucket && memo.key === key && memo.versionId === versionId) return memo.version;
  const version = meta.version(bucket, key, versionId);
  req.lookup = { generation: meta.objectsGeneration, bucket, key, versionId, version };
  return version;
}
