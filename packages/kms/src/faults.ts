import { type FaultErrorCatalog, type FaultRules, type FiredFault } from '@sealbox/runtime';
import type { OperationContext } from './context';
import { blobHandle } from './crypto/ciphertext';
import { KmsError } from './errors';
import { aliasArn } from './ids';
import { SPEC_INFO } from './key-specs';
import { resolveKey } from './keys';
import type { KeyRecord } from './model';
import errorModel from './model/kms-errors.json';
import { KMS_OPERATIONS } from './operations';
import type { KmsQuotas } from './quotas';

/**
 * KMS's throttling message, as AWS documents and sends it ("You have exceeded the rate at which
 * you may call KMS. Reduce the frequency of your calls. (Service: AWSKMS; Status Code: 400; Error
 * Code: ThrottlingException ...)"): https://docs.aws.amazon.com/kms/latest/developerguide/throttling.html
 */
export const THROTTLING_MESSAGE = 'You have exceeded the rate at which you may call KMS. Reduce the frequency of your calls.';

/**
 * The errors a rule may inject: those the AWS model (botocore's service-2.json, in
 * model/kms-errors.json) lists for the operation, and the common errors every operation can
 * return (https://docs.aws.amazon.com/kms/latest/APIReference/CommonErrors.html): throttling and
 * access denial. The status is the JSON protocol's (400; a server fault 500, and
 * DependencyTimeoutException 503, as Sealbox's own class answers it); the message, KMS's own where
 * it is known, else the first sentence of the model's description of the error.
 */
const COMMON: Record<string, { status: number; message: string }> = {
  ThrottlingException: { status: 400, message: THROTTLING_MESSAGE },
  AccessDeniedException: { status: 400, message: 'User is not authorized to perform this operation.' },
};
const STATUS: Record<string, number> = { DependencyTimeoutException: 503 };
const MESSAGES: Record<string, string> = { KMSInternalException: 'An internal error occurred.' };
const model = errorModel as { operations: Record<string, string[]>; errors: Record<string, { fault: boolean; message: string }> };

export const kmsFaultErrors: FaultErrorCatalog = {
  operations: KMS_OPERATIONS,
  error(operation, code) {
    if (COMMON[code]) return COMMON[code];
    const info = model.errors[code];
    if (!info) return `${code} is not a KMS error (KMS's errors: ${[...Object.keys(COMMON), ...Object.keys(model.errors)].sort().join(', ')})`;
    if (operation !== undefined && !(model.operations[operation] ?? []).includes(code)) {
      return `${operation} does not return ${code} in AWS's model; it returns ${[...Object.keys(COMMON), ...(model.operations[operation] ?? [])].join(', ')}`;
    }
    return { status: STATUS[code] ?? (info.fault ? 500 : 400), message: MESSAGES[code] ?? info.message };
  },
};

/** An injected failure: the event log marks it (additionalEventData.sealboxInjectedFault). */
export class InjectedKmsError extends KmsError {
  constructor(
    code: string,
    message: string,
    status: number,
    readonly ruleId: string,
  ) {
    super(code, message, status);
  }
}

const KEY_MEMBERS = ['KeyId', 'DestinationKeyId', 'TargetKeyId', 'SourceKeyId'];

/**
 * The key a request uses, for rules and quotas: the key its KeyId (or DestinationKeyId, ...)
 * names, or for a Decrypt without one, the key of its ciphertext; undefined when none exists.
 */
function requestKey(ctx: OperationContext, input: Record<string, unknown>): KeyRecord | undefined {
  for (const member of KEY_MEMBERS) {
    const value = input[member];
    if (typeof value !== 'string') continue;
    try {
      return resolveKey(ctx, value, { aliases: true, crossAccount: true });
    } catch {
      return undefined;
    }
  }
  const blob = input.CiphertextBlob;
  if (typeof blob === 'string') {
    const handle = blobHandle(Buffer.from(blob, 'base64'));
    const material = handle && ctx.core.materialByHandle(handle);
    if (material) return ctx.core.store.getKey(material.keyId, ctx.region);
  }
  return undefined;
}

function faultFor(faults: FaultRules, ctx: OperationContext, operation: string, input: Record<string, unknown>): (FiredFault & { latencyMs?: number }) | undefined {
  if (faults.size === 0) return undefined;
  const key = requestKey(ctx, input);
  const aliasNames = new Set<string>();
  for (const member of KEY_MEMBERS) {
    const value = input[member];
    if (typeof value === 'string' && (value.startsWith('alias/') || value.includes(':alias/'))) aliasNames.add(value);
  }
  if (key) {
    for (const alias of ctx.core.store.aliasesOfKey(key.keyId, key.region)) {
      aliasNames.add(alias.aliasName);
      aliasNames.add(aliasArn(alias.region, alias.accountId, alias.aliasName));
    }
  }
  return faults.match({ service: 'kms', operation, keyNames: key ? [key.keyId, key.arn] : [], aliasNames: [...aliasNames] });
}

/**
 * What runs as a KMS call is dispatched, after authentication and before its handler: the
 * request quotas (when on), then the fault rules. Throws the error the call gets; `drop` closes
 * the connection without an answer.
 */
export async function beforeDispatch(
  guards: { faults?: FaultRules; quotas?: KmsQuotas },
  ctx: OperationContext,
  operation: string,
  input: Record<string, unknown>,
  drop: () => void,
): Promise<void> {
  if (guards.quotas?.enabled) {
    const key = requestKey(ctx, input);
    guards.quotas.take(ctx.accountId, ctx.region, operation, key ? SPEC_INFO[key.keySpec].family : undefined, input);
  }
  if (!guards.faults) return;
  const fired = faultFor(guards.faults, ctx, operation, input);
  if (!fired) return;
  const { action, ruleId } = fired;
  ctx.audit.additionalEventData = { ...ctx.audit.additionalEventData, sealboxInjectedFault: { ruleId, kind: action.kind } };
  const wait = action.kind === 'latency' ? action.ms : (fired.latencyMs ?? 0);
  if (wait > 0) await guards.faults.delay(ruleId, wait);
  if (action.kind === 'error') throw new InjectedKmsError(action.code, action.message, action.status, ruleId);
  if (action.kind === 'drop') {
    drop();
    throw new InjectedKmsError('ConnectionDropped', `Sealbox dropped the connection (fault rule ${ruleId})`, 499, ruleId);
  }
}
