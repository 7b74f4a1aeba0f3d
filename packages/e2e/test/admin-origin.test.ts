/**
 * Sealbox's admin endpoints against the requests a hostile web page can make (issue 14): simple
 * cross-origin POSTs (text/plain, forms, multipart, no content type), DNS rebinding (a foreign
 * Host), foreign and null Origins, CORS preflights; each against every state-changing endpoint of
 * KMS, S3 and the console, asserting the refusal and that nothing changed. Then the legitimate
 * paths: `sealbox seed`, curl with JSON (the README's own commands), --allow-host, and the
 * loopback-only rule of POST /_sealbox/seed from a non-loopback address.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request, type IncomingHttpHeaders } from 'node:http';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateAliasCommand, CreateKeyCommand, DescribeKeyCommand, ListKeysCommand } from '@aws-sdk/client-kms';
import { parseStartOptions, UsageError, type Sealbox, type StartOptions } from '@sealbox/cli';
import { failure, kmsClient, runCommand, startTestSealbox } from './helpers';

const BIN = join(__dirname, '..', '..', 'cli', 'dist', 'bin.js');
/** The pages whose curl lines advance the clock: each must keep at least one, as it writes it. */
const CLOCK_PAGES = ['admin-endpoints.md', 'kms.md'].map((page) => join(__dirname, '..', '..', '..', 'docs', page));

/** The key an attacker would plant: known material, under an alias that exists already. */
const ATTACK_KEY = '5e1f0c55-3a1e-4c3b-9d7e-2b8f1a4c5d99';
const ATTACK_SEED = JSON.stringify({
  keys: [
    {
      at: 'attack',
      id: ATTACK_KEY,
      account: '000000000000',
      region: 'us-east-1',
      spec: 'SYMMETRIC_DEFAULT',
      material: [Buffer.alloc(32, 7).toString('base64')],
      aliases: [{ at: 'attack', name: 'alias/planted' }],
    },
  ],
});
const ADVANCE = '{"advanceSeconds": 2678400}';
/** A fault rule a page would add: every Encrypt throttled. */
const FAULT = JSON.stringify({ service: 'kms', operation: 'Encrypt', error: 'ThrottlingException' });

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A raw HTTP request, so Host, Origin and Content-Type are exactly what a browser would send. */
function call(url: string, method: string, headers: Record<string, string>, body?: string, localAddress?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, localAddress }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const allowHeaders = (a: Answer) => Object.keys(a.headers).filter((h) => h.startsWith('access-control-'));
const hostOf = (url: string) => new URL(url).host;

