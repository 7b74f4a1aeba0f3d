import Database from 'better-sqlite3';
import { privateSqliteFiles } from '@sealbox/runtime';
import type { AliasRecord, CustomKeyStoreRecord, GrantRecord, KeyRecord, MaterialRecord } from '../model';
import type { ConsoleEventQuery, EventQuery, KmsStore, StoredEvent } from './kms-store';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS keys (
  key_id TEXT NOT NULL,
  account TEXT NOT NULL,
  region TEXT NOT NULL,
  due INTEGER,
  doc TEXT NOT NULL,
  PRIMARY KEY (key_id, region)
);
CREATE INDEX IF NOT EXISTS keys_owner ON keys (account, region, key_id);
CREATE INDEX IF NOT EXISTS keys_due ON keys (due) WHERE due IS NOT NULL;
CREATE TABLE IF NOT EXISTS materials (
  handle BLOB PRIMARY KEY,
  key_id TEXT NOT NULL,
  material_id TEXT NOT NULL,
  wrapped BLOB NOT NULL,
  created_at INTEGER NOT NULL,
  rotation_type TEXT,
  seq INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS materials_key ON materials (key_id, seq);
CREATE TABLE IF NOT EXISTS aliases (
  account TEXT NOT NULL,
  region TEXT NOT NULL,
  name TEXT NOT NULL,
  key_id TEXT NOT NULL,
  created INTEGER NOT NULL,
  updated INTEGER NOT NULL,
  PRIMARY KEY (account, region, name)
);
CREATE INDEX IF NOT EXISTS aliases_key ON aliases (key_id);
CREATE TABLE IF NOT EXISTS grants (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  grant_id TEXT NOT NULL UNIQUE,
  key_id TEXT NOT NULL,
  retiring TEXT,
  doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS grants_key ON grants (key_id, seq);
CREATE INDEX IF NOT EXISTS grants_retiring ON grants (retiring, seq);
CREATE TABLE IF NOT EXISTS events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id TEXT NOT NULL UNIQUE,
  time INTEGER NOT NULL,
  account TEXT NOT NULL,
  recipient TEXT NOT NULL,
  region TEXT NOT NULL,
  event_name TEXT NOT NULL,
  username TEXT NOT NULL,
  access_key_id TEXT NOT NULL,
  read_only INTEGER NOT NULL,
  error_code TEXT,
  resources TEXT NOT NULL,
  record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_time ON events (time);
CREATE TABLE IF NOT EXISTS custom_key_stores (
  id TEXT PRIMARY KEY,
  account TEXT NOT NULL,
  region TEXT NOT NULL,
  name TEXT NOT NULL,
  doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS custom_key_stores_owner ON custom_key_stores (account, region, id);
`;

/**
 * Data directories written before multi-Region keys keyed the keys table by key id alone; a
 * multi-Region key has one row per Region under the same id, so the table is rebuilt once.
 */
const MIGRATE_KEYS_PRIMARY_KEY = `
CREATE TABLE keys_by_region (
  key_id TEXT NOT NULL,
  account TEXT NOT NULL,
  region TEXT NOT NULL,
  due INTEGER,
  doc TEXT NOT NULL,
  PRIMARY KEY (key_id, region)
);
INSERT INTO keys_by_region (key_id, account, region, due, doc) SELECT key_id, account, region, due, doc FROM keys;
DROP TABLE keys;
ALTER TABLE keys_by_region RENAME TO keys;
CREATE INDEX IF NOT EXISTS keys_owner ON keys (account, region, key_id);
CREATE INDEX IF NOT EXISTS keys_due ON keys (due) WHERE due IS NOT NULL;
`;

/** The earliest moment a key needs attention: its deletion, its next automatic rotation, or imported material expiring. */
function dueOf(key: KeyRecord): number | null {
  const times: number[] = [];
  if (key.state === 'PendingDeletion') {
    if (key.deletionDate !== undefined) times.push(key.deletionDate);
  } else if (key.rotationEnabled && key.nextRotationDate !== undefined) {
    times.push(key.nextRotationDate);
  }
  if (key.materialExpiry !== undefined) times.push(key.materialExpiry);
  return times.length ? Math.min(...times) : null;
}

const ATTRIBUTE_COLUMNS: Record<string, string> = {
  EventId: 'event_id',
  EventName: 'event_name',
  Username: 'username',
  AccessKeyId: 'access_key_id',
};

/** KMS state in SQLite (WAL mode); `:memory:` for a sandbox that keeps nothing. */
export class SqliteKmsStore implements KmsStore {
  private readonly db: Database.Database;
  private readonly stmt;
  /** One transaction wrapper for every body (better-sqlite3 builds a new one per `transaction` call). */
  private inTransaction: ((fn: () => unknown) => unknown) | undefined;
  /**
   * Key documents by key id and region (null: none), read on every cryptographic call. putKey
   * and deleteKey drop the entry and a failed transaction drops them all, so nothing uncommitted
   * is served; this process is the database's only writer (the data directory is locked).
   */
  private readonly keyDocs = new Map<string, string | null>();
  /**
   * Whether anything other than events was written since takeUnflushedChanges last asked: what
   * a call changed must be on disk before it is answered (the event log flushes the WAL with the
   * call's batch only then; events are on disk in cloudtrail.jsonl before they are inserted).
   * True at open (a migration may have written).
   */
  private changed = true;
  /** lastUses' answer as of event `seq`, for the event names it was asked about. */
  private lastUsesSoFar: { names: string; seq: number; uses: Map<string, { eventName: string; time: number; eventId: string }> } | undefined;

  /** `path` a file, `:memory:`, or a database image (`serialize()`) opened in memory. */
  constructor(path: string | Buffer) {
    // The database holds wrapped key material and the event log: 0600, its -wal and -shm too.
    if (typeof path === 'string' && path !== ':memory:') privateSqliteFiles(path);
    this.db = new Database(path);
    if (typeof path === 'string' && path !== ':memory:') {
      this.db.pragma('journal_mode = WAL');
      // NORMAL: a commit reaches the WAL file without waiting for the disk. What a call did is on
      // disk before it is answered all the same: the event log's group commit flushes the WAL
      // (fdatasync, off the event loop) with the call's record when the store changed since the
      // last flush (takeUnflushedChanges; trail/trail.ts).
      this.db.pragma('synchronous = NORMAL');
    }
    const keysTable = this.db.prepare<[], { sql: string }>("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'keys'").get();
    if (keysTable && /key_id TEXT PRIMARY KEY/.test(keysTable.sql)) this.db.transaction(() => this.db.exec(MIGRATE_KEYS_PRIMARY_KEY))();
    this.db.exec(SCHEMA);
    // Added with imported key material; older data directories get the column on open.
    const materialColumns = this.db.prepare<[], { name: string }>('PRAGMA table_info(materials)').all();
    if (!materialColumns.some((c) => c.name === 'import_doc')) this.db.exec('ALTER TABLE materials ADD COLUMN import_doc TEXT');
    const db = this.db;
    this.stmt = {
      getKey: db.prepare<[string, string], { doc: string }>('SELECT doc FROM keys WHERE key_id = ? AND region = ?'),
      keysWithId: db.prepare<[string], { doc: string }>('SELECT doc FROM keys WHERE key_id = ? ORDER BY region'),
      putKey: db.prepare(
        'INSERT INTO keys (key_id, account, region, due, doc) VALUES (?, ?, ?, ?, ?) ON CONFLICT (key_id, region) DO UPDATE SET due = excluded.due, doc = excluded.doc',
      ),
      deleteKey: db.prepare('DELETE FROM keys WHERE key_id = ? AND region = ?'),
      keysInCustomKeyStore: db.prepare<[string], { doc: string }>(
        "SELECT doc FROM keys WHERE json_extract(doc, '$.customKeyStoreId') = ? ORDER BY key_id",
      ),
      getCustomKeyStore: db.prepare<[string], { doc: string }>('SELECT doc FROM custom_key_stores WHERE id = ?'),
      putCustomKeyStore: db.prepare(
        'INSERT INTO custom_key_stores (id, account, region, name, doc) VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET name = excluded.name, doc = excluded.doc',
      ),
      deleteCustomKeyStore: db.prepare('DELETE FROM custom_key_stores WHERE id = ?'),
      listCustomKeyStores: db.prepare<[string, string], { doc: string }>('SELECT doc FROM custom_key_stores WHERE account = ? AND region = ? ORDER BY id'),
      deleteMaterials: db.prepare('DELETE FROM materials WHERE key_id = ?'),
      listKeys: db.prepare<[string, string, string, number], { doc: string }>('SELECT doc FROM keys WHERE account = ? AND region = ? AND key_id > ? ORDER BY key_id LIMIT ?'),
      dueKeys: db.prepare<[number], { doc: string }>('SELECT doc FROM keys WHERE due IS NOT NULL AND due <= ? ORDER BY due'),
      addMaterial: db.prepare('INSERT INTO materials (handle, key_id, material_id, wrapped, created_at, rotation_type, seq, import_doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
      updateMaterial: db.prepare('UPDATE materials SET wrapped = ?, created_at = ?, rotation_type = ?, seq = ?, import_doc = ? WHERE handle = ?'),
      removeMaterial: db.prepare('DELETE FROM materials WHERE handle = ?'),
      getMaterial: db.prepare<[Buffer], MaterialRow>('SELECT * FROM materials WHERE handle = ?'),
      listMaterials: db.prepare<[string], MaterialRow>('SELECT * FROM materials WHERE key_id = ? ORDER BY seq'),
      getAlias: db.prepare<[string, string, string], AliasRow>('SELECT * FROM aliases WHERE account = ? AND region = ? AND name = ?'),
      putAlias: db.prepare('INSERT INTO aliases (account, region, name, key_id, created, updated) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (account, region, name) DO UPDATE SET key_id = excluded.key_id, updated = excluded.updated'),
      deleteAlias: db.prepare('DELETE FROM aliases WHERE account = ? AND region = ? AND name = ?'),
      listAliases: db.prepare<[string, string, string, number], AliasRow>('SELECT * FROM aliases WHERE account = ? AND region = ? AND name > ? ORDER BY name LIMIT ?'),
      listAliasesOfKey: db.prepare<[string, string, string, string, number], AliasRow>(
        'SELECT * FROM aliases WHERE account = ? AND region = ? AND key_id = ? AND name > ? ORDER BY name LIMIT ?',
      ),
      aliasesOfKey: db.prepare<[string, string], AliasRow>('SELECT * FROM aliases WHERE key_id = ? AND region = ? ORDER BY name'),
      deleteAliasesOfKey: db.prepare('DELETE FROM aliases WHERE key_id = ? AND region = ?'),
      getGrant: db.prepare<[string], { doc: string }>('SELECT doc FROM grants WHERE grant_id = ?'),
      putGrant: db.prepare('INSERT INTO grants (grant_id, key_id, retiring, doc) VALUES (?, ?, ?, ?) ON CONFLICT (grant_id) DO UPDATE SET doc = excluded.doc'),
      deleteGrant: db.prepare('DELETE FROM grants WHERE grant_id = ?'),
      deleteGrantsOfKey: db.prepare("DELETE FROM grants WHERE key_id = ? AND coalesce(json_extract(doc, '$.region'), ?) = ?"),
      grantsOfKey: db.prepare<[string], { doc: string }>('SELECT doc FROM grants WHERE key_id = ? ORDER BY seq'),
      grantsRetirableBy: db.prepare<[string], { doc: string }>('SELECT doc FROM grants WHERE retiring = ? ORDER BY seq'),
      allKeys: db.prepare<[], { doc: string }>('SELECT doc FROM keys ORDER BY account, region, key_id'),
      allAliases: db.prepare<[], AliasRow>('SELECT * FROM aliases ORDER BY account, region, name'),
      lastEvent: db.prepare<[], { event_id: string; time: number }>('SELECT event_id, time FROM events ORDER BY seq DESC LIMIT 1'),
      hasEvent: db.prepare<[string], { seq: number }>('SELECT seq FROM events WHERE event_id = ?'),
      lastEventSeq: db.prepare<[], { seq: number | null }>('SELECT max(seq) AS seq FROM events'),
      appendEvent: db.prepare(
        'INSERT OR IGNORE INTO events (event_id, time, account, recipient, region, event_name, username, access_key_id, read_only, error_code, resources, record) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
    };
  }

  transaction<T>(fn: () => T): T {
    this.inTransaction ??= this.db.transaction((body: () => unknown) => body());
    try {
      return this.inTransaction(fn) as T;
    } catch (err) {
      this.keyDocs.clear();
      throw err;
    }
  }

  getKey(keyId: string, region: string): KeyRecord | undefined {
    const id = `${keyId}\n${region}`;
    let doc = this.keyDocs.get(id);
    if (doc === undefined) {
      doc = this.stmt.getKey.get(keyId, region)?.doc ?? null;
      if (this.keyDocs.size >= 10_000) this.keyDocs.clear();
      this.keyDocs.set(id, doc);
    }
    // Parsed each time: callers change the records they get before putting them back.
    return doc === null ? undefined : (JSON.parse(doc) as KeyRecord);
  }

  keysWithId(keyId: string): KeyRecord[] {
    return this.stmt.keysWithId.all(keyId).map((r) => JSON.parse(r.doc) as KeyRecord);
  }

  keysInCustomKeyStore(customKeyStoreId: string): KeyRecord[] {
    return this.stmt.keysInCustomKeyStore.all(customKeyStoreId).map((r) => JSON.parse(r.doc) as KeyRecord);
  }

  getCustomKeyStore(id: string): CustomKeyStoreRecord | undefined {
    const row = this.stmt.getCustomKeyStore.get(id);
    return row ? (JSON.parse(row.doc) as CustomKeyStoreRecord) : undefined;
  }

  putCustomKeyStore(store: CustomKeyStoreRecord): void {
    this.changed = true;
    this.stmt.putCustomKeyStore.run(store.id, store.accountId, store.region, store.name, JSON.stringify(store));
  }

  deleteCustomKeyStore(id: string): void {
    this.changed = true;
    this.stmt.deleteCustomKeyStore.run(id);
  }

  listCustomKeyStores(accountId: string, region: string): CustomKeyStoreRecord[] {
    return this.stmt.listCustomKeyStores.all(accountId, region).map((r) => JSON.parse(r.doc) as CustomKeyStoreRecord);
  }

  putKey(key: KeyRecord): void {
    this.changed = true;
    this.keyDocs.delete(`${key.keyId}\n${key.region}`);
    this.stmt.putKey.run(key.keyId, key.accountId, key.region, dueOf(key), JSON.stringify(key));
  }

  deleteKey(keyId: string, region: string): void {
    this.changed = true;
    this.keyDocs.delete(`${keyId}\n${region}`);
    this.transaction(() => {
      this.stmt.deleteAliasesOfKey.run(keyId, region);
      this.stmt.deleteGrantsOfKey.run(keyId, region, region);
      this.stmt.deleteKey.run(keyId, region);
      // A multi-Region key's material is shared by its keys in every Region: it goes with the last.
      if (this.stmt.keysWithId.all(keyId).length === 0) this.stmt.deleteMaterials.run(keyId);
    });
  }

  listKeys(accountId: string, region: string, afterKeyId: string | undefined, limit: number): KeyRecord[] {
    return this.stmt.listKeys.all(accountId, region, afterKeyId ?? '', limit).map((r) => JSON.parse(r.doc) as KeyRecord);
  }

  dueKeys(now: number): KeyRecord[] {
    return this.stmt.dueKeys.all(now).map((r) => JSON.parse(r.doc) as KeyRecord);
  }

  getGrant(grantId: string): GrantRecord | undefined {
    const row = this.stmt.getGrant.get(grantId);
    return row ? (JSON.parse(row.doc) as GrantRecord) : undefined;
  }

  putGrant(grant: GrantRecord): void {
    this.changed = true;
    this.stmt.putGrant.run(grant.grantId, grant.keyId, grant.retiringPrincipal ?? null, JSON.stringify(grant));
  }

  deleteGrant(grantId: string): void {
    this.changed = true;
    this.stmt.deleteGrant.run(grantId);
  }

  grantsOfKey(keyId: string, region: string): GrantRecord[] {
    // Grants made before multi-Region keys carry no region; their key exists in one Region only.
    return this.stmt.grantsOfKey
      .all(keyId)
      .map((r) => JSON.parse(r.doc) as GrantRecord)
      .filter((g) => g.region === undefined || g.region === region);
  }

  grantsRetirableBy(principal: string): GrantRecord[] {
    return this.stmt.grantsRetirableBy.all(principal).map((r) => JSON.parse(r.doc) as GrantRecord);
  }

  addMaterial(m: MaterialRecord): void {
    this.changed = true;
    this.stmt.addMaterial.run(m.handle, m.keyId, m.materialId, m.wrapped, m.createdAt, m.rotationType ?? null, m.seq, m.imported ? JSON.stringify(m.imported) : null);
  }

  updateMaterial(m: MaterialRecord): void {
    this.changed = true;
    this.stmt.updateMaterial.run(m.wrapped, m.createdAt, m.rotationType ?? null, m.seq, m.imported ? JSON.stringify(m.imported) : null, m.handle);
  }

  removeMaterial(handle: Buffer): void {
    this.changed = true;
    this.stmt.removeMaterial.run(handle);
  }

  getMaterial(handle: Buffer): MaterialRecord | undefined {
    const row = this.stmt.getMaterial.get(handle);
    return row ? materialFromRow(row) : undefined;
  }

  listMaterials(keyId: string): MaterialRecord[] {
    return this.stmt.listMaterials.all(keyId).map(materialFromRow);
  }

  getAlias(accountId: string, region: string, aliasName: string): AliasRecord | undefined {
    const row = this.stmt.getAlias.get(accountId, region, aliasName);
    return row ? aliasFromRow(row) : undefined;
  }

  putAlias(a: AliasRecord): void {
    this.changed = true;
    this.stmt.putAlias.run(a.accountId, a.region, a.aliasName, a.targetKeyId, a.creationDate, a.lastUpdatedDate);
  }

  deleteAlias(accountId: string, region: string, aliasName: string): void {
    this.changed = true;
    this.stmt.deleteAlias.run(accountId, region, aliasName);
  }

  listAliases(accountId: string, region: string, keyId: string | undefined, afterName: string | undefined, limit: number): AliasRecord[] {
    const rows =
      keyId === undefined
        ? this.stmt.listAliases.all(accountId, region, afterName ?? '', limit)
        : this.stmt.listAliasesOfKey.all(accountId, region, keyId, afterName ?? '', limit);
    return rows.map(aliasFromRow);
  }

  aliasesOfKey(keyId: string, region: string): AliasRecord[] {
    return this.stmt.aliasesOfKey.all(keyId, region).map(aliasFromRow);
  }

  takeUnflushedChanges(): boolean {
    const changed = this.changed;
    this.changed = false;
    return changed;
  }

  lastEvent(): { eventId: string; time: number } | undefined {
    const row = this.stmt.lastEvent.get();
    return row ? { eventId: row.event_id, time: row.time } : undefined;
  }

  hasEvent(eventId: string): boolean {
    return this.stmt.hasEvent.get(eventId) !== undefined;
  }

  *eventRecordsAfter(eventId: string | undefined): Iterable<string> {
    let after = 0;
    if (eventId !== undefined) {
      const row = this.db.prepare<[string], { seq: number }>('SELECT seq FROM events WHERE event_id = ?').get(eventId);
      if (!row) return;
      after = row.seq;
    }
    const rows = this.db.prepare<[number], { record: string }>('SELECT record FROM events WHERE seq > ? ORDER BY seq').iterate(after);
    for (const row of rows) yield row.record;
  }

  appendEvents(events: StoredEvent[]): void {
    this.transaction(() => {
      for (const e of events) {
        this.stmt.appendEvent.run(
          e.eventId,
          e.time,
          e.accountId,
          e.recipientAccountId,
          e.region,
          e.eventName,
          e.username,
          e.accessKeyId,
          e.readOnly ? 1 : 0,
          e.errorCode ?? null,
          JSON.stringify(e.resources),
          e.record,
        );
      }
    });
  }

  lastUse(keyArn: string, eventNames: string[]) {
    const row = this.db
      .prepare<unknown[], { event_name: string; time: number; event_id: string; record: string }>(
        `SELECT event_name, time, event_id, record FROM events
         WHERE error_code IS NULL AND event_name IN (${eventNames.map(() => '?').join(', ')})
           AND EXISTS (SELECT 1 FROM json_each(events.resources) WHERE json_each.value = ?)
         ORDER BY time DESC, seq DESC LIMIT 1`,
      )
      .get(...eventNames, keyArn);
    if (!row) return undefined;
    const requestId = (JSON.parse(row.record) as { requestID?: string }).requestID ?? '';
    return { eventName: row.event_name, time: row.time, eventId: row.event_id, requestId };
  }

  lastUses(eventNames: string[]) {
    // The log only grows (events are never changed or removed), so each call reads just the
    // events since the previous one: the console asks every few seconds, and a scan of the
    // whole log would hold the event loop for longer the longer Sealbox runs.
    const names = eventNames.join(',');
    if (this.lastUsesSoFar?.names !== names) this.lastUsesSoFar = { names, seq: 0, uses: new Map() };
    const soFar = this.lastUsesSoFar;
    const upTo = (this.db.prepare('SELECT max(seq) AS seq FROM events').get() as { seq: number | null }).seq ?? 0;
    const rows = this.db
      .prepare<unknown[], { arn: string; event_name: string; time: number; event_id: string }>(
        `SELECT json_each.value AS arn, event_name, time, event_id
         FROM events, json_each(events.resources)
         WHERE seq > ? AND seq <= ? AND error_code IS NULL AND event_name IN (${eventNames.map(() => '?').join(', ')})
         ORDER BY seq`,
      )
      .all(soFar.seq, upTo, ...eventNames);
    // Newest time wins, and of equal times the later event (as ORDER BY time DESC, seq DESC).
    for (const r of rows) {
      const current = soFar.uses.get(r.arn);
      if (!current || r.time >= current.time) soFar.uses.set(r.arn, { eventName: r.event_name, time: r.time, eventId: r.event_id });
    }
    soFar.seq = upTo;
    return new Map(soFar.uses);
  }

  lookupEvents(q: EventQuery): { seq: number; event: StoredEvent }[] {
    const where = ['(account = ? OR recipient = ?)', 'region = ?'];
    const params: (string | number)[] = [q.accountId, q.accountId, q.region];
    if (q.startTime !== undefined) where.push('time >= ?'), params.push(q.startTime);
    if (q.endTime !== undefined) where.push('time <= ?'), params.push(q.endTime);
    if (q.beforeSeq !== undefined) where.push('seq < ?'), params.push(q.beforeSeq);
    if (q.before !== undefined) where.push('(time < ? OR (time = ? AND seq < ?))'), params.push(q.before.time, q.before.time, q.before.seq);
    if (q.attribute) {
      const { key, value } = q.attribute;
      const column = ATTRIBUTE_COLUMNS[key];
      if (column) where.push(`${column} = ?`), params.push(value);
      else if (key === 'ReadOnly') where.push('read_only = ?'), params.push(value === 'true' ? 1 : 0);
      else if (key === 'EventSource') where.push("? = 'kms.amazonaws.com'"), params.push(value);
      else if (key === 'ResourceType') where.push("? = 'AWS::KMS::Key' AND resources != '[]'"), params.push(value);
      else if (key === 'ResourceName') where.push('EXISTS (SELECT 1 FROM json_each(events.resources) WHERE json_each.value = ?)'), params.push(value);
    }
    const sql = `SELECT * FROM events WHERE ${where.join(' AND ')} ORDER BY time DESC, seq DESC LIMIT ?`;
    params.push(q.limit);
    return (this.db.prepare(sql).all(...params) as EventRow[]).map(eventFromRow);
  }

  consoleEvents(q: ConsoleEventQuery): { seq: number; event: StoredEvent }[] {
    const where = ['seq > ?'];
    const params: (string | number)[] = [q.afterSeq];
    if (q.eventName !== undefined) where.push('lower(event_name) = lower(?)'), params.push(q.eventName);
    if (q.keyArnParts !== undefined) {
      if (q.keyArnParts.length === 0) where.push('0');
      else {
        where.push(`EXISTS (SELECT 1 FROM json_each(events.resources) WHERE ${q.keyArnParts.map(() => 'instr(json_each.value, ?) > 0').join(' OR ')})`);
        params.push(...q.keyArnParts);
      }
    }
    if (q.user !== undefined) {
      where.push("(instr(lower(username), lower(?)) > 0 OR instr(lower(access_key_id), lower(?)) > 0 OR instr(lower(coalesce(json_extract(record, '$.userIdentity.arn'), '')), lower(?)) > 0)");
      params.push(q.user, q.user, q.user);
    }
    if (q.error === 'errors') where.push('error_code IS NOT NULL');
    else if (q.error === 'successes') where.push('error_code IS NULL');
    else if (q.error !== undefined) where.push('error_code = ?'), params.push(q.error);
    // The newest `limit` matches, returned oldest first.
    const sql = `SELECT * FROM (SELECT * FROM events WHERE ${where.join(' AND ')} ORDER BY seq DESC LIMIT ?) ORDER BY seq`;
    params.push(q.limit);
    return (this.db.prepare(sql).all(...params) as EventRow[]).map(eventFromRow);
  }

  lastEventSeq(): number {
    return this.stmt.lastEventSeq.get()?.seq ?? 0;
  }

  allKeys(): KeyRecord[] {
    return this.stmt.allKeys.all().map((r) => JSON.parse(r.doc) as KeyRecord);
  }

  allAliases(): AliasRecord[] {
    return this.stmt.allAliases.all().map(aliasFromRow);
  }

  /** The whole database as one image (an in-memory sandbox's snapshot). */
  serialize(): Buffer {
    return this.db.serialize();
  }

  close(): void {
    this.db.close();
  }
}

interface MaterialRow {
  handle: Buffer;
  key_id: string;
  material_id: string;
  wrapped: Buffer;
  created_at: number;
  rotation_type: 'AUTOMATIC' | 'ON_DEMAND' | null;
  seq: number;
  import_doc: string | null;
}

interface AliasRow {
  account: string;
  region: string;
  name: string;
  key_id: string;
  created: number;
  updated: number;
}

interface EventRow {
  seq: number;
  event_id: string;
  time: number;
  account: string;
  recipient: string;
  region: string;
  event_name: string;
  username: string;
  access_key_id: string;
  read_only: number;
  error_code: string | null;
  resources: string;
  record: string;
}

function materialFromRow(r: MaterialRow): MaterialRecord {
  return {
    handle: r.handle,
    keyId: r.key_id,
    materialId: r.material_id,
    wrapped: r.wrapped,
    createdAt: r.created_at,
    rotationType: r.rotation_type ?? undefined,
    seq: r.seq,
    ...(r.import_doc ? { imported: JSON.parse(r.import_doc) as MaterialRecord['imported'] } : {}),
  };
}

function eventFromRow(r: EventRow): { seq: number; event: StoredEvent } {
  return {
    seq: r.seq,
    event: {
      eventId: r.event_id,
      time: r.time,
      accountId: r.account,
      recipientAccountId: r.recipient,
      region: r.region,
      eventName: r.event_name,
      username: r.username,
      accessKeyId: r.access_key_id,
      readOnly: r.read_only === 1,
      errorCode: r.error_code ?? undefined,
      resources: JSON.parse(r.resources) as string[],
      record: r.record,
    },
  };
}

function aliasFromRow(r: AliasRow): AliasRecord {
  return { accountId: r.account, region: r.region, aliasName: r.name, targetKeyId: r.key_id, creationDate: r.created, lastUpdatedDate: r.updated };
}
