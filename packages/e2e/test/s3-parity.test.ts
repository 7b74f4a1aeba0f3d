/**
 * S3 answers that used to differ from AWS (issue 19, part A), each checked with the client that
 * meets it: SDK v3, boto3 where it sends something different, raw HTTP where no SDK sends it.
 */
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { connect } from 'node:net';
import aws4 from 'aws4';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetBucketAclCommand,
  GetObjectAclCommand,
  GetObjectAttributesCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListMultipartUploadsCommand,
  ListObjectVersionsCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { Sealbox } from '@sealbox/cli';
import { awsEnv, failure, runCommand, s3Client, startTestSealbox } from './helpers';

let sealbox: Sealbox;
let s3: S3Client;
let n = 0;
const MiB = 1024 * 1024;

beforeAll(async () => {
  // SSE-C over plain HTTP (allowHttpSseKms) keeps boto3 and raw requests simple.
  sealbox = await startTestSealbox({ only: 's3', allowHttpSseKms: true });
  s3 = s3Client(sealbox);
});
afterAll(async () => {
  s3.destroy();
  await sealbox.stop();
});

async function newBucket(versioning?: 'Enabled' | 'Suspended'): Promise<string> {
  const bucket = `parity-${++n}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  if (versioning === 'Suspended') await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
  if (versioning) await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: versioning } }));
  return bucket;
}

/** A one-part multipart upload of `key`, ready to complete. */
async function uploadOnePart(bucket: string, key: string, body = 'one part') {
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
  const part = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: 1, Body: body }));
  return { UploadId: UploadId!, parts: { Parts: [{ PartNumber: 1, ETag: part.ETag! }] } };
}

/** The raw response headers of one SDK call (for headers the SDK does not model). */
async function withHeaders<T>(client: S3Client, command: { middlewareStack: { add: (...args: never[]) => void } }): Promise<{ out: T; headers: Record<string, string> }> {
  let headers: Record<string, string> = {};
  (command.middlewareStack as unknown as { add: (mw: unknown, options: unknown) => void }).add(
    (next: (args: unknown) => Promise<{ response: { headers: Record<string, string> } }>) => async (args: unknown) => {
      const result = await next(args);
      headers = result.response.headers;
      return result;
    },
    { step: 'deserialize', name: 'captureHeaders' },
  );
  const out = (await client.send(command as never)) as T;
  return { out, headers };
}

describe('CompleteMultipartUpload', () => {
  it('repeated after it succeeded answers 200 with the same result again', async () => {
    const bucket = await newBucket('Enabled');
    const { UploadId, parts } = await uploadOnePart(bucket, 'twice');
    const first = await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'twice', UploadId, MultipartUpload: parts }));
    const again = await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'twice', UploadId, MultipartUpload: parts }));
    expect(again.$metadata.httpStatusCode).toBe(200);
    for (const field of ['ETag', 'Key', 'Bucket', 'Location', 'VersionId', 'ChecksumCRC64NVME'] as const) expect(again[field]).toEqual(first[field]);
    // Only one object version was made.
    expect((await s3.send(new ListObjectVersionsCommand({ Bucket: bucket }))).Versions).toHaveLength(1);
    // The same id under another key is still no upload.
    const elsewhere = await failure(s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'other', UploadId, MultipartUpload: parts })));
    expect(elsewhere.name).toBe('NoSuchUpload');
  });

  it('repeated after the version it made is gone: NoSuchUpload', async () => {
    const bucket = await newBucket();
    const { UploadId, parts } = await uploadOnePart(bucket, 'gone');
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'gone', UploadId, MultipartUpload: parts }));
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'gone' }));
    const err = await failure(s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'gone', UploadId, MultipartUpload: parts })));
    expect(err.name).toBe('NoSuchUpload');
    expect(err.$metadata?.httpStatusCode).toBe(404);
  });

  it('If-None-Match with an ETag: 501 NotImplemented, as PutObject; the upload stays', async () => {
    const bucket = await newBucket();
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'x' }));
    const { UploadId, parts } = await uploadOnePart(bucket, 'k');
    const err = await failure(s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'k', UploadId, MultipartUpload: parts, IfNoneMatch: '"0123456789abcdef0123456789abcdef"' })));
    expect(err.name).toBe('NotImplemented');
    expect(err.$metadata?.httpStatusCode).toBe(501);
    expect(err.message).toBe('A header you provided implies functionality that is not implemented');
    const star = await failure(s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'k', UploadId, MultipartUpload: parts, IfNoneMatch: '*' })));
    expect(star.name).toBe('PreconditionFailed');
    expect((await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'k', UploadId, MultipartUpload: parts }))).$metadata.httpStatusCode).toBe(200);
  });

  it('If-Match on a key that does not exist: 404 NoSuchKey', async () => {
    const bucket = await newBucket();
    const { UploadId, parts } = await uploadOnePart(bucket, 'missing');
    const err = await failure(s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'missing', UploadId, MultipartUpload: parts, IfMatch: '"0123456789abcdef0123456789abcdef"' })));
    expect(err.name).toBe('NoSuchKey');
    expect(err.$metadata?.httpStatusCode).toBe(404);
    // On an existing key with another ETag it is 412, as before.
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'missing', Body: 'now here' }));
    const stale = await failure(s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'missing', UploadId, MultipartUpload: parts, IfMatch: '"0123456789abcdef0123456789abcdef"' })));
    expect(stale.name).toBe('PreconditionFailed');
  });

  it('a malformed x-amz-checksum-* value: 400 InvalidRequest, as on PutObject', async () => {
    const bucket = await newBucket();
    const { UploadId, parts } = await uploadOnePart(bucket, 'sum');
    for (const value of ['not base64!', 'AAAA', 'AAAAAAAAAAA=-2x']) {
      const err = await failure(s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'sum', UploadId, MultipartUpload: parts, ChecksumCRC64NVME: value })));
      expect(err.name).toBe('InvalidRequest');
      expect(err.$metadata?.httpStatusCode).toBe(400);
      expect(err.message).toBe('Value for x-amz-checksum-crc64nvme header is invalid.');
    }
    const put = await failure(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'p', Body: 'x', ChecksumCRC64NVME: 'AAAA' })));
    expect(put.message).toBe('Value for x-amz-checksum-crc64nvme header is invalid.');
    expect((await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'sum', UploadId, MultipartUpload: parts }))).$metadata.httpStatusCode).toBe(200);
  });
});

describe('SSE-C parts', () => {
  const key = randomBytes(32);
  const other = randomBytes(32);
  const ssec = (k: Buffer) => ({ SSECustomerAlgorithm: 'AES256', SSECustomerKey: k.toString('base64') });

  it('UploadPart and UploadPartCopy with another key than the upload\'s: 400 InvalidRequest; with none: 400', async () => {
    const bucket = await newBucket();
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'source', Body: 'copied bytes' }));
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mpu', ...ssec(key) }));
    const mismatch = [
      await failure(s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'mpu', UploadId, PartNumber: 1, Body: 'p', ...ssec(other) }))),
      await failure(s3.send(new UploadPartCopyCommand({ Bucket: bucket, Key: 'mpu', UploadId, PartNumber: 2, CopySource: `${bucket}/source`, ...ssec(other) }))),
    ];
    for (const err of mismatch) {
      expect(err.name).toBe('InvalidRequest');
      expect(err.$metadata?.httpStatusCode).toBe(400);
      expect(err.message).toBe('The provided encryption parameters did not match the ones used originally.');
    }
    const none = await failure(s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'mpu', UploadId, PartNumber: 1, Body: 'p' })));
    expect(none.name).toBe('InvalidRequest');
    expect(none.message).toBe('The multipart upload initiate requested encryption. Subsequent part requests must include the appropriate encryption parameters.');
    const copied = await s3.send(new UploadPartCopyCommand({ Bucket: bucket, Key: 'mpu', UploadId, PartNumber: 1, CopySource: `${bucket}/source`, ...ssec(key) }));
    expect(copied.CopyPartResult?.ETag).toBeDefined();
    expect((await s3.send(new ListPartsCommand({ Bucket: bucket, Key: 'mpu', UploadId }))).Parts).toHaveLength(1);
  });
});

describe('GetObjectAttributes', () => {
  it('reports PartsCount for a multipart object', async () => {
    const bucket = await newBucket();
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'parts' }));
    const one = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'parts', UploadId, PartNumber: 1, Body: Buffer.alloc(5 * MiB, 1) }));
    const two = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'parts', UploadId, PartNumber: 2, Body: 'tail' }));
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'parts', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: one.ETag }, { PartNumber: 2, ETag: two.ETag }] } }));
    const out = await s3.send(new GetObjectAttributesCommand({ Bucket: bucket, Key: 'parts', ObjectAttributes: ['ObjectParts', 'ObjectSize'] }));
    expect(out.ObjectParts?.TotalPartsCount).toBe(2);
    expect(out.ObjectSize).toBe(5 * MiB + 4);
  });

  it('an SSE-C object needs its key (none: 400, another: 403) and the answer carries the SSE-C headers', async () => {
    const bucket = await newBucket();
    const key = randomBytes(32);
    const ssec = (k: Buffer) => ({ SSECustomerAlgorithm: 'AES256', SSECustomerKey: k.toString('base64') });
    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'secret', Body: 'customer data', ...ssec(key) }));
    const none = await failure(s3.send(new GetObjectAttributesCommand({ Bucket: bucket, Key: 'secret', ObjectAttributes: ['ObjectSize'] })));
    expect(none.name).toBe('InvalidRequest');
    expect(none.$metadata?.httpStatusCode).toBe(400);
    expect(none.message).toBe('The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.');
    const wrong = await failure(s3.send(new GetObjectAttributesCommand({ Bucket: bucket, Key: 'secret', ObjectAttributes: ['ObjectSize'], ...ssec(randomBytes(32)) })));
    expect(wrong.$metadata?.httpStatusCode).toBe(403);
    const { out, headers } = await withHeaders<{ ObjectSize?: number }>(s3, new GetObjectAttributesCommand({ Bucket: bucket, Key: 'secret', ObjectAttributes: ['ObjectSize'], ...ssec(key) }));
    expect(out.ObjectSize).toBe(13);
    expect(headers['x-amz-server-side-encryption-customer-algorithm']).toBe('AES256');
    expect(headers['x-amz-server-side-encryption-customer-key-md5']).toBe(put.SSECustomerKeyMD5);
    // A key for an object that has none is refused, as on GET.
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'plain', Body: 'x' }));
    const notApplicable = await failure(s3.send(new GetObjectAttributesCommand({ Bucket: bucket, Key: 'plain', ObjectAttributes: ['ObjectSize'], ...ssec(key) })));
    expect(notApplicable.name).toBe('InvalidRequest');
  });
});

it('ListObjects and ListObjectsV2 with max-keys=0: an empty page that is not truncated', async () => {
  const bucket = await newBucket();
  for (const k of ['a', 'b/c']) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: k, Body: 'x' }));
  const v2 = await s3.send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 0 }));
  expect(v2).toMatchObject({ IsTruncated: false, KeyCount: 0, MaxKeys: 0 });
  expect(v2.Contents).toBeUndefined();
  expect(v2.NextContinuationToken).toBeUndefined();
  const v1 = await s3.send(new ListObjectsCommand({ Bucket: bucket, MaxKeys: 0, Delimiter: '/' }));
  expect(v1).toMatchObject({ IsTruncated: false, MaxKeys: 0 });
  expect(v1.Contents).toBeUndefined();
  expect(v1.NextMarker).toBeUndefined();
});

describe('versioning Suspended', () => {
  it('PutObject, CompleteMultipartUpload and CopyObject send no x-amz-version-id; HEAD of the null version does', async () => {
    const bucket = await newBucket('Suspended');
    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'p', Body: 'x' }));
    expect(put.VersionId).toBeUndefined();
    const { UploadId, parts } = await uploadOnePart(bucket, 'm');
    expect((await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'm', UploadId, MultipartUpload: parts }))).VersionId).toBeUndefined();
    expect((await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'c', CopySource: `${bucket}/p` }))).VersionId).toBeUndefined();
    // GET and HEAD of a null version in a bucket that has had versioning name it.
    // https://docs.aws.amazon.com/AmazonS3/latest/userguide/AddingObjectstoVersionSuspendedBuckets.html
    expect((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'p' }))).VersionId).toBe('null');
  });

  it('where versioning is Enabled, every write names its version', async () => {
    const bucket = await newBucket('Enabled');
    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'p', Body: 'x' }));
    expect(put.VersionId).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect((await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'c', CopySource: `${bucket}/p` }))).VersionId).toMatch(/^[A-Za-z0-9_-]{32}$/);
  });
});

describe('x-amz-meta-* beyond US-ASCII', () => {
  it('boto3 sending UTF-8 bytes: accepted, and returned RFC 2047-encoded', async () => {
    const bucket = await newBucket();
    // botocore refuses non-ASCII metadata itself; a before-call hook puts it in, as the
    // conformance suites do. It signs the UTF-8 text and sends its UTF-8 bytes.
    const script = `
import boto3, json, sys
c = boto3.client('s3')
def add(**kw):
    kw['params']['headers']['x-amz-meta-meta1'] = u"Hello World\\xe9"
c.meta.events.register('before-call.s3.PutObject', add)
c.put_object(Bucket=sys.argv[1], Key='latin', Body=b'bar')
print(json.dumps(c.head_object(Bucket=sys.argv[1], Key='latin')['Metadata']))
`;
    const result = await runCommand('python3', ['-c', script, bucket], awsEnv(sealbox));
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual({ meta1: '=?UTF-8?B?SGVsbG8gV29ybGTDqQ==?=' });
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'latin' }));
    expect(head.Metadata).toEqual({ meta1: `=?UTF-8?B?${Buffer.from('Hello World\u00e9', 'utf8').toString('base64')}?=` });
  });

  it('SDK v3 (which sends the UTF-8 bytes too): accepted, and returned RFC 2047-encoded', async () => {
    const bucket = await newBucket();
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'x', Metadata: { note: 'caf\u00e9' } }));
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k' }));
    expect(head.Metadata).toEqual({ note: `=?UTF-8?B?${Buffer.from('caf\u00e9', 'utf8').toString('base64')}?=` });
  });

  it('the signature covers the bytes as sent: a Latin-1 byte signed as UTF-8 text is refused, nothing stored', async () => {
    const bucket = await newBucket();
    const { hostname, port } = new URL(sealbox.s3!.url);
    const path = `/${bucket}/latin1`;
    // aws4 signs the UTF-8 of "é"; the request carries the single byte E9 instead.
    const signed = aws4.sign(
      { host: `${hostname}:${port}`, method: 'PUT', path, service: 's3', region: 'us-east-1', headers: { 'x-amz-meta-note': 'caf\u00e9', 'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD', 'Content-Length': '1', Connection: 'close' } },
      { accessKeyId: 'test', secretAccessKey: 'test' },
    );
    const head = Object.entries(signed.headers as Record<string, string>).map(([k, v]) => `${k}: ${v}\r\n`).join('');
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), hostname, () => socket.end(Buffer.from(`PUT ${path} HTTP/1.1\r\n${head}\r\nx`, 'latin1')));
      const received: Buffer[] = [];
      socket.on('data', (d: Buffer) => received.push(d));
      socket.on('error', reject);
      socket.on('close', () => resolve(Buffer.concat(received).toString('latin1')));
    });
    expect(answer).toMatch(/^HTTP\/1\.1 403 /);
    expect(answer).toContain('<Code>SignatureDoesNotMatch</Code>');
    expect((await failure(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'latin1' })))).name).toBe('NotFound');
  });

  it('RFC 2047 encoded words are decoded before storing and encoded again on the way out', async () => {
    const bucket = await newBucket();
    const encoded = `=?UTF-8?B?${Buffer.from('caf\u00e9 \u4e2d', 'utf8').toString('base64')}?=`;
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'x', Metadata: { utf8: encoded, ascii: '=?UTF-8?B?aGVsbG8=?=', q: '=?ISO-8859-1?Q?caf=E9_au_lait?=', plain: 'a=?b' } }));
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k' }));
    expect(head.Metadata).toEqual({
      utf8: encoded,
      ascii: 'hello',
      q: `=?UTF-8?B?${Buffer.from('caf\u00e9 au lait', 'utf8').toString('base64')}?=`,
      plain: 'a=?b',
    });
  });
});

/** A PUT signed by aws4 (UNSIGNED-PAYLOAD), sent with Node's own http client. */
function signedPut(path: string, headers: Record<string, string>, ...chunks: string[]): Promise<{ status: number; text: string }> {
  const { hostname, port } = new URL(sealbox.s3!.url);
  const signed = aws4.sign(
    { host: `${hostname}:${port}`, method: 'PUT', path, service: 's3', region: 'us-east-1', headers: { ...headers, 'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD' } },
    { accessKeyId: 'test', secretAccessKey: 'test' },
  );
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, method: 'PUT', path, headers: signed.headers as Record<string, string> }, (res) => {
      const received: Buffer[] = [];
      res.on('data', (c: Buffer) => received.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, text: Buffer.concat(received).toString('utf8') }));
    });
    req.on('error', reject);
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}

/** A signed PUT whose body goes with HTTP's own chunked framing (no Content-Length). */
const chunkedPut = (path: string) => signedPut(path, { 'Transfer-Encoding': 'chunked' }, 'hello ', 'chunks');

it('a PUT with Transfer-Encoding: chunked (not aws-chunked): 501 NotImplemented naming the header, nothing stored', async () => {
  const bucket = await newBucket();
  const put = await chunkedPut(`/${bucket}/chunked`);
  expect(put.status).toBe(501);
  expect(put.text).toContain('<Code>NotImplemented</Code><Message>A header you provided implies functionality that is not implemented</Message><Header>Transfer-Encoding</Header>');
  expect((await failure(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'chunked' })))).name).toBe('NotFound');
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mpu' }));
  const part = await chunkedPut(`/${bucket}/mpu?partNumber=1&uploadId=${encodeURIComponent(UploadId!)}`);
  expect(part.status).toBe(501);
  expect(part.text).toContain('<Header>Transfer-Encoding</Header>');
});

it('no Owner, Initiator or Grantee carries a DisplayName (AWS stopped returning it on November 21, 2025)', async () => {
  const bucket = await newBucket('Enabled');
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'o', Body: 'x' }));
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'u' }));
  await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'u', UploadId, PartNumber: 1, Body: 'p' }));
  const owners = [
    (await s3.send(new ListBucketsCommand({}))).Owner,
    (await s3.send(new ListObjectsCommand({ Bucket: bucket }))).Contents![0]!.Owner,
    (await s3.send(new ListObjectsV2Command({ Bucket: bucket, FetchOwner: true }))).Contents![0]!.Owner,
    (await s3.send(new ListObjectVersionsCommand({ Bucket: bucket }))).Versions![0]!.Owner,
    (await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads![0]!.Owner,
    (await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads![0]!.Initiator,
    (await s3.send(new ListPartsCommand({ Bucket: bucket, Key: 'u', UploadId }))).Owner,
    (await s3.send(new ListPartsCommand({ Bucket: bucket, Key: 'u', UploadId }))).Initiator,
  ];
  await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'o' }));
  owners.push((await s3.send(new ListObjectVersionsCommand({ Bucket: bucket }))).DeleteMarkers![0]!.Owner);
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'acl', Body: 'x' }));
  for (const acl of [await s3.send(new GetBucketAclCommand({ Bucket: bucket })), await s3.send(new GetObjectAclCommand({ Bucket: bucket, Key: 'acl' }))]) {
    owners.push(acl.Owner, acl.Grants![0]!.Grantee);
  }
  for (const owner of owners) {
    expect(owner?.ID).toMatch(/^[0-9a-f]{64}$/);
    expect(owner).not.toHaveProperty('DisplayName');
  }
});
