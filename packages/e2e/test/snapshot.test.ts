/**
 * `sealbox export` and `sealbox import` (the built CLI, in child processes): state made with the
 * AWS SDKs is exported, imported into a fresh data directory, and a Sealbox started there serves
 * all of it: old ciphertexts decrypt, signatures verify, objects read back byte for byte with the
 * same versions, ETags and encryption headers, the event log and rotation state are the same.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateAliasCommand,
  CreateGrantCommand,
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  EnableKeyRotationCommand,
  EncryptCommand,
  GetKeyRotationStatusCommand,
  ListAliasesCommand,
  ListGrantsCommand,
  ListKeyRotationsCommand,
  RotateKeyOnDemandCommand,
  SignCommand,
  VerifyCommand,
  type KMSClient,
} from '@aws-sdk/client-kms';
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetBucketEncryptionCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectVersionsCommand,
  PutBucketEncryptionCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { exportSnapshot, importSnapshot, type Sealbox } from '@sealbox/cli';
import { kmsClient, runCommand, s3Client, startTestSealbox, tlsKmsClient, tlsS3Client } from './helpers';

const BIN = join(__dirname, '..', '..', 'cli', 'dist', 'bin.js');
const root = mkdtempSync(join(tmpdir(), 'sealbox-snapshot-'));
const source = join(root, 'source');
const restored = join(root, 'restored');
const archive = join(root, 'demo.sealbox.tgz');

const customerKey = randomBytes(32);
const ssec = { SSECustomerAlgorithm: 'AES256', SSECustomerKey: customerKey.toString('base64') as unknown as string };
const big = randomBytes(3 * 1024 * 1024 + 17);
const message = Buffer.from('signed before the export');

/** What the source sandbox held, to compare the restored one against. */
interface Recorded {
  keyId: string;
  signingKeyId: string;
  ciphertext: Uint8Array;
  signature: Uint8Array;
  rotations: unknown;
  rotationStatus: unknown;
  grants: unknown;
  aliases: unknown;
  versions: unknown;
  heads: Record<string, Record<string, unknown>>;
  eventIds: string[];
  uploadId: string;
  ca: string;
}
let recorded: Recorded;

function eventIds(sealbox: Sealbox): string[] {
  const box = sealbox.kms as unknown as { core: { trail: { flush(): void }; store: { lookupEvents(q: object): { event: { eventId: string } }[] } } };
  box.core.trail.flush();
  return box.core.store.lookupEvents({ accountId: '000000000000', region: 'us-east-1', limit: 100_000 }).map((e) => e.event.eventId);
}

/** The headers of an object version that must survive: ETag, size, version, encryption. */
async function head(s3: S3Client, key: string, versionId: string, extra: object = {}): Promise<Record<string, unknown>> {
  const h = await s3.send(new HeadObjectCommand({ Bucket: 'demo', Key: key, VersionId: versionId, ...extra }));
  return {
    ETag: h.ETag,
    ContentLength: h.ContentLength,
    VersionId: h.VersionId,
    ServerSideEncryption: h.ServerSideEncryption,
    SSEKMSKeyId: h.SSEKMSKeyId,
    SSECustomerKeyMD5: h.SSECustomerKeyMD5,
    LastModified: h.LastModified?.toISOString(),
    Metadata: h.Metadata,
  };
}

async function body(s3: S3Client, key: string, versionId: string, extra: object = {}): Promise<Buffer> {
  const got = await s3.send(new GetObjectCommand({ Bucket: 'demo', Key: key, VersionId: versionId, ...extra }));
  return Buffer.from(await got.Body!.transformToByteArray());
}

async function kmsState(kms: KMSClient, keyId: string) {
  return {
    rotations: (await kms.send(new ListKeyRotationsCommand({ KeyId: keyId }))).Rotations,
    rotationStatus: await kms.send(new GetKeyRotationStatusCommand({ KeyId: keyId })).then(({ $metadata: _, ...rest }) => rest),
    grants: (await kms.send(new ListGrantsCommand({ KeyId: keyId }))).Grants,
    aliases: (await kms.send(new ListAliasesCommand({}))).Aliases,
  };
}

