import { randomFillSync } from 'node:crypto';

const POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let offset = 0;

/**
 * `crypto.randomBytes` for the hot paths (request ids, blob ids, salts, IVs): the same CSPRNG,
 * filled 4 KiB at a time rather than once per call (a call costs several microseconds; a request
 * takes several). Each byte is handed out once, and each result is its own copy, so a caller that
 * keeps or changes it affects nothing else. Node's randomUUID caches its entropy the same way.
 */
export function randomBytesFast(size: number): Buffer {
  if (size > POOL_BYTES / 4) return randomFillSync(Buffer.allocUnsafe(size));
  if (offset + size > pool.length) {
    pool = randomFillSync(Buffer.allocUnsafeSlow(POOL_BYTES));
    offset = 0;
  }
  const out = Buffer.allocUnsafe(size);
  pool.copy(out, 0, offset, offset + size);
  // Handed-out bytes are wiped from the pool, so they exist only in the caller's copy.
  pool.fill(0, offset, offset + size);
  offset += size;
  return out;
}

/**
 * A seeded generator of numbers in [0, 1) (mulberry32): small, fast and reproducible, the same
 * seed giving the same sequence everywhere. For fault probabilities and seeded tests, never for
 * anything secret.
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
