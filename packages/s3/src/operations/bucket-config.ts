import { noSuchBucket, requireBucket } from '../access';
import { accessControlPolicyXml, aclFromHeaders, aclsEnabled, CANNED_ACLS, cannedGrants, hasAclHeaders, isPublicGrant, onlyBucketOwnerFullControl, parseAccessControlPolicy, type Grant } from '../acl';
import { accessDenied } from '../authorization';
import { checkBucketPolicy } from '../bucket-policy';
import { effectiveBlock, isPublicPolicy } from '../public-policy';
import type { S3Request, S3Response } from '../context';
import { parseBucketEncryption, parseCorsConfiguration, parseOwnershipControls, parsePublicAccessBlock, type CorsRule } from '../documents';
import { S3Error } from '../errors';
import { header, readSmallBody } from '../http-util';
import type { BucketRecord, ObjectVersion } from '../store/model';
import { el, s3Document } from '../xml';
import { findVersion } from './objects';

/** New buckets block public access and disable ACLs, as S3 has done since April 2023. */
export const NEW_BUCKET_DEFAULTS: Pick<BucketRecord, 'publicAccessBlock' | 'objectOwnership'> = {
  publicAccessBlock: { blockPublicAcls: true, ignorePublicAcls: true, blockPublicPolicy: true, restrictPublicBuckets: true },
  objectOwnership: 'BucketOwnerEnforced',
};

const notFound = (code: string, message: string, bucket: string) => new S3Error(code, 404, message, [['BucketName', bucket]]);

/** The Delete* of a bucket setting: remove it (back to the default) and answer 204. */
function clearSetting(field: 'publicAccessBlock' | 'objectOwnership' | 'cors' | 'encryption' | 'policy') {
  return (req: S3Request): S3Response => {
    const bucket = requireBucket(req);
    delete bucket[field];
    req.state.meta.putBucket(bucket);
    return { status: 204 };
  };
}

// Public access block
export async function putPublicAccessBlock(req: S3Request): Promise<S3Response> {
  requireBucket(req);
  const config = parsePublicAccessBlock(await readSmallBody(req.body));
  // Read again after the body: a change (or DeleteBucket) made while it arrived is not undone.
  const bucket = requireBucket(req);
  bucket.publicAccessBlock = { ...config };
  req.state.meta.putBucket(bucket);
  return {};
}

export function getPublicAccessBlock(req: S3Request): S3Response {
  const bucket = requireBucket(req);
  const pab = bucket.publicAccessBlock;
  if (!pab) throw notFound('NoSuchPublicAccessBlockConfiguration', 'The public access block configuration was not found', bucket.name);
  return {
    body: s3Document('PublicAccessBlockConfiguration', [
      el('BlockPublicAcls', pab.blockPublicAcls!),
      el('IgnorePublicAcls', pab.ignorePublicAcls!),
      el('BlockPublicPolicy', pab.blockPublicPolicy!),
      el('RestrictPublicBuckets', pab.restrictPublicBuckets!),
    ]),
  };
}

export const deletePublicAccessBlock = clearSetting('publicAccessBlock');

// Ownership controls
export async function putBucketOwnershipControls(req: S3Request): Promise<S3Response> {
  requireBucket(req);
  const ownership = parseOwnershipControls(await readSmallBody(req.body)).objectOwnership;
  // Read again after the body: a change (or DeleteBucket) made while it arrived is not undone.
  const bucket = requireBucket(req);
  // ACLs cannot be disabled while the bucket's ACL gives anything to anyone but its owner.
  // https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-ownership-error-responses.html#object-ownership-error-responses-invalid-acl
  if (ownership === 'BucketOwnerEnforced' && bucket.acl && !onlyBucketOwnerFullControl(bucket.acl, bucket.accountId)) throw invalidBucketAclWithObjectOwnership();
  bucket.objectOwnership = ownership;
  req.state.meta.putBucket(bucket);
  return {};
}

