import { createServer, type Server } from 'node:http';
import { CreateKeyCommand, EncryptCommand, KMSClient } from '@aws-sdk/client-kms';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  PutBucketEncryptionCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import type { Sealbox, SealboxOptions } from '@sealbox/cli';
import { failure, kmsClient, s3Client, startTestSealbox, tlsKmsClient, tlsS3Client } from './helpers';

/**
 * Review of S3's plain-HTTP hop to its own KMS (s3-kms-transport.test.ts): KMS gives aws:SecureTransport
 * true to S3's calls on a caller's behalf, and only to those.
 */
const ROOT = { Sid: 'Root', Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::000000000000:root' }, Action: 'kms:*', Resource: '*' };
const policy = (...statements: object[]) => JSON.stringify({ Version: '2012-10-17', Statement: statements });
const DENY_PLAIN = { Sid: 'DenyPlain', Effect: 'Deny', Principal: { AWS: '*' }, Action: 'kms:*', Resource: '*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } };
const DENY_PLAIN_IF_EXISTS = { ...DENY_PLAIN, Sid: 'DenyPlainIfExists', Condition: { BoolIfExists: { 'aws:SecureTransport': 'false' } } };

/** Adds a header before signing, so it is signed (a forged on-behalf-of a KMS would check the signature of). */
function withHeader<C extends KMSClient>(client: C, name: string, value: string): C {
  client.middlewareStack.add(
    (next) => async (args) => {
      (args.request as { headers: Record<string, string> }).headers[name] = value;
      return next(args);
    },
    { step: 'build', name: `add-${name}` },
  );
  return client;
}

async function trailOf(sealbox: Sealbox): Promise<Array<Record<string, any>>> {
  const core = sealbox.kms!.core as unknown as { trail: { settled(): Promise<void> } };
  await core.trail.settled();
  const res = await fetch(`${sealbox.kms!.httpUrl}/_sealbox/requests?limit=100`);
  return ((await res.json()) as { requests: Array<Record<string, any>> }).requests;
}

describe('TLS on: only S3 itself gets aws:SecureTransport true over the plain-HTTP hop', () => {
  let sealbox: Sealbox;
  let keyArn: string;
  beforeAll(async () => {
    sealbox = await startTestSealbox({ tls: true });
    keyArn = (await tlsKmsClient(sealbox).send(new CreateKeyCommand({ Policy: policy(ROOT, DENY_PLAIN) }))).KeyMetadata!.Arn!;
    const s3 = tlsS3Client(sealbox);
    await s3.send(new CreateBucketCommand({ Bucket: 'hop' }));
    await s3.send(new PutObjectCommand({ Bucket: 'hop', Key: 'k', Body: 'x', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyArn }));
  });
  afterAll(() => sealbox.stop());

  it('a client naming itself (or anyone) in x-sealbox-on-behalf-of over plain HTTP is still plain HTTP', async () => {
    for (const named of ['test', 'nobody']) {
      const plain = withHeader(kmsClient(sealbox, { endpoint: sealbox.kms!.httpUrl }), 'x-sealbox-on-behalf-of', named);
      const err = await failure(plain.send(new EncryptCommand({ KeyId: keyArn, Plaintext: Buffer.from('x') })));
      expect(err.name).toBe('AccessDeniedException');
    }
  });

  it("the service credential's access key id (visible in the request log) without its secret is refused", async () => {
    const requests = await trailOf(sealbox);
    const serviceKey = requests.map((r) => r.accessKeyId as string | undefined).find((k) => k?.startsWith('SEALBOXS3'));
    expect(serviceKey).toBeDefined();
    for (const secret of ['', 'test', 'x'.repeat(40)]) {
      const forged = withHeader(new KMSClient({ endpoint: sealbox.kms!.httpUrl, region: 'us-east-1', credentials: { accessKeyId: serviceKey!, secretAccessKey: secret || 'a' }, maxAttempts: 1 }), 'x-sealbox-on-behalf-of', 'test');
      const err = await failure(forged.send(new EncryptCommand({ KeyId: keyArn, Plaintext: Buffer.from('x') })));
      expect(['InvalidSignatureException', 'UnrecognizedClientException']).toContain(err.name);
    }
  });

  it('an SSE-KMS PUT in flight across a reset finishes (the state token now rides the plain hop)', async () => {
    sealbox.snapshot('before-reset');
    const kms = tlsKmsClient(sealbox);
    const s3 = tlsS3Client(sealbox);
    const keyId = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    await s3.send(new CreateBucketCommand({ Bucket: 'inflight' }));
    const rule = sealbox.faults.add({ service: 's3', operation: 'PutObject', latencyMs: 1000, count: 1 });
    const put = s3.send(new PutObjectCommand({ Bucket: 'inflight', Key: 'k', Body: 'hello', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyId }));
    for (let i = 0; i < 200; i++) {
      const held = sealbox.faults.list().find((r) => r.id === rule.id);
      if (!held || held.fired > 0) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    await sealbox.reset();
    expect((await put).SSEKMSKeyId).toContain(keyId);
    sealbox.restore('before-reset');
    sealbox.deleteSnapshot('before-reset');
  });

  it("a fault rule on a KMS operation still meets S3's calls", async () => {
    const s3 = tlsS3Client(sealbox);
    sealbox.faults.add({ service: 'kms', operation: 'GenerateDataKey', error: 'KMSInternalException', count: 1 });
    const err = await failure(s3.send(new PutObjectCommand({ Bucket: 'hop', Key: 'f', Body: 'x', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyArn })));
    expect(err.name).toBe('KMS.KMSInternalException');
    await s3.send(new PutObjectCommand({ Bucket: 'hop', Key: 'f', Body: 'x', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyArn }));
  });
});

describe.each<[string, SealboxOptions]>([
  ['--no-tls', { tls: false, allowHttpSseKms: true }],
  ['TLS on, --host ::1', { tls: true, host: '::1', allowHttpSseKms: true }],
  ['TLS on, --host ::', { tls: true, host: '::', allowHttpSseKms: true }],
  ['TLS on, --host 0.0.0.0', { tls: true, host: '0.0.0.0', allowHttpSseKms: true }],
])('a TLS-only key (Bool and BoolIfExists) under %s: every SSE-KMS path goes through', (_name, options) => {
  let sealbox: Sealbox;
  let s3: S3Client;
  let keys: string[];
  beforeAll(async () => {
    sealbox = await startTestSealbox(options);
    const kms = options.tls ? tlsKmsClient(sealbox) : kmsClient(sealbox);
    keys = [];
    for (const deny of [DENY_PLAIN, DENY_PLAIN_IF_EXISTS]) {
      keys.push((await kms.send(new CreateKeyCommand({ Policy: policy(ROOT, deny), BypassPolicyLockoutSafetyCheck: true }))).KeyMetadata!.Arn!);
    }
    s3 = s3Client(sealbox, { endpoint: sealbox.s3!.httpUrl });
  });
  afterAll(() => sealbox.stop());

  it('PUT, GET, multipart, CopyObject between keys, Bucket Key, default bucket encryption', async () => {
    const [a, b] = keys as [string, string];
    await s3.send(new CreateBucketCommand({ Bucket: 'tls-only' }));
    await s3.send(new PutObjectCommand({ Bucket: 'tls-only', Key: 'one', Body: 'one', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: a, BucketKeyEnabled: true }));
    await s3.send(new CopyObjectCommand({ Bucket: 'tls-only', Key: 'two', CopySource: 'tls-only/one', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: b }));
    const mpu = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'tls-only', Key: 'mp', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: b }));
    const part = await s3.send(new UploadPartCommand({ Bucket: 'tls-only', Key: 'mp', UploadId: mpu.UploadId, PartNumber: 1, Body: 'part' }));
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: 'tls-only', Key: 'mp', UploadId: mpu.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }));
    await s3.send(
      new PutBucketEncryptionCommand({
        Bucket: 'tls-only',
        ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: a }, BucketKeyEnabled: false }] },
      }),
    );
    await s3.send(new PutObjectCommand({ Bucket: 'tls-only', Key: 'default', Body: 'dflt' }));
    for (const [key, body] of [['one', 'one'], ['two', 'one'], ['mp', 'part'], ['default', 'dflt']]) {
      expect(await (await s3.send(new GetObjectCommand({ Bucket: 'tls-only', Key: key }))).Body!.transformToString()).toBe(body);
    }
  });
});

