import { createHash, randomBytes } from 'node:crypto';
import { requireBucket } from '../access';
import { checksumHeader, combineCrc, compositeChecksum, decodeChecksum, isCrcAlgorithm, parseChecksumAlgorithm, type ChecksumAlgorithm } from '../checksums';
import type { S3Request, S3Response } from '../context';
import { parseCompleteMultipartUpload } from '../documents';
import { S3Error } from '../errors';
import { header, readSmallBody, xmlDate } from '../http-util';
import { metaFromHeaders } from '../object-headers';
import { ownerElements } from '../owner';
import type { MultipartUpload, PartRecord } from '../store/model';
import type { WrittenBlob } from '../store/blob-store';
import type { S3State } from '../state';
import { el, s3Document } from '../xml';
import { createChecksum } from '../checksums';
import { COPY_SOURCE_CUSTOMER_KEY, blobEncryption, newObjectKey, objectDataKey } from '../crypto/object-keys';
import { encryptionHeaders, refuseSseHeaders, sseRequest } from '../sse';
import { customerKey, customerKeyMatches } from '../sse-c';
import { requestAcl } from './bucket-config';
import { checkKey, checkWriteConditions, commitVersion, copySource, hasWriteConditions, readObject, writeBody, writtenVersionHeader } from './objects';
import { lockFromRequest, requireIntegrityHeader, uploadIsLocked } from '../object-lock';

export const MIN_PART_BYTES = 5 * 1024 * 1024;
export const MAX_PART_BYTES = 5 * 1024 ** 3;
export const MAX_PARTS = 10000;

const noSuchUpload = (uploadId: string) =>
  new S3Error('NoSuchUpload', 404, 'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.', [['UploadId', uploadId]]);

function requireUpload(req: S3Request): MultipartUpload {
  const uploadId = req.query.get('uploadId') ?? '';
  const upload = req.state.meta.getUpload(uploadId);
  if (!upload || upload.bucket !== req.bucket || upload.key !== req.key) throw noSuchUpload(uploadId);
  return upload;
}

function partNumberOf(req: S3Request): number {
  const text = req.query.get('partNumber') ?? '';
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > MAX_PARTS) {
    throw new S3Error('InvalidArgument', 400, 'Part number must be an integer between 1 and 10000, inclusive', [['ArgumentName', 'partNumber'], ['ArgumentValue', text]]);
  }
  return n;
}

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateMultipartUpload.html */
export async function createMultipartUpload(req: S3Request): Promise<S3Response> {
  const bucket = requireBucket(req);
  const key = req.key!;
  checkKey(key);
  const meta: MultipartUpload['meta'] = metaFromHeaders(req.headers);
  const acl = requestAcl(req, bucket, 'object');
  if (acl.grants) meta.acl = acl.grants;
  meta.lock = lockFromRequest(req, bucket);
  const sse = sseRequest(req, bucket, key);
  const algorithmText = header(req.headers, 'x-amz-checksum-algorithm');
  if (algorithmText !== undefined) {
    const algorithm = parseChecksumAlgorithm(algorithmText);
    if (!algorithm) throw new S3Error('InvalidRequest', 400, 'Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]');
    meta.checksumAlgorithm = algorithm;
    const type = header(req.headers, 'x-amz-checksum-type') ?? (algorithm === 'CRC64NVME' ? 'FULL_OBJECT' : 'COMPOSITE');
    if (type !== 'FULL_OBJECT' && type !== 'COMPOSITE') throw new S3Error('InvalidRequest', 400, 'Value for x-amz-checksum-type header is invalid.');
    if (type === 'FULL_OBJECT' && !isCrcAlgorithm(algorithm)) {
      throw new S3Error('InvalidRequest', 400, `The ${algorithm} checksum algorithm does not support the FULL_OBJECT checksum type.`);
    }
    if (type === 'COMPOSITE' && algorithm === 'CRC64NVME') {
      throw new S3Error('InvalidRequest', 400, 'The CRC64NVME checksum algorithm does not support the COMPOSITE checksum type.');
    }
    meta.checksumType = type;
  }
  const upload: MultipartUpload = {
    uploadId: randomBytes(48).toString('base64url'),
    bucket: bucket.name,
    key,
    initiated: req.now.getTime(),
    ownerAccountId: acl.owner,
    meta,
    // Encryption is fixed when the upload starts: every part is encrypted under this key.
    encryption: (await newObjectKey(req, sse, bucket.name, key)).encryption,
  };
  req.state.meta.putUpload(upload);
  const headers: Record<string, string> = { ...encryptionHeaders(upload.encryption, true) };
  if (meta.checksumAlgorithm) {
    headers['x-amz-checksum-algorithm'] = meta.checksumAlgorithm;
    headers['x-amz-checksum-type'] = meta.checksumType!;
  }
  return {
    headers,
    body: s3Document('InitiateMultipartUploadResult', [el('Bucket', bucket.name), el('Key', key), el('UploadId', upload.uploadId)]),
  };
}

