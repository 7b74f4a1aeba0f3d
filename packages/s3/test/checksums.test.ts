import { createHash } from 'crypto';
import {
  CHECKSUM_ALGORITHMS,
  type ChecksumAlgorithm,
  type CrcAlgorithm,
  checksumHeader,
  checksumLength,
  combineCrc,
  compositeChecksum,
  computeChecksum,
  createChecksum,
  decodeChecksum,
  isCrcAlgorithm,
  parseChecksumAlgorithm,
  supportedChecksumTypes,
} from '../src/checksums';
import { mulberry32 } from '@sealbox/runtime';

const CRCS: CrcAlgorithm[] = ['CRC32', 'CRC32C', 'CRC64NVME'];

/** Seeded, so a failing run can be repeated exactly. */
const rng = mulberry32;

function randomBuffer(rand: () => number, length: number): Buffer {
  const b = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) b[i] = (rand() * 256) | 0;
  return b;
}

/** Bit-at-a-time reference CRCs, independent of the table-driven code. */
function referenceCrc(alg: CrcAlgorithm, data: Uint8Array): Buffer {
  if (alg === 'CRC64NVME') {
    const poly = 0x9a6c9329ac4bc9b5n;
    const mask = 0xffffffffffffffffn;
    let c = mask;
    for (const byte of data) {
      c ^= BigInt(byte);
      for (let k = 0; k < 8; k++) c = c & 1n ? (c >> 1n) ^ poly : c >> 1n;
    }
    const out = Buffer.alloc(8);
    out.writeBigUInt64BE(c ^ mask);
    return out;
  }
  const poly = alg === 'CRC32' ? 0xedb88320 : 0x82f63b78;
  let c = 0xffffffff;
  for (const byte of data) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ poly : c >>> 1;
  }
  const out = Buffer.alloc(4);
  out.writeUInt32BE((c ^ 0xffffffff) >>> 0);
  return out;
}

const hex = (b: Buffer) => b.toString('hex');

describe('algorithm metadata', () => {
  it('lists the five algorithms', () => {
    expect([...CHECKSUM_ALGORITHMS]).toEqual(['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256']);
  });

  it.each([
    ['CRC32', 'x-amz-checksum-crc32', 4],
    ['CRC32C', 'x-amz-checksum-crc32c', 4],
    ['CRC64NVME', 'x-amz-checksum-crc64nvme', 8],
    ['SHA1', 'x-amz-checksum-sha1', 20],
    ['SHA256', 'x-amz-checksum-sha256', 32],
  ] as const)('%s: header %s, %d bytes', (alg, header, length) => {
    expect(checksumHeader(alg)).toBe(header);
    expect(checksumLength(alg)).toBe(length);
    expect(createChecksum(alg).digest()).toHaveLength(length);
  });

  it('parses algorithm names case-insensitively', () => {
    expect(parseChecksumAlgorithm('CRC32')).toBe('CRC32');
    expect(parseChecksumAlgorithm('crc32')).toBe('CRC32');
    expect(parseChecksumAlgorithm('Crc32c')).toBe('CRC32C');
    expect(parseChecksumAlgorithm('crc64nvme')).toBe('CRC64NVME');
    expect(parseChecksumAlgorithm('sha1')).toBe('SHA1');
    expect(parseChecksumAlgorithm('SHA256')).toBe('SHA256');
    for (const bad of ['', 'MD5', 'crc64', 'sha-256', 'CRC32 ', 'toString', '__proto__']) {
      expect(parseChecksumAlgorithm(bad)).toBeUndefined();
    }
  });

  it('classifies algorithms', () => {
    expect(CHECKSUM_ALGORITHMS.filter(isCrcAlgorithm)).toEqual(CRCS);
    expect(supportedChecksumTypes('CRC32')).toEqual(['COMPOSITE', 'FULL_OBJECT']);
    expect(supportedChecksumTypes('CRC64NVME')).toEqual(['FULL_OBJECT']);
    expect(supportedChecksumTypes('SHA256')).toEqual(['COMPOSITE']);
  });
});

