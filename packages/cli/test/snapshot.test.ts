/**
 * Snapshot archives that must be refused (truncated, damaged, crafted with hostile entry names)
 * leave nothing behind; a live export, a locked target, --force, and the progress lines.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
// The package's public entry point (what '@sealbox/cli' exports); a package cannot import itself by name here.
import { DataDirLockedError, SnapshotError, exportSnapshot, importSnapshot, parseSeed, startSealbox, type SnapshotManifest } from '../src';
import { Progress, formatBytes } from '../src/progress';
import { TAR_END, readTar, tarHeader, tarPadding } from '../src/snapshot/tar';

let root: string;
let source: string;
let good: Buffer;

function kms(url: string): KMSClient {
  return new KMSClient({ endpoint: url, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'sealbox-snapshot-unit-'));
  source = join(root, 'source');
  const sealbox = await startSealbox({ dataDir: source, only: 'kms' });
  const client = kms(sealbox.kms!.url);
  await client.send(new CreateKeyCommand({ Description: 'one' }));
  client.destroy();
  await sealbox.stop();
  await exportSnapshot({ dataDir: source, file: join(root, 'good.tgz'), sealboxVersion: 'test' });
  good = readFileSync(join(root, 'good.tgz'));
});
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

/** Imports `archive` into a new directory and returns the error; the directory must not appear, nor anything beside it. */
async function refused(archive: Buffer): Promise<SnapshotError> {
  const parent = mkdtempSync(join(root, 'case-'));
  const file = join(parent, 'archive.tgz');
  writeFileSync(file, archive);
  const target = join(parent, 'target');
  let error: unknown;
  try {
    await importSnapshot({ file, dataDir: target });
  } catch (err) {
    error = err;
  }
  expect(error).toBeInstanceOf(SnapshotError);
  expect(readdirSync(parent)).toEqual(['archive.tgz']);
  return error as SnapshotError;
}

const manifest = (extra: Partial<SnapshotManifest> = {}): SnapshotManifest => ({
  format: 'sealbox-snapshot',
  version: 1,
  sealbox: 'test',
  created: new Date().toISOString(),
  files: [],
  counts: { blobBytes: 0 },
  ...extra,
});

/** A gzip'd tar of the given entries, the manifest first unless told otherwise; `type` rewrites an entry's type flag. */
function craft(entries: { name: string; data: Buffer | string; type?: string }[], first: SnapshotManifest | null = manifest()): Buffer {
  const all = first ? [{ name: 'manifest.json', data: JSON.stringify(first) }, ...entries] : entries;
  const parts: Buffer[] = [];
  for (const e of all) {
    const data = Buffer.from(e.data);
    const header = tarHeader(e.name, data.length, 0o600, new Date());
    if (e.type) {
      header.write(e.type, 156, 'ascii');
      header.write('        ', 148, 'ascii');
      let sum = 0;
      for (const b of header) sum += b;
      header.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'ascii');
    }
    parts.push(header, data, tarPadding(data.length));
  }
  parts.push(TAR_END);
  return gzipSync(Buffer.concat(parts));
}

