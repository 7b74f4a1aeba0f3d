// The aws-chunked decoder and the payload verifiers (packages/sigv4/src/payload.ts) at their
// edges: line and trailer limits, CRLF rules, chunk sizes, chunk extensions, the decoded length,
// signed chunk and trailer chains (signed here with the formulas of the AWS pages below; the
// AWS example vectors are in vectors.test.ts), and what payloadVerifier() picks.
// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html
// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { AwsChunkedDecoder, Sha256Verifier, SigV4Error, headerMap, payloadVerifier, type VerifiedRequest } from '../src';

const EMPTY = createHash('sha256').digest('hex');
const verified = { signature: 'a'.repeat(64), signingKey: randomBytes(32), amzDate: '20261127T100000Z', scopeString: '20261127/us-east-1/s3/aws4_request' };
const hmacHex = (data: string) => createHmac('sha256', verified.signingKey).update(data).digest('hex');
const sha = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

/** A signed aws-chunked body of these chunks (the last one empty), with optional signed trailers. */
function signedBody(chunks: string[], trailers?: [string, string][], tamper?: (sigs: string[]) => void): string {
  let previous = verified.signature;
  const parts: string[] = [];
  const sigs: string[] = [];
  for (const data of [...chunks, '']) {
    const sig = hmacHex(`AWS4-HMAC-SHA256-PAYLOAD\n${verified.amzDate}\n${verified.scopeString}\n${previous}\n${EMPTY}\n${sha(Buffer.from(data, 'latin1'))}`);
    sigs.push(sig);
    previous = sig;
  }
  tamper?.(sigs);
  [...chunks, ''].forEach((data, i) => {
    parts.push(`${data.length.toString(16)};chunk-signature=${sigs[i]}\r\n${data}${data || !trailers ? '\r\n' : ''}`);
  });
  if (trailers) {
    const canonical = trailers.length ? trailers.map(([n, v]) => `${n}:${v}\n`).sort().join('') : '\n';
    const trailerSig = hmacHex(`AWS4-HMAC-SHA256-TRAILER\n${verified.amzDate}\n${verified.scopeString}\n${sigs.at(-1)}\n${sha(canonical)}`);
    for (const [n, v] of trailers) parts.push(`${n}:${v}\r\n`);
    parts.push(`x-amz-trailer-signature:${trailerSig}\r\n\r\n`);
  }
  return parts.join('');
}

async function decode(body: string | Buffer, mode: { signed: boolean; trailer: boolean }, expected?: number, pieceSize = 0) {
  const decoder = new AwsChunkedDecoder(verified, mode, expected);
  const bytes = typeof body === 'string' ? Buffer.from(body, 'latin1') : body;
  const pieces = pieceSize > 0 ? Array.from({ length: Math.ceil(bytes.length / pieceSize) }, (_, i) => bytes.subarray(i * pieceSize, (i + 1) * pieceSize)) : [bytes];
  const out = Buffer.concat(await Readable.from(pieces).pipe(decoder).toArray());
  return { data: out.toString('latin1'), trailers: Object.fromEntries(decoder.trailers), decoded: decoder.bytesDecoded };
}

async function failure(body: string | Buffer, mode: { signed: boolean; trailer: boolean }, expected?: number) {
  try {
    await decode(body, mode, expected);
  } catch (e) {
    expect(e).toBeInstanceOf(SigV4Error);
    return (e as SigV4Error).failure;
  }
  throw new Error('decoded without an error');
}

const UNSIGNED = { signed: false, trailer: false };
const UNSIGNED_TRAILER = { signed: false, trailer: true };
const SIGNED = { signed: true, trailer: false };
const SIGNED_TRAILER = { signed: true, trailer: true };
const malformedChunk = (reason: string) => ({ kind: 'MalformedChunk', reason });

