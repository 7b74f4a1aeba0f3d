/**
 * kill -9 at seeded random moments while a mixed workload runs: object PUTs and overwrites (SSE-S3
 * and SSE-KMS), multipart completions, DeleteObjects, KMS Encrypt, on-demand rotations and alias
 * updates, each of which must reach a minimum number of acknowledged successes in every round
 * before the kill (an error before the kill fails the test). After each restart: every object key
 * holds its last acknowledged state, or what a request in flight at the kill made of it (never an
 * older body, never a deleted object back); ciphertexts acknowledged decrypt; the alias points at
 * its last acknowledged target (or the one in flight); acknowledged rotations are all there; every
 * acknowledged KMS call is in the event log (kms.db and cloudtrail.jsonl, by request id); nothing
 * is torn, no orphan blob survives the start-up cleanup, and both SQLite databases pass PRAGMA
 * integrity_check.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import { CreateAliasCommand, CreateKeyCommand, DecryptCommand, DescribeKeyCommand, EncryptCommand, KMSClient, ListKeyRotationsCommand, RotateKeyOnDemandCommand, UpdateAliasCommand } from '@aws-sdk/client-kms';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { mulberry32 } from '@sealbox/runtime';

const BIN = join(__dirname, '..', '..', 'cli', 'dist', 'bin.js');
const SEED = 20261127;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Seeded, so a failing run can be repeated exactly. */
const prng = mulberry32;

interface Running {
  child: ChildProcessWithoutNullStreams;
  kms: KMSClient;
  s3: S3Client;
}

function start(dataDir: string): Promise<Running> {
  const child = spawn(process.execPath, [BIN, 'start', '--no-tls', '--json', '--quiet', '--data-dir', dataDir, '--kms-port', '0', '--s3-port', '0', '--no-console', '--allow-http-sse-kms', '--on-demand-rotation-limit', '100000']);
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', (line) => {
      const ready = JSON.parse(line) as { kms: string; s3: string };
      const config = { region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 };
      resolve({ child, kms: new KMSClient({ ...config, endpoint: ready.kms }), s3: new S3Client({ ...config, endpoint: ready.s3, forcePathStyle: true }) });
    });
    child.once('exit', (code) => reject(new Error(`sealbox exited with ${code}`)));
  });
}

function stopped(child: ChildProcessWithoutNullStreams): Promise<void> {
  return new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));
}

/**
 * What each object key holds as far as the clients know: the state last acknowledged (a body's
 * hash, or null for absent: never written, or deleted) and the states of writes and deletes still
 * in flight when the server was killed, which may or may not have landed.
 */
interface KeyState {
  value: string | null;
  inFlight: Set<string | null>;
}

/** Acknowledged successes per workload component, in the current round. */
type Component = 'put' | 'overwrite' | 'deleteObjects' | 'multipart' | 'encrypt' | 'rotate' | 'updateAlias';

/** Each component must reach this many acknowledged successes in every round, before the kill. */
const MINIMUM: Record<Component, number> = { put: 12, overwrite: 4, deleteObjects: 2, multipart: 1, encrypt: 30, rotate: 2, updateAlias: 6 };

/** What the workload was told succeeded, what it had in flight, and what went wrong. */
interface Ledger {
  keys: Map<string, KeyState>;
  ciphertexts: { blob: Uint8Array; plaintext: string }[];
  /** Request ids of every acknowledged KMS call: each must be in the event log after a restart. */
  kmsRequestIds: string[];
  /** The alias target acknowledged last, and the one an UpdateAlias in flight was setting. */
  aliasTarget: string;
  aliasInFlight?: string;
  /** Per key: on-demand rotations acknowledged, and whether one was in flight. */
  rotations: Map<string, { acknowledged: number; inFlight: boolean }>;
  counts: Record<Component, number>;
  /** Errors before the kill: any fails the test. */
  errors: string[];
  /** Set just before the kill: a failure from then on is the kill's doing. */
  killed: boolean;
}

const zeroCounts = (): Record<Component, number> => ({ put: 0, overwrite: 0, deleteObjects: 0, multipart: 0, encrypt: 0, rotate: 0, updateAlias: 0 });

function keyState(ledger: Ledger, key: string): KeyState {
  let state = ledger.keys.get(key);
  if (!state) ledger.keys.set(key, (state = { value: null, inFlight: new Set() }));
  return state;
}

