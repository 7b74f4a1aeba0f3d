import { bucketPolicyDecision } from './bucket-policy';
import type { S3Request } from './context';
import { AccessDenied, S3Error } from './errors';
import type { BucketRecord } from './store/model';

export function noSuchBucket(name: string): S3Error {
  return new S3Error('NoSuchBucket', 404, 'The specified bucket does not exist', [['BucketName', name]]);
}

/**
 * The bucket a request names, if the caller may use it for this operation. The bucket policy is
 * evaluated first: an explicit deny wins, even over the owner. Otherwise the owner's account is
 * allowed, and other accounts and anonymous callers need the policy to allow them.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/how-s3-evaluates-access-control.html
 */
const POLICY_OPERATIONS = new Set(['PutBucketPolicy', 'GetBucketPolicy', 'DeleteBucketPolicy']);

export function requireBucket(req: S3Request): BucketRecord {
  const bucket = req.state.meta.getBucket(req.bucket!);
  if (!bucket) throw noSuchBucket(req.bucket!);
  const owner = req.credentials !== undefined && req.credentials.accountId === bucket.accountId;
  // The owning account's root can always manage the bucket policy, so a policy cannot lock it out.
  const rootManagingPolicy = owner && req.credentials!.principalArn.endsWith(':root') && POLICY_OPERATIONS.has(req.operation);
  const decision = rootManagingPolicy ? 'NotApplicable' : bucketPolicyDecision(req, bucket);
  if (decision === 'Deny') throw new AccessDenied();
  if (!owner && decision !== 'Allow') throw new AccessDenied();
  return bucket;
}
