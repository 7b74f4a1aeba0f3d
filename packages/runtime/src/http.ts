import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { IncomingMessage, RequestListener } from 'node:http';
import { createServer } from 'node:http';
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

/** Serves `handler` on host:port, over HTTPS when `tls` is given. */
export function listen(handler: RequestListener, host: string, port: number, tls?: { key: string; cert: string }): Promise<RunningServer> {
  const options = { keepAliveTimeout: 5000, requestTimeout: 300_000, headersTimeout: 60_000 };
  const server: Server = tls ? createHttpsServer({ ...options, ...tls }, handler) : createServer(options, handler);
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

/** Listens with a service's app; closing the server then also closes the service's stores. */
export async function listenService<S extends { app: RequestListener; close(): void }>(
  service: S,
  host: string,
  port: number,
  tls?: { key: string; cert: string },
): Promise<RunningServer> {
  let running: RunningServer;
  try {
    running = await listen(service.app, host, port, tls);
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
