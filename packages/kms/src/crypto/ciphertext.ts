import { createCipheriv, createDecipheriv, createHmac, timingSafeEqual } from 'node:crypto';
import { hkdfSha256, randomBytesFast } from '@sealbox/runtime';

/**
 * Sealbox's symmetric ciphertext blob. Opaque, versioned and authenticated, and the same size
 * as AWS's (plaintext + 152 bytes: a 32-byte data key encrypts to 184 bytes) with the same
 * leading bytes (01 02 02 00 78), so code that sniffs or sizes blobs behaves alike.
 *
 *   0    5  magic 01 02 02 00 78
 *   5   32  material handle: random, maps to (key, material version) in the store; no key id in clear
 *  37   32  salt: per-message key = HKDF-SHA256(material, salt)
 *  69   12  AES-GCM IV
 *  81   32  key commitment: HMAC-SHA256(commit key, header so far) - a blob opens under one key only
 * 113   23  reserved, zero
 * 136    n  AES-256-GCM ciphertext
 * 136+n 16  GCM tag
 *
 * The whole 136-byte header and the canonical encryption context are the GCM AAD, so changing
 * any byte or any context entry fails authentication.
 */
export const MAGIC = Buffer.from([0x01, 0x02, 0x02, 0x00, 0x78]);
export const HANDLE_BYTES = 32;
const SALT = 5 + HANDLE_BYTES;
const IV = SALT + 32;
const COMMIT = IV + 12;
const RESERVED = COMMIT + 32;
export const HEADER_BYTES = RESERVED + 23;
const TAG_BYTES = 16;
export const CIPHERTEXT_OVERHEAD = HEADER_BYTES + TAG_BYTES;

const INFO = Buffer.from('sealbox kms ciphertext v1');

/**
 * Keys derived for recent salts: decrypting the same blob again (an S3 object read many times
 * decrypts its data key each time) skips the HKDF. Keyed by the material and the salt, so only a
 * caller that already holds the material can hit it.
 */
const derived = new Map<string, { encKey: Buffer; commitKey: Buffer }>();
const DERIVED_MAX = 1024;

/** `remember` (decryption) keeps the keys for the next decryption of a blob with this salt. */
function deriveKeys(material: Buffer, salt: Buffer, remember = false): { encKey: Buffer; commitKey: Buffer } {
  const id = remember ? material.toString('base64') + salt.toString('base64') : '';
  const cached = remember ? derived.get(id) : undefined;
  if (cached) return cached;
  const okm = hkdfSha256(material, salt, INFO, 64);
  const keys = { encKey: okm.subarray(0, 32), commitKey: okm.subarray(32) };
  if (!remember) return keys;
  if (derived.size >= DERIVED_MAX) derived.delete(derived.keys().next().value as string);
  derived.set(id, keys);
  return keys;
}

/**
 * Encryption context bound unambiguously: entries sorted by key (UTF-8 bytes), each key and value
 * length-prefixed, so {"ab":"c"} and {"a":"bc"} never collide.
 */
export function canonicalContext(context: Record<string, string> | undefined): Buffer {
  if (!context) return Buffer.alloc(4);
  const entries = Object.entries(context)
    .map(([k, v]) => [Buffer.from(k, 'utf8'), Buffer.from(v, 'utf8')] as const)
    .sort((a, b) => Buffer.compare(a[0], b[0]));
  const parts: Buffer[] = [u32(entries.length)];
  for (const [k, v] of entries) parts.push(u32(k.length), k, u32(v.length), v);
  return Buffer.concat(parts);
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

export function encryptBlob(handle: Buffer, material: Buffer, plaintext: Buffer, context: Record<string, string> | undefined): Buffer {
  const blob = Buffer.alloc(CIPHERTEXT_OVERHEAD + plaintext.length);
  MAGIC.copy(blob, 0);
  handle.copy(blob, 5);
  const salt = randomBytesFast(32);
  salt.copy(blob, SALT);
  randomBytesFast(12).copy(blob, IV);
  const { encKey, commitKey } = deriveKeys(material, salt);
  createHmac('sha256', commitKey).update(blob.subarray(0, COMMIT)).digest().copy(blob, COMMIT);
  const header = blob.subarray(0, HEADER_BYTES);
  const cipher = createCipheriv('aes-256-gcm', encKey, blob.subarray(IV, IV + 12));
  cipher.setAAD(Buffer.concat([header, canonicalContext(context)]));
  const n = cipher.update(plaintext).copy(blob, HEADER_BYTES);
  cipher.final();
  cipher.getAuthTag().copy(blob, HEADER_BYTES + n);
  return blob;
}

/** The material handle of a blob, or undefined when it is not a Sealbox ciphertext. */
export function blobHandle(blob: Buffer): Buffer | undefined {
  if (blob.length < CIPHERTEXT_OVERHEAD || !blob.subarray(0, 5).equals(MAGIC)) return undefined;
  for (let i = RESERVED; i < HEADER_BYTES; i++) if (blob[i] !== 0) return undefined;
  return blob.subarray(5, 5 + HANDLE_BYTES);
}

/** The plaintext, or undefined when the blob, the material or the context does not match. */
export function decryptBlob(blob: Buffer, material: Buffer, context: Record<string, string> | undefined): Buffer | undefined {
  const { encKey, commitKey } = deriveKeys(material, blob.subarray(SALT, IV), true);
  const commitment = createHmac('sha256', commitKey).update(blob.subarray(0, COMMIT)).digest();
  if (!timingSafeEqual(commitment, blob.subarray(COMMIT, COMMIT + 32))) return undefined;
  const decipher = createDecipheriv('aes-256-gcm', encKey, blob.subarray(IV, IV + 12));
  decipher.setAAD(Buffer.concat([blob.subarray(0, HEADER_BYTES), canonicalContext(context)]));
  decipher.setAuthTag(blob.subarray(blob.length - TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(blob.subarray(HEADER_BYTES, blob.length - TAG_BYTES)), decipher.final()]);
  } catch {
    return undefined;
  }
}
