/**
 * SSE-KMS for real: S3 asks this Sealbox's KMS for a data key on PUT (GenerateDataKey, with the
 * aws:s3:arn context, on the caller's behalf) and to open it on every read (Decrypt), so an
 * object is readable only while KMS lets the caller use its key. Over HTTPS, as AWS requires for
 * SSE-KMS, with clients trusting the Sealbox's generated CA; one test covers plain HTTP.
 */
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  KMSClient,
  ScheduleKeyDeletionCommand,
} from '@aws-sdk/client-kms';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketEncryptionCommand,
  GetBucketEncryptionCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  PutBucketEncryptionCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import type { Sealbox } from '@sealbox/cli';
import aws4 from 'aws4';
import { awsEnv, failure, httpsCall, runCommand, s3Client, startTestSealbox, tlsKmsClient, tlsS3Client } from './helpers';

let sealbox: Sealbox;
let s3: S3Client;
let kms: KMSClient;
let keyArn: string;

beforeAll(async () => {
  sealbox = await startTestSealbox({ tls: true });
  s3 = tlsS3Client(sealbox);
  kms = tlsKmsClient(sealbox);
  keyArn = (await kms.send(new CreateKeyCommand({ Description: 'for s3' }))).KeyMetadata!.Arn!;
  await s3.send(new CreateBucketCommand({ Bucket: 'kms-bucket' }));
});
afterAll(async () => {
  s3.destroy();
  kms.destroy();
  await sealbox.stop();
});

const read = async (Key: string) => (await s3.send(new GetObjectCommand({ Bucket: 'kms-bucket', Key }))).Body!.transformToString();

it('PUT and GET with a customer managed key: headers name the key ARN; the context is echoed on PUT only', async () => {
  const put = await s3.send(
    new PutObjectCommand({
      Bucket: 'kms-bucket',
      Key: 'doc.txt',
      Body: 'secret document',
      ServerSideEncryption: 'aws:kms',
      SSEKMSKeyId: keyArn.split('/')[1],
      SSEKMSEncryptionContext: Buffer.from(JSON.stringify({ team: 'blue' })).toString('base64'),
    }),
  );
  expect(put.ServerSideEncryption).toBe('aws:kms');
  expect(put.SSEKMSKeyId).toBe(keyArn);
  expect(JSON.parse(Buffer.from(put.SSEKMSEncryptionContext!, 'base64').toString())).toEqual({ team: 'blue', 'aws:s3:arn': 'arn:aws:s3:::kms-bucket/doc.txt' });
  expect(put.ETag).toMatch(/^"[0-9a-f]{32}"$/);
  const got = await s3.send(new GetObjectCommand({ Bucket: 'kms-bucket', Key: 'doc.txt' }));
  expect(await got.Body!.transformToString()).toBe('secret document');
  expect(got.ServerSideEncryption).toBe('aws:kms');
  expect(got.SSEKMSKeyId).toBe(keyArn);
  expect(got.$metadata.httpStatusCode).toBe(200);
});

it('without a key id, the AWS managed key alias/aws/s3 is used, created on first use', async () => {
  const put = await s3.send(new PutObjectCommand({ Bucket: 'kms-bucket', Key: 'managed', Body: 'm', ServerSideEncryption: 'aws:kms' }));
  const managed = (await kms.send(new DescribeKeyCommand({ KeyId: 'alias/aws/s3' }))).KeyMetadata!;
  expect(managed.KeyManager).toBe('AWS');
  expect(put.SSEKMSKeyId).toBe(managed.Arn);
  expect(await read('managed')).toBe('m');
});

it('disabling the key makes objects unreadable until it is enabled; pending deletion too', async () => {
  const key = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
  await s3.send(new PutObjectCommand({ Bucket: 'kms-bucket', Key: 'locked', Body: 'locked away', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: key.KeyId }));
  await kms.send(new DisableKeyCommand({ KeyId: key.KeyId }));
  const disabled = await failure(s3.send(new GetObjectCommand({ Bucket: 'kms-bucket', Key: 'locked' })));
  expect(disabled.name).toBe('KMS.DisabledException');
  expect(disabled.message).toBe(`${key.Arn} is disabled.`);
  expect(disabled.$metadata?.httpStatusCode).toBe(400);
  expect((await failure(s3.send(new HeadObjectCommand({ Bucket: 'kms-bucket', Key: 'locked' })))).$metadata?.httpStatusCode).toBe(400);
  await kms.send(new EnableKeyCommand({ KeyId: key.KeyId }));
  expect(await read('locked')).toBe('locked away');
  await kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId, PendingWindowInDays: 7 }));
  const pending = await failure(s3.send(new GetObjectCommand({ Bucket: 'kms-bucket', Key: 'locked' })));
  expect(pending.name).toBe('KMS.KMSInvalidStateException');
  expect(pending.message).toBe(`${key.Arn} is pending deletion.`);
});

