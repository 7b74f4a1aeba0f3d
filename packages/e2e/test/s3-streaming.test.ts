/**
 * Bodies stream: aws-chunked uploads from the SDK (trailer checksums), presigned PUT and GET,
 * and a large upload and download that do not grow the server's memory.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { crc32 } from 'node:zlib';
import aws4 from 'aws4';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { Upload } from '@aws-sdk/lib-storage';
import type { Sealbox } from '@sealbox/cli';
import { VirtualClock, listenService } from '@sealbox/runtime';
import { createS3Service } from '@sealbox/s3';
import { DEFAULT_CREDENTIALS, StaticCredentialProvider } from '@sealbox/sigv4';
import { TEST_CREDENTIALS, s3Client, startTestSealbox } from './helpers';

describe('streaming bodies', () => {
  let sealbox: Sealbox;
  beforeAll(async () => {
    sealbox = await startTestSealbox({ only: 's3' });
  });
  afterAll(() => sealbox.stop());

  it('a stream body goes aws-chunked with a trailing checksum, verified and stored', async () => {
    const s3 = s3Client(sealbox);
    try {
      await s3.send(new CreateBucketCommand({ Bucket: 'stream' }));
      const data = randomBytes(300_000);
      const body = Readable.from([data.subarray(0, 100_000), data.subarray(100_000)]);
      await s3.send(new PutObjectCommand({ Bucket: 'stream', Key: 's', Body: body, ContentLength: data.length, ChecksumAlgorithm: 'CRC32C' }));
      const head = await s3.send(new HeadObjectCommand({ Bucket: 'stream', Key: 's', ChecksumMode: 'ENABLED' }));
      expect(head.ContentLength).toBe(data.length);
      expect(head.ChecksumCRC32C).toBeDefined();
      const got = Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: 'stream', Key: 's' }))).Body!.transformToByteArray());
      expect(got.equals(data)).toBe(true);
    } finally {
      s3.destroy();
    }
  });

  it('refuses a response-* override a header cannot carry (a line break would split the response) with S3 error', async () => {
    const s3 = s3Client(sealbox);
    try {
      await s3.send(new CreateBucketCommand({ Bucket: 'overrides' }));
      await s3.send(new PutObjectCommand({ Bucket: 'overrides', Key: 'k', Body: 'hello' }));
      for (const value of ['text/plain\r\nX-Injected: 1', 'attachment; filename="\u5fae.txt"']) {
        const err = await s3.send(new GetObjectCommand({ Bucket: 'overrides', Key: 'k', ResponseContentDisposition: value })).catch((e: unknown) => e);
        expect(err).toMatchObject({
          name: 'InvalidArgument',
          message: 'Header value cannot be represented using ISO-8859-1.',
          ArgumentName: 'response-content-disposition',
          $metadata: { httpStatusCode: 400 },
        });
      }
      // Latin-1 is carried, as its bytes; and the server still answers.
      const ok = await s3.send(new GetObjectCommand({ Bucket: 'overrides', Key: 'k', ResponseContentDisposition: 'attachment; filename="caf\u00e9.txt"' }));
      expect(ok.ContentDisposition).toBe('attachment; filename="caf\u00e9.txt"');
      expect(await ok.Body!.transformToString()).toBe('hello');
    } finally {
      s3.destroy();
    }
  });

  it('a stored header no header can carry fails its request with InternalError; the server stays up', async () => {
    // Every way in is checked (PUT headers by Node, POST fields and response-* overrides by S3);
    // this plants a bad value behind them, as a damaged or hand-edited store could hold one.
    const reports: unknown[] = [];
    const service = createS3Service({
      clock: new VirtualClock(),
      credentials: new StaticCredentialProvider([DEFAULT_CREDENTIALS]),
      region: 'us-east-1',
      onInternalError: (err: unknown) => reports.push(err),
    });
    const server = await listenService(service, '127.0.0.1', 0);
    const s3 = new S3Client({ endpoint: server.url, region: 'us-east-1', credentials: TEST_CREDENTIALS, forcePathStyle: true, maxAttempts: 1 });
    try {
      await s3.send(new CreateBucketCommand({ Bucket: 'planted' }));
      await s3.send(new PutObjectCommand({ Bucket: 'planted', Key: 'k', Body: 'hello', Metadata: { note: 'fine' } }));
      const v = service.state.meta.latest('planted', 'k')!;
      // (Not x-amz-meta-*: a stored metadata value beyond printable ASCII goes out RFC 2047-encoded.)
      v.meta.contentDisposition = 'bad\r\nX-Injected: 1';
      service.state.meta.updateVersion(v);
      for (const send of [() => s3.send(new GetObjectCommand({ Bucket: 'planted', Key: 'k' })), () => s3.send(new HeadObjectCommand({ Bucket: 'planted', Key: 'k' }))]) {
        await expect(send()).rejects.toMatchObject({ $metadata: { httpStatusCode: 500 } });
      }
      expect(reports).toHaveLength(2);
      await s3.send(new PutObjectCommand({ Bucket: 'planted', Key: 'k', Body: 'again' }));
      expect(await (await s3.send(new GetObjectCommand({ Bucket: 'planted', Key: 'k' }))).Body!.transformToString()).toBe('again');
    } finally {
      s3.destroy();
      await server.close();
    }
  });

  it('a damaged stored object: its GET is cut off (an error, never wrong bytes), the server says why and keeps serving', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sealbox-damaged-'));
    const damaged = await startTestSealbox({ only: 's3', dataDir });
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const s3 = s3Client(damaged);
    try {
      await s3.send(new CreateBucketCommand({ Bucket: 'damaged' }));
      await s3.send(new PutObjectCommand({ Bucket: 'damaged', Key: 'big', Body: Buffer.alloc(3 * 1024 * 1024, 7) }));
      const [file] = readdirSync(join(dataDir, 's3', 'blobs'), { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
      const path = join(file!.parentPath, file!.name);
      const bytes = readFileSync(path);
      bytes[2 * 1024 * 1024] ^= 1;
      writeFileSync(path, bytes);
      const got = await s3.send(new GetObjectCommand({ Bucket: 'damaged', Key: 'big' }));
      await expect(got.Body!.transformToByteArray()).rejects.toThrow();
      expect(stderr.mock.calls.map((c) => String(c[0])).join('')).toContain('object data failed authentication');
      await s3.send(new PutObjectCommand({ Bucket: 'damaged', Key: 'after', Body: 'still here' }));
      expect(await (await s3.send(new GetObjectCommand({ Bucket: 'damaged', Key: 'after' }))).Body!.transformToString()).toBe('still here');
    } finally {
      stderr.mockRestore();
      s3.destroy();
      await damaged.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('presigned PUT and GET', async () => {
    const s3 = s3Client(sealbox);
    try {
      await s3.send(new CreateBucketCommand({ Bucket: 'presigned' }));
      const put = await getSignedUrl(s3, new PutObjectCommand({ Bucket: 'presigned', Key: 'up/load.txt', ContentType: 'text/plain' }), { expiresIn: 300 });
      const res = await fetch(put, { method: 'PUT', body: 'uploaded by url', headers: { 'Content-Type': 'text/plain' } });
      expect(res.status).toBe(200);
      const get = await getSignedUrl(s3, new GetObjectCommand({ Bucket: 'presigned', Key: 'up/load.txt', ResponseContentDisposition: 'attachment' }), { expiresIn: 300 });
      const down = await fetch(get);
      expect(await down.text()).toBe('uploaded by url');
      expect(down.headers.get('content-type')).toBe('text/plain');
      expect(down.headers.get('content-disposition')).toBe('attachment');
      // The GET URL does not work for PUT, nor for another key.
      expect((await fetch(get, { method: 'PUT', body: 'x' })).status).toBe(403);
      expect((await fetch(get.replace('load.txt', 'other.txt'))).status).toBe(403);
    } finally {
      s3.destroy();
    }
  });

  /**
   * An aws-chunked upload with an unsigned payload and a trailing checksum, as the SDKs send it,
   * with the trailer's value chosen by the test: the right one is stored, a wrong one is BadDigest
   * and nothing is stored.
   * https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html
   */
  function trailerPut(key: string, data: Buffer, trailer: string, value: string): Promise<{ status: number; text: string }> {
    const { hostname, port } = new URL(sealbox.s3!.url);
    const body = Buffer.concat([
      Buffer.from(`${data.length.toString(16)}\r\n`),
      data,
      Buffer.from(`\r\n0\r\n${trailer}:${value}\r\n\r\n`),
    ]);
    const signed = aws4.sign(
      {
        host: `${hostname}:${port}`,
        method: 'PUT',
        path: `/trailers/${key}`,
        service: 's3',
        region: 'us-east-1',
        headers: {
          'Content-Encoding': 'aws-chunked',
          'Content-Length': String(body.length),
          'X-Amz-Content-Sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
          'X-Amz-Decoded-Content-Length': String(data.length),
          'X-Amz-Trailer': trailer,
        },
      },
      TEST_CREDENTIALS,
    );
    return new Promise((resolve, reject) => {
      const req = httpRequest({ host: hostname, port, method: 'PUT', path: signed.path, headers: signed.headers as Record<string, string> }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, text: Buffer.concat(chunks).toString('utf8') }));
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  const b64 = (b: Buffer | number) => (typeof b === 'number' ? Buffer.from([b >>> 24, (b >>> 16) & 255, (b >>> 8) & 255, b & 255]) : b).toString('base64');
  const checksums: [string, string, (d: Buffer) => string][] = [
    ['CRC32', 'x-amz-checksum-crc32', (d) => b64(crc32(d))],
    ['SHA1', 'x-amz-checksum-sha1', (d) => b64(createHash('sha1').update(d).digest())],
    ['SHA256', 'x-amz-checksum-sha256', (d) => b64(createHash('sha256').update(d).digest())],
  ];

  it.each(checksums)('a trailing %s checksum is compared: the right one is stored, a wrong one is BadDigest and stores nothing', async (algorithm, trailer, compute) => {
    const s3 = s3Client(sealbox);
    try {
      await s3.send(new CreateBucketCommand({ Bucket: 'trailers' })).catch(() => undefined);
      const data = randomBytes(70_000);
      const right = await trailerPut(`right-${algorithm}`, data, trailer, compute(data));
      expect(right.status).toBe(200);
      const head = await s3.send(new HeadObjectCommand({ Bucket: 'trailers', Key: `right-${algorithm}`, ChecksumMode: 'ENABLED' }));
      expect(head.ContentLength).toBe(data.length);

      // The checksum of other bytes (one bit flipped), well-formed: only the comparison catches it.
      const other = Buffer.from(data);
      other[0]! ^= 1;
      const wrong = await trailerPut(`wrong-${algorithm}`, data, trailer, compute(other));
      expect(wrong.status).toBe(400);
      expect(wrong.text).toContain(`<Code>BadDigest</Code><Message>The ${algorithm} you specified did not match the calculated checksum.</Message>`);
      const missing = await s3.send(new HeadObjectCommand({ Bucket: 'trailers', Key: `wrong-${algorithm}` })).catch((e: { name: string }) => e.name);
      expect(missing).toBe('NotFound');
    } finally {
      s3.destroy();
    }
  });
});

