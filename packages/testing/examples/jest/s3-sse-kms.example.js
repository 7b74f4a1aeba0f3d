// Any test file: the SDK clients take their endpoints from the environment global-setup filled.
const { CreateKeyCommand, KMSClient } = require('@aws-sdk/client-kms');
const { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } = require('@aws-sdk/client-s3');

const kms = new KMSClient({});
const s3 = new S3Client({ forcePathStyle: true });

test('an SSE-KMS object round-trips through the sandbox', async () => {
  const { KeyMetadata } = await kms.send(new CreateKeyCommand({}));
  await s3.send(new CreateBucketCommand({ Bucket: 'example' }));
  const put = await s3.send(new PutObjectCommand({ Bucket: 'example', Key: 'k', Body: 'hi', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: KeyMetadata.KeyId }));
  expect(put.SSEKMSKeyId).toBe(KeyMetadata.Arn);
  const got = await s3.send(new GetObjectCommand({ Bucket: 'example', Key: 'k' }));
  expect(await got.Body.transformToString()).toBe('hi');
});