export function getBucketOwnershipControls(req: S3Request): S3Response {
  const bucket = requireBucket(req);
  if (!bucket.objectOwnership) throw notFound('OwnershipControlsNotFoundError', 'The bucket ownership controls were not found', bucket.name);
  return { body: s3Document('OwnershipControls', [el('Rule', [el('ObjectOwnership', bucket.objectOwnership)])]) };
}

export const deleteBucketOwnershipControls = clearSetting('objectOwnership');

// ACLs
/** A write's ACL (from x-amz-acl or x-amz-grant-*), and the account that owns what it writes. */
export interface RequestAcl {
  owner: string;
  /** Undefined: the default, the owner's FULL_CONTROL alone. */
  grants?: Grant[];
}

/**
 * The ACL a write sets and who owns the result, as the bucket's ownership setting decides:
 * BucketOwnerEnforced (the default) disables ACLs, so only those that grant nothing beyond the
 * bucket owner are accepted, and the bucket owner owns every object; BucketOwnerPreferred gives
 * the bucket owner objects written with bucket-owner-full-control; ObjectWriter leaves them to
 * the writer. BlockPublicAcls refuses an ACL that grants to everyone.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/about-object-ownership.html
 */
export function requestAcl(req: S3Request, bucket: BucketRecord, kind: 'bucket' | 'object'): RequestAcl {
  const canned = header(req.headers, 'x-amz-acl');
  if (canned !== undefined && !CANNED_ACLS.includes(canned)) throw new S3Error('InvalidArgument', 400, '', [['ArgumentName', 'x-amz-acl'], ['ArgumentValue', canned]]);
  const enforced = !aclsEnabled(bucket);
  const writer = req.credentials?.accountId ?? bucket.accountId;
  const owner = kind === 'bucket' || enforced || (bucket.objectOwnership === 'BucketOwnerPreferred' && canned === 'bucket-owner-full-control') ? bucket.accountId : writer;
  if (!hasAclHeaders(req.headers)) return { owner };
  if (enforced) {
    if (acceptedWithAclsDisabled(() => aclFromHeaders(req.headers, writer, bucket.accountId)!, canned, bucket.accountId)) return { owner };
    throw aclNotSupported();
  }
  const grants = aclFromHeaders(req.headers, owner, bucket.accountId)!;
  checkPublicAcl(req, bucket, grants, kind === 'bucket' ? 's3:PutBucketAcl' : req.operation === 'PutObjectAcl' ? 's3:PutObjectAcl' : 's3:PutObject');
  return { owner, grants };
}

/**
 * Whether a bucket whose ACLs are disabled takes an ACL a request sends: only the
 * bucket-owner-full-control canned ACL or its equivalents (an ACL that, for this writer, gives the
 * bucket owner full control and nothing else) pass; anything else is AccessControlListNotSupported
 * (or, on CreateBucket, InvalidBucketAclWithObjectOwnership).
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html#API_PutObject_RequestSyntax (x-amz-acl)
 */
export function acceptedWithAclsDisabled(grants: () => Grant[], canned: string | undefined, bucketOwner: string): boolean {
  if (canned === 'bucket-owner-full-control') return true;
  try {
    return onlyBucketOwnerFullControl(grants(), bucketOwner);
  } catch (err) {
    // A grant S3 refuses anyway (an e-mail address) is not the owner's full control.
    if (err instanceof S3Error && err.code === 'MethodNotAllowed') return false;
    throw err;
  }
}

export const invalidBucketAclWithObjectOwnership = () =>
  new S3Error('InvalidBucketAclWithObjectOwnership', 400, "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting");
const aclNotSupported = () => new S3Error('AccessControlListNotSupported', 400, 'The bucket does not allow ACLs');

/** BlockPublicAcls: a public grant is refused. */
function checkPublicAcl(req: S3Request, bucket: BucketRecord, grants: readonly Grant[], action: string): void {
  if (grants.some(isPublicGrant) && effectiveBlock(req.state.meta, bucket).blockPublicAcls) {
    throw accessDenied(req, { action, bucket, key: req.key }, 'block-public-acls');
  }
}

