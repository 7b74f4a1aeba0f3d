/**
 * URI encoding as SigV4 defines it: every byte except the unreserved characters A-Z a-z 0-9 - _ . ~
 * is percent-encoded with upper-case hex; '/' is kept only where the caller says so.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
 */
const UNRESERVED = new Uint8Array(256);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~') UNRESERVED[c.charCodeAt(0)] = 1;
const HEX = '0123456789ABCDEF';

export function uriEncode(value: string, keepSlash = false): string {
  // Fast path: nothing to encode.
  let plain = true;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c > 127 || (!UNRESERVED[c] && !(keepSlash && c === 47))) {
      plain = false;
      break;
    }
  }
  if (plain) return value;
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    out += UNRESERVED[byte] || (keepSlash && byte === 47) ? String.fromCharCode(byte) : '%' + HEX[byte >> 4] + HEX[byte & 15];
  }
  return out;
}

/** Percent-decoding that leaves a malformed escape as it is instead of throwing. */
export function uriDecode(value: string): string {
  if (!value.includes('%')) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    return value.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
      try {
        return decodeURIComponent(run);
      } catch {
        return run;
      }
    });
  }
}

/** Splits a raw request target into its path and its query (without '?'), both still encoded. */
export function splitTarget(target: string): { path: string; query: string } {
  const q = target.indexOf('?');
  return q < 0 ? { path: target || '/', query: '' } : { path: target.slice(0, q) || '/', query: target.slice(q + 1) };
}

/** RFC 3986 remove_dot_segments, plus collapsing empty segments, as non-S3 services do. */
function normalizePath(path: string): string {
  const out: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') out.pop();
    else out.push(segment);
  }
  const trailing = path.endsWith('/') && out.length > 0 ? '/' : '';
  return '/' + out.join('/') + trailing;
}

/**
 * Canonical URI of a request path exactly as it arrived on the wire.
 * - S3: the path as sent, with no normalisation (it was encoded once by the client).
 * - Every other service: normalised, then each segment encoded again ("double encoding").
 */
export function canonicalUri(rawPath: string, service: string): string {
  if (service === 's3') return rawPath;
  return uriEncode(normalizePath(rawPath), true);
}

/**
 * The other form an S3 client may have signed: each segment decoded and re-encoded the SigV4 way.
 * Clients that send characters such as '!' or '*' unencoded still sign them encoded (aws4 does).
 */
export function reencodedS3Uri(rawPath: string): string {
  return rawPath
    .split('/')
    .map((segment) => uriEncode(uriDecode(segment)))
    .join('/');
}

export interface QueryParam {
  name: string;
  value: string;
}

/** Decoded query parameters in the order sent; a parameter without '=' has an empty value. */
export function parseQuery(query: string): QueryParam[] {
  const params: QueryParam[] = [];
  if (!query) return params;
  for (const part of query.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const name = eq < 0 ? part : part.slice(0, eq);
    const value = eq < 0 ? '' : part.slice(eq + 1);
    params.push({ name: uriDecode(name), value: uriDecode(value) });
  }
  return params;
}

/** Canonical query string: each name and value encoded, sorted by name then value (code units). */
export function canonicalQuery(params: QueryParam[], exclude?: string): string {
  const encoded: [string, string][] = [];
  for (const p of params) {
    if (p.name === exclude) continue;
    encoded.push([uriEncode(p.name), uriEncode(p.value)]);
  }
  encoded.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return encoded.map(([n, v]) => `${n}=${v}`).join('&');
}
