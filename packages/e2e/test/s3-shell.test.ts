/** The S3 service shell through @aws-sdk/client-s3 and raw HTTP: routing, auth errors, ListBuckets. */
import { request as httpRequest } from 'node:http';
import { HeadBucketCommand, PutBucketWebsiteCommand, ListBucketsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { Sealbox } from '@sealbox/cli';
import aws4 from 'aws4';
import { failure, s3Client, startTestSealbox } from './helpers';

let sealbox: Sealbox;
let s3: S3Client;

beforeAll(async () => {
  sealbox = await startTestSealbox();
  s3 = s3Client(sealbox);
});
afterAll(async () => {
  s3.destroy();
  await sealbox.stop();
});

/** The text of one element of an XML document. */
const xmlValue = (xml: string, name: string) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1];

function signedFetch(path: string, options: { method?: string; secret?: string; region?: string; headers?: Record<string, string> } = {}) {
  const url = new URL(sealbox.s3!.url);
  const req = { host: url.host, path, method: options.method ?? 'GET', service: 's3', region: options.region ?? 'us-east-1', headers: { ...options.headers } };
  aws4.sign(req, { accessKeyId: 'test', secretAccessKey: options.secret ?? 'test' });
  return fetch(`${sealbox.s3!.url}${path}`, { method: req.method, headers: req.headers as Record<string, string> });
}

describe('ListBuckets', () => {
  it('an empty store lists no buckets, with the owner', async () => {
    const out = await s3.send(new ListBucketsCommand({}));
    expect(out.Buckets ?? []).toEqual([]);
    expect(out.Owner?.ID).toMatch(/^[0-9a-f]{64}$/);
    expect(out.$metadata.requestId).toMatch(/^[0-9A-F]{16}$/);
    expect(out.$metadata.extendedRequestId).toBeTruthy();
  });

  it('answers S3 XML with S3 headers', async () => {
    const res = await signedFetch('/');
    const xml = await res.text();
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/xml');
    expect(res.headers.get('server')).toBe('AmazonS3');
    expect(res.headers.get('x-amz-request-id')).toMatch(/^[0-9A-F]{16}$/);
    expect(xml).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<ListAllMyBucketsResult xmlns="http:\/\/s3.amazonaws.com\/doc\/2006-03-01\/"><Owner><ID>[0-9a-f]{64}<\/ID>/);
  });

  it('accepts a request signed for any region (there is no bucket to place)', async () => {
    const client = s3Client(sealbox, { region: 'ap-southeast-2' });
    await expect(client.send(new ListBucketsCommand({}))).resolves.toHaveProperty('Owner');
    client.destroy();
  });

  it('a presigned ListBuckets URL works until it expires', async () => {
    const presigning = await startTestSealbox({ only: 's3' });
    const client = s3Client(presigning);
    try {
      // As a test author writes it: presign, advance past the expiry, fetch at once (no sleeps).
      const url = await getSignedUrl(client, new ListBucketsCommand({}), { expiresIn: 60 });
      expect((await fetch(url)).status).toBe(200);
      await presigning.clock.advance(61);
      const res = await fetch(url);
      const xml = await res.text();
      expect(res.status).toBe(403);
      expect(xmlValue(xml, 'Code')).toBe('AccessDenied');
      expect(xmlValue(xml, 'Message')).toBe('Request has expired');
      expect(xmlValue(xml, 'X-Amz-Expires')).toBe('60');
      expect(xmlValue(xml, 'Expires')).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      expect(xmlValue(xml, 'ServerTime')).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      // A URL signed after the clock moved is current, at once.
      const fresh = await getSignedUrl(client, new ListBucketsCommand({}), { expiresIn: 60 });
      expect((await fetch(fresh)).status).toBe(200);
      // The same through the admin endpoint: an hour's URL, two hours later, within the same second.
      const hour = await getSignedUrl(client, new ListBucketsCommand({}), { expiresIn: 3600 });
      const advanced = await fetch(`${presigning.s3!.url}/_sealbox/clock`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ advanceSeconds: 7200 }) });
      expect(advanced.status).toBe(200);
      expect((await fetch(hour)).status).toBe(403);
      expect((await fetch(await getSignedUrl(client, new ListBucketsCommand({}), { expiresIn: 3600 }))).status).toBe(200);
    } finally {
      client.destroy();
      await presigning.stop();
    }
  });
});

