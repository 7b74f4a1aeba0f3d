import { randomUUID } from 'node:crypto';
import { randomBytesFast } from './random';

/** JSON-protocol services (KMS) use a UUID as `x-amzn-RequestId`. */
export function jsonRequestId(): string {
  return randomUUID();
}

/** S3 uses 16 upper-case hex characters for `x-amz-request-id`. */
export function s3RequestId(): string {
  return randomBytesFast(8).toString('hex').toUpperCase();
}

/** S3's `x-amz-id-2`, an opaque base64 host id. */
export function s3HostId(): string {
  return randomBytesFast(48).toString('base64');
}
