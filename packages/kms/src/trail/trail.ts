import { closeSync, openSync, writeSync } from 'node:fs';
import type { KmsStore, StoredEvent } from '../store/kms-store';

/**
 * The CloudTrail-style event log. Records are buffered and written in batches (one SQLite
 * transaction and one append to `cloudtrail.jsonl`), so logging stays off the hot path.
 */
export class Trail {
  private buffer: StoredEvent[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly fd: number | undefined;

  constructor(
    private readonly store: KmsStore,
    logFile: string | undefined,
    private readonly maxDelayMs = 50,
    private readonly maxBatch = 512,
  ) {
    this.fd = logFile === undefined ? undefined : openSync(logFile, 'a', 0o600);
  }

  record(event: StoredEvent): void {
    this.buffer.push(event);
    if (this.buffer.length >= this.maxBatch) this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), this.maxDelayMs);
      this.timer.unref();
    }
  }

  /** Writes everything buffered; readers call it first so they see every record. */
  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.buffer.length === 0) return;
    const batch = this.buffer;
    this.buffer = [];
    this.store.appendEvents(batch);
    if (this.fd !== undefined) writeSync(this.fd, batch.map((e) => e.record + '\n').join(''));
  }

  close(): void {
    this.flush();
    if (this.fd !== undefined) closeSync(this.fd);
  }
}
