import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { CreateKeyCommand, DescribeKeyCommand, EncryptCommand, KMSClient, ListKeysCommand, ScheduleKeyDeletionCommand } from '@aws-sdk/client-kms';
import { CreateBucketCommand, GetObjectCommand, ListBucketsCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { startSandbox, type Sandbox } from '../src';

const ROOT = join(__dirname, '..', '..', '..');

function run(command: string, args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd: ROOT, timeout: 120_000, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' } }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out: stdout + stderr }),
    );
  });
}

describe('startSandbox', () => {
  let sandbox: Sandbox;
  let kms: KMSClient;
  let s3: S3Client;

  beforeAll(async () => {
    const started = process.hrtime.bigint();
    sandbox = await startSandbox({
      seed: { accounts: [{ id: '111122223333', users: [{ name: 'ci', accessKeyId: 'CI', secretAccessKey: 'ci-secret', policies: [{ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'kms:*', Resource: '*' }] }] }] }] },
    });
    process.stdout.write(`sandbox started in ${Number(process.hrtime.bigint() - started) / 1e6} ms\n`);
    kms = new KMSClient({ ...sandbox.kmsConfig, maxAttempts: 1 });
    s3 = new S3Client({ ...sandbox.s3Config, maxAttempts: 1 });
  });
  afterAll(() => sandbox.stop());

  it('gives ready-made client configurations for KMS and S3, SSE-KMS included', async () => {
    expect(sandbox.kmsConfig).toMatchObject({ endpoint: sandbox.kms.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    const key = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
    await s3.send(new CreateBucketCommand({ Bucket: 'fixture' }));
    const put = await s3.send(new PutObjectCommand({ Bucket: 'fixture', Key: 'k', Body: 'data', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: key.KeyId }));
    expect(put.SSEKMSKeyId).toBe(key.Arn);
    expect(await (await s3.send(new GetObjectCommand({ Bucket: 'fixture', Key: 'k' }))).Body!.transformToString()).toBe('data');
  });

  it('seeds identities from an object, with configurations for each', async () => {
    const ci = new KMSClient({ ...sandbox.configFor({ accessKeyId: 'CI', secretAccessKey: 'ci-secret' }).kms, maxAttempts: 1 });
    const key = (await ci.send(new CreateKeyCommand({}))).KeyMetadata!;
    expect(key.AWSAccountId).toBe('111122223333');
  });

  it('moves time with the clock handle: a scheduled deletion happens', async () => {
    const key = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId, PendingWindowInDays: 7 }));
    await sandbox.clock.advance(8 * 86400);
    await expect(kms.send(new DescribeKeyCommand({ KeyId: key.KeyId }))).rejects.toMatchObject({ name: 'NotFoundException' });
  });

  it('reset() empties KMS and S3 in milliseconds, keeping endpoints and credentials', async () => {
    await kms.send(new CreateKeyCommand({}));
    const endpoints = sandbox.configFor({ accessKeyId: 'x', secretAccessKey: 'y' });
    const started = process.hrtime.bigint();
    await sandbox.reset();
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    // Milliseconds, not seconds: well under one even on a busy two-core machine.
    expect(ms).toBeLessThan(1000);
    expect(sandbox.configFor({ accessKeyId: 'x', secretAccessKey: 'y' })).toEqual(endpoints);
    expect((await kms.send(new ListKeysCommand({}))).Keys).toEqual([]);
    expect((await s3.send(new ListBucketsCommand({}))).Buckets ?? []).toEqual([]);
    const ci = new KMSClient({ ...sandbox.configFor({ accessKeyId: 'CI', secretAccessKey: 'ci-secret' }).kms, maxAttempts: 1 });
    await ci.send(new CreateKeyCommand({}));
  });
});