describe('aws-chunked framing', () => {
  it('decodes chunks, in one piece or byte by byte, and counts the decoded bytes', async () => {
    const body = '5\r\nhello\r\nA\r\n world!!!!\r\n0\r\n\r\n';
    await expect(decode(body, UNSIGNED, 15)).resolves.toEqual({ data: 'hello world!!!!', trailers: {}, decoded: 15 });
    await expect(decode(body, UNSIGNED, undefined, 1)).resolves.toMatchObject({ data: 'hello world!!!!', decoded: 15 });
  });

  it('takes sizes in either case with spaces and extensions around them, and ignores what follows the end', async () => {
    await expect(decode(' a ;ext=1\r\n0123456789\r\n0 ; x\r\n\r\nanything after', UNSIGNED)).resolves.toMatchObject({ data: '0123456789' });
    await expect(decode('A\r\n0123456789\r\n0\r\n\r\n', UNSIGNED)).resolves.toMatchObject({ data: '0123456789' });
    await expect(decode('0000000000000001\r\nx\r\n0\r\n\r\n', UNSIGNED)).resolves.toMatchObject({ data: 'x' });
  });

  it.each([
    ['g\r\n', "invalid chunk size 'g'"],
    ['\r\n', "invalid chunk size ''"],
    ['00000000000000001\r\nx\r\n', "invalid chunk size '00000000000000001'"],
    ['x5\r\n', "invalid chunk size 'x5'"],
    ['5x\r\n', "invalid chunk size '5x'"],
    [`${'f'.repeat(40)}\r\n`, `invalid chunk size '${'f'.repeat(32)}'`],
  ])('refuses the chunk size line %j', async (line, reason) => {
    await expect(failure(`${line}0\r\n\r\n`, UNSIGNED)).resolves.toEqual(malformedChunk(reason));
  });

  it('needs CRLF after each line and after each chunk\'s data', async () => {
    await expect(failure('5\nhello\r\n0\r\n\r\n', UNSIGNED)).resolves.toEqual(malformedChunk('chunk lines must end with CRLF'));
    await expect(failure('\n', UNSIGNED)).resolves.toEqual(malformedChunk('chunk lines must end with CRLF'));
    await expect(failure('5\r\nhelloX\n0\r\n\r\n', UNSIGNED)).resolves.toEqual(malformedChunk('chunk data must be followed by CRLF'));
    await expect(failure('5\r\nhello\rX0\r\n\r\n', UNSIGNED)).resolves.toEqual(malformedChunk('chunk data must be followed by CRLF'));
    await expect(failure('0\r\nX\n', UNSIGNED)).resolves.toEqual(malformedChunk('chunk data must be followed by CRLF'));
  });

  it('holds header lines of up to 4096 bytes, CRLF included', async () => {
    const line = (n: number) => `${' '.repeat(n - 3)}5\r\n`;
    expect(line(4096)).toHaveLength(4096);
    await expect(decode(`${line(4096)}hello\r\n0\r\n\r\n`, UNSIGNED, undefined, 1000)).resolves.toMatchObject({ data: 'hello' });
    await expect(failure(`${line(4097)}hello\r\n0\r\n\r\n`, UNSIGNED)).resolves.toEqual(malformedChunk('chunk header line too long'));
    // A line that never ends is refused as soon as it is too long, not at the end of the body.
    await expect(failure(' '.repeat(5000), UNSIGNED)).resolves.toEqual(malformedChunk('chunk header line too long'));
  });

  it('refuses a body that stops early: IncompleteBody against the declared length, else malformed', async () => {
    await expect(failure('5\r\nhel', UNSIGNED, 5)).resolves.toEqual({ kind: 'IncompleteBody', expected: 5, received: 3 });
    await expect(failure('5\r\nhello\r\n', UNSIGNED, 5)).resolves.toEqual(malformedChunk('the body ended before its final chunk'));
    await expect(failure('5\r\nhel', UNSIGNED)).resolves.toEqual(malformedChunk('the body ended before its final chunk'));
    await expect(failure('', UNSIGNED, 0)).resolves.toEqual(malformedChunk('the body ended before its final chunk'));
  });

  it('holds the decoded length to x-amz-decoded-content-length', async () => {
    await expect(decode('5\r\nhello\r\n0\r\n\r\n', UNSIGNED, 5)).resolves.toMatchObject({ data: 'hello' });
    await expect(failure('5\r\nhello\r\n1\r\n!\r\n0\r\n\r\n', UNSIGNED, 5)).resolves.toEqual({ kind: 'IncompleteBody', expected: 5, received: 6 });
    await expect(failure('5\r\nhello\r\n0\r\n\r\n', UNSIGNED, 6)).resolves.toEqual({ kind: 'IncompleteBody', expected: 6, received: 5 });
    await expect(failure('3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n', UNSIGNED, 5)).resolves.toEqual({ kind: 'IncompleteBody', expected: 5, received: 6 });
  });
});

