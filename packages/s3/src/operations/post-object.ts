import { finished, Readable } from 'node:stream';
import busboy from 'busboy';
import { noSuchBucket } from '../access';
import { authorize, lockActions } from '../authorization';
import { createChecksum } from '../checksums';
import type { S3Request, S3Response } from '../context';
import { S3Error } from '../errors';
import { cannotBeHeader, header } from '../http-util';
import { metaFromHeaders } from '../object-headers';
import { lockFromRequest } from '../object-lock';
import { MAX_POST_PRE_DATA_LENGTH, checkPostLength, checkPostPolicy, isSigV2Form, postObjectKey, postPreDataTooLarge, postSuccess, verifyPostSignature, type PostForm } from '../post-policy';
import { BlobTooLargeError } from '../store/blob-store';
import { blobEncryption, newObjectKey } from '../crypto/object-keys';
import { encryptionHeaders, sseRequest } from '../sse';
import { requestAcl } from './bucket-config';
import { MAX_PUT_BYTES, checkKey, commitBlob } from './objects';

/** Form fields that set object attributes, as the matching headers do on PutObject. */
const ATTRIBUTE_FIELDS = [
  'content-type',
  'cache-control',
  'content-disposition',
  'content-encoding',
  'expires',
  'x-amz-storage-class',
  'x-amz-website-redirect-location',
  'x-amz-acl',
  'x-amz-server-side-encryption',
  'x-amz-server-side-encryption-aws-kms-key-id',
  'x-amz-server-side-encryption-context',
];

/**
 * Object Lock form fields: read as the same headers are on PutObject (validation, errors, the
 * s3:PutObjectRetention / s3:PutObjectLegalHold permissions, the condition keys). Like every
 * field but a few, each must be covered by a condition of the form's policy ("Extra input
 * fields" otherwise). AWS's POST Object page does not list these fields; its rule is that "the
 * parameters that are passed to PUT through HTTP Headers are instead passed as form fields".
 * https://docs.aws.amazon.com/AmazonS3/latest/API/RESTObjectPOST.html
 */
const LOCK_FIELDS = ['x-amz-object-lock-mode', 'x-amz-object-lock-retain-until-date', 'x-amz-object-lock-legal-hold'];

/**
 * PostObject: a browser upload as multipart/form-data. The fields before the file carry the key,
 * the policy and its signature (SigV4 or legacy SigV2); the policy is checked before the file is
 * read, and the file streams into a blob like any PUT.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/RESTObjectPOST.html
 */
