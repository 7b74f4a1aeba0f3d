import { timingSafeEqual } from 'node:crypto';
import {
  ALGORITHM,
  canonicalRequest,
  header,
  hmacHex,
  parseAmzDate,
  stringToSign,
  toAmzDate,
  type HeaderMap,
} from './canonical';
import type { CredentialProvider, Credentials } from './credentials';
import { canonicalQuery, canonicalUri, parseQuery, reencodedS3Uri, splitTarget, type QueryParam } from './encoding';
import { fail } from './errors';
import { unsignedAmzHeaders } from './signed-headers';
import { SigningKeyCache } from './signing-key';

/** The request as it arrived: method, raw request target (path and query, still encoded), headers. */
export interface SignedRequest {
  method: string;
  target: string;
  headers: HeaderMap;
  /**
   * The header values are bytes as sent, one character per byte (what Node gives: Latin-1
   * strings). The canonical request is then hashed over those very bytes, as AWS hashes it: a
   * client that sends UTF-8 text in a header (botocore does, for x-amz-meta-* values) signs its
   * UTF-8 bytes, which are what arrived. Otherwise header values are text, hashed as UTF-8.
   */
  rawHeaderBytes?: boolean;
}

export interface VerifyOptions {
  /** The signing name the credential scope must carry: `s3`, `kms`. */
  service: string;
  /**
   * The region the scope must name (S3: the bucket's region). When undefined any well-formed
   * region is accepted and returned in the scope (KMS serves every region on one endpoint).
   */
  region?: string;
  now: Date;
  /**
   * Places the client's timestamp on the server's timeline (a virtual clock that was advanced);
   * identity when absent.
   */
  clientTime?: (signed: Date) => Date;
  /**
   * For header auth only: the latest place on the server's timeline the signed time may stand for
   * (default: `clientTime`'s). A timestamp from the second or two before a clock advance may have
   * been signed after it by a client whose clock lags (the SDKs set theirs from the whole-second
   * Date header); within the skew window on either reading, the request is current. Presigned
   * URLs keep the earliest reading: one signed before an advance has aged by it.
   */
  clientTimeLatest?: (signed: Date) => Date;
  credentials: CredentialProvider;
  /** Hex SHA-256 of a body already read (JSON services). S3 bodies are checked while streaming. */
  bodySha256?: string;
  signingKeys?: SigningKeyCache;
  /** 15 minutes, as AWS allows. */
  maxSkewMs?: number;
  /**
   * S3's rule for header authentication: every `x-amz-*` header the request carries must be in
   * SignedHeaders (x-amz-content-sha256 excepted), or the request fails with `HeadersNotSigned`.
   * Off for KMS: AWS documents the rule for S3 only, and its SigV4 test suite (post-sts-header-after)
   * adds X-Amz-Security-Token after signing, which other services accept. Presigned URLs follow
   * their own rule whatever this says.
   * https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html
   */
  requireSignedAmzHeaders?: boolean;
}

export type PayloadMode =
  /** The body must hash to `sha256` (checked by `verifyPayload`). */
  | { type: 'sha256'; sha256: string }
  | { type: 'unsigned' }
  /** aws-chunked: decode with `decodeChunked`. */
  | { type: 'streaming'; signed: boolean; trailer: boolean };

export interface Scope {
  date: string;
  region: string;
  service: string;
}

export interface VerifiedRequest {
  mechanism: 'header' | 'presigned';
  credentials: Credentials;
  scope: Scope;
  /** `YYYYMMDD/region/service/aws4_request` */
  scopeString: string;
  amzDate: string;
  signature: string;
  signingKey: Buffer;
  payload: PayloadMode;
  /** Decoded query parameters, in the order sent. */
  query: QueryParam[];
}

export const MAX_SKEW_MS = 15 * 60 * 1000;
export const MAX_PRESIGN_EXPIRES = 604800;

const defaultCache = new SigningKeyCache();

const STREAMING: Record<string, { signed: boolean; trailer: boolean }> = {
  'STREAMING-AWS4-HMAC-SHA256-PAYLOAD': { signed: true, trailer: false },
  'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER': { signed: true, trailer: true },
  'STREAMING-UNSIGNED-PAYLOAD-TRAILER': { signed: false, trailer: true },
};