it('a key that does not exist fails the PUT with KMS.NotFoundException and stores nothing', async () => {
  const err = await failure(
    s3.send(new PutObjectCommand({ Bucket: 'kms-bucket', Key: 'nokey', Body: 'x', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'alias/does-not-exist' })),
  );
  expect(err.name).toBe('KMS.NotFoundException');
  expect(err.message).toBe('Alias arn:aws:kms:us-east-1:000000000000:alias/does-not-exist is not found.');
  expect((await failure(s3.send(new HeadObjectCommand({ Bucket: 'kms-bucket', Key: 'nokey' })))).$metadata?.httpStatusCode).toBe(404);
});

it('copy re-encrypts: the target gets its own settings; multipart encrypts at initiation', async () => {
  await s3.send(new PutObjectCommand({ Bucket: 'kms-bucket', Key: 'plain', Body: 'to be re-encrypted' }));
  const copied = await s3.send(new CopyObjectCommand({ Bucket: 'kms-bucket', Key: 'plain', CopySource: 'kms-bucket/plain', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyArn }));
  expect(copied.ServerSideEncryption).toBe('aws:kms');
  expect((await s3.send(new HeadObjectCommand({ Bucket: 'kms-bucket', Key: 'plain' }))).SSEKMSKeyId).toBe(keyArn);
  expect(await read('plain')).toBe('to be re-encrypted');

  const mpu = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'kms-bucket', Key: 'mpu', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyArn }));
  expect(mpu.SSEKMSKeyId).toBe(keyArn);
  const part = await s3.send(new UploadPartCommand({ Bucket: 'kms-bucket', Key: 'mpu', UploadId: mpu.UploadId, PartNumber: 1, Body: 'only part' }));
  expect(part.ServerSideEncryption).toBe('aws:kms');
  await s3.send(new CompleteMultipartUploadCommand({ Bucket: 'kms-bucket', Key: 'mpu', UploadId: mpu.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }));
  expect(await read('mpu')).toBe('only part');
});

it('rules: a key id needs aws:kms; unknown algorithms are refused', async () => {
  const noSse = await failure(s3.send(new PutObjectCommand({ Bucket: 'kms-bucket', Key: 'r', Body: 'x', SSEKMSKeyId: keyArn })));
  expect(noSse.name).toBe('InvalidArgument');
  const bad = await failure(s3.send(new PutObjectCommand({ Bucket: 'kms-bucket', Key: 'r', Body: 'x', ServerSideEncryption: 'AES512' as never })));
  expect(bad.name).toBe('InvalidArgument');
  expect(bad.message).toBe('The encryption method specified is not supported');
});

it("KMS's event log shows S3's calls on the caller's behalf", async () => {
  await s3.send(new PutObjectCommand({ Bucket: 'kms-bucket', Key: 'logged', Body: 'l', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyArn }));
  await read('logged');
  const out = await runCommand(
    'aws',
    ['cloudtrail', 'lookup-events', '--no-paginate', '--endpoint-url', sealbox.kms!.url, '--lookup-attributes', 'AttributeKey=ResourceName,AttributeValue=' + keyArn],
    awsEnv(sealbox),
  );
  const records = (JSON.parse(out.stdout) as { Events: { CloudTrailEvent: string }[] }).Events.map((e) => JSON.parse(e.CloudTrailEvent) as Record<string, any>);
  const generate = records.find((r) => r.eventName === 'GenerateDataKey' && r.requestParameters?.encryptionContext?.['aws:s3:arn'] === 'arn:aws:s3:::kms-bucket/logged');
  expect(generate).toMatchObject({
    userIdentity: { type: 'Root', arn: 'arn:aws:iam::000000000000:root', accessKeyId: 'test', invokedBy: 's3.amazonaws.com' },
    sourceIPAddress: 's3.amazonaws.com',
    requestParameters: { keySpec: 'AES_256', encryptionContext: { 'aws:s3:arn': 'arn:aws:s3:::kms-bucket/logged' } },
  });
  expect(records.some((r) => r.eventName === 'Decrypt' && r.userIdentity.invokedBy === 's3.amazonaws.com' && r.requestParameters.encryptionContext['aws:s3:arn'] === 'arn:aws:s3:::kms-bucket/logged')).toBe(true);
});

