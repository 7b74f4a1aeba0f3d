import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto';
import { closeSync, createReadStream, createWriteStream, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { kmsDatabaseCounts, snapshotKmsDatabase, type KmsDatabaseCounts } from '@sealbox/kms';
import { blobFile, referencedBlobIds, s3DatabaseCounts, snapshotS3Database, type S3DatabaseCounts } from '@sealbox/s3';
import { fsReason } from '../fs-errors';
import { DataDirLockedError, LOCK_FILE, lockDataDir } from '../lock';
import { Progress, type ProgressSink } from '../progress';
import { TAR_END, TarFormatError, readTar, tarHeader, tarPadding } from './tar';

/**
 * `sealbox export` and `sealbox import`: a whole data directory in one gzip'd tar.
 *
 * What a data directory holds (and the archive carries, by the same names):
 *   root.key          KMS root key (32 bytes); key material in kms.db is wrapped under it
 *   kms.db            KMS keys, material (wrapped), aliases, grants, custom key stores, the event log
 *   cloudtrail.jsonl  the event log as JSON lines (kept beside kms.db's events table)
 *   s3.key            S3 root key (32 bytes); SSE-S3 data keys in s3.db are wrapped under it
 *   s3.db             buckets, object versions, multipart uploads
 *   s3/blobs/xx/<id>  object bytes, encrypted, immutable (archived as blobs/xx/<id>)
 *   ca.pem ca.key server.pem server.key   the local CA and certificate of --tls, when made
 * Left out: the lock file, SQLite's -wal/-shm files (the databases are copied consistently with
 * VACUUM INTO instead), s3/tmp (writes in flight).
 */

export const SNAPSHOT_FORMAT = 'sealbox-snapshot';
export const SNAPSHOT_VERSION = 1;

export class SnapshotError extends Error {}

const MANIFEST = 'manifest.json';
/** Files copied as they are, with the most each may weigh (undefined: unbounded, streamed). */
const FILES: Record<string, number | undefined> = {
  'root.key': 4096,
  's3.key': 4096,
  'ca.pem': 65536,
  'ca.key': 65536,
  'server.pem': 65536,
  'server.key': 65536,
  'kms.db': undefined,
  's3.db': undefined,
  'cloudtrail.jsonl': undefined,
};
/** Root keys and private keys: sealed with the passphrase when one is given. */
const SECRETS = new Set(['root.key', 's3.key', 'ca.key', 'server.key']);
const ROOT_KEYS = new Set(['root.key', 's3.key']);
const BLOB_ENTRY = /^blobs\/([0-9a-f]{2})\/([0-9a-f]{32})$/;
/** What else a data directory may hold that is not state (see above). */
const NOT_STATE = new Set([LOCK_FILE, 'kms.db-wal', 'kms.db-shm', 's3.db-wal', 's3.db-shm', 's3']);
const MAX_MANIFEST = 1 << 20;

export interface SnapshotManifest {
  format: typeof SNAPSHOT_FORMAT;
  version: number;
  /** The Sealbox version that wrote it. */
  sealbox: string;
  created: string;
  /** The files besides the blobs, in archive order. */
  files: string[];
  counts: Partial<KmsDatabaseCounts> & Partial<S3DatabaseCounts> & { blobBytes: number };
  /** Present when the secret files are sealed with a passphrase. */
  encryption?: { cipher: 'aes-256-gcm'; kdf: 'scrypt'; salt: string; N: number; r: number; p: number; files: string[] };
}

// scrypt at N = 2^15, r = 8 (OWASP's floor for scrypt): about 32 MiB and a tenth of a second.
const KDF = { N: 1 << 15, r: 8, p: 1 };
/** The most N * r * p an archive may ask for: 8 times KDF's (256 MiB, about a second). */
const MAX_KDF_COST = 8 * KDF.N * KDF.r * KDF.p;

function deriveKey(passphrase: string, salt: Buffer, params: { N: number; r: number; p: number }): Buffer {
  return scryptSync(passphrase, salt, 32, { ...params, maxmem: 256 * params.N * params.r });
}

/** iv | ciphertext | tag, bound to the entry's name. */
function seal(key: Buffer, name: string, data: Buffer): Buffer {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(`${SNAPSHOT_FORMAT}/${name}`));
  return Buffer.concat([iv, cipher.update(data), cipher.final(), cipher.getAuthTag()]);
}

