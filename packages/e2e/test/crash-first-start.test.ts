/**
 * A very first start killed at any moment leaves a data directory the next start opens: killed
 * by SIGKILL at seeded random moments of `sealbox start`, and with the remains an older Sealbox
 * left (a root key file created but not written) or a temporary key file planted.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { CreateKeyCommand, DecryptCommand, EncryptCommand, KMSClient } from '@aws-sdk/client-kms';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mulberry32 } from '@sealbox/runtime';

const BIN = join(__dirname, '..', '..', 'cli', 'dist', 'bin.js');
const SEED = 20260316;

/** Seeded, so a failing run can be repeated exactly. */
const prng = mulberry32;

const ARGS = ['start', '--no-tls', '--json', '--quiet', '--kms-port', '0', '--s3-port', '0', '--no-console', '--allow-http-sse-kms'];

/** Starts Sealbox on `dataDir`; with `killAfterMs`, SIGKILLs it then (ready or not) and resolves undefined. */
function start(dataDir: string, killAfterMs?: number): Promise<{ stop: () => Promise<void>; kms: KMSClient; s3: S3Client } | undefined> {
  const child = spawn(process.execPath, [BIN, ...ARGS, '--data-dir', dataDir]);
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  if (killAfterMs !== undefined) {
    setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    return exited.then(() => undefined);
  }
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', (line) => {
      const ready = JSON.parse(line) as { kms: string; s3: string };
      const config = { region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 };
      const kms = new KMSClient({ ...config, endpoint: ready.kms });
      const s3 = new S3Client({ ...config, endpoint: ready.s3, forcePathStyle: true });
      resolve({
        kms,
        s3,
        stop: async () => {
          kms.destroy();
          s3.destroy();
          child.kill('SIGTERM');
          await exited;
        },
      });
    });
    child.once('exit', (code) => reject(new Error(`sealbox exited with ${code}: ${stderr}`)));
  });
}

/** Both services work on the directory, and keep working (same root keys) after a restart. */
async function usable(dataDir: string): Promise<void> {
  const box = (await start(dataDir))!;
  let blob: Uint8Array;
  try {
    await box.s3.send(new CreateBucketCommand({ Bucket: 'first' })).catch((err: { name?: string }) => {
      if (err.name !== 'BucketAlreadyOwnedByYou') throw err;
    });
    await box.s3.send(new PutObjectCommand({ Bucket: 'first', Key: 'k', Body: 'object bytes' }));
    const keyId = (await box.kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    blob = (await box.kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('secret') }))).CiphertextBlob!;
  } finally {
    await box.stop();
  }
  const again = (await start(dataDir))!;
  try {
    expect(await (await again.s3.send(new GetObjectCommand({ Bucket: 'first', Key: 'k' }))).Body!.transformToString()).toBe('object bytes');
    expect(Buffer.from((await again.kms.send(new DecryptCommand({ CiphertextBlob: blob }))).Plaintext!).toString()).toBe('secret');
  } finally {
    await again.stop();
  }
  expect(readdirSync(dataDir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  for (const name of ['root.key', 's3.key']) expect(readFileSync(join(dataDir, name)).length).toBe(32);
}

it('a first start killed at random moments can always start again', async () => {
  const random = prng(SEED);
  for (let i = 0; i < 6; i++) {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'sealbox-first-')), 'data');
    try {
      // Node itself takes a few hundred milliseconds to load: the kills land from before the data
      // directory exists to after the services are ready.
      await start(dataDir, 150 + Math.floor(random() * 700));
      await usable(dataDir);
    } finally {
      rmSync(join(dataDir, '..'), { recursive: true, force: true });
    }
  }
}, 120_000);

it.each([
  ['an empty root.key (created, never written)', { 'root.key': 0 }],
  ['a partial s3.key', { 's3.key': 17 }],
  ['temporary key files, empty and whole', { '.root.key.0123456789abcdef.tmp': 0, '.s3.key.fedcba9876543210.tmp': 32 }],
])('a data directory holding %s starts', async (_, files: Record<string, number>) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sealbox-first-'));
  try {
    for (const [name, length] of Object.entries(files)) writeFileSync(join(dataDir, name), Buffer.alloc(length, 5), { mode: 0o600 });
    await usable(dataDir);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}, 60_000);
