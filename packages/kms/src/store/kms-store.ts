import type { AliasRecord, GrantRecord, KeyRecord, MaterialRecord } from '../model';

/** One CloudTrail-style record with the columns LookupEvents filters on. */
export interface StoredEvent {
  eventId: string;
  time: number;
  /** The caller's account and the account that owns the resource (they differ cross-account). */
  accountId: string;
  recipientAccountId: string;
  region: string;
  eventName: string;
  username: string;
  accessKeyId: string;
  readOnly: boolean;
  errorCode?: string;
  /** ARNs of the resources (keys) the event concerns. */
  resources: string[];
  /** The record as CloudTrail writes it, serialised. */
  record: string;
}

export interface EventQuery {
  accountId: string;
  region: string;
  attribute?: { key: string; value: string };
  startTime?: number;
  endTime?: number;
  /** Events strictly older than this sequence number (paging, newest first). */
  beforeSeq?: number;
  limit: number;
}

export interface KmsStore {
  transaction<T>(fn: () => T): T;

  getKey(keyId: string): KeyRecord | undefined;
  putKey(key: KeyRecord): void;
  deleteKey(keyId: string): void;
  /** Keys of an account and region ordered by key id, after `afterKeyId`. */
  listKeys(accountId: string, region: string, afterKeyId: string | undefined, limit: number): KeyRecord[];
  /** Keys whose deletion or rotation date is due. */
  dueKeys(now: number): KeyRecord[];

  addMaterial(material: MaterialRecord): void;
  getMaterial(handle: Buffer): MaterialRecord | undefined;
  listMaterials(keyId: string): MaterialRecord[];
  /** Rewrites a material version in place (imported material: deleted, re-imported, rotated to). */
  updateMaterial(material: MaterialRecord): void;
  /** Forgets a material version (imported material pending rotation that was deleted). */
  removeMaterial(handle: Buffer): void;

  getAlias(accountId: string, region: string, aliasName: string): AliasRecord | undefined;
  putAlias(alias: AliasRecord): void;
  deleteAlias(accountId: string, region: string, aliasName: string): void;
  /** Aliases ordered by name, optionally only those of one key. */
  listAliases(accountId: string, region: string, keyId: string | undefined, afterName: string | undefined, limit: number): AliasRecord[];
  aliasesOfKey(keyId: string): AliasRecord[];

  getGrant(grantId: string): GrantRecord | undefined;
  putGrant(grant: GrantRecord): void;
  deleteGrant(grantId: string): void;
  /** A key's grants in creation order. */
  grantsOfKey(keyId: string): GrantRecord[];
  /** Grants whose retiring principal is `principal`, in creation order. */
  grantsRetirableBy(principal: string): GrantRecord[];

  appendEvents(events: StoredEvent[]): void;
  /** The newest successful event of one of `eventNames` that concerned the key. */
  lastUse(keyArn: string, eventNames: string[]): { eventName: string; time: number; eventId: string; requestId: string } | undefined;
  /** Newest first, with each event's sequence number for paging. */
  lookupEvents(query: EventQuery): { seq: number; event: StoredEvent }[];

  close(): void;
}
