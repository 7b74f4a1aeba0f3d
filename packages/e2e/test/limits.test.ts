/**
 * Limits, with AWS's errors: header sections, bodies, key length, metadata, part numbers, object
 * size; and slow clients, which time out instead of holding the server.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import aws4 from 'aws4';
import { CreateBucketCommand, CreateMultipartUploadCommand, GetObjectCommand, PutObjectCommand, type S3Client, UploadPartCommand } from '@aws-sdk/client-s3';
import { CreateKeyCommand } from '@aws-sdk/client-kms';
import type { Sealbox } from '@sealbox/cli';
import { failure, kmsClient, s3Client, startTestSealbox } from './helpers';

let sealbox: Sealbox;
let s3: S3Client;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sealbox-limits-'));
  sealbox = await startTestSealbox({ dataDir: dir, timeouts: { idleTimeoutMs: 800, headersTimeoutMs: 800 } });
  s3 = s3Client(sealbox);
  await s3.send(new CreateBucketCommand({ Bucket: 'limits' }));
});
afterAll(async () => {
  await sealbox.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Writes raw bytes on a new connection and collects everything the server sends until it closes. */
function rawExchange(url: string, steps: { write: string | Buffer; thenWaitMs?: number }[]): Promise<{ text: string; ms: number }> {
  const { hostname, port } = new URL(url);
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('close', () => resolve({ text: Buffer.concat(chunks).toString('utf8'), ms: Date.now() - started }));
    socket.on('error', reject);
    socket.setTimeout(15_000, () => socket.destroy(new Error('the server never closed the connection')));
    const run = async () => {
      for (const step of steps) {
        if (socket.destroyed) return;
        socket.write(step.write);
        if (step.thenWaitMs) await new Promise((r) => setTimeout(r, step.thenWaitMs));
      }
    };
    void run();
  });
}

/** A signed request's head (and body) as raw HTTP, for writing in pieces. */
function signedRaw(method: string, path: string, headers: Record<string, string>, body = ''): { head: string; body: string } {
  const { hostname, port } = new URL(sealbox.s3!.url);
  const req = { host: `${hostname}:${port}`, method, path, service: 's3', region: 'us-east-1', headers: { ...headers }, body };
  aws4.sign(req, { accessKeyId: 'test', secretAccessKey: 'test' });
  const lines = Object.entries(req.headers as Record<string, string>).map(([k, v]) => `${k}: ${v}`);
  return { head: `${method} ${path} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`, body };
}

describe('slow clients', () => {
  it('a client that never finishes its headers gets RequestTimeout and is disconnected', async () => {
    const { text, ms } = await rawExchange(sealbox.s3!.url, [{ write: 'GET /limits HTTP/1.1\r\nHost: x\r\nX-Slow: 1', thenWaitMs: 5000 }]);
    expect(text).toMatch(/^HTTP\/1\.1 400 /);
    expect(text).toContain('<Code>RequestTimeout</Code>');
    expect(ms).toBeLessThan(5000);
  });

  it('an upload that stalls mid-body gets RequestTimeout; nothing is stored, no temporary file stays', async () => {
    const { head } = signedRaw('PUT', '/limits/stalled', { 'Content-Length': '1000', 'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD' });
    const { text } = await rawExchange(sealbox.s3!.url, [{ write: head }, { write: 'x'.repeat(100), thenWaitMs: 5000 }]);
    expect(text).toMatch(/^HTTP\/1\.1 400 /);
    expect(text).toContain('<Code>RequestTimeout</Code>');
    expect(text).toContain('Idle connections will be closed.');
    expect((await failure(s3.send(new GetObjectCommand({ Bucket: 'limits', Key: 'stalled' })))).name).toBe('NoSuchKey');
    for (let i = 0; i < 50 && readdirSync(join(dir, 's3', 'tmp')).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(readdirSync(join(dir, 's3', 'tmp'))).toEqual([]);
  });

  it('a client that disconnects mid-upload leaves no object and no temporary file', async () => {
    const { head } = signedRaw('PUT', '/limits/abandoned', { 'Content-Length': '100000', 'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD' });
    const { hostname, port } = new URL(sealbox.s3!.url);
    await new Promise<void>((resolve) => {
      const socket = connect(Number(port), hostname, () => {
        socket.write(head);
        socket.write('y'.repeat(50_000), () => setTimeout(() => socket.destroy(), 100));
      });
      socket.on('close', () => resolve());
    });
    for (let i = 0; i < 50 && readdirSync(join(dir, 's3', 'tmp')).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(readdirSync(join(dir, 's3', 'tmp'))).toEqual([]);
    expect((await failure(s3.send(new GetObjectCommand({ Bucket: 'limits', Key: 'abandoned' })))).name).toBe('NoSuchKey');
  });

  it('a whole request the server is still working on is not cut by the idle timer', async () => {
    // S3 (idle timer 800 ms) behind a KMS that answers each call after 1.5 s: an SSE-KMS PUT is
    // received whole, then S3 waits on GenerateDataKey with the connection silent for longer
    // than the idle timer. The client is not at fault, so the request completes. (The body is
    // small so that it is received whole at once: a body larger than the server's buffers waits
    // unread while S3 asks KMS, and the idle timer then cuts it; see the note in the issue.)
    const kms = await startTestSealbox({ only: 'kms' });
    const slow = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        // Forwarded as signed (Host included) after the delay.
        setTimeout(() => {
          const forward = request(`${kms.kms!.url}${req.url}`, { method: req.method, headers: req.headers }, (answer) => {
            res.writeHead(answer.statusCode!, answer.headers);
            answer.pipe(res);
          });
          forward.end(Buffer.concat(chunks));
        }, 1500);
      });
    });
    await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
    const s3Only = await startTestSealbox({
      only: 's3',
      kmsEndpoint: `http://127.0.0.1:${(slow.address() as { port: number }).port}`,
      allowHttpSseKms: true,
      timeouts: { idleTimeoutMs: 800, headersTimeoutMs: 800 },
    });
    try {
      const key = (await kmsClient(kms).send(new CreateKeyCommand({}))).KeyMetadata!;
      const client = s3Client(s3Only);
      await client.send(new CreateBucketCommand({ Bucket: 'slow-kms' }));
      const body = Buffer.alloc(1024, 1);
      const started = Date.now();
      const put = await client.send(new PutObjectCommand({ Bucket: 'slow-kms', Key: 'big', Body: body, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: key.Arn }));
      expect(Date.now() - started).toBeGreaterThan(1500);
      expect(put.SSEKMSKeyId).toBe(key.Arn);
      const got = await client.send(new GetObjectCommand({ Bucket: 'slow-kms', Key: 'big' }));
      expect(Buffer.from(await got.Body!.transformToByteArray()).equals(body)).toBe(true);
    } finally {
      await s3Only.stop();
      await new Promise<void>((resolve) => slow.close(() => resolve()));
      await kms.stop();
    }
  });
});

