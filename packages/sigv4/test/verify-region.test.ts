// The credential scope's region when the service names one (S3: the bucket's region): any name
// the service was configured with is accepted when the scope names exactly it; the shape check
// (InvalidRegion) is only for services that serve every region on one endpoint (KMS).
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-signing-elements.html
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { SigV4Error, StaticCredentialProvider, headerMap, verifyRequest, type SignedRequest } from '../src';

const creds = { accessKeyId: 'AKIDSEALBOX', secretAccessKey: 'sealbox-secret', accountId: '123456789012', principalArn: 'arn:aws:iam::123456789012:root' };
const credentials = new StaticCredentialProvider([creds]);
const NOW = new Date('2026-03-01T10:00:00Z');

async function signed(region: string): Promise<SignedRequest> {
  const signer = new SignatureV4({ credentials: creds, region, service: 's3', sha256: Sha256, uriEscapePath: false });
  const request = await signer.sign(
    { method: 'GET', protocol: 'https:', hostname: 'sealbox.test', path: '/bucket/key', query: {}, headers: { host: 'sealbox.test', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } },
    { signingDate: NOW },
  );
  return { method: 'GET', target: '/bucket/key', headers: headerMap(request.headers as Record<string, string>) };
}

describe('a region the service names', () => {
  it('is accepted whatever its shape when the scope names exactly it', async () => {
    for (const region of ['local', 'eu-west-1', 'x']) {
      const verified = verifyRequest(await signed(region), { service: 's3', region, now: NOW, credentials });
      expect(verified?.scope.region).toBe(region);
    }
  });

  it('another region in the scope is WrongRegion, not InvalidRegion', async () => {
    try {
      verifyRequest(await signed('Local'), { service: 's3', region: 'local', now: NOW, credentials });
      throw new Error('verified');
    } catch (e) {
      expect(e).toBeInstanceOf(SigV4Error);
      expect((e as SigV4Error).failure).toEqual({ kind: 'WrongRegion', region: 'Local', expected: 'local', mechanism: 'header' });
    }
  });
});
