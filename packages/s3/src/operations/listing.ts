import { requireBucket } from '../access';
import type { S3Request, S3Response } from '../context';
import { S3Error } from '../errors';
import { xmlDate } from '../http-util';
import { ownerElements } from '../owner';
import type { ListingEntry } from '../store/metadata-store';
import type { ObjectVersion } from '../store/model';
import { S3_XMLNS, TextBuffer, XML_DECLARATION, el, escapeXml, s3Document } from '../xml';

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
  // max-keys=0 asks for nothing, and S3 answers an empty page that is not truncated (IsTruncated
  // false, no continuation token), whatever the bucket holds.
  // https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html
  if (maxKeys === 0) return { entries, commonPrefixes, truncated: false };
  let bound: { after?: string; from?: string } = after < prefix ? { from: prefix } : { after };
  let last: string | undefined;
  for (;;) {
    const batch = fetch(bound, BATCH);
    let skipPast: string | undefined;
    for (const item of batch) {
      const key = keyOf(item);
      if (!key.startsWith(prefix)) {
        if (key > prefix) return { entries, commonPrefixes, truncated: false, last };
        continue;
      }
      const at = delimiter ? key.indexOf(delimiter, prefix.length) : -1;
      if (at >= 0) {
        const cp = key.slice(0, at + delimiter!.length);
        // A page that ended on this common prefix continues after it, not into it.
        if (cp !== after) {
          if (entries.length + commonPrefixes.length === maxKeys) return { entries, commonPrefixes, truncated: true, last };
          commonPrefixes.push(cp);
          last = cp;
        }
        skipPast = cp;
        break;
      }
      if (entries.length + commonPrefixes.length === maxKeys) return { entries, commonPrefixes, truncated: true, last };
      entries.push(item);
      last = key;
    }
    if (skipPast !== undefined) bound = { from: skipPast + AFTER_PREFIX };
    else if (batch.length < BATCH) return { entries, commonPrefixes, truncated: false, last };
    else bound = { after: keyOf(batch[batch.length - 1]!) };
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
  // S3 encodes like application/x-www-form-urlencoded but keeps '/' readable. A key made only of
  // characters that encoding keeps (the usual case) is its own encoding.
  return (s) =>
    URL_SAFE.test(s) ? s : encodeURIComponent(s).replace(/%2F/g, '/').replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}
const URL_SAFE = /^[A-Za-z0-9\-_.~/]*$/;

/**
 * The LastModified of a timestamp: `new Date(ms).toISOString()`, whose text up to the seconds is
 * formatted once per second (a page's objects mostly share few seconds: written together), the
 * milliseconds appended. A pure function's memo, bounded; nothing ever makes an entry wrong.
 */
const seconds = new Map<number, string>();
export function lastModified(ms: number): string {
  // Fractions and values beyond the Date range take the plain path (which truncates or throws).
  if (!Number.isInteger(ms) || Math.abs(ms) > 8.64e15) return xmlDate(ms);
  const second = Math.floor(ms / 1000);
  let prefix = seconds.get(second);
  if (prefix === undefined) {
    // toISOString of the second's start: "<date>T<hh:mm:ss>.000Z" (years beyond 9999 included).
    prefix = xmlDate(second * 1000).slice(0, -4);
    if (seconds.size >= 4096) seconds.clear();
    seconds.set(second, prefix);
  }
  return prefix + MILLIS[ms - second * 1000];
}
const MILLIS = Array.from({ length: 1000 }, (_, i) => `${String(i).padStart(3, '0')}Z`);

/** `<Owner>` of an account, hashed once per account (the canonical id is a pure function of it). */
const owners = new Map<string, string>();
function ownerXml(accountId: string): string {
  let xml = owners.get(accountId);
  if (xml === undefined) {
    xml = el('Owner', ownerElements(accountId));
    if (owners.size >= 1024) owners.clear();
    owners.set(accountId, xml);
  }
  return xml;
}

/**
 * A ListBucketResult document, the same bytes as s3Document('ListBucketResult', children), written
 * in one pass: each page's `<Contents>` (as el('Contents', [el('Key', ...), ...]) built them)
 * where the children hold the page's entries.
 */
