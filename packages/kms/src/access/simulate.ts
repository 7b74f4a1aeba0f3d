import { AdminInputError, type DecisionRecord, type LazyDecision } from '@sealbox/runtime';
import { credentialsFor, type CredentialProvider } from '@sealbox/sigv4';
import type { OperationContext } from '../context';
import type { KmsCore } from '../core';
import { KmsError } from '../errors';
import { resolveKey } from '../keys';
import { checkAccess } from './authorize';
import { globalConditionKeys, requestConditionKeys, type ConditionKeys } from './condition-keys';

/**
 * POST /_sealbox/decisions/simulate on the KMS port: may this principal do this action on this
 * key, given these condition keys? Decided by the same checkAccess as a real call, against the
 * current key policy, identity policies and grants, and nothing is done or logged. The IAM policy
 * simulator's question: https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_testing-policies.html
 */
export function simulateKms(core: KmsCore, provider: CredentialProvider, now: Date, input: Record<string, unknown>): DecisionRecord {
  const { principal, action, resource } = input;
  if (typeof principal !== 'string' || typeof action !== 'string') {
    throw new AdminInputError(400, 'InvalidInput', 'principal (an ARN or access key id) and action (kms:Decrypt) are required strings');
  }
  const credentials = credentialsFor(provider, principal);
  if (!credentials) throw new AdminInputError(404, 'NotFound', `no configured principal or access key is ${JSON.stringify(principal.slice(0, 200))}`);
  const operation = action.replace(/^kms:/i, '');
  const context = parseContext(input.context);
  const arnRegion = typeof resource === 'string' ? /^arn:[^:]+:kms:([^:]+):/.exec(resource)?.[1] : undefined;
  const region = typeof input.region === 'string' ? input.region : (arnRegion ?? 'us-east-1');
  const encryptionContext: Record<string, string> = {};
  for (const [k, v] of Object.entries(context)) {
    const m = /^kms:EncryptionContext:(.+)$/i.exec(k);
    if (m && typeof v === 'string') encryptionContext[m[1]!] = v;
  }
  const ctx: OperationContext = {
    core,
    credentials,
    accountId: credentials.accountId,
    region,
    requestId: 'simulated',
    now,
    sourceIp: '127.0.0.1',
    userAgent: '',
    audit: { keys: [] },
    enforcePolicies: true,
    conditionKeys: {
      ...globalConditionKeys({ credentials, region, now, sourceIp: '127.0.0.1', secureTransport: true }),
      ...requestConditionKeys(operation, Object.keys(encryptionContext).length > 0 ? { EncryptionContext: encryptionContext } : {}),
      ...context,
    },
    principalExists: () => false,
    decisions: [] as LazyDecision[],
  };
  let key;
  if (typeof resource === 'string' && resource !== '*') {
    try {
      // Another account's key is reachable only by the operations that work across accounts:
      // for the others it does not exist for the caller (NotFoundException), whatever its policy says.
      key = resolveKey(ctx, resource, { aliases: true, crossAccount: CROSS_ACCOUNT_ACTIONS.has(operation.toLowerCase()) });
    } catch (err) {
      if (err instanceof KmsError) throw new AdminInputError(404, 'NotFound', err.message);
      throw err;
    }
  }
  checkAccess(ctx, { action: operation, key, context: Object.keys(encryptionContext).length > 0 ? encryptionContext : undefined });
  return ctx.decisions![0]!.explain();
}

/**
 * The actions usable on another account's key (the "Cross-account use" column), as the operations
 * resolve their key: https://docs.aws.amazon.com/kms/latest/developerguide/kms-api-permissions-reference.html
 */
const CROSS_ACCOUNT_ACTIONS = new Set(
  [
    'Encrypt', 'Decrypt', 'ReEncryptFrom', 'ReEncryptTo', 'GenerateDataKey', 'GenerateDataKeyWithoutPlaintext', 'GenerateDataKeyPair',
    'GenerateDataKeyPairWithoutPlaintext', 'Sign', 'Verify', 'GetPublicKey', 'GenerateMac', 'VerifyMac', 'DeriveSharedSecret', 'DescribeKey',
    'CreateGrant', 'ListGrants', 'RevokeGrant', 'RetireGrant', 'GetKeyRotationStatus',
  ].map((a) => a.toLowerCase()),
);

/** `{"key": "value" | ["values"]}`: condition keys the simulated request carries. */
function parseContext(value: unknown): ConditionKeys {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new AdminInputError(400, 'InvalidInput', 'context must be an object of condition keys: {"aws:SourceIp": "10.0.0.1"}');
  const keys: ConditionKeys = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (typeof v === 'string') keys[k] = v;
    else if (typeof v === 'number' || typeof v === 'boolean') keys[k] = String(v);
    else if (Array.isArray(v) && v.every((x) => typeof x === 'string')) keys[k] = v as string[];
    else throw new AdminInputError(400, 'InvalidInput', `context key ${JSON.stringify(k)} must be a string or a list of strings`);
  }
  return keys;
}
