import type { OperationContext } from '../context';
import { generateWrappingKey, isWrappingAlgorithm, isWrappingKeySpec } from '../crypto/import-wrapping';
import { UnsupportedOperationException } from '../errors';
import { SPEC_INFO } from '../key-specs';
import { epochSeconds, requireNotPendingDeletion } from '../keys';
import type { ValidatedInput } from '../model/validate';
import { str, targetKey } from './common';
import { requireExternal, sealImportToken } from './import-common';

/** Each public key and import token set is valid for 24 hours. */
export const IMPORT_PARAMETERS_VALIDITY_MS = 24 * 3600 * 1000;

/**
 * A fresh RSA wrapping key and the import token bound to it, for an EXTERNAL key in any state but
 * PendingDeletion. The token works for 24 hours of the virtual clock.
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_GetParametersForImport.html
 */
export async function getParametersForImport(input: ValidatedInput, ctx: OperationContext) {
  const key = targetKey(input, ctx, 'GetParametersForImport', { manage: true });
  requireExternal(key);
  requireNotPendingDeletion(key);
  const algorithm = str(input, 'WrappingAlgorithm')!;
  const spec = str(input, 'WrappingKeySpec')!;
  // RSAES_PKCS1_V1_5 is gone since October 10, 2023; SM2PKE and the SM2 wrapping key exist only
  // in the China Regions. AWS's wording for these refusals is not documented.
  if (algorithm === 'RSAES_PKCS1_V1_5') throw new UnsupportedOperationException('RSAES_PKCS1_V1_5 is no longer supported as a wrapping algorithm. Use an RSAES_OAEP or RSA_AES_KEY_WRAP algorithm.');
  if (!isWrappingAlgorithm(algorithm)) throw new UnsupportedOperationException(`WrappingAlgorithm ${algorithm} is supported only in the China Regions.`);
  if (!isWrappingKeySpec(spec)) throw new UnsupportedOperationException(`WrappingKeySpec ${spec} is supported only in the China Regions.`);
  // RSA private keys never fit in one RSA-OAEP block, nor does an ECC_NIST_P521 private key under
  // RSA_2048: AWS requires an RSA_AES algorithm for them (its wording is not documented).
  const direct = algorithm.startsWith('RSAES_OAEP');
  if (direct && SPEC_INFO[key.keySpec].family === 'rsa') {
    throw new UnsupportedOperationException(`${algorithm} cannot wrap ${key.keySpec} key material. Use RSA_AES_KEY_WRAP_SHA_1 or RSA_AES_KEY_WRAP_SHA_256.`);
  }
  if (direct && key.keySpec === 'ECC_NIST_P521' && spec === 'RSA_2048') {
    throw new UnsupportedOperationException(`${algorithm} with an RSA_2048 wrapping key cannot wrap ECC_NIST_P521 key material. Use an RSA_AES_KEY_WRAP algorithm or a longer wrapping key.`);
  }
  const { privateKey, publicKey } = await generateWrappingKey(spec);
  const validTo = ctx.now.getTime() + IMPORT_PARAMETERS_VALIDITY_MS;
  const token = sealImportToken(ctx, { keyId: key.keyId, algorithm, spec, validTo, privateKey });
  return {
    KeyId: key.arn,
    ImportToken: token.toString('base64'),
    PublicKey: publicKey.toString('base64'),
    ParametersValidTo: epochSeconds(validTo),
  };
}
