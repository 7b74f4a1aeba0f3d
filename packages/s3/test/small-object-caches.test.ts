import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { CredentialProvider } from '@sealbox/sigv4';
import { lookupVersion } from '../src/access';
import type { S3Request } from '../src/context';
import { S3State } from '../src/state';
import { MetadataStore } from '../src/store/metadata-store';
import type { BucketRecord, ObjectVersion } from '../src/store/model';

/**
 * The per-change caches of the small GET/PUT paths, each against the change that must invalidate
 * it on the very next call: the bucket view (bucket writes, deletes, failed transactions), the
 * per-request object lookup (any object write), and inline blobs (staged until their row commits).
 */

const bucket = (name: string, extra: Partial<BucketRecord> = {}): BucketRecord => ({ name, accountId: '000000000000', region: 'us-east-1', creationDate: 0, ...extra });

function version(key: string, versionId: string, seq: number, blobId = 'f'.repeat(32)): ObjectVersion {
  return {
    bucket: 'b', key, versionId, seq, isLatest: true, deleteMarker: false, lastModified: 0, etag: 'e', size: 4,
    ownerAccountId: '000000000000', parts: [{ blobId, size: 4 }], meta: { userMetadata: [], tags: [{ key: 'v', value: versionId }] },
  };
}

describe('MetadataStore.bucketView', () => {
  it('is shared and frozen, and a bucket write, a delete or a failed transaction shows on the next call', () => {
    const meta = new MetadataStore(':memory:');
    expect(meta.bucketView('b')).toBeUndefined();
    // A bucket created after a miss was cached: seen at once.
    meta.putBucket(bucket('b'));
    const first = meta.bucketView('b')!;
    expect(first.policy).toBeUndefined();
    expect(meta.bucketView('b')).toBe(first);
    expect(() => ((first as BucketRecord).policy = 'x')).toThrow(TypeError);
    // A policy change (PutBucketPolicy writes the record): the next view has it.
    meta.putBucket(bucket('b', { policy: '{"Version":"2012-10-17","Statement":[]}', publicAccessBlock: { blockPublicAcls: true, ignorePublicAcls: true, blockPublicPolicy: true, restrictPublicBuckets: true } }));
    expect(meta.bucketView('b')?.policy).toBe('{"Version":"2012-10-17","Statement":[]}');
    expect(meta.bucketView('b')?.publicAccessBlock?.restrictPublicBuckets).toBe(true);
    expect(Object.isFrozen(meta.bucketView('b')!.publicAccessBlock)).toBe(true);
    // A change rolled back is not served.
    expect(() =>
      meta.transaction(() => {
        meta.putBucket(bucket('b', { objectOwnership: 'ObjectWriter' }));
        expect(meta.bucketView('b')?.objectOwnership).toBe('ObjectWriter');
        throw new Error('abort');
      }),
    ).toThrow('abort');
    expect(meta.bucketView('b')?.objectOwnership).toBeUndefined();
    meta.deleteBucket('b');
    expect(meta.bucketView('b')).toBeUndefined();
    // getBucket still hands out records of their own to change.
    meta.putBucket(bucket('b'));
    meta.getBucket('b')!.policy = 'changed locally';
    expect(meta.bucketView('b')?.policy).toBeUndefined();
    meta.close();
  });
});

describe('lookupVersion (one object lookup per request)', () => {
  it('answers a second time from the request, until any object is written', () => {
    const state = new S3State(undefined, {} as CredentialProvider);
    const meta = state.meta;
    const req = { state } as S3Request;
    const latest = jest.spyOn(meta, 'latest');
    expect(lookupVersion(req, 'b', 'k', undefined)).toBeUndefined();
    meta.transaction(() => meta.putLatest(version('k', 'v1', meta.nextSeq())));
    // Written since: the document just written is the key's latest version, no query needed.
    expect(lookupVersion(req, 'b', 'k', undefined)?.versionId).toBe('v1');
    expect(lookupVersion(req, 'b', 'k', undefined)?.versionId).toBe('v1');
    expect(latest).toHaveBeenCalledTimes(1);
    // Another version becomes the latest: seen on the next call.
    meta.transaction(() => meta.putLatest(version('k', 'v2', meta.nextSeq())));
    expect(lookupVersion(req, 'b', 'k', undefined)?.versionId).toBe('v2');
    // Tags rewritten in place (s3:ExistingObjectTag): seen.
    const v2 = meta.latest('b', 'k')!;
    v2.meta.tags = [{ key: 'v', value: 'retagged' }];
    meta.updateVersion(v2);
    expect(lookupVersion(req, 'b', 'k', undefined)?.meta.tags).toEqual([{ key: 'v', value: 'retagged' }]);
    // Deleted: seen.
    meta.transaction(() => meta.deleteVersion(meta.latest('b', 'k')!));
    expect(lookupVersion(req, 'b', 'k', undefined)?.versionId).toBe('v1');
    // Another key or version is another lookup.
    expect(lookupVersion(req, 'b', 'other', undefined)).toBeUndefined();
    expect(lookupVersion(req, 'b', 'k', 'v1')?.versionId).toBe('v1');
    // The latest version is shared between requests, frozen; a write by another request shows.
    const other = { state } as S3Request;
    const shared = lookupVersion(other, 'b', 'k', undefined)!;
    expect(lookupVersion(req, 'b', 'k', undefined)).toBe(shared);
    expect(Object.isFrozen(shared.meta)).toBe(true);
    meta.transaction(() => meta.putLatest(version('k', 'v3', meta.nextSeq())));
    expect(lookupVersion(other, 'b', 'k', undefined)?.versionId).toBe('v3');
    // A failed transaction (which may have changed rows before rolling back) ends the memo too.
    lookupVersion(req, 'b', 'k', undefined);
    const before = meta.objectsGeneration;
    expect(() => meta.transaction(() => { throw new Error('abort'); })).toThrow('abort');
    expect(meta.objectsGeneration).not.toBe(before);
    state.close();
  });
});

