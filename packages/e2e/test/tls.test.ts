/**
 * TLS: HTTPS and HTTP on the same ports with a local CA (the first byte of a connection tells
 * them apart); SSE-KMS over HTTPS needs no --allow-http-sse-kms. `sealbox start` serves both by
 * default, --no-tls plain HTTP only.
 */
import { Agent } from 'node:https';
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import aws4 from 'aws4';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateKeyCommand, GenerateRandomCommand } from '@aws-sdk/client-kms';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { kmsClient, runCommand, s3Client, startTestSealbox } from './helpers';

it('serves HTTPS that SDKs, the AWS CLI and boto3 trust through AWS_CA_BUNDLE', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sealbox-tls-'));
  const sealbox = await startTestSealbox({ tls: true, dataDir });
  expect(sealbox.kms!.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  expect(sealbox.s3!.url).toMatch(/^https:/);
  expect(sealbox.caBundle).toBe(join(dataDir, 'ca.pem'));
  expect(statSync(join(dataDir, 'ca.key')).mode & 0o777).toBe(0o600);
  const requestHandler = { httpsAgent: new Agent({ ca: sealbox.ca }) };
  const kms = kmsClient(sealbox, { requestHandler });
  const s3 = s3Client(sealbox, { requestHandler });
  try {
    expect((await kms.send(new GenerateRandomCommand({ NumberOfBytes: 8 }))).Plaintext).toHaveLength(8);
    const { KeyId } = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
    await s3.send(new CreateBucketCommand({ Bucket: 'tls' }));
    const put = await s3.send(new PutObjectCommand({ Bucket: 'tls', Key: 'k', Body: 'over tls', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: KeyId }));
    expect(put.ServerSideEncryption).toBe('aws:kms');
    expect(await (await s3.send(new GetObjectCommand({ Bucket: 'tls', Key: 'k' }))).Body!.transformToString()).toBe('over tls');

    const env = {
      AWS_ENDPOINT_URL_KMS: sealbox.kms!.url,
      AWS_ENDPOINT_URL_S3: sealbox.s3!.url,
      AWS_CA_BUNDLE: sealbox.caBundle!,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_DEFAULT_REGION: 'us-east-1',
    };
    const cli = await runCommand('aws', ['s3api', 'put-object', '--bucket', 'tls', '--key', 'cli', '--server-side-encryption', 'aws:kms', '--ssekms-key-id', KeyId!], env);
    expect(cli.stderr).toBe('');
    expect((JSON.parse(cli.stdout) as { ServerSideEncryption: string }).ServerSideEncryption).toBe('aws:kms');
    const py = await runCommand('python3', ['-c', "import boto3; print(boto3.client('s3').get_object(Bucket='tls', Key='k')['Body'].read().decode())"], env);
    expect(py.stdout.trim()).toBe('over tls');
  } finally {
    kms.destroy();
    s3.destroy();
    await sealbox.stop();
  }
  // The same CA is used again after a restart, so clients keep trusting it.
  const again = await startTestSealbox({ tls: true, dataDir });
  expect(again.ca).toBe(sealbox.ca);
  await again.stop();
});

/** Writes `head` on a new plain or TLS connection and collects what comes back until the server closes. */
function raw(url: string, head: string | Buffer | undefined, ca?: string, giveUpMs = 8000): Promise<{ text: string; ms: number }> {
  const { hostname, port } = new URL(url);
  const started = Date.now();
  return new Promise((resolve) => {
    const socket: Socket = ca ? tlsConnect({ host: hostname, port: Number(port), ca, servername: 'localhost' }) : connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', () => undefined);
    const timer = setTimeout(() => socket.destroy(), giveUpMs);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text: Buffer.concat(chunks).toString('latin1'), ms: Date.now() - started });
    });
    if (head !== undefined) socket.write(head);
  });
}

const HEALTH = (host: string) => `GET /_sealbox/health HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`;

