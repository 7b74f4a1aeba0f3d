import fs from 'node:fs';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateKeyCommand, DescribeKeyCommand, EncryptCommand, type KMSClient } from '@aws-sdk/client-kms';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { Sealbox } from '@sealbox/cli';
import { failure, kmsClient, s3Client, startTestSealbox } from './helpers';

/**
 * Every acknowledged KMS call's record is on disk before its answer (docs/kms.md). A lone call's
 * record is flushed on the event loop (no thread pool round trip: less CPU, a sooner answer);
 * calls in flight together are flushed in the thread pool, so the event loop keeps serving them.
 * An SSE-KMS request's own KMS call counts as alone when nothing else is in flight.
 */
let dir: string;
let sealbox: Sealbox;
let kms: KMSClient;
const flushes: string[] = [];
let onLoop: jest.SpyInstance;
const trailFile = (): string => {
  const found = (readdirSync(join(dir, 'data'), { recursive: true }) as string[]).find((f) => f.endsWith('cloudtrail.jsonl'))!;
  return join(dir, 'data', found);
};
let inPool: jest.SpyInstance;
/** The next flushes on the loop that fail (EIO). */
let failNextLoop = 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sealbox-flush-loop-'));
  sealbox = await startTestSealbox({ dataDir: join(dir, 'data'), tls: false, allowHttpSseKms: true });
  kms = kmsClient(sealbox);
  const realSync = fs.fdatasyncSync;
  const realAsync = fs.fdatasync;
  onLoop = jest.spyOn(fs, 'fdatasyncSync').mockImplementation((fd) => {
    flushes.push('loop');
    if (failNextLoop > 0) {
      failNextLoop--;
      throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
    }
    realSync(fd);
  });
  inPool = jest.spyOn(fs, 'fdatasync').mockImplementation(((fd: number, done: (err: NodeJS.ErrnoException | null) => void) => {
    flushes.push('pool');
    realAsync(fd, done);
  }) as typeof fs.fdatasync);
});
afterAll(async () => {
  onLoop.mockRestore();
  inPool.mockRestore();
  await sealbox?.stop();
  rmSync(dir, { recursive: true, force: true });
});

it('a lone call is flushed on the event loop; sixteen at once in the thread pool; each answered after its flush', async () => {
  const keyId = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
  flushes.length = 0;
  for (let i = 0; i < 5; i++) await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('x') }));
  expect(flushes).toEqual(['loop', 'loop', 'loop', 'loop', 'loop']);

  // Sixteen calls held in flight together (a fault rule's wait of wall time, before the call
  // runs), then recorded together: the thread pool flushes them.
  const rule = await fetch(`${sealbox.kms!.url}/_sealbox/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ service: 'kms', operation: 'Encrypt', latencyMs: 300, count: 16 }) });
  expect(rule.status).toBe(201);
  flushes.length = 0;
  await Promise.all(Array.from({ length: 16 }, () => kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('x') }))));
  expect(flushes).toContain('pool');
  expect(flushes.filter((f) => f === 'loop').length).toBeLessThan(flushes.length);
  // Every answered call's record is in the file, however it was flushed: CreateKey and 21 Encrypts.
  const lines = readFileSync(trailFile(), 'utf8').trimEnd().split('\n');
  expect(lines.filter((l) => JSON.parse(l).eventName === 'Encrypt')).toHaveLength(21);
});

it("an SSE-KMS PUT and GET, alone, have their KMS call's record flushed on the loop", async () => {
  const s3 = s3Client(sealbox);
  await s3.send(new CreateBucketCommand({ Bucket: 'flush-loop' }));
  flushes.length = 0;
  await s3.send(new PutObjectCommand({ Bucket: 'flush-loop', Key: 'k', Body: 'sealed', ServerSideEncryption: 'aws:kms' }));
  expect(await (await s3.send(new GetObjectCommand({ Bucket: 'flush-loop', Key: 'k' }))).Body!.transformToString()).toBe('sealed');
  expect(flushes.filter((f) => f === 'pool')).toEqual([]);
  expect(flushes.length).toBeGreaterThanOrEqual(2);
});

it.each([1, 2])('a direct call with %i other request(s) in flight (a body still arriving) is flushed in the thread pool: only a call S3 makes may have one beside it', async (others) => {
  const keyId = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
  const url = new URL(sealbox.kms!.url);
  // KMS requests whose bodies never finish (KMS reads the whole body first): in flight until
  // their sockets close.
  const held = Array.from({ length: others }, () => {
    const r = request({ host: url.hostname, port: url.port, method: 'POST', path: '/', headers: { 'content-length': '1000', 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'TrentService.Encrypt' } });
    r.on('error', () => undefined);
    r.write('x');
    return r;
  });
  try {
    await new Promise((r) => setTimeout(r, 100));
    flushes.length = 0;
    await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('x') }));
    expect(flushes).toEqual(['pool']);
  } finally {
    for (const r of held) r.destroy();
  }
  await new Promise((r) => setTimeout(r, 100));
  flushes.length = 0;
  await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('x') }));
  expect(flushes).toEqual(['loop']);
});

it('a CreateKey whose WAL flush fails on the loop is refused (500), and the next call flushes the WAL again before its record', async () => {
  flushes.length = 0;
  failNextLoop = 1;
  const err = await failure(kms.send(new CreateKeyCommand({ Description: 'eio' })));
  expect(err.name).toBe('KMSInternalException');
  expect(err.$metadata?.httpStatusCode).toBe(500);
  expect(flushes).toEqual(['loop']); // the WAL's flush failed, so the file's was not tried
  await new Promise((r) => setTimeout(r, 1500)); // the retry
  flushes.length = 0;
  const keyId = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
  expect(flushes.length).toBeGreaterThanOrEqual(2); // WAL then file
  expect((await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata!.KeyId).toBe(keyId);
});

it('a disk whose flushes keep failing: every lone call is refused, the failure is reported once, and its end', async () => {
  const keyId = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
  const lines: string[] = [];
  const write = jest.spyOn(process.stderr, 'write').mockImplementation(((chunk: string) => {
    lines.push(String(chunk));
    return true;
  }) as typeof process.stderr.write);
  try {
    failNextLoop = 1000;
    for (let i = 0; i < 3; i++) expect((await failure(kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('x') })))).name).toBe('KMSInternalException');
    failNextLoop = 0;
    await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('x') }));
  } finally {
    failNextLoop = 0;
    write.mockRestore();
  }
  expect(lines.filter((l) => l.includes('event log'))).toEqual(['sealbox kms: cannot flush the event log to disk (EIO)\n', 'sealbox kms: the event log is flushed to disk again\n']);
});
