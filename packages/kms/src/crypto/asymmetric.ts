import { constants, createHmac, createPublicKey, diffieHellman, privateDecrypt, publicEncrypt, timingSafeEqual, type KeyObject } from 'node:crypto';
import { privateKeyOf } from './key-material';

/**
 * The cryptography of asymmetric encryption, HMAC and key agreement keys, as plain functions over
 * key material (PKCS #8 DER for asymmetric keys, raw bytes for HMAC keys).
 * https://docs.aws.amazon.com/kms/latest/developerguide/supported-algorithms.html
 */

export type RsaEncryptionAlgorithm = 'RSAES_OAEP_SHA_1' | 'RSAES_OAEP_SHA_256';

/** RSAES-OAEP with MGF1 over the same hash, no label (RFC 8017 7.1), as KMS uses it. */
const OAEP_HASH: Record<RsaEncryptionAlgorithm, { name: string; bytes: number }> = {
  RSAES_OAEP_SHA_1: { name: 'sha1', bytes: 20 },
  RSAES_OAEP_SHA_256: { name: 'sha256', bytes: 32 },
};

export const isRsaEncryptionAlgorithm = (algorithm: string): algorithm is RsaEncryptionAlgorithm =>
  Object.prototype.hasOwnProperty.call(OAEP_HASH, algorithm);

/** The largest plaintext OAEP takes: k - 2 hLen - 2 bytes (RSA_2048: 214 with SHA-1, 190 with SHA-256). */
export function oaepMaxPlaintext(rsaBits: number, algorithm: RsaEncryptionAlgorithm): number {
  return rsaBits / 8 - 2 * OAEP_HASH[algorithm].bytes - 2;
}

/** Raw RSA-OAEP ciphertext (the modulus length: 256 bytes for RSA_2048), exactly what KMS returns. */
export function oaepEncrypt(material: Buffer, algorithm: RsaEncryptionAlgorithm, plaintext: Buffer): Buffer {
  const key = createPublicKey(privateKeyOf(material));
  return publicEncrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: OAEP_HASH[algorithm].name }, plaintext);
}

/** The plaintext, or undefined when the ciphertext does not decrypt under this key and algorithm. */
export function oaepDecrypt(material: Buffer, algorithm: RsaEncryptionAlgorithm, ciphertext: Buffer): Buffer | undefined {
  try {
    return privateDecrypt({ key: privateKeyOf(material), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: OAEP_HASH[algorithm].name }, ciphertext);
  } catch {
    return undefined;
  }
}

/** HMAC of a message under an HMAC key's raw bytes. */
export function hmac(hash: string, material: Buffer, message: Buffer): Buffer {
  return createHmac(hash, material).update(message).digest();
}

/** Constant-time comparison of a MAC with the expected one (a different length never matches). */
export function macEquals(expected: Buffer, given: Buffer): boolean {
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/**
 * A peer's public key from DER SubjectPublicKeyInfo, or undefined when the bytes are not one
 * (OpenSSL also refuses EC points that are not on their curve).
 */
export function parsePublicKey(der: Buffer): KeyObject | undefined {
  try {
    return createPublicKey({ key: der, format: 'der', type: 'spki' });
  } catch {
    return undefined;
  }
}

/** The OpenSSL curve name of an EC key, if it is one. */
export const curveOf = (key: KeyObject): string | undefined =>
  key.asymmetricKeyType === 'ec' ? (key.asymmetricKeyDetails?.namedCurve as string | undefined) : undefined;

/**
 * ECDH (NIST SP 800-56A's cofactor Diffie-Hellman primitive; the NIST curves have cofactor 1):
 * the raw shared secret, the x-coordinate of the shared point, as DeriveSharedSecret returns it.
 */
export function ecdh(material: Buffer, peer: KeyObject): Buffer {
  return diffieHellman({ privateKey: privateKeyOf(material), publicKey: peer });
}
