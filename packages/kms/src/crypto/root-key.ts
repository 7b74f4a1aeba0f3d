import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT_KEY_FILE = 'root.key';

/**
 * The data directory's root key (32 bytes, file mode 0600). Key material is stored only wrapped
 * under it with AES-256-GCM, bound to the key and material ids it belongs to.
 */
export class RootKey {
  private constructor(private readonly key: Buffer) {}

  /** A root key that lives only in this process (for --in-memory). */
  static ephemeral(): RootKey {
    return new RootKey(randomBytes(32));
  }

  /** Loads the data directory's root key, creating it on first use. */
  static inDirectory(dir: string): RootKey {
    const path = join(dir, ROOT_KEY_FILE);
    if (!existsSync(path)) {
      writeFileSync(path, randomBytes(32), { mode: 0o600, flag: 'wx' });
    }
    chmodSync(path, 0o600);
    const key = readFileSync(path);
    if (key.length !== 32) throw new Error(`${path} is not a Sealbox root key (expected 32 bytes, found ${key.length})`);
    return new RootKey(key);
  }

  wrap(material: Buffer, context: string): Buffer {
    const iv = randomBytes(12);
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
