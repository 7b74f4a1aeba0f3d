import { readFileSync } from 'node:fs';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { inspectEvents, inspectKeys, type EventFilter, type KmsCore } from '@sealbox/kms';
import { inspectBuckets, inspectLifecycleEvents, inspectObjects, type S3State } from '@sealbox/s3';
import { checkAdminRequest, type AdminRule, type Clock } from '@sealbox/runtime';

/**
 * Sealbox's web console: a read-only page over the state of the KMS and S3 of this process
 * (keys, aliases, rotations, buckets, objects, lifecycle removals and the CloudTrail event log), served as plain
 * files beside a small JSON API. Nothing here changes state, and nothing shows key material,
 * data keys or object bytes: the views come from @sealbox/kms and @sealbox/s3's inspect functions.
 */
export interface ConsoleSources {
  /** The current services' state (reset() replaces them, so they are read on every request). */
  kms: () => KmsCore;
  s3: () => S3State;
  clock: Clock;
  /** The address the console listens on: requests naming it as their Host are accepted. */
  host: string;
  /** More Host names to accept (--allow-host). */
  allowedHosts?: readonly string[];
  /** Shown in the page's header. */
  endpoints: { kms: string; s3: string; region: string };
}

/**
 * The page's files, read once. They live in packages/cli/assets/console (shipped with the
 * package), two levels above both src/console and dist/console. Requests pick from this fixed
 * map: no part of a URL ever reaches the file system.
 */
const ASSETS_DIR = join(__dirname, '..', '..', 'assets', 'console');
const ASSET_FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/console.css': { file: 'console.css', type: 'text/css; charset=utf-8' },
  '/console.js': { file: 'console.js', type: 'text/javascript; charset=utf-8' },
  // Browsers ask for /favicon.ico whatever the page says.
  '/favicon.ico': { file: 'favicon.svg', type: 'image/svg+xml' },
  '/favicon.svg': { file: 'favicon.svg', type: 'image/svg+xml' },
};

/** Everything comes from this origin: no inline script or style, no framing, no other hosts. */
const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

const DEFAULT_EVENTS = 200;
const MAX_EVENTS = 1000;
const MAX_VERSIONS = 1000;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly rule?: AdminRule,
  ) {
    super(message);
  }
}

export function consoleHandler(sources: ConsoleSources): RequestListener {
  const assets = new Map(Object.entries(ASSET_FILES).map(([path, a]) => [path, { body: readFileSync(join(ASSETS_DIR, a.file)), type: a.type }]));

  const api: Record<string, (query: URLSearchParams) => unknown> = {
    '/api/overview': () => ({ ...sources.endpoints, now: sources.clock.now().getTime() }),
    '/api/keys': () => ({ keys: inspectKeys(sources.kms()) }),
    '/api/buckets': () => ({ buckets: inspectBuckets(sources.s3()) }),
    '/api/objects': (query) => {
      const bucket = query.get('bucket');
      if (!bucket) throw new HttpError(400, 'the bucket parameter is required');
      const found = inspectObjects(sources.s3(), bucket, MAX_VERSIONS);
      if (!found) throw new HttpError(404, `no bucket named ${bucket}`);
      return { bucket, ...found };
    },
    // What S3's lifecycle rules removed, oldest first (the page polls with ?after=cursor).
    '/api/lifecycle': (query) => inspectLifecycleEvents(sources.s3(), count(query, 'after') ?? 0, Math.min(count(query, 'limit') ?? DEFAULT_EVENTS, MAX_EVENTS)),
    '/api/events': (query) => {
      const after = count(query, 'after') ?? 0;
      const limit = Math.min(count(query, 'limit') ?? DEFAULT_EVENTS, MAX_EVENTS);
      const filter: EventFilter = {};
      for (const name of ['key', 'eventName', 'user', 'error'] as const) {
        const value = query.get(name)?.trim();
        if (value) filter[name] = value;
      }
      return inspectEvents(sources.kms(), after, limit, filter);
    },
  };

  // The page polls every second: a failure that persists (the event log on a full disk) is said
  // once, with its stack, until a different one happens.
  let lastReported: string | undefined;
  const reportOnce = (err: unknown) => {
    const message = err instanceof Error ? err.message : String(err);
    if (message === lastReported) return;
    lastReported = message;
    process.stderr.write(`sealbox console: internal error: ${err instanceof Error ? err.stack : message}\n`);
  };

  return (req: IncomingMessage, res: ServerResponse) => {
    // Nothing of a request body is wanted; drain it so the connection can be reused.
    req.resume();
    try {
      // Sealbox's one rule for its admin requests: its own Host (against DNS rebinding), no
      // foreign Origin (the console's own page is welcome), no CORS preflight. Nothing here
      // changes state, so every other method is refused below whatever its content type.
      const refusal = checkAdminRequest(req, { hosts: [sources.host, ...(sources.allowedHosts ?? [])], allowOwnOrigin: true, changesState: false });
      if (refusal) throw new HttpError(refusal.status, refusal.error, refusal.rule);
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.setHeader('allow', 'GET, HEAD');
        throw new HttpError(405, 'the console is read-only: GET and HEAD only');
      }
      const url = new URL(req.url ?? '/', 'http://console');
      const asset = assets.get(url.pathname);
      if (asset) return send(req, res, 200, asset.type, asset.body);
      const route = api[url.pathname];
      if (!route) throw new HttpError(404, 'not found');
      send(req, res, 200, 'application/json; charset=utf-8', Buffer.from(JSON.stringify(route(url.searchParams))));
    } catch (err) {
      const status = err instanceof HttpError ? err.status : 500;
      const message = err instanceof HttpError ? err.message : 'internal error';
      if (!(err instanceof HttpError)) reportOnce(err);
      const rule = err instanceof HttpError && err.rule ? { rule: err.rule } : {};
      send(req, res, status, 'application/json; charset=utf-8', Buffer.from(JSON.stringify({ error: message, ...rule })));
    }
  };
}

function send(req: IncomingMessage, res: ServerResponse, status: number, type: string, body: Buffer): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type, 'content-length': body.length });
  res.end(req.method === 'HEAD' ? undefined : body);
}

function count(query: URLSearchParams, name: string): number | undefined {
  const value = query.get(name);
  if (value === null) return undefined;
  if (!/^\d{1,15}$/.test(value)) throw new HttpError(400, `${name} must be a whole number`);
  return Number(value);
}
