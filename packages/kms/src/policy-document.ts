import { parsePolicy, PolicyError, type PolicyDocument } from '@sealbox/policy';
import { checkAccess } from './access/authorize';
import type { OperationContext } from './context';
import { LimitExceededException, MalformedPolicyDocumentException } from './errors';
import type { KeyRecord } from './model';

/** KMS's key policy document size quota. */
export const MAX_POLICY_BYTES = 32768;

const INVALID_PRINCIPALS = 'Policy contains a statement with one or more invalid principals.';
const NO_PRINCIPAL = 'Policy contains a statement with no principal.';
const LOCKOUT = 'The new key policy will not allow you to update the key policy in the future.';

/**
 * Principals a key policy may name: everyone, an account (id or root ARN), an IAM user or role
 * or role session that exists (AWS checks that they exist, so Sealbox accepts only configured
 * ones), or an AWS service principal.
 */
function validPrincipal(type: string, value: string, exists: (arn: string) => boolean): boolean {
  if (type === 'Service') return /^[a-z0-9.-]+\.amazonaws\.com(\.cn)?$/.test(value);
  if (type !== 'AWS') return true;
  if (value === '*' || /^\d{12}$/.test(value) || /^arn:aws:iam::\d{12}:root$/.test(value)) return true;
  if (/^arn:aws:iam::\d{12}:(user|role)\/./.test(value)) return exists(value);
  const session = /^arn:aws:sts::(\d{12}):assumed-role\/([^/]+)\/.+$/.exec(value);
  if (session) return exists(`arn:aws:iam::${session[1]}:role/${session[2]}`);
  return false;
}

/**
 * Parses a key policy as PutKeyPolicy and CreateKey do, with AWS's answers: malformed JSON is
 * MalformedPolicyDocumentException with no message, a statement without Principal or with an
 * unknown one gets KMS's messages, other language errors the policy engine's description.
 * https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-overview.html
 */
export function parseKeyPolicy(policy: string, principalExists: (arn: string) => boolean): PolicyDocument {
  if (Buffer.byteLength(policy, 'utf8') > MAX_POLICY_BYTES) {
    throw new LimitExceededException(`The key policy is larger than the ${MAX_POLICY_BYTES} bytes allowed.`);
  }
  let doc: PolicyDocument;
  try {
    doc = parsePolicy(policy, 'resource');
  } catch (err) {
    if (!(err instanceof PolicyError)) throw err;
    if (err.message.startsWith('Policy is not valid JSON')) throw new MalformedPolicyDocumentException();
    if (err.message === 'Missing required field Principal') throw new MalformedPolicyDocumentException(NO_PRINCIPAL);
    if (err.message.startsWith('Invalid principal')) throw new MalformedPolicyDocumentException(INVALID_PRINCIPALS);
    throw new MalformedPolicyDocumentException(err.message);
  }
  for (const st of doc.Statement) {
    for (const block of [st.Principal, st.NotPrincipal]) {
      if (block === undefined || block === '*') continue;
      for (const [type, values] of Object.entries(block)) {
        if (!values.every((v) => validPrincipal(type, v, principalExists))) throw new MalformedPolicyDocumentException(INVALID_PRINCIPALS);
      }
    }
  }
  return doc;
}

/**
 * Validates a new key policy for `key` and, unless BypassPolicyLockoutSafetyCheck, makes sure the
 * caller could still change it afterwards (the policy lockout safety check).
 * https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-bypass-policy-lockout-safety-check
 */
export function checkKeyPolicy(ctx: OperationContext, key: KeyRecord, policy: string, bypassLockoutCheck: boolean): void {
  parseKeyPolicy(policy, ctx.principalExists);
  if (bypassLockoutCheck) return;
  const after = checkAccess(ctx, { action: 'PutKeyPolicy', key, policy, withoutGrants: true });
  if (!after.allowed) throw new MalformedPolicyDocumentException(LOCKOUT);
}
