import { authorize } from '../access/authorize';
import { encryptionContextKeys } from '../access/condition-keys';
import type { OperationContext } from '../context';
import { requireEnabled, requireUsage, resolveKey } from '../keys';
import type { ValidatedInput } from '../model/validate';
import { blob, checkDryRun, context, str } from './common';
import { encryptionAlgorithmFor, encryptUnder, openCiphertext } from './encryption';

/**
 * ReEncrypt between any two encryption keys, symmetric or RSA: the source is opened as Decrypt
 * opens it (an RSA source needs SourceKeyId and SourceEncryptionAlgorithm), the destination
 * encrypts as Encrypt does (an RSA destination needs DestinationEncryptionAlgorithm).
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_ReEncrypt.html
 */
export function reEncrypt(input: ValidatedInput, ctx: OperationContext) {
  // kms:ReEncryptFrom on the source key sees the source context; kms:ReEncryptTo the destination's.
  const sourceContext = context(input, 'SourceEncryptionContext');
  const destinationContext = context(input, 'DestinationEncryptionContext');
  const source = openCiphertext(ctx, {
    ciphertext: blob(input, 'CiphertextBlob')!,
    ec: sourceContext,
    keyId: str(input, 'SourceKeyId'),
    keyIdMember: 'SourceKeyId',
    algorithm: str(input, 'SourceEncryptionAlgorithm'),
    action: 'ReEncryptFrom',
    operation: 'ReEncrypt',
    keys: encryptionContextKeys(sourceContext),
  });
  const destination = resolveKey(ctx, str(input, 'DestinationKeyId')!, { aliases: true, crossAccount: true });
  ctx.audit.keys.push(destination);
  authorize(ctx, { action: 'ReEncryptTo', key: destination, context: destinationContext, keys: encryptionContextKeys(destinationContext) });
  requireUsage(destination, 'ENCRYPT_DECRYPT', 'ReEncrypt');
  requireEnabled(destination);
  const algorithm = encryptionAlgorithmFor(destination, str(input, 'DestinationEncryptionAlgorithm'));
  const out = encryptUnder(ctx, destination, algorithm, source.plaintext, destinationContext, () => checkDryRun(input));
  return {
    CiphertextBlob: out.blob.toString('base64'),
    SourceKeyId: source.key.arn,
    KeyId: destination.arn,
    SourceEncryptionAlgorithm: source.algorithm,
    DestinationEncryptionAlgorithm: algorithm,
    ...(source.materialId ? { SourceKeyMaterialId: source.materialId } : {}),
    ...(out.materialId ? { DestinationKeyMaterialId: out.materialId } : {}),
  };
}
