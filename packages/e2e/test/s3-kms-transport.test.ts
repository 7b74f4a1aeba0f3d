import { CreateKeyCommand, EncryptCommand } from '@aws-sdk/client-kms';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { Sealbox } from '@sealbox/cli';
import { failure, kmsClient, s3Client, startTestSealbox, tlsKmsClient } from './helpers';

/**
 * The key policy many teams put on every key: nothing over plain HTTP. S3 calls KMS on its
 * callers' behalf over TLS in AWS, whatever transport the caller used to reach S3, so the policy
 * never stands in SSE-KMS's way; a caller of KMS itself over plain HTTP is refused. Sealbox's S3
 * reaches its own KMS in the same process (plain HTTP on this machine's loopback, not TLS: a TLS
 * session per hop is about 5-8% of a 1 MiB SSE-KMS request's CPU, and nothing off the machine
 * sees that traffic), and KMS gives S3's calls aws:SecureTransport true, as AWS's are.
 */
const TLS_ONLY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    { Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::000000000000:root' }, Action: 'kms:*', Resource: '*' },
    { Sid: 'DenyPlainHttp', Effect: 'Deny', Principal: { AWS: '*' }, Action: 'kms:*', Resource: '*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } },
  ],
});
const DENIED = (arn: string, action: string) =>
  `User: arn:aws:iam::000000000000:root is not authorized to perform: kms:${action} on resource: ${arn} with an explicit deny in a resource-based policy`;

describe.each([
  ['with TLS on (the S3 client over plain HTTP)', true],
  ['with --no-tls', false],
])('a key policy that denies plain HTTP, %s', (_name, tls) => {
  let sealbox: Sealbox;
  beforeAll(async () => {
    sealbox = await startTestSealbox({ tls, allowHttpSseKms: true });
  });
  afterAll(() => sealbox.stop());

  it("lets S3's SSE-KMS calls through and refuses KMS calls made over plain HTTP", async () => {
    const kms = tls ? tlsKmsClient(sealbox) : kmsClient(sealbox);
    // Without TLS no call could change this policy again: KMS's lockout check says so unless bypassed.
    const key = (await kms.send(new CreateKeyCommand({ Policy: TLS_ONLY, BypassPolicyLockoutSafetyCheck: !tls }))).KeyMetadata!;
    // Plain HTTP to S3 (allowed by --allow-http-sse-kms); S3's own calls to KMS are its own.
    const s3 = s3Client(sealbox, { endpoint: sealbox.s3!.httpUrl });
    await s3.send(new CreateBucketCommand({ Bucket: 'tls-only-key' }));
    await s3.send(new PutObjectCommand({ Bucket: 'tls-only-key', Key: 'k', Body: 'sealed', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: key.KeyId }));
    expect(await (await s3.send(new GetObjectCommand({ Bucket: 'tls-only-key', Key: 'k' }))).Body!.transformToString()).toBe('sealed');

    const plain = kmsClient(sealbox, { endpoint: sealbox.kms!.httpUrl });
    const err = await failure(plain.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x') })));
    expect(err.name).toBe('AccessDeniedException');
    expect(err.message).toBe(DENIED(key.Arn!, 'Encrypt'));
    if (tls) await kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x') }));
  });
});
