import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { S3Error } from './errors';

/** Last-Modified and friends: RFC 7231 dates, to the second. */
export const httpDate = (ms: number) => new Date(ms).toUTCString();

/** XML timestamps: ISO 8601 with milliseconds, as S3 writes them (2026-11-27T10:00:00.000Z). */
export const xmlDate = (ms: number) => new Date(ms).toISOString();

const NOT_HEADER_TEXT = /[^\t\x20-\x7e\x80-\xff]/;

/**
 * Whether a header cannot carry this value: a line break or another control character (which
 * would split the response), or a character beyond Latin-1. Node refuses to write such a header.
 */
export const cannotBeHeader = (value: string): boolean => NOT_HEADER_TEXT.test(value);

export function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

/** Reads a small XML request body, refusing more than `limit` bytes. */
export async function readSmallBody(body: Readable, limit = 1024 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new S3Error('MaxMessageLengthExceeded', 400, 'Your request was too big.');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Parses an RFC 7231 / ISO date header; undefined when absent or unparseable (S3 then ignores it). */
export function parseHttpDate(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : t;
}
