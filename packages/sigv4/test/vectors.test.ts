/**
 * AWS's published SigV4 test vectors: the aws-sig-v4-test-suite (service "service") and the
 * worked examples of the S3 API reference (header auth, presigned URL, aws-chunked uploads).
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import {
  AwsChunkedDecoder,
  SigV4Error,
  StaticCredentialProvider,
  canonicalQuery,
  canonicalUri,
  headerMap,
  parseQuery,
  payloadVerifier,
  verifyRequest,
  type VerifiedRequest,
} from '../src';
import { hmacHex } from '../src/canonical';

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

describe('aws-sig-v4-test-suite', () => {
  const credentials = new StaticCredentialProvider([
    {
      accessKeyId: 'AKIDEXAMPLE',
      secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
      accountId: '111122223333',
      principalArn: 'arn:aws:iam::111122223333:root',
    },
  ]);
  const now = new Date('2015-08-30T12:36:00Z');

  const vectors: { name: string; method: string; target: string; headers?: [string, string][]; body?: string; signedHeaders: string; signature: string }[] = [
    { name: 'get-vanilla', method: 'GET', target: '/', signedHeaders: 'host;x-amz-date', signature: '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31' },
    {
      name: 'get-unreserved',
      method: 'GET',
      target: '/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz',
      signedHeaders: 'host;x-amz-date',
      signature: '07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f',
    },
    { name: 'get-slashes', method: 'GET', target: '//example//', signedHeaders: 'host;x-amz-date', signature: '9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84' },
    {
      name: 'get-vanilla-query-order-key-case',
      method: 'GET',
      target: '/?Param2=value2&Param1=value1',
      signedHeaders: 'host;x-amz-date',
      signature: 'b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500',
    },
    {
      name: 'get-vanilla-query-order-value',
      method: 'GET',
      target: '/?Param1=value2&Param1=value1',
      signedHeaders: 'host;x-amz-date',
      signature: '5772eed61e12b33fae39ee5e7012498b51d56abc0abb7c60486157bd471c4694',
    },
    {
      name: 'get-vanilla-utf8-query',
      method: 'GET',
      target: '/?\u1234=bar',
      signedHeaders: 'host;x-amz-date',
      signature: '2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04',
    },
    {
      name: 'get-header-value-order',
      method: 'GET',
      target: '/',
      headers: [['My-Header1', 'value4'], ['My-Header1', 'value1'], ['My-Header1', 'value3'], ['My-Header1', 'value2']],
      signedHeaders: 'host;my-header1;x-amz-date',
      signature: '08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01',
    },
    {
      name: 'get-header-key-duplicate',
      method: 'GET',
      target: '/',
      headers: [['My-Header1', 'value2'], ['My-Header1', 'value2'], ['My-Header1', 'value1']],
      signedHeaders: 'host;my-header1;x-amz-date',
      signature: 'c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea',
    },
    {
      name: 'get-header-value-trim',
      method: 'GET',
      target: '/',
      headers: [['My-Header1', ' value1'], ['My-Header2', '"a   b   c"']],
      signedHeaders: 'host;my-header1;my-header2;x-amz-date',
      signature: 'acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736',
    },
    {
      name: 'post-x-www-form-urlencoded',
      method: 'POST',
      target: '/',
      headers: [['Content-Type', 'application/x-www-form-urlencoded']],
      body: 'Param1=value1',
      signedHeaders: 'content-type;host;x-amz-date',
      signature: 'ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a',
    },
  ];

  it.each(vectors)('$name verifies', (v) => {
    const headers = headerMap([
      ['Host', 'example.amazonaws.com'],
      ['X-Amz-Date', '20150830T123600Z'],
      ...(v.headers ?? []),
      ['Authorization', `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=${v.signedHeaders}, Signature=${v.signature}`],
    ]);
    const verified = verifyRequest({ method: v.method, target: v.target, headers }, { service: 'service', now, credentials, bodySha256: sha256(v.body ?? '') });
    expect(verified?.credentials.accessKeyId).toBe('AKIDEXAMPLE');
    expect(verified?.scope).toEqual({ date: '20150830', region: 'us-east-1', service: 'service' });
  });

  it.each(vectors)('$name fails with another signature', (v) => {
    const wrong = v.signature.replace(/^./, (c) => (c === '0' ? '1' : '0'));
    const headers = headerMap([
      ['Host', 'example.amazonaws.com'],
      ['X-Amz-Date', '20150830T123600Z'],
      ...(v.headers ?? []),
      ['Authorization', `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=${v.signedHeaders}, Signature=${wrong}`],
    ]);
    expect(() => verifyRequest({ method: v.method, target: v.target, headers }, { service: 'service', now, credentials, bodySha256: sha256(v.body ?? '') })).toThrow(
      expect.objectContaining({ kind: 'SignatureDoesNotMatch' }),
    );
  });

  it.each([
    ['/example space/', '/example%20space/'],
    ['/\u1234', '/%E1%88%B4'],
    ['//example//', '/example/'],
    ['/example/..', '/'],
    ['/a/./b/../c', '/a/c'],
  ])('canonical URI of %s (non-S3, normalised) is %s', (path, canonical) => {
    expect(canonicalUri(path, 'service')).toBe(canonical);
  });

  it('double-encodes an encoded path for non-S3 services and keeps S3 paths as sent', () => {
    expect(canonicalUri('/a%20b/c%2Fd', 'kms')).toBe('/a%2520b/c%252Fd');
    expect(canonicalUri('/bucket/a%20b//c/../d', 's3')).toBe('/bucket/a%20b//c/../d');
  });

  it.each([
    ['Param2=value2&Param1=value1', 'Param1=value1&Param2=value2'],
    ['a=10&a=9', 'a=10&a=9'],
    ['x=a.b&x=a%2Fb', 'x=a%2Fb&x=a.b'],
    ['q=a+b', 'q=a%2Bb'],
    ['q=a%20b', 'q=a%20b'],
    ['b&a=1', 'a=1&b='],
    ['a=1=2', 'a=1%3D2'],
    ['versioning', 'versioning='],
    ['prefix=%7e&list-type=2', 'list-type=2&prefix=~'],
  ])('canonical query of %s is %s', (query, canonical) => {
    expect(canonicalQuery(parseQuery(query))).toBe(canonical);
  });
});

describe('S3 API reference examples', () => {
  // https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html
  const credentials = new StaticCredentialProvider([
    {
      accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
      secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
      accountId: '111122223333',
      principalArn: 'arn:aws:iam::111122223333:root',
    },
  ]);
  const now = new Date('2013-05-24T00:00:00Z');
  const auth = (signedHeaders: string, signature: string) =>
    `AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=${signedHeaders},Signature=${signature}`;
  const EMPTY = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

  it('GET Object with a Range header', () => {
    const headers = headerMap([
      ['Host', 'examplebucket.s3.amazonaws.com'],
      ['Range', 'bytes=0-9'],
      ['x-amz-content-sha256', EMPTY],
      ['x-amz-date', '20130524T000000Z'],
      ['Authorization', auth('host;range;x-amz-content-sha256;x-amz-date', 'f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41')],
    ]);
    const verified = verifyRequest({ method: 'GET', target: '/test.txt', headers }, { service: 's3', region: 'us-east-1', now, credentials });
    expect(verified?.payload).toEqual({ type: 'sha256', sha256: EMPTY });
  });

  it('PUT Object, dated by the Date header, with an encoded key', async () => {
    const body = 'Welcome to Amazon S3.';
    const headers = headerMap([
      ['Host', 'examplebucket.s3.amazonaws.com'],
      ['Date', 'Fri, 24 May 2013 00:00:00 GMT'],
      ['x-amz-date', '20130524T000000Z'],
      ['x-amz-storage-class', 'REDUCED_REDUNDANCY'],
      ['x-amz-content-sha256', sha256(body)],
      ['Authorization', auth('date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class', '98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd')],
    ]);
    const verified = verifyRequest({ method: 'PUT', target: '/test%24file.text', headers }, { service: 's3', region: 'us-east-1', now, credentials })!;
    const verifier = payloadVerifier(verified, headers)!;
    await expect(text(Readable.from([Buffer.from(body)]).pipe(verifier))).resolves.toBe(body);
    const tampered = payloadVerifier(verified, headers)!;
    await expect(text(Readable.from([Buffer.from(body + '!')]).pipe(tampered))).rejects.toMatchObject({ kind: 'ContentSha256Mismatch' });
  });

  it('GET Bucket lifecycle and list objects', () => {
    const get = (target: string, signature: string) =>
      verifyRequest(
        {
          method: 'GET',
          target,
          headers: headerMap([
            ['Host', 'examplebucket.s3.amazonaws.com'],
            ['x-amz-date', '20130524T000000Z'],
            ['x-amz-content-sha256', EMPTY],
            ['Authorization', auth('host;x-amz-content-sha256;x-amz-date', signature)],
          ]),
        },
        { service: 's3', region: 'us-east-1', now, credentials },
      );
    expect(get('/?lifecycle', 'fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543')).not.toBeNull();
    expect(get('/?max-keys=2&prefix=J', '34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7')).not.toBeNull();
  });

  // https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html
  const presigned =
    '/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404';
  const presignedHeaders = headerMap([['Host', 'examplebucket.s3.amazonaws.com']]);

  it('presigned GET verifies within its 86400 seconds', () => {
    const at = new Date('2013-05-24T23:59:59Z');
    const verified = verifyRequest({ method: 'GET', target: presigned, headers: presignedHeaders }, { service: 's3', region: 'us-east-1', now: at, credentials });
    expect(verified?.mechanism).toBe('presigned');
    expect(verified?.payload).toEqual({ type: 'unsigned' });
  });

  it('presigned GET has expired one second after X-Amz-Date + X-Amz-Expires', () => {
    const at = new Date('2013-05-25T00:00:01Z');
    expect(() => verifyRequest({ method: 'GET', target: presigned, headers: presignedHeaders }, { service: 's3', region: 'us-east-1', now: at, credentials })).toThrow(
      expect.objectContaining({ failure: { kind: 'Expired', requestTime: now, expiresSeconds: 86400, serverTime: at } }),
    );
  });

  it('presigned GET is refused for another method or key', () => {
    const at = new Date('2013-05-24T01:00:00Z');
    for (const [method, target] of [
      ['PUT', presigned],
      ['GET', presigned.replace('/test.txt', '/test.txu')],
      ['GET', presigned.replace('X-Amz-Expires=86400', 'X-Amz-Expires=86401')],
    ] as const) {
      expect(() => verifyRequest({ method, target, headers: presignedHeaders }, { service: 's3', region: 'us-east-1', now: at, credentials })).toThrow(
        expect.objectContaining({ kind: 'SignatureDoesNotMatch' }),
      );
    }
  });

  it('refuses unsigned x-amz-* headers on a presigned request', () => {
    const headers = headerMap([['Host', 'examplebucket.s3.amazonaws.com'], ['x-amz-meta-foo', 'bar']]);
    expect(() => verifyRequest({ method: 'GET', target: presigned, headers }, { service: 's3', region: 'us-east-1', now, credentials })).toThrow(
      expect.objectContaining({ failure: { kind: 'HeadersNotSigned', headers: ['x-amz-meta-foo'] } }),
    );
  });

  // https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html
  const chunkedHeaders = (extra: [string, string][], signedHeaders: string, seed: string) =>
    headerMap([
      ['Host', 's3.amazonaws.com'],
      ['x-amz-date', '20130524T000000Z'],
      ['x-amz-storage-class', 'REDUCED_REDUNDANCY'],
      ['Content-Encoding', 'aws-chunked'],
      ['x-amz-decoded-content-length', '66560'],
      ...extra,
      ['Authorization', auth(signedHeaders, seed)],
    ]);
  const data = Buffer.alloc(66560, 'a');

  /** Frames `data` as 64 KiB + 1 KiB + final chunks signed from `verified` (the documented layout). */
  function signedChunks(verified: VerifiedRequest, final: string): { body: Buffer; signatures: string[] } {
    let previous = verified.signature;
    const signatures: string[] = [];
    const parts: Buffer[] = [];
    for (const chunk of [data.subarray(0, 65536), data.subarray(65536), Buffer.alloc(0)]) {
      const toSign = `AWS4-HMAC-SHA256-PAYLOAD\n${verified.amzDate}\n${verified.scopeString}\n${previous}\n${EMPTY}\n${sha256(chunk)}`;
      previous = hmacHex(verified.signingKey, toSign);
      signatures.push(previous);
      const isFinal = chunk.length === 0;
      parts.push(Buffer.from(`${chunk.length.toString(16)};chunk-signature=${previous}\r\n`), chunk, Buffer.from(isFinal ? final : '\r\n'));
    }
    return { body: Buffer.concat(parts), signatures };
  }

  /** Feeds a body in pieces of `size` bytes, so chunk boundaries fall anywhere. */
  const pieces = (body: Buffer, size: number) => Readable.from(Array.from({ length: Math.ceil(body.length / size) }, (_, i) => body.subarray(i * size, (i + 1) * size)));

  it('STREAMING-AWS4-HMAC-SHA256-PAYLOAD: seed and chunk signatures of the documented example', async () => {
    const headers = chunkedHeaders(
      [['x-amz-content-sha256', 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD'], ['Content-Length', '66824']],
      'content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class',
      '4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9',
    );
    const verified = verifyRequest({ method: 'PUT', target: '/examplebucket/chunkObject.txt', headers }, { service: 's3', region: 'us-east-1', now, credentials })!;
    expect(verified.payload).toEqual({ type: 'streaming', signed: true, trailer: false });
    const { body, signatures } = signedChunks(verified, '\r\n');
    expect(signatures).toEqual([
      'ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648',
      '0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497',
      'b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9',
    ]);
    expect(body.length).toBe(66824);
    for (const size of [1, 7, 1000, 65536, body.length]) {
      const decoder = payloadVerifier(verified, headers)!;
      const out = Buffer.concat(await pieces(body, size).pipe(decoder).toArray());
      expect(out.equals(data)).toBe(true);
    }

    // Any changed byte of data or signature fails.
    for (const offset of [100, 65600, body.indexOf('chunk-signature=') + 20]) {
      const tampered = Buffer.from(body);
      tampered[offset] = tampered[offset]! ^ 1;
      await expect(pieces(tampered, 4096).pipe(payloadVerifier(verified, headers)!).toArray()).rejects.toBeInstanceOf(SigV4Error);
    }
    // A chunk replayed in place of another fails: signatures are chained.
    const first = body.subarray(0, body.indexOf('\r\n', 65536 + 85) + 2);
    const replay = Buffer.concat([first, first, body.subarray(first.length)]);
    await expect(Readable.from([replay]).pipe(new AwsChunkedDecoder(verified, { signed: true, trailer: false }, undefined)).toArray()).rejects.toMatchObject({
      kind: 'ChunkSignatureMismatch',
    });
  });

  // https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html
  it('STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER: chunk and trailer signatures of the documented example', async () => {
    const headers = chunkedHeaders(
      [['x-amz-content-sha256', 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER'], ['x-amz-trailer', 'x-amz-checksum-crc32c']],
      'content-encoding;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class;x-amz-trailer',
      '106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e',
    );
    const verified = verifyRequest({ method: 'PUT', target: '/examplebucket/chunkObject.txt', headers }, { service: 's3', region: 'us-east-1', now, credentials })!;
    const trailerSignature = 'd81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435';
    const { body, signatures } = signedChunks(verified, `x-amz-checksum-crc32c:sOO8/Q==\r\nx-amz-trailer-signature:${trailerSignature}\r\n\r\n`);
    expect(signatures.map((s) => s.slice(0, 8))).toEqual(['b474d886', '1c1344b1', '2ca2aba2']);
    const decoder = payloadVerifier(verified, headers) as AwsChunkedDecoder;
    const out = Buffer.concat(await pieces(body, 333).pipe(decoder).toArray());
    expect(out.equals(data)).toBe(true);
    expect(Object.fromEntries(decoder.trailers)).toEqual({ 'x-amz-checksum-crc32c': 'sOO8/Q==' });

    const forged = Buffer.from(body.toString('latin1').replace('sOO8/Q==', 'AAAAAA=='), 'latin1');
    await expect(Readable.from([forged]).pipe(payloadVerifier(verified, headers)!).toArray()).rejects.toMatchObject({ kind: 'ChunkSignatureMismatch' });
  });
});

describe('STREAMING-UNSIGNED-PAYLOAD-TRAILER (what SDKs send by default)', () => {
  const verified = { signature: 'x', signingKey: Buffer.alloc(32), amzDate: '20130524T000000Z', scopeString: 's' };
  const decode = async (body: string, expected?: number) => {
    const decoder = new AwsChunkedDecoder(verified, { signed: false, trailer: true }, expected);
    const out = Buffer.concat(await Readable.from([Buffer.from(body, 'latin1')]).pipe(decoder).toArray());
    return { data: out.toString('latin1'), trailers: Object.fromEntries(decoder.trailers) };
  };

  it('decodes chunks and hands on the checksum trailer', async () => {
    await expect(decode('5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n', 11)).resolves.toEqual({
      data: 'hello world',
      trailers: { 'x-amz-checksum-crc32': 'DUoRhQ==' },
    });
  });

  it('accepts a stream that ends after the final chunk when it has no trailer', async () => {
    await expect(decode('3\r\nabc\r\n0\r\n', 3)).resolves.toEqual({ data: 'abc', trailers: {} });
  });

  it.each([
    ['a bad size', 'zz\r\nabc\r\n0\r\n\r\n', 'MalformedChunk'],
    ['a missing CRLF after data', '3\r\nabcd\r\n0\r\n\r\n', 'MalformedChunk'],
    ['a truncated body', '5\r\nhel', 'IncompleteBody'],
    ['more bytes than declared', '5\r\nhello\r\n0\r\n\r\n', 'IncompleteBody'],
  ])('refuses %s', async (_name, body, kind) => {
    await expect(decode(body, 3)).rejects.toMatchObject({ kind });
  });
});
