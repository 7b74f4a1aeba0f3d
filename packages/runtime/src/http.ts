import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import { STATUS_CODES, createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import type { AddressInfo, Socket } from 'node:net';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';

export interface RunningServer {
  /**
   * The address with the port actually bound: `https://host:port` when TLS is on (HTTP is
   * served on the same port, at `httpUrl`), else `http://host:port`.
   */
  url: string;
  /** `http://host:port`: plain HTTP, served whether or not TLS is on. */
  httpUrl: string;
  /** `https://host:port` when TLS is on. */
  httpsUrl?: string;
  port: number;
  /** The listener (plain HTTP requests are its own; TLS connections go to a sibling server). */
  server: Server;
  /** Stops accepting, lets requests in flight finish (up to `graceMs`), then closes every socket. */
  close(graceMs?: number): Promise<void>;
}

export class PortInUseError extends Error {
  constructor(readonly host: string, readonly port: number) {
    super(`port ${port} on ${host} is already in use; choose another with the port option, or 0 for a free one`);
  }
}

/**
 * Why Node, the idle timer or the connection discipline ended a request before (or while) the
 * service answered it: a client that went quiet or too slow, an oversized header section, bytes
 * that are not HTTP, and a connection past the cap.
 */
export type ClientErrorKind = 'RequestTimeout' | 'HeaderTooLarge' | 'BadRequest' | 'TooManyConnections';

export interface ErrorResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface ListenOptions {
  /**
   * A connection on which nothing is read or written for this long, while a request is being
   * received or answered, is answered (when no response has started) and closed. Slow clients
   * cannot hold the server: AWS closes idle connections after about 20 seconds.
   */
  idleTimeoutMs?: number;
  /** The whole header section must arrive within this long. */
  headersTimeoutMs?: number;
  /** A keep-alive connection with no request in flight is closed after this long (5 s). */
  keepAliveTimeoutMs?: number;
  /** A TLS handshake must finish within this long (10 s; Node's own default is 120 s). */
  handshakeTimeoutMs?: number;
  /**
   * After `bodyGraceMs` (default: the idle timeout) a request body must have arrived at this
   * average rate or faster (bytes per second, default 8 KiB/s), so a body trickled a byte at a time
   * cannot hold a connection while large uploads at any real speed still work. Time the server
   * itself spends not reading (bytes waiting in its buffers) does not count against the client.
   */
  minBodyBytesPerSecond?: number;
  bodyGraceMs?: number;
  /**
   * Open connections this server serves normally; past it, requests are refused with the
   * service's throttling error (health checks excepted) and their connections closed, and a few
   * more are dropped at once. Default: from the process's descriptor limit, at most 1,000.
   */
  maxConnections?: number;
  /** The service's own words for these failures (S3's XML errors); Node's plain answer otherwise. */
  errorResponse?: (kind: ClientErrorKind) => ErrorResponse | undefined;
  /**
   * The service sends `100 Continue` itself (acceptBody) once a request passes the checks its
   * headers allow, so a refusal is the final answer and the client never sends the body. Otherwise
   * every `Expect: 100-continue` request is continued at once, as Node does by default.
   */
  handlesContinue?: boolean;
  /** Requests answered even past the connection cap (default: GET /_sealbox/health). */
  priority?: (req: IncomingMessage) => boolean;
}

/**
 * After answering a request whose body has not all arrived, the connection is closed
 * (`Connection: close`), but first up to this much of the rest is read and thrown away, for up to
 * LINGER_MS: closing on unread bytes makes the kernel reset the connection, and a reset can
 * destroy the answer before the client reads it.
 */
const LINGER_BYTES = 16 * 1024 * 1024;
const LINGER_MS = 5000;
/** Descriptors kept free for the stores, blob files, S3's calls to KMS and the rest of the process. */
const RESERVED_DESCRIPTORS = 128;

const CURRENT = Symbol('sealbox.currentExchange');
const LINGERING = Symbol('sealbox.lingering');
const CONTINUED = Symbol('sealbox.continued');
const SERVER_HOLDS = Symbol('sealbox.serverHolds');

/**
 * Runs `wait` (an injected latency) with the request marked as held by the server: neither the
 * idle timeout nor the body rate counts that time against the client, which cannot send a body
 * the server has not asked for (Expect: 100-continue) and is not at fault for the wait.
 */
export async function serverHolds(req: IncomingMessage, wait: Promise<void>): Promise<void> {
  const held = req as IncomingMessage & { [SERVER_HOLDS]?: boolean };
  held[SERVER_HOLDS] = true;
  try {
    await wait;
  } finally {
    held[SERVER_HOLDS] = false;
    // The idle timer starts again from the end of the wait.
    const idle = req.socket.timeout;
    if (!req.socket.destroyed && idle) req.socket.setTimeout(idle);
  }
}
const isHeld = (req: IncomingMessage) => (req as IncomingMessage & { [SERVER_HOLDS]?: boolean })[SERVER_HOLDS] === true;
type Exchange = { req: IncomingMessage; res: ServerResponse };
type TrackedSocket = Socket & { [CURRENT]?: Exchange; [LINGERING]?: boolean; _parent?: Socket };
/** Per request body: bytes read when it started, the time it has been the client's turn. */
type BodyProgress = { exchange: Exchange; socket: TrackedSocket; startBytes: number; clientMs: number };

function rawResponse(r: ErrorResponse): string {
  const body = Buffer.from(r.body, 'utf8');
  const head = Object.entries({ ...r.headers, 'Content-Length': String(body.length), Connection: 'close' }).map(([k, v]) => `${k}: ${v}`);
  return `HTTP/1.1 ${r.status} ${STATUS_CODES[r.status] ?? ''}\r\n${head.join('\r\n')}\r\n\r\n${r.body}`;
}

/** The process's open-file limit (Linux's /proc), or undefined where it cannot be read. */
export function descriptorLimit(): number | undefined {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
    const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0];
    return soft === 'unlimited' ? undefined : soft ? Number(soft) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Each server's default cap: a share of the descriptor limit (KMS, S3 and the console each get a
 * quarter of what is left after the reserve), so clients that hold connections can never take the
 * descriptors the process needs to answer anyone.
 */