const defaultGrants = (owner: string) => cannedGrants('private', owner, owner);

/**
 * GetBucketAcl and GetObjectAcl. With ACLs disabled, S3 "always return[s] a response that shows
 * full control for the bucket owner", who owns every object then.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-ownership-error-responses.html
 */
export function getBucketAcl(req: S3Request): S3Response {
  const bucket = requireBucket(req);
  const grants = aclsEnabled(bucket) ? bucket.acl : undefined;
  return { body: accessControlPolicyXml(bucket.accountId, grants ?? defaultGrants(bucket.accountId)) };
}

export function getObjectAcl(req: S3Request): S3Response {
  const bucket = requireBucket(req);
  const v = findVersion(req, bucket, req.key!, req.query.get('versionId'), 'GET');
  const owner = aclsEnabled(bucket) ? v.ownerAccountId : bucket.accountId;
  const grants = aclsEnabled(bucket) ? v.meta.acl : undefined;
  return { headers: bucket.versioning ? { 'x-amz-version-id': v.versionId } : {}, body: accessControlPolicyXml(owner, grants ?? defaultGrants(owner)) };
}

/**
 * The ACL a PutBucketAcl or PutObjectAcl sets: its headers or an AccessControlPolicy body; undefined
 * where ACLs are disabled and the request sends only the bucket owner's full control (accepted,
 * and nothing changes).
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObjectAcl.html
 */
/**
 * The ACL a PutBucketAcl or PutObjectAcl sets (undefined: an owner-only ACL where ACLs are
 * disabled, stored as nothing). The body is read first; the bucket (and the owner) are then
 * looked up afresh by the caller's `current`, so a change made while the body arrived is neither
 * undone nor ignored.
 */
async function newAcl(req: S3Request, action: string, current: () => { bucket: BucketRecord; owner: string }): Promise<Grant[] | undefined> {
  const body = await readSmallBody(req.body, 64 * 1024);
  const { bucket, owner } = current();
  const fromHeaders = hasAclHeaders(req.headers);
  const enabled = aclsEnabled(bucket);
  if (fromHeaders && body) throw new S3Error('UnexpectedContent', 400, 'This request does not support content');
  if (!fromHeaders && !body) {
    if (!enabled) throw aclNotSupported();
    throw new S3Error('MissingSecurityHeader', 400, 'Your request was missing a required header', [['MissingHeaderName', 'x-amz-acl']]);
  }
  if (!enabled) {
    // Every object is the bucket owner's here, so a document names the bucket owner as Owner.
    const canned = header(req.headers, 'x-amz-acl');
    if (canned !== undefined && !CANNED_ACLS.includes(canned)) throw new S3Error('InvalidArgument', 400, '', [['ArgumentName', 'x-amz-acl'], ['ArgumentValue', canned]]);
    const grants = () => (fromHeaders ? aclFromHeaders(req.headers, bucket.accountId, bucket.accountId)! : parseAccessControlPolicy(body, bucket.accountId));
    if (acceptedWithAclsDisabled(grants, canned, bucket.accountId)) return undefined;
    throw aclNotSupported();
  }
  const grants = fromHeaders ? aclFromHeaders(req.headers, owner, bucket.accountId)! : parseAccessControlPolicy(body, owner);
  checkPublicAcl(req, bucket, grants, action);
  return grants;
}

export async function putBucketAcl(req: S3Request): Promise<S3Response> {
  requireBucket(req);
  const grants = await newAcl(req, 's3:PutBucketAcl', () => {
    const bucket = requireBucket(req);
    return { bucket, owner: bucket.accountId };
  });
  if (grants) {
    const bucket = requireBucket(req);
    bucket.acl = grants;
    req.state.meta.putBucket(bucket);
  }
  return {};
}

