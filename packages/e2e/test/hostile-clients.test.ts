/**
 * Hostile and unlucky clients at the connection level: bodies and headers trickled a byte at a
 * time, TLS handshakes that never finish, idle keep-alive connections, more connections than the
 * cap and than the descriptor limit, refusals of `Expect: 100-continue` uploads (raw, SDK v3, the
 * AWS CLI, boto3), bytes beyond Content-Length, malformed requests, and clients that leave
 * mid-body. Seeded (SEALBOX_HOSTILE_SEED) and bounded: every case has a deadline well under the
 * service's, and the timeouts here are shortened the way tests may.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import aws4 from 'aws4';
import { GenerateRandomCommand } from '@aws-sdk/client-kms';
import { CreateBucketCommand, GetObjectCommand, PutBucketPolicyCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { Sealbox } from '@sealbox/cli';
import type { AccessLogEntry } from '@sealbox/runtime';
import { awsEnv, failure, kmsClient, runCommand, s3Client, startTestSealbox, tlsKmsClient } from './helpers';
import { mulberry32 } from '@sealbox/runtime';

const SEED = Number(process.env.SEALBOX_HOSTILE_SEED ?? 20260115);
/** Seeded, so a failing run can be repeated exactly. */
const rng = mulberry32;
const random = rng(SEED);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Short limits for the suite: a body must average 4 KiB/s after 1 s; 1.5 s of silence ends a request.
const TIMEOUTS = { idleTimeoutMs: 1500, headersTimeoutMs: 1500, keepAliveTimeoutMs: 800, handshakeTimeoutMs: 800, minBodyBytesPerSecond: 4096, bodyGraceMs: 1000 };
const DENIED = 'hostile-denied';
const OPEN = 'hostile-open';

let sealbox: Sealbox;
let s3: S3Client;
const log: AccessLogEntry[] = [];

beforeAll(async () => {
  sealbox = await startTestSealbox({ timeouts: TIMEOUTS, accessLog: (e) => log.push(e) });
  s3 = s3Client(sealbox);
  await s3.send(new CreateBucketCommand({ Bucket: DENIED }));
  await s3.send(new CreateBucketCommand({ Bucket: OPEN }));
  await s3.send(
    new PutBucketPolicyCommand({
      Bucket: DENIED,
      Policy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Principal: '*', Action: 's3:PutObject', Resource: `arn:aws:s3:::${DENIED}/*` }] }),
    }),
  );
});
afterAll(async () => {
  s3.destroy();
  await sealbox.stop();
});

interface Exchange {
  text: string;
  /** When the server closed the connection, from the first byte written. */
  ms: number;
  /** How many body bytes the writer managed to send before the connection ended. */
  sent: number;
}

/**
 * Opens a connection, writes `head`, then the body in `chunks` every `everyMs`, and collects all
 * the server sends until it closes (or `giveUpMs`). Write errors end the writing, not the test.
 */
function exchange(url: string, head: string | Buffer, body: { chunks?: Buffer[]; everyMs?: number } = {}, giveUpMs = 12_000): Promise<Exchange> {
  const { hostname, port } = new URL(url);
  const started = Date.now();
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    const received: Buffer[] = [];
    let sent = 0;
    socket.on('data', (d: Buffer) => received.push(d));
    socket.on('error', () => undefined);
    const timer = setTimeout(() => socket.destroy(), giveUpMs);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text: Buffer.concat(received).toString('latin1'), ms: Date.now() - started, sent });
    });
    socket.write(head);
    void (async () => {
      for (const chunk of body.chunks ?? []) {
        if (body.everyMs) await sleep(body.everyMs);
        if (socket.destroyed || !socket.writable) return;
        socket.write(chunk, (err) => {
          if (!err) sent += chunk.length;
        });
      }
    })();
  });
}

/** A SigV4-signed request head for `url`'s service (raw HTTP/1.1). */
function signedHead(url: string, service: 's3' | 'kms', method: string, path: string, headers: Record<string, string>, body = ''): string {
  const { host } = new URL(url);
  const req = { host, method, path, service, region: 'us-east-1', headers: { ...headers }, body };
  aws4.sign(req, { accessKeyId: 'test', secretAccessKey: 'test' });
  const lines = Object.entries(req.headers as Record<string, string>).map(([k, v]) => `${k}: ${v}`);
  return `${method} ${path} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`;
}

