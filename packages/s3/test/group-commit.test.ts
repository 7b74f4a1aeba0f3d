import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { CredentialProvider } from '@sealbox/sigv4';
import { S3State } from '../src/state';
import type { BucketRecord, ObjectVersion } from '../src/store/model';

/**
 * MetadataStore.commitSoon, the group commit of PutObject: the writes asked for in one turn of
 * the event loop commit in one transaction, each answered once that transaction committed, each
 * in a savepoint of its own (one failing fails alone), in the order asked (each sees the earlier
 * ones), retried alone if the batch's transaction fails as a whole.
 */

const bucket = (name: string): BucketRecord => ({ name, accountId: '000000000000', region: 'us-east-1', creationDate: 0 });

function version(key: string, versionId: string, seq: number, blobId = 'f'.repeat(32)): ObjectVersion {
  return {
    bucket: 'b', key, versionId, seq, isLatest: true, deleteMarker: false, lastModified: 0, etag: versionId, size: 4,
    ownerAccountId: '000000000000', parts: [{ blobId, size: 4 }], meta: { userMetadata: [] },
  };
}

describe('MetadataStore.commitSoon', () => {
  let dir: string;
  let state: S3State;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sealbox-group-'));
    state = new S3State(dir, {} as CredentialProvider);
    state.meta.putBucket(bucket('b'));
  });
  afterEach(() => {
    state.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** What another process reading the database sees: only what has committed. */
  const committed = (key: string): string | undefined => {
    const db = new Database(join(dir, 's3.db'), { readonly: true });
    try {
      return (db.prepare("SELECT json_extract(doc, '$.etag') AS etag FROM objects WHERE bucket = 'b' AND key = ? AND is_latest = 1").get(key) as { etag: string } | undefined)?.etag;
    } finally {
      db.close();
    }
  };

  it('commits the writes of one turn in one transaction, and answers each once it committed', async () => {
    const { meta } = state;
    const spy = jest.spyOn(meta, 'transaction');
    const put = (key: string, etag: string) =>
      meta.commitSoon(() => {
        const v = version(key, etag, meta.nextSeq());
        meta.putLatest(v);
        return v.etag;
      });
    const answers: string[] = [];
    const all = Promise.all(['a', 'b', 'c'].map((k) => put(k, `e-${k}`).then((e) => (answers.push(e), committed(k)))));
    // Nothing committed (nor answered) within the turn that asked.
    expect(committed('a')).toBeUndefined();
    await Promise.resolve();
    expect(answers).toEqual([]);
    // Each answer finds its write committed (kill -9 after the answer keeps it).
    expect(await all).toEqual(['e-a', 'e-b', 'e-c']);
    // One transaction (the outer call), the three writes as savepoints inside it.
    expect(spy.mock.calls.length).toBe(4);
    expect(spy.mock.results.filter((r) => r.type === 'return').length).toBe(4);
  });

  it('fails one write alone, and each write sees those asked for before it (a conditional PUT after a PUT of the same key)', async () => {
    const { meta, blobs } = state;
    const ifNoneMatch = (key: string) => () => {
      if (meta.latest('b', key)) throw new Error('PreconditionFailed');
    };
    const put = (key: string, etag: string, check?: () => void) => {
      const blobId = blobs.writeNow(Buffer.from(etag.padEnd(4, '.').slice(0, 4)), true);
      return meta.commitSoon(() => {
        check?.();
        meta.putLatest(version(key, 'null', meta.nextSeq(), blobId), meta.latest('b', key)?.versionId === 'null');
        return blobId;
      });
    };
    const results = await Promise.allSettled([put('k', 'one'), put('k', 'two', ifNoneMatch('k')), put('j', 'jjj'), put('k', 'thr')]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toEqual(new Error('PreconditionFailed'));
    // The last write of k won; j landed beside the failure.
    expect(committed('k')).toBe('null');
    expect(meta.latest('b', 'k')!.parts[0]!.blobId).toBe((results[3] as PromiseFulfilledResult<string>).value);
    expect(meta.latest('b', 'j')).toBeDefined();
  });

  it('keeps the bytes of a write that failed staged (its savepoint took its row back), for a later commit of them', async () => {
    const { meta, blobs } = state;
    const ok = blobs.writeNow(Buffer.from('okok'), true);
    const failed = blobs.writeNow(Buffer.from('fail'), true);
    const results = await Promise.allSettled([
      meta.commitSoon(() => meta.putLatest(version('a', 'null', meta.nextSeq(), ok))),
      meta.commitSoon(() => {
        meta.putLatest(version('f', 'null', meta.nextSeq(), failed));
        throw new Error('abort');
      }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected']);
    expect(committed('f')).toBeUndefined();
    // Committed later, the bytes go with the row: read back after a restart.
    meta.transaction(() => meta.putLatest(version('f', 'null', meta.nextSeq(), failed)));
    state.close();
    state = new S3State(dir, {} as CredentialProvider);
    expect(state.blobs.readNow(failed, 0, 3).toString()).toBe('fail');
    expect(state.blobs.readNow(ok, 0, 3).toString()).toBe('okok');
  });

  it('keeps version order the order asked, and the last write the latest', async () => {
    const { meta } = state;
    const ids = ['v1'.padEnd(32, 'x'), 'v2'.padEnd(32, 'x'), 'v3'.padEnd(32, 'x')];
    await Promise.all(ids.map((id) => meta.commitSoon(() => meta.putLatest(version('k', id, meta.nextSeq())))));
    expect(meta.latest('b', 'k')!.versionId).toBe(ids[2]);
    expect(meta.listVersions('b', { key: '', seq: Infinity }, 10).map((v) => v.versionId)).toEqual([ids[2], ids[1], ids[0]]);
  });

  it('runs each write again alone when the batch transaction fails as a whole', async () => {
    const { meta } = state;
    // The batch's transaction fails outside any write (as a failed COMMIT would).
    const inline = meta as unknown as { flushInlineDeletes: () => void };
    jest.spyOn(inline, 'flushInlineDeletes').mockImplementationOnce(() => {
      throw new Error('disk I/O error');
    });
    let runs = 0;
    const results = await Promise.allSettled(
      ['a', 'b'].map((k) =>
        meta.commitSoon(() => {
          runs++;
          meta.putLatest(version(k, 'null', meta.nextSeq()));
          return k;
        }),
      ),
    );
    expect(results).toEqual([
      { status: 'fulfilled', value: 'a' },
      { status: 'fulfilled', value: 'b' },
    ]);
    expect(runs).toBe(2);
    expect(committed('a')).toBe('null');
    expect(committed('b')).toBe('null');
  });

  it('commits what is queued before a close or a snapshot image', async () => {
    const { meta } = state;
    const pending = meta.commitSoon(() => meta.putLatest(version('k', 'null', meta.nextSeq())));
    const memory = new S3State(undefined, {} as CredentialProvider);
    memory.meta.putBucket(bucket('b'));
    const held = memory.blobs.writeNow(Buffer.from('mmmm'));
    const queued = memory.meta.commitSoon(() => memory.meta.putLatest(version('m', 'null', memory.meta.nextSeq(), held)));
    const image = memory.image();
    await queued;
    memory.close();
    const restored = new S3State(undefined, {} as CredentialProvider, undefined, image);
    expect(restored.meta.latest('b', 'm')).toBeDefined();
    restored.close();
    state.close();
    await pending;
    state = new S3State(dir, {} as CredentialProvider);
    expect(state.meta.latest('b', 'k')).toBeDefined();
  });
});

describe('an overwrite removes the inline bytes it replaced in its own transaction', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'sealbox-drop-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const rows = () => {
    const db = new Database(join(dir, 's3.db'), { readonly: true });
    try {
      return (db.prepare('SELECT id FROM inline_blobs ORDER BY id').all() as { id: number }[]).map((r) => `i${r.id.toString(16)}`);
    } finally {
      db.close();
    }
  };

  it('commits the removal with the write, undoes it with a rolled back one, and leaves a blob a read holds', () => {
    let state = new S3State(dir, {} as CredentialProvider);
    const { meta, blobs } = state;
    const a = blobs.writeNow(Buffer.from('aaaa'), true);
    meta.transaction(() => meta.putLatest(version('k', 'null', meta.nextSeq(), a)));
    expect(blobs.readNow(a, 0, 3).toString()).toBe('aaaa');
    const b = blobs.writeNow(Buffer.from('bbbb'), true);
    meta.transaction(() => {
      meta.putLatest(version('k', 'null', meta.nextSeq(), b), true);
      expect(blobs.dropInTransaction(a)).toBe(true);
    });
    // Gone in the same commit: the row, and the bytes kept in memory.
    expect(rows()).toEqual([b]);
    expect(() => blobs.readNow(a, 0, 0)).toThrow(/ENOENT/);
    // Undone with a write that fails: b stays, readable after a restart.
    const c = blobs.writeNow(Buffer.from('cccc'), true);
    expect(() =>
      meta.transaction(() => {
        meta.putLatest(version('k', 'null', meta.nextSeq(), c), true);
        expect(blobs.dropInTransaction(b)).toBe(true);
        throw new Error('abort');
      }),
    ).toThrow('abort');
    expect(rows()).toEqual([b]);
    expect(blobs.readNow(b, 0, 3).toString()).toBe('bbbb');
    // Undone with a savepoint that fails, inside a transaction that commits.
    meta.transaction(() => {
      expect(() =>
        meta.transaction(() => {
          expect(blobs.dropInTransaction(b)).toBe(true);
          throw new Error('abort');
        }),
      ).toThrow('abort');
    });
    expect(rows()).toEqual([b]);
    expect(blobs.readNow(b, 0, 3).toString()).toBe('bbbb');
    // A read in flight holds b: not removed in the transaction (the caller deletes it once committed, deferred to the release).
    const release = blobs.pin([{ blobId: b }]);
    meta.transaction(() => expect(blobs.dropInTransaction(b)).toBe(false));
    release();
    // Files are never removed before the commit.
    expect(blobs.dropInTransaction('f'.repeat(32))).toBe(false);
    state.close();
    state = new S3State(dir, {} as CredentialProvider);
    expect(state.blobs.readNow(b, 0, 3).toString()).toBe('bbbb');
    expect(() => state.blobs.readNow(a, 0, 0)).toThrow(/ENOENT/);
    state.close();
  });
});
