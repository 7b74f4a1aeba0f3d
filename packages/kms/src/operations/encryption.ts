import { authorize } from '../access/authorize';
import type { ConditionKeys } from '../access/condition-keys';
import type { OperationContext } from '../context';
import { isRsaEncryptionAlgorithm, oaepDecrypt, oaepEncrypt, oaepMaxPlaintext } from '../crypto/asymmetric';
import { IncorrectKeyException, InvalidKeyUsageException, UnsupportedOperationException, ValidationException } from '../errors';
import { algorithmsOf, SPEC_INFO } from '../key-specs';
import { requireEnabled, requireUsage, resolveKey } from '../keys';
import type { KeyRecord } from '../model';
import { decryptWith, encryptWith, type EncryptionContext } from './common';

/**
 * Encryption with every ENCRYPT_DECRYPT key: symmetric keys (SYMMETRIC_DEFAULT, Sealbox's
 * authenticated blob) and RSA keys (RSAES_OAEP_SHA_1 / RSAES_OAEP_SHA_256, raw RSA-OAEP, so
 * ciphertexts made outside KMS with the GetPublicKey key decrypt here and the reverse).
 * https://docs.aws.amazon.com/kms/latest/developerguide/asymm-how-to-encrypt.html
 */

export const SYMMETRIC_DEFAULT = 'SYMMETRIC_DEFAULT';

/**
 * The algorithm an encryption key is used with; SYMMETRIC_DEFAULT when none is named, so an RSA
 * key without EncryptionAlgorithm is refused as AWS refuses it (recorded in issues of SDK users):
 * InvalidKeyUsageException "Algorithm SYMMETRIC_DEFAULT is incompatible with key spec RSA_4096."
 */
export function encryptionAlgorithmFor(key: KeyRecord, requested: string | undefined): string {
  const algorithm = requested ?? SYMMETRIC_DEFAULT;
  const offered = algorithmsOf(key.keySpec, key.keyUsage).EncryptionAlgorithms ?? [];
  if (!offered.includes(algorithm)) {
    throw new InvalidKeyUsageException(`Algorithm ${algorithm} is incompatible with key spec ${key.keySpec}.`);
  }
  // SM2 keys exist only in China Regions; their SM2PKE encryption is not built.
  if (algorithm === 'SM2PKE') throw new UnsupportedOperationException('SM2PKE is not supported by Sealbox yet.');
  return algorithm;
}

/**
 * Asymmetric encryption takes no encryption context. AWS's wording is not in its documentation;
 * this is the message other KMS emulators recorded from AWS (ValidationException).
 */
export function refuseContextForAsymmetric(ec: EncryptionContext): void {
  if (ec && Object.keys(ec).length > 0) {
    throw new ValidationException('EncryptionContext is not supported when encrypting/decrypting with asymmetric CMKs.');
  }
}

/**
 * Encrypts under a key that passed its usage and state checks, with an algorithm from
 * encryptionAlgorithmFor. RSA keys refuse an encryption context and plaintexts longer than OAEP
 * takes, in AWS's words ("Algorithm RSAES_OAEP_SHA_1 and key spec RSA_2048 cannot encrypt data
 * larger than 214 bytes.", ValidationException, recorded from AWS). `check` runs after the
 * checks and before the work (DryRun).
 */
export function encryptUnder(
  ctx: OperationContext,
  key: KeyRecord,
  algorithm: string,
  plaintext: Buffer,
  ec: EncryptionContext,
  check: () => void = () => {},
): { blob: Buffer; materialId?: string } {
  if (algorithm === SYMMETRIC_DEFAULT) {
    check();
    return encryptWith(ctx, key, plaintext, ec);
  }
  if (!isRsaEncryptionAlgorithm(algorithm)) throw new UnsupportedOperationException(`${algorithm} is not supported by Sealbox yet.`);
  refuseContextForAsymmetric(ec);
  const max = oaepMaxPlaintext(SPEC_INFO[key.keySpec].rsaBits!, algorithm);
  if (plaintext.length > max) {
    throw new ValidationException(`Algorithm ${algorithm} and key spec ${key.keySpec} cannot encrypt data larger than ${max} bytes.`);
  }
  check();
  return { blob: oaepEncrypt(ctx.core.currentMaterial(key).material, algorithm, plaintext) };
}

export interface OpenRequest {
  ciphertext: Buffer;
  ec: EncryptionContext;
  /** The KeyId (Decrypt) or SourceKeyId (ReEncrypt) the caller named. */
  keyId: string | undefined;
  /** The member that names the key, for the message when an asymmetric algorithm lacks it. */
  keyIdMember: 'KeyId' | 'SourceKeyId';
  algorithm: string | undefined;
  /** The permission needed: Decrypt or ReEncryptFrom. */
  action: 'Decrypt' | 'ReEncryptFrom';
  /** The operation named in key usage messages. */
  operation: 'Decrypt' | 'ReEncrypt';
  keys?: ConditionKeys;
  /** Runs after every check, before decrypting (DryRun). */
  check?: () => void;
}

export interface Opened {
  key: KeyRecord;
  plaintext: Buffer;
  algorithm: string;
  /** The key material that decrypted it (symmetric keys). */
  materialId?: string;
}

/**
 * Decrypts a ciphertext for Decrypt or ReEncrypt. SYMMETRIC_DEFAULT (the default) opens a
 * Sealbox blob, whose header names its key; a raw RSA ciphertext given that way is
 * InvalidCiphertextException, as AWS answers when EncryptionAlgorithm is left out. An RSA
 * algorithm needs the key named: RSA-OAEP ciphertext carries no key metadata.
 */
export function openCiphertext(ctx: OperationContext, request: OpenRequest): Opened {
  const check = request.check ?? (() => {});
  if (request.algorithm === undefined || request.algorithm === SYMMETRIC_DEFAULT) {
    const opened = decryptWith(ctx, request.ciphertext, request.ec, request.keyId, request.action, request.keys);
    const algorithm = encryptionAlgorithmFor(opened.key, request.algorithm);
    check();
    return { ...opened, algorithm };
  }
  if (request.keyId === undefined) {
    // AWS documents KeyId as required for asymmetric ciphertext but not its error; this is the
    // ValidationException other KMS emulators answer.
    throw new ValidationException(`${request.keyIdMember} must not be null`);
  }
  const key = resolveKey(ctx, request.keyId, { aliases: true, crossAccount: true });
  ctx.audit.keys.push(key);
  authorize(ctx, { action: request.action, key, context: request.ec, keys: request.keys });
  requireUsage(key, 'ENCRYPT_DECRYPT', request.operation);
  requireEnabled(key);
  const algorithm = encryptionAlgorithmFor(key, request.algorithm);
  if (!isRsaEncryptionAlgorithm(algorithm)) throw new UnsupportedOperationException(`${algorithm} is not supported by Sealbox yet.`);
  refuseContextForAsymmetric(request.ec);
  check();
  const plaintext = oaepDecrypt(ctx.core.currentMaterial(key).material, algorithm, request.ciphertext);
  if (!plaintext) {
    // A ciphertext that does not open under the named key and algorithm (another key, the other
    // OAEP hash, or corrupt bytes): AWS users report IncorrectKeyException for a wrong algorithm;
    // its message for this case is not documented, so it is the one AWS gives for a KeyId that
    // does not match a symmetric ciphertext.
    throw new IncorrectKeyException('The key ID in the request does not identify a CMK that can perform this operation.');
  }
  return { key, plaintext, algorithm };
}
