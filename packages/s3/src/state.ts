import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { privateDir, privateTree, RootKey } from '@sealbox/runtime';
import type { CredentialProvider } from '@sealbox/sigv4';
import { BucketKeyCache } from './bucket-keys';
import type { KmsClient } from './kms-client';
import { BlobStore } from './store/blob-store';
import { MetadataStore } from './store/metadata-store';

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
  ) {
    if (dataDir) {
      // The user's alone: what an older Sealbox or a copy left readable to others is tightened.
      privateDir(dataDir);
      privateTree(join(dataDir, 's3'));
      this.rootKey = RootKey.inDirectory(dataDir, 's3.key', join(dataDir, 's3.db'));
      this.meta = new MetadataStore(join(dataDir, 's3.db'));
      this.blobs = new BlobStore(join(dataDir, 's3'));
      this.blobs.removeOrphans(this.meta.referencedBlobs());
    } else {
      this.rootKey = RootKey.ephemeral();
      this.meta = new MetadataStore(':memory:');
      this.blobs = new BlobStore(mkdtempSync(join(tmpdir(), 'sealbox-s3-')), true);
    }
  }

  close(): void {
    this.kms?.close?.();
    this.meta.close();
    this.blobs.close();
  }
}
