import fs, { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KmsStore, StoredEvent } from '../src/store/kms-store';
import { SqliteKmsStore } from '../src/store/sqlite-store';
import { apiCallEvent, serviceEvent, storedEventFromRecord } from '../src/trail/records';
import { EventLogUnavailableError, Trail } from '../src/trail/trail';
import { reconcileKmsEventLog } from '../src/store/snapshot';
import type { KeyRecord } from '../src/model';

const event = (n: number): StoredEvent => ({
  eventId: `e${n}`,
  time: n,
  accountId: '111122223333',
  recipientAccountId: '111122223333',
  region: 'us-east-1',
  eventName: 'Encrypt',
  username: 'root',
  accessKeyId: 'AKIA',
  readOnly: false,
  resources: [],
  record: `{"n":${n}}`,
});

/** A store whose writes fail (as on a full disk) while `full` is set. */
function flakyStore() {
  const written: string[] = [];
  const seen = new Set<string>();
  const state = { full: false, written };
  const store = {
    appendEvents(events: StoredEvent[]) {
      if (state.full) throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
      for (const e of events) {
        if (seen.has(e.eventId)) continue; // INSERT OR IGNORE
        seen.add(e.eventId);
        written.push(e.eventId);
      }
    },
  } as unknown as KmsStore;
  return { store, state };
}