function listBucketResult(children: (string | ListingEntry[])[], enc: (s: string) => string): string {
  const entries = children.find((c): c is ListingEntry[] => Array.isArray(c))!;
  const out = new TextBuffer(4096 + 320 * entries.length);
  out.add(`${XML_DECLARATION}<ListBucketResult xmlns="${S3_XMLNS}">`);
  for (const child of children) {
    if (typeof child === 'string') out.add(child);
    else
      for (const v of child) {
        out.add(`<Contents><Key>${escapeXml(enc(v.key))}</Key><LastModified>${lastModified(v.lastModified)}</LastModified>`);
        out.add(v.rest);
      }
  }
  out.add('</ListBucketResult>');
  return out.toString();
}

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
  const owners = req.query.get('fetch-owner') === 'true' ? ownerXml : undefined;
  const result = walk((b, n) => req.state.meta.listLatest(bucket.name, b, n, owners), prefix, delimiter, after, maxKeys);
  return {
    body: listBucketResult(
      [
        el('Name', bucket.name),
        el('Prefix', enc(prefix)),
        el('KeyCount', result.entries.length + result.commonPrefixes.length),
        el('MaxKeys', maxKeys),
        el('Delimiter', delimiter === undefined ? undefined : enc(delimiter)),
        el('IsTruncated', result.truncated),
        result.entries,
        ...result.commonPrefixes.map((p) => el('CommonPrefixes', [el('Prefix', enc(p))])),
        el('ContinuationToken', continuation),
        result.truncated && result.last !== undefined ? el('NextContinuationToken', token(result.last)) : '',
        el('StartAfter', startAfter === undefined ? undefined : enc(startAfter)),
        el('EncodingType', req.query.get('encoding-type')),
      ],
      enc,
    ),
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
  const result = walk((b, n) => req.state.meta.listLatest(bucket.name, b, n, ownerXml), prefix, delimiter, marker, maxKeys);
  return {
    body: listBucketResult(
      [
        el('Name', bucket.name),
        el('Prefix', enc(prefix)),
        el('Marker', enc(marker)),
        result.truncated && delimiter !== undefined && result.last !== undefined ? el('NextMarker', enc(result.last)) : '',
        el('MaxKeys', maxKeys),
        el('Delimiter', delimiter === undefined ? undefined : enc(delimiter)),
        el('IsTruncated', result.truncated),
        result.entries,
        ...result.commonPrefixes.map((p) => el('CommonPrefixes', [el('Prefix', enc(p))])),
        el('EncodingType', req.query.get('encoding-type')),
      ],
      enc,
    ),
  };
}

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectVersions.html */
export function listObjectVersions(req: S3Request): S3Response {
  const bucket = requireBucket(req);
  const prefix = req.query.get('prefix') ?? '';
  const delimiter = req.query.get('delimiter') || undefined;
  const keyMarker = req.query.get('key-marker') ?? '';
  const versionIdMarker = req.query.get('version-id-marker');
  if (versionIdMarker !== undefined && keyMarker === '') {
    throw new S3Error('InvalidArgument', 400, 'A version-id marker cannot be specified without a key marker.', [['ArgumentName', 'version-id-marker'], ['ArgumentValue', versionIdMarker]]);
  }
  const maxKeys = maxKeysOf(req);
  const enc = encoder(req);
  // Start after key-marker, or after its version-id-marker version when one is given.
  const markerVersion = versionIdMarker === undefined ? undefined : req.state.meta.version(bucket.name, keyMarker, versionIdMarker);
  const start = markerVersion ? { key: keyMarker, seq: markerVersion.seq } : keyMarker < prefix ? { key: prefix, seq: Infinity } : { key: keyMarker, seq: 0 };
  const result = walkVersions((cursor, n) => req.state.meta.listVersions(bucket.name, cursor, n), prefix, delimiter, keyMarker, start, maxKeys);
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
          ? el('DeleteMarker', [el('Key', enc(v.key)), el('VersionId', v.versionId), el('IsLatest', v.isLatest), el('LastModified', lastModified(v.lastModified)), ownerXml(v.ownerAccountId)])
          : el('Version', [
              el('Key', enc(v.key)),
              el('VersionId', v.versionId),
              el('IsLatest', v.isLatest),
              el('LastModified', lastModified(v.lastModified)),
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

/**
 * Like walk, over versions, with a (key, seq) cursor so that a batch may end in the middle of a
 * key's versions. A key-marker that is a common prefix continues after that prefix.
 */
function walkVersions(
  fetch: (cursor: { key: string; seq: number }, limit: number) => ObjectVersion[],
  prefix: string,
  delimiter: string | undefined,
  after: string,
  start: { key: string; seq: number },
  maxKeys: number,
): Walk<ObjectVersion> {
  const entries: ObjectVersion[] = [];
  const commonPrefixes: string[] = [];
  let cursor = start;
  let last: string | undefined;
  for (;;) {
    const batch = fetch(cursor, BATCH);
    let skipPast: string | undefined;
    for (const v of batch) {
      if (!v.key.startsWith(prefix)) {
        if (v.key > prefix) return { entries, commonPrefixes, truncated: false, last };
        continue;
      }
      const at = delimiter ? v.key.indexOf(delimiter, prefix.length) : -1;
      if (at >= 0) {
        const cp = v.key.slice(0, at + delimiter!.length);
        if (cp !== after) {
          if (entries.length + commonPrefixes.length === maxKeys) return { entries, commonPrefixes, truncated: true, last };
          commonPrefixes.push(cp);
          last = cp;
        }
        skipPast = cp;
        break;
      }
      if (entries.length + commonPrefixes.length === maxKeys) return { entries, commonPrefixes, truncated: true, last };
      entries.push(v);
      last = v.key;
    }
    if (skipPast !== undefined) cursor = { key: skipPast + AFTER_PREFIX, seq: Infinity };
    else if (batch.length < BATCH) return { entries, commonPrefixes, truncated: false, last };
    else cursor = { key: batch[batch.length - 1]!.key, seq: batch[batch.length - 1]!.seq };
  }
}
