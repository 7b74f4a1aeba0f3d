import type { OperationContext } from '../context';
import { requireEnabled, resolveKey } from '../keys';
import type { ValidatedInput } from '../model/validate';
import { blob, checkAlgorithm, checkDryRun, context, decryptWith, encryptWith, str } from './common';

/** https://docs.aws.amazon.com/kms/latest/APIReference/API_ReEncrypt.html */
export function reEncrypt(input: ValidatedInput, ctx: OperationContext) {
  const source = decryptWith(ctx, blob(input, 'CiphertextBlob')!, context(input, 'SourceEncryptionContext'), str(input, 'SourceKeyId'));
  checkAlgorithm(source.key, str(input, 'SourceEncryptionAlgorithm'));
  const destination = resolveKey(ctx, str(input, 'DestinationKeyId')!, { aliases: true });
  ctx.audit.keys.push(destination);
  requireEnabled(destination);
  checkAlgorithm(destination, str(input, 'DestinationEncryptionAlgorithm'));
  checkDryRun(input);
  const out = encryptWith(ctx, destination, source.plaintext, context(input, 'DestinationEncryptionContext'));
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