describe('authentication errors', () => {
  it('a wrong secret: SignatureDoesNotMatch with what S3 computed', async () => {
    const err = await failure(s3Client(sealbox, { credentials: { accessKeyId: 'test', secretAccessKey: 'wrong' } }).send(new ListBucketsCommand({})));
    expect(err.name).toBe('SignatureDoesNotMatch');
    expect(err.$metadata?.httpStatusCode).toBe(403);

    const res = await signedFetch('/', { secret: 'wrong' });
    const xml = await res.text();
    expect(res.status).toBe(403);
    expect(xml).toMatch(
      /<Error><Code>SignatureDoesNotMatch<\/Code><Message>The request signature we calculated does not match the signature you provided. Check your key and signing method.<\/Message><AWSAccessKeyId>test<\/AWSAccessKeyId><StringToSign>AWS4-HMAC-SHA256\n\d{8}T\d{6}Z\n\d{8}\/us-east-1\/s3\/aws4_request\n[0-9a-f]{64}<\/StringToSign><SignatureProvided>[0-9a-f]{64}<\/SignatureProvided><StringToSignBytes>41 57 53 34 [0-9a-f ]+<\/StringToSignBytes><CanonicalRequest>GET\n\/\n\n[^<]+<\/CanonicalRequest><CanonicalRequestBytes>[0-9a-f ]+<\/CanonicalRequestBytes><RequestId>[0-9A-F]{16}<\/RequestId><HostId>[^<]+<\/HostId><\/Error>/,
    );
  });

  it('an unknown access key: InvalidAccessKeyId', async () => {
    const client = s3Client(sealbox, { credentials: { accessKeyId: 'AKIDNOBODY', secretAccessKey: 'x' } });
    const err = await failure(client.send(new ListBucketsCommand({})));
    expect(err.name).toBe('InvalidAccessKeyId');
    expect(err.message).toBe('The AWS Access Key Id you provided does not exist in our records.');
    expect((err as unknown as { AWSAccessKeyId: string }).AWSAccessKeyId).toBe('AKIDNOBODY');
  });

  it('a bucket request signed for another region: AuthorizationHeaderMalformed naming the region', async () => {
    const client = s3Client(sealbox, { region: 'eu-west-1' });
    const err = await failure(client.send(new ListObjectsV2Command({ Bucket: 'some-bucket' })));
    expect(err.name).toBe('AuthorizationHeaderMalformed');
    expect(err.message).toBe("The authorization header is malformed; the region 'eu-west-1' is wrong; expecting 'us-east-1'");
    expect((err as unknown as { Region: string }).Region).toBe('us-east-1');
  });

  it('a skewed client clock: RequestTimeTooSkewed', async () => {
    const client = s3Client(sealbox, { systemClockOffset: -16 * 60 * 1000 });
    try {
      const err = await failure(client.send(new ListBucketsCommand({})));
      expect(err.name).toBe('RequestTimeTooSkewed');
      expect(err.$metadata?.httpStatusCode).toBe(403);
      expect((err as unknown as { MaxAllowedSkewMilliseconds: string }).MaxAllowedSkewMilliseconds).toBe('900000');
    } finally {
      client.destroy();
    }
  });

  it('an anonymous request: AccessDenied', async () => {
    const res = await fetch(`${sealbox.s3!.url}/`);
    expect(res.status).toBe(403);
    expect(xmlValue(await res.text(), 'Code')).toBe('AccessDenied');
  });

  it('SigV2 is refused with the message S3 gives', async () => {
    const res = await fetch(`${sealbox.s3!.url}/`, { headers: { Authorization: 'AWS test:c2lnbmF0dXJl' } });
    const xml = await res.text();
    expect(res.status).toBe(400);
    expect(xmlValue(xml, 'Code')).toBe('InvalidRequest');
    expect(xmlValue(xml, 'Message')).toBe('The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.');
  });

  it('a missing x-amz-content-sha256: InvalidRequest', async () => {
    const url = new URL(sealbox.s3!.url);
    // aws4 adds x-amz-content-sha256 for s3; sign as another service name to leave it out, then fix the scope.
    const req = { host: url.host, path: '/', service: 's3', region: 'us-east-1', headers: { 'X-Amz-Content-Sha256': '' } as Record<string, string> };
    aws4.sign(req, { accessKeyId: 'test', secretAccessKey: 'test' });
    delete req.headers['X-Amz-Content-Sha256'];
    const res = await fetch(`${sealbox.s3!.url}/`, { headers: req.headers });
    const xml = await res.text();
    expect(xmlValue(xml, 'Code')).toBe('InvalidRequest');
    expect(xmlValue(xml, 'Message')).toBe('Missing required header for this request: x-amz-content-sha256');
  });

  it('HEAD errors carry no body', async () => {
    const err = await failure(s3Client(sealbox, { credentials: { accessKeyId: 'test', secretAccessKey: 'wrong' } }).send(new HeadBucketCommand({ Bucket: 'b1' })));
    expect(err.$metadata?.httpStatusCode).toBe(403);
    const res = await signedFetch('/b1', { method: 'HEAD', secret: 'wrong' });
    expect(res.status).toBe(403);
    expect(res.headers.get('x-amz-request-id')).toMatch(/^[0-9A-F]{16}$/);
    expect(await res.text()).toBe('');
  });
});

