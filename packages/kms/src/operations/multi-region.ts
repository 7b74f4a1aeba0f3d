import { authorize } from '../access/authorize';
import type { OperationContext } from '../context';
import { AlreadyExistsException, NotFoundException, UnsupportedOperationException, ValidationException } from '../errors';
import { keyArn } from '../ids';
import { keyMetadata, requireEnabled } from '../keys';
import type { KeyRecord, Tag } from '../model';
import type { ValidatedInput } from '../model/validate';
import { checkKeyPolicy } from '../policy-document';
import { javaDate, serviceEvent } from '../trail/records';
import { checkTags, str, targetKey } from './common';

/*
 * Multi-Region keys: one key id, one key material (every version, rotations included) shared by a
 * primary key and its replicas in other Regions, so a ciphertext from one Region decrypts in
 * any other. Policy, tags, aliases, grants, description and key state are each Region's own.
 * https://docs.aws.amazon.com/kms/latest/developerguide/multi-region-keys-overview.html
 *
 * AWS shows transient states (Creating for a new replica, Updating while the primary Region
 * changes); Sealbox's changes are instant, so they never appear.
 */

/**
 * A multi-Region key, or UnsupportedOperationException. AWS's wording for a single-Region key
 * here is not documented.
 */
function requireMultiRegion(key: KeyRecord, operation: string): void {
  if (!key.multiRegion) throw new UnsupportedOperationException(`${key.arn} is not a multi-Region key. ${operation} is valid only for multi-Region keys.`);
}

/**
 * A replica of a primary key in another Region: same key id, spec, usage, origin, material and
 * rotation; its own policy (the default unless Policy is given, not the primary's), tags and
 * description. kms:ReplicateKey on the primary; kms:CreateKey (and kms:TagResource with Tags)
 * from IAM policies.
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_ReplicateKey.html
 */
export function replicateKey(input: ValidatedInput, ctx: OperationContext) {
  const primary = targetKey(input, ctx, 'ReplicateKey', { manage: true });
  const replicaRegion = str(input, 'ReplicaRegion')!;
  requireMultiRegion(primary, 'ReplicateKey');
  if (primary.region !== primary.primaryRegion) {
    // Only the primary key can be replicated; wording not documented.
    throw new UnsupportedOperationException(`${primary.arn} is not a multi-Region primary key. Replicate its primary key in ${primary.primaryRegion}.`);
  }
  requireEnabled(primary);
  if (replicaRegion === primary.region) {
    // Wording not documented.
    throw new ValidationException(`The replica Region ${replicaRegion} must differ from the primary key's Region.`);
  }
  const replicaArn = keyArn(replicaRegion, primary.accountId, primary.keyId);
  if (ctx.core.keySet(primary).some((k) => k.region === replicaRegion)) {
    // AlreadyExistsException as documented; its wording is not.
    throw new AlreadyExistsException(`Key '${replicaArn}' already exists`);
  }
  authorize(ctx, { action: 'CreateKey' });
  const tags = checkTags((input.Tags as Tag[] | undefined) ?? []);
  if (tags.length > 0) authorize(ctx, { action: 'TagResource' });
  const policy = str(input, 'Policy');
  const replica = ctx.core.draftKey(primary.accountId, replicaRegion, {
    keyId: primary.keyId,
    description: str(input, 'Description'),
    policy,
    tags,
    keySpec: primary.keySpec,
    keyUsage: primary.keyUsage,
    origin: primary.origin,
    multiRegion: true,
  });
  if (policy !== undefined) checkKeyPolicy(ctx, replica, policy, input.BypassPolicyLockoutSafetyCheck === true);
  Object.assign(replica, {
    primaryRegion: primary.region,
    currentMaterialId: primary.currentMaterialId,
    rotationEnabled: primary.rotationEnabled,
    rotationPeriodDays: primary.rotationPeriodDays,
    nextRotationDate: primary.nextRotationDate,
    onDemandRotations: primary.onDemandRotations,
  });
  ctx.core.insertReplica(replica);
  const metadata = keyMetadata(replica, ctx.core);
  // CloudTrail: ReplicateKey in the primary's Region with the replica's metadata in lower camel
  // case (https://docs.aws.amazon.com/kms/latest/developerguide/ct-replicate-key.html), and a
  // CreateKey in the replica's Region. That CreateKey record's exact form is not documented;
  // Sealbox writes it as an event of KMS itself.
  ctx.audit.responseElements = { replicaKeyMetadata: trailCase({ ...metadata, CreationDate: javaDate(replica.creationDate) }), replicaPolicy: replica.policy };
  ctx.core.trail.record(serviceEvent(replica, 'CreateKey', ctx.now.getTime(), null));
  return { ReplicaKeyMetadata: metadata, ReplicaPolicy: replica.policy, ReplicaTags: replica.tags };
}

/** CloudTrail's member names: lower camel case at every level (AWSAccountId becomes aWSAccountId). */
function trailCase(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(trailCase);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k.charAt(0).toLowerCase() + k.slice(1), trailCase(v)]));
}

/**
 * Makes the replica in PrimaryRegion the primary key and the current primary a replica, at
 * once. kms:UpdatePrimaryRegion on both keys (each Region's key policy).
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_UpdatePrimaryRegion.html
 */
export function updatePrimaryRegion(input: ValidatedInput, ctx: OperationContext) {
  const key = targetKey(input, ctx, 'UpdatePrimaryRegion', { manage: true });
  const newRegion = str(input, 'PrimaryRegion')!;
  requireMultiRegion(key, 'UpdatePrimaryRegion');
  if (key.region !== key.primaryRegion) {
    // KeyId names the current primary key; wording not documented.
    throw new UnsupportedOperationException(`${key.arn} is not the primary key. Its primary key is in ${key.primaryRegion}.`);
  }
  requireEnabled(key);
  if (newRegion === key.region) {
    // Wording not documented.
    throw new ValidationException(`${key.arn} is already the primary key in ${newRegion}.`);
  }
  const set = ctx.core.keySet(key);
  const replica = set.find((k) => k.region === newRegion);
  // The new primary Region must already have a replica; wording as for any missing key.
  if (!replica) throw new NotFoundException(`Key '${keyArn(newRegion, key.accountId, key.keyId)}' does not exist`);
  ctx.audit.keys.push(replica);
  authorize(ctx, { action: 'UpdatePrimaryRegion', key: replica });
  requireEnabled(replica);
  ctx.core.store.transaction(() => {
    for (const k of set) {
      k.primaryRegion = newRegion;
      ctx.core.store.putKey(k);
    }
  });
  return {};
}

/** For CreateKey: multi-Region keys cannot be created in custom key stores. */
export function refuseMultiRegionInCustomKeyStore(input: ValidatedInput): void {
  if (input.MultiRegion === true && input.CustomKeyStoreId !== undefined) {
    // Documented restriction; wording not documented.
    throw new UnsupportedOperationException('Multi-Region keys are not supported in custom key stores.');
  }
}
