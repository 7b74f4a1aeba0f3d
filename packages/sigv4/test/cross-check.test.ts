/**
 * Requests signed by independent signers (aws4, @smithy/signature-v4 as the AWS SDK v3 uses it)
 * verify; changing any one byte of what they signed makes verification fail.
 */
import { createHash } from 'node:crypto';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import aws4 from 'aws4';
import {
  SigningKeyCache,
  StaticCredentialProvider,
  headerMap,
  uriEncode,
  verifyRequest,
  type SignedRequest,
  type VerifyOptions,
} from '../src';

const creds = { accessKeyId: 'AKIDSEALBOX', secretAccessKey: 'sealbox-secret/with+chars', accountId: '123456789012', principalArn: 'arn:aws:iam::123456789012:root' };
const credentials = new StaticCredentialProvider([creds]);
const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const NOW = new Date('2026-03-01T10:00:00Z');

async function smithySign(service: string, req: { method: string; path: string; query?: Record<string, string>; headers: Record<string, string>; body?: string }) {
  const signer = new SignatureV4({
    credentials: { accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey },
    region: 'eu-west-1',
    service,
    sha256: Sha256,
    uriEscapePath: service !== 's3',
    applyChecksum: service === 's3',
  });
  const signed = await signer.sign(
    { method: req.method, protocol: 'https:', hostname: 'sealbox.test', path: req.path, query: req.query ?? {}, headers: { host: 'sealbox.test', ...req.headers }, body: req.body },
    { signingDate: NOW },
  );
  const query = Object.entries(signed.query ?? {})
    .map(([k, v]) => `${uriEncode(k)}=${uriEncode(String(v))}`)
    .join('&');
  return {
    method: signed.method,
    target: signed.path + (query ? `?${query}` : ''),
    headers: headerMap(signed.headers as Record<string, string>),
  } satisfies SignedRequest;
}

const kmsOptions = (body: string): VerifyOptions => ({ service: 'kms', now: NOW, credentials, bodySha256: sha256(body) });
const s3Options: VerifyOptions = { service: 's3', region: 'eu-west-1', now: NOW, credentials };

describe('@smithy/signature-v4 (the AWS SDK v3 signer)', () => {
  const kmsBody = '{"NumberOfBytes":32}';
  const kmsRequest = () =>
    smithySign('kms', {
      method: 'POST',
      path: '/',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'TrentService.GenerateRandom' },
      body: kmsBody,
    });

  it('a KMS JSON request verifies', async () => {
    const verified = verifyRequest(await kmsRequest(), kmsOptions(kmsBody));
    expect(verified?.credentials.accountId).toBe('123456789012');
    expect(verified?.scope.region).toBe('eu-west-1');
  });

  it('an S3 request with an awkward key verifies (single encoding, path as sent)', async () => {
    const key = `${uriEncode('dir a/ü+b=c&d~e!(1).txt', true)}`;
    const req = await smithySign('s3', { method: 'GET', path: `/bucket/${key}`, query: { 'list-type': '2', prefix: 'a b/' }, headers: {} });
    expect(verifyRequest(req, s3Options)?.payload).toEqual({ type: 'sha256', sha256: sha256('') });
  });

  it('a presigned S3 URL verifies', async () => {
    const signer = new SignatureV4({ credentials: creds, region: 'eu-west-1', service: 's3', sha256: Sha256, uriEscapePath: false });
    const signed = await signer.presign(
      { method: 'GET', protocol: 'https:', hostname: 'sealbox.test', path: '/bucket/k%20y', query: {}, headers: { host: 'sealbox.test', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } },
      { signingDate: NOW, expiresIn: 600 },
    );
    const query = Object.entries(signed.query ?? {})
      .map(([k, v]) => `${uriEncode(k)}=${uriEncode(String(v))}`)
      .join('&');
    const req = { method: 'GET', target: `${signed.path}?${query}`, headers: headerMap({ host: 'sealbox.test' }) };
    expect(verifyRequest(req, s3Options)?.mechanism).toBe('presigned');
    expect(() => verifyRequest(req, { ...s3Options, now: new Date(NOW.getTime() + 601_000) })).toThrow(expect.objectContaining({ kind: 'Expired' }));
  });

  describe('any one-byte change fails', () => {
    const flip = (s: string, i: number) => s.slice(0, i) + String.fromCharCode(s.charCodeAt(i) ^ 1) + s.slice(i + 1);

    it('method', async () => {
      const req = await kmsRequest();
      expect(() => verifyRequest({ ...req, method: 'PUT' }, kmsOptions(kmsBody))).toThrow(expect.objectContaining({ kind: 'SignatureDoesNotMatch' }));
    });

    it('path and query', async () => {
      const req = await smithySign('s3', { method: 'GET', path: '/bucket/key', query: { prefix: 'abc' }, headers: {} });
      for (let i = 1; i < req.target.length; i++) {
        if (req.target[i] === '?' || req.target[i] === '=' || req.target[i] === '&') continue;
        expect(() => verifyRequest({ ...req, target: flip(req.target, i) }, s3Options)).toThrow();
      }
    });

    it('each signed header', async () => {
      const req = await kmsRequest();
      for (const name of ['content-type', 'x-amz-target', 'host', 'x-amz-date']) {
        const headers = new Map(req.headers);
        headers.set(name, [flip(headers.get(name)![0]!, 3)]);
        expect(() => verifyRequest({ ...req, headers }, kmsOptions(kmsBody))).toThrow();
      }
    });

    it('the body', async () => {
      const req = await kmsRequest();
      for (let i = 0; i < kmsBody.length; i++) {
        expect(() => verifyRequest(req, kmsOptions(flip(kmsBody, i)))).toThrow(expect.objectContaining({ kind: 'SignatureDoesNotMatch' }));
      }
    });

    it('the date, even within the allowed skew', async () => {
      const req = await kmsRequest();
      const headers = new Map(req.headers);
      headers.set('x-amz-date', ['20260301T100001Z']);
      expect(() => verifyRequest({ ...req, headers }, kmsOptions(kmsBody))).toThrow(expect.objectContaining({ kind: 'SignatureDoesNotMatch' }));
    });
  });
});