/**
 * The data key parts of an upload are encrypted under. An SSE-C upload's parts must each carry
 * the customer key the upload was created with: none at all, or another key, is 400
 * InvalidRequest (where a GET of an SSE-C object with another key is 403).
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_UploadPart.html ("must match the encryption
 * key specified in the initiate multipart upload request"); the messages are AWS's own answers.
 */
async function uploadDataKey(req: S3Request, upload: MultipartUpload): Promise<Buffer> {
  if (upload.encryption?.algorithm === 'SSE-C') {
    const presented = customerKey(req);
    if (!presented) {
      throw new S3Error('InvalidRequest', 400, 'The multipart upload initiate requested encryption. Subsequent part requests must include the appropriate encryption parameters.');
    }
    if (!customerKeyMatches(upload.encryption, presented)) {
      throw new S3Error('InvalidRequest', 400, 'The provided encryption parameters did not match the ones used originally.');
    }
  }
  return (await objectDataKey(req, upload.encryption))!;
}

function savePart(req: S3Request, upload: MultipartUpload, part: PartRecord): void {
  const replaced = req.state.meta.getPart(upload.uploadId, part.partNumber);
  req.state.meta.putPart(part);
  if (replaced) req.state.blobs.delete(replaced.blobId);
}

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_UploadPart.html */
export async function uploadPart(req: S3Request): Promise<S3Response> {
  const bucket = requireBucket(req);
  refuseSseHeaders(req);
  const partNumber = partNumberOf(req);
  const upload = requireUpload(req);
  if (uploadIsLocked(bucket, upload.meta)) requireIntegrityHeader(req, 'Put Part');
  const algorithm = upload.meta.checksumAlgorithm as ChecksumAlgorithm | undefined;
  const written = await writeBody(req, await uploadDataKey(req, upload), MAX_PART_BYTES, algorithm ?? 'CRC64NVME');
  if (algorithm && written.checksum && written.checksum.algorithm !== algorithm) {
    req.state.blobs.delete(written.blobId);
    throw new S3Error('InvalidRequest', 400, `Checksum Type mismatch occurred, expected checksum Type: ${algorithm.toLowerCase()}, actual checksum Type: ${written.checksum.algorithm.toLowerCase()}`);
  }
  if (!req.state.meta.getUpload(upload.uploadId)) {
    req.state.blobs.delete(written.blobId);
    throw noSuchUpload(upload.uploadId);
  }
  const etag = written.md5!.toString('hex');
  savePart(req, upload, {
    uploadId: upload.uploadId,
    partNumber,
    blobId: written.blobId,
    size: written.size,
    etag,
    lastModified: req.now.getTime(),
    checksum: written.checksum?.value,
    checksumAlgorithm: written.checksum?.algorithm,
    crc64nvme: written.crc64nvme,
    salt: written.salt,
  });
  const headers: Record<string, string> = { ETag: `"${etag}"`, ...encryptionHeaders(upload.encryption) };
  if (written.checksum && (algorithm || header(req.headers, `x-amz-checksum-${written.checksum.algorithm.toLowerCase()}`) || header(req.headers, 'x-amz-sdk-checksum-algorithm'))) headers[`x-amz-checksum-${written.checksum.algorithm.toLowerCase()}`] = written.checksum.value;
  return { headers };
}

