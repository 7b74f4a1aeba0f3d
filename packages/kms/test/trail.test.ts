import fs, { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KmsStore, StoredEvent } from '../src/store/kms-store';
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
    } as unknown as KmsStore;
  }

  it('the records of calls answered in the same turn are written in one transaction and one flush, before any is answered', async () => {
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
      expect(log.slice(1, 3).sort()).toEqual(['fdatasync cloudtrail.jsonl', 'fdatasync kms.db-wal']);
      expect(log.slice(3)).toEqual(['answer e0', 'answer e1', 'answer e2']);
      expect(readFileSync(join(dir, 'cloudtrail.jsonl'), 'utf8')).toBe('{"n":0}\n{"n":1}\n{"n":2}\n');
      // An event recorded by a call before its own (a replica's CreateKey) goes in the same batch.
      log.length = 0;
      trail.record(event(3));
      await trail.commit(event(4));
      expect(log.slice(0, 1)).toEqual(['transaction e3,e4']);
      expect(log).toHaveLength(3);
      // Calls answered while a flush runs wait for the next one, and share it.
      log.length = 0;
      const first = trail.commit(event(5)).then(() => log.push('answer e5'));
      await new Promise((r) => setImmediate(r)); // e5 written, its flush running
      const later = [6, 7].map((n) => trail.commit(event(n)).then(() => log.push(`answer e${n}`)));
      await Promise.all([first, ...later]);
      const at = (entry: string) => log.indexOf(entry);
      const flushes = log.flatMap((l, i) => (l.startsWith('fdatasync') ? [i] : []));
      expect(log.filter((l) => l.startsWith('transaction'))).toEqual(['transaction e5', 'transaction e6,e7']);
      expect(flushes).toHaveLength(4);
      // e6 and e7 are written once e5's flush is done, and answered once their own is.
      expect(at('transaction e6,e7')).toBeGreaterThan(flushes[1]!);
      expect(at('answer e5')).toBeGreaterThan(flushes[1]!);
      expect(Math.min(at('answer e6'), at('answer e7'))).toBeGreaterThan(flushes[3]!);
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