interface AuthParams {
  mechanism: 'header' | 'presigned';
  credential: string;
  signedHeaders: string[];
  signature: string;
  amzDate: string;
  /** The date as sent: X-Amz-Date, or the Date header it was derived from. */
  dateText: string;
  expires?: string;
  securityToken?: string;
}

/**
 * Verifies an AWS Signature Version 4 request (header or presigned URL) and returns who signed it,
 * or null when the request carries no authentication at all (the service decides whether
 * anonymous access is allowed). Throws `SigV4Error` otherwise.
 */
export function verifyRequest(req: SignedRequest, options: VerifyOptions): VerifiedRequest | null {
  const { path, query: rawQuery } = splitTarget(req.target);
  const query = parseQuery(rawQuery);
  const auth = readAuthParams(req.headers, query);
  if (!auth) return null;

  const scope = parseCredential(auth, options);
  const expires = auth.expires === undefined ? undefined : parseExpires(auth.expires);
  const signedTime = parseAmzDate(auth.amzDate);
  if (!signedTime) fail({ kind: 'InvalidDate', value: auth.amzDate, mechanism: auth.mechanism });
  const requestTime = options.clientTime ? options.clientTime(signedTime) : signedTime;
  if (scope.date !== auth.amzDate.slice(0, 8)) {
    fail({ kind: 'CredentialDateMismatch', credentialDate: scope.date, amzDate: auth.amzDate });
  }
  // JSON services judge the time before the key and the signature; S3 checks the access key and
  // the signature first and reports RequestTimeTooSkewed only for an otherwise valid request.
  const timeFirst = options.service !== 's3';
  if (timeFirst) checkTime(signedTime, requestTime, expires, auth.dateText, options);

  const credentials = options.credentials.get(scope.accessKeyId);
  if (!credentials) fail({ kind: 'InvalidAccessKeyId', accessKeyId: scope.accessKeyId });
  if (credentials.sessionToken !== undefined ? auth.securityToken !== credentials.sessionToken : auth.securityToken !== undefined) {
    fail({ kind: 'InvalidSecurityToken' });
  }
  if (!auth.signedHeaders.includes('host')) fail({ kind: 'HostNotSigned' });
  // Presigned URLs: no x-amz-* header at all may ride along unsigned. Header auth: S3's rule, when
  // the service asks for it.
  const unsigned =
    auth.mechanism === 'presigned'
      ? unsignedAmzHeaders(req.headers, auth.signedHeaders, 'none')
      : options.requireSignedAmzHeaders
        ? unsignedAmzHeaders(req.headers, auth.signedHeaders, 'content-sha256')
        : [];
  if (unsigned.length) fail({ kind: 'HeadersNotSigned', headers: unsigned });

  const payload = payloadMode(req.headers, auth.mechanism, options);
  const payloadHash = payload.type === 'sha256' ? payload.sha256 : header(req.headers, 'x-amz-content-sha256') ?? 'UNSIGNED-PAYLOAD';
  const scopeString = `${scope.date}/${scope.region}/${scope.service}/aws4_request`;
  const signingKey = (options.signingKeys ?? defaultCache).get(credentials.secretAccessKey, scope.date, scope.region, scope.service);
  const cquery = canonicalQuery(query, auth.mechanism === 'presigned' ? 'X-Amz-Signature' : undefined);
  const signatureFor = (uri: string) => {
    const text = canonicalRequest(req.method, uri, cquery, req.headers, auth.signedHeaders, payloadHash);
    // Method, URI and query are ASCII (percent-encoded); only header values can carry other bytes.
    const bytes = req.rawHeaderBytes ? Buffer.from(text, 'latin1') : undefined;
    const toSign = stringToSign(auth.amzDate, scopeString, bytes ?? text);
    // Reported back (SignatureDoesNotMatch) as the text those bytes spell.
    const canonical = bytes ? bytes.toString('utf8') : text;
    return { canonical, toSign, signature: hmacHex(signingKey, toSign) };
  };
  const uri = canonicalUri(path, options.service);
  const first = signatureFor(uri);
  if (!signatureMatches(first.signature, auth.signature)) {
    // S3 clients that send a character such as '!' unencoded still sign it encoded.
    const alternative = options.service === 's3' ? reencodedS3Uri(path) : uri;
    if (alternative === uri || !signatureMatches(signatureFor(alternative).signature, auth.signature)) {
      fail({
        kind: 'SignatureDoesNotMatch',
        accessKeyId: scope.accessKeyId,
        canonicalRequest: first.canonical,
        stringToSign: first.toSign,
        signatureProvided: auth.signature,
      });
    }
  }
  if (!timeFirst) checkTime(signedTime, requestTime, expires, auth.dateText, options);

  return {
    mechanism: auth.mechanism,
    credentials,
    scope: { date: scope.date, region: scope.region, service: scope.service },
    scopeString,
    amzDate: auth.amzDate,
    signature: auth.signature,
    signingKey,
    payload,
    query,
  };
}

