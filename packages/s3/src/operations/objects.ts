import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { lookupVersion, noSuchBucket, requireBucket, requireBucketView } from '../access';
import { accessDenied, authorize, checkS3Access } from '../authorization';
import type { S3Request, S3Response } from '../context';
import { parseDelete, parseTagging } from '../documents';
import { S3Error } from '../errors';
import { cannotBeHeader, header, httpDate, parseHttpDate, readSmallBody, xmlDate } from '../http-util';
import { checkObjectTags, metaFromHeaders, objectHeaders } from '../object-headers';
import { createChecksum, type ChecksumAlgorithm } from '../checksums';
import { requestChecksum } from '../request-checksum';
import { BlobTooLargeError, type WrittenBlob } from '../store/blob-store';
import { COPY_SOURCE_CUSTOMER_KEY, blobEncryption, newObjectKey, objectDataKey, readBlob, readBlobNow } from '../crypto/object-keys';
import { checkSseKmsTransport, encryptionHeaders, sseRequest } from '../sse';
import { checkCustomerKey, customerKey } from '../sse-c';
import type { BlobRef, BucketRecord, ObjectEncryption, ObjectMeta, ObjectVersion } from '../store/model';
import { el, s3Document } from '../xml';
import { requestAcl } from './bucket-config';
import { applyDefaultRetention, bypassRequested, checkVersionDeletable, lockFromRequest, lockHeaders } from '../object-lock';
import { tagging } from './buckets';
import { randomBytesFast } from '@sealbox/runtime';

export const MAX_KEY_BYTES = 1024;
export const MAX_PUT_BYTES = 5 * 1024 ** 3;
/**
 * Objects up to this size are written and read whole, in memory and with synchronous file calls
 * (one write, one read), rather than streamed: for small objects the stream machinery, the
 * asynchronous file handle and the temporary file cost more than the bytes.
 */
export const SMALL_OBJECT_BYTES = 1024 * 1024;

/** Version ids: 32 URL-safe characters, like S3's. */
export const newVersionId = () => randomBytesFast(24).toString('base64url');
const VERSION_ID = /^(null|[A-Za-z0-9_-]{32})$/;

export function checkKey(key: string): void {
  const size = Buffer.byteLength(key, 'utf8');
  if (size > MAX_KEY_BYTES) {
    throw new S3Error('KeyTooLongError', 400, 'Your key is too long', [['Size', String(size)], ['MaxSizeAllowed', String(MAX_KEY_BYTES)]]);
  }
}

export function requestedVersion(req: S3Request): string | undefined {
  const versionId = req.query.get('versionId');
  if (versionId !== undefined && !VERSION_ID.test(versionId)) {
    throw new S3Error('InvalidArgument', 400, 'Invalid version id specified', [['ArgumentName', 'versionId'], ['ArgumentValue', versionId]]);
  }
  return versionId;
}

/**
 * The version a GET, HEAD or copy names: the latest, or ?versionId. Missing keys, missing
 * versions and delete markers fail as S3 answers them.
 */
export function findVersion(req: S3Request, bucket: BucketRecord, key: string, versionId: string | undefined, method: string, readOnly = false): ObjectVersion {
  const meta = req.state.meta;
  // readOnly: the caller changes nothing in the version, so the one authorization looked up will do.
  const find = readOnly ? (id: string | undefined) => lookupVersion(req, bucket.name, key, id) : (id: string | undefined) => (id !== undefined ? meta.version(bucket.name, key, id) : meta.latest(bucket.name, key));
  if (versionId !== undefined) {
    const v = find(versionId);
    if (!v) throw new S3Error('NoSuchVersion', 404, 'The specified version does not exist.', [['Key', key], ['VersionId', versionId]]);
    if (v.deleteMarker) {
      throw new S3Error('MethodNotAllowed', 405, 'The specified method is not allowed against this resource.', [['Method', method], ['ResourceType', 'DeleteMarker']], {
        'x-amz-delete-marker': 'true',
        'x-amz-version-id': v.versionId,
        Allow: 'DELETE',
        'Last-Modified': httpDate(v.lastModified),
      });
    }
    return v;
  }
  const v = find(undefined);
  if (!v || v.deleteMarker) {
    const headers: Record<string, string> = v ? { 'x-amz-delete-marker': 'true', 'x-amz-version-id': v.versionId } : {};
    throw new S3Error('NoSuchKey', 404, 'The specified key does not exist.', [['Key', key]], headers);
  }
  return v;
}

/**
 * The version a GET or HEAD reads. A missing object is 404 only to a caller who may list the
 * bucket, and 403 to anyone else, so that existence does not leak.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html (Permissions)
 */
function findReadableVersion(req: S3Request, bucket: BucketRecord, key: string): ObjectVersion {
  try {
    return findVersion(req, bucket, key, requestedVersion(req), req.method, true);
  } catch (err) {
    if (err instanceof S3Error && err.code === 'NoSuchKey') {
      const outcome = checkS3Access(req, { action: 's3:ListBucket', bucket });
      if (!outcome.allowed) throw accessDenied(req, { action: 's3:ListBucket', bucket }, outcome.reason);
    }
    throw err;
  }
}

/**
 * Reads plaintext bytes [start, end] of an object whose data may span several blobs (parts),
 * with its data key (see objectDataKey).
 */
export function readObject(req: S3Request, parts: BlobRef[], dataKey: Buffer | undefined, start: number, end: number): Readable {
  async function* chunks() {
    let offset = 0;
    for (const part of parts) {
      const partStart = offset;
      const partEnd = offset + part.size - 1;
      offset += part.size;
      if (part.size === 0 || partEnd < start || partStart > end) continue;
      yield* readBlob(req.state, part, dataKey, Math.max(start, partStart) - partStart, Math.min(end, partEnd) - partStart);
    }
  }
  return Readable.from(chunks(), { objectMode: false });
}