describe('unsigned trailers', () => {
  it('hands on trailers with trimmed, lower-cased names and trimmed values', async () => {
    await expect(decode('5\r\nhello\r\n0\r\n X-Amz-Checksum-CRC32 : abc \r\nx-amz-meta-b:c:d\r\n\r\n', UNSIGNED_TRAILER, 5)).resolves.toEqual({
      data: 'hello', trailers: { 'x-amz-checksum-crc32': 'abc', 'x-amz-meta-b': 'c:d' }, decoded: 5,
    });
  });

  it('may end right after the final chunk when there is no trailer, but not inside one', async () => {
    await expect(decode('5\r\nhello\r\n0\r\n', UNSIGNED_TRAILER, 5)).resolves.toMatchObject({ data: 'hello', trailers: {} });
    await expect(failure('5\r\nhello\r\n0\r\n', UNSIGNED_TRAILER, 6)).resolves.toEqual({ kind: 'IncompleteBody', expected: 6, received: 5 });
    await expect(failure('5\r\nhello\r\n0\r\nx-amz-checksum-crc32:abc\r\n', UNSIGNED_TRAILER)).resolves.toEqual(malformedChunk('the body ended before its final chunk'));
    await expect(failure('5\r\nhello\r\n0\r\nx-amz-check', UNSIGNED_TRAILER)).resolves.toEqual(malformedChunk('the body ended before its final chunk'));
    // Without a trailer the final chunk still needs its CRLF.
    await expect(failure('5\r\nhello\r\n0\r\n', UNSIGNED)).resolves.toEqual(malformedChunk('the body ended before its final chunk'));
    // A signed stream needs its trailer signature.
    await expect(failure(signedBody(['hello'], []).replace(/x-amz-trailer-signature:.*$/s, ''), SIGNED_TRAILER)).resolves.toEqual(malformedChunk('the body ended before its final chunk'));
  });

  it('refuses malformed trailers and a trailer signature on an unsigned stream', async () => {
    await expect(failure('0\r\nno-colon\r\n\r\n', UNSIGNED_TRAILER)).resolves.toEqual(malformedChunk('malformed trailer'));
    await expect(failure('0\r\n:value\r\n\r\n', UNSIGNED_TRAILER)).resolves.toEqual(malformedChunk('malformed trailer'));
    await expect(failure(`0\r\nx-amz-trailer-signature:${'a'.repeat(64)}\r\n\r\n`, UNSIGNED_TRAILER)).resolves.toEqual(malformedChunk('unexpected trailer signature'));
  });

  it('holds trailers to 16 KiB', async () => {
    const line = (i: number, length: number) => `x-amz-meta-${String(i).padStart(2, '0')}:${'v'.repeat(length - 14)}`;
    const lines = (lengths: number[]) => lengths.map((n, i) => `${line(i, n)}\r\n`).join('');
    expect(line(0, 4000)).toHaveLength(4000);
    await expect(decode(`0\r\n${lines([4000, 4000, 4000, 4000, 384])}\r\n`, UNSIGNED_TRAILER)).resolves.toMatchObject({ data: '' });
    await expect(failure(`0\r\n${lines([4000, 4000, 4000, 4000, 385])}\r\n`, UNSIGNED_TRAILER)).resolves.toEqual(malformedChunk('trailers too large'));
  });
});

