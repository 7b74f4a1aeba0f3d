import { readFileSync } from 'node:fs';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { inspectEvents, inspectKeys, type EventFilter, type KmsCore } from '@sealbox/kms';
import { inspectBuckets, inspectLifecycleEvents, inspectObjects, type S3State } from '@sealbox/s3';
import { AdminInputError, checkAdminRequest, decisionsDocument, requestDecision, requestSummary, type AdminRule, type Clock, type DecisionRecord, type RequestLog, type RequestRecord } from '@sealbox/runtime';
import type { Credentials } from '@sealbox/sigv4';
import { inspectBucketAccess, inspectIdentities, inspectKeyAccess, withMultiRegion } from './access';

/**
 * Sealbox's web console: a read-only page over the state of the KMS and S3 of this process
 * (keys, aliases, rotations, buckets, objects, lifecycle removals and the CloudTrail event log; key policies, grants,
 * bucket policies, Block Public Access, ACLs and the seeded identities; both services' request
 * logs with their decision records), served as plain files beside a small JSON API. Nothing here
 * changes state (the one POST, "what if", evaluates a request without making it), and nothing
 * shows key material, data keys, object bytes or secrets: the views come from @sealbox/kms and
 * @sealbox/s3's inspect functions and ./access.ts, which build them field by field.
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
  endpoints: { kms: string; s3: string; region: string; cli?: { kms: string; s3: string; caBundle?: string } };
  /** The configured credentials (the console shows identities and their policies, never secrets). */
  credentials?: () => readonly Credentials[];
  /** Each service's request log (GET /_sealbox/requests): the Requests view. */
  requests?: { kms?: RequestLog; s3?: RequestLog };
  /** POST /_sealbox/decisions/simulate of either service: the "What if" form. */
  simulate?: (service: 'kms' | 's3', input: Record<string, unknown>) => DecisionRecord;
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
const DEFAULT_REQUESTS = 200;
/** A "what if" question is a few hundred bytes; the services' own endpoint takes 64 KiB. */
const MAX_SIMULATE_BODY = 64 * 1024;
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
    '/api/keys': () => {
      const core = sources.kms();
      return { keys: withMultiRegion(core, inspectKeys(core)) };
    },
    '/api/key': (query) => {
      const arn = query.get('arn');
      if (!arn) throw new HttpError(400, 'the arn parameter is required');
      const found = inspectKeyAccess(sources.kms(), arn);
      if (!found) throw new HttpError(404, `no key ${arn}`);
      return found;
    },
    '/api/buckets': () => ({ buckets: inspectBuckets(sources.s3()) }),
    '/api/bucket': (query) => {
      const name = query.get('name');
      if (!name) throw new HttpError(400, 'the name parameter is required');
      const found = inspectBucketAccess(sources.s3(), name, accountIds());
      if (!found) throw new HttpError(404, `no bucket named ${name}`);
      return found;
    },
    '/api/identities': () => ({ accounts: inspectIdentities(sources.credentials?.() ?? []) }),
    '/api/requests': (query) => {
      const service = query.get('service') ?? '';
      if (service !== '' && service !== 'kms' && service !== 's3') throw new HttpError(400, 'service must be kms or s3');
      const limit = Math.min(count(query, 'limit') ?? DEFAULT_REQUESTS, MAX_EVENTS);
      // failed=1: every failure (4xx and 5xx); failed=denied: the requests an authorization denied.
      const failed = query.get('failed') ?? '';
      if (failed !== '' && failed !== '1' && failed !== 'denied') throw new HttpError(400, 'failed must be 1 or denied');
      const text = query.get('q')?.trim().toLowerCase() ?? '';
      const logs = (['kms', 's3'] as const).filter((s) => (service === '' || service === s) && sources.requests?.[s]);
      const matches = (r: RequestRecord) =>
        !text || [r.requestId, r.operation, r.principal ?? 'anonymous', r.accessKeyId, r.errorCode, String(r.status), r.message].some((v) => v !== undefined && v.toLowerCase().includes(text));
      const found: RequestRecord[] = [];
      for (const s of logs) {
        let taken = 0;
        for (const r of sources.requests![s]!.newest()) {
          if (taken >= limit) break;
          if ((failed === '1' && r.status < 400) || (failed === 'denied' && requestDecision(r) !== 'Deny') || !matches(r)) continue;
          found.push(r);
          taken++;
        }
      }
      // Newest first across both services; a stable sort keeps each log's own order on a tie.
      found.sort((a, b) => b.time.getTime() - a.time.getTime());
      const kept = sources.requests !== undefined && logs.length > 0;
      return { requests: found.slice(0, limit).map(requestSummary), logging: kept };
    },
    '/api/decisions': (query) => {
      const id = query.get('id');
      if (!id) throw new HttpError(400, 'the id parameter is required');
      for (const s of ['s3', 'kms'] as const) {
        const record = sources.requests?.[s]?.get(id);
        if (!record) continue;
        const doc = decisionsDocument(record);
        // The KMS calls an S3 request made (SSE-KMS): their summaries, to open from the record.
        const kmsRequests = (record.kmsRequestIds ?? []).map((k) => sources.requests?.kms?.get(k)).filter((r): r is RequestRecord => r !== undefined).map(requestSummary);
        return kmsRequests.length ? { ...doc, kmsRequests } : doc;
      }
      throw new HttpError(404, `no request ${id.slice(0, 80)} among the recent requests of either service (a reset clears them)`);
    },
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

  const accountIds = () => [...new Set((sources.credentials?.() ?? []).filter((c) => !c.service).map((c) => c.accountId))];

  /** POST /api/simulate: "what if", the services' own simulation, for the console's form. */
  const simulate = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_SIMULATE_BODY && !refused) {
        refused = true;
        sendJson(req, res, 413, { error: `the body is larger than ${MAX_SIMULATE_BODY} bytes` });
        req.resume();
      } else if (!refused) chunks.push(chunk);
    });
    req.on('error', () => undefined);
    req.on('end', () => {
      if (refused) return;
      let input: unknown;
      try {
        input = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return sendJson(req, res, 400, { error: 'the body must be JSON: {"service", "principal", "action", "resource", "context"?}' });
      }
      if (typeof input !== 'object' || input === null || Array.isArray(input)) return sendJson(req, res, 400, { error: 'the body must be a JSON object' });
      const body = input as Record<string, unknown>;
      // The service, when not named, is the action's: kms:Decrypt, s3:PutObject.
      const service = body.service ?? (typeof body.action === 'string' ? /^(kms|s3):/i.exec(body.action)?.[1]?.toLowerCase() : undefined);
      if (service !== 'kms' && service !== 's3') return sendJson(req, res, 400, { error: 'service must be kms or s3 (or the action named as kms:... or s3:...)' });
      if (!sources.simulate) return sendJson(req, res, 400, { error: 'this console cannot simulate requests' });
      try {
        sendJson(req, res, 200, sources.simulate(service, body));
      } catch (err) {
        if (err instanceof AdminInputError) return sendJson(req, res, err.status, { error: err.message, code: err.code });
        reportOnce(err);
        sendJson(req, res, 500, { error: 'internal error' });
      }
    });
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
    try {
      const url = new URL(req.url ?? '/', 'http://console');
      const simulating = url.pathname === '/api/simulate';
      // Nothing of a request body is wanted (but a "what if" question's); drain it so the
      // connection can be reused.
      if (!simulating || req.method !== 'POST') req.resume();
      // Sealbox's one rule for its admin requests: its own Host (against DNS rebinding), no
      // foreign Origin (the console's own page is welcome), no CORS preflight. Nothing here
      // changes state, so every other method is refused below whatever its content type; the
      // "what if" POST changes nothing either, but takes a JSON body as the services' own
      // simulate endpoint does, which no page of another origin can send without a preflight.
      const refusal = checkAdminRequest(req, { hosts: [sources.host, ...(sources.allowedHosts ?? [])], allowOwnOrigin: true, changesState: simulating && req.method === 'POST' });
      if (refusal) {
        if (simulating && req.method === 'POST') req.resume();
        throw new HttpError(refusal.status, refusal.error, refusal.rule);
      }
      if (simulating) {
        if (req.method === 'POST') return simulate(req, res);
        res.setHeader('allow', 'POST');
        throw new HttpError(405, 'POST a JSON question: {"service", "principal", "action", "resource", "context"?}');
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.setHeader('allow', 'GET, HEAD');
        throw new HttpError(405, 'the console is read-only: GET and HEAD only');
      }
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

function sendJson(req: IncomingMessage, res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  send(req, res, status, 'application/json; charset=utf-8', Buffer.from(JSON.stringify(body)));
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