describe('aws4', () => {
  const sign = (opts: aws4.Request) => {
    const signed = aws4.sign({ host: 'sealbox.test', region: 'eu-west-1', ...opts }, creds) as aws4.Request & { headers: Record<string, string | number> };
    const headers = Object.entries(signed.headers).map(([name, value]) => [name, String(value)] as [string, string]);
    return { method: signed.method!, target: signed.path!, headers: headerMap(headers) };
  };
  const now = () => new Date();

  it('a KMS request verifies', () => {
    const body = '{"NumberOfBytes":16}';
    const req = sign({
      service: 'kms',
      method: 'POST',
      path: '/',
      body,
      headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': 'TrentService.GenerateRandom' },
    });
    expect(verifyRequest(req, { ...kmsOptions(body), now: now() })).not.toBeNull();
  });

  it('an S3 request whose key aws4 encodes differently from how it is sent verifies', () => {
    // aws4 signs '!' and '(' encoded while the path on the wire carries them raw.
    const req = sign({ service: 's3', method: 'GET', path: "/bucket/it's(1)!.txt?versioning" });
    expect(verifyRequest(req, { ...s3Options, now: now() })).not.toBeNull();
  });

  it('a presigned S3 URL verifies', () => {
    const req = sign({ service: 's3', method: 'GET', path: '/bucket/key.txt?X-Amz-Expires=60', signQuery: true });
    expect(verifyRequest(req, { ...s3Options, now: now() })?.mechanism).toBe('presigned');
  });
});

