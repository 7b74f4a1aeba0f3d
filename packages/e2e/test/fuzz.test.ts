/**
 * Property tests with arbitrary (mostly invalid) input over what parses requests: KMS JSON
 * inputs, S3 XML bodies, encryption-context and range/conditional headers, SigV4 headers and
 * presigned queries, aws-chunked bodies. The property: a well-formed AWS error (or a success),
 * never a 5xx, a crash or a hang. Runs are seeded, so a failure reproduces. These inputs rarely get
 * past the first check; the generators that reach the deep paths with mostly valid input are in
 * policy-fuzz.test.ts, xml-fuzz.test.ts, post-policy-fuzz.test.ts, fuzz-kms-crypto.test.ts and
 * fuzz-s3-deep.test.ts.
 */
import { request } from 'node:http';
import aws4 from 'aws4';
import fc from 'fast-check';
import type { Sealbox } from '@sealbox/cli';
import { startTestSealbox } from './helpers';

const SEED = 20261127;
const RUNS = Number(process.env.SEALBOX_FUZZ_RUNS ?? 150);

let sealbox: Sealbox;
let kmsUrl: URL;
let s3Url: URL;

beforeAll(async () => {
  sealbox = await startTestSealbox({ allowHttpSseKms: true });
  kmsUrl = new URL(sealbox.kms!.url);
  s3Url = new URL(sealbox.s3!.url);
  await send(s3Url, { method: 'PUT', path: '/fuzz' }, 's3');
  await send(s3Url, { method: 'PUT', path: '/fuzz/object', body: 'hello fuzz' }, 's3');
});
afterAll(() => sealbox.stop());

interface Sent {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

interface RawRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

/** Sends a request, signed with test/test unless `sign` is false; resolves on any answer, fails after 10 s. */
function send(base: URL, req: RawRequest, service: 'kms' | 's3', sign = true): Promise<Sent> {
  const options = { host: base.hostname, port: Number(base.port), method: req.method, path: req.path, headers: { ...(req.headers ?? {}) } as Record<string, string>, body: req.body, service, region: 'us-east-1' };
  if (sign) aws4.sign(options, { accessKeyId: 'test', secretAccessKey: 'test' });
  return new Promise((resolve, reject) => {
    const r = request({ host: options.host, port: options.port, method: options.method, path: options.path, headers: options.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
      res.on('error', reject);
    });
    r.setTimeout(10_000, () => r.destroy(new Error(`no answer in 10 s: ${req.method} ${req.path}`)));
    r.on('error', reject);
    r.end(req.body);
  });
}

const expectKmsError = (res: Sent) => {
  expect(res.status).toBeLessThan(500);
  if (res.status !== 200) expect(JSON.parse(res.body)).toHaveProperty('__type');
};

/** S3's answer: a success, or an XML error; 501 NotImplemented is AWS's answer to a feature S3 lacks. */
const expectS3Answer = (res: Sent) => {
  if (res.status === 501) expect(res.body).toContain('<Code>NotImplemented</Code>');
  else expect(res.status).toBeLessThan(500);
  if (res.status >= 400 && res.body) expect(res.body).toMatch(/<Error><Code>[A-Za-z.]+<\/Code>/);
};

const KMS_OPS = ['CreateKey', 'Encrypt', 'Decrypt', 'ReEncrypt', 'GenerateDataKey', 'DescribeKey', 'CreateAlias', 'PutKeyPolicy', 'CreateGrant', 'ListGrants', 'TagResource', 'ScheduleKeyDeletion', 'EnableKeyRotation', 'ListKeys', 'RetireGrant', 'GenerateRandom', 'GetPublicKey'];

const jsonish = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.dictionary(
    fc.constantFrom('KeyId', 'Plaintext', 'CiphertextBlob', 'EncryptionContext', 'KeySpec', 'NumberOfBytes', 'Policy', 'AliasName', 'TargetKeyId', 'GranteePrincipal', 'Operations', 'Constraints', 'Tags', 'Limit', 'Marker', 'GrantTokens', 'PendingWindowInDays', 'RotationPeriodInDays', 'DryRun', 'KeyUsage', 'Description'),
    fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null), fc.base64String(), fc.array(fc.string(), { maxLength: 3 }), fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 })),
    { maxKeys: 5 },
  ),
);

describe('KMS JSON inputs', () => {
  it('any JSON to any operation is answered with a KMS error or success, never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...KMS_OPS), jsonish, async (op, input) => {
        const res = await send(kmsUrl, { method: 'POST', path: '/', headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': `TrentService.${op}` }, body: JSON.stringify(input) }, 'kms');
        expectKmsError(res);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('arbitrary bodies and targets are refused cleanly', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 60 }), fc.string({ maxLength: 200 }), async (target, body) => {
        const res = await send(kmsUrl, { method: 'POST', path: '/', headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': target.replace(/[^\x21-\x7e]/g, '') || 'x' }, body }, 'kms');
        expectKmsError(res);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });
});

const xmlish = fc.oneof(
  fc.string({ maxLength: 300 }),
  fc.tuple(fc.constantFrom('Tagging', 'CORSConfiguration', 'ServerSideEncryptionConfiguration', 'VersioningConfiguration', 'Delete', 'CompleteMultipartUpload', 'PublicAccessBlockConfiguration'), fc.array(fc.tuple(fc.constantFrom('TagSet', 'Tag', 'Key', 'Value', 'CORSRule', 'AllowedMethod', 'AllowedOrigin', 'Rule', 'ApplyServerSideEncryptionByDefault', 'SSEAlgorithm', 'KMSMasterKeyID', 'Status', 'Object', 'Part', 'PartNumber', 'ETag', 'Quiet'), fc.string({ maxLength: 20 })), { maxLength: 6 })).map(
    ([root, children]) => `<?xml version="1.0"?><${root} xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${children.map(([n, v]) => `<${n}>${v}</${n}>`).join('')}</${root}>`,
  ),
);

describe('S3 XML documents', () => {
  it('any document to any configuration endpoint is answered with an S3 error or success, never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('PUT /fuzz?tagging', 'PUT /fuzz?cors', 'PUT /fuzz?encryption', 'PUT /fuzz?versioning', 'PUT /fuzz?publicAccessBlock', 'POST /fuzz?delete', 'PUT /fuzz/object?tagging', 'PUT /fuzz?policy', 'POST /fuzz/mpu?uploadId=nonexistent'),
        xmlish,
        async (endpoint, body) => {
          const [method, path] = endpoint.split(' ') as [string, string];
          const res = await send(s3Url, { method, path, body, headers: { 'Content-Type': 'application/xml' } }, 's3');
          expectS3Answer(res);
        },
      ),
      { seed: SEED, numRuns: RUNS },
    );
  });
});

