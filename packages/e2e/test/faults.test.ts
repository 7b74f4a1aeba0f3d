/**
 * Faults: the KMS that S3 uses is down, or accepts connections and never answers; the disk fills
 * during a PUT. S3 answers with AWS-style errors within a bounded time and stores nothing partial.
 */
import { execFileSync } from 'node:child_process';
import fs = require('node:fs');
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { Writable } from 'node:stream';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { CreateKeyCommand, DecryptCommand, EncryptCommand } from '@aws-sdk/client-kms';
import type { Sealbox } from '@sealbox/cli';
import { failure, kmsClient, s3Client, startTestSealbox } from './helpers';

/** A TCP server that accepts connections and says nothing: a hung KMS. */
async function silentServer(): Promise<{ server: Server; url: string; sockets: Socket[] }> {
  const sockets: Socket[] = [];
  const server = createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return { server, url: `http://127.0.0.1:${port}`, sockets };
}

/** A port nothing listens on. */
async function closedPort(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

describe('the KMS S3 relies on', () => {
  let full: Sealbox;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sealbox-faults-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is down: SSE-KMS writes and reads fail at once with 503, nothing is stored, SSE-S3 keeps working', async () => {
    // An object written while KMS was up, then S3 alone against a KMS that is gone.
    full = await startTestSealbox({ dataDir: join(dir, 'a'), allowHttpSseKms: true });
    const key = (await kmsClient(full).send(new CreateKeyCommand({}))).KeyMetadata!;
    await s3Client(full).send(new CreateBucketCommand({ Bucket: 'faults' }));
    await s3Client(full).send(new PutObjectCommand({ Bucket: 'faults', Key: 'before', Body: 'sealed', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: key.Arn }));
    await full.stop();

    const alone = await startTestSealbox({ only: 's3', dataDir: join(dir, 'a'), kmsEndpoint: await closedPort(), allowHttpSseKms: true });
    try {
      const s3 = s3Client(alone);
      const started = Date.now();
      const put = await failure(s3.send(new PutObjectCommand({ Bucket: 'faults', Key: 'during', Body: 'x', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: key.Arn })));
      expect(put.name).toBe('ServiceUnavailable');
      expect(put.$metadata?.httpStatusCode).toBe(503);
      const get = await failure(s3.send(new GetObjectCommand({ Bucket: 'faults', Key: 'before' })));
      expect(get.$metadata?.httpStatusCode).toBe(503);
      expect(Date.now() - started).toBeLessThan(5000);
      expect((await failure(s3.send(new HeadObjectCommand({ Bucket: 'faults', Key: 'during' })))).name).toBe('NotFound');
      await s3.send(new PutObjectCommand({ Bucket: 'faults', Key: 'sse-s3', Body: 'fine' }));
      expect(readdirSync(join(dir, 'a', 's3', 'tmp'))).toEqual([]);
    } finally {
      await alone.stop();
    }
  });

  it('hangs: S3 gives up after its bounded timeout with KMS.DependencyTimeoutException (500), nothing is stored', async () => {
    const hung = await silentServer();
    const alone = await startTestSealbox({ only: 's3', dataDir: join(dir, 'b'), kmsEndpoint: hung.url, kmsTimeoutMs: 700, allowHttpSseKms: true });
    try {
      const s3 = s3Client(alone);
      await s3.send(new CreateBucketCommand({ Bucket: 'hung' }));
      const started = Date.now();
      const err = await failure(
        s3.send(new PutObjectCommand({ Bucket: 'hung', Key: 'k', Body: 'x', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'arn:aws:kms:us-east-1:000000000000:key/1234abcd-12ab-34cd-56ef-1234567890ab' })),
      );
      const elapsed = Date.now() - started;
      expect(err.name).toBe('KMS.DependencyTimeoutException');
      expect(err.$metadata?.httpStatusCode).toBe(500);
      expect(elapsed).toBeGreaterThanOrEqual(600);
      expect(elapsed).toBeLessThan(5000);
      expect((await failure(s3.send(new HeadObjectCommand({ Bucket: 'hung', Key: 'k' })))).name).toBe('NotFound');
      expect(readdirSync(join(dir, 'b', 's3', 'tmp'))).toEqual([]);
    } finally {
      await alone.stop();
      hung.sockets.forEach((s) => s.destroy());
      hung.server.close();
    }
  });
});

