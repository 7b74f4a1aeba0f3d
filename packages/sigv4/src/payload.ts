import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { ALGORITHM, EMPTY_SHA256, header, hmacHex, sha256Hex, type HeaderMap } from './canonical';
import { SigV4Error } from './errors';
import { signatureMatches, type VerifiedRequest } from './verify';

/** Passes a body through, failing at its end when it does not hash to the signed SHA-256. */
export class Sha256Verifier extends Transform {
  private readonly hash = createHash('sha256');

  constructor(private readonly expected: string) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.hash.update(chunk);
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    const computed = this.hash.digest('hex');
    if (computed !== this.expected) {
      done(new SigV4Error({ kind: 'ContentSha256Mismatch', clientComputed: this.expected, computed }));
    } else done();
  }
}

const MAX_LINE = 4096;
const MAX_TRAILER_BYTES = 16 * 1024;
const CRLF = Buffer.from('\r\n');

type State = 'header' | 'data' | 'data-crlf' | 'trailer' | 'done';

/**
 * Decodes an `aws-chunked` body as it streams, never holding more than one header line:
 *   hex-size[;chunk-signature=sig] CRLF data CRLF ... 0[;chunk-signature=sig] CRLF [trailers] CRLF
 * Signed forms chain every chunk's signature from the seed signature of the request; the signed
 * trailer form ends with `x-amz-trailer-signature`. Trailers are exposed once the stream ends.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html
 */
export class AwsChunkedDecoder extends Transform {
  readonly trailers = new Map<string, string>();
  private state: State = 'header';
  private line: Buffer[] = [];
  private lineLength = 0;
  private remaining = 0;
  private chunkSize = 0;
  private chunkSignature: string | undefined;
  private chunkHash: Hash | undefined;
  private previousSignature: string;
  private crlfSeen = 0;
  private trailerBytes = 0;
  private trailerLines: string[] = [];
  private decodedLength = 0;

  constructor(
    private readonly verified: Pick<VerifiedRequest, 'signature' | 'signingKey' | 'amzDate' | 'scopeString'>,
    private readonly mode: { signed: boolean; trailer: boolean },
    private readonly expectedLength: number | undefined,
  ) {
    super();
    this.previousSignature = verified.signature;
  }