describe('S3 headers', () => {
  const headerValue = fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('bytes=0-', 'bytes=-1', 'bytes=5-2', 'bytes=0-0,2-3', '*', '"x"', 'Wed, 21 Oct 2015 07:28:00 GMT', 'aws:kms', 'AES256', '')).map((v) => v.replace(/[^\x20-\x7e]/g, ''));

  it('range, conditional and encryption headers never cause a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'HEAD', 'PUT'),
        fc.dictionary(
          fc.constantFrom('Range', 'If-Match', 'If-None-Match', 'If-Modified-Since', 'If-Unmodified-Since', 'x-amz-server-side-encryption', 'x-amz-server-side-encryption-context', 'x-amz-server-side-encryption-aws-kms-key-id', 'x-amz-server-side-encryption-customer-algorithm', 'x-amz-server-side-encryption-customer-key', 'x-amz-checksum-algorithm', 'x-amz-tagging', 'x-amz-copy-source', 'x-amz-copy-source-range'),
          headerValue,
          { maxKeys: 4 },
        ),
        async (method, headers) => {
          const res = await send(s3Url, { method, path: method === 'PUT' ? '/fuzz/put-target' : '/fuzz/object', headers, body: method === 'PUT' ? 'body' : undefined }, 's3');
          expectS3Answer(res);
        },
      ),
      { seed: SEED, numRuns: RUNS },
    );
  });
});

describe('SigV4', () => {
  const token = fc.string({ maxLength: 80 }).map((v) => v.replace(/[^\x20-\x7e]/g, ''));

  it('arbitrary Authorization headers are refused with an AWS error, never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(token, token.map((t) => `AWS4-HMAC-SHA256 ${t}`), fc.tuple(token, token, token).map(([a, b, c]) => `AWS4-HMAC-SHA256 Credential=${a}, SignedHeaders=${b}, Signature=${c}`)), fc.boolean(), async (authorization, kms) => {
        const headers = { Authorization: authorization, 'X-Amz-Date': '20261127T000000Z' };
        const res = kms
          ? await send(kmsUrl, { method: 'POST', path: '/', headers: { ...headers, 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': 'TrentService.ListKeys' }, body: '{}' }, 'kms', false)
          : await send(s3Url, { method: 'GET', path: '/fuzz/object', headers }, 's3', false);
        expect(res.status).toBeGreaterThanOrEqual(400);
        expect(res.status).toBeLessThan(500);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('arbitrary presigned queries are refused with an AWS error, never a 5xx', async () => {
    const param = fc.constantFrom('X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Expires', 'X-Amz-SignedHeaders', 'X-Amz-Signature', 'X-Amz-Security-Token');
    await fc.assert(
      fc.asyncProperty(fc.dictionary(param, token, { minKeys: 1, maxKeys: 7 }), async (query) => {
        const qs = Object.entries(query).map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
        const res = await send(s3Url, { method: 'GET', path: `/fuzz/object?${qs}` }, 's3', false);
        expect(res.status).toBeGreaterThanOrEqual(400);
        expect(res.status).toBeLessThan(500);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('arbitrary aws-chunked bodies end in an answer, never a 5xx or a hang', async () => {
    const chunk = fc.oneof(
      fc.string({ maxLength: 120 }),
      fc.tuple(fc.integer({ min: 0, max: 64 }), fc.string({ maxLength: 64 }), fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), maxLength: 64 })).map(([n, data, sig]) => `${n.toString(16)};chunk-signature=${sig}\r\n${data}\r\n`),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(chunk, { maxLength: 4 }), fc.integer({ min: 0, max: 200 }), fc.constantFrom('STREAMING-AWS4-HMAC-SHA256-PAYLOAD', 'STREAMING-UNSIGNED-PAYLOAD-TRAILER', 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER'), async (chunks, declared, mode) => {
        const body = chunks.join('');
        const res = await send(
          s3Url,
          {
            method: 'PUT',
            path: '/fuzz/chunked',
            body,
            headers: { 'Content-Encoding': 'aws-chunked', 'X-Amz-Content-Sha256': mode, 'X-Amz-Decoded-Content-Length': String(declared), ...(mode.endsWith('TRAILER') ? { 'X-Amz-Trailer': 'x-amz-checksum-crc32' } : {}) },
          },
          's3',
        );
        expectS3Answer(res);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });
});