export async function putObjectAcl(req: S3Request): Promise<S3Response> {
  findVersion(req, requireBucket(req), req.key!, req.query.get('versionId'), 'PUT');
  // The version is looked up again once the body is in: an overwrite or delete made meanwhile is
  // not undone by writing back the version read before it.
  let bucket!: BucketRecord;
  let v!: ObjectVersion;
  const grants = await newAcl(req, 's3:PutObjectAcl', () => {
    bucket = requireBucket(req);
    v = findVersion(req, bucket, req.key!, req.query.get('versionId'), 'PUT');
    return { bucket, owner: v.ownerAccountId };
  });
  if (grants) {
    v.meta.acl = grants;
    req.state.meta.updateVersion(v);
  }
  return { headers: bucket.versioning ? { 'x-amz-version-id': v.versionId } : {} };
}

// CORS
export async function putBucketCors(req: S3Request): Promise<S3Response> {
  requireBucket(req);
  const cors = parseCorsConfiguration(await readSmallBody(req.body, 64 * 1024));
  // Read again after the body: a change (or DeleteBucket) made while it arrived is not undone.
  const bucket = requireBucket(req);
  bucket.cors = cors;
  req.state.meta.putBucket(bucket);
  return {};
}

export function getBucketCors(req: S3Request): S3Response {
  const bucket = requireBucket(req);
  if (!bucket.cors) throw notFound('NoSuchCORSConfiguration', 'The CORS configuration does not exist', bucket.name);
  return {
    body: s3Document(
      'CORSConfiguration',
      (bucket.cors as CorsRule[]).map((r) =>
        el('CORSRule', [
          el('ID', r.id),
          ...r.allowedHeaders.map((h) => el('AllowedHeader', h)),
          ...r.allowedMethods.map((m) => el('AllowedMethod', m)),
          ...r.allowedOrigins.map((o) => el('AllowedOrigin', o)),
          ...r.exposeHeaders.map((h) => el('ExposeHeader', h)),
          el('MaxAgeSeconds', r.maxAgeSeconds),
        ]),
      ),
    ),
  };
}

export const deleteBucketCors = clearSetting('cors');

/** One '*' in an origin or header pattern matches any run of characters. */
function wildcard(pattern: string, value: string): boolean {
  const star = pattern.indexOf('*');
  if (star < 0) return pattern.toLowerCase() === value.toLowerCase();
  const head = pattern.slice(0, star).toLowerCase();
  const tail = pattern.slice(star + 1).toLowerCase();
  const v = value.toLowerCase();
  return v.length >= head.length + tail.length && v.startsWith(head) && v.endsWith(tail);
}

/** The first rule allowing this origin, method and request headers, and the headers it grants. */
export function corsHeaders(bucket: BucketRecord, origin: string, method: string, requestHeaders: string[]): Record<string, string> | undefined {
  for (const rule of (bucket.cors ?? []) as CorsRule[]) {
    if (!rule.allowedOrigins.some((o) => wildcard(o, origin))) continue;
    if (!rule.allowedMethods.includes(method)) continue;
    if (!requestHeaders.every((h) => rule.allowedHeaders.some((a) => wildcard(a, h)))) continue;
    const any = rule.allowedOrigins.includes('*');
    const headers: Record<string, string> = {
      'Access-Control-Allow-Origin': any ? '*' : origin,
      'Access-Control-Allow-Methods': rule.allowedMethods.join(', '),
      Vary: 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method',
    };
    if (!any) headers['Access-Control-Allow-Credentials'] = 'true';
    if (requestHeaders.length) headers['Access-Control-Allow-Headers'] = requestHeaders.join(', ');
    if (rule.exposeHeaders.length) headers['Access-Control-Expose-Headers'] = rule.exposeHeaders.join(', ');
    if (rule.maxAgeSeconds !== undefined) headers['Access-Control-Max-Age'] = String(rule.maxAgeSeconds);
    return headers;
  }
  return undefined;
}

/**
 * CORS preflight (OPTIONS), answered from the bucket's CORS rules without authentication.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/RESTOPTIONSobject.html
 */
