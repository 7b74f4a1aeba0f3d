import type { OperationContext } from '../context';
import type { ValidatedInput } from '../model/validate';
import { dataKeyPairFor } from './generate-data-key-pair';

/**
 * GenerateDataKeyPair without the plaintext private key: only its ciphertext and the public key.
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_GenerateDataKeyPairWithoutPlaintext.html
 */
export async function generateDataKeyPairWithoutPlaintext(input: ValidatedInput, ctx: OperationContext) {
  const pair = await dataKeyPairFor(ctx, input, 'GenerateDataKeyPairWithoutPlaintext');
  return {
    PrivateKeyCiphertextBlob: pair.blob.toString('base64'),
    PublicKey: pair.publicKey.toString('base64'),
    KeyId: pair.key.arn,
    KeyPairSpec: pair.keyPairSpec,
    KeyMaterialId: pair.materialId,
  };
}
