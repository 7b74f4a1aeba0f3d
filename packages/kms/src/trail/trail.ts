import { closeSync, fdatasync, fdatasyncSync, fstatSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';
import { openPrivate } from '@sealbox/runtime';
import type { KmsStore, StoredEvent } from '../store/kms-store';

/** How long a failed write waits before the next try. */
const RETRY_MS = 1000;
/** Events held in memory while writes fail; beyond this the oldest are dropped (and counted). */
const MAX_HELD = 100_000;
const MAX_HELD_LINE_BYTES = 64 * 1024 * 1024;

/** A call waiting for its record to be durable: settled once the batch holding it was written, or failed. */
interface Waiter {
  resolve(): void;
  reject(err: unknown): void;
}

/**
 * The CloudTrail-style event log, written by group commit. A call's record is collected with
 * those of the calls answered in the same turn of the event loop; the batch is written in one
 * SQLite transaction and one append to `cloudtrail.jsonl`, then kms.db's write-ahead log is
 * flushed to disk (fdatasync, in the thread pool), and only then are those calls answered
 * (`commit`). So every acknowledged call has its record on disk before its response is sent: a
 * kill -9, or a power cut, can lose only records of calls whose answers were never sent. One
 * flush runs at a time, off the event loop: the calls answered while it runs form the next batch,
 * so the more concurrent calls, the larger the batches, one flush each.
 *
 * One flush per batch, not two: kms.db holds every record (the same line cloudtrail.jsonl gets),
 * so cloudtrail.jsonl is appended without a flush of its own (a kill -9 loses nothing the kernel
 * was given; a flush of a file that grows also commits the file system's journal, the dearer of
 * the two) and is made whole from kms.db when the log is opened: a torn last line is cut, and the
 * records stored after its last whole line are appended (`repairLog`). It is flushed on close.
 * Without a write-ahead log to flush (`durable` without `walFile`), cloudtrail.jsonl is flushed.
 *
 * Without a data directory (`durable` false) nothing outlives the process anyway: calls are
 * answered at once and records are written in batches off their path (at most `maxDelayMs`
 * later; readers flush first). Events recorded by Sealbox itself (a key deleted when its
 * waiting period ends) are written the same way (`record`): no client waits for them.
 *
 * A write that fails (a full disk) never escapes from the timer that writes, and loses nothing:
 * the batch goes back to the buffer, the failure is reported once, and the write is tried again
 * every second until it succeeds. The calls waiting on the failed write, and those made until a
 * retry succeeds, are answered with an error (their records are kept and written later): a call
 * is acknowledged only once its record is on disk. Rows are inserted with OR IGNORE on the event id, so a batch written twice is stored
 * once.
 */
export class Trail {
  /** Events not yet written, each with the call waiting for it (if one still is). */
  private buffer: { event: StoredEvent; waiter?: Waiter }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private readonly fd: number | undefined;
  /** kms.db's write-ahead log, flushed with each batch (opened on first use: SQLite creates it). */
  private walFd: number | undefined;
  /** Calls whose records are written, waiting for the next flush to disk. */
  private unsynced: Waiter[] = [];
  private syncing = false;
  private closed = false;
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
    /**
     * Calls wait for their records to be on disk (a data directory), with the SQLite write-ahead
     * log to flush; false: they are answered at once (in memory).
     */
    private readonly durable: false | { walFile?: string } = logFile === undefined ? false : {},
  ) {
    // kms.db has what cloudtrail.jsonl may lack after a power cut: put back before appending more.
    if (logFile !== undefined && durable && durable.walFile !== undefined) repairLog(logFile, store);
    this.fd = logFile === undefined ? undefined : openPrivate(logFile, 'a');
  }

  /** Records an event no call waits for: written with the next batch. */
  record(event: StoredEvent): void {
    this.add({ event });
    if (this.failing) return; // the retry timer is set
    if (this.buffer.length >= this.maxBatch) this.tryFlush();
    else this.schedule(this.maxDelayMs);
  }

  /**
   * Records the event of a call about to be answered; resolves once it is on disk (with the
   * other events of this turn of the event loop), rejects when it could not be written.
   */
  commit(event: StoredEvent): Promise<void> {
    if (!this.durable) {
      this.record(event);
      return Promise.resolve();
    }
    if (this.failing) {
      // Known not to be writable: the call fails at once rather than after the next retry (a
      // full disk stays full for a while); the event is kept and written with the others.
      this.add({ event });
      return Promise.reject(new EventLogUnavailableError());
    }
    return new Promise<void>((resolve, reject) => {
      this.add({ event, waiter: { resolve, reject } });
      if (this.buffer.length >= this.maxBatch && !this.syncing) this.tryFlush();
      this.pumpSoon();
    });
  }

  private pumpSoon(): void {
    this.immediate ??= setImmediate(() => {
      this.immediate = undefined;
      this.pump();
    });
  }

  /**
   * Writes the records calls wait for, then flushes them to disk off the event loop and answers
   * those calls; one flush at a time (records that arrive meanwhile wait for the next one).
   */
  private pump(): void {
    if (this.syncing || this.closed) return;
    if (this.buffer.some((e) => e.waiter)) {
      try {
        this.flush();
      } catch {
        return; // the waiters are answered with the error; held, reported, retried
      }
    }
    if (this.unsynced.length === 0) return;
    const waiters = this.unsynced;
    this.unsynced = [];
    this.syncing = true;
    this.syncFiles((err) => {
      this.syncing = false;
      if (err) {
        this.report(`cannot flush the event log to disk (${describe(err)})`);
        for (const w of waiters) w.reject(new EventLogUnavailableError(err));
      } else {
        for (const w of waiters) w.resolve();
      }
      if (this.closed) this.closeFiles();
      else this.pump();
    });
  }

  /** fdatasync of cloudtrail.jsonl and kms.db's write-ahead log, in parallel, in the thread pool. */
  private syncFiles(done: (err?: unknown) => void): void {
    let fds: number[];
    try {
      fds = this.filesToSync();
    } catch (err) {
      setImmediate(() => done(err));
      return;
    }
    let left = fds.length;
    let failure: unknown;
    if (left === 0) setImmediate(() => done());
    for (const fd of fds) {
      fdatasync(fd, (err) => {
        failure ??= err ?? undefined;
        if (--left === 0) done(failure);
      });
    }
  }

  /** What a batch is durable by: kms.db's write-ahead log (or cloudtrail.jsonl when there is none); `all` adds cloudtrail.jsonl (close). */
  private filesToSync(all = false): number[] {
    const fds: number[] = [];
    const wal = this.durable && this.durable.walFile !== undefined;
    if (this.fd !== undefined && (all || !wal)) fds.push(this.fd);
    if (this.durable && this.durable.walFile !== undefined) {
      // Any descriptor of the file flushes what SQLite wrote through its own (fsync works on the
      // file, not the descriptor). SQLite keeps the file while the database is open (a
      // checkpoint restarts it in place, after flushing it and the database).
      this.walFd ??= openSync(this.durable.walFile, 'r');
      fds.push(this.walFd);
    }
    return fds;
  }

  private closeFiles(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    if (this.walFd !== undefined) closeSync(this.walFd);
    this.walFd = undefined;
  }

  private add(entry: { event: StoredEvent; waiter?: Waiter }): void {
    this.buffer.push(entry);
    if (this.failing && this.buffer.length > MAX_HELD) {
      const dropped = this.buffer.splice(0, this.buffer.length - MAX_HELD);
      this.dropped += dropped.length;
      for (const { waiter } of dropped) waiter?.reject(new EventLogUnavailableError());
    }
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
    const waiters: Waiter[] = [];
    for (const entry of batch) {
      if (entry.waiter) waiters.push(entry.waiter);
      // Settled by this write, whatever its outcome: an event kept for a retry has no one waiting.
      entry.waiter = undefined;
    }
    try {
      if (batch.length > 0) {
        const events = batch.map((e) => e.event);
        try {
          this.store.appendEvents(events);
        } catch (err) {
          this.buffer = batch.concat(this.buffer);
          throw err;
        }
        if (this.fd !== undefined) this.queueLines(Buffer.from(events.map((e) => e.record + '\n').join(''), 'utf8'));
      }
      this.writeLines();
    } catch (err) {
      if (!this.failing) {
        this.failing = true;
        this.report(`cannot write the event log (${describe(err)}); ${this.buffer.length} events are held in memory and the write is retried every second`);
      }
      this.schedule(RETRY_MS);
      // Reported once above, not once per call.
      for (const w of waiters) w.reject(new EventLogUnavailableError(err));
      throw err;
    }
    // Written; answered once the next flush to disk has run.
    if (waiters.length > 0) {
      this.unsynced.push(...waiters);
      if (!this.syncing) this.pumpSoon();
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
    if (this.lines.length === 0) return;
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
      if (this.immediate) clearImmediate(this.immediate);
      this.immediate = undefined;
      this.closed = true;
      // Calls whose records are written are answered once they are on disk, now; calls still
      // waiting (the write failed) are answered with an error, not left hanging.
      const waiters = this.unsynced;
      this.unsynced = [];
      let synced: unknown;
      try {
        for (const fd of this.filesToSync(true)) fdatasyncSync(fd);
      } catch (err) {
        synced = err;
      }
      for (const w of waiters) {
        if (synced === undefined) w.resolve();
        else w.reject(new EventLogUnavailableError(synced));
      }
      for (const entry of this.buffer) {
        entry.waiter?.reject(new Error('the event log was closed before the event was written'));
        entry.waiter = undefined;
      }
      // A flush in the thread pool still uses the descriptors: they are closed when it ends.
      if (!this.syncing) this.closeFiles();
    }
  }
}

