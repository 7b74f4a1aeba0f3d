// verifyRequest()'s refusals one by one (packages/sigv4/src/verify.ts): each failure kind with
// its exact details, the boundaries of the time checks, the credential scope, the payload modes,
// and what is returned for a valid request. Valid requests are signed by the AWS SDK's own signer.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html
import { createHash } from 'node:crypto';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { SigV4Error, StaticCredentialProvider, headerMap, uriEncode, verifyRequest, type SignedRequest, type VerifyOptions } from '../src';

const creds = { accessKeyId: 'AKIDSEALBOX', secretAccessKey: 'sealbox-secret', accountId: '123456789012', principalArn: 'arn:aws:iam::123456789012:root' };
const tokenCreds = { accessKeyId: 'ASIATEMP', secretAccessKey: 'temp-secret', sessionToken: 'tok', accountId: '123456789012', principalArn: 'arn:aws:sts::123456789012:assumed-role/r/s' };
const credentials = new StaticCredentialProvider([creds, tokenCreds]);
const NOW = new Date('2026-03-01T10:00:00Z');
const AMZ = '20260301T100000Z';
const sha256 = (data: string) => createHash('sha256').update(data).digest('hex');
const s3: VerifyOptions = { service: 's3', region: 'eu-west-1', now: NOW, credentials, requireSignedAmzHeaders: true };
const kms: VerifyOptions = { service: 'kms', now: NOW, credentials, bodySha256: sha256('{}') };

function failure(req: SignedRequest, options: VerifyOptions) {
  try {
    verifyRequest(req, options);
  } catch (e) {
    expect(e).toBeInstanceOf(SigV4Error);
    return (e as SigV4Error).failure;
  }
  throw new Error('verified without an error');
}

const raw = (headers: Record<string, string>, target = '/bucket/key', method = 'GET'): SignedRequest => ({ method, target, headers: headerMap(headers) });
const auth = (credential: string, extra = '') => `AWS4-HMAC-SHA256 Credential=${credential}, SignedHeaders=host;x-amz-date, Signature=${'0'.repeat(64)}${extra}`;
const CRED = `AKIDSEALBOX/20260301/eu-west-1/s3/aws4_request`;

async function signHeader(opts: { service?: string; region?: string; headers?: Record<string, string>; date?: Date; body?: string; path?: string; c?: typeof creds } = {}): Promise<SignedRequest> {
  const service = opts.service ?? 's3';
  const signer = new SignatureV4({ credentials: opts.c ?? creds, region: opts.region ?? 'eu-west-1', service, sha256: Sha256, uriEscapePath: service !== 's3', applyChecksum: service === 's3' });
  const path = opts.path ?? '/bucket/key';
  const signed = await signer.sign(
    { method: 'PUT', protocol: 'https:', hostname: 'sealbox.test', path, query: {}, headers: { host: 'sealbox.test', ...opts.headers }, body: opts.body ?? '' },
    { signingDate: opts.date ?? NOW },
  );
  return { method: 'PUT', target: path, headers: headerMap(signed.headers as Record<string, string>) };
}

