import { randomBytes } from 'node:crypto';
import { sessionRoleArn, type Credentials } from '@sealbox/sigv4';
import type { OperationContext } from '../context';
import type { GrantConstraints, GrantRecord, KeyRecord } from '../model';

/**
 * The operations a grant can allow. Encryption context constraints apply to the ones that take
 * an encryption context; DescribeKey, RetireGrant and CreateGrant ignore them.
 * https://docs.aws.amazon.com/kms/latest/developerguide/grants.html#terms-grant-operations
 */
export const GRANT_OPERATIONS = [
  'Decrypt', 'Encrypt', 'GenerateDataKey', 'GenerateDataKeyWithoutPlaintext', 'ReEncryptFrom', 'ReEncryptTo', 'Sign',
  'Verify', 'GetPublicKey', 'CreateGrant', 'RetireGrant', 'DescribeKey', 'GenerateDataKeyPair',
  'GenerateDataKeyPairWithoutPlaintext', 'GenerateMac', 'VerifyMac', 'DeriveSharedSecret',
] as const;

const CONTEXT_OPERATIONS = new Set(['Decrypt', 'Encrypt', 'GenerateDataKey', 'GenerateDataKeyWithoutPlaintext', 'ReEncryptFrom', 'ReEncryptTo', 'GenerateDataKeyPair', 'GenerateDataKeyPairWithoutPlaintext']);

/** Whether a principal named in a grant is the caller: the caller itself or, for a role session, its role. */
export function isPrincipal(named: string | undefined, caller: Credentials): boolean {
  if (named === undefined) return false;
  return named === caller.principalArn || named === sessionRoleArn(caller);
}

/** Whether an encryption context satisfies a grant's constraints. */
export function satisfiesConstraints(constraints: GrantConstraints | undefined, context: Record<string, string> | undefined): boolean {
  if (!constraints) return true;
  const ec = context ?? {};
  if (constraints.EncryptionContextEquals) {
    const want = constraints.EncryptionContextEquals;
    const keys = Object.keys(ec);
    if (keys.length !== Object.keys(want).length || keys.some((k) => want[k] !== ec[k])) return false;
  }
  if (constraints.EncryptionContextSubset) {
    for (const [k, v] of Object.entries(constraints.EncryptionContextSubset)) if (ec[k] !== v) return false;
  }
  return true;
}

/** Whether a grant on the key lets the caller do `action` with this encryption context. */
export function grantAllows(ctx: OperationContext, key: KeyRecord, action: string, context: Record<string, string> | undefined): boolean {
  return findGrant(ctx, key, action, context).grant !== undefined;
}

/** The key's grants and the first that lets the caller do `action` (the decision record names it). */
export function findGrant(ctx: OperationContext, key: KeyRecord, action: string, context: Record<string, string> | undefined): { grants: GrantRecord[]; grant?: GrantRecord } {
  const grants = ctx.core.store.grantsOfKey(key.keyId, key.region);
  const grant = grants.find(
    (g) =>
      isPrincipal(g.granteePrincipal, ctx.credentials) &&
      g.operations.includes(action) &&
      (!CONTEXT_OPERATIONS.has(action) || satisfiesConstraints(g.constraints, context)),
  );
  return grant ? { grants, grant } : { grants };
}

/** Whether grant constraints apply to `action` (the operations that take an encryption context). */
export const constraintsApply = (action: string): boolean => CONTEXT_OPERATIONS.has(action);

/**
 * Grant tokens are opaque to callers. Sealbox's carry the grant id after a version byte and are
 * padded with random bytes, so a token always names exactly one grant.
 */
export function grantToken(grant: GrantRecord): string {
  return Buffer.concat([Buffer.from([1]), Buffer.from(grant.grantId, 'hex'), randomBytes(64)]).toString('base64');
}

/** The grant id a token names, or undefined when it is not a Sealbox grant token. */
export function grantIdOfToken(token: string): string | undefined {
  const bytes = Buffer.from(token, 'base64');
  if (bytes.length !== 97 || bytes[0] !== 1 || bytes.toString('base64') !== token) return undefined;
  return bytes.subarray(1, 33).toString('hex');
}
