import { createCipheriv, createDecipheriv } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, linkSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { openPrivate } from './private-files';
import { randomBytesFast } from './random';

const KEY_BYTES = 32;

/**
 * A root key in the data directory (32 bytes, file mode 0600): KMS key material and S3 object
 * keys are stored only wrapped under one, with AES-256-GCM, bound to what they belong to.
 */
export class RootKey {
  private constructor(private readonly key: Buffer) {}

  /** A root key that lives only in this process (for --in-memory). */
  static ephemeral(): RootKey {
    return new RootKey(randomBytesFast(KEY_BYTES));
  }

  /** A root key read from elsewhere (a `sealbox export` archive loaded into memory). */
  static fromBytes(key: Buffer): RootKey {
    if (key.length !== 32) throw new Error(`not a Sealbox root key (expected 32 bytes, found ${key.length})`);
    return new RootKey(Buffer.from(key));
  }

  /**
   * Loads a root key file of the data directory, creating it on first use.
   *
   * Created atomically, so a first start killed at any moment can start again: the key is written
   * to a temporary file, flushed to disk (fsync), then linked under its name (never replacing a
   * key another start put there first) and the directory flushed, so the name survives a power cut
   * too. A temporary file left by an interrupted start is removed. A key file of the wrong size can
   * only be the remains of such a start by an older Sealbox, which wrote the file in place: it is
   * replaced when `protects` (the database of what the key wraps) does not exist yet, as nothing
   * can have been wrapped under it; otherwise it is refused, since replacing it would lose data.
   */
  static inDirectory(dir: string, fileName: string, protects?: string): RootKey {
    const path = join(dir, fileName);
    const tmpPrefix = `.${fileName}.`;
    for (const entry of readdirSync(dir)) {
      if (entry.startsWith(tmpPrefix) && entry.endsWith('.tmp')) rmSync(join(dir, entry), { force: true });
    }
    let replace = false;
    if (existsSync(path)) {
      const existing = readPrivate(path);
      if (existing.length === KEY_BYTES) return new RootKey(existing);
      if (protects === undefined || existsSync(protects)) {
        throw new Error(`${path} is not a Sealbox root key (expected ${KEY_BYTES} bytes, found ${existing.length})`);
      }
      replace = true;
    }
    const key = randomBytesFast(KEY_BYTES);
    const tmp = join(dir, `${tmpPrefix}${randomBytesFast(8).toString('hex')}.tmp`);
    const fd = openPrivate(tmp, 'wx');
    try {
      for (let written = 0; written < key.length; ) written += writeSync(fd, key, written, key.length - written);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (replace) renameSync(tmp, path);
    else {
      try {
        linkSync(tmp, path);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EEXIST') {
          // Another start created it between our check and now: theirs is the key.
          rmSync(tmp, { force: true });
          return RootKey.inDirectory(dir, fileName, protects);
        }
        // A file system without hard links: the rename is atomic all the same.
        if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw err;
        renameSync(tmp, path);
      }
      rmSync(tmp, { force: true });
    }
    syncDirectory(dir);
    return new RootKey(key);
  }

  wrap(material: Buffer, context: string): Buffer {
    const iv = randomBytesFast(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([cipher.update(material), cipher.final()]);
    return Buffer.concat([iv, body, cipher.getAuthTag()]);
  }

  unwrap(wrapped: Buffer, context: string): Buffer {
    const decipher = createDecipheriv('aes-256-gcm', this.key, wrapped.subarray(0, 12));
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(wrapped.subarray(wrapped.length - 16));
    return Buffer.concat([decipher.update(wrapped.subarray(12, wrapped.length - 16)), decipher.final()]);
  }
}

/** The file's bytes, after setting it to 0600 (an older Sealbox or a copy may have left it looser). */
function readPrivate(path: string): Buffer {
  const fd = openPrivate(path, 'r');
  try {
    return readFileSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Flushes a directory's entries (a new name in it) to disk. */
function syncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
