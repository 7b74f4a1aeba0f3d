import { combineDecisions, evaluatePolicy, evaluatePolicyDetailed, isAccountRoot, namesPrincipal, parsePolicyCached, type PrincipalBlock, type RequestContext } from '@sealbox/policy';
import { sessionRoleArn, type Credentials } from '@sealbox/sigv4';
import type { OperationContext } from '../context';
import { AccessDeniedException } from '../errors';
import type { GrantRecord, KeyRecord } from '../model';
import { constraintsApply, findGrant } from './grants';
import { KmsDecision, type KmsDecisionCode } from './decision';
import { keyConditionKeys, type ConditionKeys } from './condition-keys';

/** One authorization question: may the caller do `kms:<action>` on this key (or resource)? */
export interface AccessRequest {
  /** The action without its `kms:` prefix, e.g. `Decrypt`, `ReEncryptFrom`. */
  action: string;
  /** The key concerned; without one only identity-based policies decide (CreateKey, ListKeys). */
  key?: KeyRecord;
  /** The resource ARN when there is no key: `*` (the default) or an alias ARN. */
  resource?: string;
  /** The encryption context the operation uses, for grant constraints. */
  context?: Record<string, string>;
  /** Keys this request adds to the request's own (ReEncrypt's two contexts). */
  keys?: ConditionKeys;
  /** Evaluate this key policy instead of the key's (the lockout safety check of a new policy). */
  policy?: string;
  /** Grants do not count (the lockout check asks about the policy alone). */
  withoutGrants?: boolean;
  /**
   * Identity-based policies alone decide, though the key names the resource (RetireGrant: "the
   * kms:RetireGrant permission is not effective in a key policy").
   * https://docs.aws.amazon.com/kms/latest/developerguide/grant-delete.html
   */
  identityOnly?: boolean;
}

export type AccessResult = { allowed: true } | { allowed: false; message: string };

const ALIASES_KEY = /kms:resourcealiases/i;

/**
 * A key policy statement whose principal is the account (`arn:aws:iam::<id>:root` or the bare id)
 * does not give anyone access by itself: it lets the account's IAM policies decide.
 * https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html#key-policy-default-allow-root-enable-iam
 */
const namesCaller = (block: PrincipalBlock | undefined, credentials: Credentials) => namesPrincipal(block, credentials.principalArn, sessionRoleArn(credentials));

function deny(credentials: Credentials, action: string, resource: string, why: string): AccessResult {
  return { allowed: false, message: `User: ${credentials.principalArn} is not authorized to perform: kms:${action} on resource: ${resource} ${why}` };
}

/**
 * KMS's authorization of one request (the key policy is the primary control):
 * - an explicit Deny in the key policy or in the caller's identity policies wins;
 * - within the key's account, the key policy allows directly, or enables IAM policies for the
 *   account (then an identity policy must allow; the root user's always does), or a grant allows;
 * - across accounts, both the key policy and the caller's identity policies must allow, or a grant.
 * https://docs.aws.amazon.com/kms/latest/developerguide/determining-access.html
 * Messages are IAM's: https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html
 */
export function checkAccess(ctx: OperationContext, request: AccessRequest): AccessResult {
  const { credentials } = ctx;
  const { action, key } = request;
  const resource = key?.arn ?? request.resource ?? '*';
  // kms:ResourceAliases costs a query; only policies that name it need it.
  const policyText = key ? (request.policy ?? key.policy) : '';
  const aliases =
    key && (ALIASES_KEY.test(policyText) || (credentials.policies ?? []).some((p) => ALIASES_KEY.test(p)))
      ? ctx.core.store.aliasesOfKey(key.keyId, key.region).map((a) => a.aliasName)
      : [];
  const keys: ConditionKeys = { ...ctx.conditionKeys, ...(key ? keyConditionKeys(key, aliases) : {}), ...request.keys };
  const evaluation: RequestContext = {
    principal: { arn: credentials.principalArn, accountId: credentials.accountId },
    action: `kms:${action}`,
    resource,
    keys,
  };
  // The decision record (a lockout check of a new policy decides nothing about this request).
  // Only references and the reason code: the explanation is computed when asked.
  const root = isAccountRoot(credentials.principalArn);
  const decided = (code: KmsDecisionCode, result: AccessResult, grants?: { grants: readonly GrantRecord[]; grant?: GrantRecord }): AccessResult => {
    if (ctx.decisions !== undefined && request.policy === undefined) {
      ctx.decisions.push(
        new KmsDecision({
          code,
          evaluation,
          identityPolicies: root ? undefined : (credentials.policies ?? []),
          keyPolicy: key && !request.identityOnly && code !== 'identity-deny' ? key.policy : undefined,
          grants: grants?.grants,
          grant: grants?.grant,
          encryptionContext: request.context,
          constraintsApply: constraintsApply(action),
          roleArn: credentials.roleArn,
          parse: parsePolicyCached,
        }),
      );
    }
    return result;
  };

  const identity = root
    ? 'Allow'
    : combineDecisions((credentials.policies ?? []).map((p) => evaluatePolicy(parsePolicyCached(p, 'identity'), evaluation)));
  if (identity === 'Deny') return decided('identity-deny', deny(credentials, action, resource, 'with an explicit deny in an identity-based policy'));
  if (!key || request.identityOnly) {
    return identity === 'Allow'
      ? decided('identity-allow', { allowed: true })
      : decided('no-identity-allow', deny(credentials, action, resource, `because no identity-based policy allows the kms:${action} action`));
  }

  const policy = parsePolicyCached(request.policy ?? key.policy, 'resource');
  const result = evaluatePolicyDetailed(policy, evaluation);
  if (result.decision === 'Deny') return decided('key-policy-deny', deny(credentials, action, resource, 'with an explicit deny in a resource-based policy'));
  const allows = result.matched.filter((m) => m.effect === 'Allow');
  const direct = allows.some((m) => namesCaller(policy.Statement[m.index]!.Principal, credentials));
  const sameAccount = key.accountId === credentials.accountId;
  if (allows.length > 0 && sameAccount && direct) return decided('key-policy-allow', { allowed: true });
  if (allows.length > 0 && identity === 'Allow') return decided('identity-allow', { allowed: true });
  const grants = request.withoutGrants ? undefined : findGrant(ctx, key, action, request.context);
  if (grants?.grant) return decided('grant-allow', { allowed: true }, grants);
  return allows.length > 0
    ? decided(sameAccount ? 'no-identity-allow' : 'cross-account-no-identity', deny(credentials, action, resource, `because no identity-based policy allows the kms:${action} action`), grants)
    : decided('no-key-policy-allow', deny(credentials, action, resource, `because no resource-based policy allows the kms:${action} action`), grants);
}

/** Throws AccessDeniedException unless the request is allowed; nothing is checked when enforcement is off. */
export function authorize(ctx: OperationContext, request: AccessRequest): void {
  if (!ctx.enforcePolicies) return;
  const result = checkAccess(ctx, request);
  if (!result.allowed) throw new AccessDeniedException(result.message);
}
