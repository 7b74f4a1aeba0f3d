import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync, readdirSync, renameSync, rmSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Transform, type TransformCallback } from 'node:stream';

export interface WrittenBlob {
  blobId: string;
  size: number;
  md5: Buffer;
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

  constructor(
    private readonly root: string,
    private readonly ephemeral = false,
  ) {
    this.blobs = join(root, 'blobs');
    this.tmp = join(root, 'tmp');
    mkdirSync(this.blobs, { recursive: true, mode: 0o700 });
    rmSync(this.tmp, { recursive: true, force: true });
    mkdirSync(this.tmp, { recursive: true, mode: 0o700 });
  }

  private path(blobId: string): string {
    return join(this.blobs, blobId.slice(0, 2), blobId);
  }

  /**
   * Streams `source` into a new blob, hashing MD5 (and what `observe` wants) over the plaintext
   * on the way, through `encrypt` when given.
   */
  async write(source: Readable, observe?: ByteObserver, maxBytes = Number.MAX_SAFE_INTEGER, encrypt: Transform[] = []): Promise<WrittenBlob> {
    const blobId = randomBytes(16).toString('hex');
    const tmpPath = join(this.tmp, blobId);
    const md5 = createHash('md5');
    let size = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, done: TransformCallback) {
        size += chunk.length;
        if (size > maxBytes) {
          done(new BlobTooLargeError(maxBytes));
          return;
        }
        md5.update(chunk);
        observe?.(chunk);
        done(null, chunk);
      },
    });
    try {
      await pipeline([source, meter, ...encrypt, createWriteStream(tmpPath, { mode: 0o600 })]);
      mkdirSync(join(this.blobs, blobId.slice(0, 2)), { recursive: true, mode: 0o700 });
      renameSync(tmpPath, this.path(blobId));
    } catch (err) {
      rmSync(tmpPath, { force: true });
      throw err;
    }
    return { blobId, size, md5: md5.digest() };
  }

  /** Bytes [start, end] inclusive of one blob. */
  read(blobId: string, start?: number, end?: number): Readable {
    return createReadStream(this.path(blobId), { start, end, highWaterMark: 256 * 1024 });
  }

  delete(blobId: string): void {
    try {
      unlinkSync(this.path(blobId));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
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
    if (this.ephemeral) rmSync(this.root, { recursive: true, force: true });
  }
}

export class BlobTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`blob larger than ${limit} bytes`);
  }
}
