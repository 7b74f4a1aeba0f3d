/** SSE-S3 at rest: every object is ciphertext on disk, under keys wrapped by the data directory's root key. */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetBucketEncryptionCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { failure, s3Client, startTestSealbox } from './helpers';

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

it('objects are encrypted at rest; reads, ranges, copies and multipart see plaintext', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sealbox-sse-'));
  const sealbox = await startTestSealbox({ only: 's3', dataDir });
  const s3 = s3Client(sealbox);
  const canary = 'SEALBOX-CANARY-' + 'plaintext that must never reach the disk '.repeat(4000);
  try {
    await s3.send(new CreateBucketCommand({ Bucket: 'sse' }));
    expect((await s3.send(new GetBucketEncryptionCommand({ Bucket: 'sse' }))).ServerSideEncryptionConfiguration!.Rules).toEqual([
      { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' }, BucketKeyEnabled: false },
    ]);
    const put = await s3.send(new PutObjectCommand({ Bucket: 'sse', Key: 'canary', Body: canary }));
    expect(put.ServerSideEncryption).toBe('AES256');
    const got = await s3.send(new GetObjectCommand({ Bucket: 'sse', Key: 'canary' }));
    expect(got.ServerSideEncryption).toBe('AES256');
    expect(await got.Body!.transformToString()).toBe(canary);
    const range = await s3.send(new GetObjectCommand({ Bucket: 'sse', Key: 'canary', Range: 'bytes=65530-65545' }));
    expect(await range.Body!.transformToString()).toBe(canary.slice(65530, 65546));
    expect((await s3.send(new CopyObjectCommand({ Bucket: 'sse', Key: 'copy', CopySource: 'sse/canary' }))).ServerSideEncryption).toBe('AES256');
    expect(await (await s3.send(new GetObjectCommand({ Bucket: 'sse', Key: 'copy' }))).Body!.transformToString()).toBe(canary);

    const mpu = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'sse', Key: 'multi' }));
    expect(mpu.ServerSideEncryption).toBe('AES256');
    const part1 = Buffer.from(canary.repeat(40).slice(0, 5 * 1024 * 1024));
    const p1 = await s3.send(new UploadPartCommand({ Bucket: 'sse', Key: 'multi', UploadId: mpu.UploadId, PartNumber: 1, Body: part1 }));
    const p2 = await s3.send(new UploadPartCommand({ Bucket: 'sse', Key: 'multi', UploadId: mpu.UploadId, PartNumber: 2, Body: canary }));
    await s3.send(
      new CompleteMultipartUploadCommand({ Bucket: 'sse', Key: 'multi', UploadId: mpu.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag }, { PartNumber: 2, ETag: p2.ETag }] } }),
    );
    const whole = await (await s3.send(new GetObjectCommand({ Bucket: 'sse', Key: 'multi' }))).Body!.transformToString();
    expect(whole).toBe(part1.toString() + canary);
    expect((await s3.send(new HeadObjectCommand({ Bucket: 'sse', Key: 'multi' }))).ServerSideEncryption).toBe('AES256');

    // SSE-KMS over plain HTTP is refused, as AWS refuses it (see s3-sse-kms and tls tests).
    const kms = await failure(s3.send(new PutObjectCommand({ Bucket: 'sse', Key: 'kms', Body: 'x', ServerSideEncryption: 'aws:kms' })));
    expect(kms.name).toBe('InvalidArgument');
    const dsse = await failure(s3.send(new PutObjectCommand({ Bucket: 'sse', Key: 'dsse', Body: 'x', ServerSideEncryption: 'aws:kms:dsse' })));
    expect(dsse.name).toBe('InvalidArgument');
  } finally {
    s3.destroy();
    await sealbox.stop();
  }
  expect(statSync(join(dataDir, 's3.key')).mode & 0o777).toBe(0o600);
  // Every byte of the plaintext is looked for, not only its start: each 64 KiB segment of every
  // object holds the repeated sentence, and each 16-byte window of the canary is a needle of its
  // own (any stored run of 16 plaintext bytes, wherever it falls, would be found).
  const needles = new Set<string>(['SEALBOX-CANARY', 'plaintext that must never reach the disk']);
  for (let at = 0; at < 15 + 41; at++) needles.add(canary.slice(at, at + 16));
  for (const file of filesUnder(dataDir)) {
    const bytes = readFileSync(file);
    expect({ file, found: [...needles].filter((n) => bytes.includes(n)) }).toEqual({ file, found: [] });
  }
});