export function defaultMaxConnections(limit = descriptorLimit()): number {
  if (limit === undefined) return 1000;
  return Math.min(1000, Math.max(8, Math.floor((limit - RESERVED_DESCRIPTORS) / 4)));
}

/** Requests being answered by every listener of this process (from their headers to their end). */
let exchanges = 0;

/**
 * How many requests this process's listeners are answering now: the KMS event log flushes a lone
 * call's record on the event loop when nothing else is in flight (see Trail), where the thread
 * pool's round trip would cost more than the wait it saves.
 */
export function requestsInFlight(): number {
  return exchanges;
}

/**
 * Calls `done` once, when the answer to `req` closes or its connection does, whichever comes
 * first: a response queued behind another on a connection that closes (pipelined) is never given
 * the socket, so it never emits 'close' itself.
 */
export function whenExchangeEnds(req: IncomingMessage, res: ServerResponse, done: () => void): void {
  const socket = req.socket;
  // Once: an emitter calls the listeners it had when the event began, removed or not.
  let pending = true;
  const end = (): void => {
    if (!pending) return;
    pending = false;
    res.removeListener('close', end);
    socket.removeListener('close', end);
    done();
  };
  res.once('close', end);
  socket.once('close', end);
}

const isHealthCheck = (req: IncomingMessage) => req.method === 'GET' && /^\/_sealbox\/health(\?|$)/.test(req.url ?? '');

/**
 * Sends `100 Continue` to a client waiting for it before sending its body (at most once). Services
 * call it when a request has passed everything its headers can be checked for; a request refused
 * before then gets its final status instead and its body is never sent, as on AWS.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/RESTRedirect.html#RESTRedirect-100-continue
 */
export function acceptBody(req: IncomingMessage, res: ServerResponse): void {
  const continued = req as IncomingMessage & { [CONTINUED]?: boolean };
  if (continued[CONTINUED] || res.headersSent || !/100-continue/i.test(String(req.headers.expect ?? ''))) return;
  continued[CONTINUED] = true;
  res.writeContinue();
}

/**
 * The first byte of a TLS connection: a handshake record (a ClientHello), content type 22.
 * https://www.rfc-editor.org/rfc/rfc8446#section-5.1 . No HTTP request starts with it (a method
 * is a token of visible characters), so one port can serve both, as LocalStack does on 4566.
 */
