
import { InvalidURI } from './errors';
import type { Level } from './routes';

export interface Address {
  level: Level;
  bucket?: string;
  key?: string;
  style: 'path' | 'virtual-hosted';
}

/** Host names under which `<bucket>.<suffix>` addresses a bucket (virtual-hosted style). */
export const DEFAULT_VIRTUAL_HOST_SUFFIXES = ['s3.localhost', 'localhost'];

/**
 * Finds the bucket and key of a request, path-style (`/bucket/key`) or virtual-hosted style
 * (`bucket.localhost:4572/key`). The key is the percent-decoded rest of the path, byte for byte.
 */
export function resolveAddress(host: string | undefined, rawPath: string, suffixes: readonly string[]): Address {
  const hostBucket = virtualHostBucket(host, suffixes);
  const rest = rawPath.slice(1);
  let bucket: string;
  let key: string;
  if (hostBucket !== undefined) {
    bucket = hostBucket;
    key = decodePath(rest);
  } else {
    if (!rest) return { level: 'service', style: 'path' };
    const slash = rest.indexOf('/');
    bucket = decodePath(slash < 0 ? rest : rest.slice(0, slash));
    key = slash < 0 ? '' : decodePath(rest.slice(slash + 1));
  }
  const style = hostBucket !== undefined ? 'virtual-hosted' : 'path';
  return key ? { level: 'object', bucket, key, style } : { level: 'bucket', bucket, style };
}

/**
 * The bucket named by a virtual-hosted Host header (`bucket.localhost:4572`), or undefined for
 * path-style hosts: IP addresses and the suffixes themselves (`s3.localhost` is not bucket "s3").
 */
export function virtualHostBucket(host: string | undefined, suffixes: readonly string[]): string | undefined {
  const hostname = (host ?? '').replace(/:\d+$/, '').toLowerCase();
  if (suffixes.includes(hostname)) return undefined;
  const suffix = suffixes.find((s) => hostname.endsWith('.' + s));
  return suffix === undefined ? undefined : hostname.slice(0, -suffix.length - 1);
}

function decodePath(raw: string): string {
  if (!raw.includes('%')) return raw;
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new InvalidURI();
  }
}

/** Query parameters by name (first value wins), decoded. */
export function queryMap(query: readonly { name: string; value: string }[]): Map<string, string> {
  const map = new Map<string, string>();
  for (const p of query) if (!map.has(p.name)) map.set(p.name, p.value);
  return map;
}

