/**
 * Security: no path built from user input, presigned URLs bound to their method and key, policy
 * evaluation that case and encoding tricks cannot bypass, and no secret or plaintext in logs,
 * the event log or the data directory.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, sep } from 'node:path';
import { request } from 'node:http';
import { CreateKeyCommand, DecryptCommand, EncryptCommand, GenerateDataKeyCommand, type KMSClient } from '@aws-sdk/client-kms';
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  PutBucketPolicyCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { createAccessLog } from '@sealbox/runtime';
import type { Sealbox } from '@sealbox/cli';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { failure, kmsClient, s3Client, startTestSealbox } from './helpers';

const CANARY_TEXT = 'CANARY-PLAINTEXT-7f3a9c1e5b';
const CANARY_SECRET = 'CANARY-SECRET-4d2b8e6f0a';

let sealbox: Sealbox;
let dir: string;
let kms: KMSClient;
let s3: S3Client;
const logLines: string[] = [];
const stderrLines: string[] = [];
let restoreStderr: () => void;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sealbox-security-'));
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    stderrLines.push(String(chunk));
    return (write as (c: string | Uint8Array, ...r: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof process.stderr.write;
  restoreStderr = () => {
    process.stderr.write = write;
  };
  sealbox = await startTestSealbox({
    dataDir: dir,
    allowHttpSseKms: true,
    users: [{ accessKeyId: 'CANARYKEY', secretAccessKey: CANARY_SECRET, accountId: '000000000000', principalArn: 'arn:aws:iam::000000000000:root' }],
    accessLog: createAccessLog({ json: true, write: (line) => logLines.push(line) }),
  });
  kms = kmsClient(sealbox, { credentials: { accessKeyId: 'CANARYKEY', secretAccessKey: CANARY_SECRET } });
  s3 = s3Client(sealbox, { credentials: { accessKeyId: 'CANARYKEY', secretAccessKey: CANARY_SECRET } });
  await s3.send(new CreateBucketCommand({ Bucket: 'sec' }));
});
afterAll(async () => {
  restoreStderr();
  await sealbox.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A request signed over its path exactly as sent (as S3 clients sign), by the SDK's own signer. */
async function raw(method: string, path: string): Promise<{ status: number; text: string }> {
  const url = new URL(sealbox.s3!.url);
  const signer = new SignatureV4({ credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, region: 'us-east-1', service: 's3', sha256: Sha256, uriEscapePath: false });
  const signed = await signer.sign({
    method,
    protocol: 'http:',
    hostname: url.hostname,
    port: Number(url.port),
    path,
    query: {},
    headers: { host: url.host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
  });
  return new Promise((resolve, reject) => {
    const r = request({ host: url.hostname, port: Number(url.port), method, path, headers: signed.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, text: Buffer.concat(chunks).toString('utf8') }));
    });
    r.on('error', reject);
    r.end();
  });
}

