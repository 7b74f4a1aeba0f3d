import { recordTransportRefusal } from './authorization';
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { S3Request } from './context';
import { AccessDenied, S3Error } from './errors';
import { header } from './http-util';

/** SSE-C as an object stores it: never the key, only a salted HMAC to recognise it later. */
export interface CustomerKeyRecord {
  algorithm: 'SSE-C';
  keyMd5: string;
  salt: string;
  hmac: string;
}

const invalid = (message: string, name: string, value = '') => new S3Error('InvalidArgument', 400, message, [['ArgumentName', name], ['ArgumentValue', value]]);

/**
 * The customer key of a request (or of a copy source, with prefix
 * `x-amz-copy-source-server-side-encryption-customer-`), validated as S3 validates it; undefined
 * when the request names none.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/ServerSideEncryptionCustomerKeys.html
 */
export function customerKey(req: S3Request, prefix = 'x-amz-server-side-encryption-customer-'): Buffer | undefined {
  const algorithm = header(req.headers, `${prefix}algorithm`);
  const keyText = header(req.headers, `${prefix}key`);
  const md5Text = header(req.headers, `${prefix}key-md5`);
  if (algorithm === undefined && keyText === undefined && md5Text === undefined) return undefined;
  if (algorithm === undefined) {
    throw invalid('Requests specifying Server Side Encryption with Customer provided keys must provide a valid encryption algorithm.', `${prefix}algorithm`, 'null');
  }
  if (algorithm !== 'AES256') throw invalid('The encryption algorithm specified is not valid.', `${prefix}algorithm`, algorithm);
  if (keyText === undefined) {
    throw invalid('Requests specifying Server Side Encryption with Customer provided keys must provide an appropriate secret key.', `${prefix}key`, 'null');
  }
  const key = Buffer.from(keyText, 'base64');
  if (key.length !== 32 || key.toString('base64') !== keyText.trim()) throw invalid('The secret key was invalid for the specified algorithm.', `${prefix}key`, '');
  if (md5Text === undefined) {
    throw invalid('Requests specifying Server Side Encryption with Customer provided keys must provide the client calculated MD5 of the secret key.', `${prefix}key-MD5`, 'null');
  }
  if (createHash('md5').update(key).digest('base64') !== md5Text.trim()) {
    throw invalid('The calculated MD5 hash of the key did not match the hash that was provided.', `${prefix}key-MD5`, '');
  }
  if (!req.secure && !req.allowHttpSseKms) {
    recordTransportRefusal(req, 'SSE-C requires TLS', 'the request came over plain HTTP');
    throw new S3Error('InvalidRequest', 400, 'Requests specifying Server Side Encryption with Customer provided keys must be made over a secure connection.');
  }
  return key;
}

export function customerKeyRecord(key: Buffer): CustomerKeyRecord {
  const salt = randomBytes(16);
  return {
    algorithm: 'SSE-C',
    keyMd5: createHash('md5').update(key).digest('base64'),
    salt: salt.toString('base64'),
    hmac: createHmac('sha256', salt).update(key).digest('base64'),
  };
}

/**
 * The key a read of an SSE-C object must present: the one it was stored with. No key is
 * InvalidRequest; another key is AccessDenied, as S3 answers.
 */
export function checkCustomerKey(record: CustomerKeyRecord, key: Buffer | undefined): Buffer {
  if (!key) {
    throw new S3Error('InvalidRequest', 400, 'The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.');
  }
  const expected = Buffer.from(record.hmac, 'base64');
  const actual = createHmac('sha256', Buffer.from(record.salt, 'base64')).update(key).digest();
  if (!timingSafeEqual(expected, actual)) throw new AccessDenied();
  return key;
}
