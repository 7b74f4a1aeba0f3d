import { createHash } from 'node:crypto';
import { requireBucket } from '../access';
import type { S3Request, S3Response } from '../context';
import { S3Error } from '../errors';
import { cannotBeHeader, header, readSmallBody } from '../http-util';
import { expirationHeader, lifecycleConfigurationXml, objectExpiration, parseLifecycleConfiguration, uploadAbort } from '../lifecycle';
import { requestChecksum } from '../request-checksum';
import { contentMd5 } from './objects';

const MINIMUM_SIZE_HEADER = 'x-amz-transition-default-minimum-object-size';

/**
 * PutBucketLifecycleConfiguration: replaces the bucket's whole configuration. Content-MD5 or a
 * flexible checksum is required ("This operation requires ... Content-MD5 or x-amz-sdk-checksum-
 * algorithm"; AWS answers their absence as it does for DeleteObjects).
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketLifecycleConfiguration.html
 */
export async function putBucketLifecycleConfiguration(req: S3Request): Promise<S3Response> {
  requireBucket(req);
  const md5 = contentMd5(req);
  const checksum = requestChecksum(req.headers);
  if (!md5 && !checksum) throw new S3Error('InvalidRequest', 400, 'Missing required header for this request: Content-MD5');
  const text = await readSmallBody(req.body, 1024 * 1024);
  const bytes = Buffer.from(text, 'utf8');
  if (md5 && !md5.equals(createHash('md5').update(bytes).digest())) {
    throw new S3Error('BadDigest', 400, 'The Content-MD5 you specified did not match what we received.');
  }
  if (checksum) {
    checksum.hasher.update(bytes);
    checksum.verify(req.trailers());
  }
  const config = parseLifecycleConfiguration(text, header(req.headers, MINIMUM_SIZE_HEADER));
  // Read again after the body: a change (or DeleteBucket) made while it arrived is not undone.
  const bucket = requireBucket(req);
  bucket.lifecycle = config;
  req.state.meta.putBucket(bucket);
  return { headers: { [MINIMUM_SIZE_HEADER]: config.transitionDefaultMinimumObjectSize } };
}

/**
 * GetBucketLifecycleConfiguration: the rules as put (IDs S3 generated included), with the
 * x-amz-transition-default-minimum-object-size header; 404 NoSuchLifecycleConfiguration when none.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketLifecycleConfiguration.html
 */
export function getBucketLifecycleConfiguration(req: S3Request): S3Response {
  const bucket = requireBucket(req);
  if (!bucket.lifecycle) {
    throw new S3Error('NoSuchLifecycleConfiguration', 404, 'The lifecycle configuration does not exist', [['BucketName', bucket.name]]);
  }
  return { headers: { [MINIMUM_SIZE_HEADER]: bucket.lifecycle.transitionDefaultMinimumObjectSize }, body: lifecycleConfigurationXml(bucket.lifecycle) };
}

/**
 * DeleteBucketLifecycle: 204 whether or not there was one; the rules stop at once.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteBucketLifecycle.html
 */
export function deleteBucketLifecycleConfiguration(req: S3Request): S3Response {
  const bucket = requireBucket(req);
  if (bucket.lifecycle) {
    delete bucket.lifecycle;
    req.state.meta.putBucket(bucket);
  }
  return { status: 204 };
}

/** The successful responses that tell an object's expiration (x-amz-expiration). */
const EXPIRATION_OPERATIONS = new Set(['PutObject', 'CopyObject', 'CompleteMultipartUpload', 'GetObject', 'HeadObject']);

/**
 * The last instant an HTTP date can name (RFC 9110 IMF-fixdate has a four-digit year), which is
 * also as far as Sealbox's clock goes. A rule of two billion days falls due after it: no date is
 * sent then (toUTCString would write "Invalid Date", or a five-digit year the SDKs cannot parse),
 * and nothing can ever fall due. AWS does not say what it sends for such a date.
 * https://www.rfc-editor.org/rfc/rfc9110#section-5.6.7
 */
const LAST_HTTP_DATE = Date.UTC(9999, 11, 31, 23, 59, 59);

/**
 * Adds what the bucket's lifecycle rules say about the object a response is about:
 * x-amz-expiration on PutObject, CopyObject, CompleteMultipartUpload, GetObject and HeadObject
 * for a current version an enabled expiration rule selects (the earliest such rule), and
 * x-amz-abort-date / x-amz-abort-rule-id on CreateMultipartUpload.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html#API_PutObject_ResponseSyntax
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateMultipartUpload.html#API_CreateMultipartUpload_ResponseSyntax
 */
export function addLifecycleHeaders(req: S3Request, response: S3Response): S3Response {
  if (req.bucket === undefined || req.key === undefined) return response;
  if (response.status !== undefined && response.status !== 200 && response.status !== 206) return response;
  if (!EXPIRATION_OPERATIONS.has(req.operation) && req.operation !== 'CreateMultipartUpload') return response;
  // Read only: the shared record (bucketView), not a fresh parse of the bucket per response.
  const config = req.state.meta.bucketView(req.bucket)?.lifecycle;
  if (!config) return response;
  const headers = { ...response.headers };
  if (req.operation === 'CreateMultipartUpload') {
    const abort = uploadAbort(config, req.key, req.now.getTime());
    if (!abort || abort.due > LAST_HTTP_DATE) return response;
    headers['x-amz-abort-date'] = new Date(abort.due).toUTCString();
    // Guess: AWS does not say how it writes a rule id no header can carry; URL-encoded as in x-amz-expiration.
    headers['x-amz-abort-rule-id'] = cannotBeHeader(abort.ruleId) ? encodeURIComponent(abort.ruleId) : abort.ruleId;
    return { ...response, headers };
  }
  // The version the response is about: the one it names, else the null version.
  const versionId = headers['x-amz-version-id'];
  const v = req.state.meta.version(req.bucket, req.key, typeof versionId === 'string' ? versionId : 'null');
  if (!v || !v.isLatest || v.deleteMarker) return response;
  const expiration = objectExpiration(config, { key: v.key, tags: v.meta.tags, size: v.size, lastModified: v.lastModified });
  if (!expiration || expiration.due > LAST_HTTP_DATE) return response;
  headers['x-amz-expiration'] = expirationHeader(expiration);
  return { ...response, headers };
}