/** Every file under the data directory, recursively. */
function filesUnder(root: string): string[] {
  return readdirSync(root).flatMap((name) => {
    const path = join(root, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

describe('paths from user input', () => {
  it('traversal in keys is only ever a key: stored and read back as given, nothing written outside the data directory', async () => {
    const keys = ['../../../../etc/passwd', '..%2F..%2Fescape', 'a/../../b', './.', '..\\..\\win'];
    // The real file system, outside the data directory: every path a key could reach if it became
    // a path (taken from the data directory or any directory up to four levels below it, from the
    // working directory and from HOME, as given, URL-decoded, or with \\ as /) is looked at before
    // and after. A new file, or a changed one (/etc/passwd), is a write outside.
    const bases = [process.cwd(), process.env.HOME ?? '/root', ...[0, 1, 2, 3, 4].map((depth) => join(dir, ...Array<string>(depth).fill('d')))];
    const spellings = keys.flatMap((k) => [k, decodeURIComponent(k), k.replace(/\\/g, '/')]);
    const candidates = [...new Set(bases.flatMap((b) => spellings.map((k) => resolve(b, k))))].filter((p) => !p.startsWith(dir + sep));
    const look = () => candidates.map((p) => ({ p, ...(existsSync(p) ? { size: statSync(p).size, mtimeMs: statSync(p).mtimeMs } : {}) }));
    const listing = (d: string) => new Set(readdirSync(d));
    const before = { paths: look(), tmp: listing(tmpdir()), cwd: listing(process.cwd()), home: listing(process.env.HOME ?? '/root') };
    for (const key of keys) {
      await s3.send(new PutObjectCommand({ Bucket: 'sec', Key: key, Body: `content of ${key}` }));
      expect(await (await s3.send(new GetObjectCommand({ Bucket: 'sec', Key: key }))).Body!.transformToString()).toBe(`content of ${key}`);
    }
    expect(look()).toEqual(before.paths);
    // Nothing new beside the data directory, in the working directory or in HOME, with a key's
    // name (other tests running at the same time add their own temporary directories to /tmp).
    const names = new Set(spellings.flatMap((k) => k.split('/')).filter((n) => n && n !== '.' && n !== '..'));
    for (const [where, then] of [[tmpdir(), before.tmp], [process.cwd(), before.cwd], [process.env.HOME ?? '/root', before.home]] as const) {
      const added = [...listing(where)].filter((n) => !then.has(n));
      expect({ where, added: added.filter((n) => names.has(n)) }).toEqual({ where, added: [] });
    }
    // Inside, blob files are named by random ids only.
    expect(filesUnder(join(dir, 's3', 'blobs')).every((f) => /\/[0-9a-f]{2}\/[0-9a-f]{32}$/.test(f))).toBe(true);
  });

  it('traversal in bucket names and upload ids is refused with AWS errors', async () => {
    for (const bucket of ['..', '.', '%2e%2e', 'a..b']) {
      const res = await raw('PUT', `/${bucket}`);
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
    }
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'sec', Key: 'mpu' }));
    expect(UploadId).toBeDefined();
    for (const uploadId of ['../../x', `${UploadId}/../..`, '%2e%2e%2f']) {
      const err = await failure(s3.send(new UploadPartCommand({ Bucket: 'sec', Key: 'mpu', UploadId: uploadId, PartNumber: 1, Body: 'x' })));
      expect(err.name).toBe('NoSuchUpload');
    }
  });
});

describe('signatures', () => {
  it('a presigned URL works only for its method and key', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'sec', Key: 'presigned', Body: 'p' }));
    const url = await getSignedUrl(s3Client(sealbox), new GetObjectCommand({ Bucket: 'sec', Key: 'presigned' }), { expiresIn: 300 });
    expect((await fetch(url)).status).toBe(200);
    const put = await fetch(url, { method: 'PUT', body: 'overwrite' });
    expect(put.status).toBe(403);
    expect(await put.text()).toContain('<Code>SignatureDoesNotMatch</Code>');
    const other = await fetch(url.replace('/presigned?', '/other?'));
    expect(other.status).toBe(403);
    expect(await other.text()).toContain('<Code>SignatureDoesNotMatch</Code>');
    expect(await (await s3.send(new GetObjectCommand({ Bucket: 'sec', Key: 'presigned' }))).Body!.transformToString()).toBe('p');
  });

  it('an oversized or malformed signature is refused cleanly', async () => {
    const url = new URL(sealbox.s3!.url);
    for (const authorization of [
      `AWS4-HMAC-SHA256 Credential=test/20261127/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=${'a'.repeat(10_000)}`,
      'AWS4-HMAC-SHA256 Credential=test/20261127/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=zz',
      'AWS4-HMAC-SHA256 Credential=, SignedHeaders=, Signature=',
    ]) {
      const res = await fetch(`${url.origin}/sec/presigned`, { headers: { Authorization: authorization, 'x-amz-date': '20261127T000000Z', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } });
      expect([400, 403]).toContain(res.status);
    }
  });
});

