import { constants, createHash, createPrivateKey, createPublicKey, privateEncrypt, publicDecrypt, randomBytes, sign, timingSafeEqual, verify, type KeyObject } from 'node:crypto';
import { ed25519ph } from '@noble/curves/ed25519';
import { p256, p384, p521 } from '@noble/curves/nist';
import { secp256k1 } from '@noble/curves/secp256k1';
import { InvalidKeyUsageException, UnsupportedOperationException, ValidationException } from '../errors';
import { SPEC_INFO, signingAlgorithms, type KeySpec } from '../key-specs';
import { ML_DSA_MU_BYTES, mlDsaSign, mlDsaVerify, parseMlDsaPkcs8 } from './ml-dsa';

/**
 * Sign and Verify for every signing algorithm KMS has, on a key's PKCS #8 material.
 * https://docs.aws.amazon.com/kms/latest/developerguide/asymmetric-key-specs.html
 *
 * RSA and ECDSA always work on a digest: KMS hashes a RAW message with the algorithm's hash, a
 * DIGEST message is the hash already. Node's `crypto.sign` cannot sign a given digest, so:
 * - RSASSA-PKCS1-v1_5 is the RSA private operation with PKCS #1 type-1 padding on the DigestInfo
 *   (`privateEncrypt`), which is exactly EMSA-PKCS1-v1_5 (RFC 8017 section 9.2);
 * - RSASSA-PSS encodes EMSA-PSS here (RFC 8017 section 9.1, MGF1 with the same hash, salt as long
 *   as the hash, as KMS documents) and applies the raw RSA operation;
 * - ECDSA uses @noble/curves on the digest, with DER signatures and no low-S normalisation (KMS
 *   returns either half; Ethereum users normalise KMS signatures themselves).
 * Ed25519 (pure, RFC 8032) is Node's; Ed25519ph is @noble/curves' (RFC 8032 section 5.1, empty
 * context). ML-DSA is in ./ml-dsa.ts.
 */
export type MessageType = 'RAW' | 'DIGEST' | 'EXTERNAL_MU';
type Hash = 'sha256' | 'sha384' | 'sha512';
type Scheme = 'rsa-pkcs1' | 'rsa-pss' | 'ecdsa' | 'ed25519' | 'ed25519ph' | 'sm2' | 'ml-dsa';

const ALGORITHMS: Record<string, { scheme: Scheme; hash?: Hash }> = {
  RSASSA_PKCS1_V1_5_SHA_256: { scheme: 'rsa-pkcs1', hash: 'sha256' },
  RSASSA_PKCS1_V1_5_SHA_384: { scheme: 'rsa-pkcs1', hash: 'sha384' },
  RSASSA_PKCS1_V1_5_SHA_512: { scheme: 'rsa-pkcs1', hash: 'sha512' },
  RSASSA_PSS_SHA_256: { scheme: 'rsa-pss', hash: 'sha256' },
  RSASSA_PSS_SHA_384: { scheme: 'rsa-pss', hash: 'sha384' },
  RSASSA_PSS_SHA_512: { scheme: 'rsa-pss', hash: 'sha512' },
  ECDSA_SHA_256: { scheme: 'ecdsa', hash: 'sha256' },
  ECDSA_SHA_384: { scheme: 'ecdsa', hash: 'sha384' },
  ECDSA_SHA_512: { scheme: 'ecdsa', hash: 'sha512' },
  ED25519_SHA_512: { scheme: 'ed25519' },
  ED25519_PH_SHA_512: { scheme: 'ed25519ph', hash: 'sha512' },
  SM2DSA: { scheme: 'sm2' },
  ML_DSA_SHAKE_256: { scheme: 'ml-dsa' },
};

const HASH_BYTES: Record<Hash, number> = { sha256: 32, sha384: 48, sha512: 64 };

/** DER DigestInfo prefixes (RFC 8017 section 9.2, note 1). */
const DIGEST_INFO: Record<Hash, Buffer> = {
  sha256: Buffer.from('3031300d060960864801650304020105000420', 'hex'),
  sha384: Buffer.from('3041300d060960864801650304020205000430', 'hex'),
  sha512: Buffer.from('3051300d060960864801650304020305000440', 'hex'),
};

const CURVES = { prime256v1: p256, secp384r1: p384, secp521r1: p521, secp256k1 } as const;

export interface SigningRequest {
  spec: KeySpec;
  algorithm: string;
  messageType: MessageType;
  message: Buffer;
}

