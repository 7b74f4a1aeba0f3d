/** S3 core through @aws-sdk/client-s3: buckets, objects, conditions, ranges, copy, listing, versioning, multipart. */
import { createHash, randomBytes } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketLocationCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListMultipartUploadsCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  ListPartsCommand,
  PutBucketTaggingCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
  GetBucketTaggingCommand,
  DeleteBucketCorsCommand,
  DeleteBucketOwnershipControlsCommand,
  DeletePublicAccessBlockCommand,
  GetBucketAclCommand,
  GetBucketCorsCommand,
  GetBucketOwnershipControlsCommand,
  GetObjectAclCommand,
  GetObjectAttributesCommand,
  GetPublicAccessBlockCommand,
  PutBucketCorsCommand,
  PutBucketOwnershipControlsCommand,
  PutPublicAccessBlockCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { Sealbox } from '@sealbox/cli';
import aws4 from 'aws4';
import { connect, type Socket } from 'node:net';
import { failure, s3Client, startTestSealbox } from './helpers';

let sealbox: Sealbox;
let s3: S3Client;
let n = 0;
const bucketName = () => `bucket-${process.pid}-${++n}`;
const md5 = (b: Buffer | string) => createHash('md5').update(b).digest('hex');
const text = async (body: unknown) => Buffer.from(await (body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());

async function newBucket(versioned = false): Promise<string> {
  const name = bucketName();
  await s3.send(new CreateBucketCommand({ Bucket: name }));
  if (versioned) await s3.send(new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: 'Enabled' } }));
  return name;
}

async function expectS3Error(promise: Promise<unknown>, name: string, status: number) {
  const err = await failure(promise);
  expect({ name: err.name, status: err.$metadata?.httpStatusCode }).toEqual({ name, status });
  return err as Error & Record<string, unknown>;
}

beforeAll(async () => {
  sealbox = await startTestSealbox({ users: [{ accessKeyId: 'AKIDOTHER', secretAccessKey: 'other', accountId: '111111111111', principalArn: 'arn:aws:iam::111111111111:root' }] });
  s3 = s3Client(sealbox);
});
afterAll(async () => {
  s3.destroy();
  await sealbox.stop();
});

describe('buckets', () => {
  it('create, head, locate, list and delete', async () => {
    const name = await newBucket();
    expect((await s3.send(new HeadBucketCommand({ Bucket: name }))).BucketRegion).toBe('us-east-1');
    expect((await s3.send(new GetBucketLocationCommand({ Bucket: name }))).LocationConstraint).toBeUndefined();
    expect((await s3.send(new ListBucketsCommand({}))).Buckets!.map((b) => b.Name)).toContain(name);
    await s3.send(new PutObjectCommand({ Bucket: name, Key: 'k', Body: 'x' }));
    const err = await expectS3Error(s3.send(new DeleteBucketCommand({ Bucket: name })), 'BucketNotEmpty', 409);
    expect(err.BucketName).toBe(name);
    await s3.send(new DeleteObjectCommand({ Bucket: name, Key: 'k' }));
    await s3.send(new DeleteBucketCommand({ Bucket: name }));
    await expectS3Error(s3.send(new HeadBucketCommand({ Bucket: name })), 'NotFound', 404);
    await expectS3Error(s3.send(new ListObjectsV2Command({ Bucket: name })), 'NoSuchBucket', 404);
  });

  it('names follow the rules; names are global; LocationConstraint places the bucket', async () => {
    for (const bad of ['ab', 'Upper', 'a..b', '192.168.1.1', 'xn--abc', 'bucket-', 'x'.repeat(64)]) {
      const err = await expectS3Error(s3.send(new CreateBucketCommand({ Bucket: bad })), 'InvalidBucketName', 400);
      expect(err.message).toBe('The specified bucket is not valid.');
    }
    const name = await newBucket();
    await s3.send(new CreateBucketCommand({ Bucket: name })); // us-east-1: 200 for your own bucket
    const other = s3Client(sealbox, { credentials: { accessKeyId: 'AKIDOTHER', secretAccessKey: 'other' } });
    try {
      await expectS3Error(other.send(new CreateBucketCommand({ Bucket: name })), 'BucketAlreadyExists', 409);
      await expectS3Error(other.send(new ListObjectsV2Command({ Bucket: name })), 'AccessDenied', 403);
    } finally {
      other.destroy();
    }
    const west = bucketName();
    const westClient = s3Client(sealbox, { region: 'eu-west-1' });
    try {
      await westClient.send(new CreateBucketCommand({ Bucket: west, CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } }));
      expect((await westClient.send(new GetBucketLocationCommand({ Bucket: west }))).LocationConstraint).toBe('eu-west-1');
      await expectS3Error(westClient.send(new CreateBucketCommand({ Bucket: west, CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } })), 'BucketAlreadyOwnedByYou', 409);
      const wrongRegion = await expectS3Error(s3.send(new ListObjectsV2Command({ Bucket: west })), 'AuthorizationHeaderMalformed', 400);
      expect(wrongRegion.Region).toBe('eu-west-1');
    } finally {
      westClient.destroy();
    }
  });

  it('bucket tags', async () => {
    const name = await newBucket();
    await expectS3Error(s3.send(new GetBucketTaggingCommand({ Bucket: name })), 'NoSuchTagSet', 404);
    await s3.send(new PutBucketTaggingCommand({ Bucket: name, Tagging: { TagSet: [{ Key: 'team', Value: 'a' }] } }));
    expect((await s3.send(new GetBucketTaggingCommand({ Bucket: name }))).TagSet).toEqual([{ Key: 'team', Value: 'a' }]);
  });
});

