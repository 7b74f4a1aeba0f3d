import type { OperationContext } from '../context';
import { NotFoundException } from '../errors';
import type { ValidatedInput } from '../model/validate';
import { checkKeyPolicy } from '../policy-document';
import { str, targetKey } from './common';

/** Every key has exactly one key policy, named "default". */
function checkPolicyName(input: ValidatedInput): void {
  const name = str(input, 'PolicyName') ?? 'default';
  if (name !== 'default') throw new NotFoundException('No such policy exists');
}

/** https://docs.aws.amazon.com/kms/latest/APIReference/API_GetKeyPolicy.html */
export function getKeyPolicy(input: ValidatedInput, ctx: OperationContext) {
  const key = targetKey(input, ctx, 'GetKeyPolicy');
  checkPolicyName(input);
  return { Policy: key.policy, PolicyName: 'default' };
}

/**
 * Validated (including the lockout safety check), stored verbatim, returned by GetKeyPolicy and
 * evaluated on every request for the key.
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_PutKeyPolicy.html
 */
export function putKeyPolicy(input: ValidatedInput, ctx: OperationContext) {
  const key = targetKey(input, ctx, 'PutKeyPolicy', { manage: true });
  checkPolicyName(input);
  const policy = str(input, 'Policy')!;
  checkKeyPolicy(ctx, key, policy, input.BypassPolicyLockoutSafetyCheck === true);
  key.policy = policy;
  ctx.core.store.putKey(key);
  return {};
}

/** https://docs.aws.amazon.com/kms/latest/APIReference/API_ListKeyPolicies.html */
export function listKeyPolicies(input: ValidatedInput, ctx: OperationContext) {
  targetKey(input, ctx, 'ListKeyPolicies');
  return { PolicyNames: ['default'], Truncated: false };
}