export async function postObject(req: S3Request): Promise<S3Response> {
  const contentType = header(req.headers, 'content-type') ?? '';
  if (!/^multipart\/form-data/i.test(contentType)) {
    throw new S3Error('PreconditionFailed', 412, 'At least one of the pre-conditions you specified did not hold', [['Condition', 'Bucket POST must be of the enclosure-type multipart/form-data']]);
  }
  const bucket = req.state.meta.getBucket(req.bucket!);
  if (!bucket) throw noSuchBucket(req.bucket!);

  const fields = new Map<string, string>();
  let parser: busboy.Busboy;
  try {
    // Every part may count as a file: python-requests, and some browsers, give each part a filename.
    parser = busboy({ headers: req.headers, limits: { files: 501, fields: 500, fieldSize: FIELD_SIZE, parts: 501 }, preservePath: true });
  } catch {
    throw new S3Error('MalformedPOSTRequest', 400, 'The body of your POST request is not well-formed multipart/form-data.');
  }
  const outcome = new Promise<S3Response>((resolve, reject) => {
    let handled = false;
    // The fields before the file may not exceed 20 KB in all: S3 refuses the form with
    // MaxPostPreDataLengthExceeded (it reports MaxPostPreDataLengthBytes 20480), it does not cut a
    // field short. Sealbox counts each field's name and value, whether sent plainly or as a part
    // with a filename. https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList
    let preData = 0;
    const countPreData = (name: string, bytes: number) => {
      preData += Buffer.byteLength(name) + bytes;
      if (preData > MAX_POST_PRE_DATA_LENGTH && !handled) {
        handled = true;
        reject(postPreDataTooLarge());
      }
    };
    parser.on('field', (name, value, info) => {
      if (handled) return;
      if (name.toLowerCase() === 'file') {
        // The file sent as a plain part (no filename): S3 takes the field's value as the object's
        // content. busboy holds such a part in memory up to FIELD_SIZE; beyond it Sealbox refuses
        // the form rather than store a cut object.
        handled = true;
        if (info.valueTruncated) {
          reject(new S3Error('InvalidArgument', 400, `Sealbox takes a file sent as a plain form field (without a filename) up to ${FIELD_SIZE} bytes; send it as a file part.`, [['ArgumentName', 'file']]));
          return;
        }
        const content = Readable.from([Buffer.from(value, 'utf8')]);
        Promise.all(fileFields)
          .then(() => {
            if (preData > MAX_POST_PRE_DATA_LENGTH) throw postPreDataTooLarge();
            return storeFile(req, bucket.name, { fields }, content);
          })
          .then(resolve, reject);
        return;
      }
      countPreData(name, Buffer.byteLength(value));
      if (!handled && !fields.has(name.toLowerCase())) fields.set(name.toLowerCase(), value);
    });
    // S3 matches form fields by name, whether or not a part carries a filename: a part named
    // anything but `file` is a field, and the part named `file` is the object.
    // https://docs.aws.amazon.com/AmazonS3/latest/API/RESTObjectPOST.html (Request Parameters)
    const fileFields: Promise<void>[] = [];
    parser.on('file', (name, stream, info) => {
      if (handled) {
        stream.resume();
        return;
      }
      if (name.toLowerCase() !== 'file') {
        // The part began before the file (`handled` is false here): it counts, even if it ends after.
        fileFields.push(readField(stream).then(({ value, size }) => {
          countPreData(name, size);
          if (!fields.has(name.toLowerCase())) fields.set(name.toLowerCase(), value);
        }));
        return;
      }
      handled = true;
      const form: PostForm = { fields, fileName: info.filename, contentType: info.mimeType };
      Promise.all(fileFields)
        .then(() => {
          if (preData > MAX_POST_PRE_DATA_LENGTH) throw postPreDataTooLarge();
          return storeFile(req, bucket.name, form, stream);
        })
        .then(resolve, (err: unknown) => {
          stream.resume();
          reject(err);
        });
    });
    parser.on('error', () => reject(new S3Error('MalformedPOSTRequest', 400, 'The body of your POST request is not well-formed multipart/form-data.')));
    parser.on('close', () => {
      if (!handled) reject(new S3Error('InvalidArgument', 400, 'POST requires exactly one file upload per request.', [['ArgumentName', 'file'], ['ArgumentValue', '0']]));
    });
  });
  req.body.pipe(parser);
  // pipe() does not pass a failure on: a client gone mid-form would leave the file stream, and the
  // blob write reading it (with its temporary file), waiting forever. Destroying the parser ends
  // its file stream with the error.
  finished(req.body, { writable: false }, (err) => {
    if (err) parser.destroy(err);
  });
  return outcome;
}

const FIELD_SIZE = 64 * 1024;

/** A field sent as a file part, as text (cut at the size busboy cuts a plain field at), and its size as sent. */
function readField(stream: Readable): Promise<{ value: string; size: number }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on('data', (chunk: Buffer) => {
      if (size < FIELD_SIZE) chunks.push(chunk.subarray(0, FIELD_SIZE - size));
      size += chunk.length;
    });
    stream.on('end', () => resolve({ value: Buffer.concat(chunks).toString('utf8'), size }));
    stream.on('error', () => resolve({ value: '', size }));
  });
}

