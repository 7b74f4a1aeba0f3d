/**
 * Answers that are no KMS call's still wait for what they changed in kms.db to be on disk: a KMS
 * call's answer waits for its record's flush, which flushes kms.db's write-ahead log when the
 * store changed; POST /_sealbox/seed and a clock advance (keys deleted or rotated when their time
 * comes) have no record of their own to wait for.
 */
import fs = require('node:fs');
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateKeyCommand, DescribeKeyCommand, ScheduleKeyDeletionCommand } from '@aws-sdk/client-kms';
import type { Sealbox } from '@sealbox/cli';
import { failure, kmsClient, startTestSealbox } from './helpers';

const DAY = 86_400;

describe('kms.db is on disk before an answer that is no KMS call', () => {
  let dir: string;
  let sealbox: Sealbox;
  /** The files whose fdatasync completed, in order. */
  const flushed: string[] = [];
  /** How long a flush of kms.db's WAL takes (a slow disk). */
  let walDelayMs = 0;
  let spy: jest.SpyInstance;
  let spySync: jest.SpyInstance;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sealbox-kms-durability-'));
    const real = fs.fdatasync;
    spy = jest.spyOn(fs, 'fdatasync').mockImplementation(((fd: number, callback: (err: NodeJS.ErrnoException | null) => void) => {
      let path = '';
      try {
        path = fs.readlinkSync(`/proc/self/fd/${fd}`);
      } catch {
        // not Linux: the name stays unknown
      }
      real(fd, (err) => {
        const done = () => {
          flushed.push(path);
          callback(err);
        };
        if (walDelayMs > 0 && path.endsWith('kms.db-wal')) setTimeout(done, walDelayMs);
        else done();
      });
    }) as typeof fs.fdatasync);
    // A lone answer's flush runs on the event loop (Trail.flushOnLoop): the same files, in order.
    const realSync = fs.fdatasyncSync;
    spySync = jest.spyOn(fs, 'fdatasyncSync').mockImplementation((fd: number) => {
      let path = '';
      try {
        path = fs.readlinkSync(`/proc/self/fd/${fd}`);
      } catch {
        // not Linux: the name stays unknown
      }
      realSync(fd);
      if (walDelayMs > 0 && path.endsWith('kms.db-wal')) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, walDelayMs);
      flushed.push(path);
    });
    sealbox = await startTestSealbox({ dataDir: join(dir, 'data'), only: 'kms' });
  });
  afterAll(async () => {
    await sealbox.stop();
    spy.mockRestore();
    spySync.mockRestore();
    rmSync(dir, { recursive: true, force: true });
  });

  const post = (path: string, body: unknown) =>
    fetch(`${sealbox.kms!.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const walFlushed = () => flushed.some((p) => p.endsWith(`${join('data', 'kms.db-wal')}`));

  it('POST /_sealbox/seed answers once the seeded keys are on disk', async () => {
    if (!fs.existsSync('/proc/self/fd')) return;
    await kmsClient(sealbox).send(new CreateKeyCommand({})); // the flush at open is behind us
    flushed.length = 0;
    const keyId = '0b5e5eed-0000-4000-8000-000000000001';
    const answer = await post('/_sealbox/seed', { keys: [{ at: 'seed:1', id: keyId, account: '000000000000', region: 'us-east-1', spec: 'SYMMETRIC_DEFAULT' }] });
    expect(answer.status).toBe(200);
    expect(walFlushed()).toBe(true);
    expect((await kmsClient(sealbox).send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata?.KeyId).toBe(keyId);
  });

  it('a clock advance that deletes a key answers once the deletion is on disk, however slow the disk', async () => {
    if (!fs.existsSync('/proc/self/fd')) return;
    const kms = kmsClient(sealbox);
    const keyId = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 }));
    flushed.length = 0;
    walDelayMs = 2500;
    try {
      const answer = await post('/_sealbox/clock', { advanceSeconds: 8 * DAY });
      expect(answer.status).toBe(200);
      expect(walFlushed()).toBe(true);
    } finally {
      walDelayMs = 0;
    }
    expect((await failure(kms.send(new DescribeKeyCommand({ KeyId: keyId })))).name).toBe('NotFoundException');
  });
});
