/**
 * Adversarial review of the S3 parity fixes of issue 19: the repeated CompleteMultipartUpload
 * answer, DeleteBucket over uploads with a part still being copied, POST forms with oversized
 * fields, and RFC 2047 metadata. Each case is what a client can send; the answers are AWS's.
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { Sealbox } from '@sealbox/cli';
import type { Credentials } from '@sealbox/sigv4';
import { failure, s3Client, startTestSealbox } from './helpers';

const OTHER = '222222222222';
const USERS: Credentials[] = [{ accessKeyId: 'AKIDPARITYOTHER', secretAccessKey: 'other', accountId: OTHER, principalArn: `arn:aws:iam::${OTHER}:root` }];

let sealbox: Sealbox;
let s3: S3Client;
let otherS3: S3Client;
beforeAll(async () => {
  sealbox = await startTestSealbox({ users: USERS, allowHttpSseKms: true });
  s3 = s3Client(sealbox);
  otherS3 = s3Client(sealbox, { credentials: { accessKeyId: 'AKIDPARITYOTHER', secretAccessKey: 'other' } });
});
afterAll(async () => {
  s3.destroy();
  otherS3.destroy();
  await sealbox.stop();
});

const code = (err: Awaited<ReturnType<typeof failure>>) => [err.name, err.$metadata?.httpStatusCode];

/** A one-part upload of `body` to bucket/key, completed; returns its id and the Complete input. */
async function completedUpload(bucket: string, key: string, body: string) {
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
  const { ETag } = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: 1, Body: body }));
  const input = { Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag }] } };
  const first = await s3.send(new CompleteMultipartUploadCommand(input));
  return { input, first };
}

describe('CompleteMultipartUpload repeated after it succeeded', () => {
  beforeAll(async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'complete-again' }));
  });

  it('while the object it made is there: 200 with the same result (held)', async () => {
    const { input, first } = await completedUpload('complete-again', 'same', 'one');
    const again = await s3.send(new CompleteMultipartUploadCommand(input));
    expect([again.ETag, again.Key]).toEqual([first.ETag, first.Key]);
  });

  it('after a PutObject overwrote the key in an unversioned bucket: NoSuchUpload, not the stale ETag', async () => {
    // Found: every write of an unversioned key is version "null", so "the version it made still
    // exists" held over an overwrite, and the replay reported the old ETag for the new object.
    const { input, first } = await completedUpload('complete-again', 'overwritten', 'two');
    const put = await s3.send(new PutObjectCommand({ Bucket: 'complete-again', Key: 'overwritten', Body: 'newer' }));
    expect(put.ETag).not.toBe(first.ETag);
    expect(code(await failure(s3.send(new CompleteMultipartUploadCommand(input))))).toEqual(['NoSuchUpload', 404]);
  });

  it('after the object was deleted and the key written again: NoSuchUpload', async () => {
    const { input } = await completedUpload('complete-again', 'rewritten', 'three');
    await s3.send(new DeleteObjectCommand({ Bucket: 'complete-again', Key: 'rewritten' }));
    expect(code(await failure(s3.send(new CompleteMultipartUploadCommand(input))))).toEqual(['NoSuchUpload', 404]);
    await s3.send(new PutObjectCommand({ Bucket: 'complete-again', Key: 'rewritten', Body: 'again' }));
    expect(code(await failure(s3.send(new CompleteMultipartUploadCommand(input))))).toEqual(['NoSuchUpload', 404]);
  });

  it('after the bucket was deleted and made again with the key: NoSuchUpload', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'complete-reborn' }));
    const { input } = await completedUpload('complete-reborn', 'k', 'four');
    await s3.send(new DeleteObjectCommand({ Bucket: 'complete-reborn', Key: 'k' }));
    await s3.send(new DeleteBucketCommand({ Bucket: 'complete-reborn' }));
    await s3.send(new CreateBucketCommand({ Bucket: 'complete-reborn' }));
    await s3.send(new PutObjectCommand({ Bucket: 'complete-reborn', Key: 'k', Body: 'unrelated' }));
    expect(code(await failure(s3.send(new CompleteMultipartUploadCommand(input))))).toEqual(['NoSuchUpload', 404]);
  });

  it('by another account without permission: AccessDenied, and nothing of the result (held)', async () => {
    const { input } = await completedUpload('complete-again', 'private', 'five');
    const err = await failure(otherS3.send(new CompleteMultipartUploadCommand(input)));
    expect(code(err)).toEqual(['AccessDenied', 403]);
    expect(err.message).toBe('Access Denied');
  });
});

