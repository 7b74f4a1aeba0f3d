// requestChecksum() (packages/s3/src/request-checksum.ts): which algorithm a write's headers
// name, the errors S3 answers for conflicting or malformed ones, and the comparison with the
// value sent in a header or in an aws-chunked trailer.
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html
import { computeChecksum } from '../src/checksums';
import { S3Error } from '../src/errors';
import { requestChecksum } from '../src/request-checksum';

const body = Buffer.from('hello world');
const b64 = (alg: Parameters<typeof computeChecksum>[0], data = body) => computeChecksum(alg, data).toString('base64');

function s3Error(fn: () => unknown): { code: string; status: number; message: string } {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(S3Error);
    const err = e as S3Error;
    return { code: err.code, status: err.status, message: err.message };
  }
  throw new Error('no error thrown');
}

function feed(headers: Record<string, string | string[]>, fallback?: Parameters<typeof requestChecksum>[1]) {
  const checksum = requestChecksum(headers, fallback);
  checksum?.hasher.update(body);
  return checksum;
}

describe('requestChecksum: which algorithm', () => {
  it('none when nothing names one and there is no fallback', () => {
    expect(requestChecksum({})).toBeUndefined();
    expect(requestChecksum({ 'x-amz-checksum-type': 'FULL_OBJECT', 'x-amz-checksum-algorithm': 'CRC32' })).toBeUndefined();
  });

  it('the fallback when nothing names one', () => {
    const c = feed({}, 'CRC64NVME')!;
    expect(c.algorithm).toBe('CRC64NVME');
    expect(c.verify()).toBe(b64('CRC64NVME'));
  });

  it.each(['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'] as const)('a x-amz-checksum-%s header, compared with the body', (alg) => {
    const name = `x-amz-checksum-${alg.toLowerCase()}`;
    const c = feed({ [name]: b64(alg) }, 'CRC64NVME')!;
    expect(c.algorithm).toBe(alg);
    expect(c.verify()).toBe(b64(alg));
    const wrong = feed({ [name]: b64(alg, Buffer.from('other')) })!;
    expect(s3Error(() => wrong.verify())).toEqual({ code: 'BadDigest', status: 400, message: `The ${alg} you specified did not match the calculated checksum.` });
  });

  it('the header wins over the trailer and the SDK header', () => {
    const c = feed({ 'x-amz-checksum-sha1': b64('SHA1'), 'x-amz-trailer': 'x-amz-checksum-crc32', 'x-amz-sdk-checksum-algorithm': 'SHA256' })!;
    expect(c.algorithm).toBe('SHA1');
    expect(c.verify(new Map([['x-amz-checksum-crc32', b64('CRC32', Buffer.from('other'))]]))).toBe(b64('SHA1'));
  });

  it('the trailer wins over the SDK header', () => {
    const c = feed({ 'x-amz-trailer': 'x-amz-checksum-crc32c', 'x-amz-sdk-checksum-algorithm': 'SHA256' })!;
    expect(c.algorithm).toBe('CRC32C');
    expect(c.verify(new Map([['x-amz-checksum-crc32c', b64('CRC32C')]]))).toBe(b64('CRC32C'));
  });

  it('the first of several trailers, trimmed', () => {
    const c = feed({ 'x-amz-trailer': ' x-amz-checksum-sha256 , x-amz-meta-other' })!;
    expect(c.algorithm).toBe('SHA256');
  });

  it('the SDK header alone: computed and kept, nothing to compare', () => {
    const c = feed({ 'x-amz-sdk-checksum-algorithm': 'sha256' }, 'CRC64NVME')!;
    expect(c.algorithm).toBe('SHA256');
    expect(c.verify()).toBe(b64('SHA256'));
  });
});

describe('requestChecksum: refused', () => {
  it('two checksum headers', () => {
    expect(s3Error(() => requestChecksum({ 'x-amz-checksum-crc32': b64('CRC32'), 'x-amz-checksum-sha1': b64('SHA1') }))).toEqual({
      code: 'InvalidRequest', status: 400, message: 'Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.',
    });
    // x-amz-checksum-type and -algorithm are not checksums.
    expect(requestChecksum({ 'x-amz-checksum-crc32': b64('CRC32'), 'x-amz-checksum-type': 'FULL_OBJECT', 'x-amz-checksum-algorithm': 'CRC32' })?.algorithm).toBe('CRC32');
  });

  it('an unknown checksum header', () => {
    expect(s3Error(() => requestChecksum({ 'x-amz-checksum-md5': 'AAAA' }))).toEqual({
      code: 'InvalidRequest', status: 400, message: 'The algorithm type you specified in x-amz-checksum- header is invalid.',
    });
  });

  it('a trailer that is not a checksum, or an unknown one', () => {
    const message = 'The value specified in the x-amz-trailer header is not supported';
    expect(s3Error(() => requestChecksum({ 'x-amz-trailer': 'x-amz-meta-a' }))).toEqual({ code: 'InvalidRequest', status: 400, message });
    expect(s3Error(() => requestChecksum({ 'x-amz-trailer': 'x-amz-checksum-md5' }))).toEqual({ code: 'InvalidRequest', status: 400, message });
  });

  it('an unknown SDK algorithm, even an empty one', () => {
    const message = 'Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]';
    expect(s3Error(() => requestChecksum({ 'x-amz-sdk-checksum-algorithm': 'MD5' }))).toEqual({ code: 'InvalidRequest', status: 400, message });
    expect(s3Error(() => requestChecksum({ 'x-amz-sdk-checksum-algorithm': '' }))).toEqual({ code: 'InvalidRequest', status: 400, message });
  });

  it('a header value that is not the base64 of a digest', () => {
    expect(s3Error(() => requestChecksum({ 'x-amz-checksum-crc32': 'not-base64' }))).toEqual({
      code: 'InvalidRequest', status: 400, message: 'Value for x-amz-checksum-crc32 header is invalid.',
    });
    expect(s3Error(() => requestChecksum({ 'x-amz-checksum-sha256': b64('SHA1') }))).toEqual({
      code: 'InvalidRequest', status: 400, message: 'Value for x-amz-checksum-sha256 header is invalid.',
    });
  });

  it('a declared trailer that never came', () => {
    const c = feed({ 'x-amz-trailer': 'x-amz-checksum-crc32' })!;
    const malformed = { code: 'MalformedTrailerError', status: 400, message: 'The request contained trailing data that was not well-formed or did not conform to our published schema.' };
    expect(s3Error(() => c.verify())).toEqual(malformed);
    expect(s3Error(() => c.verify(new Map([['x-amz-checksum-sha256', b64('SHA256')]])))).toEqual(malformed);
  });

  it('a trailer value that is not the base64 of a digest', () => {
    const c = feed({ 'x-amz-trailer': 'x-amz-checksum-crc32' })!;
    expect(s3Error(() => c.verify(new Map([['x-amz-checksum-crc32', 'AAAA']])))).toEqual({
      code: 'InvalidRequest', status: 400, message: 'Value for x-amz-checksum-crc32 trailing header is invalid.',
    });
  });

  it('a trailer value that does not match the body', () => {
    const c = feed({ 'x-amz-trailer': 'x-amz-checksum-crc32' })!;
    expect(s3Error(() => c.verify(new Map([['x-amz-checksum-crc32', b64('CRC32', Buffer.from('other'))]])))).toEqual({
      code: 'BadDigest', status: 400, message: 'The CRC32 you specified did not match the calculated checksum.',
    });
  });
});
