import type { OperationContext } from '../context';
import { verifyMessage } from '../crypto/signing';
import { KMSInvalidSignatureException } from '../errors';
import type { ValidatedInput } from '../model/validate';
import { blob, checkDryRun } from './common';
import { signingKey } from './sign';

/**
 * Verifies a signature with the public key of an asymmetric SIGN_VERIFY key. A signature that does
 * not verify is KMSInvalidSignatureException (HTTP 400, no message); a valid one answers
 * SignatureValid true. The message type need not be the one used to sign: a RAW message and its
 * digest are the same message.
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_Verify.html
 */
export function verify(input: ValidatedInput, ctx: OperationContext) {
  const { key, request } = signingKey(input, ctx, 'Verify');
  checkDryRun(input);
  if (!verifyMessage(ctx.core.currentMaterial(key).material, request, blob(input, 'Signature')!)) {
    throw new KMSInvalidSignatureException();
  }
  return { KeyId: key.arn, SignatureValid: true, SigningAlgorithm: request.algorithm };
}