const TLS_HANDSHAKE = 0x16;
const TLS_SOCKET = Symbol('sealbox.tlsSocket');

/**
 * Serves `handler` on host:port: plain HTTP, and with `tls` HTTPS as well on the same port (the
 * first byte of each connection tells them apart).
 */
export function listen(
  handler: RequestListener,
  host: string,
  port: number,
  tls?: { key: string; cert: string },
  listenOptions: ListenOptions = {},
): Promise<RunningServer> {
  const idleMs = listenOptions.idleTimeoutMs ?? 20_000;
  // requestTimeout would cap a whole upload's duration; the idle timer and the body rate bound slow clients instead.
  const headersTimeout = listenOptions.headersTimeoutMs ?? 20_000;
  const keepAliveTimeout = listenOptions.keepAliveTimeoutMs ?? 5000;
  const minRate = listenOptions.minBodyBytesPerSecond ?? 8 * 1024;
  const graceMs = listenOptions.bodyGraceMs ?? idleMs;
  const maxConnections = listenOptions.maxConnections ?? defaultMaxConnections();
  // Past the cap a few more connections are accepted, to be told to slow down (or to answer a
  // health check); beyond those, a new connection is closed as soon as it is accepted.
  const hardCap = maxConnections + Math.max(8, Math.ceil(maxConnections / 8));
  const priority = listenOptions.priority ?? isHealthCheck;
  const options = {
    keepAliveTimeout,
    requestTimeout: 0,
    headersTimeout,
    connectionsCheckingInterval: Math.min(1000, headersTimeout),
    handshakeTimeout: listenOptions.handshakeTimeoutMs ?? 10_000,
  };
  let open = 0;
  const bodies = new Set<BodyProgress>();

  /** Ends a request the client is too slow or too quiet for: answered if possible, then closed. */
  const expire = (socket: TrackedSocket, exchange: Exchange | undefined) => {
    // The request stream must fail too: whoever reads it (an upload being written) stops and
    // cleans up. Node does not do that for a request whose response has already ended.
    const drop = () => {
      exchange?.req.destroy(new RequestTimeoutError());
      socket.destroy();
    };
    const answer = exchange && !exchange.res.headersSent ? listenOptions.errorResponse?.('RequestTimeout') : undefined;
    if (exchange && answer) {
      exchange.res.writeHead(answer.status, { ...answer.headers, Connection: 'close' });
      exchange.res.end(answer.body, drop);
    } else {
      drop();
    }
  };

  const tracked: RequestListener = (req, res) => {
    const socket = req.socket as TrackedSocket;
    // A request pipelined behind an answer that closes the connection: nobody will read its answer.
    if (socket[LINGERING]) return;
    exchanges++;
    whenExchangeEnds(req, res, () => exchanges--);
    const exchange = { req, res };
    // A request pipelined behind one still being answered waits for it: Node would run both at
    // once, and a GET behind a PUT of the same key would not see the object.
    const previous = socket[CURRENT];
    socket[CURRENT] = exchange;
    socket.setTimeout(idleMs);
    // Answered before the body has all arrived (a refusal, a timeout): the connection will not be
    // reused, since the rest of the body would be read as the next request.
    const writeHead = res.writeHead;
    res.writeHead = function (this: ServerResponse, ...args: unknown[]) {
      if (!req.complete) {
        res.shouldKeepAlive = false;
        lingerOnClose(socket, req);
      }
      return (writeHead as (...a: unknown[]) => ServerResponse).apply(this, args);
    } as typeof res.writeHead;
    if (!req.complete) {
      const progress: BodyProgress = { exchange, socket, startBytes: socket.bytesRead, clientMs: 0 };
      bodies.add(progress);
      const done = () => bodies.delete(progress);
      req.once('end', done);
      req.once('close', done);
    }
    res.once('finish', () => {
      if (socket[CURRENT] === exchange) socket[CURRENT] = undefined;
      // Answered before the body was all sent (an early error): the idle timer keeps running, so
      // a client still trickling a body nobody needs is disconnected.
      if (!req.complete) return;
      // Node has just armed the keep-alive timer; the idle timer must not outlast it.
      socket.setTimeout(keepAliveTimeout + 1000);
    });
    const rawSocket = socket._parent ?? socket;
    if ((rawSocket as TrackedSocket & { [OVERFLOW]?: boolean })[OVERFLOW] && !priority(req)) {
      const answer = listenOptions.errorResponse?.('TooManyConnections') ?? { status: 503, headers: { 'Content-Type': 'text/plain' }, body: 'Too many connections.\n' };
      req.resume();
      res.shouldKeepAlive = false;
      res.writeHead(answer.status, { ...answer.headers, Connection: 'close' });
      res.end(answer.body);
      return;
    }
    if (!listenOptions.handlesContinue) acceptBody(req, res);
    if (previous && !previous.res.writableFinished && !previous.res.destroyed) previous.res.once('close', () => handler(req, res));
    else handler(req, res);
  };

  /**
   * The connection closes after its answer, but the body still coming is read and thrown away
   * first (bounded), so the client reads the answer rather than a reset.
   */
  const lingerOnClose = (socket: TrackedSocket, req: IncomingMessage) => {
    const original = socket.destroySoon.bind(socket);
    socket.destroySoon = () => {
      if (req.complete) return original();
      socket[LINGERING] = true;
      const started = socket.bytesRead;
      const close = () => socket.destroy();
      const timer = setTimeout(close, Math.min(LINGER_MS, idleMs));
      timer.unref();
      const check = setInterval(() => {
        if (req.complete || socket.bytesRead - started > LINGER_BYTES) close();
      }, 50);
      check.unref();
      socket.once('close', () => {
        clearTimeout(timer);
        clearInterval(check);
      });
      // The client closing its side, or the body ending, means nothing more will come.
      socket.once('end', close);
      socket.end();
    };
  };

  const server: Server = createServer(options, tracked);
  // TLS connections are handed to this sibling, which never listens itself: the same timeouts,
  // the same request handling, the same connection cap (counted on the listener's sockets).
  const secure: HttpsServer | undefined = tls ? createHttpsServer({ ...options, ...tls }, tracked) : undefined;
  const servers: Array<Server | HttpsServer> = secure ? [server, secure] : [server];
  // Node would send 100 Continue before anyone looked at the request; tracked decides instead.
  for (const s of servers) s.on('checkContinue', tracked);
  const handshakeMs = options.handshakeTimeout;
  /** Connections whose first byte has not arrived: closed with the server. */
  const undecided = new Set<Socket>();
  if (secure) {
    // The listener's own HTTP connection handling runs only for connections that turn out to
    // be HTTP; the first chunk read is put back for whichever server takes the connection (a
    // TLSSocket reads what its socket has buffered first).
    const httpConnection = server.listeners('connection') as Array<(socket: Socket) => void>;
    server.removeAllListeners('connection');
    server.on('connection', (socket: Socket) => {
      if (socket.destroyed) return; // refused at the hard cap
      undecided.add(socket);
      // A connection that sends nothing holds a descriptor as surely as a stalled handshake.
      const silent = setTimeout(() => socket.destroy(), handshakeMs);
      silent.unref();
      const decided = () => {
        clearTimeout(silent);
        undecided.delete(socket);
      };
      // Until a server takes the connection, nobody else would handle its errors (a reset).
      const ignore = () => socket.destroy();
      socket.on('error', ignore);
      socket.once('close', decided);
      socket.once('data', (chunk: Buffer) => {
        decided();
        socket.removeListener('error', ignore);
        socket.pause();
        socket.unshift(chunk);
        if (chunk[0] === TLS_HANDSHAKE) secure.emit('connection', socket);
        else {
          for (const listener of httpConnection) listener.call(server, socket);
          socket.resume();
        }
      });
    });
    secure.on('secureConnection', (tlsSocket: TrackedSocket) => {
      if (tlsSocket._parent) (tlsSocket._parent as Socket & { [TLS_SOCKET]?: Socket })[TLS_SOCKET] = tlsSocket;
    });
  }

  // Connections past the cap, oldest first: at the hard cap the oldest makes room for the newest,
  // so a health check (or a refusal) still gets through however many clients hold the rest.
  const overflow = new Set<Socket>();
  const admit = (socket: TrackedSocket & { [OVERFLOW]?: boolean; [TLS_SOCKET]?: Socket }) => {
    if (open >= hardCap) {
      const oldest = overflow.values().next().value;
      if (!oldest) {
        socket.destroy();
        return;
      }
      overflow.delete(oldest);
      oldest.destroy();
    }
    open++;
    socket.once('close', () => {
      open--;
      overflow.delete(socket);
    });
    if (open > maxConnections) {
      socket[OVERFLOW] = true;
      overflow.add(socket);
      // Connections that nobody uses any more make room first.
      for (const s of servers) s.closeIdleConnections();
      // A connection past the cap gets one quick request (a refusal or a health check), not the
      // usual timeouts. (A TLS connection's answer is written by its TLSSocket.)
      setTimeout(() => {
        if (!socket.destroyed && (socket[TLS_SOCKET] ?? socket).bytesWritten === 0) socket.destroy();
      }, Math.min(2000, headersTimeout)).unref();
    }
  };
  // Counted before the protocol is known, so HTTP and TLS connections share the cap.
  if (secure) server.prependListener('connection', admit);
  else server.on('connection', admit);

  // Bodies that arrive too slowly: checked once a second for the whole server.
  const TICK_MS = 250;
  const sweep = setInterval(() => {
    for (const progress of bodies) {
      const { exchange, socket } = progress;
      if (exchange.req.complete || socket.destroyed) {
        bodies.delete(progress);
        continue;
      }
      // Bytes the server has not consumed yet, or a request it holds: the server, not the client, is behind.
      if (exchange.req.readableLength > 0 || socket.readableLength > 0 || isHeld(exchange.req)) continue;
      progress.clientMs += TICK_MS;
      const received = socket.bytesRead - progress.startBytes;
      if (progress.clientMs > graceMs && received < (minRate * (progress.clientMs - graceMs)) / 1000) {
        bodies.delete(progress);
        expire(socket, socket[CURRENT] === exchange ? exchange : exchange.res.headersSent ? undefined : exchange);
      }
    }
  }, TICK_MS);
  sweep.unref();
  server.once('close', () => clearInterval(sweep));

  const onTimeout = (socket: TrackedSocket) => {
    const exchange = socket[CURRENT];
    // A request received whole and not yet answered is the server's work (a long multipart
    // completion): the client is not at fault, so the connection stays.
    if (exchange && exchange.req.complete && !exchange.res.headersSent) return;
    // So is a request held by an injected latency before its body was asked for.
    if (exchange && isHeld(exchange.req) && !exchange.res.headersSent) return;
    expire(socket, exchange);
  };
  const onClientError = (err: NodeJS.ErrnoException, socket: TrackedSocket) => {
    const kind: ClientErrorKind = err.code === 'HPE_HEADER_OVERFLOW' ? 'HeaderTooLarge' : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'RequestTimeout' : 'BadRequest';
    // A client that went away, or a TLS socket torn down: nobody to answer.
    if (err.code === 'ECONNRESET' || err.code === 'EPIPE' || !socket.writable) {
      socket.destroy();
      return;
    }
    const send = () => {
      if (!socket.writable) {
        socket.destroy();
        return;
      }
      const answer = listenOptions.errorResponse?.(kind);
      if (answer) socket.end(rawResponse(answer));
      else if (kind === 'HeaderTooLarge') socket.end('HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n\r\n');
      else if (kind === 'RequestTimeout') socket.end('HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n');
      else socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      // The answer is flushed, then the connection goes, whether or not the client reads it.
      setTimeout(() => socket.destroy(), 1000).unref();
    };
    const inFlight = socket[CURRENT];
    // The error is in the body of the request being served: the client closed mid-body
    // (HPE_INVALID_EOF_STATE) or framed it wrongly (a bad chunk). The request fails as one whose
    // client went away, so whoever reads it stops; the client gets BadRequest if it is still there.
    if (inFlight && !inFlight.req.complete) {
      const gone = err.code === 'HPE_INVALID_EOF_STATE';
      const answer = !gone && !inFlight.res.headersSent ? listenOptions.errorResponse?.(kind) : undefined;
      const fail = () => {
        inFlight.req.destroy(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
        socket.destroy();
      };
      if (answer) {
        inFlight.res.writeHead(answer.status, { ...answer.headers, Connection: 'close' });
        inFlight.res.end(answer.body, fail);
      } else fail();
      return;
    }
    // Bytes after a whole request that are not HTTP (a body longer than its Content-Length) are
    // a second, bad request: the first one's answer goes out first, unchanged, then this one's.
    if (inFlight && !inFlight.res.writableFinished) {
      inFlight.res.once('close', send);
      return;
    }
    send();
  };
  for (const s of servers) {
    s.on('timeout', onTimeout);
    s.on('clientError', onClientError);
  }
  // Past listen, a failed accept (out of descriptors) is reported, never thrown: the process
  // keeps answering on the connections it has.
  let lastAcceptError = 0;
  const onServerError = (err: NodeJS.ErrnoException) => {
    const now = Date.now();
    if (now - lastAcceptError < 10_000) return;
    lastAcceptError = now;
    process.stderr.write(`sealbox: cannot accept a connection on ${host}:${port} (${err.code ?? err.message}); existing connections are still served\n`);
  };
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(err.code === 'EADDRINUSE' ? new PortInUseError(host, port) : err);
    });
    server.listen(port, host, () => {
      server.removeAllListeners('error');
      server.on('error', onServerError);
      // Node starts checking header timeouts of a server's connections when it listens; the
      // sibling never does, so it is told the listener is up.
      secure?.emit('listening');
      const bound = (server.address() as AddressInfo).port;
      const urlHost = host.includes(':') ? `[${host}]` : host;
      const httpUrl = `http://${urlHost}:${bound}`;
      const httpsUrl = tls ? `https://${urlHost}:${bound}` : undefined;
      resolve({
        url: httpsUrl ?? httpUrl,
        httpUrl,
        ...(httpsUrl ? { httpsUrl } : {}),
        port: bound,
        server,
        close: (graceMs = 2000) => closeGracefully(server, secure, undecided, graceMs),
      });
    });
  });
}

