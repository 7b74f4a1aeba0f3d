import { createCipheriv, createDecipheriv } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytesFast } from './random';

/**
 * A root key in the data directory (32 bytes, file mode 0600): KMS key material and S3 object
 * keys are stored only wrapped under one, with AES-256-GCM, bound to what they belong to.
 */
export class RootKey {
  private constructor(private readonly key: Buffer) {}

  /** A root key that lives only in this process (for --in-memory). */
  static ephemeral(): RootKey {
    return new RootKey(randomBytesFast(32));
  }

  /** A root key read from elsewhere (a `sealbox export` archive loaded into memory). */
  static fromBytes(key: Buffer): RootKey {
    if (key.length !== 32) throw new Error(`not a Sealbox root key (expected 32 bytes, found ${key.length})`);
    return new RootKey(Buffer.from(key));
  }

  /** Loads a root key file of the data directory, creating it on first use. */
  static inDirectory(dir: string, fileName: string): RootKey {
    const path = join(dir, fileName);
    if (!existsSync(path)) {
      writeFileSync(path, randomBytesFast(32), { mode: 0o600, flag: 'wx' });
    }
    chmodSync(path, 0o600);
    const key = readFileSync(path);
    if (key.length !== 32) throw new Error(`${path} is not a Sealbox root key (expected 32 bytes, found ${key.length})`);
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