/**
 * Mounts a tmpfs of `size` at `dir` (root on Linux can); false where mounting is not allowed.
 * The real thing is the better test, so it is used wherever the machine permits it.
 */
function mountSmallDisk(dir: string, size: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('a full disk', () => {
  let dir: string;
  let mounted = false;
  let stderr: jest.SpyInstance;
  let spill: jest.SpyInstance | undefined;
  let fill: jest.SpyInstance | undefined;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sealbox-full-'));
    // SEALBOX_TEST_NO_MOUNT=1 runs the injected variant on a machine that could mount.
    mounted = process.env.SEALBOX_TEST_NO_MOUNT ? false : mountSmallDisk(dir, '4m');
    if (!mounted) {
      // Where mounting is refused, the same failure is injected where Node reports it: the blob
      // store's write stream fails with ENOSPC once a write passes 2 MiB.
      const real = fs.createWriteStream;
      spill = jest.spyOn(fs, 'createWriteStream').mockImplementation(((path: fs.PathLike, options?: unknown) => {
        const file = real(path, options as never);
        if (!String(path).includes(`${join('s3', 'tmp')}`)) return file;
        let written = 0;
        const limited = new Writable({
          write(chunk: Buffer, _enc, done) {
            written += chunk.length;
            if (written > 2 * 1024 * 1024) done(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }));
            else file.write(chunk, done);
          },
          final(done) {
            file.end(done);
          },
        });
        return limited as unknown as fs.WriteStream;
      }) as typeof fs.createWriteStream);
      // Objects of up to 1 MiB are written whole, straight to their blob file: there the disk
      // "fills" once 3 MiB of them are stored, half-way through the write that passes it.
      const realWrite = fs.writeFileSync;
      let stored = 0;
      fill = jest.spyOn(fs, 'writeFileSync').mockImplementation(((path: fs.PathOrFileDescriptor, data: Buffer, options?: fs.WriteFileOptions) => {
        if (!String(path).includes(`${sep}blobs${sep}`)) return realWrite(path, data, options);
        if (stored + data.length > 3 * 1024 * 1024) {
          realWrite(path, data.subarray(0, data.length >> 1), options);
          throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
        }
        stored += data.length;
        return realWrite(path, data, options);
      }) as typeof fs.writeFileSync);
    }
    stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  });

  afterAll(() => {
    stderr.mockRestore();
    spill?.mockRestore();
    fill?.mockRestore();
    if (mounted) execFileSync('umount', [dir]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a PUT with InternalError, keeps the old object whole, leaves no temp file, and says why on stderr', async () => {
    const dataDir = join(dir, 'data');
    mkdirSync(dataDir);
    const sealbox = await startTestSealbox({ dataDir });
    try {
      const s3 = s3Client(sealbox);
      await s3.send(new CreateBucketCommand({ Bucket: 'full' }));
      const old = randomBytes(256 * 1024);
      await s3.send(new PutObjectCommand({ Bucket: 'full', Key: 'k', Body: old }));

      const err = await failure(s3.send(new PutObjectCommand({ Bucket: 'full', Key: 'k', Body: randomBytes(8 * 1024 * 1024) })));
      expect(err.name).toBe('InternalError');
      expect(err.$metadata?.httpStatusCode).toBe(500);
      expect(err.message).toBe('We encountered an internal error. Please try again.');
      expect(stderr.mock.calls.map((c) => String(c[0])).join('')).toContain('the data directory is out of space (ENOSPC)');

      const got = await s3.send(new GetObjectCommand({ Bucket: 'full', Key: 'k' }));
      expect(Buffer.from(await got.Body!.transformToByteArray()).equals(old)).toBe(true);
      expect(readdirSync(join(dataDir, 's3', 'tmp'))).toEqual([]);

      // Space comes back when objects go: the next write that fits succeeds.
      await s3.send(new DeleteObjectCommand({ Bucket: 'full', Key: 'k' }));
      await s3.send(new PutObjectCommand({ Bucket: 'full', Key: 'k2', Body: randomBytes(1024 * 1024) }));
      expect((await s3.send(new HeadObjectCommand({ Bucket: 'full', Key: 'k2' }))).ContentLength).toBe(1024 * 1024);

      // Small objects (written whole, without a temporary file) fill it too: the one that does not
      // fit fails the same way, and leaves no partial blob file behind.
      const small = new Map<string, Buffer>();
      let refused: Awaited<ReturnType<typeof failure>> | undefined;
      for (let i = 0; i < 16 && !refused; i++) {
        const body = randomBytes(512 * 1024);
        try {
          await s3.send(new PutObjectCommand({ Bucket: 'full', Key: `small-${i}`, Body: body }));
          small.set(`small-${i}`, body);
        } catch (err) {
          refused = err as Awaited<ReturnType<typeof failure>>;
        }
      }
      expect(refused?.name).toBe('InternalError');
      expect(small.size).toBeGreaterThan(0);
      for (const [key, body] of small) {
        const got = await s3.send(new GetObjectCommand({ Bucket: 'full', Key: key }));
        expect(Buffer.from(await got.Body!.transformToByteArray()).equals(body)).toBe(true);
      }
      const blobFiles = readdirSync(join(dataDir, 's3', 'blobs'), { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
      expect(blobFiles).toHaveLength(1 + small.size);
    } finally {
      await sealbox.stop();
    }
  });

  it('KMS refuses calls (500) while their records cannot be written, says so once, and writes the held records once there is room', async () => {
    rmSync(join(dir, 'data'), { recursive: true, force: true }); // the previous test filled the disk
    const dataDir = join(dir, 'kms-data');
    mkdirSync(dataDir);
    const sealbox = await startTestSealbox({ dataDir, only: 'kms' });
    const filler = join(dir, 'filler');
    let unfill = () => undefined as void;
    try {
      const kms = kmsClient(sealbox);
      const keyId = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
      await new Promise((r) => setTimeout(r, 100)); // CreateKey's record is written
      if (mounted) {
        // Fill what is left of the 4 MiB disk.
        const fd = fs.openSync(filler, 'w');
        try {
          const chunk = Buffer.alloc(64 * 1024);
          for (;;) fs.writeSync(fd, chunk);
        } catch (err) {
          expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
        } finally {
          fs.closeSync(fd);
        }
        unfill = () => rmSync(filler, { force: true });
      } else {
        // Where mounting is refused: appending to cloudtrail.jsonl (each call's durable record)
        // fails as on a full disk.
        const real = fs.writeSync;
        const write = jest.spyOn(fs, 'writeSync').mockImplementation(((fd: number, data: unknown, ...rest: unknown[]) => {
          if (Buffer.isBuffer(data) && data.includes('"eventSource":"kms.amazonaws.com"')) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
          return (real as (...args: unknown[]) => number)(fd, data, ...rest);
        }) as typeof fs.writeSync);
        unfill = () => write.mockRestore();
      }
      stderr.mockClear();
      // A call is acknowledged only once its record is on disk: while none can be written, calls
      // answer KMSInternalException (the records of what they did are held, not lost).
      // On the real full disk the first calls may still succeed: cloudtrail.jsonl (each call's
      // durable record) is appended in place, and its last, partly used page has room for a few
      // lines. Once one is refused, every call is until there is room.
      let fitted = 0;
      for (let i = 0, refused = 0; refused < 20; i++) {
        const outcome = await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from(`secret ${i}`) })).then(
          () => undefined,
          (err: unknown) => err,
        );
        if (outcome === undefined && mounted && refused === 0 && fitted < 8) {
          fitted++;
          continue;
        }
        expect(outcome).toMatchObject({ name: 'KMSInternalException', $metadata: { httpStatusCode: 500 } });
        refused++;
      }
      const said = () => stderr.mock.calls.map((c) => String(c[0])).join('');
      // Said once, not once per call.
      expect(said().match(/sealbox kms: cannot write the event log \((SQLITE_FULL|ENOSPC)\); \d+ events are held in memory/g)).toHaveLength(1);
      expect(said()).not.toContain('internal error');
      expect(sealbox.kms!.core.trail.pending).toBe(20);

      unfill();
      await new Promise((r) => setTimeout(r, 1500));
      expect(said()).toContain('sealbox kms: the event log is written again');
      expect(sealbox.kms!.core.trail.pending).toBe(0);
      const blob = (await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('secret 20') }))).CiphertextBlob!;
      expect(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob: blob }))).Plaintext!).toString()).toBe('secret 20');
      const lines = readFileSync(join(dataDir, 'cloudtrail.jsonl'), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as { eventName: string });
      expect(lines.filter((e) => e.eventName === 'Encrypt')).toHaveLength(fitted + 21);
      expect(lines.filter((e) => e.eventName === 'Decrypt')).toHaveLength(1);
    } finally {
      unfill();
      await sealbox.stop();
    }
  });
});
