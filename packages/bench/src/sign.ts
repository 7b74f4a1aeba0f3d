import { createHash, createHmac } from 'node:crypto';

/**
 * A SigV4 header signer for the load generator, cheaper than aws4 per request: the signing key
 * is derived once per (secret, date, region, service) and kept, the X-Amz-Date string is built
 * once per second, and the canonical request is one string built from the headers as given.
 * It signs exactly what aws4 signs for the requests it accepts (`canSignFast`: a path with no
 * query and only unreserved characters, headers with single-spaced values) and produces the
 * same Authorization header (tested against aws4); other requests go through aws4.
 */

/**
 * Paths whose canonical form is themselves: no query, nothing to encode (each segment starts at
 * its own '/', so the expression cannot backtrack), no empty, '.' or '..' segments.
 */
const PLAIN_PATH = /^(?:\/[A-Za-z0-9\-_~.]*)+$/;
const ODD_SEGMENT = /\/\/|\/\.\.?(?:\/|$)/;
/** Header values that are their own canonical form: no leading, trailing or repeated whitespace. */
const PLAIN_VALUE = /^(?:\S+(?: \S+)*)?$/;

/** Headers aws4 leaves unsigned; a request carrying one goes through aws4. */
const UNSIGNED = new Set(['authorization', 'connection', 'x-amzn-trace-id', 'user-agent', 'expect', 'presigned-expires', 'range', 'host', 'x-amz-date', 'date']);

export function canSignFast(path: string, headers: Record<string, string | number>): boolean {
  if (!PLAIN_PATH.test(path) || ODD_SEGMENT.test(path)) return false;
  for (const name in headers) {
    if (UNSIGNED.has(name.toLowerCase()) || !PLAIN_VALUE.test(String(headers[name]))) return false;
  }
  return true;
}

/** Derived signing keys by `${date}\n${region}\n${service}\n${secret}`, kept for the process. */
export class SigningKeys {
  private readonly keys = new Map<string, Buffer>();

  get(secret: string, date: string, region: string, service: string): Buffer {
    const id = `${date}\n${region}\n${service}\n${secret}`;
    let key = this.keys.get(id);
    if (!key) {
      const h = (k: Buffer | string, data: string) => createHmac('sha256', k).update(data, 'utf8').digest();
      key = h(h(h(h(`AWS4${secret}`, date), region), service), 'aws4_request');
      if (this.keys.size >= 64) this.keys.clear();
      this.keys.set(id, key);
    }
    return key;
  }

  get size(): number {
    return this.keys.size;
  }
}

let amzSecond = -1;
let amzDateCached = '';

/** `YYYYMMDDTHHMMSSZ` for a time in ms, the string rebuilt only when the second changes. */
export function amzDateAt(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second !== amzSecond) {
    amzSecond = second;
    amzDateCached = new Date(second * 1000).toISOString().replace(/[:-]|\.\d{3}/g, '');
  }
  return amzDateCached;
}

export interface FastSignInput {
  method: string;
  /** A path `canSignFast` accepted. */
  path: string;
  /** `host:port`, as sent in the Host header. */
  host: string;
  service: string;
  region: string;
  /** Headers to send and sign (besides Host and X-Amz-Date, which are added). */
  headers: Record<string, string | number>;
  /** The payload's SHA-256, hex. */
  payloadHash: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Time of signing, ms since the epoch. */
  now: number;
}

/**
 * Returns the headers to send: the input's, plus Host, X-Amz-Date and Authorization. Header names
 * are signed lower-cased and sorted, every header given is signed (as aws4 does for these
 * requests), values as given (`canSignFast` checked they need no trimming).
 */
export function signFast(input: FastSignInput, keys: SigningKeys): Record<string, string | number> {
  const amzDate = amzDateAt(input.now);
  const date = amzDate.slice(0, 8);
  const out: Record<string, string | number> = { ...input.headers, Host: input.host, 'X-Amz-Date': amzDate };
  const names: string[] = [];
  const byLower = new Map<string, string>();
  for (const name in out) {
    const lower = name.toLowerCase();
    names.push(lower);
    byLower.set(lower, String(out[name]));
  }
  names.sort();
  let canonicalHeaders = '';
  for (const name of names) canonicalHeaders += `${name}:${byLower.get(name)}\n`;
  const signedHeaders = names.join(';');
  const canonical = `${input.method}\n${input.path}\n\n${canonicalHeaders}\n${signedHeaders}\n${input.payloadHash}`;
  const scope = `${date}/${input.region}/${input.service}/aws4_request`;
  const stringToSign = `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${createHash('sha256').update(canonical, 'utf8').digest('hex')}`;
  const signature = createHmac('sha256', keys.get(input.secretAccessKey, date, input.region, input.service)).update(stringToSign, 'utf8').digest('hex');
  out.Authorization = `AWS4-HMAC-SHA256 Credential=${input.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
  return out;
}
