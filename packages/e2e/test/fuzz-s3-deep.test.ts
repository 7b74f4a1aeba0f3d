/**
 * Fuzzing that reaches S3's deep paths through the running server:
 * - complete aws-chunked uploads (signed chunks, signed chunks with a signed trailer, unsigned
 *   chunks with a trailing checksum) cut at random chunk sizes: intact ones must store exactly the
 *   bytes sent; one mutated chunk (its size, its signature, an extension after the signature, the
 *   trailer's checksum or signature, the declared decoded length) must be refused with S3's error
 *   and store nothing;
 * - the XML documents of fuzz-xml.ts sent to their real endpoints with what the operation needs
 *   (Content-MD5 for DeleteObjects, a real multipart upload for CompleteMultipartUpload, real
 *   objects to delete), and the stored configuration read back with the SDK and compared with
 *   the generator's intent.
 * Counters assert how many uploads completed, how many mutations were refused for each reason,
 * and how many documents each endpoint accepted.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html
 */
import { createHash, createHmac } from 'node:crypto';
import { request } from 'node:http';
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetBucketCorsCommand,
  GetBucketEncryptionCommand,
  GetBucketOwnershipControlsCommand,
  GetBucketTaggingCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  GetPublicAccessBlockCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import aws4 from 'aws4';
import type { Sealbox } from '@sealbox/cli';
import { Counters, type Rng, cases, forCasesAsync } from './fuzz-random';
import { type Doc, completeDocument, contentMd5, corsDocument, deleteDocument, encryptionDocument, objectKey, ownershipDocument, publicAccessBlockDocument, render, taggingDocument, versioningDocument } from './fuzz-xml';
import { TEST_CREDENTIALS, s3Client, startTestSealbox } from './helpers';

let sealbox: Sealbox;
let s3: S3Client;
let base: URL;
const counters = new Counters();
const BUCKET = 'fuzz-deep';

beforeAll(async () => {
  sealbox = await startTestSealbox({ allowHttpSseKms: true });
  s3 = s3Client(sealbox);
  base = new URL(sealbox.s3!.url);
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
});
afterAll(async () => {
  console.log(`S3 deep fuzz: ${counters.toString()}`);
  s3.destroy();
  await sealbox.stop();
});

interface Answer {
  status: number;
  body: string;
}