describe('objects', () => {
  let bucket: string;
  beforeAll(async () => {
    bucket = await newBucket();
  });

  it('PUT and GET keep data, metadata and headers byte for byte', async () => {
    const body = randomBytes(10000);
    const put = await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'dir/ünïcode key+with spaces&sym=bols.bin',
        Body: body,
        ContentType: 'application/x-test',
        ContentDisposition: 'attachment; filename="x.bin"',
        ContentLanguage: 'en',
        CacheControl: 'max-age=60',
        Metadata: { color: 'blue', 'two-words': 'a b' },
        StorageClass: 'STANDARD_IA',
      }),
    );
    expect(put.ETag).toBe(`"${md5(body)}"`);
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'dir/ünïcode key+with spaces&sym=bols.bin' }));
    expect((await text(got.Body)).equals(body)).toBe(true);
    expect(got).toMatchObject({
      ContentType: 'application/x-test',
      ContentDisposition: 'attachment; filename="x.bin"',
      ContentLanguage: 'en',
      CacheControl: 'max-age=60',
      Metadata: { color: 'blue', 'two-words': 'a b' },
      StorageClass: 'STANDARD_IA',
      ETag: `"${md5(body)}"`,
      ContentLength: 10000,
      AcceptRanges: 'bytes',
    });
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'dir/ünïcode key+with spaces&sym=bols.bin' }));
    expect(head.ContentLength).toBe(10000);
    expect(head.LastModified).toEqual(got.LastModified);
  });

  it('a missing key is NoSuchKey with the key; HEAD has no body', async () => {
    const err = await expectS3Error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'nope' })), 'NoSuchKey', 404);
    expect(err.Key).toBe('nope');
    await expectS3Error(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'nope' })), 'NotFound', 404);
  });

  it('ranges and partNumber', async () => {
    const body = Buffer.from('0123456789');
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'range', Body: body }));
    const get = async (Range: string) => {
      const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'range', Range }));
      return { body: (await text(r.Body)).toString(), range: r.ContentRange, status: r.$metadata.httpStatusCode };
    };
    expect(await get('bytes=2-4')).toEqual({ body: '234', range: 'bytes 2-4/10', status: 206 });
    expect(await get('bytes=7-')).toEqual({ body: '789', range: 'bytes 7-9/10', status: 206 });
    expect(await get('bytes=-3')).toEqual({ body: '789', range: 'bytes 7-9/10', status: 206 });
    expect(await get('bytes=5-100')).toEqual({ body: '56789', range: 'bytes 5-9/10', status: 206 });
    expect((await get('bytes=0-1,3-4')).status).toBe(200);
    const err = await expectS3Error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'range', Range: 'bytes=10-' })), 'InvalidRange', 416);
    expect(err.ActualObjectSize).toBe('10');
    const part = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'range', PartNumber: 1 }));
    expect((await text(part.Body)).toString()).toBe('0123456789');
    expect(part.PartsCount).toBe(1);
    await expectS3Error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'range', PartNumber: 2 })), 'InvalidPartNumber', 416);
  });

  it('conditional reads: 304 and 412 with RFC 7232 precedence', async () => {
    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cond', Body: 'c' }));
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'cond' }));
    const past = new Date(head.LastModified!.getTime() - 60_000);
    const future = new Date(head.LastModified!.getTime() + 60_000);
    await expect(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'cond', IfMatch: put.ETag, IfUnmodifiedSince: past }))).resolves.toBeDefined();
    const pf = await expectS3Error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'cond', IfMatch: '"other"' })), 'PreconditionFailed', 412);
    expect(pf.Condition).toBe('If-Match');
    await expectS3Error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'cond', IfUnmodifiedSince: past })), 'PreconditionFailed', 412);
    const notModified = async (p: Promise<unknown>) => expect((await failure(p)).$metadata?.httpStatusCode).toBe(304);
    await notModified(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'cond', IfNoneMatch: put.ETag })));
    await notModified(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'cond', IfModifiedSince: future })));
    await expect(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'cond', IfNoneMatch: '"other"', IfModifiedSince: future }))).resolves.toBeDefined();
  });

  it('conditional writes: If-None-Match: * and If-Match', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'once', Body: '1', IfNoneMatch: '*' }));
    const err = await expectS3Error(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'once', Body: '2', IfNoneMatch: '*' })), 'PreconditionFailed', 412);
    expect(err.Condition).toBe('If-None-Match');
    await expectS3Error(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'once', Body: '2', IfMatch: '"nope"' })), 'PreconditionFailed', 412);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'once', Body: '2', IfMatch: `"${md5('1')}"` }));
    expect((await text((await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'once' }))).Body)).toString()).toBe('2');
  });

  it('concurrent writes (committed together, each in its own savepoint): one If-None-Match: * wins, every version lands', async () => {
    // Written at once on connections opened beforehand, these reach the server in one turn of its
    // event loop and commit in one transaction (group commit): each conditional PUT must see the
    // ones before it in that transaction, and each PUT's bytes must land with its own version.
    const url = new URL(sealbox.s3!.url);
    // Connections opened and used once first: a new connection's first bytes go through the
    // TLS-or-HTTP sniffing, which may spread requests over several turns.
    const sockets = await Promise.all(
      Array.from(
        { length: 12 },
        () =>
          new Promise<Socket>((resolve, reject) => {
            const socket = connect(Number(url.port), url.hostname, () => resolve(socket));
            socket.once('error', reject);
          }),
      ),
    );
    const atOnce = async (requests: { path: string; body: string; headers?: Record<string, string> }[]) => {
      const answers = requests.map(
        (_, i) =>
          new Promise<{ status: number; head: string }>((resolve, reject) => {
            const socket = sockets[i]!;
            let text = '';
            const onData = (d: Buffer) => {
              text += d.toString('latin1');
              const end = text.indexOf('\r\n\r\n');
              if (end < 0) return;
              const head = text.slice(0, end);
              const length = Number(/\r\ncontent-length: (\d+)/i.exec(head)?.[1] ?? 0);
              if (text.length - end - 4 < length) return;
              socket.off('data', onData);
              resolve({ status: Number(head.split(' ')[1]), head });
            };
            socket.on('data', onData);
            socket.once('error', reject);
          }),
      );
      requests.forEach((r, i) => {
        const req = { host: url.host, path: r.path, method: 'PUT', service: 's3', region: 'us-east-1', body: r.body, headers: { ...r.headers } as Record<string, string> };
        aws4.sign(req, { accessKeyId: 'test', secretAccessKey: 'test' });
        const head = Object.entries(req.headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
        // aws4 set Host and Content-Length among the signed headers.
        sockets[i]!.write(`PUT ${r.path} HTTP/1.1\r\n${head}\r\n${r.body}`);
      });
      return Promise.all(answers);
    };
    await atOnce(sockets.map((_, i) => ({ path: `/${bucket}/warm-${i}`, body: 'warm' })));
    const bodies = Array.from({ length: 12 }, (_, i) => `body-${i}`);
    const once = await atOnce(bodies.map((body) => ({ path: `/${bucket}/race-once`, body, headers: { 'If-None-Match': '*' } })));
    const won = once.flatMap((o, i) => (o.status === 200 ? [i] : []));
    expect(won).toHaveLength(1);
    expect(once.filter((o) => o.status === 412)).toHaveLength(11);
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'race-once' }));
    expect((await text(got.Body)).toString()).toBe(bodies[won[0]!]);
    expect(got.ETag).toBe(`"${md5(bodies[won[0]!]!)}"`);

    const versioned = await newBucket(true);
    const puts = await atOnce(bodies.map((body) => ({ path: `/${versioned}/k`, body })));
    expect(puts.map((p) => p.status)).toEqual(bodies.map(() => 200));
    const versionIds = puts.map((p) => /\r\nx-amz-version-id: (\S+)/i.exec(p.head)![1]!);
    const listed = await s3.send(new ListObjectVersionsCommand({ Bucket: versioned }));
    expect(new Set(listed.Versions!.map((v) => v.VersionId))).toEqual(new Set(versionIds));
    expect(listed.Versions!.filter((v) => v.IsLatest)).toHaveLength(1);
    // Each version holds its own body.
    for (const [i, versionId] of versionIds.entries()) {
      const v = await s3.send(new GetObjectCommand({ Bucket: versioned, Key: 'k', VersionId: versionId }));
      expect((await text(v.Body)).toString()).toBe(bodies[i]);
    }
    for (const socket of sockets) socket.destroy();
  });

  it('limits: key length and metadata size', async () => {
    const long = await expectS3Error(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k'.repeat(1025), Body: 'x' })), 'KeyTooLongError', 400);
    expect(long.message).toBe('Your key is too long');
    const big = await expectS3Error(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'meta', Body: 'x', Metadata: { a: 'v'.repeat(2048) } })), 'MetadataTooLarge', 400);
    expect(big.MaxSizeAllowed).toBe('2048');
  });

  it('Content-MD5 is checked', async () => {
    const url = new URL(sealbox.s3!.url);
    const req = {
      host: url.host,
      path: `/${bucket}/md5`,
      method: 'PUT',
      service: 's3',
      region: 'us-east-1',
      body: 'hello',
      headers: { 'Content-MD5': createHash('md5').update('other').digest('base64') } as Record<string, string>,
    };
    aws4.sign(req, { accessKeyId: 'test', secretAccessKey: 'test' });
    const res = await fetch(`${sealbox.s3!.url}${req.path}`, { method: 'PUT', headers: req.headers, body: 'hello' });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('<Code>BadDigest</Code>');
    await expectS3Error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'md5' })), 'NoSuchKey', 404);
  });

  it('flexible checksums are verified, stored and returned with checksum mode', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'sum', Body: 'hello world', ChecksumAlgorithm: 'SHA256' }));
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'sum', ChecksumMode: 'ENABLED' }));
    expect(got.ChecksumSHA256).toBe(createHash('sha256').update('hello world').digest('base64'));
    const wrong = await expectS3Error(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'sum2', Body: 'hello', ChecksumCRC32: 'AAAAAA==' })), 'BadDigest', 400);
    expect(wrong.message).toBe('The CRC32 you specified did not match the calculated checksum.');
  });

  it('DeleteObjects: verbose and quiet', async () => {
    for (const k of ['d1', 'd2', 'd3']) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: k, Body: k }));
    const verbose = await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: 'd1' }, { Key: 'missing' }] } }));
    expect(verbose.Deleted!.map((d) => d.Key).sort()).toEqual(['d1', 'missing']);
    const quiet = await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: 'd2' }, { Key: 'd3' }], Quiet: true } }));
    expect(quiet.Deleted ?? []).toEqual([]);
    await expectS3Error(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'd3' })), 'NotFound', 404);
  });

  it('CopyObject: COPY and REPLACE metadata; onto itself only with a change', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'src', Body: 'copy me', Metadata: { a: '1' }, ContentType: 'text/plain' }));
    const copied = await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'dst', CopySource: `${bucket}/src` }));
    expect(copied.CopyObjectResult!.ETag).toBe(`"${md5('copy me')}"`);
    expect(await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'dst' }))).toMatchObject({ Metadata: { a: '1' }, ContentType: 'text/plain' });
    await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'dst2', CopySource: `${bucket}/src`, MetadataDirective: 'REPLACE', Metadata: { b: '2' } }));
    expect((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'dst2' }))).Metadata).toEqual({ b: '2' });
    await expectS3Error(s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'src', CopySource: `${bucket}/src` })), 'InvalidRequest', 400);
    await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'src', CopySource: `${bucket}/src`, MetadataDirective: 'REPLACE', Metadata: { c: '3' } }));
    const cond = await expectS3Error(s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'dst3', CopySource: `${bucket}/src`, CopySourceIfMatch: '"nope"' })), 'PreconditionFailed', 412);
    expect(cond.Condition).toBe('x-amz-copy-source-If-Match');
    await expectS3Error(s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'dst4', CopySource: `${bucket}/missing` })), 'NoSuchKey', 404);
  });

  it('object tags', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'tagged', Body: 't', Tagging: 'a=1&b=two%20words' }));
    expect((await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'tagged' }))).TagSet).toEqual([
      { Key: 'a', Value: '1' },
      { Key: 'b', Value: 'two words' },
    ]);
    await s3.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'tagged', Tagging: { TagSet: [{ Key: 'c', Value: '3' }] } }));
    expect((await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'tagged' }))).TagSet).toEqual([{ Key: 'c', Value: '3' }]);
  });
});

