/**
 * Time is injected, never read directly, so deletion windows, rotation periods, presigned URL
 * expiry and clock skew can be tested without sleeping.
 */
export interface Clock {
  now(): Date;
}

export type ClockListener = (now: Date) => void;

/**
 * Wall-clock time plus an offset that only ever grows. Advancing it means time has passed for
 * everyone: due work (key deletions, rotations) runs at once, and clients, whose clocks did not
 * move, keep working.
 *
 * The clock remembers when each advance happened, so a timestamp a client signed can be placed
 * on the virtual timeline: a presigned URL signed before an advance of an hour is an hour older
 * after it, while a request signed after the advance is current. See `fromWallClock`.
 */
export class VirtualClock implements Clock {
  private offsetMs = 0;
  /** Wall-clock moments of each advance and the offset in force from then on. */
  private readonly history: { atWallMs: number; offsetMs: number }[] = [];
  private readonly listeners = new Set<ClockListener>();

  constructor(private readonly wall: () => number = Date.now) {}

  now(): Date {
    return new Date(this.wall() + this.offsetMs);
  }

  /** The wall clock, as clients on this machine read it (sent as the `Date` response header). */
  wallNow(): Date {
    return new Date(this.wall());
  }

  /** Moves the clock forward by `seconds` (>= 0) and returns the new time. */
  advance(seconds: number): Date {
    if (!Number.isFinite(seconds) || seconds < 0) throw new RangeError('seconds must be a finite number >= 0');
    this.offsetMs += Math.round(seconds * 1000);
    // Signed timestamps have whole seconds, and SDKs correct their clocks from our Date header,
    // which has whole seconds too, so a client may sign up to a second behind: an advance counts
    // from the start of the second before it. (A request signed in that second before the advance
    // is taken as signed after it; the other way round, it would be refused as expired.)
    this.history.push({ atWallMs: Math.floor(this.wall() / 1000) * 1000 - 1000, offsetMs: this.offsetMs });
    const now = this.now();
    for (const listener of this.listeners) listener(now);
    return now;
  }

  /**
   * A wall-clock timestamp (such as a request's X-Amz-Date) on the virtual timeline: shifted by
   * the offset that was in force at that moment.
   */
  fromWallClock(wallTime: Date): Date {
    const t = wallTime.getTime();
    let offset = 0;
    for (let i = this.history.length - 1; i >= 0; i--) {
      if (this.history[i]!.atWallMs <= t) {
        offset = this.history[i]!.offsetMs;
        break;
      }
    }
    return new Date(t + offset);
  }

  get offsetSeconds(): number {
    return this.offsetMs / 1000;
  }

  onAdvance(listener: ClockListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
