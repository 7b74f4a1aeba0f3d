import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIP } from 'node:net';

/**
 * The one rule for Sealbox's admin requests (the `/_sealbox/` endpoints of KMS and S3, and the
 * web console's API), against the requests any web page the user opens can make:
 *
 * - A simple cross-origin request (a form post, `fetch` in no-cors mode, `sendBeacon`) can only
 *   carry `text/plain`, `application/x-www-form-urlencoded` or `multipart/form-data`, and the
 *   browser sends it without asking. Requiring `application/json` on every request that changes
 *   state forces a CORS preflight, which is refused.
 * - DNS rebinding (a page whose name is made to resolve to 127.0.0.1) turns the page into a
 *   same-origin client of Sealbox, but the browser still sends the page's name as `Host`: only
 *   Sealbox's own addresses are accepted there.
 * - Any other `Origin` is refused, `null` (sandboxed frames, file: pages) included. For KMS and
 *   S3 even their own origin is refused: S3 serves stored objects, which can be HTML pages, from
 *   that very origin. The console accepts its own origin, where its page comes from.
 *
 * CORS: https://fetch.spec.whatwg.org/#cors-safelisted-request-header (the three simple content
 * types), https://fetch.spec.whatwg.org/#cors-preflight-fetch (the preflight a JSON body needs).
 */
export interface AdminRequestRules {
  /**
   * Host names accepted besides the loopback ones (127.0.0.1, localhost, ::1) and the address the
   * connection arrived at: the `--host` value and names allowed with `--allow-host`.
   */
  hosts?: readonly string[];
  /** The request's own origin (scheme and Host of this very request) may send it: the console. */
  allowOwnOrigin?: boolean;
  /** The request changes state: its body must be `application/json`. */
  changesState: boolean;
  /**
   * The endpoint takes no body (reset, snapshots), and moto's clients call it with none and no
   * Content-Type (`requests.post(url)`): a request with an empty body and no Content-Type passes
   * the content-type rule. A browser's bodiless POST (`fetch(url, {method: 'POST', mode:
   * 'no-cors'})`) also comes without Content-Type and without a preflight, but browsers send
   * `Origin` on every POST (https://fetch.spec.whatwg.org/#origin-header), so the Origin rule
   * refuses it, and the Host rule still refuses DNS rebinding. A simple content type (text/plain,
   * a form) stays refused even without a body: that is what only a page sends.
   */
  bodyless?: boolean;
}

export type AdminRule = 'cors-preflight' | 'host' | 'origin' | 'content-type';

export interface AdminRefusal {
  status: 403 | 415;
  rule: AdminRule;
  error: string;
}

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '::1'];

/** What a refused request is told; never with an `Access-Control-Allow-*` header. */
export function checkAdminRequest(req: IncomingMessage, rules: AdminRequestRules): AdminRefusal | undefined {
  const path = (req.url ?? '').split('?')[0];
  if (req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined) {
    return {
      status: 403,
      rule: 'cors-preflight',
      error: `cors-preflight: ${path} answers no cross-origin request (a web page may not call Sealbox's admin endpoints)`,
    };
  }
  const host = req.headers.host;
  if (!hostAllowed(host, req, rules.hosts ?? [])) {
    return {
      status: 403,
      rule: 'host',
      error: `host: ${path} answers only requests whose Host is Sealbox's own address (127.0.0.1, localhost, [::1], the address listened on, or a name given with --allow-host), not ${shown(host)}`,
    };
  }
  const origin = req.headers.origin;
  if (origin !== undefined && !(rules.allowOwnOrigin && isOwnOrigin(origin, host!, req))) {
    return {
      status: 403,
      rule: 'origin',
      error: `origin: ${path} refuses requests sent by a web page (Origin ${shown(origin)})`,
    };
  }
  const contentType = mediaType(req.headers['content-type']);
  if (rules.changesState && contentType !== 'application/json' && !(rules.bodyless && contentType === '' && hasNoBody(req))) {
    return {
      status: 415,
      rule: 'content-type',
      error: rules.bodyless
        ? `content-type: ${path} takes no body (or an application/json one), not Content-Type ${shown(req.headers['content-type'])}`
        : `content-type: ${path} takes Content-Type: application/json only, not ${shown(req.headers['content-type'])}`,
    };
  }
  return undefined;
}

/** Answers a refused admin request with its JSON error; the body, unread, is drained. */
export function sendAdminRefusal(req: IncomingMessage, res: ServerResponse, refusal: AdminRefusal): void {
  req.resume();
  const body = Buffer.from(JSON.stringify({ error: refusal.error, rule: refusal.rule }));
  res.writeHead(refusal.status, { 'content-type': 'application/json; charset=utf-8', 'content-length': body.length, 'cache-control': 'no-store' });
  res.end(body);
}

/** The Host header's name: `[::1]:4599` -> `::1`, `LocalHost:4599` -> `localhost`; undefined if malformed. */
export function hostName(header: string | undefined): string | undefined {
  if (!header) return undefined;
  let name: string;
  let rest: string;
  if (header.startsWith('[')) {
    const end = header.indexOf(']');
    if (end < 0) return undefined;
    name = header.slice(1, end);
    rest = header.slice(end + 1);
    if (isIP(name) !== 6) return undefined;
  } else if (isIP(header) === 6) {
    // An unbracketed IPv6 address (no port possible).
    name = header;
    rest = '';
  } else {
    const colon = header.lastIndexOf(':');
    name = colon < 0 ? header : header.slice(0, colon);
    rest = colon < 0 ? '' : header.slice(colon);
  }
  if (!/^(:\d{1,5})?$/.test(rest) || !/^[A-Za-z0-9.:_-]+$/.test(name)) return undefined;
  return name.toLowerCase();
}

/** `::ffff:127.0.0.1` (an IPv4 client of a dual-stack socket) -> `127.0.0.1`. */
function plainAddress(address: string | undefined): string | undefined {
  if (!address) return undefined;
  const lower = address.toLowerCase();
  return lower.startsWith('::ffff:') && isIP(lower.slice(7)) === 4 ? lower.slice(7) : lower;
}

function hostAllowed(header: string | undefined, req: IncomingMessage, hosts: readonly string[]): boolean {
  const name = plainAddress(hostName(header));
  if (name === undefined) return false;
  if (LOOPBACK_NAMES.includes(name)) return true;
  // The address this connection reached: with --host 0.0.0.0, the machine's address a client used.
  if (name === plainAddress(req.socket.localAddress)) return true;
  return hosts.some((h) => plainAddress(hostName(h) ?? h.toLowerCase()) === name);
}

function isOwnOrigin(origin: string, host: string, req: IncomingMessage): boolean {
  const scheme = (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http';
  try {
    const own = new URL(`${scheme}://${host}`);
    const given = new URL(origin);
    // An origin is scheme://host[:port] and nothing else.
    return given.origin === origin.toLowerCase() && given.origin === own.origin;
  } catch {
    return false;
  }
}

/** No body: Content-Length absent or 0, and no Transfer-Encoding (which would announce chunks). */
function hasNoBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] === undefined && (length === undefined || /^0+$/.test(length.trim()));
}

function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

/** A header value as it may appear in a message: quoted, at most 100 characters. */
function shown(value: string | undefined): string {
  if (value === undefined) return 'none';
  return JSON.stringify(value.length > 100 ? `${value.slice(0, 100)}...` : value);
}
