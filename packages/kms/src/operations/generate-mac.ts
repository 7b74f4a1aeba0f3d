import { authorize } from '../access/authorize';
import type { OperationContext } from '../context';
import { hmac } from '../crypto/asymmetric';
import { InvalidKeyUsageException } from '../errors';
import { SPEC_INFO } from '../key-specs';
import { requireEnabled, requireUsage, resolveKey } from '../keys';
import type { KeyRecord } from '../model';
import type { ValidatedInput } from '../model/validate';
import { blob, checkDryRun, str } from './common';

/**
 * The HMAC of a message under an HMAC key, once the caller may use the key for `operation`: the
 * key's usage and state are checked, then the algorithm, which must be the key spec's own
 * (AWS: InvalidKeyUsageException "Algorithm HMAC_SHA_256 is incompatible with key spec HMAC_224.").
 * https://docs.aws.amazon.com/kms/latest/developerguide/hmac.html
 */
export function macFor(input: ValidatedInput, ctx: OperationContext, operation: 'GenerateMac' | 'VerifyMac'): { key: KeyRecord; mac: Buffer; algorithm: string } {
  const key = resolveKey(ctx, str(input, 'KeyId')!, { aliases: true, crossAccount: true });
  ctx.audit.keys.push(key);
  authorize(ctx, { action: operation, key });
  requireUsage(key, 'GENERATE_VERIFY_MAC', operation);
  requireEnabled(key);
  const algorithm = str(input, 'MacAlgorithm')!;
  if (algorithm !== `HMAC_SHA_${key.keySpec.slice('HMAC_'.length)}`) {
    throw new InvalidKeyUsageException(`Algorithm ${algorithm} is incompatible with key spec ${key.keySpec}.`);
  }
  checkDryRun(input);
  const material = ctx.core.currentMaterial(key);
  ctx.audit.additionalEventData = { keyMaterialId: material.materialId };
  return { key, algorithm, mac: hmac(SPEC_INFO[key.keySpec].hash!, material.material, blob(input, 'Message')!) };
}

/** https://docs.aws.amazon.com/kms/latest/APIReference/API_GenerateMac.html */
export function generateMac(input: ValidatedInput, ctx: OperationContext) {
  const { key, mac, algorithm } = macFor(input, ctx, 'GenerateMac');
  return { Mac: mac.toString('base64'), MacAlgorithm: algorithm, KeyId: key.arn };
}
