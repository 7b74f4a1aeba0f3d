import type { OperationContext } from '../context';
import { DAY_MS } from '../core';
import { KMSInvalidStateException, ValidationException } from '../errors';
import { epochSeconds, requireNotPendingDeletion, requireNotPendingImport } from '../keys';
import type { ValidatedInput } from '../model/validate';
import { javaDate } from '../trail/records';
import { num, str, targetKey } from './common';

/**
 * Enabled <-> Disabled; either is a no-op when the key is already there. A key whose custom key
 * store is disconnected stays Unavailable: the call succeeds and the new state shows once the
 * store connects (key-state table, note 12).
 */
function setEnabled(input: ValidatedInput, ctx: OperationContext, action: string, state: 'Enabled' | 'Disabled') {
  const key = targetKey(input, ctx, action, { manage: true });
  requireNotPendingDeletion(key);
  requireNotPendingImport(key);
  if (key.state === 'Unavailable') key.availableState = state;
  else key.state = state;
  ctx.core.store.putKey(key);
  return {};
}

/** https://docs.aws.amazon.com/kms/latest/APIReference/API_EnableKey.html */
export const enableKey = (input: ValidatedInput, ctx: OperationContext) => setEnabled(input, ctx, 'EnableKey', 'Enabled');

/** https://docs.aws.amazon.com/kms/latest/APIReference/API_DisableKey.html */
export const disableKey = (input: ValidatedInput, ctx: OperationContext) => setEnabled(input, ctx, 'DisableKey', 'Disabled');

/** https://docs.aws.amazon.com/kms/latest/APIReference/API_UpdateKeyDescription.html */
export function updateKeyDescription(input: ValidatedInput, ctx: OperationContext) {
  const key = targetKey(input, ctx, 'UpdateKeyDescription', { manage: true });
  requireNotPendingDeletion(key);
  key.description = str(input, 'Description')!;
  ctx.core.store.putKey(key);
  return {};
}

/**
 * A waiting period of 7 to 30 days (default 30); when the clock passes DeletionDate the key, its
 * material and its aliases are gone.
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_ScheduleKeyDeletion.html
 */
export function scheduleKeyDeletion(input: ValidatedInput, ctx: OperationContext) {
  const days = num(input, 'PendingWindowInDays') ?? 30;
  const key = targetKey(input, ctx, 'ScheduleKeyDeletion', { manage: true });
  if (days < 7 || days > 30) throw new ValidationException('PendingWindowInDays must be between 7 and 30');
  requireNotPendingDeletion(key);
  key.pendingWindowDays = days;
  // A key of a disconnected custom key store (Unavailable) becomes PendingDeletion all the
  // same, so its deletion can be cancelled at any time (key-state table, note 13).
  if (key.multiRegion && key.region === key.primaryRegion && ctx.core.keySet(key).length > 1) {
    // A primary key with replicas waits for them; its waiting period starts when the last
    // replica is deleted, so the answer has no DeletionDate.
    key.state = 'PendingReplicaDeletion';
    key.deletionDate = undefined;
    ctx.core.store.putKey(key);
    ctx.audit.responseElements = { keyId: key.arn, keyState: key.state, pendingWindowInDays: days };
    return { KeyId: key.arn, KeyState: key.state, PendingWindowInDays: days };
  }
  key.state = 'PendingDeletion';
  key.deletionDate = ctx.now.getTime() + days * DAY_MS;
  ctx.core.store.putKey(key);
  ctx.audit.responseElements = { keyId: key.arn, deletionDate: javaDate(key.deletionDate), keyState: key.state, pendingWindowInDays: days };
  return { KeyId: key.arn, DeletionDate: epochSeconds(key.deletionDate), KeyState: key.state, PendingWindowInDays: days };
}

/** The key comes back Disabled. https://docs.aws.amazon.com/kms/latest/APIReference/API_CancelKeyDeletion.html */
export function cancelKeyDeletion(input: ValidatedInput, ctx: OperationContext) {
  const key = targetKey(input, ctx, 'CancelKeyDeletion', { manage: true });
  if (key.state !== 'PendingDeletion' && key.state !== 'PendingReplicaDeletion') {
    throw new KMSInvalidStateException(`${key.arn} is not pending deletion.`);
  }
  // Disabled; Unavailable (to become Disabled) while its custom key store is disconnected. An
  // EXTERNAL key whose material is missing comes back PendingImport, not Disabled (AWS does not
  // document this case; a Disabled key without material could not be enabled).
  if (key.customKeyStoreId !== undefined && ctx.core.store.getCustomKeyStore(key.customKeyStoreId)?.connectionState !== 'CONNECTED') {
    key.state = 'Unavailable';
    key.availableState = 'Disabled';
  } else {
    key.state = ctx.core.missingImportedMaterial(key) ? 'PendingImport' : 'Disabled';
  }
  key.deletionDate = undefined;
  key.pendingWindowDays = undefined;
  ctx.core.store.putKey(key);
  ctx.audit.responseElements = { keyId: key.arn };
  return { KeyId: key.arn };
}
