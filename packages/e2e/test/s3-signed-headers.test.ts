/**
 * Signed headers as S3 requires them: with header authentication, every x-amz-* header must be in
 * SignedHeaders, so a signed request replayed with an added header cannot become another request
 * (a CopyObject, new metadata, tags or encryption). And SSE headers on operations that take none
 * are refused, not ignored.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html
 */
import { request } from 'node:http';
import { Sha256 } from '@aws-crypto/sha256-js';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { Sealbox } from '@sealbox/cli';
import { EMPTY_SHA256 } from '@sealbox/sigv4';
import { SignatureV4 } from '@smithy/signature-v4';
import { awsEnv, failure, runCommand, s3Client, startTestSealbox, type RawResponse } from './helpers';

const BUCKET = 'signed';
const NOT_SIGNED = '<Code>AccessDenied</Code><Message>There were headers present in the request which were not signed</Message>';

let sealbox: Sealbox;
let s3: S3Client;

beforeAll(async () => {
  // SSE-KMS over plain HTTP allowed, so an added `x-amz-server-side-encryption: aws:kms` would take
  // effect if the signature rule did not stop it.
  sealbox = await startTestSealbox({ allowHttpSseKms: true });
  s3 = s3Client(sealbox);
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'source', Body: 'source data' }));
});
afterAll(async () => {
  s3.destroy();
  await sealbox.stop();
});

interface Signed {
  method: string;
  path: string;
  headers: Record<string, string>;
}

/** An empty PUT of `key`, signed by the AWS SDK v3's own signer over every header it carries. */
async function signedEmptyPut(key: string, headers: Record<string, string> = {}): Promise<Signed> {
  const url = new URL(sealbox.s3!.url);
  const signer = new SignatureV4({ credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, region: 'us-east-1', service: 's3', sha256: Sha256, uriEscapePath: false });
  const path = `/${BUCKET}/${key}`;
  const signed = await signer.sign({
    method: 'PUT',
    protocol: 'http:',
    hostname: url.hostname,
    port: Number(url.port),
    path,
    query: {},
    headers: { host: url.host, 'content-length': '0', 'x-amz-content-sha256': EMPTY_SHA256, ...headers },
  });
  return { method: 'PUT', path, headers: signed.headers as Record<string, string> };
}

/** Sends `signed` as it was signed, plus `added` headers (a replay by someone without the secret). */
function send(signed: Signed, added: [string, string][] = []): Promise<RawResponse> {
  const url = new URL(sealbox.s3!.url);
  const headers: [string, string][] = [...Object.entries(signed.headers), ...added];
  return new Promise((resolve, reject) => {
    const r = request({ host: url.hostname, port: Number(url.port), method: signed.method, path: signed.path, headers: headers.flat() }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    r.on('error', reject);
    r.end();
  });
}

const notFound = async (key: string) => (await failure(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key })))).name;

// Each header that would turn the signed empty PUT into something else.
const ADDED: [string, string][] = [
  ['x-amz-copy-source', `/${BUCKET}/source`],
  ['x-amz-meta-x', 'injected'],
  ['x-amz-tagging', 'injected=yes'],
  ['x-amz-server-side-encryption', 'aws:kms'],
];

