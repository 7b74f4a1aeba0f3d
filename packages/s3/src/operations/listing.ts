import { requireBucket } from '../access';
import type { S3Request, S3Response } from '../context';
import { S3Error } from '../errors';
import { xmlDate } from '../http-util';
import { ownerElements } from '../owner';
import type { ObjectVersion } from '../store/model';
import { el, s3Document } from '../xml';

/** The greatest string with a given prefix sorts below prefix + U+10FFFF (UTF-8 F4 8F BF BF). */
const AFTER_PREFIX = '\u{10FFFF}';
const BATCH = 1000;

interface Walk<T> {
  entries: T[];
  commonPrefixes: string[];
  truncated: boolean;
  /** The last key or common prefix returned (the next page starts after it). */
  last?: string;
}

/**
 * Walks keys in UTF-8 byte order from `after`, within `prefix`, rolling keys that contain the
 * delimiter after the prefix into CommonPrefixes; entries and prefixes together count toward
 * max-keys, as S3 counts them.
 */
function walk<T extends { key: string }>(
  fetch: (bound: { after?: string; from?: string }, limit: number) => T[],
  prefix: string,
  delimiter: string | undefined,
  after: string,
  maxKeys: number,
  keyOf: (item: T) => string = (i) => i.key,
): Walk<T> {
  const entries: T[] = [];
  const commonPrefixes: string[] = [];
  let bound: { after?: string; from?: string } = after < prefix ? { from: prefix } : { after };
  let last: string | undefined;
  for (;;) {
    const batch = fetch(bound, BATCH);
    if (batch.length === 0) return { entries, commonPrefixes, truncated: false, last };
    for (let i = 0; i < batch.length; i++) {
      const item = batch[i]!;
      const key = keyOf(item);
      if (!key.startsWith(prefix)) {
        if (key > prefix) return { entries, commonPrefixes, truncated: false, last };
        continue;
      }
      const at = delimiter ? key.indexOf(delimiter, prefix.length) : -1;
      if (at >= 0) {
        const cp = key.slice(0, at + delimiter!.length);
        // A page that ended on this common prefix continues after it, not into it.
        if (cp === after) {
          bound = { from: cp + AFTER_PREFIX };
          break;
        }
        if (entries.length + commonPrefixes.length === maxKeys) return { entries, commonPrefixes, truncated: true, last };
        commonPrefixes.push(cp);
        last = cp;
        bound = { from: cp + AFTER_PREFIX };
        break;
      }
      if (entries.length + commonPrefixes.length === maxKeys) return { entries, commonPrefixes, truncated: true, last };
      entries.push(item);
      last = key;
      if (i === batch.length - 1) bound = { after: key };
    }
    // A batch that ended on a common prefix restarts after it; one that ended on an entry continues.
    if (batch.length < BATCH && !('from' in bound && bound.from?.endsWith(AFTER_PREFIX))) {
      if (bound.after === last) return { entries, commonPrefixes, truncated: false, last };
    }
  }
}

function maxKeysOf(req: S3Request): number {
  const text = req.query.get('max-keys');
  if (text === undefined) return 1000;
  if (!/^\d+$/.test(text)) {
    throw new S3Error('InvalidArgument', 400, 'Provided max-keys not an integer or within integer range', [['ArgumentName', 'max-keys'], ['ArgumentValue', text]]);
  }
  return Math.min(Number(text), 1000);
}

