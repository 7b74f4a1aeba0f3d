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

/** The plaintext of one stored segment, or SegmentAuthError. */
function openSegment(key: Buffer, index: number, segment: Buffer, last: boolean): Buffer {
  const decipher = createDecipheriv('aes-256-gcm', key, nonce(index));
  decipher.setAAD(aad(index, last));
  decipher.setAuthTag(segment.subarray(segment.length - TAG));
  try {
    const opened = decipher.update(segment.subarray(0, segment.length - TAG));
    // GCM gives every byte from update(); final() checks the tag (no join of an empty tail).
    decipher.final();
    return opened;
  } catch {
    throw new SegmentAuthError();
  }
}

/** Takes the first `bytes` bytes off `pieces` (views, never copies), as the pieces that hold them. */
function takeFront(pieces: Buffer[], bytes: number): Buffer[] {
  const out: Buffer[] = [];
  for (let need = bytes; need > 0; ) {
    const c = pieces[0]!;
    if (c.length <= need) {
      out.push(c);
      pieces.shift();
      need -= c.length;
    } else {
      out.push(c.subarray(0, need));
      pieces[0] = c.subarray(need);
      need = 0;
    }
  }
  return out;
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

/**
 * Encrypts a stream into segments, holding at most one segment (and the chunk past it). The
 * plaintext is kept as the chunks it came in and fed to the cipher from there, and the sealed
 * bytes go out as the cipher gives them (ciphertext, then the tag): no chunk is joined or copied.
 */
export function encryptSegments(key: Buffer): Transform {
  const pending: Buffer[] = [];
  let pendingBytes = 0;
  let index = 0;
  function sealFront(stream: Transform, bytes: number, last: boolean): void {
    const cipher = createCipheriv('aes-256-gcm', key, nonce(index));
    cipher.setAAD(aad(index, last));
    index++;
    for (const piece of takeFront(pending, bytes)) {
      const sealed = cipher.update(piece);
      if (sealed.length > 0) stream.push(sealed);
    }
    pendingBytes -= bytes;
    const rest = cipher.final();
    if (rest.length > 0) stream.push(rest);
    stream.push(cipher.getAuthTag());
  }
  return new Transform({
    transform(chunk: Buffer, _enc, done: TransformCallback) {
      if (chunk.length === 0) return done();
      pending.push(chunk);
      pendingBytes += chunk.length;
      // Keep back a full segment: only at the end is it known to be the last one.
      while (pendingBytes > SEGMENT) sealFront(this, SEGMENT, false);
      done();
    },
    flush(done: TransformCallback) {
      if (pendingBytes > 0) sealFront(this, pendingBytes, true);
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
  const segmentBytes = (index: number) => (index === lastIndex ? storedSize(size) - lastIndex * STORED : STORED);
  async function* plain() {
    // Stored bytes not yet opened, as the chunks the read gave (views): a segment inside one
    // chunk is opened where it lies; only one that straddles two chunks is joined.
    const buffered: Buffer[] = [];
    let bufferedBytes = 0;
    let index = first;
    const emit = (data: Buffer) => {
      const segStart = index * SEGMENT;
      index++;
      const from = Math.max(start, segStart) - segStart;
      const to = Math.min(end, segStart + data.length - 1) - segStart;
      return from === 0 && to === data.length - 1 ? data : data.subarray(from, to + 1);
    };
    for await (const chunk of read(first * STORED, Math.min(storedSize(size), (final + 1) * STORED) - 1)) {
      if ((chunk as Buffer).length === 0) continue;
      buffered.push(chunk as Buffer);
      bufferedBytes += (chunk as Buffer).length;
      while (index <= final && bufferedBytes >= segmentBytes(index)) {
        const take = segmentBytes(index);
        const pieces = takeFront(buffered, take);
        bufferedBytes -= take;
        const segment = pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces, take);
        yield emit(openSegment(key, index, segment, index === lastIndex));
      }
      if (index > final) return;
    }
    if (index <= final) throw new SegmentAuthError();
  }
  return Readable.from(plain(), { objectMode: false });
}
