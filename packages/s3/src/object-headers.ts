import type { IncomingHttpHeaders } from 'node:http';
import { S3Error } from './errors';
import { header, httpDate } from './http-util';
import { decodeMetadataValue, encodeMetadataValue, metadataBytes as storedBytes } from './metadata-encoding';
import type { ObjectMeta, ObjectVersion } from './store/model';

export const STORAGE_CLASSES = [
  'STANDARD', 'REDUCED_REDUNDANCY', 'STANDARD_IA', 'ONEZONE_IA', 'INTELLIGENT_TIERING', 'GLACIER', 'DEEP_ARCHIVE',
  'OUTPOSTS', 'GLACIER_IR', 'SNOW', 'EXPRESS_ONEZONE', 'FSX_OPENZFS',
];

/** User-defined metadata is limited to 2 KB (names and values, UTF-8). */
export const MAX_METADATA_BYTES = 2048;

/** The object attributes a PUT, a multipart upload or a REPLACE copy sets from headers. */
export function metaFromHeaders(headers: IncomingHttpHeaders): ObjectMeta {
  const userMetadata: [string, string][] = [];
  let metadataBytes = 0;
  for (const [name, value] of Object.entries(headers)) {
    if (!name.startsWith('x-amz-meta-') || value === undefined) continue;
    // Bytes as received; RFC 2047 encoded words are decoded before storing, as S3 does.
    const text = decodeMetadataValue(Array.isArray(value) ? value.join(',') : value);
    const metaName = name.slice('x-amz-meta-'.length);
    metadataBytes += Buffer.byteLength(metaName) + storedBytes(text);
    userMetadata.push([metaName, text]);
  }
  if (metadataBytes > MAX_METADATA_BYTES) {
    throw new S3Error('MetadataTooLarge', 400, 'Your metadata headers exceed the maximum allowed metadata size', [
      ['Size', String(metadataBytes)],
      ['MaxSizeAllowed', String(MAX_METADATA_BYTES)],
    ]);
  }
  const storageClass = header(headers, 'x-amz-storage-class');
  if (storageClass !== undefined && !STORAGE_CLASSES.includes(storageClass)) {
    throw new S3Error('InvalidStorageClass', 400, 'The storage class you specified is not valid', [['StorageClassRequested', storageClass]]);
  }
  // aws-chunked is a transfer detail: S3 strips it from the stored Content-Encoding.
  const encoding = header(headers, 'content-encoding')
    ?.split(',')
    .map((s) => s.trim())
    .filter((s) => s && s !== 'aws-chunked')
    .join(', ');
  return {
    contentType: header(headers, 'content-type') ?? 'binary/octet-stream',
    contentEncoding: encoding || undefined,
    contentDisposition: header(headers, 'content-disposition'),
    contentLanguage: header(headers, 'content-language'),
    cacheControl: header(headers, 'cache-control'),
    expires: header(headers, 'expires'),
    userMetadata,
    storageClass: storageClass === 'STANDARD' ? undefined : storageClass,
    websiteRedirectLocation: header(headers, 'x-amz-website-redirect-location'),
    tags: tagsFromHeader(header(headers, 'x-amz-tagging')),
  };
}

/** x-amz-tagging: a URL-encoded query string of tags. */
export function tagsFromHeader(value: string | undefined): { key: string; value: string }[] | undefined {
  if (value === undefined) return undefined;
  const tags = [...new URLSearchParams(value)].map(([key, v]) => ({ key, value: v }));
  checkObjectTags(tags);
  return tags;
}

export function checkObjectTags(tags: { key: string; value: string }[]): void {
  if (tags.length > 10) throw new S3Error('BadRequest', 400, 'Object tags cannot be greater than 10');
  const seen = new Set<string>();
  for (const t of tags) {
    if (seen.has(t.key)) throw new S3Error('InvalidTag', 400, 'Cannot provide multiple Tags with the same key');
    seen.add(t.key);
    if (t.key.length < 1 || t.key.length > 128) throw new S3Error('InvalidTag', 400, 'The TagKey you have provided is invalid');
    if (t.value.length > 256) throw new S3Error('InvalidTag', 400, 'The TagValue you have provided is invalid');
  }
}

/** The headers GET and HEAD return for an object version, byte for byte as stored. */
export function objectHeaders(v: ObjectVersion, versioned: boolean): Record<string, string | number> {
  const m = v.meta;
  const h: Record<string, string | number> = {
    'Last-Modified': httpDate(v.lastModified),
    ETag: `"${v.etag}"`,
    'Accept-Ranges': 'bytes',
    'Content-Type': m.contentType ?? 'binary/octet-stream',
  };
  if (m.contentEncoding) h['Content-Encoding'] = m.contentEncoding;
  if (m.contentDisposition) h['Content-Disposition'] = m.contentDisposition;
  if (m.contentLanguage) h['Content-Language'] = m.contentLanguage;
  if (m.cacheControl) h['Cache-Control'] = m.cacheControl;
  if (m.expires) h.Expires = m.expires;
  if (m.storageClass) h['x-amz-storage-class'] = m.storageClass;
  if (m.websiteRedirectLocation) h['x-amz-website-redirect-location'] = m.websiteRedirectLocation;
  if (m.tags?.length) h['x-amz-tagging-count'] = m.tags.length;
  // Beyond printable US-ASCII, a value goes back RFC 2047-encoded, as S3 returns it.
  for (const [name, value] of m.userMetadata) h[`x-amz-meta-${name}`] = encodeMetadataValue(value);
  if (versioned || v.versionId !== 'null') h['x-amz-version-id'] = v.versionId;
  return h;
}