describe('HTTPS and HTTP on the same port', () => {
  const TIMEOUTS = { idleTimeoutMs: 1500, headersTimeoutMs: 1500, keepAliveTimeoutMs: 800, handshakeTimeoutMs: 800 };

  it('one port answers raw HTTP and HTTPS requests, pipelined ones too, and SDK v3 over both', async () => {
    const sealbox = await startTestSealbox({ tls: true, timeouts: TIMEOUTS });
    const kmsHttps = kmsClient(sealbox, { requestHandler: { httpsAgent: new Agent({ ca: sealbox.ca }) } });
    const kmsHttp = kmsClient(sealbox, { endpoint: sealbox.kms!.httpUrl });
    const s3Http = s3Client(sealbox, { endpoint: sealbox.s3!.httpUrl });
    try {
      expect(sealbox.s3!.httpsUrl).toBe(sealbox.s3!.url);
      expect(sealbox.s3!.httpUrl).toBe(sealbox.s3!.url.replace('https:', 'http:'));
      const host = new URL(sealbox.s3!.url).host;
      const plain = await raw(sealbox.s3!.httpUrl, HEALTH(host));
      expect(plain.text).toMatch(/^HTTP\/1\.1 200 OK/);
      expect(plain.text).toContain('"service":"s3"');
      const secure = await raw(sealbox.s3!.url, HEALTH(host), sealbox.ca);
      expect(secure.text).toMatch(/^HTTP\/1\.1 200 OK/);
      // Two requests in the first chunk of a connection: both answered (unsigned: refused), in order.
      const two = `GET /nobucket/a HTTP/1.1\r\nHost: ${host}\r\n\r\nGET /nobucket/b HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`;
      expect((await raw(sealbox.s3!.httpUrl, two)).text.match(/HTTP\/1\.1 \d{3} /g)).toHaveLength(2);
      expect((await raw(sealbox.s3!.url, two, sealbox.ca)).text.match(/HTTP\/1\.1 \d{3} /g)).toHaveLength(2);
      // The SDK over both; SSE-KMS over HTTPS only, with AWS's error over HTTP.
      const { KeyId } = (await kmsHttps.send(new CreateKeyCommand({}))).KeyMetadata!;
      expect((await kmsHttp.send(new GenerateRandomCommand({ NumberOfBytes: 8 }))).Plaintext).toHaveLength(8);
      await s3Http.send(new CreateBucketCommand({ Bucket: 'both' }));
      const refused = await s3Http.send(new PutObjectCommand({ Bucket: 'both', Key: 'k', Body: 'x', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: KeyId })).catch((e: Error) => e);
      expect((refused as Error).message).toBe('Requests specifying Server Side Encryption with AWS KMS managed keys must be made over a secure connection.');
      const s3Https = s3Client(sealbox, { requestHandler: { httpsAgent: new Agent({ ca: sealbox.ca }) } });
      await s3Https.send(new PutObjectCommand({ Bucket: 'both', Key: 'k', Body: 'both ways', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: KeyId }));
      expect(await (await s3Https.send(new GetObjectCommand({ Bucket: 'both', Key: 'k' }))).Body!.transformToString()).toBe('both ways');
      // Virtual-hosted over HTTPS: BUCKET.s3.localhost is what the certificate covers.
      const virtual = await raw(sealbox.s3!.url, HEALTH(`both.s3.localhost:${new URL(sealbox.s3!.url).port}`).replace('/_sealbox/health', '/k'), sealbox.ca);
      expect(virtual.text).toMatch(/^HTTP\/1\.1 403 /); // unsigned: refused by S3 itself, over TLS
      s3Https.destroy();
    } finally {
      kmsHttps.destroy();
      kmsHttp.destroy();
      s3Http.destroy();
      await sealbox.stop();
    }
  });

  it('a connection that sends nothing, or a handshake that stalls, is closed after the handshake timeout; close() ends both kinds', async () => {
    const sealbox = await startTestSealbox({ tls: true, timeouts: TIMEOUTS, only: 'kms' });
    try {
      const [silent, stalled, trickled] = await Promise.all([
        raw(sealbox.kms!.url, undefined),
        raw(sealbox.kms!.url, Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01])),
        raw(sealbox.kms!.url, Buffer.from([0x16])),
      ]);
      for (const r of [silent, stalled, trickled]) {
        expect(r.ms).toBeGreaterThanOrEqual(700);
        expect(r.ms).toBeLessThan(3000);
      }
    } finally {
      // Held open: a plain connection mid-request, a TLS one mid-request, one that sent nothing.
      const held = [raw(sealbox.kms!.httpUrl, 'GET / HTTP/1.1\r\n'), raw(sealbox.kms!.url, 'GET / HTTP/1.1\r\n', sealbox.ca), raw(sealbox.kms!.url, undefined)];
      await new Promise((r) => setTimeout(r, 200));
      const started = Date.now();
      await sealbox.stop();
      expect(Date.now() - started).toBeLessThan(2600); // the 2 s grace, not the timeouts
      await Promise.all(held);
    }
  });

  it('the connection cap counts HTTP and HTTPS connections together', async () => {
    const sealbox = await startTestSealbox({ tls: true, only: 'kms', timeouts: { ...TIMEOUTS, idleTimeoutMs: 8000, headersTimeoutMs: 8000, maxConnections: 4 } });
    const held: Socket[] = [];
    try {
      const { hostname, port } = new URL(sealbox.kms!.url);
      for (let i = 0; i < 4; i++) {
        const s: Socket = i % 2 === 0 ? connect(Number(port), hostname) : tlsConnect({ host: hostname, port: Number(port), ca: sealbox.ca, servername: 'localhost' });
        s.on('error', () => undefined);
        s.write('GET / HTTP/1.1\r\nHost: x\r\n');
        held.push(s);
      }
      await new Promise((r) => setTimeout(r, 300));
      const listKeys = (url: string) => {
        const req = { host: new URL(url).host, method: 'POST', path: '/', service: 'kms', region: 'us-east-1', headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': 'TrentService.ListKeys' }, body: '{}' };
        aws4.sign(req, { accessKeyId: 'test', secretAccessKey: 'test' });
        return `POST / HTTP/1.1\r\n${Object.entries(req.headers).map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n{}`;
      };
      for (const [url, ca] of [[sealbox.kms!.httpUrl, undefined], [sealbox.kms!.url, sealbox.ca]] as const) {
        const refused = await raw(url, listKeys(url), ca);
        expect(refused.text).toContain('"__type":"ThrottlingException"');
      }
      for (const s of held) s.destroy();
      await new Promise((r) => setTimeout(r, 300));
      const served = await raw(sealbox.kms!.url, listKeys(sealbox.kms!.url), sealbox.ca);
      expect(served.text).toContain('"Keys"');
    } finally {
      for (const s of held) s.destroy();
      await sealbox.stop();
    }
  });
});