describe('import refuses a bad archive and leaves nothing behind', () => {
  it('a good archive imports (the control case)', async () => {
    const target = join(root, 'control');
    const m = await importSnapshot({ file: join(root, 'good.tgz'), dataDir: target });
    expect(m.counts.keys).toBe(1);
    // A KMS-only data directory: no S3 files.
    expect(readdirSync(target).sort()).toEqual(['cloudtrail.jsonl', 'kms.db', 'root.key']);
  });

  it.each([0.5, 0.9])('truncated at %d of its length', async (fraction) => {
    expect((await refused(good.subarray(0, Math.floor(good.length * fraction)))).message).toMatch(/is truncated/);
  });

  it('truncated by its last bytes (the gzip trailer)', async () => {
    expect((await refused(good.subarray(0, good.length - 4))).message).toMatch(/is truncated|damaged/);
  });

  it('a byte changed in the middle', async () => {
    const damaged = Buffer.from(good);
    damaged[Math.floor(damaged.length / 2)] ^= 0xff;
    await refused(damaged);
  });

  it('not an archive at all', async () => {
    expect((await refused(Buffer.from('hello, not gzip'))).message).toMatch(/is not a Sealbox snapshot/);
    expect((await refused(gzipSync(Buffer.from('plain text, not tar')))).message).toMatch(/truncated|not a valid Sealbox snapshot/);
  });

  it.each(['../evil', '/tmp/evil', 'blobs/../../evil', 'blobs/ab/../../../evil', 's3/blobs/ab/abababababababababababababababab', 'blobs/ab/cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd', 'root.key/../evil', 'unknown.txt'])(
    'an entry named %j',
    async (name) => {
      expect((await refused(craft([{ name, data: 'x' }]))).message).toMatch(/unexpected entry/);
      expect(existsSync(join(root, 'evil'))).toBe(false);
    },
  );

  it('a known file the manifest does not list', async () => {
    expect((await refused(craft([{ name: 'kms.db', data: 'x' }]))).message).toMatch(/unexpected entry/);
  });

  it.each([
    ['2', 'a symbolic link'],
    ['1', 'a hard link'],
    ['5', 'a directory'],
  ])('an entry of type %s (%s)', async (type) => {
    expect((await refused(craft([{ name: 'root.key', data: '', type }], manifest({ files: ['root.key'] })))).message).toMatch(/only regular files are expected/);
  });

  it('no manifest first, another format, a newer version, a malformed manifest', async () => {
    expect((await refused(craft([{ name: 'root.key', data: Buffer.alloc(32) }], null))).message).toMatch(/does not start with manifest.json/);
    expect((await refused(craft([], { ...manifest(), format: 'other' as 'sealbox-snapshot' }))).message).toMatch(/names no sealbox-snapshot format/);
    expect((await refused(craft([], manifest({ version: 2, sealbox: '9.0.0' })))).message).toMatch(
      /\/archive\.tgz has snapshot format 2 \(written by Sealbox 9\.0\.0\); this Sealbox reads format 1$/,
    );
    expect((await refused(craft([], manifest({ files: ['../evil' as 'root.key'] })))).message).toMatch(/malformed manifest/);
    expect((await refused(craft([], manifest({ encryption: { cipher: 'aes-256-gcm', kdf: 'scrypt', salt: '', N: 1 << 30, r: 8, p: 1, files: [] } })))).message).toMatch(/malformed manifest/);
  });

  it('a file listed but missing, an entry twice, a root key of the wrong size, a count that does not match', async () => {
    expect((await refused(craft([], manifest({ files: ['root.key'] })))).message).toMatch(/incomplete: root.key missing/);
    const key = { name: 'root.key', data: Buffer.alloc(32) };
    expect((await refused(craft([key, key], manifest({ files: ['root.key'] })))).message).toMatch(/holds root.key twice/);
    expect((await refused(craft([{ name: 'root.key', data: Buffer.alloc(31) }], manifest({ files: ['root.key'] })))).message).toMatch(/not a root key/);
    const blob = { name: 'blobs/ab/abababababababababababababababab', data: 'x' };
    expect((await refused(craft([blob], manifest({ counts: { blobBytes: 1 } })))).message).toMatch(/holds 1 object blobs, its manifest says 0/);
    expect((await refused(craft([blob]))).message).toMatch(/holds more object data than its manifest says \(0 bytes\)$/);
  });

  it('an oversized small file is refused before it is read', async () => {
    expect((await refused(craft([{ name: 'ca.pem', data: Buffer.alloc(70_000) }], manifest({ files: ['ca.pem'] })))).message).toBe(
      'ca.pem in the archive is too large (70000 bytes; at most 65536 expected)',
    );
    // The proof that its bytes are never read: its header claims 70,000 bytes and the archive
    // ends 10 bytes later. Read first, this would be a truncated archive; it is refused on the size.
    const truncated = (declared: number) =>
      gzipSync(
        Buffer.concat([
          tarHeader('manifest.json', Buffer.byteLength(JSON.stringify(manifest({ files: ['ca.pem'] }))), 0o600, new Date()),
          Buffer.from(JSON.stringify(manifest({ files: ['ca.pem'] }))),
          tarPadding(Buffer.byteLength(JSON.stringify(manifest({ files: ['ca.pem'] })))),
          tarHeader('ca.pem', declared, 0o600, new Date()),
          Buffer.alloc(10),
        ]),
      );
    expect((await refused(truncated(70_000))).message).toBe('ca.pem in the archive is too large (70000 bytes; at most 65536 expected)');
    // The control: a size within the limit, truncated the same way, is refused as truncated.
    expect((await refused(truncated(1000))).message).toMatch(/is not a valid Sealbox snapshot: the archive is truncated$/);
  });
});

