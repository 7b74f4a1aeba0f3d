import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { privateDir, RootKey, type Clock } from '@sealbox/runtime';
import { aliasArn, keyArn, newKeyId, newMaterialId, newMultiRegionKeyId } from './ids';
import type { KeySpec, KeyUsage } from './key-specs';
import type { ImportedMaterialInfo, KeyRecord, MaterialRecord, Tag } from './model';
import { refreshConnection } from './custom-key-stores';
import { AWS_MANAGED_KEYS, awsManagedKeyPolicy, defaultKeyPolicy } from './policies';
import type { KmsStore } from './store/kms-store';
import { SqliteKmsStore } from './store/sqlite-store';
import { serviceEvent } from './trail/records';
import { Trail } from './trail/trail';

export interface KmsCoreOptions {
  clock: Clock;
  /** State directory; undefined keeps everything in memory. */
  dataDir?: string;
  /** On-demand rotations allowed per key (AWS: 10). */
  onDemandRotationLimit?: number;
  /** In memory, start from this state (`image()` of another core, or a loaded archive). */
  image?: KmsImage;
}

/** An in-memory KMS's whole state: its database (keys, material wrapped, the event log) and root key. */
export interface KmsImage {
  db: Buffer;
  rootKey: RootKey;
}

export interface Material {
  handle: Buffer;
  keyId: string;
  materialId: string;
  material: Buffer;
}

export const DAY_MS = 86_400_000;

/**
 * The stateful heart of the KMS service: keys and their material (unwrapped once, cached), the
 * store, the event log, and the work that falls due as the clock moves (deletions, rotations).
 */
export class KmsCore {
  readonly store: KmsStore;
  readonly trail: Trail;
  readonly clock: Clock;
  readonly onDemandRotationLimit: number;
  private readonly rootKey: RootKey;
  private readonly byHandle = new Map<string, Material>();
  private readonly currentByKey = new Map<string, Material>();
  /** Custom key stores in CONNECTING, to finish when their time comes (after a restart, when read). */
  readonly connecting = new Set<string>();

  constructor(options: KmsCoreOptions) {
    this.clock = options.clock;
    this.onDemandRotationLimit = options.onDemandRotationLimit ?? 10;
    if (options.dataDir) {
      privateDir(options.dataDir);
      this.rootKey = RootKey.inDirectory(options.dataDir, 'root.key', join(options.dataDir, 'kms.db'));
      this.store = new SqliteKmsStore(join(options.dataDir, 'kms.db'));
      this.trail = new Trail(this.store, join(options.dataDir, 'cloudtrail.jsonl'), undefined, undefined, undefined, { walFile: join(options.dataDir, 'kms.db-wal') });
    } else {
      this.rootKey = options.image?.rootKey ?? RootKey.ephemeral();
      this.store = new SqliteKmsStore(options.image?.db ?? ':memory:');
      this.trail = new Trail(this.store, undefined);
    }
  }

  now(): number {
    return this.clock.now().getTime();
  }

  /** A new key record, not yet stored: CreateKey validates its policy against it first. */
  draftKey(
    accountId: string,
    region: string,
    props: {
      keyId?: string;
      description?: string;
      policy?: string;
      tags?: Tag[];
      keyManager?: 'CUSTOMER' | 'AWS';
      rotationPeriodDays?: number;
      keySpec?: KeySpec;
      keyUsage?: KeyUsage;
      multiRegion?: boolean;
      origin?: KeyRecord['origin'];
      customKeyStoreId?: string;
      xksKeyId?: string;
    },
  ): KeyRecord {
    const keyId = props.keyId ?? (props.multiRegion ? newMultiRegionKeyId() : newKeyId());
    const now = this.now();
    return {
      keyId,
      accountId,
      region,
      arn: keyArn(region, accountId, keyId),
      creationDate: now,
      description: props.description ?? '',
      keyUsage: props.keyUsage ?? 'ENCRYPT_DECRYPT',
      keySpec: props.keySpec ?? 'SYMMETRIC_DEFAULT',
      origin: props.origin ?? 'AWS_KMS',
      keyManager: props.keyManager ?? 'CUSTOMER',
      state: props.origin === 'EXTERNAL' ? 'PendingImport' : 'Enabled',
      rotationEnabled: props.rotationPeriodDays !== undefined,
      rotationPeriodDays: props.rotationPeriodDays,
      nextRotationDate: props.rotationPeriodDays !== undefined ? now + props.rotationPeriodDays * DAY_MS : undefined,
      onDemandRotations: 0,
      policy: props.policy ?? defaultKeyPolicy(accountId),
      tags: props.tags ?? [],
      currentMaterialId: '',
      multiRegion: props.multiRegion === true,
      ...(props.multiRegion ? { primaryRegion: region } : {}),
      ...(props.customKeyStoreId !== undefined ? { customKeyStoreId: props.customKeyStoreId } : {}),
      ...(props.xksKeyId !== undefined ? { xksKeyId: props.xksKeyId } : {}),
    };
  }

