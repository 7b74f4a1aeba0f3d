import fs, { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KmsStore, StoredEvent } from '../src/store/kms-store';
import { SqliteKmsStore } from '../src/store/sqlite-store';
import { Trail } from '../src/trail/trail';

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

  it('continues a short write of cloudtrail.jsonl after a failure, never writing a line twice', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sealbox-trail-'));
    const file = join(dir, 'cloudtrail.jsonl');
    const { store, state } = flakyStore();
    const reports: string[] = [];
    const trail = new Trail(store, file, 50, 512, (m) => reports.push(m));
    const real = fs.writeSync;
    let calls = 0;
    const spy = jest.spyOn(fs, 'writeSync').mockImplementation(((fd: number, bytes: Buffer) => {
      calls++;
      if (calls === 1) return real(fd, bytes.subarray(0, 7)); // a short write, as on a disk that just filled
      if (calls === 2) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      return real(fd, bytes);
    }) as typeof fs.writeSync);
    try {
      for (let i = 0; i < 3; i++) trail.record(event(i));
      jest.advanceTimersByTime(50);
      expect(state.written).toEqual(['e0', 'e1', 'e2']); // SQLite has them; readers see them
      expect(readFileSync(file, 'utf8')).toBe('{"n":0}');
      expect(reports).toEqual(['cannot write the event log (ENOSPC); 0 events are held in memory and the write is retried every second']);
      trail.record(event(3));
      jest.advanceTimersByTime(1000);
      expect(readFileSync(file, 'utf8')).toBe('{"n":0}\n{"n":1}\n{"n":2}\n{"n":3}\n');
      expect(state.written).toEqual(['e0', 'e1', 'e2', 'e3']);
      expect(reports[1]).toBe('the event log is written again');
    } finally {
      spy.mockRestore();
      trail.close();
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

  it('the records of calls answered in the same turn are written in one transaction and one flush (of kms.db\'s WAL), before any is answered', async () => {
    const log: string[] = [];
    const wal = join(dir, 'kms.db-wal');
    writeFileSync(wal, '');
    const names = new Map<number, string>();
    const realOpen = fs.openSync;
    const open = jest.spyOn(fs, 'openSync').mockImplementation(((path: string, flags: string, mode?: number) => {
      const fd = realOpen(path, flags, mode);
      names.set(fd, path.replace(/^.*\//, ''));
      return fd;
    }) as typeof fs.openSync);
    // The flush to disk runs in the thread pool; it is logged when it completes.
    const realSync = fs.fdatasync;
    const sync = jest.spyOn(fs, 'fdatasync').mockImplementation(((fd: number, done: (err: Error | null) => void) =>
      realSync(fd, (err) => {
        log.push(`fdatasync ${names.get(fd)}`);
        done(err);
      })) as typeof fs.fdatasync);
    const trail = new Trail(recordingStore(log), join(dir, 'cloudtrail.jsonl'), 50, 512, () => undefined, { walFile: wal });
    try {
      const answered = [0, 1, 2].map((n) => trail.commit(event(n)).then(() => log.push(`answer e${n}`)));
      // Nothing is written on the call's path: the batch waits for the other calls of this turn.
      expect(log).toEqual([]);
      await Promise.all(answered);
      expect(log.slice(0, 1)).toEqual(['transaction e0,e1,e2']);
      // kms.db holds every record: its WAL is what the batch is durable by (cloudtrail.jsonl is
      // made whole from it when opened, repairLog).
      expect(log.slice(1, 2)).toEqual(['fdatasync kms.db-wal']);
      expect(log.slice(2)).toEqual(['answer e0', 'answer e1', 'answer e2']);
      expect(readFileSync(join(dir, 'cloudtrail.jsonl'), 'utf8')).toBe('{"n":0}\n{"n":1}\n{"n":2}\n');
      // An event recorded by a call before its own (a replica's CreateKey) goes in the same batch.
      log.length = 0;
      trail.record(event(3));
      await trail.commit(event(4));
      expect(log.slice(0, 1)).toEqual(['transaction e3,e4']);
      expect(log).toHaveLength(2);
      expect(log[1]).toBe('fdatasync kms.db-wal');
      // Calls answered while a flush runs wait for the next one, and share it.
      log.length = 0;
      const first = trail.commit(event(5)).then(() => log.push('answer e5'));
      await new Promise((r) => setImmediate(r)); // e5 written, its flush running
      const later = [6, 7].map((n) => trail.commit(event(n)).then(() => log.push(`answer e${n}`)));
      await Promise.all([first, ...later]);
      const at = (entry: string) => log.indexOf(entry);
      const flushes = log.flatMap((l, i) => (l.startsWith('fdatasync') ? [i] : []));
      expect(log.filter((l) => l.startsWith('transaction'))).toEqual(['transaction e5', 'transaction e6,e7']);
      expect(flushes).toHaveLength(2);
      // e6 and e7 are written once e5's flush is done, and answered once their own is.
      expect(at('transaction e6,e7')).toBeGreaterThan(flushes[0]!);
      expect(at('answer e5')).toBeGreaterThan(flushes[0]!);
      expect(Math.min(at('answer e6'), at('answer e7'))).toBeGreaterThan(flushes[1]!);
    } finally {
      open.mockRestore();
      sync.mockRestore();
      trail.close();
    }
  });

  it('a call whose record cannot be written is refused, as are calls until a retry succeeds; the records are kept and written later', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
    const log: string[] = [];
    const fail = { now: true };
    const reports: string[] = [];
    const trail = new Trail(recordingStore(log, fail), join(dir, 'cloudtrail.jsonl'), 50, 512, (m) => reports.push(m));
    try {
      await expect(trail.commit(event(1))).rejects.toThrow('the event log cannot be written');
      expect(trail.pending).toBe(1);
      // A call while writes fail is refused at once; its record is kept too.
      await expect(trail.commit(event(2))).rejects.toThrow('the event log cannot be written');
      expect(trail.pending).toBe(2);
      fail.now = false;
      jest.advanceTimersByTime(1000);
      expect(log).toEqual(['transaction e1,e2']);
      // Written again: calls are answered again.
      await trail.commit(event(3));
      expect(log).toEqual(['transaction e1,e2', 'transaction e3']);
      expect(reports).toEqual([expect.stringMatching(/^cannot write the event log \(SQLITE_FULL\)/), 'the event log is written again']);
    } finally {
      jest.useRealTimers();
      trail.close();
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
});
