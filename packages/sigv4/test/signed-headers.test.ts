/**
 * S3's rule for header authentication: every x-amz-* header a request carries must be in
 * SignedHeaders (x-amz-content-sha256 excepted, its value being the signed payload hash).
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html
 */
import { createHash } from 'node:crypto';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { StaticCredentialProvider, headerMap, unsignedAmzHeaders, uriEncode, verifyRequest, type SignedRequest, type VerifyOptions } from '../src';

const creds = { accessKeyId: 'AKIDSEALBOX', secretAccessKey: 'sealbox-secret', accountId: '123456789012', principalArn: 'arn:aws:iam::123456789012:root' };
const credentials = new StaticCredentialProvider([creds]);
const NOW = new Date('2026-03-01T10:00:00Z');
const sha256 = (data: string) => createHash('sha256').update(data).digest('hex');

describe('unsignedAmzHeaders', () => {
  const signed = ['host', 'x-amz-content-sha256', 'x-amz-date'];
  const base: [string, string][] = [
    ['Host', 'sealbox.test'],
    ['X-Amz-Date', '20260301T100000Z'],
    ['X-Amz-Content-Sha256', 'UNSIGNED-PAYLOAD'],
  ];

  // Each header a replayed request might add, alone and unsigned.
  it.each([
    ['x-amz-copy-source', '/other-bucket/secret'],
    ['x-amz-meta-x', 'y'],
    ['x-amz-tagging', 'a=b'],
    ['x-amz-server-side-encryption', 'AES256'],
    ['x-amz-server-side-encryption-aws-kms-key-id', 'alias/other'],
    ['x-amz-acl', 'public-read'],
    ['x-amz-grant-read', 'uri="http://acs.amazonaws.com/groups/global/AllUsers"'],
    ['x-amz-website-redirect-location', 'https://example.com/'],
    ['x-amz-storage-class', 'GLACIER'],
    ['x-amz-metadata-directive', 'REPLACE'],
    ['x-amz-object-lock-mode', 'COMPLIANCE'],
    ['x-amz-security-token', 'token'],
    ['x-amz-user-agent', 'aws-sdk-js/3'],
    ['x-amz-checksum-crc32', 'AAAAAA=='],
    ['x-amz-trailer', 'x-amz-checksum-crc32'],
    ['x-amz-decoded-content-length', '5'],
    ['x-amz-expected-bucket-owner', '111122223333'],
  ])('%s added unsigned is named', (name, value) => {
    const headers = headerMap([...base, [name, value]]);
    expect(unsignedAmzHeaders(headers, signed)).toEqual([name]);
    expect(unsignedAmzHeaders(headers, signed, 'content-sha256')).toEqual([name]);
    expect(unsignedAmzHeaders(headers, [...signed, name].sort())).toEqual([]);
  });

  it('is blind to case: the name is named in lower case, and a signed one is covered whatever case it came in', () => {
    for (const name of ['X-Amz-Meta-X', 'X-AMZ-META-X', 'x-amz-META-x']) {
      const headers = headerMap([...base, [name, 'y']]);
      expect(unsignedAmzHeaders(headers, signed)).toEqual(['x-amz-meta-x']);
      expect(unsignedAmzHeaders(headers, [...signed, 'x-amz-meta-x'])).toEqual([]);
    }
  });

  it('a repeated header is named once, and covered when signed', () => {
    const headers = headerMap([...base, ['x-amz-meta-x', 'a'], ['X-Amz-Meta-X', 'b']]);
    expect(unsignedAmzHeaders(headers, signed)).toEqual(['x-amz-meta-x']);
    expect(unsignedAmzHeaders(headers, [...signed, 'x-amz-meta-x'])).toEqual([]);
  });

  it('names every unsigned header in the order received (as S3 lists them: "x-amz-meta-s1, x-amz-tagging")', () => {
    const headers = headerMap([...base, ['x-amz-tagging', 'a=b'], ['content-type', 'text/plain'], ['x-amz-meta-b', '1'], ['x-amz-meta-a', '2']]);
    expect(unsignedAmzHeaders(headers, signed)).toEqual(['x-amz-tagging', 'x-amz-meta-b', 'x-amz-meta-a']);
  });

  it('other headers may go unsigned: x-amzn-*, amz-sdk-*, user-agent, content-* (S3 accepts an unsigned Content-Type)', () => {
    const headers = headerMap([
      ...base,
      ['x-amzn-trace-id', 'Root=1-5759e988-bd862e3fe1be46a994272793'],
      ['amz-sdk-invocation-id', 'b8f4a0c2-0000-4000-8000-000000000000'],
      ['amz-sdk-request', 'attempt=1; max=3'],
      ['user-agent', 'aws-cli/1.36'],
      ['content-type', 'text/plain'],
      ['content-md5', '1B2M2Y8AsgTpgAmY7PhCfg=='],
      ['content-length', '0'],
      ['expect', '100-continue'],
      ['xx-amz-meta', 'not a prefix'],
    ]);
    expect(unsignedAmzHeaders(headers, ['host'])).toEqual(['x-amz-date', 'x-amz-content-sha256']);
    expect(unsignedAmzHeaders(headers, signed)).toEqual([]);
  });

  it('x-amz-content-sha256 is excepted only when asked (header auth), never by default (presigned URLs)', () => {
    const headers = headerMap(base);
    expect(unsignedAmzHeaders(headers, ['host', 'x-amz-date'])).toEqual(['x-amz-content-sha256']);
    expect(unsignedAmzHeaders(headers, ['host', 'x-amz-date'], 'content-sha256')).toEqual([]);
    expect(unsignedAmzHeaders(headers, ['host'], 'content-sha256')).toEqual(['x-amz-date']);
  });
});

