import { createHash, createHmac } from 'node:crypto';

export const ALGORITHM = 'AWS4-HMAC-SHA256';
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** Request headers by lower-case name, every value in the order received. */
export type HeaderMap = ReadonlyMap<string, readonly string[]>;

export function headerMap(headers: Record<string, string | readonly string[] | undefined> | Iterable<[string, string]>): Map<string, string[]> {
  const map = new Map<string, string[]>();
  const add = (name: string, value: string) => {
    const key = name.toLowerCase();
    const list = map.get(key);
    if (list) list.push(value);
    else map.set(key, [value]);
  };
  if (Symbol.iterator in headers) {
    for (const [name, value] of headers as Iterable<[string, string]>) add(name, value);
  } else {
    for (const [name, value] of Object.entries(headers)) {
      if (value === undefined) continue;
      if (typeof value === 'string') add(name, value);
      else for (const v of value) add(name, v);
    }
  }
  return map;
}

/** First value of a header, or undefined. */
export function header(headers: HeaderMap, name: string): string | undefined {
  return headers.get(name)?.[0];
}

/** Trim, fold runs of whitespace to one space; several values joined with ','. */
export function canonicalHeaderValue(values: readonly string[]): string {
  return values.map((v) => v.trim().replace(/\s+/g, ' ')).join(',');
}

export function canonicalHeaders(headers: HeaderMap, signedHeaders: readonly string[]): string {
  let out = '';
  for (const name of signedHeaders) out += `${name}:${canonicalHeaderValue(headers.get(name) ?? [])}\n`;
  return out;
}

export function canonicalRequest(
  method: string,
  uri: string,
  query: string,
  headers: HeaderMap,
  signedHeaders: readonly string[],
  payloadHash: string,
): string {
  return `${method}\n${uri}\n${query}\n${canonicalHeaders(headers, signedHeaders)}\n${signedHeaders.join(';')}\n${payloadHash}`;
}

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** `canonical` as text (hashed as UTF-8) or as the exact bytes to hash. */
export function stringToSign(amzDate: string, scope: string, canonical: string | Buffer): string {
  return `${ALGORITHM}\n${amzDate}\n${scope}\n${sha256Hex(canonical)}`;
}

export function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

export function hmacHex(key: Buffer, data: string): string {
  return createHmac('sha256', key).update(data, 'utf8').digest('hex');
}

/** `YYYYMMDDTHHMMSSZ` */
export function toAmzDate(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

// Starts as no string at all: '' would make parseAmzDate('') a valid 1970 date before any parse.
let lastAmzDate: string | undefined;
let lastAmzTime = 0;

/** Parses `YYYYMMDDTHHMMSSZ` strictly; undefined when malformed. The last valid string parsed is remembered (requests in the same second carry the same one). */
export function parseAmzDate(value: string): Date | undefined {
  if (value === lastAmzDate) return new Date(lastAmzTime);
  const date = parseAmzDateUncached(value);
  if (date) {
    lastAmzDate = value;
    lastAmzTime = date.getTime();
  }
  return date;
}

function parseAmzDateUncached(value: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as number[];
  const date = new Date(Date.UTC(y!, mo! - 1, d!, h!, mi!, s!));
  // Reject overflowing fields such as month 13 or second 61.
  return toAmzDate(date) === value ? date : undefined;
}