const OVERFLOW = Symbol('sealbox.overflow');

function closeGracefully(server: Server, secure: HttpsServer | undefined, undecided: Set<Socket>, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      server.closeAllConnections();
      secure?.closeAllConnections();
    }, graceMs);
    timer.unref();
    // The listener's close waits for every connection it accepted, TLS ones included.
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    // The sibling was never listening: closing it stops its connection checks (the error
    // saying it was not running is expected).
    secure?.close(() => undefined);
    server.closeIdleConnections();
    secure?.closeIdleConnections();
    for (const socket of undecided) socket.destroy();
  });
}

/** What a request stream fails with when its client went quiet. */
export class RequestTimeoutError extends Error {
  readonly code = 'RequestTimeout';
  constructor() {
    super('the client sent nothing within the idle timeout');
  }
}

export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`request body larger than ${limit} bytes`);
  }
}

/** Reads a whole (small) body, refusing more than `limit` bytes before buffering them. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    return Promise.reject(new BodyTooLargeError(limit));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(new BodyTooLargeError(limit));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
    req.on('error', reject);
  });
}

/**
 * The request listener that skips express for a service's own requests: express (routing,
 * request and response decoration) costs more than a whole KMS call's JSON handling. Requests
 * whose path names `sealbox` in any case or encoding (Sealbox's admin endpoints live under
 * /_sealbox/) still go through `app`, exactly as before; so do all requests when `isApi` says no.
 */
