/**
 * Every key spec KMS has, with the key usages it allows and the algorithms each usage offers.
 * https://docs.aws.amazon.com/kms/latest/developerguide/symm-asymm-choose-key-spec.html
 * https://docs.aws.amazon.com/kms/latest/developerguide/supported-algorithms.html
 */
export const KEY_SPECS = [
  'SYMMETRIC_DEFAULT', 'HMAC_224', 'HMAC_256', 'HMAC_384', 'HMAC_512', 'RSA_2048', 'RSA_3072', 'RSA_4096',
  'ECC_NIST_P256', 'ECC_NIST_P384', 'ECC_NIST_P521', 'ECC_SECG_P256K1', 'ECC_NIST_EDWARDS25519', 'SM2',
  'ML_DSA_44', 'ML_DSA_65', 'ML_DSA_87',
] as const;
export type KeySpec = (typeof KEY_SPECS)[number];

export type KeyUsage = 'ENCRYPT_DECRYPT' | 'SIGN_VERIFY' | 'GENERATE_VERIFY_MAC' | 'KEY_AGREEMENT';

export type KeyFamily = 'symmetric' | 'hmac' | 'rsa' | 'ec' | 'ed25519' | 'sm2' | 'ml-dsa';

export interface SpecInfo {
  family: KeyFamily;
  /** The usages a key of this spec may have; the first is not a default (only SYMMETRIC_DEFAULT has one). */
  usages: readonly KeyUsage[];
  /** Bits of an RSA modulus, OpenSSL's curve name, HMAC key bytes, or the ML-DSA parameter set. */
  rsaBits?: number;
  curve?: string;
  hmacBytes?: number;
  hash?: 'sha224' | 'sha256' | 'sha384' | 'sha512';
  mlDsa?: 44 | 65 | 87;
}

const rsa = (bits: number): SpecInfo => ({ family: 'rsa', usages: ['ENCRYPT_DECRYPT', 'SIGN_VERIFY'], rsaBits: bits });
const ec = (curve: string, hash: SpecInfo['hash'], agreement: boolean): SpecInfo => ({
  family: 'ec',
  usages: agreement ? ['SIGN_VERIFY', 'KEY_AGREEMENT'] : ['SIGN_VERIFY'],
  curve,
  hash,
});
const hmac = (bytes: number, hash: SpecInfo['hash']): SpecInfo => ({ family: 'hmac', usages: ['GENERATE_VERIFY_MAC'], hmacBytes: bytes, hash });

export const SPEC_INFO: Record<KeySpec, SpecInfo> = {
  SYMMETRIC_DEFAULT: { family: 'symmetric', usages: ['ENCRYPT_DECRYPT'] },
  HMAC_224: hmac(28, 'sha224'),
  HMAC_256: hmac(32, 'sha256'),
  HMAC_384: hmac(48, 'sha384'),
  HMAC_512: hmac(64, 'sha512'),
  RSA_2048: rsa(2048),
  RSA_3072: rsa(3072),
  RSA_4096: rsa(4096),
  ECC_NIST_P256: ec('prime256v1', 'sha256', true),
  ECC_NIST_P384: ec('secp384r1', 'sha384', true),
  ECC_NIST_P521: ec('secp521r1', 'sha512', true),
  ECC_SECG_P256K1: ec('secp256k1', 'sha256', false),
  ECC_NIST_EDWARDS25519: { family: 'ed25519', usages: ['SIGN_VERIFY'] },
  SM2: { family: 'sm2', usages: ['ENCRYPT_DECRYPT', 'SIGN_VERIFY', 'KEY_AGREEMENT'], curve: 'SM2' },
  ML_DSA_44: { family: 'ml-dsa', usages: ['SIGN_VERIFY'], mlDsa: 44 },
  ML_DSA_65: { family: 'ml-dsa', usages: ['SIGN_VERIFY'], mlDsa: 65 },
  ML_DSA_87: { family: 'ml-dsa', usages: ['SIGN_VERIFY'], mlDsa: 87 },
};

export const isKeySpec = (value: string): value is KeySpec => Object.prototype.hasOwnProperty.call(SPEC_INFO, value);

/** Symmetric keys (encryption and HMAC) have no public key. */
export const isAsymmetric = (spec: KeySpec) => SPEC_INFO[spec].family !== 'symmetric' && SPEC_INFO[spec].family !== 'hmac';

/** The algorithms a key of this spec and usage offers, as DescribeKey and GetPublicKey list them. */
export function algorithmsOf(spec: KeySpec, usage: KeyUsage): {
  EncryptionAlgorithms?: string[];
  SigningAlgorithms?: string[];
  MacAlgorithms?: string[];
  KeyAgreementAlgorithms?: string[];
} {
  const info = SPEC_INFO[spec];
  switch (usage) {
    case 'ENCRYPT_DECRYPT':
      if (info.family === 'symmetric') return { EncryptionAlgorithms: ['SYMMETRIC_DEFAULT'] };
      if (info.family === 'sm2') return { EncryptionAlgorithms: ['SM2PKE'] };
      return { EncryptionAlgorithms: ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256'] };
    case 'SIGN_VERIFY':
      return { SigningAlgorithms: signingAlgorithms(spec) };
    case 'GENERATE_VERIFY_MAC':
      return { MacAlgorithms: [`HMAC_SHA_${spec.slice('HMAC_'.length)}`] };
    case 'KEY_AGREEMENT':
      return { KeyAgreementAlgorithms: ['ECDH'] };
  }
}

export function signingAlgorithms(spec: KeySpec): string[] {
  switch (spec) {
    case 'RSA_2048':
    case 'RSA_3072':
    case 'RSA_4096':
      return ['RSASSA_PKCS1_V1_5_SHA_256', 'RSASSA_PKCS1_V1_5_SHA_384', 'RSASSA_PKCS1_V1_5_SHA_512', 'RSASSA_PSS_SHA_256', 'RSASSA_PSS_SHA_384', 'RSASSA_PSS_SHA_512'];
    case 'ECC_NIST_P256':
    case 'ECC_SECG_P256K1':
      return ['ECDSA_SHA_256'];
    case 'ECC_NIST_P384':
      return ['ECDSA_SHA_384'];
    case 'ECC_NIST_P521':
      return ['ECDSA_SHA_512'];
    case 'ECC_NIST_EDWARDS25519':
      return ['ED25519_SHA_512', 'ED25519_PH_SHA_512'];
    case 'SM2':
      return ['SM2DSA'];
    case 'ML_DSA_44':
    case 'ML_DSA_65':
    case 'ML_DSA_87':
      return ['ML_DSA_SHAKE_256'];
    default:
      return [];
  }
}
