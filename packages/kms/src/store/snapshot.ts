import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { repairLog } from '../trail/trail';
import { SqliteKmsStore } from './sqlite-store';

/**
 * Sealbox never creates views or triggers, and a crafted database could use them: a view named
 * like a table, defined by an endless recursive query, makes counting its rows never return.
 */
function rejectViewsAndTriggers(db: Database.Database, path: string): void {
  const found = db.prepare(`SELECT type, name FROM sqlite_master WHERE type IN ('view', 'trigger') LIMIT 1`).get() as { type: string; name: string } | undefined;
  if (found) throw new Error(`${path} holds a ${found.type} (${JSON.stringify(found.name)}), which Sealbox never creates`);
}

/** What a KMS database holds, for a snapshot's manifest and to check an imported copy against it. */
export interface KmsDatabaseCounts {
  keys: number;
  materials: number;
  aliases: number;
  grants: number;
  events: number;
  customKeyStores: number;
}

/**
 * Copies the KMS database at `source` to the new file `dest` as one consistent snapshot, even while
 * a running Sealbox writes to it: VACUUM INTO reads inside a single read transaction, and WAL mode
 * lets that reader see the last committed state (a file copy of a live WAL database could tear).
 * The connection is read-only: the source is never written.
 */
export function snapshotKmsDatabase(source: string, dest: string): KmsDatabaseCounts {
  const db = new Database(source, { readonly: true, fileMustExist: true });
  try {
    db.prepare('VACUUM INTO ?').run(dest);
  } finally {
    db.close();
  }
  return kmsDatabaseCounts(dest);
}

/** Checks the database file's structure (quick_check) and counts its rows. */
export function kmsDatabaseCounts(path: string): KmsDatabaseCounts {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const check = db.pragma('quick_check', { simple: true });
    if (check !== 'ok') throw new Error(`${path} is damaged: ${String(check)}`);
    rejectViewsAndTriggers(db, path);
    const count = (table: string) => (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
    return {
      keys: count('keys'),
      materials: count('materials'),
      aliases: count('aliases'),
      grants: count('grants'),
      events: count('events'),
      customKeyStores: count('custom_key_stores'),
    };
  } finally {
    db.close();
  }
}

/**
 * Makes kms.db's events table whole from cloudtrail.jsonl in a data directory no Sealbox runs
 * on (an imported archive about to be loaded into memory): a running Sealbox inserts its records
 * into kms.db a little after they are on disk in the file, so a copy taken while it ran may
 * lack the newest (repairLog, which also runs whenever a Sealbox opens a data directory).
 */
export function reconcileKmsEventLog(dataDir: string): void {
  const db = join(dataDir, 'kms.db');
  const log = join(dataDir, 'cloudtrail.jsonl');
  if (!existsSync(db) || !existsSync(log)) return;
  const store = new SqliteKmsStore(db);
  try {
    repairLog(log, store);
  } finally {
    store.close();
  }
}
