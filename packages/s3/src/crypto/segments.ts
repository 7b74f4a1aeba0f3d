import { createCipheriv, createDecipheriv } from 'node:crypto';
import { hkdfSha256 } from '@sealbox/runtime';
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

/**
 * Recently derived blob keys: an HKDF costs tens of microseconds, a cached read of a small object
 * not much more. The cache is keyed by the data key itself (with the salt), so a hit needs the
 * data key, which a read of an SSE-KMS object still gets from KMS Decrypt every time.
 */
const derived = new Map<string, Buffer>();
const BLOB_INFO = Buffer.from('sealbox s3 blob v1');
const DERIVED_MAX = 1024;

/** The key of one blob; `remember` (reads) keeps it for the next read of the same blob. */
export function blobKey(dataKey: Buffer, salt: Buffer, remember = false): Buffer {
  const id = remember ? dataKey.toString('base64') + salt.toString('base64') : '';
  const cached = remember ? derived.get(id) : undefined;
  if (cached) return cached;
  const key = hkdfSha256(dataKey, salt, BLOB_INFO, 32);
  if (!remember) return key;
  if (derived.size >= DERIVED_MAX) derived.delete(derived.keys().next().value as string);
  derived.set(id, key);
  return key;
}

// Segment indexes are below 2^32 for any object S3 allows (5 TiB / 64 KiB = 2^26), so the
// 64-bit big-endian index is four zero bytes and a 32-bit write (no BigInt per segment).
function nonce(index: number): Buffer {
  const n = Buffer.alloc(12);
  n.writeUInt32BE(index, 8);
  return n;
}

function aad(index: number, last: boolean): Buffer {
  const a = Buffer.alloc(9);
  a.writeUInt32BE(index, 4);
  a[8] = last ? 1 : 0;
  return a;
}

/** Bytes on disk for `size` bytes of data. */
export function storedSize(size: number): number {
  return size + Math.ceil(size / SEGMENT) * TAG;
}

/** One sealed segment: ciphertext || tag. */
function sealSegment(key: Buffer, index: number, plain: Buffer, last: boolean): Buffer {
  const cipher = createCipheriv('aes-256-gcm', key, nonce(index));
  cipher.setAAD(aad(index, last));
  return Buffer.concat([cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
}

/** The plaintext of one stored segment, or SegmentAuthError. */
function openSegment(key: Buffer, index: number, segment: Buffer, last: boolean): Buffer {
  const decipher = createDecipheriv('aes-256-gcm', key, nonce(index));
  decipher.setAAD(aad(index, last));
  decipher.setAuthTag(segment.subarray(segment.length - TAG));
  try {
    return Buffer.concat([decipher.update(segment.subarray(0, segment.length - TAG)), decipher.final()]);
  } catch {
    throw new SegmentAuthError();
  }
}

/**
 * encryptSegments over data already in memory (small objects): the same bytes, without a stream.
 */
export function encryptAll(key: Buffer, data: Buffer | Buffer[]): Buffer {
  const pieces = encryptAllPieces(key, data);
  return pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces);
}

/**
 * encryptAll's bytes as the pieces the cipher gave them (each segment's ciphertext, then its
 * tag), not joined: a caller that writes them out (writev) needs no buffer of the whole blob. A
 * fresh buffer of a megabyte is a fresh mapping of memory (page faults, then unmapping) and
 * external memory that brings V8's collector round sooner: it cost about as much as the
 * encryption itself.
 */
export function encryptAllPieces(key: Buffer, data: Buffer | Buffer[]): Buffer[] {
  // The plaintext may come as the chunks it arrived in (no copy to join them).
  const chunks = Array.isArray(data) ? data : [data];
  let size = 0;
  for (const c of chunks) size += c.length;
  const out: Buffer[] = [];
  let chunk = 0;
  let offset = 0;
  for (let index = 0, at = 0; at < size; index++, at += SEGMENT) {
    const cipher = createCipheriv('aes-256-gcm', key, nonce(index));
    cipher.setAAD(aad(index, at + SEGMENT >= size));
    for (let need = Math.min(SEGMENT, size - at); need > 0; ) {
      const c = chunks[chunk]!;
      const take = Math.min(need, c.length - offset);
      if (take > 0) {
        const sealed = cipher.update(offset === 0 && take === c.length ? c : c.subarray(offset, offset + take));
        if (sealed.length > 0) out.push(sealed);
      }
      need -= take;
      offset += take;
      if (offset === c.length) {
        chunk++;
        offset = 0;
      }
    }
    const rest = cipher.final();
    if (rest.length > 0) out.push(rest);
    out.push(cipher.getAuthTag());
  }
  return out;
}

/**
 * decryptRange over stored bytes already in memory (small objects): `stored` holds the stored
 * bytes from the start of the segment holding `start` (as storedRange gives them).
 */
export function decryptAll(stored: Buffer, key: Buffer, size: number, start: number, end: number): Buffer {
  const pieces = decryptAllPieces(stored, key, size, start, end);
  return pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces);
}

/**
 * decryptAll's plaintext as one buffer per segment, not joined (the response writes them out
 * as they are: no buffer of the whole object, no copy). Every piece is a buffer of its own, so
 * `stored` may be a scratch buffer the caller reuses as soon as this returns.
 */
export function decryptAllPieces(stored: Buffer, key: Buffer, size: number, start: number, end: number): Buffer[] {
  const lastIndex = Math.ceil(size / SEGMENT) - 1;
  const first = Math.floor(start / SEGMENT);
  const final = Math.floor(end / SEGMENT);
  const out: Buffer[] = [];
  for (let index = first, at = 0; index <= final; index++, at += STORED) {
    const segment = stored.subarray(at, Math.min(at + STORED, stored.length));
    const last = index === lastIndex;
    const expected = last ? storedSize(size) - lastIndex * STORED : STORED;
    if (segment.length !== expected) throw new SegmentAuthError();
    const decipher = createDecipheriv('aes-256-gcm', key, nonce(index));
    decipher.setAAD(aad(index, last));
    decipher.setAuthTag(segment.subarray(segment.length - TAG));
    let opened: Buffer;
    try {
      opened = decipher.update(segment.subarray(0, segment.length - TAG));
      // GCM gives every byte from update(); final() only checks the tag (and gives nothing).
      decipher.final();
    } catch {
      throw new SegmentAuthError();
    }
    // Only the first and the last segment may be cut by the range.
    const segStart = index * SEGMENT;
    const from = Math.max(start, segStart) - segStart;
    const to = Math.min(end, segStart + opened.length - 1) - segStart + 1;
    out.push(from === 0 && to === opened.length ? opened : opened.subarray(from, to));
  }
  return out;
}

/** Stored bytes [from, to] (inclusive) that hold plaintext bytes [start, end]. */
export function storedRange(size: number, start: number, end: number): [number, number] {
  return [Math.floor(start / SEGMENT) * STORED, Math.min(storedSize(size), (Math.floor(end / SEGMENT) + 1) * STORED) - 1];
}

/** Encrypts a stream into segments, holding at most one segment. */
export function encryptSegments(key: Buffer): Transform {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let index = 0;
  const seal = (plain: Buffer, last: boolean) => sealSegment(key, index++, plain, last);
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
    const open = (segment: Buffer) => openSegment(key, index, segment, index === lastIndex);
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
