import { S3Error } from './errors';

/**
 * General purpose bucket naming rules: 3-63 characters of lower-case letters, digits, dots and
 * hyphens, starting and ending with a letter or digit; not an IP address; no consecutive dots;
 * none of the reserved prefixes and suffixes.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
 */
export function isValidBucketName(name: string): boolean {
  if (name.length < 3 || name.length > 63) return false;
  if (!/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(name)) return false;
  if (name.includes('..')) return false;
  if (/^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name)) return false;
  if (/^(xn--|sthree-|amzn-s3-demo-)/.test(name)) return false;
  if (/(-s3alias|--ol-s3|\.mrap|--x-s3|--table-s3)$/.test(name)) return false;
  return true;
}

export function invalidBucketName(name: string): S3Error {
  return new S3Error('InvalidBucketName', 400, 'The specified bucket is not valid.', [['BucketName', name]]);
}