beforeAll(async () => {
  const sealbox = await startTestSealbox({ dataDir: source, tls: true });
  const kms = tlsKmsClient(sealbox);
  const s3 = tlsS3Client(sealbox);
  try {
    const keyId = (await kms.send(new CreateKeyCommand({ Description: 'demo data' }))).KeyMetadata!.KeyId!;
    await kms.send(new CreateAliasCommand({ AliasName: 'alias/demo', TargetKeyId: keyId }));
    await kms.send(new EnableKeyRotationCommand({ KeyId: keyId, RotationPeriodInDays: 120 }));
    const ciphertext = (await kms.send(new EncryptCommand({ KeyId: 'alias/demo', Plaintext: Buffer.from('before'), EncryptionContext: { app: 'demo' } }))).CiphertextBlob!;
    await kms.send(new RotateKeyOnDemandCommand({ KeyId: keyId }));
    await kms.send(new CreateGrantCommand({ KeyId: keyId, GranteePrincipal: 'arn:aws:iam::000000000000:role/app', Operations: ['Decrypt'], Name: 'app-decrypt' }));
    const signingKeyId = (await kms.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' }))).KeyMetadata!.KeyId!;
    const signature = (await kms.send(new SignCommand({ KeyId: signingKeyId, Message: message, SigningAlgorithm: 'ECDSA_SHA_256' }))).Signature!;

    await s3.send(new CreateBucketCommand({ Bucket: 'demo' }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: 'demo', VersioningConfiguration: { Status: 'Enabled' } }));
    await s3.send(
      new PutBucketEncryptionCommand({
        Bucket: 'demo',
        ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: keyId } }] },
      }),
    );
    const v1 = (await s3.send(new PutObjectCommand({ Bucket: 'demo', Key: 'report.bin', Body: big }))).VersionId!;
    const v2 = (await s3.send(new PutObjectCommand({ Bucket: 'demo', Key: 'report.bin', Body: 'second version', Metadata: { note: 'v2' } }))).VersionId!;
    const sseS3 = (await s3.send(new PutObjectCommand({ Bucket: 'demo', Key: 'plain/sse-s3.txt', Body: 'sse-s3 bytes', ServerSideEncryption: 'AES256' }))).VersionId!;
    const sseC = (await s3.send(new PutObjectCommand({ Bucket: 'demo', Key: 'customer.txt', Body: 'customer bytes', ...ssec }))).VersionId!;
    await s3.send(new PutObjectCommand({ Bucket: 'demo', Key: 'gone.txt', Body: 'deleted later' }));
    await s3.send(new DeleteObjectCommand({ Bucket: 'demo', Key: 'gone.txt' }));
    const uploadId = (await s3.send(new CreateMultipartUploadCommand({ Bucket: 'demo', Key: 'in-progress' }))).UploadId!;

    const state = await kmsState(kms, keyId);
    recorded = {
      keyId,
      signingKeyId,
      ciphertext,
      signature,
      ...state,
      versions: await s3.send(new ListObjectVersionsCommand({ Bucket: 'demo' })).then((r) => ({ Versions: r.Versions, DeleteMarkers: r.DeleteMarkers })),
      heads: {
        v1: await head(s3, 'report.bin', v1),
        v2: await head(s3, 'report.bin', v2),
        sseS3: await head(s3, 'plain/sse-s3.txt', sseS3),
        sseC: await head(s3, 'customer.txt', sseC, ssec),
      },
      eventIds: eventIds(sealbox),
      uploadId,
      ca: sealbox.ca!,
    };
  } finally {
    kms.destroy();
    s3.destroy();
    await sealbox.stop();
  }
}, 60_000);

