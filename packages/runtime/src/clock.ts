/**
 * Time is injected, never read directly, so deletion windows, rotation periods, presigned URL
 * expiry and clock skew can be tested without sleeping.
 */
export interface Clock {
  now(): Date;
}

/** Called when the clock is advanced; the advance resolves once every returned promise has settled. */
export type ClockListener = (now: Date) => unknown;

/**
 * The latest virtual time: the end of year 9999. Every date Sealbox writes (ISO 8601 in event
 * records and XML, HTTP dates, SigV4's X-Amz-Date) has a four-digit year, and past about year
 * 275760 a JavaScript Date is invalid: an advance beyond this would leave every later request of
 * both services failing on a date it cannot write.
 */
/** How far behind the true time a client may sign: a whole second of Date header, and one of transit. */
const SIGNING_LAG_MS = 2000;

export const MAX_VIRTUAL_TIME_MS = Date.UTC(9999, 11, 31, 23, 59, 59);

/** What `VirtualClock.state()` saves and `restore()` puts back: the offset and its history. */
export interface ClockState {
  readonly offsetMs: number;
  readonly history: readonly { readonly atWallMs: number; readonly offsetMs: number }[];
}

/**
 * Wall-clock time plus an offset that only ever grows. Advancing it means time has passed for
 * everyone: due work (key deletions, rotations) runs at once, and clients, whose clocks did not
 * move, keep working.
 *
 * The clock remembers when each advance happened, so a timestamp a client signed can be placed
 * on the virtual timeline: a presigned URL signed before an advance of an hour is an hour older
 * after it, while a request signed after the advance is current. See `fromWallClock`.
 *
 * Signed timestamps (X-Amz-Date) have whole seconds, so an advance takes effect at the start of
 * the next whole second of wall time, and `advance` resolves a second after that: every timestamp
 * signed before the call lies wholly before the advance, and every one signed after the promise
 * resolves lies wholly after it. The extra second is for the AWS SDKs, which set their clocks from
 * the Date header (whole seconds) and so sign up to a second behind. Presign, advance past the
 * expiry, fetch at once: the URL has expired.
 */
export class VirtualClock implements Clock {
  private offsetMs = 0;
  /** Wall-clock moments of each advance and the offset in force from then on. */
  private history: { atWallMs: number; offsetMs: number }[] = [];
  /** Bumped by `restore`: an advance still waiting for its second then does not apply. */
  private generation = 0;
  private readonly listeners = new Set<ClockListener>();

  constructor(
    private readonly wall: () => number = Date.now,
    /** Waits `ms` of wall time (injected by tests with a fake wall clock). */
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  ) {}

  now(): Date {
    return new Date(this.wall() + this.offsetMs);
  }

  /** The wall clock, as clients on this machine read it (sent as the `Date` response header). */
  wallNow(): Date {
    return new Date(this.wall());
  }

  /**
   * Moves the clock forward by `seconds` (>= 0) at the start of the next whole second of wall
   * time, and resolves with the new time one second later (1 to 2 seconds after the call).
   */
  async advance(seconds: number): Promise<Date> {
    if (!Number.isFinite(seconds) || seconds < 0) throw new RangeError('seconds must be a finite number >= 0');
    if (seconds > this.maxAdvanceSeconds()) throw new RangeError(`seconds must be at most ${this.maxAdvanceSeconds()}: the clock cannot pass 9999-12-31T23:59:59Z`);
    const boundary = Math.floor(this.wall() / 1000) * 1000 + 1000;
    const generation = this.generation;
    await this.waitUntil(boundary);
    // A sandbox reset or restored meanwhile: the advance belonged to the state that was dropped.
    if (generation !== this.generation) return this.now();
    // Advances that were each within bounds when asked may not be together.
    this.offsetMs = Math.max(this.offsetMs, Math.min(this.offsetMs + Math.round(seconds * 1000), MAX_VIRTUAL_TIME_MS - boundary - 2000));
    this.history.push({ atWallMs: boundary, offsetMs: this.offsetMs });
    // Work that runs when time passes (lifecycle rules) may yield; the advance waits for it.
    await Promise.all([...this.listeners].map((listener) => listener(this.now())));
    await this.waitUntil(boundary + 1000);
    return this.now();
  }

  /** Timers may fire a little early: waits until the wall clock has really reached `wallMs`. */
  private async waitUntil(wallMs: number): Promise<void> {
    for (let left = wallMs - this.wall(); left > 0; left = wallMs - this.wall()) await this.sleep(left);
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

  /**
   * Like `fromWallClock`, for a timestamp that may have been written up to two seconds late: the
   * SDKs sign with their clock set from the whole-second Date header, so a request signed just after
   * an advance can carry a time from just before it. Used for the skew of header-signed requests
   * only (a presigned URL's age keeps the earliest reading).
   */
  fromWallClockLatest(wallTime: Date): Date {
    return new Date(this.fromWallClock(new Date(wallTime.getTime() + SIGNING_LAG_MS)).getTime() - SIGNING_LAG_MS);
  }

  /**
   * The largest advance that keeps the clock within MAX_VIRTUAL_TIME_MS (whole seconds, with the
   * two seconds an advance takes to apply).
   */
  maxAdvanceSeconds(): number {
    return Math.max(0, Math.floor((MAX_VIRTUAL_TIME_MS - this.now().getTime()) / 1000) - 3);
  }

  get offsetSeconds(): number {
    return this.offsetMs / 1000;
  }

  /** The offset and its history, for `restore` (a sandbox's reset and snapshots). */
  state(): ClockState {
    return { offsetMs: this.offsetMs, history: this.history.map((h) => ({ ...h })) };
  }

  /**
   * Puts back a saved state: time goes back to where it was. Only a sandbox whose whole state
   * goes back with it (reset, snapshot restore) does this; listeners are not called, since
   * nothing falls due by going back.
   */
  restore(state: ClockState): void {
    this.generation++;
    this.offsetMs = state.offsetMs;
    this.history = state.history.map((h) => ({ ...h }));
  }

  onAdvance(listener: ClockListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