describe('MetadataStore.latestView (per key)', () => {
  it('is replaced by a write of its key only, and dropped by a delete, a tag rewrite and any failed transaction or savepoint', () => {
    const meta = new MetadataStore(':memory:');
    meta.transaction(() => meta.putLatest(version('k', 'v1', meta.nextSeq())));
    meta.transaction(() => meta.putLatest(version('j', 'j1', meta.nextSeq())));
    const k = meta.latestView('b', 'k')!;
    expect(k.versionId).toBe('v1');
    expect(Object.isFrozen(k.meta)).toBe(true);
    // Another key's write leaves this key's view shared as it was.
    meta.transaction(() => meta.putLatest(version('j', 'j2', meta.nextSeq())));
    expect(meta.latestView('b', 'k')).toBe(k);
    expect(meta.latestView('b', 'j')?.versionId).toBe('j2');
    // A write of the key: the next call has it.
    meta.transaction(() => meta.putLatest(version('k', 'v2', meta.nextSeq())));
    expect(meta.latestView('b', 'k')?.versionId).toBe('v2');
    // Tags rewritten in place.
    const v2 = meta.latest('b', 'k')!;
    v2.meta.tags = [{ key: 'v', value: 'retagged' }];
    meta.updateVersion(v2);
    expect(meta.latestView('b', 'k')?.meta.tags).toEqual([{ key: 'v', value: 'retagged' }]);
    // Deleted: the version before is the latest again.
    meta.transaction(() => meta.deleteVersion(meta.latest('b', 'k')!));
    expect(meta.latestView('b', 'k')?.versionId).toBe('v1');
    // A write rolled back (its transaction, or only its savepoint) is not served, even if read inside it.
    expect(() =>
      meta.transaction(() => {
        meta.putLatest(version('k', 'v3', meta.nextSeq()));
        expect(meta.latestView('b', 'k')?.versionId).toBe('v3');
        throw new Error('abort');
      }),
    ).toThrow('abort');
    expect(meta.latestView('b', 'k')?.versionId).toBe('v1');
    meta.transaction(() => {
      expect(() =>
        meta.transaction(() => {
          meta.putLatest(version('k', 'v4', meta.nextSeq()));
          expect(meta.latestView('b', 'k')?.versionId).toBe('v4');
          throw new Error('abort');
        }),
      ).toThrow('abort');
    });
    expect(meta.latestView('b', 'k')?.versionId).toBe('v1');
    // A delete marker is a latest version too.
    meta.transaction(() => meta.putLatest({ ...version('k', 'dm', meta.nextSeq()), deleteMarker: true, parts: [] }));
    expect(meta.latestView('b', 'k')?.deleteMarker).toBe(true);
    meta.close();
  });
});

describe('MetadataStore.nextSeq', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'sealbox-seq-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const stored = () => {
    const db = new Database(join(dir, 's3.db'), { readonly: true });
    try {
      return (db.prepare("SELECT value FROM counters WHERE name = 'seq'").get() as { value: number } | undefined)?.value;
    } finally {
      db.close();
    }
  };

  it('reserves numbers in blocks, rewrites a reservation a rollback undid, and continues past them after a restart', () => {
    let meta = new MetadataStore(join(dir, 's3.db'));
    expect(meta.nextSeq()).toBe(1);
    const block = stored()!;
    expect(block).toBeGreaterThanOrEqual(1);
    for (let i = 2; i <= block; i++) expect(meta.nextSeq()).toBe(i);
    expect(stored()).toBe(block);
    // The reservation of the next block is written in a transaction that fails: written again.
    expect(() => meta.transaction(() => {
      meta.nextSeq();
      throw new Error('abort');
    })).toThrow('abort');
    expect(stored()).toBe(block);
    const after = meta.transaction(() => meta.nextSeq());
    expect(after).toBe(block + 2);
    expect(stored()!).toBeGreaterThanOrEqual(after);
    meta.close();
    // Restarted (or killed): every number from now on is past every one handed out.
    meta = new MetadataStore(join(dir, 's3.db'));
    expect(meta.nextSeq()).toBeGreaterThan(after);
    meta.close();
  });
});

