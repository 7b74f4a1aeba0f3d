import { request, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import express from 'express';
import { adminRouter, checkAdminRequest, hostName, listen, VirtualClock, type AdminRequestRules, type RunningServer } from '../src';

/** Only what checkAdminRequest reads of a request. */
function fakeRequest(method: string, headers: IncomingHttpHeaders, socket: { localAddress?: string; encrypted?: boolean } = { localAddress: '127.0.0.1' }): IncomingMessage {
  return { method, url: '/_sealbox/clock', headers, socket } as unknown as IncomingMessage;
}

const JSON_POST = { host: '127.0.0.1:4599', 'content-type': 'application/json' };
const STATE: AdminRequestRules = { changesState: true, hosts: ['127.0.0.1'] };

describe('checkAdminRequest', () => {
  it.each([
    // The requests a web page can send without asking (CORS "simple" requests).
    ['text/plain', { ...JSON_POST, 'content-type': 'text/plain' }, 415, 'content-type'],
    ['text/plain with a charset', { ...JSON_POST, 'content-type': 'text/plain;charset=UTF-8' }, 415, 'content-type'],
    ['a form', { ...JSON_POST, 'content-type': 'application/x-www-form-urlencoded' }, 415, 'content-type'],
    ['a multipart form', { ...JSON_POST, 'content-type': 'multipart/form-data; boundary=x' }, 415, 'content-type'],
    ['no content type', { host: '127.0.0.1:4599' }, 415, 'content-type'],
    ['JSON in a parameter of another type', { ...JSON_POST, 'content-type': 'text/plain; x=application/json' }, 415, 'content-type'],
    // DNS rebinding: the page's own name as Host.
    ['a foreign Host', { ...JSON_POST, host: 'evil.example:4599' }, 403, 'host'],
    ['a foreign Host without port', { ...JSON_POST, host: 'evil.example' }, 403, 'host'],
    ['a name beginning with localhost', { ...JSON_POST, host: 'localhost.evil.example:4599' }, 403, 'host'],
    ['a name beginning with the loopback address', { ...JSON_POST, host: '127.0.0.1.evil.example' }, 403, 'host'],
    ['a subdomain of localhost', { ...JSON_POST, host: 'x.localhost:4599' }, 403, 'host'],
    ['userinfo in the Host', { ...JSON_POST, host: 'localhost@evil.example' }, 403, 'host'],
    ['a Host with a path', { ...JSON_POST, host: 'localhost/evil' }, 403, 'host'],
    ['another address than the one reached', { ...JSON_POST, host: '10.1.2.3:4599' }, 403, 'host'],
    ['no Host', { 'content-type': 'application/json' }, 403, 'host'],
    ['an empty Host', { ...JSON_POST, host: '' }, 403, 'host'],
    ['a bracketed name', { ...JSON_POST, host: '[evil.example]:4599' }, 403, 'host'],
    // Pages sending from anywhere, even from an allowed address.
    ['a foreign Origin', { ...JSON_POST, origin: 'http://evil.example' }, 403, 'origin'],
    ['Origin null', { ...JSON_POST, origin: 'null' }, 403, 'origin'],
    ['the service\'s own origin (S3 serves HTML objects from it)', { ...JSON_POST, origin: 'http://127.0.0.1:4599' }, 403, 'origin'],
    ['an empty Origin', { ...JSON_POST, origin: '' }, 403, 'origin'],
  ])('refuses %s', (_name, headers, status, rule) => {
    expect(checkAdminRequest(fakeRequest('POST', headers as IncomingHttpHeaders), STATE)).toMatchObject({ status, rule });
  });

  it('refuses a CORS preflight, whatever else it says', () => {
    const preflight = { host: '127.0.0.1:4599', origin: 'http://127.0.0.1:4599', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' };
    expect(checkAdminRequest(fakeRequest('OPTIONS', preflight), STATE)).toMatchObject({ status: 403, rule: 'cors-preflight' });
    expect(checkAdminRequest(fakeRequest('OPTIONS', preflight), { ...STATE, allowOwnOrigin: true, changesState: false })).toMatchObject({ rule: 'cors-preflight' });
  });

  it.each([
    ['127.0.0.1 with port', '127.0.0.1:4599'],
    ['127.0.0.1', '127.0.0.1'],
    ['localhost with port', 'localhost:4599'],
    ['localhost in capitals', 'LocalHost:4599'],
    ['[::1] with port', '[::1]:4599'],
    ['[::1]', '[::1]'],
    ['::1', '::1'],
  ])('accepts JSON with Host %s', (_name, host) => {
    expect(checkAdminRequest(fakeRequest('POST', { ...JSON_POST, host }), STATE)).toBeUndefined();
  });

  it('accepts a charset on application/json', () => {
    expect(checkAdminRequest(fakeRequest('POST', { ...JSON_POST, 'content-type': 'Application/JSON; charset=utf-8' }), STATE)).toBeUndefined();
  });

  it('accepts the address the connection reached (a server on 0.0.0.0), dual-stack forms too', () => {
    expect(checkAdminRequest(fakeRequest('POST', { ...JSON_POST, host: '192.0.2.7:4599' }, { localAddress: '192.0.2.7' }), STATE)).toBeUndefined();
    expect(checkAdminRequest(fakeRequest('POST', { ...JSON_POST, host: '192.0.2.7:4599' }, { localAddress: '::ffff:192.0.2.7' }), STATE)).toBeUndefined();
    expect(checkAdminRequest(fakeRequest('POST', { ...JSON_POST, host: '[fd00::2]:4599' }, { localAddress: 'fd00::2' }), STATE)).toBeUndefined();
    expect(checkAdminRequest(fakeRequest('POST', { ...JSON_POST, host: '192.0.2.8:4599' }, { localAddress: '192.0.2.7' }), STATE)).toMatchObject({ rule: 'host' });
  });

  it('accepts the names it is given (--host, --allow-host), and no others', () => {
    const rules = { changesState: true, hosts: ['sealbox', 'Dev.Example.Internal'] };
    expect(checkAdminRequest(fakeRequest('POST', { ...JSON_POST, host: 'sealbox:4599' }), rules)).toBeUndefined();
    expect(checkAdminRequest(fakeRequest('POST', { ...JSON_POST, host: 'dev.example.internal' }), rules)).toBeUndefined();
    expect(checkAdminRequest(fakeRequest('POST', { ...JSON_POST, host: 'sealbox.evil.example' }), rules)).toMatchObject({ rule: 'host' });
    expect(checkAdminRequest(fakeRequest('POST', { ...JSON_POST, host: 'sealbox:4599' }), STATE)).toMatchObject({ rule: 'host' });
  });

  it('accepts its own origin only where asked to (the console), matching scheme, host and port', () => {
    const own = { changesState: false, allowOwnOrigin: true };
    const get = (origin: string, encrypted = false) => checkAdminRequest(fakeRequest('GET', { host: 'localhost:4580', origin }, { localAddress: '127.0.0.1', encrypted }), own);
    expect(get('http://localhost:4580')).toBeUndefined();
    expect(get('https://localhost:4580', true)).toBeUndefined();
    expect(get('https://localhost:4580')).toMatchObject({ rule: 'origin' });
    expect(get('http://localhost:4581')).toMatchObject({ rule: 'origin' });
    expect(get('http://127.0.0.1:4580')).toMatchObject({ rule: 'origin' });
    expect(get('http://localhost:4580/path')).toMatchObject({ rule: 'origin' });
    expect(get('null')).toMatchObject({ rule: 'origin' });
  });

  it('lets requests that change nothing carry any content type', () => {
    expect(checkAdminRequest(fakeRequest('GET', { host: '127.0.0.1:4599' }), { changesState: false })).toBeUndefined();
  });

  it('names the rule in its message', () => {
    const refusal = checkAdminRequest(fakeRequest('POST', { ...JSON_POST, host: 'evil.example:4599' }), STATE)!;
    expect(refusal.error).toMatch(/^host: \/_sealbox\/clock answers only requests whose Host is Sealbox's own address .* not "evil.example:4599"$/);
  });
});

describe('hostName', () => {
  it.each([
    ['127.0.0.1:4599', '127.0.0.1'],
    ['LOCALHOST', 'localhost'],
    ['[::1]:80', '::1'],
    ['::1', '::1'],
    ['a.b-c_d:1', 'a.b-c_d'],
    ['[::1', undefined],
    ['[::1]x', undefined],
    ['host:port', undefined],
    ['host:123456', undefined],
    ['a b', undefined],
    ['', undefined],
  ])('%j -> %j', (header, name) => {
    expect(hostName(header)).toBe(name);
  });
});

/** The admin router on a real server: a hostile request is refused and the clock does not move. */
describe('adminRouter', () => {
  let server: RunningServer;
  let clock: VirtualClock;

  beforeAll(async () => {
    clock = new VirtualClock();
    const app = express();
    app.use(adminRouter({ service: 'test', clock }));
    app.use((_req, res) => res.status(404).json({ error: 'not admin' }));
    server = await listen(app, '127.0.0.1', 0);
  });
  afterAll(() => server.close());

  function call(method: string, path: string, headers: Record<string, string>, body = ''): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
    return new Promise((resolve, reject) => {
      const req = request(`${server.url}${path}`, { method, headers }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  const host = () => `127.0.0.1:${server.port}`;
  const advance = '{"advanceSeconds": 2678400}';

  it.each([
    ['text/plain', { 'content-type': 'text/plain' }, 415],
    ['a form', { 'content-type': 'application/x-www-form-urlencoded' }, 415],
    ['multipart', { 'content-type': 'multipart/form-data; boundary=b' }, 415],
    ['no content type', {}, 415],
    ['a foreign Host', { 'content-type': 'application/json', host: 'evil.example:4599' }, 403],
    ['a foreign Origin', { 'content-type': 'application/json', origin: 'http://evil.example' }, 403],
    ['Origin null', { 'content-type': 'application/json', origin: 'null' }, 403],
  ])('POST /_sealbox/clock with %s is refused and the clock stays', async (_name, headers, status) => {
    const res = await call('POST', '/_sealbox/clock', { host: host(), ...headers } as Record<string, string>, advance);
    expect(res.status).toBe(status);
    expect(JSON.parse(res.body)).toEqual({ error: expect.any(String), rule: expect.any(String) });
    expect(Object.keys(res.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
    expect(clock.offsetSeconds).toBe(0);
  });

  it('refuses a CORS preflight to any admin path, without Access-Control-Allow-* headers', async () => {
    for (const path of ['/_sealbox/clock', '/_sealbox/seed', '/_sealbox/anything', '/_SEALBOX/clock']) {
      const res = await call('OPTIONS', path, { host: host(), origin: 'http://evil.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' });
      expect(res.status).toBe(403);
      expect(JSON.parse(res.body)).toMatchObject({ rule: 'cors-preflight' });
      expect(Object.keys(res.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
    }
    // Not an admin path: left to the service.
    expect((await call('OPTIONS', '/bucket/_sealbox/clock', { host: host(), 'access-control-request-method': 'POST' })).status).toBe(404);
  });

  it('keeps GET /_sealbox/clock and /health readable from any Host, without Access-Control-Allow-Origin', async () => {
    for (const path of ['/_sealbox/clock', '/_sealbox/health']) {
      const res = await call('GET', path, { host: 'sealbox:4599', origin: 'http://evil.example' });
      expect(res.status).toBe(200);
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
    }
  });

  it('advances the clock for a JSON POST from its own address', async () => {
    const res = await call('POST', '/_sealbox/clock', { host: host(), 'content-type': 'application/json' }, '{"advanceSeconds": 60}');
    expect(res.status).toBe(200);
    expect(clock.offsetSeconds).toBe(60);
  });
});
