import { recordTransportRefusal } from './authorization';
import type { S3Request } from './context';
import { objectArn } from './crypto/object-keys';
import { S3Error } from './errors';
import { header } from './http-util';
import { customerKey } from './sse-c';
import type { BucketRecord, ObjectEncryption } from './store/model';

/** What a write asks for: SSE-S3 (the default) or SSE-KMS with an optional key and context. */
export type SseRequest =
  | { algorithm: 'AES256' }
  /** `dsse`: DSSE-KMS, a second, independent layer under a key of S3's own. */
  | { algorithm: 'aws:kms'; keyId?: string; context: Record<string, string>; bucketKey: boolean; dsse: boolean }
  | { algorithm: 'SSE-C'; key: Buffer };

/** How the request was authenticated, where it matters to SSE-KMS (a POST form may be SigV2). */
export interface SseRequestOptions {
  signedWithSigV2?: boolean;
}

/**
 * The server-side encryption headers of a write to `key`, checked as S3 checks them. Without any,
 * objects get the bucket default: SSE-S3 (AES256), as S3 has done since January 2023.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/specifying-kms-encryption.html
 */
export function sseRequest(req: S3Request, bucket: BucketRecord, key: string, options: SseRequestOptions = {}): SseRequest {
  const sse = header(req.headers, 'x-amz-server-side-encryption');
  const keyId = header(req.headers, 'x-amz-server-side-encryption-aws-kms-key-id');
  const contextHeader = header(req.headers, 'x-amz-server-side-encryption-context');
  const customer = customerKey(req);
  if (customer) {
    if (sse !== undefined) {
      throw new S3Error('InvalidArgument', 400, 'Server Side Encryption with Customer provided key is incompatible with the encryption method specified', [
        ['ArgumentName', 'x-amz-server-side-encryption'],
        ['ArgumentValue', sse],
      ]);
    }
    return { algorithm: 'SSE-C', key: customer };
  }
  if (sse !== undefined && sse !== 'AES256' && sse !== 'aws:kms' && sse !== 'aws:kms:dsse') {
    throw new S3Error('InvalidArgument', 400, 'The encryption method specified is not supported', [
      ['ArgumentName', 'x-amz-server-side-encryption'],
      ['ArgumentValue', sse],
    ]);
  }
  if (sse !== 'aws:kms' && sse !== 'aws:kms:dsse') {
    if (keyId !== undefined || contextHeader !== undefined) {
      throw new S3Error('InvalidArgument', 400, 'Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms', [
        ['ArgumentName', 'x-amz-server-side-encryption'],
        ['ArgumentValue', sse ?? 'null'],
      ]);
    }
    const byDefault = bucket.encryption?.sseAlgorithm;
    if (sse === undefined && (byDefault === 'aws:kms' || byDefault === 'aws:kms:dsse')) {
      // The bucket's default applies; the request itself named no encryption.
      const dsse = byDefault === 'aws:kms:dsse';
      return { algorithm: 'aws:kms', keyId: bucket.encryption!.kmsMasterKeyId, context: {}, bucketKey: !dsse && bucketKeyEnabled(req, bucket), dsse };
    }
    return { algorithm: 'AES256' };
  }
  checkSseKmsTransport(req, options);
  const context = contextHeader === undefined ? {} : callerContext(contextHeader, objectArn(bucket.name, key));
  const dsse = sse === 'aws:kms:dsse';
  const bucketKey = bucketKeyEnabled(req, bucket);
  if (dsse && bucketKey && header(req.headers, 'x-amz-server-side-encryption-bucket-key-enabled') !== undefined) {
    throw new S3Error('InvalidArgument', 400, 'Bucket Key is not supported with DSSE-KMS', [['ArgumentName', 'x-amz-server-side-encryption-bucket-key-enabled']]);
  }
  return { algorithm: 'aws:kms', keyId, context, bucketKey: bucketKey && !dsse, dsse };
}

/** The headers that choose a write's encryption (SSE-C's customer-key headers are not among them). */
const SSE_HEADERS = ['x-amz-server-side-encryption', 'x-amz-server-side-encryption-aws-kms-key-id', 'x-amz-server-side-encryption-context'];

/**
 * Operations that take no encryption of their own refuse these headers rather than ignore them:
 * S3 answers 400 InvalidArgument "x-amz-server-side-encryption header is not supported for this
 * operation." with ArgumentName and ArgumentValue. Recorded from AWS for UploadPart
 * (irods/irods_resource_plugin_s3#1838), UploadPartCopy (fog/fog-aws#589), and UploadPart,
 * CompleteMultipartUpload and HeadObject (ClickHouse/ClickHouse#64570, #64577). GetObject and
 * HeadObject make the same check in operations/objects.ts. A multipart upload's encryption is
 * chosen at CreateMultipartUpload.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_UploadPart.html
 */
export function refuseSseHeaders(req: S3Request): void {
  for (const name of SSE_HEADERS) {
    const value = header(req.headers, name);
    if (value !== undefined) {
      throw new S3Error('InvalidArgument', 400, `${name} header is not supported for this operation.`, [['ArgumentName', name], ['ArgumentValue', value]]);
    }
  }
}

