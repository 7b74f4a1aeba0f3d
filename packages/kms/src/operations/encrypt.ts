import { authorize } from '../access/authorize';
import type { OperationContext } from '../context';
import { requireEnabled, requireSymmetric, resolveKey } from '../keys';
import type { ValidatedInput } from '../model/validate';
import { blob, checkAlgorithm, checkDryRun, context, encryptWith, str } from './common';

/** https://docs.aws.amazon.com/kms/latest/APIReference/API_Encrypt.html */
export function encrypt(input: ValidatedInput, ctx: OperationContext) {
  const key = resolveKey(ctx, str(input, 'KeyId')!, { aliases: true, crossAccount: true });
  ctx.audit.keys.push(key);
  authorize(ctx, { action: 'Encrypt', key, context: context(input, 'EncryptionContext') });
  requireSymmetric(key, 'Encrypt');
  requireEnabled(key);
  checkAlgorithm(key, str(input, 'EncryptionAlgorithm'));
  checkDryRun(input);
  const { blob: ciphertext, materialId } = encryptWith(ctx, key, blob(input, 'Plaintext')!, context(input, 'EncryptionContext'));
  ctx.audit.additionalEventData = { keyMaterialId: materialId };
  return { CiphertextBlob: ciphertext.toString('base64'), KeyId: key.arn, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
}