describe('signed chunks', () => {
  it('verifies the chain of chunk signatures', async () => {
    await expect(decode(signedBody(['hello', ' world']), SIGNED, 11)).resolves.toMatchObject({ data: 'hello world' });
    await expect(decode(signedBody(['hello', ' world']), SIGNED, 11, 7)).resolves.toMatchObject({ data: 'hello world' });
  });

  it.each([0, 1, 2])('refuses a wrong signature on chunk %i', async (i) => {
    const body = signedBody(['hello', ' world'], undefined, (sigs) => {
      sigs[i] = hmacHex('other');
    });
    await expect(failure(body, SIGNED, 11)).resolves.toMatchObject({ kind: 'ChunkSignatureMismatch' });
  });

  it('refuses chunks swapped between positions (each signature chains the one before)', async () => {
    const good = signedBody(['hello', 'world']);
    const [a, b, rest] = good.split(/(?<=\r\n)(?=[0-9a-f]+;chunk-signature)/);
    await expect(failure(b! + a! + rest!, SIGNED)).resolves.toMatchObject({ kind: 'ChunkSignatureMismatch' });
  });

  it('takes chunk-signature as the last extension, spaces allowed', async () => {
    const body = signedBody(['hello']).replace(/;chunk-signature=/g, ';x=1; chunk-signature = ');
    await expect(decode(body, SIGNED)).resolves.toMatchObject({ data: 'hello' });
  });

  it.each([
    ['no extension', (b: string) => b.replace(/;chunk-signature=[0-9a-f]+/, ''), 'missing chunk-signature'],
    ['another extension last', (b: string) => b.replace(/(;chunk-signature=[0-9a-f]+)/, '$1;x=1'), 'missing chunk-signature'],
    ['no "="', (b: string) => b.replace(/;chunk-signature=[0-9a-f]+/, ';chunk-signature'), 'missing chunk-signature'],
    ['another name', (b: string) => b.replace(/;chunk-signature=/, ';chunk-signaturex='), 'missing chunk-signature'],
    ['an empty signature', (b: string) => b.replace(/;chunk-signature=[0-9a-f]+/, ';chunk-signature= '), 'empty chunk-signature'],
  ])('refuses %s', async (_, edit, reason) => {
    await expect(failure(edit(signedBody(['hello'])), SIGNED)).resolves.toEqual(malformedChunk(reason));
  });

  it('reports the string to sign and the signature provided', async () => {
    const body = signedBody(['hi'], undefined, (sigs) => {
      sigs[0] = 'b'.repeat(64);
    });
    const f = (await failure(body, SIGNED)) as { stringToSign: string; signatureProvided: string };
    expect(f.signatureProvided).toBe('b'.repeat(64));
    expect(f.stringToSign).toBe(`AWS4-HMAC-SHA256-PAYLOAD\n${verified.amzDate}\n${verified.scopeString}\n${verified.signature}\n${EMPTY}\n${sha('hi')}`);
  });
});

