import Database from 'better-sqlite3';

/**
 * Sealbox never creates views or triggers, and a crafted database could use them: a view named
 * like a table, defined by an endless recursive query, makes counting its rows never return.
 */
function rejectViewsAndTriggers(db: Database.Database, path: string): void {
  const found = db.prepare(`SELECT type, name FROM sqlite_master WHERE type IN ('view', 'trigger') LIMIT 1`).get() as { type: string; name: string } | undefined;
  if (found) throw new Error(`${path} holds a ${found.type} (${JSON.stringify(found.name)}), which Sealbox never creates`);
}

/** What an S3 database holds, for a snapshot's manifest and to check an imported copy against it. */
export interface S3DatabaseCounts {
  buckets: number;
  /** Object versions, delete markers included. */
  objects: number;
  /** Multipart uploads in progress. */
  uploads: number;
  /** Blob files the rows refer to. */
  blobs: number;
}

/** File blob ids are 32 hex digits (BlobStore.write); anything else read from a database is refused. */
const BLOB_ID = /^[0-9a-f]{32}$/;

/**
 * A blob's file, relative to the S3 directory of a data directory (`<dataDir>/s3`): the layout of
 * BlobStore, `blobs/<first two hex digits>/<id>`.
 */
export function blobFile(blobId: string): string {
  if (!BLOB_ID.test(blobId)) throw new Error(`not a blob id: ${JSON.stringify(blobId)}`);
  return `blobs/${blobId.slice(0, 2)}/${blobId}`;
}

// Every blob a row refers to, once: objects (not delete markers) through their parts, and the
// parts of uploads in progress. UNION removes duplicates inside SQLite, so memory stays flat.
// Blobs kept in the database itself (inline_blobs, ids "i" and 1 to 13 lower-case hex digits, as
// inlineRow in metadata-store.ts reads them) travel with it: not files. Exactly those are left out;
// every other id (NULL, a number, "I..." which LIKE would have matched, "i/..") is listed, and so
// refused by referencedBlobIds as not a file blob id.
const INLINE_ID = `typeof(id) = 'text' AND id GLOB 'i[0-9a-f]*' AND NOT substr(id, 2) GLOB '*[^0-9a-f]*' AND length(id) <= 14`;
const BLOB_IDS = `
SELECT id FROM (
SELECT json_extract(part.value, '$.blobId') AS id FROM objects, json_each(objects.doc, '$.parts') AS part WHERE objects.delete_marker = 0
UNION SELECT json_extract(doc, '$.blobId') FROM objects WHERE delete_marker = 0 AND json_extract(doc, '$.blobId') IS NOT NULL
UNION SELECT json_extract(doc, '$.blobId') FROM parts
) WHERE NOT (${INLINE_ID})
ORDER BY 1`;

/**
 * Copies the S3 database at `source` to the new file `dest` as one consistent snapshot, even while
 * a running Sealbox writes to it (VACUUM INTO: one read transaction; see snapshotKmsDatabase).
 */
export function snapshotS3Database(source: string, dest: string): S3DatabaseCounts {
  const db = new Database(source, { readonly: true, fileMustExist: true });
  try {
    db.prepare('VACUUM INTO ?').run(dest);
  } finally {
    db.close();
  }
  return s3DatabaseCounts(dest);
}

/** Checks the database file's structure (quick_check) and counts its rows and blobs. */
export function s3DatabaseCounts(path: string): S3DatabaseCounts {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const check = db.pragma('quick_check', { simple: true });
    if (check !== 'ok') throw new Error(`${path} is damaged: ${String(check)}`);
    rejectViewsAndTriggers(db, path);
    const count = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
    return {
      buckets: count('SELECT count(*) AS n FROM buckets'),
      objects: count('SELECT count(*) AS n FROM objects'),
      uploads: count('SELECT count(*) AS n FROM uploads'),
      blobs: count(`SELECT count(*) AS n FROM (${BLOB_IDS})`),
    };
  } finally {
    db.close();
  }
}

/** The blob ids an S3 database refers to, in order, each once; read lazily (the database stays open until the loop ends). */
export function* referencedBlobIds(path: string): Generator<string> {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    for (const row of db.prepare(BLOB_IDS).pluck().iterate()) {
      const id = String(row);
      if (!BLOB_ID.test(id)) throw new Error(`${path} refers to a malformed blob id ${JSON.stringify(id)}`);
      yield id;
    }
  } finally {
    db.close();
  }
}
