/**
 * Attacks on the caches and shortcuts of the performance round (issue 21): every change must show
 * on the very next call, on a persistent data directory (where small bodies live in s3.db).
 */
import { constants, createHash, createPublicKey, publicEncrypt, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  UploadPartCopyCommand,
  CreateBucketCommand,
  DeleteBucketPolicyCommand,
  DeleteObjectCommand,
  DeleteObjectTaggingCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutBucketPolicyCommand,
  PutBucketVersioningCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  PutPublicAccessBlockCommand,
  DeletePublicAccessBlockCommand,
  PutBucketOwnershipControlsCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import {
  CancelKeyDeletionCommand,
  CreateAliasCommand,
  CreateGrantCommand,
  CreateKeyCommand,
  DecryptCommand,
  DeleteImportedKeyMaterialCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  EncryptCommand,
  GetParametersForImportCommand,
  ImportKeyMaterialCommand,
  PutKeyPolicyCommand,
  RevokeGrantCommand,
  RotateKeyOnDemandCommand,
  DescribeKeyCommand,
  ReplicateKeyCommand,
  EnableKeyRotationCommand,
  RetireGrantCommand,
  ScheduleKeyDeletionCommand,
  UpdateAliasCommand,
  type KMSClient,
} from '@aws-sdk/client-kms';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { Sealbox } from '@sealbox/cli';
import { failure, kmsClient, s3Client, startTestSealbox } from './helpers';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

let dir: string;
let sealbox: Sealbox;
let s3: S3Client;
let other: S3Client;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sealbox-perf-attack-'));
  sealbox = await startTestSealbox({ dataDir: join(dir, 'data'), tls: false, allowHttpSseKms: true, users: [{ accessKeyId: 'other', secretAccessKey: 'othersecret', accountId: '111111111111', principalArn: 'arn:aws:iam::111111111111:root' }] });
  s3 = s3Client(sealbox);
  other = s3Client(sealbox, { credentials: { accessKeyId: 'other', secretAccessKey: 'othersecret' } });
});
afterAll(async () => {
  await sealbox?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function body(client: S3Client, Bucket: string, Key: string, extra: Record<string, unknown> = {}): Promise<Buffer> {
  const got = await client.send(new GetObjectCommand({ Bucket, Key, ...extra }));
  return Buffer.from(await got.Body!.transformToByteArray());
}
const anon = (bucket: string, key: string) => fetch(`${sealbox.s3!.url}/${bucket}/${key}`);

describe('object writes show on the very next read', () => {
  it('overwrites across the inline threshold, deletes and copies, with ranges', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'owb' }));
    const sizes = [0, 1, 100, 64 * 1024 - 1, 64 * 1024, 64 * 1024 + 1, 5, 200 * 1024, 3, 64 * 1024];
    for (const [i, size] of sizes.entries()) {
      const data = randomBytes(size);
      await s3.send(new PutObjectCommand({ Bucket: 'owb', Key: 'k', Body: data }));
      expect(sha(await body(s3, 'owb', 'k'))).toBe(sha(data));
      if (size > 2) {
        expect(sha(await body(s3, 'owb', 'k', { Range: 'bytes=1-1' }))).toBe(sha(data.subarray(1, 2)));
        expect(sha(await body(s3, 'owb', 'k', { Range: 'bytes=-2' }))).toBe(sha(data.subarray(size - 2)));
      }
      await s3.send(new CopyObjectCommand({ Bucket: 'owb', Key: `copy${i}`, CopySource: 'owb/k' }));
      expect(sha(await body(s3, 'owb', `copy${i}`))).toBe(sha(data));
    }
    await s3.send(new DeleteObjectCommand({ Bucket: 'owb', Key: 'k' }));
    expect((await failure(s3.send(new GetObjectCommand({ Bucket: 'owb', Key: 'k' })))).name).toBe('NoSuchKey');
    expect((await failure(s3.send(new HeadObjectCommand({ Bucket: 'owb', Key: 'k' })))).name).toBe('NotFound');
    // copies outlive their source
    expect((await body(s3, 'owb', 'copy9')).length).toBe(64 * 1024);
  });

  it('versioning: a delete marker, a suspended overwrite of the null version', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'ver' }));
    await s3.send(new PutObjectCommand({ Bucket: 'ver', Key: 'k', Body: 'null one' }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: 'ver', VersioningConfiguration: { Status: 'Enabled' } }));
    const v1 = await s3.send(new PutObjectCommand({ Bucket: 'ver', Key: 'k', Body: 'v1' }));
    expect((await body(s3, 'ver', 'k')).toString()).toBe('v1');
    await s3.send(new DeleteObjectCommand({ Bucket: 'ver', Key: 'k' }));
    expect((await failure(s3.send(new GetObjectCommand({ Bucket: 'ver', Key: 'k' })))).name).toBe('NoSuchKey');
    expect((await body(s3, 'ver', 'k', { VersionId: v1.VersionId })).toString()).toBe('v1');
    expect((await body(s3, 'ver', 'k', { VersionId: 'null' })).toString()).toBe('null one');
    await s3.send(new PutBucketVersioningCommand({ Bucket: 'ver', VersioningConfiguration: { Status: 'Suspended' } }));
    await s3.send(new PutObjectCommand({ Bucket: 'ver', Key: 'k', Body: 'null two' }));
    expect((await body(s3, 'ver', 'k')).toString()).toBe('null two');
    expect((await body(s3, 'ver', 'k', { VersionId: 'null' })).toString()).toBe('null two');
    await s3.send(new PutObjectCommand({ Bucket: 'ver', Key: 'k', Body: 'null three' }));
    expect((await body(s3, 'ver', 'k')).toString()).toBe('null three');
    await s3.send(new DeleteObjectCommand({ Bucket: 'ver', Key: 'k', VersionId: 'null' }));
    // the delete marker is the newest left
    expect((await failure(s3.send(new GetObjectCommand({ Bucket: 'ver', Key: 'k' })))).name).toBe('NoSuchKey');
  });
});

