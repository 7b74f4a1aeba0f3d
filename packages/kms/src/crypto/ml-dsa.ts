import { randomBytes } from 'node:crypto';
import { ml_dsa44, ml_dsa65, ml_dsa87 } from '@noble/post-quantum/ml-dsa';

/**
 * ML-DSA (FIPS 204) keys. Node 20's OpenSSL has no ML-DSA, so @noble/post-quantum does the
 * lattice work. It is pinned to 0.4.x: 0.5 and later are ESM-only and do not load under our
 * CommonJS build and jest. 0.4.1 implements final FIPS 204 (key generation from a seed with the
 * k/l domain separation, pure ML-DSA with a context string, `internal.sign`/`internal.verify`
 * with an external μ); its keys and signatures were checked against OpenSSL 4.0 (via Python
 * `cryptography`): same public key from the same seed, signatures verified both ways.
 *
 * Key material is stored as PKCS #8 like every other asymmetric key, in the seed-only form of
 * RFC 9881 (ML-DSA in X.509): `PrivateKeyInfo { 0, id-ml-dsa-NN, OCTET STRING { [0] seed(32) } }`.
 * OpenSSL 3.5+ reads it as is; the expanded key is derived from the seed at each use.
 */
export type MlDsaLevel = 44 | 65 | 87;

const SCHEMES = { 44: ml_dsa44, 65: ml_dsa65, 87: ml_dsa87 } as const;

/** id-ml-dsa-44/65/87: 2.16.840.1.101.3.4.3.17/18/19 (NIST CSOR), DER-encoded with tag and length. */
const OID_PREFIX = Buffer.from('0609608648016503040300', 'hex');
const OID_ARC = { 44: 0x11, 65: 0x12, 87: 0x13 } as const;
const oid = (level: MlDsaLevel) => Buffer.concat([OID_PREFIX.subarray(0, -1), Buffer.from([OID_ARC[level]])]);
/** AlgorithmIdentifier: the OID with absent parameters. */
const algorithmIdentifier = (level: MlDsaLevel) => der(0x30, oid(level));

/** A DER TLV (definite length, short or long form). */
function der(tag: number, content: Buffer): Buffer {
  const n = content.length;
  const length = n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), length, content]);
}

/** A fresh seed-only PKCS #8 private key. */
export function generateMlDsaMaterial(level: MlDsaLevel): Buffer {
  return mlDsaPkcs8(level, randomBytes(32));
}

export function mlDsaPkcs8(level: MlDsaLevel, seed: Buffer): Buffer {
  if (seed.length !== 32) throw new Error('an ML-DSA seed is 32 bytes');
  const privateKey = der(0x04, der(0x80, seed));
  return der(0x30, Buffer.concat([der(0x02, Buffer.from([0])), algorithmIdentifier(level), privateKey]));
}

/** The parameter set and seed of a seed-only ML-DSA PKCS #8 key; undefined for any other key. */
export function parseMlDsaPkcs8(material: Buffer): { level: MlDsaLevel; seed: Buffer } | undefined {
  // Seed-only keys have one fixed 54-byte layout; compare against it rather than parse BER.
  if (material.length !== 54) return undefined;
  for (const level of [44, 65, 87] as const) {
    const prefix = mlDsaPkcs8(level, Buffer.alloc(32)).subarray(0, 22);
    if (material.subarray(0, 22).equals(prefix)) return { level, seed: Buffer.from(material.subarray(22)) };
  }
  return undefined;
}

/** The raw (FIPS 204 pkEncode) public key and the expanded secret key of a seed. */
function keysOf(level: MlDsaLevel, seed: Buffer) {
  return SCHEMES[level].keygen(seed);
}

/**
 * SubjectPublicKeyInfo: `SEQUENCE { AlgorithmIdentifier { id-ml-dsa-NN }, BIT STRING { pk } }`,
 * the raw public key as the BIT STRING (RFC 9881 section 4). ML_DSA_44 gives 1334 bytes.
 */
export function mlDsaSpki(level: MlDsaLevel, seed: Buffer): Buffer {
  const { publicKey } = keysOf(level, seed);
  return der(0x30, Buffer.concat([algorithmIdentifier(level), der(0x03, Buffer.concat([Buffer.from([0]), publicKey]))]));
}

/** The 64-byte message representative μ = SHAKE256(tr ‖ 0 ‖ 0 ‖ M) of pure ML-DSA with an empty context (FIPS 204 Algorithm 7 line 6). */
export const ML_DSA_MU_BYTES = 64;

/**
 * The internal functions of FIPS 204 (ML-DSA.Sign_internal / Verify_internal, Algorithms 7 and 8).
 * 0.4.x types them as (sk, M', rnd) and (pk, M', sig), but the implementation takes a fourth
 * `externalMu` flag that uses the message as μ (src/ml-dsa.ts, `internal.sign`). Its public
 * `sign` is typed without the context argument it takes, so the pure wrapper is spelled out below.
 */
interface Internal {
  sign(secretKey: Uint8Array, message: Uint8Array, rnd: Uint8Array, externalMu: boolean): Uint8Array;
  verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array, externalMu: boolean): boolean;
}
const internal = (level: MlDsaLevel) => SCHEMES[level].internal as unknown as Internal;

/** M′ = 0 ‖ |ctx| ‖ ctx ‖ M with an empty context: pure ML-DSA (FIPS 204 Algorithm 2, line 10). */
const pureMessage = (message: Buffer) => Buffer.concat([Buffer.from([0, 0]), message]);

/**
 * Pure ML-DSA with an empty context (ML-DSA.Sign, hedged with 32 random bytes), over the message
 * (RAW) or over a caller-computed μ (EXTERNAL_MU, FIPS 204 section 6.2). Both give an ordinary
 * ML-DSA signature that any verifier checks against the message.
 */
export function mlDsaSign(level: MlDsaLevel, seed: Buffer, message: Buffer, externalMu: boolean): Buffer {
  const { secretKey } = keysOf(level, seed);
  // Copies: the library zeroes μ (and M′) once it has signed.
  return Buffer.from(internal(level).sign(secretKey, externalMu ? Buffer.from(message) : pureMessage(message), randomBytes(32), externalMu));
}

export function mlDsaVerify(level: MlDsaLevel, seed: Buffer, message: Buffer, signature: Buffer, externalMu: boolean): boolean {
  const { publicKey } = keysOf(level, seed);
  try {
    return internal(level).verify(publicKey, externalMu ? message : pureMessage(message), signature, externalMu);
  } catch {
    return false;
  }
}
