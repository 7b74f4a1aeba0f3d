/**
 * The data directory is the user's alone: directories 0700 and files 0600 (databases, their
 * -wal and -shm files, the event log, root keys, TLS files, object blobs, the lock file),
 * whatever the umask, and a directory an older Sealbox or a copy left readable to others is
 * tightened when Sealbox starts on it.
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import { CreateKeyCommand, EncryptCommand } from '@aws-sdk/client-kms';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { Sealbox } from '@sealbox/cli';
import { kmsClient, s3Client, startTestSealbox, tlsKmsClient, tlsS3Client } from './helpers';

const BIN = join(__dirname, '..', '..', 'cli', 'dist', 'bin.js');

/** Every entry under `dir` (itself included) with its permission bits. */
function modes(dir: string): Map<string, { mode: number; dir: boolean }> {
  const out = new Map<string, { mode: number; dir: boolean }>();
  const walk = (path: string) => {
    const stat = lstatSync(path);
    out.set(relative(dir, path) || '.', { mode: stat.mode & 0o777, dir: stat.isDirectory() });
    if (stat.isDirectory()) for (const name of readdirSync(path)) walk(join(path, name));
  };
  walk(dir);
  return out;
}

/** The entries whose mode is not 0700 (directories) or 0600 (files), as `name 0644`. */
function loose(dir: string): string[] {
  return [...modes(dir)].filter(([, m]) => m.mode !== (m.dir ? 0o700 : 0o600)).map(([name, m]) => `${name} 0${m.mode.toString(8)}`);
}

function loosen(dir: string): void {
  for (const [name, m] of modes(dir)) chmodSync(join(dir, name), m.dir ? 0o755 : 0o644);
}

async function workload(sealbox: Sealbox): Promise<void> {
  const kms = sealbox.ca ? tlsKmsClient(sealbox) : kmsClient(sealbox);
  const s3 = sealbox.ca ? tlsS3Client(sealbox) : s3Client(sealbox);
  const { KeyMetadata } = await kms.send(new CreateKeyCommand({}));
  await kms.send(new EncryptCommand({ KeyId: KeyMetadata!.KeyId, Plaintext: Buffer.from('x') }));
  const bucket = 'modes';
  // The second run on a directory finds its bucket there.
  await s3.send(new CreateBucketCommand({ Bucket: bucket })).catch((err: Error) => {
    if (err.name !== 'BucketAlreadyOwnedByYou') throw err;
  });
  // A small object is written whole, a large one streamed through a temporary file: both paths.
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'small', Body: 'small object' }));
  // Past 64 KiB but written whole: a blob file of its own (smaller bodies are kept in s3.db).
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'medium', Body: Buffer.alloc(100 * 1024, 3) }));
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'large', Body: Buffer.alloc(2 * 1024 * 1024, 7), ContentLength: 2 * 1024 * 1024 }));
  kms.destroy();
  s3.destroy();
}

/** Runs `fn` with the process umask set to `mask`. */
async function withUmask<T>(mask: number, fn: () => Promise<T>): Promise<T> {
  const before = process.umask(mask);
  try {
    return await fn();
  } finally {
    process.umask(before);
  }
}

describe('the data directory is private to the user', () => {
  const dirs: string[] = [];
  const newDir = () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'sealbox-modes-')), 'data');
    dirs.push(dir);
    return dir;
  };
  afterAll(() => {
    for (const dir of dirs) rmSync(join(dir, '..'), { recursive: true, force: true });
  });

  it.each([['022', 0o022], ['000', 0o000]])('a fresh start with umask %s makes every directory 0700 and every file 0600, blobs, -wal and -shm included', async (_name, mask) => {
    const dataDir = newDir();
    await withUmask(mask, async () => {
      const sealbox = await startTestSealbox({ dataDir, tls: true, allowHttpSseKms: true });
      try {
        await workload(sealbox);
        const names = [...modes(dataDir).keys()];
        // What is checked is there: the WAL files while running, blobs in shard directories, the lock.
        for (const name of ['kms.db', 'kms.db-wal', 'kms.db-shm', 's3.db', 's3.db-wal', 's3.db-shm', 'cloudtrail.jsonl', 'root.key', 's3.key', 'sealbox.lock', 'ca.pem', 'server.key']) {
          expect(names).toContain(name);
        }
        expect(names.filter((n) => /^s3\/blobs\/[0-9a-f]{2}\/[0-9a-f]{32}$/.test(n)).length).toBeGreaterThanOrEqual(2);
        expect(loose(dataDir)).toEqual([]);
      } finally {
        await sealbox.stop();
      }
    });
    expect(loose(dataDir)).toEqual([]);
  });

  it('a data directory left 0755 with 0644 files (WAL and SHM of a killed process, blobs, a stale lock) is tightened at start', async () => {
    const dataDir = newDir();
    // A Sealbox killed mid-run leaves its -wal and -shm files behind.
    const child = spawn(process.execPath, [BIN, 'start', '--no-tls', '--json', '--quiet', '--data-dir', dataDir, '--kms-port', '0', '--s3-port', '0', '--no-console']);
    const ready = await new Promise<{ kms: string; s3: string }>((resolve, reject) => {
      createInterface({ input: child.stdout }).once('line', (line) => resolve(JSON.parse(line) as { kms: string; s3: string }));
      child.once('exit', (code) => reject(new Error(`sealbox exited with ${code}`)));
    });
    const fake = { kms: { url: ready.kms }, s3: { url: ready.s3 } } as unknown as Sealbox;
    await workload(fake);
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    expect(existsSync(join(dataDir, 'kms.db-wal'))).toBe(true);
    expect(existsSync(join(dataDir, 's3.db-shm'))).toBe(true);
    writeFileSync(join(dataDir, 'sealbox.lock'), '999999999\n'); // a stale lock: its process is gone

    loosen(dataDir);
    expect(loose(dataDir).length).toBeGreaterThan(10);
    expect(loose(dataDir)).toEqual(expect.arrayContaining(['. 0755', 'kms.db-wal 0644', 's3.db-shm 0644', 'root.key 0644', 'cloudtrail.jsonl 0644', 's3/blobs 0755']));

    const sealbox = await startTestSealbox({ dataDir, tls: true, allowHttpSseKms: true });
    try {
      expect(loose(dataDir)).toEqual([]);
      await workload(sealbox);
      expect(loose(dataDir)).toEqual([]);
    } finally {
      await sealbox.stop();
    }
  });
});
