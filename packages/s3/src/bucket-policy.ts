import { parsePolicy, PolicyError, type PolicyDocument } from '@sealbox/policy';
import { S3Error } from './errors';

/**
 * Parses a bucket policy as S3 checks it (MalformedPolicy with the problem). A principal S3 cannot
 * resolve is worded as S3 words it, without the value: "Invalid principal in policy".
 * https://repost.aws/knowledge-center/s3-invalid-principal-in-policy-error
 */
export function checkBucketPolicy(text: string): PolicyDocument {
  try {
    return parsePolicy(text, 'resource');
  } catch (err) {
    if (err instanceof PolicyError) throw new S3Error('MalformedPolicy', 400, err.message.startsWith('Invalid principal') ? 'Invalid principal in policy' : err.message);
    throw err;
  }
}