it('over plain HTTP, SSE-KMS is refused unless --allow-http-sse-kms; a bucket default needs no TLS', async () => {
  const strict = await startTestSealbox();
  const client = s3Client(strict);
  try {
    await client.send(new CreateBucketCommand({ Bucket: 'strict' }));
    const err = await failure(client.send(new PutObjectCommand({ Bucket: 'strict', Key: 'k', Body: 'x', ServerSideEncryption: 'aws:kms' })));
    expect(err.name).toBe('InvalidArgument');
    expect(err.message).toBe('Requests specifying Server Side Encryption with AWS KMS managed keys must be made over a secure connection.');
    expect(err.$metadata?.httpStatusCode).toBe(400);
    // The request itself names no SSE-KMS when the bucket's default supplies it, so plain HTTP will do.
    await client.send(new PutBucketEncryptionCommand({ Bucket: 'strict', ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms' } }] } }));
    const byDefault = await client.send(new PutObjectCommand({ Bucket: 'strict', Key: 'by-default', Body: 'x' }));
    expect(byDefault.ServerSideEncryption).toBe('aws:kms');
  } finally {
    client.destroy();
    await strict.stop();
  }

  const relaxed = await startTestSealbox({ allowHttpSseKms: true });
  const relaxedClient = s3Client(relaxed);
  try {
    expect(relaxed.s3!.url).toMatch(/^http:/);
    await relaxedClient.send(new CreateBucketCommand({ Bucket: 'relaxed' }));
    const put = await relaxedClient.send(new PutObjectCommand({ Bucket: 'relaxed', Key: 'k', Body: 'over http', ServerSideEncryption: 'aws:kms' }));
    expect(put.ServerSideEncryption).toBe('aws:kms');
    expect(await (await relaxedClient.send(new GetObjectCommand({ Bucket: 'relaxed', Key: 'k' }))).Body!.transformToString()).toBe('over http');
  } finally {
    relaxedClient.destroy();
    await relaxed.stop();
  }
});

it('default bucket encryption: aws:kms with a key id applies to writes that name none, and is echoed as given', async () => {
  await s3.send(new CreateBucketCommand({ Bucket: 'default-kms' }));
  const alias = `alias/default-${Date.now()}`;
  await kms.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: keyArn }));
  await s3.send(
    new PutBucketEncryptionCommand({
      Bucket: 'default-kms',
      ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: alias } }] },
    }),
  );
  expect((await s3.send(new GetBucketEncryptionCommand({ Bucket: 'default-kms' }))).ServerSideEncryptionConfiguration!.Rules![0]!.ApplyServerSideEncryptionByDefault).toEqual({
    SSEAlgorithm: 'aws:kms',
    KMSMasterKeyID: alias,
  });
  // (That a bucket default needs no TLS is shown with the plain-HTTP Sealbox above.)
  const put = await s3.send(new PutObjectCommand({ Bucket: 'default-kms', Key: 'k', Body: 'by default' }));
  expect(put.ServerSideEncryption).toBe('aws:kms');
  expect(put.SSEKMSKeyId).toBe(keyArn);
  await s3.send(new DeleteBucketEncryptionCommand({ Bucket: 'default-kms' }));
  expect((await s3.send(new PutObjectCommand({ Bucket: 'default-kms', Key: 'k2', Body: 'x' }))).ServerSideEncryption).toBe('AES256');
});

it('SSE request headers on GET are refused', async () => {
  const url = new URL(sealbox.s3!.url);
  const req = { host: url.host, path: '/kms-bucket/doc.txt', service: 's3', region: 'us-east-1', headers: { 'x-amz-server-side-encryption': 'aws:kms' } as Record<string, string> };
  aws4.sign(req, { accessKeyId: 'test', secretAccessKey: 'test' });
  const res = await httpsCall(sealbox, `${sealbox.s3!.url}${req.path}`, { headers: req.headers });
  expect(res.status).toBe(400);
  expect(res.text).toContain('<Code>InvalidArgument</Code>');
});