function unseal(key: Buffer, name: string, data: Buffer): Buffer {
  if (data.length < 28) throw new SnapshotError(`${name} in the archive is damaged`);
  const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, 12));
  decipher.setAAD(Buffer.from(`${SNAPSHOT_FORMAT}/${name}`));
  decipher.setAuthTag(data.subarray(data.length - 16));
  try {
    return Buffer.concat([decipher.update(data.subarray(12, data.length - 16)), decipher.final()]);
  } catch {
    throw new SnapshotError('wrong passphrase (or the archive is damaged)');
  }
}

function errnoCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException).code;
}

export interface ExportOptions {
  dataDir: string;
  file: string;
  /** The version written into the manifest. */
  sealboxVersion: string;
  /** Seals the root keys and private keys in the archive. */
  passphrase?: string;
  /** Replace `file` when it exists. */
  force?: boolean;
  progress?: ProgressSink;
}

export interface ExportResult {
  manifest: SnapshotManifest;
  /** The pid of the Sealbox that was running on the directory (the snapshot was taken live). */
  livePid?: number;
  /** Files of the data directory that are not Sealbox state as this version knows it, left out. */
  leftOut: string[];
}

/**
 * Writes the state of a data directory to one archive. A directory no Sealbox runs on is locked
 * for the duration; one a Sealbox runs on is read live: each database is copied as one consistent
 * snapshot (S3's first, then KMS's, so every key an object names is in the copy), and blobs never
 * change once written. The archive is written beside `file` and renamed to it when complete.
 */
