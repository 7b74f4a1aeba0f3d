// S3 flexible checksums (packages/s3/src/checksums.ts) beyond checksums.test.ts: cases written for
// the mutation run (`npm run mutate -- s3`): the error messages, the multipart checksum types of
// CRC32C, canonical base64 of the wrong length, and the JavaScript CRC32 that Node versions
// without zlib.crc32 (before 20.15 and 22.2) run instead of zlib's.
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html
import { CHECKSUM_ALGORITHMS, type ChecksumAlgorithm, type CrcAlgorithm, combineCrc, compositeChecksum, createChecksum, decodeChecksum, supportedChecksumTypes } from '../src/checksums';

type ChecksumsModule = typeof import('../src/checksums');

/** Bit-at-a-time CRC32 (ISO-HDLC), independent of both implementations. */
function referenceCrc32(data: Uint8Array): string {
  let c = 0xffffffff;
  for (const byte of data) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ((c ^ 0xffffffff) >>> 0).toString(16).padStart(8, '0');
}

/** checksums.ts loaded again with a zlib that has no crc32, as on older Node versions. */
function withoutNativeCrc32(): ChecksumsModule {
  let loaded: ChecksumsModule | undefined;
  jest.isolateModules(() => {
    jest.doMock('node:zlib', () => ({ ...jest.requireActual<object>('node:zlib'), crc32: undefined }));
    loaded = jest.requireActual<ChecksumsModule>('../src/checksums');
  });
  jest.dontMock('node:zlib');
  return loaded!;
}

describe('CRC32 without zlib.crc32 (the JavaScript slice-by-8)', () => {
  const js = withoutNativeCrc32();

  it('the check value of "123456789" is cbf43926', () => {
    expect(js.computeChecksum('CRC32', Buffer.from('123456789')).toString('hex')).toBe('cbf43926');
    expect(js.computeChecksum('CRC32', Buffer.alloc(0)).toString('hex')).toBe('00000000');
  });

  it('matches a bitwise reference at every length around the 64-byte view threshold, every alignment', () => {
    const backing = Buffer.from(Array.from({ length: 400 }, (_, i) => (i * 131 + 7) & 0xff));
    for (const length of [1, 2, 3, 7, 8, 9, 15, 16, 17, 63, 64, 65, 66, 67, 71, 72, 73, 79, 80, 81, 127, 128, 129, 200, 300]) {
      for (let offset = 0; offset < 4; offset++) {
        const data = backing.subarray(offset, offset + length);
        expect([length, offset, js.computeChecksum('CRC32', data).toString('hex')]).toEqual([length, offset, referenceCrc32(data)]);
      }
    }
  });

  it('updates in pieces equal one update, and digest does not finalize', () => {
    const data = Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 37) & 0xff));
    const c = js.createChecksum('CRC32');
    c.update(data.subarray(0, 1));
    c.update(data.subarray(1, 100));
    expect(c.digest().toString('hex')).toBe(referenceCrc32(data.subarray(0, 100)));
    c.update(data.subarray(100));
    expect(c.digest().toString('hex')).toBe(referenceCrc32(data));
  });
});

describe('supportedChecksumTypes', () => {
  it.each([
    ['CRC32', ['COMPOSITE', 'FULL_OBJECT']],
    ['CRC32C', ['COMPOSITE', 'FULL_OBJECT']],
    ['CRC64NVME', ['FULL_OBJECT']],
    ['SHA1', ['COMPOSITE']],
    ['SHA256', ['COMPOSITE']],
  ] as const)('%s: %j', (alg, types) => {
    expect(supportedChecksumTypes(alg)).toEqual(types);
  });
});

describe('decodeChecksum: canonical base64 of another length with the right number of characters', () => {
  // Eight characters hold four or five bytes, 28 hold 19 to 21, 44 hold 31 to 32.
  it.each([
    ['CRC32', 'AAAAAAA='],
    ['CRC32', 'AAAAAAAA'],
    ['CRC64NVME', 'AAAAAAAAAAAA'],
    ['SHA1', 'AAAAAAAAAAAAAAAAAAAAAAAAAA=='],
    ['SHA1', 'AAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
    ['SHA256', 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=='],
  ] as const)('%s refuses %s', (alg, value) => {
    expect(Buffer.from(value, 'base64').toString('base64')).toBe(value);
    expect(decodeChecksum(alg, value)).toBeUndefined();
  });
});

describe('error messages', () => {
  const message = (fn: () => unknown) => {
    try {
      fn();
    } catch (e) {
      return `${(e as Error).constructor.name}: ${(e as Error).message}`;
    }
    return 'no error';
  };

  it('an unknown algorithm', () => {
    expect(message(() => createChecksum('MD5' as ChecksumAlgorithm))).toBe('TypeError: unknown checksum algorithm: MD5');
    expect(message(() => combineCrc('SHA256' as CrcAlgorithm, []))).toBe('TypeError: not a CRC algorithm: SHA256');
  });

  it('a part digest of the wrong length names the part, counted from 1', () => {
    expect(message(() => compositeChecksum('CRC32', [Buffer.alloc(4), Buffer.alloc(8)]))).toBe('RangeError: part 2 CRC32 digest is 8 bytes, expected 4');
    expect(message(() => combineCrc('CRC64NVME', [{ digest: Buffer.alloc(8), length: 1 }, { digest: Buffer.alloc(4), length: 1 }]))).toBe(
      'RangeError: part 2 CRC64NVME digest is 4 bytes, expected 8',
    );
    expect(message(() => combineCrc('CRC32C', [{ digest: Buffer.alloc(4), length: 1 }, { digest: Buffer.alloc(4), length: -1 }]))).toBe(
      'RangeError: part 2 length must be a non-negative safe integer, got -1',
    );
  });

  it('every algorithm has a checksum', () => {
    for (const alg of CHECKSUM_ALGORITHMS) expect(message(() => createChecksum(alg))).toBe('no error');
  });
});
