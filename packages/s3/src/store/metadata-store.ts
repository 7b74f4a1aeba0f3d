import Database from 'better-sqlite3';
import { privateSqliteFiles } from '@sealbox/runtime';
import type { AccountSettings, BucketRecord, LifecycleEvent, MultipartUpload, ObjectVersion, PartRecord } from './model';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS buckets (
  name TEXT PRIMARY KEY,
  account TEXT NOT NULL,
  doc TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS objects (
  bucket TEXT NOT NULL,
  key TEXT NOT NULL,
  version_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  is_latest INTEGER NOT NULL,
  delete_marker INTEGER NOT NULL,
  doc TEXT NOT NULL,
  PRIMARY KEY (bucket, key, version_id)
);
CREATE INDEX IF NOT EXISTS objects_versions ON objects (bucket, key, seq);
CREATE TABLE IF NOT EXISTS uploads (
  upload_id TEXT PRIMARY KEY,
  bucket TEXT NOT NULL,
  key TEXT NOT NULL,
  doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS uploads_bucket ON uploads (bucket, key, upload_id);
CREATE TABLE IF NOT EXISTS parts (
  upload_id TEXT NOT NULL,
  part_number INTEGER NOT NULL,
  doc TEXT NOT NULL,
  PRIMARY KEY (upload_id, part_number)
);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS accounts (account TEXT PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS lifecycle_events (seq INTEGER PRIMARY KEY AUTOINCREMENT, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS inline_blobs (id INTEGER PRIMARY KEY, bytes BLOB NOT NULL);
`;

/**
 * What a listing (ListObjects, ListObjectsV2) shows of an object, computed from its document by
 * SQLite and kept in the objects_listing index beside the key, so that a page is read from the
 * index alone: no table row, no whole document parsed in JavaScript. SQLite keeps an index on
 * expressions up to date on every write of the row (json_set included) and in the same
 * transaction, so what a listing shows can never differ from the document, on the very next call.
 *
 * Beside LastModified (a number, formatted by the listing), the text of `<Contents>` after it, in
 * two parts around the Owner that only some listings show: from `<ETag>` to `</Size>`, and from
 * `<StorageClass>` to `</Contents>`. As el() builds them: escaped text, ChecksumAlgorithm and
 * ChecksumType only when there is a checksum, the STANDARD storage class when none is set. A page
 * then costs SQLite three values a row to hand over, instead of a whole document or seven fields.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html (Contents, in order)
 */
const escapeSql = (x: string) =>
  `replace(replace(replace(replace(replace(replace(${x}, '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), '"', '&quot;'), '''', '&apos;'), char(13), '&#13;')`;
const field = (path: string) => `json_extract(doc, '${path}')`;
const LISTED_AT = field('$.lastModified');
const LISTED_HEAD =
  `'<ETag>&quot;' || ${escapeSql(field('$.etag'))} || '&quot;</ETag>'` +
  ` || coalesce('<ChecksumAlgorithm>' || ${escapeSql(field('$.meta.checksum.algorithm'))} || '</ChecksumAlgorithm>', '')` +
  ` || coalesce('<ChecksumType>' || ${escapeSql(field('$.meta.checksum.type'))} || '</ChecksumType>', '')` +
  ` || coalesce('<Size>' || ${field('$.size')} || '</Size>', '')`;
const LISTED_TAIL = `'<StorageClass>' || ${escapeSql(`coalesce(${field('$.meta.storageClass')}, 'STANDARD')`)} || '</StorageClass></Contents>'`;
const LISTED_OWNER = field('$.ownerAccountId');
/** Replaces objects_latest (bucket, is_latest, key), of which it is an extension. */
const LISTING_INDEX = `CREATE INDEX objects_listing ON objects (bucket, is_latest, key, delete_marker, ${LISTED_AT}, ${LISTED_HEAD}, ${LISTED_TAIL}, ${LISTED_OWNER})`;
// Each expression exactly as in the index (parenthesized: `a || b` alone would parse into other
// subexpressions), so that SQLite reads its value from the index instead of computing it.
const LISTING_COLUMNS = `key, ${LISTED_AT}, (${LISTED_HEAD}) || (${LISTED_TAIL})`;
const LISTING_COLUMNS_WITH_OWNER = `key, ${LISTED_AT}, ${LISTED_HEAD}, ${LISTED_OWNER}, ${LISTED_TAIL}`;
const LISTING_AFTER = 'FROM objects WHERE bucket = ? AND is_latest = 1 AND delete_marker = 0 AND key > ? ORDER BY key LIMIT ?';
const LISTING_FROM = 'FROM objects WHERE bucket = ? AND is_latest = 1 AND delete_marker = 0 AND key >= ? ORDER BY key LIMIT ?';

/** One current object as a listing shows it. */
export interface ListingEntry {
  key: string;
  /** Milliseconds since the epoch. */
  lastModified: number;
  /** The `<Contents>` text after `</LastModified>`: `<ETag>` to `</Contents>`, the Owner included when asked for. */
  rest: string;
}

type ListingRow = [key: string, lastModified: number, rest: string];
type ListingRowWithOwner = [key: string, lastModified: number, head: string, owner: string, tail: string];

/**
 * Data directories (and snapshot images) made before the listing index have objects_latest
 * instead: the index is built once when they open. One whose objects_listing is not this one
 * (another release's, or an imported archive's) gets this one, so listings are always read whole
 * from the index.
 */
function migrateListingIndex(db: Database.Database): void {
  const row = db.prepare<[], { sql: string | null }>("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = 'objects_listing'").get();
  if (row?.sql === LISTING_INDEX) return;
  db.transaction(() => {
    if (row) db.exec('DROP INDEX objects_listing');
    db.exec('DROP INDEX IF EXISTS objects_latest');
    db.exec(LISTING_INDEX);
  })();
}

/**
 * Blob ids of bytes kept in the database (inline_blobs) are "i" and the row's id in hex; file
 * blobs are 32 hex digits. The row id is the table's rowid (one B-tree, no index to keep).
 */
export const INLINE_BLOB_PREFIX = 'i';
export const isInlineBlob = (blobId: string) => blobId.startsWith(INLINE_BLOB_PREFIX);
const inlineRow = (blobId: string) => {
  const n = Number.parseInt(blobId.slice(1), 16);
  if (!/^i[0-9a-f]{1,13}$/.test(blobId) || !Number.isSafeInteger(n)) throw Object.assign(new Error(`ENOENT: not an inline blob id ${JSON.stringify(blobId)}`), { code: 'ENOENT' });
  return n;
};

/** The most bytes of inline blobs MetadataStore keeps in memory (a read cache). */
const INLINE_CACHE_BYTES = 32 * 1024 * 1024;

/** How many version numbers one write of the counter reserves (nextSeq). */
const SEQ_BLOCK = 1024;

/** The lifecycle log keeps the newest removals only. */
const MAX_LIFECYCLE_EVENTS = 10_000;

/**
 * S3 metadata in SQLite (WAL mode). Keys are TEXT, which SQLite compares byte by byte in UTF-8,
 * so listings come out in S3's order. Each record is a JSON document beside the columns queries
 * need.
 */
export class MetadataStore {
  private readonly db: Database.Database;
  private readonly stmt;
  private seq: number;
  /** One transaction wrapper for every body (better-sqlite3 builds a new one per `transaction` call). */
  private readonly inTransaction: (fn: () => unknown) => unknown;
  /**
   * Bucket documents by name (null: no such bucket), read on every request. Writes and deletes
   * drop the entry, and a failed transaction drops them all, so nothing uncommitted is served.
   */
  private readonly bucketDocs = new Map<string, string | null>();

  /** `path` a file, `:memory:`, or a database image (`serialize()`) opened in memory. */
  constructor(path: string | Buffer) {
    // 0600, its -wal and -shm too: the user's alone, as the whole data directory is.
    if (typeof path === 'string' && path !== ':memory:') privateSqliteFiles(path);
    this.db = new Database(path);
    if (typeof path === 'string' && path !== ':memory:') {
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = NORMAL');
    }
    this.db.exec(SCHEMA);
    migrateListingIndex(this.db);
    const db = this.db;
    this.stmt = {
      getBucket: db.prepare<[string], { doc: string }>('SELECT doc FROM buckets WHERE name = ?'),
      getAccount: db.prepare<[string], { doc: string }>('SELECT doc FROM accounts WHERE account = ?'),
      putAccount: db.prepare('INSERT INTO accounts (account, doc) VALUES (?, ?) ON CONFLICT (account) DO UPDATE SET doc = excluded.doc'),
      putBucket: db.prepare('INSERT INTO buckets (name, account, doc) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET doc = excluded.doc'),
      deleteBucket: db.prepare('DELETE FROM buckets WHERE name = ?'),
      listBuckets: db.prepare<[string, string], { doc: string }>('SELECT doc FROM buckets WHERE account = ? AND name > ? ORDER BY name'),
      allBuckets: db.prepare<[], { doc: string }>('SELECT doc FROM buckets ORDER BY name'),
      countLatest: db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM objects WHERE bucket = ? AND is_latest = 1 AND delete_marker = 0'),
      anyObject: db.prepare<[string], { n: number }>('SELECT 1 AS n FROM objects WHERE bucket = ? LIMIT 1'),
      latest: db.prepare<[string, string], { doc: string }>('SELECT doc FROM objects WHERE bucket = ? AND key = ? AND is_latest = 1'),
      version: db.prepare<[string, string, string], { doc: string }>('SELECT doc FROM objects WHERE bucket = ? AND key = ? AND version_id = ?'),
      putVersion: db.prepare(
        'INSERT INTO objects (bucket, key, version_id, seq, is_latest, delete_marker, doc) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (bucket, key, version_id) DO UPDATE SET seq = excluded.seq, is_latest = excluded.is_latest, delete_marker = excluded.delete_marker, doc = excluded.doc',
      ),
      clearLatest: db.prepare("UPDATE objects SET is_latest = 0, doc = json_set(doc, '$.isLatest', json('false')) WHERE bucket = ? AND key = ? AND is_latest = 1"),
      deleteVersion: db.prepare('DELETE FROM objects WHERE bucket = ? AND key = ? AND version_id = ?'),
      newestVersion: db.prepare<[string, string], { version_id: string }>('SELECT version_id FROM objects WHERE bucket = ? AND key = ? ORDER BY seq DESC LIMIT 1'),
      setLatest: db.prepare("UPDATE objects SET is_latest = 1, doc = json_set(doc, '$.isLatest', json('true')) WHERE bucket = ? AND key = ? AND version_id = ?"),
      // Raw rows (arrays): better-sqlite3 builds a row object property by property, several times
      // slower than the arrays plus listingEntry's object literal.
      listLatest: db.prepare<[string, string, number], ListingRow>(`SELECT ${LISTING_COLUMNS} ${LISTING_AFTER}`).raw(),
      listLatestFrom: db.prepare<[string, string, number], ListingRow>(`SELECT ${LISTING_COLUMNS} ${LISTING_FROM}`).raw(),
      listLatestOwners: db.prepare<[string, string, number], ListingRowWithOwner>(`SELECT ${LISTING_COLUMNS_WITH_OWNER} ${LISTING_AFTER}`).raw(),
      listLatestOwnersFrom: db.prepare<[string, string, number], ListingRowWithOwner>(`SELECT ${LISTING_COLUMNS_WITH_OWNER} ${LISTING_FROM}`).raw(),
      listVersions: db.prepare<[string, string, string, number, number], { doc: string }>(
        'SELECT doc FROM objects WHERE bucket = ? AND (key > ? OR (key = ? AND seq < ?)) ORDER BY key, seq DESC LIMIT ?',
      ),
      getUpload: db.prepare<[string], { doc: string }>('SELECT doc FROM uploads WHERE upload_id = ?'),
      putUpload: db.prepare('INSERT INTO uploads (upload_id, bucket, key, doc) VALUES (?, ?, ?, ?)'),
      deleteUpload: db.prepare('DELETE FROM uploads WHERE upload_id = ?'),
      deleteParts: db.prepare('DELETE FROM parts WHERE upload_id = ?'),
      listUploads: db.prepare<[string], { doc: string }>('SELECT doc FROM uploads WHERE bucket = ? ORDER BY key, upload_id'),
      getPart: db.prepare<[string, number], { doc: string }>('SELECT doc FROM parts WHERE upload_id = ? AND part_number = ?'),
      putPart: db.prepare('INSERT INTO parts (upload_id, part_number, doc) VALUES (?, ?, ?) ON CONFLICT (upload_id, part_number) DO UPDATE SET doc = excluded.doc'),
      listParts: db.prepare<[string], { doc: string }>('SELECT doc FROM parts WHERE upload_id = ? ORDER BY part_number'),
      getCounter: db.prepare<[string], { value: number }>('SELECT value FROM counters WHERE name = ?'),
      setCounter: db.prepare('INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value'),
      addLifecycleEvent: db.prepare('INSERT INTO lifecycle_events (doc) VALUES (?)'),
      trimLifecycleEvents: db.prepare<[number]>('DELETE FROM lifecycle_events WHERE seq <= (SELECT max(seq) FROM lifecycle_events) - ?'),
      lifecycleEvents: db.prepare<[number, number], { seq: number; doc: string }>('SELECT seq, doc FROM lifecycle_events WHERE seq > ? ORDER BY seq LIMIT ?'),
      allBlobRefs: db.prepare<[], { doc: string }>('SELECT doc FROM objects WHERE delete_marker = 0 UNION ALL SELECT doc FROM parts'),
      putInline: db.prepare('INSERT OR REPLACE INTO inline_blobs (id, bytes) VALUES (?, ?)'),
      // substr on a BLOB counts bytes, from 1.
      readInline: db.prepare<[number, number, number], { b: Buffer }>('SELECT substr(bytes, ?, ?) AS b FROM inline_blobs WHERE id = ?'),
      deleteInline: db.prepare('DELETE FROM inline_blobs WHERE id = ?'),
      inlineIds: db.prepare<[], { id: number }>('SELECT id FROM inline_blobs'),
      maxInlineId: db.prepare<[], { n: number | null }>('SELECT max(id) AS n FROM inline_blobs'),
    };
    this.seq = this.stmt.getCounter.get('seq')?.value ?? 0;
    this.lastInlineId = this.stmt.maxInlineId.get()?.n ?? 0;
    this.inTransaction = this.db.transaction((fn: () => unknown) => fn());
  }

  /**
   * Bumped by every write to the objects table (and every failed transaction): a lookup memoized
   * under one generation (lookupVersion, access.ts) is stale under any other.
   */
  objectsGeneration = 0;

  transaction<T>(fn: () => T): T {
    if (this.db.inTransaction) {
      // Nested (a savepoint): its failure undoes its own writes, the counter's too.
      const inserted = this.insertedInTx.length;
      const dropped = this.droppedInTx.length;
      try {
        return this.inTransaction(fn) as T;
      } catch (err) {
        this.bucketDocs.clear();
        this.bucketViews.clear();
        this.latestViews.clear();
        this.objectsGeneration++;
        this.seqReserved = 0;
        // The inline bytes it inserted were rolled back with it: they stay staged.
        this.insertedInTx.length = inserted;
        this.droppedInTx.length = dropped;
        throw err;
      }
    }
    let result: T;
    try {
      result = this.inTransaction(() => {
        this.flushInlineDeletes();
        return fn();
      }) as T;
    } catch (err) {
      this.bucketDocs.clear();
      this.bucketViews.clear();
      this.latestViews.clear();
      this.objectsGeneration++;
      // A reservation of version numbers it wrote is undone: written again by the next nextSeq.
      this.seqReserved = 0;
      // Rolled back: the staged bytes written in it stay staged; the deletes stay queued.
      this.insertedInTx.length = 0;
      this.deletedInTx.length = 0;
      this.droppedInTx.length = 0;
      throw err;
    }
    this.settleInline();
    return result;
  }

  /**
   * Group commit: runs `fn` (a write) in the transaction that commits every write asked for in
   * the same turn of the event loop, and resolves with its result once that transaction has
   * committed (rejects with its error, or if it never commits). A commit is what makes a write
   * survive kill -9 (synchronous = NORMAL: in the WAL, no fsync), so a caller that acknowledges
   * only once this resolves keeps that promise, while concurrent writes share one transaction:
   * one lock round, and the pages they touch in common (index leaves, the inline blob table's
   * last page, the free list) written to the WAL once rather than once per write.
   *
   * The writes run in the order they were asked for, each in a savepoint of its own: one that
   * fails (a write condition, a constraint) is undone alone and fails alone, and each sees what
   * the earlier ones of its batch wrote (read-your-writes, If-None-Match against an earlier PUT
   * of the same key, version order = commit order). Should the batch's transaction itself fail,
   * every write is run again alone, in order. `fn` may thus run more than once: it must set, not
   * accumulate, what it leaves outside. Nothing outside the flush sees the open transaction: it
   * is opened, run and committed in one synchronous call.
   */
  commitSoon<T>(fn: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pendingWrites.push({ fn, resolve: resolve as (value: unknown) => void, reject });
      if (this.pendingWrites.length === 1) setImmediate(this.flushWrites);
    });
  }
  private pendingWrites: PendingWrite[] = [];
  /** Commits the writes commitSoon queued (at the end of the turn; at once before close and serialize). */
  private readonly flushWrites = (): void => {
    const batch = this.pendingWrites;
    if (batch.length === 0) return;
    this.pendingWrites = [];
    if (!this.db.open) {
      for (const w of batch) w.reject(new Error('The S3 metadata store is closed'));
      return;
    }
    if (batch.length === 1) {
      const w = batch[0]!;
      let value: unknown;
      try {
        value = this.transaction(w.fn);
      } catch (err) {
        w.reject(err);
        return;
      }
      w.resolve(value);
      return;
    }
    const outcomes: { ok: boolean; value: unknown }[] = [];
    try {
      this.transaction(() => {
        for (const w of batch) {
          try {
            outcomes.push({ ok: true, value: this.transaction(w.fn) });
          } catch (err) {
            outcomes.push({ ok: false, value: err });
          }
        }
      });
    } catch {
      // The batch's transaction failed as a whole (its COMMIT, say): nothing of it landed. Each
      // write again, alone, in order, so that none fails for another's sake.
      outcomes.length = 0;
      for (const w of batch) {
        try {
          outcomes.push({ ok: true, value: this.transaction(w.fn) });
        } catch (err) {
          outcomes.push({ ok: false, value: err });
        }
      }
    }
    batch.forEach((w, i) => (outcomes[i]!.ok ? w.resolve(outcomes[i]!.value) : w.reject(outcomes[i]!.value)));
  };

  // Small object bodies kept in the database (inline_blobs), beside their rows: no file to create,
  // open, close and unlink per object. A body is staged in memory (stageInline) until the row that
  // refers to it is written (putLatest), which inserts it in the same transaction: a crash leaves
  // both or neither, and an acknowledged PUT has its bytes in the WAL (which survives kill -9, as
  // the page cache kept blob files). Deletes are queued and done in the next transaction (or
  // within the tick): a crash before leaves an unreferenced row, removed at the next start.
  private readonly stagedInline = new Map<string, Buffer>();
  private readonly inlineDeletes = new Set<string>();
  private readonly insertedInTx: string[] = [];
  private readonly deletedInTx: string[] = [];
  /** Inline blobs removed in the open transaction (dropInlineInTransaction), forgotten once it commits. */
  private readonly droppedInTx: string[] = [];
  private deleteFlushScheduled = false;

  /**
   * Keeps a new inline blob's bytes until the row that refers to it is committed; its id. Ids
   * only grow within a process, and start past every row there is, so none is used twice.
   */
  stageInline(bytes: Buffer): string {
    const blobId = INLINE_BLOB_PREFIX + (++this.lastInlineId).toString(16);
    this.stagedInline.set(blobId, bytes);
    return blobId;
  }
  private lastInlineId: number;
  /** Stored bytes [from, to] inclusive of an inline blob; throws ENOENT when there is none. */
  readInline(blobId: string, from: number, to: number): Buffer {
    const held = this.stagedInline.get(blobId) ?? this.inlineCache.get(blobId);
    if (held) return held.subarray(from, to + 1);
    const row = this.stmt.readInline.get(1, INLINE_CACHE_BYTES, inlineRow(blobId));
    if (!row) throw Object.assign(new Error(`ENOENT: no inline blob ${blobId}`), { code: 'ENOENT' });
    const bytes = row.b ?? Buffer.alloc(0);
    this.cacheInline(blobId, bytes);
    return bytes.subarray(from, to + 1);
  }
  /**
   * The stored bytes of recently written or read inline blobs. A blob's bytes never change and
   * its id is never given to another within a process, so an entry is only ever removed: by the
   * blob's deletion (deleteInline), or to stay within INLINE_CACHE_BYTES.
   */
  private readonly inlineCache = new Map<string, Buffer>();
  private inlineCacheBytes = 0;
  private cacheInline(blobId: string, bytes: Buffer): void {
    if (bytes.length > INLINE_CACHE_BYTES / 64) return;
    if (this.inlineCacheBytes + bytes.length > INLINE_CACHE_BYTES) {
      this.inlineCache.clear();
      this.inlineCacheBytes = 0;
    }
    this.inlineCache.set(blobId, bytes);
    this.inlineCacheBytes += bytes.length;
  }
  /** Removes an inline blob (staged, or stored: then in the next transaction). */
  deleteInline(blobId: string): void {
    this.stagedInline.delete(blobId);
    const cached = this.inlineCache.get(blobId);
    if (cached) {
      this.inlineCache.delete(blobId);
      this.inlineCacheBytes -= cached.length;
    }
    this.inlineDeletes.add(blobId);
    if (!this.deleteFlushScheduled) {
      this.deleteFlushScheduled = true;
      setImmediate(() => {
        this.deleteFlushScheduled = false;
        if (this.inlineDeletes.size > 0 && this.db.open) this.transaction(() => undefined);
      }).unref();
    }
  }
  /**
   * Removes an inline blob in the open transaction: the one whose write made it unreferenced (an
   * overwrite of the null version), so that the removal commits with that write, or is undone
   * with it. The pages it frees are reused by the same transaction's inserts, and no transaction
   * of its own is needed later. For a blob no read holds (BlobStore.dropInTransaction checks).
   */
  dropInlineInTransaction(blobId: string): void {
    if (!this.db.inTransaction) throw new Error('dropInlineInTransaction outside a transaction');
    this.stmt.deleteInline.run(inlineRow(blobId));
    this.droppedInTx.push(blobId);
  }
  /** Inserts the staged bytes of the blobs a row being written refers to. */
  private writeStaged(parts: readonly { blobId: string }[]): void {
    for (const { blobId } of parts) {
      const bytes = this.stagedInline.get(blobId);
      if (!bytes) continue;
      this.stmt.putInline.run(inlineRow(blobId), bytes);
      this.insertedInTx.push(blobId);
    }
    if (!this.db.inTransaction) this.settleInline();
  }
  private flushInlineDeletes(): void {
    for (const id of this.inlineDeletes) {
      this.stmt.deleteInline.run(inlineRow(id));
      this.deletedInTx.push(id);
    }
  }
  /** After a commit: what it inserted is no longer staged, what it deleted no longer queued. */
  private settleInline(): void {
    for (const id of this.insertedInTx) {
      // Committed: from the staging map to the cache (a new object is often read soon).
      const bytes = this.stagedInline.get(id);
      if (bytes) this.cacheInline(id, bytes);
      this.stagedInline.delete(id);
    }
    for (const id of this.deletedInTx) this.inlineDeletes.delete(id);
    // Removed with the commit: no longer staged, cached or queued for removal.
    for (const id of this.droppedInTx) {
      this.stagedInline.delete(id);
      this.inlineDeletes.delete(id);
      const cached = this.inlineCache.get(id);
      if (cached) {
        this.inlineCache.delete(id);
        this.inlineCacheBytes -= cached.length;
      }
    }
    this.insertedInTx.length = 0;
    this.deletedInTx.length = 0;
    this.droppedInTx.length = 0;
  }
  /** Removes inline blobs no row refers to (a crash between a delete's commit and its blob's removal). */
  removeInlineOrphans(referenced: Set<string>): number {
    let removed = 0;
    this.inTransaction(() => {
      for (const { id } of this.stmt.inlineIds.all()) {
        if (!referenced.has(INLINE_BLOB_PREFIX + id.toString(16))) {
          this.stmt.deleteInline.run(id);
          removed++;
        }
      }
    });
    return removed;
  }

  /**
   * Version order numbers: increasing, not necessarily dense. The stored counter reserves a block
   * ahead (written once per SEQ_BLOCK versions, in the transaction of the first, rather than a
   * page of WAL per write), so a restart continues past every number handed out.
   */
  nextSeq(): number {
    this.seq += 1;
    if (this.seq > this.seqReserved) {
      this.seqReserved = this.seq + SEQ_BLOCK - 1;
      this.stmt.setCounter.run('seq', this.seqReserved);
    }
    return this.seq;
  }
  /** The counter as stored (committed or in the open transaction); 0: write it at the next nextSeq. */
  private seqReserved = 0;

  // Account-level settings (S3 Control): read on every request that weighs public access.
  private readonly accountDocs = new Map<string, AccountSettings>();
  getAccount(accountId: string): AccountSettings {
    let doc = this.accountDocs.get(accountId);
    if (doc === undefined) {
      const row = this.stmt.getAccount.get(accountId);
      doc = row ? (JSON.parse(row.doc) as AccountSettings) : {};
      if (this.accountDocs.size >= 10_000) this.accountDocs.clear();
      this.accountDocs.set(accountId, doc);
    }
    return { ...doc };
  }
  putAccount(accountId: string, settings: AccountSettings): void {
    this.accountDocs.delete(accountId);
    this.stmt.putAccount.run(accountId, JSON.stringify(settings));
  }

  // Buckets
  getBucket(name: string): BucketRecord | undefined {
    let doc = this.bucketDocs.get(name);
    if (doc === undefined) {
      doc = this.stmt.getBucket.get(name)?.doc ?? null;
      if (this.bucketDocs.size >= 10_000) this.bucketDocs.clear();
      this.bucketDocs.set(name, doc);
    }
    // Parsed each time: callers may change the record they get.
    return doc === null ? undefined : (JSON.parse(doc) as BucketRecord);
  }
  /**
   * A bucket's record shared by every reader until the bucket changes: parsed once per write
   * rather than once per request, frozen so that no reader can change it for the others. Readers
   * that change the record (configuration handlers) use getBucket.
   */
  bucketView(name: string): Readonly<BucketRecord> | undefined {
    const cached = this.bucketViews.get(name);
    if (cached !== undefined) return cached ?? undefined;
    const record = this.getBucket(name);
    if (record) deepFreeze(record);
    if (this.bucketViews.size >= 10_000) this.bucketViews.clear();
    this.bucketViews.set(name, record ?? null);
    return record;
  }
  private readonly bucketViews = new Map<string, BucketRecord | null>();

  putBucket(b: BucketRecord): void {
    this.bucketViews.delete(b.name);
    this.bucketDocs.delete(b.name);
    this.stmt.putBucket.run(b.name, b.accountId, JSON.stringify(b));
  }
  deleteBucket(name: string): void {
    this.bucketViews.delete(name);
    this.bucketDocs.delete(name);
    this.stmt.deleteBucket.run(name);
  }
  listBuckets(accountId: string, after = ''): BucketRecord[] {
    return this.stmt.listBuckets.all(accountId, after).map((r) => JSON.parse(r.doc) as BucketRecord);
  }
  /** Every bucket of every account (the console). */
  allBuckets(): BucketRecord[] {
    return this.stmt.allBuckets.all().map((r) => JSON.parse(r.doc) as BucketRecord);
  }
  /** How many objects a bucket holds (current versions that are not delete markers). */
  countObjects(bucket: string): number {
    return this.stmt.countLatest.get(bucket)?.n ?? 0;
  }
  /**
   * Whether a bucket holds no object version and no delete marker. Unfinished multipart uploads
   * do not count: DeleteBucket removes them with the bucket, as S3 does.
   */
  bucketIsEmpty(name: string): boolean {
    return !this.stmt.anyObject.get(name);
  }

  // Objects
  latest(bucket: string, key: string): ObjectVersion | undefined {
    const row = this.stmt.latest.get(bucket, key);
    return row ? (JSON.parse(row.doc) as ObjectVersion) : undefined;
  }
  /**
   * The latest version of a key (delete markers included), shared by every reader until that key
   * is written: parsed once, frozen so that no reader can change it for the others. For readers
   * that change nothing (authorization, GetObject, HeadObject). Every write of a key's rows goes
   * through putLatest, updateVersion or deleteVersion, which replace or drop the key's entry (a
   * new latest version is kept as the document just written, parsed when first read: the next
   * request for the key, often its next write's authorization, needs no query); a failed
   * transaction or savepoint, which may have undone any of them, drops every entry.
   */
  latestView(bucket: string, key: string): Readonly<ObjectVersion> | undefined {
    // Bucket names hold no "/": bucket/key names one key.
    const name = `${bucket}/${key}`;
    let v = this.latestViews.get(name);
    if (typeof v === 'string') {
      v = JSON.parse(v) as ObjectVersion;
      deepFreeze(v);
      this.latestViews.set(name, v);
    } else if (v === undefined) {
      v = this.latest(bucket, key) ?? null;
      if (v) deepFreeze(v);
      if (this.latestViews.size >= 10_000) this.latestViews.clear();
      this.latestViews.set(name, v);
    }
    return v ?? undefined;
  }
  /** By bucket/key: the frozen latest version, null for none, or the document of one just written. */
  private readonly latestViews = new Map<string, ObjectVersion | null | string>();
  /** A key's latest version is now `doc` (undefined: unknown, read again when asked for). */
  private latestChanged(bucket: string, key: string, doc?: string): void {
    const name = `${bucket}/${key}`;
    if (doc === undefined) this.latestViews.delete(name);
    else {
      if (this.latestViews.size >= 10_000) this.latestViews.clear();
      this.latestViews.set(name, doc);
    }
  }

  version(bucket: string, key: string, versionId: string): ObjectVersion | undefined {
    const row = this.stmt.version.get(bucket, key, versionId);
    return row ? (JSON.parse(row.doc) as ObjectVersion) : undefined;
  }
  /**
   * Adds a version as the latest (replacing a version with the same id, e.g. "null");
   * `replacesLatest` says the version with that id is the current latest.
   */
  putLatest(v: ObjectVersion, replacesLatest = false): void {
    // When the row being replaced is itself the latest (a "null" version overwritten), no other
    // row is, and the upsert below sets the flag: nothing to clear.
    this.objectsGeneration++;
    if (!replacesLatest) this.stmt.clearLatest.run(v.bucket, v.key);
    v.isLatest = true;
    if (this.stagedInline.size > 0) this.writeStaged(v.parts);
    const doc = JSON.stringify(v);
    this.stmt.putVersion.run(v.bucket, v.key, v.versionId, v.seq, 1, v.deleteMarker ? 1 : 0, doc);
    this.latestChanged(v.bucket, v.key, doc);
  }
  /** Rewrites a version's document in place (tags). */
  updateVersion(v: ObjectVersion): void {
    this.objectsGeneration++;
    // The key's shared latest version is read again (this may be it).
    this.stmt.putVersion.run(v.bucket, v.key, v.versionId, v.seq, v.isLatest ? 1 : 0, v.deleteMarker ? 1 : 0, JSON.stringify(v));
    this.latestChanged(v.bucket, v.key);
  }
  /** Removes one version; if it was the latest, the next newest becomes the latest. */
  deleteVersion(v: ObjectVersion): void {
    this.objectsGeneration++;
    this.latestChanged(v.bucket, v.key);
    this.stmt.deleteVersion.run(v.bucket, v.key, v.versionId);
    if (v.isLatest) {
      const next = this.stmt.newestVersion.get(v.bucket, v.key);
      if (next) this.stmt.setLatest.run(v.bucket, v.key, next.version_id);
    }
  }
  /**
   * Current (non-deleted) objects with key > after (or >= from), in key order, as a listing shows
   * them (read from the listing index alone); `owner` renders the Owner element, for listings
   * that show owners.
   */
  listLatest(bucket: string, bound: { after?: string; from?: string }, limit: number, owner?: (accountId: string) => string): ListingEntry[] {
    const from = bound.from !== undefined;
    const start = bound.from ?? bound.after ?? '';
    if (owner === undefined) {
      const rows = (from ? this.stmt.listLatestFrom : this.stmt.listLatest).all(bucket, start, limit);
      return rows.map((r) => ({ key: r[0], lastModified: r[1], rest: r[2] }));
    }
    const rows = (from ? this.stmt.listLatestOwnersFrom : this.stmt.listLatestOwners).all(bucket, start, limit);
    return rows.map((r) => ({ key: r[0], lastModified: r[1], rest: r[2] + owner(r[3]) + r[4] }));
  }
  /** The query plans of the listing statements (a test checks that they read the covering index alone). */
  listLatestPlans(): string[] {
    const { listLatest, listLatestFrom, listLatestOwners, listLatestOwnersFrom } = this.stmt;
    return [listLatest, listLatestFrom, listLatestOwners, listLatestOwnersFrom].map((st) =>
      this.db
        .prepare<[string, string, number], { detail: string }>(`EXPLAIN QUERY PLAN ${st.source}`)
        .all('', '', 1)
        .map((r) => r.detail)
        .join('\n'),
    );
  }
  /**
   * Every version and delete marker, by key then newest first, after the cursor: the versions of
   * `key` older than `seq` (all of them with seq Infinity), then every later key.
   */
  listVersions(bucket: string, cursor: { key: string; seq: number }, limit: number): ObjectVersion[] {
    const seq = Number.isFinite(cursor.seq) ? cursor.seq : Number.MAX_SAFE_INTEGER;
    return this.stmt.listVersions.all(bucket, cursor.key, cursor.key, seq, limit).map((r) => JSON.parse(r.doc) as ObjectVersion);
  }

  // Multipart uploads
  getUpload(uploadId: string): MultipartUpload | undefined {
    const row = this.stmt.getUpload.get(uploadId);
    return row ? (JSON.parse(row.doc) as MultipartUpload) : undefined;
  }
  putUpload(u: MultipartUpload): void {
    this.stmt.putUpload.run(u.uploadId, u.bucket, u.key, JSON.stringify(u));
  }
  deleteUpload(uploadId: string): void {
    this.stmt.deleteParts.run(uploadId);
    this.stmt.deleteUpload.run(uploadId);
  }
  listUploads(bucket: string): MultipartUpload[] {
    return this.stmt.listUploads.all(bucket).map((r) => JSON.parse(r.doc) as MultipartUpload);
  }
  getPart(uploadId: string, partNumber: number): PartRecord | undefined {
    const row = this.stmt.getPart.get(uploadId, partNumber);
    return row ? (JSON.parse(row.doc) as PartRecord) : undefined;
  }
  putPart(p: PartRecord): void {
    this.stmt.putPart.run(p.uploadId, p.partNumber, JSON.stringify(p));
  }
  listParts(uploadId: string): PartRecord[] {
    return this.stmt.listParts.all(uploadId).map((r) => JSON.parse(r.doc) as PartRecord);
  }

  // Lifecycle log: what the lifecycle rules removed (the console's view).
  addLifecycleEvent(e: LifecycleEvent): void {
    this.stmt.addLifecycleEvent.run(JSON.stringify(e));
    this.stmt.trimLifecycleEvents.run(MAX_LIFECYCLE_EVENTS);
  }
  /** Events after `after` (a seq), oldest first. */
  lifecycleEvents(after: number, limit: number): (LifecycleEvent & { seq: number })[] {
    return this.stmt.lifecycleEvents.all(after, limit).map((r) => ({ seq: r.seq, ...(JSON.parse(r.doc) as LifecycleEvent) }));
  }

  /** Every blob a row refers to (startup cleanup removes the rest). */
  referencedBlobs(): Set<string> {
    const ids = new Set<string>();
    for (const { doc } of this.stmt.allBlobRefs.all()) {
      const record = JSON.parse(doc) as { parts?: { blobId: string }[]; blobId?: string };
      if (record.blobId) ids.add(record.blobId);
      for (const p of record.parts ?? []) ids.add(p.blobId);
    }
    return ids;
  }

  /** The whole database as one image (an in-memory sandbox's snapshot). */
  serialize(): Buffer {
    // Writes queued for the end of this turn first: the image holds what has been asked for.
    this.flushWrites();
    return this.db.serialize();
  }

  close(): void {
    // Writes queued for the end of this turn land first, as they would have a moment later.
    this.flushWrites();
    if (this.inlineDeletes.size > 0) this.transaction(() => undefined);
    this.db.close();
  }
}

interface PendingWrite {
  fn: () => unknown;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

function deepFreeze(value: unknown): void {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const child of Object.values(value)) deepFreeze(child);
}
