import { createCipheriv, createDecipheriv } from 'node:crypto';
import type { Readable, Transform } from 'node:stream';
import type { S3Request } from '../context';
import type { S3State } from '../state';
import type { BlobRef, ObjectEncryption } from '../store/model';
import { S3Error } from '../errors';
import { checkSseKmsTransport, type SseRequest } from '../sse';
import { checkCustomerKey, customerKey, customerKeyRecord } from '../sse-c';
import { SEGMENT, blobKey, decryptAllPieces, decryptRange, encryptAllPieces, encryptSegments, storedRange, storedSize } from './segments';
import { randomBytesFast } from '@sealbox/runtime';

const WRAP_CONTEXT = 'sealbox s3 object data key';

/** The S3 ARN KMS binds an object's data key to (the encryption context aws:s3:arn). */
export const objectArn = (bucket: string, key: string) => `arn:aws:s3:::${bucket}/${key}`;

/**
 * A new object's data key. SSE-S3: random, wrapped under the S3 root key of the data directory.
 * SSE-KMS: from KMS GenerateDataKey, on the caller's behalf, with the aws:s3:arn context.
 */
export async function newObjectKey(req: S3Request, sse: SseRequest, bucket: string, key: string): Promise<{ dataKey: Buffer; encryption: ObjectEncryption }> {
  if (sse.algorithm === 'SSE-C') return { dataKey: sse.key, encryption: customerKeyRecord(sse.key) };
  // A write under a bucket default of SSE-KMS names no SSE-KMS itself, so plain HTTP will do (the
  // request's own SSE headers were checked by sseRequest); but KMS acts for a signed caller only.
  if (sse.algorithm === 'aws:kms' && !req.credentials) checkSseKmsTransport(req);
  if (sse.algorithm === 'aws:kms' && sse.bucketKey) {
    // S3 Bucket Key: a bucket-level key from KMS (context: the bucket ARN), reused for a while,
    // wraps each object's own data key, so KMS sees one call per many objects.
    const bucketKey = await req.state.bucketKeys.get(req, kmsFor(req), sse.keyId ?? 'alias/aws/s3', { ...sse.context, 'aws:s3:arn': `arn:aws:s3:::${bucket}` });
    const dataKey = randomBytesFast(32);
    return {
      dataKey,
      encryption: {
        algorithm: 'aws:kms',
        keyArn: bucketKey.keyArn,
        ciphertextBlob: bucketKey.ciphertextBlob,
        context: bucketKey.context,
        region: req.region,
        bucketKeyWrappedKey: wrap(bucketKey.plaintext, dataKey, objectArn(bucket, key)),
        objectArn: objectArn(bucket, key),
      },
    };
  }
  if (sse.algorithm === 'aws:kms') {
    const context = { ...sse.context, 'aws:s3:arn': objectArn(bucket, key) };
    const out = await kmsFor(req).generateDataKey(req.credentials!, req.region, sse.keyId ?? 'alias/aws/s3', context, req);
    const encryption: ObjectEncryption = { algorithm: 'aws:kms', keyArn: out.keyArn, ciphertextBlob: out.ciphertextBlob.toString('base64'), context, region: req.region };
    if (!sse.dsse) return { dataKey: out.plaintext, encryption };
    // DSSE-KMS: an inner layer under a key of S3's own, an outer layer under the KMS data key.
    const inner = randomBytesFast(32);
    encryption.innerWrappedKey = req.state.rootKey.wrap(inner, WRAP_CONTEXT).toString('base64');
    return { dataKey: Buffer.concat([out.plaintext, inner]), encryption };
  }
  const dataKey = randomBytesFast(32);
  return { dataKey, encryption: { algorithm: 'AES256', wrappedKey: req.state.rootKey.wrap(dataKey, WRAP_CONTEXT).toString('base64') } };
}

export const COPY_SOURCE_CUSTOMER_KEY = 'x-amz-copy-source-server-side-encryption-customer-';

/**
 * Opens an object's data key: unwrapped locally (SSE-S3), by KMS Decrypt for the caller
 * (SSE-KMS), or the customer's key from the request, checked against the stored HMAC (SSE-C;
 * `customerPrefix` names the copy-source headers for copies).
 */
export async function objectDataKey(req: S3Request, encryption: ObjectEncryption | undefined, customerPrefix?: string): Promise<Buffer | undefined> {
  const presented = customerKey(req, customerPrefix);
  if (encryption?.algorithm === 'SSE-C') return checkCustomerKey(encryption, presented);
  if (presented) throw new S3Error('InvalidRequest', 400, 'The encryption parameters are not applicable to this object.');
  if (!encryption) return undefined;
  if (encryption.algorithm === 'AES256') return req.state.unwrapDataKey(encryption.wrappedKey, WRAP_CONTEXT);
  checkSseKmsTransport(req);
  const opened = await kmsFor(req).decrypt(req.credentials!, encryption.region, Buffer.from(encryption.ciphertextBlob, 'base64'), encryption.context, encryption.keyArn, req);
  if (encryption.bucketKeyWrappedKey) return unwrap(opened, encryption.bucketKeyWrappedKey, encryption.objectArn!);
  if (encryption.innerWrappedKey) return Buffer.concat([opened, req.state.rootKey.unwrap(Buffer.from(encryption.innerWrappedKey, 'base64'), WRAP_CONTEXT)]);
  return opened;
}