/**
 * Checks an algorithm and message against the key spec, with KMS's answers:
 * - an algorithm the spec does not offer: InvalidKeyUsageException "Algorithm ECDSA_SHA_256 is
 *   incompatible with key spec ECC_NIST_P521." (quoted from KMS in aws-kms-pkcs11 issue #18);
 * - Ed25519: ED25519_SHA_512 takes RAW only, ED25519_PH_SHA_512 DIGEST only (API_Sign,
 *   MessageType): ValidationException "Message type RAW is incompatible with algorithm
 *   ED25519_PH_SHA_512." (wording reported from KMS by other emulators' authors, not in AWS docs);
 * - ML-DSA: RAW or EXTERNAL_MU; DIGEST is ValidationException "Message type DIGEST is incompatible
 *   with key spec ML_DSA_44." (reported likewise). EXTERNAL_MU on RSA/ECC keys: AWS's wording is
 *   unknown; Sealbox answers the same sentence with the key spec;
 * - a DIGEST of the wrong length: ValidationException "Digest is invalid length for algorithm
 *   ECDSA_SHA_256."; an EXTERNAL_MU that is not 64 bytes gets the same sentence (AWS's wording for
 *   μ is unknown).
 */
export function checkSigningRequest(request: SigningRequest): void {
  const { spec, algorithm, messageType, message } = request;
  if (!signingAlgorithms(spec).includes(algorithm)) {
    throw new InvalidKeyUsageException(`Algorithm ${algorithm} is incompatible with key spec ${spec}.`);
  }
  const { scheme, hash } = ALGORITHMS[algorithm]!;
  if (scheme === 'ed25519' || scheme === 'ed25519ph') {
    const required: MessageType = scheme === 'ed25519' ? 'RAW' : 'DIGEST';
    if (messageType !== required) throw new ValidationException(`Message type ${messageType} is incompatible with algorithm ${algorithm}.`);
  } else if (messageType === (scheme === 'ml-dsa' ? 'DIGEST' : 'EXTERNAL_MU')) {
    throw new ValidationException(`Message type ${messageType} is incompatible with key spec ${spec}.`);
  }
  const expected = messageType === 'DIGEST' ? HASH_BYTES[hash!] : messageType === 'EXTERNAL_MU' ? ML_DSA_MU_BYTES : undefined;
  if (expected !== undefined && message.length !== expected) {
    throw new ValidationException(`Digest is invalid length for algorithm ${algorithm}.`);
  }
}

/** The digest RSA and ECDSA sign: the message's hash for RAW, the message itself for DIGEST. */
function digestOf(request: SigningRequest, hash: Hash): Buffer {
  return request.messageType === 'DIGEST' ? request.message : createHash(hash).update(request.message).digest();
}

/** Signs a checked request with the key's private material. */
export function signMessage(material: Buffer, request: SigningRequest): Buffer {
  const { scheme, hash } = ALGORITHMS[request.algorithm]!;
  switch (scheme) {
    case 'ml-dsa': {
      const { level, seed } = parseMlDsaPkcs8(material)!;
      return mlDsaSign(level, seed, request.message, request.messageType === 'EXTERNAL_MU');
    }
    case 'ed25519':
      return sign(null, request.message, privateKey(material));
    case 'ed25519ph':
      return Buffer.from(ed25519ph.sign(request.message, jwk(privateKey(material)).d));
    case 'rsa-pkcs1':
      return privateEncrypt({ key: privateKey(material), padding: constants.RSA_PKCS1_PADDING }, Buffer.concat([DIGEST_INFO[hash!], digestOf(request, hash!)]));
    case 'rsa-pss': {
      const key = privateKey(material);
      const em = emsaPssEncode(digestOf(request, hash!), key.asymmetricKeyDetails!.modulusLength! - 1, hash!);
      return privateEncrypt({ key, padding: constants.RSA_NO_PADDING }, em);
    }
    case 'ecdsa': {
      const curve = curveOf(request.spec);
      const signature = curve.sign(digestOf(request, hash!), jwk(privateKey(material)).d, { prehash: false, lowS: false, extraEntropy: true });
      return Buffer.from(signature.toDERRawBytes());
    }
    case 'sm2':
      // Unreachable: CreateKey refuses SM2 keys (see create-key.ts).
      throw new UnsupportedOperationException('SM2DSA signing is not supported by Sealbox.');
  }
}

/** Whether a signature is valid for a checked request; malformed signatures are simply invalid. */
export function verifyMessage(material: Buffer, request: SigningRequest, signature: Buffer): boolean {
  const { scheme, hash } = ALGORITHMS[request.algorithm]!;
  try {
    switch (scheme) {
      case 'ml-dsa': {
        const { level, seed } = parseMlDsaPkcs8(material)!;
        return mlDsaVerify(level, seed, request.message, signature, request.messageType === 'EXTERNAL_MU');
      }
      case 'ed25519':
        return verify(null, request.message, publicKey(material), signature);
      case 'ed25519ph':
        // RFC 8032 / FIPS 186-5 verification, not ZIP 215's more lenient rules.
        return ed25519ph.verify(signature, request.message, jwk(publicKey(material)).x, { zip215: false });
      case 'rsa-pkcs1': {
        const expected = Buffer.concat([DIGEST_INFO[hash!], digestOf(request, hash!)]);
        const recovered = publicDecrypt({ key: publicKey(material), padding: constants.RSA_PKCS1_PADDING }, signature);
        return recovered.length === expected.length && timingSafeEqual(recovered, expected);
      }
      case 'rsa-pss': {
        const key = publicKey(material);
        const modulusBits = key.asymmetricKeyDetails!.modulusLength!;
        if (signature.length !== Math.ceil(modulusBits / 8)) return false;
        const em = publicDecrypt({ key, padding: constants.RSA_NO_PADDING }, signature);
        return emsaPssVerify(digestOf(request, hash!), em, modulusBits - 1, hash!);
      }
      case 'ecdsa': {
        const { x, y } = jwk(publicKey(material));
        const point = Buffer.concat([Buffer.from([4]), x, y!]);
        return curveOf(request.spec).verify(signature, digestOf(request, hash!), point, { prehash: false, lowS: false, format: 'der' });
      }
      case 'sm2':
        return false;
    }
  } catch {
    return false;
  }
}

