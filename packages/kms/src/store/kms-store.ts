import type { AliasRecord, CustomKeyStoreRecord, GrantRecord, KeyRecord, MaterialRecord } from '../model';

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
  /** Events strictly older than this sequence number (paging, newest first; a token of an older Sealbox). */
  beforeSeq?: number;
  /**
   * Events after this one in the answer's order, time then sequence number, newest first (paging):
   * the log's order is not its times' (a call is dated when it began, recorded when answered).
   */
  before?: { time: number; seq: number };
  limit: number;
}

/** What the console's event stream asks for; every condition is optional. */
export interface ConsoleEventQuery {
  /** Events recorded after this sequence number. */
  afterSeq: number;
  /** At most this many, the newest of them. */
  limit: number;
  eventName?: string;
  /** Events that concern a key whose ARN contains one of these (an empty list matches nothing). */
  keyArnParts?: string[];
  /** A case-insensitive part of the user name, the principal ARN or the access key id. */
  user?: string;
  /** 'errors', 'successes', or one error code. */
  error?: string;
}

export interface KmsStore {
  transaction<T>(fn: () => T): T;

  /** A key in one Region (a multi-Region key has the same id in each of its Regions). */
  getKey(keyId: string, region: string): KeyRecord | undefined;
  /** Every Region's key with this id: one, or the keys of a multi-Region key. */
  keysWithId(keyId: string): KeyRecord[];
  putKey(key: KeyRecord): void;
  /** Deletes a key in one Region with its aliases and grants there; the material goes with the last Region's key. */
  deleteKey(keyId: string, region: string): void;
  keysInCustomKeyStore(customKeyStoreId: string): KeyRecord[];

  getCustomKeyStore(id: string): CustomKeyStoreRecord | undefined;
  putCustomKeyStore(store: CustomKeyStoreRecord): void;
  deleteCustomKeyStore(id: string): void;
  /** An account's custom key stores in a Region, ordered by id. */
  listCustomKeyStores(accountId: string, region: string): CustomKeyStoreRecord[];
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
  aliasesOfKey(keyId: string, region: string): AliasRecord[];

  getGrant(grantId: string): GrantRecord | undefined;
  putGrant(grant: GrantRecord): void;
  deleteGrant(grantId: string): void;
  /** A key's grants in creation order. */
  grantsOfKey(keyId: string, region: string): GrantRecord[];
  /** Grants whose retiring principal is `principal`, in creation order. */
  grantsRetirableBy(principal: string): GrantRecord[];

  appendEvents(events: StoredEvent[]): void;
  /** The newest successful event of one of `eventNames` that concerned the key. */
  lastUse(keyArn: string, eventNames: string[]): { eventName: string; time: number; eventId: string; requestId: string } | undefined;
  /** lastUse for every key at once, in one pass over the log: key ARN -> its newest such event. */
  lastUses(eventNames: string[]): Map<string, { eventName: string; time: number; eventId: string }>;
  /** Newest first, with each event's sequence number for paging. */
  lookupEvents(query: EventQuery): { seq: number; event: StoredEvent }[];
  /** Events of every account and Region matching the query, oldest first. */
  consoleEvents(query: ConsoleEventQuery): { seq: number; event: StoredEvent }[];
  /** The sequence number of the newest event (0 when there is none). */
  lastEventSeq(): number;
  /**
   * The records (cloudtrail.jsonl lines, without the newline) of the events stored after the one
   * with this id, oldest first; every event's when `eventId` is undefined; none when no stored
   * event has that id. How cloudtrail.jsonl is made whole again after a power cut (Trail).
   */
  eventRecordsAfter(eventId: string | undefined): Iterable<string>;

  /** The newest stored event's id and time (undefined when there is none). */
  lastEvent(): { eventId: string; time: number } | undefined;
  hasEvent(eventId: string): boolean;
  /**
   * Whether anything but events (appendEvents) was written since the last call, which clears it:
   * the event log flushes kms.db's write-ahead log before answering calls only then.
   */
  takeUnflushedChanges(): boolean;

  /** Every key of every account and Region (the console), ordered by account, Region and key id. */
  allKeys(): KeyRecord[];
  /** Every alias of every account and Region, ordered by account, Region and name. */
  allAliases(): AliasRecord[];

  close(): void;
}