describe('verifyRequest with requireSignedAmzHeaders (S3)', () => {
  const s3Options: VerifyOptions = { service: 's3', region: 'eu-west-1', now: NOW, credentials, requireSignedAmzHeaders: true };

  /** A request signed by the AWS SDK v3's own signer, every header it was given signed except `unsigned`. */
  async function sign(headers: Record<string, string>, unsigned: string[] = [], service = 's3'): Promise<SignedRequest> {
    const signer = new SignatureV4({ credentials: creds, region: 'eu-west-1', service, sha256: Sha256, uriEscapePath: service !== 's3', applyChecksum: service === 's3' });
    const signed = await signer.sign(
      { method: 'PUT', protocol: 'https:', hostname: 'sealbox.test', path: '/bucket/key', query: {}, headers: { host: 'sealbox.test', ...headers }, body: '' },
      { signingDate: NOW, unsignableHeaders: new Set(unsigned) },
    );
    return { method: 'PUT', target: '/bucket/key', headers: headerMap(signed.headers as Record<string, string>) };
  }
  /** `req` as replayed with `extra` headers added after signing. */
  const replay = (req: SignedRequest, extra: [string, string][]): SignedRequest => ({
    ...req,
    headers: headerMap([...[...req.headers].flatMap(([name, values]) => values.map((v) => [name, v] as [string, string])), ...extra]),
  });
  const refusal = (headers: string[]) => expect.objectContaining({ failure: { kind: 'HeadersNotSigned', headers } });

  it('a request that signs all its x-amz-* headers verifies', async () => {
    const req = await sign({ 'x-amz-meta-x': 'y', 'x-amz-tagging': 'a=b', 'x-amz-server-side-encryption': 'AES256' });
    expect(verifyRequest(req, s3Options)?.mechanism).toBe('header');
  });

  it.each([
    [[['x-amz-copy-source', '/bucket/other']]],
    [[['x-amz-meta-x', 'y']]],
    [[['X-Amz-Tagging', 'a=b']]],
    [[['x-amz-server-side-encryption', 'aws:kms']]],
    [[['x-amz-meta-x', 'y'], ['x-amz-tagging', 'a=b']]],
  ] as [string, string][][][])('a signed request replayed with %j added is refused, naming them', async (extra) => {
    const req = replay(await sign({}), extra);
    expect(() => verifyRequest(req, s3Options)).toThrow(refusal(extra.map(([name]) => name.toLowerCase())));
    // Without the rule (KMS), the signature alone decides: the request verifies.
    expect(verifyRequest(req, { ...s3Options, requireSignedAmzHeaders: false })?.mechanism).toBe('header');
  });

  it('a second value for a signed header changes the signature instead (SignatureDoesNotMatch)', async () => {
    const req = replay(await sign({ 'x-amz-meta-x': 'y' }), [['x-amz-meta-x', 'z']]);
    expect(() => verifyRequest(req, s3Options)).toThrow(expect.objectContaining({ kind: 'SignatureDoesNotMatch' }));
  });

  it('x-amz-content-sha256 may be left out of SignedHeaders: its value is the signed payload hash', async () => {
    const req = await sign({}, ['x-amz-content-sha256']);
    expect(req.headers.get('x-amz-content-sha256')).toEqual([sha256('')]);
    expect(verifyRequest(req, s3Options)?.payload).toEqual({ type: 'sha256', sha256: sha256('') });
    // Another value is then another canonical request.
    const changed = replay(req, []);
    (changed.headers as Map<string, string[]>).set('x-amz-content-sha256', ['UNSIGNED-PAYLOAD']);
    expect(() => verifyRequest(changed, s3Options)).toThrow(expect.objectContaining({ kind: 'SignatureDoesNotMatch' }));
  });

  it('x-amz-date and x-amz-security-token left unsigned are refused', async () => {
    const undated = await sign({}, ['x-amz-date']);
    expect(() => verifyRequest(undated, s3Options)).toThrow(refusal(['x-amz-date']));
    const tokenCredentials = new StaticCredentialProvider([{ ...creds, sessionToken: 'session-token' }]);
    const req = replay(await sign({}), [['x-amz-security-token', 'session-token']]);
    expect(() => verifyRequest(req, { ...s3Options, credentials: tokenCredentials })).toThrow(refusal(['x-amz-security-token']));
  });

  it('headers outside x-amz-* may be added unsigned', async () => {
    const req = replay(await sign({}), [
      ['content-type', 'text/html'],
      ['x-amzn-trace-id', 'Root=1-00000000-000000000000000000000000'],
      ['amz-sdk-invocation-id', 'id'],
      ['amz-sdk-request', 'attempt=1; max=3'],
      ['user-agent', 'curl/8'],
    ]);
    expect(verifyRequest(req, s3Options)?.mechanism).toBe('header');
  });

  it('KMS (rule off) keeps accepting an unsigned x-amz-* header', async () => {
    const body = '{}';
    const signer = new SignatureV4({ credentials: creds, region: 'eu-west-1', service: 'kms', sha256: Sha256 });
    const signed = await signer.sign(
      { method: 'POST', protocol: 'https:', hostname: 'sealbox.test', path: '/', query: {}, headers: { host: 'sealbox.test', 'x-amz-target': 'TrentService.ListKeys' }, body },
      { signingDate: NOW },
    );
    const headers = headerMap({ ...(signed.headers as Record<string, string>), 'x-amz-user-agent': 'aws-sdk-js/3' });
    expect(verifyRequest({ method: 'POST', target: '/', headers }, { service: 'kms', now: NOW, credentials, bodySha256: sha256(body) })?.mechanism).toBe('header');
  });

  it('presigned URLs keep their rule with or without the option: every x-amz-* header, x-amz-content-sha256 included', async () => {
    const signer = new SignatureV4({ credentials: creds, region: 'eu-west-1', service: 's3', sha256: Sha256, uriEscapePath: false });
    const presigned = await signer.presign(
      { method: 'GET', protocol: 'https:', hostname: 'sealbox.test', path: '/bucket/key', query: {}, headers: { host: 'sealbox.test', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } },
      { signingDate: NOW, expiresIn: 600 },
    );
    const target = `/bucket/key?${Object.entries(presigned.query ?? {})
      .map(([k, v]) => `${uriEncode(k)}=${uriEncode(String(v))}`)
      .join('&')}`;
    const request = (extra: [string, string][]): SignedRequest => ({ method: 'GET', target, headers: headerMap([['host', 'sealbox.test'], ...extra]) });
    for (const options of [s3Options, { ...s3Options, requireSignedAmzHeaders: false }]) {
      expect(verifyRequest(request([]), options)?.mechanism).toBe('presigned');
      expect(() => verifyRequest(request([['x-amz-meta-x', 'y']]), options)).toThrow(refusal(['x-amz-meta-x']));
      expect(() => verifyRequest(request([['x-amz-content-sha256', 'UNSIGNED-PAYLOAD']]), options)).toThrow(refusal(['x-amz-content-sha256']));
    }
  });
});
