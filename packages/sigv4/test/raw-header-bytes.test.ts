/**
 * Attacks on hashing the canonical request over header bytes as sent (rawHeaderBytes, what the
 * Node adapter gives): no two different byte strings may verify under one signature, the
 * canonical rules (trimming, folding, repeated headers) still hold, and unsigned headers are
 * still refused. AWS hashes the canonical request over the bytes it received:
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
 */
import { createHash, createHmac } from 'node:crypto';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { StaticCredentialProvider, headerMap, verifyRequest, type SignedRequest, type VerifyOptions } from '../src';

const creds = { accessKeyId: 'AKIDRAWBYTES', secretAccessKey: 'raw-bytes-secret', accountId: '123456789012', principalArn: 'arn:aws:iam::123456789012:root' };
const credentials = new StaticCredentialProvider([creds]);
const NOW = new Date('2026-03-01T10:00:00Z');
const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const s3Options: VerifyOptions = { service: 's3', region: 'eu-west-1', now: NOW, credentials, requireSignedAmzHeaders: true };

/** Signs with the AWS SDK v3 signer; header values are text, hashed as UTF-8. */
async function sign(service: string, headers: Record<string, string>, body?: string): Promise<SignedRequest> {
  const signer = new SignatureV4({ credentials: creds, region: 'eu-west-1', service, sha256: Sha256, uriEscapePath: service !== 's3', applyChecksum: service === 's3' });
  const signed = await signer.sign({ method: service === 's3' ? 'PUT' : 'POST', protocol: 'https:', hostname: 'sealbox.test', path: service === 's3' ? '/bucket/key' : '/', headers: { host: 'sealbox.test', ...headers }, body }, { signingDate: NOW });
  return { method: signed.method, target: signed.path, headers: headerMap(signed.headers as Record<string, string>) };
}

/** The request as Node hands it over: `name` arrives as these bytes (one character per byte). */
function received(req: SignedRequest, name: string, ...values: Buffer[]): SignedRequest {
  const headers = new Map(req.headers);
  headers.set(name, values.map((b) => b.toString('latin1')));
  return { ...req, headers, rawHeaderBytes: true };
}

const mismatch = expect.objectContaining({ failure: expect.objectContaining({ kind: 'SignatureDoesNotMatch' }) });