/** Constant-time comparison of two signatures (their length is not secret). */
export function signatureMatches(expected: string, provided: string): boolean {
  const a = Buffer.from(expected, 'latin1');
  const b = Buffer.from(provided, 'latin1');
  return a.length === b.length && timingSafeEqual(a, b);
}

function readAuthParams(headers: HeaderMap, query: QueryParam[]): AuthParams | null {
  const authorization = header(headers, 'authorization');
  const q = (name: string) => query.find((p) => p.name === name)?.value;
  const queryAlgorithm = q('X-Amz-Algorithm');
  const sigV2Query = q('AWSAccessKeyId') !== undefined && q('Signature') !== undefined;
  // An empty Authorization header counts as none (anonymous), as S3 treats it.
  const hasAuthorization = authorization !== undefined && authorization !== '';
  if (hasAuthorization && (queryAlgorithm !== undefined || sigV2Query)) fail({ kind: 'MultipleAuthMechanisms', authorization });

  if (hasAuthorization) {
    const space = authorization.indexOf(' ');
    const algorithm = space < 0 ? authorization : authorization.slice(0, space);
    if (algorithm !== ALGORITHM) fail({ kind: 'UnsupportedAlgorithm', algorithm, mechanism: algorithm === 'AWS' ? 'sigv2' : 'header' });
    const fields = new Map<string, string>();
    for (const part of authorization.slice(space + 1).split(',')) {
      const eq = part.indexOf('=');
      if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
    }
    const amzDate = header(headers, 'x-amz-date') ?? dateHeaderAsAmzDate(header(headers, 'date'));
    const missing = ['Credential', 'Signature', 'SignedHeaders'].filter((name) => !fields.get(name));
    if (amzDate === undefined) missing.push('Date');
    if (missing.length) fail({ kind: 'MalformedAuthorization', missing, authorization });
    return {
      mechanism: 'header',
      credential: fields.get('Credential')!,
      signedHeaders: fields.get('SignedHeaders')!.split(';'),
      signature: fields.get('Signature')!,
      amzDate: amzDate!,
      dateText: header(headers, 'x-amz-date') ?? header(headers, 'date')!,
      securityToken: header(headers, 'x-amz-security-token'),
    };
  }

  if (queryAlgorithm !== undefined) {
    if (queryAlgorithm !== ALGORITHM) fail({ kind: 'UnsupportedAlgorithm', algorithm: queryAlgorithm, mechanism: 'presigned' });
    const required = ['X-Amz-Credential', 'X-Amz-Signature', 'X-Amz-SignedHeaders', 'X-Amz-Date', 'X-Amz-Expires'];
    const missing = required.filter((name) => q(name) === undefined);
    if (missing.length) fail({ kind: 'MalformedPresign', missing });
    return {
      mechanism: 'presigned',
      credential: q('X-Amz-Credential')!,
      signedHeaders: q('X-Amz-SignedHeaders')!.split(';'),
      signature: q('X-Amz-Signature')!,
      amzDate: q('X-Amz-Date')!,
      dateText: q('X-Amz-Date')!,
      expires: q('X-Amz-Expires')!,
      securityToken: q('X-Amz-Security-Token') ?? header(headers, 'x-amz-security-token'),
    };
  }

  if (sigV2Query) fail({ kind: 'UnsupportedAlgorithm', algorithm: 'AWS', mechanism: 'sigv2' });
  return null;
}

