import { evaluatePolicy, parsePolicy, PolicyError, type Decision, type PolicyDocument } from '@sealbox/policy';
import type { S3Request } from './context';
import { S3Error } from './errors';
import { header } from './http-util';
import type { BucketRecord } from './store/model';

/** The IAM action each S3 operation needs, where it is not simply s3:<Operation>. */
const ACTIONS: Record<string, string> = {
  HeadObject: 's3:GetObject',
  GetObjectAttributes: 's3:GetObject',
  HeadBucket: 's3:ListBucket',
  ListObjects: 's3:ListBucket',
  ListObjectsV2: 's3:ListBucket',
  ListObjectVersions: 's3:ListBucketVersions',
  CopyObject: 's3:PutObject',
  PostObject: 's3:PutObject',
  CreateMultipartUpload: 's3:PutObject',
  UploadPart: 's3:PutObject',
  UploadPartCopy: 's3:PutObject',
  CompleteMultipartUpload: 's3:PutObject',
  ListParts: 's3:ListMultipartUploadParts',
  ListMultipartUploads: 's3:ListBucketMultipartUploads',
  DeleteObjects: 's3:DeleteObject',
  GetBucketEncryption: 's3:GetEncryptionConfiguration',
  PutBucketEncryption: 's3:PutEncryptionConfiguration',
  DeleteBucketEncryption: 's3:PutEncryptionConfiguration',
  GetBucketCors: 's3:GetBucketCORS',
  PutBucketCors: 's3:PutBucketCORS',
  DeleteBucketCors: 's3:PutBucketCORS',
  DeleteBucketTagging: 's3:PutBucketTagging',
  DeletePublicAccessBlock: 's3:PutBucketPublicAccessBlock',
  GetPublicAccessBlock: 's3:GetBucketPublicAccessBlock',
  PutPublicAccessBlock: 's3:PutBucketPublicAccessBlock',
  DeleteBucketOwnershipControls: 's3:PutBucketOwnershipControls',
  DeleteObjectTagging: 's3:DeleteObjectTagging',
};

/** Parses a bucket policy as S3 checks it (MalformedPolicy with the problem). */
export function checkBucketPolicy(text: string): PolicyDocument {
  try {
    return parsePolicy(text, 'resource');
  } catch (err) {
    if (err instanceof PolicyError) throw new S3Error('MalformedPolicy', 400, err.message);
    throw err;
  }
}

/** Parsed policies by their text: bucket records are read afresh per request, their policies rarely change. */
const parsed = new Map<string, PolicyDocument>();

function policyDocument(text: string): PolicyDocument {
  let doc = parsed.get(text);
  if (!doc) {
    doc = parsePolicy(text, 'resource');
    if (parsed.size >= 1000) parsed.delete(parsed.keys().next().value as string);
    parsed.set(text, doc);
  }
  return doc;
}

/**
 * The bucket policy's decision for a request, with the condition keys S3 provides: the SSE
 * headers as sent (a write relying on the bucket default has none, so `Null` matches), TLS,
 * the source IP, listing parameters, ACL and tags.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/amazon-s3-policy-keys.html
 */
export function bucketPolicyDecision(req: S3Request, bucket: BucketRecord): Decision {
  if (!bucket.policy) return 'NotApplicable';
  const doc = policyDocument(bucket.policy);
  const keys: Record<string, string | string[] | undefined> = {
    'aws:SecureTransport': String(req.secure),
    'aws:SourceIp': req.sourceIp.replace(/^::ffff:/, ''),
    'aws:CurrentTime': req.now.toISOString(),
    'aws:EpochTime': String(Math.floor(req.now.getTime() / 1000)),
  };
  for (const name of [
    'x-amz-server-side-encryption',
    'x-amz-server-side-encryption-aws-kms-key-id',
    'x-amz-server-side-encryption-customer-algorithm',
    'x-amz-acl',
    'x-amz-copy-source',
    'x-amz-metadata-directive',
    'x-amz-storage-class',
  ]) {
    const value = header(req.headers, name);
    if (value !== undefined) keys[`s3:${name}`] = value;
  }
  for (const name of ['prefix', 'delimiter', 'max-keys', 'versionid']) {
    const value = req.query.get(name === 'versionid' ? 'versionId' : name);
    if (value !== undefined) keys[`s3:${name}`] = value;
  }
  const tagging = header(req.headers, 'x-amz-tagging');
  if (tagging !== undefined) {
    const tags = [...new URLSearchParams(tagging)];
    keys['s3:RequestObjectTagKeys'] = tags.map(([k]) => k);
    for (const [k, v] of tags) keys[`s3:RequestObjectTag/${k}`] = v;
  }
  if (req.key !== undefined) {
    // s3:ExistingObjectTag/<key>: the tags of the object the request acts on, when it exists.
    const versionId = req.query.get('versionId');
    const existing = versionId ? req.state.meta.version(bucket.name, req.key, versionId) : req.state.meta.latest(bucket.name, req.key);
    for (const tag of existing?.meta.tags ?? []) keys[`s3:ExistingObjectTag/${tag.key}`] = tag.value;
  }
  const resource = req.key !== undefined ? `arn:aws:s3:::${bucket.name}/${req.key}` : `arn:aws:s3:::${bucket.name}`;
  return evaluatePolicy(doc, {
    principal: req.credentials ? { arn: req.credentials.principalArn, accountId: req.credentials.accountId } : 'anonymous',
    action: ACTIONS[req.operation] ?? `s3:${req.operation}`,
    resource,
    keys,
  });
}