/**
 * Makes cloudtrail.jsonl whole again from kms.db, which a batch is durable by: after a power cut
 * the file may end in a torn line (cut, since it cannot be completed) and lack the records of the
 * last batches (appended from kms.db, after the record of the file's last whole line, oldest
 * first; every record when the file has no whole line). A file whose last record kms.db does not
 * know (not this data directory's log) is left as it is. Runs once, when the log is opened.
 */
export function repairLog(logFile: string, store: KmsStore): void {
  // a+ creates a missing file; the only writes are at its end (after the cut, if any).
  const fd = openPrivate(logFile, 'a+');
  try {
    const size = fstatSync(fd).size;
    const { end, line } = lastWholeLine(fd, size);
    let lastId: string | undefined;
    if (line !== undefined) {
      let id: unknown;
      try {
        id = (JSON.parse(line) as { eventID?: unknown }).eventID;
      } catch {
        // not a record: not a log this store wrote
      }
      if (typeof id !== 'string') return;
      lastId = id;
    }
    if (end < size) ftruncateSync(fd, end);
    let pending: string[] = [];
    let bytes = 0;
    let written = 0;
    const write = () => {
      const buf = Buffer.from(pending.join(''), 'utf8');
      for (let off = 0; off < buf.length; ) off += writeSync(fd, buf, off, buf.length - off);
      written += buf.length;
      pending = [];
      bytes = 0;
    };
    for (const record of store.eventRecordsAfter(lastId)) {
      pending.push(record + '\n');
      bytes += record.length;
      if (bytes > 1024 * 1024) write();
    }
    if (pending.length > 0) write();
    if (end < size || written > 0) fdatasyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Where the file's last whole line ends (0: it has none), and that line, read from the end. */
function lastWholeLine(fd: number, size: number): { end: number; line?: string } {
  for (let chunk = 64 * 1024; ; chunk *= 2) {
    const start = Math.max(0, size - chunk);
    const text = Buffer.alloc(size - start);
    for (let got = 0; got < text.length; ) {
      const n = readSync(fd, text, got, text.length - got, start + got);
      if (n === 0) throw new Error('cloudtrail.jsonl shrank while it was read');
      got += n;
    }
    const nl = text.lastIndexOf(0x0a);
    if (nl < 0) {
      if (start === 0) return { end: 0 };
      continue;
    }
    const previous = nl === 0 ? -1 : text.lastIndexOf(0x0a, nl - 1);
    if (previous < 0 && start > 0) continue;
    return { end: start + nl + 1, line: text.subarray(previous + 1, nl).toString('utf8') };
  }
}

function describe(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code ? code : err instanceof Error ? err.message : String(err);
}

/** The event log cannot be written now (a full disk): a call is not acknowledged without its record. */
export class EventLogUnavailableError extends Error {
  constructor(cause?: unknown) {
    super('the event log cannot be written', { cause });
  }
}