describe('routing', () => {
  it('an operation not built yet answers NotImplemented (501) in S3 XML', async () => {
    const err = await failure(s3.send(new PutBucketWebsiteCommand({ Bucket: 'not-yet', WebsiteConfiguration: { IndexDocument: { Suffix: 'index.html' } } })));
    expect(err.name).toBe('NotImplemented');
    expect(err.$metadata?.httpStatusCode).toBe(501);
    expect(err.message).toBe('A header you provided implies functionality that is not implemented');
  });

  it('a method S3 does not have: MethodNotAllowed', async () => {
    const res = await signedFetch('/bucket/key', { method: 'PATCH' });
    const xml = await res.text();
    expect(res.status).toBe(405);
    expect(xmlValue(xml, 'Code')).toBe('MethodNotAllowed');
    expect(xmlValue(xml, 'Method')).toBe('PATCH');
    expect(xmlValue(xml, 'ResourceType')).toBe('OBJECT');
  });

  it('virtual-hosted style: the bucket comes from the Host header', async () => {
    const port = new URL(sealbox.s3!.url).port;
    const req = { host: `my-bucket.localhost:${port}`, path: '/_sealbox/health', method: 'GET', service: 's3', region: 'us-east-1', headers: {} };
    aws4.sign(req, { accessKeyId: 'test', secretAccessKey: 'test' });
    const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const r = httpRequest({ host: '127.0.0.1', port, path: req.path, method: 'GET', headers: req.headers }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      });
      r.on('error', reject);
      r.end();
    });
    // GetObject on bucket my-bucket, key _sealbox/health: routed to S3, not to the admin endpoint.
    expect(status).toBe(404);
    expect(xmlValue(body, 'Code')).toBe('NoSuchBucket');
    expect(xmlValue(body, 'BucketName')).toBe('my-bucket');
  });
});

describe('admin endpoints', () => {
  it('health and the virtual clock', async () => {
    const health = await (await fetch(`${sealbox.s3!.url}/_sealbox/health`)).json();
    expect(health).toEqual({ status: 'ok', service: 's3', region: 'us-east-1' });
    const before = (await (await fetch(`${sealbox.kms!.url}/_sealbox/clock`)).json()) as { now: string };
    expect(Math.abs(Date.parse(before.now) - Date.now())).toBeLessThan(5000);
    const bad = await fetch(`${sealbox.s3!.url}/_sealbox/clock`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"advanceSeconds":-5}' });
    expect(bad.status).toBe(400);
  });

  it('advancing the clock on one service moves the clock both services share', async () => {
    const sb = await startTestSealbox();
    try {
      const res = await fetch(`${sb.s3!.url}/_sealbox/clock`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"advanceSeconds": 86400}' });
      const moved = (await res.json()) as { now: string; offsetSeconds: number };
      expect(moved.offsetSeconds).toBe(86400);
      const kmsClock = (await (await fetch(`${sb.kms!.url}/_sealbox/clock`)).json()) as { now: string };
      expect(Date.parse(kmsClock.now) - Date.now()).toBeGreaterThan(86000 * 1000);
    } finally {
      await sb.stop();
    }
  });
});