async function storeFile(req: S3Request, bucketName: string, form: PostForm, file: Readable): Promise<S3Response> {
  const credentials = verifyPostSignature(form, { credentials: req.state.credentials, region: req.state.meta.getBucket(bucketName)!.region, now: req.now });
  const bucket = req.state.meta.getBucket(bucketName)!;
  const range = checkPostPolicy(form, bucketName, req.now);
  const key = postObjectKey(form);
  checkKey(key);
  const attributes: Record<string, string> = {};
  for (const [name, value] of form.fields) {
    if (!ATTRIBUTE_FIELDS.includes(name) && !LOCK_FIELDS.includes(name) && !name.startsWith('x-amz-meta-')) continue;
    // A field becomes a header of every later GET: it must be one a header can carry. Text beyond
    // Latin-1 is kept as its UTF-8 bytes, as a PutObject header with the same text arrives.
    const bytes = /[^\x00-\xff]/.test(value) ? Buffer.from(value, 'utf8').toString('latin1') : value;
    if (cannotBeHeader(bytes)) {
      throw new S3Error('InvalidArgument', 400, 'Header value cannot be represented using ISO-8859-1.', [['ArgumentName', name], ['ArgumentValue', value]]);
    }
    attributes[name] = bytes;
  }
  const meta = metaFromHeaders(attributes);
  // The form's fields stand for the headers of a PUT, and its signer for the caller (a form
  // without a signature is anonymous): s3:PutObject on the key, with the fields as condition keys.
  // https://docs.aws.amazon.com/AmazonS3/latest/API/RESTObjectPOST.html
  const signatureVersion = credentials ? (isSigV2Form(form) ? 'AWS' : 'AWS4-HMAC-SHA256') : undefined;
  const asPut: S3Request = { ...req, headers: attributes, credentials, authType: credentials ? 'POST' : undefined, signatureVersion, signedAt: undefined };
  authorize(asPut, { action: 's3:PutObject', bucket, key });
  // Lock fields need what the lock headers need on PutObject.
  for (const action of lockActions(asPut.headers)) authorize(asPut, { action, bucket, key, newObject: true });
  const acl = requestAcl(asPut, bucket, 'object');
  if (acl.grants) meta.acl = acl.grants;
  meta.lock = lockFromRequest(asPut, bucket);
  // A SigV2 form may ask for SSE-KMS in its fields, but S3 serves SSE-KMS to SigV4 requests only.
  const sse = sseRequest(asPut, bucket, key, { signedWithSigV2: isSigV2Form(form) });

  const crc64 = createChecksum('CRC64NVME');
  const { dataKey, encryption } = await newObjectKey(asPut, sse, bucket.name, key);
  const { salt, encrypt } = blobEncryption(dataKey);
  let written;
  try {
    written = await req.state.blobs.write(file, (chunk) => crc64.update(chunk), Math.min(range?.maxLength ?? MAX_PUT_BYTES, MAX_PUT_BYTES), encrypt);
  } catch (err) {
    if (err instanceof BlobTooLargeError) checkPostLength(range, err.limit + 1);
    throw err;
  }
  try {
    checkPostLength(range, written.size);
  } catch (err) {
    req.state.blobs.delete(written.blobId);
    throw err;
  }
  meta.checksum = { algorithm: 'CRC64NVME', value: crc64.digest().toString('base64'), type: 'FULL_OBJECT' };
  const v = commitBlob(req, bucket, key, { ...written, salt }, meta, acl.owner, encryption);
  const host = header(req.headers, 'host') ?? 'localhost';
  const location = `http://${host}/${bucket.name}/${encodeURIComponent(key).replace(/%2F/g, '/')}`;
  const success = postSuccess(form, { bucket: bucket.name, key, etag: `"${v.etag}"`, location });
  const headers: Record<string, string> = { ...success.headers, ETag: `"${v.etag}"`, Location: success.headers.Location ?? location, ...encryptionHeaders(encryption) };
  if (bucket.versioning) headers['x-amz-version-id'] = v.versionId;
  return { status: success.status, headers, body: success.body };
}