describe('createChecksum', () => {
  const check = Buffer.from('123456789');

  it.each([
    ['CRC32', 'cbf43926', 'y/Q5Jg=='],
    ['CRC32C', 'e3069283', '4waSgw=='],
    ['CRC64NVME', 'ae8b14860a799888', 'rosUhgp5mIg='],
  ] as const)('%s check value of "123456789" is %s', (alg, value, base64) => {
    const d = computeChecksum(alg, check);
    expect(hex(d)).toBe(value);
    expect(d.toString('base64')).toBe(base64);
  });

  it.each(CRCS)('%s of empty input is zero', (alg) => {
    expect(hex(computeChecksum(alg, Buffer.alloc(0)))).toBe('0'.repeat(checksumLength(alg) * 2));
  });

  it('CRC32C matches the RFC 3720 test vectors', () => {
    expect(hex(computeChecksum('CRC32C', Buffer.alloc(32, 0)))).toBe('8a9136aa');
    expect(hex(computeChecksum('CRC32C', Buffer.alloc(32, 0xff)))).toBe('62a8ab43');
    const inc = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
    expect(hex(computeChecksum('CRC32C', inc))).toBe('46dd794e');
  });

  it('SHA1 and SHA256 are the plain hashes', () => {
    expect(hex(computeChecksum('SHA1', Buffer.from('abc')))).toBe('a9993e364706816aba3e25717850c26c9cd0d89d');
    expect(computeChecksum('SHA256', Buffer.alloc(0)).toString('base64')).toBe('47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=');
  });

  it.each(CRCS)('%s matches a bitwise reference at every length, offset and alignment', (alg) => {
    const rand = rng(1);
    const backing = randomBuffer(rand, 300);
    for (let length = 0; length <= 100; length++) {
      for (let offset = 0; offset < 4; offset++) {
        const data = backing.subarray(offset, offset + length);
        expect(hex(computeChecksum(alg, data))).toBe(hex(referenceCrc(alg, data)));
      }
    }
    const big = randomBuffer(rand, 3_000).subarray(3);
    expect(hex(computeChecksum(alg, big))).toBe(hex(referenceCrc(alg, big)));
  });

  it.each(CHECKSUM_ALGORITHMS)('%s: update in pieces equals one-shot', (alg) => {
    const rand = rng(2);
    const data = randomBuffer(rand, 40_003);
    const whole = computeChecksum(alg, data);
    for (let trial = 0; trial < 3; trial++) {
      const c = createChecksum(alg);
      let pos = 0;
      while (pos < data.length) {
        // Mix tiny, empty and large pieces so both the byte-wise and the word-wise paths run.
        const r = rand();
        const size = r < 0.2 ? 0 : r < 0.6 ? (rand() * 17) | 0 : (rand() * 4000) | 0;
        c.update(data.subarray(pos, pos + size));
        pos += size;
      }
      expect(hex(c.digest())).toBe(hex(whole));
    }
  });

  it.each(CHECKSUM_ALGORITHMS)('%s: digest does not finalize', (alg) => {
    const c = createChecksum(alg);
    c.update(Buffer.from('hello '));
    expect(hex(c.digest())).toBe(hex(computeChecksum(alg, Buffer.from('hello '))));
    expect(hex(c.digest())).toBe(hex(computeChecksum(alg, Buffer.from('hello '))));
    c.update(Buffer.from('world'));
    expect(hex(c.digest())).toBe(hex(computeChecksum(alg, Buffer.from('hello world'))));
  });

  it('CRC64NVME agrees with the bit-at-a-time reference across the WebAssembly path (long inputs, odd offsets, chunks larger than its buffer)', () => {
    const rand = rng(64);
    for (const length of [511, 512, 513, 4096 + 7, 65536 + 3, 192 * 1024 + 9, 400_001]) {
      const data = randomBuffer(rand, length + 3).subarray(3); // unaligned view
      expect(hex(computeChecksum('CRC64NVME', data))).toBe(hex(referenceCrc('CRC64NVME', data)));
      // Mixed short (JavaScript) and long (WebAssembly) updates carry one register.
      const c = createChecksum('CRC64NVME');
      let at = 0;
      for (const step of [5, 600, 17, 70_000, 1]) {
        c.update(data.subarray(at, Math.min(at + step, length)));
        at = Math.min(at + step, length);
      }
      c.update(data.subarray(at));
      expect(hex(c.digest())).toBe(hex(referenceCrc('CRC64NVME', data)));
    }
    const check = Buffer.from('123456789'.repeat(100));
    expect(hex(computeChecksum('CRC64NVME', check))).toBe(hex(referenceCrc('CRC64NVME', check)));
  });

  it('accepts buffers that share a pooled ArrayBuffer', () => {
    const pooled = Buffer.from('123456789'.repeat(20)); // small Buffer.from uses the shared pool
    expect(hex(computeChecksum('CRC32', pooled))).toBe(hex(referenceCrc('CRC32', pooled)));
    expect(hex(computeChecksum('CRC64NVME', pooled))).toBe(hex(referenceCrc('CRC64NVME', pooled)));
  });

  it('rejects unknown algorithms', () => {
    expect(() => createChecksum('MD5' as ChecksumAlgorithm)).toThrow(TypeError);
  });
});