it('S3 Bucket Keys: one GenerateDataKey for many objects, with the bucket ARN as context', async () => {
  await s3.send(new CreateBucketCommand({ Bucket: 'bucket-keys' }));
  const { KeyId } = (await kms.send(new CreateKeyCommand({ Description: 'bucket key' }))).KeyMetadata!;
  for (let i = 0; i < 5; i++) {
    const put = await s3.send(
      new PutObjectCommand({ Bucket: 'bucket-keys', Key: `o${i}`, Body: `object ${i}`, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: KeyId, BucketKeyEnabled: true }),
    );
    expect(put.BucketKeyEnabled).toBe(true);
  }
  const got = await s3.send(new GetObjectCommand({ Bucket: 'bucket-keys', Key: 'o3' }));
  expect(got.BucketKeyEnabled).toBe(true);
  expect(await got.Body!.transformToString()).toBe('object 3');
  await s3.send(new CopyObjectCommand({ Bucket: 'bucket-keys', Key: 'copy', CopySource: 'bucket-keys/o1' }));
  expect(await read2('bucket-keys', 'copy')).toBe('object 1');

  const out = await runCommand(
    'aws',
    ['cloudtrail', 'lookup-events', '--no-paginate', '--endpoint-url', sealbox.kms!.url, '--lookup-attributes', 'AttributeKey=EventName,AttributeValue=GenerateDataKey'],
    awsEnv(sealbox),
  );
  const generated = (JSON.parse(out.stdout) as { Events: { CloudTrailEvent: string }[] }).Events.map((e) => JSON.parse(e.CloudTrailEvent) as Record<string, any>).filter(
    (r) => r.requestParameters?.encryptionContext?.['aws:s3:arn'] === 'arn:aws:s3:::bucket-keys',
  );
  expect(generated).toHaveLength(1);
});

const read2 = async (Bucket: string, Key: string) => (await s3.send(new GetObjectCommand({ Bucket, Key }))).Body!.transformToString();

it('DSSE-KMS: two layers, the outer under a KMS data key; ranges decrypt both layers', async () => {
  const body = 'dual-layer '.repeat(20000);
  const put = await s3.send(new PutObjectCommand({ Bucket: 'kms-bucket', Key: 'dsse', Body: body, ServerSideEncryption: 'aws:kms:dsse', SSEKMSKeyId: keyArn }));
  expect(put.ServerSideEncryption).toBe('aws:kms:dsse');
  expect(put.SSEKMSKeyId).toBe(keyArn);
  const got = await s3.send(new GetObjectCommand({ Bucket: 'kms-bucket', Key: 'dsse' }));
  expect(got.ServerSideEncryption).toBe('aws:kms:dsse');
  expect(await got.Body!.transformToString()).toBe(body);
  const range = await s3.send(new GetObjectCommand({ Bucket: 'kms-bucket', Key: 'dsse', Range: 'bytes=65500-131100' }));
  expect(await range.Body!.transformToString()).toBe(body.slice(65500, 131101));
  const withBucketKey = await failure(
    s3.send(new PutObjectCommand({ Bucket: 'kms-bucket', Key: 'dsse2', Body: 'x', ServerSideEncryption: 'aws:kms:dsse', BucketKeyEnabled: true })),
  );
  expect(withBucketKey.name).toBe('InvalidArgument');
});

it('an S3 started without a KMS says so for SSE-KMS requests', async () => {
  const alone = await startTestSealbox({ only: 's3', tls: true });
  const client = tlsS3Client(alone);
  try {
    await client.send(new CreateBucketCommand({ Bucket: 'alone' }));
    const err = await failure(client.send(new PutObjectCommand({ Bucket: 'alone', Key: 'k', Body: 'x', ServerSideEncryption: 'aws:kms' })));
    expect(err.$metadata?.httpStatusCode).toBe(503);
    expect(err.message).toContain('without a KMS');
  } finally {
    client.destroy();
    await alone.stop();
  }
});

/** A caller's encryption context, as the SDK sends it: base64 of the JSON map. */
const context = (map: Record<string, string>) => Buffer.from(JSON.stringify(map)).toString('base64');
const ARN_MISMATCH = "The context value for 'aws:s3:arn' shall be equal to object's ARN";

