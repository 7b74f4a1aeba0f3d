import { randomBytes } from 'node:crypto';
import { describeFailure, sha256Hex, type RequestSpec, type Response, type SignedClient } from './client';
import type { NextOperation } from './load';

export const KiB = 1024;
export const MiB = 1024 * KiB;

/** Sizes that --quick shrinks. */
export interface Sizes {
  listKeys: number;
  multipartBytes: number;
  multipartPartBytes: number;
}

export const FULL_SIZES: Sizes = { listKeys: 10_000, multipartBytes: 1024 * MiB, multipartPartBytes: 16 * MiB };
export const QUICK_SIZES: Sizes = { listKeys: 1_000, multipartBytes: 64 * MiB, multipartPartBytes: 16 * MiB };

/** What setup hands a steady scenario: how to build its n-th operation. */
export interface SteadyPrepared {
  next: NextOperation;
}

/** What setup hands the multipart scenario. */
export interface MultipartPrepared {
  bucket: string;
  key: string;
  /** Headers of CreateMultipartUpload (SSE-KMS with the scenario's key). */
  createHeaders: Record<string, string>;
}

/** Clients for setup requests: keys on KMS, buckets and objects on S3. */
export interface SetupClients {
  kms: SignedClient;
  s3: SignedClient;
}

interface ScenarioBase {
  name: string;
  title(sizes: Sizes): string;
  /** MiB/s applies (the scenario moves object data). */
  payload: boolean;
}

export interface SteadyScenario extends ScenarioBase {
  kind: 'steady';
  setup(clients: SetupClients, sizes: Sizes): Promise<SteadyPrepared>;
}

export interface MultipartScenario extends ScenarioBase {
  kind: 'multipart';
  setup(clients: SetupClients, sizes: Sizes): Promise<MultipartPrepared>;
}

export type Scenario = SteadyScenario | MultipartScenario;

// ---- request helpers ------------------------------------------------------------------------

const KMS_JSON = 'application/x-amz-json-1.1';

export function kmsRequest(operation: string, input: unknown): RequestSpec {
  return {
    service: 'kms',
    method: 'POST',
    path: '/',
    headers: { 'Content-Type': KMS_JSON, 'X-Amz-Target': `TrentService.${operation}` },
    body: Buffer.from(JSON.stringify(input)),
  };
}

/** A prebuilt object body with its SHA-256, so each PUT is signed without hashing it again. */
export interface Body {
  bytes: Buffer;
  sha256: string;
}

export function makeBody(size: number): Body {
  const bytes = randomBytes(size);
  return { bytes, sha256: sha256Hex(bytes) };
}

export function putObjectRequest(bucket: string, key: string, body: Body, headers: Record<string, string> = {}): RequestSpec {
  return {
    service: 's3',
    method: 'PUT',
    path: `/${bucket}/${encodeURIComponent(key)}`,
    headers: { 'Content-Type': 'application/octet-stream', ...headers },
    body: body.bytes,
    bodySha256: body.sha256,
  };
}

export function sseKmsHeaders(keyId: string): Record<string, string> {
  return { 'x-amz-server-side-encryption': 'aws:kms', 'x-amz-server-side-encryption-aws-kms-key-id': keyId };
}

/** Sends a setup request and insists on a 2xx answer. */
export async function must(client: SignedClient, spec: RequestSpec, what: string): Promise<Response> {
  let res: Response;
  try {
    res = await client.send(spec, true);
  } catch (err) {
    throw new Error(`setup: ${what}: ${(err as Error).message}`);
  }
  if (res.status < 200 || res.status >= 300) throw new Error(`setup: ${what}: ${describeFailure(res)}`);
  return res;
}

export async function createKey(client: SignedClient): Promise<string> {
  const res = await must(client, kmsRequest('CreateKey', { Description: 'sealbox bench' }), 'CreateKey');
  return (JSON.parse(res.body!.toString('utf8')) as { KeyMetadata: { KeyId: string } }).KeyMetadata.KeyId;
}

let bucketCounter = 0;

/** Creates a bucket with a name unique to this run and scenario. */
export async function createBucket(client: SignedClient, scenario: string): Promise<string> {
  const bucket = `bench-${scenario}-${process.pid}-${++bucketCounter}`.slice(0, 63);
  await must(client, { service: 's3', method: 'PUT', path: `/${bucket}` }, `CreateBucket ${bucket}`);
  return bucket;
}