/** A presigned URL as the S3 presigner makes it (UNSIGNED-PAYLOAD, not sent); `signedHeader` is signed and sent. */
async function presign(expiresIn = 300, date = NOW, signedHeader?: [string, string]): Promise<SignedRequest> {
  const signer = new SignatureV4({ credentials: creds, region: 'eu-west-1', service: 's3', sha256: Sha256, uriEscapePath: false });
  const headers: Record<string, string> = { host: 'sealbox.test', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' };
  if (signedHeader) headers[signedHeader[0]] = signedHeader[1];
  const signed = await signer.presign(
    { method: 'GET', protocol: 'https:', hostname: 'sealbox.test', path: '/bucket/key', query: {}, headers },
    { signingDate: date, expiresIn, unhoistableHeaders: new Set(signedHeader ? [signedHeader[0]] : []) },
  );
  const query = Object.entries(signed.query ?? {}).map(([k, v]) => `${uriEncode(k)}=${uriEncode(String(v))}`).join('&');
  return { method: 'GET', target: `/bucket/key?${query}`, headers: headerMap({ host: 'sealbox.test', ...(signedHeader ? { [signedHeader[0]]: signedHeader[1] } : {}) }) };
}

const withQuery = (req: SignedRequest, edit: (q: URLSearchParams) => void): SignedRequest => {
  const [path, query] = req.target.split('?');
  const q = new URLSearchParams(query);
  edit(q);
  return { ...req, target: `${path}?${[...q].map(([k, v]) => `${uriEncode(k)}=${uriEncode(v)}`).join('&')}` };
};
const withHeaders = (req: SignedRequest, extra: Record<string, string>, drop: string[] = []): SignedRequest => ({
  ...req,
  headers: headerMap([...[...req.headers].filter(([n]) => !drop.includes(n)).flatMap(([n, vs]) => vs.map((v) => [n, v] as [string, string])), ...Object.entries(extra)]),
});

describe('which authentication a request carries', () => {
  it('none: anonymous (null), also for an empty Authorization header', () => {
    expect(verifyRequest(raw({ host: 'h' }), s3)).toBeNull();
    expect(verifyRequest(raw({ host: 'h', authorization: '' }), s3)).toBeNull();
    expect(verifyRequest(raw({ host: 'h' }, '/b/k?AWSAccessKeyId=AK'), s3)).toBeNull();
    expect(verifyRequest(raw({ host: 'h' }, '/b/k?Signature=x'), s3)).toBeNull();
  });

  it('both a header and a query signature: MultipleAuthMechanisms', () => {
    const authorization = auth(CRED);
    expect(failure(raw({ authorization }, '/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256'), s3)).toEqual({ kind: 'MultipleAuthMechanisms', authorization });
    expect(failure(raw({ authorization }, '/b/k?AWSAccessKeyId=AK&Signature=x'), s3)).toEqual({ kind: 'MultipleAuthMechanisms', authorization });
  });

  it('Signature Version 2, in a header or a query', () => {
    expect(failure(raw({ authorization: 'AWS AK:sig' }), s3)).toEqual({ kind: 'UnsupportedAlgorithm', algorithm: 'AWS', mechanism: 'sigv2' });
    expect(failure(raw({}, '/b/k?AWSAccessKeyId=AK&Signature=x&Expires=1'), s3)).toEqual({ kind: 'UnsupportedAlgorithm', algorithm: 'AWS', mechanism: 'sigv2' });
    expect(failure(raw({ authorization: 'AWS4-HMAC-SHA512 Credential=x' }), s3)).toEqual({ kind: 'UnsupportedAlgorithm', algorithm: 'AWS4-HMAC-SHA512', mechanism: 'header' });
    expect(failure(raw({ authorization: 'Bearer' }), s3)).toEqual({ kind: 'UnsupportedAlgorithm', algorithm: 'Bearer', mechanism: 'header' });
    expect(failure(raw({}, '/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA1'), s3)).toEqual({ kind: 'UnsupportedAlgorithm', algorithm: 'AWS4-HMAC-SHA1', mechanism: 'presigned' });
  });

  it('an Authorization header missing parts names them', () => {
    const authorization = 'AWS4-HMAC-SHA256 Credential=, SignedHeaders=host, =x, junk';
    expect(failure(raw({ authorization }), s3)).toEqual({ kind: 'MalformedAuthorization', missing: ['Credential', 'Signature', 'Date'], authorization });
    const spaced = `AWS4-HMAC-SHA256  Credential = ${CRED} ,SignedHeaders= host;x-amz-date,Signature =${'0'.repeat(64)}`;
    expect(failure(raw({ authorization: spaced, 'x-amz-date': AMZ, host: 'h', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' }), s3)).toMatchObject({ kind: 'SignatureDoesNotMatch' });
    expect(failure(raw({ authorization: 'AWS4-HMAC-SHA256' }), s3)).toEqual({ kind: 'MalformedAuthorization', missing: ['Credential', 'Signature', 'SignedHeaders', 'Date'], authorization: 'AWS4-HMAC-SHA256' });
  });

  it('a presigned URL missing parameters names them', () => {
    expect(failure(raw({}, '/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=c&X-Amz-Date=d'), s3)).toEqual({
      kind: 'MalformedPresign', missing: ['X-Amz-Signature', 'X-Amz-SignedHeaders', 'X-Amz-Expires'],
    });
  });
});

describe('the credential scope', () => {
  const scoped = (credential: string) => failure(raw({ authorization: auth(credential), 'x-amz-date': AMZ, host: 'h' }), s3);
  it.each([
    ['AKIDSEALBOX/20260301/eu-west-1/s3', { kind: 'MalformedCredential', credential: 'AKIDSEALBOX/20260301/eu-west-1/s3', mechanism: 'header' }],
    ['AKIDSEALBOX/20260301/eu-west-1/s3/aws4_request/x', { kind: 'MalformedCredential', credential: 'AKIDSEALBOX/20260301/eu-west-1/s3/aws4_request/x', mechanism: 'header' }],
    ['/20260301/eu-west-1/s3/aws4_request', { kind: 'MalformedCredential', credential: '/20260301/eu-west-1/s3/aws4_request', mechanism: 'header' }],
    ['AKIDSEALBOX/2026031/eu-west-1/s3/aws4_request', { kind: 'InvalidCredentialDate', date: '2026031', amzDate: AMZ, mechanism: 'header' }],
    ['AKIDSEALBOX/x20260301/eu-west-1/s3/aws4_request', { kind: 'InvalidCredentialDate', date: 'x20260301', amzDate: AMZ, mechanism: 'header' }],
    ['AKIDSEALBOX/20260301x/eu-west-1/s3/aws4_request', { kind: 'InvalidCredentialDate', date: '20260301x', amzDate: AMZ, mechanism: 'header' }],
    ['AKIDSEALBOX/20260301/us-east-1/s3/aws4_request', { kind: 'WrongRegion', region: 'us-east-1', expected: 'eu-west-1', mechanism: 'header' }],
    ['AKIDSEALBOX/20260301/eu-west-1/kms/aws4_request', { kind: 'WrongService', service: 'kms', expected: 's3', mechanism: 'header' }],
    ['AKIDSEALBOX/20260301/eu-west-1/s3/aws4_requests', { kind: 'WrongTerminator', terminator: 'aws4_requests', mechanism: 'header' }],
    ['AKIDSEALBOX/20260228/eu-west-1/s3/aws4_request', { kind: 'CredentialDateMismatch', credentialDate: '20260228', amzDate: AMZ }],
    ['NOSUCHKEY/20260301/eu-west-1/s3/aws4_request', { kind: 'InvalidAccessKeyId', accessKeyId: 'NOSUCHKEY' }],
  ])('%s', (credential, expected) => {
    expect(scoped(credential)).toEqual(expected);
  });

  it('any well-formed region when the service serves every region', () => {
    const kmsAuth = (region: string) => failure(raw({ authorization: auth(`AKIDSEALBOX/20260301/${region}/kms/aws4_request`), 'x-amz-date': AMZ, host: 'h', 'x-amz-content-sha256': sha256('{}') }), kms);
    for (const region of ['eu-west-1', 'us-gov-west-1', 'ap-southeast-12']) expect(kmsAuth(region)).toMatchObject({ kind: 'SignatureDoesNotMatch' });
    for (const region of ['eu-west', 'eu-west-123', 'EU-west-1', 'e-west-1', 'euw-1', 'xeu-west-1', 'eu-west-1x']) expect(kmsAuth(region)).toEqual({ kind: 'InvalidRegion', region });
  });
});

describe('dates and time', () => {
  it('X-Amz-Date must parse; a Date header stands in for it', async () => {
    expect(failure(raw({ authorization: auth(CRED), 'x-amz-date': '2026-03-01', host: 'h' }), s3)).toEqual({ kind: 'InvalidDate', value: '2026-03-01', mechanism: 'header' });
    expect(failure(raw({ authorization: auth(CRED), date: 'not a date', host: 'h' }), s3)).toEqual({ kind: 'InvalidDate', value: 'not a date', mechanism: 'header' });
    // A Date header: the skew error quotes it as sent.
    const dated = failure(raw({ authorization: auth('AKIDSEALBOX/20260301/eu-west-1/kms/aws4_request'), date: 'Sun, 01 Mar 2026 09:00:00 GMT', host: 'h' }), { ...kms, region: 'eu-west-1' });
    expect(dated).toEqual({ kind: 'RequestTimeTooSkewed', requestTime: new Date('2026-03-01T09:00:00Z'), requestTimeText: 'Sun, 01 Mar 2026 09:00:00 GMT', serverTime: NOW, maxSkewMs: 900000 });
    // X-Amz-Date wins over Date.
    const both = failure(raw({ authorization: auth('AKIDSEALBOX/20260301/eu-west-1/kms/aws4_request'), 'x-amz-date': '20260301T080000Z', date: 'Sun, 01 Mar 2026 10:00:00 GMT', host: 'h' }), { ...kms, region: 'eu-west-1' });
    expect(both).toMatchObject({ kind: 'RequestTimeTooSkewed', requestTimeText: '20260301T080000Z' });
  });

  it('header auth: 15 minutes either way, not a millisecond more; JSON services judge time before the key', async () => {
    const at = async (offsetMs: number, service = 'kms') => {
      const req = await signHeader({ service, date: new Date(NOW.getTime() + offsetMs), body: '{}' });
      try {
        return verifyRequest(req, service === 'kms' ? kms : s3) ? 'ok' : 'anonymous';
      } catch (e) {
        return (e as SigV4Error).failure.kind;
      }
    };
    expect(await at(15 * 60 * 1000)).toBe('ok');
    expect(await at(-15 * 60 * 1000)).toBe('ok');
    expect(await at(15 * 60 * 1000 + 1000)).toBe('RequestTimeTooSkewed');
    expect(await at(-15 * 60 * 1000 - 1000)).toBe('RequestTimeTooSkewed');
    expect(await at(-16 * 60 * 1000, 's3')).toBe('RequestTimeTooSkewed');
    // Time first for JSON services: a skewed request with an unknown key is RequestTimeTooSkewed.
    const skewed = { authorization: auth('NOSUCHKEY/20260301/eu-west-1/kms/aws4_request'), 'x-amz-date': '20260301T080000Z', host: 'h' };
    expect(failure(raw(skewed), kms).kind).toBe('RequestTimeTooSkewed');
    // S3 checks the key first.
    expect(failure(raw({ ...skewed, authorization: auth('NOSUCHKEY/20260301/eu-west-1/s3/aws4_request') }), s3).kind).toBe('InvalidAccessKeyId');
  });

  it('a shifted clock: errors speak in the client\'s time', async () => {
    const req = await signHeader({ service: 'kms', body: '{}' });
    const shifted = { ...kms, clientTime: (d: Date) => new Date(d.getTime() + 3600 * 1000) };
    expect(failure(req, shifted)).toEqual({ kind: 'RequestTimeTooSkewed', requestTime: NOW, requestTimeText: AMZ, serverTime: new Date(NOW.getTime() - 3600 * 1000), maxSkewMs: 900000 });
    expect(verifyRequest(req, { ...shifted, now: new Date(NOW.getTime() + 3600 * 1000) })).not.toBeNull();
    expect(failure(req, { ...kms, maxSkewMs: 0, now: new Date(NOW.getTime() + 1000) })).toMatchObject({ kind: 'RequestTimeTooSkewed', maxSkewMs: 0 });
  });

  it('a timestamp from just before a clock advance: header auth is current on the later reading, a presigned URL keeps the earlier', async () => {
    const hour = 3600 * 1000;
    // The server's clock was advanced an hour a moment after NOW (the signed second): on the
    // timeline NOW stands for NOW, but a lagging client may have signed it after the advance.
    const advanced = { clientTime: (d: Date) => d, clientTimeLatest: (d: Date) => new Date(d.getTime() + hour), now: new Date(NOW.getTime() + hour + 500) };
    const req = await signHeader({ service: 'kms', body: '{}' });
    expect(verifyRequest(req, { ...kms, ...advanced })).not.toBeNull();
    // Without the later reading, the same request is an hour skewed.
    expect(failure(req, { ...kms, ...advanced, clientTimeLatest: undefined })).toMatchObject({ kind: 'RequestTimeTooSkewed' });
    // Current on the first reading: accepted, whatever the later reading says.
    expect(verifyRequest(req, { ...kms, ...advanced, now: new Date(NOW.getTime() + 500) })).not.toBeNull();
    // Beyond the skew window on both readings: refused.
    expect(failure(req, { ...kms, ...advanced, now: new Date(NOW.getTime() + 2 * hour) })).toMatchObject({ kind: 'RequestTimeTooSkewed' });
    const url = await presign(300);
    expect(failure(url, { ...s3, ...advanced })).toMatchObject({ kind: 'Expired' });
  });

  it('presigned URLs: valid until expiry inclusive, not dated in the future, X-Amz-Expires well-formed', async () => {
    const url = await presign(300);
    const atTime = (ms: number) => ({ ...s3, now: new Date(NOW.getTime() + ms) });
    expect(verifyRequest(url, atTime(300 * 1000))?.mechanism).toBe('presigned');
    expect(failure(url, atTime(300 * 1000 + 1))).toEqual({ kind: 'Expired', requestTime: NOW, expiresSeconds: 300, serverTime: new Date(NOW.getTime() + 300001) });
    expect(verifyRequest(url, atTime(-15 * 60 * 1000))).not.toBeNull();
    expect(failure(url, atTime(-15 * 60 * 1000 - 1))).toEqual({ kind: 'NotYetValid', requestTime: NOW, serverTime: new Date(NOW.getTime() - 900001) });
    for (const [value, reason] of [['abc', 'malformed'], ['1.5', 'malformed'], ['-1', 'negative'], ['604801', 'too-large'], ['5x', 'malformed'], ['x5', 'malformed']] as const) {
      expect(failure(withQuery(url, (q) => q.set('X-Amz-Expires', value)), s3)).toEqual({ kind: 'InvalidExpires', value, reason });
    }
    const week = await presign(604800);
    expect(verifyRequest(week, s3)).not.toBeNull();
    const zero = withQuery(url, (q) => q.set('X-Amz-Expires', '0'));
    expect(failure(zero, s3)).toMatchObject({ kind: 'SignatureDoesNotMatch' });
  });
});

describe('after the scope: token, host, unsigned headers, signature', () => {
  it('temporary credentials need their token, others none', async () => {
    const req = await signHeader({ c: tokenCreds as typeof creds });
    expect(verifyRequest(req, s3)?.credentials.accessKeyId).toBe('ASIATEMP');
    expect(failure(withHeaders(req, {}, ['x-amz-security-token']), s3)).toEqual({ kind: 'InvalidSecurityToken' });
    expect(failure(withHeaders(req, { 'x-amz-security-token': 'other' }, ['x-amz-security-token']), s3)).toEqual({ kind: 'InvalidSecurityToken' });
    const plain = await signHeader({ headers: { 'x-amz-security-token': 'tok' } });
    expect(failure(plain, s3)).toEqual({ kind: 'InvalidSecurityToken' });
  });

  it('a presigned URL takes its token from the query, or from a header', async () => {
    const url = await presign();
    expect(failure(withQuery(url, (q) => q.set('X-Amz-Security-Token', 'tok')), s3)).toEqual({ kind: 'InvalidSecurityToken' });
    expect(failure({ ...url, headers: headerMap({ host: 'sealbox.test', 'x-amz-security-token': 'tok' }) }, s3)).toEqual({ kind: 'InvalidSecurityToken' });
  });

  it('host must be signed', () => {
    const req = raw({ authorization: `AWS4-HMAC-SHA256 Credential=${CRED}, SignedHeaders=x-amz-date, Signature=${'0'.repeat(64)}`, 'x-amz-date': AMZ });
    expect(failure(req, s3)).toEqual({ kind: 'HostNotSigned' });
  });

  it('presigned URLs refuse any unsigned x-amz-* header, x-amz-content-sha256 included', async () => {
    const url = await presign();
    expect(failure(withHeaders(url, { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' }), s3)).toEqual({ kind: 'HeadersNotSigned', headers: ['x-amz-content-sha256'] });
    expect(failure(withHeaders(url, { 'x-amz-meta-a': 'b' }), { ...s3, requireSignedAmzHeaders: false })).toEqual({ kind: 'HeadersNotSigned', headers: ['x-amz-meta-a'] });
  });

  it('header auth refuses unsigned x-amz-* headers only when asked', async () => {
    const req = withHeaders(await signHeader({ service: 'kms', body: '{}' }), { 'x-amz-meta-a': 'b' });
    expect(verifyRequest(req, kms)).not.toBeNull();
    expect(failure(req, { ...kms, requireSignedAmzHeaders: true })).toEqual({ kind: 'HeadersNotSigned', headers: ['x-amz-meta-a'] });
  });

  it('a wrong signature: SignatureDoesNotMatch with the canonical request and string to sign', async () => {
    const req = await signHeader();
    const tampered = withHeaders(req, { authorization: header(req, 'authorization').replace(/Signature=\w+/, `Signature=${'f'.repeat(64)}`) }, ['authorization']);
    const f = failure(tampered, s3) as { kind: string; accessKeyId: string; canonicalRequest: string; stringToSign: string; signatureProvided: string };
    expect(f.kind).toBe('SignatureDoesNotMatch');
    expect(f.accessKeyId).toBe('AKIDSEALBOX');
    expect(f.signatureProvided).toBe('f'.repeat(64));
    expect(f.canonicalRequest.split('\n').slice(0, 3)).toEqual(['PUT', '/bucket/key', '']);
    expect(f.stringToSign.split('\n').slice(0, 3)).toEqual(['AWS4-HMAC-SHA256', AMZ, '20260301/eu-west-1/s3/aws4_request']);
    // A shorter signature is a mismatch too (lengths differ).
    const short = withHeaders(req, { authorization: header(req, 'authorization').replace(/Signature=\w+/, 'Signature=abc') }, ['authorization']);
    expect(failure(short, s3).kind).toBe('SignatureDoesNotMatch');
  });

  it('S3 accepts a path signed in its re-encoded form; other services do not try it', async () => {
    // Signed as /bucket/a%21b, sent as /bucket/a!b.
    const req = await signHeader({ path: '/bucket/a%21b' });
    expect(verifyRequest({ ...req, target: '/bucket/a!b' }, s3)).not.toBeNull();
    expect(failure({ ...req, target: '/bucket/a!c' }, s3).kind).toBe('SignatureDoesNotMatch');
  });
});

describe('payload modes', () => {
  const withSha = async (value: string | undefined) => {
    const req = await signHeader({ headers: value === undefined ? {} : { 'x-amz-content-sha256': value } });
    return value === undefined ? withHeaders(req, {}, ['x-amz-content-sha256']) : req;
  };

  it('returns the mode the declared hash names', async () => {
    expect(verifyRequest(await withSha('UNSIGNED-PAYLOAD'), s3)?.payload).toEqual({ type: 'unsigned' });
    expect(verifyRequest(await withSha(sha256('')), s3)?.payload).toEqual({ type: 'sha256', sha256: sha256('') });
    expect(verifyRequest(await withSha('STREAMING-AWS4-HMAC-SHA256-PAYLOAD'), s3)?.payload).toEqual({ type: 'streaming', signed: true, trailer: false });
    expect(verifyRequest(await withSha('STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER'), s3)?.payload).toEqual({ type: 'streaming', signed: true, trailer: true });
    expect(verifyRequest(await withSha('STREAMING-UNSIGNED-PAYLOAD-TRAILER'), s3)?.payload).toEqual({ type: 'streaming', signed: false, trailer: true });
  });

  it('refuses a missing or unknown hash, and an upper-case one', async () => {
    const missing = await signHeader({ service: 'kms', body: '{}' });
    expect(failure(withHeaders(missing, {}, ['x-amz-content-sha256']), { ...kms, bodySha256: undefined })).toEqual({ kind: 'MissingContentSha256' });
    expect(failure(await withSha('STREAMING-OTHER'), s3)).toEqual({ kind: 'InvalidContentSha256', value: 'STREAMING-OTHER' });
    expect(failure(await withSha(sha256('').toUpperCase()), s3)).toEqual({ kind: 'InvalidContentSha256', value: sha256('').toUpperCase() });
    expect(failure(await withSha(`x${sha256('')}`), s3)).toEqual({ kind: 'InvalidContentSha256', value: `x${sha256('')}` });
    expect(failure(await withSha(`${sha256('')}x`), s3)).toEqual({ kind: 'InvalidContentSha256', value: `${sha256('')}x` });
  });

  it('presigned URLs: unsigned without the header, never streaming', async () => {
    expect(verifyRequest(await presign(), s3)?.payload).toEqual({ type: 'unsigned' });
    const streaming = await presign(300, NOW, ['x-amz-content-sha256', 'STREAMING-UNSIGNED-PAYLOAD-TRAILER']);
    expect(failure(streaming, s3)).toEqual({ kind: 'InvalidContentSha256', value: 'STREAMING-UNSIGNED-PAYLOAD-TRAILER' });
  });

  it('JSON services: the body read must match a declared hash', async () => {
    const req = await signHeader({ service: 'kms', body: '{}', headers: { 'x-amz-content-sha256': sha256('{}') } });
    expect(verifyRequest(req, kms)?.payload).toEqual({ type: 'sha256', sha256: sha256('{}') });
    expect(failure(req, { ...kms, bodySha256: sha256('{"a":1}') })).toEqual({ kind: 'ContentSha256Mismatch', clientComputed: sha256('{}'), computed: sha256('{"a":1}') });
  });
});

describe('what a verified request carries', () => {
  it('the scope, the signing key, the seed signature and the query', async () => {
    const req = await signHeader();
    const v = verifyRequest(req, s3)!;
    expect(v.mechanism).toBe('header');
    expect(v.scope).toEqual({ date: '20260301', region: 'eu-west-1', service: 's3' });
    expect(v.scopeString).toBe('20260301/eu-west-1/s3/aws4_request');
    expect(v.amzDate).toBe(AMZ);
    expect(v.signature).toBe(/Signature=(\w+)/.exec(header(req, 'authorization'))![1]);
    expect(v.signingKey).toHaveLength(32);
    expect(v.query).toEqual([]);
    const url = verifyRequest(await presign(), s3)!;
    expect(url.query.map((p) => p.name)).toContain('X-Amz-Signature');
  });
});

function header(req: SignedRequest, name: string): string {
  return req.headers.get(name)![0]!;
}
