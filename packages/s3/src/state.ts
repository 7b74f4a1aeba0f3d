import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { privateDir, privateTree, RootKey } from '@sealbox/runtime';
import type { CredentialProvider } from '@sealbox/sigv4';
import { BucketKeyCache } from './bucket-keys';
import type { KmsClient } from './kms-client';
import { BlobStore } from './store/blob-store';
import { MetadataStore } from './store/metadata-store';

/** An in-memory S3's whole state: its metadata database, root key and object bytes by blob id. */
export interface S3Image {
  db: Buffer;
  rootKey: RootKey;
  blobs: ReadonlyMap<string, Buffer>;
}

/** The S3 service's state: metadata in SQLite, bytes in blob files. */
export class S3State {
  readonly meta: MetadataStore;
  readonly blobs: BlobStore;
  /** Wraps the data keys of objects (SSE-S3). */
  readonly rootKey: RootKey;
  readonly bucketKeys = new BucketKeyCache();

  /** With no data directory, metadata lives in memory and blobs in a temporary directory removed at close. */
  constructor(
    dataDir: string | undefined,
    /** Who may sign: POST uploads verify their form signatures against these. */
    readonly credentials: CredentialProvider,
    /** The KMS that SSE-KMS objects are encrypted through. */
    readonly kms?: KmsClient & { close?(): void },
    /** In memory, start from this state (`image()` of another state, or a loaded archive). */
    image?: S3Image,
  ) {
    if (dataDir) {
      // The user's alone: what an older Sealbox or a copy left readable to others is tightened.
      privateDir(dataDir);
      privateTree(join(dataDir, 's3'));
      this.rootKey = RootKey.inDirectory(dataDir, 's3.key', join(dataDir, 's3.db'));
      this.meta = new MetadataStore(join(dataDir, 's3.db'));
      this.blobs = new BlobStore(join(dataDir, 's3'), false, this.meta);
      const referenced = this.meta.referencedBlobs();
      this.blobs.removeOrphans(referenced);
      this.meta.removeInlineOrphans(referenced);
    } else {
      this.rootKey = image?.rootKey ?? RootKey.ephemeral();
      this.meta = new MetadataStore(image?.db ?? ':memory:');
      this.blobs = new BlobStore(mkdtempSync(join(tmpdir(), 'sealbox-s3-')), true, this.meta);
      if (image) this.blobs.copyIn(image.blobs);
    }
  }

  /** This state as an image for the constructor (in memory only). */
  image(): S3Image {
    return { db: this.meta.serialize(), rootKey: this.rootKey, blobs: this.blobs.copyOut(this.meta.referencedBlobs()) };
  }

  /**
   * SSE-S3 data keys by their wrapped form: unwrapped (AES-GCM under the root key) once, not on
   * every read of the object. The root key never changes within a state (a reset or a restored
   * snapshot makes a new state, with an empty cache), so an entry never goes stale; the map is
   * bounded and holds nothing that reaches the disk.
   */
  private readonly dataKeys = new Map<string, Buffer>();
  unwrapDataKey(wrappedKey: string, context: string): Buffer {
    const cacheKey = `${context}\n${wrappedKey}`;
    let key = this.dataKeys.get(cacheKey);
    if (key === undefined) {
      key = this.rootKey.unwrap(Buffer.from(wrappedKey, 'base64'), context);
      if (this.dataKeys.size >= 4096) this.dataKeys.clear();
      this.dataKeys.set(cacheKey, key);
    }
    return key;
  }

  close(): void {
    this.dataKeys.clear();
    this.kms?.close?.();
    this.meta.close();
    this.blobs.close();
  }
}
