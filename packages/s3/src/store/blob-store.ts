import { createHash } from 'node:crypto';
import { closeSync, createReadStream, createWriteStream, mkdirSync, openSync, readFileSync, readSync, readdirSync, renameSync, rmSync, unlinkSync, writeFileSync, writevSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Transform, type TransformCallback } from 'node:stream';
import { randomBytesFast } from '@sealbox/runtime';
import { isInlineBlob } from './metadata-store';

const FILE_BLOB_ID = /^[0-9a-f]{32}$/;

/** Where inline blobs live: the metadata database (MetadataStore), beside the rows that refer to them. */
export interface InlineBlobs {
  /** Keeps the bytes until the row that refers to them is written; their blob id. */
  stageInline(bytes: Buffer): string;
  readInline(blobId: string, from: number, to: number): Buffer;
  deleteInline(blobId: string): void;
  dropInlineInTransaction(blobId: string): void;
}

/**
 * Whole blobs up to this size may be kept in the database rather than in a file of their own:
 * creating, opening, closing and unlinking a file per small object cost more than the rest of
 * a small PUT or GET on ext4; a row in the same transaction as the object's costs a few pages of
 * WAL. Larger bodies go to files, which do not grow the database.
 */
export const INLINE_BLOB_BYTES = 64 * 1024;

export interface WrittenBlob {
  blobId: string;
  size: number;
  /** The plaintext's MD5, unless the caller said it does not need it. */
  md5?: Buffer;
}

/** Observes the bytes of a write (checksums) without changing them. */
export type ByteObserver = (chunk: Buffer) => void;

/**
 * Object bytes in immutable files named by generated ids (never by object keys). A write streams
 * to a temporary file and is renamed into place only once the stream ended cleanly; the caller
 * then commits the metadata row. A crash leaves a stray temporary file or an unreferenced blob,
 * both removed at the next start, never a torn object.
 */
export class BlobStore {
  private readonly blobs: string;
  private readonly tmp: string;
  /** Shard directories (blobs/<2 hex>) known to exist, so a write does not mkdir each time. */
  private readonly shards = new Set<string>();
  /**
   * Without a data directory (--in-memory), blobs written whole (writeNow: objects up to 1 MiB)
   * stay in memory, as the metadata does: creating a file costs more than the rest of a small
   * PUT (about 0.9 ms on an ext4 disk, against 0.07 ms on tmpfs). Streamed blobs still go to the
   * temporary directory, so a large upload does not grow the process's memory.
   */
  private readonly held = new Map<string, Buffer>();

  constructor(
    private readonly root: string,
    private readonly ephemeral = false,
    /** The metadata database, for blobs kept inline (writeNow's `inline`) and to read those it holds. */
    private readonly inline?: InlineBlobs,
  ) {
    this.blobs = join(root, 'blobs');
    this.tmp = join(root, 'tmp');
    mkdirSync(this.blobs, { recursive: true, mode: 0o700 });
    rmSync(this.tmp, { recursive: true, force: true });
    mkdirSync(this.tmp, { recursive: true, mode: 0o700 });
  }

  private path(blobId: string): string {
    // A file blob's id is 32 hex digits (writeNow, write). Ids come from rows, and rows from
    // imported archives too: nothing else may become a path (no separator, no "..").
    if (!FILE_BLOB_ID.test(blobId)) throw Object.assign(new Error(`ENOENT: not a blob id ${JSON.stringify(blobId)}`), { code: 'ENOENT' });
    return join(this.blobs, blobId.slice(0, 2), blobId);
  }

  /** Runs `place` (which creates the blob's file) with its shard directory in place. */
  private inShard(blobId: string, place: () => void): void {
    const shard = blobId.slice(0, 2);
    if (!this.shards.has(shard)) {
      mkdirSync(join(this.blobs, shard), { recursive: true, mode: 0o700 });
      this.shards.add(shard);
    }
    try {
      place();
    } catch (err) {
      // The directory went away under us (removed by hand): make it again, once.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      mkdirSync(join(this.blobs, shard), { recursive: true, mode: 0o700 });
      place();
    }
  }