  get bytesDecoded(): number {
    return this.decodedLength;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    try {
      this.consume(chunk);
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  override _flush(done: TransformCallback): void {
    // An unsigned stream may end right after `0\r\n` when it has no trailer.
    if (this.state === 'trailer' && !this.mode.signed && this.trailers.size === 0 && this.lineLength === 0) {
      try {
        this.finish();
      } catch (err) {
        done(err as Error);
        return;
      }
    }
    if (this.state !== 'done') {
      done(
        this.expectedLength !== undefined && this.decodedLength < this.expectedLength
          ? new SigV4Error({ kind: 'IncompleteBody', expected: this.expectedLength, received: this.decodedLength })
          : malformed('the body ended before its final chunk'),
      );
      return;
    }
    done();
  }

  private consume(buf: Buffer): void {
    let i = 0;
    while (i < buf.length) {
      switch (this.state) {
        case 'header':
        case 'trailer': {
          const end = buf.indexOf(10, i); // '\n'
          const stop = end < 0 ? buf.length : end + 1;
          this.lineLength += stop - i;
          if (this.lineLength > MAX_LINE) throw malformed('chunk header line too long');
          this.line.push(buf.subarray(i, stop));
          i = stop;
          if (end >= 0) {
            const raw = Buffer.concat(this.line, this.lineLength);
            this.line = [];
            this.lineLength = 0;
            if (raw.length < 2 || raw[raw.length - 2] !== 13) throw malformed('chunk lines must end with CRLF');
            const text = raw.toString('latin1', 0, raw.length - 2);
            if (this.state === 'header') this.startChunk(text);
            else this.trailerLine(text);
          }
          break;
        }
        case 'data': {
          const take = Math.min(this.remaining, buf.length - i);
          const slice = buf.subarray(i, i + take);
          this.chunkHash?.update(slice);
          this.remaining -= take;
          this.decodedLength += take;
          i += take;
          if (take > 0) this.push(slice);
          if (this.remaining === 0) this.state = 'data-crlf';
          break;
        }
        case 'data-crlf': {
          if (buf[i] !== CRLF[this.crlfSeen]) throw malformed('chunk data must be followed by CRLF');
          i++;
          if (++this.crlfSeen === 2) {
            this.crlfSeen = 0;
            this.endChunk();
          }
          break;
        }
        case 'done':
          // AWS ignores anything after the final CRLF.
          return;
      }
    }
  }

  private startChunk(text: string): void {
    // `size[;name=value]...`; AWS tolerates spaces around the separators.
    const [sizePart, ...extensions] = text.split(';');
    const sizeText = sizePart!.trim();
    if (!/^[0-9a-fA-F]{1,16}$/.test(sizeText)) throw malformed(`invalid chunk size '${sizeText.slice(0, 32)}'`);
    const size = parseInt(sizeText, 16);
    if (this.expectedLength !== undefined && this.decodedLength + size > this.expectedLength) {
      throw new SigV4Error({ kind: 'IncompleteBody', expected: this.expectedLength, received: this.decodedLength + size });
    }
    this.chunkSignature = undefined;
    if (this.mode.signed) {
      const last = extensions[extensions.length - 1];
      const eq = last?.indexOf('=') ?? -1;
      if (!last || eq < 0 || last.slice(0, eq).trim() !== 'chunk-signature') throw malformed('missing chunk-signature');
      this.chunkSignature = last.slice(eq + 1).trim();
      if (!this.chunkSignature) throw malformed('empty chunk-signature');
      this.chunkHash = createHash('sha256');
    }
    this.chunkSize = size;
    this.remaining = size;
    if (size === 0 && this.mode.trailer) {
      this.verifyChunk();
      this.state = 'trailer';
    } else {
      this.state = size === 0 ? 'data-crlf' : 'data';
    }
  }

  private endChunk(): void {
    if (this.chunkSize === 0) {
      this.verifyChunk();
      this.finish();
      return;
    }
    this.verifyChunk();
    this.state = 'header';
  }

  private verifyChunk(): void {
    if (!this.mode.signed) return;
    const v = this.verified;
    const toSign = `${ALGORITHM}-PAYLOAD\n${v.amzDate}\n${v.scopeString}\n${this.previousSignature}\n${EMPTY_SHA256}\n${this.chunkHash!.digest('hex')}`;
    const expected = hmacHex(v.signingKey, toSign);
    if (!signatureMatches(expected, this.chunkSignature!)) {
      throw new SigV4Error({ kind: 'ChunkSignatureMismatch', stringToSign: toSign, signatureProvided: this.chunkSignature! });
    }
    this.previousSignature = this.chunkSignature!;
  }

  private trailerLine(text: string): void {
    this.trailerBytes += text.length;
    if (this.trailerBytes > MAX_TRAILER_BYTES) throw malformed('trailers too large');
    if (text === '') {
      this.verifyTrailers();
      this.finish();
      return;
    }
    const colon = text.indexOf(':');
    if (colon <= 0) throw malformed('malformed trailer');
    const name = text.slice(0, colon).trim().toLowerCase();
    const value = text.slice(colon + 1).trim();
    if (name === 'x-amz-trailer-signature') {
      if (!this.mode.signed) throw malformed('unexpected trailer signature');
      this.trailers.set(name, value);
    } else {
      this.trailerLines.push(`${name}:${value}\n`);
      this.trailers.set(name, value);
    }
  }

  private verifyTrailers(): void {
    if (!this.mode.signed) return;
    const provided = this.trailers.get('x-amz-trailer-signature');
    this.trailers.delete('x-amz-trailer-signature');
    if (provided === undefined) throw malformed('missing x-amz-trailer-signature');
    const v = this.verified;
    // Canonical trailers: `name:value\n` sorted by name; an empty set is a lone newline.
    const canonical = this.trailerLines.length ? [...this.trailerLines].sort().join('') : '\n';
    const toSign = `${ALGORITHM}-TRAILER\n${v.amzDate}\n${v.scopeString}\n${this.previousSignature}\n${sha256Hex(canonical)}`;
    if (!signatureMatches(hmacHex(v.signingKey, toSign), provided)) {
      throw new SigV4Error({ kind: 'ChunkSignatureMismatch', stringToSign: toSign, signatureProvided: provided });
    }
  }

  private finish(): void {
    if (this.expectedLength !== undefined && this.decodedLength !== this.expectedLength) {
      throw new SigV4Error({ kind: 'IncompleteBody', expected: this.expectedLength, received: this.decodedLength });
    }
    this.state = 'done';
  }
}

function malformed(reason: string): SigV4Error {
  return new SigV4Error({ kind: 'MalformedChunk', reason }, reason);
}

/**
 * The stream that yields a verified request's payload: a SHA-256 check, an aws-chunked decoder,
 * or null when the payload is unsigned (nothing to check).
 */
export function payloadVerifier(verified: VerifiedRequest, headers: HeaderMap): Sha256Verifier | AwsChunkedDecoder | null {
  const payload = verified.payload;
  switch (payload.type) {
    case 'unsigned':
      return null;
    case 'sha256':
      return new Sha256Verifier(payload.sha256);
    case 'streaming': {
      const declared = header(headers, 'x-amz-decoded-content-length');
      if (declared === undefined) throw new SigV4Error({ kind: 'MissingDecodedContentLength' });
      if (!/^\d{1,16}$/.test(declared)) throw malformed('invalid x-amz-decoded-content-length');
      return new AwsChunkedDecoder(verified, payload, Number(declared));
    }
  }
}