/**
 * SSE-KMS requests must be signed with SigV4 and sent over TLS (--allow-http-sse-kms relaxes the
 * latter for local use): writes that name SSE-KMS, writes under a bucket default of SSE-KMS, and
 * every read of an SSE-KMS object ("All GET and PUT requests for an object protected by AWS KMS
 * fail if you don't make them by using SSL/TLS, or SigV4"). Anonymous and SigV2 requests are
 * refused first: they can never succeed, whatever the transport. Header- and query-signed SigV2
 * requests never get this far (S3 here accepts only SigV4 for them); a POST form may be SigV2.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html#aws-signature-version-4-sse-kms
 * https://repost.aws/knowledge-center/s3-kms-signature-version-error
 */
export function checkSseKmsTransport(req: S3Request, options: SseRequestOptions = {}): void {
  if (options.signedWithSigV2 || !req.credentials) {
    recordTransportRefusal(req, 'SSE-KMS requires SigV4', req.credentials ? 'the request is signed with Signature Version 2' : 'the request is anonymous');
    // AWS's recorded answer (aws/aws-cli#1006): InvalidArgument, ArgumentName Authorization, ArgumentValue null.
    throw new S3Error('InvalidArgument', 400, 'Requests specifying Server Side Encryption with AWS KMS managed keys require AWS Signature Version 4.', [
      ['ArgumentName', 'Authorization'],
      ['ArgumentValue', 'null'],
    ]);
  }
  if (!req.secure && !req.allowHttpSseKms) {
    recordTransportRefusal(req, 'SSE-KMS requires TLS', 'the request came over plain HTTP (start Sealbox with --allow-http-sse-kms to accept it)');
    throw new S3Error('InvalidArgument', 400, 'Requests specifying Server Side Encryption with AWS KMS managed keys must be made over a secure connection.', [
      ['ArgumentName', 'Authorization'],
      ['ArgumentValue', 'null'],
    ]);
  }
}

/** The caller's x-amz-server-side-encryption-context for the object `arn`, checked. */
function callerContext(contextHeader: string, arn: string): Record<string, string> {
  const context = parseContext(contextHeader);
  checkContextArn(context, arn, contextHeader);
  return context;
}

/** x-amz-server-side-encryption-context: base64 of a JSON object of strings. */
function parseContext(contextHeader: string): Record<string, string> {
  const invalid = () =>
    new S3Error('InvalidArgument', 400, "The header 'x-amz-server-side-encryption-context' shall be Base64-encoded UTF-8 string holding JSON which represents a string-string map", [
      ['ArgumentName', 'x-amz-server-side-encryption-context'],
      ['ArgumentValue', contextHeader],
    ]);
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(contextHeader, 'base64').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || Object.values(parsed).some((v) => typeof v !== 'string')) throw invalid();
  return parsed as Record<string, string>;
}

/**
 * S3 itself sets aws:s3:arn to the object's ARN, so a caller may name it only with that value.
 * This holds with S3 Bucket Keys too: the caller still names the object, and S3 alone swaps in the
 * bucket ARN for its call to KMS. AWS's docs are silent on this check; the message is the one S3
 * has been recorded answering (thanos-io/thanos#4138, for a bucket ARN given as aws:s3:arn). The
 * code and the Argument elements are not recorded: InvalidArgument, as for a malformed context.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html#encryption-context
 */
function checkContextArn(context: Record<string, string>, arn: string, contextHeader: string): void {
  const given = context['aws:s3:arn'];
  if (given === undefined || given === arn) return;
  throw new S3Error('InvalidArgument', 400, "The context value for 'aws:s3:arn' shall be equal to object's ARN", [
    ['ArgumentName', 'x-amz-server-side-encryption-context'],
    ['ArgumentValue', contextHeader],
  ]);
}

/** x-amz-server-side-encryption-bucket-key-enabled overrides the bucket's BucketKeyEnabled. */
function bucketKeyEnabled(req: S3Request, bucket: BucketRecord): boolean {
  const value = header(req.headers, 'x-amz-server-side-encryption-bucket-key-enabled');
  if (value === undefined) return bucket.encryption?.bucketKeyEnabled ?? false;
  if (value !== 'true' && value !== 'false') {
    throw new S3Error('InvalidArgument', 400, 'Bucket Key enabled value must be true or false', [
      ['ArgumentName', 'x-amz-server-side-encryption-bucket-key-enabled'],
      ['ArgumentValue', value],
    ]);
  }
  return value === 'true';
}

/**
 * The encryption headers a response carries: the algorithm, and for SSE-KMS the key as a full ARN
 * and, on PUT, COPY and CreateMultipartUpload only, the encryption context.
 */
export function encryptionHeaders(encryption: ObjectEncryption | undefined, withContext = false): Record<string, string> {
  if (!encryption) return {};
  if (encryption.algorithm === 'AES256') return { 'x-amz-server-side-encryption': 'AES256' };
  if (encryption.algorithm === 'SSE-C') {
    return { 'x-amz-server-side-encryption-customer-algorithm': 'AES256', 'x-amz-server-side-encryption-customer-key-MD5': encryption.keyMd5 };
  }
  const h: Record<string, string> = {
    'x-amz-server-side-encryption': encryption.innerWrappedKey ? 'aws:kms:dsse' : 'aws:kms',
    'x-amz-server-side-encryption-aws-kms-key-id': encryption.keyArn,
  };
  if (encryption.bucketKeyWrappedKey) h['x-amz-server-side-encryption-bucket-key-enabled'] = 'true';
  if (withContext) h['x-amz-server-side-encryption-context'] = Buffer.from(JSON.stringify(encryption.context)).toString('base64');
  return h;
}