/** Runs `step` until `stop`; a failure before the kill is recorded (the test fails on it) and ends the loop. */
async function loop(ledger: Ledger, name: string, stop: () => boolean, step: (i: number) => Promise<void>): Promise<void> {
  for (let i = 0; !stop(); i++) {
    try {
      await step(i);
    } catch (err) {
      if (!ledger.killed) ledger.errors.push(`${name}: ${(err as Error).name}: ${(err as Error).message}`);
      return;
    }
  }
}

function workload(box: Running, ledger: Ledger, keys: string[], round: number, stop: () => boolean): Promise<void> {
  const { s3, kms } = box;
  const put = (w: number) =>
    loop(ledger, `PutObject ${w}`, stop, async (i) => {
      const key = `r${round}/w${w}/obj-${i % 4}`;
      const body = randomBytes(16 * 1024 + Math.floor(Math.random() * 200 * 1024));
      const state = keyState(ledger, key);
      state.inFlight.add(sha(body));
      const sse = w % 2 === 0 ? { ServerSideEncryption: 'aws:kms' as const, SSEKMSKeyId: keys[0] } : {};
      await s3.send(new PutObjectCommand({ Bucket: 'crash', Key: key, Body: body, ...sse }));
      ledger.counts[state.value === null ? 'put' : 'overwrite']++;
      state.value = sha(body);
      state.inFlight.clear();
    });
  const multipart = () =>
    loop(ledger, 'multipart upload', stop, async (i) => {
      const key = `r${round}/mpu-${i}`;
      const parts = [randomBytes(5 * 1024 * 1024), randomBytes(300 * 1024)];
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'crash', Key: key, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keys[1] }));
      const etags: string[] = [];
      for (const [n, body] of parts.entries()) etags.push((await s3.send(new UploadPartCommand({ Bucket: 'crash', Key: key, UploadId, PartNumber: n + 1, Body: body }))).ETag!);
      const state = keyState(ledger, key);
      state.inFlight.add(sha(Buffer.concat(parts)));
      await s3.send(new CompleteMultipartUploadCommand({ Bucket: 'crash', Key: key, UploadId, MultipartUpload: { Parts: etags.map((ETag, n) => ({ ETag, PartNumber: n + 1 })) } }));
      state.value = sha(Buffer.concat(parts));
      state.inFlight.clear();
      ledger.counts.multipart++;
    });
  const deleter = () =>
    loop(ledger, 'DeleteObjects', stop, async (i) => {
      const batch = [0, 1, 2].map((j) => `r${round}/del-${i}-${j}`);
      for (const key of batch) {
        const state = keyState(ledger, key);
        state.inFlight.add(sha(Buffer.from(key)));
        await s3.send(new PutObjectCommand({ Bucket: 'crash', Key: key, Body: key }));
        state.value = sha(Buffer.from(key));
        state.inFlight.clear();
      }
      for (const key of batch) keyState(ledger, key).inFlight.add(null);
      const out = await s3.send(new DeleteObjectsCommand({ Bucket: 'crash', Delete: { Objects: batch.map((Key) => ({ Key })) } }));
      // A 200 can still carry per-key errors: only keys reported deleted are.
      if (out.Errors?.length) throw new Error(`DeleteObjects errors: ${JSON.stringify(out.Errors)}`);
      expect((out.Deleted ?? []).map((d) => d.Key).sort()).toEqual([...batch].sort());
      for (const key of batch) {
        const state = keyState(ledger, key);
        state.value = null;
        state.inFlight.clear();
      }
      ledger.counts.deleteObjects++;
    });
  const encrypt = (w: number) =>
    loop(ledger, `Encrypt ${w}`, stop, async (i) => {
      const plaintext = `round ${round} worker ${w} message ${i}`;
      const out = await kms.send(new EncryptCommand({ KeyId: 'alias/crash', Plaintext: Buffer.from(plaintext) }));
      ledger.ciphertexts.push({ blob: out.CiphertextBlob!, plaintext });
      ledger.kmsRequestIds.push(out.$metadata.requestId!);
      ledger.counts.encrypt++;
    });
  const keyChanges = () =>
    loop(ledger, 'RotateKeyOnDemand / UpdateAlias', stop, async (i) => {
      if (i % 3 === 0) {
        const keyId = keys[i % keys.length]!;
        const rotations = ledger.rotations.get(keyId)!;
        rotations.inFlight = true;
        const out = await kms.send(new RotateKeyOnDemandCommand({ KeyId: keyId }));
        rotations.acknowledged++;
        rotations.inFlight = false;
        ledger.kmsRequestIds.push(out.$metadata.requestId!);
        ledger.counts.rotate++;
      }
      // A new key for every update: no target ever comes back, so an alias left at an earlier
      // target (an update acknowledged but not applied, or lost at the kill) is never taken for
      // the last acknowledged one or the one in flight (with targets in turn, it was 2 times in 3).
      const created = await kms.send(new CreateKeyCommand({}));
      ledger.kmsRequestIds.push(created.$metadata.requestId!);
      const target = created.KeyMetadata!.KeyId!;
      ledger.aliasInFlight = target;
      const out = await kms.send(new UpdateAliasCommand({ AliasName: 'alias/crash', TargetKeyId: target }));
      // Recorded only once acknowledged.
      ledger.aliasTarget = target;
      ledger.aliasInFlight = undefined;
      ledger.kmsRequestIds.push(out.$metadata.requestId!);
      ledger.counts.updateAlias++;
    });
  return Promise.all([put(0), put(1), put(2), multipart(), deleter(), encrypt(0), encrypt(1), encrypt(2), keyChanges()]).then(() => undefined);
}

