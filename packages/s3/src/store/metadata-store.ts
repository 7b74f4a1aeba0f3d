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
    };
    this.seq = this.stmt.getCounter.get('seq')?.value ?? 0;
    this.inTransaction = this.db.transaction((fn: () => unknown) => fn());
  }

  transaction<T>(fn: () => T): T {
    try {
      return this.inTransaction(fn) as T;
    } catch (err) {
      this.bucketDocs.clear();
      throw err;
    }
  }

  nextSeq(): number {
    this.seq += 1;
    this.stmt.setCounter.run('seq', this.seq);
    return this.seq;
  }

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
  putBucket(b: BucketRecord): void {
    this.bucketDocs.delete(b.name);
    this.stmt.putBucket.run(b.name, b.accountId, JSON.stringify(b));
  }
  deleteBucket(name: string): void {
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
    if (!replacesLatest) this.stmt.clearLatest.run(v.bucket, v.key);
    v.isLatest = true;
    this.stmt.putVersion.run(v.bucket, v.key, v.versionId, v.seq, 1, v.deleteMarker ? 1 : 0, JSON.stringify(v));
  }
  /** Rewrites a version's document in place (tags). */
  updateVersion(v: ObjectVersion): void {
    this.stmt.putVersion.run(v.bucket, v.key, v.versionId, v.seq, v.isLatest ? 1 : 0, v.deleteMarker ? 1 : 0, JSON.stringify(v));
  }
  /** Removes one version; if it was the latest, the next newest becomes the latest. */
  deleteVersion(v: ObjectVersion): void {
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
    return this.db.serialize();
  }

  close(): void {
    this.db.close();
  }
}