describe('DeleteBucket over uploads while a part is being copied', () => {
  it('the copy that finishes after the bucket is gone answers NoSuchUpload and keeps no part', async () => {
    // Found: UploadPartCopy did not look for its upload again after the copy, so a part (and its
    // blob) was saved for an upload DeleteBucket (or AbortMultipartUpload) had already removed.
    await s3.send(new CreateBucketCommand({ Bucket: 'copy-race-src' }));
    await s3.send(new CreateBucketCommand({ Bucket: 'copy-race-dst' }));
    await s3.send(new PutObjectCommand({ Bucket: 'copy-race-src', Key: 'src', Body: 'copied bytes', ServerSideEncryption: 'aws:kms' }));
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'copy-race-dst', Key: 'k' }));
    // The copy waits on KMS Decrypt (the source's data key) in the middle of the handler.
    sealbox.faults.add({ service: 'kms', operation: 'Decrypt', latencyMs: 1500, count: 1 });
    const copy = failure(s3.send(new UploadPartCopyCommand({ Bucket: 'copy-race-dst', Key: 'k', UploadId, PartNumber: 1, CopySource: 'copy-race-src/src' })));
    await new Promise((r) => setTimeout(r, 500));
    await s3.send(new DeleteBucketCommand({ Bucket: 'copy-race-dst' }));
    expect(code(await copy)).toEqual(['NoSuchUpload', 404]);
  });

  it('the same when the upload is aborted meanwhile', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'copy-race-abort' }));
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'copy-race-abort', Key: 'k' }));
    sealbox.faults.add({ service: 'kms', operation: 'Decrypt', latencyMs: 1500, count: 1 });
    const copy = failure(s3.send(new UploadPartCopyCommand({ Bucket: 'copy-race-abort', Key: 'k', UploadId, PartNumber: 1, CopySource: 'copy-race-src/src' })));
    await new Promise((r) => setTimeout(r, 500));
    await s3.send(new AbortMultipartUploadCommand({ Bucket: 'copy-race-abort', Key: 'k', UploadId }));
    expect(code(await copy)).toEqual(['NoSuchUpload', 404]);
    // The bucket holds nothing: it can be deleted.
    await s3.send(new DeleteBucketCommand({ Bucket: 'copy-race-abort' }));
  });
});