describe('listing', () => {
  let bucket: string;
  const keys = ['a/1', 'a/2', 'a/b/3', 'b', 'c/4', 'z', 'é', 'ä/x', 'a+b', 'A'];
  beforeAll(async () => {
    bucket = await newBucket();
    for (const k of keys) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: k, Body: k }));
  });

  it('orders keys by UTF-8 bytes', async () => {
    const out = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    const sorted = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    expect(out.Contents!.map((c) => c.Key)).toEqual(sorted);
    expect(out.KeyCount).toBe(keys.length);
    expect(out.Contents![0]).toMatchObject({ ETag: `"${md5(sorted[0]!)}"`, Size: Buffer.byteLength(sorted[0]!), StorageClass: 'STANDARD' });
  });

  it('prefix, delimiter and CommonPrefixes', async () => {
    const root = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Delimiter: '/' }));
    expect(root.Contents!.map((c) => c.Key)).toEqual(['A', 'a+b', 'b', 'z', 'é']);
    expect(root.CommonPrefixes!.map((p) => p.Prefix)).toEqual(['a/', 'c/', 'ä/']);
    expect(root.KeyCount).toBe(8);
    const a = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'a/', Delimiter: '/' }));
    expect(a.Contents!.map((c) => c.Key)).toEqual(['a/1', 'a/2']);
    expect(a.CommonPrefixes!.map((p) => p.Prefix)).toEqual(['a/b/']);
  });

  it('pages with max-keys and continuation tokens, counting prefixes', async () => {
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Delimiter: '/', MaxKeys: 3, ContinuationToken: token }));
      expect(page.KeyCount).toBeLessThanOrEqual(3);
      seen.push(...(page.Contents ?? []).map((c) => c.Key!), ...(page.CommonPrefixes ?? []).map((p) => p.Prefix!));
      token = page.NextContinuationToken;
      expect(page.IsTruncated).toBe(token !== undefined);
    } while (token);
    expect(seen.sort()).toEqual(['A', 'a+b', 'a/', 'b', 'c/', 'z', 'é', 'ä/'].sort());
    const after = await s3.send(new ListObjectsV2Command({ Bucket: bucket, StartAfter: 'b' }));
    expect(after.Contents!.map((c) => c.Key)).toEqual(['c/4', 'z', 'ä/x', 'é']);
  });

  it('ListObjects v1 with marker; encoding-type=url', async () => {
    const first = await s3.send(new ListObjectsCommand({ Bucket: bucket, MaxKeys: 2 }));
    expect(first.IsTruncated).toBe(true);
    const next = await s3.send(new ListObjectsCommand({ Bucket: bucket, Marker: first.Contents![1]!.Key }));
    expect(next.Contents!.length).toBe(keys.length - 2);
    const res = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'a+', EncodingType: 'url' }));
    // The SDK hands url-encoded keys back as sent.
    expect(res.Contents!.map((c) => c.Key)).toEqual(['a%2Bb']);
  });
});

