import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import { STATUS_CODES, createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createServer as createHttpsServer } from 'node:https';

export interface RunningServer {
  /** `http://host:port` with the port actually bound. */
  url: string;
  port: number;
  server: Server;
  /** Stops accepting, lets requests in flight finish (up to `graceMs`), then closes every socket. */
  close(graceMs?: number): Promise<void>;
}

export class PortInUseError extends Error {
  constructor(readonly host: string, readonly port: number) {
    super(`port ${port} on ${host} is already in use; choose another with the port option, or 0 for a free one`);
  }
}

/** Why Node or the idle timer ended a request before (or while) the service answered it. */
export type ClientErrorKind = 'RequestTimeout' | 'HeaderTooLarge';

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
  /** The service's own words for these failures (S3's XML errors); Node's plain answer otherwise. */
  errorResponse?: (kind: ClientErrorKind) => ErrorResponse | undefined;
}

const CURRENT = Symbol('sealbox.currentExchange');
type TrackedSocket = Socket & { [CURRENT]?: { req: IncomingMessage; res: ServerResponse } };

function rawResponse(r: ErrorResponse): string {
  const body = Buffer.from(r.body, 'utf8');
  const head = Object.entries({ ...r.headers, 'Content-Length': String(body.length), Connection: 'close' }).map(([k, v]) => `${k}: ${v}`);
  return `HTTP/1.1 ${r.status} ${STATUS_CODES[r.status] ?? ''}\r\n${head.join('\r\n')}\r\n\r\n${r.body}`;
}

/** Serves `handler` on host:port, over HTTPS when `tls` is given. */
export function listen(
  handler: RequestListener,
  host: string,
  port: number,
  tls?: { key: string; cert: string },
  listenOptions: ListenOptions = {},
): Promise<RunningServer> {
  const idleMs = listenOptions.idleTimeoutMs ?? 20_000;
  // requestTimeout would cap a whole upload's duration; the idle timer bounds slow clients instead.
  const headersTimeout = listenOptions.headersTimeoutMs ?? 20_000;
  const options = { keepAliveTimeout: 5000, requestTimeout: 0, headersTimeout, connectionsCheckingInterval: Math.min(1000, headersTimeout) };
  const tracked: RequestListener = (req, res) => {
    const socket = req.socket as TrackedSocket;
    const exchange = { req, res };
    socket[CURRENT] = exchange;
    socket.setTimeout(idleMs);
    res.once('finish', () => {
      // Answered before the body was all sent (an early error): the idle timer keeps running, so
      // a client still trickling a body nobody needs is disconnected.
      if (!req.complete) return;
      if (socket[CURRENT] === exchange) socket[CURRENT] = undefined;
      socket.setTimeout(0);
    });
    handler(req, res);
  };
  const server: Server = tls ? createHttpsServer({ ...options, ...tls }, tracked) : createServer(options, tracked);
  server.on('timeout', (socket: TrackedSocket) => {
    const exchange = socket[CURRENT];
    // A request received whole and not yet answered is the server's work (a long multipart
    // completion): the client is not at fault, so the connection stays.
    if (exchange && exchange.req.complete && !exchange.res.headersSent) return;
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
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    const kind = err.code === 'HPE_HEADER_OVERFLOW' ? 'HeaderTooLarge' : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'RequestTimeout' : undefined;
    const answer = kind ? listenOptions.errorResponse?.(kind) : undefined;
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    if (answer) socket.end(rawResponse(answer));
    else if (kind === 'HeaderTooLarge') socket.end('HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n\r\n');
    else if (kind === 'RequestTimeout') socket.end('HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n');
    else socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    // The answer is flushed, then the connection goes, whether or not the client reads it.
    setTimeout(() => socket.destroy(), 1000).unref();
  });
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(err.code === 'EADDRINUSE' ? new PortInUseError(host, port) : err);
    });
    server.listen(port, host, () => {
      const bound = (server.address() as AddressInfo).port;
      const urlHost = host.includes(':') ? `[${host}]` : host;
      resolve({
        url: `${tls ? 'https' : 'http'}://${urlHost}:${bound}`,
        port: bound,
        server,
        close: (graceMs = 2000) => closeGracefully(server, graceMs),
      });
    });
  });
}

function closeGracefully(server: Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => server.closeAllConnections(), graceMs);
    timer.unref();
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
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
    else app(req, res);
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
    running = await listen(service.listener ?? service.app, host, port, tls, { ...options, errorResponse: service.errorResponse?.bind(service) });
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
