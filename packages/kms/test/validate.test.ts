import { validateInput, BASE64, isBase64 } from '../src/model/validate';
import { blobHandle, canonicalContext, decryptBlob, encryptBlob, CIPHERTEXT_OVERHEAD } from '../src/crypto/ciphertext';
import { jacksonPretty } from '../src/trail/jackson';
import { randomBytes } from 'node:crypto';

describe('model-driven validation', () => {
  it('words one error as AWS does', () => {
    expect(() => validateInput('GenerateRandom', { NumberOfBytes: 1025 })).toThrow(
      "1 validation error detected: Value '1025' at 'numberOfBytes' failed to satisfy constraint: Member must have value less than or equal to 1024",
    );
  });

  it('joins several with "; " in member order, and never echoes sensitive values', () => {
    expect(() => validateInput('Encrypt', { Plaintext: '', EncryptionAlgorithm: 'AES' })).toThrow(
      "3 validation errors detected: Value null at 'keyId' failed to satisfy constraint: Member must not be null; Value at 'plaintext' failed to satisfy constraint: Member must have length greater than or equal to 1; Value 'AES' at 'encryptionAlgorithm' failed to satisfy constraint: Member must satisfy enum value set: [SYMMETRIC_DEFAULT, RSAES_OAEP_SHA_1, RSAES_OAEP_SHA_256, SM2PKE]",
    );
  });

  it('names nested list members as AWS does', () => {
    expect(() => validateInput('TagResource', { KeyId: 'k', Tags: [{ TagKey: 'ok', TagValue: 'v' }, { TagKey: '', TagValue: 'v' }] })).toThrow(
      "1 validation error detected: Value '' at 'tags.2.member.tagKey' failed to satisfy constraint: Member must have length greater than or equal to 1",
    );
  });

  it('decodes blobs and refuses members of the wrong JSON type', () => {
    expect(validateInput('Encrypt', { KeyId: 'k', Plaintext: 'aGk=' }).Plaintext).toEqual(Buffer.from('hi'));
    expect(() => validateInput('Encrypt', { KeyId: 7, Plaintext: 'aGk=' })).toThrow(expect.objectContaining({ code: 'SerializationException' }));
    expect(() => validateInput('Encrypt', { KeyId: 'k', Plaintext: '***' })).toThrow(expect.objectContaining({ code: 'SerializationException' }));
  });
});

describe('ciphertext blobs', () => {
  const handle = randomBytes(32);
  const material = randomBytes(32);

  it('are plaintext + 152 bytes with the AWS leading bytes, and open only with the same context', () => {
    const blob = encryptBlob(handle, material, Buffer.from('data'), { a: 'b' });
    expect(blob.length).toBe(4 + CIPHERTEXT_OVERHEAD);
    expect(CIPHERTEXT_OVERHEAD).toBe(152);
    expect(blobHandle(blob)).toEqual(handle);
    expect(decryptBlob(blob, material, { a: 'b' })).toEqual(Buffer.from('data'));
    expect(decryptBlob(blob, material, { a: 'c' })).toBeUndefined();
    expect(decryptBlob(blob, randomBytes(32), { a: 'b' })).toBeUndefined();
  });

  it('bind encryption context unambiguously', () => {
    expect(canonicalContext({ ab: 'c' }).equals(canonicalContext({ a: 'bc' }))).toBe(false);
    expect(canonicalContext({ x: '1', y: '2' }).equals(canonicalContext({ y: '2', x: '1' }))).toBe(true);
    expect(canonicalContext({}).equals(canonicalContext(undefined))).toBe(true);
  });
});

describe('jacksonPretty', () => {
  it('prints like AWS Java services', () => {
    expect(jacksonPretty({ a: [1, 'x'], b: [{ c: {} }], d: [] })).toBe('{\n  "a" : [ 1, "x" ],\n  "b" : [ {\n    "c" : { }\n  } ],\n  "d" : [ ]\n}');
  });
});

describe('isBase64', () => {
  it('accepts exactly what the BASE64 expression accepts', () => {
    const fixed = ['', 'QQ==', 'QUI=', 'QUJD', 'QR==', '====', 'A===', 'AB=C', 'ABC=', 'AB==', '=', '==', 'QUJD\n', 'QUJ', 'QU JD', 'QUJDé===', '+/+/', '-_-_', 'QUJDQQ==', 'QUJDQ===', 'QUJD=QQ='];
    for (const s of fixed) expect([s, isBase64(s)]).toEqual([s, BASE64.test(s)]);
    const chars = 'AZaz09+/=-_ \né';
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648);
    for (let i = 0; i < 20_000; i++) {
      let s = '';
      const n = next() % 13;
      for (let j = 0; j < n; j++) s += next() % 4 === 0 ? chars[next() % chars.length] : 'QUJD'[next() % 4];
      expect([s, isBase64(s)]).toEqual([s, BASE64.test(s)]);
    }
  });
});
