import type { Grant } from '../acl';
import type { LifecycleConfiguration } from '../lifecycle';

export type PublicAccessBlock = { blockPublicAcls: boolean; ignorePublicAcls: boolean; blockPublicPolicy: boolean; restrictPublicBuckets: boolean };

/** An account's own S3 settings (S3 Control). */
export interface AccountSettings {
  /** Account-level Block Public Access: applies to every bucket of the account, beside the bucket's own. */
  publicAccessBlock?: PublicAccessBlock;
}

/** A bucket and its configuration. */
export interface BucketRecord {
  name: string;
  accountId: string;
  region: string;
  /** Milliseconds since the epoch. */
  creationDate: number;
  /** Never set until PutBucketVersioning. */
  versioning?: 'Enabled' | 'Suspended';
  tags?: { key: string; value: string }[];
  cors?: unknown[];
  /** The bucket policy, as sent (validated). */
  policy?: string;
  /** PutBucketEncryption; absent means the default, SSE-S3. */
  encryption?: { sseAlgorithm: 'AES256' | 'aws:kms' | 'aws:kms:dsse'; kmsMasterKeyId?: string; bucketKeyEnabled: boolean };
  publicAccessBlock?: PublicAccessBlock;
  objectOwnership?: string;
  /** The bucket's ACL; absent: the owner's FULL_CONTROL alone. */
  acl?: Grant[];
  /** Object Lock: once enabled, never disabled (and versioning never suspended). */
  objectLock?: BucketObjectLock;
  /** PutBucketLifecycleConfiguration (lifecycle.ts); the rules run as the clock passes. */
  lifecycle?: LifecycleConfiguration;
}

export type ObjectLockMode = 'GOVERNANCE' | 'COMPLIANCE';

/** A bucket's Object Lock configuration (PutObjectLockConfiguration, or CreateBucket's header). */
export interface BucketObjectLock {
  enabled: true;
  /** The default retention applied to new versions that name no retention of their own. */
  defaultRetention?: { mode: ObjectLockMode; days?: number; years?: number };
}

/** One object version's Object Lock state. */
export interface ObjectLockState {
  mode?: ObjectLockMode;
  /** Milliseconds since the epoch, on the S3 server's (virtual) clock. */
  retainUntil?: number;
  /** Absent: a legal hold was never applied to this version. */
  legalHold?: 'ON' | 'OFF';
}

/** One removal the lifecycle rules made (the console lists them). */
export interface LifecycleEvent {
  /** Milliseconds since the epoch, on the virtual clock. */
  at: number;
  bucket: string;
  key: string;
  ruleId: string;
  /**
   * expired: a current version removed (unversioned bucket); delete-marker-added: a current version
   * expired in a versioned bucket; noncurrent-expired: a noncurrent version removed;
   * delete-marker-removed: an expired object delete marker removed; upload-aborted.
   */
  action: 'expired' | 'delete-marker-added' | 'noncurrent-expired' | 'delete-marker-removed' | 'upload-aborted';
  versionId?: string;
  uploadId?: string;
}

/** Where an object's bytes are: one blob for a PUT, one per part for a multipart upload. */
export interface BlobRef {
  blobId: string;
  /** Plaintext bytes. */
  size: number;
  /** Base64 salt of the blob's key (encrypted blobs). */
  salt?: string;
}

/**
 * How an object's data key is kept: SSE-S3 wraps it under the S3 root key; SSE-KMS keeps the
 * data key KMS encrypted (GenerateDataKey), opened with Decrypt on every read.
 */
export type ObjectEncryption =
  | { algorithm: 'AES256'; wrappedKey: string }
  | {
      algorithm: 'aws:kms';
      keyArn: string;
      /** The KMS-encrypted data key: the object's, or with a Bucket Key the bucket key's. */
      ciphertextBlob: string;
      context: Record<string, string>;
      region: string;
      /** S3 Bucket Key: the object's own data key, wrapped under the bucket key, bound to the object's ARN. */
      bucketKeyWrappedKey?: string;
      objectArn?: string;
      /** DSSE-KMS: the inner layer's key, wrapped under the S3 root key. */
      innerWrappedKey?: string;
    }
  /** SSE-C: the customer's key is never stored, only a salted HMAC of it. */
  | { algorithm: 'SSE-C'; keyMd5: string; salt: string; hmac: string };

export interface ObjectMeta {
  contentType?: string;
  contentEncoding?: string;
  contentDisposition?: string;
  contentLanguage?: string;
  cacheControl?: string;
  expires?: string;
  /** x-amz-meta-* as sent (names lower-cased by HTTP), in order. */
  userMetadata: [string, string][];
  storageClass?: string;
  websiteRedirectLocation?: string;
  checksum?: { algorithm: string; value: string; type: 'FULL_OBJECT' | 'COMPOSITE' };
  tags?: { key: string; value: string }[];
  /** The object's ACL; absent: its owner's FULL_CONTROL alone. Never copied by CopyObject. */
  acl?: Grant[];
  /** Part sizes of a multipart object (GetObject partNumber, x-amz-mp-parts-count). */
  partSizes?: number[];
  /** Object Lock retention and legal hold of this version (a multipart upload: as requested). Never copied by CopyObject. */
  lock?: ObjectLockState;
}

/** One version of an object, or a delete marker. */
export interface ObjectVersion {
  bucket: string;
  key: string;
  /** 'null' for the null version (unversioned or Suspended buckets). */
  versionId: string;
  /** Creation order; newest versions have the highest. */
  seq: number;
  isLatest: boolean;
  deleteMarker: boolean;
  lastModified: number;
  /** Without quotes: hex MD5, or hex MD5 of part MD5s + "-N". */
  etag: string;
  size: number;
  ownerAccountId: string;
  parts: BlobRef[];
  meta: ObjectMeta;
  encryption?: ObjectEncryption;
}

export interface MultipartUpload {
  uploadId: string;
  bucket: string;
  key: string;
  initiated: number;
  ownerAccountId: string;
  meta: ObjectMeta & { checksumAlgorithm?: string; checksumType?: 'FULL_OBJECT' | 'COMPOSITE' };
  encryption?: ObjectEncryption;
}

export interface PartRecord {
  uploadId: string;
  partNumber: number;
  blobId: string;
  size: number;
  etag: string;
  lastModified: number;
  checksum?: string;
  checksumAlgorithm?: string;
  /** S3's own CRC64NVME of the part, for the default full-object checksum. */
  crc64nvme?: string;
  salt?: string;
}