const BIN = join(__dirname, '..', '..', 'cli', 'dist', 'bin.js');
type Printed = { kms: string; s3: string; console?: string; caBundle?: string; http?: { kms: string; s3: string } };

/** `sealbox start --json` with `args`: the printed line, what it says on stderr, and a stop function. */
async function startCli(args: string[], env: Record<string, string>): Promise<{ printed: Printed; stderr: () => string; stop: () => Promise<void> }> {
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, [BIN, 'start', '--json', '--quiet', '--in-memory', '--kms-port', '0', '--s3-port', '0', '--no-console', ...args], { env: { ...process.env, ...env } });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const printed = await new Promise<Printed>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', (line) => resolve(JSON.parse(line) as Printed));
    child.once('exit', (code) => reject(new Error(`sealbox exited with ${code}: ${stderr}`)));
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return { printed, stderr: () => stderr, stop: async () => { child.kill('SIGTERM'); await exited; } };
}

describe('sealbox start', () => {
  const tlsDir = mkdtempSync(join(tmpdir(), 'sealbox-ca-'));
  // The in-memory CA goes to SEALBOX_TLS_DIR (else ~/.sealbox/tls), kept across restarts.
  const caEnv = { SEALBOX_TLS_DIR: join(tlsDir, 'tls') };

  it('serves HTTPS and HTTP by default: SSE-KMS up and down with the AWS CLI, boto3 and SDK v3 through the printed CA variables; one hint for SSE-KMS over HTTP', async () => {
    const sealbox = await startCli([], caEnv);
    try {
      const { printed } = sealbox;
      expect(printed.kms).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      expect(printed.s3).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      expect(printed.caBundle).toBe(join(tlsDir, 'tls', 'ca.pem'));
      expect(printed.http).toEqual({ kms: printed.kms.replace('https:', 'http:'), s3: printed.s3.replace('https:', 'http:') });
      const env = {
        AWS_ENDPOINT_URL_KMS: printed.kms,
        AWS_ENDPOINT_URL_S3: printed.s3,
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        AWS_REGION: 'us-east-1',
        AWS_DEFAULT_REGION: 'us-east-1',
        AWS_CA_BUNDLE: printed.caBundle!,
        NODE_EXTRA_CA_CERTS: printed.caBundle!,
      };
      const dir = mkdtempSync(join(tmpdir(), 'sealbox-tls-cli-'));
      writeFileSync(join(dir, 'in.txt'), 'hello kms\n');
      const ok = (r: { code: number; stderr: string }) => expect(r).toMatchObject({ code: 0 });
      ok(await runCommand('aws', ['s3', 'mb', 's3://tls-cli'], { ...env, HOME: dir }));
      ok(await runCommand('aws', ['s3', 'cp', '--sse', 'aws:kms', join(dir, 'in.txt'), 's3://tls-cli/cli.txt'], { ...env, HOME: dir }));
      const down = await runCommand('aws', ['s3', 'cp', 's3://tls-cli/cli.txt', '-'], { ...env, HOME: dir });
      expect(down.stdout).toBe('hello kms\n');
      const head = await runCommand('aws', ['s3api', 'head-object', '--bucket', 'tls-cli', '--key', 'cli.txt'], { ...env, HOME: dir });
      expect(JSON.parse(head.stdout)).toMatchObject({ ServerSideEncryption: 'aws:kms' });
      const py = await runCommand('python3', ['-c', [
        'import boto3',
        "s3 = boto3.client('s3')",
        "s3.put_object(Bucket='tls-cli', Key='py.txt', Body=b'from boto3', ServerSideEncryption='aws:kms')",
        "o = s3.get_object(Bucket='tls-cli', Key='py.txt')",
        "print(o['ServerSideEncryption'], o['Body'].read().decode())",
      ].join('\n')], { ...env, HOME: dir });
      expect(py.stdout.trim()).toBe('aws:kms from boto3');
      // SDK v3 in its own process: endpoints from AWS_ENDPOINT_URL_*, the CA from NODE_EXTRA_CA_CERTS.
      const js = await runCommand(process.execPath, ['-e', [
        "const { S3Client, PutObjectCommand, GetObjectCommand } = require('@aws-sdk/client-s3');",
        'const s3 = new S3Client({ forcePathStyle: true });',
        '(async () => {',
        "  await s3.send(new PutObjectCommand({ Bucket: 'tls-cli', Key: 'js.txt', Body: 'from sdk v3', ServerSideEncryption: 'aws:kms' }));",
        "  const o = await s3.send(new GetObjectCommand({ Bucket: 'tls-cli', Key: 'js.txt' }));",
        "  console.log(o.ServerSideEncryption, await o.Body.transformToString());",
        '})().catch((e) => { console.error(e); process.exit(1); });',
      ].join('\n')], { ...env, HOME: dir, PATH: process.env.PATH ?? '', NODE_PATH: join(__dirname, '..', 'node_modules') });
      expect(js.code).toBe(0);
      expect(js.stdout.trim()).toBe('aws:kms from sdk v3');
      // Over plain HTTP, the same port: AWS's refusal, and one hint line however many refusals.
      const plain = { ...env, HOME: dir, AWS_ENDPOINT_URL_S3: printed.http!.s3 };
      for (let i = 0; i < 2; i++) {
        const refused = await runCommand('aws', ['s3', 'cp', '--sse', 'aws:kms', join(dir, 'in.txt'), 's3://tls-cli/plain.txt'], plain);
        expect(refused.stderr).toContain('must be made over a secure connection');
      }
      expect((await runCommand('aws', ['s3', 'cp', join(dir, 'in.txt'), 's3://tls-cli/plain.txt'], plain)).code).toBe(0);
      const hints = sealbox.stderr().split('\n').filter((l) => l.includes('hint'));
      expect(hints).toEqual([`sealbox: hint: S3 refuses SSE-KMS and SSE-C requests over plain HTTP, as AWS does; use ${printed.s3} (trusting AWS_CA_BUNDLE=${printed.caBundle}), or start Sealbox with --allow-http-sse-kms`]);
    } finally {
      await sealbox.stop();
    }
  }, 90_000);

  it('--no-tls serves plain HTTP only; --tls is still accepted; the in-memory CA is the same after a restart', async () => {
    const plain = await startCli(['--no-tls'], caEnv);
    try {
      expect(plain.printed.kms).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(plain.printed.caBundle).toBeUndefined();
      // A TLS ClientHello gets no handshake: the port speaks HTTP only (the bytes are a bad request).
      const hello = await raw(plain.printed.kms, undefined, readFileSync(join(tlsDir, 'tls', 'ca.pem'), 'utf8'), 3000);
      expect(hello.text).not.toContain('"status":"ok"');
    } finally {
      await plain.stop();
    }
    const explicit = await startCli(['--tls'], caEnv);
    try {
      expect(explicit.printed.kms).toMatch(/^https:/);
      expect(explicit.printed.caBundle).toBe(join(tlsDir, 'tls', 'ca.pem'));
    } finally {
      await explicit.stop();
    }
    const both = await runCommand(process.execPath, [BIN, 'start', '--tls', '--no-tls'], {});
    expect(both).toMatchObject({ code: 2 });
    expect(both.stderr).toContain('--tls and --no-tls cannot be used together');
  }, 60_000);
});

