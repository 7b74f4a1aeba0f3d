/**
 * The IAM actions each S3 operation is authorized for, and on which resource, as the Service
 * Authorization Reference and each operation's "Permissions" section list them.
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-with-s3-policy-actions.html
 *
 * Every routed operation Sealbox serves has a row (a test enforces it), so no operation can be
 * added without saying how it is authorized.
 */
export interface OperationAccess {
  /** What the request acts on: the bucket, one object, the account (service), or `special`:
   * authorized by the operation itself (DeleteObjects per key, PostObject with its form's signer). */
  resource: 'bucket' | 'object' | 'service' | 'special' | 'none';
  /** The action(s) needed; every one must be allowed. */
  actions: readonly string[];
  /** The actions instead when the request names a version (`versionId`). */
  versionActions?: readonly string[];
}

const bucket = (...actions: string[]): OperationAccess => ({ resource: 'bucket', actions });
const object = (actions: string[], versionActions?: string[]): OperationAccess => ({ resource: 'object', actions, versionActions });

export const OPERATION_ACCESS: Readonly<Record<string, OperationAccess>> = {
  ListBuckets: { resource: 'service', actions: ['s3:ListAllMyBuckets'] },
  // S3 Control, account-level Block Public Access: identity-based policies alone, on "*".
  // https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html
  GetAccountPublicAccessBlock: { resource: 'service', actions: ['s3:GetAccountPublicAccessBlock'] },
  PutAccountPublicAccessBlock: { resource: 'service', actions: ['s3:PutAccountPublicAccessBlock'] },
  DeleteAccountPublicAccessBlock: { resource: 'service', actions: ['s3:PutAccountPublicAccessBlock'] },
  // No bucket exists yet: identity-based policies alone decide.
  CreateBucket: { resource: 'service', actions: ['s3:CreateBucket'] },
  DeleteBucket: bucket('s3:DeleteBucket'),
  HeadBucket: bucket('s3:ListBucket'),
  GetBucketLocation: bucket('s3:GetBucketLocation'),
  PutBucketVersioning: bucket('s3:PutBucketVersioning'),
  GetBucketVersioning: bucket('s3:GetBucketVersioning'),
  PutBucketTagging: bucket('s3:PutBucketTagging'),
  GetBucketTagging: bucket('s3:GetBucketTagging'),
  DeleteBucketTagging: bucket('s3:PutBucketTagging'),
  ListObjects: bucket('s3:ListBucket'),
  ListObjectsV2: bucket('s3:ListBucket'),
  ListObjectVersions: bucket('s3:ListBucketVersions'),
  ListMultipartUploads: bucket('s3:ListBucketMultipartUploads'),
  PutPublicAccessBlock: bucket('s3:PutBucketPublicAccessBlock'),
  GetPublicAccessBlock: bucket('s3:GetBucketPublicAccessBlock'),
  DeletePublicAccessBlock: bucket('s3:PutBucketPublicAccessBlock'),
  PutBucketOwnershipControls: bucket('s3:PutBucketOwnershipControls'),
  GetBucketOwnershipControls: bucket('s3:GetBucketOwnershipControls'),
  DeleteBucketOwnershipControls: bucket('s3:PutBucketOwnershipControls'),
  GetBucketAcl: bucket('s3:GetBucketAcl'),
  PutBucketAcl: bucket('s3:PutBucketAcl'),
  PutBucketCors: bucket('s3:PutBucketCORS'),
  GetBucketCors: bucket('s3:GetBucketCORS'),
  DeleteBucketCors: bucket('s3:PutBucketCORS'),
  // https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteBucketLifecycle.html: s3:PutLifecycleConfiguration.
  PutBucketLifecycleConfiguration: bucket('s3:PutLifecycleConfiguration'),
  GetBucketLifecycleConfiguration: bucket('s3:GetLifecycleConfiguration'),
  DeleteBucketLifecycleConfiguration: bucket('s3:PutLifecycleConfiguration'),
  PutBucketPolicy: bucket('s3:PutBucketPolicy'),
  GetBucketPolicy: bucket('s3:GetBucketPolicy'),
  DeleteBucketPolicy: bucket('s3:DeleteBucketPolicy'),
  GetBucketPolicyStatus: bucket('s3:GetBucketPolicyStatus'),
  GetBucketEncryption: bucket('s3:GetEncryptionConfiguration'),
  PutBucketEncryption: bucket('s3:PutEncryptionConfiguration'),
  DeleteBucketEncryption: bucket('s3:PutEncryptionConfiguration'),

  // https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html#API_PutObject_RequestSyntax
  // (x-amz-acl and x-amz-tagging add s3:PutObjectAcl and s3:PutObjectTagging: see extraActions.)
  PutObject: object(['s3:PutObject']),
  GetObject: object(['s3:GetObject'], ['s3:GetObjectVersion']),
  HeadObject: object(['s3:GetObject'], ['s3:GetObjectVersion']),
  DeleteObject: object(['s3:DeleteObject'], ['s3:DeleteObjectVersion']),
  // Authorized per key: a denied key is an <Error> entry while the others are deleted.
  DeleteObjects: { resource: 'special', actions: ['s3:DeleteObject'], versionActions: ['s3:DeleteObjectVersion'] },
  // The target here; the source's s3:GetObject where the source is read (copySource).
  CopyObject: object(['s3:PutObject']),
  PutObjectTagging: object(['s3:PutObjectTagging'], ['s3:PutObjectVersionTagging']),
  GetObjectTagging: object(['s3:GetObjectTagging'], ['s3:GetObjectVersionTagging']),
  DeleteObjectTagging: object(['s3:DeleteObjectTagging'], ['s3:DeleteObjectVersionTagging']),
  GetObjectAcl: object(['s3:GetObjectAcl'], ['s3:GetObjectVersionAcl']),
  PutObjectAcl: object(['s3:PutObjectAcl'], ['s3:PutObjectVersionAcl']),
  // https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectAttributes.html: both actions.
  GetObjectAttributes: object(['s3:GetObject', 's3:GetObjectAttributes'], ['s3:GetObjectVersion', 's3:GetObjectVersionAttributes']),
  CreateMultipartUpload: object(['s3:PutObject']),
  UploadPart: object(['s3:PutObject']),
  UploadPartCopy: object(['s3:PutObject']),
  CompleteMultipartUpload: object(['s3:PutObject']),
  AbortMultipartUpload: object(['s3:AbortMultipartUpload']),
  ListParts: object(['s3:ListMultipartUploadParts']),
  // The form's signer (or anonymous) needs s3:PutObject, with the form's fields as condition keys.
  PostObject: { resource: 'special', actions: ['s3:PutObject'] },
  // Object Lock. Bypassing GOVERNANCE also needs s3:BypassGovernanceRetention, checked where a
  // bypass is used (object-lock.ts). No version-specific actions exist for these.
  // https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock.html#object-lock-permissions
  PutObjectLockConfiguration: bucket('s3:PutBucketObjectLockConfiguration'),
  GetObjectLockConfiguration: bucket('s3:GetBucketObjectLockConfiguration'),
  PutObjectRetention: object(['s3:PutObjectRetention']),
  GetObjectRetention: object(['s3:GetObjectRetention']),
  PutObjectLegalHold: object(['s3:PutObjectLegalHold']),
  GetObjectLegalHold: object(['s3:GetObjectLegalHold']),
  // A CORS preflight is not an API call: the bucket's CORS rules answer it.
  PreflightRequest: { resource: 'none', actions: [] },
};

/** The bucket policy operations only the owner's account may call (405 for anyone else). */
export const POLICY_OPERATIONS: ReadonlySet<string> = new Set(['PutBucketPolicy', 'GetBucketPolicy', 'DeleteBucketPolicy']);