it('export then import into a fresh data directory reproduces the same state', async () => {
  const exported = await runCommand(process.execPath, [BIN, 'export', archive, '--data-dir', source], {});
  expect(exported.stderr).toContain('holds the root keys unsealed');
  expect(exported.code).toBe(0);
  expect(exported.stdout).toMatch(/^exported .* to .*demo\.sealbox\.tgz: 2 keys, 1 alias, 1 grant, \d+ events; 1 bucket, 6 object versions/);
  // The source was not running: the lock was taken and given back.
  expect(existsSync(join(source, 'sealbox.lock'))).toBe(false);

  const imported = await runCommand(process.execPath, [BIN, 'import', archive, '--data-dir', restored, '--json'], {});
  expect(imported.stderr).toBe('');
  expect(imported.code).toBe(0);
  const manifest = JSON.parse(imported.stdout) as { dataDir: string; format: string; version: number; counts: Record<string, number> };
  expect(manifest).toMatchObject({ dataDir: restored, format: 'sealbox-snapshot', version: 1 });
  expect(manifest.counts).toMatchObject({ keys: 2, aliases: 1, grants: 1, events: recorded.eventIds.length, buckets: 1, objects: 6, uploads: 1, blobs: 1 });
  // Nothing left beside the target, no lock inside it.
  expect(readdirSync(root).sort()).toEqual(['demo.sealbox.tgz', 'restored', 'source']);
  expect(existsSync(join(restored, 'sealbox.lock'))).toBe(false);

  const sealbox = await startTestSealbox({ dataDir: restored, tls: true });
  const kms = tlsKmsClient(sealbox);
  const s3 = tlsS3Client(sealbox);
  try {
    // The same CA: clients that trusted the old one trust this one.
    expect(sealbox.ca).toBe(recorded.ca);
    expect(eventIds(sealbox)).toEqual(expect.arrayContaining(recorded.eventIds));

    const plain = await kms.send(new DecryptCommand({ CiphertextBlob: recorded.ciphertext, EncryptionContext: { app: 'demo' } }));
    expect(Buffer.from(plain.Plaintext!).toString()).toBe('before');
    expect(plain.KeyId).toBe((await kms.send(new DescribeKeyCommand({ KeyId: recorded.keyId }))).KeyMetadata!.Arn);
    const verified = await kms.send(new VerifyCommand({ KeyId: recorded.signingKeyId, Message: message, Signature: recorded.signature, SigningAlgorithm: 'ECDSA_SHA_256' }));
    expect(verified.SignatureValid).toBe(true);
    const state = await kmsState(kms, recorded.keyId);
    expect(state).toEqual({ rotations: recorded.rotations, rotationStatus: recorded.rotationStatus, grants: recorded.grants, aliases: recorded.aliases });

    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: 'demo' }));
    expect({ Versions: versions.Versions, DeleteMarkers: versions.DeleteMarkers }).toEqual(recorded.versions);
    const heads = recorded.heads as Record<string, { VersionId: string }>;
    expect(await head(s3, 'report.bin', heads.v1!.VersionId)).toEqual(recorded.heads.v1);
    expect(await head(s3, 'report.bin', heads.v2!.VersionId)).toEqual(recorded.heads.v2);
    expect(await head(s3, 'plain/sse-s3.txt', heads.sseS3!.VersionId)).toEqual(recorded.heads.sseS3);
    expect(await head(s3, 'customer.txt', heads.sseC!.VersionId, ssec)).toEqual(recorded.heads.sseC);
    // (An SSE-KMS ETag is not the MD5 of the bytes, on AWS as here: equal ETags above are the check.)
    expect(recorded.heads.v1).toMatchObject({ ServerSideEncryption: 'aws:kms' });
    expect(recorded.heads.sseS3).toMatchObject({ ServerSideEncryption: 'AES256', ETag: `"${createHash('md5').update('sse-s3 bytes').digest('hex')}"` });

    expect((await body(s3, 'report.bin', heads.v1!.VersionId)).equals(big)).toBe(true);
    expect((await body(s3, 'report.bin', heads.v2!.VersionId)).toString()).toBe('second version');
    expect((await body(s3, 'plain/sse-s3.txt', heads.sseS3!.VersionId)).toString()).toBe('sse-s3 bytes');
    expect((await body(s3, 'customer.txt', heads.sseC!.VersionId, ssec)).toString()).toBe('customer bytes');
    const encryption = await s3.send(new GetBucketEncryptionCommand({ Bucket: 'demo' }));
    expect(encryption.ServerSideEncryptionConfiguration!.Rules![0]!.ApplyServerSideEncryptionByDefault).toEqual({ SSEAlgorithm: 'aws:kms', KMSMasterKeyID: recorded.keyId });
    expect((await s3.send(new ListMultipartUploadsCommand({ Bucket: 'demo' }))).Uploads!.map((u) => u.UploadId)).toEqual([recorded.uploadId]);

    // The restored sandbox keeps working: new objects under the restored key.
    const put = await s3.send(new PutObjectCommand({ Bucket: 'demo', Key: 'after-import', Body: 'new' }));
    expect(put.SSEKMSKeyId).toBe(recorded.heads.v1!.SSEKMSKeyId);
    expect((await body(s3, 'after-import', put.VersionId!)).toString()).toBe('new');
  } finally {
    kms.destroy();
    s3.destroy();
    await sealbox.stop();
  }
}, 60_000);

