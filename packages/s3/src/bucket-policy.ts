import { parsePolicy, PolicyError, type PolicyDocument } from '@sealbox/policy';
import { S3Error } from './errors';

/** Parses a bucket policy as S3 checks it (MalformedPolicy with the problem). */
export function checkBucketPolicy(text: string): PolicyDocument {
  try {
    return parsePolicy(text, 'resource');
  } catch (err) {
    if (err instanceof PolicyError) throw new S3Error('MalformedPolicy', 400, err.message);
    throw err;
  }
}