/** UploadPartCopy: a part from (a byte range of) an existing object. */
export async function uploadPartCopy(req: S3Request): Promise<S3Response> {
  requireBucket(req);
  refuseSseHeaders(req);
  const partNumber = partNumberOf(req);
  const upload = requireUpload(req);
  const source = copySource(req);
  let start = 0;
  let end = source.size - 1;
  const range = header(req.headers, 'x-amz-copy-source-range');
  if (range !== undefined) {
    const m = /^bytes=(\d+)-(\d+)$/.exec(range);
    if (!m || Number(m[1]) > Number(m[2])) {
      throw new S3Error('InvalidArgument', 400, 'The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy', [['ArgumentName', 'x-amz-copy-source-range'], ['ArgumentValue', range]]);
    }
    start = Number(m[1]);
    end = Number(m[2]);
    if (end >= source.size) throw new S3Error('InvalidRange', 416, 'The requested range is not satisfiable', [['RangeRequested', range], ['ActualObjectSize', String(source.size)]]);
  }
  // The source's bytes stay until they are read (BlobStore.pin; nothing above waits).
  const release = req.state.blobs.pin(source.parts);
  const crc64 = createChecksum('CRC64NVME');
  let copied: { written: WrittenBlob; salt: string };
  try {
    const sourceKey = await objectDataKey(req, source.encryption, COPY_SOURCE_CUSTOMER_KEY);
    const { salt, encrypt } = blobEncryption(await uploadDataKey(req, upload));
    copied = { written: await req.state.blobs.write(readObject(req, source.parts, sourceKey, start, end), (c) => crc64.update(c), MAX_PART_BYTES, encrypt), salt };
  } finally {
    release();
  }
  const { written, salt } = copied;
  // The upload may have ended while the copy ran (aborted, completed, or taken by DeleteBucket):
  // a part saved now would belong to no upload and keep its blob forever. As UploadPart does.
  if (!req.state.meta.getUpload(upload.uploadId)) {
    req.state.blobs.delete(written.blobId);
    throw noSuchUpload(upload.uploadId);
  }
  const etag = written.md5!.toString('hex');
  const now = req.now.getTime();
  savePart(req, upload, {
    uploadId: upload.uploadId,
    partNumber,
    blobId: written.blobId,
    size: written.size,
    etag,
    lastModified: now,
    crc64nvme: crc64.digest().toString('base64'),
    salt,
  });
  return {
    headers: { ...encryptionHeaders(upload.encryption), ...(source.versionId !== 'null' ? { 'x-amz-copy-source-version-id': source.versionId } : {}) },
    body: s3Document('CopyPartResult', [el('LastModified', xmlDate(now)), el('ETag', `"${etag}"`)]),
  };
}

/**
 * CompleteMultipartUpload: parts in ascending order, each but the last at least 5 MiB, ETags
 * matching; the object's ETag is the MD5 of the part MD5s plus "-N". The parts' blobs become the
 * object's data without being copied.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_CompleteMultipartUpload.html
 */
