/**
 * The sandbox as a fixture over HTTP (issue 18, items 1 and 2): POST /_sealbox/reset and moto's
 * POST /moto-api/reset on either port, named snapshots, and starting from a `sealbox export`
 * archive, driven with the AWS SDK v3 and raw HTTP; the admin request rule against each; the
 * Python (boto3 + urllib) and jest-worker suites that share one server.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request, type IncomingHttpHeaders } from 'node:http';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { CreateAliasCommand, CreateKeyCommand, DecryptCommand, DescribeKeyCommand, EncryptCommand, ListKeysCommand, ScheduleKeyDeletionCommand } from '@aws-sdk/client-kms';
import { CreateBucketCommand, GetObjectCommand, HeadBucketCommand, ListBucketsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { exportSnapshot, type Sealbox } from '@sealbox/cli';
import { inspectEvents } from '@sealbox/kms';
import { failure, kmsClient, runCommand, s3Client, startTestSealbox } from './helpers';

const BIN = join(__dirname, '..', '..', 'cli', 'dist', 'bin.js');
const FIXTURES = join(__dirname, 'fixtures');

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  ms: number;
}

/** A raw HTTP request: Host, Origin and Content-Type are exactly what is given. */
function call(url: string, method: string, headers: Record<string, string> = {}, body?: string, localAddress?: string): Promise<Answer> {
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers: { host: new URL(url).host, ...headers }, localAddress }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text, ms: Number(process.hrtime.bigint() - started) / 1e6 }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const post = (url: string, headers: Record<string, string> = {}, body?: string) => call(url, 'POST', headers, body);

/** Everything a reset must empty, as clients see it. */
async function contents(sealbox: Sealbox) {
  const kms = kmsClient(sealbox);
  const s3 = s3Client(sealbox);
  // Counted first: the ListKeys below is an event too.
  const events = inspectEvents(sealbox.kms!.core, 0, 100_000).events.length;
  return {
    events,
    keys: ((await kms.send(new ListKeysCommand({}))).Keys ?? []).map((k) => k.KeyId).sort(),
    buckets: ((await s3.send(new ListBucketsCommand({}))).Buckets ?? []).map((b) => b.Name),
    offsetSeconds: sealbox.clock.offsetSeconds,
  };
}

async function fill(sealbox: Sealbox, tag: string): Promise<string> {
  const kms = kmsClient(sealbox);
  const s3 = s3Client(sealbox);
  const key = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
  await kms.send(new CreateAliasCommand({ AliasName: `alias/${tag}`, TargetKeyId: key }));
  await s3.send(new CreateBucketCommand({ Bucket: tag }));
  await s3.send(new PutObjectCommand({ Bucket: tag, Key: 'o', Body: tag, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: key }));
  return key;
}

