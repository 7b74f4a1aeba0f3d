import { authorize } from '../access/authorize';
import type { OperationContext } from '../context';
import { publicKeyDer } from '../crypto/key-material';
import { UnsupportedOperationException } from '../errors';
import { algorithmsOf, isAsymmetric } from '../key-specs';
import { requireEnabled, resolveKey } from '../keys';
import type { ValidatedInput } from '../model/validate';
import { str } from './common';

/**
 * The public key of an asymmetric key as DER SubjectPublicKeyInfo, with what the key is for.
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_GetPublicKey.html
 */
export function getPublicKey(input: ValidatedInput, ctx: OperationContext) {
  const key = resolveKey(ctx, str(input, 'KeyId')!, { aliases: true, crossAccount: true });
  ctx.audit.keys.push(key);
  authorize(ctx, { action: 'GetPublicKey', key });
  if (!isAsymmetric(key.keySpec)) {
    // AWS's wording for this case is not documented.
    throw new UnsupportedOperationException(`${key.arn} key spec is ${key.keySpec} which is not valid for GetPublicKey.`);
  }
  requireEnabled(key);
  const material = ctx.core.currentMaterial(key);
  return {
    KeyId: key.arn,
    PublicKey: publicKeyDer(material.material).toString('base64'),
    CustomerMasterKeySpec: key.keySpec,
    KeySpec: key.keySpec,
    KeyUsage: key.keyUsage,
    ...algorithmsOf(key.keySpec, key.keyUsage),
  };
}