export async function completeMultipartUpload(req: S3Request): Promise<S3Response> {
  const bucket = requireBucket(req);
  refuseSseHeaders(req);
  const repeated = completedAnswer(req);
  if (repeated) return repeated;
  const upload = requireUpload(req);
  checkObjectChecksumHeader(req);
  // If-None-Match: <etag> is 501 and If-Match on a missing key 404 NoSuchKey, as on PutObject.
  // https://docs.aws.amazon.com/AmazonS3/latest/API/API_CompleteMultipartUpload.html#API_CompleteMultipartUpload_RequestSyntax
  const conditional = hasWriteConditions(req);
  if (conditional) checkWriteConditions(req, req.state.meta.latest(bucket.name, upload.key));
  const doc = parseCompleteMultipartUpload(await readSmallBody(req.body, 10 * 1024 * 1024));
  // The upload may have gone while the body arrived (aborted, or removed by a lifecycle
  // AbortIncompleteMultipartUpload rule when the clock moved): NoSuchUpload, not InvalidPart.
  requireUpload(req);
  const stored = new Map(req.state.meta.listParts(upload.uploadId).map((p) => [p.partNumber, p]));
  const chosen: PartRecord[] = [];
  let previous = 0;
  for (const p of doc.parts) {
    if (p.partNumber <= previous) throw new S3Error('InvalidPartOrder', 400, 'The list of parts was not in ascending order. Parts must be ordered by part number.', [['UploadId', upload.uploadId]]);
    previous = p.partNumber;
    const part = stored.get(p.partNumber);
    const etag = p.eTag.replace(/^"|"$/g, '');
    if (!part || part.etag !== etag) {
      throw new S3Error('InvalidPart', 400, 'One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part\'s entity tag.', [
        ['UploadId', upload.uploadId],
        ['PartNumber', String(p.partNumber)],
        ['ETag', p.eTag],
      ]);
    }
    chosen.push(part);
  }
  chosen.forEach((part, i) => {
    if (i < chosen.length - 1 && part.size < MIN_PART_BYTES) {
      throw new S3Error('EntityTooSmall', 400, 'Your proposed upload is smaller than the minimum allowed size', [
        ['ProposedSize', String(part.size)],
        ['MinSizeAllowed', String(MIN_PART_BYTES)],
        ['PartNumber', String(part.partNumber)],
        ['ETag', `"${part.etag}"`],
      ]);
    }
  });
  const etag = createHash('md5').update(Buffer.concat(chosen.map((p) => Buffer.from(p.etag, 'hex')))).digest('hex') + `-${chosen.length}`;
  const meta = { ...upload.meta, partSizes: chosen.map((p) => p.size) };
  const algorithm = upload.meta.checksumAlgorithm as ChecksumAlgorithm | undefined;
  delete (meta as { checksumAlgorithm?: string }).checksumAlgorithm;
  delete (meta as { checksumType?: string }).checksumType;
  if (!algorithm && chosen.every((p) => p.crc64nvme)) {
    // An upload created without an algorithm gets S3's default: a full-object CRC64NVME.
    meta.checksum = {
      algorithm: 'CRC64NVME',
      value: combineCrc('CRC64NVME', chosen.map((p) => ({ digest: decodeChecksum('CRC64NVME', p.crc64nvme!)!, length: p.size }))).toString('base64'),
      type: 'FULL_OBJECT',
    };
  } else if (algorithm && chosen.every((p) => p.checksum)) {
    const digests = chosen.map((p) => decodeChecksum(algorithm, p.checksum!)!);
    meta.checksum =
      upload.meta.checksumType === 'FULL_OBJECT' && isCrcAlgorithm(algorithm)
        ? { algorithm, value: combineCrc(algorithm, digests.map((digest, i) => ({ digest, length: chosen[i]!.size }))).toString('base64'), type: 'FULL_OBJECT' }
        : { algorithm, value: compositeChecksum(algorithm, digests), type: 'COMPOSITE' };
  }
  const used = new Set(chosen.map((p) => p.blobId));
  const v = commitVersion(req, bucket, {
    bucket: bucket.name,
    key: upload.key,
    deleteMarker: false,
    lastModified: req.now.getTime(),
    etag,
    size: chosen.reduce((a, p) => a + p.size, 0),
    ownerAccountId: upload.ownerAccountId,
    parts: chosen.map((p) => ({ blobId: p.blobId, size: p.size, salt: p.salt })),
    meta,
    encryption: upload.encryption,
  }, (current) => {
    if (!req.state.meta.getUpload(upload.uploadId)) throw noSuchUpload(upload.uploadId);
    if (conditional) checkWriteConditions(req, current);
    req.state.meta.deleteUpload(upload.uploadId);
  });
  for (const part of stored.values()) if (!used.has(part.blobId)) req.state.blobs.delete(part.blobId);
  const headers: Record<string, string> = { ...encryptionHeaders(v.encryption), ...writtenVersionHeader(bucket, v) };
  const body = s3Document('CompleteMultipartUploadResult', [
    el('Location', `http://${header(req.headers, 'host') ?? 'localhost'}/${bucket.name}/${encodeURIComponent(upload.key).replace(/%2F/g, '/')}`),
    el('Bucket', bucket.name),
    el('Key', upload.key),
    el('ETag', `"${etag}"`),
    meta.checksum ? el(`Checksum${meta.checksum.algorithm}`, meta.checksum.value) : '',
    meta.checksum ? el('ChecksumType', meta.checksum.type) : '',
  ]);
  rememberCompleted(req.state, { uploadId: upload.uploadId, bucket: bucket.name, key: upload.key, versionId: v.versionId, seq: v.seq, blobId: v.parts[0]?.blobId, headers, body });
  return { headers, body };
}

