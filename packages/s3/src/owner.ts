import { createHash } from 'node:crypto';

/**
 * S3 names owners by a 64-hex-digit canonical user id. Sealbox derives it from the account id so
 * it is stable across restarts and distinct per account.
 */
export function canonicalUserId(accountId: string): string {
  return createHash('sha256').update(`sealbox canonical user ${accountId}`).digest('hex');
}

/** The owner's display name: S3 no longer returns one in most regions; Sealbox uses the account. */
export function ownerDisplayName(accountId: string): string {
  return `account-${accountId}`;
}

/** `<ID>…</ID><DisplayName>…</DisplayName>`, the content of Owner and Initiator elements. */
export function ownerElements(accountId: string): string[] {
  return [`<ID>${canonicalUserId(accountId)}</ID>`, `<DisplayName>${ownerDisplayName(accountId)}</DisplayName>`];
}
