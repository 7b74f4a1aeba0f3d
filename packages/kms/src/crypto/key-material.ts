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

/**
 * Imported HMAC key material may be longer than the generated kind, up to the hash's block size.
 * These ranges are AWS's as remembered from its guide's "Requirements for imported key material";
 * they could not be re-checked against the current page when this was written.
 * https://docs.aws.amazon.com/kms/latest/developerguide/importing-keys-conceptual.html
 */
export const IMPORTED_HMAC_BYTES: Partial<Record<KeySpec, [number, number]>> = {
  HMAC_224: [28, 64],
  HMAC_256: [32, 64],
  HMAC_384: [48, 128],
  HMAC_512: [64, 128],
};

/**
 * Whether imported material fits the key's spec: 32 bytes for SYMMETRIC_DEFAULT, a length in the
 * spec's range for HMAC keys, and a PKCS #8 DER private key of the spec's type, size or curve for
 * asymmetric keys. Returns the asymmetric key re-encoded as PKCS #8 DER (the form Sealbox keeps),
 * or why the material does not fit.
 */
export function checkImportedMaterial(spec: KeySpec, material: Buffer): { material: Buffer } | { problem: string } {
  const info = SPEC_INFO[spec];
  switch (info.family) {
    case 'symmetric':
      return material.length === 32 ? { material } : { problem: `Key material for a ${spec} key must be 256 bits (32 bytes), not ${material.length} bytes.` };
    case 'hmac': {
      const [min, max] = IMPORTED_HMAC_BYTES[spec]!;
      return material.length >= min && material.length <= max
        ? { material }
        : { problem: `Key material for a ${spec} key must be ${min} to ${max} bytes, not ${material.length} bytes.` };
    }
    case 'ml-dsa':
      return { problem: `KeySpec ${spec} is not supported by Sealbox yet.` };
    default: {
      let key: KeyObject;
      try {
        key = privateKeyOf(material);
      } catch {
        return { problem: `Key material for a ${spec} key must be a private key in PKCS #8 DER format.` };
      }
      const details = key.asymmetricKeyDetails ?? {};
      const fits =
        info.family === 'rsa'
          ? key.asymmetricKeyType === 'rsa' && details.modulusLength === info.rsaBits
          : info.family === 'ed25519'
            ? key.asymmetricKeyType === 'ed25519'
            : key.asymmetricKeyType === 'ec' && details.namedCurve === info.curve;
      return fits ? { material: pkcs8(key) } : { problem: `The imported private key does not match the key spec ${spec}.` };
    }
  }
}