export function preflight(req: S3Request): S3Response {
  const origin = header(req.headers, 'origin');
  const method = header(req.headers, 'access-control-request-method');
  if (!origin || !method) throw new S3Error('BadRequest', 400, 'Insufficient information. Origin request header needed.');
  const bucket = req.state.meta.getBucket(req.bucket!);
  const forbidden = (message: string, resourceType: string) =>
    new S3Error('AccessForbidden', 403, message, [['Method', method], ['ResourceType', resourceType]]);
  if (!bucket) throw forbidden('CORSResponse: Bucket not found', 'BUCKET');
  if (!bucket.cors) throw forbidden('CORSResponse: CORS is not enabled for this bucket.', 'BUCKET');
  const requested = (header(req.headers, 'access-control-request-headers') ?? '')
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean);
  const headers = corsHeaders(bucket, origin, method, requested);
  if (!headers) {
    throw forbidden(
      "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.",
      'OBJECT',
    );
  }
  return { headers };
}

/**
 * Default encryption: what a bucket applies to writes that name none. Without a configuration,
 * SSE-S3, as S3 has done since January 2023.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketEncryption.html
 */
export function getBucketEncryption(req: S3Request): S3Response {
  const bucket = requireBucket(req);
  const rule = bucket.encryption ?? { sseAlgorithm: 'AES256', bucketKeyEnabled: false };
  return {
    body: s3Document('ServerSideEncryptionConfiguration', [
      el('Rule', [
        el('ApplyServerSideEncryptionByDefault', [el('SSEAlgorithm', rule.sseAlgorithm), el('KMSMasterKeyID', rule.kmsMasterKeyId)]),
        el('BucketKeyEnabled', rule.bucketKeyEnabled),
      ]),
    ]),
  };
}

export async function putBucketEncryption(req: S3Request): Promise<S3Response> {
  requireBucket(req);
  const encryption = parseBucketEncryption(await readSmallBody(req.body, 64 * 1024));
  // Read again after the body: a change (or DeleteBucket) made while it arrived is not undone.
  const bucket = requireBucket(req);
  bucket.encryption = encryption;
  req.state.meta.putBucket(bucket);
  return {};
}

/** Back to the default, SSE-S3. */
export const deleteBucketEncryption = clearSetting('encryption');

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketPolicy.html */
export async function putBucketPolicy(req: S3Request): Promise<S3Response> {
  requireBucket(req);
  const text = await readSmallBody(req.body, 20 * 1024);
  const doc = checkBucketPolicy(text);
  // Read again after the body: a change (or DeleteBucket) made while it arrived is not undone.
  const bucket = requireBucket(req);
  // BlockPublicPolicy refuses a policy that would make the bucket public.
  // https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html
  if (effectiveBlock(req.state.meta, bucket).blockPublicPolicy && isPublicPolicy(doc)) {
    throw accessDenied(req, { action: 's3:PutBucketPolicy', bucket }, 'block-public-policy');
  }
  bucket.policy = text;
  req.state.meta.putBucket(bucket);
  return { status: 204 };
}

export function getBucketPolicy(req: S3Request): S3Response {
  const bucket = requireBucket(req);
  if (!bucket.policy) throw notFound('NoSuchBucketPolicy', 'The bucket policy does not exist', bucket.name);
  return { headers: { 'Content-Type': 'application/json' }, body: Buffer.from(bucket.policy, 'utf8') };
}

export const deleteBucketPolicy = clearSetting('policy');

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketPolicyStatus.html */
export function getBucketPolicyStatus(req: S3Request): S3Response {
  const bucket = requireBucket(req);
  if (!bucket.policy) throw notFound('NoSuchBucketPolicy', 'The bucket policy does not exist', bucket.name);
  return { body: s3Document('PolicyStatus', [el('IsPublic', isPublicPolicy(checkBucketPolicy(bucket.policy)))]) };
}

export { noSuchBucket };
