import type { S3State } from './state';
import type { LifecycleEvent, ObjectEncryption, ObjectVersion } from './store/model';

/**
 * Read-only views of the S3 state for Sealbox's web console: buckets with their configuration,
 * objects with their versions and encryption. Never object bytes, data keys (plain, wrapped or
 * KMS-encrypted) or SSE-C key HMACs.
 */

export interface BucketView {
  name: string;
  accountId: string;
  region: string;
  creationDate: number;
  /** Unset until PutBucketVersioning, as GetBucketVersioning shows it. */
  versioning?: 'Enabled' | 'Suspended';
  /** The default encryption; absent in the record means S3's default, SSE-S3. */
  encryption: { algorithm: string; kmsMasterKeyId?: string; bucketKeyEnabled: boolean };
  /** The bucket policy as it was put. */
  policy?: string;
  objectCount: number;
  /** Lifecycle rules: how many, and how many enabled. */
  lifecycle?: { rules: number; enabled: number };
}

export interface EncryptionView {
  /** AES256 (SSE-S3), aws:kms, aws:kms:dsse, or SSE-C. */
  algorithm: string;
  kmsKeyArn?: string;
  bucketKeyEnabled?: boolean;
  /** The encryption context KMS bound the data key to (aws:s3:arn and the caller's pairs). */
  context?: Record<string, string>;
  /** SSE-C: the MD5 of the customer's key, as S3 returns it. */
  customerKeyMd5?: string;
}

export interface VersionView {
  versionId: string;
  isLatest: boolean;
  deleteMarker: boolean;
  lastModified: number;
  size: number;
  etag: string;
  contentType?: string;
  storageClass: string;
  encryption?: EncryptionView;
}

export function inspectBuckets(state: S3State): BucketView[] {
  return state.meta.allBuckets().map((b) => ({
    name: b.name,
    accountId: b.accountId,
    region: b.region,
    creationDate: b.creationDate,
    ...(b.versioning ? { versioning: b.versioning } : {}),
    encryption: b.encryption
      ? {
          algorithm: b.encryption.sseAlgorithm,
          ...(b.encryption.kmsMasterKeyId !== undefined ? { kmsMasterKeyId: b.encryption.kmsMasterKeyId } : {}),
          bucketKeyEnabled: b.encryption.bucketKeyEnabled,
        }
      : { algorithm: 'AES256', bucketKeyEnabled: false },
    ...(b.policy !== undefined ? { policy: b.policy } : {}),
    objectCount: state.meta.countObjects(b.name),
    ...(b.lifecycle ? { lifecycle: { rules: b.lifecycle.rules.length, enabled: b.lifecycle.rules.filter((r) => r.status === 'Enabled').length } } : {}),
  }));
}

/**
 * A bucket's objects, each with every version and delete marker (newest first), up to `limit`
 * versions in key order; undefined when there is no such bucket.
 */
export function inspectObjects(state: S3State, bucket: string, limit: number): { objects: { key: string; versions: VersionView[] }[]; truncated: boolean } | undefined {
  if (!state.meta.getBucket(bucket)) return undefined;
  const rows = state.meta.listVersions(bucket, { key: '', seq: Infinity }, limit + 1);
  const objects: { key: string; versions: VersionView[] }[] = [];
  for (const v of rows.slice(0, limit)) {
    const last = objects[objects.length - 1];
    if (last?.key === v.key) last.versions.push(versionView(v));
    else objects.push({ key: v.key, versions: [versionView(v)] });
  }
  return { objects, truncated: rows.length > limit };
}

function versionView(v: ObjectVersion): VersionView {
  return {
    versionId: v.versionId,
    isLatest: v.isLatest,
    deleteMarker: v.deleteMarker,
    lastModified: v.lastModified,
    size: v.size,
    etag: v.etag,
    ...(v.meta.contentType !== undefined ? { contentType: v.meta.contentType } : {}),
    storageClass: v.meta.storageClass ?? 'STANDARD',
    ...(v.encryption ? { encryption: encryptionView(v.encryption) } : {}),
  };
}

function encryptionView(e: ObjectEncryption): EncryptionView {
  if (e.algorithm === 'AES256') return { algorithm: 'AES256' };
  if (e.algorithm === 'SSE-C') return { algorithm: 'SSE-C', customerKeyMd5: e.keyMd5 };
  return {
    algorithm: e.innerWrappedKey ? 'aws:kms:dsse' : 'aws:kms',
    kmsKeyArn: e.keyArn,
    bucketKeyEnabled: e.bucketKeyWrappedKey !== undefined,
    context: e.context,
  };
}

export type LifecycleEventView = LifecycleEvent & { seq: number };

/**
 * What the lifecycle rules removed (S3 keeps no event log of its own; this is Sealbox's), oldest
 * first, after `afterSeq`; `cursor` is the last seq returned.
 */
export function inspectLifecycleEvents(state: S3State, afterSeq: number, limit: number): { events: LifecycleEventView[]; cursor: number } {
  const events = state.meta.lifecycleEvents(afterSeq, limit);
  return { events, cursor: events.length ? events[events.length - 1]!.seq : afterSeq };
}
