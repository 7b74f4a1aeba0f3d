import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { S3State } from '../state';
import type { BlobRef, ObjectEncryption } from '../store/model';
import { blobKey, decryptRange, encryptSegments } from './segments';

const WRAP_CONTEXT = 'sealbox s3 object data key';

/**
 * SSE-S3: every object has its own data key, stored only wrapped under the S3 root key of the
 * data directory; each blob of the object is encrypted under a key derived from it.
 */
export function newObjectKey(state: S3State): { dataKey: Buffer; encryption: ObjectEncryption } {
  const dataKey = randomBytes(32);
  return { dataKey, encryption: { algorithm: 'AES256', wrappedKey: state.rootKey.wrap(dataKey, WRAP_CONTEXT).toString('base64') } };
}

export function objectDataKey(state: S3State, encryption: ObjectEncryption): Buffer {
  return state.rootKey.unwrap(Buffer.from(encryption.wrappedKey, 'base64'), WRAP_CONTEXT);
}

/** A fresh blob's salt and the encrypting stream for it. */
export function blobEncryption(dataKey: Buffer): { salt: string; encrypt: ReturnType<typeof encryptSegments> } {
  const salt = randomBytes(16);
  return { salt: salt.toString('base64'), encrypt: encryptSegments(blobKey(dataKey, salt)) };
}

/** Plaintext bytes [start, end] of one blob, decrypting only the segments needed. */
export function readBlob(state: S3State, part: BlobRef, dataKey: Buffer | undefined, start: number, end: number): Readable {
  if (!dataKey || !part.salt) return state.blobs.read(part.blobId, start, end);
  const key = blobKey(dataKey, Buffer.from(part.salt, 'base64'));
  return decryptRange((from, to) => state.blobs.read(part.blobId, from, to), key, part.size, start, end);
}
