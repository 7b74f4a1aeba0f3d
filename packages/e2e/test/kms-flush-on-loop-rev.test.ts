import fs from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateKeyCommand, DescribeKeyCommand, EncryptCommand, type KMSClient } from '@aws-sdk/client-kms';
import type { Sealbox } from '@sealbox/cli';
import { failure, kmsClient, startTestSealbox } from './helpers';

/** Second review of the lone call's flush on the event loop (session 10). */
let dir: string;
let sealbox: Sealbox;
let kms: KMSClient;
const flushes: string[] = [];
let onLoop: jest.SpyInstance;
let inPool: jest.SpyInstance;
let failNextLoop = 0;
/** A slow disk: each flush takes this long more (on the loop, the loop waits it out). */
let diskMs = 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sealbox-flush-rev-'));
  sealbox = await startTestSealbox({ dataDir: join(dir, 'data'), tls: false });
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
    if (diskMs > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, diskMs);
  });
  inPool = jest.spyOn(fs, 'fdatasync').mockImplementation(((fd: number, done: (err: NodeJS.ErrnoException | null) => void) => {
    flushes.push('pool');
    realAsync(fd, (err) => (diskMs > 0 ? setTimeout(() => done(err), diskMs) : done(err)));
  }) as typeof fs.fdatasync);
});
afterAll(async () => {
  onLoop.mockRestore();
  inPool.mockRestore();
  await sealbox?.stop();
  rmSync(dir, { recursive: true, force: true });
});

it('a direct call with one other request in flight (an upload) is flushed in the thread pool: only a call S3 makes may have one beside it', async () => {
  const keyId = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
  const url = new URL(sealbox.kms!.url);
  const upload = request({ host: url.hostname, port: url.port, method: 'POST', path: '/', headers: { 'content-length': '1000', 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'TrentService.Encrypt' } });
  upload.on('error', () => undefined);
  upload.write('x');
  try {
    await new Promise((r) => setTimeout(r, 100));
    flushes.length = 0;
    await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('x') }));
    expect(flushes).toEqual(['pool']);
  } finally {
    upload.destroy();
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
