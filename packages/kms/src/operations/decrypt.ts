import type { OperationContext } from '../context';
import { ValidationException } from '../errors';
import type { ValidatedInput } from '../model/validate';
import { blob, checkDryRun, context, refuseRecipient, str } from './common';
import { openCiphertext } from './encryption';

/**
 * Decrypt a symmetric ciphertext blob (its key is read from the blob) or an RSA-OAEP ciphertext
 * (KeyId and EncryptionAlgorithm required), including ones made outside KMS with the public key.
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_Decrypt.html
 */
export function decrypt(input: ValidatedInput, ctx: OperationContext) {
  const ciphertext = blob(input, 'CiphertextBlob');
  if (!ciphertext) {
    throw new ValidationException("1 validation error detected: Value at 'ciphertextBlob' failed to satisfy constraint: Member must not be null");
  }
  const ec = context(input, 'EncryptionContext');
  const opened = openCiphertext(ctx, {
    ciphertext,
    ec,
    keyId: str(input, 'KeyId'),
    keyIdMember: 'KeyId',
    algorithm: str(input, 'EncryptionAlgorithm'),
    action: 'Decrypt',
    operation: 'Decrypt',
    check: () => {
      refuseRecipient(input);
      checkDryRun(input);
    },
  });
  // CloudTrail always shows the algorithm and the key ARN for Decrypt.
  ctx.audit.requestParameters = { encryptionAlgorithm: opened.algorithm, keyId: opened.key.arn, ...(ec ? { encryptionContext: ec } : {}) };
  if (opened.materialId) ctx.audit.additionalEventData = { keyMaterialId: opened.materialId };
  return {
    KeyId: opened.key.arn,
    Plaintext: opened.plaintext.toString('base64'),
    EncryptionAlgorithm: opened.algorithm,
    ...(opened.materialId ? { KeyMaterialId: opened.materialId } : {}),
  };
}