  /**
   * Stores a multi-Region replica: it shares the primary's material (every version), so it needs
   * none of its own. https://docs.aws.amazon.com/kms/latest/developerguide/multi-region-keys-overview.html#mrk-sync-properties
   */
  insertReplica(replica: KeyRecord): KeyRecord {
    this.store.putKey(replica);
    return replica;
  }

  /** The keys of a multi-Region key in every Region (just the key itself for a single-Region key). */
  keySet(key: KeyRecord): KeyRecord[] {
    return key.multiRegion ? this.store.keysWithId(key.keyId).filter((k) => k.accountId === key.accountId) : [key];
  }

  /** Stores a drafted key with its first material (generated here for symmetric keys); EXTERNAL keys get none. */
  insertKey(key: KeyRecord, material?: Buffer): KeyRecord {
    if (key.origin === 'EXTERNAL') {
      this.store.putKey(key);
      return key;
    }
    this.store.transaction(() => {
      const entry = this.newMaterial(key, undefined, 0, material);
      key.currentMaterialId = entry.materialId;
      this.store.putKey(key);
    });
    return key;
  }

  /**
   * Stores a drafted key with a history of material versions, oldest first, the last current (a
   * seed's keys). With `ids: 'seeded'` each version's handle and KeyMaterialId are derived from
   * (key id, material), so every Sealbox seeded alike names the material the same way and a
   * ciphertext made by one decrypts in the others; otherwise they are random as usual. An EXTERNAL
   * key's material counts as imported (it does not expire); without material it is PendingImport.
   */
  seedKey(key: KeyRecord, materials: Buffer[], ids: 'seeded' | 'random'): KeyRecord {
    this.store.transaction(() => {
      if (materials.length === 0) {
        this.store.putKey(key);
        return;
      }
      materials.forEach((material, seq) => {
        const entry = this.storeMaterial(key, {
          material,
          ...(ids === 'seeded' ? seededMaterialIds(key.keyId, material) : {}),
          rotationType: seq === 0 ? undefined : 'ON_DEMAND',
          seq,
          ...(key.origin === 'EXTERNAL' ? { imported: { state: 'IMPORTED' as const, expirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' as const } } : {}),
        });
        key.currentMaterialId = entry.materialId;
      });
      if (key.origin === 'EXTERNAL') this.refreshImportState(key);
      else this.store.putKey(key);
    });
    return key;
  }

  createKey(accountId: string, region: string, props: Parameters<KmsCore['draftKey']>[2]): KeyRecord {
    return this.insertKey(this.draftKey(accountId, region, props));
  }

  /** Adds a new version of key material and makes it current; the caller saves the key. */
  private newMaterial(key: KeyRecord, rotationType: MaterialRecord['rotationType'], seq: number, given?: Buffer): Material {
    return this.storeMaterial(key, { material: given ?? randomBytes(32), rotationType, seq });
  }

  /**
   * Stores one version of a key's material, wrapped under the root key, with a random handle and
   * id unless given, and caches it; it becomes the key's current material unless `current` is
   * false (imported material waiting for a rotation).
   */
  private storeMaterial(
    key: KeyRecord,
    version: Pick<MaterialRecord, 'seq' | 'rotationType' | 'imported'> & { material: Buffer; handle?: Buffer; materialId?: string },
    current = true,
  ): Material {
    const { material, handle = randomBytes(32), materialId = newMaterialId(), ...rest } = version;
    this.store.addMaterial({ ...rest, handle, keyId: key.keyId, materialId, wrapped: this.rootKey.wrap(material, `${key.keyId}/${materialId}`), createdAt: this.now() });
    const entry = { handle, keyId: key.keyId, materialId, material };
    this.byHandle.set(handle.toString('hex'), entry);
    if (current) this.currentByKey.set(key.keyId, entry);
    return entry;
  }

  currentMaterial(key: KeyRecord): Material {
    const cached = this.currentByKey.get(key.keyId);
    if (cached && cached.materialId === key.currentMaterialId) return cached;
    const record = this.store.listMaterials(key.keyId).find((m) => m.materialId === key.currentMaterialId);
    if (!record) throw new Error(`key ${key.keyId} has no current material`);
    const entry = this.unwrap(record);
    this.currentByKey.set(key.keyId, entry);
    return entry;
  }

  /** The material a ciphertext names, or undefined when no key of this store has it. */
  materialByHandle(handle: Buffer): Material | undefined {
    const id = handle.toString('hex');
    const cached = this.byHandle.get(id);
    if (cached) return cached;
    const record = this.store.getMaterial(handle);
    return record ? this.unwrap(record) : undefined;
  }

  private unwrap(record: MaterialRecord): Material {
    const entry = {
      handle: record.handle,
      keyId: record.keyId,
      materialId: record.materialId,
      // Imported material that was deleted or expired: the version is known, its bytes are not
      // (the key is PendingImport then, so nothing reaches them).
      material: record.wrapped.length === 0 ? Buffer.alloc(0) : this.rootKey.unwrap(record.wrapped, `${record.keyId}/${record.materialId}`),
    };
    this.byHandle.set(record.handle.toString('hex'), entry);
    return entry;
  }

  /** New material for a key; older material keeps decrypting what it encrypted. */
  rotate(key: KeyRecord, type: 'AUTOMATIC' | 'ON_DEMAND'): { previous: string; current: string } {
    const previous = key.currentMaterialId;
    this.store.transaction(() => {
      const seq = this.store.listMaterials(key.keyId).length;
      const material = this.newMaterial(key, type, seq);
      key.currentMaterialId = material.materialId;
      if (type === 'ON_DEMAND') key.onDemandRotations += 1;
      else if (key.rotationPeriodDays !== undefined) key.nextRotationDate = this.now() + key.rotationPeriodDays * DAY_MS;
      this.store.putKey(key);
      // Key material and rotation are shared by a multi-Region key's Regions: the replicas follow.
      this.syncReplicas(key);
    });
    return { previous, current: key.currentMaterialId };
  }

  /** An import token's contents sealed under the root key (GetParametersForImport). */
  sealImportToken(payload: Buffer): Buffer {
    return this.rootKey.wrap(payload, 'sealbox import token');
  }

  /** An import token's contents, or undefined when it was not sealed here (or was altered). */
  openImportToken(token: Buffer): Buffer | undefined {
    if (token.length < 29) return undefined;
    try {
      return this.rootKey.unwrap(token, 'sealbox import token');
    } catch {
      return undefined;
    }
  }

  /**
   * Imported material as a new version of an EXTERNAL key: current at once (the first import),
   * or pending an on-demand rotation (NEW_KEY_MATERIAL into a key that has material).
   */
  addImportedMaterial(key: KeyRecord, material: Buffer, materialId: string, info: ImportedMaterialInfo): void {
    this.store.transaction(() => {
      const seq = this.store.listMaterials(key.keyId).reduce((max, m) => Math.max(max, m.seq + 1), 0);
      this.storeMaterial(key, { material, materialId, seq, imported: info }, !info.pendingRotation);
      if (!info.pendingRotation) key.currentMaterialId = materialId;
      this.refreshImportState(key);
    });
  }

  /** Re-import: the same material back into its version, with this import's expiry and description. */
  restoreImportedMaterial(key: KeyRecord, record: MaterialRecord, material: Buffer, info: ImportedMaterialInfo): void {
    this.store.transaction(() => {
      record.wrapped = this.rootKey.wrap(material, `${key.keyId}/${record.materialId}`);
      record.imported = info;
      this.store.updateMaterial(record);
      const entry = { handle: record.handle, keyId: key.keyId, materialId: record.materialId, material };
      this.byHandle.set(record.handle.toString('hex'), entry);
      if (record.materialId === key.currentMaterialId) this.currentByKey.set(key.keyId, entry);
      this.refreshImportState(key);
    });
  }

  /**
   * Deletes imported material. Material pending rotation is forgotten (it was never bound to the
   * key); other versions keep their record, without the material, and the key becomes
   * PendingImport (a key pending deletion stays so).
   */
  deleteImportedMaterial(key: KeyRecord, record: MaterialRecord): void {
    this.store.transaction(() => {
      if (record.imported?.pendingRotation) {
        this.store.removeMaterial(record.handle);
      } else {
        record.wrapped = Buffer.alloc(0);
        record.imported = { state: 'PENDING_IMPORT', description: record.imported?.description };
        this.store.updateMaterial(record);
      }
      this.byHandle.delete(record.handle.toString('hex'));
      if (this.currentByKey.get(key.keyId)?.materialId === record.materialId) this.currentByKey.delete(key.keyId);
      this.refreshImportState(key);
    });
  }

  /** RotateKeyOnDemand for an EXTERNAL key: the material imported for rotation becomes current. */
  rotateToImported(key: KeyRecord, record: MaterialRecord): { previous: string; current: string } {
    const previous = key.currentMaterialId;
    this.store.transaction(() => {
      record.imported = { ...record.imported!, pendingRotation: undefined };
      record.rotationType = 'ON_DEMAND';
      record.createdAt = this.now();
      this.store.updateMaterial(record);
      key.currentMaterialId = record.materialId;
      key.onDemandRotations += 1;
      this.currentByKey.delete(key.keyId);
      this.refreshImportState(key);
    });
    return { previous, current: key.currentMaterialId };
  }

  /**
   * Recomputes what an EXTERNAL key shows of its imported material (ExpirationModel, ValidTo,
   * the next expiry) and its state: PendingImport while any material bound to the key is missing,
   * Enabled once all of it is back (ImportKeyMaterial "changes the state of the KMS key to
   * Enabled"), unchanged while PendingDeletion. Saves the key.
   */
  refreshImportState(key: KeyRecord): void {
    const materials = this.store.listMaterials(key.keyId);
    const bound = materials.filter((m) => !m.imported?.pendingRotation);
    const present = (m: MaterialRecord) => m.imported?.state === 'IMPORTED';
    const expiries = (list: MaterialRecord[]) => list.filter(present).map((m) => m.imported!.validTo).filter((t): t is number => t !== undefined);
    const boundExpiries = expiries(bound);
    const allExpiries = expiries(materials);
    key.validTo = boundExpiries.length ? Math.min(...boundExpiries) : undefined;
    key.materialExpiry = allExpiries.length ? Math.min(...allExpiries) : undefined;
    if (bound.some(present)) key.expirationModel = key.validTo !== undefined ? 'KEY_MATERIAL_EXPIRES' : 'KEY_MATERIAL_DOES_NOT_EXPIRE';
    const missing = bound.length === 0 || !bound.every(present);
    if (key.state !== 'PendingDeletion') {
      if (missing) key.state = 'PendingImport';
      else if (key.state === 'PendingImport') key.state = 'Enabled';
    }
    this.store.putKey(key);
  }

  /** Whether an EXTERNAL key lacks some of its material (deleted, expired, or never imported). */
  missingImportedMaterial(key: KeyRecord): boolean {
    if (key.origin !== 'EXTERNAL') return false;
    const bound = this.store.listMaterials(key.keyId).filter((m) => !m.imported?.pendingRotation);
    return bound.length === 0 || bound.some((m) => m.imported?.state !== 'IMPORTED');
  }

  /**
   * Imported material whose ValidTo has passed is deleted, as DeleteImportedKeyMaterial would,
   * and recorded as the AwsServiceEvent DeleteExpiredKeyMaterial, dated when it expired.
   * https://docs.aws.amazon.com/kms/latest/developerguide/ct-deleteexpiredkeymaterial.html
   */
  private expireImportedMaterial(key: KeyRecord, now: number): void {
    for (const record of this.store.listMaterials(key.keyId)) {
      const info = record.imported;
      if (info?.state !== 'IMPORTED' || info.validTo === undefined || info.validTo > now) continue;
      this.deleteImportedMaterial(key, record);
      this.trail.record(serviceEvent(key, 'DeleteExpiredKeyMaterial', info.validTo, { keyId: key.keyId }));
    }
  }

  /** Copies the properties a multi-Region key shares from one of its keys to the others. */
  syncReplicas(from: KeyRecord): void {
    if (!from.multiRegion) return;
    for (const other of this.keySet(from)) {
      if (other.region === from.region) continue;
      other.currentMaterialId = from.currentMaterialId;
      other.rotationEnabled = from.rotationEnabled;
      other.rotationPeriodDays = from.rotationPeriodDays;
      other.nextRotationDate = from.nextRotationDate;
      other.onDemandRotations = from.onDemandRotations;
      this.store.putKey(other);
    }
  }

  /** The account's AWS managed key for a service (alias/aws/<service>), created on first use. */
  awsManagedKey(accountId: string, region: string, service: string): KeyRecord | undefined {
    const info = AWS_MANAGED_KEYS[service];
    if (!info) return undefined;
    const aliasName = `alias/aws/${service}`;
    return this.store.transaction(() => {
      const existing = this.store.getAlias(accountId, region, aliasName);
      if (existing) return this.store.getKey(existing.targetKeyId, region);
      const key = this.createKey(accountId, region, {
        description: info.description,
        policy: awsManagedKeyPolicy(service, accountId, region),
        keyManager: 'AWS',
        rotationPeriodDays: 365,
      });
      const now = this.now();
      this.store.putAlias({ accountId, region, aliasName, targetKeyId: key.keyId, creationDate: now, lastUpdatedDate: now });
      return key;
    });
  }

  /**
   * Deletes keys whose waiting period is over, deletes imported material that expired, and
   * rotates keys whose rotation date has come.
   */
  processDue(): void {
    for (const id of this.connecting) {
      const store = this.store.getCustomKeyStore(id);
      if (!store || refreshConnection(this, store).connectionState !== 'CONNECTING') this.connecting.delete(id);
    }
    const now = this.now();
    for (const key of this.store.dueKeys(now)) {
      if (key.state === 'PendingDeletion' && key.deletionDate !== undefined && key.deletionDate <= now) {
        this.store.deleteKey(key.keyId, key.region);
        if (this.store.keysWithId(key.keyId).length === 0) {
          this.currentByKey.delete(key.keyId);
          for (const [handle, m] of this.byHandle) if (m.keyId === key.keyId) this.byHandle.delete(handle);
        }
        this.trail.record(serviceEvent(key, 'DeleteKey', key.deletionDate, null));
        if (key.multiRegion) this.startPrimaryDeletion(key, key.deletionDate);
        continue;
      }
      if (key.materialExpiry !== undefined && key.materialExpiry <= now) this.expireImportedMaterial(key, now);
      if (
        key.rotationEnabled &&
        key.state === 'Enabled' &&
        key.nextRotationDate !== undefined &&
        key.nextRotationDate <= now &&
        // A multi-Region key rotates in its primary Region; the replicas share the new material.
        (!key.multiRegion || key.primaryRegion === key.region)
      ) {
        // Rotations that fell due while time jumped happen once, dated when they were due.
        const due = key.nextRotationDate;
        const { previous, current } = this.rotate(key, 'AUTOMATIC');
        this.trail.record(
          serviceEvent(key, 'RotateKey', due, {
            rotationType: 'AUTOMATIC',
            keyOrigin: key.origin,
            previousKeyMaterialId: previous,
            currentKeyMaterialId: current,
            keyId: key.keyId,
          }),
        );
      }
    }
  }

  /**
   * A primary key scheduled for deletion waits in PendingReplicaDeletion until its last replica
   * is deleted; then its own waiting period (PendingWindowInDays) begins.
   * https://docs.aws.amazon.com/kms/latest/developerguide/multi-region-keys-delete.html
   */
  private startPrimaryDeletion(deleted: KeyRecord, at: number): void {
    const remaining = this.store.keysWithId(deleted.keyId).filter((k) => k.accountId === deleted.accountId);
    const primary = remaining.find((k) => k.region === k.primaryRegion);
    if (!primary || primary.state !== 'PendingReplicaDeletion' || remaining.length > 1) return;
    primary.state = 'PendingDeletion';
    primary.deletionDate = at + (primary.pendingWindowDays ?? 30) * DAY_MS;
    this.store.putKey(primary);
  }

  aliasArn(accountId: string, region: string, name: string): string {
    return aliasArn(region, accountId, name);
  }

  /** This state as an image for `image` (in memory only): every buffered event is in it. */
  image(): KmsImage {
    this.trail.flush();
    return { db: (this.store as SqliteKmsStore).serialize(), rootKey: this.rootKey };
  }

  close(): void {
    this.trail.close();
    this.store.close();
  }
}

export const newEventId = (): string => randomUUID();

/**
 * A seeded material version's handle and KeyMaterialId: HMAC-SHA256 under the material itself of
 * a fixed label and the key id, so they are the same in every Sealbox and reveal nothing of the
 * material to whoever lacks it.
 */
export function seededMaterialIds(keyId: string, material: Buffer): { handle: Buffer; materialId: string } {
  const mac = (label: string) => createHmac('sha256', material).update(`${label}\0${keyId}`).digest();
  return { handle: mac('sealbox seeded material handle v1'), materialId: mac('sealbox seeded material id v1').toString('hex') };
}