/**
 * A completed upload, kept so that CompleteMultipartUpload repeated with its upload id answers
 * 200 with the same result again, as S3 does (a client whose first response was lost retries).
 * AWS documents no window for this; Sealbox keeps the last completion of each key, at most
 * COMPLETED_KEPT in all, in memory, and only while the version it made still exists.
 */
interface CompletedUpload {
  uploadId: string;
  bucket: string;
  key: string;
  versionId: string;
  /**
   * Which write the version is: an unversioned (or Suspended) bucket reuses the id 'null' for
   * every write of a key, so the id alone would replay this answer over a later PutObject, or
   * over an object written after a reset or a DeleteBucket and CreateBucket.
   */
  seq: number;
  blobId: string | undefined;
  headers: Record<string, string>;
  body: string;
}

export const COMPLETED_KEPT = 1000;
const completedUploads = new WeakMap<S3State, { byUpload: Map<string, CompletedUpload>; byKey: Map<string, string> }>();

function rememberCompleted(state: S3State, done: CompletedUpload): void {
  let kept = completedUploads.get(state);
  if (!kept) completedUploads.set(state, (kept = { byUpload: new Map(), byKey: new Map() }));
  const objectKey = `${done.bucket}/${done.key}`;
  const previous = kept.byKey.get(objectKey);
  if (previous !== undefined) kept.byUpload.delete(previous);
  kept.byKey.delete(objectKey);
  kept.byUpload.set(done.uploadId, done);
  kept.byKey.set(objectKey, done.uploadId);
  while (kept.byUpload.size > COMPLETED_KEPT) {
    const [oldestId, oldest] = kept.byUpload.entries().next().value as [string, CompletedUpload];
    kept.byUpload.delete(oldestId);
    if (kept.byKey.get(`${oldest.bucket}/${oldest.key}`) === oldestId) kept.byKey.delete(`${oldest.bucket}/${oldest.key}`);
  }
}

/** The answer to a CompleteMultipartUpload of an upload this bucket and key already completed. */
function completedAnswer(req: S3Request): S3Response | undefined {
  const done = completedUploads.get(req.state)?.byUpload.get(req.query.get('uploadId') ?? '');
  if (!done || done.bucket !== req.bucket || done.key !== req.key) return undefined;
  // A version since deleted (or a sandbox reset) ends the replay: the upload is simply gone.
  const current = req.state.meta.version(done.bucket, done.key, done.versionId);
  if (!current || current.seq !== done.seq || current.parts[0]?.blobId !== done.blobId) return undefined;
  return { headers: { ...done.headers }, body: done.body };
}

/**
 * x-amz-checksum-<algorithm> on CompleteMultipartUpload names the whole object's checksum
 * (base64, and for a COMPOSITE checksum "-<part count>"): a value that is not one is refused
 * with PutObject's answer.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_CompleteMultipartUpload.html#API_CompleteMultipartUpload_RequestSyntax
 */
