import { closeSync, fdatasync, fdatasyncSync, fstatSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';
import { openPrivate } from '@sealbox/runtime';
import type { KmsStore, StoredEvent } from '../store/kms-store';
import { storedEventFromRecord } from './records';

/** How long a failed write waits before the next try. */
const RETRY_MS = 1000;
/** Events held in memory while writes fail; beyond this the oldest are dropped (and counted). */
const MAX_HELD = 100_000;
/** Records on disk in cloudtrail.jsonl wait at most this long, or until this many, before they go into kms.db (readers insert them first). */
const INSERT_DELAY_MS = 1000;
const INSERT_BATCH = 1024;

/** A call waiting for its record to be durable: settled once the batch holding it was written, or failed. */
interface Waiter {
  resolve(): void;
  reject(err: unknown): void;
}

/**
 * The CloudTrail-style event log, written by group commit. A call's record is collected with
 * those of the calls answered in the same turn of the event loop; the batch is appended to
 * `cloudtrail.jsonl` and the file flushed to disk (fdatasync, in the thread pool), and only then
 * are those calls answered (`commit`). So every acknowledged call has its record on disk before
 * its response is sent: a kill -9, or a power cut, can lose only records of calls whose answers
 * were never sent. One flush runs at a time, off the event loop: the calls answered while it runs
 * form the next batch, so the more concurrent calls, the larger the batches, one flush each.
 *
 * cloudtrail.jsonl is the durable record. kms.db's events table (what LookupEvents, the console
 * and the admin endpoints query) is filled from it in larger batches off the calls' path: records
 * whose flush completed are inserted a second later, or once 1,024 wait, and always before a
 * reader reads (`flush`: readers see every acknowledged call). So kms.db never holds a record the
 * file lacks. What a call changed in kms.db (a key, an alias, a grant...) is made durable by the
 * same batch: when the store was written since the last flush (`takeUnflushedChanges`), kms.db's
 * write-ahead log is flushed with the file, before the calls are answered; a batch of calls that
 * changed nothing (Encrypt, Decrypt...) flushes the file alone. When the log is opened it is made
 * whole (`repairLog`): a torn last line is cut (its call was never answered), records the file
 * has after kms.db's last event are inserted, and records kms.db has after the file's last line
 * (data directories written before the file was the durable record) are appended.
 *
 * Without a data directory (`durable` false) nothing outlives the process anyway: calls are
 * answered at once and records are written to kms.db in batches off their path (at most
 * `maxDelayMs` later; readers flush first). Events recorded by Sealbox itself (a key deleted when
 * its waiting period ends) are written the same way (`record`): no client waits for them.
 *
 * A write that fails (a full disk) never escapes from the timer that writes, and loses nothing:
 * the records are kept, the failure is reported once, and the write is tried again every second
 * until it succeeds. The calls waiting on the failed write, and those made until a retry
 * succeeds, are answered with an error (their records are kept and written later): a call is
 * acknowledged only once its record is on disk. A short write is continued, never written twice;
 * rows are inserted with OR IGNORE on the event id, so a batch inserted twice is stored once.
 */
export class Trail {
  /** Events not yet written, each with the call waiting for it (if one still is). */
  private buffer: { event: StoredEvent; waiter?: Waiter }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private insertTimer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private readonly fd: number | undefined;
  /** kms.db's write-ahead log, flushed with a batch when kms.db changed (opened on first use: SQLite creates it). */
  private walFd: number | undefined;
  /** A batch of lines being appended to cloudtrail.jsonl: what is left of its bytes after a short or failed write. */
  private piece: { bytes: Buffer; events: StoredEvent[] } | undefined;
  /** Records appended to cloudtrail.jsonl, not yet known to be on disk. */
  private written: StoredEvent[] = [];
  /** The records the running flush makes durable (emptied when a reader's flush made them durable first). */
  private syncingGroup: StoredEvent[] = [];
  /** Records on disk in cloudtrail.jsonl, not yet in kms.db. */
  private toInsert: StoredEvent[] = [];
  /**
   * More records waited for kms.db than are held (it could not be written for a long while):
   * those after `toInsert` are read back from cloudtrail.jsonl once kms.db takes records again.
   */
  private behind = false;
  /** kms.db changed and a flush of its WAL failed: the next flush includes it. */
  private walOwed = false;
  /** Calls whose records are written, waiting for the next flush to disk. */
  private unsynced: Waiter[] = [];
  private syncing = false;
  private closed = false;
  private failing = false;
  private insertFailing = false;
  private dropped = 0;

  constructor(
    private readonly store: KmsStore,
    private readonly logFile: string | undefined,
    private readonly maxDelayMs = 50,
    private readonly maxBatch = 512,
    private readonly report: (message: string) => void = (message) => process.stderr.write(`sealbox kms: ${message}\n`),
    /**
     * Calls wait for their records to be on disk in `logFile` (a data directory), with kms.db's
     * write-ahead log to flush when kms.db changed; false: they are answered at once (in memory).
     */
    private readonly durable: false | { walFile?: string } = logFile === undefined ? false : {},
    private readonly insertDelayMs = INSERT_DELAY_MS,
    private readonly insertBatch = INSERT_BATCH,
  ) {
    if (logFile !== undefined && durable) repairLog(logFile, store);
    this.fd = logFile === undefined ? undefined : openPrivate(logFile, 'a');
  }

  /**
   * Whether a batch of `calls` waiting calls is flushed on the event loop (fdatasyncSync) rather
   * than in the thread pool. A server sets it (createKmsService): a lone call, with nothing else
   * in flight to run meanwhile, is answered sooner and for less CPU without the thread pool's
   * round trip (measured at concurrency 1: -24% CPU per call, +36% calls per second), while
   * concurrent calls keep the event loop free during the flush and share the next one. Never by
   * default (a Trail on its own has no idea what else the process does).
   */
  flushOnLoop: (calls: number) => boolean = () => false;

  /** The last flush failed (reported once; a line says when one succeeds again). */
  private flushFailing = false;

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
      this.pumpSoon();
    });
  }

  /**
   * Resolves once everything written so far is on disk: the records (those no call waits for
   * included) and what kms.db changed (its WAL). For answers that are no KMS call's and so have
   * no record to wait for (POST /_sealbox/seed, a clock advance that deleted or rotated keys):
   * they are sent only then, as a call's are. Rejects while the log cannot be written.
   */
  settled(): Promise<void> {
    if (!this.durable || this.closed) return Promise.resolve();
    if (this.failing) return Promise.reject(new EventLogUnavailableError());
    // kms.db's changes are flushed by the next flush when they are taken here.
    if (this.store.takeUnflushedChanges?.()) this.walOwed = true;
    if (!this.walOwed && !this.syncing && this.buffer.length === 0 && !this.piece && this.written.length === 0 && this.unsynced.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.unsynced.push({ resolve, reject });
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
   * Appends the buffered records, then flushes them to disk off the event loop and answers the
   * calls waiting for them; one flush at a time (records that arrive meanwhile wait for the next).
   */
  private pump(): void {
    if (this.syncing || this.closed) return;
    if (this.buffer.length > 0 || this.piece) {
      try {
        this.writeBuffered();
      } catch {
        return; // the waiters are answered with the error; held, reported, retried
      }
    }
    if (this.unsynced.length === 0 && this.written.length === 0) return;
    const waiters = this.unsynced;
    this.unsynced = [];
    const group = this.written;
    this.written = [];
    this.syncingGroup = group;
    this.syncing = true;
    this.syncFiles(this.flushOnLoop(waiters.length), (err) => {
      this.syncing = false;
      this.syncingGroup = [];
      if (err) {
        // Reported once, not once per call (every lone call tries its own flush, on the event
        // loop or in the thread pool); a line says when a flush succeeds again.
        if (!this.flushFailing) this.report(`cannot flush the event log to disk (${describe(err)})`);
        this.flushFailing = true;
        for (const w of waiters) w.reject(new EventLogUnavailableError(err));
        // In the file, not known to be on disk: they go with the next flush.
        this.written = group.concat(this.written);
        this.schedule(RETRY_MS);
      } else {
        if (this.flushFailing) {
          this.flushFailing = false;
          this.report('the event log is flushed to disk again');
        }
        for (const w of waiters) w.resolve();
        this.synced(group);
      }
      if (this.closed) this.closeFiles();
      else if (!err || this.unsynced.length > 0) this.pump();
    });
  }

  /**
   * fdatasync of kms.db's write-ahead log when kms.db changed, then of cloudtrail.jsonl, in the
   * thread pool. One after the other, the WAL first: a record on disk in the file is then never
   * of a call whose changes to kms.db a power cut lost (flushed side by side, the file's flush
   * could finish first: after a power cut its record, inserted into kms.db at the next start,
   * would say CreateKey made a key that does not exist).
   */
  private syncFiles(onLoop: boolean, done: (err?: unknown) => void): void {
    let fds: number[];
    const wal = this.walOwed || this.store.takeUnflushedChanges?.() !== false;
    this.walOwed = false;
    try {
      fds = this.filesToSync(wal);
    } catch (err) {
      this.walOwed ||= wal;
      setImmediate(() => done(err));
      return;
    }
    const next = (i: number): void => {
      if (i === fds.length) {
        done();
        return;
      }
      fdatasync(fds[i]!, (err) => {
        if (err) {
          this.walOwed ||= wal;
          done(err);
        } else next(i + 1);
      });
    };
    if (fds.length === 0) setImmediate(() => done());
    else if (onLoop) {
      try {
        for (const fd of fds) fdatasyncSync(fd);
      } catch (err) {
        this.walOwed ||= wal;
        done(err);
        return;
      }
      done();
    } else next(0);
  }

  /** kms.db's write-ahead log with `wal` (when there is one), then cloudtrail.jsonl: the order they are flushed in. */
  private filesToSync(wal: boolean): number[] {
    const fds: number[] = [];
    if (wal && this.durable && this.durable.walFile !== undefined) {
      // Any descriptor of the file flushes what SQLite wrote through its own (fsync works on the
      // file, not the descriptor). SQLite keeps the file while the database is open (a
      // checkpoint restarts it in place, after flushing it and the database).
      this.walFd ??= openSync(this.durable.walFile, 'r');
      fds.push(this.walFd);
    }
    if (this.fd !== undefined) fds.push(this.fd);
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

  /** The failure of a write: reported once, retried every second. */
  private failed(err: unknown): void {
    if (!this.failing) {
      this.failing = true;
      this.report(`cannot write the event log (${describe(err)}); ${this.pending} events are held in memory and the write is retried every second`);
    }
    this.schedule(RETRY_MS);
  }

  private recovered(): void {
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

  /**
   * Appends the buffered records to cloudtrail.jsonl (not flushed: `pump` flushes); their calls
   * then wait for the next flush. When the write fails it throws, after keeping the records,
   * reporting (once), setting the retry and answering the waiting calls with the error.
   */
  private writeBuffered(): void {
    const waiters: Waiter[] = [];
    try {
      // What a failure cut short first, so the lines stay in order and whole.
      if (this.piece) this.writePiece();
      if (this.buffer.length > 0) {
        const batch = this.buffer;
        this.buffer = [];
        const events: StoredEvent[] = new Array(batch.length);
        let text = '';
        for (let i = 0; i < batch.length; i++) {
          const entry = batch[i]!;
          events[i] = entry.event;
          text += entry.event.record + '\n';
          if (entry.waiter) waiters.push(entry.waiter);
          // Settled by this write, whatever its outcome: an event kept for a retry has no one waiting.
          entry.waiter = undefined;
        }
        this.piece = { bytes: Buffer.from(text, 'utf8'), events };
        this.writePiece();
      }
    } catch (err) {
      this.failed(err);
      // Reported once above, not once per call.
      for (const w of waiters) w.reject(new EventLogUnavailableError(err));
      throw err;
    }
    for (const w of waiters) this.unsynced.push(w);
    this.recovered();
  }

  private writePiece(): void {
    const piece = this.piece!;
    while (piece.bytes.length > 0) piece.bytes = piece.bytes.subarray(writeSync(this.fd!, piece.bytes));
    this.piece = undefined;
    for (const e of piece.events) this.written.push(e);
  }

  /** Records now on disk: into kms.db with the next insert. */
  private synced(events: StoredEvent[]): void {
    // Once behind, the newer records are read back from the file (catchUp), after the held ones:
    // kms.db gets every record, in the file's order.
    if (!this.behind) for (const e of events) this.toInsert.push(e);
    if (this.toInsert.length > MAX_HELD) {
      // kms.db cannot be written for a long while: the newest wait in cloudtrail.jsonl alone.
      this.toInsert.length = MAX_HELD;
      this.behind = true;
    }
    if ((this.toInsert.length === 0 && !this.behind) || this.insertTimer || this.closed) return;
    this.insertTimer = setTimeout(
      () => {
        this.insertTimer = undefined;
        try {
          this.insert();
        } catch {
          // reported, retried
        }
      },
      this.insertFailing ? RETRY_MS : this.toInsert.length >= this.insertBatch ? 0 : this.insertDelayMs,
    );
    this.insertTimer.unref();
  }

  /** Inserts the records on disk into kms.db's events table; when that fails, keeps them, reports once and retries. */
  private insert(): void {
    if (this.toInsert.length === 0 && !this.behind) return;
    const events = this.toInsert;
    try {
      this.store.appendEvents(events);
      if (this.behind) this.catchUp();
    } catch (err) {
      if (!this.insertFailing) {
        this.insertFailing = true;
        this.report(`cannot insert the event log's records into kms.db (${describe(err)}); they are on disk in cloudtrail.jsonl and the insert is retried every second`);
      }
      this.synced([]);
      throw err;
    }
    this.toInsert = this.toInsert === events ? [] : this.toInsert.slice(events.length);
    if (this.insertFailing) {
      this.insertFailing = false;
      this.report(`the event log's records are inserted into kms.db again`);
    }
  }

  /**
   * Makes every record written so far visible to readers; they call it first. With a data
   * directory: appends what is buffered, flushes cloudtrail.jsonl (here, when records in it are
   * not known to be on disk yet) and inserts the records into kms.db. Throws when a write fails
   * (after keeping the records, reporting once and setting the retry).
   */
  flush(): void {
    if (!this.durable) {
      this.flushToStore();
      return;
    }
    if (this.buffer.length > 0 || this.piece) this.writeBuffered();
    if (this.written.length > 0 || this.syncingGroup.length > 0) {
      // kms.db's changes first, as in syncFiles.
      const wal = this.walOwed || this.store.takeUnflushedChanges?.() === true;
      try {
        for (const fd of this.filesToSync(wal)) fdatasyncSync(fd);
      } catch (err) {
        this.walOwed ||= wal;
        throw err;
      }
      if (wal) this.walOwed = false;
      // The running flush's records are on disk now too (it finds its group emptied).
      const group = this.syncingGroup.splice(0);
      const written = this.written;
      this.written = [];
      this.synced(group.concat(written));
    }
    if (this.insertTimer) {
      clearTimeout(this.insertTimer);
      this.insertTimer = undefined;
    }
    try {
      this.insert();
    } finally {
      if (this.toInsert.length > 0 || this.behind) this.synced([]);
    }
  }

  /**
   * Inserts the records cloudtrail.jsonl has after kms.db's last event (those that were not held
   * while kms.db could not be written), once every line written is on disk.
   */
  private catchUp(): void {
    fdatasyncSync(this.fd!);
    const fd = openSync(this.logFile!, 'r');
    try {
      const { end } = lastWholeLine(fd, fstatSync(fd).size);
      const last = this.store.lastEvent();
      const from = last === undefined ? 0 : lineAfterRecord(fd, end, last.eventId);
      if (from !== undefined) insertRecordsBetween(fd, from, end, this.store, last?.time);
    } finally {
      closeSync(fd);
    }
    this.behind = false;
  }

  /** Without a data directory: everything buffered into kms.db. */
  private flushToStore(): void {
    if (this.buffer.length === 0) return;
    const batch = this.buffer;
    this.buffer = [];
    try {
      this.store.appendEvents(batch.map((e) => e.event));
    } catch (err) {
      this.buffer = batch.concat(this.buffer);
      this.failed(err);
      throw err;
    }
    this.recovered();
  }

  /** Events not yet written (held while writes fail). */
  get pending(): number {
    return this.buffer.length + (this.piece?.events.length ?? 0);
  }

  private schedule(ms: number): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.tryFlush();
    }, ms);
    this.timer.unref();
  }

  /** A write off any call's path: a failure is kept, reported and retried by the write itself. */
  private tryFlush(): void {
    if (!this.durable) {
      try {
        this.flushToStore();
      } catch {
        // held, reported, retried
      }
      return;
    }
    // Appended now, flushed and inserted off the event loop (pump).
    if (this.buffer.length > 0 || this.piece) {
      try {
        this.writeBuffered();
      } catch {
        return; // held, reported, retried
      }
    }
    this.pumpSoon();
  }

  close(): void {
    try {
      this.flush();
    } finally {
      // No retry may outlive the store it writes to.
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      if (this.insertTimer) clearTimeout(this.insertTimer);
      this.insertTimer = undefined;
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
 * Makes cloudtrail.jsonl and kms.db's events table agree again, once, when the log is opened.
 * A torn last line is cut (its call was never answered: a call is answered once its line is on
 * disk). When kms.db knows the file's last record, the records kms.db has after it are appended
 * (data directories written when kms.db was what a batch was durable by); otherwise the records
 * the file has after kms.db's last event (a crash before they were inserted) are inserted into
 * kms.db, oldest first (every record when kms.db has none). A file in which kms.db knows neither
 * the last record nor finds its own last event (not this data directory's log) is left as it is.
 */
export function repairLog(logFile: string, store: KmsStore): void {
  // a+ creates a missing file; the only writes are at its end (after the cut, if any).
  const fd = openPrivate(logFile, 'a+');
  try {
    const size = fstatSync(fd).size;
    let { end, start, line } = lastWholeLine(fd, size);
    let lastId = line === undefined ? undefined : recordId(line);
    if (line !== undefined && lastId === undefined) {
      // The last line is no record. After a power cut the unflushed end of the file may come back
      // as zeros (or old blocks) with a newline of a later line in it: what follows the last
      // record this store knows (or the line after kms.db's last event) was never acknowledged,
      // since a call is answered once its line and every line before it is on disk. A file with
      // no record near its end is not this store's log and is left as it is.
      for (let tries = 0; lastId === undefined && start > 0 && tries < GARBAGE_LINES; tries++) {
        ({ end, start, line } = lastWholeLine(fd, start));
        lastId = line === undefined ? undefined : recordId(line);
      }
      if (lastId === undefined) return;
      const dbLast = store.lastEvent();
      if (!store.hasEvent(lastId) && (dbLast === undefined || lineAfterRecord(fd, end, dbLast.eventId) === undefined)) return;
    }
    if (lastId === undefined || store.hasEvent(lastId)) {
      if (end < size) ftruncateSync(fd, end);
      const written = appendRecordsAfter(fd, store, lastId);
      if (end < size || written > 0) fdatasyncSync(fd);
      return;
    }
    const dbLast = store.lastEvent();
    const from = dbLast === undefined ? 0 : lineAfterRecord(fd, end, dbLast.eventId);
    if (from === undefined) return; // not this store's log
    if (end < size) {
      ftruncateSync(fd, end);
      fdatasyncSync(fd);
    }
    insertRecordsBetween(fd, from, end, store, dbLast?.time);
  } finally {
    closeSync(fd);
  }
}

/** Lines that are no record, at the end of the file, skipped to find its last record (repairLog). */
const GARBAGE_LINES = 64;

/** The eventID of a line that is a record (undefined otherwise). */
function recordId(line: string): string | undefined {
  try {
    const id = (JSON.parse(line) as { eventID?: unknown } | null)?.eventID;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}

/** Appends the records kms.db has after the event `lastId` (every record without one); returns the bytes written. */
function appendRecordsAfter(fd: number, store: KmsStore, lastId: string | undefined): number {
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
  return written;
}

/** Where the line after the record with this event id starts, searched from the file's end; undefined when no line has it. */
function lineAfterRecord(fd: number, end: number, eventId: string): number | undefined {
  const marker = Buffer.from(`"eventID":${JSON.stringify(eventId)}`, 'utf8');
  const CHUNK = 1024 * 1024;
  for (let to = end; to > 0; ) {
    const from = Math.max(0, to - CHUNK);
    // Overlapping the later chunk, so a marker across the boundary is found.
    const text = readAt(fd, from, Math.min(end, to + marker.length - 1) - from);
    for (let at = text.lastIndexOf(marker); at >= 0; at = at === 0 ? -1 : text.lastIndexOf(marker, at - 1)) {
      if (from + at >= to) continue; // the later chunk had it
      const lineEnd = indexOfNewline(fd, from + at, end);
      const lineStart = lastNewlineBefore(fd, from + at) + 1;
      const found = storedEventFromRecord(readAt(fd, lineStart, lineEnd - lineStart).toString('utf8'));
      if (found?.eventId === eventId) return lineEnd + 1;
    }
    to = from;
  }
  return undefined;
}

function readAt(fd: number, position: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  for (let got = 0; got < length; ) {
    const n = readSync(fd, buf, got, length - got, position + got);
    if (n === 0) throw new Error('cloudtrail.jsonl shrank while it was read');
    got += n;
  }
  return buf;
}

/** The offset of the first newline at or after `from` (`end - 1` when none: the last whole line ends there). */
function indexOfNewline(fd: number, from: number, end: number): number {
  for (let at = from; at < end; at += 64 * 1024) {
    const text = readAt(fd, at, Math.min(64 * 1024, end - at));
    const nl = text.indexOf(0x0a);
    if (nl >= 0) return at + nl;
  }
  return end - 1;
}

/** The offset of the last newline before `before` (-1 when none). */
function lastNewlineBefore(fd: number, before: number): number {
  for (let to = before; to > 0; to -= 64 * 1024) {
    const from = Math.max(0, to - 64 * 1024);
    const text = readAt(fd, from, to - from);
    const nl = text.lastIndexOf(0x0a);
    if (nl >= 0) return from + nl;
  }
  return -1;
}

/**
 * Inserts the records of the whole lines between `from` and `end` into kms.db, in batches, oldest
 * first. A record read back whose time is to the second alone (eventTime: written by a Sealbox
 * whose eventIDs did not carry the milliseconds, records.ts eventIdAt); one in the same second as the
 * event before it (`previousTime`: kms.db's last, for the first) takes that event's time, so it
 * stays after it: LookupEvents lists newest first by time and pages by sequence, and
 * GetKeyLastUsage takes the newest by time, so a recovered record dated the start of its second
 * would sort before the events that preceded it in that second (and be skipped by paging).
 */
function insertRecordsBetween(fd: number, from: number, end: number, store: KmsStore, previousTime: number | undefined): void {
  let batch: StoredEvent[] = [];
  let carry: Buffer = Buffer.alloc(0);
  for (let at = from; at < end; ) {
    const n = Math.min(1024 * 1024, end - at);
    const text = carry.length > 0 ? Buffer.concat([carry, readAt(fd, at, n)]) : readAt(fd, at, n);
    at += n;
    let start = 0;
    for (let nl = text.indexOf(0x0a); nl >= 0; nl = text.indexOf(0x0a, start)) {
      const event = storedEventFromRecord(text.toString('utf8', start, nl));
      start = nl + 1;
      if (event) {
        // (A time to the millisecond, from the eventID, stays as it is.)
        if (event.time % 1000 === 0 && previousTime !== undefined && previousTime > event.time && previousTime < event.time + 1000) event.time = previousTime;
        previousTime = event.time;
        batch.push(event);
      }
      if (batch.length >= 1024) {
        store.appendEvents(batch);
        batch = [];
      }
    }
    carry = text.subarray(start);
  }
  if (batch.length > 0) store.appendEvents(batch);
}

/** Where the file's last whole line ends (0: it has none) and starts, and that line, read from the end (of the first `size` bytes). */
function lastWholeLine(fd: number, size: number): { end: number; start: number; line?: string } {
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
      if (start === 0) return { end: 0, start: 0 };
      continue;
    }
    const previous = nl === 0 ? -1 : text.lastIndexOf(0x0a, nl - 1);
    if (previous < 0 && start > 0) continue;
    return { end: start + nl + 1, start: start + previous + 1, line: text.subarray(previous + 1, nl).toString('utf8') };
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
