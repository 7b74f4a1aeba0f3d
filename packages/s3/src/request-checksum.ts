import type { IncomingHttpHeaders } from 'node:http';
import { checksumHeader, createChecksum, decodeChecksum, parseChecksumAlgorithm, type Checksum, type ChecksumAlgorithm } from './checksums';
import { S3Error } from './errors';
import { header } from './http-util';

/**
 * The flexible checksum a write carries: a x-amz-checksum-<alg> header, a trailer declared by
 * x-amz-trailer (aws-chunked bodies), or just x-amz-sdk-checksum-algorithm (compute and keep).
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html
 */
export interface RequestChecksum {
  algorithm: ChecksumAlgorithm;
  hasher: Checksum;
  /** Checks the computed value against what the client sent; returns it as base64. */
  verify(trailers?: ReadonlyMap<string, string>): string;
}

/**
 * With `fallback`, a write that names no algorithm is checksummed with it anyway: S3 has stored
 * a CRC64NVME of every new object since 2025.
 */
export function requestChecksum(headers: IncomingHttpHeaders, fallback?: ChecksumAlgorithm): RequestChecksum | undefined {
  const sent = Object.keys(headers).filter((h) => h.startsWith('x-amz-checksum-') && h !== 'x-amz-checksum-type' && h !== 'x-amz-checksum-algorithm');
  if (sent.length > 1) {
    throw new S3Error('InvalidRequest', 400, 'Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.');
  }
  // split() always gives at least one element.
  const trailer = header(headers, 'x-amz-trailer')?.split(',')[0]!.trim();
  const fromHeader = sent[0] ? parseChecksumAlgorithm(sent[0].slice('x-amz-checksum-'.length)) : undefined;
  if (sent[0] && !fromHeader) throw new S3Error('InvalidRequest', 400, 'The algorithm type you specified in x-amz-checksum- header is invalid.');
  const fromTrailer = trailer?.startsWith('x-amz-checksum-') ? parseChecksumAlgorithm(trailer.slice('x-amz-checksum-'.length)) : undefined;
  if (trailer && !fromTrailer) throw new S3Error('InvalidRequest', 400, 'The value specified in the x-amz-trailer header is not supported');
  const sdkText = header(headers, 'x-amz-sdk-checksum-algorithm');
  const fromSdk = sdkText === undefined ? undefined : parseChecksumAlgorithm(sdkText);
  if (sdkText !== undefined && !fromSdk) {
    throw new S3Error('InvalidRequest', 400, 'Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]');
  }
  const algorithm = fromHeader ?? fromTrailer ?? fromSdk ?? fallback;
  if (!algorithm) return undefined;
  const name = checksumHeader(algorithm);
  let expected: Buffer | undefined;
  if (fromHeader) {
    expected = decodeChecksum(algorithm, header(headers, name)!);
    if (!expected) throw new S3Error('InvalidRequest', 400, `Value for ${name} header is invalid.`);
  }
  const hasher = createChecksum(algorithm);
  return {
    algorithm,
    hasher,
    verify(trailers) {
      let want = expected;
      if (!want && fromTrailer) {
        const value = trailers?.get(name);
        if (value === undefined) {
          throw new S3Error('MalformedTrailerError', 400, 'The request contained trailing data that was not well-formed or did not conform to our published schema.');
        }
        want = decodeChecksum(algorithm, value);
        if (!want) throw new S3Error('InvalidRequest', 400, `Value for ${name} trailing header is invalid.`);
      }
      const computed = hasher.digest();
      if (want && !want.equals(computed)) {
        throw new S3Error('BadDigest', 400, `The ${algorithm} you specified did not match the calculated checksum.`);
      }
      return computed.toString('base64');
    },
  };
}