describe('POST /_sealbox/reset and POST /moto-api/reset', () => {
  let sealbox: Sealbox;
  let empty: Awaited<ReturnType<typeof contents>>;
  beforeAll(async () => {
    sealbox = await startTestSealbox({ allowHttpSseKms: true });
    empty = await contents(sealbox);
  });
  afterAll(() => sealbox.stop());

  const paths = () => [
    ['KMS', `${sealbox.kms!.url}/_sealbox/reset`],
    ['S3', `${sealbox.s3!.url}/_sealbox/reset`],
    ['KMS', `${sealbox.kms!.url}/moto-api/reset`],
    ['S3', `${sealbox.s3!.url}/moto-api/reset`],
  ];

  it.each([0, 1, 2, 3])('reset #%i empties both services, the event log and the clock, in milliseconds', async (i) => {
    const [, url] = paths()[i]!;
    await fill(sealbox, `fill-${i}`);
    await sealbox.clock.advance(3600);
    expect(await contents(sealbox)).not.toEqual(empty);
    // As a moto client sends it: no body, no Content-Type (requests.post(url)).
    const answer = await post(url!);
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toMatch(/^application\/json/);
    if (url!.endsWith('/moto-api/reset')) expect(answer.body).toBe('{"status": "ok"}');
    else expect(JSON.parse(answer.body)).toEqual({ status: 'ok' });
    expect(answer.ms).toBeLessThan(500);
    expect(await contents(sealbox)).toEqual(empty);
    expect(sealbox.clock.now().getTime() - Date.now()).toBeLessThan(1000);
  });

  it('leaves a bucket named moto-api to S3: its objects, and POST with a query string, are S3 operations', async () => {
    const s3 = s3Client(sealbox);
    await s3.send(new CreateBucketCommand({ Bucket: 'moto-api' }));
    await s3.send(new PutObjectCommand({ Bucket: 'moto-api', Key: 'reset', Body: 'an object' }));
    expect(await (await s3.send(new GetObjectCommand({ Bucket: 'moto-api', Key: 'reset' }))).Body!.transformToString()).toBe('an object');
    // The path with a query is no moto reset: S3 answers it (unsigned, so AccessDenied).
    const withQuery = await post(`${sealbox.s3!.url}/moto-api/reset?uploads`);
    expect(withQuery.status).toBe(403);
    expect(withQuery.body).toContain('<Code>AccessDenied</Code>');
    expect((await contents(sealbox)).buckets).toEqual(['moto-api']);
    await post(`${sealbox.s3!.url}/moto-api/reset`);
  });

  it('lets a request in flight finish against the state it started with', async () => {
    const s3 = s3Client(sealbox);
    await s3.send(new CreateBucketCommand({ Bucket: 'inflight' }));
    const body = new PassThrough();
    const size = 2 * 1024 * 1024;
    const put = s3.send(new PutObjectCommand({ Bucket: 'inflight', Key: 'big', Body: body, ContentLength: size }));
    body.write(Buffer.alloc(size / 2, 1));
    await new Promise((r) => setTimeout(r, 100));
    expect((await post(`${sealbox.kms!.url}/_sealbox/reset`)).status).toBe(200);
    body.end(Buffer.alloc(size / 2, 2));
    // Without the drain, the replaced S3 closed its store under the upload: a 500.
    expect((await put).$metadata.httpStatusCode).toBe(200);
    expect((await contents(sealbox)).buckets).toEqual([]);
  });

  it('resets a seeded sandbox to its seed', async () => {
    const seeded = await startTestSealbox({
      allowHttpSseKms: true,
      seed: join(FIXTURES, 'seed-demo.yaml'),
    });
    try {
      const before = await contents(seeded);
      expect(before.keys.length).toBeGreaterThan(0);
      await fill(seeded, 'extra');
      expect((await post(`${seeded.s3!.url}/moto-api/reset`)).status).toBe(200);
      expect(await contents(seeded)).toEqual(before);
    } finally {
      await seeded.stop();
    }
  });
});