function raw(method: string, path: string, headers: Record<string, string>, body: Buffer | string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: base.hostname, port: Number(base.port), method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.setTimeout(10_000, () => req.destroy(new Error(`no answer in 10 s: ${method} ${path}`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** A request signed with aws4 (test/test), sent as is. */
function signed(method: string, path: string, headers: Record<string, string>, body: Buffer | string, signBody = true): Promise<Answer> {
  const opts = aws4.sign({ host: `${base.hostname}:${base.port}`, method, path, service: 's3', region: 'us-east-1', headers: { ...headers }, ...(signBody ? { body } : {}) }, TEST_CREDENTIALS);
  return raw(method, opts.path!, opts.headers as Record<string, string>, body);
}

const errorCode = (a: Answer) => /<Code>([^<]+)<\/Code>/.exec(a.body)?.[1] ?? `(status ${a.status}, no code)`;
const sha256 = (d: Buffer | string) => createHash('sha256').update(d).digest('hex');
const hmac = (key: Buffer, d: string) => createHmac('sha256', key).update(d).digest();
const EMPTY = sha256('');

// ---------------------------------------------------------------- aws-chunked

type Mode = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD' | 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER' | 'STREAMING-UNSIGNED-PAYLOAD-TRAILER';

interface Chunk {
  data: Buffer;
  sizeText: string;
  signature?: string;
  extensions: string[];
  afterSignature: string;
}

/**
 * Sends `data` as one aws-chunked PUT in `mode`, cut into `sizes`, applying `mutate` to the chunk
 * list (and the trailer) after signing: a test of what the server does with what a client sent.
 */
async function chunkedPut(key: string, data: Buffer, sizes: number[], mode: Mode, declaredLength: number, mutate: (m: { chunks: Chunk[]; trailer: { value: string; signature?: string; resign?: string }; headers: Record<string, string> }) => void): Promise<Answer> {
  const signedMode = mode !== 'STREAMING-UNSIGNED-PAYLOAD-TRAILER';
  const trailerMode = mode.endsWith('TRAILER');
  const headers: Record<string, string> = {
    'Content-Encoding': 'aws-chunked',
    'X-Amz-Content-Sha256': mode,
    'X-Amz-Decoded-Content-Length': String(declaredLength),
  };
  if (trailerMode) headers['X-Amz-Trailer'] = 'x-amz-checksum-sha256';
  const chunks: Chunk[] = [];
  let offset = 0;
  for (const size of [...sizes, 0]) {
    chunks.push({ data: data.subarray(offset, offset + size), sizeText: size.toString(16), extensions: [], afterSignature: '' });
    offset += size;
  }
  const trailer = { value: createHash('sha256').update(data).digest('base64'), signature: undefined as string | undefined, resign: undefined as string | undefined };
  const encode = () => {
    const parts: Buffer[] = [];
    chunks.forEach((c, i) => {
      const ext = [...c.extensions, ...(c.signature !== undefined ? [`chunk-signature=${c.signature}`] : [])].map((e) => `;${e}`).join('');
      parts.push(Buffer.from(`${c.sizeText}${ext}${c.afterSignature}\r\n`), c.data);
      const last = i === chunks.length - 1;
      if (!last || !trailerMode) parts.push(Buffer.from('\r\n'));
    });
    if (trailerMode) {
      parts.push(Buffer.from(`x-amz-checksum-sha256:${trailer.value}\r\n`));
      if (signedMode) parts.push(Buffer.from(`x-amz-trailer-signature:${trailer.signature}\r\n`));
      parts.push(Buffer.from('\r\n'));
    }
    return Buffer.concat(parts);
  };
  // Sign the seed with a placeholder body of the right length, then chain the chunk signatures.
  for (const c of chunks) if (signedMode) c.signature = '0'.repeat(64);
  if (signedMode && trailerMode) trailer.signature = '0'.repeat(64);
  // Content-Length is left out of the signature, so a mutation that changes the body's length
  // is judged by the chunk parser rather than by the seed signature.
  const opts = aws4.sign({ host: `${base.hostname}:${base.port}`, method: 'PUT', path: `/${BUCKET}/${encodeURIComponent(key)}`, service: 's3', region: 'us-east-1', headers: { ...headers } }, TEST_CREDENTIALS);
  const sentHeaders = opts.headers as Record<string, string>;
  // aws4 dates the signature itself (an X-Amz-Date given to it is not what it signs with).
  const amzDate = sentHeaders['X-Amz-Date']!;
  const day = amzDate.slice(0, 8);
  const scope = `${day}/us-east-1/s3/aws4_request`;
  if (signedMode) {
    const seed = /Signature=([0-9a-f]{64})/.exec(String(sentHeaders.Authorization))![1]!;
    const signingKey = hmac(hmac(hmac(hmac(Buffer.from('AWS4test'), day), 'us-east-1'), 's3'), 'aws4_request');
    let previous = seed;
    for (const c of chunks) {
      c.signature = hmac(signingKey, `AWS4-HMAC-SHA256-PAYLOAD\n${amzDate}\n${scope}\n${previous}\n${EMPTY}\n${sha256(c.data)}`).toString('hex');
      previous = c.signature;
    }
    const signTrailer = (value: string) => hmac(signingKey, `AWS4-HMAC-SHA256-TRAILER\n${amzDate}\n${scope}\n${previous}\n${sha256(`x-amz-checksum-sha256:${value}\n`)}`).toString('hex');
    if (trailerMode) trailer.signature = signTrailer(trailer.value);
    trailer.resign = undefined;
    mutate({ chunks, trailer, headers: sentHeaders });
    if (trailer.resign !== undefined && trailerMode) {
      trailer.value = trailer.resign;
      trailer.signature = signTrailer(trailer.value);
    }
  } else {
    mutate({ chunks, trailer, headers: sentHeaders });
    if (trailer.resign !== undefined) trailer.value = trailer.resign;
  }
  const body = encode();
  // Size mutations change the length: keep Content-Length honest so the chunk parser, not the
  // HTTP layer, is what refuses.
  sentHeaders['Content-Length'] = String(body.length);
  return raw('PUT', opts.path!, sentHeaders, body);
}

async function stored(key: string): Promise<Buffer | undefined> {
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    return Buffer.from(await out.Body!.transformToByteArray());
  } catch (err) {
    if ((err as Error).name === 'NoSuchKey') return undefined;
    throw err;
  }
}

const flipHex = (rng: Rng, hex: string) => {
  const i = rng.int(0, hex.length - 1);
  return hex.slice(0, i) + ((parseInt(hex[i]!, 16) + rng.int(1, 15)) % 16).toString(16) + hex.slice(i + 1);
};

describe('aws-chunked uploads', () => {
  it('intact uploads store exactly the bytes; a mutated chunk is refused with S3 error and stores nothing', async () => {
    const N = cases(120);
    await forCasesAsync('chunked', N, async (rng, index) => {
      const mode = rng.pick<Mode>(['STREAMING-AWS4-HMAC-SHA256-PAYLOAD', 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER', 'STREAMING-UNSIGNED-PAYLOAD-TRAILER']);
      const data = rng.bytes(rng.int(1, rng.chance(0.2) ? 200_000 : 5000));
      const sizes: number[] = [];
      for (let left = data.length; left > 0; ) {
        const n = Math.min(left, rng.chance(0.3) ? rng.int(1, 64) : rng.int(8192, 70_000));
        sizes.push(n);
        left -= n;
      }
      const signedMode = mode !== 'STREAMING-UNSIGNED-PAYLOAD-TRAILER';
      const trailerMode = mode.endsWith('TRAILER');
      const options = ['none', 'none', 'none', 'extension', 'size-short', 'size-long', 'decoded-length', 'unsigned-header', 'after-signature', ...(signedMode ? ['signature', 'signature', 'reorder'] : []), ...(trailerMode ? ['trailer-value'] : []), ...(signedMode && trailerMode ? ['trailer-signature'] : [])];
      const mutation = rng.pick(options);
      const key = `chunked-${index}-${mutation}`;
      let expected = 'stored' as [number, string] | 'stored';
      // A declared decoded length that differs from the chunks, signed as the client's own.
      const declared = mutation === 'decoded-length' ? data.length + (rng.chance(0.5) || data.length < 2 ? rng.int(1, 10) : -rng.int(1, Math.min(10, data.length - 1))) : data.length;
      const res = await chunkedPut(key, data, sizes, mode, declared, ({ chunks, trailer, headers }) => {
        const dataChunks = chunks.slice(0, -1);
        const target = rng.pick(chunks);
        switch (mutation) {
          case 'extension':
            // Extensions before the signature are allowed and not signed.
            target.extensions.push(rng.pick(['foo=bar', 'x-ext=1', 'name=" quoted "']));
            break;
          case 'size-short': {
            const c = rng.pick(dataChunks);
            c.sizeText = Math.max(0, c.data.length - rng.int(1, 8)).toString(16);
            if (c.sizeText === '0') c.sizeText = (c.data.length + 1).toString(16);
            expected = [400, 'IncompleteBody'];
            break;
          }
          case 'size-long': {
            const c = rng.pick(dataChunks);
            c.sizeText = (c.data.length + rng.int(1, 100)).toString(16);
            expected = [400, 'IncompleteBody'];
            break;
          }
          case 'decoded-length':
            expected = [400, 'IncompleteBody'];
            break;
          case 'unsigned-header':
            // X-Amz-Decoded-Content-Length is signed: changing it after signing breaks the seed signature.
            headers['X-Amz-Decoded-Content-Length'] = String(data.length + 1);
            expected = [403, 'SignatureDoesNotMatch'];
            break;
          case 'after-signature':
            // Only the last extension can be the chunk signature; anything after it is malformed.
            target.afterSignature = signedMode ? ';x=y' : ';x=y=';
            expected = signedMode ? [400, 'IncompleteBody'] : 'stored';
            break;
          case 'signature':
            target.signature = flipHex(rng, target.signature!);
            expected = [403, 'SignatureDoesNotMatch'];
            break;
          case 'reorder': {
            if (dataChunks.length < 2) {
              target.signature = flipHex(rng, target.signature!);
            } else {
              const [a, b] = rng.subset(dataChunks, 2, 2);
              [a!.signature, b!.signature] = [b!.signature, a!.signature];
            }
            expected = [403, 'SignatureDoesNotMatch'];
            break;
          }
          case 'trailer-value':
            trailer.resign = createHash('sha256').update(Buffer.concat([data, Buffer.from('x')])).digest('base64');
            expected = [400, 'BadDigest'];
            break;
          case 'trailer-signature':
            trailer.signature = flipHex(rng, trailer.signature!);
            expected = [403, 'SignatureDoesNotMatch'];
            break;
          default:
            break;
        }
      });
      if (expected === 'stored') {
        if (res.status !== 200) throw new Error(`${mode} ${mutation}: expected a stored object, got ${res.status} ${errorCode(res)} ${res.body}`);
        const back = await stored(key);
        expect(back?.equals(data)).toBe(true);
        counters.hit(`chunked stored ${mode}`);
      } else {
        const [status, code] = expected;
        if (res.status !== status || errorCode(res) !== code) throw new Error(`${mode} ${mutation}: expected ${status} ${code}, got ${res.status} ${errorCode(res)}`);
        expect(await stored(key)).toBeUndefined();
        counters.hit(`chunked refused ${mutation}`);
      }
    });
    for (const mode of ['STREAMING-AWS4-HMAC-SHA256-PAYLOAD', 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER', 'STREAMING-UNSIGNED-PAYLOAD-TRAILER']) expect(counters.get(`chunked stored ${mode}`)).toBeGreaterThanOrEqual(N / 30);
    for (const m of ['size-short', 'size-long', 'signature', 'trailer-value']) expect(counters.get(`chunked refused ${m}`)).toBeGreaterThanOrEqual(2);
  });
});

// ---------------------------------------------------------------- XML documents, end to end

describe('XML documents through the running S3', () => {
  const put = (path: string, doc: Doc<unknown>, rng: Rng, extra: Record<string, string> = {}, method = 'PUT') => {
    const body = render(rng, doc.root);
    return signed(method, path, { 'Content-Type': 'application/xml', ...extra }, body).then((a) => ({ ...a, sent: body }));
  };
  const ok = (a: Answer & { sent: string }, what: string) => {
    if (a.status !== 200 && a.status !== 204) throw new Error(`${what}: ${a.status} ${errorCode(a)} for\n${a.sent}`);
    counters.hit(`xml accepted ${what}`);
  };

  it('bucket configuration documents are accepted and read back as the generator meant', async () => {
    const N = cases(25);
    await forCasesAsync('xml config', N, async (rng) => {
      const tagging = taggingDocument(rng, 10);
      ok(await put(`/${BUCKET}?tagging`, tagging, rng), 'PutBucketTagging');
      if (tagging.intent.length > 0) {
        const back = await s3.send(new GetBucketTaggingCommand({ Bucket: BUCKET }));
        expect(back.TagSet!.map((t) => ({ key: t.Key, value: t.Value }))).toEqual(tagging.intent);
      }
      const versioning = versioningDocument(rng);
      if (versioning.intent.mfaDelete !== 'Enabled') {
        ok(await put(`/${BUCKET}?versioning`, versioning, rng), 'PutBucketVersioning');
        const v = await s3.send(new GetBucketVersioningCommand({ Bucket: BUCKET }));
        if (versioning.intent.status) expect(v.Status).toBe(versioning.intent.status);
      }
      const cors = corsDocument(rng);
      ok(await put(`/${BUCKET}?cors`, cors, rng), 'PutBucketCors');
      const rules = (await s3.send(new GetBucketCorsCommand({ Bucket: BUCKET }))).CORSRules!;
      expect(rules.map((r) => ({ id: r.ID, allowedMethods: r.AllowedMethods, allowedOrigins: r.AllowedOrigins, allowedHeaders: r.AllowedHeaders ?? [], exposeHeaders: r.ExposeHeaders ?? [], maxAgeSeconds: r.MaxAgeSeconds }))).toEqual(cors.intent);
      const pab = publicAccessBlockDocument(rng);
      ok(await put(`/${BUCKET}?publicAccessBlock`, pab, rng), 'PutPublicAccessBlock');
      const p = (await s3.send(new GetPublicAccessBlockCommand({ Bucket: BUCKET }))).PublicAccessBlockConfiguration!;
      expect({ blockPublicAcls: p.BlockPublicAcls, ignorePublicAcls: p.IgnorePublicAcls, blockPublicPolicy: p.BlockPublicPolicy, restrictPublicBuckets: p.RestrictPublicBuckets }).toEqual(pab.intent);
      const ownership = ownershipDocument(rng);
      ok(await put(`/${BUCKET}?ownershipControls`, ownership, rng), 'PutBucketOwnershipControls');
      expect((await s3.send(new GetBucketOwnershipControlsCommand({ Bucket: BUCKET }))).OwnershipControls!.Rules![0]!.ObjectOwnership).toBe(ownership.intent.objectOwnership);
      const encryption = encryptionDocument(rng, ['alias/aws/s3']);
      if (encryption.intent.sseAlgorithm !== 'aws:kms:dsse') {
        ok(await put(`/${BUCKET}?encryption`, encryption, rng), 'PutBucketEncryption');
        const rule = (await s3.send(new GetBucketEncryptionCommand({ Bucket: BUCKET }))).ServerSideEncryptionConfiguration!.Rules![0]!;
        expect(rule.ApplyServerSideEncryptionByDefault!.SSEAlgorithm).toBe(encryption.intent.sseAlgorithm);
        expect(rule.ApplyServerSideEncryptionByDefault!.KMSMasterKeyID).toBe(encryption.intent.kmsMasterKeyId);
        expect(rule.BucketKeyEnabled ?? false).toBe(encryption.intent.bucketKeyEnabled);
      }
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'tagged', Body: 'x' }));
      const objectTags = taggingDocument(rng, 10);
      ok(await put(`/${BUCKET}/tagged?tagging`, objectTags, rng), 'PutObjectTagging');
      const back = await s3.send(new GetObjectTaggingCommand({ Bucket: BUCKET, Key: 'tagged' }));
      expect(back.TagSet!.map((t) => ({ key: t.Key, value: t.Value }))).toEqual(objectTags.intent);
    });
    for (const op of ['PutBucketTagging', 'PutBucketCors', 'PutPublicAccessBlock', 'PutBucketOwnershipControls', 'PutObjectTagging']) expect(counters.get(`xml accepted ${op}`)).toBe(N);
    expect(counters.get('xml accepted PutBucketEncryption')).toBeGreaterThanOrEqual(N / 3);
  });

  it('DeleteObjects with Content-MD5 deletes exactly the named existing objects', async () => {
    const N = cases(20);
    const bucket = 'fuzz-delete';
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await forCasesAsync('xml delete', N, async (rng) => {
      const keys = [...new Set(rng.many(1, 6, () => objectKey(rng)))];
      for (const key of keys) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: key }));
      const keep = `keep-${rng.int(0, 1e9)}`;
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: keep, Body: 'k' }));
      const doc = deleteDocument(rng, keys);
      const body = render(rng, doc.root);
      const res = await signed('POST', `/${bucket}?delete`, { 'Content-Type': 'application/xml', 'Content-MD5': contentMd5(body) }, body);
      if (res.status !== 200) throw new Error(`DeleteObjects: ${res.status} ${errorCode(res)}\n${body}`);
      counters.hit('xml accepted DeleteObjects');
      const deleted = [...res.body.matchAll(/<Deleted><Key>([^<]*)<\/Key>/g)].length;
      expect(deleted).toBe(doc.intent.quiet ? 0 : keys.length);
      for (const key of keys) await expect(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).rejects.toMatchObject({ name: 'NotFound' });
      await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: keep }));
      // The same document with a wrong Content-MD5 is refused and deletes nothing.
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: keys[0]!, Body: 'again' }));
      const bad = await signed('POST', `/${bucket}?delete`, { 'Content-Type': 'application/xml', 'Content-MD5': contentMd5(`${body} `) }, body);
      expect([bad.status, errorCode(bad)]).toEqual([400, 'BadDigest']);
      await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: keys[0]! }));
    });
    expect(counters.get('xml accepted DeleteObjects')).toBe(N);
  });

  it('CompleteMultipartUpload with the real parts assembles exactly the uploaded bytes', async () => {
    const N = cases(8);
    await forCasesAsync('xml complete', N, async (rng, index) => {
      const key = `mpu/${index}`;
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key }));
      const count = rng.int(1, 3);
      const numbers = rng.subset([1, 2, 3, 5, 8, 13, 100, 10000], count, count).sort((a, b) => a - b);
      const parts: Array<{ partNumber: number; eTag: string; data: Buffer }> = [];
      for (const [i, partNumber] of numbers.entries()) {
        const data = rng.bytes(i === numbers.length - 1 ? rng.int(1, 1000) : 5 * 1024 * 1024);
        const out = await s3.send(new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId, PartNumber: partNumber, Body: data }));
        parts.push({ partNumber, eTag: rng.chance(0.5) ? out.ETag! : out.ETag!.replace(/"/g, ''), data });
      }
      const doc = completeDocument(rng, parts.map(({ partNumber, eTag }) => ({ partNumber, eTag })));
      const res = await put(`/${BUCKET}/${key}?uploadId=${encodeURIComponent(UploadId!)}`, doc, rng, {}, 'POST');
      ok(res, 'CompleteMultipartUpload');
      const back = await stored(key);
      expect(back?.equals(Buffer.concat(parts.map((p) => p.data)))).toBe(true);
    });
    expect(counters.get('xml accepted CompleteMultipartUpload')).toBe(N);
  }, 120_000);
});
