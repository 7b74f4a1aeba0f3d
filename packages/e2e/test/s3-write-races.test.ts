/**
 * A configuration write whose body is still arriving must not undo what other requests did
 * meanwhile: the bucket (or the object version) is read again once the body is in. Before, each
 * handler wrote back the record it had read before awaiting the body, so a PutBucketTagging that
 * was slow to arrive removed a bucket policy put in the meantime, brought back a bucket deleted in
 * the meantime, and a PutObjectTagging wrote the overwritten version back over the new one (the
 * acknowledged PUT lost, the key pointing at removed bytes).
 */
import { connect } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetBucketPolicyCommand,
  GetBucketTaggingCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadBucketCommand,
  PutBucketPolicyCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { Sealbox } from '@sealbox/cli';
import aws4 from 'aws4';
import { failure, s3Client, startTestSealbox } from './helpers';

let dir: string;
let sealbox: Sealbox;
let s3: S3Client;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sealbox-write-races-'));
  sealbox = await startTestSealbox({ dataDir: join(dir, 'data'), tls: false });
  s3 = s3Client(sealbox);
});
afterAll(async () => {
  await sealbox?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * Sends a signed PUT whose body arrives in two halves, running `meanwhile` between them (once the
 * server has the headers and half the body); resolves with the raw response.
 */
async function slowPut(path: string, body: string, meanwhile: () => Promise<unknown>): Promise<string> {
  const { host, port } = new URL(sealbox.s3!.url);
  const req = { host, method: 'PUT', path, service: 's3', region: 'us-east-1', headers: { 'Content-Type': 'application/xml' } as Record<string, string>, body };
  aws4.sign(req, { accessKeyId: 'test', secretAccessKey: 'test' });
  const head = `PUT ${path} HTTP/1.1\r\n${Object.entries(req.headers)
    .map(([k, v]) => `${k}: ${v}`)
    .join('\r\n')}\r\nConnection: close\r\n\r\n`;
  const socket = connect(Number(port), '127.0.0.1');
  let answer = '';
  socket.setEncoding('utf8').on('data', (c: string) => (answer += c));
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  const half = Math.floor(body.length / 2);
  socket.write(head + body.slice(0, half));
  await new Promise((r) => setTimeout(r, 100));
  await meanwhile();
  socket.end(body.slice(half));
  await closed;
  return answer;
}

const TAGGING = '<Tagging><TagSet><Tag><Key>team</Key><Value>blue</Value></Tag></TagSet></Tagging>';
const status = (raw: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1]);

describe('a configuration write does not undo what happened while its body arrived', () => {
  it('PutBucketTagging keeps a bucket policy put meanwhile', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'race-policy' }));
    const policy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Deny', Principal: '*', Action: 's3:DeleteObject', Resource: 'arn:aws:s3:::race-policy/*' }],
    });
    const raw = await slowPut('/race-policy?tagging', TAGGING, () => s3.send(new PutBucketPolicyCommand({ Bucket: 'race-policy', Policy: policy })));
    expect(status(raw)).toBe(204);
    expect((await s3.send(new GetBucketPolicyCommand({ Bucket: 'race-policy' }))).Policy).toBe(policy);
    expect((await s3.send(new GetBucketTaggingCommand({ Bucket: 'race-policy' }))).TagSet).toEqual([{ Key: 'team', Value: 'blue' }]);
  });

  it('PutBucketTagging of a bucket deleted meanwhile answers NoSuchBucket and does not bring it back', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'race-deleted' }));
    const raw = await slowPut('/race-deleted?tagging', TAGGING, () => s3.send(new DeleteBucketCommand({ Bucket: 'race-deleted' })));
    expect(status(raw)).toBe(404);
    expect(raw).toContain('<Code>NoSuchBucket</Code>');
    expect((await failure(s3.send(new HeadBucketCommand({ Bucket: 'race-deleted' })))).name).toBe('NotFound');
  });

  it('PutObject into a bucket deleted while its body arrived answers NoSuchBucket and leaves no object behind', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'race-put-deleted' }));
    const raw = await slowPut('/race-put-deleted/k', 'a body for a bucket that goes away', () => s3.send(new DeleteBucketCommand({ Bucket: 'race-put-deleted' })));
    expect(status(raw)).toBe(404);
    expect(raw).toContain('<Code>NoSuchBucket</Code>');
    expect((await failure(s3.send(new HeadBucketCommand({ Bucket: 'race-put-deleted' })))).name).toBe('NotFound');
    // A bucket of the same name made again is empty.
    await s3.send(new CreateBucketCommand({ Bucket: 'race-put-deleted' }));
    expect((await failure(s3.send(new GetObjectCommand({ Bucket: 'race-put-deleted', Key: 'k' })))).name).toBe('NoSuchKey');
    await s3.send(new DeleteBucketCommand({ Bucket: 'race-put-deleted' }));
  });

  it('PutObjectTagging tags the object that is there once its body is in, and loses no overwrite', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'race-object' }));
    await s3.send(new PutObjectCommand({ Bucket: 'race-object', Key: 'k', Body: 'the old body' }));
    const raw = await slowPut('/race-object/k?tagging', TAGGING, () => s3.send(new PutObjectCommand({ Bucket: 'race-object', Key: 'k', Body: 'the new body' })));
    expect(status(raw)).toBe(200);
    const got = await s3.send(new GetObjectCommand({ Bucket: 'race-object', Key: 'k' }));
    expect(await got.Body!.transformToString()).toBe('the new body');
    expect((await s3.send(new GetObjectTaggingCommand({ Bucket: 'race-object', Key: 'k' }))).TagSet).toEqual([{ Key: 'team', Value: 'blue' }]);
  });

  it('PutObjectAcl of an object deleted meanwhile answers NoSuchKey and does not bring it back', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'race-acl', ObjectOwnership: 'ObjectWriter' }));
    await s3.send(new PutObjectCommand({ Bucket: 'race-acl', Key: 'k', Body: 'body' }));
    const acl =
      '<AccessControlPolicy><Owner><ID>' +
      'f'.repeat(64) +
      '</ID></Owner><AccessControlList></AccessControlList></AccessControlPolicy>';
    const raw = await slowPut('/race-acl/k?acl', acl, () => s3.send(new DeleteObjectCommand({ Bucket: 'race-acl', Key: 'k' })));
    expect(status(raw)).toBe(404);
    expect(raw).toContain('<Code>NoSuchKey</Code>');
    expect((await failure(s3.send(new GetObjectCommand({ Bucket: 'race-acl', Key: 'k' })))).name).toBe('NoSuchKey');
  });
});