export function apiFastPath(app: RequestListener, api: RequestListener, isApi: (req: IncomingMessage) => boolean = () => true): RequestListener {
  return (req, res) => {
    const url = req.url ?? '';
    if (!/sealbox|%5f|%73/i.test(url) && isApi(req)) api(req, res);
    else {
      // Admin endpoints take their bodies without checks on the headers first.
      if (/^\/_sealbox\//i.test(url)) acceptBody(req, res);
      app(req, res);
    }
  };
}

/** Listens with a service's app; closing the server then also closes the service's stores. */
export async function listenService<S extends { app: RequestListener; listener?: RequestListener; close(): void; errorResponse?: ListenOptions['errorResponse'] }>(
  service: S,
  host: string,
  port: number,
  tls?: { key: string; cert: string },
  options: Omit<ListenOptions, 'errorResponse'> = {},
): Promise<RunningServer> {
  let running: RunningServer;
  try {
    // The services send 100 Continue themselves, once a request's headers pass their checks.
    running = await listen(service.listener ?? service.app, host, port, tls, { ...options, handlesContinue: true, errorResponse: service.errorResponse?.bind(service) });
  } catch (err) {
    service.close();
    throw err;
  }
  return {
    ...running,
    close: async (graceMs?: number) => {
      await running.close(graceMs);
      service.close();
    },
  };
}