describe('the admin request rule on the reset and snapshot endpoints', () => {
  let sealbox: Sealbox;
  beforeAll(async () => {
    sealbox = await startTestSealbox();
  });
  afterAll(() => sealbox.stop());

  const endpoints = () =>
    [sealbox.kms!.url, sealbox.s3!.url].flatMap((base) => [
      { url: `${base}/_sealbox/reset`, method: 'POST' },
      { url: `${base}/moto-api/reset`, method: 'POST' },
      { url: `${base}/_sealbox/snapshots/kept`, method: 'POST' },
      { url: `${base}/_sealbox/snapshots/kept/restore`, method: 'POST' },
      { url: `${base}/_sealbox/snapshots/kept`, method: 'DELETE' },
    ]);

  /** A key that a reset, a restore or a delete would make disappear. */
  async function withWitness(run: () => Promise<void>) {
    sealbox.snapshot('kept');
    const key = (await kmsClient(sealbox).send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    await run();
    expect((await kmsClient(sealbox).send(new DescribeKeyCommand({ KeyId: key }))).KeyMetadata!.KeyId).toBe(key);
    expect(sealbox.listSnapshots().snapshots.map((s) => s.name)).toEqual(['kept']);
  }

  it.each([
    ['a foreign Origin', { origin: 'http://evil.example' }, 403, 'origin'],
    ['Origin null', { origin: 'null' }, 403, 'origin'],
    ["Sealbox's own origin", { origin: 'http://127.0.0.1' }, 403, 'origin'],
    ['a foreign Host (DNS rebinding)', { host: 'evil.example' }, 403, 'host'],
    ['text/plain without a body', { 'content-type': 'text/plain' }, 415, 'content-type'],
    ['a form without a body', { 'content-type': 'application/x-www-form-urlencoded' }, 415, 'content-type'],
    ['a body without Content-Type', { 'content-length': '2' }, 415, 'content-type'],
  ])('refuses %s and changes nothing', async (_name, headers, status, rule) => {
    await withWitness(async () => {
      for (const endpoint of endpoints()) {
        const body = 'content-length' in headers ? '{}' : undefined;
        const answer = await call(endpoint.url, endpoint.method, headers as Record<string, string>, body);
        expect([endpoint.method, endpoint.url, answer.status]).toEqual([endpoint.method, endpoint.url, status]);
        expect(JSON.parse(answer.body)).toMatchObject({ rule });
        expect(Object.keys(answer.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
      }
    });
  });

  it('refuses the CORS preflight a page would need', async () => {
    for (const endpoint of endpoints()) {
      const answer = await call(endpoint.url, 'OPTIONS', { origin: 'http://evil.example', 'access-control-request-method': endpoint.method });
      // moto's path is S3's on the S3 port (a preflight for an object of a bucket moto-api, refused
      // without its CORS rules) and no operation on KMS's; /_sealbox/ paths refuse every preflight.
      if (endpoint.url.includes('/moto-api/')) expect([endpoint.url, answer.status >= 400]).toEqual([endpoint.url, true]);
      else expect([endpoint.url, answer.status]).toEqual([endpoint.url, 403]);
      expect(Object.keys(answer.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
    }
  });

  it('accepts an application/json body (ignored) as well as none', async () => {
    sealbox.snapshot('kept');
    const answer = await post(`${sealbox.kms!.url}/_sealbox/reset`, { 'content-type': 'application/json' }, '{}');
    expect(answer.status).toBe(200);
    sealbox.deleteSnapshot('kept');
  });

  it('answers 409 on a Sealbox with a data directory, which it would not wipe', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sealbox-reset-dir-'));
    const onDisk = await startTestSealbox({ dataDir: dir });
    try {
      for (const url of [`${onDisk.kms!.url}/_sealbox/reset`, `${onDisk.s3!.url}/moto-api/reset`, `${onDisk.kms!.url}/_sealbox/snapshots/a`]) {
        const answer = await post(url);
        expect([url, answer.status]).toEqual([url, 409]);
        expect(JSON.parse(answer.body).error).toMatch(/in-memory Sealbox \(sealbox start --in-memory\); this one keeps its state in /);
      }
    } finally {
      await onDisk.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** The machine's first non-loopback IPv4 address, if it has one. */
const external = Object.values(networkInterfaces())
  .flat()
  .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;

// Without a non-loopback interface there is no other address to come from.
(external ? describe : describe.skip)('from a non-loopback address', () => {
  it.each([false, true])('refuses reset and snapshots unless allowRemoteAdmin (%s)', async (allowRemoteAdmin) => {
    const sealbox = await startTestSealbox({ host: '0.0.0.0', allowRemoteAdmin });
    try {
      await kmsClient(sealbox).send(new CreateKeyCommand({}));
      for (const path of ['/_sealbox/reset', '/moto-api/reset', '/_sealbox/snapshots/x']) {
        const url = `http://${external!}:${sealbox.kms!.port}${path}`;
        const answer = await call(url, 'POST', {}, undefined, external);
        expect([path, answer.status]).toEqual([path, allowRemoteAdmin ? 200 : 403]);
        if (!allowRemoteAdmin) expect(JSON.parse(answer.body)).toMatchObject({ rule: 'loopback' });
      }
      expect((await contents(sealbox)).keys).toHaveLength(allowRemoteAdmin ? 0 : 1);
    } finally {
      await sealbox.stop();
    }
  });
});

describe('snapshots over HTTP', () => {
  let sealbox: Sealbox;
  beforeAll(async () => {
    sealbox = await startTestSealbox({ allowHttpSseKms: true, snapshotLimits: { count: 3 } });
  });
  afterAll(() => sealbox.stop());
  const at = (path: string) => `${sealbox.s3!.url}${path}`;

  it('saves, lists, restores (again and again) and deletes named states, clock included', async () => {
    const kms = kmsClient(sealbox);
    const s3 = s3Client(sealbox);
    await fill(sealbox, 'fixture');
    const key = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: key, PendingWindowInDays: 7 }));
    const saved = await post(at('/_sealbox/snapshots/built'));
    expect(saved.status).toBe(200);
    const info = JSON.parse(saved.body);
    expect(info).toEqual({ name: 'built', created: expect.any(String), bytes: expect.any(Number) });
    const state = await contents(sealbox);

    for (let round = 0; round < 2; round++) {
      // Time passes: the key's deletion window ends and it is deleted; more is created.
      await sealbox.clock.advance(8 * 86400);
      expect((await failure(kms.send(new DescribeKeyCommand({ KeyId: key })))).name).toBe('NotFoundException');
      await fill(sealbox, `later-${round}`);
      const restored = await post(`${sealbox.kms!.url}/_sealbox/snapshots/built/restore`);
      expect([restored.status, restored.body]).toEqual([200, '{"status":"ok"}']);
      expect(restored.ms).toBeLessThan(500);
      expect(await contents(sealbox)).toEqual(state);
      expect((await kms.send(new DescribeKeyCommand({ KeyId: key }))).KeyMetadata!.KeyState).toBe('PendingDeletion');
      expect(await (await s3.send(new GetObjectCommand({ Bucket: 'fixture', Key: 'o' }))).Body!.transformToString()).toBe('fixture');
    }

    const list = await call(at('/_sealbox/snapshots'), 'GET');
    expect(JSON.parse(list.body)).toEqual({ snapshots: [info], limits: { count: 3, bytes: 1024 * 1024 * 1024 } });
    expect((await call(at('/_sealbox/snapshots/built'), 'DELETE')).status).toBe(204);
    const gone = await post(at('/_sealbox/snapshots/built/restore'));
    expect([gone.status, JSON.parse(gone.body)]).toEqual([404, { error: 'there is no snapshot named built' }]);
    expect((await call(at('/_sealbox/snapshots/built'), 'DELETE')).status).toBe(404);
    // A reset still goes to the starting state, not to a snapshot.
    await post(at('/_sealbox/reset'));
    expect((await contents(sealbox)).keys).toEqual([]);
  });

  it('keeps at most the configured number, replacing one of the same name', async () => {
    for (const { name } of sealbox.listSnapshots().snapshots) sealbox.deleteSnapshot(name);
    for (const name of ['a', 'b', 'c']) expect((await post(at(`/_sealbox/snapshots/${name}`))).status).toBe(200);
    expect((await post(at('/_sealbox/snapshots/a'))).status).toBe(200);
    const over = await post(at('/_sealbox/snapshots/d'));
    expect([over.status, JSON.parse(over.body)]).toEqual([409, { error: 'a sandbox keeps at most 3 snapshots; delete one first (DELETE /_sealbox/snapshots/NAME)' }]);
    for (const name of ['a', 'b', 'c']) sealbox.deleteSnapshot(name);
  });

  it('refuses names that are not 1 to 64 letters, digits, dots, dashes and underscores', async () => {
    for (const name of ['.hidden', 'a'.repeat(65), 'a%20b', 'a:b', '%C3%A9t%C3%A9']) {
      const answer = await post(at(`/_sealbox/snapshots/${name}`));
      expect([name, answer.status]).toEqual([name, 400]);
    }
  });

  it('bounds the bytes the snapshots hold together', async () => {
    const small = await startTestSealbox({ allowHttpSseKms: true, snapshotLimits: { bytes: 1024 * 1024 } });
    try {
      await s3Client(small).send(new CreateBucketCommand({ Bucket: 'big' }));
      expect((await post(`${small.s3!.url}/_sealbox/snapshots/first`)).status).toBe(200);
      await s3Client(small).send(new PutObjectCommand({ Bucket: 'big', Key: 'b', Body: Buffer.alloc(1024 * 1024) }));
      const over = await post(`${small.s3!.url}/_sealbox/snapshots/second`);
      expect(over.status).toBe(409);
      expect(JSON.parse(over.body).error).toMatch(/^snapshots may hold at most 1048576 bytes together/);
    } finally {
      await small.stop();
    }
  });
});

describe('starting from a sealbox export archive', () => {
  const root = mkdtempSync(join(tmpdir(), 'sealbox-start-archive-'));
  const archive = join(root, 'fixture.tgz');
  const sealed = join(root, 'sealed.tgz');
  let keyId: string;
  let ciphertext: Uint8Array;

  beforeAll(async () => {
    const dataDir = join(root, 'built');
    const source = await startTestSealbox({ dataDir, allowHttpSseKms: true });
    try {
      keyId = await fill(source, 'archived');
      ciphertext = (await kmsClient(source).send(new EncryptCommand({ KeyId: 'alias/archived', Plaintext: Buffer.from('secret') }))).CiphertextBlob!;
    } finally {
      await source.stop();
    }
    await exportSnapshot({ dataDir, file: archive, sealboxVersion: 'test' });
    await exportSnapshot({ dataDir, file: sealed, sealboxVersion: 'test', passphrase: 'open sesame' });
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  async function expectArchived(sealbox: Sealbox) {
    const kms = kmsClient(sealbox);
    expect((await kms.send(new DescribeKeyCommand({ KeyId: 'alias/archived' }))).KeyMetadata!.KeyId).toBe(keyId);
    expect(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob: ciphertext }))).Plaintext!).toString()).toBe('secret');
    expect(await (await s3Client(sealbox).send(new GetObjectCommand({ Bucket: 'archived', Key: 'o' }))).Body!.transformToString()).toBe('archived');
  }

  it('serves the archive in memory, and reset returns to it', async () => {
    const started = process.hrtime.bigint();
    const sealbox = await startTestSealbox({ snapshot: archive, allowHttpSseKms: true });
    try {
      expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(5000);
      expect(sealbox.dataDir).toBeUndefined();
      await expectArchived(sealbox);
      await fill(sealbox, 'added');
      await s3Client(sealbox).send(new PutObjectCommand({ Bucket: 'archived', Key: 'o', Body: 'overwritten' }));
      expect((await post(`${sealbox.kms!.url}/_sealbox/reset`)).status).toBe(200);
      await expectArchived(sealbox);
      expect((await failure(s3Client(sealbox).send(new HeadBucketCommand({ Bucket: 'added' })))).name).toBe('NotFound');
    } finally {
      await sealbox.stop();
    }
  });

  it('opens a sealed archive with its passphrase, and fails before listening without it', async () => {
    await expect(startTestSealbox({ snapshot: sealed })).rejects.toThrow(/sealed with a passphrase/);
    const sealbox = await startTestSealbox({ snapshot: sealed, snapshotPassphrase: 'open sesame', allowHttpSseKms: true });
    try {
      await expectArchived(sealbox);
    } finally {
      await sealbox.stop();
    }
  });

  it('sealbox start --snapshot FILE serves it, in memory', async () => {
    const child = spawn(process.execPath, [BIN, 'start', '--no-tls', '--snapshot', archive, '--kms-port', '0', '--s3-port', '0', '--no-console', '--json', '--allow-http-sse-kms'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (c: Buffer) => {
          out += c.toString();
          if (out.includes('\n')) resolve(out.split('\n')[0]!);
        });
        child.on('exit', (code) => reject(new Error(`exited ${code}`)));
      });
      const endpoints = JSON.parse(line) as { kms: string; s3: string };
      const fake = { kms: { url: endpoints.kms, core: undefined }, s3: { url: endpoints.s3 } } as unknown as Sealbox;
      await expectArchived(fake);
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('refuses --snapshot with --data-dir, and a file that is no archive', async () => {
    const both = await runCommand(process.execPath, [BIN, 'start', '--no-tls', '--snapshot', archive, '--data-dir', root], {});
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('--snapshot starts an in-memory Sealbox from the archive');
    await expect(startTestSealbox({ snapshot: join(FIXTURES, 'seed-demo.yaml') })).rejects.toThrow(/is not a Sealbox snapshot/);
    expect(readFileSync(archive).length).toBeGreaterThan(0);
  });
});

describe('suites that share one server', () => {
  it('a moto server-mode suite (pytest, boto3, urllib) runs unchanged against sealbox start', async () => {
    const child = spawn(process.execPath, [BIN, 'start', '--no-tls', '--in-memory', '--kms-port', '0', '--s3-port', '0', '--no-console', '--json', '--allow-http-sse-kms', '--quiet'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const endpoints = JSON.parse(await firstLine(child)) as { kms: string; s3: string };
      const suite = await runCommand('python3', ['-m', 'pytest', '-q', '-p', 'no:cacheprovider', join(FIXTURES, 'moto-server-suite')], {
        AWS_ENDPOINT_URL_KMS: endpoints.kms,
        AWS_ENDPOINT_URL_S3: endpoints.s3,
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        AWS_DEFAULT_REGION: 'us-east-1',
      });
      expect([suite.code, suite.stdout + suite.stderr]).toEqual([0, expect.stringMatching(/5 passed/)]);
    } finally {
      child.kill('SIGTERM');
    }
  }, 60_000);

  it('parallel jest workers reset the one sandbox globalSetup started', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sealbox-jest-workers-'));
    const log = join(dir, 'workers.jsonl');
    try {
      // A fresh cache: with timings from an earlier run, jest would run the two files in band.
      const jest = join(__dirname, '..', '..', '..', 'node_modules', 'jest', 'bin', 'jest.js');
      const run = await runCommand(process.execPath, [jest, '--config', join(FIXTURES, 'jest-workers', 'jest.config.js'), '--cacheDirectory', join(dir, 'cache')], { SEALBOX_WORKERS_LOG: log });
      expect([run.code, run.stderr]).toEqual([0, expect.stringMatching(/Tests:\s+16 passed, 16 total/)]);
      const rounds = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { worker: string; pid: number; kms: string; ms: number });
      expect(rounds).toHaveLength(16);
      // Two worker processes, one server.
      expect(new Set(rounds.map((r) => r.pid)).size).toBe(2);
      expect(new Set(rounds.map((r) => r.kms)).size).toBe(1);
      expect(Math.max(...rounds.map((r) => r.ms))).toBeLessThan(1000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});

function firstLine(child: ReturnType<typeof spawn>): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('\n')) resolve(out.split('\n')[0]!);
    });
    child.on('exit', (code) => reject(new Error(`sealbox start exited ${code}`)));
  });
}

describe("the documented reset and snapshot commands (docs/admin-endpoints.md)", () => {
  it('run as written, with curl', async () => {
    const sealbox = await startTestSealbox();
    try {
      const readme = readFileSync(join(__dirname, '..', '..', '..', 'docs', 'admin-endpoints.md'), 'utf8');
      const commands = readme
        .split('\n')
        .filter((line) => /^curl -X (POST|DELETE) http:\/\/127\.0\.0\.1:45(99|72)\/_sealbox\/(reset|snapshots)/.test(line))
        .map((line) => line.replace(/\s+#.*$/, ''));
      expect(commands).toHaveLength(4);
      const key = (await kmsClient(sealbox).send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
      const answers: string[] = [];
      for (const command of commands) {
        const pointed = command.replace('http://127.0.0.1:4599', sealbox.kms!.url).replace('http://127.0.0.1:4572', sealbox.s3!.url).replace(/^curl /, 'curl -sS --fail-with-body ');
        const result = await runCommand('sh', ['-c', pointed], {});
        expect([command, result.code, result.stderr]).toEqual([command, 0, '']);
        answers.push(result.stdout);
        // After the save, a key that the restore must take away again.
        if (command.startsWith('curl -X POST') && command.endsWith('/fixture')) await kmsClient(sealbox).send(new CreateKeyCommand({}));
      }
      expect(answers[0]).toBe('{"status":"ok"}');
      expect((await contents(sealbox)).keys).toHaveLength(0);
      expect((await failure(kmsClient(sealbox).send(new DescribeKeyCommand({ KeyId: key })))).name).toBe('NotFoundException');
      expect(sealbox.listSnapshots().snapshots).toEqual([]);
    } finally {
      await sealbox.stop();
    }
  });
});