/** Waits until every component has reached its minimum in this round; fails at once on a workload error. */
async function minimumsReached(ledger: Ledger, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    expect(ledger.errors).toEqual([]);
    const short = (Object.keys(MINIMUM) as Component[]).filter((c) => ledger.counts[c] < MINIMUM[c]);
    if (short.length === 0) return;
    if (Date.now() > deadline) throw new Error(`the workload did not reach its minimums: ${short.map((c) => `${c} ${ledger.counts[c]}/${MINIMUM[c]}`).join(', ')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function check(box: Running, ledger: Ledger, keys: string[], dataDir: string): Promise<void> {
  for (const [key, state] of ledger.keys) {
    let found: string | null;
    try {
      found = sha(Buffer.from(await (await box.s3.send(new GetObjectCommand({ Bucket: 'crash', Key: key }))).Body!.transformToByteArray()));
    } catch (err) {
      if ((err as Error).name !== 'NoSuchKey') throw err;
      found = null;
    }
    // The last acknowledged state, or what a request in flight at the kill made of it; never an older one.
    const allowed = [state.value, ...state.inFlight];
    if (!allowed.includes(found)) throw new Error(`${key} holds ${found ?? 'nothing'}; acknowledged: ${state.value ?? 'nothing'}, in flight: ${[...state.inFlight].map((v) => v ?? 'delete').join(', ') || 'nothing'}`);
    // What reads back now is what the next rounds must keep.
    state.value = found;
    state.inFlight.clear();
  }
  for (const { blob, plaintext } of ledger.ciphertexts) {
    expect(Buffer.from((await box.kms.send(new DecryptCommand({ CiphertextBlob: blob }))).Plaintext!).toString()).toBe(plaintext);
  }
  const target = (await box.kms.send(new DescribeKeyCommand({ KeyId: 'alias/crash' }))).KeyMetadata!.KeyId!;
  expect([ledger.aliasTarget, ledger.aliasInFlight]).toContain(target);
  ledger.aliasTarget = target;
  ledger.aliasInFlight = undefined;
  for (const keyId of keys) {
    const rotations = ledger.rotations.get(keyId)!;
    const listed = (await box.kms.send(new ListKeyRotationsCommand({ KeyId: keyId, Limit: 1000 }))).Rotations!.filter((r) => r.RotationType === 'ON_DEMAND').length;
    expect([keyId, listed]).toEqual([keyId, rotations.inFlight && listed === rotations.acknowledged + 1 ? listed : rotations.acknowledged]);
    rotations.acknowledged = listed;
    rotations.inFlight = false;
  }
  expect(readdirSync(join(dataDir, 's3', 'tmp'))).toEqual([]);
}

/** Every acknowledged KMS call is in the event log, in kms.db (LookupEvents) and in cloudtrail.jsonl. */
function checkEventLog(dataDir: string, ledger: Ledger): void {
  const db = new Database(join(dataDir, 'kms.db'), { readonly: true });
  const inDb = new Set(db.prepare<[], { record: string }>('SELECT record FROM events').all().map((r) => (JSON.parse(r.record) as { requestID: string }).requestID));
  db.close();
  const inFile = new Set(
    readFileSync(join(dataDir, 'cloudtrail.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => (JSON.parse(l) as { requestID: string }).requestID),
  );
  const missing = (ids: Set<string>) => ledger.kmsRequestIds.filter((id) => !ids.has(id));
  expect({ kmsDb: missing(inDb), cloudtrailJsonl: missing(inFile) }).toEqual({ kmsDb: [], cloudtrailJsonl: [] });
  // The two hold the same records, in the same order, once each, every line whole.
  const check = new Database(join(dataDir, 'kms.db'), { readonly: true });
  const dbIds = check.prepare<[], { event_id: string }>('SELECT event_id FROM events ORDER BY seq').all().map((r) => r.event_id);
  check.close();
  const text = readFileSync(join(dataDir, 'cloudtrail.jsonl'), 'utf8');
  expect(text.endsWith('\n')).toBe(true);
  const fileIds = text.trimEnd().split('\n').map((l) => (JSON.parse(l) as { eventID: string }).eventID);
  expect(new Set(fileIds).size).toBe(fileIds.length);
  expect(dbIds).toEqual(fileIds);
}

/** Stops the server, then checks the databases and that every blob file is referenced. */
function checkFiles(dataDir: string): void {
  for (const file of [join(dataDir, 'kms.db'), join(dataDir, 's3.db')]) {
    const db = new Database(file, { readonly: true });
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();
  }
  const db = new Database(join(dataDir, 's3.db'), { readonly: true });
  const referenced = new Set<string>();
  for (const { doc } of db.prepare<[], { doc: string }>("SELECT doc FROM objects UNION ALL SELECT doc FROM parts").all()) {
    const record = JSON.parse(doc) as { blobId?: string; parts?: { blobId: string }[] };
    if (record.blobId) referenced.add(record.blobId);
    for (const p of record.parts ?? []) referenced.add(p.blobId);
  }
  db.close();
  const blobs = readdirSync(join(dataDir, 's3', 'blobs')).flatMap((d) => readdirSync(join(dataDir, 's3', 'blobs', d)));
  for (const blob of blobs) expect(referenced.has(blob)).toBe(true);
}

it('kill -9 at random moments under a mixed workload keeps exactly what was acknowledged, tears nothing, and leaves no orphans', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sealbox-crash-mixed-'));
  const random = prng(SEED);
  let box: Running | undefined;
  try {
    box = await start(dataDir);
    const first = box;
    const keys = await Promise.all([0, 1, 2].map(async () => (await first.kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!));
    await box.kms.send(new CreateAliasCommand({ AliasName: 'alias/crash', TargetKeyId: keys[0] }));
    await box.s3.send(new CreateBucketCommand({ Bucket: 'crash' }));
    const ledger: Ledger = {
      keys: new Map(),
      ciphertexts: [],
      kmsRequestIds: [],
      aliasTarget: keys[0]!,
      rotations: new Map(keys.map((k) => [k, { acknowledged: 0, inFlight: false }])),
      counts: zeroCounts(),
      errors: [],
      killed: false,
    };
    for (let round = 0; round < 3; round++) {
      let halted = false;
      ledger.counts = zeroCounts();
      ledger.killed = false;
      const running = workload(box, ledger, keys, round, () => halted);
      try {
        // Every component has done its share, then the kill lands at a random moment of the load.
        await minimumsReached(ledger, 30_000);
        await new Promise((r) => setTimeout(r, Math.floor(random() * 400)));
        expect(ledger.errors).toEqual([]);
      } finally {
        ledger.killed = true;
        box.child.kill('SIGKILL');
        halted = true;
        await running;
        await stopped(box.child);
        box.kms.destroy();
        box.s3.destroy();
      }

      box = await start(dataDir);
      await check(box, ledger, keys, dataDir);
      box.child.kill('SIGTERM');
      await stopped(box.child);
      checkFiles(dataDir);
      checkEventLog(dataDir, ledger);
      box = await start(dataDir);
    }
    box.child.kill('SIGTERM');
    await stopped(box.child);
  } finally {
    // A failed check must not leave a server running (jest would wait for it forever).
    if (box && box.child.exitCode === null && box.child.signalCode === null) {
      box.child.kill('SIGKILL');
      await stopped(box.child);
    }
    box?.kms.destroy();
    box?.s3.destroy();
    rmSync(dataDir, { recursive: true, force: true });
  }
}, 240_000);