/** Whether a write carries If-None-Match or If-Match (else checkWriteConditions has nothing to check). */
export function hasWriteConditions(req: S3Request): boolean {
  return req.headers['if-none-match'] !== undefined || req.headers['if-match'] !== undefined;
}

/** A write condition: If-None-Match: * (create only) and If-Match: <etag> (replace only that). */
export function checkWriteConditions(req: S3Request, current: ObjectVersion | undefined): void {
  const ifNoneMatch = header(req.headers, 'if-none-match');
  const ifMatch = header(req.headers, 'if-match');
  const exists = current && !current.deleteMarker;
  if (ifNoneMatch !== undefined) {
    if (ifNoneMatch.trim() !== '*') throw new S3Error('NotImplemented', 501, 'A header you provided implies functionality that is not implemented', [['Header', 'If-None-Match']]);
    if (exists) throw new S3Error('PreconditionFailed', 412, 'At least one of the pre-conditions you specified did not hold', [['Condition', 'If-None-Match']]);
  }
  if (ifMatch !== undefined) {
    if (!exists) throw new S3Error('NoSuchKey', 404, 'The specified key does not exist.', [['Key', req.key!]]);
    if (!etagMatches(ifMatch, current.etag)) throw new S3Error('PreconditionFailed', 412, 'At least one of the pre-conditions you specified did not hold', [['Condition', 'If-Match']]);
  }
}

