import { validateInput, BASE64, isBase64 } from '../src/model/validate';
import { blobHandle, canonicalContext, decryptBlob, encryptBlob, CIPHERTEXT_OVERHEAD } from '../src/crypto/ciphertext';
import { jacksonPretty } from '../src/trail/jackson';
import { apiCallEvent } from '../src/trail/records';
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

describe('nulls, element types and nesting (issue 15)', () => {
  const deep = (levels: number): unknown => {
    let v: unknown = 'x';
    for (let i = 0; i < levels; i++) v = [v];
    return v;
  };

  it('reads a null member as an absent one, and a required one as missing', () => {
    expect(validateInput('GenerateRandom', { NumberOfBytes: null })).toEqual({});
    expect(() => validateInput('DescribeKey', { KeyId: null })).toThrow(
      "1 validation error detected: Value null at 'keyId' failed to satisfy constraint: Member must not be null",
    );
  });

  it('refuses a null list element with the element path', () => {
    expect(() => validateInput('Decrypt', { CiphertextBlob: 'AAAA', GrantTokens: [null] })).toThrow(
      "1 validation error detected: Value null at 'grantTokens.1.member' failed to satisfy constraint: Member must not be null",
    );
    expect(() => validateInput('TagResource', { KeyId: 'k', Tags: [{ TagKey: 'a', TagValue: 'b' }, null] })).toThrow(
      "1 validation error detected: Value null at 'tags.2.member' failed to satisfy constraint: Member must not be null",
    );
  });

  it('refuses a null map value, echoing the map as AWS does', () => {
    expect(() => validateInput('Encrypt', { KeyId: 'k', Plaintext: 'aGk=', EncryptionContext: { b: 'c', a: null } })).toThrow(
      "1 validation error detected: Value '{b=c, a=null}' at 'encryptionContext' failed to satisfy constraint: Map value must satisfy constraint: [Member must not be null]",
    );
  });

  it('requires ReEncrypt\'s CiphertextBlob although the SDK model does not', () => {
    expect(() => validateInput('ReEncrypt', { DestinationKeyId: 'k' })).toThrow(
      "1 validation error detected: Value at 'ciphertextBlob' failed to satisfy constraint: Member must not be null",
    );
  });

  it('judges element types before any constraint, so an oversized list of the wrong elements is a SerializationException', () => {
    const tokens = Array.from({ length: 11 }, () => deep(20_000));
    expect(() => validateInput('Decrypt', { CiphertextBlob: 'AAAA', GrantTokens: tokens })).toThrow(
      expect.objectContaining({ code: 'SerializationException', message: 'Start of list found where not expected' }),
    );
    const context = Object.fromEntries(Array.from({ length: 3 }, (_, i) => [`k${i}`, deep(20_000)]));
    expect(() => validateInput('Encrypt', { KeyId: 'k', Plaintext: 'aGk=', EncryptionContext: context })).toThrow(
      expect.objectContaining({ code: 'SerializationException', message: 'Start of list found where not expected' }),
    );
  });

  it('refuses a body nested deeper than 1,000 levels outside the model, without recursion', () => {
    expect(validateInput('GenerateRandom', { NumberOfBytes: 8, Extra: deep(999) })).toEqual({ NumberOfBytes: 8 });
    expect(() => validateInput('GenerateRandom', { NumberOfBytes: 8, Extra: deep(100_000) })).toThrow(
      expect.objectContaining({ code: 'SerializationException', message: '' }),
    );
  });
});

describe('event records', () => {
  it('serialize a call whose parameters nest 100,000 levels, cut at 32', () => {
    let v: unknown = 'x';
    for (let i = 0; i < 100_000; i++) v = [v];
    const event = apiCallEvent({
      credentials: { accessKeyId: 'test', secretAccessKey: 'test', accountId: '000000000000', principalArn: 'arn:aws:iam::000000000000:root' },
      eventName: 'Encrypt',
      region: 'us-east-1',
      time: 0,
      sourceIp: '127.0.0.1',
      userAgent: 'jest',
      requestId: 'r',
      readOnly: false,
      request: {},
      requestParameters: { encryptionContext: { a: v } },
      responseElements: null,
      resources: [],
      errorCode: 'SerializationException',
    });
    const record = JSON.parse(event.record) as { requestParameters: { encryptionContext: { a: unknown } } };
    expect(event.record).toContain('(nested too deeply to record)');
    expect(JSON.stringify(record.requestParameters).length).toBeLessThan(200);
  });
});