describe('decodeChecksum', () => {
  it('decodes canonical base64 of the right length', () => {
    expect(decodeChecksum('CRC32', 'y/Q5Jg==')).toEqual(Buffer.from('cbf43926', 'hex'));
    expect(decodeChecksum('CRC64NVME', 'rosUhgp5mIg=')).toEqual(Buffer.from('ae8b14860a799888', 'hex'));
    for (const alg of CHECKSUM_ALGORITHMS) {
      const d = computeChecksum(alg, Buffer.from('x'));
      expect(decodeChecksum(alg, d.toString('base64'))).toEqual(d);
    }
  });

  it.each([
    ['CRC32', ''],
    ['CRC32', 'y/Q5Jg'], // missing padding
    ['CRC32', 'y/Q5Jg='],
    ['CRC32', 'y/Q5Jh=='], // non-zero pad bits
    ['CRC32', 'y/Q5Jg==='],
    ['CRC32', ' y/Q5Jg=='],
    ['CRC32', 'y_Q5Jg=='], // base64url
    ['CRC32', 'y/Q5*g=='],
    ['CRC32', 'rosUhgp5mIg='], // 8 bytes
    ['CRC64NVME', 'y/Q5Jg=='], // 4 bytes
    ['SHA256', 'qUqP5cyxm6YcTAhz05Hph5gvu9M='], // a SHA1
    ['SHA1', '47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='], // a SHA256
  ] as const)('%s rejects %j', (alg, value) => {
    expect(decodeChecksum(alg, value)).toBeUndefined();
  });
});

describe('compositeChecksum', () => {
  it.each(CHECKSUM_ALGORITHMS)('%s: checksum of the concatenated part digests, plus -N', (alg) => {
    const rand = rng(3);
    const parts = [randomBuffer(rand, 1000), randomBuffer(rand, 0), randomBuffer(rand, 77)];
    const digests = parts.map((p) => computeChecksum(alg, p));
    const composite = compositeChecksum(alg, digests);
    expect(composite).toMatch(/^[A-Za-z0-9+/]+={0,2}-3$/);
    const [b64, n] = composite.split('-');
    expect(n).toBe('3');
    expect(decodeChecksum(alg, b64!)).toEqual(computeChecksum(alg, Buffer.concat(digests)));
  });

  it('matches a hand-computed SHA256 composite', () => {
    const d1 = createHash('sha256').update('part one').digest();
    const d2 = createHash('sha256').update('part two').digest();
    const expected = createHash('sha256').update(Buffer.concat([d1, d2])).digest('base64');
    expect(compositeChecksum('SHA256', [d1, d2])).toBe(`${expected}-2`);
  });

  it('rejects digests of the wrong length', () => {
    expect(() => compositeChecksum('CRC32', [Buffer.alloc(4), Buffer.alloc(8)])).toThrow(RangeError);
  });
});