describe('versioning', () => {
  it('versions, delete markers, reading and deleting by version', async () => {
    const bucket = await newBucket();
    expect((await s3.send(new GetBucketVersioningCommand({ Bucket: bucket }))).Status).toBeUndefined();
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'null version' }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
    expect((await s3.send(new GetBucketVersioningCommand({ Bucket: bucket }))).Status).toBe('Enabled');
    const v1 = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'one' }));
    const v2 = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'two' }));
    expect(v1.VersionId).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(v2.VersionId).not.toBe(v1.VersionId);
    expect((await text((await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k', VersionId: v1.VersionId }))).Body)).toString()).toBe('one');
    expect((await text((await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k', VersionId: 'null' }))).Body)).toString()).toBe('null version');

    const del = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'k' }));
    expect(del.DeleteMarker).toBe(true);
    const gone = await expectS3Error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k' })), 'NoSuchKey', 404);
    expect((gone.$response as { headers: Record<string, string> }).headers['x-amz-delete-marker']).toBe('true');
    const marker = await expectS3Error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k', VersionId: del.VersionId })), 'MethodNotAllowed', 405);
    expect(marker.ResourceType).toBe('DeleteMarker');

    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket }));
    expect(versions.DeleteMarkers!.map((m) => [m.VersionId, m.IsLatest])).toEqual([[del.VersionId, true]]);
    expect(versions.Versions!.map((v) => v.VersionId)).toEqual([v2.VersionId, v1.VersionId, 'null']);

    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'k', VersionId: del.VersionId }));
    expect((await text((await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k' }))).Body)).toString()).toBe('two');
    await expectS3Error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k', VersionId: 'A'.repeat(32) })), 'NoSuchVersion', 404);
    await expectS3Error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k', VersionId: 'bad' })), 'InvalidArgument', 400);
    const notEmpty = await expectS3Error(s3.send(new DeleteBucketCommand({ Bucket: bucket })), 'BucketNotEmpty', 409);
    expect(notEmpty.message).toBe('The bucket you tried to delete is not empty. You must delete all versions in the bucket.');
  });

  it('ListObjectVersions pages through many versions with key and version-id markers', async () => {
    const bucket = await newBucket(true);
    const written: string[] = [];
    for (const key of ['k', 'k', 'k', 'k', 'k', 'l', 'l']) written.push(`${key}:${(await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: key }))).VersionId}`);
    const expected = [...written.filter((w) => w.startsWith('k:')).reverse(), ...written.filter((w) => w.startsWith('l:')).reverse()];
    const seen: string[] = [];
    let keyMarker: string | undefined;
    let versionIdMarker: string | undefined;
    for (;;) {
      const page = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, MaxKeys: 3, KeyMarker: keyMarker, VersionIdMarker: versionIdMarker }));
      seen.push(...page.Versions!.map((v) => `${v.Key}:${v.VersionId}`));
      if (!page.IsTruncated) break;
      keyMarker = page.NextKeyMarker;
      versionIdMarker = page.NextVersionIdMarker;
    }
    expect(seen).toEqual(expected);
    const afterK = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, KeyMarker: 'k' }));
    expect(afterK.Versions!.map((v) => v.Key)).toEqual(['l', 'l']);
  });

  it('Suspended: writes replace the null version', async () => {
    const bucket = await newBucket(true);
    const kept = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'kept' }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Suspended' } }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'a' }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'b' }));
    const versions = (await s3.send(new ListObjectVersionsCommand({ Bucket: bucket }))).Versions!;
    expect(versions.map((v) => [v.VersionId, v.IsLatest])).toEqual([
      ['null', true],
      [kept.VersionId, false],
    ]);
  });
});