function wrap(key: Buffer, data: Buffer, aad: string): string {
  const iv = randomBytesFast(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad));
  return Buffer.concat([iv, cipher.update(data), cipher.final(), cipher.getAuthTag()]).toString('base64');
}

function unwrap(key: Buffer, wrapped: string, aad: string): Buffer {
  const bytes = Buffer.from(wrapped, 'base64');
  const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, 12));
  decipher.setAAD(Buffer.from(aad));
  decipher.setAuthTag(bytes.subarray(bytes.length - 16));
  return Buffer.concat([decipher.update(bytes.subarray(12, bytes.length - 16)), decipher.final()]);
}

function kmsFor(req: S3Request) {
  if (!req.state.kms) {
    throw new S3Error('ServiceUnavailable', 503, 'This S3 runs without a KMS (--only s3 without --kms-endpoint), so SSE-KMS is unavailable.');
  }
  return req.state.kms;
}

/**
 * A fresh blob's salt and the encrypting streams for it: one layer, or two for DSSE-KMS (a
 * 64-byte key: the outer KMS data key, then the inner key).
 */
export function blobEncryption(dataKey: Buffer): { salt: string; encrypt: Transform[]; seal: (data: Buffer | Buffer[]) => Buffer | Buffer[] } {
  const salt = randomBytesFast(16);
  const layers = dataKey.length === 64 ? [dataKey.subarray(32), dataKey.subarray(0, 32)] : [dataKey];
  const keys = layers.map((k) => blobKey(k, salt));
  return {
    salt: salt.toString('base64'),
    encrypt: keys.map((k) => encryptSegments(k)),
    // The same bytes as `encrypt`, for data already in memory: one buffer for a blob of one
    // segment, else the pieces as the cipher gave them (the blob store writes them out as they are).
    seal: (data) => {
      const pieces = keys.reduce<Buffer | Buffer[]>((bytes, k) => encryptAllPieces(k, bytes), data) as Buffer[];
      return pieces.length <= 2 ? Buffer.concat(pieces) : pieces;
    },
  };
}

/**
 * The stored bytes of a small object's blob are read into this buffer, reused from one read to
 * the next (a fresh megabyte per GET was a fresh mapping of memory and a push towards V8's next
 * collection). Safe to share: the read and the decryption are synchronous, and the plaintext
 * comes out in buffers of its own.
 */
const SCRATCH_BYTES = storedSize(16 * SEGMENT);
let scratch: Buffer | undefined;

/**
 * Plaintext bytes [start, end] of one single-layer encrypted blob, read and decrypted at once
 * (small objects: no stream, no async file handle), as one buffer or one per segment (for the
 * response to write out as they are); undefined when the blob needs the streaming path
 * (unencrypted, or DSSE's two layers).
 */
export function readBlobNow(state: S3State, part: BlobRef, dataKey: Buffer | undefined, start: number, end: number): Buffer | Buffer[] | undefined {
  if (!dataKey || !part.salt || dataKey.length !== 32) return undefined;
  const [from, to] = storedRange(part.size, start, end);
  const into = to - from + 1 <= SCRATCH_BYTES ? (scratch ??= Buffer.allocUnsafe(SCRATCH_BYTES)) : undefined;
  const stored = state.blobs.readNow(part.blobId, from, to, into);
  const pieces = decryptAllPieces(stored, blobKey(dataKey, Buffer.from(part.salt, 'base64'), true), part.size, start, end);
  return pieces.length === 1 ? pieces[0]! : pieces;
}

/** Plaintext bytes [start, end] of one blob, decrypting only the segments needed (of each layer). */
export function readBlob(state: S3State, part: BlobRef, dataKey: Buffer | undefined, start: number, end: number): Readable {
  if (!dataKey || !part.salt) return state.blobs.read(part.blobId, start, end);
  const salt = Buffer.from(part.salt, 'base64');
  const raw = (from: number, to: number) => state.blobs.read(part.blobId, from, to);
  if (dataKey.length === 64) {
    const outer = blobKey(dataKey.subarray(0, 32), salt, true);
    const inner = blobKey(dataKey.subarray(32), salt, true);
    const innerStored = (from: number, to: number) => decryptRange(raw, outer, storedSize(part.size), from, to);
    return decryptRange(innerStored, inner, part.size, start, end);
  }
  return decryptRange(raw, blobKey(dataKey, salt, true), part.size, start, end);
}