describe('export and import around a running Sealbox', () => {
  it('exports a running Sealbox live, and the copy imports', async () => {
    const dir = join(root, 'live');
    const sealbox = await startSealbox({ dataDir: dir, only: 'kms' });
    try {
      const client = kms(sealbox.kms!.url);
      await client.send(new CreateKeyCommand({}));
      await client.send(new CreateKeyCommand({}));
      client.destroy();
      const result = await exportSnapshot({ dataDir: dir, file: join(root, 'live.tgz'), sealboxVersion: 'test' });
      expect(result.livePid).toBe(process.pid);
      expect(result.manifest.counts.keys).toBe(2);
      // The running Sealbox keeps its lock.
      expect(existsSync(join(dir, 'sealbox.lock'))).toBe(true);

      // Importing onto it is refused even with --force: it is in use.
      await expect(importSnapshot({ file: join(root, 'live.tgz'), dataDir: dir, force: true })).rejects.toThrow(DataDirLockedError);
    } finally {
      await sealbox.stop();
    }
    const copy = join(root, 'live-copy');
    expect((await importSnapshot({ file: join(root, 'live.tgz'), dataDir: copy })).counts.keys).toBe(2);
  });

  it('--force replaces the state of a stopped Sealbox; an empty directory needs no --force', async () => {
    const dir = join(root, 'replaced');
    const sealbox = await startSealbox({ dataDir: dir, only: 'kms' });
    await sealbox.stop();
    await expect(importSnapshot({ file: join(root, 'good.tgz'), dataDir: dir })).rejects.toThrow(/is not empty/);
    const before = createHash('sha256').update(readFileSync(join(dir, 'root.key'))).digest('hex');
    await importSnapshot({ file: join(root, 'good.tgz'), dataDir: dir, force: true });
    expect(readFileSync(join(dir, 'root.key')).equals(readFileSync(join(source, 'root.key')))).toBe(true);
    expect(createHash('sha256').update(readFileSync(join(dir, 'root.key'))).digest('hex')).not.toBe(before);
    expect(readdirSync(root).filter((f) => f.includes('.import-') || f.includes('.replaced'))).toEqual([]);

    const empty = join(root, 'empty');
    mkdirSync(empty);
    await importSnapshot({ file: join(root, 'good.tgz'), dataDir: empty });
    expect(existsSync(join(empty, 'kms.db'))).toBe(true);
    expect(existsSync(join(empty, 'sealbox.lock'))).toBe(false);
  });

  it('export refuses a missing data directory, one with no state, and an existing file without --force', async () => {
    await expect(exportSnapshot({ dataDir: join(root, 'nowhere'), file: join(root, 'x.tgz'), sealboxVersion: 'test' })).rejects.toThrow(/there is no data directory .*nowhere; pass the --data-dir/);
    const bare = join(root, 'bare');
    mkdirSync(bare);
    await expect(exportSnapshot({ dataDir: bare, file: join(root, 'x.tgz'), sealboxVersion: 'test' })).rejects.toThrow(/holds no Sealbox state/);
    await expect(exportSnapshot({ dataDir: source, file: join(root, 'good.tgz'), sealboxVersion: 'test' })).rejects.toThrow(/good.tgz exists; choose another file, or pass --force/);
    expect(existsSync(join(root, 'x.tgz'))).toBe(false);
    await expect(exportSnapshot({ dataDir: source, file: join(root, 'no-dir', 'x.tgz'), sealboxVersion: 'test' })).rejects.toThrow(
      `cannot write ${join(root, 'no-dir', 'x.tgz')}: no such file or directory`,
    );
  });

  it('import creates the missing parents of the data directory', async () => {
    const nested = join(root, 'a', 'b', 'data');
    await importSnapshot({ file: join(root, 'good.tgz'), dataDir: nested });
    expect(readdirSync(join(root, 'a', 'b'))).toEqual(['data']);
  });
});

