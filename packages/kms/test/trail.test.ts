import fs, { mkdtempSync, readFileSync, rmSync } from 'node:fs';
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

  it('never fails a call, reports once, keeps the events and writes them all, in order, once it can', () => {
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
