/**
 * SSE-C: the customer's key encrypts the object and is never stored; every read must bring it again.
 * Over HTTPS, as AWS requires for SSE-C, with the client trusting the Sealbox's generated CA.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Sealbox } from '@sealbox/cli';
import { failure, s3Client, startTestSealbox, tlsS3Client } from './helpers';

let sealbox: Sealbox;
let s3: S3Client;
const dataDir = mkdtempSync(join(tmpdir(), 'sealbox-ssec-'));
const key = randomBytes(32);
const other = randomBytes(32);
// The SDK computes the key's MD5 itself from SSECustomerKey.
const ssec = (k: Buffer) => ({ SSECustomerAlgorithm: 'AES256', SSECustomerKey: k.toString('base64') as unknown as string });

beforeAll(async () => {
  sealbox = await startTestSealbox({ only: 's3', dataDir, tls: true });
  s3 = tlsS3Client(sealbox);
  await s3.send(new CreateBucketCommand({ Bucket: 'ssec' }));
});
afterAll(async () => {
  s3.destroy();
  await sealbox.stop();
});

it('PUT with a customer key; GET and HEAD need the same key', async () => {
  const put = await s3.send(new PutObjectCommand({ Bucket: 'ssec', Key: 'k', Body: 'customer secret', ...ssec(key) }));
  expect(put.SSECustomerAlgorithm).toBe('AES256');
  expect(put.SSECustomerKeyMD5).toBe(createHash('md5').update(key).digest('base64'));
  expect(put.ETag).not.toBe(`"${createHash('md5').update('customer secret').digest('hex')}"`);
  const got = await s3.send(new GetObjectCommand({ Bucket: 'ssec', Key: 'k', ...ssec(key) }));
  expect(await got.Body!.transformToString()).toBe('customer secret');
  expect(got.SSECustomerKeyMD5).toBe(put.SSECustomerKeyMD5);

  const none = await failure(s3.send(new GetObjectCommand({ Bucket: 'ssec', Key: 'k' })));
  expect(none.name).toBe('InvalidRequest');
  expect(none.message).toBe('The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.');
  const wrong = await failure(s3.send(new GetObjectCommand({ Bucket: 'ssec', Key: 'k', ...ssec(other) })));
  expect(wrong.name).toBe('AccessDenied');
  expect((await failure(s3.send(new HeadObjectCommand({ Bucket: 'ssec', Key: 'k' })))).$metadata?.httpStatusCode).toBe(400);
  expect((await s3.send(new HeadObjectCommand({ Bucket: 'ssec', Key: 'k', ...ssec(key) }))).ContentLength).toBe(15);
});

it('key validation', async () => {
  const short = await failure(s3.send(new PutObjectCommand({ Bucket: 'ssec', Key: 'bad', Body: 'x', ...ssec(randomBytes(16)) })));
  expect(short.name).toBe('InvalidArgument');
  expect(short.message).toBe('The secret key was invalid for the specified algorithm.');
  const plain = await s3.send(new PutObjectCommand({ Bucket: 'ssec', Key: 'plain', Body: 'x' }));
  expect(plain.ServerSideEncryption).toBe('AES256');
  const notApplicable = await failure(s3.send(new GetObjectCommand({ Bucket: 'ssec', Key: 'plain', ...ssec(key) })));
  expect(notApplicable.name).toBe('InvalidRequest');
});

it('copy with copy-source SSE-C headers; multipart parts must repeat the key', async () => {
  await s3.send(
    new CopyObjectCommand({
      Bucket: 'ssec',
      Key: 'copied',
      CopySource: 'ssec/k',
      CopySourceSSECustomerAlgorithm: 'AES256',
      CopySourceSSECustomerKey: key.toString('base64'),
      ...ssec(other),
    }),
  );
  expect(await (await s3.send(new GetObjectCommand({ Bucket: 'ssec', Key: 'copied', ...ssec(other) }))).Body!.transformToString()).toBe('customer secret');
  const missingSource = await failure(s3.send(new CopyObjectCommand({ Bucket: 'ssec', Key: 'copied2', CopySource: 'ssec/k' })));
  expect(missingSource.name).toBe('InvalidRequest');

  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'ssec', Key: 'mpu', ...ssec(key) }));
  const wrongPart = await failure(s3.send(new UploadPartCommand({ Bucket: 'ssec', Key: 'mpu', UploadId, PartNumber: 1, Body: 'p', ...ssec(other) })));
  // Another key than the upload's: 400 InvalidRequest (not a read's 403), as AWS answers.
  expect(wrongPart.name).toBe('InvalidRequest');
  expect(wrongPart.$metadata?.httpStatusCode).toBe(400);
  expect(wrongPart.message).toBe('The provided encryption parameters did not match the ones used originally.');
  const part = await s3.send(new UploadPartCommand({ Bucket: 'ssec', Key: 'mpu', UploadId, PartNumber: 1, Body: 'part one', ...ssec(key) }));
  await s3.send(new CompleteMultipartUploadCommand({ Bucket: 'ssec', Key: 'mpu', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }));
  expect(await (await s3.send(new GetObjectCommand({ Bucket: 'ssec', Key: 'mpu', ...ssec(key) }))).Body!.transformToString()).toBe('part one');
});

it('over plain HTTP, SSE-C is refused unless --allow-http-sse-kms', async () => {
  const err = await failure(putOverPlainHttp(false));
  expect(err.name).toBe('InvalidRequest');
  expect(err.message).toBe('Requests specifying Server Side Encryption with Customer provided keys must be made over a secure connection.');
  expect(err.$metadata?.httpStatusCode).toBe(400);
  expect((await putOverPlainHttp(true)).SSECustomerAlgorithm).toBe('AES256');
});

/** An SSE-C PutObject to a fresh, in-memory Sealbox over plain HTTP. */
async function putOverPlainHttp(allowHttpSseKms: boolean) {
  const plain = await startTestSealbox({ only: 's3', allowHttpSseKms });
  const client = s3Client(plain);
  try {
    await client.send(new CreateBucketCommand({ Bucket: 'plain' }));
    return await client.send(new PutObjectCommand({ Bucket: 'plain', Key: 'k', Body: 'x', ...ssec(key) }));
  } finally {
    client.destroy();
    await plain.stop();
  }
}

it('the key is nowhere on disk', () => {
  const files = (dir: string): string[] => readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? files(join(dir, n)) : [join(dir, n)]));
  for (const file of files(dataDir)) {
    const bytes = readFileSync(file);
    expect(bytes.includes(key) || bytes.includes(Buffer.from(key.toString('base64')))).toBe(false);
  }
});