const privateKey = (material: Buffer) => createPrivateKey({ key: material, format: 'der', type: 'pkcs8' });
const publicKey = (material: Buffer) => createPublicKey(privateKey(material));

/** The JWK members of an EC or OKP key as bytes (d: private scalar or seed; x, y: public). */
function jwk(key: KeyObject): { d: Buffer; x: Buffer; y?: Buffer } {
  const { d, x, y } = key.export({ format: 'jwk' });
  const bytes = (v: string | undefined) => Buffer.from(v ?? '', 'base64url');
  return { d: bytes(d), x: bytes(x), y: y === undefined ? undefined : bytes(y) };
}

function curveOf(spec: KeySpec) {
  return CURVES[SPEC_INFO[spec].curve as keyof typeof CURVES];
}

/** MGF1 (RFC 8017 appendix B.2.1). */
function mgf1(seed: Buffer, length: number, hash: Hash): Buffer {
  const blocks: Buffer[] = [];
  for (let counter = 0; blocks.length * HASH_BYTES[hash] < length; counter++) {
    const c = Buffer.alloc(4);
    c.writeUInt32BE(counter);
    blocks.push(createHash(hash).update(seed).update(c).digest());
  }
  return Buffer.concat(blocks).subarray(0, length);
}

/** M′ = 0x00 × 8 ‖ mHash ‖ salt, hashed. */
const pssHash = (mHash: Buffer, salt: Buffer, hash: Hash) => createHash(hash).update(Buffer.alloc(8)).update(mHash).update(salt).digest();

/** EMSA-PSS-ENCODE (RFC 8017 section 9.1.1) with sLen = hLen, into the modulus' length. */
function emsaPssEncode(mHash: Buffer, emBits: number, hash: Hash): Buffer {
  const hLen = HASH_BYTES[hash];
  const emLen = Math.ceil(emBits / 8);
  const salt = randomBytes(hLen);
  const h = pssHash(mHash, salt, hash);
  const db = Buffer.concat([Buffer.alloc(emLen - 2 * hLen - 2), Buffer.from([1]), salt]);
  const mask = mgf1(h, emLen - hLen - 1, hash);
  for (let i = 0; i < db.length; i++) db[i]! ^= mask[i]!;
  db[0]! &= 0xff >> (8 * emLen - emBits);
  const em = Buffer.concat([db, h, Buffer.from([0xbc])]);
  // The raw RSA operation takes the modulus' length; EM is one byte shorter when emBits % 8 == 0.
  const modulusBytes = Math.ceil((emBits + 1) / 8);
  return Buffer.concat([Buffer.alloc(modulusBytes - emLen), em]);
}

/** EMSA-PSS-VERIFY (RFC 8017 section 9.1.2) with sLen = hLen. `block` is the raw RSA output. */
function emsaPssVerify(mHash: Buffer, block: Buffer, emBits: number, hash: Hash): boolean {
  const hLen = HASH_BYTES[hash];
  const emLen = Math.ceil(emBits / 8);
  if (block.length < emLen || block.subarray(0, block.length - emLen).some((b) => b !== 0)) return false;
  const em = block.subarray(block.length - emLen);
  if (emLen < 2 * hLen + 2 || em[emLen - 1] !== 0xbc) return false;
  const maskedDb = em.subarray(0, emLen - hLen - 1);
  const h = em.subarray(emLen - hLen - 1, emLen - 1);
  const topMask = 0xff >> (8 * emLen - emBits);
  if ((maskedDb[0]! & ~topMask) !== 0) return false;
  const db = mgf1(h, maskedDb.length, hash);
  for (let i = 0; i < db.length; i++) db[i]! ^= maskedDb[i]!;
  db[0]! &= topMask;
  const psLength = emLen - 2 * hLen - 2;
  if (db.subarray(0, psLength).some((b) => b !== 0) || db[psLength] !== 1) return false;
  return timingSafeEqual(pssHash(mHash, db.subarray(psLength + 1), hash), h);
}
