/** Bucket policies, enforced on every request through @sealbox/policy. */
import {
  CreateBucketCommand,
  DeleteBucketPolicyCommand,
  DeletePublicAccessBlockCommand,
  GetBucketPolicyCommand,
  GetObjectCommand,
  PutBucketEncryptionCommand,
  PutBucketPolicyCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { CreateKeyCommand } from '@aws-sdk/client-kms';
import type { Sealbox } from '@sealbox/cli';
import { failure, kmsClient, s3Client, startTestSealbox } from './helpers';

let sealbox: Sealbox;
let s3: S3Client;
beforeAll(async () => {
  sealbox = await startTestSealbox({
    allowHttpSseKms: true,
    users: [{ accessKeyId: 'AKIDOTHER', secretAccessKey: 'other', accountId: '111111111111', principalArn: 'arn:aws:iam::111111111111:root' }],
  });
  s3 = s3Client(sealbox);
});
afterAll(async () => {
  s3.destroy();
  await sealbox.stop();
});

it('the SSE-KMS guide example: deny PutObject unless x-amz-server-side-encryption is aws:kms', async () => {
  await s3.send(new CreateBucketCommand({ Bucket: 'require-kms' }));
  const policy = {
    Version: '2012-10-17',
    Id: 'PutObjectPolicy',
    Statement: [
      {
        Sid: 'DenyIncorrectEncryptionHeader',
        Effect: 'Deny',
        Principal: '*',
        Action: 's3:PutObject',
        Resource: 'arn:aws:s3:::require-kms/*',
        Condition: { StringNotEquals: { 's3:x-amz-server-side-encryption': 'aws:kms' } },
      },
      {
        Sid: 'DenyUnencryptedObjectUploads',
        Effect: 'Deny',
        Principal: '*',
        Action: 's3:PutObject',
        Resource: 'arn:aws:s3:::require-kms/*',
        Condition: { Null: { 's3:x-amz-server-side-encryption': 'true' } },
      },
    ],
  };
  await s3.send(new PutBucketPolicyCommand({ Bucket: 'require-kms', Policy: JSON.stringify(policy) }));
  expect(JSON.parse((await s3.send(new GetBucketPolicyCommand({ Bucket: 'require-kms' }))).Policy!)).toEqual(policy);
  expect((await failure(s3.send(new PutObjectCommand({ Bucket: 'require-kms', Key: 'plain', Body: 'x' })))).name).toBe('AccessDenied');
  expect((await failure(s3.send(new PutObjectCommand({ Bucket: 'require-kms', Key: 'aes', Body: 'x', ServerSideEncryption: 'AES256' })))).name).toBe('AccessDenied');
  const ok = await s3.send(new PutObjectCommand({ Bucket: 'require-kms', Key: 'kms', Body: 'x', ServerSideEncryption: 'aws:kms' }));
  expect(ok.ServerSideEncryption).toBe('aws:kms');
  // A write relying on the bucket default sends no header, so Null: true denies it even though
  // the default would encrypt with aws:kms, exactly as AWS documents.
  await s3.send(new PutBucketEncryptionCommand({ Bucket: 'require-kms', ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms' } }] } }));
  expect((await failure(s3.send(new PutObjectCommand({ Bucket: 'require-kms', Key: 'default', Body: 'x' })))).name).toBe('AccessDenied');
});

it('the second example: require a specific KMS key ARN', async () => {
  const kms = kmsClient(sealbox);
  const { Arn } = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
  kms.destroy();
  await s3.send(new CreateBucketCommand({ Bucket: 'require-key' }));
  await s3.send(
    new PutBucketPolicyCommand({
      Bucket: 'require-key',
      Policy: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Deny',
            Principal: '*',
            Action: 's3:PutObject',
            Resource: 'arn:aws:s3:::require-key/*',
            Condition: { StringNotLikeIfExists: { 's3:x-amz-server-side-encryption-aws-kms-key-id': Arn } },
          },
        ],
      }),
    }),
  );
  expect((await failure(s3.send(new PutObjectCommand({ Bucket: 'require-key', Key: 'k', Body: 'x', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'alias/aws/s3' })))).name).toBe('AccessDenied');
  await s3.send(new PutObjectCommand({ Bucket: 'require-key', Key: 'k', Body: 'x', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: Arn }));
});