  /**
   * Writes a whole small blob at once, synchronously, straight under its final name: the id is
   * fresh and nothing refers to it until the caller commits the row, so a crash mid-write leaves
   * only an unreferenced file (removed at the next start), as the temporary file of `write`
   * would. No fsync, here or in `write`: acknowledged objects must survive the death of the
   * process (the page cache keeps them), not a power cut of the machine, which is out of scope
   * for a local emulator.
   */
  writeNow(bytes: Buffer | Buffer[], inline = false): string {
    if (this.ephemeral) {
      const blobId = randomBytesFast(16).toString('hex');
      this.held.set(blobId, Array.isArray(bytes) ? Buffer.concat(bytes) : bytes);
      return blobId;
    }
    // Inline: only for a caller whose row is written by MetadataStore.putLatest, which inserts
    // the staged bytes in the row's own transaction (see MetadataStore.stageInline).
    if (inline && this.inline) {
      const size = Array.isArray(bytes) ? bytes.reduce((n, b) => n + b.length, 0) : bytes.length;
      if (size <= INLINE_BLOB_BYTES) return this.inline.stageInline(Array.isArray(bytes) ? Buffer.concat(bytes, size) : bytes);
    }
    const blobId = randomBytesFast(16).toString('hex');
    const path = this.path(blobId);
    try {
      // The pieces of a sealed blob (each segment's ciphertext and tag) go out in one writev,
      // never joined into a buffer of the whole blob first.
      if (Array.isArray(bytes)) this.inShard(blobId, () => writePieces(path, bytes));
      else this.inShard(blobId, () => writeFileSync(path, bytes, { mode: 0o600, flag: 'wx' }));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') rmSync(path, { force: true });
      throw err;
    }
    return blobId;
  }

  /**
   * Stored bytes [from, to] inclusive of one blob, read synchronously (small objects); into
   * `into` when given and large enough (the caller's scratch buffer: the result is then a view of
   * it, valid until the caller reuses it).
   */
  readNow(blobId: string, from: number, to: number, into?: Buffer): Buffer {
    const held = this.held.get(blobId);
    if (held) return held.subarray(from, to + 1);
    if (isInlineBlob(blobId)) return this.inlineStore().readInline(blobId, from, to);
    const fd = openSync(this.path(blobId), 'r');
    try {
      const out = into && into.length >= to - from + 1 ? into.subarray(0, to - from + 1) : Buffer.allocUnsafe(to - from + 1);
      let got = 0;
      while (got < out.length) {
        const n = readSync(fd, out, got, out.length - got, from + got);
        if (n === 0) break;
        got += n;
      }
      return got === out.length ? out : out.subarray(0, got);
    } finally {
      closeSync(fd);
    }
  }