function etagMatches(condition: string, etag: string): boolean {
  return condition.split(',').some((c) => {
    const t = c.trim().replace(/^W\//, '');
    return t === '*' || t === `"${etag}"` || t === etag;
  });
}

/**
 * Makes a new version the latest: a fresh id in a versioning-enabled bucket, otherwise the
 * "null" version, replacing the previous null version (whose blobs are then deleted).
 */
export function commitVersion(req: S3Request, bucket: BucketRecord, version: Omit<ObjectVersion, 'versionId' | 'seq' | 'isLatest'>, check?: (current: ObjectVersion | undefined) => void): ObjectVersion {
  const write = versionWrite(req, bucket, version, check);
  const committed = req.state.meta.transaction(write.run);
  write.removeReplaced();
  return committed;
}

/**
 * commitVersion in the group commit of this turn (MetadataStore.commitSoon): resolves once the
 * transaction holding the new version has committed, so the caller acknowledges a write that
 * survives kill -9, as commitVersion's caller does.
 */
export async function commitVersionSoon(req: S3Request, bucket: BucketRecord, version: Omit<ObjectVersion, 'versionId' | 'seq' | 'isLatest'>, check?: (current: ObjectVersion | undefined) => void): Promise<ObjectVersion> {
  const write = versionWrite(req, bucket, version, check);
  const committed = await req.state.meta.commitSoon(write.run);
  write.removeReplaced();
  return committed;
}

/**
 * The write of a new latest version (run in a transaction; may run more than once, see
 * commitSoon), and the removal of the bytes of the version it replaced, once committed.
 */
function versionWrite(req: S3Request, bucket: BucketRecord, version: Omit<ObjectVersion, 'versionId' | 'seq' | 'isLatest'>, check?: (current: ObjectVersion | undefined) => void) {
  const meta = req.state.meta;
  let replaced: ObjectVersion | undefined;
  /** The replaced version's blobs removed in the write's own transaction. */
  let dropped: string[] = [];
  return {
    run: (): ObjectVersion => {
      replaced = undefined;
      dropped = [];
      // The bucket may have been deleted (it was empty) while the body arrived, or while the
      // write waited for its group commit: no version lands in a bucket that is gone.
      if (!meta.bucketView(bucket.name)) throw noSuchBucket(bucket.name);
      check?.(meta.latest(bucket.name, version.key));
      const versionId = bucket.versioning === 'Enabled' ? newVersionId() : 'null';
      if (versionId === 'null') replaced = nullVersion(req, bucket.name, version.key);
      const v: ObjectVersion = { ...version, versionId, seq: meta.nextSeq(), isLatest: true };
      if (!v.deleteMarker) applyDefaultRetention(bucket, v.meta, v.lastModified);
      meta.putLatest(v, replaced?.isLatest === true);
      // Inline bytes of the replaced version that no read holds go in this same transaction
      // (committed or undone with the write; the pages they free are reused by its inserts).
      for (const part of replaced?.parts ?? []) if (req.state.blobs.dropInTransaction(part.blobId)) dropped.push(part.blobId);
      return v;
    },
    removeReplaced: () => {
      for (const part of replaced?.parts ?? []) if (!dropped.includes(part.blobId)) req.state.blobs.delete(part.blobId);
    },
  };
}

/**
 * The key's null version (read only). When the latest version (the store's shared view, which
 * authorization looked up already) is the null version, or there is no version at all, that
 * answers without a second query.
 */
function nullVersion(req: S3Request, bucket: string, key: string): ObjectVersion | undefined {
  const latest = req.state.meta.latestView(bucket, key) as ObjectVersion | undefined;
  // No latest version means no version at all: one of a key's versions is always the latest.
  if (latest === undefined || latest.versionId === 'null') return latest;
  return req.state.meta.version(bucket, key, 'null');
}

/**
 * Makes freshly written bytes the latest version of `key` (one blob), re-checking the write
 * conditions inside the transaction; the blob is removed if the commit fails.
 */
export function commitBlob(
  req: S3Request,
  bucket: BucketRecord,
  key: string,
  written: { blobId: string; size: number; md5?: Buffer; salt?: string },
  meta: ObjectMeta,
  ownerAccountId: string,
  encryption: ObjectEncryption,
  check?: (current: ObjectVersion | undefined) => void,
): ObjectVersion {
  try {
    return commitVersion(req, bucket, blobVersion(req, bucket, key, written, meta, ownerAccountId, encryption), check);
  } catch (err) {
    req.state.blobs.delete(written.blobId);
    throw err;
  }
}

/** commitBlob in the group commit of this turn (commitVersionSoon). */
async function commitBlobSoon(
  req: S3Request,
  bucket: BucketRecord,
  key: string,
  written: { blobId: string; size: number; md5?: Buffer; salt?: string },
  meta: ObjectMeta,
  ownerAccountId: string,
  encryption: ObjectEncryption,
  check?: (current: ObjectVersion | undefined) => void,
): Promise<ObjectVersion> {
  try {
    return await commitVersionSoon(req, bucket, blobVersion(req, bucket, key, written, meta, ownerAccountId, encryption), check);
  } catch (err) {
    req.state.blobs.delete(written.blobId);
    throw err;
  }
}

function blobVersion(
  req: S3Request,
  bucket: BucketRecord,
  key: string,
  written: { blobId: string; size: number; md5?: Buffer; salt?: string },
  meta: ObjectMeta,
  ownerAccountId: string,
  encryption: ObjectEncryption,
): Omit<ObjectVersion, 'versionId' | 'seq' | 'isLatest'> {
  return {
    bucket: bucket.name,
    key,
    deleteMarker: false,
    lastModified: req.now.getTime(),
    // S3's ETag is the data's MD5 for SSE-S3 objects, and an opaque value (random here) for
    // SSE-KMS and SSE-C, so their writes need no MD5 unless Content-MD5 asks to be checked.
    etag: encryption.algorithm === 'AES256' ? written.md5!.toString('hex') : randomBytesFast(16).toString('hex'),
    size: written.size,
    ownerAccountId,
    parts: [{ blobId: written.blobId, size: written.size, salt: written.salt }],
    meta,
    encryption,
  };
}

/**
 * The x-amz-version-id a write answers with: the new version's id where versioning is Enabled.
 * A write to a versioning-Suspended bucket makes the null version and, as in an unversioned
 * bucket, S3 sends no x-amz-version-id for it ("If you enable versioning for a bucket, Amazon S3
 * automatically generates a unique version ID ... returns this ID in the response").
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html#API_PutObject_ResponseSyntax
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/AddingObjectstoVersionSuspendedBuckets.html
 */
export function writtenVersionHeader(bucket: BucketRecord, v: ObjectVersion): Record<string, string> {
  return bucket.versioning === 'Enabled' ? { 'x-amz-version-id': v.versionId } : {};
}

function putObjectHeaders(bucket: BucketRecord, v: ObjectVersion): Record<string, string> {
  const h: Record<string, string> = { ETag: `"${v.etag}"`, ...encryptionHeaders(v.encryption, true), ...writtenVersionHeader(bucket, v) };
  if (v.meta.checksum) {
    h[`x-amz-checksum-${v.meta.checksum.algorithm.toLowerCase()}`] = v.meta.checksum.value;
    h['x-amz-checksum-type'] = v.meta.checksum.type;
  }
  return h;
}

/** Content-MD5: base64 of 16 bytes, or InvalidDigest. */
export function contentMd5(req: S3Request): Buffer | undefined {
  const value = header(req.headers, 'content-md5');
  if (value === undefined) return undefined;
  const md5 = Buffer.from(value, 'base64');
  if (md5.length !== 16 || md5.toString('base64') !== value.trim()) {
    throw new S3Error('InvalidDigest', 400, 'The Content-MD5 you specified was invalid.', [['Content-MD5', value]]);
  }
  return md5;
}

/** The whole (small) verified body, as the chunks it came in, or BlobTooLargeError past `maxBytes`. */
async function collectBody(body: Readable, maxBytes: number): Promise<{ chunks: Buffer[]; size: number }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw new BlobTooLargeError(maxBytes);
    chunks.push(chunk as Buffer);
  }
  return { chunks, size };
}

/**
 * Streams the request body into a blob encrypted under `dataKey`, verifying Content-MD5 and the
 * flexible checksum over the plaintext. Bodies up to SMALL_OBJECT_BYTES are taken whole and
 * written at once. `withMd5: false` skips the MD5 when nothing needs it (no Content-MD5 and an
 * ETag that is not the MD5); the result's md5 is then undefined. `inline`: a small body may be
 * kept in the metadata database (BlobStore.writeNow), for a caller that commits it with
 * commitBlob (MetadataStore.putLatest writes it in the version's transaction).
 */
