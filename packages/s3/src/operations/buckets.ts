import { requireBucket } from '../access';
import { authorizeCreateBucket } from '../authorization';
import { invalidBucketName, isValidBucketName } from '../bucket-names';
import type { S3Request, S3Response } from '../context';
import { parseCreateBucketConfiguration, parseTagging, parseVersioningConfiguration } from '../documents';
import { AccessDenied, S3Error } from '../errors';
import { header, readSmallBody, xmlDate } from '../http-util';
import { acceptedWithAclsDisabled, invalidBucketAclWithObjectOwnership, NEW_BUCKET_DEFAULTS } from './bucket-config';
import { aclFromHeaders, aclsEnabled, CANNED_ACLS, hasAclHeaders, isPublicGrant } from '../acl';
import type { BucketRecord } from '../store/model';
import { ownerElements } from '../owner';
import { el, s3Document } from '../xml';

const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;

/**
 * CreateBucket: LocationConstraint names the region (none means the endpoint's region);
 * names are global across accounts.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html
 */
export async function createBucket(req: S3Request): Promise<S3Response> {
  if (!req.credentials) throw new AccessDenied();
  const name = req.bucket!;
  if (!isValidBucketName(name)) throw invalidBucketName(name);
  const config = parseCreateBucketConfiguration(await readSmallBody(req.body));
  const constraint = config.locationConstraint;
  authorizeCreateBucket(req, constraint);
  if (constraint !== undefined && (constraint === 'us-east-1' || !REGION.test(constraint))) {
    throw new S3Error('InvalidLocationConstraint', 400, 'The specified location-constraint is not valid', [['LocationConstraint', constraint]]);
  }
  if (constraint === undefined && req.region !== req.endpointRegion && req.region !== 'us-east-1') {
    throw new S3Error(
      'IllegalLocationConstraintException',
      400,
      'The unspecified location constraint is incompatible for the region specific endpoint this request was sent to.',
    );
  }
  const meta = req.state.meta;
  const existing = meta.getBucket(name);
  if (existing) {
    if (existing.accountId === req.credentials.accountId) {
      // For legacy compatibility, S3 in us-east-1 answers 200 to re-creating your own bucket.
      if (existing.region === 'us-east-1') return { headers: { Location: `/${name}` } };
      throw new S3Error('BucketAlreadyOwnedByYou', 409, 'Your previous request to create the named bucket succeeded and you already own it.', [['BucketName', name]]);
    }
    throw new S3Error('BucketAlreadyExists', 409, 'The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.', [['BucketName', name]]);
  }
  const record: BucketRecord = { name, accountId: req.credentials.accountId, region: constraint ?? req.endpointRegion, creationDate: req.now.getTime(), ...NEW_BUCKET_DEFAULTS };
  const ownership = header(req.headers, 'x-amz-object-ownership');
  if (ownership !== undefined) {
    if (!['BucketOwnerPreferred', 'ObjectWriter', 'BucketOwnerEnforced'].includes(ownership)) {
      throw new S3Error('InvalidArgument', 400, 'Invalid x-amz-object-ownership header', [['ArgumentName', 'x-amz-object-ownership'], ['ArgumentValue', ownership]]);
    }
    record.objectOwnership = ownership;
  }
  // A new bucket's ACL: refused where its ownership setting disables ACLs, and, since every new
  // bucket blocks public access, when it is public.
  // https://docs.aws.amazon.com/AmazonS3/latest/userguide/create-bucket-faq.html
  if (hasAclHeaders(req.headers)) {
    const canned = header(req.headers, 'x-amz-acl');
    if (canned !== undefined && !CANNED_ACLS.includes(canned)) throw new S3Error('InvalidArgument', 400, '', [['ArgumentName', 'x-amz-acl'], ['ArgumentValue', canned]]);
    if (!aclsEnabled(record)) {
      // Only the owner's full control (canned as private or bucket-owner-full-control, or granted).
      // https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-ownership-error-responses.html#object-ownership-error-responses-invalid-acl
      if (!acceptedWithAclsDisabled(() => aclFromHeaders(req.headers, record.accountId, record.accountId)!, canned, record.accountId)) throw invalidBucketAclWithObjectOwnership();
    } else {
      const grants = aclFromHeaders(req.headers, record.accountId, record.accountId)!;
      if (grants.some(isPublicGrant)) throw new S3Error('InvalidBucketAclWithBlockPublicAccessError', 400, 'Bucket cannot have public ACLs set with BlockPublicAccess enabled');
      record.acl = grants;
    }
  }
  // x-amz-bucket-object-lock-enabled: true enables Object Lock, and with it versioning.
  // https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html#API_CreateBucket_RequestSyntax
  if (header(req.headers, 'x-amz-bucket-object-lock-enabled')?.trim().toLowerCase() === 'true') {
    record.objectLock = { enabled: true };
    record.versioning = 'Enabled';
  }
  meta.putBucket(record);
  return { headers: { Location: `/${name}` } };
}

/**
 * DeleteBucket: refused while any object version or delete marker remains. Unfinished multipart
 * uploads do not keep a bucket: S3 deletes the bucket and the uploads with it. AWS's pages do not
 * say so; it is what S3 answers (ceph/ceph#15630, where a reviewer tried it against S3, and
 * scality/cloudserver#1591, "compatible with AWS S3 behavior of deleting buckets even when there
 * are ongoing multipart uploads").
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteBucket.html
 */