describe('multipart uploads', () => {
  const MiB = 1024 * 1024;

  it('lib-storage Upload of 12 MiB: ETag of part MD5s, partNumber reads, checksum', async () => {
    const bucket = await newBucket();
    const body = randomBytes(12 * MiB);
    const upload = new Upload({ client: s3, params: { Bucket: bucket, Key: 'big', Body: body }, partSize: 5 * MiB, queueSize: 2 });
    const done = await upload.done();
    const parts = [body.subarray(0, 5 * MiB), body.subarray(5 * MiB, 10 * MiB), body.subarray(10 * MiB)];
    const etag = createHash('md5').update(Buffer.concat(parts.map((p) => createHash('md5').update(p).digest()))).digest('hex') + '-3';
    expect(done.ETag).toBe(`"${etag}"`);
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'big' }));
    expect((await text(got.Body)).equals(body)).toBe(true);
    const second = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'big', PartNumber: 2 }));
    expect((await text(second.Body)).equals(parts[1]!)).toBe(true);
    expect(second.PartsCount).toBe(3);
    const range = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'big', Range: `bytes=${5 * MiB - 2}-${5 * MiB + 1}` }));
    expect((await text(range.Body)).equals(body.subarray(5 * MiB - 2, 5 * MiB + 2))).toBe(true);
  });

  it('Complete refuses small parts, unknown parts and bad order; ListParts, abort, ListMultipartUploads', async () => {
    const bucket = await newBucket();
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mp' }));
    const p1 = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'mp', UploadId, PartNumber: 1, Body: Buffer.alloc(100, 1) }));
    const p2 = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'mp', UploadId, PartNumber: 2, Body: Buffer.alloc(100, 2) }));
    const listed = await s3.send(new ListPartsCommand({ Bucket: bucket, Key: 'mp', UploadId }));
    expect(listed.Parts!.map((p) => [p.PartNumber, p.Size, p.ETag])).toEqual([
      [1, 100, p1.ETag],
      [2, 100, p2.ETag],
    ]);
    expect((await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads!.map((u) => u.UploadId)).toEqual([UploadId]);
    const complete = (parts: { PartNumber: number; ETag: string }[]) =>
      s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'mp', UploadId, MultipartUpload: { Parts: parts } }));
    const small = await expectS3Error(complete([{ PartNumber: 1, ETag: p1.ETag! }, { PartNumber: 2, ETag: p2.ETag! }]), 'EntityTooSmall', 400);
    expect(small.MinSizeAllowed).toBe('5242880');
    await expectS3Error(complete([{ PartNumber: 2, ETag: p2.ETag! }, { PartNumber: 1, ETag: p1.ETag! }]), 'InvalidPartOrder', 400);
    await expectS3Error(complete([{ PartNumber: 3, ETag: p2.ETag! }]), 'InvalidPart', 400);
    await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: 'mp', UploadId }));
    await expectS3Error(s3.send(new ListPartsCommand({ Bucket: bucket, Key: 'mp', UploadId })), 'NoSuchUpload', 404);
  });

  it('UploadPartCopy with a byte range', async () => {
    const bucket = await newBucket();
    const source = randomBytes(6 * MiB);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'source', Body: source }));
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'assembled' }));
    const c1 = await s3.send(new UploadPartCopyCommand({ Bucket: bucket, Key: 'assembled', UploadId, PartNumber: 1, CopySource: `${bucket}/source`, CopySourceRange: `bytes=0-${5 * MiB - 1}` }));
    const c2 = await s3.send(new UploadPartCopyCommand({ Bucket: bucket, Key: 'assembled', UploadId, PartNumber: 2, CopySource: `${bucket}/source`, CopySourceRange: `bytes=${5 * MiB}-${6 * MiB - 1}` }));
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: 'assembled',
        UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: c1.CopyPartResult!.ETag }, { PartNumber: 2, ETag: c2.CopyPartResult!.ETag }] },
      }),
    );
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'assembled' }));
    expect((await text(got.Body)).equals(source)).toBe(true);
  });
});

