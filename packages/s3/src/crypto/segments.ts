import { createCipheriv, createDecipheriv, hkdfSync } from 'node:crypto';
import { Readable, Transform, type TransformCallback } from 'node:stream';

/**
 * Object data at rest: AES-256-GCM over fixed 64 KiB segments, so a range read decrypts only the
 * segments it touches. Each blob has its own key, derived from the object's data key and a
 * random per-blob salt; the nonce is the segment index, and the AAD binds the index and whether
 * the segment is the last, so segments cannot be reordered, dropped or truncated unnoticed.
 *
 *   blob = seg_0 ... seg_n,  seg_i = AES-GCM(key, nonce = i, aad = i || last?) || tag(16)
 */
export const SEGMENT = 64 * 1024;
const TAG = 16;
const STORED = SEGMENT + TAG;

export function blobKey(dataKey: Buffer, salt: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', dataKey, salt, 'sealbox s3 blob v1', 32));
}

function nonce(index: number): Buffer {
  const n = Buffer.alloc(12);
  n.writeBigUInt64BE(BigInt(index), 4);
  return n;
}

function aad(index: number, last: boolean): Buffer {
  const a = Buffer.alloc(9);
  a.writeBigUInt64BE(BigInt(index));
  a[8] = last ? 1 : 0;
  return a;
}

/** Bytes on disk for `size` bytes of data. */
export function storedSize(size: number): number {
  return size + Math.ceil(size / SEGMENT) * TAG;
}

/** Encrypts a stream into segments, holding at most one segment. */
export function encryptSegments(key: Buffer): Transform {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let index = 0;
  const seal = (plain: Buffer, last: boolean) => {
    const cipher = createCipheriv('aes-256-gcm', key, nonce(index));
    cipher.setAAD(aad(index, last));
    index++;
    return Buffer.concat([cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
  };
  return new Transform({
    transform(chunk: Buffer, _enc, done: TransformCallback) {
      pending.push(chunk);
      pendingBytes += chunk.length;
      // Keep back a full segment: only at the end is it known to be the last one.
      while (pendingBytes > SEGMENT) {
        const all = Buffer.concat(pending, pendingBytes);
        this.push(seal(all.subarray(0, SEGMENT), false));
        pending = [all.subarray(SEGMENT)];
        pendingBytes -= SEGMENT;
      }
      done();
    },
    flush(done: TransformCallback) {
      if (pendingBytes > 0) this.push(seal(Buffer.concat(pending, pendingBytes), true));
      done();
    },
  });
}

export class SegmentAuthError extends Error {
  constructor() {
    super('object data failed authentication');
  }
}

/**
 * Plaintext bytes [start, end] of an encrypted blob of `size` plaintext bytes, reading only the
 * segments that hold them (`read` returns stored bytes [from, to] inclusive).
 */
export function decryptRange(read: (from: number, to: number) => Readable, key: Buffer, size: number, start: number, end: number): Readable {
  const lastIndex = Math.ceil(size / SEGMENT) - 1;
  const first = Math.floor(start / SEGMENT);
  const final = Math.floor(end / SEGMENT);
  async function* plain() {
    let buffered: Buffer[] = [];
    let bufferedBytes = 0;
    let index = first;
    const open = (segment: Buffer) => {
      const decipher = createDecipheriv('aes-256-gcm', key, nonce(index));
      decipher.setAAD(aad(index, index === lastIndex));
      decipher.setAuthTag(segment.subarray(segment.length - TAG));
      try {
        return Buffer.concat([decipher.update(segment.subarray(0, segment.length - TAG)), decipher.final()]);
      } catch {
        throw new SegmentAuthError();
      }
    };
    const emit = (data: Buffer) => {
      const segStart = index * SEGMENT;
      index++;
      const from = Math.max(start, segStart) - segStart;
      const to = Math.min(end, segStart + data.length - 1) - segStart;
      return data.subarray(from, to + 1);
    };
    for await (const chunk of read(first * STORED, Math.min(storedSize(size), (final + 1) * STORED) - 1)) {
      buffered.push(chunk as Buffer);
      bufferedBytes += (chunk as Buffer).length;
      while (bufferedBytes >= STORED || (index === lastIndex && bufferedBytes === storedSize(size) - lastIndex * STORED)) {
        const all = Buffer.concat(buffered, bufferedBytes);
        const take = index === lastIndex ? bufferedBytes : STORED;
        yield emit(open(all.subarray(0, take)));
        buffered = [all.subarray(take)];
        bufferedBytes -= take;
        if (index > final) return;
      }
    }
    if (index <= final) throw new SegmentAuthError();
  }
  return Readable.from(plain(), { objectMode: false });
}