describe('header authentication: every x-amz-* header must be signed', () => {
  it.each(ADDED)('a signed empty PUT replayed with %s added is refused (403, HeadersNotSigned) and creates nothing', async (name, value) => {
    const key = `new-${name}`;
    const signed = await signedEmptyPut(key);
    const res = await send(signed, [[name, value]]);
    expect(res.status).toBe(403);
    expect(res.text).toContain(NOT_SIGNED);
    expect(res.text).toContain(`<HeadersNotSigned>${name}</HeadersNotSigned>`);
    expect(await notFound(key)).toBe('NotFound');
    // The signature itself was good: sent as signed, the same request succeeds.
    expect((await send(signed)).status).toBe(200);
    expect((await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }))).ContentLength).toBe(0);
  });

  it.each(ADDED)('replayed with %s added (any case), it leaves an existing object as it was', async (name, value) => {
    const key = `victim-${name}`;
    const signed = await signedEmptyPut(key);
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: 'original' }));
    const res = await send(signed, [[name.toUpperCase(), value]]);
    expect(res.status).toBe(403);
    expect(res.text).toContain(`<HeadersNotSigned>${name}</HeadersNotSigned>`);
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    expect(await got.Body!.transformToString()).toBe('original');
    expect(got.Metadata).toEqual({});
    expect(got.ServerSideEncryption).toBe('AES256');
    expect((await s3.send(new GetObjectTaggingCommand({ Bucket: BUCKET, Key: key }))).TagSet).toEqual([]);
  });

  it('names every unsigned header, comma-and-space separated in the order sent; a repeated one once', async () => {
    const signed = await signedEmptyPut('several', { 'x-amz-meta-signed': 'fine' });
    const res = await send(signed, [
      ['x-amz-meta-s1', 'a'],
      ['x-amz-tagging', 'a=b'],
      ['X-Amz-Meta-S1', 'b'],
    ]);
    expect(res.status).toBe(403);
    expect(res.text).toContain('<HeadersNotSigned>x-amz-meta-s1, x-amz-tagging</HeadersNotSigned>');
    expect(await notFound('several')).toBe('NotFound');
  });

  it('a header outside x-amz-* may be added unsigned (S3 accepts an unsigned Content-Type)', async () => {
    const signed = await signedEmptyPut('typed');
    const res = await send(signed, [['content-type', 'text/html'], ['x-amzn-trace-id', 'Root=1-00000000-000000000000000000000000']]);
    expect(res.status).toBe(200);
    expect((await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'typed' }))).ContentType).toBe('text/html');
  });

  it('SDK v3 requests that carry x-amz-* headers keep working: metadata, tagging, SSE-KMS, copy', async () => {
    await s3.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: 'sdk', Body: 'by the sdk', Metadata: { a: 'b' }, Tagging: 't=1', ServerSideEncryption: 'aws:kms', StorageClass: 'STANDARD_IA' }),
    );
    await s3.send(new CopyObjectCommand({ Bucket: BUCKET, Key: 'sdk-copy', CopySource: `${BUCKET}/sdk`, MetadataDirective: 'REPLACE', Metadata: { c: 'd' } }));
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'sdk-copy' }));
    expect(await got.Body!.transformToString()).toBe('by the sdk');
    expect(got.Metadata).toEqual({ c: 'd' });
  });
});

describe('the AWS CLI and boto3 sign every x-amz-* header they send', () => {
  it('aws s3api put-object and copy-object with metadata, tagging and SSE-KMS', async () => {
    const env = awsEnv(sealbox);
    const put = await runCommand(
      'aws',
      ['s3api', 'put-object', '--bucket', BUCKET, '--key', 'cli', '--body', __filename, '--metadata', 'a=b', '--tagging', 't=1', '--server-side-encryption', 'aws:kms'],
      env,
    );
    expect(put.stderr).toBe('');
    const copy = await runCommand(
      'aws',
      ['s3api', 'copy-object', '--bucket', BUCKET, '--key', 'cli-copy', '--copy-source', `${BUCKET}/cli`, '--metadata-directive', 'REPLACE', '--metadata', 'c=d'],
      env,
    );
    expect(copy.stderr).toBe('');
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'cli-copy' }));
    expect(head.Metadata).toEqual({ c: 'd' });
    expect((await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'cli' }))).ServerSideEncryption).toBe('aws:kms');
  }, 60_000);

  it('boto3: put_object, copy_object and a multipart upload with SSE, metadata and tags', async () => {
    const script = [
      'import boto3, json',
      "s3 = boto3.client('s3')",
      `b = ${JSON.stringify(BUCKET)}`,
      "s3.put_object(Bucket=b, Key='boto', Body=b'boto', Metadata={'a': 'b'}, Tagging='t=1', ServerSideEncryption='aws:kms')",
      "s3.copy_object(Bucket=b, Key='boto-copy', CopySource={'Bucket': b, 'Key': 'boto'}, MetadataDirective='REPLACE', Metadata={'c': 'd'})",
      "u = s3.create_multipart_upload(Bucket=b, Key='boto-mpu', ServerSideEncryption='AES256', Metadata={'e': 'f'})['UploadId']",
      "p = s3.upload_part(Bucket=b, Key='boto-mpu', UploadId=u, PartNumber=1, Body=b'part')",
      "s3.complete_multipart_upload(Bucket=b, Key='boto-mpu', UploadId=u, MultipartUpload={'Parts': [{'PartNumber': 1, 'ETag': p['ETag']}]})",
      "print(json.dumps([s3.head_object(Bucket=b, Key=k)['Metadata'] for k in ['boto', 'boto-copy', 'boto-mpu']]))",
    ].join('\n');
    const r = await runCommand('python3', ['-c', script], awsEnv(sealbox));
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual([{ a: 'b' }, { c: 'd' }, { e: 'f' }]);
  }, 60_000);
});

