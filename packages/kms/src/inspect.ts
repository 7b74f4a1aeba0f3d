import type { KmsCore } from './core';
import type { KeyState } from './model';
import { TRACKED_OPERATIONS } from './operations/get-key-last-usage';

/**
 * Read-only views of the KMS state for Sealbox's web console. They carry what DescribeKey,
 * ListAliases, ListKeyRotations, GetKeyLastUsage and CloudTrail show, for every account and
 * Region at once, and never key material (not even wrapped) or material handles.
 */

export interface KeyView {
  keyId: string;
  arn: string;
  accountId: string;
  region: string;
  state: KeyState;
  keySpec: string;
  keyUsage: string;
  origin: string;
  keyManager: 'CUSTOMER' | 'AWS';
  description: string;
  multiRegion: boolean;
  /** Milliseconds since the epoch, as every time here. */
  creationDate: number;
  deletionDate?: number;
  aliases: string[];
  rotation: {
    enabled: boolean;
    periodDays?: number;
    nextRotationDate?: number;
    onDemandRotations: number;
    /** Each rotation, oldest first (ListKeyRotations). */
    history: { keyMaterialId: string; type: 'AUTOMATIC' | 'ON_DEMAND'; date: number }[];
  };
  /** The last successful cryptographic use (GetKeyLastUsage), from the event log. */
  lastUse?: { operation: string; time: number; eventId: string };
}

export function inspectKeys(core: KmsCore): KeyView[] {
  // The log is buffered: pending records count for last use too.
  core.trail.flush();
  const aliases = new Map<string, string[]>();
  for (const a of core.store.allAliases()) {
    const id = `${a.accountId}/${a.region}/${a.targetKeyId}`;
    aliases.set(id, [...(aliases.get(id) ?? []), a.aliasName]);
  }
  const lastUses = core.store.lastUses(TRACKED_OPERATIONS);
  return core.store.allKeys().map((key) => {
    const last = lastUses.get(key.arn);
    return {
      keyId: key.keyId,
      arn: key.arn,
      accountId: key.accountId,
      region: key.region,
      state: key.state,
      keySpec: key.keySpec,
      keyUsage: key.keyUsage,
      origin: key.origin,
      keyManager: key.keyManager,
      description: key.description,
      multiRegion: key.multiRegion,
      creationDate: key.creationDate,
      ...(key.state === 'PendingDeletion' && key.deletionDate !== undefined ? { deletionDate: key.deletionDate } : {}),
      aliases: aliases.get(`${key.accountId}/${key.region}/${key.keyId}`) ?? [],
      rotation: {
        enabled: key.rotationEnabled,
        ...(key.rotationPeriodDays !== undefined ? { periodDays: key.rotationPeriodDays } : {}),
        ...(key.rotationEnabled && key.nextRotationDate !== undefined ? { nextRotationDate: key.nextRotationDate } : {}),
        onDemandRotations: key.onDemandRotations,
        history: core.store
          .listMaterials(key.keyId)
          .filter((m) => m.rotationType !== undefined && !m.imported?.pendingRotation)
          .map((m) => ({ keyMaterialId: m.materialId, type: m.rotationType!, date: m.createdAt })),
      },
      ...(last ? { lastUse: { operation: last.eventName, time: last.time, eventId: last.eventId } } : {}),
    };
  });
}

export interface EventFilter {
  /** A key id, key ARN (or part of one) or alias name. */
  key?: string;
  eventName?: string;
  /** Part of a user name, principal ARN or access key id. */
  user?: string;
  /** 'errors', 'successes', or one error code. */
  error?: string;
}

export interface EventView {
  /** The event's place in the log: the console asks for events after the last one it has. */
  seq: number;
  eventId: string;
  time: number;
  eventName: string;
  eventType: string;
  accountId: string;
  region: string;
  username: string;
  /** The userIdentity type: Root, IAMUser, AssumedRole, AWSService, or absent (KMS's own events). */
  identityType?: string;
  principalArn?: string;
  /** A service acting for the caller (s3.amazonaws.com), or AWS Internal for KMS's own events. */
  invokedBy?: string;
  keyArns: string[];
  errorCode?: string;
  errorMessage?: string;
  /** The fault rule that injected this failure or delay (POST /_sealbox/faults). */
  injectedFault?: string;
  /** The CloudTrail record itself: it never holds plaintext, ciphertext or key material. */
  record: Record<string, unknown>;
}

/**
 * The event log's records after `afterSeq` that match the filter, oldest first, at most `limit`
 * (the newest ones), and the cursor to ask from next time: the newest event's sequence number,
 * whether it matched or not.
 */
export function inspectEvents(core: KmsCore, afterSeq: number, limit: number, filter: EventFilter = {}): { events: EventView[]; cursor: number } {
  core.trail.flush();
  const cursor = core.store.lastEventSeq();
  const rows = core.store.consoleEvents({
    afterSeq,
    limit,
    eventName: filter.eventName,
    keyArnParts: filter.key === undefined ? undefined : keyArnParts(core, filter.key),
    user: filter.user,
    error: filter.error,
  });
  const events = rows.map(({ seq, event }) => {
    const record = JSON.parse(event.record) as Record<string, unknown>;
    const identity = (record.userIdentity ?? {}) as { type?: string; arn?: string; invokedBy?: string };
    const errorMessage = typeof record.errorMessage === 'string' ? record.errorMessage : undefined;
    return {
      seq,
      eventId: event.eventId,
      time: event.time,
      eventName: event.eventName,
      eventType: String(record.eventType ?? ''),
      accountId: event.accountId,
      region: event.region,
      username: event.username,
      ...(identity.type ? { identityType: identity.type } : {}),
      ...(identity.arn ? { principalArn: identity.arn } : {}),
      ...(identity.invokedBy ? { invokedBy: identity.invokedBy } : {}),
      keyArns: event.resources,
      ...(event.errorCode ? { errorCode: event.errorCode } : {}),
      ...(errorMessage ? { errorMessage } : {}),
      // A failure (or delay) a fault rule injected: the console marks it.
      ...((record.additionalEventData as { sealboxInjectedFault?: unknown } | undefined)?.sealboxInjectedFault ? { injectedFault: (record.additionalEventData as { sealboxInjectedFault: { ruleId: string } }).sealboxInjectedFault.ruleId } : {}),
      record,
    };
  });
  return { events, cursor };
}

/** What a key filter matches in resource ARNs: an alias name stands for the keys it names. */
function keyArnParts(core: KmsCore, key: string): string[] {
  const name = key.startsWith('arn:') && key.includes(':alias/') ? key.slice(key.indexOf(':alias/') + 1) : key;
  if (!name.startsWith('alias/')) return [key];
  return core.store
    .allAliases()
    .filter((a) => a.aliasName === name)
    .map((a) => `:${a.region}:${a.accountId}:key/${a.targetKeyId}`);
}
