import { closeSync, writeSync } from 'node:fs';
import { openPrivate } from '@sealbox/runtime';
import type { KmsStore, StoredEvent } from '../store/kms-store';

/** How long a failed write waits before the next try. */
const RETRY_MS = 1000;
/** Events held in memory while writes fail; beyond this the oldest are dropped (and counted). */
const MAX_HELD = 100_000;
const MAX_HELD_LINE_BYTES = 64 * 1024 * 1024;

/**
 * The CloudTrail-style event log. Records are buffered and written in batches (one SQLite
 * transaction and one append to `cloudtrail.jsonl`), so logging stays off the hot path.
 *
 * A write that fails (a full disk) never fails the calls being logged and never escapes from the
 * timer that writes: the batch goes back to the buffer, the failure is reported once, and the
 * write is tried again every second until it succeeds. Rows are inserted with OR IGNORE on the
 * event id, so a batch written twice is stored once.
 */
export class Trail {
  private buffer: StoredEvent[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly fd: number | undefined;
  private failing = false;
  private dropped = 0;
  /** cloudtrail.jsonl bytes not yet written. */
  private lines: Buffer[] = [];
  private lineBytes = 0;

  constructor(
    private readonly store: KmsStore,
    logFile: string | undefined,
    private readonly maxDelayMs = 50,
    private readonly maxBatch = 512,
    private readonly report: (message: string) => void = (message) => process.stderr.write(`sealbox kms: ${message}\n`),
  ) {
    this.fd = logFile === undefined ? undefined : openPrivate(logFile, 'a');
  }

  record(event: StoredEvent): void {
    this.buffer.push(event);
    if (this.failing) {
      if (this.buffer.length > MAX_HELD) this.dropped += this.buffer.splice(0, this.buffer.length - MAX_HELD).length;
      return; // the retry timer is set
    }
    if (this.buffer.length >= this.maxBatch) this.tryFlush();
    else this.schedule(this.maxDelayMs);
  }

  /**
   * Writes everything buffered; readers call it first so they see every record. When the write
   * fails it throws, after keeping the events, reporting (once) and setting the retry.
   *
   * Two stages, each retried on its own: the events into SQLite (what readers query), then their
   * lines onto cloudtrail.jsonl, as bytes kept until written (a short write is continued, never
   * written twice).
   */
  flush(): void {
    if (this.buffer.length === 0 && this.lines.length === 0) return;
    const batch = this.buffer;
    this.buffer = [];
    try {
      if (batch.length > 0) {
        try {
          this.store.appendEvents(batch);
        } catch (err) {
          this.buffer = batch.concat(this.buffer);
          throw err;
        }
        if (this.fd !== undefined) this.queueLines(Buffer.from(batch.map((e) => e.record + '\n').join(''), 'utf8'));
      }
      this.writeLines();
    } catch (err) {
      if (!this.failing) {
        this.failing = true;
        this.report(`cannot write the event log (${describe(err)}); ${this.buffer.length} events are held in memory and the write is retried every second`);
      }
      this.schedule(RETRY_MS);
      throw err;
    }
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.failing) {
      this.failing = false;
      this.report(`the event log is written again${this.dropped ? `; ${this.dropped} events were dropped while it could not be` : ''}`);
      this.dropped = 0;
    }
  }

  private queueLines(bytes: Buffer): void {
    this.lines.push(bytes);
    this.lineBytes += bytes.length;
    // While the file cannot be written, its oldest lines go first (SQLite has the events).
    // The first piece may be partly written already: it stays, so no line is cut.
    while (this.lineBytes > MAX_HELD_LINE_BYTES && this.lines.length > 2) this.lineBytes -= this.lines.splice(1, 1)[0]!.length;
  }

  private writeLines(): void {
    while (this.lines.length > 0) {
      const bytes = this.lines[0]!;
      const n = writeSync(this.fd!, bytes);
      this.lineBytes -= n;
      if (n < bytes.length) this.lines[0] = bytes.subarray(n);
      else this.lines.shift();
    }
  }

  /** Events not yet written (held while writes fail). */
  get pending(): number {
    return this.buffer.length;
  }

  private schedule(ms: number): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.tryFlush();
    }, ms);
    this.timer.unref();
  }

  /** A write off any call's path: a failure is kept, reported and retried by flush itself. */
  private tryFlush(): void {
    try {
      this.flush();
    } catch {
      // held, reported, retried
    }
  }

  close(): void {
    try {
      this.flush();
    } finally {
      // No retry may outlive the store it writes to.
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      if (this.fd !== undefined) closeSync(this.fd);
    }
  }
}

function describe(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code ? code : err instanceof Error ? err.message : String(err);
}
