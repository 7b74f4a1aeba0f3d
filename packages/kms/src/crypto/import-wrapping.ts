import { constants, createDecipheriv, createHash, generateKeyPair, privateDecrypt, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';

const generatePair = promisify(generateKeyPair);

/**
 * How imported key material travels: wrapped under the RSA public key GetParametersForImport
 * hands out. RSAES_OAEP_* encrypt the material directly (OAEP with SHA-1 or SHA-256, MGF1 with
 * the same hash, no label); RSA_AES_KEY_WRAP_* encrypt a fresh 256-bit AES key with OAEP and
 * append the material wrapped under it with AES key wrap with padding (RFC 5649), the layout of
 * PKCS #11's CKM_RSA_AES_KEY_WRAP.
 * https://docs.aws.amazon.com/kms/latest/developerguide/importing-keys-encrypt-key-material.html
 */
export const WRAPPING_ALGORITHMS = ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256', 'RSA_AES_KEY_WRAP_SHA_1', 'RSA_AES_KEY_WRAP_SHA_256'] as const;
export type WrappingAlgorithm = (typeof WRAPPING_ALGORITHMS)[number];

export const WRAPPING_KEY_SPECS = ['RSA_2048', 'RSA_3072', 'RSA_4096'] as const;
export type WrappingKeySpec = (typeof WRAPPING_KEY_SPECS)[number];

export const isWrappingAlgorithm = (v: string): v is WrappingAlgorithm => (WRAPPING_ALGORITHMS as readonly string[]).includes(v);
export const isWrappingKeySpec = (v: string): v is WrappingKeySpec => (WRAPPING_KEY_SPECS as readonly string[]).includes(v);

export const wrappingKeyBits = (spec: WrappingKeySpec) => Number(spec.slice('RSA_'.length));

/** A wrapping key pair: the private half as PKCS #8 DER, the public half as DER SubjectPublicKeyInfo. */
export async function generateWrappingKey(spec: WrappingKeySpec): Promise<{ privateKey: Buffer; publicKey: Buffer }> {
  const pair = await generatePair('rsa', { modulusLength: wrappingKeyBits(spec), publicExponent: 65537 });
  return {
    privateKey: pair.privateKey.export({ type: 'pkcs8', format: 'der' }),
    publicKey: pair.publicKey.export({ type: 'spki', format: 'der' }),
  };
}

const oaepHash = (algorithm: WrappingAlgorithm) => (algorithm.endsWith('SHA_1') ? 'sha1' : 'sha256');

/**
 * The key material inside EncryptedKeyMaterial, or undefined when it does not open under this
 * wrapping key and algorithm (a wrong key, algorithm or layout, or tampering).
 */
export function unwrapKeyMaterial(algorithm: WrappingAlgorithm, privateKey: KeyObject, encrypted: Buffer): Buffer | undefined {
  const rsaBytes = (privateKey.asymmetricKeyDetails?.modulusLength ?? 0) / 8;
  const oaep = (data: Buffer) => privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: oaepHash(algorithm) }, data);
  try {
    if (algorithm === 'RSAES_OAEP_SHA_1' || algorithm === 'RSAES_OAEP_SHA_256') {
      if (encrypted.length !== rsaBytes) return undefined;
      return oaep(encrypted);
    }
    if (encrypted.length <= rsaBytes) return undefined;
    const aesKey = oaep(encrypted.subarray(0, rsaBytes));
    if (aesKey.length !== 32) return undefined;
    return aesKeyUnwrapPadded(aesKey, encrypted.subarray(rsaBytes));
  } catch {
    return undefined;
  }
}

/** RFC 5649 alternative initial value (A65959A6 || 32-bit message length). */
const KWP_IV = Buffer.from('a65959a6', 'hex');

/** AES key wrap with padding (RFC 5649), as OpenSSL's id-aes256-wrap-pad; throws when the integrity check fails. */
export function aesKeyUnwrapPadded(key: Buffer, wrapped: Buffer): Buffer {
  const decipher = createDecipheriv('id-aes256-wrap-pad', key, KWP_IV);
  return Buffer.concat([decipher.update(wrapped), decipher.final()]);
}

/**
 * The KeyMaterialId of imported material. AWS derives it from the key id and the material
 * ("KMS assigns a unique identifier to the key material based on the KMS key ID and the imported
 * key material"), so importing the same material into the same key always gives the same id and
 * a re-import can be recognised without keeping the material. AWS's exact derivation is not
 * published; this is SHA-256 over both, domain-separated.
 */
export function importedMaterialId(keyId: string, material: Buffer): string {
  return createHash('sha256').update('sealbox imported key material\0').update(keyId).update('\0').update(material).digest('hex');
}
