/**
 * Uploads abandoned by their clients at random points leave no temporary file behind, without a
 * restart: plain bodies, aws-chunked with signed chunks, unsigned with trailers, signed with
 * trailers, multipart parts in each encoding, and browser POST forms; cut after the headers, in a
 * chunk's header or data, in the trailer, by a clean close or a reset.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import aws4 from 'aws4';
import { CreateBucketCommand, CreateMultipartUploadCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Sealbox } from '@sealbox/cli';
import { deriveSigningKey, toAmzDate } from '@sealbox/sigv4';
import { s3Client, startTestSealbox } from './helpers';
import { mulberry32 } from '@sealbox/runtime';

const SEED = 20260315;
const RUNS = 300;
const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const EMPTY_SHA256 = sha256('');

/** Seeded, so a failing run can be repeated exactly. */
const prng = mulberry32;

type Encoding = 'plain' | 'signed-chunks' | 'unsigned-trailer' | 'signed-trailer' | 'post';

/** A whole request's bytes, and where in them its regions start (to pick where to cut). */
interface Built {
  bytes: Buffer;
  headerEnd: number;
  /** Offsets that fall inside a chunk's header line, or its data. */
  chunkHeaders: [number, number][];
  chunkData: [number, number][];
  /** [start, end) of the trailer section, for encodings that have one. */
  trailer?: [number, number];
}

/** Signs `headers` for PUT `path` with aws4 (the seed signature of a chunked body is the header one). */
function signHeaders(host: string, port: number, method: string, path: string, headers: Record<string, string>) {
  const options = { host, port, method, path, headers: { ...headers }, service: 's3', region: 'us-east-1' };
  aws4.sign(options, { accessKeyId: 'test', secretAccessKey: 'test' });
  const signed = options.headers as Record<string, string>;
  const seed = /Signature=([0-9a-f]{64})/.exec(signed.Authorization!)![1]!;
  return { headers: signed, seed, amzDate: signed['X-Amz-Date']! };
}

function headBlock(method: string, path: string, headers: Record<string, string>): Buffer {
  return Buffer.from(`${method} ${path} HTTP/1.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`, 'latin1');
}

function buildPut(url: URL, path: string, encoding: Exclude<Encoding, 'post'>, data: Buffer, chunkSize: number, extra: Record<string, string> = {}): Built {
  const host = url.hostname;
  const port = Number(url.port);
  if (encoding === 'plain') {
    const { headers } = signHeaders(host, port, 'PUT', path, { ...extra, 'Content-Length': String(data.length), 'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD' });
    const head = headBlock('PUT', path, { Host: `${host}:${port}`, ...headers });
    return { bytes: Buffer.concat([head, data]), headerEnd: head.length, chunkHeaders: [], chunkData: [[head.length, head.length + data.length]] };
  }
  const signedChunks = encoding !== 'unsigned-trailer';
  const withTrailer = encoding !== 'signed-chunks';
  const mode = encoding === 'signed-chunks' ? 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD' : encoding === 'signed-trailer' ? 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER' : 'STREAMING-UNSIGNED-PAYLOAD-TRAILER';
  const pieces: Buffer[] = [];
  for (let at = 0; at < data.length; at += chunkSize) pieces.push(data.subarray(at, at + chunkSize));
  pieces.push(Buffer.alloc(0));
  // Chunk signatures chain from the seed, so the body is built after the headers are signed;
  // its length is known beforehand (signatures are 64 hex digits).
  const sigPart = signedChunks ? ';chunk-signature='.length + 64 : 0;
  const trailerText = withTrailer ? `x-amz-checksum-crc32:${Buffer.from((crc32(data) >>> 0).toString(16).padStart(8, '0'), 'hex').toString('base64')}\r\n` : '';
  const trailerSigLength = withTrailer && signedChunks ? 'x-amz-trailer-signature:'.length + 64 + 2 : 0;
  let encodedLength = 0;
  for (const p of pieces) encodedLength += p.length.toString(16).length + sigPart + 2 + p.length + (p.length > 0 || !withTrailer ? 2 : 0);
  encodedLength += withTrailer ? trailerText.length + trailerSigLength + 2 : 0;
  const { headers, seed, amzDate } = signHeaders(host, port, 'PUT', path, {
    ...extra,
    'Content-Encoding': 'aws-chunked',
    'Content-Length': String(encodedLength),
    'X-Amz-Content-Sha256': mode,
    'X-Amz-Decoded-Content-Length': String(data.length),
    ...(withTrailer ? { 'X-Amz-Trailer': 'x-amz-checksum-crc32' } : {}),
  });
  const scope = `${amzDate.slice(0, 8)}/us-east-1/s3/aws4_request`;
  const key = deriveSigningKey('test', amzDate.slice(0, 8), 'us-east-1', 's3');
  const head = headBlock('PUT', path, { Host: `${host}:${port}`, ...headers });
  const out: Buffer[] = [head];
  let offset = head.length;
  let previous = seed;
  const chunkHeaders: [number, number][] = [];
  const chunkData: [number, number][] = [];
  for (const p of pieces) {
    let line = p.length.toString(16);
    if (signedChunks) {
      previous = createHmac('sha256', key).update(['AWS4-HMAC-SHA256-PAYLOAD', amzDate, scope, previous, EMPTY_SHA256, sha256(p)].join('\n')).digest('hex');
      line += `;chunk-signature=${previous}`;
    }
    const lineBytes = Buffer.from(line + '\r\n', 'latin1');
    chunkHeaders.push([offset, offset + lineBytes.length]);
    out.push(lineBytes);
    offset += lineBytes.length;
    if (p.length > 0 || !withTrailer) {
      out.push(p, Buffer.from('\r\n'));
      if (p.length > 0) chunkData.push([offset, offset + p.length]);
      offset += p.length + 2;
    }
  }
  let trailer: [number, number] | undefined;
  if (withTrailer) {
    const canonical = trailerText.replace('\r\n', '\n');
    const trailerSig = signedChunks ? `x-amz-trailer-signature:${createHmac('sha256', key).update(['AWS4-HMAC-SHA256-TRAILER', amzDate, scope, previous, sha256(canonical)].join('\n')).digest('hex')}\r\n` : '';
    const bytes = Buffer.from(trailerText + trailerSig + '\r\n', 'latin1');
    trailer = [offset, offset + bytes.length];
    out.push(bytes);
  }
  const bytes = Buffer.concat(out);
  expect(bytes.length - head.length).toBe(encodedLength);
  return { bytes, headerEnd: head.length, chunkHeaders, chunkData, trailer };
}