describe('bucket configuration', () => {
  it('public access block and ownership controls: AWS defaults, put, get, delete', async () => {
    const bucket = await newBucket();
    expect((await s3.send(new GetPublicAccessBlockCommand({ Bucket: bucket }))).PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      IgnorePublicAcls: true,
      BlockPublicPolicy: true,
      RestrictPublicBuckets: true,
    });
    await s3.send(new PutPublicAccessBlockCommand({ Bucket: bucket, PublicAccessBlockConfiguration: { BlockPublicAcls: false } }));
    expect((await s3.send(new GetPublicAccessBlockCommand({ Bucket: bucket }))).PublicAccessBlockConfiguration!.BlockPublicAcls).toBe(false);
    await s3.send(new DeletePublicAccessBlockCommand({ Bucket: bucket }));
    await expectS3Error(s3.send(new GetPublicAccessBlockCommand({ Bucket: bucket })), 'NoSuchPublicAccessBlockConfiguration', 404);

    expect((await s3.send(new GetBucketOwnershipControlsCommand({ Bucket: bucket }))).OwnershipControls!.Rules).toEqual([{ ObjectOwnership: 'BucketOwnerEnforced' }]);
    await expectS3Error(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'acl', Body: 'x', ACL: 'public-read' })), 'AccessControlListNotSupported', 400);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'acl', Body: 'x', ACL: 'bucket-owner-full-control' }));
    await s3.send(new PutBucketOwnershipControlsCommand({ Bucket: bucket, OwnershipControls: { Rules: [{ ObjectOwnership: 'ObjectWriter' }] } }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'acl', Body: 'x', ACL: 'public-read' }));
    await s3.send(new DeleteBucketOwnershipControlsCommand({ Bucket: bucket }));
    await expectS3Error(s3.send(new GetBucketOwnershipControlsCommand({ Bucket: bucket })), 'OwnershipControlsNotFoundError', 404);
  });

  it('ACLs: the owner has FULL_CONTROL', async () => {
    const bucket = await newBucket();
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'o', Body: 'x' }));
    for (const out of [await s3.send(new GetBucketAclCommand({ Bucket: bucket })), await s3.send(new GetObjectAclCommand({ Bucket: bucket, Key: 'o' }))]) {
      expect(out.Grants).toEqual([{ Grantee: { Type: 'CanonicalUser', ID: out.Owner!.ID }, Permission: 'FULL_CONTROL' }]);
    }
  });

  it('CORS rules answer preflights and decorate matching requests', async () => {
    const bucket = await newBucket();
    const preflight = (origin: string, method: string, headers?: string) =>
      fetch(`${sealbox.s3!.url}/${bucket}/obj`, {
        method: 'OPTIONS',
        headers: { Origin: origin, 'Access-Control-Request-Method': method, ...(headers ? { 'Access-Control-Request-Headers': headers } : {}) },
      });
    const notEnabled = await preflight('https://app.example', 'GET');
    expect(notEnabled.status).toBe(403);
    expect(await notEnabled.text()).toContain('CORSResponse: CORS is not enabled for this bucket.');
    await s3.send(
      new PutBucketCorsCommand({
        Bucket: bucket,
        CORSConfiguration: { CORSRules: [{ AllowedOrigins: ['https://*.example'], AllowedMethods: ['GET', 'PUT'], AllowedHeaders: ['content-type'], ExposeHeaders: ['ETag'], MaxAgeSeconds: 600 }] },
      }),
    );
    expect((await s3.send(new GetBucketCorsCommand({ Bucket: bucket }))).CORSRules![0]).toMatchObject({ AllowedOrigins: ['https://*.example'], MaxAgeSeconds: 600 });
    const ok = await preflight('https://app.example', 'PUT', 'Content-Type');
    expect(ok.status).toBe(200);
    expect(Object.fromEntries(['access-control-allow-origin', 'access-control-allow-methods', 'access-control-allow-headers', 'access-control-expose-headers', 'access-control-max-age'].map((h) => [h, ok.headers.get(h)]))).toEqual({
      'access-control-allow-origin': 'https://app.example',
      'access-control-allow-methods': 'GET, PUT',
      'access-control-allow-headers': 'content-type',
      'access-control-expose-headers': 'ETag',
      'access-control-max-age': '600',
    });
    const denied = await preflight('https://evil.test', 'GET');
    expect(denied.status).toBe(403);
    expect(await denied.text()).toContain('<Code>AccessForbidden</Code>');
    await s3.send(new DeleteBucketCorsCommand({ Bucket: bucket }));
    await expectS3Error(s3.send(new GetBucketCorsCommand({ Bucket: bucket })), 'NoSuchCORSConfiguration', 404);
  });

  it('GetObjectAttributes', async () => {
    const bucket = await newBucket();
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'attrs', Body: 'attributes', ChecksumAlgorithm: 'CRC32C' }));
    const out = await s3.send(new GetObjectAttributesCommand({ Bucket: bucket, Key: 'attrs', ObjectAttributes: ['ETag', 'Checksum', 'ObjectSize', 'StorageClass'] }));
    expect(out).toMatchObject({ ETag: md5('attributes'), ObjectSize: 10, StorageClass: 'STANDARD', Checksum: { ChecksumType: 'FULL_OBJECT' } });
    expect(out.Checksum!.ChecksumCRC32C).toMatch(/^[A-Za-z0-9+/]{6}==$/);
  });
});