/** An RFC 7231 `Date` header stands in for X-Amz-Date when that is absent. */
function dateHeaderAsAmzDate(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const time = Date.parse(value);
  return Number.isNaN(time) ? value : toAmzDate(new Date(time));
}

const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;

function parseCredential(auth: AuthParams, options: VerifyOptions) {
  const { credential, mechanism } = auth;
  const parts = credential.split('/');
  if (parts.length !== 5 || !parts[0]) fail({ kind: 'MalformedCredential', credential, mechanism });
  const [accessKeyId, date, region, service, terminator] = parts as [string, string, string, string, string];
  if (!/^\d{8}$/.test(date)) fail({ kind: 'InvalidCredentialDate', date, amzDate: auth.amzDate, mechanism });
  if (options.region !== undefined && region !== options.region) {
    fail({ kind: 'WrongRegion', region, expected: options.region, mechanism });
  }
  if (options.region === undefined && !REGION.test(region)) fail({ kind: 'InvalidRegion', region });
  if (service !== options.service) fail({ kind: 'WrongService', service, expected: options.service, mechanism });
  if (terminator !== 'aws4_request') fail({ kind: 'WrongTerminator', terminator, mechanism });
  return { accessKeyId, date, region, service };
}

function parseExpires(raw: string): number {
  if (!/^-?\d+$/.test(raw)) fail({ kind: 'InvalidExpires', value: raw, reason: 'malformed' });
  const expires = Number(raw);
  if (expires < 0) fail({ kind: 'InvalidExpires', value: raw, reason: 'negative' });
  if (expires > MAX_PRESIGN_EXPIRES) fail({ kind: 'InvalidExpires', value: raw, reason: 'too-large' });
  return expires;
}

/**
 * Header auth: within the skew window. Presigned: not yet expired, and not dated in the future.
 * Judged on the server's timeline (`requestTime`); errors speak in the client's terms: its signed
 * time, and the server's time shifted back the same way.
 */
function checkTime(signedTime: Date, requestTime: Date, expires: number | undefined, dateText: string, options: VerifyOptions): void {
  const now = options.now.getTime();
  const serverTime = new Date(now - (requestTime.getTime() - signedTime.getTime()));
  const maxSkewMs = options.maxSkewMs ?? MAX_SKEW_MS;
  if (expires === undefined) {
    const latest = options.clientTimeLatest ? options.clientTimeLatest(signedTime).getTime() : requestTime.getTime();
    if (Math.abs(now - requestTime.getTime()) > maxSkewMs && Math.abs(now - latest) > maxSkewMs) {
      fail({ kind: 'RequestTimeTooSkewed', requestTime: signedTime, requestTimeText: dateText, serverTime, maxSkewMs });
    }
    return;
  }
  if (requestTime.getTime() - now > maxSkewMs) fail({ kind: 'NotYetValid', requestTime: signedTime, serverTime });
  if (now > requestTime.getTime() + expires * 1000) {
    fail({ kind: 'Expired', requestTime: signedTime, expiresSeconds: expires, serverTime });
  }
}

function payloadMode(headers: HeaderMap, mechanism: 'header' | 'presigned', options: VerifyOptions): PayloadMode {
  const declared = header(headers, 'x-amz-content-sha256');
  if (options.bodySha256 !== undefined) {
    // JSON services hash the body they read; a declared hash must agree with it.
    if (declared !== undefined && declared !== options.bodySha256) {
      fail({ kind: 'ContentSha256Mismatch', clientComputed: declared, computed: options.bodySha256 });
    }
    return { type: 'sha256', sha256: options.bodySha256 };
  }
  if (declared === undefined) {
    if (mechanism === 'presigned') return { type: 'unsigned' };
    fail({ kind: 'MissingContentSha256' });
  }
  if (declared === 'UNSIGNED-PAYLOAD') return { type: 'unsigned' };
  if (/^[0-9a-f]{64}$/.test(declared)) return { type: 'sha256', sha256: declared };
  const streaming = STREAMING[declared];
  if (streaming) {
    if (mechanism === 'presigned') fail({ kind: 'InvalidContentSha256', value: declared });
    return { type: 'streaming', ...streaming };
  }
  fail({ kind: 'InvalidContentSha256', value: declared });
}
