import type { IncomingMessage, ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { createServer as createNodeServer } from 'node:http';
import { Readable } from 'node:stream';
import { InvalidHeaderError, parseHead, responseHead, responseText, sendThroughNode, type FastPath, type FastRequest, type FastResponse } from '../src/fast-front';
import { listen, readBody, type ListenOptions, type RunningServer } from '../src/http';
import { loadOrCreateTls } from '../src/tls';

const HEAD = ['POST /fast HTTP/1.1', 'Host: 127.0.0.1', 'Content-Type: text/plain', 'Content-Length: 5', 'X-Amz-Date:  20261127T120000Z '];

describe('parseHead', () => {
  it('reads the request line, the headers as received and lower-cased, and the body length', () => {
    expect(parseHead(HEAD.join('\r\n'))).toEqual({
      method: 'POST',
      url: '/fast',
      rawHeaders: ['Host', '127.0.0.1', 'Content-Type', 'text/plain', 'Content-Length', '5', 'X-Amz-Date', '20261127T120000Z'],
      headers: { host: '127.0.0.1', 'content-type': 'text/plain', 'content-length': '5', 'x-amz-date': '20261127T120000Z' },
      bodyLength: 5,
      close: false,
    });
    expect(parseHead([...HEAD, 'Connection: Close'].join('\r\n'))?.close).toBe(true);
    expect(parseHead([...HEAD, 'Connection: keep-alive'].join('\r\n'))?.close).toBe(false);
    expect(parseHead([...HEAD, 'X-Obs: caf\xe9'].join('\r\n'))?.headers['x-obs']).toBe('caf\xe9');
  });

  it.each([
    ['HTTP/1.0', ['POST /fast HTTP/1.0', ...HEAD.slice(1)]],
    ['a lower-case method', ['post /fast HTTP/1.1', ...HEAD.slice(1)]],
    ['a space in the target', ['POST /a b HTTP/1.1', ...HEAD.slice(1)]],
    ['a repeated header', [...HEAD, 'host: other']],
    ['Transfer-Encoding', [...HEAD, 'Transfer-Encoding: chunked']],
    ['Expect', [...HEAD, 'Expect: 100-continue']],
    ['Upgrade', [...HEAD, 'Upgrade: websocket']],
    ['Connection: upgrade', [...HEAD, 'Connection: upgrade']],
    ['a signed Content-Length', [...HEAD.filter((l) => !l.startsWith('Content-Length')), 'Content-Length: +5']],
    ['a huge Content-Length', [...HEAD.filter((l) => !l.startsWith('Content-Length')), 'Content-Length: 1234567890123456']],
    ['a folded line', [...HEAD, ' folded']],
    ['a space before the colon', [...HEAD, 'X-Bad : 1']],
    ['a control character', [...HEAD, 'X-Bad: a\x01b']],
    ['a line without a colon', [...HEAD, 'X-Bad']],
  ])('leaves a head with %s to Node', (_, lines) => {
    expect(parseHead(lines.join('\r\n'))).toBeUndefined();
  });

  it('reads a head without Content-Length (nor Transfer-Encoding) as having no body, as Node does', () => {
    expect(parseHead(['GET /x HTTP/1.1', 'Host: h'].join('\r\n'))?.bodyLength).toBe(0);
  });

  it('refuses to write a header Node would refuse: a response is never split', () => {
    expect(() => responseHead({ status: 200, headers: { 'X-A': 'a\r\nX-B: b' } }, false, 5000)).toThrow(InvalidHeaderError);
    expect(() => responseHead({ status: 200, headers: { 'X A': 'a' } }, false, 5000)).toThrow(InvalidHeaderError);
    expect(() => responseHead({ status: 200, headers: { 'X-A': '\u5fae' } }, false, 5000)).toThrow(InvalidHeaderError);
    expect(responseHead({ status: 200, headers: { 'X-A': 'caf\xe9', 'content-length': 3 } }, false, 5000)).toBe(
      'HTTP/1.1 200 OK\r\nX-A: caf\xe9\r\ncontent-length: 3\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n\r\n',
    );
  });

  it('writes the headers Node writes on a keep-alive connection, and the UTF-8 length', () => {
    expect(responseText({ status: 200, headers: { 'X-A': '1' }, body: 'é' }, false, 5000)).toBe(
      'HTTP/1.1 200 OK\r\nX-A: 1\r\nContent-Length: 2\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n\r\né',
    );
    expect(responseText({ status: 400, headers: {}, body: '' }, true, 5000)).toBe('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
  });
});

/** A raw client: sends bytes, collects everything the server sends until it closes or `until` matches. */
class RawClient {
  received = '';
  closed = false;
  private waiters: (() => void)[] = [];

  constructor(readonly socket: Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      this.received += d;
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  private wake() {
    for (const w of this.waiters.splice(0)) w();
  }

  async until(test: (received: string, closed: boolean) => boolean, ms = 5000): Promise<string> {
    const deadline = Date.now() + ms;
    while (!test(this.received, this.closed)) {
      if (Date.now() > deadline) throw new Error(`timed out; received so far: ${JSON.stringify(this.received)}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
    return this.received;
  }

  responses(): number {
    return this.received.split('HTTP/1.1 ').length - 1;
  }
}

const BIG = Buffer.alloc(3 * 1024 * 1024, 'z');
const SPECIAL: Record<string, () => FastResponse> = {
  '/fast/buffer': () => ({ status: 200, headers: { 'X-Latin': 'caf\xe9' }, body: Buffer.from('bytes\xff', 'latin1') }),
  '/fast/stream': () => ({ status: 200, headers: { 'Content-Length': BIG.length }, body: Readable.from([BIG.subarray(0, 1000), BIG.subarray(1000)]) }),
  '/fast/head': () => ({ status: 200, headers: { 'Content-Length': 1234 }, body: Readable.from(['never sent']), headOnly: true }),
  '/fast/204': () => ({ status: 204, headers: {}, body: 'ignored' }),
  '/fast/split': () => ({ status: 200, headers: { 'X-Split': 'a\r\nX-Injected: 1' }, body: 'x' }),
};

const request = (path: string, body: string, extra: string[] = []) =>
  [`POST ${path} HTTP/1.1`, 'Host: 127.0.0.1', `Content-Length: ${Buffer.byteLength(body)}`, ...extra, '', body].join('\r\n');

describe('the fast front', () => {
  let server: RunningServer;
  const seen: string[] = [];
  const fast: FastPath = {
    maxBodyBytes: 1024,
    accepts: (method, url) => (method === 'POST' || method === 'GET') && url.startsWith('/fast'),
    handle: async (req: FastRequest) => {
      seen.push(`fast ${req.url} ${req.body.toString('utf8')}`);
      if (req.url === '/fast/slow') await new Promise((r) => setTimeout(r, 300));
      const special = SPECIAL[req.url];
      if (special) return special();
      return { status: 200, headers: { 'X-Path': 'fast', 'X-Enc': String(req.encrypted) }, body: `fast:${req.body.toString('utf8')}:${req.headers['x-note'] ?? ''}` };
    },
  };
  const node = (req: IncomingMessage, res: ServerResponse) => {
    readBody(req, 1 << 20).then(
      (body) => {
        seen.push(`node ${req.url} ${body.toString('utf8')}`);
        res.writeHead(200, { 'X-Path': 'node', 'Content-Length': 5 + body.length });
        res.end(`node:${body.toString('utf8')}`);
      },
      () => res.destroy(),
    );
  };
  const options: ListenOptions = { fast, idleTimeoutMs: 400, headersTimeoutMs: 400 };

  beforeEach(async () => {
    seen.length = 0;
    server = await listen(node, '127.0.0.1', 0, undefined, options);
  });
  afterEach(() => server.close(100));

  const open = () => new RawClient(connect(server.port, '127.0.0.1'));

  it('answers accepted requests itself, several on one connection, and pipelined ones in order', async () => {
    const c = open();
    c.socket.write(request('/fast/1', 'one', ['X-Note: a']));
    await c.until(() => c.responses() === 1);
    c.socket.write(request('/fast/slow', 'two') + request('/fast/3', 'three'));
    const text = await c.until(() => c.responses() === 3);
    expect(text).toContain('X-Path: fast\r\nX-Enc: false\r\nContent-Length: 10\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n\r\nfast:one:a');
    expect(text.indexOf('fast:two:')).toBeLessThan(text.indexOf('fast:three:'));
    expect(seen).toEqual(['fast /fast/1 one', 'fast /fast/slow two', 'fast /fast/3 three']);
    c.socket.destroy();
  });

  it('answers with a Buffer, a stream, headers only, and no body for 204; a GET needs no Content-Length', async () => {
    const c = open();
    c.socket.write(request('/fast/buffer', ''));
    expect(await c.until((r) => r.endsWith('bytes\xff'))).toContain('X-Latin: caf\xe9\r\nContent-Length: 6\r\n');
    c.received = '';
    c.socket.write(request('/fast/stream', ''));
    const streamed = await c.until((r) => r.length >= BIG.length);
    expect(streamed).toContain(`Content-Length: ${BIG.length}\r\n`);
    expect(streamed.slice(streamed.indexOf('\r\n\r\n') + 4)).toBe(BIG.toString('latin1'));
    c.received = '';
    c.socket.write(request('/fast/head', '') + request('/fast/204', '') + 'GET /fast/buffer HTTP/1.1\r\nHost: x\r\n\r\n');
    const text = await c.until((r) => r.endsWith('bytes\xff'));
    expect(text).toMatch(/^HTTP\/1\.1 200 OK\r\nContent-Length: 1234\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n\r\nHTTP\/1\.1 204 No Content\r\nContent-Length: 7\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n\r\nHTTP\/1\.1 200 OK\r\n/);
    expect(seen.at(-1)).toBe('fast /fast/buffer ');
    c.socket.destroy();
  });

  it('closes the connection rather than write a header that would split the response', async () => {
    const c = open();
    c.socket.write(request('/fast/split', ''));
    expect(await c.until((_, closed) => closed)).toBe('');
  });

  it('waits for a head and a body that arrive in pieces', async () => {
    const c = open();
    const text = request('/fast/p', 'pieces');
    for (const piece of [text.slice(0, 7), text.slice(7, 40), text.slice(40, -3), text.slice(-3)]) {
      c.socket.write(piece);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(await c.until(() => c.responses() === 1)).toContain('fast:pieces:');
    c.socket.destroy();
  });

  it('hands a connection to Node, with every byte, at its first request it does not take, and Node keeps it', async () => {
    const c = open();
    c.socket.write(request('/fast/1', 'one'));
    await c.until(() => c.responses() === 1);
    // An unaccepted path, then one it would accept: both go to Node once the connection is Node's.
    c.socket.write(request('/other', 'two') + request('/fast/3', 'three'));
    await c.until(() => c.responses() === 3);
    expect(seen).toEqual(['fast /fast/1 one', 'node /other two', 'node /fast/3 three']);
    c.socket.destroy();
  });

  it.each([
    ['chunked', ['POST /fast HTTP/1.1', 'Host: x', 'Transfer-Encoding: chunked', '', '3', 'abc', '0', '', ''].join('\r\n'), 'node /fast abc'],
    ['a repeated header', request('/fast', 'abc', ['X-Note: 1', 'X-Note: 2']), 'node /fast abc'],
    ['a body over the limit', request('/fast', 'x'.repeat(1025)), `node /fast ${'x'.repeat(1025)}`],
    ['HTTP/1.0', request('/fast', 'abc').replace('HTTP/1.1', 'HTTP/1.0'), 'node /fast abc'],
  ])('leaves %s to Node', async (_, raw, expected) => {
    const c = open();
    c.socket.write(raw);
    await c.until(() => c.responses() === 1);
    expect(seen).toEqual([expected]);
    c.socket.destroy();
  });

  it('leaves Expect: 100-continue to Node, which sends 100 Continue', async () => {
    const c = open();
    c.socket.write(['POST /fast HTTP/1.1', 'Host: x', 'Content-Length: 3', 'Expect: 100-continue', '', ''].join('\r\n'));
    await c.until((r) => r.includes('100 Continue'));
    c.socket.write('abc');
    await c.until((r) => r.includes('node:abc'));
    expect(seen).toEqual(['node /fast abc']);
    c.socket.destroy();
  });

  it('leaves an oversized head to Node, which refuses it with 431', async () => {
    const c = open();
    c.socket.write(request('/fast', 'abc', [`X-Big: ${'b'.repeat(20_000)}`]));
    expect(await c.until((_, closed) => closed)).toMatch(/^HTTP\/1\.1 431 /);
    expect(seen).toEqual([]);
  });

  it('ends the connection after answering a request with Connection: close', async () => {
    const c = open();
    c.socket.write(request('/fast', 'abc', ['Connection: close']));
    const text = await c.until((_, closed) => closed);
    expect(text).toContain('Connection: close\r\n\r\nfast:abc:');
  });

  it('answers a head that stops arriving with 408 and closes; a stalled body is closed', async () => {
    const head = open();
    head.socket.write('POST /fast HTTP/1.1\r\nHost: x\r\n');
    expect(await head.until((_, closed) => closed)).toBe('HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n');
    const body = open();
    body.socket.write(request('/fast', 'abcdef').slice(0, -3));
    expect(await body.until((_, closed) => closed)).toBe('');
    expect(seen).toEqual([]);
  });

  it("answers a stall with the service's own error when it has one", async () => {
    await server.close(100);
    const errorResponse = () => ({ status: 400, headers: { 'Content-Type': 'application/xml' }, body: '<Error>RequestTimeout</Error>' });
    server = await listen(node, '127.0.0.1', 0, undefined, { ...options, errorResponse });
    for (const partial of ['POST /fast HTTP/1.1\r\n', request('/fast', 'abcdef').slice(0, -3)]) {
      const c = open();
      c.socket.write(partial);
      const text = await c.until((_, closed) => closed);
      expect(text).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
      expect(text).toContain('Connection: close\r\n\r\n<Error>RequestTimeout</Error>');
    }
  });

  it('closes idle connections at close, and answers one in flight with Connection: close', async () => {
    const idle = open();
    idle.socket.write(request('/fast/1', 'one'));
    await idle.until(() => idle.responses() === 1);
    const busy = open();
    busy.socket.write(request('/fast/slow', 'two'));
    await new Promise((r) => setTimeout(r, 50));
    const closing = server.close(2000);
    await idle.until((_, closed) => closed);
    const text = await busy.until((_, closed) => closed);
    expect(text).toContain('Connection: close\r\n\r\nfast:two:');
    await closing;
  });

  it('serves TLS connections too, and hands them to Node the same way', async () => {
    await server.close(100);
    const tls = loadOrCreateTls(undefined, ['127.0.0.1']);
    server = await listen(node, '127.0.0.1', 0, { key: tls.key, cert: tls.cert }, options);
    const socket = tlsConnect({ port: server.port, host: '127.0.0.1', ca: tls.ca, servername: '127.0.0.1' });
    const c = new RawClient(socket);
    socket.write(request('/fast/1', 'one'));
    expect(await c.until(() => c.responses() === 1)).toContain('X-Enc: true');
    socket.write(request('/other', 'two'));
    await c.until(() => c.responses() === 2);
    expect(seen).toEqual(['fast /fast/1 one', 'node /other two']);
    socket.destroy();
  });
});

describe('sendThroughNode', () => {
  it('writes the answer with Content-Length, refuses a header that would split it, and ends a response already sent', async () => {
    const errors: unknown[] = [];
    const answers: Record<string, FastResponse> = {
      '/ok': { status: 201, headers: { 'X-A': '1' }, body: 'created' },
      '/split': { status: 200, headers: { 'X-A': 'a\r\nX-B: b' }, body: 'x' },
      '/stream': { status: 200, headers: { 'Content-Length': 6 }, body: Readable.from(['stream']) },
    };
    const server = createNodeServer((req, res) => {
      if (req.url === '/sent') {
        res.writeHead(400, { 'Content-Length': 4 });
        res.end('sent');
        sendThroughNode(res, { status: 200, headers: {}, body: 'late' }, (err) => errors.push(err));
        return;
      }
      sendThroughNode(res, answers[req.url!]!, (err) => errors.push(err));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const ok = await fetch(`${base}/ok`);
      expect([ok.status, ok.headers.get('content-length'), ok.headers.get('x-a'), await ok.text()]).toEqual([201, '7', '1', 'created']);
      expect(await (await fetch(`${base}/stream`)).text()).toBe('stream');
      await expect(fetch(`${base}/split`)).rejects.toThrow();
      expect(errors).toHaveLength(1);
      const sent = await fetch(`${base}/sent`);
      expect([sent.status, await sent.text()]).toEqual([400, 'sent']);
      expect(errors).toHaveLength(1);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