export async function exportSnapshot(options: ExportOptions): Promise<ExportResult> {
  const dir = resolve(options.dataDir);
  const out = resolve(options.file);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new SnapshotError(`there is no data directory ${dir}; pass the --data-dir a Sealbox was started with`);
  if (!['root.key', 'kms.db', 's3.key', 's3.db'].some((f) => existsSync(join(dir, f)))) {
    throw new SnapshotError(`${dir} holds no Sealbox state (no kms.db or s3.db); pass the --data-dir a Sealbox was started with`);
  }
  if (existsSync(out) && !options.force) throw new SnapshotError(`${out} exists; choose another file, or pass --force to replace it`);
  let unlock: (() => void) | undefined;
  let livePid: number | undefined;
  try {
    unlock = lockDataDir(dir);
  } catch (err) {
    if (err instanceof DataDirLockedError && err.pid !== undefined) livePid = err.pid;
    else if (err instanceof DataDirLockedError) throw err;
    else throw new SnapshotError(`cannot lock ${dir} for the export: ${fsReason(err)}`);
  }
  let work: string;
  try {
    work = mkdtempSync(join(dirname(out), `.${basename(out)}.export-`));
  } catch (err) {
    unlock?.();
    throw new SnapshotError(`cannot write ${out}: ${fsReason(err)}`);
  }
  try {
    const leftOut = readdirSync(dir).filter((f) => !(f in FILES) && !NOT_STATE.has(f)).sort();
    const counts: SnapshotManifest['counts'] = { blobBytes: 0 };
    // S3 before KMS: a key an object was encrypted under existed before the S3 copy was taken.
    if (existsSync(join(dir, 's3.db'))) Object.assign(counts, snapshotS3Database(join(dir, 's3.db'), join(work, 's3.db')));
    if (existsSync(join(dir, 'kms.db'))) Object.assign(counts, snapshotKmsDatabase(join(dir, 'kms.db'), join(work, 'kms.db')));

    // Where each file is read from, and how many bytes of it.
    const sources: { name: string; path: string; size: number }[] = [];
    for (const name of Object.keys(FILES)) {
      const path = name.endsWith('.db') ? join(work, name) : join(dir, name);
      if (!existsSync(path)) continue;
      let size = statSync(path).size;
      // A running Sealbox appends to the log: take whole lines only.
      if (name === 'cloudtrail.jsonl' && livePid !== undefined) size = wholeLines(path, size);
      sources.push({ name, path, size });
    }
    let blobs = 0;
    if (existsSync(join(work, 's3.db'))) {
      for (const id of referencedBlobIds(join(work, 's3.db'))) {
        blobs++;
        counts.blobBytes += statBlob(dir, id).size;
      }
    }

    const salt = randomBytes(16);
    const key = options.passphrase === undefined ? undefined : deriveKey(options.passphrase, salt, KDF);
    const secrets = key ? sources.filter((s) => SECRETS.has(s.name)).map((s) => s.name) : [];
    const manifest: SnapshotManifest = {
      format: SNAPSHOT_FORMAT,
      version: SNAPSHOT_VERSION,
      sealbox: options.sealboxVersion,
      // Wall-clock time, when the file was written (not the sandbox's virtual clock).
      created: new Date().toISOString(),
      files: sources.map((s) => s.name),
      counts,
      ...(key ? { encryption: { cipher: 'aes-256-gcm' as const, kdf: 'scrypt' as const, salt: salt.toString('base64'), ...KDF, files: secrets } } : {}),
    };
    const progress = new Progress('exporting', 'object blobs', blobs, counts.blobBytes, options.progress);
    const mtime = new Date();

    async function* entries(): AsyncGenerator<Buffer> {
      const small = (name: string, data: Buffer) => [tarHeader(name, data.length, 0o600, mtime), data, tarPadding(data.length)];
      yield* small(MANIFEST, Buffer.from(JSON.stringify(manifest, null, 2) + '\n'));
      for (const source of sources) {
        if (key && SECRETS.has(source.name)) {
          yield* small(source.name, seal(key, source.name, readFileSync(source.path)));
          continue;
        }
        yield tarHeader(source.name, source.size, 0o600, mtime);
        // `end` is inclusive: a live log is read up to its last whole line only.
        if (source.size > 0) yield* copyExactly(createReadStream(source.path, { end: source.size - 1, highWaterMark: 1 << 20 }), source.size, source.name);
        yield tarPadding(source.size);
      }
      if (blobs > 0) {
        for (const id of referencedBlobIds(join(work, 's3.db'))) {
          const size = statBlob(dir, id).size;
          const stream = createReadStream(join(dir, 's3', blobFile(id)), { highWaterMark: 1 << 20 });
          yield tarHeader(blobFile(id), size, 0o600, mtime);
          for await (const chunk of copyExactly(stream, size, blobFile(id))) {
            progress.add(0, chunk.length);
            yield chunk;
          }
          progress.add(1, 0);
          yield tarPadding(size);
        }
      }
      yield TAR_END;
    }

    const partial = join(work, 'snapshot.tgz');
    await pipeline(Readable.from(entries()), createGzip(), createWriteStream(partial, { mode: 0o600 }));
    progress.done();
    renameSync(partial, out);
    return { manifest, livePid, leftOut };
  } finally {
    rmSync(work, { recursive: true, force: true });
    unlock?.();
  }
}

/** The size of a blob file; a blob gone missing means the directory changed under a live export. */
function statBlob(dir: string, id: string) {
  try {
    return statSync(join(dir, 's3', blobFile(id)));
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
    throw new SnapshotError(`object data ${blobFile(id)} is missing from ${dir} (an object deleted by the running Sealbox during the export?); try again`);
  }
}

/** The length of the file's first `size` bytes up to and including their last newline. */
function wholeLines(path: string, size: number): number {
  const tail = Math.min(size, 1 << 20);
  const buffer = Buffer.alloc(tail);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, buffer, 0, tail, size - tail);
  } finally {
    closeSync(fd);
  }
  const last = buffer.lastIndexOf(0x0a);
  return last === -1 ? size - tail : size - tail + last + 1;
}