describe('S3 alone, against another Sealbox KMS over HTTPS (--kms-endpoint)', () => {
  it("trusts that KMS's local CA through AWS_CA_BUNDLE, and without it says on stderr why SSE-KMS answers 503", async () => {
    // The KMS keeps its own CA in its data directory; the S3-only instance has another.
    const kmsDir = mkdtempSync(join(tmpdir(), 'sealbox-kms-ca-'));
    const kmsOnly = await startTestSealbox({ tls: true, only: 'kms', dataDir: kmsDir });
    const previous = process.env.AWS_CA_BUNDLE;
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const { KeyId } = (await kmsClient(kmsOnly, { requestHandler: { httpsAgent: new Agent({ ca: kmsOnly.ca }) } }).send(new CreateKeyCommand({}))).KeyMetadata!;
      const put = (s3: ReturnType<typeof s3Client>, key: string) =>
        s3.send(new PutObjectCommand({ Bucket: 'split', Key: key, Body: 'sealed elsewhere', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: KeyId }));

      delete process.env.AWS_CA_BUNDLE;
      const untrusting = await startTestSealbox({ tls: true, only: 's3', kmsEndpoint: kmsOnly.kms!.url });
      try {
        const s3 = s3Client(untrusting, { requestHandler: { httpsAgent: new Agent({ ca: untrusting.ca }) } });
        await s3.send(new CreateBucketCommand({ Bucket: 'split' }));
        await expect(put(s3, 'refused')).rejects.toMatchObject({ $metadata: { httpStatusCode: 503 } });
        const lines = stderr.mock.calls.map(([chunk]) => String(chunk)).filter((l) => l.includes('cannot reach KMS'));
        expect(lines).toHaveLength(1);
        // The two local CAs share a subject: OpenSSL names the failure CERT_SIGNATURE_FAILURE (or SELF_SIGNED_CERT_IN_CHAIN).
        expect(lines[0]).toMatch(new RegExp(`^sealbox s3: cannot reach KMS at ${kmsOnly.kms!.url}: [A-Z_]*CERT[A-Z_]*; SSE-KMS requests answer 503`));
      } finally {
        await untrusting.stop();
      }

      process.env.AWS_CA_BUNDLE = kmsOnly.caBundle;
      const trusting = await startTestSealbox({ tls: true, only: 's3', kmsEndpoint: kmsOnly.kms!.url });
      try {
        const s3 = s3Client(trusting, { requestHandler: { httpsAgent: new Agent({ ca: trusting.ca }) } });
        await s3.send(new CreateBucketCommand({ Bucket: 'split' }));
        expect((await put(s3, 'k')).SSEKMSKeyId).toMatch(/^arn:aws:kms:/);
        expect(await (await s3.send(new GetObjectCommand({ Bucket: 'split', Key: 'k' }))).Body!.transformToString()).toBe('sealed elsewhere');
      } finally {
        await trusting.stop();
      }
    } finally {
      stderr.mockRestore();
      if (previous === undefined) delete process.env.AWS_CA_BUNDLE;
      else process.env.AWS_CA_BUNDLE = previous;
      await kmsOnly.stop();
    }
  });
});
