/**
 * kill -9 at seeded random moments while a mixed workload runs: object PUTs (SSE-S3 and SSE-KMS),
 * multipart completions, DeleteObjects, KMS Encrypt, on-demand rotations and alias updates. After
 * each restart: every acknowledged write is present and whole, every acknowledged delete stays
 * deleted, nothing is torn, no orphan blob survives the start-up cleanup, both SQLite databases
 * pass PRAGMA integrity_check, and every ciphertext acknowledged before the crash still decrypts.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import { CreateAliasCommand, CreateKeyCommand, DecryptCommand, DescribeKeyCommand, EncryptCommand, KMSClient, RotateKeyOnDemandCommand, UpdateAliasCommand } from '@aws-sdk/client-kms';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';

const BIN = join(__dirname, '..', '..', 'cli', 'dist', 'bin.js');
const SEED = 20261127;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** mulberry32: the kill moments are random but the same on every run. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Running {
  child: ChildProcessWithoutNullStreams;
  kms: KMSClient;
  s3: S3Client;
}

function start(dataDir: string): Promise<Running> {
  const child = spawn(process.execPath, [BIN, 'start', '--json', '--quiet', '--data-dir', dataDir, '--kms-port', '0', '--s3-port', '0', '--no-console', '--allow-http-sse-kms', '--on-demand-rotation-limit', '100000']);
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', (line) => {
      const ready = JSON.parse(line) as { kms: string; s3: string };
      const config = { region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 };
      resolve({ child, kms: new KMSClient({ ...config, endpoint: ready.kms }), s3: new S3Client({ ...config, endpoint: ready.s3, forcePathStyle: true }) });
    });
    child.once('exit', (code) => reject(new Error(`sealbox exited with ${code}`)));
  });
}

function stopped(child: ChildProcessWithoutNullStreams): Promise<void> {
  return new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));
}

/** What the workload was told succeeded, and everything it ever sent. */
interface Ledger {
  /** key → hashes of every body sent for it (an unacknowledged later PUT may have landed). */
  sent: Map<string, Set<string>>;
  /** key → acknowledged at least once. */
  acknowledged: Set<string>;
  deleted: Set<string>;
  ciphertexts: { blob: Uint8Array; plaintext: string }[];
  /** alias target acknowledged last, and every target ever requested. */
  aliasTargets: Set<string>;
  lastAliasTarget?: string;
}

async function workload(box: Running, ledger: Ledger, keys: string[], round: number, stop: () => boolean): Promise<void> {
  const { s3, kms } = box;
  const swallow = (p: Promise<unknown>) => p.then(() => true, () => false);
  const put = async (w: number) => {
    for (let i = 0; !stop(); i++) {
      const key = `r${round}/w${w}/obj-${i % 4}`;
      const body = randomBytes(16 * 1024 + Math.floor(Math.random() * 200 * 1024));
      if (!ledger.sent.has(key)) ledger.sent.set(key, new Set());
      ledger.sent.get(key)!.add(sha(body));
      const sse = w % 2 === 0 ? { ServerSideEncryption: 'aws:kms' as const, SSEKMSKeyId: keys[0] } : {};
      if (!(await swallow(s3.send(new PutObjectCommand({ Bucket: 'crash', Key: key, Body: body, ...sse }))))) return;
      ledger.acknowledged.add(key);
    }
  };
  const multipart = async () => {
    for (let i = 0; !stop(); i++) {
      const key = `r${round}/mpu-${i}`;
      const parts = [randomBytes(5 * 1024 * 1024), randomBytes(300 * 1024)];
      ledger.sent.set(key, new Set([sha(Buffer.concat(parts))]));
      try {
        const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'crash', Key: key, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keys[1] }));
        const etags: string[] = [];
        for (const [n, body] of parts.entries()) etags.push((await s3.send(new UploadPartCommand({ Bucket: 'crash', Key: key, UploadId, PartNumber: n + 1, Body: body }))).ETag!);
        await s3.send(new CompleteMultipartUploadCommand({ Bucket: 'crash', Key: key, UploadId, MultipartUpload: { Parts: etags.map((ETag, n) => ({ ETag, PartNumber: n + 1 })) } }));
        ledger.acknowledged.add(key);
      } catch {
        return;
      }
    }
  };
  const deleter = async () => {
    for (let i = 0; !stop(); i++) {
      const batch = [0, 1, 2].map((j) => `r${round}/del-${i}-${j}`);
      try {
        for (const key of batch) await s3.send(new PutObjectCommand({ Bucket: 'crash', Key: key, Body: key }));
        await s3.send(new DeleteObjectsCommand({ Bucket: 'crash', Delete: { Objects: batch.map((Key) => ({ Key })) } }));
        batch.forEach((k) => ledger.deleted.add(k));
      } catch {
        return;
      }
    }
  };
  const kmsWork = async () => {
    for (let i = 0; !stop(); i++) {
      const plaintext = `round ${round} message ${i}`;
      try {
        const { CiphertextBlob } = await kms.send(new EncryptCommand({ KeyId: 'alias/crash', Plaintext: Buffer.from(plaintext) }));
        ledger.ciphertexts.push({ blob: CiphertextBlob!, plaintext });
        if (i % 3 === 0) await kms.send(new RotateKeyOnDemandCommand({ KeyId: keys[i % 2] }));
        const target = keys[(i + 1) % 2]!;
        ledger.aliasTargets.add(target);
        await kms.send(new UpdateAliasCommand({ AliasName: 'alias/crash', TargetKeyId: target }));
        ledger.lastAliasTarget = target;
      } catch {
        return;
      }
    }
  };
  await Promise.all([put(0), put(1), put(2), multipart(), deleter(), kmsWork()]);
}

