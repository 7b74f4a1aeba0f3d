import type { OperationContext } from '../context';
import { ValidationException } from '../errors';
import type { ValidatedInput } from '../model/validate';
import { blob, checkAlgorithm, checkDryRun, context, decryptWith, str } from './common';

/** https://docs.aws.amazon.com/kms/latest/APIReference/API_Decrypt.html */
export function decrypt(input: ValidatedInput, ctx: OperationContext) {
  const ciphertext = blob(input, 'CiphertextBlob');
  if (!ciphertext) {
    throw new ValidationException("1 validation error detected: Value at 'ciphertextBlob' failed to satisfy constraint: Member must not be null");
  }
  const ec = context(input, 'EncryptionContext');
  const { key, plaintext, materialId } = decryptWith(ctx, ciphertext, ec, str(input, 'KeyId'));
  checkAlgorithm(key, str(input, 'EncryptionAlgorithm'));
  checkDryRun(input);
  // CloudTrail always shows the algorithm and the key ARN for Decrypt.
  ctx.audit.requestParameters = { encryptionAlgorithm: 'SYMMETRIC_DEFAULT', keyId: key.arn, ...(ec ? { encryptionContext: ec } : {}) };
  ctx.audit.additionalEventData = { keyMaterialId: materialId };
  return { KeyId: key.arn, Plaintext: plaintext.toString('base64'), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT', KeyMaterialId: materialId };
}