describe('default checksums', () => {
  it('every new object gets a CRC64NVME, single PUT or multipart, as S3 does since 2025', async () => {
    const bucket = await newBucket();
    const url = new URL(sealbox.s3!.url);
    const req = { host: url.host, path: `/${bucket}/plain`, method: 'PUT', service: 's3', region: 'us-east-1', body: 'no checksum sent', headers: {} as Record<string, string> };
    aws4.sign(req, { accessKeyId: 'test', secretAccessKey: 'test' });
    const res = await fetch(`${sealbox.s3!.url}${req.path}`, { method: 'PUT', headers: req.headers, body: req.body });
    expect(res.headers.get('x-amz-checksum-type')).toBe('FULL_OBJECT');
    const crc = res.headers.get('x-amz-checksum-crc64nvme');
    expect(crc).toMatch(/^[A-Za-z0-9+/]{11}=$/);

    const body = randomBytes(11 * 1024 * 1024);
    // An upload created without a checksum algorithm (the SDK still sends CRC32s with each part).
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'multi' }));
    const parts = [];
    for (let i = 0; i < 3; i++) {
      const part = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'multi', UploadId, PartNumber: i + 1, Body: body.subarray(i * 5 * 1024 * 1024, (i + 1) * 5 * 1024 * 1024) }));
      parts.push({ PartNumber: i + 1, ETag: part.ETag });
    }
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'multi', UploadId, MultipartUpload: { Parts: parts } }));
    const whole = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'single', Body: body, ChecksumAlgorithm: 'CRC64NVME' }));
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'multi', ChecksumMode: 'ENABLED' }));
    // The multipart object's full-object CRC64NVME equals that of the same bytes sent in one PUT.
    expect(head.ChecksumCRC64NVME).toBe(whole.ChecksumCRC64NVME);
    expect(head.ChecksumType).toBe('FULL_OBJECT');
  });
});

