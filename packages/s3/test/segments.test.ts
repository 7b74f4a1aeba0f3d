import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { SEGMENT, blobKey, decryptAll, decryptAllPieces, decryptRange, encryptAll, encryptAllPieces, encryptSegments, storedRange, storedSize } from '../src/crypto/segments';

async function encrypt(key: Buffer, data: Buffer, pieces = 7): Promise<Buffer> {
  const step = Math.max(1, Math.ceil(data.length / pieces));
  const chunks = [];
  for (let i = 0; i < data.length; i += step) chunks.push(data.subarray(i, i + step));
  return Buffer.concat(await Readable.from(chunks).pipe(encryptSegments(key)).toArray());
}

const reader = (stored: Buffer) => (from: number, to: number) => Readable.from([stored.subarray(from, to + 1)]);
const decrypt = async (stored: Buffer, key: Buffer, size: number, start: number, end: number) =>
  Buffer.concat(await decryptRange(reader(stored), key, size, start, end).toArray());

describe('segment encryption', () => {
  const key = blobKey(randomBytes(32), randomBytes(16));

  it.each([1, SEGMENT - 1, SEGMENT, SEGMENT + 1, 3 * SEGMENT + 17])('round-trips %i bytes, whole and in ranges', async (size) => {
    const data = randomBytes(size);
    const stored = await encrypt(key, data);
    expect(stored.length).toBe(storedSize(size));
    // A 1-byte plaintext turns up in random ciphertext by chance; 16 bytes never do.
    if (size >= 16) expect(stored.includes(data.subarray(0, Math.min(32, size)))).toBe(false);
    expect((await decrypt(stored, key, size, 0, size - 1)).equals(data)).toBe(true);
    for (const [s, e] of [[0, 0], [size - 1, size - 1], [Math.floor(size / 2), size - 1], [SEGMENT - 2, SEGMENT + 1]]) {
      if (s! < 0 || e! >= size || s! > e!) continue;
      expect((await decrypt(stored, key, size, s!, e!)).equals(data.subarray(s!, e! + 1))).toBe(true);
    }
  });

  it.each([0, 1, SEGMENT - 1, SEGMENT, SEGMENT + 1, 3 * SEGMENT + 17])('encryptAll/decryptAll (in memory) agree with the streams for %i bytes', async (size) => {
    const data = randomBytes(size);
    const stored = encryptAll(key, data);
    // The same bytes from the plaintext in uneven chunks.
    const cuts = [0, 1, 7000, SEGMENT - 3, SEGMENT + 5, size].filter((c) => c <= size).sort((a, b) => a - b);
    const pieces = cuts.slice(1).map((c, i) => data.subarray(cuts[i]!, c));
    expect(encryptAll(key, pieces).equals(stored)).toBe(true);
    // Different nonces would make different ciphertexts; the same key and layout make the same bytes.
    expect(stored.equals(await encrypt(key, data))).toBe(true);
    if (size === 0) return;
    for (const [s, e] of [[0, size - 1], [0, 0], [size - 1, size - 1], [Math.floor(size / 2), size - 1], [SEGMENT - 2, SEGMENT + 1]]) {
      if (s! < 0 || e! >= size || s! > e!) continue;
      const [from, to] = storedRange(size, s!, e!);
      expect(decryptAll(stored.subarray(from, to + 1), key, size, s!, e!).equals(data.subarray(s!, e! + 1))).toBe(true);
    }
    const flipped = Buffer.from(stored);
    flipped[0] = flipped[0]! ^ 1;
    expect(() => decryptAll(flipped, key, size, 0, size - 1)).toThrow('failed authentication');
    expect(() => decryptAll(stored.subarray(0, stored.length - 1), key, size, 0, size - 1)).toThrow('failed authentication');
  });

  it.each([1, SEGMENT, SEGMENT + 1, 16 * SEGMENT, 3 * SEGMENT + 17])('the unjoined pieces (encryptAllPieces, decryptAllPieces) are the same bytes, %i bytes', (size) => {
    const data = randomBytes(size);
    const stored = encryptAll(key, data);
    const cuts = [0, 1, 7000, SEGMENT - 3, SEGMENT + 5, 2 * SEGMENT, size].filter((c) => c <= size).sort((a, b) => a - b);
    const chunks = cuts.slice(1).map((c, i) => data.subarray(cuts[i]!, c));
    const sealed = encryptAllPieces(key, chunks);
    expect(sealed.every((p) => p.length > 0)).toBe(true);
    expect(Buffer.concat(sealed).equals(stored)).toBe(true);
    for (const [s, e] of [[0, size - 1], [0, 0], [size - 1, size - 1], [Math.floor(size / 2), size - 1], [SEGMENT - 2, SEGMENT + 1], [SEGMENT, 2 * SEGMENT - 1]]) {
      if (s! < 0 || e! >= size || s! > e!) continue;
      const [from, to] = storedRange(size, s!, e!);
      // A scratch buffer the caller reuses at once: the plaintext pieces must not be views of it.
      const scratch = Buffer.from(stored.subarray(from, to + 1));
      const pieces = decryptAllPieces(scratch, key, size, s!, e!);
      expect(pieces.length).toBe(Math.floor(e! / SEGMENT) - Math.floor(s! / SEGMENT) + 1);
      scratch.fill(0);
      expect(Buffer.concat(pieces).equals(data.subarray(s!, e! + 1))).toBe(true);
    }
    // Any tampered segment fails the whole read before a byte is returned.
    const flipped = Buffer.from(stored);
    flipped[flipped.length - 1] = flipped[flipped.length - 1]! ^ 1;
    expect(() => decryptAllPieces(flipped, key, size, 0, size - 1)).toThrow('failed authentication');
  });

  it('streams the same bytes whatever the chunks: empty, tiny, straddling segments, larger than a segment', async () => {
    const size = 5 * SEGMENT + 333;
    const data = randomBytes(size);
    const stored = encryptAll(key, data);
    // Cut points that fall just before, on and after segment and stored-segment boundaries.
    const cutsOf = (total: number, sizes: number[]) => {
      const out: Buffer[] = [];
      for (let at = 0, i = 0; at < total; i++) {
        const n = Math.min(sizes[i % sizes.length]!, total - at);
        out.push(Buffer.alloc(0));
        out.push(Buffer.from(data.length === total ? data.subarray(at, at + n) : stored.subarray(at, at + n)));
        at += n;
      }
      return out;
    };
    for (const sizes of [[1, 7, 4093], [SEGMENT + 16], [SEGMENT - 1, 2], [3 * SEGMENT + 5], [SEGMENT + 17, 15, 1]]) {
      const sealed = Buffer.concat(await Readable.from(cutsOf(size, sizes)).pipe(encryptSegments(key)).toArray());
      expect(sealed.equals(stored)).toBe(true);
      const chunked = (from: number, to: number) => {
        const bytes = stored.subarray(from, to + 1);
        const out: Buffer[] = [];
        for (let at = 0, i = 0; at < bytes.length; i++) {
          const n = Math.min(sizes[i % sizes.length]!, bytes.length - at);
          out.push(Buffer.alloc(0), bytes.subarray(at, at + n));
          at += n;
        }
        return Readable.from(out);
      };
      for (const [s, e] of [[0, size - 1], [SEGMENT - 1, SEGMENT], [2 * SEGMENT + 5, size - 2], [size - 1, size - 1]]) {
        const got = Buffer.concat(await decryptRange(chunked, key, size, s!, e!).toArray());
        expect(got.equals(data.subarray(s!, e! + 1))).toBe(true);
      }
      // Cut short inside the last segment: an error, never a short body that looks whole.
      const short = (from: number, to: number) => chunked(from, to - 3);
      await expect(decryptRange(short, key, size, 0, size - 1).toArray()).rejects.toThrow('failed authentication');
    }
  });

  it('detects tampering, reordering and truncation', async () => {
    const size = 2 * SEGMENT + 100;
    const data = randomBytes(size);
    const stored = await encrypt(key, data);
    const flipped = Buffer.from(stored);
    flipped[SEGMENT + 40] = flipped[SEGMENT + 40]! ^ 1;
    await expect(decrypt(flipped, key, size, 0, size - 1)).rejects.toThrow('failed authentication');
    const stored16 = SEGMENT + 16;
    const swapped = Buffer.concat([stored.subarray(stored16, 2 * stored16), stored.subarray(0, stored16), stored.subarray(2 * stored16)]);
    await expect(decrypt(swapped, key, size, 0, size - 1)).rejects.toThrow('failed authentication');
    // Dropping the last segment and claiming the object ended earlier fails: that segment is not marked last.
    await expect(decrypt(stored.subarray(0, 2 * stored16), key, 2 * SEGMENT, 0, 2 * SEGMENT - 1)).rejects.toThrow('failed authentication');
    await expect(decrypt(stored, blobKey(randomBytes(32), randomBytes(16)), size, 0, 10)).rejects.toThrow('failed authentication');
  });
});
