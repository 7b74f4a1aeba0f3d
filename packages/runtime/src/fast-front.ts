import { STATUS_CODES, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';

/** A request the fast path answers: its head parsed and its whole body received. */
export interface FastRequest {
  method: string;
  url: string;
  /** Names and values as received, alternating, like IncomingMessage.rawHeaders. */
  rawHeaders: string[];
  /** Lower-cased names. No name repeats: a request that repeats a header goes to Node's server. */
  headers: Record<string, string>;
  body: Buffer;
  remoteAddress: string | undefined;
  /** Whether the connection is TLS. */
  encrypted: boolean;
}

export interface FastResponse {
  status: number;
  /**
   * Header fields, written as given (Latin-1, as Node writes them). Connection is the front's;
   * Content-Length is added for a string or Buffer body when absent.
   */
  headers: Record<string, string | number>;
  /** A string is sent as UTF-8; a stream is sent as it flows (with its Content-Length given). */
  body?: string | Buffer | Readable;
  /** HEAD: the headers only (a stream body is destroyed unread). */
  headOnly?: boolean;
}

/**
 * A service's plain requests, answered without Node's HTTP machinery (IncomingMessage,
 * ServerResponse, their streams and events), which costs more than a whole KMS call's own work.
 */
export interface FastPath {
  /** Whether `handle` answers this request, its head received; Node's server gets the rest. */
  accepts(method: string, url: string, headers: Record<string, string>): boolean;
  /** Always resolves, with the service's own answer to every failure. */
  handle(req: FastRequest): Promise<FastResponse>;
  /** A declared body larger than this goes to Node's server, which answers it as the service does. */
  maxBodyBytes: number;
}

export interface FrontOptions {
  /** A request that stalls part-way is ended after this long (ListenOptions.idleTimeoutMs). */
  idleMs: number;
  /** A connection idle between requests is closed after this long (Node's keepAliveTimeout). */
  keepAliveMs: number;
  /** Node's limit on a request head; a longer one goes to Node, which refuses it. */
  maxHeaderBytes: number;
  /** The answer to a head that never completes: the service's, or Node's 408. */
  headTimeoutResponse: () => string;
  /** The answer to a body that stops arriving, or undefined to close the connection silently. */
  bodyTimeoutResponse: () => string | undefined;
}

const CRLFCRLF = Buffer.from('\r\n\r\n');
const REQUEST_LINE = /^([A-Z]+) (\S+) HTTP\/1\.1$/;
// A token, a colon, a value of visible characters, spaces, tabs and obs-text. Anything else
// (folded lines, control characters, a space before the colon) is Node's to judge.
const HEADER_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*([^\x00-\x08\x0a-\x1f\x7f]*?)[ \t]*$/;

interface Head {
  method: string;
  url: string;
  rawHeaders: string[];
  headers: Record<string, string>;
  bodyLength: number;
  /** Offset of the body in the buffer. */
  bodyStart: number;
  close: boolean;
}

/**
 * Parses a request head (without its final blank line). Undefined when anything is unusual:
 * another HTTP version, a repeated header, Transfer-Encoding, Expect, Upgrade, a missing or odd
 * Content-Length. Node's server then handles the connection, exactly as before.
 */
export function parseHead(text: string): Omit<Head, 'bodyStart'> | undefined {
  const lines = text.split('\r\n');
  const request = REQUEST_LINE.exec(lines[0]!);
  if (!request) return undefined;
  const rawHeaders: string[] = [];
  const headers: Record<string, string> = Object.create(null);
  for (let i = 1; i < lines.length; i++) {
    const m = HEADER_LINE.exec(lines[i]!);
    if (!m) return undefined;
    const name = m[1]!.toLowerCase();
    if (headers[name] !== undefined) return undefined;
    headers[name] = m[2]!;
    rawHeaders.push(m[1]!, m[2]!);
  }
  if (headers['transfer-encoding'] !== undefined || headers['expect'] !== undefined || headers['upgrade'] !== undefined) return undefined;
  // No Content-Length (and no Transfer-Encoding): no body, as for Node.
  const length = headers['content-length'] ?? '0';
  if (!/^\d{1,15}$/.test(length)) return undefined;
  const connection = (headers['connection'] ?? '').toLowerCase();
  if (connection !== '' && connection !== 'keep-alive' && connection !== 'close') return undefined;
  return { method: request[1]!, url: request[2]!, rawHeaders, headers, bodyLength: Number(length), close: connection === 'close' };
}

// What Node's ServerResponse refuses to write (ERR_INVALID_HTTP_TOKEN, ERR_INVALID_CHAR).
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const INVALID_VALUE = /[^\t\x20-\x7e\x80-\xff]/;

/** The error for a header Node would refuse to write: a response must never be split. */
export class InvalidHeaderError extends Error {
  constructor(readonly header: string) {
    super(`invalid character in response header ${JSON.stringify(header)}`);
  }
}

function bodyLength(res: FastResponse): number | undefined {
  if (res.body === undefined) return 0;
  if (typeof res.body === 'string') return Buffer.byteLength(res.body, 'utf8');
  return res.body instanceof Readable ? undefined : res.body.length;
}

/** The status line and headers, with those Node's server adds on a keep-alive connection. */
export function responseHead(res: FastResponse, close: boolean, keepAliveMs: number): string {
  let text = `HTTP/1.1 ${res.status} ${STATUS_CODES[res.status] ?? ''}\r\n`;
  let hasLength = false;
  for (const name in res.headers) {
    const value = String(res.headers[name]);
    if (!TOKEN.test(name) || INVALID_VALUE.test(value)) throw new InvalidHeaderError(name);
    if (name.length === 14 && name.toLowerCase() === 'content-length') hasLength = true;
    text += `${name}: ${value}\r\n`;
  }
  if (!hasLength) {
    const length = bodyLength(res);
    if (length === undefined) throw new Error('a streamed body needs its Content-Length');
    text += `Content-Length: ${length}\r\n`;
  }
  return text + (close ? 'Connection: close\r\n\r\n' : `Connection: keep-alive\r\nKeep-Alive: timeout=${Math.floor(keepAliveMs / 1000)}\r\n\r\n`);
}

/** The whole response as one string, for a string body (used when the head is ASCII). */
export function responseText(res: FastResponse, close: boolean, keepAliveMs: number): string {
  return responseHead(res, close, keepAliveMs) + (res.headOnly || res.body === undefined ? '' : String(res.body));
}

// eslint-disable-next-line no-control-regex
const NON_ASCII = /[^\x00-\x7f]/;

/**
 * Writes a response on the socket; `done` runs once it is all handed to the socket (a stream body
 * has ended), or with an error (the connection is then destroyed).
 */
function writeResponse(socket: Socket, res: FastResponse, close: boolean, keepAliveMs: number, done: (err?: Error) => void): void {
  const head = responseHead(res, close, keepAliveMs);
  const body = res.body;
  const noBody = res.headOnly === true || res.status === 204 || res.status === 304;
  if (body instanceof Readable) {
    if (noBody) {
      body.destroy();
      socket.write(head, 'latin1');
      done();
      return;
    }
    socket.write(head, 'latin1');
    const onDrain = () => body.resume();
    const cleanup = () => {
      body.removeListener('data', onData);
      body.removeListener('end', onEnd);
      body.removeListener('error', onError);
      socket.removeListener('drain', onDrain);
      socket.removeListener('close', onClose);
    };
    const onData = (chunk: Buffer) => {
      if (!socket.write(chunk)) body.pause();
    };
    const onEnd = () => {
      cleanup();
      done();
    };
    const onError = (err: Error) => {
      cleanup();
      done(err);
    };
    const onClose = () => {
      cleanup();
      body.destroy();
      done(new Error('the connection closed'));
    };
    body.on('data', onData);
    body.once('end', onEnd);
    body.once('error', onError);
    socket.on('drain', onDrain);
    socket.once('close', onClose);
    return;
  }
  if (noBody || body === undefined) socket.write(head, 'latin1');
  else if (typeof body === 'string' && !NON_ASCII.test(head)) socket.write(head + body, 'utf8');
  else if (typeof body !== 'string' && body.length <= 16 * 1024) socket.write(Buffer.concat([Buffer.from(head, 'latin1'), body]));
  else {
    socket.cork();
    socket.write(head, 'latin1');
    socket.write(body);
    socket.uncork();
  }
  done();
}

/** Writes a FastResponse through Node's ServerResponse (the requests the fast front passed on). */
export function sendThroughNode(res: ServerResponse, answer: FastResponse, onError: (err: unknown) => void): void {
  // Already answered (the idle timer's RequestTimeout): nothing more can be said.
  if (res.headersSent) {
    if (answer.body instanceof Readable) answer.body.destroy();
    res.destroy();
    return;
  }
  const headers: Record<string, string | number> = { ...answer.headers };
  let hasLength = false;
  for (const name in headers) if (name.toLowerCase() === 'content-length') hasLength = true;
  const length = hasLength ? undefined : bodyLength(answer);
  if (length !== undefined) headers['Content-Length'] = length;
  try {
    res.writeHead(answer.status, headers);
  } catch (err) {
    if (answer.body instanceof Readable) answer.body.destroy();
    onError(err);
    res.destroy();
    return;
  }
  if (answer.body instanceof Readable) {
    if (answer.headOnly) {
      answer.body.destroy();
      res.end();
    } else answer.body.pipe(res);
    return;
  }
  res.end(answer.headOnly ? undefined : answer.body);
}

const FAST_SOCKETS = Symbol('sealbox.fastSockets');
type FrontServer = Server & { [FAST_SOCKETS]?: Map<Socket, { idle(): boolean }> };

/**
 * Puts `fast` in front of a Node HTTP (or HTTPS) server. Each new connection is read here first;
 * requests `fast` accepts are answered here, and at the first request it does not (or one that is
 * unusual in any way) the connection is handed, with every byte not yet answered, to Node's own
 * connection handling, which keeps it to the end. Node's server still listens, tracks and closes
 * every connection, and enforces its timeouts on those handed over.
 */
export function installFastFront(server: Server, tls: boolean, fast: FastPath, options: FrontOptions): void {
  const event = tls ? 'secureConnection' : 'connection';
  const nodeListeners = server.listeners(event) as ((socket: Socket) => void)[];
  if (nodeListeners.length !== 1) throw new Error(`expected Node's own ${event} listener`);
  const nodeConnection = nodeListeners[0]!;
  server.removeListener(event, nodeConnection);
  const sockets = new Map<Socket, { idle(): boolean }>();
  (server as FrontServer)[FAST_SOCKETS] = sockets;
  server.on(event, (socket: Socket) => serveConnection(socket, fast, options, sockets, () => server.listening, () => nodeConnection.call(server, socket)));
}

/** Closes the connections still read by the fast path: all of them, or only those between requests. */
export function closeFastConnections(server: Server, idleOnly: boolean): void {
  const sockets = (server as FrontServer)[FAST_SOCKETS];
  if (!sockets) return;
  for (const [socket, state] of sockets) if (!idleOnly || state.idle()) socket.destroy();
}

function serveConnection(
  socket: Socket,
  fast: FastPath,
  options: FrontOptions,
  sockets: Map<Socket, { idle(): boolean }>,
  listening: () => boolean,
  handOver: () => void,
): void {
  // Bytes received and not yet answered; joined only when a head is sought or a body complete, so
  // a body arriving in many reads is copied once.
  let chunks: Buffer[] = [];
  let size = 0;
  const joined = (): Buffer => {
    if (chunks.length > 1) chunks = [Buffer.concat(chunks, size)];
    return chunks[0]!;
  };
  let head: Head | undefined;
  let busy = false;
  let streaming = false;
  let answered = 0;
  const encrypted = (socket as { encrypted?: boolean }).encrypted === true;
  sockets.set(socket, { idle: () => !busy && size === 0 });
  socket.setNoDelay(true);

  const detach = () => {
    socket.removeListener('data', onData);
    socket.removeListener('timeout', onTimeout);
    socket.removeListener('close', onClose);
    socket.removeListener('error', onError);
    socket.setTimeout(0);
    sockets.delete(socket);
  };

  const toNode = () => {
    socket.pause();
    detach();
    if (size > 0) socket.unshift(joined());
    chunks = [];
    size = 0;
    handOver();
    socket.resume();
  };

  const onTimeout = () => {
    // A client that stops reading a streamed body is dropped, as Node's server drops it.
    if (streaming) {
      socket.destroy();
      return;
    }
    if (busy) return;
    if (size === 0 && answered > 0) {
      socket.destroy(); // idle between requests: Node's keep-alive timeout
      return;
    }
    const answer = head ? options.bodyTimeoutResponse() : options.headTimeoutResponse();
    detach();
    if (answer === undefined || !socket.writable) {
      socket.destroy();
      return;
    }
    socket.end(answer);
    setTimeout(() => socket.destroy(), 1000).unref();
  };

  const onData = (chunk: Buffer) => {
    chunks.push(chunk);
    size += chunk.length;
    if (!busy) next();
  };
  const onClose = () => sockets.delete(socket);
  const onError = () => socket.destroy();

  const next = (): void => {
    while (size > 0) {
      if (!head) {
        const buf = joined();
        const end = buf.indexOf(CRLFCRLF);
        if (end < 0 ? buf.length > options.maxHeaderBytes : end > options.maxHeaderBytes) return toNode();
        if (end < 0) break;
        const parsed = parseHead(buf.toString('latin1', 0, end));
        if (!parsed || parsed.bodyLength > fast.maxBodyBytes || !fast.accepts(parsed.method, parsed.url, parsed.headers)) return toNode();
        head = { ...parsed, bodyStart: end + 4 };
      }
      const bodyEnd = head.bodyStart + head.bodyLength;
      if (size < bodyEnd) break;
      const buf = joined();
      const body = buf.subarray(head.bodyStart, bodyEnd);
      chunks = buf.length > bodyEnd ? [buf.subarray(bodyEnd)] : [];
      size = buf.length - bodyEnd;
      dispatch(head, body);
      head = undefined;
      return;
    }
    socket.setTimeout(size === 0 && answered > 0 ? options.keepAliveMs : options.idleMs);
  };

  const dispatch = (request: Head, body: Buffer) => {
    busy = true;
    socket.setTimeout(0);
    socket.pause();
    let answer: Promise<FastResponse>;
    try {
      answer = fast.handle({ method: request.method, url: request.url, rawHeaders: request.rawHeaders, headers: request.headers, body, remoteAddress: socket.remoteAddress, encrypted });
    } catch {
      socket.destroy();
      return;
    }
    answer.then(
        (res) => {
          answered++;
          if (socket.destroyed) {
            if (res.body instanceof Readable) res.body.destroy();
            return;
          }
          // A server that is closing answers the request in flight and ends the connection, as Node's does.
          const close = request.close || !listening();
          if (close) detach();
          const done = (err?: Error) => {
            busy = false;
            streaming = false;
            if (err) socket.destroy();
            else if (close) socket.end();
            else {
              socket.resume();
              next();
            }
          };
          if (res.body instanceof Readable) {
            streaming = true;
            socket.setTimeout(options.idleMs);
          }
          try {
            writeResponse(socket, res, close, options.keepAliveMs, done);
          } catch (err) {
            if (res.body instanceof Readable) res.body.destroy();
            done(err as Error);
          }
        },
        () => socket.destroy(),
      );
  };

  socket.on('data', onData);
  socket.on('timeout', onTimeout);
  socket.on('close', onClose);
  socket.on('error', onError);
  socket.setTimeout(options.idleMs);
}
