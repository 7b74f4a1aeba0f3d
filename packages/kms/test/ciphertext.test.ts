// The ciphertext format (packages/kms/src/crypto/ciphertext.ts) byte by byte: layout, the
// canonical encryption context, what blobHandle() accepts, that every part of a blob is
// authenticated, the key commitment on its own, and the cache of derived keys. The format is a
// contract (DESIGN.md: a ciphertext made by one release opens in later ones), so its bytes are pinned.
import { createCipheriv, createHmac, randomBytes } from 'node:crypto';
import * as runtime from '@sealbox/runtime';
import { blobHandle, canonicalContext, CIPHERTEXT_OVERHEAD, decryptBlob, encryptBlob, HANDLE_BYTES, HEADER_BYTES, MAGIC } from '../src/crypto/ciphertext';

// Counts HKDF derivations, to see the cache of derived keys at work.
jest.mock('@sealbox/runtime', () => {
  const actual = jest.requireActual('@sealbox/runtime');
  return { ...actual, hkdfSha256: jest.fn(actual.hkdfSha256) };
});
const hkdf = runtime.hkdfSha256 as jest.MockedFunction<typeof runtime.hkdfSha256>;

const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};

describe('ciphertext layout', () => {
  it('is the header, the AES-GCM ciphertext and its tag, at fixed offsets', () => {
    expect([MAGIC.toString('hex'), HANDLE_BYTES, HEADER_BYTES, CIPHERTEXT_OVERHEAD]).toEqual(['0102020078', 32, 136, 152]);
    const handle = randomBytes(32);
    const blob = encryptBlob(handle, randomBytes(32), Buffer.from('hello'), undefined);
    expect(blob.length).toBe(5 + 152);
    expect(blob.subarray(0, 5).toString('hex')).toBe('0102020078');
    expect(blob.subarray(5, 37)).toEqual(handle);
    expect(blob.subarray(113, 136)).toEqual(Buffer.alloc(23));
    expect(blobHandle(blob)).toEqual(handle);
  });

  it('draws a new salt and IV for every encryption', () => {
    const handle = randomBytes(32);
    const material = randomBytes(32);
    const a = encryptBlob(handle, material, Buffer.from('same'), undefined);
    const b = encryptBlob(handle, material, Buffer.from('same'), undefined);
    expect(a.subarray(37, 69).equals(b.subarray(37, 69))).toBe(false);
    expect(a.subarray(69, 81).equals(b.subarray(69, 81))).toBe(false);
    expect(a.subarray(136).equals(b.subarray(136))).toBe(false);
  });

  it('decrypts an empty plaintext and a large one', () => {
    const material = randomBytes(32);
    for (const plaintext of [Buffer.alloc(0), randomBytes(4096)]) {
      const blob = encryptBlob(randomBytes(32), material, plaintext, { k: 'v' });
      expect(blob.length).toBe(plaintext.length + 152);
      expect(decryptBlob(blob, material, { k: 'v' })).toEqual(plaintext);
    }
  });
});

describe('the format is a contract', () => {
  it('a blob made by this release (0.1.0) still opens: known-answer vector', () => {
    // encryptBlob(handle = 32 x 01, material = 32 x 02, 'sealbox', { app: 'x' }), recorded once.
    const blob = Buffer.from(
      '01020200780101010101010101010101010101010101010101010101010101010101010101ed86869c5e881c167453f62ee4567e2ae1bb3ee0035c73ae4356a4baa34ad9807bb9ba1f84f40ee1678dbbc2faa46b828e845620e4c438f82277149125378b96d0489aa62e2979eb524163b80000000000000000000000000000000000000000000000464f5fd9c438fba478ec4c21d179754f3fa4dae03873ba',
      'hex',
    );
    expect(blobHandle(blob)).toEqual(Buffer.alloc(32, 1));
    expect(decryptBlob(blob, Buffer.alloc(32, 2), { app: 'x' })?.toString()).toBe('sealbox');
    expect(decryptBlob(blob, Buffer.alloc(32, 2), { app: 'y' })).toBeUndefined();
  });
});

