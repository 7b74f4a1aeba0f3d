/**
 * The root key file is created atomically: a first start killed at any step (the temporary file
 * created, partly written, written but not flushed, flushed but not linked, linked but the
 * directory not flushed) can start again, and what it finds is a whole key or none.
 */
import fs, { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RootKey } from '../src/root-key';

class Killed extends Error {}

/** The file system calls a start makes, named with the path they concern. */
const STEPS = ['openSync', 'writeSync', 'fsyncSync', 'closeSync', 'linkSync', 'renameSync', 'rmSync'] as const;
type Step = (typeof STEPS)[number];

/**
 * Records the file system calls of `run` and, when `killAt` is given, stops it at that call as a
 * kill would: the call before it done, this one not (a write is cut halfway through).
 */
function traced<T>(run: () => T, killAt?: number): { calls: string[]; result?: T; killed: boolean } {
  const calls: string[] = [];
  const fdPaths = new Map<number, string>();
  const real = Object.fromEntries(STEPS.map((name) => [name, fs[name]])) as Record<Step, (...args: unknown[]) => unknown>;
  const spies = STEPS.map((name) =>
    jest.spyOn(fs, name).mockImplementation(((...args: unknown[]) => {
      const subject = typeof args[0] === 'number' ? (fdPaths.get(args[0]) ?? `fd ${args[0]}`) : String(args[0]);
      const label = name === 'linkSync' || name === 'renameSync' ? `${name} ${base(String(args[0]))} -> ${base(String(args[1]))}` : `${name} ${base(subject)}`;
      if (killAt !== undefined && calls.length === killAt) {
        if (name === 'writeSync') {
          // A partial write: half the key reaches the file.
          const [fd, buffer, offset, length] = args as [number, Buffer, number, number];
          real.writeSync!(fd, buffer, offset, Math.floor(length / 2));
        }
        throw new Killed(label);
      }
      calls.push(label);
      const out = real[name]!(...args);
      if (name === 'openSync') fdPaths.set(out as number, String(args[0]));
      return out;
    }) as never),
  );
  try {
    return { calls, result: run(), killed: false };
  } catch (err) {
    if (!(err instanceof Killed)) throw err;
    return { calls, killed: true };
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
}

const base = (path: string) => path.replace(/^.*\//, '').replace(/[0-9a-f]{16}/, 'X');

describe('RootKey.inDirectory', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'sealbox-root-key-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes a temporary file, flushes it, links it under its name, flushes the directory', () => {
    const { calls, result } = traced(() => RootKey.inDirectory(dir, 'root.key', join(dir, 'kms.db')));
    expect(result).toBeInstanceOf(RootKey);
    const tmp = '.root.key.X.tmp';
    // The order is the guarantee: the bytes are on disk before the name points at them.
    const order = [`openSync ${tmp}`, `writeSync ${tmp}`, `fsyncSync ${tmp}`, `closeSync ${tmp}`, `linkSync ${tmp} -> root.key`, `rmSync ${tmp}`, `openSync ${base(dir)}`, `fsyncSync ${base(dir)}`];
    expect(calls.filter((c) => order.includes(c))).toEqual(order);
    expect(readdirSync(dir)).toEqual(['root.key']);
    expect(readFileSync(join(dir, 'root.key')).length).toBe(32);
    expect(statSync(join(dir, 'root.key')).mode & 0o777).toBe(0o600);
  });

  it('a first start killed at any step starts again, with one whole key kept from then on', () => {
    const steps = traced(() => RootKey.inDirectory(dir, 'root.key', join(dir, 'kms.db'))).calls.length;
    expect(steps).toBeGreaterThanOrEqual(8);
    for (let killAt = 0; killAt < steps; killAt++) {
      const fresh = mkdtempSync(join(tmpdir(), 'sealbox-root-key-'));
      try {
        const first = traced(() => RootKey.inDirectory(fresh, 'root.key', join(fresh, 'kms.db')), killAt);
        expect([killAt, first.killed]).toEqual([killAt, true]);
        // What the kill left: nothing, a temporary file (empty, half or whole), or the whole key.
        for (const name of readdirSync(fresh)) {
          if (name === 'root.key') expect([killAt, readFileSync(join(fresh, name)).length]).toEqual([killAt, 32]);
          else expect(name).toMatch(/^\.root\.key\.[0-9a-f]{16}\.tmp$/);
        }
        const kept = readdirSync(fresh).includes('root.key') ? readFileSync(join(fresh, 'root.key')) : undefined;
        const again = RootKey.inDirectory(fresh, 'root.key', join(fresh, 'kms.db'));
        expect([killAt, readdirSync(fresh)]).toEqual([killAt, ['root.key']]);
        // A key that reached its name is the key from then on (something may be wrapped under it).
        if (kept) expect(readFileSync(join(fresh, 'root.key')).equals(kept)).toBe(true);
        const wrapped = again.wrap(Buffer.from('material'), 'ctx');
        expect(RootKey.inDirectory(fresh, 'root.key', join(fresh, 'kms.db')).unwrap(wrapped, 'ctx').toString()).toBe('material');
      } finally {
        rmSync(fresh, { recursive: true, force: true });
      }
    }
  });

  it.each([
    ['empty', 0],
    ['partial', 13],
  ])('a key file (%s) left in place by an older Sealbox (before its database) is replaced', (_, length) => {
    writeFileSync(join(dir, 'root.key'), Buffer.alloc(length, 7), { mode: 0o600 });
    writeFileSync(join(dir, '.root.key.0123456789abcdef.tmp'), Buffer.alloc(32, 1));
    const key = RootKey.inDirectory(dir, 'root.key', join(dir, 'kms.db'));
    expect(readdirSync(dir)).toEqual(['root.key']);
    const bytes = readFileSync(join(dir, 'root.key'));
    expect(bytes.length).toBe(32);
    expect(bytes.equals(Buffer.alloc(32, 1))).toBe(false);
    expect(RootKey.inDirectory(dir, 'root.key', join(dir, 'kms.db')).unwrap(key.wrap(Buffer.from('m'), 'c'), 'c').toString()).toBe('m');
  });

  it('refuses a key file of the wrong size once its database exists: replacing it would lose what is wrapped', () => {
    writeFileSync(join(dir, 'root.key'), Buffer.alloc(13, 7), { mode: 0o600 });
    writeFileSync(join(dir, 'kms.db'), '');
    expect(() => RootKey.inDirectory(dir, 'root.key', join(dir, 'kms.db'))).toThrow(`${join(dir, 'root.key')} is not a Sealbox root key (expected 32 bytes, found 13)`);
    expect(readFileSync(join(dir, 'root.key')).length).toBe(13);
  });

  it('keeps an existing key and tightens its mode', () => {
    writeFileSync(join(dir, 's3.key'), Buffer.alloc(32, 9), { mode: 0o644 });
    fs.chmodSync(join(dir, 's3.key'), 0o644);
    RootKey.inDirectory(dir, 's3.key', join(dir, 's3.db'));
    expect(readFileSync(join(dir, 's3.key')).equals(Buffer.alloc(32, 9))).toBe(true);
    expect(statSync(join(dir, 's3.key')).mode & 0o777).toBe(0o600);
  });
});
