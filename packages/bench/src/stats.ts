/** Latency and throughput figures of one measured run. */
export interface Stats {
  /** Successful operations completed inside the measured window. */
  ops: number;
  opsPerSec: number;
  /** Latency percentiles of the successful operations, in milliseconds (null without any). */
  p50Ms: number | null;
  p99Ms: number | null;
  meanMs: number | null;
  maxMs: number | null;
  /** Payload MiB/s (request plus response bodies) for scenarios that move object data; else null. */
  mibPerSec: number | null;
  /** Non-2xx answers, network errors and wrong body sizes inside the measured window. */
  errors: number;
  /** A few distinct error descriptions (status and the start of the body), to say what failed. */
  errorSamples: string[];
  /** Length of the measured window in seconds. */
  seconds: number;
  /** Payload bytes moved by the successful operations. */
  bytes: number;
  /**
   * The server process's CPU time (user + system, every thread) in the measured window per
   * successful operation, in microseconds; null when it was not measured. Unlike ops/s it does not
   * depend on how much of the machine the load generator took.
   */
  serverCpuUsPerOp: number | null;
}

/**
 * The value at quantile q (0..1) of an ascending array, nearest-rank method: the smallest value
 * with at least q of the samples at or below it.
 */
export function percentile(sorted: ArrayLike<number>, q: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.ceil(q * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

export interface Samples {
  /** Latencies in nanoseconds of the successful operations (as numbers: < 2^53 ns is 104 days). */
  latenciesNs: number[];
  bytes: number;
  errors: number;
  errorSamples: string[];
}

export function newSamples(): Samples {
  return { latenciesNs: [], bytes: 0, errors: 0, errorSamples: [] };
}

const MAX_ERROR_SAMPLES = 3;

export function recordError(samples: Samples, description: string): void {
  samples.errors++;
  if (samples.errorSamples.length < MAX_ERROR_SAMPLES && !samples.errorSamples.includes(description)) {
    samples.errorSamples.push(description);
  }
}

export function summarise(samples: Samples, seconds: number, payload: boolean): Stats {
  const sorted = Float64Array.from(samples.latenciesNs).sort();
  const ms = (ns: number | null) => (ns === null ? null : ns / 1e6);
  const ops = sorted.length;
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    ops,
    opsPerSec: seconds > 0 ? ops / seconds : 0,
    p50Ms: ms(percentile(sorted, 0.5)),
    p99Ms: ms(percentile(sorted, 0.99)),
    meanMs: ops ? sum / ops / 1e6 : null,
    maxMs: ops ? sorted[ops - 1] / 1e6 : null,
    mibPerSec: payload && seconds > 0 ? samples.bytes / (1024 * 1024) / seconds : null,
    errors: samples.errors,
    errorSamples: samples.errorSamples,
    seconds,
    bytes: samples.bytes,
    serverCpuUsPerOp: null,
  };
}