const bytes = (n: number, fill = 0x61) => Buffer.alloc(n, fill);
const trickle = (n: number) => Array.from({ length: n }, () => Buffer.from([0x61 + Math.floor(random() * 26)]));
/** The first status line's code, and every status code the server sent in order. */
const statuses = (text: string) => [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));

describe('slow clients are cut by the body rate, not held forever', () => {
  // Each body comes a byte every 150-350 ms: never idle long enough for the idle timer (1.5 s),
  // far below the 4 KiB/s the rate rule asks after its 1 s grace.
  const cases: { name: string; url: () => string; head: () => string; answer: RegExp }[] = [
    {
      name: 'a KMS call',
      url: () => sealbox.kms!.url,
      head: () => signedHead(sealbox.kms!.url, 'kms', 'POST', '/', { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': 'TrentService.GenerateRandom', 'Content-Length': '400' }, 'x'.repeat(400)),
      answer: /"__type":"RequestTimeoutException"/,
    },
    {
      name: 'an admin endpoint (POST /_sealbox/clock)',
      url: () => sealbox.kms!.url,
      head: () => `POST /_sealbox/clock HTTP/1.1\r\nHost: ${new URL(sealbox.kms!.url).host}\r\nContent-Type: application/json\r\nContent-Length: 400\r\n\r\n`,
      answer: /"__type":"RequestTimeoutException"/,
    },
    {
      name: 'an S3 PUT',
      url: () => sealbox.s3!.url,
      head: () => signedHead(sealbox.s3!.url, 's3', 'PUT', `/${OPEN}/trickled`, { 'Content-Length': '400', 'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD' }),
      answer: /<Code>RequestTimeout<\/Code>/,
    },
    {
      name: 'an S3 PUT already refused (403), still trickling its body',
      url: () => sealbox.s3!.url,
      head: () => signedHead(sealbox.s3!.url, 's3', 'PUT', `/${DENIED}/trickled`, { 'Content-Length': '400', 'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD' }),
      answer: /<Code>AccessDenied<\/Code>/,
    },
  ];
  it.each(cases)('$name', async ({ url, head, answer }) => {
    const started = Date.now();
    const result = await exchange(url(), head(), { chunks: trickle(400), everyMs: 150 + Math.floor(random() * 200) });
    expect(result.text).toMatch(answer);
    // Grace 1 s + a few sweeps (+ the linger of an early answer): nowhere near the 60 s a
    // 400-byte trickle would take.
    expect(Date.now() - started).toBeLessThan(7000);
    expect(result.sent).toBeLessThan(60);
  });

  it('a header section trickled a byte at a time gets RequestTimeout', async () => {
    const head = `GET /${OPEN}?list-type=2 HTTP/1.1\r\nHost: x\r\nX-Slow: ${'a'.repeat(200)}`;
    const result = await exchange(sealbox.s3!.url, head.slice(0, 20), { chunks: [...Buffer.from(head.slice(20))].map((b) => Buffer.from([b])), everyMs: 200 });
    expect(result.text).toMatch(/^HTTP\/1\.1 400 /);
    expect(result.text).toContain('<Code>RequestTimeout</Code>');
    expect(result.ms).toBeLessThan(5000);
  });

  it('an upload at a real (if modest) rate is not cut, however long it takes past the grace', async () => {
    // 512 KiB in 16 KiB chunks every 100 ms: 160 KiB/s for about 3 s.
    const size = 512 * 1024;
    const head = signedHead(sealbox.s3!.url, 's3', 'PUT', `/${OPEN}/paced`, { 'Content-Length': String(size), 'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD', Connection: 'close' });
    const result = await exchange(sealbox.s3!.url, head, { chunks: Array.from({ length: 32 }, () => bytes(16 * 1024, 0x62)), everyMs: 100 });
    expect(statuses(result.text)).toEqual([200]);
    const got = await s3.send(new GetObjectCommand({ Bucket: OPEN, Key: 'paced' }));
    expect((await got.Body!.transformToByteArray()).length).toBe(size);
  });

  it('an idle keep-alive connection is closed after the keep-alive timeout', async () => {
    const head = signedHead(sealbox.s3!.url, 's3', 'GET', `/${OPEN}?list-type=2`, {});
    const result = await exchange(sealbox.s3!.url, head);
    expect(statuses(result.text)).toEqual([200]);
    expect(result.text).toContain('Keep-Alive: timeout=');
    // 0.8 s keep-alive (+ Node's 1 s margin), not the idle timeout or forever.
    expect(result.ms).toBeLessThan(3500);
  });
});

describe('TLS handshakes', () => {
  it('a connection that never finishes its handshake is closed after the handshake timeout', async () => {
    const tlsBox = await startTestSealbox({ tls: true, timeouts: TIMEOUTS, only: 'kms' });
    try {
      // Nothing at all, a few bytes of a ClientHello, and one trickled: each is closed in time.
      const partials = [Buffer.alloc(0), Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01]), Buffer.from([0x16])];
      const results = await Promise.all(partials.map((p) => exchange(tlsBox.kms!.url, p, { chunks: [Buffer.from([0x03])], everyMs: 300 }, 10_000)));
      for (const r of results) expect(r.ms).toBeLessThan(3000);
      // A real client still gets through.
      const kms = tlsKmsClient(tlsBox);
      expect((await kms.send(new GenerateRandomCommand({ NumberOfBytes: 4 }))).Plaintext).toHaveLength(4);
      kms.destroy();
    } finally {
      await tlsBox.stop();
    }
  });
});