export async function writeBody(req: S3Request, dataKey: Buffer, maxBytes = MAX_PUT_BYTES, fallback: ChecksumAlgorithm = 'CRC64NVME', withMd5 = true, inline = false) {
  const declared = header(req.headers, 'x-amz-decoded-content-length') ?? header(req.headers, 'content-length');
  // HTTP's own chunked framing (not aws-chunked, which declares x-amz-decoded-content-length) is
  // a header S3 does not implement for uploads: 501 NotImplemented naming Transfer-Encoding, as
  // AWS answers PutObject and UploadPart (responses recorded in aws/aws-sdk-js-v3#3403,
  // Automattic/knox#43, chilts/awssum#30).
  // https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList (NotImplemented)
  if (declared === undefined && header(req.headers, 'transfer-encoding') !== undefined) {
    throw new S3Error('NotImplemented', 501, 'A header you provided implies functionality that is not implemented', [['Header', 'Transfer-Encoding']]);
  }
  if (declared === undefined) throw new S3Error('MissingContentLength', 411, 'You must provide the Content-Length HTTP header.');
  if (Number(declared) > maxBytes) {
    throw new S3Error('EntityTooLarge', 400, 'Your proposed upload exceeds the maximum allowed size', [
      ['ProposedSize', declared],
      ['MaxSizeAllowed', String(maxBytes)],
    ]);
  }
  const md5 = contentMd5(req);
  const checksum = requestChecksum(req.headers, fallback);
  // S3 keeps its own CRC64NVME of all data too (the default checksum of multipart objects).
  const crc64 = checksum?.algorithm === 'CRC64NVME' ? undefined : createChecksum('CRC64NVME');
  const observe = (chunk: Buffer) => {
    checksum?.hasher.update(chunk);
    crc64?.update(chunk);
  };
  const { salt, encrypt, seal } = blobEncryption(dataKey);
  const md5Wanted = withMd5 || md5 !== undefined;
  let written: WrittenBlob;
  try {
    if (Number(declared) <= SMALL_OBJECT_BYTES) {
      const { chunks, size } = await collectBody(req.body, maxBytes);
      const hash = md5Wanted ? createHash('md5') : undefined;
      for (const chunk of chunks) {
        observe(chunk);
        hash?.update(chunk);
      }
      written = { blobId: req.state.blobs.writeNow(seal(chunks), inline), size, md5: hash?.digest() };
    } else {
      written = await req.state.blobs.write(req.body, observe, maxBytes, encrypt, md5Wanted);
    }
  } catch (err) {
    if (err instanceof BlobTooLargeError) throw new S3Error('EntityTooLarge', 400, 'Your proposed upload exceeds the maximum allowed size');
    throw err;
  }
  try {
    if (md5 && !md5.equals(written.md5!)) {
      throw new S3Error('BadDigest', 400, 'The Content-MD5 you specified did not match what we received.', [
        ['ExpectedDigest', md5.toString('base64')],
        ['CalculatedDigest', written.md5!.toString('base64')],
      ]);
    }
    const value = checksum?.verify(req.trailers());
    const crc64nvme = checksum?.algorithm === 'CRC64NVME' ? value! : crc64!.digest().toString('base64');
    return { ...written, salt, checksum: checksum && value ? { algorithm: checksum.algorithm, value } : undefined, crc64nvme };
  } catch (err) {
    req.state.blobs.delete(written.blobId);
    throw err;
  }
}

/**
 * PutObject: the bytes stream to a blob, are verified, and only then become the latest version.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html
 */
export async function putObject(req: S3Request): Promise<S3Response> {
  const bucket = requireBucketView(req);
  const key = req.key!;
  checkKey(key);
  const meta = metaFromHeaders(req.headers);
  const acl = requestAcl(req, bucket, 'object');
  if (acl.grants) meta.acl = acl.grants;
  meta.lock = lockFromRequest(req, bucket);
  const sse = sseRequest(req, bucket, key);
  const conditional = hasWriteConditions(req);
  if (conditional) checkWriteConditions(req, req.state.meta.latest(bucket.name, key));
  const { dataKey, encryption } = await newObjectKey(req, sse, bucket.name, key);
  // inline: a small body may be kept in the database, written with the version's row (commitBlob).
  const written = await writeBody(req, dataKey, MAX_PUT_BYTES, 'CRC64NVME', encryption.algorithm === 'AES256', true);
  if (written.checksum) meta.checksum = { ...written.checksum, type: 'FULL_OBJECT' };
  // Committed with the other writes of this turn, answered once that transaction has committed.
  const v = await commitBlobSoon(req, bucket, key, written, meta, acl.owner, encryption, conditional ? (current) => checkWriteConditions(req, current) : undefined);
  return { headers: putObjectHeaders(bucket, v) };
}

/** RFC 7232 conditions as S3 applies them to GET and HEAD (and, prefixed, to copy sources). */
export function checkReadConditions(req: S3Request, v: ObjectVersion, prefix = ''): 'ok' | 'not-modified' {
  const h = (name: string) => header(req.headers, `${prefix}${name}`);
  const failed = (condition: string) =>
    new S3Error('PreconditionFailed', 412, 'At least one of the pre-conditions you specified did not hold', [['Condition', `${prefix ? 'x-amz-copy-source-' : ''}${condition}`]]);
  const lastModified = Math.floor(v.lastModified / 1000) * 1000;
  const ifMatch = h('if-match');
  if (ifMatch !== undefined) {
    if (!etagMatches(ifMatch, v.etag)) throw failed(prefix ? 'If-Match' : 'If-Match');
  } else {
    const since = parseHttpDate(h('if-unmodified-since'));
    if (since !== undefined && lastModified > since) throw failed('If-Unmodified-Since');
  }
  const ifNoneMatch = h('if-none-match');
  if (ifNoneMatch !== undefined) {
    if (etagMatches(ifNoneMatch, v.etag)) {
      if (prefix) throw failed('If-None-Match');
      return 'not-modified';
    }
  } else {
    const since = parseHttpDate(h('if-modified-since'));
    if (since !== undefined && lastModified <= since) {
      if (prefix) throw failed('If-Modified-Since');
      return 'not-modified';
    }
  }
  return 'ok';
}