/** Runs fn(0..count-1) with at most `concurrency` at a time (setup, not timed). */
export async function pool(concurrency: number, count: number, fn: (i: number) => Promise<void>): Promise<void> {
  let nextIndex = 0;
  const worker = async () => {
    while (nextIndex < count) await fn(nextIndex++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

/** Keys that PUT scenarios overwrite, so a long run does not grow the store without bound. */
const PUT_KEYS_PER_WORKER = 8;
/** Objects GET scenarios read in turn. */
const GET_OBJECTS = 16;
const LIST_PAGE = 1000;

export function listKey(i: number): string {
  return `key-${String(i).padStart(6, '0')}`;
}

// ---- scenarios ------------------------------------------------------------------------------

export const SCENARIOS: Scenario[] = [
  {
    name: 'kms-encrypt',
    title: () => 'KMS Encrypt (1 KiB)',
    kind: 'steady',
    payload: false,
    async setup({ kms }) {
      const keyId = await createKey(kms);
      const spec = kmsRequest('Encrypt', { KeyId: keyId, Plaintext: randomBytes(KiB).toString('base64') });
      return { next: () => ({ spec }) };
    },
  },
  {
    name: 'kms-decrypt',
    title: () => 'KMS Decrypt (1 KiB)',
    kind: 'steady',
    payload: false,
    async setup({ kms }) {
      const keyId = await createKey(kms);
      const res = await must(kms, kmsRequest('Encrypt', { KeyId: keyId, Plaintext: randomBytes(KiB).toString('base64') }), 'Encrypt');
      const { CiphertextBlob } = JSON.parse(res.body!.toString('utf8')) as { CiphertextBlob: string };
      const spec = kmsRequest('Decrypt', { CiphertextBlob, KeyId: keyId });
      return { next: () => ({ spec }) };
    },
  },
  {
    name: 'kms-generate-data-key',
    title: () => 'KMS GenerateDataKey (AES_256)',
    kind: 'steady',
    payload: false,
    async setup({ kms }) {
      const keyId = await createKey(kms);
      const spec = kmsRequest('GenerateDataKey', { KeyId: keyId, KeySpec: 'AES_256' });
      return { next: () => ({ spec }) };
    },
  },
  {
    name: 's3-put-4k',
    title: () => 'S3 PutObject 4 KiB',
    kind: 'steady',
    payload: true,
    async setup({ s3 }) {
      const bucket = await createBucket(s3, 'put-4k');
      const body = makeBody(4 * KiB);
      return { next: (w, seq) => ({ spec: putObjectRequest(bucket, `obj-${w}-${seq % PUT_KEYS_PER_WORKER}`, body) }) };
    },
  },
  {
    name: 's3-get-4k',
    title: () => 'S3 GetObject 4 KiB',
    kind: 'steady',
    payload: true,
    async setup({ s3 }) {
      const bucket = await createBucket(s3, 'get-4k');
      return getScenario(s3, bucket, 4 * KiB, {});
    },
  },
  {
    name: 's3-put-1m-kms',
    title: () => 'S3 PutObject 1 MiB SSE-KMS',
    kind: 'steady',
    payload: true,
    async setup({ kms, s3 }) {
      const keyId = await createKey(kms);
      const bucket = await createBucket(s3, 'put-1m-kms');
      const body = makeBody(MiB);
      const sse = sseKmsHeaders(keyId);
      return { next: (w, seq) => ({ spec: putObjectRequest(bucket, `obj-${w}-${seq % PUT_KEYS_PER_WORKER}`, body, sse) }) };
    },
  },
  {
    name: 's3-get-1m-kms',
    title: () => 'S3 GetObject 1 MiB SSE-KMS',
    kind: 'steady',
    payload: true,
    async setup({ kms, s3 }) {
      const keyId = await createKey(kms);
      const bucket = await createBucket(s3, 'get-1m-kms');
      return getScenario(s3, bucket, MiB, sseKmsHeaders(keyId));
    },
  },
  {
    name: 's3-list-objects-v2',
    title: (sizes) => `S3 ListObjectsV2 (${sizes.listKeys.toLocaleString('en-US')} keys, pages of ${LIST_PAGE})`,
    kind: 'steady',
    payload: false,
    async setup({ s3 }, sizes) {
      const bucket = await createBucket(s3, 'list');
      const empty = makeBody(0);
      await pool(16, sizes.listKeys, async (i) => {
        await must(s3, putObjectRequest(bucket, listKey(i), empty), `PutObject ${listKey(i)}`);
      });
      // Each operation reads one page of 1000 keys; successive operations walk every page of the
      // bucket (StartAfter the last key of the page before), as a paginating client does.
      const pages = Math.max(1, Math.ceil(sizes.listKeys / LIST_PAGE));
      const specs: RequestSpec[] = Array.from({ length: pages }, (_, page) => ({
        service: 's3',
        method: 'GET',
        path:
          `/${bucket}?list-type=2&max-keys=${LIST_PAGE}` +
          (page === 0 ? '' : `&start-after=${encodeURIComponent(listKey(page * LIST_PAGE - 1))}`),
      }));
      return { next: (w, seq) => ({ spec: specs[(w + seq) % pages] }) };
    },
  },
  {
    name: 's3-multipart-kms',
    title: (sizes) =>
      `S3 multipart upload ${formatSize(sizes.multipartBytes)} SSE-KMS (${formatSize(sizes.multipartPartBytes)} parts)`,
    kind: 'multipart',
    payload: true,
    async setup({ kms, s3 }) {
      const keyId = await createKey(kms);
      const bucket = await createBucket(s3, 'multipart');
      return { bucket, key: 'big-object', createHeaders: sseKmsHeaders(keyId) };
    },
  },
];

async function getScenario(client: SignedClient, bucket: string, size: number, headers: Record<string, string>): Promise<SteadyPrepared> {
  const body = makeBody(size);
  await pool(4, GET_OBJECTS, async (i) => {
    await must(client, putObjectRequest(bucket, `obj-${i}`, body, headers), `PutObject obj-${i}`);
  });
  const specs: RequestSpec[] = Array.from({ length: GET_OBJECTS }, (_, i) => ({ service: 's3', method: 'GET', path: `/${bucket}/obj-${i}` }));
  return { next: (w, seq) => ({ spec: specs[(w + seq) % GET_OBJECTS], expectBytes: size }) };
}

export function formatSize(bytes: number): string {
  if (bytes >= 1024 * MiB && bytes % (1024 * MiB) === 0) return `${bytes / (1024 * MiB)} GiB`;
  if (bytes >= MiB && bytes % MiB === 0) return `${bytes / MiB} MiB`;
  if (bytes >= KiB && bytes % KiB === 0) return `${bytes / KiB} KiB`;
  return `${bytes} B`;
}

export function scenarioNames(): string[] {
  return SCENARIOS.map((s) => s.name);
}
