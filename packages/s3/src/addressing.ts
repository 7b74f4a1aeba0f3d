
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
  const hostname = (host ?? '').replace(/:\d+$/, '').toLowerCase();
  for (const suffix of suffixes) {
    if (hostname.endsWith('.' + suffix)) {
      const bucket = hostname.slice(0, -suffix.length - 1);
      const key = decodePath(rawPath.slice(1));
      return key ? { level: 'object', bucket, key, style: 'virtual-hosted' } : { level: 'bucket', bucket, style: 'virtual-hosted' };
    }
  }
  const rest = rawPath.slice(1);
  if (!rest) return { level: 'service', style: 'path' };
  const slash = rest.indexOf('/');
  const bucket = decodePath(slash < 0 ? rest : rest.slice(0, slash));
  const key = slash < 0 ? '' : decodePath(rest.slice(slash + 1));
  return key ? { level: 'object', bucket, key, style: 'path' } : { level: 'bucket', bucket, style: 'path' };
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