it("a caller's aws:s3:arn must be the object's ARN: PutObject, CopyObject and CreateMultipartUpload refuse any other", async () => {
  const refused = async (call: Promise<unknown>) => {
    const err = await failure(call);
    expect(err.name).toBe('InvalidArgument');
    expect(err.message).toBe(ARN_MISMATCH);
    expect(err.$metadata?.httpStatusCode).toBe(400);
  };
  const kmsFor = (arn: string) => ({ ServerSideEncryption: 'aws:kms' as const, SSEKMSKeyId: keyArn, SSEKMSEncryptionContext: context({ 'aws:s3:arn': arn }) });
  await s3.send(new PutObjectCommand({ Bucket: 'kms-bucket', Key: 'ctx/source', Body: 'source' }));

  await refused(s3.send(new PutObjectCommand({ Bucket: 'kms-bucket', Key: 'ctx/put', Body: 'x', ...kmsFor('arn:aws:s3:::kms-bucket/ctx/other') })));
  // The bucket ARN too, even with an S3 Bucket Key (whose own KMS context is the bucket ARN).
  await refused(s3.send(new PutObjectCommand({ Bucket: 'kms-bucket', Key: 'ctx/put', Body: 'x', ...kmsFor('arn:aws:s3:::kms-bucket'), BucketKeyEnabled: true })));
  // A copy's target is the object: naming the source's ARN is no better.
  await refused(s3.send(new CopyObjectCommand({ Bucket: 'kms-bucket', Key: 'ctx/copy', CopySource: 'kms-bucket/ctx/source', ...kmsFor('arn:aws:s3:::kms-bucket/ctx/source') })));
  await refused(s3.send(new CreateMultipartUploadCommand({ Bucket: 'kms-bucket', Key: 'ctx/mpu', ...kmsFor('arn:aws:s3:::other-bucket/ctx/mpu') })));
  // Nothing was written or started.
  for (const Key of ['ctx/put', 'ctx/copy']) {
    expect((await failure(s3.send(new HeadObjectCommand({ Bucket: 'kms-bucket', Key })))).$metadata?.httpStatusCode).toBe(404);
  }
  expect((await s3.send(new ListMultipartUploadsCommand({ Bucket: 'kms-bucket', Prefix: 'ctx/' }))).Uploads ?? []).toEqual([]);
});

it("a caller's aws:s3:arn equal to the object's ARN is accepted, with or without a bucket key", async () => {
  const arn = (Key: string) => `arn:aws:s3:::kms-bucket/${Key}`;
  const kmsFor = (Key: string) => ({ ServerSideEncryption: 'aws:kms' as const, SSEKMSKeyId: keyArn, SSEKMSEncryptionContext: context({ 'aws:s3:arn': arn(Key), team: 'red' }) });

  const put = await s3.send(new PutObjectCommand({ Bucket: 'kms-bucket', Key: 'ctx/ok', Body: 'named its own arn', ...kmsFor('ctx/ok') }));
  expect(JSON.parse(Buffer.from(put.SSEKMSEncryptionContext!, 'base64').toString())).toEqual({ team: 'red', 'aws:s3:arn': arn('ctx/ok') });
  expect(await read('ctx/ok')).toBe('named its own arn');

  const copied = await s3.send(new CopyObjectCommand({ Bucket: 'kms-bucket', Key: 'ctx/ok-copy', CopySource: 'kms-bucket/ctx/ok', ...kmsFor('ctx/ok-copy') }));
  expect(copied.ServerSideEncryption).toBe('aws:kms');
  expect(await read('ctx/ok-copy')).toBe('named its own arn');

  const mpu = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'kms-bucket', Key: 'ctx/ok-mpu', ...kmsFor('ctx/ok-mpu') }));
  const part = await s3.send(new UploadPartCommand({ Bucket: 'kms-bucket', Key: 'ctx/ok-mpu', UploadId: mpu.UploadId, PartNumber: 1, Body: 'one part' }));
  await s3.send(new CompleteMultipartUploadCommand({ Bucket: 'kms-bucket', Key: 'ctx/ok-mpu', UploadId: mpu.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }));
  expect(await read('ctx/ok-mpu')).toBe('one part');

  const withBucketKey = await s3.send(new PutObjectCommand({ Bucket: 'kms-bucket', Key: 'ctx/ok-bk', Body: 'bucket key', ...kmsFor('ctx/ok-bk'), BucketKeyEnabled: true }));
  expect(withBucketKey.BucketKeyEnabled).toBe(true);
  expect(await read('ctx/ok-bk')).toBe('bucket key');
});