function buildPost(url: URL, bucket: string, key: string, data: Buffer): Built {
  const date = toAmzDate(new Date());
  const credential = `test/${date.slice(0, 8)}/us-east-1/s3/aws4_request`;
  const policy = Buffer.from(
    JSON.stringify({
      expiration: new Date(Date.now() + 600_000).toISOString(),
      conditions: [{ bucket }, { key }, { 'x-amz-algorithm': 'AWS4-HMAC-SHA256' }, { 'x-amz-credential': credential }, { 'x-amz-date': date }],
    }),
  ).toString('base64');
  const signature = createHmac('sha256', deriveSigningKey('test', date.slice(0, 8), 'us-east-1', 's3')).update(policy).digest('hex');
  const fields = { key, 'X-Amz-Algorithm': 'AWS4-HMAC-SHA256', 'X-Amz-Credential': credential, 'X-Amz-Date': date, Policy: policy, 'X-Amz-Signature': signature };
  const boundary = `----sealbox${randomBytes(8).toString('hex')}`;
  const before = Buffer.from(
    Object.entries(fields)
      .map(([k, v]) => `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`)
      .join('') + `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="f.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`,
    'latin1',
  );
  const after = Buffer.from(`\r\n--${boundary}--\r\n`, 'latin1');
  const body = Buffer.concat([before, data, after]);
  const head = headBlock('POST', `/${bucket}`, { Host: `${url.hostname}:${url.port}`, 'Content-Type': `multipart/form-data; boundary=${boundary}`, 'Content-Length': String(body.length) });
  const start = head.length + before.length;
  return { bytes: Buffer.concat([head, body]), headerEnd: head.length, chunkHeaders: [[head.length, start]], chunkData: [[start, start + data.length]], trailer: [start + data.length, start + data.length + after.length] };
}

type Cut = 'headers' | 'chunk-header' | 'chunk-data' | 'trailer';

/** Sends `bytes` up to `cut` (in pieces, as a slow client would), then closes or resets the socket. */
function sendAndAbandon(url: URL, bytes: Buffer, cut: number, reset: boolean): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect(Number(url.port), url.hostname, () => {
      const first = Math.floor(cut / 2);
      socket.write(bytes.subarray(0, first));
      setTimeout(() => {
        socket.write(bytes.subarray(first, cut), () => {
          setTimeout(() => (reset ? socket.resetAndDestroy() : socket.destroy()), 5);
        });
      }, 5);
    });
    socket.on('data', () => undefined);
    socket.on('error', () => undefined);
    socket.on('close', () => resolve());
  });
}

async function waitEmpty(dir: string, ms: number): Promise<string[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const left = readdirSync(dir);
    if (left.length === 0 || Date.now() > deadline) return left;
    await new Promise((r) => setTimeout(r, 25));
  }
}

let sealbox: Sealbox;
let s3: S3Client;
let dataDir: string;
let url: URL;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'sealbox-abort-'));
  sealbox = await startTestSealbox({ dataDir, allowHttpSseKms: true });
  s3 = s3Client(sealbox);
  url = new URL(sealbox.s3!.url);
  await s3.send(new CreateBucketCommand({ Bucket: 'aborts' }));
});