describe('startSandbox with seeded keys and buckets', () => {
  const KEY = '2b5e1c3a-4d6f-4a8b-9c0d-1e2f3a4b5c6d';
  const MATERIAL = 'a1'.repeat(32);
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await startSandbox({
      seed: {
        keys: [{ id: KEY, material: [MATERIAL], aliases: ['alias/fixture'] }],
        buckets: [{ name: 'seeded', encryption: { algorithm: 'aws:kms', kmsKeyId: 'alias/fixture' }, objects: [{ key: 'a.txt', text: 'seeded text' }] }],
      },
    });
  });
  afterAll(() => sandbox.stop());

  it('seeds from an object, and reset() starts over from the seed', async () => {
    const kms = new KMSClient({ ...sandbox.kmsConfig, maxAttempts: 1 });
    const s3 = new S3Client({ ...sandbox.s3Config, maxAttempts: 1 });
    const read = async () => (await s3.send(new GetObjectCommand({ Bucket: 'seeded', Key: 'a.txt' }))).Body!.transformToString();
    expect((await kms.send(new DescribeKeyCommand({ KeyId: 'alias/fixture' }))).KeyMetadata!.KeyId).toBe(KEY);
    expect(await read()).toBe('seeded text');
    await s3.send(new PutObjectCommand({ Bucket: 'seeded', Key: 'a.txt', Body: 'changed' }));
    await kms.send(new CreateKeyCommand({}));
    await sandbox.reset();
    expect(await read()).toBe('seeded text');
    expect((await kms.send(new ListKeysCommand({}))).Keys!.map((k) => k.KeyId)).toEqual([KEY]);
  });
});

describe('snapshots in the fixture', () => {
  it('snapshot(name) and restore(name) go back to a saved state, clock included, as often as asked', async () => {
    const sandbox = await startSandbox();
    try {
      const kms = new KMSClient({ ...sandbox.kmsConfig, maxAttempts: 1 });
      const kept = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
      const info = await sandbox.snapshot('built');
      expect(info).toMatchObject({ name: 'built', bytes: expect.any(Number) });
      for (let round = 0; round < 2; round++) {
        await kms.send(new CreateKeyCommand({}));
        await sandbox.clock.advance(60);
        await sandbox.restore('built');
        expect((await kms.send(new ListKeysCommand({}))).Keys!.map((k) => k.KeyId)).toEqual([kept]);
        expect(sandbox.clock.offsetSeconds).toBe(0);
      }
      await sandbox.deleteSnapshot('built');
      expect(() => sandbox.sealbox.restore('built')).toThrow('there is no snapshot named built');
      // reset() goes to the starting state (empty), not to a snapshot.
      await sandbox.reset();
      expect((await kms.send(new ListKeysCommand({}))).Keys).toEqual([]);
    } finally {
      await sandbox.stop();
    }
  });
});

describe('startSandbox with tls', () => {
  it('serves HTTPS and the configurations trust its CA; SSE-KMS works as on AWS', async () => {
    const sandbox = await startSandbox({ tls: true });
    try {
      expect(sandbox.kms.endpoint).toMatch(/^https:/);
      expect(sandbox.env.AWS_CA_BUNDLE).toBeDefined();
      const kms = new KMSClient({ ...sandbox.kmsConfig, maxAttempts: 1 });
      const s3 = new S3Client({ ...sandbox.s3Config, maxAttempts: 1 });
      const key = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
      await kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x') }));
      await s3.send(new CreateBucketCommand({ Bucket: 'tls' }));
      await s3.send(new PutObjectCommand({ Bucket: 'tls', Key: 'k', Body: 'x', ServerSideEncryption: 'aws:kms' }));
    } finally {
      await sandbox.stop();
    }
  });
});

describe('the README examples', () => {
  it('the node:test example passes', async () => {
    const { code, out } = await run(process.execPath, ['--test', 'packages/testing/examples/node-test.mjs']);
    expect(out).toMatch(/# pass 2/);
    expect(code).toBe(0);
  });

  it('the jest globalSetup example passes', async () => {
    const { code, out } = await run(process.execPath, [join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js'), '--config', 'packages/testing/examples/jest/jest.config.js']);
    expect(out).toMatch(/Tests:\s+1 passed/);
    expect(code).toBe(0);
  });
});