describe('canonical encryption context', () => {
  it('is the entry count, then each key and value length-prefixed, sorted by the key\'s UTF-8 bytes', () => {
    expect(canonicalContext(undefined)).toEqual(Buffer.alloc(4));
    expect(canonicalContext({})).toEqual(Buffer.alloc(4));
    // 'B' (0x42) sorts before 'a' (0x61) by bytes; 'é' is two bytes.
    expect(canonicalContext({ a: '1', é: 'ü', B: '' })).toEqual(
      Buffer.concat([u32(3), u32(1), Buffer.from('B'), u32(0), u32(1), Buffer.from('a'), u32(1), Buffer.from('1'), u32(2), Buffer.from('é'), u32(2), Buffer.from('ü')]),
    );
  });

  it('sorts by bytes, not by UTF-16 code units', () => {
    // U+FF5E is after U+D83D (a surrogate) in UTF-16 but before it in UTF-8 (EF BD BE < F0 9F ...).
    const context = { '😀': 'x', '～': 'y' };
    expect(canonicalContext(context)).toEqual(
      Buffer.concat([u32(2), u32(3), Buffer.from('～'), u32(1), Buffer.from('y'), u32(4), Buffer.from('😀'), u32(1), Buffer.from('x')]),
    );
  });
});

describe('blobHandle', () => {
  const blob = encryptBlob(randomBytes(32), randomBytes(32), Buffer.alloc(0), undefined);

  it('accepts the shortest blob, and nothing shorter', () => {
    expect(blob.length).toBe(CIPHERTEXT_OVERHEAD);
    expect(blobHandle(blob)).toEqual(blob.subarray(5, 37));
    expect(blobHandle(blob.subarray(0, CIPHERTEXT_OVERHEAD - 1))).toBeUndefined();
    expect(blobHandle(Buffer.alloc(0))).toBeUndefined();
  });

  it.each([0, 1, 2, 3, 4])('refuses another magic byte at %i', (i) => {
    const bad = Buffer.from(blob);
    bad[i]! ^= 0x01;
    expect(blobHandle(bad)).toBeUndefined();
  });

  it.each([113, 120, 135])('refuses a reserved byte that is not zero (%i)', (i) => {
    const bad = Buffer.from(blob);
    bad[i] = 1;
    expect(blobHandle(bad)).toBeUndefined();
  });

  it('ignores the bytes around the reserved ones (commitment, ciphertext)', () => {
    const other = Buffer.from(blob);
    other[112] ^= 0xff;
    other[136] ^= 0xff;
    expect(blobHandle(other)).toEqual(blob.subarray(5, 37));
  });
});