it('a policy can grant another account and anonymous readers; the owner root can always remove it', async () => {
  await s3.send(new CreateBucketCommand({ Bucket: 'shared' }));
  await s3.send(new PutObjectCommand({ Bucket: 'shared', Key: 'public.txt', Body: 'for everyone' }));
  // New buckets block public policies (BlockPublicPolicy) and their use (RestrictPublicBuckets).
  await s3.send(new DeletePublicAccessBlockCommand({ Bucket: 'shared' }));
  const other = s3Client(sealbox, { credentials: { accessKeyId: 'AKIDOTHER', secretAccessKey: 'other' } });
  try {
    expect((await failure(other.send(new GetObjectCommand({ Bucket: 'shared', Key: 'public.txt' })))).name).toBe('AccessDenied');
    await s3.send(
      new PutBucketPolicyCommand({
        Bucket: 'shared',
        Policy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Principal: { AWS: '111111111111' }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::shared/*' },
            { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::shared/public.txt' },
            { Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: 'arn:aws:s3:::shared/*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } },
          ],
        }),
      }),
    );
    // Over plain HTTP the deny wins, for everyone including the owner; the root can still remove the policy.
    expect((await failure(other.send(new GetObjectCommand({ Bucket: 'shared', Key: 'public.txt' })))).name).toBe('AccessDenied');
    expect((await failure(s3.send(new GetObjectCommand({ Bucket: 'shared', Key: 'public.txt' })))).name).toBe('AccessDenied');
    await s3.send(new PutBucketPolicyCommand({ Bucket: 'shared', Policy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::shared/public.txt' }] }) }));
    expect(await (await other.send(new GetObjectCommand({ Bucket: 'shared', Key: 'public.txt' }))).Body!.transformToString()).toBe('for everyone');
    const anonymous = await fetch(`${sealbox.s3!.url}/shared/public.txt`);
    expect(await anonymous.text()).toBe('for everyone');
    expect((await fetch(`${sealbox.s3!.url}/shared/other.txt`)).status).toBe(403);
    await s3.send(new DeleteBucketPolicyCommand({ Bucket: 'shared' }));
    expect((await failure(s3.send(new GetBucketPolicyCommand({ Bucket: 'shared' })))).name).toBe('NoSuchBucketPolicy');
  } finally {
    other.destroy();
  }
});

it('malformed policies are refused', async () => {
  await s3.send(new CreateBucketCommand({ Bucket: 'malformed' }));
  const err = await failure(s3.send(new PutBucketPolicyCommand({ Bucket: 'malformed', Policy: '{"Statement":[{"Effect":"Maybe"}]}' })));
  expect(err.name).toBe('MalformedPolicy');
  expect(err.$metadata?.httpStatusCode).toBe(400);
});

it('s3:ExistingObjectTag and s3:RequestObjectTag conditions', async () => {
  await s3.send(new CreateBucketCommand({ Bucket: 'tagged-policy' }));
  await s3.send(new PutObjectCommand({ Bucket: 'tagged-policy', Key: 'secret', Body: 's', Tagging: 'class=secret' }));
  await s3.send(new PutObjectCommand({ Bucket: 'tagged-policy', Key: 'open', Body: 'o', Tagging: 'class=open' }));
  await s3.send(
    new PutBucketPolicyCommand({
      Bucket: 'tagged-policy',
      Policy: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Deny', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::tagged-policy/*', Condition: { StringEquals: { 's3:ExistingObjectTag/class': 'secret' } } },
          { Effect: 'Deny', Principal: '*', Action: 's3:PutObject', Resource: 'arn:aws:s3:::tagged-policy/*', Condition: { 'ForAnyValue:StringEquals': { 's3:RequestObjectTagKeys': ['forbidden'] } } },
        ],
      }),
    }),
  );
  expect((await failure(s3.send(new GetObjectCommand({ Bucket: 'tagged-policy', Key: 'secret' })))).name).toBe('AccessDenied');
  expect(await (await s3.send(new GetObjectCommand({ Bucket: 'tagged-policy', Key: 'open' }))).Body!.transformToString()).toBe('o');
  expect((await failure(s3.send(new PutObjectCommand({ Bucket: 'tagged-policy', Key: 'n', Body: 'n', Tagging: 'forbidden=1' })))).name).toBe('AccessDenied');
  await s3.send(new PutObjectCommand({ Bucket: 'tagged-policy', Key: 'n', Body: 'n', Tagging: 'fine=1' }));
});