describe('presigned URLs keep their rule', () => {
  it('a presigned PUT sent with an added x-amz-* header is refused, naming it; sent as presigned, it works', async () => {
    const url = await getSignedUrl(s3, new PutObjectCommand({ Bucket: BUCKET, Key: 'presigned' }), { expiresIn: 300 });
    const refused = await fetch(url, { method: 'PUT', body: 'x', headers: { 'x-amz-meta-x': 'injected' } });
    expect(refused.status).toBe(403);
    const text = await refused.text();
    expect(text).toContain(NOT_SIGNED);
    expect(text).toContain('<HeadersNotSigned>x-amz-meta-x</HeadersNotSigned>');
    expect(await notFound('presigned')).toBe('NotFound');
    expect((await fetch(url, { method: 'PUT', body: 'x' })).status).toBe(200);
    expect((await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'presigned' }))).Metadata).toEqual({});
  });
});

describe('SSE headers on operations that take none', () => {
  /** An SDK client that adds `headers` to every request before signing them (the SDK has no member for them). */
  function clientAdding(headers: Record<string, string>): S3Client {
    const client = s3Client(sealbox);
    client.middlewareStack.add(
      (next) => async (args) => {
        Object.assign((args.request as { headers: Record<string, string> }).headers, headers);
        return next(args);
      },
      { step: 'build', name: 'addHeaders' },
    );
    return client;
  }

  const CASES: [string, string][] = [
    ['x-amz-server-side-encryption', 'AES256'],
    ['x-amz-server-side-encryption', 'aws:kms'],
    ['x-amz-server-side-encryption-aws-kms-key-id', 'alias/aws/s3'],
    ['x-amz-server-side-encryption-context', Buffer.from('{"a":"b"}').toString('base64')],
  ];

  it.each(CASES)('UploadPart, UploadPartCopy and CompleteMultipartUpload refuse %s: %s (400 InvalidArgument); the upload carries on without it', async (name, value) => {
    const key = `mpu-${name}-${value}`;
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key }));
    const adding = clientAdding({ [name]: value });
    const expected = { name: 'InvalidArgument', message: `${name} header is not supported for this operation.`, ArgumentName: name, ArgumentValue: value, $metadata: { httpStatusCode: 400 } };
    try {
      expect(await failure(adding.send(new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId, PartNumber: 1, Body: 'part one' })))).toMatchObject(expected);
      expect(await failure(adding.send(new UploadPartCopyCommand({ Bucket: BUCKET, Key: key, UploadId, PartNumber: 1, CopySource: `${BUCKET}/source` })))).toMatchObject(expected);
      const part = await s3.send(new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId, PartNumber: 1, Body: 'part one' }));
      const complete = new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } });
      expect(await failure(adding.send(complete))).toMatchObject(expected);
      await s3.send(complete);
      expect(await (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))).Body!.transformToString()).toBe('part one');
    } finally {
      adding.destroy();
    }
  });

  it('CreateMultipartUpload still takes them: the upload encryption is chosen there', async () => {
    const { UploadId, ServerSideEncryption } = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'mpu-kms', ServerSideEncryption: 'aws:kms' }));
    expect(ServerSideEncryption).toBe('aws:kms');
    const part = await s3.send(new UploadPartCommand({ Bucket: BUCKET, Key: 'mpu-kms', UploadId, PartNumber: 1, Body: 'kms part' }));
    expect(part.ServerSideEncryption).toBe('aws:kms');
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: 'mpu-kms', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }));
    expect((await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'mpu-kms' }))).ServerSideEncryption).toBe('aws:kms');
  });
});