export function deleteBucket(req: S3Request): S3Response {
  const bucket = requireBucket(req);
  const meta = req.state.meta;
  if (!meta.bucketIsEmpty(bucket.name)) {
    const message = bucket.versioning ? 'The bucket you tried to delete is not empty. You must delete all versions in the bucket.' : 'The bucket you tried to delete is not empty';
    throw new S3Error('BucketNotEmpty', 409, message, [['BucketName', bucket.name]]);
  }
  const uploads = meta.listUploads(bucket.name);
  const blobs = uploads.flatMap((u) => meta.listParts(u.uploadId).map((p) => p.blobId));
  meta.transaction(() => {
    for (const u of uploads) meta.deleteUpload(u.uploadId);
    meta.deleteBucket(bucket.name);
  });
  // After the commit: a crash in between leaves unreferenced blobs, which startup removes.
  for (const blobId of blobs) req.state.blobs.delete(blobId);
  return { status: 204 };
}

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadBucket.html */
export function headBucket(req: S3Request): S3Response {
  const bucket = requireBucket(req);
  return { headers: { 'x-amz-bucket-region': bucket.region, 'x-amz-access-point-alias': 'false' } };
}

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketLocation.html */
export function getBucketLocation(req: S3Request): S3Response {
  const bucket = requireBucket(req);
  // us-east-1 is written as an empty LocationConstraint.
  const region = bucket.region === 'us-east-1' ? '' : bucket.region;
  return { body: s3Document('LocationConstraint', [region]) };
}

/**
 * ListBuckets: the caller's buckets by name, with prefix, max-buckets and continuation-token.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListBuckets.html
 */
export function listBuckets(req: S3Request): S3Response {
  if (!req.credentials) throw new AccessDenied();
  const accountId = req.credentials.accountId;
  const prefix = req.query.get('prefix');
  const regionFilter = req.query.get('bucket-region');
  const maxText = req.query.get('max-buckets');
  const token = req.query.get('continuation-token');
  let max = 10000;
  if (maxText !== undefined) {
    max = Number(maxText);
    if (!/^\d+$/.test(maxText) || max < 1 || max > 10000) {
      throw new S3Error('InvalidArgument', 400, 'Argument max-buckets must be an integer between 1 and 10000', [['ArgumentName', 'max-buckets'], ['ArgumentValue', maxText]]);
    }
  }
  let after = '';
  if (token !== undefined) {
    after = Buffer.from(token, 'base64url').toString('utf8');
    if (!after) throw new S3Error('InvalidArgument', 400, 'The continuation token provided is incorrect', [['ArgumentName', 'continuation-token']]);
  }
  const buckets = req.state.meta
    .listBuckets(accountId, after)
    .filter((b) => (prefix === undefined || b.name.startsWith(prefix)) && (regionFilter === undefined || b.region === regionFilter));
  const shown = buckets.slice(0, max);
  const detailed = prefix !== undefined || regionFilter !== undefined || maxText !== undefined || token !== undefined;
  return {
    body: s3Document('ListAllMyBucketsResult', [
      el('Owner', ownerElements(accountId)),
      el(
        'Buckets',
        shown.map((b) => el('Bucket', [el('Name', b.name), el('CreationDate', xmlDate(b.creationDate)), detailed ? el('BucketRegion', b.region) : ''])),
      ),
      buckets.length > max ? el('ContinuationToken', Buffer.from(shown[shown.length - 1]!.name).toString('base64url')) : '',
      el('Prefix', prefix),
    ]),
  };
}

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketVersioning.html */
export async function putBucketVersioning(req: S3Request): Promise<S3Response> {
  requireBucket(req);
  const config = parseVersioningConfiguration(await readSmallBody(req.body));
  // Read again after the body: a change (or DeleteBucket) made while it arrived is not undone.
  const bucket = requireBucket(req);
  // "After you enable Object Lock on a bucket, you can't disable Object Lock or suspend versioning."
  // https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock-configure.html
  if (config.status === 'Suspended' && bucket.objectLock) {
    throw new S3Error('InvalidBucketState', 409, 'An Object Lock configuration is present on this bucket, so the versioning state cannot be changed.');
  }
  if (config.status) {
    bucket.versioning = config.status;
    req.state.meta.putBucket(bucket);
  }
  return {};
}

/** A bucket that was never versioned answers an empty VersioningConfiguration. */
export function getBucketVersioning(req: S3Request): S3Response {
  const bucket = requireBucket(req);
  return { body: s3Document('VersioningConfiguration', [el('Status', bucket.versioning)]) };
}

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketTagging.html */
export async function putBucketTagging(req: S3Request): Promise<S3Response> {
  requireBucket(req);
  const tags = parseTagging(await readSmallBody(req.body));
  if (tags.length > 50) throw new S3Error('InvalidTag', 400, 'Object tags cannot be greater than 50');
  for (const t of tags) {
    if (t.key.toLowerCase().startsWith('aws:')) throw new S3Error('InvalidTag', 400, 'System tags cannot be added/updated by requester');
  }
  // Read again after the body: a change (or DeleteBucket) made while it arrived is not undone.
  const bucket = requireBucket(req);
  bucket.tags = tags;
  req.state.meta.putBucket(bucket);
  return { status: 204 };
}

export function getBucketTagging(req: S3Request): S3Response {
  const bucket = requireBucket(req);
  if (!bucket.tags) throw new S3Error('NoSuchTagSet', 404, 'The TagSet does not exist', [['BucketName', bucket.name]]);
  return { body: tagging(bucket.tags) };
}

export function deleteBucketTagging(req: S3Request): S3Response {
  const bucket = requireBucket(req);
  delete bucket.tags;
  req.state.meta.putBucket(bucket);
  return { status: 204 };
}

export function tagging(tags: { key: string; value: string }[]): string {
  return s3Document('Tagging', [el('TagSet', tags.map((t) => el('Tag', [el('Key', t.key), el('Value', t.value)])))]);
}