describe('the event log when writes fail', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('record() never throws: reports once, keeps the events and writes them all, in order, once it can', () => {
    const { store, state } = flakyStore();
    const reports: string[] = [];
    const trail = new Trail(store, undefined, 50, 4, (m) => reports.push(m));
    state.full = true;
    // Past the batch size (a synchronous write on a call's path) and past the timer's write.
    for (let i = 0; i < 10; i++) expect(() => trail.record(event(i))).not.toThrow();
    jest.advanceTimersByTime(5000);
    expect(state.written).toEqual([]);
    expect(trail.pending).toBe(10);
    expect(reports).toEqual(['cannot write the event log (SQLITE_FULL); 4 events are held in memory and the write is retried every second']);
    // A reader's flush fails loudly (its request answers with an error) and loses nothing.
    expect(() => trail.flush()).toThrow(/disk is full/);
    expect(trail.pending).toBe(10);

    state.full = false;
    trail.record(event(10));
    jest.advanceTimersByTime(1000);
    expect(state.written).toEqual(Array.from({ length: 11 }, (_, i) => `e${i}`));
    expect(trail.pending).toBe(0);
    expect(reports[1]).toBe('the event log is written again');
    // Back to batching at the normal delay.
    trail.record(event(11));
    jest.advanceTimersByTime(50);
    expect(state.written).toHaveLength(12);
  });

  it('holds at most 100,000 events while failing, dropping the oldest, and says how many it dropped', () => {
    const { store, state } = flakyStore();
    const reports: string[] = [];
    const trail = new Trail(store, undefined, 50, 512, (m) => reports.push(m));
    state.full = true;
    for (let i = 0; i < 100_010; i++) trail.record(event(i));
    jest.advanceTimersByTime(60);
    expect(trail.pending).toBe(100_000);
    state.full = false;
    jest.advanceTimersByTime(1000);
    expect(state.written[0]).toBe('e10');
    expect(state.written).toHaveLength(100_000);
    expect(reports[1]).toBe('the event log is written again; 10 events were dropped while it could not be');
  });

  it('closing while writes fail throws, and leaves no retry behind', () => {
    const { store, state } = flakyStore();
    const trail = new Trail(store, undefined, 50, 512, () => undefined);
    state.full = true;
    trail.record(event(1));
    expect(() => trail.close()).toThrow(/disk is full/);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('continues a short write of cloudtrail.jsonl after a failure, never writing a line twice; kms.db gets the records once they are on disk', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
    const dir = mkdtempSync(join(tmpdir(), 'sealbox-trail-'));
    const file = join(dir, 'cloudtrail.jsonl');
    const store = new SqliteKmsStore(':memory:');
    const reports: string[] = [];
    const trail = new Trail(store, file, 50, 512, (m) => reports.push(m), {});
    const real = fs.writeSync;
    let calls = 0;
    let full = true;
    const spy = jest.spyOn(fs, 'writeSync').mockImplementation(((fd: number, bytes: Buffer) => {
      calls++;
      if (calls === 1) return real(fd, bytes.subarray(0, 7)); // a short write, as on a disk that just filled
      if (full) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      return real(fd, bytes);
    }) as typeof fs.writeSync);
    const ids = () => store.consoleEvents({ afterSeq: 0, limit: 100 }).map((r) => r.event.eventId);
    try {
      for (let i = 0; i < 3; i++) trail.record(event(i));
      jest.advanceTimersByTime(50);
      expect(readFileSync(file, 'utf8')).toBe('{"n":0}');
      expect(trail.pending).toBe(3);
      expect(reports).toEqual(['cannot write the event log (ENOSPC); 3 events are held in memory and the write is retried every second']);
      // Not in the file: not in kms.db either (a reader's flush fails loudly).
      expect(() => trail.flush()).toThrow(/ENOSPC/);
      expect(ids()).toEqual([]);
      full = false;
      trail.record(event(3));
      jest.advanceTimersByTime(1000);
      expect(readFileSync(file, 'utf8')).toBe('{"n":0}\n{"n":1}\n{"n":2}\n{"n":3}\n');
      expect(reports[1]).toBe('the event log is written again');
      expect(trail.pending).toBe(0);
      trail.flush();
      expect(ids()).toEqual(['e0', 'e1', 'e2', 'e3']);
    } finally {
      spy.mockRestore();
      jest.useRealTimers();
      trail.close();
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('group commit: a call is answered once its record is on disk', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'sealbox-trail-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** A store that logs each transaction, and the order of transactions and flushes of cloudtrail.jsonl. */
  function recordingStore(log: string[], fail = { now: false }) {
    return {
      appendEvents(events: StoredEvent[]) {
        if (fail.now) throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
        log.push(`transaction ${events.map((e) => e.eventId).join(',')}`);
      },
      eventRecordsAfter: () => [],
    } as unknown as KmsStore;
  }

  /** A store on a file (kms.db in WAL mode) whose event inserts are logged. */
  function fileStore(log: string[]) {
    const store = new SqliteKmsStore(join(dir, 'kms.db'));
    const append = store.appendEvents.bind(store);
    store.appendEvents = (events) => {
      log.push(`insert ${events.map((e) => e.eventId).join(',')}`);
      append(events);
    };
    store.takeUnflushedChanges(); // what opening it wrote
    return store;
  }

  /** Logs each fdatasync (run in the thread pool) with the file's name when it completes. */
  function logFlushes(log: string[], synchronous = false) {
    const names = new Map<number, string>();
    const realOpen = fs.openSync;
    const open = jest.spyOn(fs, 'openSync').mockImplementation(((path: string, flags: string, mode?: number) => {
      const fd = realOpen(path, flags, mode);
      names.set(fd, path.replace(/^.*\//, ''));
      return fd;
    }) as typeof fs.openSync);
    const realSync = fs.fdatasync;
    const sync = jest.spyOn(fs, 'fdatasync').mockImplementation(((fd: number, done: (err: Error | null) => void) =>
      realSync(fd, (err) => {
        log.push(`fdatasync ${names.get(fd)}`);
        done(err);
      })) as typeof fs.fdatasync);
    const realSyncNow = fs.fdatasyncSync;
    const syncNow = synchronous
      ? jest.spyOn(fs, 'fdatasyncSync').mockImplementation((fd: number) => {
          realSyncNow(fd);
          log.push(`fdatasyncSync ${names.get(fd)}`);
        })
      : undefined;
    return () => {
      open.mockRestore();
      sync.mockRestore();
      syncNow?.mockRestore();
    };
  }

  const alias = (name: string) => ({ accountId: '111122223333', region: 'us-east-1', aliasName: `alias/${name}`, targetKeyId: 'k', creationDate: 1, lastUpdatedDate: 1 });

  it('the records of calls answered in the same turn are appended and flushed once, before any is answered; kms.db\'s WAL is flushed with them only when kms.db changed', async () => {
    const log: string[] = [];
    const restore = logFlushes(log);
    const store = fileStore(log);
    const file = join(dir, 'cloudtrail.jsonl');
    const trail = new Trail(store, file, 50, 512, () => undefined, { walFile: join(dir, 'kms.db-wal') }, 60_000);
    try {
      const answered = [0, 1, 2].map((n) => trail.commit(event(n)).then(() => log.push(`answer e${n}`)));
      // Nothing is written on the call's path: the batch waits for the other calls of this turn.
      expect(log).toEqual([]);
      await Promise.all(answered);
      // Calls that changed nothing in kms.db (Encrypt...): cloudtrail.jsonl alone, one flush.
      expect(log).toEqual(['fdatasync cloudtrail.jsonl', 'answer e0', 'answer e1', 'answer e2']);
      expect(readFileSync(file, 'utf8')).toBe('{"n":0}\n{"n":1}\n{"n":2}\n');

      // A call that changed kms.db (an alias here) is answered once kms.db's WAL is on disk too.
      log.length = 0;
      store.putAlias(alias('one'));
      await trail.commit(event(3)).then(() => log.push('answer e3'));
      expect(log.slice(0, 2).sort()).toEqual(['fdatasync cloudtrail.jsonl', 'fdatasync kms.db-wal']);
      expect(log.slice(2)).toEqual(['answer e3']);
      // And the next batch of calls that changed nothing flushes the file alone again.
      log.length = 0;
      await trail.commit(event(4)).then(() => log.push('answer e4'));
      expect(log).toEqual(['fdatasync cloudtrail.jsonl', 'answer e4']);

      // An event recorded by a call before its own (a replica's CreateKey) goes in the same batch.
      log.length = 0;
      trail.record(event(5));
      await trail.commit(event(6));
      expect(log).toEqual(['fdatasync cloudtrail.jsonl']);

      // Calls answered while a flush runs wait for the next one, and share it.
      log.length = 0;
      const first = trail.commit(event(7)).then(() => log.push('answer e7'));
      await new Promise((r) => setImmediate(r)); // e7 written, its flush running
      const later = [8, 9].map((n) => trail.commit(event(n)).then(() => log.push(`answer e${n}`)));
      await Promise.all([first, ...later]);
      const flushes = log.flatMap((l, i) => (l.startsWith('fdatasync') ? [i] : []));
      expect(flushes).toHaveLength(2);
      expect(log.indexOf('answer e7')).toBeGreaterThan(flushes[0]!);
      expect(log.indexOf('answer e7')).toBeLessThan(flushes[1]!);
      expect(Math.min(log.indexOf('answer e8'), log.indexOf('answer e9'))).toBeGreaterThan(flushes[1]!);

      // None of it is in kms.db yet (inserted in larger batches); a reader's flush inserts every
      // record, in the file's order, in one transaction.
      expect(log.filter((l) => l.startsWith('insert'))).toEqual([]);
      trail.flush();
      expect(log.filter((l) => l.startsWith('insert'))).toEqual(['insert e0,e1,e2,e3,e4,e5,e6,e7,e8,e9']);
      expect(store.consoleEvents({ afterSeq: 0, limit: 100 }).map((r) => r.event.eventId)).toEqual(Array.from({ length: 10 }, (_, i) => `e${i}`));
      expect(readFileSync(file, 'utf8').trimEnd().split('\n')).toHaveLength(10);
    } finally {
      restore();
      trail.close();
      store.close();
    }
  });

  it('kms.db\'s WAL is on disk before the line of a call that changed kms.db is: a record that survives a power cut never names a change that did not (with the group commit and with a reader\'s flush)', async () => {
    const log: string[] = [];
    const restore = logFlushes(log, true);
    const store = fileStore(log);
    const trail = new Trail(store, join(dir, 'cloudtrail.jsonl'), 50, 512, () => undefined, { walFile: join(dir, 'kms.db-wal') }, 60_000);
    try {
      store.putAlias(alias('one'));
      await trail.commit(event(1));
      expect(log).toEqual(['fdatasync kms.db-wal', 'fdatasync cloudtrail.jsonl']);
      // A reader flushes what is written before the group commit does: the WAL first there too.
      log.length = 0;
      store.putAlias(alias('two'));
      const second = trail.commit(event(2));
      await new Promise((r) => setImmediate(r)); // written; its flush (which took the change) running
      store.putAlias(alias('three'));
      trail.commit(event(3)).catch(() => undefined);
      trail.flush();
      expect(log.filter((l) => l.startsWith('fdatasyncSync'))).toEqual(['fdatasyncSync kms.db-wal', 'fdatasyncSync cloudtrail.jsonl']);
      await second;
    } finally {
      restore();
      trail.close();
      store.close();
    }
  });

  it('flushOnLoop: a batch the policy accepts is flushed on the event loop (the WAL first), others in the thread pool; a failed flush is not an answer', async () => {
    const log: string[] = [];
    const restore = logFlushes(log, true);
    const store = fileStore(log);
    const trail = new Trail(store, join(dir, 'cloudtrail.jsonl'), 50, 512, (m) => log.push(`report ${m}`), { walFile: join(dir, 'kms.db-wal') }, 60_000);
    const asked: number[] = [];
    trail.flushOnLoop = (calls) => {
      asked.push(calls);
      return calls === 1;
    };
    try {
      await trail.commit(event(1)).then(() => log.push('answer e1'));
      expect(asked).toEqual([1]);
      expect(log).toEqual(['fdatasyncSync cloudtrail.jsonl', 'answer e1']);
      // A call that changed kms.db: its WAL before the file, on the loop too.
      log.length = 0;
      store.putAlias(alias('loop'));
      await trail.commit(event(2)).then(() => log.push('answer e2'));
      expect(log).toEqual(['fdatasyncSync kms.db-wal', 'fdatasyncSync cloudtrail.jsonl', 'answer e2']);
      // Three calls of one turn: the policy says no, the thread pool flushes them.
      log.length = 0;
      asked.length = 0;
      await Promise.all([3, 4, 5].map((n) => trail.commit(event(n)).then(() => log.push(`answer e${n}`))));
      expect(asked).toEqual([3]);
      expect(log).toEqual(['fdatasync cloudtrail.jsonl', 'answer e3', 'answer e4', 'answer e5']);
      // The flush on the loop fails (a disk error): the call is not answered as done, and the
      // record goes with the next flush.
      log.length = 0;
      const real = fs.fdatasyncSync;
      const failing = jest.spyOn(fs, 'fdatasyncSync').mockImplementationOnce(() => {
        throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
      });
      try {
        await expect(trail.commit(event(6))).rejects.toThrow(EventLogUnavailableError);
      } finally {
        failing.mockRestore();
        jest.spyOn(fs, 'fdatasyncSync').mockImplementation((fd: number) => real(fd));
      }
      expect(log).toEqual(['report cannot flush the event log to disk (EIO)']);
      await trail.commit(event(7));
      trail.flush();
      expect(store.consoleEvents({ afterSeq: 0, limit: 100 }).map((r) => r.event.eventId)).toEqual(['e1', 'e2', 'e3', 'e4', 'e5', 'e6', 'e7']);
    } finally {
      restore();
      trail.close();
      store.close();
    }
  });

  it('kms.db gets a record only once its line is on disk: after the flush, a while later or before a reader reads', async () => {
    const log: string[] = [];
    const restore = logFlushes(log);
    const store = fileStore(log);
    const trail = new Trail(store, join(dir, 'cloudtrail.jsonl'), 50, 512, () => undefined, { walFile: join(dir, 'kms.db-wal') }, 30, 4);
    try {
      await trail.commit(event(1));
      expect(log).toEqual(['fdatasync cloudtrail.jsonl']);
      await new Promise((r) => setTimeout(r, 60));
      expect(log).toEqual(['fdatasync cloudtrail.jsonl', 'insert e1']);
      // Four waiting (the size threshold): inserted at once, not a while later.
      log.length = 0;
      await Promise.all([2, 3, 4, 5].map((n) => trail.commit(event(n))));
      await new Promise((r) => setTimeout(r, 10));
      expect(log).toEqual(['fdatasync cloudtrail.jsonl', 'insert e2,e3,e4,e5']);
      // Written, its flush still running: a reader flushes the file itself and then inserts it.
      log.length = 0;
      const sixth = trail.commit(event(6));
      await new Promise((r) => setImmediate(r));
      trail.flush();
      expect(log).toEqual(['insert e6']);
      await sixth;
      await new Promise((r) => setTimeout(r, 60));
      expect(log).toEqual(['insert e6', 'fdatasync cloudtrail.jsonl']); // inserted once
      // An event no call waits for: appended, flushed and inserted all the same.
      log.length = 0;
      trail.record(event(7));
      await new Promise((r) => setTimeout(r, 200));
      expect(log).toEqual(['fdatasync cloudtrail.jsonl', 'insert e7']);
    } finally {
      restore();
      trail.close();
      store.close();
    }
  });

  it('a call whose record cannot be written is refused, as are calls until a retry succeeds; the records are kept and written later', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
    const log: string[] = [];
    const store = fileStore(log);
    const file = join(dir, 'cloudtrail.jsonl');
    const reports: string[] = [];
    const trail = new Trail(store, file, 50, 512, (m) => reports.push(m), { walFile: join(dir, 'kms.db-wal') });
    const real = fs.writeSync;
    let full = true;
    const spy = jest.spyOn(fs, 'writeSync').mockImplementation(((fd: number, bytes: Buffer) => {
      if (full) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      return real(fd, bytes);
    }) as typeof fs.writeSync);
    try {
      await expect(trail.commit(event(1))).rejects.toThrow('the event log cannot be written');
      expect(trail.pending).toBe(1);
      // A call while writes fail is refused at once; its record is kept too.
      await expect(trail.commit(event(2))).rejects.toThrow('the event log cannot be written');
      expect(trail.pending).toBe(2);
      full = false;
      jest.advanceTimersByTime(1000);
      expect(readFileSync(file, 'utf8')).toBe('{"n":1}\n{"n":2}\n');
      // Written again: calls are answered again.
      await trail.commit(event(3));
      expect(readFileSync(file, 'utf8')).toBe('{"n":1}\n{"n":2}\n{"n":3}\n');
      expect(reports).toEqual([expect.stringMatching(/^cannot write the event log \(ENOSPC\); 1 events are held/), 'the event log is written again']);
      trail.flush();
      expect(log).toEqual(['insert e1,e2,e3']);
    } finally {
      spy.mockRestore();
      jest.useRealTimers();
      trail.close();
      store.close();
    }
  });

  it('when kms.db cannot take the records, calls are still answered (the file has them); they are inserted once it can', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
    const log: string[] = [];
    const store = fileStore(log);
    const append = store.appendEvents.bind(store);
    let full = true;
    store.appendEvents = (events) => {
      if (full) throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
      append(events);
    };
    const reports: string[] = [];
    const trail = new Trail(store, join(dir, 'cloudtrail.jsonl'), 50, 512, (m) => reports.push(m), { walFile: join(dir, 'kms.db-wal') });
    try {
      await trail.commit(event(1));
      expect(() => trail.flush()).toThrow(/disk is full/);
      await trail.commit(event(2));
      full = false;
      jest.advanceTimersByTime(1000);
      expect(log).toEqual(['insert e1,e2']);
      expect(reports).toEqual([expect.stringMatching(/^cannot insert the event log's records into kms.db \(SQLITE_FULL\)/), "the event log's records are inserted into kms.db again"]);
    } finally {
      jest.useRealTimers();
      trail.close();
      store.close();
    }
  });

  it('without a data directory calls are answered at once and their records written in a batch later', async () => {
    jest.useFakeTimers();
    const log: string[] = [];
    const trail = new Trail(recordingStore(log), undefined);
    try {
      await trail.commit(event(1));
      await trail.commit(event(2));
      expect(log).toEqual([]);
      jest.advanceTimersByTime(50);
      expect(log).toEqual(['transaction e1,e2']);
    } finally {
      jest.useRealTimers();
      trail.close();
    }
  });
});

describe('cloudtrail.jsonl is made whole from kms.db when the log is opened (a power cut after acknowledged calls)', () => {
  let dir: string;
  let store: SqliteKmsStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sealbox-trail-'));
    store = new SqliteKmsStore(':memory:');
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const stored = (n: number): StoredEvent => ({ ...event(n), eventId: `id-${n}`, record: JSON.stringify({ eventID: `id-${n}`, n }) });
  const line = (n: number) => stored(n).record + '\n';
  const open = (file: string) => new Trail(store, file, 50, 512, () => undefined, { walFile: join(dir, 'kms.db-wal') });

  it('cuts a torn last line and appends the records kms.db has after the last whole one, in order', () => {
    store.appendEvents([1, 2, 3, 4, 5].map(stored));
    const file = join(dir, 'cloudtrail.jsonl');
    writeFileSync(file, line(1) + line(2) + line(3).slice(0, 9));
    open(file).close();
    expect(readFileSync(file, 'utf8')).toBe([1, 2, 3, 4, 5].map(line).join(''));
    // Whole already: opened again, nothing changes.
    open(file).close();
    expect(readFileSync(file, 'utf8')).toBe([1, 2, 3, 4, 5].map(line).join(''));
  });

  it('finds the last whole line however long it is', () => {
    const long = (n: number): StoredEvent => ({ ...stored(n), record: JSON.stringify({ eventID: `id-${n}`, pad: 'x'.repeat(200_000) }) });
    store.appendEvents([long(1), long(2), stored(3)]);
    const file = join(dir, 'cloudtrail.jsonl');
    writeFileSync(file, long(1).record + '\n' + long(2).record + '\n' + '{"eventID":"id-3"');
    open(file).close();
    expect(readFileSync(file, 'utf8')).toBe(long(1).record + '\n' + long(2).record + '\n' + line(3));
  });

  it('a file with no whole line gets every record; a missing one is created', () => {
    store.appendEvents([1, 2].map(stored));
    const torn = join(dir, 'cloudtrail.jsonl');
    writeFileSync(torn, '{"even');
    open(torn).close();
    expect(readFileSync(torn, 'utf8')).toBe(line(1) + line(2));
    const missing = join(dir, 'other.jsonl');
    open(missing).close();
    expect(readFileSync(missing, 'utf8')).toBe(line(1) + line(2));
  });

  it('leaves a file whose last record kms.db does not know as it is (not this store\'s log)', () => {
    store.appendEvents([1, 2].map(stored));
    const file = join(dir, 'cloudtrail.jsonl');
    const foreign = JSON.stringify({ eventID: 'elsewhere' }) + '\n';
    writeFileSync(file, foreign);
    open(file).close();
    expect(readFileSync(file, 'utf8')).toBe(foreign);
    writeFileSync(file, 'not json\n');
    open(file).close();
    expect(readFileSync(file, 'utf8')).toBe('not json\n');
  });

  it('a call acknowledged after only the WAL flush has its line restored when the file lost it', async () => {
    const file = join(dir, 'cloudtrail.jsonl');
    writeFileSync(join(dir, 'kms.db-wal'), '');
    const trail = open(file);
    await trail.commit(stored(1));
    await trail.commit(stored(2));
    trail.close();
    expect(readFileSync(file, 'utf8')).toBe(line(1) + line(2));
    // The power cut took the unflushed end of the file: kms.db (flushed) has both.
    writeFileSync(file, line(1));
    open(file).close();
    expect(readFileSync(file, 'utf8')).toBe(line(1) + line(2));
  });

  it('inserts into kms.db the records the file has after kms.db\'s last event (a crash before they were inserted), after cutting a torn last line', () => {
    store.appendEvents([1, 2].map(stored));
    const file = join(dir, 'cloudtrail.jsonl');
    writeFileSync(file, [1, 2, 3, 4].map(line).join('') + line(5).slice(0, 6));
    open(file).close();
    expect(readFileSync(file, 'utf8')).toBe([1, 2, 3, 4].map(line).join(''));
    expect(store.consoleEvents({ afterSeq: 0, limit: 10 }).map((r) => r.event.eventId)).toEqual(['id-1', 'id-2', 'id-3', 'id-4']);
    expect(store.consoleEvents({ afterSeq: 0, limit: 10 }).map((r) => r.event.record)).toEqual([1, 2, 3, 4].map((n) => stored(n).record));
    // Whole already: opened again, nothing changes.
    open(file).close();
    expect(store.lastEventSeq()).toBe(4);
    expect(readFileSync(file, 'utf8')).toBe([1, 2, 3, 4].map(line).join(''));
  });

  it('finds kms.db\'s last event however far from the end it is; an empty kms.db gets every record', () => {
    const file = join(dir, 'cloudtrail.jsonl');
    const big = (n: number): StoredEvent => ({ ...stored(n), record: JSON.stringify({ eventID: `id-${n}`, pad: 'x'.repeat(300_000) }) });
    const records = [stored(1), big(2), big(3), big(4), big(5), stored(6)];
    writeFileSync(file, records.map((e) => e.record + '\n').join(''));
    open(file).close();
    expect(store.consoleEvents({ afterSeq: 0, limit: 10 }).map((r) => r.event.eventId)).toEqual(['id-1', 'id-2', 'id-3', 'id-4', 'id-5', 'id-6']);
    const other = new SqliteKmsStore(':memory:');
    try {
      other.appendEvents([stored(1), big(2)]);
      new Trail(other, file, 50, 512, () => undefined, { walFile: join(dir, 'kms.db-wal') }).close();
      expect(other.consoleEvents({ afterSeq: 0, limit: 10 }).map((r) => r.event.eventId)).toEqual(['id-1', 'id-2', 'id-3', 'id-4', 'id-5', 'id-6']);
    } finally {
      other.close();
    }
  });

  it('acknowledged calls whose records were not yet inserted are in kms.db after a crash and a restart', async () => {
    const file = join(dir, 'cloudtrail.jsonl');
    const dbFile = join(dir, 'kms.db');
    const first = new SqliteKmsStore(dbFile);
    const trail = new Trail(first, file, 50, 512, () => undefined, { walFile: join(dir, 'kms.db-wal') }, 60_000);
    await trail.commit(stored(1));
    trail.flush(); // a reader: id-1 is in kms.db
    await trail.commit(stored(2));
    await trail.commit(stored(3));
    // The process dies here (kill -9): id-2 and id-3 were answered, their lines are on disk.
    expect(first.consoleEvents({ afterSeq: 0, limit: 10 }).map((r) => r.event.eventId)).toEqual(['id-1']);
    first.close();
    const second = new SqliteKmsStore(dbFile);
    try {
      new Trail(second, file, 50, 512, () => undefined, { walFile: join(dir, 'kms.db-wal') }).close();
      expect(second.consoleEvents({ afterSeq: 0, limit: 10 }).map((r) => r.event.eventId)).toEqual(['id-1', 'id-2', 'id-3']);
      expect(readFileSync(file, 'utf8')).toBe([1, 2, 3].map(line).join(''));
    } finally {
      second.close();
    }
  });

  it('a record read back from the file has the columns it was stored with (the time to the millisecond from its eventID; to the second for an older record)', () => {
    const call = apiCallEvent({
      credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 's', accountId: '111122223333', principalArn: 'arn:aws:iam::111122223333:user/alice' },
      eventName: 'Encrypt',
      region: 'eu-west-1',
      time: Date.UTC(2026, 11, 6, 12, 0, 5, 250),
      sourceIp: '127.0.0.1',
      userAgent: 'test',
      requestId: 'r-1',
      readOnly: false,
      request: { KeyId: 'k' },
      responseElements: null,
      resources: [{ arn: 'arn:aws:kms:eu-west-1:444455556666:key/k', accountId: '444455556666' }],
      errorCode: 'AccessDenied',
      errorMessage: 'no',
    });
    expect(storedEventFromRecord(call.record)).toEqual(call);
    // An older Sealbox's eventID (a random UUID) carries no time: the record's eventTime, to the second.
    const older = '0f1e2d3c-4b5a-4697-8877-665544332211';
    expect(storedEventFromRecord(call.record.replace(call.eventId, older))).toEqual({ ...call, eventId: older, record: call.record.replace(call.eventId, older), time: Date.UTC(2026, 11, 6, 12, 0, 5) });
    // An eventID whose time is not in the record's second is not believed.
    const elsewhere = call.record.replace('"eventTime":"2026-12-06T12:00:05Z"', '"eventTime":"2026-12-06T12:00:07Z"');
    expect(storedEventFromRecord(elsewhere)?.time).toBe(Date.UTC(2026, 11, 6, 12, 0, 7));
    const key = { keyId: 'k', accountId: '111122223333', region: 'us-east-1', arn: 'arn:aws:kms:us-east-1:111122223333:key/k' } as KeyRecord;
    const service = serviceEvent(key, 'DeleteKey', Date.UTC(2026, 0, 1), null);
    expect(storedEventFromRecord(service.record)).toEqual(service);
    expect(storedEventFromRecord('not json')).toBeUndefined();
    expect(storedEventFromRecord('{"n":1}')).toBeUndefined();
  });

  it('records recovered from an older Sealbox\'s file (EventTime to the second) keep their order among the same second\'s events: LookupEvents newest first, its paging, GetKeyLastUsage', () => {
    const arn = 'arn:aws:kms:us-east-1:111122223333:key/k';
    // Records of an older Sealbox, whose eventIDs (random UUIDs) carry no time.
    let n = 0;
    const call = (eventName: string, ms: number) => {
      const made = apiCallEvent({
        credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 's', accountId: '111122223333', principalArn: 'arn:aws:iam::111122223333:user/alice' },
        eventName,
        region: 'us-east-1',
        time: Date.UTC(2026, 11, 6, 12, 0, 5, ms),
        sourceIp: '127.0.0.1',
        userAgent: 'test',
        requestId: `r-${eventName}`,
        readOnly: false,
        request: { KeyId: 'k' },
        responseElements: null,
        resources: [{ arn, accountId: '111122223333' }],
      });
      const id = `0f1e2d3c-4b5a-4697-8877-${String(++n).padStart(12, '0')}`;
      return { ...made, eventId: id, record: made.record.replace(made.eventId, id) };
    };
    // Encrypt inserted at 12:00:05.900; Decrypt, 50 ms later in the same second, acknowledged
    // (its line on disk) but not yet inserted when the process died.
    const encrypt = call('Encrypt', 900);
    const decrypt = call('Decrypt', 950);
    store.appendEvents([encrypt]);
    const file = join(dir, 'cloudtrail.jsonl');
    writeFileSync(file, encrypt.record + '\n' + decrypt.record + '\n');
    open(file).close();
    const q = { accountId: '111122223333', region: 'us-east-1' };
    expect(store.lookupEvents({ ...q, limit: 10 }).map((r) => r.event.eventName)).toEqual(['Decrypt', 'Encrypt']);
    // Paging (NextToken is the last shown event's sequence number): one by one, both are seen.
    const first = store.lookupEvents({ ...q, limit: 1 });
    const second = store.lookupEvents({ ...q, limit: 1, beforeSeq: first[0]!.seq });
    expect([...first, ...second].map((r) => r.event.eventName)).toEqual(['Decrypt', 'Encrypt']);
    expect(store.lastUse(arn, ['Encrypt', 'Decrypt'])?.eventName).toBe('Decrypt');
    expect(store.lastUses(['Encrypt', 'Decrypt']).get(arn)?.eventName).toBe('Decrypt');
    // Still within its own second (the record's EventTime), and the order holds across a second.
    const recovered = store.lookupEvents({ ...q, limit: 1 })[0]!.event.time;
    expect(Math.floor(recovered / 1000)).toBe(Math.floor(decrypt.time / 1000));
    const next = call('Encrypt', 1100);
    writeFileSync(file, [encrypt, decrypt, next].map((e) => e.record + '\n').join(''));
    open(file).close();
    expect(store.lookupEvents({ ...q, limit: 10 }).map((r) => r.event.eventId)).toEqual([next.eventId, decrypt.eventId, encrypt.eventId]);
    expect(store.lookupEvents({ ...q, limit: 10 })[0]!.event.time).toBe(Date.UTC(2026, 11, 6, 12, 0, 6));
  });

  it('when kms.db cannot take records for longer than 100,000 calls, it gets every one, in order, once it can (those beyond what is held read back from the file)', async () => {
    const file = join(dir, 'cloudtrail.jsonl');
    let full = true;
    const append = store.appendEvents.bind(store);
    store.appendEvents = (events) => {
      if (full) throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
      append(events);
    };
    writeFileSync(join(dir, 'kms.db-wal'), '');
    const trail = open(file);
    try {
      const n = 100_005;
      const all: Promise<void>[] = [];
      for (let i = 1; i <= n; i++) all.push(trail.commit(stored(i)));
      await Promise.all(all);
      expect(() => trail.flush()).toThrow(/disk is full/);
      full = false;
      trail.flush(); // a reader
      expect(store.lastEventSeq()).toBe(n);
      const ids = store.consoleEvents({ afterSeq: 0, limit: n }).map((r) => r.event.eventId);
      expect(ids.length).toBe(n);
      expect(ids.every((id, i) => id === `id-${i + 1}`)).toBe(true);
      // Calls after the catch-up go in as usual, once.
      await trail.commit(stored(n + 1));
      trail.flush();
      expect(store.lastEventSeq()).toBe(n + 1);
    } finally {
      full = false;
      trail.close();
    }
  }, 60_000);

  it('a file whose unflushed end came back as zeros after a power cut (a last line that is no record) still gives kms.db the acknowledged records it lacks, and loses the garbage', () => {
    store.appendEvents([stored(1)]);
    const file = join(dir, 'cloudtrail.jsonl');
    // Lines 2 and 3 were flushed (their calls answered) but not yet inserted; line 4's first
    // bytes never reached the disk (its call was not answered).
    const lost = '\0'.repeat(12) + line(4).slice(12);
    writeFileSync(file, [1, 2, 3].map(line).join('') + lost);
    open(file).close();
    expect(store.consoleEvents({ afterSeq: 0, limit: 10 }).map((r) => r.event.eventId)).toEqual(['id-1', 'id-2', 'id-3']);
    expect(readFileSync(file, 'utf8')).toBe([1, 2, 3].map(line).join(''));
    // The same when kms.db has every flushed record already: only the garbage goes.
    writeFileSync(file, [1, 2, 3].map(line).join('') + '\0'.repeat(40) + '\n');
    open(file).close();
    expect(store.lastEventSeq()).toBe(3);
    expect(readFileSync(file, 'utf8')).toBe([1, 2, 3].map(line).join(''));
  });

  it('records recovered from the file have their time to the millisecond: LookupEvents order and StartTime/EndTime as before the crash', () => {
    const arn = 'arn:aws:kms:us-east-1:111122223333:key/k';
    const call = (eventName: string, ms: number) =>
      apiCallEvent({
        credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 's', accountId: '111122223333', principalArn: 'arn:aws:iam::111122223333:user/alice' },
        eventName,
        region: 'us-east-1',
        time: Date.UTC(2026, 11, 6, 12, 0, 5, ms),
        sourceIp: '127.0.0.1',
        userAgent: 'test',
        requestId: `r-${eventName}`,
        readOnly: false,
        request: { KeyId: 'k' },
        responseElements: null,
        resources: [{ arn, accountId: '111122223333' }],
      });
    const encrypt = call('Encrypt', 100);
    const decrypt = call('Decrypt', 600);
    store.appendEvents([encrypt]);
    const file = join(dir, 'cloudtrail.jsonl');
    writeFileSync(file, encrypt.record + '\n' + decrypt.record + '\n');
    open(file).close();
    const q = { accountId: '111122223333', region: 'us-east-1', limit: 10 };
    expect(store.lookupEvents(q).map((r) => [r.event.eventName, r.event.time])).toEqual([
      ['Decrypt', decrypt.time],
      ['Encrypt', encrypt.time],
    ]);
    // A client that noted the time between the two calls finds the second with StartTime, the first with EndTime.
    const between = Date.UTC(2026, 11, 6, 12, 0, 5, 400);
    expect(store.lookupEvents({ ...q, startTime: between }).map((r) => r.event.eventName)).toEqual(['Decrypt']);
    expect(store.lookupEvents({ ...q, endTime: between }).map((r) => r.event.eventName)).toEqual(['Encrypt']);
  });

  it('an exported data directory gets the records its file has and its kms.db lacks before it is loaded into memory', () => {
    const db = new SqliteKmsStore(join(dir, 'kms.db'));
    db.appendEvents([stored(1)]);
    db.close();
    writeFileSync(join(dir, 'cloudtrail.jsonl'), line(1) + line(2));
    reconcileKmsEventLog(dir);
    const back = new SqliteKmsStore(join(dir, 'kms.db'));
    try {
      expect(back.consoleEvents({ afterSeq: 0, limit: 10 }).map((r) => r.event.eventId)).toEqual(['id-1', 'id-2']);
    } finally {
      back.close();
    }
  });
});
