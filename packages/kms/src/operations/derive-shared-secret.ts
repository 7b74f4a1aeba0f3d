import { authorize } from '../access/authorize';
import type { OperationContext } from '../context';
import { curveOf, ecdh, parsePublicKey } from '../crypto/asymmetric';
import { UnsupportedOperationException, ValidationException } from '../errors';
import { SPEC_INFO } from '../key-specs';
import { requireEnabled, requireUsage, resolveKey } from '../keys';
import type { ValidatedInput } from '../model/validate';
import { blob, checkDryRun, refuseRecipient, str } from './common';

/**
 * ECDH between a KEY_AGREEMENT key's private key and a peer's public key (DER
 * SubjectPublicKeyInfo on the same curve): the raw shared secret, the x-coordinate of the shared
 * point, which the caller feeds to a KDF (NIST SP 800-56C).
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_DeriveSharedSecret.html
 */
export function deriveSharedSecret(input: ValidatedInput, ctx: OperationContext) {
  const key = resolveKey(ctx, str(input, 'KeyId')!, { aliases: true, crossAccount: true });
  ctx.audit.keys.push(key);
  authorize(ctx, { action: 'DeriveSharedSecret', key });
  requireUsage(key, 'KEY_AGREEMENT', 'DeriveSharedSecret');
  requireEnabled(key);
  const info = SPEC_INFO[key.keySpec];
  // SM2 key agreement keys exist in China Regions only; their key agreement is not built.
  if (info.family !== 'ec') throw new UnsupportedOperationException(`DeriveSharedSecret with key spec ${key.keySpec} is not supported by Sealbox yet.`);
  refuseRecipient(input);
  // AWS documents that the public key must be DER SubjectPublicKeyInfo on the KMS key's curve,
  // not the messages it answers otherwise; these ValidationExceptions are Sealbox's wording.
  const peer = parsePublicKey(blob(input, 'PublicKey')!);
  if (!peer) throw new ValidationException('PublicKey must be a DER-encoded X.509 SubjectPublicKeyInfo of an elliptic curve public key.');
  const curve = curveOf(peer);
  if (curve !== info.curve) {
    throw new ValidationException(`PublicKey must be on the same elliptic curve as the KMS key (${key.keySpec}).`);
  }
  checkDryRun(input);
  const secret = ecdh(ctx.core.currentMaterial(key).material, peer);
  return { KeyId: key.arn, SharedSecret: secret.toString('base64'), KeyAgreementAlgorithm: 'ECDH', KeyOrigin: key.origin };
}
