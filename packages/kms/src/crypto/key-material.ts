import { createPrivateKey, createPublicKey, generateKeyPair, randomBytes, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { SPEC_INFO, type KeySpec } from '../key-specs';
import { generateMlDsaMaterial, mlDsaSpki, parseMlDsaPkcs8 } from './ml-dsa';

const generatePair = promisify(generateKeyPair);

/**
 * New key material for a spec: 32 random bytes for SYMMETRIC_DEFAULT, the HMAC key's bytes, or
 * an asymmetric private key as PKCS #8 DER (for ML-DSA, the seed-only form of RFC 9881, which
 * Node's OpenSSL 3.0 cannot load: see ./ml-dsa.ts). Generated off the event loop (an RSA_4096 key
 * takes a while).
 */
export async function generateMaterial(spec: KeySpec): Promise<Buffer> {
  const info = SPEC_INFO[spec];
  switch (info.family) {
    case 'symmetric':
      return randomBytes(32);
    case 'hmac':
      return randomBytes(info.hmacBytes!);
    case 'rsa':
      return pkcs8((await generatePair('rsa', { modulusLength: info.rsaBits!, publicExponent: 65537 })).privateKey);
    case 'ec':
    case 'sm2':
      return pkcs8((await generatePair('ec', { namedCurve: info.curve! })).privateKey);
    case 'ed25519':
      return pkcs8((await generatePair('ed25519', {})).privateKey);
    case 'ml-dsa':
      return generateMlDsaMaterial(info.mlDsa!);
  }
}

const pkcs8 = (key: KeyObject) => key.export({ type: 'pkcs8', format: 'der' });

/**
 * The private key of asymmetric material, as a Node KeyObject. ML-DSA material has none (Node 20
 * has no ML-DSA): use ./ml-dsa.ts for it.
 */
export function privateKeyOf(material: Buffer): KeyObject {
  if (parseMlDsaPkcs8(material)) throw new Error('ML-DSA keys have no Node KeyObject; use crypto/ml-dsa');
  return createPrivateKey({ key: material, format: 'der', type: 'pkcs8' });
}

/** The public key of asymmetric material as DER SubjectPublicKeyInfo, as GetPublicKey returns it. */
export function publicKeyDer(material: Buffer): Buffer {
  const mlDsa = parseMlDsaPkcs8(material);
  if (mlDsa) return mlDsaSpki(mlDsa.level, mlDsa.seed);
  return createPublicKey(privateKeyOf(material)).export({ type: 'spki', format: 'der' });
}