/**
 * Finding: with --host NAME, S3 dialled its own KMS by NAME on every call, resolved afresh each
 * time, over plain HTTP. Over HTTPS a different answer (a changed /etc/hosts or DNS record, a name
 * with several addresses) met a certificate only this Sealbox's CA could sign; over plain HTTP
 * whatever listened there got S3's signed calls on the callers' behalf and chose the data keys S3
 * encrypted new objects under. S3 now dials the address the KMS listener bound.
 */
describe('--host NAME: S3 dials the address its KMS listener bound, not the name again', () => {
  let sealbox: Sealbox;
  let impostor: Server | undefined;
  const dns = require('node:dns') as typeof import('node:dns');
  const realLookup = dns.lookup;
  afterEach(async () => {
    dns.lookup = realLookup;
    await new Promise((resolve) => (impostor ? impostor.close(resolve) : resolve(undefined)));
    await sealbox?.stop();
  });

  it('a name that resolves elsewhere after start does not take S3 elsewhere', async () => {
    sealbox = await startTestSealbox({ tls: true, host: 'localhost', allowHttpSseKms: true });
    const port = sealbox.kms!.port;
    const seen: string[] = [];
    impostor = createServer((req, res) => {
      seen.push(String(req.headers['x-sealbox-on-behalf-of']));
      res.writeHead(200, { 'Content-Type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify({ KeyId: 'arn:aws:kms:us-east-1:000000000000:key/00000000-0000-0000-0000-000000000000', Plaintext: Buffer.alloc(32, 7).toString('base64'), CiphertextBlob: Buffer.from('chosen').toString('base64') }));
    });
    await new Promise<void>((resolve) => impostor!.listen(port, '127.0.0.2', resolve));
    // From now on "localhost" answers 127.0.0.2 (what a changed hosts file or DNS record does).
    dns.lookup = ((host: string, options: unknown, callback?: unknown) => {
      if (host !== 'localhost') return (realLookup as (...a: unknown[]) => void)(host, options, callback);
      const cb = (typeof options === 'function' ? options : callback) as (...a: unknown[]) => void;
      const all = typeof options === 'object' && options !== null && (options as { all?: boolean }).all;
      if (all) cb(null, [{ address: '127.0.0.2', family: 4 }]);
      else cb(null, '127.0.0.2', 4);
    }) as typeof dns.lookup;
    const kms = tlsKmsClient(sealbox, { endpoint: `https://127.0.0.1:${port}` });
    const keyId = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    const s3 = s3Client(sealbox, { endpoint: `http://127.0.0.1:${sealbox.s3!.port}` });
    await s3.send(new CreateBucketCommand({ Bucket: 'named-host' }));
    await s3.send(new PutObjectCommand({ Bucket: 'named-host', Key: 'k', Body: 'x', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyId }));
    expect(seen).toEqual([]);
    expect(await (await s3.send(new GetObjectCommand({ Bucket: 'named-host', Key: 'k' }))).Body!.transformToString()).toBe('x');
  });
});

/**
 * Pointed at another KMS, S3 calls it as the caller (no service credential, no invokedBy): the URL's
 * scheme decides aws:SecureTransport there, so a TLS-only key refuses SSE-KMS through an http://
 * --kms-endpoint (docs/kms.md says the TLS-only exemption is for S3 and KMS of one Sealbox).
 */
describe('--only s3 --kms-endpoint http://another Sealbox: the caller\'s own call, over plain HTTP', () => {
  it('a TLS-only key refuses SSE-KMS there', async () => {
    const kmsOnly = await startTestSealbox({ tls: true, only: 'kms' });
    const s3Only = await startTestSealbox({ only: 's3', kmsEndpoint: kmsOnly.kms!.httpUrl, allowHttpSseKms: true });
    try {
      const key = (await tlsKmsClient(kmsOnly).send(new CreateKeyCommand({ Policy: policy(ROOT, DENY_PLAIN) }))).KeyMetadata!.Arn!;
      const s3 = s3Client(s3Only);
      await s3.send(new CreateBucketCommand({ Bucket: 'elsewhere' }));
      const err = await failure(s3.send(new PutObjectCommand({ Bucket: 'elsewhere', Key: 'k', Body: 'x', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: key })));
      expect(err.name).toBe('AccessDenied');
      expect(err.message).toMatch(/explicit deny in a resource-based policy/);
    } finally {
      await s3Only.stop();
      await kmsOnly.stop();
    }
  });
});
