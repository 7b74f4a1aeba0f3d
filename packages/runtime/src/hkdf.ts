import { createHmac } from 'node:crypto';

const COUNTERS = Array.from({ length: 8 }, (_, i) => Buffer.from([i + 1]));

/**
 * HKDF-SHA256 (RFC 5869), the same bytes as crypto.hkdfSync('sha256', ...), with plain HMACs:
 * hkdfSync wraps the key material in a KeyObject and runs a crypto job on every call, which
 * costs about twice as much for the short outputs used here (a key per ciphertext or blob).
 */
export function hkdfSha256(ikm: Buffer, salt: Buffer, info: Buffer, length: number): Buffer {
  if (length > COUNTERS.length * 32) throw new RangeError('hkdfSha256: at most 256 bytes');
  const prk = createHmac('sha256', salt).update(ikm).digest();
  const blocks: Buffer[] = [];
  let previous = Buffer.alloc(0);
  for (let i = 0; i * 32 < length; i++) {
    previous = createHmac('sha256', prk).update(previous).update(info).update(COUNTERS[i]!).digest();
    blocks.push(previous);
  }
  const okm = blocks.length === 1 ? blocks[0]! : Buffer.concat(blocks);
  return okm.length === length ? okm : okm.subarray(0, length);
}