describe('authentication failures', () => {
  const body = '{}';
  const request = (service = 'kms') => smithySign(service, { method: 'POST', path: '/', headers: { 'x-amz-target': 'TrentService.GenerateRandom' }, body });

  it('an unknown access key', async () => {
    const req = await request();
    const other = new StaticCredentialProvider([]);
    expect(() => verifyRequest(req, { ...kmsOptions(body), credentials: other })).toThrow(
      expect.objectContaining({ failure: { kind: 'InvalidAccessKeyId', accessKeyId: 'AKIDSEALBOX' } }),
    );
  });

  it('a wrong secret', async () => {
    const req = await request();
    const other = new StaticCredentialProvider([{ ...creds, secretAccessKey: 'nope' }]);
    expect(() => verifyRequest(req, { ...kmsOptions(body), credentials: other })).toThrow(expect.objectContaining({ kind: 'SignatureDoesNotMatch' }));
  });

  it('clock skew: allowed up to the window, refused beyond it, both ways', async () => {
    const req = await request();
    const at = (ms: number) => ({ ...kmsOptions(body), now: new Date(NOW.getTime() + ms), maxSkewMs: 15 * 60_000 });
    expect(verifyRequest(req, at(15 * 60_000))).not.toBeNull();
    expect(verifyRequest(req, at(-15 * 60_000))).not.toBeNull();
    expect(() => verifyRequest(req, at(15 * 60_000 + 1000))).toThrow(expect.objectContaining({ kind: 'RequestTimeTooSkewed' }));
    expect(() => verifyRequest(req, at(-15 * 60_000 - 1000))).toThrow(expect.objectContaining({ kind: 'RequestTimeTooSkewed' }));
  });

  it('S3 judges the signature before the time; other services the time first', async () => {
    const req = await smithySign('s3', { method: 'GET', path: '/bucket', headers: {} });
    const late = new Date(NOW.getTime() + 3600_000);
    const wrongSecret = new StaticCredentialProvider([{ ...creds, secretAccessKey: 'nope' }]);
    expect(() => verifyRequest(req, { ...s3Options, now: late, credentials: wrongSecret })).toThrow(expect.objectContaining({ kind: 'SignatureDoesNotMatch' }));
    expect(() => verifyRequest(req, { ...s3Options, now: late })).toThrow(expect.objectContaining({ kind: 'RequestTimeTooSkewed' }));
    const kmsReq = await request();
    expect(() => verifyRequest(kmsReq, { ...kmsOptions(body), now: late, credentials: wrongSecret })).toThrow(expect.objectContaining({ kind: 'RequestTimeTooSkewed' }));
  });

  it('a wrong region for S3, naming the expected one', async () => {
    const req = await smithySign('s3', { method: 'GET', path: '/bucket', headers: {} });
    expect(() => verifyRequest(req, { ...s3Options, region: 'us-east-1' })).toThrow(
      expect.objectContaining({ failure: { kind: 'WrongRegion', region: 'eu-west-1', expected: 'us-east-1', mechanism: 'header' } }),
    );
  });

  it('a wrong service in the scope', async () => {
    const req = await request('dynamodb');
    expect(() => verifyRequest(req, kmsOptions(body))).toThrow(expect.objectContaining({ kind: 'WrongService' }));
  });

  it('a session token the credentials do not have', async () => {
    const req = await request();
    const headers = new Map(req.headers);
    headers.set('x-amz-security-token', ['token']);
    expect(() => verifyRequest({ ...req, headers }, kmsOptions(body))).toThrow(expect.objectContaining({ kind: 'InvalidSecurityToken' }));
  });

  it.each([
    ['AWS4-HMAC-SHA256 SignedHeaders=host, Signature=abc', ['Credential']],
    ['AWS4-HMAC-SHA256 Credential=a/b/c/d/e', ['Signature', 'SignedHeaders', 'Date']],
  ])('an incomplete Authorization header: %s', (authorization, missing) => {
    const headers = headerMap(missing.includes('Date') ? { authorization } : { authorization, 'x-amz-date': '20260301T100000Z' });
    expect(() => verifyRequest({ method: 'GET', target: '/', headers }, kmsOptions(''))).toThrow(
      expect.objectContaining({ failure: { kind: 'MalformedAuthorization', missing, authorization } }),
    );
  });

  it('SigV2 and unknown schemes', () => {
    const v2 = headerMap({ authorization: 'AWS test:abc=' });
    expect(() => verifyRequest({ method: 'GET', target: '/', headers: v2 }, s3Options)).toThrow(
      expect.objectContaining({ failure: { kind: 'UnsupportedAlgorithm', algorithm: 'AWS', mechanism: 'sigv2' } }),
    );
  });

  it('both an Authorization header and a presigned query', async () => {
    const req = await smithySign('s3', { method: 'GET', path: '/bucket', headers: {} });
    expect(() => verifyRequest({ ...req, target: '/bucket?X-Amz-Algorithm=AWS4-HMAC-SHA256' }, s3Options)).toThrow(
      expect.objectContaining({ kind: 'MultipleAuthMechanisms' }),
    );
  });

  it('no authentication at all is anonymous (null), for the service to judge', () => {
    expect(verifyRequest({ method: 'GET', target: '/', headers: headerMap({ host: 'x' }) }, s3Options)).toBeNull();
  });

  it('presigned X-Amz-Expires limits', async () => {
    const signer = new SignatureV4({ credentials: creds, region: 'eu-west-1', service: 's3', sha256: Sha256, uriEscapePath: false });
    const presign = async (expiresIn: number) => {
      const signed = await signer.presign({ method: 'GET', protocol: 'https:', hostname: 'sealbox.test', path: '/b/k', query: {}, headers: { host: 'sealbox.test', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } }, { signingDate: NOW, expiresIn });
      const query = Object.entries(signed.query ?? {}).map(([k, v]) => `${uriEncode(k)}=${uriEncode(String(v))}`).join('&');
      return { method: 'GET', target: `/b/k?${query}`, headers: headerMap({ host: 'sealbox.test' }) };
    };
    expect(verifyRequest(await presign(604800), { ...s3Options, now: new Date(NOW.getTime() + 604_800_000) })).not.toBeNull();
    const tooLong = (await presign(604800)).target.replace('X-Amz-Expires=604800', 'X-Amz-Expires=604801');
    expect(() => verifyRequest({ method: 'GET', target: tooLong, headers: headerMap({ host: 'sealbox.test' }) }, s3Options)).toThrow(
      expect.objectContaining({ failure: { kind: 'InvalidExpires', value: '604801', reason: 'too-large' } }),
    );
  });

  it('x-amz-content-sha256 is required for S3 header auth and must be a known form', async () => {
    const req = await smithySign('s3', { method: 'GET', path: '/bucket', headers: {} });
    const without = new Map(req.headers);
    without.delete('x-amz-content-sha256');
    expect(() => verifyRequest({ ...req, headers: without }, s3Options)).toThrow(expect.objectContaining({ kind: 'MissingContentSha256' }));
    const bad = new Map(req.headers);
    bad.set('x-amz-content-sha256', ['unsigned-payload']);
    expect(() => verifyRequest({ ...req, headers: bad }, s3Options)).toThrow(expect.objectContaining({ kind: 'InvalidContentSha256' }));
  });
});