/** The stream's bytes, checked to be exactly `size` (a file that shrank or grew fails the export). */
async function* copyExactly(stream: Readable, size: number, name: string): AsyncGenerator<Buffer> {
  let seen = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      seen += chunk.length;
      if (seen > size) break;
      yield chunk;
    }
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') throw new SnapshotError(`${name} disappeared during the export (deleted by the running Sealbox?); try again`);
    throw err;
  }
  if (seen !== size) throw new SnapshotError(`${name} changed size during the export; try again`);
}

export interface ImportOptions {
  file: string;
  dataDir: string;
  passphrase?: string;
  /** Replace the state of a data directory that has some (it is deleted). */
  force?: boolean;
  progress?: ProgressSink;
}

/**
 * Recreates a data directory from an archive. The archive is checked as it is read (entry names
 * from a fixed list, sizes bounded, the manifest's counts against the databases, every blob the
 * databases name present) and written to a new directory beside the target, renamed into place
 * only when complete: a failed import leaves the target as it was. A target with state is
 * refused unless `force`; the target, and the new directory, are locked while this runs.
 */
export async function importSnapshot(options: ImportOptions): Promise<SnapshotManifest> {
  const file = resolve(options.file);
  const target = resolve(options.dataDir);
  let source: FileHandle;
  try {
    source = await open(file, 'r');
  } catch (err) {
    throw new SnapshotError(`cannot read ${file}: ${fsReason(err)}`);
  }
  let unlockTarget: (() => void) | undefined;
  let work: string | undefined;
  try {
    if (existsSync(target)) {
      if (!statSync(target).isDirectory()) throw new SnapshotError(`${target} is not a directory; choose another --data-dir`);
      unlockTarget = lockDataDir(target);
      const state = readdirSync(target).filter((f) => f !== LOCK_FILE);
      if (state.length > 0 && !options.force) {
        throw new SnapshotError(`${target} is not empty (it holds ${state.slice(0, 3).join(', ')}${state.length > 3 ? ', ...' : ''}); import into a new directory, or pass --force to replace its state`);
      }
    }
    try {
      mkdirSync(dirname(target), { recursive: true });
      work = mkdtempSync(join(dirname(target), `.${basename(target)}.import-`));
    } catch (err) {
      throw new SnapshotError(`cannot create ${target}: ${fsReason(err)}; choose another --data-dir`);
    }
    lockDataDir(work); // moves into place with the directory, removed at the end
    const manifest = await extract(source, file, work, options);
    await source.close();
    check(work, manifest);
    // Into place: a replaced directory is moved aside first and deleted once the new one is in.
    const aside = unlockTarget ? `${work}.replaced` : undefined;
    if (aside) renameSync(target, aside);
    try {
      renameSync(work, target);
    } catch (err) {
      if (aside) renameSync(aside, target);
      throw new SnapshotError(`cannot move the imported state to ${target}: ${(err as Error).message} (did a Sealbox start on it meanwhile?)`);
    }
    work = undefined;
    if (aside) {
      rmSync(aside, { recursive: true, force: true });
      unlockTarget = undefined; // its lock went with it
    }
    rmSync(join(target, LOCK_FILE), { force: true });
    return manifest;
  } finally {
    await source.close().catch(() => undefined);
    if (work) rmSync(work, { recursive: true, force: true });
    unlockTarget?.();
  }
}