async function check(box: Running, ledger: Ledger, dataDir: string): Promise<void> {
  for (const key of ledger.acknowledged) {
    const body = Buffer.from(await (await box.s3.send(new GetObjectCommand({ Bucket: 'crash', Key: key }))).Body!.transformToByteArray());
    expect(ledger.sent.get(key)!.has(sha(body))).toBe(true);
  }
  for (const key of ledger.deleted) {
    await expect(box.s3.send(new HeadObjectCommand({ Bucket: 'crash', Key: key }))).rejects.toMatchObject({ name: 'NotFound' });
  }
  for (const { blob, plaintext } of ledger.ciphertexts) {
    expect(Buffer.from((await box.kms.send(new DecryptCommand({ CiphertextBlob: blob }))).Plaintext!).toString()).toBe(plaintext);
  }
  const target = (await box.kms.send(new DescribeKeyCommand({ KeyId: 'alias/crash' }))).KeyMetadata!.KeyId!;
  expect(ledger.aliasTargets.has(target) || target === ledger.lastAliasTarget).toBe(true);
  expect(readdirSync(join(dataDir, 's3', 'tmp'))).toEqual([]);
}

/** Stops the server, then checks the databases and that every blob file is referenced. */
function checkFiles(dataDir: string): void {
  for (const file of [join(dataDir, 'kms.db'), join(dataDir, 's3.db')]) {
    const db = new Database(file, { readonly: true });
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();
  }
  const db = new Database(join(dataDir, 's3.db'), { readonly: true });
  const referenced = new Set<string>();
  for (const { doc } of db.prepare<[], { doc: string }>("SELECT doc FROM objects UNION ALL SELECT doc FROM parts").all()) {
    const record = JSON.parse(doc) as { blobId?: string; parts?: { blobId: string }[] };
    if (record.blobId) referenced.add(record.blobId);
    for (const p of record.parts ?? []) referenced.add(p.blobId);
  }
  db.close();
  const blobs = readdirSync(join(dataDir, 's3', 'blobs')).flatMap((d) => readdirSync(join(dataDir, 's3', 'blobs', d)));
  for (const blob of blobs) expect(referenced.has(blob)).toBe(true);
}

it('kill -9 at random moments under a mixed workload loses and tears nothing, and leaves no orphans', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sealbox-crash-mixed-'));
  const random = prng(SEED);
  const ledger: Ledger = { sent: new Map(), acknowledged: new Set(), deleted: new Set(), ciphertexts: [], aliasTargets: new Set() };
  try {
    let box = await start(dataDir);
    const keys = await Promise.all([0, 1].map(async () => (await box.kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!));
    await box.kms.send(new CreateAliasCommand({ AliasName: 'alias/crash', TargetKeyId: keys[0] }));
    ledger.aliasTargets.add(keys[0]!);
    await box.s3.send(new CreateBucketCommand({ Bucket: 'crash' }));
    for (let round = 0; round < 3; round++) {
      let halted = false;
      const running = workload(box, ledger, keys, round, () => halted);
      await new Promise((r) => setTimeout(r, 300 + Math.floor(random() * 900)));
      box.child.kill('SIGKILL');
      halted = true;
      await running;
      await stopped(box.child);
      box.kms.destroy();
      box.s3.destroy();

      box = await start(dataDir);
      await check(box, ledger, dataDir);
      box.child.kill('SIGTERM');
      await stopped(box.child);
      checkFiles(dataDir);
      box = await start(dataDir);
    }
    expect(ledger.acknowledged.size).toBeGreaterThan(3);
    expect(ledger.ciphertexts.length).toBeGreaterThan(0);
    box.child.kill('SIGTERM');
    await stopped(box.child);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}, 180_000);
