import type { SigV4Error } from '@sealbox/sigv4';
import {
  AccessDenied,
  AuthorizationHeaderMalformed,
  AuthorizationQueryParametersError,
  IncompleteBody,
  InvalidAccessKeyId,
  InvalidArgument,
  InvalidRequest,
  InvalidToken,
  MissingContentLength,
  RequestTimeTooSkewed,
  S3Error,
  SignatureDoesNotMatch,
  XAmzContentSHA256Mismatch,
} from './errors';

const HEADER_PREFIX = 'The authorization header is malformed; ';
const QUERY_PREFIX = 'Error parsing the X-Amz-Credential parameter; ';
const CREDENTIAL_FORMAT = 'the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".';
const NEEDS_DATE = 'AWS authentication requires a valid Date or x-amz-date header';
const SHA256_VALUES =
  'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER or a valid sha256 value.';

/** ISO 8601 without milliseconds, as S3 writes ServerTime and Expires. */
const isoSeconds = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** S3 writes the bytes of StringToSign and CanonicalRequest as lower-case hex, one byte per token. */
const hexBytes = (text: string) => Buffer.from(text, 'utf8').toString('hex').replace(/(..)(?!$)/g, '$1 ');

/** A SigV4 failure in S3's words (code, status, message and extra elements as AWS sends them). */
export function s3AuthError(err: SigV4Error, accessKeyId?: string): S3Error {
  const f = err.failure;
  const malformed = (mechanism: 'header' | 'presigned', detail: string, fields: [string, string][] = []) =>
    mechanism === 'header'
      ? new AuthorizationHeaderMalformed(HEADER_PREFIX + detail, fields)
      : new AuthorizationQueryParametersError(QUERY_PREFIX + detail, fields);
  switch (f.kind) {
    case 'MissingAuthentication':
      return new AccessDenied();
    case 'MultipleAuthMechanisms':
      return new InvalidArgument(
        'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified',
        [['ArgumentName', 'Authorization'], ['ArgumentValue', f.authorization]],
      );
    case 'UnsupportedAlgorithm':
      if (f.mechanism === 'sigv2') {
        return new InvalidRequest('The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.');
      }
      if (f.mechanism === 'presigned') {
        return new AuthorizationQueryParametersError('X-Amz-Algorithm only supports "AWS4-HMAC-SHA256 and AWS4-ECDSA-P256-SHA256"');
      }
      return new InvalidArgument('Unsupported Authorization Type', [['ArgumentName', 'Authorization'], ['ArgumentValue', f.algorithm]]);
    case 'MalformedAuthorization':
      if (f.missing.some((m) => m !== 'Date')) {
        return new AuthorizationHeaderMalformed(
          HEADER_PREFIX + 'the authorization header requires three components: Credential, SignedHeaders, and Signature.',
        );
      }
      return new AccessDenied(NEEDS_DATE);
    case 'MalformedPresign':
      return new AuthorizationQueryParametersError(
        'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.',
      );
    case 'MalformedCredential':
      return malformed(f.mechanism, CREDENTIAL_FORMAT);
    case 'InvalidCredentialDate':
      return malformed(f.mechanism, `incorrect date format "${f.date}". This date in the credential must be in the format "yyyyMMdd".`);
    case 'WrongRegion':
      return malformed(f.mechanism, `the region '${f.region}' is wrong; expecting '${f.expected}'`, [['Region', f.expected]]);
    case 'InvalidRegion':
      return new AuthorizationHeaderMalformed(HEADER_PREFIX + `the region '${f.region}' is wrong`);
    case 'WrongService':
      return malformed(f.mechanism, `incorrect service "${f.service}". This endpoint belongs to "${f.expected}".`);
    case 'WrongTerminator':
      return malformed(f.mechanism, `incorrect terminal "${f.terminator}". This endpoint uses "aws4_request".`);
    case 'InvalidDate':
      return f.mechanism === 'header'
        ? new AccessDenied(NEEDS_DATE)
        : new AuthorizationQueryParametersError(`X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd'T'HHmmss'Z'"`);
    case 'CredentialDateMismatch':
      return new AuthorizationHeaderMalformed(
        HEADER_PREFIX + `Invalid credential date "${f.credentialDate}". This date is not the same as X-Amz-Date: "${f.amzDate.slice(0, 8)}".`,
      );
    case 'RequestTimeTooSkewed':
      return new RequestTimeTooSkewed(undefined, [
        ['RequestTime', f.requestTimeText],
        ['ServerTime', isoSeconds(f.serverTime)],
        ['MaxAllowedSkewMilliseconds', String(f.maxSkewMs)],
      ]);
    case 'InvalidExpires':
      return new AuthorizationQueryParametersError(
        f.reason === 'malformed'
          ? 'X-Amz-Expires should be a number'
          : f.reason === 'negative'
            ? 'X-Amz-Expires must be non-negative'
            : 'X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds',
      );
    case 'Expired':
      return new AccessDenied('Request has expired', [
        ['X-Amz-Expires', String(f.expiresSeconds)],
        ['Expires', isoSeconds(new Date(f.requestTime.getTime() + f.expiresSeconds * 1000))],
        ['ServerTime', isoSeconds(f.serverTime)],
      ]);
    case 'NotYetValid':
      return new AccessDenied('Request is not valid yet');
    case 'HostNotSigned':
      return new AccessDenied('There were headers present in the request which were not signed', [['HeadersNotSigned', 'host']]);
    case 'HeadersNotSigned':
      return new AccessDenied('There were headers present in the request which were not signed', [
        ['HeadersNotSigned', f.headers.join(', ')],
      ]);
    case 'InvalidAccessKeyId':
      return new InvalidAccessKeyId(undefined, [['AWSAccessKeyId', f.accessKeyId]]);
    case 'InvalidSecurityToken':
      return new InvalidToken();
    case 'SignatureDoesNotMatch':
      return new SignatureDoesNotMatch(undefined, [
        ['AWSAccessKeyId', f.accessKeyId],
        ['StringToSign', f.stringToSign],
        ['SignatureProvided', f.signatureProvided],
        ['StringToSignBytes', hexBytes(f.stringToSign)],
        ['CanonicalRequest', f.canonicalRequest],
        ['CanonicalRequestBytes', hexBytes(f.canonicalRequest)],
      ]);
    case 'ChunkSignatureMismatch':
      return new SignatureDoesNotMatch(undefined, [
        ...(accessKeyId ? ([['AWSAccessKeyId', accessKeyId]] as [string, string][]) : []),
        ['StringToSign', f.stringToSign],
        ['SignatureProvided', f.signatureProvided],
        ['StringToSignBytes', hexBytes(f.stringToSign)],
      ]);
    case 'MissingContentSha256':
      return new InvalidRequest('Missing required header for this request: x-amz-content-sha256');
    case 'InvalidContentSha256':
      return new InvalidArgument(SHA256_VALUES, [['ArgumentName', 'x-amz-content-sha256'], ['ArgumentValue', f.value]]);
    case 'ContentSha256Mismatch':
      return new XAmzContentSHA256Mismatch(undefined, [
        ['ClientComputedContentSHA256', f.clientComputed],
        ['S3ComputedContentSHA256', f.computed],
      ]);
    case 'MissingDecodedContentLength':
      return new MissingContentLength();
    case 'MalformedChunk':
      return new IncompleteBody();
    case 'IncompleteBody':
      return new IncompleteBody('You did not provide the number of bytes specified by the Content-Length HTTP header', [
        ['NumberBytesExpected', String(f.expected)],
        ['NumberBytesProvided', String(f.received)],
      ]);
  }
}
