import { authorize } from '../access/authorize';
import type { OperationContext } from '../context';
import { checkSigningRequest, signMessage, type MessageType, type SigningRequest } from '../crypto/signing';
import { requireEnabled, requireUsage, resolveKey } from '../keys';
import type { KeyRecord } from '../model';
import type { ValidatedInput } from '../model/validate';
import { blob, checkDryRun, str } from './common';

/**
 * Creates a signature with the private key of an asymmetric SIGN_VERIFY key.
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_Sign.html
 */
export function sign(input: ValidatedInput, ctx: OperationContext) {
  const { key, request } = signingKey(input, ctx, 'Sign');
  checkDryRun(input);
  const signature = signMessage(ctx.core.currentMaterial(key).material, request);
  return { KeyId: key.arn, Signature: signature.toString('base64'), SigningAlgorithm: request.algorithm };
}

/**
 * What Sign and Verify share: the key (any account's by ARN; aliases too), the caller's permission
 * on it, its usage and state, then the algorithm and message checked against its spec. MessageType
 * defaults to RAW. The model has already bounded Message to 1..4096 bytes.
 */
export function signingKey(input: ValidatedInput, ctx: OperationContext, action: 'Sign' | 'Verify'): { key: KeyRecord; request: SigningRequest } {
  const key = resolveKey(ctx, str(input, 'KeyId')!, { aliases: true, crossAccount: true });
  ctx.audit.keys.push(key);
  authorize(ctx, { action, key });
  requireUsage(key, 'SIGN_VERIFY', action);
  requireEnabled(key);
  const request: SigningRequest = {
    spec: key.keySpec,
    algorithm: str(input, 'SigningAlgorithm')!,
    messageType: (str(input, 'MessageType') ?? 'RAW') as MessageType,
    message: blob(input, 'Message')!,
  };
  checkSigningRequest(request);
  return { key, request };
}
