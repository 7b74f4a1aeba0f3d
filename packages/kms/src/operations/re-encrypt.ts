import { authorize } from '../access/authorize';
import { encryptionContextKeys } from '../access/condition-keys';
import type { OperationContext } from '../context';
import { requireEnabled, requireSymmetric, resolveKey } from '../keys';
import type { ValidatedInput } from '../model/validate';
import { blob, checkAlgorithm, checkDryRun, context, decryptWith, encryptWith, str } from './common';

/** https://docs.aws.amazon.com/kms/latest/APIReference/API_ReEncrypt.html */
export function reEncrypt(input: ValidatedInput, ctx: OperationContext) {
  // kms:ReEncryptFrom on the source key sees the source context; kms:ReEncryptTo the destination's.
  const sourceContext = context(input, 'SourceEncryptionContext');
  const destinationContext = context(input, 'DestinationEncryptionContext');
  const source = decryptWith(ctx, blob(input, 'CiphertextBlob')!, sourceContext, str(input, 'SourceKeyId'), 'ReEncryptFrom', encryptionContextKeys(sourceContext));
  checkAlgorithm(source.key, str(input, 'SourceEncryptionAlgorithm'));
  const destination = resolveKey(ctx, str(input, 'DestinationKeyId')!, { aliases: true, crossAccount: true });
  ctx.audit.keys.push(destination);
  authorize(ctx, { action: 'ReEncryptTo', key: destination, context: destinationContext, keys: encryptionContextKeys(destinationContext) });
  requireSymmetric(destination, 'ReEncrypt');
  requireEnabled(destination);
  checkAlgorithm(destination, str(input, 'DestinationEncryptionAlgorithm'));
  checkDryRun(input);
  const out = encryptWith(ctx, destination, source.plaintext, destinationContext);
  return {
    CiphertextBlob: out.blob.toString('base64'),
    SourceKeyId: source.key.arn,
    KeyId: destination.arn,
    SourceEncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
    DestinationEncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
    SourceKeyMaterialId: source.materialId,
    DestinationKeyMaterialId: out.materialId,
  };
}
