/**
 * Time is injected, never read directly, so deletion windows, rotation periods, presigned URL
 * expiry and clock skew can be tested without sleeping.
 */
export interface Clock {
  now(): Date;
}

export type ClockListener = (now: Date) => void;

/**
 * Real time plus an offset that only ever grows. Advancing it notifies listeners so that work
 * which became due (key deletions, rotations) runs at once.
 */
export class VirtualClock implements Clock {
  private offsetMs = 0;
  private readonly listeners = new Set<ClockListener>();

  constructor(private readonly base: () => number = Date.now) {}

  now(): Date {
    return new Date(this.base() + this.offsetMs);
  }

  /** Moves the clock forward by `seconds` (>= 0) and returns the new time. */
  advance(seconds: number): Date {
    if (!Number.isFinite(seconds) || seconds < 0) throw new RangeError('seconds must be a finite number >= 0');
    this.offsetMs += Math.round(seconds * 1000);
    const now = this.now();
    for (const listener of this.listeners) listener(now);
    return now;
  }

  get offsetSeconds(): number {
    return this.offsetMs / 1000;
  }

  onAdvance(listener: ClockListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
