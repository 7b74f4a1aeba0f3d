import type { S3Request } from './context';
import { S3Error } from './errors';
import { header } from './http-util';
import type { ObjectEncryption } from './store/model';

/**
 * Server-side encryption requested on a write. Every object is encrypted at rest with SSE-S3
 * (AES256), as S3 has done by default since January 2023. SSE-KMS, DSSE-KMS and SSE-C arrive in
 * a later version and answer NotImplemented until then rather than storing data unlike asked.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingServerSideEncryption.html
 */
export function checkSseRequest(req: S3Request): void {
  const sse = header(req.headers, 'x-amz-server-side-encryption');
  if (sse !== undefined && sse !== 'AES256') {
    if (sse === 'aws:kms' || sse === 'aws:kms:dsse') {
      throw new S3Error('NotImplemented', 501, 'A header you provided implies functionality that is not implemented', [['Header', 'x-amz-server-side-encryption']]);
    }
    throw new S3Error('InvalidArgument', 400, 'The encryption method specified is not supported', [
      ['ArgumentName', 'x-amz-server-side-encryption'],
      ['ArgumentValue', sse],
    ]);
  }
  for (const name of ['x-amz-server-side-encryption-aws-kms-key-id', 'x-amz-server-side-encryption-context', 'x-amz-server-side-encryption-customer-algorithm']) {
    if (header(req.headers, name) !== undefined) {
      throw new S3Error('NotImplemented', 501, 'A header you provided implies functionality that is not implemented', [['Header', name]]);
    }
  }
}

/** The headers naming how an object is encrypted, on the operations S3 returns them. */
export function encryptionHeaders(encryption: ObjectEncryption | undefined): Record<string, string> {
  return encryption ? { 'x-amz-server-side-encryption': encryption.algorithm } : {};
}