it('tar sizes beyond 8 GiB use the base-256 form, and read back', async () => {
  const size = 9 * 1024 * 1024 * 1024 + 5;
  const header = tarHeader('blobs/ab/abababababababababababababababab', size, 0o600, new Date());
  expect(header[124]).toBe(0x80);
  const seen: number[] = [];
  const stop = new Error('stop');
  await expect(
    readTar(
      (async function* () {
        yield header;
      })(),
      async (h) => {
        seen.push(h.size);
        throw stop;
      },
    ),
  ).rejects.toBe(stop);
  expect(seen).toEqual([size]);
});

describe('progress lines', () => {
  it('on a log: nothing for short work, then a line every two seconds at most, and the final state', () => {
    const lines: string[] = [];
    let now = 1000;
    const progress = new Progress('exporting', 'object blobs', 3000, 3 * 1024 * 1024 * 1024, { write: (t) => lines.push(t), tty: false }, () => now);
    progress.add(1, 1024);
    expect(lines).toEqual([]);
    now += 2000;
    progress.add(1233, 512 * 1024 * 1024);
    now += 500;
    progress.add(1, 1);
    progress.done();
    expect(lines).toEqual(['exporting: 1,234/3,000 object blobs, 512.0 MiB of 3.0 GiB\n', 'exporting: 1,235/3,000 object blobs, 512.0 MiB of 3.0 GiB\n']);
  });

  it('on a terminal: one line rewritten in place', () => {
    const out: string[] = [];
    let now = 0;
    const progress = new Progress('importing', 'object blobs', 2, 2048, { write: (t) => out.push(t), tty: true }, () => now);
    now += 150;
    progress.add(1, 1024);
    progress.done();
    expect(out.join('')).toBe('\rimporting: 1/2 object blobs, 1.0 KiB of 2.0 KiB\x1b[K\rimporting: 1/2 object blobs, 1.0 KiB of 2.0 KiB\x1b[K\n');
  });

  it('export, import and seeding report as they go', async () => {
    const lines: string[] = [];
    const sink = { write: (t: string) => lines.push(t), tty: false, intervalMs: 0 };
    const dir = join(root, 'progress');
    // Bodies past 64 KiB, so that each has a blob file (smaller ones are kept in s3.db).
    const seed = parseSeed(`buckets:\n  - name: progress\n    objects:\n      - { key: a, text: "${'a'.repeat(70_000)}" }\n      - { key: b, text: "${'b'.repeat(70_002)}" }\n`);
    const sealbox = await startSealbox({ dataDir: dir, seedData: seed, progress: sink });
    await sealbox.stop();
    const total = formatBytes(140_002);
    expect(lines).toEqual([`seeding: 1/2 objects, ${formatBytes(70_000)} of ${total}\n`, `seeding: 2/2 objects, ${total} of ${total}\n`, `seeding: 2/2 objects, ${total} of ${total}\n`]);
    lines.length = 0;
    await exportSnapshot({ dataDir: dir, file: join(root, 'progress.tgz'), sealboxVersion: 'test', progress: sink });
    expect(lines.at(-1)).toMatch(/^exporting: 2\/2 object blobs, (.+) of \1\n$/);
    lines.length = 0;
    await importSnapshot({ file: join(root, 'progress.tgz'), dataDir: join(root, 'progress-copy'), progress: sink });
    expect(lines.at(-1)).toMatch(/^importing: 2\/2 object blobs, (.+) of \1\n$/);
  });

  it('silent without a sink', () => {
    const progress = new Progress('importing', 'object blobs', 1, 1, undefined, () => 1e12);
    progress.add(1, 1);
    progress.done();
  });
});