/** `bytes=a-b`, `bytes=a-`, `bytes=-n`; undefined when absent or not a single byte range (served whole). */
function parseRange(value: string | undefined, size: number): { start: number; end: number } | 'unsatisfiable' | undefined {
  if (value === undefined) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(value.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (m[2] !== '' && Number(m[2]) < start) return undefined;
  if (start >= size) return 'unsatisfiable';
  return { start, end };
}

const RESPONSE_OVERRIDES: [string, string][] = [
  ['response-content-type', 'Content-Type'],
  ['response-content-language', 'Content-Language'],
  ['response-expires', 'Expires'],
  ['response-cache-control', 'Cache-Control'],
  ['response-content-disposition', 'Content-Disposition'],
  ['response-content-encoding', 'Content-Encoding'],
];

/**
 * GetObject and HeadObject: versions, conditions, a single Range or partNumber, response-*
 * overrides on signed requests, the stored checksum with x-amz-checksum-mode: ENABLED.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html
 */
export async function getObject(req: S3Request): Promise<S3Response> {
  const bucket = requireBucketView(req);
  // Reads name no encryption (except an SSE-C key): S3 refuses the write-side headers on GET and HEAD.
  for (const name of ['x-amz-server-side-encryption', 'x-amz-server-side-encryption-aws-kms-key-id', 'x-amz-server-side-encryption-context']) {
    if (header(req.headers, name) !== undefined) {
      throw new S3Error('InvalidArgument', 400, `${name} header is not supported for this operation.`, [['ArgumentName', name], ['ArgumentValue', header(req.headers, name)!]]);
    }
  }
  const key = req.key!;
  const v = findReadableVersion(req, bucket, key);
  // "All GET and PUT requests for an object protected by AWS KMS fail if you don't make them by
  // using SSL/TLS, or SigV4": before a 304, a 416 or anything else that would tell the caller
  // about the object (its ETag, its size, its parts).
  // https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html#aws-signature-version-4-sse-kms
  if (v.encryption?.algorithm === 'aws:kms') checkSseKmsTransport(req);
  const headers = { ...objectHeaders(v, bucket.versioning !== undefined), ...encryptionHeaders(v.encryption), ...lockHeaders(req, bucket, v) };
  if (checkReadConditions(req, v) === 'not-modified') {
    return { status: 304, headers: { ETag: headers.ETag!, 'Last-Modified': headers['Last-Modified']!, ...(headers['x-amz-version-id'] ? { 'x-amz-version-id': headers['x-amz-version-id'] } : {}) } };
  }
  for (const [param, name] of RESPONSE_OVERRIDES) {
    const value = req.query.get(param);
    if (value === undefined) continue;
    if (!req.credentials) throw new S3Error('InvalidRequest', 400, 'Request specific response headers cannot be used for anonymous GET requests.');
    // A header carries Latin-1 only, and never a line break (which would split the response).
    if (cannotBeHeader(value)) {
      throw new S3Error('InvalidArgument', 400, 'Header value cannot be represented using ISO-8859-1.', [['ArgumentName', param], ['ArgumentValue', value]]);
    }
    headers[name] = value;
  }

  let start = 0;
  let end = v.size - 1;
  let status = 200;
  const partNumberText = req.query.get('partNumber');
  if (partNumberText !== undefined) {
    const partSizes = v.meta.partSizes ?? [v.size];
    const n = Number(partNumberText);
    if (!/^\d+$/.test(partNumberText) || n < 1 || n > 10000) {
      throw new S3Error('InvalidArgument', 400, 'Part number must be an integer between 1 and 10000, inclusive', [['ArgumentName', 'partNumber'], ['ArgumentValue', partNumberText]]);
    }
    if (n > partSizes.length) {
      throw new S3Error('InvalidPartNumber', 416, 'The requested partnumber is not satisfiable', [['PartNumberRequested', String(n)], ['ActualPartCount', String(partSizes.length)]]);
    }
    start = partSizes.slice(0, n - 1).reduce((a, b) => a + b, 0);
    end = start + partSizes[n - 1]! - 1;
    headers['x-amz-mp-parts-count'] = partSizes.length;
    if (v.meta.partSizes) status = 206;
  } else {
    const range = parseRange(header(req.headers, 'range'), v.size);
    if (range === 'unsatisfiable') {
      throw new S3Error('InvalidRange', 416, 'The requested range is not satisfiable', [['RangeRequested', header(req.headers, 'range')!], ['ActualObjectSize', String(v.size)]], {
        'Content-Range': `bytes */${v.size}`,
      });
    }
    if (range) {
      ({ start, end } = range);
      status = 206;
    }
  }
  if (status === 206) headers['Content-Range'] = `bytes ${start}-${end}/${v.size}`;
  headers['Content-Length'] = Math.max(0, end - start + 1);
  if (header(req.headers, 'x-amz-checksum-mode') === 'ENABLED' && v.meta.checksum && status === 200) {
    headers[`x-amz-checksum-${v.meta.checksum.algorithm.toLowerCase()}`] = v.meta.checksum.value;
    headers['x-amz-checksum-type'] = v.meta.checksum.type;
  }
  if (req.method === 'HEAD' || v.size === 0) {
    // An SSE-KMS object is readable only while KMS lets the caller Decrypt its data key (HEAD too).
    await objectDataKey(req, v.encryption);
    return { status, headers };
  }
  // The bytes this version names stay until the read is done, whatever is written or deleted
  // while it waits for its data key or streams (BlobStore.pin): pinned in the same turn as the
  // lookup, before any wait.
  const release = req.state.blobs.pin(v.parts);
  let streaming = false;
  try {
    const dataKey = await objectDataKey(req, v.encryption);
    if (v.size <= SMALL_OBJECT_BYTES && v.parts.length === 1) {
      const body = readBlobNow(req.state, v.parts[0]!, dataKey, start, end);
      if (body) return { status, headers, body };
    }
    const body = readObject(req, v.parts, dataKey, start, end);
    body.once('close', release);
    streaming = true;
    return { status, headers, body };
  } finally {
    if (!streaming) release();
  }
}

interface DeleteOutcome {
  versionId?: string;
  deleteMarker: boolean;
  deleteMarkerVersionId?: string;
}

/** Deletes one object or version, as DeleteObject and each entry of DeleteObjects do. */
function deleteOne(req: S3Request, bucket: BucketRecord, key: string, versionId: string | undefined, bypass = false): DeleteOutcome {
  const meta = req.state.meta;
  if (versionId !== undefined) {
    const v = meta.version(bucket.name, key, versionId);
    if (v) {
      checkVersionDeletable(req, bucket, v, bypass);
      meta.transaction(() => meta.deleteVersion(v));
      for (const p of v.parts) req.state.blobs.delete(p.blobId);
    }
    return { versionId, deleteMarker: v?.deleteMarker ?? false };
  }
  if (!bucket.versioning) {
    const v = meta.version(bucket.name, key, 'null');
    if (v) {
      meta.transaction(() => meta.deleteVersion(v));
      for (const p of v.parts) req.state.blobs.delete(p.blobId);
    }
    return { deleteMarker: false };
  }
  const marker = commitVersion(req, bucket, {
    bucket: bucket.name,
    key,
    deleteMarker: true,
    lastModified: req.now.getTime(),
    etag: '',
    size: 0,
    // An anonymous delete (a public bucket policy) leaves a marker the bucket owner owns.
    ownerAccountId: req.credentials?.accountId ?? bucket.accountId,
    parts: [],
    meta: { userMetadata: [] },
  });
  return { deleteMarker: true, deleteMarkerVersionId: marker.versionId, versionId: marker.versionId };
}

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObject.html */
export function deleteObject(req: S3Request): S3Response {
  const bucket = requireBucket(req);
  const outcome = deleteOne(req, bucket, req.key!, requestedVersion(req), bypassRequested(req, bucket));
  const headers: Record<string, string> = {};
  if (outcome.deleteMarker) headers['x-amz-delete-marker'] = 'true';
  if (outcome.versionId !== undefined) headers['x-amz-version-id'] = outcome.versionId;
  return { status: 204, headers };
}

/**
 * DeleteObjects: up to 1000 keys, quiet or verbose; requires Content-MD5 or a flexible checksum.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjects.html
 */
export async function deleteObjects(req: S3Request): Promise<S3Response> {
  const bucket = requireBucket(req);
  const bypass = bypassRequested(req, bucket);
  const md5 = contentMd5(req);
  const checksum = requestChecksum(req.headers);
  if (!md5 && !checksum) throw new S3Error('InvalidRequest', 400, 'Missing required header for this request: Content-MD5');
  const text = await readSmallBody(req.body, 2 * 1024 * 1024);
  const bytes = Buffer.from(text, 'utf8');
  if (md5 && !md5.equals(createHash('md5').update(bytes).digest())) {
    throw new S3Error('BadDigest', 400, 'The Content-MD5 you specified did not match what we received.');
  }
  if (checksum) {
    checksum.hasher.update(bytes);
    checksum.verify(req.trailers());
  }
  const doc = parseDelete(text);
  const results: string[] = [];
  for (const o of doc.objects) {
    try {
      if (o.versionId !== undefined && !VERSION_ID.test(o.versionId)) {
        results.push(el('Error', [el('Key', o.key), el('VersionId', o.versionId), el('Code', 'NoSuchVersion'), el('Message', 'The specified version does not exist.')]));
        continue;
      }
      // Each key is authorized on its own: a denied key is an AccessDenied entry, the rest go.
      authorize(req, { action: o.versionId !== undefined ? 's3:DeleteObjectVersion' : 's3:DeleteObject', bucket, key: o.key, versionId: o.versionId });
      const outcome = deleteOne(req, bucket, o.key, o.versionId, bypass);
      if (doc.quiet) continue;
      results.push(
        el('Deleted', [
          el('Key', o.key),
          el('VersionId', o.versionId),
          outcome.deleteMarker ? el('DeleteMarker', 'true') : '',
          el('DeleteMarkerVersionId', outcome.deleteMarkerVersionId),
        ]),
      );
    } catch (err) {
      if (!(err instanceof S3Error)) throw err;
      results.push(el('Error', [el('Key', o.key), el('VersionId', o.versionId), el('Code', err.code), el('Message', err.message)]));
    }
  }
  return { body: s3Document('DeleteResult', results) };
}

/** `x-amz-copy-source`: /bucket/key[?versionId=...], URL-encoded. */
export function parseCopySource(req: S3Request): { bucket: string; key: string; versionId?: string } {
  const raw = header(req.headers, 'x-amz-copy-source')!;
  const q = raw.indexOf('?');
  const path = q < 0 ? raw : raw.slice(0, q);
  const versionId = q < 0 ? undefined : (new URLSearchParams(raw.slice(q + 1)).get('versionId') ?? undefined);
  let decoded: string;
  try {
    decoded = decodeURIComponent(path).replace(/^\//, '');
  } catch {
    throw new S3Error('InvalidArgument', 400, 'Invalid copy source encoding', [['ArgumentName', 'x-amz-copy-source']]);
  }
  const slash = decoded.indexOf('/');
  if (slash <= 0 || slash === decoded.length - 1) {
    throw new S3Error('InvalidArgument', 400, 'Copy Source must mention the source bucket and key: sourcebucket/sourcekey', [['ArgumentName', 'x-amz-copy-source'], ['ArgumentValue', raw]]);
  }
  return { bucket: decoded.slice(0, slash), key: decoded.slice(slash + 1), versionId };
}

/** The copy source version, readable by the caller, with the x-amz-copy-source-if-* conditions met. */
export function copySource(req: S3Request): ObjectVersion {
  const source = parseCopySource(req);
  const bucket = req.state.meta.getBucket(source.bucket);
  if (!bucket) throw new S3Error('NoSuchBucket', 404, 'The specified bucket does not exist', [['BucketName', source.bucket]]);
  if (source.versionId !== undefined && !VERSION_ID.test(source.versionId)) {
    throw new S3Error('InvalidArgument', 400, 'Invalid version id specified', [['ArgumentName', 'x-amz-copy-source'], ['ArgumentValue', header(req.headers, 'x-amz-copy-source')!]]);
  }
  // The source is read: s3:GetObject (a named version: s3:GetObjectVersion) on it, judged by the
  // source bucket's policy and the caller's identity policies, as any read is.
  // https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html (Permissions)
  authorize(req, { action: source.versionId !== undefined ? 's3:GetObjectVersion' : 's3:GetObject', bucket, key: source.key, versionId: source.versionId });
  const v = findVersion(req, bucket, source.key, source.versionId, 'GET');
  // A copy reads the source: an SSE-KMS source needs TLS and SigV4 before its copy-source
  // conditions (412) or a part copy's range (416) say anything about it, as GET does.
  if (v.encryption?.algorithm === 'aws:kms') checkSseKmsTransport(req);
  checkReadConditions(req, v, 'x-amz-copy-source-');
  return v;
}

/**
 * CopyObject: metadata COPY (default) or REPLACE, tagging likewise; copying an object onto
 * itself must change something.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html
 */
export async function copyObject(req: S3Request): Promise<S3Response> {
  const bucket = requireBucket(req);
  const key = req.key!;
  checkKey(key);
  const source = copySource(req);
  const acl = requestAcl(req, bucket, 'object');
  const sse = sseRequest(req, bucket, key);
  const directive = header(req.headers, 'x-amz-metadata-directive') ?? 'COPY';
  const taggingDirective = header(req.headers, 'x-amz-tagging-directive') ?? 'COPY';
  if (directive !== 'COPY' && directive !== 'REPLACE') {
    throw new S3Error('InvalidArgument', 400, 'Unknown metadata directive.', [['ArgumentName', 'x-amz-metadata-directive'], ['ArgumentValue', directive]]);
  }
  if (taggingDirective !== 'COPY' && taggingDirective !== 'REPLACE') {
    throw new S3Error('InvalidArgument', 400, 'Unknown tagging directive.', [['ArgumentName', 'x-amz-tagging-directive'], ['ArgumentValue', taggingDirective]]);
  }
  const storageClass = header(req.headers, 'x-amz-storage-class');
  const redirect = header(req.headers, 'x-amz-website-redirect-location');
  if (
    source.bucket === bucket.name &&
    source.key === key &&
    directive === 'COPY' &&
    storageClass === undefined &&
    redirect === undefined &&
    header(req.headers, 'x-amz-server-side-encryption') === undefined &&
    !bucket.versioning
  ) {
    throw new S3Error(
      'InvalidRequest',
      400,
      "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
    );
  }
  // (Naming encryption counts as a change: an in-place copy is the documented way to re-encrypt.)
  let meta: ObjectMeta;
  if (directive === 'REPLACE') meta = metaFromHeaders(req.headers);
  else {
    meta = { ...source.meta, tags: source.meta.tags, partSizes: undefined, checksum: undefined };
    if (storageClass !== undefined) meta.storageClass = storageClass === 'STANDARD' ? undefined : storageClass;
    if (redirect !== undefined) meta.websiteRedirectLocation = redirect;
  }
  meta.partSizes = undefined;
  // A copy gets its own ACL (the request's, or the default), never the source's; likewise its
  // Object Lock: "Copied objects will not retain the Object Lock settings from the original objects."
  // https://docs.aws.amazon.com/AmazonS3/latest/userguide/copy-object.html
  meta.acl = acl.grants;
  meta.lock = lockFromRequest(req, bucket);
  meta.tags = taggingDirective === 'REPLACE' ? metaFromHeaders(req.headers).tags : source.meta.tags;
  checkWriteConditions(req, req.state.meta.latest(bucket.name, key));

  const algorithm = header(req.headers, 'x-amz-checksum-algorithm');
  const checksum = requestChecksum(algorithm ? { 'x-amz-sdk-checksum-algorithm': algorithm } : {}, (source.meta.checksum?.algorithm as ChecksumAlgorithm | undefined) ?? 'CRC64NVME');
  // The source's bytes stay until they are read, whatever is written or deleted meanwhile
  // (BlobStore.pin; nothing above waits, so this is the turn of the source's lookup).
  const release = req.state.blobs.pin(source.parts);
  let copied: { written: WrittenBlob; salt: string; encryption: ObjectEncryption };
  try {
    const sourceKey = await objectDataKey(req, source.encryption, COPY_SOURCE_CUSTOMER_KEY);
    const { dataKey, encryption } = await newObjectKey(req, sse, bucket.name, key);
    const { salt, encrypt } = blobEncryption(dataKey);
    const written = await req.state.blobs.write(readObject(req, source.parts, sourceKey, 0, source.size - 1), checksum ? (c) => checksum.hasher.update(c) : undefined, MAX_PUT_BYTES, encrypt);
    copied = { written, salt, encryption };
  } finally {
    release();
  }
  const { written, salt, encryption } = copied;
  if (checksum) meta.checksum = { algorithm: checksum.algorithm, value: checksum.verify(), type: 'FULL_OBJECT' };
  const v = commitBlob(req, bucket, key, { ...written, salt }, meta, acl.owner, encryption, (current) => checkWriteConditions(req, current));
  const headers: Record<string, string> = { ...encryptionHeaders(v.encryption, true), ...writtenVersionHeader(bucket, v) };
  if (source.versionId !== 'null' || header(req.headers, 'x-amz-copy-source')!.includes('versionId=')) headers['x-amz-copy-source-version-id'] = source.versionId;
  return {
    headers,
    body: s3Document('CopyObjectResult', [
      el('LastModified', xmlDate(v.lastModified)),
      el('ETag', `"${v.etag}"`),
      v.meta.checksum ? el(`Checksum${v.meta.checksum.algorithm}`, v.meta.checksum.value) : '',
      v.meta.checksum ? el('ChecksumType', v.meta.checksum.type) : '',
    ]),
  };
}

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObjectTagging.html */
export async function putObjectTagging(req: S3Request): Promise<S3Response> {
  const versionId = requestedVersion(req);
  findVersion(req, requireBucket(req), req.key!, versionId, 'PUT');
  const tags = parseTagging(await readSmallBody(req.body));
  checkObjectTags(tags);
  // Looked up again once the body is in: an overwrite or delete made meanwhile is not undone by
  // writing back the version read before it (which would point at bytes already removed).
  const bucket = requireBucket(req);
  const v = findVersion(req, bucket, req.key!, versionId, 'PUT');
  v.meta.tags = tags;
  req.state.meta.updateVersion(v);
  return { headers: bucket.versioning ? { 'x-amz-version-id': v.versionId } : {} };
}

export function getObjectTagging(req: S3Request): S3Response {
  const bucket = requireBucket(req);
  const v = findVersion(req, bucket, req.key!, requestedVersion(req), 'GET');
  return { headers: bucket.versioning ? { 'x-amz-version-id': v.versionId } : {}, body: tagging(v.meta.tags ?? []) };
}

export function deleteObjectTagging(req: S3Request): S3Response {
  const bucket = requireBucket(req);
  const v = findVersion(req, bucket, req.key!, requestedVersion(req), 'DELETE');
  v.meta.tags = undefined;
  req.state.meta.updateVersion(v);
  return { status: 204, headers: bucket.versioning ? { 'x-amz-version-id': v.versionId } : {} };
}

const OBJECT_ATTRIBUTES = ['ETag', 'Checksum', 'ObjectParts', 'StorageClass', 'ObjectSize'];

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectAttributes.html */
export function getObjectAttributes(req: S3Request): S3Response {
  const bucket = requireBucket(req);
  const wanted = (header(req.headers, 'x-amz-object-attributes') ?? '').split(',').map((a) => a.trim()).filter(Boolean);
  if (wanted.length === 0) throw new S3Error('InvalidArgument', 400, 'Invalid attribute name specified.', [['ArgumentName', 'x-amz-object-attributes']]);
  for (const a of wanted) {
    if (!OBJECT_ATTRIBUTES.includes(a)) throw new S3Error('InvalidArgument', 400, 'Invalid attribute name specified.', [['ArgumentName', 'x-amz-object-attributes'], ['ArgumentValue', a]]);
  }
  const v = findVersion(req, bucket, req.key!, requestedVersion(req), 'GET');
  // An SSE-C object's attributes need its key, as a GET does (none: 400 InvalidRequest, another:
  // 403), and the answer carries the SSE-C headers; a key for any other object is refused.
  // https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectAttributes.html ("when you
  // retrieve the metadata from the object, you must use the following headers")
  const presented = customerKey(req);
  if (v.encryption?.algorithm === 'SSE-C') checkCustomerKey(v.encryption, presented);
  else if (presented) throw new S3Error('InvalidRequest', 400, 'The encryption parameters are not applicable to this object.');
  const has = (a: string) => wanted.includes(a);
  const sizes = v.meta.partSizes;
  const maxParts = Math.min(Number(header(req.headers, 'x-amz-max-parts') ?? 1000) || 1000, 1000);
  const marker = Number(header(req.headers, 'x-amz-part-number-marker') ?? 0) || 0;
  const shown = sizes ? sizes.map((size, i) => ({ n: i + 1, size })).filter((p) => p.n > marker).slice(0, maxParts) : [];
  const checksum = v.meta.checksum;
  const headers: Record<string, string> = { 'Last-Modified': httpDate(v.lastModified), ...(v.encryption?.algorithm === 'SSE-C' ? encryptionHeaders(v.encryption) : {}) };
  if (bucket.versioning) headers['x-amz-version-id'] = v.versionId;
  return {
    headers,
    body: s3Document('GetObjectAttributesResponse', [
      has('ETag') ? el('ETag', v.etag) : '',
      has('Checksum') && checksum
        ? el('Checksum', [el(`Checksum${checksum.algorithm}`, checksum.value.replace(/-\d+$/, '')), el('ChecksumType', checksum.type)])
        : '',
      has('ObjectParts') && sizes
        ? el('ObjectParts', [
            // The element is PartsCount (the SDKs' TotalPartsCount member reads it).
            // https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectAttributesParts.html
            el('PartsCount', sizes.length),
            el('PartNumberMarker', marker),
            el('NextPartNumberMarker', shown.length ? shown[shown.length - 1]!.n : marker),
            el('MaxParts', maxParts),
            el('IsTruncated', sizes.length > marker + shown.length),
            ...shown.map((p) => el('Part', [el('PartNumber', p.n), el('Size', p.size)])),
          ])
        : '',
      has('StorageClass') ? el('StorageClass', v.meta.storageClass ?? 'STANDARD') : '',
      has('ObjectSize') ? el('ObjectSize', v.size) : '',
    ]),
  };
}
