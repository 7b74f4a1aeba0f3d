import { Worker } from 'node:worker_threads';
import { Crc64Checksum, crc64Wasm, type Checksum } from '../checksums';

/**
 * CRC64NVME of a whole small body (up to 1 MiB) on a helper thread, while the event loop
 * encrypts and writes it. S3 keeps a CRC64NVME of every object, so every byte of a PUT goes
 * through it: about as much CPU as the AES-GCM or the SigV4 SHA-256 of the same bytes, and the
 * event loop (one core) is what bounds PUT throughput, while the second core has room. The
 * helper runs the same WebAssembly module on the same tables (crc64-wasm.ts); the body is copied
 * once into a shared buffer (the inline path copies it once into WebAssembly memory too).
 *
 * One helper per process, started at the first large body and never holding the process open.
 * If it fails, whatever it had not answered is folded inline, and so is everything after.
 */
export const OFFLOAD_MIN_BYTES = 256 * 1024;
const SLOT_BYTES = 1024 * 1024;
const POOL_MAX = 16;

const WORKER_CODE = `
const { parentPort, workerData } = require('node:worker_threads');
const { module, tables, crcAt, dataAt, chunk } = workerData;
const instance = new WebAssembly.Instance(module, {});
const fold = instance.exports.update;
const words = new Int32Array(instance.exports.memory.buffer);
const bytes = new Uint8Array(instance.exports.memory.buffer);
words.set(tables, 0);
parentPort.on('message', (m) => {
  const data = new Uint8Array(m.slot, 0, m.length);
  words[crcAt >> 2] = -1;
  words[(crcAt >> 2) + 1] = -1;
  for (let at = 0; at < m.length; at += chunk) {
    const n = Math.min(chunk, m.length - at);
    bytes.set(data.subarray(at, at + n), dataAt);
    fold(dataAt, n);
  }
  parentPort.postMessage({ id: m.id, hi: words[(crcAt >> 2) + 1], lo: words[crcAt >> 2] });
});
`;

interface Pending {
  hasher: Crc64Checksum;
  chunks: Buffer[];
  slot: SharedArrayBuffer;
  resolve: () => void;
}

/** Bodies handed to the helper so far (for tests). */
export const offloadStats = { offloaded: 0 };

let worker: Worker | undefined;
let broken = false;
let nextId = 1;
const pending = new Map<number, Pending>();
const slots: SharedArrayBuffer[] = [];

function fail(): void {
  broken = true;
  worker = undefined;
  // Whatever the helper had not answered is folded here, as it would have been without it.
  for (const [id, p] of pending) {
    pending.delete(id);
    for (const c of p.chunks) p.hasher.update(c);
    p.resolve();
  }
}

function helper(): Worker | undefined {
  if (worker || broken || !crc64Wasm || typeof SharedArrayBuffer !== 'function') return worker;
  try {
    const w = new Worker(WORKER_CODE, { eval: true, workerData: crc64Wasm.parts });
    w.on('message', (m: { id: number; hi: number; lo: number }) => {
      const p = pending.get(m.id);
      if (!p) return;
      pending.delete(m.id);
      p.hasher.setRegister(m.hi, m.lo);
      if (slots.length < POOL_MAX) slots.push(p.slot);
      p.resolve();
      if (pending.size === 0) w.unref();
    });
    w.on('error', fail);
    w.on('exit', fail);
    w.unref();
    worker = w;
  } catch {
    broken = true;
  }
  return worker;
}

/**
 * Folds `chunks` (a whole body of `size` bytes) into `hasher`, on the helper thread when that
 * pays (a fresh CRC64NVME checksum, a body between OFFLOAD_MIN_BYTES and 1 MiB), else at once.
 * `hasher` holds the result once the promise resolves (it never rejects); the chunks must not
 * change until then.
 */
export function foldCrc64(hasher: Checksum, chunks: Buffer[], size: number): Promise<void> {
  const w = size >= OFFLOAD_MIN_BYTES && size <= SLOT_BYTES && hasher instanceof Crc64Checksum && hasher.fresh ? helper() : undefined;
  if (!w) {
    for (const c of chunks) hasher.update(c);
    return Promise.resolve();
  }
  const slot = slots.pop() ?? new SharedArrayBuffer(SLOT_BYTES);
  const view = Buffer.from(slot);
  let at = 0;
  for (const c of chunks) at += c.copy(view, at);
  const id = nextId++;
  offloadStats.offloaded++;
  return new Promise<void>((resolve) => {
    pending.set(id, { hasher: hasher as Crc64Checksum, chunks, slot, resolve });
    // Held while an answer is awaited: a request waits on it.
    w.ref();
    w.postMessage({ id, slot, length: size });
  });
}

/** Stops the helper as a crash would (tests): what it had not answered is folded inline. */
export async function stopCrc64Helper(): Promise<void> {
  await worker?.terminate();
}