describe('inline blobs', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'sealbox-inline-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const rows = (path: string) => {
    const db = new Database(path, { readonly: true });
    try {
      return (db.prepare('SELECT id FROM inline_blobs ORDER BY id').all() as { id: number }[]).map((r) => `i${r.id.toString(16)}`);
    } finally {
      db.close();
    }
  };

  it('are written with the row that refers to them, in its transaction, and survive a rolled back one', () => {
    const state = new S3State(dir, {} as CredentialProvider);
    const { meta, blobs } = state;
    meta.putBucket(bucket('b'));
    const id = blobs.writeNow(Buffer.from('body'), true);
    expect(id).toMatch(/^i[0-9a-f]{1,13}$/);
    // Staged: readable, not yet in the database.
    expect(blobs.readNow(id, 1, 2).toString()).toBe('od');
    expect(rows(join(dir, 's3.db'))).toEqual([]);
    // A commit that fails takes the row back; the bytes stay staged for the next attempt.
    expect(() =>
      meta.transaction(() => {
        meta.putLatest(version('k', 'null', meta.nextSeq(), id));
        throw new Error('abort');
      }),
    ).toThrow('abort');
    expect(rows(join(dir, 's3.db'))).toEqual([]);
    expect(blobs.readNow(id, 0, 3).toString()).toBe('body');
    meta.transaction(() => meta.putLatest(version('k', 'null', meta.nextSeq(), id)));
    expect(rows(join(dir, 's3.db'))).toEqual([id]);
    expect(blobs.readNow(id, 0, 3).toString()).toBe('body');
    // Larger than INLINE_BLOB_BYTES, or not asked for: a file.
    expect(blobs.writeNow(Buffer.alloc(64 * 1024 + 1), true)).toMatch(/^[0-9a-f]{32}$/);
    expect(blobs.writeNow(Buffer.from('part'))).toMatch(/^[0-9a-f]{32}$/);
    state.close();

    // Read back by a new process's state (another start): the bytes came from the database.
    const again = new S3State(dir, {} as CredentialProvider);
    expect(again.blobs.readNow(id, 0, 3).toString()).toBe('body');
    again.close();
  });

  it('are deleted in the next transaction, and those no row refers to are removed at the next start', async () => {
    const state = new S3State(dir, {} as CredentialProvider);
    const { meta, blobs } = state;
    const kept = blobs.writeNow(Buffer.from('kept'), true);
    meta.transaction(() => meta.putLatest(version('k', 'null', meta.nextSeq(), kept)));
    const gone = blobs.writeNow(Buffer.from('gone'), true);
    meta.transaction(() => meta.putLatest(version('g', 'null', meta.nextSeq(), gone)));
    expect(rows(join(dir, 's3.db')).sort()).toEqual([gone, kept].sort());
    const row = meta.latest('b', 'g')!;
    meta.transaction(() => meta.deleteVersion(row));
    blobs.delete(gone);
    // Queued: done by the next transaction, or within the tick.
    await new Promise((resolve) => setImmediate(resolve));
    expect(rows(join(dir, 's3.db'))).toEqual([kept]);
    expect(() => blobs.readNow(gone, 0, 0)).toThrow(/ENOENT/);
    // A staged blob deleted before its row was written never reaches the database.
    const dropped = blobs.writeNow(Buffer.from('dropped'), true);
    blobs.delete(dropped);
    meta.transaction(() => meta.putLatest(version('d', 'null', meta.nextSeq(), dropped)));
    expect(rows(join(dir, 's3.db'))).toEqual([kept]);
    state.close();

    // A row the crash left without its object (written directly, as a commit that died after
    // inserting its blob would): removed at the next start; referenced ones stay.
    const db = new Database(join(dir, 's3.db'));
    db.prepare('INSERT INTO inline_blobs (id, bytes) VALUES (?, ?)').run(1000, Buffer.from('orphan'));
    db.close();
    const again = new S3State(dir, {} as CredentialProvider);
    expect(rows(join(dir, 's3.db'))).toEqual([kept]);
    expect(again.blobs.readNow(kept, 0, 3).toString()).toBe('kept');
    again.close();
  });
});