describe('POST forms with large fields before the file', () => {
  const post = async (fields: [string, string][], file = 'x') => {
    const form = new FormData();
    for (const [name, value] of fields) form.append(name, value);
    form.append('file', new Blob([file]), 'f.txt');
    const res = await fetch(`${sealbox.s3!.url}/post-large`, { method: 'POST', body: form });
    return { status: res.status, body: await res.text() };
  };
  beforeAll(async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'post-large' }));
  });

  it('more than 20 KB of fields before the file: 400 MaxPostPreDataLengthExceeded, not a field cut short', async () => {
    // Found: the limit was defined but never applied; busboy cut a field at 64 KB and the rest
    // of the form went on. S3 refuses the form (MaxPostPreDataLengthBytes 20480).
    const res = await post([['key', 'k'], ['x-ignore-pad', 'a'.repeat(21 * 1024)]]);
    expect(res.status).toBe(400);
    expect(res.body).toContain('<Code>MaxPostPreDataLengthExceeded</Code>');
    expect(res.body).toContain('<MaxPostPreDataLengthBytes>20480</MaxPostPreDataLengthBytes>');
  });

  it('many small fields adding up, or one sent as a part with a filename, count the same', async () => {
    const many = await post([['key', 'k'], ...Array.from({ length: 30 }, (_, i): [string, string] => [`x-ignore-f${i}`, 'b'.repeat(800)])]);
    expect(many.body).toContain('<Code>MaxPostPreDataLengthExceeded</Code>');
    const form = new FormData();
    form.append('key', 'k');
    form.append('x-ignore-pad', new Blob(['c'.repeat(30 * 1024)]), 'pad.txt');
    form.append('file', new Blob(['x']), 'f.txt');
    const res = await fetch(`${sealbox.s3!.url}/post-large`, { method: 'POST', body: form });
    expect([res.status, await res.text()]).toEqual([400, expect.stringContaining('<Code>MaxPostPreDataLengthExceeded</Code>')]);
  });

  it('fields under the limit go on to the signature check (an unsigned form: AccessDenied), and a large field after the file is ignored', async () => {
    const small = await post([['key', 'k'], ['x-ignore-pad', 'a'.repeat(10 * 1024)]]);
    expect([small.status, small.body]).toEqual([403, expect.stringContaining('<Code>AccessDenied</Code>')]);
    const form = new FormData();
    form.append('key', 'k');
    form.append('file', new Blob(['x']), 'f.txt');
    form.append('x-ignore-after', 'd'.repeat(40 * 1024));
    const res = await fetch(`${sealbox.s3!.url}/post-large`, { method: 'POST', body: form });
    expect(res.status).toBe(403);
  });
});

describe('x-amz-meta-* values in RFC 2047 encoded words', () => {
  beforeAll(async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'meta-2047' }));
  });

  it('a Q word decodes; a value that decodes to CR LF goes out encoded again, never as a raw header line (held)', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'meta-2047', Key: 'q', Body: 'x', Metadata: { note: '=?UTF-8?Q?caf=C3=A9?=' } }));
    expect((await s3.send(new HeadObjectCommand({ Bucket: 'meta-2047', Key: 'q' }))).Metadata).toEqual({ note: '=?UTF-8?B?Y2Fmw6k=?=' });
    const injected = '=?UTF-8?B?' + Buffer.from('a\r\nx-amz-meta-evil: 1\r\n').toString('base64') + '?=';
    await s3.send(new PutObjectCommand({ Bucket: 'meta-2047', Key: 'crlf', Body: 'x', Metadata: { note: injected } }));
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'meta-2047', Key: 'crlf' }));
    expect(head.Metadata).toEqual({ note: injected });
    expect(head.Metadata!.evil).toBeUndefined();
  });

  it('the 2 KB limit counts the decoded bytes: exactly 2048 is taken, 2049 refused (held)', async () => {
    // name "n" (1 byte) + value: 2047 bytes, of which é (2 bytes) sent as an encoded word.
    const value = (n: number) => '=?UTF-8?Q?' + 'a'.repeat(n - 2) + '=C3=A9?=';
    await s3.send(new PutObjectCommand({ Bucket: 'meta-2047', Key: 'limit', Body: 'x', Metadata: { n: value(2047) } }));
    const err = await failure(s3.send(new PutObjectCommand({ Bucket: 'meta-2047', Key: 'limit', Body: 'x', Metadata: { n: value(2048) } })));
    expect(code(err)).toEqual(['MetadataTooLarge', 400]);
    const got = await s3.send(new GetObjectCommand({ Bucket: 'meta-2047', Key: 'limit' }));
    expect(Buffer.from(/^=\?UTF-8\?B\?(.*)\?=$/.exec(got.Metadata!.n!)![1]!, 'base64').toString('utf8')).toBe('a'.repeat(2045) + '\u00e9');
    await got.Body!.transformToString();
  });
});