  /**
   * Streams `source` into a new blob, hashing MD5 (and what `observe` wants) over the plaintext
   * on the way, through `encrypt` when given.
   */
  async write(source: Readable, observe?: ByteObserver, maxBytes = Number.MAX_SAFE_INTEGER, encrypt: Transform[] = [], withMd5 = true): Promise<WrittenBlob> {
    const blobId = randomBytesFast(16).toString('hex');
    const tmpPath = join(this.tmp, blobId);
    const md5 = withMd5 ? createHash('md5') : undefined;
    let size = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, done: TransformCallback) {
        size += chunk.length;
        if (size > maxBytes) {
          done(new BlobTooLargeError(maxBytes));
          return;
        }
        md5?.update(chunk);
        observe?.(chunk);
        done(null, chunk);
      },
    });
    // The file is created here, synchronously, not by the write stream: a stream opens its file
    // asynchronously, so a source that failed at once (a client gone right after its headers)
    // rejected the pipeline, and the file was removed, before the open created it: left behind
    // until the next start. Removed by name once the pipeline settled, whatever the stream's state.
    const fd = openSync(tmpPath, 'wx', 0o600);
    const sink = createWriteStream(tmpPath, { fd });
    try {
      await pipeline([source, meter, ...encrypt, sink]);
      this.inShard(blobId, () => renameSync(tmpPath, this.path(blobId)));
    } catch (err) {
      sink.destroy();
      rmSync(tmpPath, { force: true });
      throw err;
    }
    return { blobId, size, md5: md5?.digest() };
  }

  /** Bytes [start, end] inclusive of one blob. */
  read(blobId: string, start?: number, end?: number): Readable {
    const held = this.held.get(blobId);
    if (held) return Readable.from([held.subarray(start ?? 0, end === undefined ? held.length : end + 1)], { objectMode: false });
    if (isInlineBlob(blobId)) {
      let bytes: Buffer;
      try {
        bytes = this.inlineStore().readInline(blobId, start ?? 0, end ?? Number.MAX_SAFE_INTEGER - 1);
      } catch (err) {
        return failedStream(err);
      }
      return Readable.from([bytes], { objectMode: false });
    }
    let path: string;
    try {
      path = this.path(blobId);
    } catch (err) {
      return failedStream(err);
    }
    return createReadStream(path, { start, end, highWaterMark: 256 * 1024 });
  }

  /**
   * Keeps these blobs while a read that looked them up is in flight (a GET waiting for KMS to
   * Decrypt its data key, a response still streaming): a delete meanwhile (an overwrite, a
   * DeleteObject, a lifecycle expiration) is done when the last such read lets go. S3 answers a
   * read that started before an overwrite or a delete with the object as it was; without this,
   * the read found its bytes gone and answered 500 InternalError. Returns the release (idempotent).
   */
  pin(parts: readonly { blobId: string }[]): () => void {
    if (parts.length === 0) return () => undefined;
    for (const { blobId } of parts) this.pins.set(blobId, (this.pins.get(blobId) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (const { blobId } of parts) {
        const n = (this.pins.get(blobId) ?? 1) - 1;
        if (n > 0) {
          this.pins.set(blobId, n);
          continue;
        }
        this.pins.delete(blobId);
        if (this.deferredDeletes.delete(blobId)) this.delete(blobId);
      }
    };
  }
  private readonly pins = new Map<string, number>();
  private readonly deferredDeletes = new Set<string>();

  /**
   * Removes an inline blob within the metadata transaction that is open (the write that made it
   * unreferenced, see MetadataStore.dropInlineInTransaction), unless a read holds it; false when
   * not done (a file, a blob held in memory, a pinned blob): the caller deletes it once committed.
   */
  dropInTransaction(blobId: string): boolean {
    if (!this.inline || !isInlineBlob(blobId) || this.pins.has(blobId) || this.held.has(blobId)) return false;
    this.inline.dropInlineInTransaction(blobId);
    return true;
  }

  delete(blobId: string): void {
    if (this.pins.has(blobId)) {
      // Read in flight: deleted when it lets go (pin). A crash meanwhile leaves an orphan, which
      // the next start removes, as it removes those of a crash between a commit and its delete.
      this.deferredDeletes.add(blobId);
      return;
    }
    if (this.held.delete(blobId)) return;
    if (isInlineBlob(blobId)) {
      this.inline?.deleteInline(blobId);
      return;
    }
    try {
      unlinkSync(this.path(blobId));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }

  /**
   * The stored bytes of these blobs (an in-memory sandbox's snapshot). Blobs never change once
   * written, so those held in memory are shared, not copied; streamed ones are read from disk.
   */
  copyOut(ids: Iterable<string>): Map<string, Buffer> {
    const out = new Map<string, Buffer>();
    // Inline blobs (from an archive of a data directory) are in the database image already.
    for (const id of ids) if (!isInlineBlob(id)) out.set(id, this.held.get(id) ?? readFileSync(this.path(id)));
    return out;
  }

  /** Takes blobs from `copyOut` (or a loaded archive) into memory, as `writeNow` keeps them. */
  copyIn(blobs: ReadonlyMap<string, Buffer>): void {
    if (!this.ephemeral) throw new Error('copyIn is for an in-memory blob store');
    for (const [id, bytes] of blobs) this.held.set(id, bytes);
  }

  private inlineStore(): InlineBlobs {
    if (!this.inline) throw Object.assign(new Error('ENOENT: no database for inline blobs'), { code: 'ENOENT' });
    return this.inline;
  }

  /** Removes blobs no metadata row refers to (left by a crash between rename and commit). */
  removeOrphans(referenced: Set<string>): number {
    let removed = 0;
    for (const dir of readdirSync(this.blobs)) {
      for (const file of readdirSync(join(this.blobs, dir))) {
        if (!referenced.has(file)) {
          rmSync(join(this.blobs, dir, file), { force: true });
          removed++;
        }
      }
    }
    return removed;
  }

  close(): void {
    this.held.clear();
    if (this.ephemeral) rmSync(this.root, { recursive: true, force: true });
  }
}

/** A stream that fails when read, not when asked for, as a missing file's does. */
function failedStream(err: unknown): Readable {
  const failed = new Readable({ read() {} });
  process.nextTick(() => failed.destroy(err as Error));
  return failed;
}

/** Writes `pieces` to a new file at `path` (which must not exist), in as few writev calls as it takes. */
function writePieces(path: string, pieces: Buffer[]): void {
  const fd = openSync(path, 'wx', 0o600);
  try {
    let total = 0;
    for (const p of pieces) total += p.length;
    let done = 0;
    let first = 0;
    let skip = 0;
    while (done < total) {
      // At most 512 buffers a call (IOV_MAX is 1024 on Linux); a short write resumes mid-piece.
      const batch = pieces.slice(first, first + 512);
      if (skip > 0) batch[0] = batch[0]!.subarray(skip);
      let n = writevSync(fd, batch);
      done += n;
      while (first < pieces.length && n >= pieces[first]!.length - skip) {
        n -= pieces[first]!.length - skip;
        first++;
        skip = 0;
      }
      skip += n;
    }
  } finally {
    closeSync(fd);
  }
}

export class BlobTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`blob larger than ${limit} bytes`);
  }
}
