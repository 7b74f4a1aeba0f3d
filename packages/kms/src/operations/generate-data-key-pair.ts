import { authorize } from '../access/authorize';
import type { OperationContext } from '../context';
import { generateMaterial, publicKeyDer } from '../crypto/key-material';
import { UnsupportedOperationException } from '../errors';
import type { KeySpec } from '../key-specs';
import { requireEnabled, requireSymmetric, resolveKey } from '../keys';
import type { ValidatedInput } from '../model/validate';
import { checkDryRun, context, encryptWith, refuseRecipient, str } from './common';

/**
 * A new asymmetric key pair for use outside KMS: the public key (DER SubjectPublicKeyInfo), the
 * private key (PKCS #8 DER) and that private key encrypted under a symmetric encryption KMS key,
 * with the encryption context, so that Decrypt of PrivateKeyCiphertextBlob gives the PKCS #8.
 * Each KeyPairSpec is a key spec, generated as CreateKey generates its material.
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_GenerateDataKeyPair.html
 */
export async function dataKeyPairFor(ctx: OperationContext, input: ValidatedInput, action: 'GenerateDataKeyPair' | 'GenerateDataKeyPairWithoutPlaintext') {
  const key = resolveKey(ctx, str(input, 'KeyId')!, { aliases: true, crossAccount: true });
  ctx.audit.keys.push(key);
  const ec = context(input, 'EncryptionContext');
  authorize(ctx, { action, key, context: ec });
  requireSymmetric(key, action);
  requireEnabled(key);
  const keyPairSpec = str(input, 'KeyPairSpec') as KeySpec;
  if (keyPairSpec === 'SM2' && !ctx.region.startsWith('cn-')) {
    // SM2 is offered in China Regions only; AWS's answer elsewhere is not documented.
    throw new UnsupportedOperationException('KeyPairSpec SM2 is supported only in China Regions.');
  }
  refuseRecipient(input);
  checkDryRun(input);
  const privateKey = await generateMaterial(keyPairSpec);
  const { blob, materialId } = encryptWith(ctx, key, privateKey, ec);
  ctx.audit.additionalEventData = { keyMaterialId: materialId };
  return {
    key,
    keyPairSpec,
    privateKey,
    publicKey: publicKeyDer(privateKey),
    blob,
    materialId,
  };
}

/** https://docs.aws.amazon.com/kms/latest/APIReference/API_GenerateDataKeyPair.html */
export async function generateDataKeyPair(input: ValidatedInput, ctx: OperationContext) {
  const pair = await dataKeyPairFor(ctx, input, 'GenerateDataKeyPair');
  return {
    PrivateKeyCiphertextBlob: pair.blob.toString('base64'),
    PrivateKeyPlaintext: pair.privateKey.toString('base64'),
    PublicKey: pair.publicKey.toString('base64'),
    KeyId: pair.key.arn,
    KeyPairSpec: pair.keyPairSpec,
    KeyMaterialId: pair.materialId,
  };
}