describe('more listing and checksums', () => {
  it('ListBuckets pages with max-buckets and continuation tokens, and filters by prefix', async () => {
    const client = s3Client(sealbox, { credentials: { accessKeyId: 'AKIDOTHER', secretAccessKey: 'other' } });
    try {
      for (const name of ['page-a-1', 'page-a-2', 'page-a-3', 'page-b-1']) await client.send(new CreateBucketCommand({ Bucket: `${name}-${process.pid}` }));
      const names: string[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(new ListBucketsCommand({ MaxBuckets: 2, ContinuationToken: token, Prefix: 'page-a' }));
        expect(page.Buckets!.length).toBeLessThanOrEqual(2);
        expect(page.Prefix).toBe('page-a');
        names.push(...page.Buckets!.map((b) => b.Name!));
        for (const b of page.Buckets!) expect(b.BucketRegion).toBe('us-east-1');
        token = page.ContinuationToken;
      } while (token);
      expect(names).toEqual([1, 2, 3].map((i) => `page-a-${i}-${process.pid}`));
    } finally {
      client.destroy();
    }
  });

  it('a COMPOSITE multipart checksum is the checksum of the part checksums, with -N', async () => {
    const bucket = await newBucket();
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'composite', ChecksumAlgorithm: 'SHA256' }));
    const parts = [randomBytes(5 * 1024 * 1024), randomBytes(1000)];
    const sent = [];
    for (let i = 0; i < parts.length; i++) {
      const out = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'composite', UploadId, PartNumber: i + 1, Body: parts[i], ChecksumAlgorithm: 'SHA256' }));
      sent.push({ PartNumber: i + 1, ETag: out.ETag, ChecksumSHA256: out.ChecksumSHA256 });
    }
    const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'composite', UploadId, MultipartUpload: { Parts: sent } }));
    const expected =
      createHash('sha256').update(Buffer.concat(parts.map((p) => createHash('sha256').update(p).digest()))).digest('base64') + '-2';
    expect(done.ChecksumSHA256).toBe(expected);
    expect(done.ChecksumType).toBe('COMPOSITE');
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'composite', ChecksumMode: 'ENABLED' }));
    expect(head.ChecksumSHA256).toBe(expected);
  });
});