describe('policy evaluation', () => {
  it('case and encoding tricks do not bypass a Deny', async () => {
    await s3.send(
      new PutBucketPolicyCommand({
        Bucket: 'sec',
        Policy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Deny', Principal: '*', Action: 'S3:GetObject', Resource: 'arn:aws:s3:::sec/private/*' }],
        }),
      }),
    );
    await s3.send(new PutObjectCommand({ Bucket: 'sec', Key: 'private/doc', Body: 'secret' }));
    // The action is matched case-insensitively; the key, however it is encoded, is the same key.
    for (const path of ['/sec/private/doc', '/sec/private%2Fdoc', '/sec/%70rivate/doc', '/sec/private/%64oc']) {
      const res = await raw('GET', path);
      expect(res.status).toBe(403);
      expect(res.text).toContain('<Code>AccessDenied</Code>');
    }
    // S3 keys are case-sensitive: another case is another (missing) key, not the denied one.
    expect((await raw('GET', '/sec/PRIVATE/doc')).status).toBe(404);
  });
});

describe('secrets and plaintext stay out of logs and storage', () => {
  it('no log line, event record or stored file contains a secret, a plaintext or a data key', async () => {
    const key = (await kms.send(new CreateKeyCommand({ Description: 'canary' }))).KeyMetadata!;
    const { CiphertextBlob } = await kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from(CANARY_TEXT) }));
    await kms.send(new DecryptCommand({ CiphertextBlob }));
    const dataKey = await kms.send(new GenerateDataKeyCommand({ KeyId: key.KeyId, KeySpec: 'AES_256' }));
    await s3.send(new PutObjectCommand({ Bucket: 'sec', Key: 'canary', Body: CANARY_TEXT.repeat(100) }));
    await s3.send(new PutObjectCommand({ Bucket: 'sec', Key: 'canary-kms', Body: CANARY_TEXT.repeat(100), ServerSideEncryption: 'aws:kms', SSEKMSKeyId: key.KeyId }));
    const customerKey = Buffer.alloc(32, 7);
    await s3.send(new PutObjectCommand({ Bucket: 'sec', Key: 'canary-c', Body: CANARY_TEXT, SSECustomerAlgorithm: 'AES256', SSECustomerKey: customerKey.toString('base64') }));
    await s3.send(new GetObjectCommand({ Bucket: 'sec', Key: 'canary' }));
    // A failed request with the secret's owner, too.
    await failure(s3.send(new GetObjectCommand({ Bucket: 'sec', Key: 'missing' })));
    (sealbox.kms as unknown as { core: { trail: { flush(): void } } }).core.trail.flush();
    await sealbox.stop();
    sealbox = await startTestSealbox({ dataDir: dir, allowHttpSseKms: true });

    const needles = [
      CANARY_TEXT,
      CANARY_SECRET,
      Buffer.from(CANARY_TEXT).toString('base64'),
      Buffer.from(dataKey.Plaintext!).toString('base64'),
      Buffer.from(dataKey.Plaintext!).toString('hex'),
      customerKey.toString('base64'),
    ];
    const haystacks: [string, Buffer][] = [
      ['access log', Buffer.from(logLines.join(''))],
      ['stderr', Buffer.from(stderrLines.join(''))],
      ...filesUnder(dir).map((f) => [f, readFileSync(f)] as [string, Buffer]),
    ];
    expect(logLines.length).toBeGreaterThan(5);
    for (const [where, bytes] of haystacks) {
      for (const needle of needles) {
        if (bytes.includes(needle)) throw new Error(`${where} contains ${needle.slice(0, 12)}…`);
      }
      expect(bytes.includes(Buffer.from(dataKey.Plaintext!))).toBe(false);
      expect(bytes.includes(customerKey)).toBe(false);
    }
  });
});
