/** --tls: both services over HTTPS with a local CA; SSE-KMS then needs no --allow-http-sse-kms. */
import { Agent } from 'node:https';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateKeyCommand, GenerateRandomCommand } from '@aws-sdk/client-kms';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { kmsClient, runCommand, s3Client, startTestSealbox } from './helpers';

it('serves HTTPS that SDKs, the AWS CLI and boto3 trust through AWS_CA_BUNDLE', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sealbox-tls-'));
  const sealbox = await startTestSealbox({ tls: true, dataDir });
  expect(sealbox.kms!.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  expect(sealbox.s3!.url).toMatch(/^https:/);
  expect(sealbox.caBundle).toBe(join(dataDir, 'ca.pem'));
  expect(statSync(join(dataDir, 'ca.key')).mode & 0o777).toBe(0o600);
  const requestHandler = { httpsAgent: new Agent({ ca: sealbox.ca }) };
  const kms = kmsClient(sealbox, { requestHandler });
  const s3 = s3Client(sealbox, { requestHandler });
  try {
    expect((await kms.send(new GenerateRandomCommand({ NumberOfBytes: 8 }))).Plaintext).toHaveLength(8);
    const { KeyId } = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
    await s3.send(new CreateBucketCommand({ Bucket: 'tls' }));
    const put = await s3.send(new PutObjectCommand({ Bucket: 'tls', Key: 'k', Body: 'over tls', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: KeyId }));
    expect(put.ServerSideEncryption).toBe('aws:kms');
    expect(await (await s3.send(new GetObjectCommand({ Bucket: 'tls', Key: 'k' }))).Body!.transformToString()).toBe('over tls');

    const env = {
      AWS_ENDPOINT_URL_KMS: sealbox.kms!.url,
      AWS_ENDPOINT_URL_S3: sealbox.s3!.url,
      AWS_CA_BUNDLE: sealbox.caBundle!,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_DEFAULT_REGION: 'us-east-1',
    };
    const cli = await runCommand('aws', ['s3api', 'put-object', '--bucket', 'tls', '--key', 'cli', '--server-side-encryption', 'aws:kms', '--ssekms-key-id', KeyId!], env);
    expect(cli.stderr).toBe('');
    expect((JSON.parse(cli.stdout) as { ServerSideEncryption: string }).ServerSideEncryption).toBe('aws:kms');
    const py = await runCommand('python3', ['-c', "import boto3; print(boto3.client('s3').get_object(Bucket='tls', Key='k')['Body'].read().decode())"], env);
    expect(py.stdout.trim()).toBe('over tls');
  } finally {
    kms.destroy();
    s3.destroy();
    await sealbox.stop();
  }
  // The same CA is used again after a restart, so clients keep trusting it.
  const again = await startTestSealbox({ tls: true, dataDir });
  expect(again.ca).toBe(sealbox.ca);
  await again.stop();
});
