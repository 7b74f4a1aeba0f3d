import { STATUS_CODES, type Server } from 'node:http';
import type { Socket } from 'node:net';

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
  /** Header fields; Content-Length and Connection are the front's. */
  headers: Record<string, string>;
  /** The body, sent as UTF-8. */
  body: string;
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
  const length = headers['content-length'];
  if (length === undefined || !/^\d{1,15}$/.test(length)) return undefined;
  const connection = (headers['connection'] ?? '').toLowerCase();
  if (connection !== '' && connection !== 'keep-alive' && connection !== 'close') return undefined;
  return { method: request[1]!, url: request[2]!, rawHeaders, headers, bodyLength: Number(length), close: connection === 'close' };
}

/** The response bytes, with the headers Node's server sends on a keep-alive connection. */
export function responseText(res: FastResponse, close: boolean, keepAliveMs: number): string {
  let text = `HTTP/1.1 ${res.status} ${STATUS_CODES[res.status] ?? ''}\r\n`;
  for (const name in res.headers) text += `${name}: ${res.headers[name]}\r\n`;
  text += `Content-Length: ${Buffer.byteLength(res.body, 'utf8')}\r\n`;
  text += close ? 'Connection: close\r\n\r\n' : `Connection: keep-alive\r\nKeep-Alive: timeout=${Math.floor(keepAliveMs / 1000)}\r\n\r\n`;
  return text + res.body;
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
  let buf: Buffer | null = null;
  let head: Head | undefined;
  let busy = false;
  let answered = 0;
  const encrypted = (socket as { encrypted?: boolean }).encrypted === true;
  sockets.set(socket, { idle: () => !busy && buf === null });
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
    if (buf) socket.unshift(buf);
    buf = null;
    handOver();
    socket.resume();
  };

  const onTimeout = () => {
    if (busy) return;
    if (buf === null && answered > 0) {
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
    buf = buf ? Buffer.concat([buf, chunk]) : chunk;
    if (!busy) next();
  };
  const onClose = () => sockets.delete(socket);
  const onError = () => socket.destroy();

  const next = (): void => {
    while (buf !== null) {
      if (!head) {
        const end = buf.indexOf(CRLFCRLF);
        if (end < 0 ? buf.length > options.maxHeaderBytes : end > options.maxHeaderBytes) return toNode();
        if (end < 0) break;
        const parsed = parseHead(buf.toString('latin1', 0, end));
        if (!parsed || parsed.bodyLength > fast.maxBodyBytes || !fast.accepts(parsed.method, parsed.url, parsed.headers)) return toNode();
        head = { ...parsed, bodyStart: end + 4 };
      }
      const bodyEnd = head.bodyStart + head.bodyLength;
      if (buf.length < bodyEnd) break;
      const body = buf.subarray(head.bodyStart, bodyEnd);
      buf = buf.length > bodyEnd ? buf.subarray(bodyEnd) : null;
      dispatch(head, body);
      head = undefined;
      return;
    }
    socket.setTimeout(buf === null && answered > 0 ? options.keepAliveMs : options.idleMs);
  };

  const dispatch = (request: Head, body: Buffer) => {
    busy = true;
    socket.setTimeout(0);
    socket.pause();
    fast
      .handle({ method: request.method, url: request.url, rawHeaders: request.rawHeaders, headers: request.headers, body, remoteAddress: socket.remoteAddress, encrypted })
      .then(
        (res) => {
          busy = false;
          answered++;
          if (socket.destroyed) return;
          // A server that is closing answers the request in flight and ends the connection, as Node's does.
          if (request.close || !listening()) {
            detach();
            socket.end(responseText(res, true, options.keepAliveMs));
            return;
          }
          socket.write(responseText(res, false, options.keepAliveMs));
          socket.resume();
          next();
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
