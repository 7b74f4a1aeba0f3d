import type { RequestSpec, SignedClient } from './client';
import { describeFailure } from './client';
import { newSamples, recordError, summarise, type Samples, type Stats } from './stats';
import { processCpuMs } from './targets';

/** One operation of a scenario: the request, and what a correct answer looks like. */
export interface Operation {
  spec: RequestSpec;
  /** The response body length a correct answer has (GetObject); checked unless `verify` is off. */
  expectBytes?: number;
}

/** Builds the n-th operation of a worker. Must be cheap: bodies are built once, in setup. */
export type NextOperation = (worker: number, seq: number) => Operation;

export interface LoadOptions {
  concurrency: number;
  warmupSeconds: number;
  durationSeconds: number;
  /** Whether MiB/s is reported (scenarios that move object data). */
  payload: boolean;
  /** Check expectBytes (off against the bare server, which answers every request with nothing). */
  verify: boolean;
  /** The server's process id: its CPU time over the measured window is read from /proc. */
  serverPid?: number;
}

const NS_PER_S = 1_000_000_000n;

/**
 * Fixed concurrency, fixed duration: `concurrency` workers each send one request and await its
 * answer before sending the next, for warm-up plus duration seconds. Only operations that complete
 * inside the measured window (after the warm-up, before the end) count; latencies are measured with
 * process.hrtime.bigint() around sign + send + whole response.
 *
 * A server so slow that fewer than `concurrency` operations complete in the window (each one
 * takes longer than the window) would show 0 ops/s; instead the window is extended until that
 * many have completed, up to 3 × the duration (at least 30 s) more, and `seconds` says how long
 * it really was.
 */
export async function runLoad(client: SignedClient, next: NextOperation, options: LoadOptions): Promise<Stats> {
  const samples = newSamples();
  const minOps = options.concurrency;
  const start = process.hrtime.bigint();
  const measureFrom = start + BigInt(Math.round(options.warmupSeconds * 1e9));
  const end = measureFrom + BigInt(Math.round(options.durationSeconds * 1e9));
  const hardEnd = end + BigInt(Math.round(Math.max(30, 3 * options.durationSeconds) * 1e9));
  let completed = 0; // in the window, successful or not
  let windowEnd = end;
  let closed = false;

  const keepGoing = () => {
    if (closed) return false;
    const now = process.hrtime.bigint();
    if (now < end) return true;
    if (completed >= minOps) return false;
    if (now < hardEnd) return true;
    windowEnd = hardEnd;
    closed = true;
    return false;
  };
  const worker = async (id: number) => {
    for (let seq = 0; keepGoing(); seq++) {
      const op = next(id, seq);
      await timedOperation(client, op, options.verify, (t, record) => {
        if (closed || t < measureFrom) return;
        if (t <= end) {
          record(samples);
          completed++;
        } else if (completed < minOps && t <= hardEnd) {
          record(samples);
          completed++;
          windowEnd = t;
          if (completed >= minOps) closed = true;
        }
      });
    }
  };
  // The server's CPU time is read when the measured window opens and when it closes (or, for an
  // extended window, when its last operation completed).
  const pid = options.serverPid;
  let cpuStart: number | null = null;
  let cpuEnd: number | null = null;
  const timers: NodeJS.Timeout[] = [];
  if (pid !== undefined) {
    const at = (t: bigint, read: () => void) => timers.push(setTimeout(read, Math.max(0, Number(t - process.hrtime.bigint()) / 1e6)));
    at(measureFrom, () => (cpuStart = processCpuMs(pid)));
    at(end, () => (cpuEnd = processCpuMs(pid)));
  }
  await Promise.all(Array.from({ length: options.concurrency }, (_, i) => worker(i)));
  for (const timer of timers) clearTimeout(timer);
  if (pid !== undefined && (cpuEnd === null || windowEnd > end)) cpuEnd = processCpuMs(pid);
  const stats = summarise(samples, Number(windowEnd - measureFrom) / Number(NS_PER_S), options.payload);
  if (cpuStart !== null && cpuEnd !== null && stats.ops > 0) stats.serverCpuUsPerOp = ((cpuEnd - cpuStart) * 1000) / stats.ops;
  return stats;
}

/**
 * Sends one operation and hands `done` its completion time and a function that records it (as a
 * latency and bytes, or as an error) into samples; `done` decides whether it counts.
 */
export async function timedOperation(
  client: SignedClient,
  op: Operation,
  verify: boolean,
  done: (completedAt: bigint, record: (samples: Samples) => void) => void,
): Promise<void> {
  const t0 = process.hrtime.bigint();
  try {
    const res = await client.send(op.spec);
    const t1 = process.hrtime.bigint();
    if (res.status < 200 || res.status >= 300) {
      done(t1, (s) => recordError(s, describeFailure(res)));
    } else if (verify && op.expectBytes !== undefined && res.bodyLength !== op.expectBytes) {
      done(t1, (s) => recordError(s, `${res.status} body of ${res.bodyLength} bytes, expected ${op.expectBytes}`));
    } else {
      done(t1, (s) => {
        s.latenciesNs.push(Number(t1 - t0));
        s.bytes += (op.spec.body?.length ?? 0) + res.bodyLength;
      });
    }
  } catch (err) {
    const t1 = process.hrtime.bigint();
    done(t1, (s) => recordError(s, `network error: ${(err as Error).message}`));
    // A refused or reset connection fails at once; do not spin on it.
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