describe('decryptBlob', () => {
  const material = randomBytes(32);
  const plaintext = randomBytes(40);
  const blob = encryptBlob(randomBytes(32), material, plaintext, { purpose: 'test' });

  it.each([
    ['magic', 0], ['handle', 5], ['handle end', 36], ['salt', 37], ['salt end', 68], ['IV', 69], ['IV end', 80], ['commitment', 81],
    ['commitment end', 112], ['reserved', 113], ['reserved end', 135], ['ciphertext', 136], ['ciphertext end', 136 + 39], ['tag', 136 + 40], ['tag end', 136 + 55],
  ])('refuses a blob with a flipped bit in the %s (byte %i)', (_, i) => {
    const bad = Buffer.from(blob);
    bad[i]! ^= 0x01;
    expect(decryptBlob(bad, material, { purpose: 'test' })).toBeUndefined();
  });

  it('refuses another context, a missing one, an extra entry, and another key', () => {
    expect(decryptBlob(blob, material, { purpose: 'test' })).toEqual(plaintext);
    expect(decryptBlob(blob, material, { purpose: 'Test' })).toBeUndefined();
    expect(decryptBlob(blob, material, undefined)).toBeUndefined();
    expect(decryptBlob(blob, material, { purpose: 'test', more: '' })).toBeUndefined();
    expect(decryptBlob(blob, randomBytes(32), { purpose: 'test' })).toBeUndefined();
  });

  it('refuses a blob whose GCM is intact but whose key commitment is wrong', () => {
    // Re-encrypt under the blob's own keys with a forged commitment: only the commitment check can refuse it.
    const salt = blob.subarray(37, 69);
    const okm = (jest.requireActual('@sealbox/runtime') as typeof runtime).hkdfSha256(material, salt, Buffer.from('sealbox kms ciphertext v1'), 64);
    const forged = Buffer.from(blob.subarray(0, HEADER_BYTES));
    forged[81] ^= 0x01;
    const cipher = createCipheriv('aes-256-gcm', okm.subarray(0, 32), forged.subarray(69, 81));
    cipher.setAAD(Buffer.concat([forged, canonicalContext({ purpose: 'test' })]));
    const body = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    expect(decryptBlob(Buffer.concat([forged, body]), material, { purpose: 'test' })).toBeUndefined();
    // The same construction with the true commitment opens: the forgery differs in the commitment only.
    const honest = Buffer.from(blob.subarray(0, HEADER_BYTES));
    const cipher2 = createCipheriv('aes-256-gcm', okm.subarray(0, 32), honest.subarray(69, 81));
    cipher2.setAAD(Buffer.concat([honest, canonicalContext({ purpose: 'test' })]));
    const body2 = Buffer.concat([cipher2.update(plaintext), cipher2.final(), cipher2.getAuthTag()]);
    expect(decryptBlob(Buffer.concat([honest, body2]), material, { purpose: 'test' })).toEqual(plaintext);
    // The commitment is HMAC-SHA256 under the second half of the HKDF output, over bytes 0-80.
    expect(blob.subarray(81, 113)).toEqual(createHmac('sha256', okm.subarray(32)).update(blob.subarray(0, 81)).digest());
  });
});

describe('derived keys cache', () => {
  beforeEach(() => hkdf.mockClear());

  it('derives once per encryption, and once for any number of decryptions of a blob', () => {
    const material = randomBytes(32);
    const blob = encryptBlob(randomBytes(32), material, Buffer.from('x'), undefined);
    expect(hkdf).toHaveBeenCalledTimes(1);
    for (let i = 0; i < 3; i++) expect(decryptBlob(blob, material, undefined)).toEqual(Buffer.from('x'));
    expect(hkdf).toHaveBeenCalledTimes(2);
    // Another material with the same salt is its own entry (and fails).
    expect(decryptBlob(blob, randomBytes(32), undefined)).toBeUndefined();
    expect(hkdf).toHaveBeenCalledTimes(3);
  });

  it('does not keep the keys of an encryption (only decryptions are cached)', () => {
    const material = randomBytes(32);
    const blob = encryptBlob(randomBytes(32), material, Buffer.from('x'), undefined);
    decryptBlob(blob, material, undefined);
    expect(hkdf).toHaveBeenCalledTimes(2);
  });

  it('holds 1024 entries, dropping the oldest', () => {
    const material = randomBytes(32);
    const blobs = Array.from({ length: 1025 }, () => encryptBlob(randomBytes(32), material, Buffer.from('x'), undefined));
    for (const b of blobs.slice(0, 1024)) decryptBlob(b, material, undefined);
    hkdf.mockClear();
    decryptBlob(blobs[1]!, material, undefined);
    decryptBlob(blobs[1023]!, material, undefined);
    expect(hkdf).toHaveBeenCalledTimes(0);
    decryptBlob(blobs[1024]!, material, undefined); // a new entry: blobs[0] (the oldest) goes
    expect(hkdf).toHaveBeenCalledTimes(1);
    decryptBlob(blobs[1]!, material, undefined);
    expect(hkdf).toHaveBeenCalledTimes(1);
    decryptBlob(blobs[0]!, material, undefined);
    expect(hkdf).toHaveBeenCalledTimes(2);
  });
});
