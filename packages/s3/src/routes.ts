/**
 * Every S3 REST operation, routed by method, the level of the resource (service, bucket or
 * object), and the sub-resource query key or header that selects it. The first matching row wins,
 * so rows with a sub-resource come before the plain one.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_Operations_Amazon_Simple_Storage_Service.html
 */
export type Level = 'service' | 'bucket' | 'object';

export interface Route {
  method: string;
  level: Level;
  /** A query parameter that must be present (with this value, when given as `name=value`). */
  query?: string;
  /** A header that must be present. */
  header?: string;
  operation: string;
}

const bucketSubresources: [string, string][] = [
  ['accelerate', 'BucketAccelerateConfiguration'],
  ['acl', 'BucketAcl'],
  ['analytics', 'BucketAnalyticsConfiguration'],
  ['cors', 'BucketCors'],
  ['encryption', 'BucketEncryption'],
  ['intelligent-tiering', 'BucketIntelligentTieringConfiguration'],
  ['inventory', 'BucketInventoryConfiguration'],
  ['lifecycle', 'BucketLifecycleConfiguration'],
  ['logging', 'BucketLogging'],
  ['metrics', 'BucketMetricsConfiguration'],
  ['notification', 'BucketNotificationConfiguration'],
  ['ownershipControls', 'BucketOwnershipControls'],
  ['policy', 'BucketPolicy'],
  ['publicAccessBlock', 'PublicAccessBlock'],
  ['replication', 'BucketReplication'],
  ['requestPayment', 'BucketRequestPayment'],
  ['tagging', 'BucketTagging'],
  ['versioning', 'BucketVersioning'],
  ['website', 'BucketWebsite'],
  ['object-lock', 'ObjectLockConfiguration'],
];

/** Sub-resources that cannot be deleted through DELETE ?name. */
const notDeletable = new Set(['accelerate', 'acl', 'logging', 'notification', 'requestPayment', 'versioning', 'object-lock']);

export const ROUTES: readonly Route[] = [
  { method: 'GET', level: 'service', operation: 'ListBuckets' },

  // Buckets
  ...bucketSubresources.map(([query, name]) => ({ method: 'PUT', level: 'bucket' as const, query, operation: `Put${name}` })),
  { method: 'PUT', level: 'bucket', operation: 'CreateBucket' },
  ...bucketSubresources.map(([query, name]) => ({ method: 'GET', level: 'bucket' as const, query, operation: `Get${name}` })),
  { method: 'GET', level: 'bucket', query: 'location', operation: 'GetBucketLocation' },
  { method: 'GET', level: 'bucket', query: 'policyStatus', operation: 'GetBucketPolicyStatus' },
  { method: 'GET', level: 'bucket', query: 'uploads', operation: 'ListMultipartUploads' },
  { method: 'GET', level: 'bucket', query: 'versions', operation: 'ListObjectVersions' },
  { method: 'GET', level: 'bucket', query: 'list-type=2', operation: 'ListObjectsV2' },
  { method: 'GET', level: 'bucket', operation: 'ListObjects' },
  ...bucketSubresources
    .filter(([query]) => !notDeletable.has(query))
    .map(([query, name]) => ({ method: 'DELETE', level: 'bucket' as const, query, operation: `Delete${name}` })),
  { method: 'DELETE', level: 'bucket', operation: 'DeleteBucket' },
  { method: 'HEAD', level: 'bucket', operation: 'HeadBucket' },
  { method: 'POST', level: 'bucket', query: 'delete', operation: 'DeleteObjects' },
  { method: 'POST', level: 'bucket', operation: 'PostObject' },

  // Objects
  { method: 'PUT', level: 'object', query: 'acl', operation: 'PutObjectAcl' },
  { method: 'PUT', level: 'object', query: 'legal-hold', operation: 'PutObjectLegalHold' },
  { method: 'PUT', level: 'object', query: 'retention', operation: 'PutObjectRetention' },
  { method: 'PUT', level: 'object', query: 'tagging', operation: 'PutObjectTagging' },
  { method: 'PUT', level: 'object', query: 'uploadId', header: 'x-amz-copy-source', operation: 'UploadPartCopy' },
  { method: 'PUT', level: 'object', query: 'uploadId', operation: 'UploadPart' },
  { method: 'PUT', level: 'object', header: 'x-amz-copy-source', operation: 'CopyObject' },
  { method: 'PUT', level: 'object', operation: 'PutObject' },
  { method: 'GET', level: 'object', query: 'acl', operation: 'GetObjectAcl' },
  { method: 'GET', level: 'object', query: 'attributes', operation: 'GetObjectAttributes' },
  { method: 'GET', level: 'object', query: 'legal-hold', operation: 'GetObjectLegalHold' },
  { method: 'GET', level: 'object', query: 'retention', operation: 'GetObjectRetention' },
  { method: 'GET', level: 'object', query: 'tagging', operation: 'GetObjectTagging' },
  { method: 'GET', level: 'object', query: 'torrent', operation: 'GetObjectTorrent' },
  { method: 'GET', level: 'object', query: 'uploadId', operation: 'ListParts' },
  { method: 'GET', level: 'object', operation: 'GetObject' },
  { method: 'HEAD', level: 'object', operation: 'HeadObject' },
  { method: 'DELETE', level: 'object', query: 'tagging', operation: 'DeleteObjectTagging' },
  { method: 'DELETE', level: 'object', query: 'uploadId', operation: 'AbortMultipartUpload' },
  { method: 'DELETE', level: 'object', operation: 'DeleteObject' },
  { method: 'POST', level: 'object', query: 'uploads', operation: 'CreateMultipartUpload' },
  { method: 'POST', level: 'object', query: 'uploadId', operation: 'CompleteMultipartUpload' },
  { method: 'POST', level: 'object', query: 'restore', operation: 'RestoreObject' },
  { method: 'POST', level: 'object', query: 'select', operation: 'SelectObjectContent' },
  { method: 'OPTIONS', level: 'object', operation: 'PreflightRequest' },
  { method: 'OPTIONS', level: 'bucket', operation: 'PreflightRequest' },
];

export function matchRoute(
  method: string,
  level: Level,
  query: ReadonlyMap<string, string>,
  hasHeader: (name: string) => boolean,
): Route | undefined {
  return ROUTES.find((route) => {
    if (route.method !== method || route.level !== level) return false;
    if (route.query !== undefined) {
      const eq = route.query.indexOf('=');
      if (eq < 0 ? !query.has(route.query) : query.get(route.query.slice(0, eq)) !== route.query.slice(eq + 1)) return false;
    }
    return route.header === undefined || hasHeader(route.header);
  });
}

/** The S3 Control API's path prefix (its 2018-08-20 version). */
export const CONTROL_PREFIX = '/v20180820/';

/**
 * The S3 Control operations served (account-level Block Public Access); any other S3 Control
 * path is NotImplemented.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_control_GetPublicAccessBlock.html
 */
export function controlRoute(method: string, path: string): { operation: string } | undefined {
  if (path !== `${CONTROL_PREFIX}configuration/publicAccessBlock`) return { operation: 'S3Control' };
  const operation = ({ GET: 'GetAccountPublicAccessBlock', PUT: 'PutAccountPublicAccessBlock', DELETE: 'DeleteAccountPublicAccessBlock' } as Record<string, string>)[method];
  return operation ? { operation } : undefined;
}