describe('admin endpoints against a hostile web page', () => {
  let sealbox: Sealbox;
  let keysBefore: number;

  beforeAll(async () => {
    sealbox = await startTestSealbox({ consolePort: 0 });
    const kms = kmsClient(sealbox);
    const key = await kms.send(new CreateKeyCommand({}));
    await kms.send(new CreateAliasCommand({ AliasName: 'alias/payroll', TargetKeyId: key.KeyMetadata!.KeyId }));
    keysBefore = (await kms.send(new ListKeysCommand({}))).Keys!.length;
  });
  afterAll(() => sealbox.stop());

  async function expectNothingChanged(): Promise<void> {
    expect(sealbox.clock.offsetSeconds).toBe(0);
    const kms = kmsClient(sealbox);
    expect((await kms.send(new ListKeysCommand({}))).Keys).toHaveLength(keysBefore);
    expect((await failure(kms.send(new DescribeKeyCommand({ KeyId: ATTACK_KEY })))).name).toBe('NotFoundException');
    expect((await failure(kms.send(new DescribeKeyCommand({ KeyId: 'alias/planted' })))).name).toBe('NotFoundException');
    expect(sealbox.faults.list()).toEqual([]);
  }

  /** Every state-changing endpoint; the console has none, so it refuses every method but GET and HEAD. */
  const endpoints = () => [
    { name: 'KMS POST /_sealbox/clock', url: `${sealbox.kms!.url}/_sealbox/clock`, body: ADVANCE, console: false },
    { name: 'S3 POST /_sealbox/clock', url: `${sealbox.s3!.url}/_sealbox/clock`, body: ADVANCE, console: false },
    { name: 'KMS POST /_sealbox/seed', url: `${sealbox.kms!.url}/_sealbox/seed`, body: ATTACK_SEED, console: false },
    { name: 'KMS POST /_sealbox/faults', url: `${sealbox.kms!.url}/_sealbox/faults`, body: FAULT, console: false },
    { name: 'S3 POST /_sealbox/faults', url: `${sealbox.s3!.url}/_sealbox/faults`, body: FAULT, console: false },
    ...['/api/keys', '/api/overview', '/api/events', '/'].map((path) => ({ name: `console POST ${path}`, url: `${sealbox.console!.url}${path}`, body: ADVANCE, console: true })),
  ];

  // What a page can send with no preflight: a form, fetch(url, {mode: 'no-cors'}), sendBeacon.
  // Browsers add Origin to such POSTs, but older ones and some navigations do not: the content
  // type alone must be enough.
  const simple: [string, Record<string, string>][] = [
    ['text/plain', { 'content-type': 'text/plain;charset=UTF-8' }],
    ['application/x-www-form-urlencoded', { 'content-type': 'application/x-www-form-urlencoded' }],
    ['multipart/form-data', { 'content-type': 'multipart/form-data; boundary=----x' }],
    ['no content type', {}],
  ];

  it.each(simple)('refuses a simple POST with %s to every state-changing endpoint, changing nothing', async (_name, headers) => {
    for (const endpoint of endpoints()) {
      const answer = await call(endpoint.url, 'POST', { host: hostOf(endpoint.url), ...headers }, endpoint.body);
      expect([endpoint.name, answer.status]).toEqual([endpoint.name, endpoint.console ? 405 : 415]);
      if (!endpoint.console) expect(JSON.parse(answer.body)).toMatchObject({ rule: 'content-type' });
      expect(allowHeaders(answer)).toEqual([]);
      // The same request as a browser sends it, with the page's Origin: refused for that too.
      const withOrigin = await call(endpoint.url, 'POST', { host: hostOf(endpoint.url), origin: 'http://evil.example', ...headers }, endpoint.body);
      expect([endpoint.name, withOrigin.status, JSON.parse(withOrigin.body).rule]).toEqual([endpoint.name, 403, 'origin']);
    }
    await expectNothingChanged();
  });

  it.each([
    ['a foreign Host (DNS rebinding)', { host: 'evil.example:4599' }, 'host'],
    ['a foreign Host without port', { host: 'evil.example' }, 'host'],
    ['Origin http://evil.example', { origin: 'http://evil.example' }, 'origin'],
    ['Origin null', { origin: 'null' }, 'origin'],
  ])('refuses a JSON POST with %s to every state-changing endpoint, changing nothing', async (_name, headers, rule) => {
    for (const endpoint of endpoints()) {
      const answer = await call(endpoint.url, 'POST', { host: hostOf(endpoint.url), 'content-type': 'application/json', ...headers }, endpoint.body);
      expect([endpoint.name, answer.status]).toEqual([endpoint.name, 403]);
      expect(JSON.parse(answer.body)).toEqual({ error: expect.stringMatching(new RegExp(`^${rule}: `)), rule });
      expect(allowHeaders(answer)).toEqual([]);
    }
    await expectNothingChanged();
  });

  it('refuses the CORS preflight a JSON POST from a page needs, with no Access-Control-Allow-* header', async () => {
    for (const endpoint of endpoints()) {
      for (const origin of ['http://evil.example', 'null', new URL(endpoint.url).origin]) {
        const answer = await call(endpoint.url, 'OPTIONS', { host: hostOf(endpoint.url), origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' });
        expect([endpoint.name, origin, answer.status]).toEqual([endpoint.name, origin, 403]);
        expect(JSON.parse(answer.body)).toMatchObject({ rule: 'cors-preflight' });
        expect(allowHeaders(answer)).toEqual([]);
      }
    }
    await expectNothingChanged();
  });

  it('refuses a page served by S3 itself (an HTML object) and the console page on KMS and S3', async () => {
    for (const { url, body } of endpoints().filter((e) => !e.console)) {
      for (const origin of [sealbox.s3!.url, sealbox.console!.url, sealbox.kms!.url]) {
        const answer = await call(url, 'POST', { host: hostOf(url), origin, 'content-type': 'application/json' }, body);
        expect([url, origin, answer.status]).toEqual([url, origin, 403]);
      }
    }
    await expectNothingChanged();
  });

  it('keeps GET clock and health readable from any Host, never with Access-Control-Allow-Origin', async () => {
    for (const base of [sealbox.kms!.url, sealbox.s3!.url]) {
      for (const path of ['/_sealbox/clock', '/_sealbox/health']) {
        const answer = await call(`${base}${path}`, 'GET', { host: 'sealbox:4599', origin: 'http://evil.example' });
        expect(answer.status).toBe(200);
        expect(allowHeaders(answer)).toEqual([]);
      }
    }
  });

  it('leaves virtual-hosted requests to S3: bucket.localhost/_sealbox/clock is an object key', async () => {
    const host = `my-bucket.localhost:${sealbox.s3!.port}`;
    const post = await call(`${sealbox.s3!.url}/_sealbox/clock`, 'POST', { host, 'content-type': 'text/plain' }, ADVANCE);
    expect(post.body).toMatch(/^<\?xml/);
    const preflight = await call(`${sealbox.s3!.url}/_sealbox/clock`, 'OPTIONS', { host, origin: 'http://evil.example', 'access-control-request-method': 'PUT' });
    // S3's own answer to a preflight for a bucket that does not exist, not the admin refusal.
    expect(preflight.body).toMatch(/^<\?xml/);
    expect(preflight.body).not.toContain('cors-preflight');
    await expectNothingChanged();
  });

  it("the console's own page may read its API; a foreign Origin or Host may not", async () => {
    const own = await call(`${sealbox.console!.url}/api/overview`, 'GET', { host: hostOf(sealbox.console!.url), origin: sealbox.console!.url });
    expect(own.status).toBe(200);
    expect(allowHeaders(own)).toEqual([]);
    const foreign = await call(`${sealbox.console!.url}/api/overview`, 'GET', { host: hostOf(sealbox.console!.url), origin: 'http://evil.example' });
    expect(foreign.status).toBe(403);
    expect(JSON.parse(foreign.body)).toMatchObject({ rule: 'origin' });
    const rebound = await call(`${sealbox.console!.url}/api/overview`, 'GET', { host: `evil.example:${sealbox.console!.port}` });
    expect(JSON.parse(rebound.body)).toMatchObject({ rule: 'host' });
  });

  it('still takes the JSON POSTs of curl and of sealbox seed', async () => {
    // The documentation's commands, as it writes them, pointed at this Sealbox.
    const commands = CLOCK_PAGES.flatMap((page) => {
      const found = readFileSync(page, 'utf8').split('\n').filter((line) => /^curl -X POST .*\/_sealbox\/clock$/.test(line));
      expect([page, found.length]).toEqual([page, 1]);
      return found;
    });
    let seconds = 0;
    for (const command of commands) {
      expect(command).toContain("-H 'Content-Type: application/json'");
      const result = await runCommand('sh', ['-c', command.replace('http://127.0.0.1:4599', sealbox.kms!.url).replace(/^curl /, 'curl -sS --fail-with-body ')], {});
      expect([command, result.code, result.stderr]).toEqual([command, 0, '']);
      seconds += Number(/"advanceSeconds": (\d+)/.exec(command)![1]);
      expect(JSON.parse(result.stdout)).toMatchObject({ offsetSeconds: seconds });
    }
    // The same on the S3 port.
    const s3 = await runCommand('curl', ['-sS', '--fail-with-body', '-X', 'POST', '-H', 'Content-Type: application/json', '-d', '{"advanceSeconds": 1}', `${sealbox.s3!.url}/_sealbox/clock`], {});
    expect(JSON.parse(s3.stdout)).toMatchObject({ offsetSeconds: seconds + 1 });

    const dir = mkdtempSync(join(tmpdir(), 'sealbox-admin-origin-'));
    try {
      const id = '4d0e1b55-3a1e-4c3b-9d7e-2b8f1a4c5d98';
      const file = join(dir, 'seed.yaml');
      writeFileSync(file, `keys:\n  - id: ${id}\n    aliases: [alias/seeded]\n`);
      const seeded = await runCommand(process.execPath, [BIN, 'seed', file, '--endpoint-kms', sealbox.kms!.url, '--endpoint-s3', sealbox.s3!.url, '--json'], {});
      expect([seeded.code, seeded.stderr]).toEqual([0, '']);
      expect(JSON.parse(seeded.stdout)).toEqual({ created: [`key ${id} (000000000000, us-east-1)`, 'alias/seeded (000000000000, us-east-1)'], skipped: [] });
      expect((await kmsClient(sealbox).send(new DescribeKeyCommand({ KeyId: 'alias/seeded' }))).KeyMetadata!.KeyId).toBe(id);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** The machine's first non-loopback IPv4 address, if it has one. */
function nonLoopbackAddress(): string | undefined {
  return Object.values(networkInterfaces())
    .flat()
    .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
}

const external = nonLoopbackAddress();

// Without a non-loopback interface (a network-less container) there is no other address to come
// from; every machine that runs the suite in CI has one.
(external ? describe : describe.skip)('a Sealbox listening on 0.0.0.0, reached at the machine address', () => {
  let sealbox: Sealbox;
  beforeAll(async () => {
    sealbox = await startTestSealbox({ host: '0.0.0.0' });
  });
  afterAll(() => sealbox.stop());

  const at = (path: string) => `http://${external!}:${sealbox.kms!.port}${path}`;

  it('refuses POST /_sealbox/seed from a non-loopback address, even as valid JSON with the right Host', async () => {
    const answer = await call(at('/_sealbox/seed'), 'POST', { host: `${external!}:${sealbox.kms!.port}`, 'content-type': 'application/json' }, ATTACK_SEED, external);
    expect(answer.status).toBe(403);
    expect(JSON.parse(answer.body)).toEqual({ error: 'loopback: POST /_sealbox/seed is accepted only from the loopback interface', rule: 'loopback' });
    expect((await failure(kmsClient(sealbox).send(new DescribeKeyCommand({ KeyId: ATTACK_KEY })))).name).toBe('NotFoundException');
    // From loopback, the same request plants the key: the refusal above was the loopback rule's.
    const local = await call(`http://127.0.0.1:${sealbox.kms!.port}/_sealbox/seed`, 'POST', { host: `127.0.0.1:${sealbox.kms!.port}`, 'content-type': 'application/json' }, ATTACK_SEED);
    expect(local.status).toBe(200);
    expect((await kmsClient(sealbox).send(new DescribeKeyCommand({ KeyId: 'alias/planted' }))).KeyMetadata!.KeyId).toBe(ATTACK_KEY);
  });

  it('refuses POST and DELETE /_sealbox/faults from a non-loopback address, on KMS and S3', async () => {
    for (const port of [sealbox.kms!.port, sealbox.s3!.port]) {
      const url = `http://${external!}:${port}/_sealbox/faults`;
      const headers = { host: `${external!}:${port}`, 'content-type': 'application/json' };
      for (const [method, body] of [['POST', FAULT], ['DELETE', undefined]] as const) {
        const answer = await call(url, method, method === 'POST' ? headers : { host: headers.host }, body, external);
        expect([url, method, answer.status, JSON.parse(answer.body).rule]).toEqual([url, method, 403, 'loopback']);
      }
    }
    expect(sealbox.faults.list()).toEqual([]);
    // From loopback, the same requests add a rule and remove it: the refusals above were the loopback rule's.
    const local = `http://127.0.0.1:${sealbox.kms!.port}/_sealbox/faults`;
    expect((await call(local, 'POST', { host: `127.0.0.1:${sealbox.kms!.port}`, 'content-type': 'application/json' }, FAULT)).status).toBe(201);
    expect(sealbox.faults.list()).toHaveLength(1);
    expect((await call(local, 'DELETE', { host: `127.0.0.1:${sealbox.kms!.port}` })).status).toBeLessThan(300);
    expect(sealbox.faults.list()).toEqual([]);
  });

  it('takes the machine address it was reached at as Host, and still refuses a foreign one', async () => {
    const ok = await call(at('/_sealbox/clock'), 'POST', { host: `${external!}:${sealbox.kms!.port}`, 'content-type': 'application/json' }, '{"advanceSeconds": 5}', external);
    expect(ok.status).toBe(200);
    const rebound = await call(at('/_sealbox/clock'), 'POST', { host: `evil.example:${sealbox.kms!.port}`, 'content-type': 'application/json' }, '{"advanceSeconds": 5}', external);
    expect(rebound.status).toBe(403);
    expect(sealbox.clock.offsetSeconds).toBe(5);
  });
});

describe('--allow-host', () => {
  it('adds names the admin endpoints and the console accept as Host', async () => {
    const sealbox = await startTestSealbox({ consolePort: 0, allowHosts: ['sealbox'] });
    try {
      for (const url of [`${sealbox.kms!.url}/_sealbox/clock`, `${sealbox.s3!.url}/_sealbox/clock`]) {
        expect((await call(url, 'POST', { host: `sealbox:${new URL(url).port}`, 'content-type': 'application/json' }, '{"advanceSeconds": 1}')).status).toBe(200);
        expect((await call(url, 'POST', { host: 'sealbox.evil.example', 'content-type': 'application/json' }, '{"advanceSeconds": 1}')).status).toBe(403);
      }
      expect(sealbox.clock.offsetSeconds).toBe(2);
      expect((await call(`${sealbox.console!.url}/api/overview`, 'GET', { host: 'sealbox' })).status).toBe(200);
      expect((await call(`${sealbox.console!.url}/api/overview`, 'GET', { host: 'other' })).status).toBe(403);
    } finally {
      await sealbox.stop();
    }
  });

  it('is parsed from sealbox start, repeatable, a name or address without port', () => {
    expect((parseStartOptions(['--allow-host', 'sealbox', '--allow-host', '10.0.0.5']) as StartOptions).allowHosts).toEqual(['sealbox', '10.0.0.5']);
    expect((parseStartOptions([]) as StartOptions).allowHosts).toEqual([]);
    for (const bad of ['sealbox:4599', '*', 'http://sealbox', '']) {
      expect(() => parseStartOptions(['--allow-host', bad])).toThrow(UsageError);
      expect(() => parseStartOptions(['--allow-host', bad])).toThrow(`--allow-host takes a host name or IP address without port, got '${bad}'`);
    }
  });
});
