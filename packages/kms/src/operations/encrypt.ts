import { authorize } from '../access/authorize';
import type { OperationContext } from '../context';
import { requireEnabled, requireUsage, resolveKey } from '../keys';
import type { ValidatedInput } from '../model/validate';
import { blob, checkDryRun, context, str } from './common';
import { encryptionAlgorithmFor, encryptUnder } from './encryption';

/**
 * Encrypt with a symmetric key (SYMMETRIC_DEFAULT) or an RSA ENCRYPT_DECRYPT key
 * (RSAES_OAEP_SHA_1 / RSAES_OAEP_SHA_256, raw RSA-OAEP ciphertext).
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_Encrypt.html
 */
export function encrypt(input: ValidatedInput, ctx: OperationContext) {
  const key = resolveKey(ctx, str(input, 'KeyId')!, { aliases: true, crossAccount: true });
  ctx.audit.keys.push(key);
  const ec = context(input, 'EncryptionContext');
  authorize(ctx, { action: 'Encrypt', key, context: ec });
  requireUsage(key, 'ENCRYPT_DECRYPT', 'Encrypt');
  requireEnabled(key);
  const algorithm = encryptionAlgorithmFor(key, str(input, 'EncryptionAlgorithm'));
  const { blob: ciphertext, materialId } = encryptUnder(ctx, key, algorithm, blob(input, 'Plaintext')!, ec, () => checkDryRun(input));
  if (materialId) ctx.audit.additionalEventData = { keyMaterialId: materialId };
  return { CiphertextBlob: ciphertext.toString('base64'), KeyId: key.arn, EncryptionAlgorithm: algorithm };
}