describe('header bytes: one signature, one byte string', () => {
  it('bytes C3 A9 do not verify under a signature over the text "Ã©" (what hashing the Latin-1 text as UTF-8 accepted)', async () => {
    // Before rawHeaderBytes, the Latin-1 string "Ã©" Node makes of C3 A9 was hashed as UTF-8
    // (C3 83 C2 A9): a signature over other bytes than those sent verified.
    const req = await sign('s3', { 'x-amz-meta-note': '\u00c3\u00a9', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' });
    expect(() => verifyRequest(received(req, 'x-amz-meta-note', Buffer.from([0xc3, 0xa9])), s3Options)).toThrow(mismatch);
    // The bytes that text really is verify.
    expect(verifyRequest(received(req, 'x-amz-meta-note', Buffer.from('\u00c3\u00a9', 'utf8')), s3Options)).not.toBeNull();
  });

  it('a four-byte UTF-8 character verifies only as its own bytes', async () => {
    const req = await sign('s3', { 'x-amz-meta-note': 'a\u{1f511}b', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' });
    expect(verifyRequest(received(req, 'x-amz-meta-note', Buffer.from('a\u{1f511}b', 'utf8')), s3Options)).not.toBeNull();
    const bytes = Buffer.from('a\u{1f511}b', 'utf8');
    for (let i = 1; i < bytes.length - 1; i++) {
      const changed = Buffer.from(bytes);
      changed[i] ^= 0x01;
      expect(() => verifyRequest(received(req, 'x-amz-meta-note', changed), s3Options)).toThrow(mismatch);
    }
  });

  it('a KMS request with a non-ASCII header value: its UTF-8 bytes verify, its Latin-1 byte does not', async () => {
    const body = '{"KeyId":"alias/caf\u00e9"}';
    const req = await sign('kms', { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'TrentService.DescribeKey', 'x-sealbox-note': 'caf\u00e9' }, body);
    const options: VerifyOptions = { service: 'kms', now: NOW, credentials, bodySha256: sha256(Buffer.from(body, 'utf8')) };
    expect(verifyRequest(received(req, 'x-sealbox-note', Buffer.from('caf\u00e9', 'utf8')), options)).not.toBeNull();
    expect(() => verifyRequest(received(req, 'x-sealbox-note', Buffer.from('caf\u00e9', 'latin1')), options)).toThrow(mismatch);
  });
});

describe('the canonical rules still hold over bytes', () => {
  it('spaces around a value and runs of spaces inside it are as signed after trimming and folding', async () => {
    const req = await sign('s3', { 'x-amz-meta-note': 'a b caf\u00e9', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' });
    expect(verifyRequest(received(req, 'x-amz-meta-note', Buffer.from('  a   b\tcaf\u00e9  ', 'utf8')), s3Options)).not.toBeNull();
    // A different byte inside the value is not a space.
    expect(() => verifyRequest(received(req, 'x-amz-meta-note', Buffer.from('a\u00a0b caf\u00e9', 'utf8')), s3Options)).toThrow(mismatch);
  });

  it('a header sent twice is signed as both values joined with a comma, in order; one copy alone or the other order fails', () => {
    const amzDate = '20260301T100000Z';
    const scope = '20260301/eu-west-1/s3/aws4_request';
    const one = Buffer.from('caf\u00e9', 'utf8');
    const canonical = Buffer.concat([
      Buffer.from(`PUT\n/bucket/key\n\nhost:sealbox.test\nx-amz-content-sha256:UNSIGNED-PAYLOAD\nx-amz-date:${amzDate}\nx-amz-meta-note:`),
      one,
      Buffer.from(',two\n\nhost;x-amz-content-sha256;x-amz-date;x-amz-meta-note\nUNSIGNED-PAYLOAD'),
    ]);
    const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();
    let key = hmac(`AWS4${creds.secretAccessKey}`, '20260301');
    for (const part of ['eu-west-1', 's3', 'aws4_request']) key = hmac(key, part);
    const signature = createHmac('sha256', key).update(`AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${sha256(canonical)}`).digest('hex');
    const req: SignedRequest = {
      method: 'PUT',
      target: '/bucket/key',
      headers: headerMap({
        host: 'sealbox.test',
        'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
        'x-amz-date': amzDate,
        authorization: `AWS4-HMAC-SHA256 Credential=${creds.accessKeyId}/${scope}, SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-meta-note, Signature=${signature}`,
      }),
    };
    expect(verifyRequest(received(req, 'x-amz-meta-note', one, Buffer.from('two')), s3Options)).not.toBeNull();
    expect(() => verifyRequest(received(req, 'x-amz-meta-note', one), s3Options)).toThrow(mismatch);
    expect(() => verifyRequest(received(req, 'x-amz-meta-note', Buffer.from('two'), one), s3Options)).toThrow(mismatch);
    // The joined value in one header is the same canonical text, as SigV4 defines it.
    expect(verifyRequest(received(req, 'x-amz-meta-note', Buffer.concat([one, Buffer.from(',two')])), s3Options)).not.toBeNull();
  });

  it('an x-amz-* header with non-ASCII bytes outside SignedHeaders is still refused (HeadersNotSigned)', async () => {
    const req = await sign('s3', { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' });
    expect(() => verifyRequest(received(req, 'x-amz-meta-extra', Buffer.from('caf\u00e9', 'utf8')), s3Options)).toThrow(
      expect.objectContaining({ failure: { kind: 'HeadersNotSigned', headers: ['x-amz-meta-extra'] } }),
    );
  });
});