describe('the connection cap', () => {
  it('past the cap requests get SlowDown / ThrottlingException and their connections close; health checks are answered', async () => {
    const capped = await startTestSealbox({ timeouts: { ...TIMEOUTS, idleTimeoutMs: 8000, headersTimeoutMs: 8000, bodyGraceMs: 8000, maxConnections: 6 } });
    const held: Socket[] = [];
    try {
      for (const url of [capped.s3!.url, capped.kms!.url]) {
        const { hostname, port } = new URL(url);
        // Fill the cap with clients that send half a header section and wait.
        for (let i = 0; i < 6; i++) {
          const s = connect(Number(port), hostname);
          s.on('error', () => undefined);
          s.write('GET / HTTP/1.1\r\nHost: x\r\n');
          held.push(s);
        }
        await sleep(200);
      }
      const s3Refused = await exchange(capped.s3!.url, signedHead(capped.s3!.url, 's3', 'GET', '/', {}));
      expect(statuses(s3Refused.text)).toEqual([503]);
      expect(s3Refused.text).toContain('<Code>SlowDown</Code><Message>Please reduce your request rate.</Message>');
      expect(s3Refused.text).toContain('Connection: close');
      const kmsRefused = await exchange(capped.kms!.url, signedHead(capped.kms!.url, 'kms', 'POST', '/', { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': 'TrentService.ListKeys' }, '{}') + '{}');
      expect(statuses(kmsRefused.text)).toEqual([400]);
      expect(kmsRefused.text).toContain('"__type":"ThrottlingException"');
      for (const url of [capped.s3!.url, capped.kms!.url]) {
        const health = await exchange(url, `GET /_sealbox/health HTTP/1.1\r\nHost: ${new URL(url).host}\r\n\r\n`);
        expect(statuses(health.text)).toEqual([200]);
        expect(health.text).toContain('"status":"ok"');
      }
      // Once the held connections go, clients are served again.
      for (const s of held) s.destroy();
      await sleep(200);
      const kms = kmsClient(capped);
      expect((await kms.send(new GenerateRandomCommand({ NumberOfBytes: 4 }))).Plaintext).toHaveLength(4);
      kms.destroy();
    } finally {
      for (const s of held) s.destroy();
      await capped.stop();
    }
  });

  it('under a 256-descriptor limit, 300 trickling clients leave both services alive and their health checks answered', async () => {
    const bin = join(__dirname, '..', '..', 'cli', 'dist', 'bin.js');
    const child = spawn('prlimit', ['--nofile=256', process.execPath, bin, 'start', '--json', '--quiet', '--in-memory', '--kms-port', '0', '--s3-port', '0', '--console-port', '0']);
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const held: Socket[] = [];
    try {
      // TLS is on (the default): the clients here speak plain HTTP to the same ports.
      const endpoints = await new Promise<{ kms: string; s3: string }>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('\n')) resolve((JSON.parse(out.split('\n')[0]!) as { http: { kms: string; s3: string } }).http);
        });
        child.once('exit', (code) => reject(new Error(`sealbox exited (${code}): ${stderr}`)));
      });
      const child3 = new S3Client({ endpoint: endpoints.s3, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, forcePathStyle: true, maxAttempts: 1 });
      await child3.send(new CreateBucketCommand({ Bucket: OPEN }));
      child3.destroy();
      const trickler = setInterval(() => {
        for (const s of held) if (!s.destroyed) s.write('a');
      }, 1000);
      try {
        for (let i = 0; i < 300; i++) {
          const url = i % 2 === 0 ? endpoints.s3 : endpoints.kms;
          const { hostname, port } = new URL(url);
          const s = connect(Number(port), hostname);
          s.on('error', () => undefined);
          // Requests that pass every check on their headers, so only the connection rules can end them.
          s.write(
            i % 2 === 0
              ? signedHead(url, 's3', 'PUT', `/${OPEN}/t${i}`, { 'Content-Length': '100000', 'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD' })
              : signedHead(url, 'kms', 'POST', '/', { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': 'TrentService.ListKeys', 'Content-Length': '100000' }),
          );
          held.push(s);
        }
        await sleep(1500);
        for (const url of [endpoints.s3, endpoints.kms]) {
          const health = await exchange(url, `GET /_sealbox/health HTTP/1.1\r\nHost: ${new URL(url).host}\r\n\r\n`, {}, 5000);
          expect(statuses(health.text)).toEqual([200]);
        }
        // A real request is answered at once, served or told to slow down, never left hanging.
        const kmsCall = await exchange(endpoints.kms, signedHead(endpoints.kms, 'kms', 'POST', '/', { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': 'TrentService.ListKeys' }, '{}') + '{}', {}, 5000);
        expect(kmsCall.text).toMatch(/^HTTP\/1\.1 (200|400) /);
        expect(kmsCall.text).toMatch(/"Keys"|"ThrottlingException"/);
      } finally {
        clearInterval(trickler);
      }
      expect(child.exitCode).toBeNull();
      expect(stderr).not.toMatch(/internal error|RangeError|EMFILE.*\n.*at /);
    } finally {
      for (const s of held) s.destroy();
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  }, 30_000);
});

describe('refusals reach the client', () => {
  it('a PUT with Expect: 100-continue refused on its headers gets its final status instead of 100 Continue, and no body is needed', async () => {
    const denied = await exchange(sealbox.s3!.url, signedHead(sealbox.s3!.url, 's3', 'PUT', `/${DENIED}/k`, { 'Content-Length': String(6 * 1024 * 1024), 'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD', Expect: '100-continue' }), {}, 5000);
    expect(statuses(denied.text)).toEqual([403]);
    expect(denied.text).toContain('<Code>AccessDenied</Code>');
    expect(denied.text).toContain('Connection: close');
    expect(denied.ms).toBeLessThan(2000);
    // Anonymous, 5 GB declared: refused the same way, without 100 Continue.
    const { host } = new URL(sealbox.s3!.url);
    const anonymous = await exchange(sealbox.s3!.url, `PUT /${OPEN}/huge HTTP/1.1\r\nHost: ${host}\r\nContent-Length: ${5 * 1024 ** 3}\r\nExpect: 100-continue\r\n\r\n`, {}, 5000);
    expect(statuses(anonymous.text)).toEqual([403]);
    // Allowed: 100 Continue, then the body, then 200.
    const allowedHead = signedHead(sealbox.s3!.url, 's3', 'PUT', `/${OPEN}/continued`, { 'Content-Length': '5', 'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD', Expect: '100-continue', Connection: 'close' });
    const allowed = await exchange(sealbox.s3!.url, allowedHead, { chunks: [Buffer.from('hello')], everyMs: 300 });
    expect(statuses(allowed.text)).toEqual([100, 200]);
  });

  it('a refused PUT whose client sends the body anyway (no Expect) still reads its 403', async () => {
    const size = pick([1, 3, 6]) * 1024 * 1024;
    const head = signedHead(sealbox.s3!.url, 's3', 'PUT', `/${DENIED}/raw`, { 'Content-Length': String(size), 'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD' });
    const result = await exchange(sealbox.s3!.url, head, { chunks: Array.from({ length: size / (256 * 1024) }, () => bytes(256 * 1024)) });
    expect(statuses(result.text)).toEqual([403]);
    expect(result.text).toContain('Connection: close');
  });

  const sizes = [6, 64];
  it.each(sizes)('SDK v3 uploading %i MiB into a bucket that refuses it gets 403 AccessDenied', async (mib) => {
    const err = await failure(s3.send(new PutObjectCommand({ Bucket: DENIED, Key: `sdk-${mib}`, Body: bytes(mib * 1024 * 1024) })));
    expect(err.name).toBe('AccessDenied');
    expect(err.$metadata?.httpStatusCode).toBe(403);
  });

  describe('the AWS CLI and boto3', () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'sealbox-hostile-'));
      for (const mib of sizes) writeFileSync(join(dir, `${mib}.bin`), bytes(mib * 1024 * 1024));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it.each(sizes)('the AWS CLI uploading %i MiB gets AccessDenied, not a connection error', async (mib) => {
      const started = Date.now();
      const cli = await runCommand('aws', ['s3api', 'put-object', '--bucket', DENIED, '--key', `cli-${mib}`, '--body', join(dir, `${mib}.bin`)], awsEnv(sealbox));
      expect(cli.code).not.toBe(0);
      expect(cli.stderr).toContain('(AccessDenied) when calling the PutObject operation');
      expect(Date.now() - started).toBeLessThan(8000);
    });

    it.each(sizes)('boto3 uploading %i MiB gets AccessDenied, not a connection error', async (mib) => {
      const script = [
        'import boto3, sys',
        'from botocore.exceptions import ClientError',
        `body = open(${JSON.stringify(join(dir, `${mib}.bin`))}, 'rb')`,
        'try:',
        `    boto3.client('s3').put_object(Bucket=${JSON.stringify(DENIED)}, Key='boto-${mib}', Body=body)`,
        '    print("stored")',
        'except ClientError as e:',
        "    print(e.response['Error']['Code'], e.response['ResponseMetadata']['HTTPStatusCode'])",
      ].join('\n');
      const py = await runCommand('python3', ['-c', script], awsEnv(sealbox));
      expect(py.stderr).toBe('');
      expect(py.stdout.trim()).toBe('AccessDenied 403');
    });
  });
});

describe('framing', () => {
  const extras = ['GARBAGE\r\n\r\n', '\x00\x01\x02\r\n\r\n', 'PUT\r\n\r\n', 'GET / HTTP/9.9\r\n\r\n', ' x y z\r\n\r\n', 'G\x00T / HTTP/1.1\r\n\r\n'];
  it.each(Array.from({ length: 4 }, (_, i) => i))('bytes beyond Content-Length are a second, bad request: the first one\'s answer is unchanged (variant %i)', async () => {
    const length = 1 + Math.floor(random() * 20);
    const body = 'b'.repeat(length);
    const key = `framed-${Math.floor(random() * 1e9)}`;
    const extra = pick(extras);
    const head = signedHead(sealbox.s3!.url, 's3', 'PUT', `/${OPEN}/${key}`, { 'Content-Length': String(length), 'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD' });
    const result = await exchange(sealbox.s3!.url, Buffer.from(head + body + extra, 'latin1'), {}, 5000);
    expect(statuses(result.text)).toEqual([200, 400]);
    expect(result.text).toContain('<Code>BadRequest</Code>');
    const stored = await s3.send(new GetObjectCommand({ Bucket: OPEN, Key: key }));
    expect(await stored.Body!.transformToString()).toBe(body);
  });

  it('a valid request pipelined behind a body is answered in its turn', async () => {
    const first = signedHead(sealbox.s3!.url, 's3', 'PUT', `/${OPEN}/piped`, { 'Content-Length': '3', 'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD' });
    const second = signedHead(sealbox.s3!.url, 's3', 'GET', `/${OPEN}/piped`, { Connection: 'close' });
    const result = await exchange(sealbox.s3!.url, first + 'abc' + second, {}, 5000);
    expect(statuses(result.text)).toEqual([200, 200]);
    expect(result.text.endsWith('abc')).toBe(true);
  });

  const malformed: [string, string][] = [
    ['a garbage request line', 'HELLO THERE\r\n\r\n'],
    ['a NUL in a header', 'GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n'],
    ['a space in a header name', 'GET / HTTP/1.1\r\nHost: x\r\nX A: b\r\n\r\n'],
    ['two different Content-Lengths', 'PUT /x/y HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab'],
    ['Content-Length with Transfer-Encoding', 'PUT /x/y HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
    ['a negative Content-Length', 'PUT /x/y HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n'],
  ];
  it.each(malformed)('%s: S3 answers 400 BadRequest in XML, KMS in JSON', async (_name, raw) => {
    const s3Answer = await exchange(sealbox.s3!.url, Buffer.from(raw, 'latin1'), {}, 5000);
    expect(s3Answer.text).toMatch(/^HTTP\/1\.1 400 /);
    expect(s3Answer.text).toContain('<Error><Code>BadRequest</Code><Message>An error occurred when parsing the HTTP request.</Message>');
    const kmsAnswer = await exchange(sealbox.kms!.url, Buffer.from(raw, 'latin1'), {}, 5000);
    expect(kmsAnswer.text).toMatch(/^HTTP\/1\.1 400 /);
    expect(kmsAnswer.text).toContain('"__type":"BadRequestException"');
  });

  it('a body framed wrongly (a bad chunk) fails that request with BadRequest (KMS), and nothing is stored (S3)', async () => {
    const key = `bad-chunk-${Math.floor(random() * 1e9)}`;
    const head = signedHead(sealbox.s3!.url, 's3', 'PUT', `/${OPEN}/${key}`, { 'Transfer-Encoding': 'chunked', 'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD' });
    const s3Answer = await exchange(sealbox.s3!.url, head + '5\r\nhello\r\n' + pick(['zz', '-1', '5;\x00', 'ffffffffffffffffffff']) + '\r\n', {}, 5000);
    // S3 does not take HTTP chunked uploads (501 NotImplemented naming Transfer-Encoding, as AWS), before any chunk.
    expect(statuses(s3Answer.text)).toEqual([501]);
    expect(s3Answer.text).toContain('<Code>NotImplemented</Code>');
    expect((await failure(s3.send(new GetObjectCommand({ Bucket: OPEN, Key: key })))).name).toBe('NoSuchKey');
    const kmsHead = signedHead(sealbox.kms!.url, 'kms', 'POST', '/', { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': 'TrentService.ListKeys', 'Transfer-Encoding': 'chunked' });
    const kmsAnswer = await exchange(sealbox.kms!.url, kmsHead + '2\r\n{}\r\nzz\r\n', {}, 5000);
    expect(statuses(kmsAnswer.text)).toEqual([400]);
    expect(kmsAnswer.text).toContain('"__type":"BadRequestException"');
  });

  it('an oversized header section gets KMS JSON (and S3 XML)', async () => {
    const raw = `POST / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(pick([17_000, 40_000, 90_000]))}\r\n\r\n`;
    const kmsAnswer = await exchange(sealbox.kms!.url, raw, {}, 5000);
    expect(kmsAnswer.text).toMatch(/^HTTP\/1\.1 431 /);
    expect(kmsAnswer.text).toContain('Content-Type: application/x-amz-json-1.1');
    expect(kmsAnswer.text).toContain('"__type":"RequestHeaderSectionTooLarge"');
    const s3Answer = await exchange(sealbox.s3!.url, raw, {}, 5000);
    expect(s3Answer.text).toContain('<Code>RequestHeaderSectionTooLarge</Code>');
  });

  it('a KMS client that leaves mid-body is logged as such, not as an internal error', async () => {
    const errors: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    const spy = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array, ...rest: unknown[]) => {
      errors.push(String(chunk));
      return (write as (c: string | Uint8Array, ...r: unknown[]) => boolean)(chunk, ...rest);
    });
    try {
      const before = log.length;
      const { hostname, port } = new URL(sealbox.kms!.url);
      for (let i = 0; i < 3; i++) {
        const socket = connect(Number(port), hostname);
        socket.on('error', () => undefined);
        socket.write(signedHead(sealbox.kms!.url, 'kms', 'POST', '/', { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': 'TrentService.ListKeys', 'Content-Length': '100' }, 'x'.repeat(100)));
        socket.write('{"Limit":', () => setTimeout(() => socket.destroy(), 50 + Math.floor(random() * 100)));
      }
      for (let i = 0; i < 40 && log.length < before + 3; i++) await sleep(50);
      const entries = log.slice(before).filter((e) => e.service === 'kms');
      expect(entries).toHaveLength(3);
      for (const e of entries) {
        expect(e.status).toBe(499);
        expect(e.errorCode).toBe('ClientDisconnected');
      }
      expect(errors.join('')).not.toContain('internal error');
    } finally {
      spy.mockRestore();
    }
  });
});