describe('SigningKeyCache', () => {
  it('is bounded and returns the same derived key', () => {
    const cache = new SigningKeyCache(3);
    const k1 = cache.get('s', '20260101', 'us-east-1', 'kms');
    expect(cache.get('s', '20260101', 'us-east-1', 'kms')).toBe(k1);
    for (let i = 0; i < 10; i++) cache.get('s', `2026010${i}`, 'us-east-1', 'kms');
    expect(cache.size).toBe(3);
  });
});

describe('header values as bytes (rawHeaderBytes, what the Node adapter gives)', () => {
  // A signer signs the UTF-8 text of a header value; the bytes on the wire are what count.
  const signedWithText = () =>
    smithySign('s3', { method: 'PUT', path: '/bucket/key', headers: { 'x-amz-meta-note': 'caf\u00e9', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } });
  const asReceived = (req: SignedRequest, bytes: Buffer): SignedRequest => {
    const headers = new Map(req.headers);
    headers.set('x-amz-meta-note', [bytes.toString('latin1')]);
    return { ...req, headers, rawHeaderBytes: true };
  };

  it('the UTF-8 bytes of the signed text verify', async () => {
    expect(verifyRequest(asReceived(await signedWithText(), Buffer.from('caf\u00e9', 'utf8')), s3Options)).not.toBeNull();
  });

  it('the Latin-1 byte for the same character does not', async () => {
    const req = asReceived(await signedWithText(), Buffer.from('caf\u00e9', 'latin1'));
    expect(() => verifyRequest(req, s3Options)).toThrow(expect.objectContaining({ failure: expect.objectContaining({ kind: 'SignatureDoesNotMatch' }) }));
  });

  it('without rawHeaderBytes, values are text hashed as UTF-8 (pure callers)', async () => {
    expect(verifyRequest(await signedWithText(), s3Options)).not.toBeNull();
  });
});
