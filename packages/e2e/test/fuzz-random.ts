/**
 * The seeded generator behind the grammar-based fuzz tests (packages/[*]/test/*fuzz*.test.ts):
 * mulberry32 plus the few helpers a grammar needs. A failing case names its seed and index, so it
 * reproduces with SEALBOX_FUZZ_SEED. SEALBOX_FUZZ=long multiplies every property's case count
 * (SEALBOX_FUZZ_SCALE, default 20) for a longer run outside `npm test`.
 */
import { createCipheriv } from 'node:crypto';
import { mulberry32 } from '@sealbox/runtime';

/** The seed of every property (SEALBOX_FUZZ_SEED picks another). */
export const FUZZ_SEED = Number(process.env.SEALBOX_FUZZ_SEED ?? 20261211);

/** Case counts are multiplied by this: 1 in `npm test`, SEALBOX_FUZZ_SCALE (20) with SEALBOX_FUZZ=long. */
export const FUZZ_SCALE = process.env.SEALBOX_FUZZ === 'long' ? Number(process.env.SEALBOX_FUZZ_SCALE ?? 20) : 1;

/** `n` cases in the default run, `n * FUZZ_SCALE` in the long one. */
export const cases = (n: number): number => Math.round(n * FUZZ_SCALE);

export class Rng {
  /** A float in [0, 1). */
  readonly next: () => number;

  constructor(seed: number) {
    this.next = mulberry32(seed);
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** `count` items, each from `make`. */
  many<T>(min: number, max: number, make: (i: number) => T): T[] {
    const n = this.int(min, max);
    const out: T[] = [];
    for (let i = 0; i < n; i++) out.push(make(i));
    return out;
  }

  /** A few distinct items of `items`, in random order. */
  subset<T>(items: readonly T[], min = 1, max = items.length): T[] {
    const pool = [...items];
    this.shuffle(pool);
    return pool.slice(0, this.int(Math.min(min, pool.length), Math.min(max, pool.length)));
  }

  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      [items[i], items[j]] = [items[j]!, items[i]!];
    }
    return items;
  }

  /** A string of `min..max` characters drawn from `alphabet`. */
  text(alphabet: string, min: number, max: number): string {
    const chars = [...alphabet];
    let s = '';
    const n = this.int(min, max);
    for (let i = 0; i < n; i++) s += this.pick(chars);
    return s;
  }

  /** `n` bytes: an AES-CTR keystream keyed from this generator, so large buffers are cheap and still seeded. */
  bytes(n: number): Buffer {
    const key = Buffer.alloc(16);
    for (let i = 0; i < 16; i++) key[i] = this.int(0, 255);
    return createCipheriv('aes-128-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(n));
  }
}

/**
 * Runs `count` seeded cases; a failure is rethrown naming the case's seed, so
 * `SEALBOX_FUZZ_SEED=<seed>` with one case reproduces it.
 */
export function forCases(name: string, count: number, body: (rng: Rng, index: number) => void): void {
  for (let i = 0; i < count; i++) {
    const seed = (FUZZ_SEED + i * 7919) >>> 0;
    try {
      body(new Rng(seed), i);
    } catch (err) {
      throw annotate(err, name, i, seed);
    }
  }
}

/** forCases for asynchronous bodies (run one after another). */
export async function forCasesAsync(name: string, count: number, body: (rng: Rng, index: number) => Promise<void>): Promise<void> {
  for (let i = 0; i < count; i++) {
    const seed = (FUZZ_SEED + i * 7919) >>> 0;
    try {
      await body(new Rng(seed), i);
    } catch (err) {
      throw annotate(err, name, i, seed);
    }
  }
}

function annotate(err: unknown, name: string, index: number, seed: number): Error {
  const e = err instanceof Error ? err : new Error(String(err));
  e.message = `${name}: case ${index} (rng seed ${seed}) failed: ${e.message}`;
  return e;
}

/** Named counters of how often a property reached its deep path, checked with `atLeast`. */
export class Counters {
  readonly counts = new Map<string, number>();

  hit(name: string, by = 1): void {
    this.counts.set(name, (this.counts.get(name) ?? 0) + by);
  }

  get(name: string): number {
    return this.counts.get(name) ?? 0;
  }

  toString(): string {
    return [...this.counts].map(([k, v]) => `${k}=${v}`).join(', ');
  }
}