function checkObjectChecksumHeader(req: S3Request): void {
  for (const name of Object.keys(req.headers)) {
    if (!name.startsWith('x-amz-checksum-') || name === 'x-amz-checksum-type' || name === 'x-amz-checksum-algorithm') continue;
    const algorithm = parseChecksumAlgorithm(name.slice('x-amz-checksum-'.length));
    if (!algorithm) throw new S3Error('InvalidRequest', 400, 'The algorithm type you specified in x-amz-checksum- header is invalid.');
    const value = header(req.headers, name) ?? '';
    const digest = /^(.*?)(-\d+)?$/.exec(value)![1]!;
    if (!decodeChecksum(algorithm, digest)) throw new S3Error('InvalidRequest', 400, `Value for ${checksumHeader(algorithm)} header is invalid.`);
  }
}

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_AbortMultipartUpload.html */
export function abortMultipartUpload(req: S3Request): S3Response {
  requireBucket(req);
  const upload = requireUpload(req);
  const parts = req.state.meta.listParts(upload.uploadId);
  req.state.meta.transaction(() => req.state.meta.deleteUpload(upload.uploadId));
  for (const p of parts) req.state.blobs.delete(p.blobId);
  return { status: 204 };
}

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListParts.html */
export function listParts(req: S3Request): S3Response {
  const bucket = requireBucket(req);
  const upload = requireUpload(req);
  const maxParts = Math.min(Number(req.query.get('max-parts') ?? 1000) || 1000, 1000);
  const marker = Number(req.query.get('part-number-marker') ?? 0) || 0;
  const all = req.state.meta.listParts(upload.uploadId).filter((p) => p.partNumber > marker);
  const shown = all.slice(0, maxParts);
  const truncated = all.length > maxParts;
  const owner = ownerElements(upload.ownerAccountId);
  return {
    body: s3Document('ListPartsResult', [
      el('Bucket', bucket.name),
      el('Key', upload.key),
      el('UploadId', upload.uploadId),
      el('PartNumberMarker', marker),
      el('NextPartNumberMarker', shown.length ? shown[shown.length - 1]!.partNumber : marker),
      el('MaxParts', maxParts),
      el('IsTruncated', truncated),
      ...shown.map((p) =>
        el('Part', [
          el('PartNumber', p.partNumber),
          el('LastModified', xmlDate(p.lastModified)),
          el('ETag', `"${p.etag}"`),
          p.checksum && upload.meta.checksumAlgorithm ? el(`Checksum${upload.meta.checksumAlgorithm}`, p.checksum) : '',
          el('Size', p.size),
        ]),
      ),
      el('Initiator', owner),
      el('Owner', owner),
      el('StorageClass', upload.meta.storageClass ?? 'STANDARD'),
      upload.meta.checksumAlgorithm ? el('ChecksumAlgorithm', upload.meta.checksumAlgorithm) : '',
      upload.meta.checksumType ? el('ChecksumType', upload.meta.checksumType) : '',
    ]),
  };
}

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListMultipartUploads.html */
export function listMultipartUploads(req: S3Request): S3Response {
  const bucket = requireBucket(req);
  const prefix = req.query.get('prefix') ?? '';
  const keyMarker = req.query.get('key-marker') ?? '';
  const uploadIdMarker = req.query.get('upload-id-marker') ?? '';
  const maxUploads = Math.min(Number(req.query.get('max-uploads') ?? 1000) || 1000, 1000);
  const all = req.state.meta
    .listUploads(bucket.name)
    .filter((u) => u.key.startsWith(prefix))
    .filter((u) => u.key > keyMarker || (u.key === keyMarker && uploadIdMarker !== '' && u.uploadId > uploadIdMarker));
  const shown = all.slice(0, maxUploads);
  const truncated = all.length > maxUploads;
  const last = shown[shown.length - 1];
  return {
    body: s3Document('ListMultipartUploadsResult', [
      el('Bucket', bucket.name),
      el('KeyMarker', keyMarker),
      el('UploadIdMarker', uploadIdMarker),
      el('NextKeyMarker', truncated && last ? last.key : ''),
      el('NextUploadIdMarker', truncated && last ? last.uploadId : ''),
      el('Prefix', prefix),
      el('MaxUploads', maxUploads),
      el('IsTruncated', truncated),
      ...shown.map((u) =>
        el('Upload', [
          el('Key', u.key),
          el('UploadId', u.uploadId),
          el('Initiator', ownerElements(u.ownerAccountId)),
          el('Owner', ownerElements(u.ownerAccountId)),
          el('StorageClass', u.meta.storageClass ?? 'STANDARD'),
          el('Initiated', xmlDate(u.initiated)),
          u.meta.checksumAlgorithm ? el('ChecksumAlgorithm', u.meta.checksumAlgorithm) : '',
          u.meta.checksumType ? el('ChecksumType', u.meta.checksumType) : '',
        ]),
      ),
    ]),
  };
}
