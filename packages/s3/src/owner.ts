import { createHash } from 'node:crypto';

/**
 * S3 names owners by a 64-hex-digit canonical user id. Sealbox derives it from the account id so
 * it is stable across restarts and distinct per account.
 */
export function canonicalUserId(accountId: string): string {
  return createHash('sha256').update(`sealbox canonical user ${accountId}`).digest('hex');
}

/**
 * `<ID>…</ID>`, the content of every Owner, Initiator and CanonicalUser Grantee element. No
 * DisplayName: "Beginning November 21, 2025, Amazon S3 will stop returning DisplayName", in every
 * response of every region (ListBuckets, ListObjects, ListObjectVersions, ListParts,
 * ListMultipartUploads, GetBucketAcl, GetObjectAcl, ...).
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_Owner.html (End of support notice)
 */
export function ownerElements(accountId: string): string[] {
  return [`<ID>${canonicalUserId(accountId)}</ID>`];
}
