/**
 * Faults around SSE-KMS: the KMS that S3 uses is down, or accepts connections and never answers.
 * S3 answers with AWS-style errors within a bounded time and stores nothing partial.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { CreateKeyCommand } from '@aws-sdk/client-kms';
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
