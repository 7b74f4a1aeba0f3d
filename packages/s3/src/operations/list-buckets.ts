import type { S3Request, S3Response } from '../context';
import { AccessDenied } from '../errors';
import { canonicalUserId, ownerDisplayName } from '../owner';
import { el, s3Document } from '../xml';

/**
 * ListBuckets: the caller's buckets (none until CreateBucket is built).
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListBuckets.html
 */
export function listBuckets(req: S3Request): S3Response {
  if (!req.credentials) throw new AccessDenied();
  const accountId = req.credentials.accountId;
  const prefix = req.query.get('prefix');
  return {
    body: s3Document('ListAllMyBucketsResult', [
      el('Owner', [el('ID', canonicalUserId(accountId)), el('DisplayName', ownerDisplayName(accountId))]),
      el('Buckets', []),
      el('Prefix', prefix),
    ]),
  };
}
