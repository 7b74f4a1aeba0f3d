import { setFlagsFromString } from 'node:v8';

/**
 * How far V8 lets the old generation grow past what is live before its next full collection,
 * for the `sealbox start` process (never for a test suite's process that starts Sealbox in
 * process: its heap is its own).
 *
 * V8 picks the factor from how fast the program allocates: between 1.1x and 4x what is live. A
 * server answering one request at a time looks slow to it and gets a limit barely above its live
 * heap, and the memory outside the heap that object bodies pass through (socket reads, cipher
 * output: about a megabyte per 1 MiB PUT or GET) counts towards that limit until the next young
 * collection frees it. Measured with `npm run bench` on a 1 MiB SSE-KMS GET at concurrency 1: a
 * full mark-compact every 20 requests or so, 40% of the server's CPU. 300 (4x, the factor V8 picks
 * for a busy program itself) made it 3 full collections where there had been 68. V8's memory
 * reducer still gives the heap's unused pages back once requests stop (a bench run: 138 -> 47 MiB
 * of heap some 25 s after the load ended, as without the setting), but the limit it then sets is
 * 4x what is live too: the setting replaces every factor V8 would pick, including the smaller
 * ones for the memory reducer's collections and for memory pressure.
 *
 * The flag is read each time V8 sets a new limit, so setting it once the process runs takes
 * effect from the next collection on.
 */
export const HEAP_GROWING_PERCENT = 300;

/**
 * Sets the factor, unless whoever started Node chose one (`node --heap-growing-percent=N ...`;
 * NODE_OPTIONS does not take V8's heap flags, so the command line is the only place).
 */
export function tuneHeapForServing(execArgv: readonly string[] = process.execArgv): void {
  const chosen = execArgv.some((arg) => /^--heap[-_]growing[-_]percent(?:=|$)/.test(arg));
  if (!chosen) setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}