afterAll(async () => {
  s3.destroy();
  await sealbox.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

it('the test bodies are well formed: each encoding, sent whole, stores its object', async () => {
  // So an abandoned request is cut from a request the server would have accepted.
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'aborts', Key: 'whole-part' }));
  for (const encoding of ['plain', 'signed-chunks', 'unsigned-trailer', 'signed-trailer', 'post'] as const) {
    const data = randomBytes(1024 * 1024 + 4097);
    const key = `whole/${encoding}`;
    const built = encoding === 'post' ? buildPost(url, 'aborts', key, data) : buildPut(url, `/aborts/${key}`, encoding, data, 256 * 1024);
    const status = await sendWhole(url, built.bytes);
    expect([encoding, status]).toEqual([encoding, encoding === 'post' ? 204 : 200]);
    const got = Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: 'aborts', Key: key }))).Body!.transformToByteArray());
    expect(got.equals(data)).toBe(true);
    if (encoding !== 'post') {
      const part = buildPut(url, `/aborts/whole-part?partNumber=1&uploadId=${UploadId}`, encoding, data, 256 * 1024);
      expect([encoding, await sendWhole(url, part.bytes)]).toEqual([encoding, 200]);
    }
  }
  expect(readdirSync(join(dataDir, 's3', 'tmp'))).toEqual([]);
});

it('uploads abandoned at random points (headers, chunk header, chunk data, trailer) leave the temporary folder empty', async () => {
  const random = prng(SEED);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'aborts', Key: 'parts' }));
  const { UploadId: kmsUpload } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'aborts', Key: 'kms-parts', ServerSideEncryption: 'aws:kms' }));
  const seen = new Map<string, number>();
  const batch: Promise<void>[] = [];
  for (let i = 0; i < RUNS; i++) {
    const encoding = pick(['plain', 'signed-chunks', 'unsigned-trailer', 'signed-trailer', 'post'] as const);
    const target = encoding === 'post' ? 'object' : pick(['object', 'object-kms', 'part', 'part-kms'] as const);
    // Large enough to be streamed to a temporary file (small bodies are taken whole in memory).
    const data = randomBytes(1024 * 1024 + 1 + Math.floor(random() * 512 * 1024));
    const key = `cut/${i}`;
    let built: Built;
    if (encoding === 'post') built = buildPost(url, 'aborts', key, data);
    else {
      const path = target === 'part' ? `/aborts/parts?partNumber=${i + 1}&uploadId=${UploadId}` : target === 'part-kms' ? `/aborts/kms-parts?partNumber=${i + 1}&uploadId=${kmsUpload}` : `/aborts/${key}`;
      // SSE-KMS: the data key comes from KMS before the body is read.
      const sse: Record<string, string> = target === 'object-kms' ? { 'X-Amz-Server-Side-Encryption': 'aws:kms' } : {};
      built = buildPut(url, path, encoding, data, 64 * 1024 + Math.floor(random() * 256 * 1024), sse);
    }
    const cuts: Cut[] = ['headers', 'chunk-header', 'chunk-data', ...(built.trailer ? (['trailer'] as const) : [])];
    const cut = pick(cuts);
    const range: [number, number] =
      cut === 'headers' ? [built.headerEnd, built.headerEnd + 1] : cut === 'chunk-header' ? pick(built.chunkHeaders.length ? built.chunkHeaders : built.chunkData) : cut === 'chunk-data' ? pick(built.chunkData) : built.trailer!;
    const at = range[0] + Math.floor(random() * (range[1] - range[0]));
    const label = `${encoding}/${target}/${cut}`;
    seen.set(label, (seen.get(label) ?? 0) + 1);
    batch.push(sendAndAbandon(url, built.bytes, Math.min(at, built.bytes.length - 1), random() < 0.5));
    if (batch.length === 8) await Promise.all(batch.splice(0));
  }
  await Promise.all(batch);
  expect(await waitEmpty(join(dataDir, 's3', 'tmp'), 10_000)).toEqual([]);
  // Every encoding was cut at each of its points at least once.
  for (const encoding of ['plain', 'signed-chunks', 'unsigned-trailer', 'signed-trailer', 'post']) {
    const labels = [...seen.keys()].filter((l) => l.startsWith(`${encoding}/`));
    expect([encoding, new Set(labels.map((l) => l.split('/')[2])).size]).toEqual([encoding, encoding === 'plain' || encoding === 'signed-chunks' ? 3 : 4]);
  }
  // The server still serves.
  await s3.send(new PutObjectCommand({ Bucket: 'aborts', Key: 'after', Body: 'still here' }));
  expect(await (await s3.send(new GetObjectCommand({ Bucket: 'aborts', Key: 'after' }))).Body!.transformToString()).toBe('still here');
}, 60_000);


function sendWhole(url: URL, bytes: Buffer): Promise<number> {
  // Written, not ended: a client's half-close aborts the request in flight (Node's servers do not
  // allow half-open connections).
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname, () => socket.write(bytes));
    let answer = '';
    socket.on('data', (c: Buffer) => {
      answer += c.toString('latin1');
      if (answer.includes('\r\n\r\n')) socket.destroy();
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d+)/.exec(answer)?.[1] ?? 0)));
  });
}