it('import refuses a data directory that holds state, and says how to proceed', async () => {
  const again = await runCommand(process.execPath, [BIN, 'import', archive, '--data-dir', source], {});
  expect(again.code).toBe(1);
  expect(again.stderr).toContain(`sealbox: ${source} is not empty`);
  expect(again.stderr).toContain('import into a new directory, or pass --force to replace its state');
});

it('a passphrase seals the root keys; import needs it', async () => {
  const sealed = join(root, 'sealed.tgz');
  const env = { SNAPSHOT_PASSPHRASE: 'correct horse battery staple' };
  const exported = await runCommand(process.execPath, [BIN, 'export', sealed, '--data-dir', source, '--passphrase-env', 'SNAPSHOT_PASSPHRASE', '--quiet'], env);
  expect(exported.stderr).toBe('');
  expect(exported.code).toBe(0);
  const target = join(root, 'sealed-restored');
  const without = await runCommand(process.execPath, [BIN, 'import', sealed, '--data-dir', target], {});
  expect(without.stderr).toContain('is sealed with a passphrase; pass --passphrase-env');
  const wrong = await runCommand(process.execPath, [BIN, 'import', sealed, '--data-dir', target, '--passphrase-env', 'P'], { P: 'wrong' });
  expect(wrong.stderr).toContain('wrong passphrase');
  expect(existsSync(target)).toBe(false);
  const right = await runCommand(process.execPath, [BIN, 'import', sealed, '--data-dir', target, '--passphrase-env', 'P'], { P: env.SNAPSHOT_PASSPHRASE });
  expect(right.code).toBe(0);

  const sealbox = await startTestSealbox({ dataDir: target, only: 'kms' });
  const kms = kmsClient(sealbox);
  try {
    const plain = await kms.send(new DecryptCommand({ CiphertextBlob: recorded.ciphertext, EncryptionContext: { app: 'demo' } }));
    expect(Buffer.from(plain.Plaintext!).toString()).toBe('before');
  } finally {
    kms.destroy();
    await sealbox.stop();
  }
}, 60_000);

it('a live export taken while objects are being written is consistent', async () => {
  const dir = join(root, 'busy');
  const sealbox = await startTestSealbox({ dataDir: dir });
  const s3 = s3Client(sealbox);
  await s3.send(new CreateBucketCommand({ Bucket: 'busy' }));
  let writing = true;
  let written = 0;
  // New keys only: an overwrite deletes a blob the export may be about to copy (that export fails, asking to try again).
  const writer = (async () => {
    while (writing) {
      await s3.send(new PutObjectCommand({ Bucket: 'busy', Key: `k${written}`, Body: Buffer.alloc(64 * 1024, written) }));
      written++;
    }
  })();
  try {
    while (written < 20) await new Promise((r) => setTimeout(r, 5));
    const result = await exportSnapshot({ dataDir: dir, file: join(root, 'busy.tgz'), sealboxVersion: 'test' });
    expect(result.livePid).toBe(process.pid);
    expect(result.manifest.counts.objects).toBeGreaterThanOrEqual(20);
    const copy = await importSnapshot({ file: join(root, 'busy.tgz'), dataDir: join(root, 'busy-copy') });
    expect(copy.counts).toEqual(result.manifest.counts);
  } finally {
    writing = false;
    await writer;
    s3.destroy();
    await sealbox.stop();
  }
  // The copy serves every object it lists, byte for byte.
  const restoredBox = await startTestSealbox({ dataDir: join(root, 'busy-copy') });
  const client = s3Client(restoredBox);
  try {
    const listed = (await client.send(new ListObjectVersionsCommand({ Bucket: 'busy' }))).Versions!;
    expect(listed.length).toBeGreaterThanOrEqual(20);
    for (const v of listed) {
      const n = Number(v.Key!.slice(1));
      const got = await client.send(new GetObjectCommand({ Bucket: 'busy', Key: v.Key! }));
      expect(Buffer.from(await got.Body!.transformToByteArray()).equals(Buffer.alloc(64 * 1024, n))).toBe(true);
    }
  } finally {
    client.destroy();
    await restoredBox.stop();
  }
}, 60_000);