describe('signed trailers', () => {
  it('verify the trailer signature over the sorted trailers', async () => {
    const trailers: [string, string][] = [['x-amz-meta-z', '1'], ['x-amz-checksum-crc32', 'abc']];
    await expect(decode(signedBody(['hello'], trailers), SIGNED_TRAILER, 5)).resolves.toEqual({
      data: 'hello', trailers: { 'x-amz-meta-z': '1', 'x-amz-checksum-crc32': 'abc' }, decoded: 5,
    });
  });

  it('an empty trailer set is signed as a lone newline', async () => {
    await expect(decode(signedBody(['hello'], []), SIGNED_TRAILER)).resolves.toMatchObject({ data: 'hello', trailers: {} });
  });

  it('refuses a changed trailer, a missing signature, and a wrong one', async () => {
    const body = signedBody(['hello'], [['x-amz-checksum-crc32', 'abc']]);
    await expect(failure(body.replace('crc32:abc', 'crc32:abd'), SIGNED_TRAILER)).resolves.toMatchObject({ kind: 'ChunkSignatureMismatch' });
    await expect(failure(body.replace(/x-amz-trailer-signature:[0-9a-f]+\r\n/, ''), SIGNED_TRAILER)).resolves.toEqual(malformedChunk('missing x-amz-trailer-signature'));
    await expect(failure(body.replace(/x-amz-trailer-signature:[0-9a-f]+/, `x-amz-trailer-signature:${'0'.repeat(64)}`), SIGNED_TRAILER)).resolves.toMatchObject({ kind: 'ChunkSignatureMismatch' });
  });

  it('refuses a wrong signature on the final chunk before the trailers', async () => {
    const body = signedBody(['hello'], [['x-amz-checksum-crc32', 'abc']], (sigs) => {
      sigs[1] = hmacHex('other');
    });
    await expect(failure(body, SIGNED_TRAILER)).resolves.toMatchObject({ kind: 'ChunkSignatureMismatch' });
  });
});

describe('payloadVerifier and Sha256Verifier', () => {
  const request = (payload: VerifiedRequest['payload']) => ({ ...verified, payload }) as unknown as VerifiedRequest;

  it('picks nothing, a SHA-256 check or a decoder', () => {
    expect(payloadVerifier(request({ type: 'unsigned' } as VerifiedRequest['payload']), headerMap({}))).toBeNull();
    expect(payloadVerifier(request({ type: 'sha256', sha256: EMPTY } as VerifiedRequest['payload']), headerMap({}))).toBeInstanceOf(Sha256Verifier);
    const streaming = { type: 'streaming', signed: false, trailer: true } as unknown as VerifiedRequest['payload'];
    expect(payloadVerifier(request(streaming), headerMap({ 'x-amz-decoded-content-length': '5' }))).toBeInstanceOf(AwsChunkedDecoder);
    expect(payloadVerifier(request(streaming), headerMap({ 'x-amz-decoded-content-length': '9999999999999999' }))).toBeInstanceOf(AwsChunkedDecoder);
    expect(() => payloadVerifier(request(streaming), headerMap({}))).toThrow(expect.objectContaining({ failure: { kind: 'MissingDecodedContentLength' } }));
    for (const bad of ['', '-1', '5x', 'x5', '1e3', '10000000000000000']) {
      expect(() => payloadVerifier(request(streaming), headerMap({ 'x-amz-decoded-content-length': bad }))).toThrow(expect.objectContaining({ failure: malformedChunk('invalid x-amz-decoded-content-length') }));
    }
  });

  it('the decoder holds the stream to the declared length', async () => {
    const streaming = { type: 'streaming', signed: false, trailer: true } as unknown as VerifiedRequest['payload'];
    const decoder = payloadVerifier(request(streaming), headerMap({ 'x-amz-decoded-content-length': '4' }))!;
    await expect(Readable.from([Buffer.from('5\r\nhello\r\n0\r\n')]).pipe(decoder).toArray()).rejects.toMatchObject({ failure: { kind: 'IncompleteBody', expected: 4, received: 5 } });
  });

  it('Sha256Verifier passes the body through and fails at its end on a mismatch', async () => {
    const out = await Readable.from([Buffer.from('ab'), Buffer.from('c')]).pipe(new Sha256Verifier(sha('abc'))).toArray();
    expect(Buffer.concat(out).toString()).toBe('abc');
    await expect(Readable.from([Buffer.from('abd')]).pipe(new Sha256Verifier(sha('abc'))).toArray()).rejects.toMatchObject({
      failure: { kind: 'ContentSha256Mismatch', clientComputed: sha('abc'), computed: sha('abd') },
    });
  });
});