describe('combineCrc', () => {
  it.each(CRCS)('%s: combining random splits equals the CRC of the whole', (alg) => {
    const rand = rng(4);
    const data = randomBuffer(rand, 20_011);
    const whole = hex(computeChecksum(alg, data));
    for (let trial = 0; trial < 20; trial++) {
      const cuts = new Set<number>([0, data.length]);
      const count = (rand() * 12) | 0;
      for (let i = 0; i < count; i++) cuts.add((rand() * (data.length + 1)) | 0);
      const sorted = [...cuts].sort((a, b) => a - b);
      const parts: { digest: Buffer; length: number }[] = [];
      for (let i = 0; i + 1 < sorted.length; i++) {
        const slice = data.subarray(sorted[i], sorted[i + 1]);
        parts.push({ digest: computeChecksum(alg, slice), length: slice.length });
        // zero-length parts anywhere must not change anything
        if (rand() < 0.3) parts.push({ digest: computeChecksum(alg, Buffer.alloc(0)), length: 0 });
      }
      if (trial % 2 === 0) parts.unshift({ digest: computeChecksum(alg, Buffer.alloc(0)), length: 0 });
      expect(hex(combineCrc(alg, parts))).toBe(whole);
    }
  });

  it.each(CRCS)('%s: a single part, no parts and only empty parts', (alg) => {
    const d = computeChecksum(alg, Buffer.from('123456789'));
    const empty = computeChecksum(alg, Buffer.alloc(0));
    expect(combineCrc(alg, [{ digest: d, length: 9 }])).toEqual(d);
    expect(combineCrc(alg, [])).toEqual(empty);
    expect(combineCrc(alg, [{ digest: empty, length: 0 }, { digest: empty, length: 0 }])).toEqual(empty);
  });

  it.each(CRCS)('%s: part lengths beyond 2^32 are combined consistently', (alg) => {
    // CRC of 1 MiB of zeros, then of 4 GiB of zeros by doubling; 4 GiB + 1 MiB must come out the
    // same whether the big part is first or last, and the same as 4097 one-MiB parts.
    const mib = 1 << 20;
    const z1 = computeChecksum(alg, Buffer.alloc(mib));
    let z = z1;
    let len = mib;
    for (let i = 0; i < 12; i++) {
      z = combineCrc(alg, [{ digest: z, length: len }, { digest: z, length: len }]);
      len *= 2;
    }
    expect(len).toBe(2 ** 32);
    const bigFirst = combineCrc(alg, [{ digest: z, length: len }, { digest: z1, length: mib }]);
    const bigLast = combineCrc(alg, [{ digest: z1, length: mib }, { digest: z, length: len }]);
    const many = combineCrc(alg, Array.from({ length: 4097 }, () => ({ digest: z1, length: mib })));
    expect(hex(bigFirst)).toBe(hex(bigLast));
    expect(hex(bigFirst)).toBe(hex(many));
    // and a non-zero part after a > 2^32 prefix
    const d = computeChecksum(alg, Buffer.from('123456789'));
    const a = combineCrc(alg, [{ digest: z, length: len }, { digest: z1, length: mib }, { digest: d, length: 9 }]);
    const b = combineCrc(alg, [{ digest: many, length: len + mib }, { digest: d, length: 9 }]);
    expect(hex(a)).toBe(hex(b));
  });

  it('rejects malformed parts', () => {
    expect(() => combineCrc('CRC32', [{ digest: Buffer.alloc(8), length: 1 }])).toThrow(RangeError);
    expect(() => combineCrc('CRC64NVME', [{ digest: Buffer.alloc(4), length: 1 }])).toThrow(RangeError);
    expect(() => combineCrc('CRC32C', [{ digest: Buffer.alloc(4), length: -1 }])).toThrow(RangeError);
    expect(() => combineCrc('CRC32C', [{ digest: Buffer.alloc(4), length: 1.5 }])).toThrow(RangeError);
    expect(() => combineCrc('SHA256' as CrcAlgorithm, [])).toThrow(TypeError);
  });
});