function encoder(req: S3Request): (s: string) => string {
  const type = req.query.get('encoding-type');
  if (type === undefined) return (s) => s;
  if (type !== 'url') {
    throw new S3Error('InvalidArgument', 400, 'Invalid Encoding Method specified in Request', [['ArgumentName', 'encoding-type'], ['ArgumentValue', type]]);
  }
  // S3 encodes like application/x-www-form-urlencoded but keeps '/' readable.
  return (s) => encodeURIComponent(s).replace(/%2F/g, '/').replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

function contents(v: ObjectVersion, enc: (s: string) => string, owner: boolean): string {
  return el('Contents', [
    el('Key', enc(v.key)),
    el('LastModified', xmlDate(v.lastModified)),
    el('ETag', `"${v.etag}"`),
    v.meta.checksum ? el('ChecksumAlgorithm', v.meta.checksum.algorithm) : '',
    v.meta.checksum ? el('ChecksumType', v.meta.checksum.type) : '',
    el('Size', v.size),
    owner ? ownerXml(v.ownerAccountId) : '',
    el('StorageClass', v.meta.storageClass ?? 'STANDARD'),
  ]);
}

const ownerXml = (accountId: string) => el('Owner', ownerElements(accountId));
const token = (key: string) => Buffer.from(key, 'utf8').toString('base64url');

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html */
export function listObjectsV2(req: S3Request): S3Response {
  const bucket = requireBucket(req);
  const prefix = req.query.get('prefix') ?? '';
  const delimiter = req.query.get('delimiter') || undefined;
  const startAfter = req.query.get('start-after');
  const continuation = req.query.get('continuation-token');
  const maxKeys = maxKeysOf(req);
  const enc = encoder(req);
  let after = startAfter ?? '';
  if (continuation !== undefined) {
    const decoded = Buffer.from(continuation, 'base64url').toString('utf8');
    if (!continuation || token(decoded) !== continuation) {
      throw new S3Error('InvalidArgument', 400, 'The continuation token provided is incorrect', [['ArgumentName', 'continuation-token']]);
    }
    after = decoded > after ? decoded : after;
  }
  const result = walk((b, n) => req.state.meta.listLatest(bucket.name, b, n), prefix, delimiter, after, maxKeys);
  return {
    body: s3Document('ListBucketResult', [
      el('Name', bucket.name),
      el('Prefix', enc(prefix)),
      el('KeyCount', result.entries.length + result.commonPrefixes.length),
      el('MaxKeys', maxKeys),
      el('Delimiter', delimiter === undefined ? undefined : enc(delimiter)),
      el('IsTruncated', result.truncated),
      ...result.entries.map((v) => contents(v, enc, req.query.get('fetch-owner') === 'true')),
      ...result.commonPrefixes.map((p) => el('CommonPrefixes', [el('Prefix', enc(p))])),
      el('ContinuationToken', continuation),
      result.truncated && result.last !== undefined ? el('NextContinuationToken', token(result.last)) : '',
      el('StartAfter', startAfter === undefined ? undefined : enc(startAfter)),
      el('EncodingType', req.query.get('encoding-type')),
    ]),
  };
}

/** ListObjects (v1): marker, and NextMarker when a delimiter is used. */
export function listObjects(req: S3Request): S3Response {
  const bucket = requireBucket(req);
  const prefix = req.query.get('prefix') ?? '';
  const delimiter = req.query.get('delimiter') || undefined;
  const marker = req.query.get('marker') ?? '';
  const maxKeys = maxKeysOf(req);
  const enc = encoder(req);
  const result = walk((b, n) => req.state.meta.listLatest(bucket.name, b, n), prefix, delimiter, marker, maxKeys);
  return {
    body: s3Document('ListBucketResult', [
      el('Name', bucket.name),
      el('Prefix', enc(prefix)),
      el('Marker', enc(marker)),
      result.truncated && delimiter !== undefined && result.last !== undefined ? el('NextMarker', enc(result.last)) : '',
      el('MaxKeys', maxKeys),
      el('Delimiter', delimiter === undefined ? undefined : enc(delimiter)),
      el('IsTruncated', result.truncated),
      ...result.entries.map((v) => contents(v, enc, true)),
      ...result.commonPrefixes.map((p) => el('CommonPrefixes', [el('Prefix', enc(p))])),
      el('EncodingType', req.query.get('encoding-type')),
    ]),
  };
}

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectVersions.html */
export function listObjectVersions(req: S3Request): S3Response {
  const bucket = requireBucket(req);
  const prefix = req.query.get('prefix') ?? '';
  const delimiter = req.query.get('delimiter') || undefined;
  const keyMarker = req.query.get('key-marker') ?? '';
  const versionIdMarker = req.query.get('version-id-marker');
  const maxKeys = maxKeysOf(req);
  const enc = encoder(req);
  // Versions of key-marker newer than (and including) version-id-marker were already returned.
  let skipping = versionIdMarker !== undefined && keyMarker !== '';
  const fetch = (b: { after?: string; from?: string }, n: number) => {
    const bound = skipping && b.after === keyMarker ? { from: keyMarker } : b;
    return req.state.meta.listVersions(bucket.name, bound, n).filter((v) => {
      if (!skipping || v.key !== keyMarker) return true;
      if (v.versionId === versionIdMarker) skipping = false;
      return false;
    });
  };
  const result = walkVersions(fetch, prefix, delimiter, keyMarker, maxKeys);
  const last = result.entries[result.entries.length - 1];
  return {
    body: s3Document('ListVersionsResult', [
      el('Name', bucket.name),
      el('Prefix', enc(prefix)),
      el('KeyMarker', enc(keyMarker)),
      el('VersionIdMarker', versionIdMarker ?? ''),
      result.truncated ? el('NextKeyMarker', enc(result.last ?? '')) : '',
      result.truncated && last && result.last === last.key ? el('NextVersionIdMarker', last.versionId) : '',
      el('MaxKeys', maxKeys),
      el('Delimiter', delimiter === undefined ? undefined : enc(delimiter)),
      el('IsTruncated', result.truncated),
      ...result.entries.map((v) =>
        v.deleteMarker
          ? el('DeleteMarker', [el('Key', enc(v.key)), el('VersionId', v.versionId), el('IsLatest', v.isLatest), el('LastModified', xmlDate(v.lastModified)), ownerXml(v.ownerAccountId)])
          : el('Version', [
              el('Key', enc(v.key)),
              el('VersionId', v.versionId),
              el('IsLatest', v.isLatest),
              el('LastModified', xmlDate(v.lastModified)),
              el('ETag', `"${v.etag}"`),
              v.meta.checksum ? el('ChecksumAlgorithm', v.meta.checksum.algorithm) : '',
              v.meta.checksum ? el('ChecksumType', v.meta.checksum.type) : '',
              el('Size', v.size),
              el('StorageClass', v.meta.storageClass ?? 'STANDARD'),
              ownerXml(v.ownerAccountId),
            ]),
      ),
      ...result.commonPrefixes.map((p) => el('CommonPrefixes', [el('Prefix', enc(p))])),
      el('EncodingType', req.query.get('encoding-type')),
    ]),
  };
}

/** Like walk, over versions: several entries share a key, and a key's versions are never split by a prefix. */
function walkVersions(
  fetch: (bound: { after?: string; from?: string }, limit: number) => ObjectVersion[],
  prefix: string,
  delimiter: string | undefined,
  after: string,
  maxKeys: number,
): Walk<ObjectVersion> {
  const entries: ObjectVersion[] = [];
  const commonPrefixes: string[] = [];
  let bound: { after?: string; from?: string } = after < prefix ? { from: prefix } : { after };
  let last: string | undefined;
  for (;;) {
    const batch = fetch(bound, BATCH);
    if (batch.length === 0) return { entries, commonPrefixes, truncated: false, last };
    let restart: { after?: string; from?: string } | undefined;
    for (const v of batch) {
      if (!v.key.startsWith(prefix)) {
        if (v.key > prefix) return { entries, commonPrefixes, truncated: false, last };
        continue;
      }
      const at = delimiter ? v.key.indexOf(delimiter, prefix.length) : -1;
      if (at >= 0) {
        const cp = v.key.slice(0, at + delimiter!.length);
        if (cp === after) {
          restart = { from: cp + AFTER_PREFIX };
          break;
        }
        if (entries.length + commonPrefixes.length === maxKeys) return { entries, commonPrefixes, truncated: true, last };
        commonPrefixes.push(cp);
        last = cp;
        restart = { from: cp + AFTER_PREFIX };
        break;
      }
      if (entries.length + commonPrefixes.length === maxKeys) return { entries, commonPrefixes, truncated: true, last };
      entries.push(v);
      last = v.key;
    }
    if (restart) {
      bound = restart;
      continue;
    }
    if (batch.length < BATCH) return { entries, commonPrefixes, truncated: false, last };
    // A full batch may have cut a key's versions: continue from that key, skipping what was seen.
    const seen = new Set(entries.map((e) => `${e.key}\0${e.versionId}`));
    const lastKey = batch[batch.length - 1]!.key;
    const more = fetch({ from: lastKey }, BATCH * 10).filter((v) => !seen.has(`${v.key}\0${v.versionId}`));
    if (more.length === 0) return { entries, commonPrefixes, truncated: false, last };
    batch.length = 0;
    bound = { from: lastKey };
    const rest = walkVersions(() => more, prefix, delimiter, '', maxKeys - entries.length - commonPrefixes.length);
    return { entries: entries.concat(rest.entries), commonPrefixes: commonPrefixes.concat(rest.commonPrefixes), truncated: rest.truncated, last: rest.last ?? last };
  }
}
