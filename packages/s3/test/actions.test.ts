// The IAM actions each S3 operation asks for (packages/s3/src/actions.ts), written out from the
// Service Authorization Reference and each operation's "Permissions" section, so that changing a
// row is a deliberate act that fails here first.
// https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-with-s3-policy-actions.html
import { OPERATION_ACCESS } from '../src/actions';

const EXPECTED: Record<string, [resource: string, actions: string[], versionActions?: string[]]> = {
  ListBuckets: ['service', ['s3:ListAllMyBuckets']],
  GetAccountPublicAccessBlock: ['service', ['s3:GetAccountPublicAccessBlock']],
  PutAccountPublicAccessBlock: ['service', ['s3:PutAccountPublicAccessBlock']],
  DeleteAccountPublicAccessBlock: ['service', ['s3:PutAccountPublicAccessBlock']],
  CreateBucket: ['service', ['s3:CreateBucket']],
  DeleteBucket: ['bucket', ['s3:DeleteBucket']],
  HeadBucket: ['bucket', ['s3:ListBucket']],
  GetBucketLocation: ['bucket', ['s3:GetBucketLocation']],
  PutBucketVersioning: ['bucket', ['s3:PutBucketVersioning']],
  GetBucketVersioning: ['bucket', ['s3:GetBucketVersioning']],
  PutBucketTagging: ['bucket', ['s3:PutBucketTagging']],
  GetBucketTagging: ['bucket', ['s3:GetBucketTagging']],
  DeleteBucketTagging: ['bucket', ['s3:PutBucketTagging']],
  ListObjects: ['bucket', ['s3:ListBucket']],
  ListObjectsV2: ['bucket', ['s3:ListBucket']],
  ListObjectVersions: ['bucket', ['s3:ListBucketVersions']],
  ListMultipartUploads: ['bucket', ['s3:ListBucketMultipartUploads']],
  PutPublicAccessBlock: ['bucket', ['s3:PutBucketPublicAccessBlock']],
  GetPublicAccessBlock: ['bucket', ['s3:GetBucketPublicAccessBlock']],
  DeletePublicAccessBlock: ['bucket', ['s3:PutBucketPublicAccessBlock']],
  PutBucketOwnershipControls: ['bucket', ['s3:PutBucketOwnershipControls']],
  GetBucketOwnershipControls: ['bucket', ['s3:GetBucketOwnershipControls']],
  DeleteBucketOwnershipControls: ['bucket', ['s3:PutBucketOwnershipControls']],
  GetBucketAcl: ['bucket', ['s3:GetBucketAcl']],
  PutBucketAcl: ['bucket', ['s3:PutBucketAcl']],
  PutBucketCors: ['bucket', ['s3:PutBucketCORS']],
  GetBucketCors: ['bucket', ['s3:GetBucketCORS']],
  DeleteBucketCors: ['bucket', ['s3:PutBucketCORS']],
  PutBucketLifecycleConfiguration: ['bucket', ['s3:PutLifecycleConfiguration']],
  GetBucketLifecycleConfiguration: ['bucket', ['s3:GetLifecycleConfiguration']],
  DeleteBucketLifecycleConfiguration: ['bucket', ['s3:PutLifecycleConfiguration']],
  PutBucketPolicy: ['bucket', ['s3:PutBucketPolicy']],
  GetBucketPolicy: ['bucket', ['s3:GetBucketPolicy']],
  DeleteBucketPolicy: ['bucket', ['s3:DeleteBucketPolicy']],
  GetBucketPolicyStatus: ['bucket', ['s3:GetBucketPolicyStatus']],
  GetBucketEncryption: ['bucket', ['s3:GetEncryptionConfiguration']],
  PutBucketEncryption: ['bucket', ['s3:PutEncryptionConfiguration']],
  DeleteBucketEncryption: ['bucket', ['s3:PutEncryptionConfiguration']],
  PutObject: ['object', ['s3:PutObject']],
  GetObject: ['object', ['s3:GetObject'], ['s3:GetObjectVersion']],
  HeadObject: ['object', ['s3:GetObject'], ['s3:GetObjectVersion']],
  DeleteObject: ['object', ['s3:DeleteObject'], ['s3:DeleteObjectVersion']],
  DeleteObjects: ['special', ['s3:DeleteObject'], ['s3:DeleteObjectVersion']],
  CopyObject: ['object', ['s3:PutObject']],
  PutObjectTagging: ['object', ['s3:PutObjectTagging'], ['s3:PutObjectVersionTagging']],
  GetObjectTagging: ['object', ['s3:GetObjectTagging'], ['s3:GetObjectVersionTagging']],
  DeleteObjectTagging: ['object', ['s3:DeleteObjectTagging'], ['s3:DeleteObjectVersionTagging']],
  GetObjectAcl: ['object', ['s3:GetObjectAcl'], ['s3:GetObjectVersionAcl']],
  PutObjectAcl: ['object', ['s3:PutObjectAcl'], ['s3:PutObjectVersionAcl']],
  GetObjectAttributes: ['object', ['s3:GetObject', 's3:GetObjectAttributes'], ['s3:GetObjectVersion', 's3:GetObjectVersionAttributes']],
  // https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock.html#object-lock-permissions
  PutObjectLockConfiguration: ['bucket', ['s3:PutBucketObjectLockConfiguration']],
  GetObjectLockConfiguration: ['bucket', ['s3:GetBucketObjectLockConfiguration']],
  PutObjectRetention: ['object', ['s3:PutObjectRetention']],
  GetObjectRetention: ['object', ['s3:GetObjectRetention']],
  PutObjectLegalHold: ['object', ['s3:PutObjectLegalHold']],
  GetObjectLegalHold: ['object', ['s3:GetObjectLegalHold']],
  CreateMultipartUpload: ['object', ['s3:PutObject']],
  UploadPart: ['object', ['s3:PutObject']],
  UploadPartCopy: ['object', ['s3:PutObject']],
  CompleteMultipartUpload: ['object', ['s3:PutObject']],
  AbortMultipartUpload: ['object', ['s3:AbortMultipartUpload']],
  ListParts: ['object', ['s3:ListMultipartUploadParts']],
  PostObject: ['special', ['s3:PutObject']],
  PreflightRequest: ['none', []],
};

describe('OPERATION_ACCESS', () => {
  it('has exactly the documented operations', () => {
    expect(Object.keys(OPERATION_ACCESS).sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  it.each(Object.entries(EXPECTED))('%s', (operation, [resource, actions, versionActions]) => {
    const access = OPERATION_ACCESS[operation]!;
    expect(access.resource).toBe(resource);
    expect(access.actions).toEqual(actions);
    expect(access.versionActions).toEqual(versionActions);
  });
});