async function extract(source: FileHandle, file: string, work: string, options: ImportOptions): Promise<SnapshotManifest> {
  let manifest: SnapshotManifest | undefined;
  let key: Buffer | undefined;
  let progress: Progress | undefined;
  const seen = new Set<string>();
  let blobs = 0;
  let blobBytes = 0;
  const gunzip = createGunzip();
  const input = source.createReadStream({ highWaterMark: 1 << 20, autoClose: false });
  input.on('error', (err) => gunzip.destroy(err));
  input.pipe(gunzip);
  try {
    await readTar(gunzip, async ({ name, size }, data) => {
      if (!manifest) {
        if (name !== MANIFEST) throw new SnapshotError(`${file} is not a Sealbox snapshot (it does not start with ${MANIFEST})`);
        manifest = parseManifest(await readSmall(data, size, MAX_MANIFEST, name), file);
        if (manifest.encryption) {
          if (options.passphrase === undefined) throw new SnapshotError(`${file} is sealed with a passphrase; pass --passphrase-env with the name of a variable that holds it`);
          key = deriveKey(options.passphrase, Buffer.from(manifest.encryption.salt, 'base64'), manifest.encryption);
        }
        progress = new Progress('importing', 'object blobs', manifest.counts.blobs ?? 0, manifest.counts.blobBytes, options.progress);
        return;
      }
      if (seen.has(name)) throw new SnapshotError(`${file} holds ${name} twice`);
      seen.add(name);
      const blob = BLOB_ENTRY.exec(name);
      if (blob) {
        if (blob[1] !== blob[2]!.slice(0, 2)) throw new SnapshotError(`unexpected entry in ${file}: ${JSON.stringify(name)}`);
        // Object data is unbounded (streamed to disk), but the manifest says how much there is:
        // more is refused before it is written, so a small gzip'd archive cannot fill the disk.
        blobBytes += size;
        if (blobBytes > manifest.counts.blobBytes) throw new SnapshotError(`${file} holds more object data than its manifest says (${manifest.counts.blobBytes} bytes)`);
        const dir = join(work, 's3', 'blobs', blob[1]!);
        mkdirSync(dir, { recursive: true, mode: 0o700 });
        await writeStream(join(dir, blob[2]!), data, (n) => progress!.add(0, n));
        progress!.add(1, 0);
        blobs++;
        return;
      }
      if (!manifest.files.includes(name) || !(name in FILES)) throw new SnapshotError(`unexpected entry in ${file}: ${JSON.stringify(name)}`);
      const limit = FILES[name];
      if (limit === undefined) {
        await writeStream(join(work, name), data);
        return;
      }
      let bytes = await readSmall(data, size, limit, name);
      if (key && manifest.encryption!.files.includes(name)) bytes = unseal(key, name, bytes);
      if (ROOT_KEYS.has(name) && bytes.length !== 32) throw new SnapshotError(`${name} in ${file} is not a root key (expected 32 bytes, found ${bytes.length})`);
      const handle = await open(join(work, name), 'wx', 0o600);
      try {
        await handle.writeFile(bytes);
      } finally {
        await handle.close();
      }
    });
  } catch (err) {
    gunzip.destroy();
    if (err instanceof SnapshotError) throw err;
    if (err instanceof TarFormatError) throw new SnapshotError(`${file} is not a valid Sealbox snapshot: ${err.message}`);
    const code = errnoCode(err);
    if (code === 'Z_BUF_ERROR') throw new SnapshotError(`${file} is truncated (incomplete download or copy?)`);
    if (code === 'Z_DATA_ERROR') throw new SnapshotError(`${file} is not a Sealbox snapshot, or is damaged (${(err as Error).message})`);
    throw err;
  }
  if (!manifest) throw new SnapshotError(`${file} is not a Sealbox snapshot (it is empty)`);
  progress!.done();
  const missing = manifest.files.filter((f) => !seen.has(f));
  if (missing.length > 0) throw new SnapshotError(`${file} is incomplete: ${missing.join(', ')} missing`);
  if (blobs !== (manifest.counts.blobs ?? 0)) throw new SnapshotError(`${file} is incomplete: it holds ${blobs} object blobs, its manifest says ${manifest.counts.blobs ?? 0}`);
  if (blobBytes !== manifest.counts.blobBytes) throw new SnapshotError(`${file} is incomplete: it holds ${blobBytes} bytes of object data, its manifest says ${manifest.counts.blobBytes}`);
  return manifest;
}