describe('sizes', () => {
  it('an oversized header section is RequestHeaderSectionTooLarge', async () => {
    const { text } = await rawExchange(sealbox.s3!.url, [{ write: `GET /limits HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n` }]);
    expect(text).toMatch(/^HTTP\/1\.1 400 /);
    expect(text).toContain('<Code>RequestHeaderSectionTooLarge</Code><Message>Your request header section exceeds the maximum allowed size.</Message>');
  });

  it('a key over 1024 bytes, metadata over 2 KB, a part number over 10,000 and an object over 5 GiB are refused as AWS refuses them', async () => {
    const long = await failure(s3.send(new PutObjectCommand({ Bucket: 'limits', Key: 'k'.repeat(1025), Body: 'x' })));
    expect(long.name).toBe('KeyTooLongError');
    const meta = await failure(s3.send(new PutObjectCommand({ Bucket: 'limits', Key: 'm', Body: 'x', Metadata: { big: 'v'.repeat(2100) } })));
    expect(meta.name).toBe('MetadataTooLarge');
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'limits', Key: 'parts' }));
    const part = await failure(s3.send(new UploadPartCommand({ Bucket: 'limits', Key: 'parts', UploadId, PartNumber: 10_001, Body: 'x' })));
    expect(part.name).toBe('InvalidArgument');
    expect(part.message).toBe('Part number must be an integer between 1 and 10000, inclusive');
    // Declared size alone: refused before a byte of body is read.
    const huge = signedRaw('PUT', '/limits/huge', { 'Content-Length': String(5 * 1024 ** 3 + 1), 'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD' });
    const { text } = await rawExchange(sealbox.s3!.url, [{ write: huge.head, thenWaitMs: 2000 }]);
    expect(text).toMatch(/^HTTP\/1\.1 400 /);
    expect(text).toContain('<Code>EntityTooLarge</Code>');
  });

  it('an XML document over 1 MiB is MaxMessageLengthExceeded; a part over 5 GiB is EntityTooLarge', async () => {
    const xml = `<Tagging>${' '.repeat(1024 * 1024)}</Tagging>`;
    const tagging = signedRaw('PUT', '/limits?tagging', { 'Content-Type': 'application/xml', Connection: 'close' }, xml);
    const big = await rawExchange(sealbox.s3!.url, [{ write: tagging.head }, { write: tagging.body }]);
    expect(big.text).toMatch(/^HTTP\/1\.1 400 /);
    expect(big.text).toContain('<Code>MaxMessageLengthExceeded</Code><Message>Your request was too big.</Message>');

    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'limits', Key: 'big-part' }));
    const part = signedRaw('PUT', `/limits/big-part?partNumber=1&uploadId=${UploadId}`, { 'Content-Length': String(5 * 1024 ** 3 + 1), 'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD' });
    const { text } = await rawExchange(sealbox.s3!.url, [{ write: part.head, thenWaitMs: 2000 }]);
    expect(text).toMatch(/^HTTP\/1\.1 400 /);
    expect(text).toContain('<Code>EntityTooLarge</Code>');
  });

  it('a KMS request body over 1 MiB is refused before it is read', async () => {
    // Only the head is sent, declaring 1 MiB + 10 bytes: the answer comes without a byte of body.
    const { hostname, port } = new URL(sealbox.kms!.url);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), hostname, () => {
        socket.write(
          `POST / HTTP/1.1\r\nHost: ${hostname}:${port}\r\nContent-Type: application/x-amz-json-1.1\r\nX-Amz-Target: TrentService.ListKeys\r\nContent-Length: ${1024 * 1024 + 10}\r\n\r\n`,
        );
      });
      socket.once('data', (d: Buffer) => {
        resolve(d.toString('utf8'));
        socket.destroy();
      });
      socket.on('error', reject);
      socket.setTimeout(600, () => socket.destroy(new Error('no answer without the body')));
    });
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer).toContain('RequestEntityTooLargeException');
    // And sent whole, the same answer.
    const res = await fetch(sealbox.kms!.url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': 'TrentService.ListKeys' },
      body: JSON.stringify({ pad: 'x'.repeat(1024 * 1024 + 10) }),
    });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { __type: string }).__type).toBe('RequestEntityTooLargeException');
  });
});
