import { hkdfSync, randomBytes } from 'node:crypto';
import { hkdfSha256 } from '../src/hkdf';

describe('hkdfSha256', () => {
  it('matches RFC 5869 test case 1', () => {
    const ikm = Buffer.alloc(22, 0x0b);
    const salt = Buffer.from('000102030405060708090a0b0c', 'hex');
    const info = Buffer.from('f0f1f2f3f4f5f6f7f8f9', 'hex');
    expect(hkdfSha256(ikm, salt, info, 42).toString('hex')).toBe('3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865');
  });

  it.each([1, 16, 32, 33, 64, 100])('matches crypto.hkdfSync for %i bytes', (length) => {
    for (let i = 0; i < 20; i++) {
      const ikm = randomBytes(32);
      const salt = randomBytes(i % 3 === 0 ? 0 : 32);
      const info = Buffer.from('sealbox test info');
      expect(hkdfSha256(ikm, salt, info, length).equals(Buffer.from(hkdfSync('sha256', ikm, salt, info, length)))).toBe(true);
    }
  });
});