describe('memory', () => {
  const peakRss = (pid: number) => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;

  it('a 256 MiB upload and download stream through without growing the server', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sealbox-mem-'));
    const bin = join(__dirname, '..', '..', 'cli', 'dist', 'bin.js');
    const child = spawn(process.execPath, [bin, 'start', '--no-tls', '--json', '--quiet', '--only', 's3', '--data-dir', dataDir, '--s3-port', '0']);
    const s3Url = await new Promise<string>((resolve) => createInterface({ input: child.stdout }).once('line', (l) => resolve((JSON.parse(l) as { s3: string }).s3)));
    const s3 = s3Client({ s3: { url: s3Url } } as never);
    try {
      await s3.send(new CreateBucketCommand({ Bucket: 'mem' }));
      await s3.send(new PutObjectCommand({ Bucket: 'mem', Key: 'warm', Body: 'x' }));
      const before = peakRss(child.pid!);
      const size = 256 * 1024 * 1024;
      const chunk = randomBytes(1024 * 1024);
      const hash = createHash('sha256');
      const source = Readable.from(
        (function* () {
          for (let i = 0; i < size / chunk.length; i++) {
            hash.update(chunk);
            yield chunk;
          }
        })(),
      );
      await new Upload({ client: s3, params: { Bucket: 'mem', Key: 'big', Body: source }, partSize: 16 * 1024 * 1024, queueSize: 2 }).done();
      const down = createHash('sha256');
      const body = (await s3.send(new GetObjectCommand({ Bucket: 'mem', Key: 'big' }))).Body as Readable;
      let received = 0;
      for await (const c of body) {
        received += (c as Buffer).length;
        down.update(c as Buffer);
      }
      expect(received).toBe(size);
      expect(down.digest('hex')).toBe(hash.digest('hex'));
      const growth = peakRss(child.pid!) - before;
      // Measured here: 40 to 65 MiB of peak RSS (16 MiB parts in flight, encryption buffers and the
      // garbage collector's slack), far below the 256 MiB that went through: nothing is held whole.
      expect(growth).toBeLessThan(96 * 1024 * 1024);
    } finally {
      s3.destroy();
      child.kill('SIGTERM');
    }
  }, 120_000);
});