function parseManifest(bytes: Buffer, file: string): SnapshotManifest {
  let m: SnapshotManifest;
  try {
    m = JSON.parse(bytes.toString('utf8')) as SnapshotManifest;
  } catch {
    throw new SnapshotError(`${file} is not a Sealbox snapshot (its manifest is not JSON)`);
  }
  if (m === null || typeof m !== 'object' || m.format !== SNAPSHOT_FORMAT) throw new SnapshotError(`${file} is not a Sealbox snapshot (its manifest names no ${SNAPSHOT_FORMAT} format)`);
  if (m.version !== SNAPSHOT_VERSION) {
    throw new SnapshotError(`${file} has snapshot format ${JSON.stringify(m.version)} (written by Sealbox ${String(m.sealbox)}); this Sealbox reads format ${SNAPSHOT_VERSION}`);
  }
  const e = m.encryption;
  const bad =
    !Array.isArray(m.files) ||
    !m.files.every((f) => typeof f === 'string' && f in FILES) ||
    typeof m.counts !== 'object' ||
    m.counts === null ||
    !Number.isSafeInteger(m.counts.blobBytes) ||
    !Object.values(m.counts).every((n) => Number.isSafeInteger(n) && n >= 0) ||
    (e !== undefined &&
      (e.cipher !== 'aes-256-gcm' ||
        e.kdf !== 'scrypt' ||
        typeof e.salt !== 'string' ||
        // Bounded: a crafted manifest must not make scrypt take gigabytes or minutes. scrypt needs
        // 128 * N * r bytes and time in N * r * p; each bound is 8 times what export uses (N * r =
        // 2^18: 32 MiB), so N = 2^20 with r = 16 (2 GiB) is refused.
        ![e.N, e.r, e.p].every(Number.isSafeInteger) ||
        e.N < 2 ||
        e.N > 1 << 20 ||
        (e.N & (e.N - 1)) !== 0 ||
        e.r < 1 ||
        e.r > 16 ||
        e.p < 1 ||
        e.p > 4 ||
        e.N * e.r * e.p > MAX_KDF_COST ||
        !Array.isArray(e.files) ||
        !e.files.every((f) => SECRETS.has(f))));
  if (bad) throw new SnapshotError(`${file} has a malformed manifest`);
  return m;
}

async function readSmall(data: AsyncIterable<Buffer>, size: number, limit: number, name: string): Promise<Buffer> {
  if (size > limit) throw new SnapshotError(`${name} in the archive is too large (${size} bytes; at most ${limit} expected)`);
  const chunks: Buffer[] = [];
  for await (const chunk of data) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** Writes a new file from a stream, one chunk at a time (memory stays flat whatever the size). */
async function writeStream(path: string, data: AsyncIterable<Buffer>, onBytes?: (n: number) => void): Promise<void> {
  const handle = await open(path, 'wx', 0o600);
  try {
    for await (const chunk of data) {
      await handle.write(chunk);
      onBytes?.(chunk.length);
    }
  } finally {
    await handle.close();
  }
}

/** The extracted state against the manifest: the databases are sound, counts agree, every blob named is there. */
function check(work: string, manifest: SnapshotManifest): void {
  const counts: Record<string, number> = {};
  try {
    if (existsSync(join(work, 'kms.db'))) Object.assign(counts, kmsDatabaseCounts(join(work, 'kms.db')));
    if (existsSync(join(work, 's3.db'))) Object.assign(counts, s3DatabaseCounts(join(work, 's3.db')));
  } catch (err) {
    throw new SnapshotError(`the archive's databases are damaged: ${(err as Error).message}`);
  }
  for (const [name, value] of Object.entries(manifest.counts)) {
    if (name !== 'blobBytes' && counts[name] !== value) throw new SnapshotError(`the archive's databases do not match its manifest (${name}: ${counts[name] ?? 'none'}, manifest ${value})`);
  }
  if (existsSync(join(work, 's3.db'))) {
    for (const id of referencedBlobIds(join(work, 's3.db'))) {
      if (!existsSync(join(work, 's3', blobFile(id)))) throw new SnapshotError(`the archive lacks the data of an object (${blobFile(id)})`);
    }
  }
  if (existsSync(join(work, 'kms.db')) && !existsSync(join(work, 'root.key'))) throw new SnapshotError('the archive holds kms.db without root.key');
  if (existsSync(join(work, 's3.db')) && !existsSync(join(work, 's3.key'))) throw new SnapshotError('the archive holds s3.db without s3.key');
}