describe('access changes show on the very next call', () => {
  beforeAll(async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'acc' }));
    await s3.send(new DeletePublicAccessBlockCommand({ Bucket: 'acc' }));
    await s3.send(new PutBucketOwnershipControlsCommand({ Bucket: 'acc', OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerPreferred' }] } }));
    await s3.send(new PutObjectCommand({ Bucket: 'acc', Key: 'o', Body: 'secret' }));
  });

  it('an object ACL granted and taken back', async () => {
    expect((await anon('acc', 'o')).status).toBe(403);
    await s3.send(new PutObjectAclCommand({ Bucket: 'acc', Key: 'o', ACL: 'public-read' }));
    expect((await anon('acc', 'o')).status).toBe(200);
    await s3.send(new PutObjectAclCommand({ Bucket: 'acc', Key: 'o', ACL: 'private' }));
    expect((await anon('acc', 'o')).status).toBe(403);
  });

  it('a bucket policy put and deleted, and Block Public Access', async () => {
    const policy = (effect: string, condition?: object) =>
      JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: effect, Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::acc/*', ...(condition ? { Condition: condition } : {}) }] });
    await s3.send(new PutBucketPolicyCommand({ Bucket: 'acc', Policy: policy('Allow') }));
    expect((await anon('acc', 'o')).status).toBe(200);
    await s3.send(new PutPublicAccessBlockCommand({ Bucket: 'acc', PublicAccessBlockConfiguration: { RestrictPublicBuckets: true } }));
    expect((await anon('acc', 'o')).status).toBe(403);
    await s3.send(new DeletePublicAccessBlockCommand({ Bucket: 'acc' }));
    expect((await anon('acc', 'o')).status).toBe(200);
    await s3.send(new DeleteBucketPolicyCommand({ Bucket: 'acc' }));
    expect((await anon('acc', 'o')).status).toBe(403);
    // s3:ExistingObjectTag: a tag change decides the next request
    await s3.send(new PutBucketPolicyCommand({ Bucket: 'acc', Policy: policy('Allow', { StringEquals: { 's3:ExistingObjectTag/pub': 'yes' } }) }));
    expect((await anon('acc', 'o')).status).toBe(403);
    await s3.send(new PutObjectTaggingCommand({ Bucket: 'acc', Key: 'o', Tagging: { TagSet: [{ Key: 'pub', Value: 'yes' }] } }));
    expect((await anon('acc', 'o')).status).toBe(200);
    await s3.send(new DeleteObjectTaggingCommand({ Bucket: 'acc', Key: 'o' }));
    expect((await anon('acc', 'o')).status).toBe(403);
    await s3.send(new DeleteBucketPolicyCommand({ Bucket: 'acc' }));
  });

  it('another account sees only what it is granted, and the listing shows each write', async () => {
    expect((await failure(other.send(new GetObjectCommand({ Bucket: 'acc', Key: 'o' })))).name).toBe('AccessDenied');
    await s3.send(new PutObjectCommand({ Bucket: 'acc', Key: 'o', Body: 'new' }));
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'acc' }));
    expect(listed.Contents?.map((c) => [c.Key, c.Size])).toEqual([['o', 3]]);
  });
});

describe('reads in flight while the object changes', () => {
  const post = (path: string, rule: object) =>
    fetch(`${sealbox.kms!.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(rule) });

  it.each([
    ['a small (inline) body', 1000],
    ['a body kept in a file', 100 * 1024],
  ])('an SSE-KMS GET waiting on KMS Decrypt while the key is overwritten and deleted answers the old body (%s)', async (_name, size) => {
    const bucket = `race-${size}`;
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const key = (await kmsClient(sealbox).send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
    const old = randomBytes(size);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: old, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: key }));
    const rule = await post('/_sealbox/faults', { service: 'kms', operation: 'Decrypt', key, latencyMs: 600, count: 1 });
    expect(rule.status).toBe(201);
    const reading = body(s3, bucket, 'k');
    await new Promise((r) => setTimeout(r, 150));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: randomBytes(size) }));
    // S3 answers a GET that started before an overwrite with the object as it was (strong
    // read-after-write consistency concerns reads that start after the write).
    expect(sha(await reading)).toBe(sha(old));
    await post('/_sealbox/faults', { service: 'kms', operation: 'Decrypt', key, latencyMs: 600, count: 1 });
    const again = body(s3, bucket, 'k');
    await new Promise((r) => setTimeout(r, 150));
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'k' }));
    await again.then(
      (b) => expect(b.length).toBe(size),
      (err: Error) => expect(err.name).toBe('NoSuchKey'),
    );
  });
});

describe('copies in flight while the source changes', () => {
  it('CopyObject and UploadPartCopy waiting on KMS Decrypt of an SSE-KMS source copy the source as it was', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'copyrace' }));
    const key = (await kmsClient(sealbox).send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
    const post = (rule: object) => fetch(`${sealbox.kms!.url}/_sealbox/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(rule) });
    for (const size of [1000, 100 * 1024]) {
      const old = randomBytes(size);
      await s3.send(new PutObjectCommand({ Bucket: 'copyrace', Key: 'src', Body: old, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: key }));
      expect((await post({ service: 'kms', operation: 'Decrypt', key, latencyMs: 600, count: 1 })).status).toBe(201);
      const copying = s3.send(new CopyObjectCommand({ Bucket: 'copyrace', Key: `dst${size}`, CopySource: 'copyrace/src' }));
      await new Promise((r) => setTimeout(r, 150));
      await s3.send(new PutObjectCommand({ Bucket: 'copyrace', Key: 'src', Body: randomBytes(size) }));
      await copying;
      expect(sha(await body(s3, 'copyrace', `dst${size}`))).toBe(sha(old));

      const older = await body(s3, 'copyrace', 'src');
      await s3.send(new PutObjectCommand({ Bucket: 'copyrace', Key: 'src', Body: older, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: key }));
      const upload = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'copyrace', Key: `mp${size}` }));
      expect((await post({ service: 'kms', operation: 'Decrypt', key, latencyMs: 600, count: 1 })).status).toBe(201);
      const part = s3.send(new UploadPartCopyCommand({ Bucket: 'copyrace', Key: `mp${size}`, UploadId: upload.UploadId, PartNumber: 1, CopySource: 'copyrace/src' }));
      await new Promise((r) => setTimeout(r, 150));
      await s3.send(new DeleteObjectCommand({ Bucket: 'copyrace', Key: 'src' }));
      const etag = (await part).CopyPartResult!.ETag;
      await s3.send(new CompleteMultipartUploadCommand({ Bucket: 'copyrace', Key: `mp${size}`, UploadId: upload.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: etag }] } }));
      expect(sha(await body(s3, 'copyrace', `mp${size}`))).toBe(sha(older));
    }
  });
});

const CUSTOMER_KEY = randomBytes(32);

describe('ranges over every read path', () => {
  const sizes = [0, 1, 65535, 65536, 65537, 64 * 1024 * 3 + 17, 1024 * 1024, 1024 * 1024 + 100_000];
  const modes: [string, Record<string, unknown>][] = [
    ['SSE-S3', {}],
    ['SSE-KMS', { ServerSideEncryption: 'aws:kms' }],
    ['DSSE-KMS', { ServerSideEncryption: 'aws:kms:dsse' }],
    ['SSE-C', { SSECustomerAlgorithm: 'AES256', SSECustomerKey: CUSTOMER_KEY.toString('base64'), SSECustomerKeyMD5: createHash('md5').update(CUSTOMER_KEY).digest('base64') }],
  ];
  it.each(modes)('%s: whole, first, last and straddling ranges read back exactly', async (mode, sse) => {
    const bucket = `ranges-${mode.toLowerCase()}`;
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    for (const size of sizes) {
      const data = randomBytes(size);
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `o${size}`, Body: data, ...sse }));
      const read = mode === 'SSE-C' ? sse : {};
      expect(sha(await body(s3, bucket, `o${size}`, read))).toBe(sha(data));
      if (size === 0) continue;
      const ranges: [number, number][] = [[0, 0], [size - 1, size - 1], [0, size - 1]];
      for (const at of [65535, 65536, 65551, 65552, 131071, 131072, 300_000, 1024 * 1024 - 1]) if (at < size) ranges.push([Math.max(0, at - 3), Math.min(size - 1, at + 70_000)], [at, at]);
      for (const [a, b] of ranges) {
        const got = await body(s3, bucket, `o${size}`, { Range: `bytes=${a}-${b}`, ...read });
        expect([size, a, b, sha(got)]).toEqual([size, a, b, sha(data.subarray(a, b + 1))]);
      }
      const suffix = await body(s3, bucket, `o${size}`, { Range: `bytes=-${Math.min(size, 70_000)}`, ...read });
      expect(sha(suffix)).toBe(sha(data.subarray(size - Math.min(size, 70_000))));
    }
  }, 120_000);
});

describe('a client that goes away mid-download', () => {
  const blobFiles = () => readdirSync(join(dir, 'data', 's3', 'blobs'), { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length;

  it('lets go of the object: an overwrite after it removes the old bytes', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'abort' }));
    await s3.send(new PutObjectCommand({ Bucket: 'abort', Key: 'big', Body: randomBytes(8 * 1024 * 1024) }));
    const before = blobFiles();
    const url = new URL(await getSignedUrl(s3, new GetObjectCommand({ Bucket: 'abort', Key: 'big' })));
    await new Promise<void>((resolve, reject) => {
      const r = request(url, (res) => {
        res.once('data', () => {
          r.destroy();
          resolve();
        });
      });
      r.on('error', () => undefined);
      r.once('timeout', reject);
      r.end();
    });
    await new Promise((r) => setTimeout(r, 200));
    await s3.send(new PutObjectCommand({ Bucket: 'abort', Key: 'big', Body: randomBytes(100 * 1024) }));
    await new Promise((r) => setTimeout(r, 200));
    // the old blob is gone, the new one is there
    expect(blobFiles()).toBe(before);
  });
});

describe('KMS changes show on the very next call (as S3 sees them too)', () => {
  let kms: KMSClient;
  let otherKms: KMSClient;
  const plaintext = Buffer.from('hello');
  beforeAll(() => {
    kms = kmsClient(sealbox);
    otherKms = kmsClient(sealbox, { credentials: { accessKeyId: 'other', secretAccessKey: 'othersecret' } });
  });
  const encrypt = (client: KMSClient, KeyId: string) => client.send(new EncryptCommand({ KeyId, Plaintext: plaintext }));
  const failName = async (p: Promise<unknown>) => (await failure(p)).name;

  it('disable, enable, schedule deletion, cancel; S3 GET and PUT follow', async () => {
    const keyId = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    await s3.send(new CreateBucketCommand({ Bucket: 'kmsnext' }));
    await s3.send(new PutObjectCommand({ Bucket: 'kmsnext', Key: 'k', Body: 'x', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyId }));
    for (let i = 0; i < 3; i++) {
      await encrypt(kms, keyId);
      await body(s3, 'kmsnext', 'k');
      await kms.send(new DisableKeyCommand({ KeyId: keyId }));
      expect(await failName(encrypt(kms, keyId))).toBe('DisabledException');
      expect((await failure(s3.send(new GetObjectCommand({ Bucket: 'kmsnext', Key: 'k' })))).name).toBe('KMS.DisabledException');
      expect((await failure(s3.send(new PutObjectCommand({ Bucket: 'kmsnext', Key: 'k2', Body: 'x', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyId })))).name).toBe('KMS.DisabledException');
      await kms.send(new EnableKeyCommand({ KeyId: keyId }));
    }
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 }));
    expect(await failName(encrypt(kms, keyId))).toBe('KMSInvalidStateException');
    await kms.send(new CancelKeyDeletionCommand({ KeyId: keyId }));
    expect(await failName(encrypt(kms, keyId))).toBe('DisabledException');
  });

  it('a key policy, grants created, retired and revoked, for another account', async () => {
    const meta = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
    const policy = (otherMay: boolean) =>
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Sid: 'root', Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::000000000000:root' }, Action: 'kms:*', Resource: '*' },
          ...(otherMay ? [{ Sid: 'other', Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::111111111111:root' }, Action: 'kms:Encrypt', Resource: '*' }] : []),
        ],
      });
    expect(await failName(encrypt(otherKms, meta.Arn!))).toBe('AccessDeniedException');
    await kms.send(new PutKeyPolicyCommand({ KeyId: meta.KeyId, PolicyName: 'default', Policy: policy(true) }));
    await encrypt(otherKms, meta.Arn!);
    await kms.send(new PutKeyPolicyCommand({ KeyId: meta.KeyId, PolicyName: 'default', Policy: policy(false) }));
    expect(await failName(encrypt(otherKms, meta.Arn!))).toBe('AccessDeniedException');
    const grant = await kms.send(new CreateGrantCommand({ KeyId: meta.KeyId, GranteePrincipal: 'arn:aws:iam::111111111111:root', RetiringPrincipal: 'arn:aws:iam::000000000000:root', Operations: ['Encrypt'] }));
    await encrypt(otherKms, meta.Arn!);
    await kms.send(new RevokeGrantCommand({ KeyId: meta.KeyId, GrantId: grant.GrantId }));
    expect(await failName(encrypt(otherKms, meta.Arn!))).toBe('AccessDeniedException');
    const again = await kms.send(new CreateGrantCommand({ KeyId: meta.KeyId, GranteePrincipal: 'arn:aws:iam::111111111111:root', RetiringPrincipal: 'arn:aws:iam::000000000000:root', Operations: ['Encrypt'] }));
    await encrypt(otherKms, meta.Arn!);
    await kms.send(new RetireGrantCommand({ KeyId: meta.Arn, GrantId: again.GrantId }));
    expect(await failName(encrypt(otherKms, meta.Arn!))).toBe('AccessDeniedException');
  });

  it('a rotation: the very next Encrypt and SSE-KMS PUT use the new material; what the old made still opens', async () => {
    const keyId = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    const materialOf = async (CiphertextBlob: Uint8Array) => (await kms.send(new DecryptCommand({ CiphertextBlob }))).KeyMaterialId;
    await s3.send(new CreateBucketCommand({ Bucket: 'kmsrotate' }));
    const seen: string[] = [];
    const blobs: Uint8Array[] = [];
    for (let i = 0; i < 3; i++) {
      // The material cache warm: the same key used right before the rotation.
      const before = (await encrypt(kms, keyId)).CiphertextBlob!;
      await s3.send(new PutObjectCommand({ Bucket: 'kmsrotate', Key: `k${i}`, Body: `v${i}`, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyId }));
      await kms.send(new RotateKeyOnDemandCommand({ KeyId: keyId }));
      const current = (await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata!.CurrentKeyMaterialId!;
      const after = (await encrypt(kms, keyId)).CiphertextBlob!;
      expect(await materialOf(after)).toBe(current);
      expect(await materialOf(before)).not.toBe(current);
      seen.push(current);
      blobs.push(before, after);
    }
    expect(new Set(seen).size).toBe(3);
    for (const blob of blobs) expect(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob: blob }))).Plaintext!).toString()).toBe('hello');
    for (let i = 0; i < 3; i++) expect((await body(s3, 'kmsrotate', `k${i}`)).toString()).toBe(`v${i}`);
  });

  it('an automatic rotation falling due on the virtual clock: the very next Encrypt uses the new material', async () => {
    const keyId = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    await kms.send(new EnableKeyRotationCommand({ KeyId: keyId, RotationPeriodInDays: 90 }));
    const first = (await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata!.CurrentKeyMaterialId!;
    const before = (await encrypt(kms, keyId)).CiphertextBlob!;
    expect((await kms.send(new DecryptCommand({ CiphertextBlob: before }))).KeyMaterialId).toBe(first);
    const advanced = await fetch(`${sealbox.kms!.url}/_sealbox/clock`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ advanceSeconds: 91 * 86400 }) });
    expect(advanced.status).toBe(200);
    const current = (await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata!.CurrentKeyMaterialId!;
    expect(current).not.toBe(first);
    const after = (await encrypt(kms, keyId)).CiphertextBlob!;
    expect((await kms.send(new DecryptCommand({ CiphertextBlob: after }))).KeyMaterialId).toBe(current);
    expect((await kms.send(new DecryptCommand({ CiphertextBlob: before }))).KeyMaterialId).toBe(first);
  });

  it("a multi-Region primary's rotation: its replica's very next Encrypt uses the new material", async () => {
    const west = kmsClient(sealbox, { region: 'us-west-2' });
    const primary = (await kms.send(new CreateKeyCommand({ MultiRegion: true }))).KeyMetadata!;
    const replica = (await kms.send(new ReplicateKeyCommand({ KeyId: primary.KeyId, ReplicaRegion: 'us-west-2' }))).ReplicaKeyMetadata!;
    for (let i = 0; i < 2; i++) {
      // The replica's material is in use (cached) when the primary rotates.
      await encrypt(west, replica.Arn!);
      await kms.send(new RotateKeyOnDemandCommand({ KeyId: primary.KeyId }));
      const current = (await kms.send(new DescribeKeyCommand({ KeyId: primary.KeyId }))).KeyMetadata!.CurrentKeyMaterialId!;
      expect((await west.send(new DescribeKeyCommand({ KeyId: replica.Arn }))).KeyMetadata!.CurrentKeyMaterialId).toBe(current);
      const blob = (await encrypt(west, replica.Arn!)).CiphertextBlob!;
      expect((await west.send(new DecryptCommand({ CiphertextBlob: blob }))).KeyMaterialId).toBe(current);
      // Multi-Region keys share their material: the primary opens what the replica sealed.
      expect((await kms.send(new DecryptCommand({ CiphertextBlob: blob, KeyId: primary.Arn }))).KeyMaterialId).toBe(current);
    }
  });

  it('an alias moved names the new key on the next call', async () => {
    const a = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
    const b = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
    await kms.send(new CreateAliasCommand({ AliasName: 'alias/moving', TargetKeyId: a.KeyId }));
    for (const target of [b, a, b]) {
      await kms.send(new UpdateAliasCommand({ AliasName: 'alias/moving', TargetKeyId: target.KeyId }));
      expect((await encrypt(kms, 'alias/moving')).KeyId).toBe(target.Arn);
    }
  });

  it('imported key material deleted, then expired on the virtual clock', async () => {
    const meta = (await kms.send(new CreateKeyCommand({ Origin: 'EXTERNAL' }))).KeyMetadata!;
    const material = randomBytes(32);
    const load = async (expires?: Date) => {
      const params = await kms.send(new GetParametersForImportCommand({ KeyId: meta.KeyId, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' }));
      const key = createPublicKey({ key: Buffer.from(params.PublicKey!), format: 'der', type: 'spki' });
      const wrapped = publicEncrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, material);
      await kms.send(new ImportKeyMaterialCommand({ KeyId: meta.KeyId, ImportToken: params.ImportToken, EncryptedKeyMaterial: wrapped, ...(expires ? { ExpirationModel: 'KEY_MATERIAL_EXPIRES', ValidTo: expires } : { ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' }) }));
    };
    await load();
    const blob = (await encrypt(kms, meta.KeyId!)).CiphertextBlob!;
    await kms.send(new DeleteImportedKeyMaterialCommand({ KeyId: meta.KeyId }));
    expect(await failName(kms.send(new DecryptCommand({ CiphertextBlob: blob })))).toBe('KMSInvalidStateException');
    const clock = (await (await fetch(`${sealbox.kms!.url}/_sealbox/clock`)).json()) as { now: string };
    await load(new Date(Date.parse(clock.now) + 3600_000));
    expect(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob: blob }))).Plaintext!).toString()).toBe('hello');
    const advanced = await fetch(`${sealbox.kms!.url}/_sealbox/clock`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ advanceSeconds: 7200 }) });
    expect(advanced.status).toBe(200);
    expect(await failName(kms.send(new DecryptCommand({ CiphertextBlob: blob })))).toBe('KMSInvalidStateException');
  });
});

describe('the virtual clock decides the very next call', () => {
  it('a date condition in a bucket policy and a presigned URL after an advance', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'clocked' }));
    await s3.send(new PutObjectCommand({ Bucket: 'clocked', Key: 'o', Body: 'x' }));
    const now = Date.parse(((await (await fetch(`${sealbox.s3!.url}/_sealbox/clock`)).json()) as { now: string }).now);
    const cutoff = new Date(now + 3600_000).toISOString();
    await s3.send(
      new PutBucketPolicyCommand({
        Bucket: 'clocked',
        Policy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::clocked/*', Condition: { DateGreaterThan: { 'aws:CurrentTime': cutoff } } }] }),
      }),
    );
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: 'clocked', Key: 'o' }), { expiresIn: 1800 });
    expect((await fetch(url)).status).toBe(200);
    await body(s3, 'clocked', 'o');
    const advanced = await fetch(`${sealbox.s3!.url}/_sealbox/clock`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ advanceSeconds: 7200 }) });
    expect(advanced.status).toBe(200);
    expect((await failure(s3.send(new GetObjectCommand({ Bucket: 'clocked', Key: 'o' })))).name).toBe('AccessDenied');
    expect((await fetch(url)).status).toBe(403);
  });
});
