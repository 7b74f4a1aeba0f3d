import { chmodSync, closeSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPrivate, privateDir, privateSqliteFiles, privateTree } from '../src/private-files';

const mode = (path: string) => statSync(path).mode & 0o777;

describe('private files', () => {
  let root: string;
  let before: number;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'sealbox-private-'));
    before = process.umask(0); // the loosest umask: modes must not depend on it
  });
  afterEach(() => {
    process.umask(before);
    rmSync(root, { recursive: true, force: true });
  });

  it('creates directories 0700 and files 0600 whatever the umask, and tightens existing ones', () => {
    privateDir(join(root, 'a', 'b'));
    expect(mode(join(root, 'a'))).toBe(0o700);
    expect(mode(join(root, 'a', 'b'))).toBe(0o700);
    const file = join(root, 'a', 'f');
    closeSync(openPrivate(file, 'a'));
    expect(mode(file)).toBe(0o600);
    writeFileSync(join(root, 'loose'), 'x', { mode: 0o666 });
    closeSync(openPrivate(join(root, 'loose'), 'a'));
    expect(mode(join(root, 'loose'))).toBe(0o600);
  });

  it('makes a database file exist 0600 before SQLite opens it, and tightens its -wal and -shm', () => {
    const db = join(root, 'x.db');
    writeFileSync(`${db}-wal`, '', { mode: 0o644 });
    privateSqliteFiles(db);
    expect(mode(db)).toBe(0o600);
    expect(mode(`${db}-wal`)).toBe(0o600);
  });

  it('tightens a tree without following symbolic links out of it', () => {
    const outside = join(root, 'outside');
    writeFileSync(outside, 'not ours', { mode: 0o644 });
    mkdirSync(join(root, 'tree', 'sub'), { recursive: true, mode: 0o755 });
    writeFileSync(join(root, 'tree', 'sub', 'blob'), 'x', { mode: 0o644 });
    symlinkSync(outside, join(root, 'tree', 'sub', 'link'));
    symlinkSync(root, join(root, 'tree', 'dirlink'));
    chmodSync(root, 0o755);
    privateTree(join(root, 'tree'));
    expect(mode(join(root, 'tree'))).toBe(0o700);
    expect(mode(join(root, 'tree', 'sub'))).toBe(0o700);
    expect(mode(join(root, 'tree', 'sub', 'blob'))).toBe(0o600);
    expect(mode(outside)).toBe(0o644);
    expect(mode(root)).toBe(0o755); // untouched through the link
  });
});
