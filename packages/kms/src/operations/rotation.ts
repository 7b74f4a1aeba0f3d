import type { OperationContext } from '../context';
import { DAY_MS } from '../core';
import { KMSInvalidStateException, LimitExceededException, UnsupportedOperationException } from '../errors';
import type { KeyRecord } from '../model';
import { epochSeconds, requireEnabled } from '../keys';
import type { ValidatedInput } from '../model/validate';
import { serviceEvent } from '../trail/records';
import { decodeMarker, num, page, str, targetKey } from './common';

/** Only symmetric encryption keys rotate (asymmetric and HMAC keys never do). */
function requireRotatable(key: KeyRecord): void {
  if (key.keySpec !== 'SYMMETRIC_DEFAULT' || key.keyUsage !== 'ENCRYPT_DECRYPT') {
    throw new UnsupportedOperationException('You cannot perform this operation on a non-symmetric key or a key with non-ENCRYPT_DECRYPT key usage.');
  }
  // Keys in custom key stores never rotate (key-state table, note 7). AWS's message is not
  // documented; this one follows the form of its origin messages.
  if (key.customKeyStoreId !== undefined) {
    throw new UnsupportedOperationException(`${key.arn} origin is ${key.origin} which is not valid for this operation.`);
  }
}

/**
 * A multi-Region key's rotation is set, and done on demand, on its primary key only; the
 * replicas share it. AWS's error for a replica is not documented: Sealbox answers
 * UnsupportedOperationException naming the primary.
 */
function requirePrimary(key: KeyRecord, operation: string): void {
  if (key.multiRegion && key.region !== key.primaryRegion) {
    throw new UnsupportedOperationException(
      `${key.arn} is a multi-Region replica key. ${operation} is valid only on its primary key in ${key.primaryRegion}.`,
    );
  }
}

/**
 * Keys with imported material never rotate automatically ("UnsupportedOperationException: <arn>
 * origin is EXTERNAL which is not valid for this operation.", AWS's key state table).
 */
function requireAutomaticRotation(key: KeyRecord): void {
  if (key.origin !== 'AWS_KMS') throw new UnsupportedOperationException(`${key.arn} origin is ${key.origin} which is not valid for this operation.`);
}

/**
 * Automatic rotation every RotationPeriodInDays (90 to 2560, default 365): when the clock passes
 * NextRotationDate the key gets new material.
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_EnableKeyRotation.html
 */
export function enableKeyRotation(input: ValidatedInput, ctx: OperationContext) {
  const key = targetKey(input, ctx, 'EnableKeyRotation', { manage: true });
  requireRotatable(key);
  requireAutomaticRotation(key);
  requireEnabled(key);
  requirePrimary(key, 'EnableKeyRotation');
  const period = num(input, 'RotationPeriodInDays') ?? 365;
  if (!key.rotationEnabled || key.rotationPeriodDays !== period) {
    key.rotationEnabled = true;
    key.rotationPeriodDays = period;
    key.nextRotationDate = ctx.now.getTime() + period * DAY_MS;
    ctx.core.store.putKey(key);
    ctx.core.syncReplicas(key);
  }
  ctx.audit.responseElements = { keyId: key.arn };
  return {};
}

/** https://docs.aws.amazon.com/kms/latest/APIReference/API_DisableKeyRotation.html */
export function disableKeyRotation(input: ValidatedInput, ctx: OperationContext) {
  const key = targetKey(input, ctx, 'DisableKeyRotation', { manage: true });
  requireRotatable(key);
  requireAutomaticRotation(key);
  requireEnabled(key);
  requirePrimary(key, 'DisableKeyRotation');
  key.rotationEnabled = false;
  key.rotationPeriodDays = undefined;
  key.nextRotationDate = undefined;
  ctx.core.store.putKey(key);
  ctx.core.syncReplicas(key);
  ctx.audit.responseElements = { keyId: key.arn };
  return {};
}

/** https://docs.aws.amazon.com/kms/latest/APIReference/API_GetKeyRotationStatus.html */
export function getKeyRotationStatus(input: ValidatedInput, ctx: OperationContext) {
  const key = targetKey(input, ctx, 'GetKeyRotationStatus', { crossAccount: true });
  // Keys in custom key stores: UnsupportedOperationException (key-state table, note 7).
  if (key.customKeyStoreId !== undefined) requireRotatable(key);
  if (!key.rotationEnabled) return { KeyId: key.arn, KeyRotationEnabled: false };
  return {
    KeyId: key.arn,
    KeyRotationEnabled: true,
    RotationPeriodInDays: key.rotationPeriodDays,
    NextRotationDate: key.nextRotationDate === undefined ? undefined : epochSeconds(key.nextRotationDate),
  };
}

/**
 * New material now, at most `onDemandRotationLimit` times per key (AWS: 10). A key with imported
 * material rotates to the material imported for it with ImportType NEW_KEY_MATERIAL (state
 * PENDING_ROTATION); without one there is nothing to rotate to.
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_RotateKeyOnDemand.html
 */
export function rotateKeyOnDemand(input: ValidatedInput, ctx: OperationContext) {
  const key = targetKey(input, ctx, 'RotateKeyOnDemand', { manage: true });
  requireRotatable(key);
  requireEnabled(key);
  requirePrimary(key, 'RotateKeyOnDemand');
  if (key.onDemandRotations >= ctx.core.onDemandRotationLimit) {
    throw new LimitExceededException(
      `The on-demand rotations limit has been reached for the given keyId. No more on-demand rotations can be performed for this key: ${key.arn}`,
    );
  }
  let rotated: { previous: string; current: string };
  if (key.origin === 'EXTERNAL') {
    const pending = ctx.core.store.listMaterials(key.keyId).find((m) => m.imported?.pendingRotation && m.imported.state === 'IMPORTED');
    // AWS's error for an imported key with nothing to rotate to is not documented.
    if (!pending) {
      throw new KMSInvalidStateException(
        `${key.arn} has no key material in PENDING_ROTATION state. Import new key material with ImportType NEW_KEY_MATERIAL before rotating.`,
      );
    }
    rotated = ctx.core.rotateToImported(key, pending);
  } else {
    rotated = ctx.core.rotate(key, 'ON_DEMAND');
  }
  const { previous, current } = rotated;
  ctx.core.trail.record(
    serviceEvent(key, 'RotateKey', ctx.now.getTime(), {
      rotationType: 'ON_DEMAND',
      keyOrigin: key.origin,
      previousKeyMaterialId: previous,
      currentKeyMaterialId: current,
      keyId: key.keyId,
    }),
  );
  ctx.audit.responseElements = { keyId: key.keyId };
  return { KeyId: key.keyId };
}

/**
 * The key's material versions: rotations only (the default), or all material with
 * IncludeKeyMaterial ALL_KEY_MATERIAL (the first material, and imported material pending
 * rotation). Symmetric keys with imported material also show each material's import state,
 * expiry and description.
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_ListKeyRotations.html
 */
export function listKeyRotations(input: ValidatedInput, ctx: OperationContext) {
  const key = targetKey(input, ctx, 'ListKeyRotations');
  // Keys in custom key stores have no rotations: UnsupportedOperationException, as for
  // GetKeyRotationStatus (key-state table, note 7).
  if (key.customKeyStoreId !== undefined) requireRotatable(key);
  const all = str(input, 'IncludeKeyMaterial') === 'ALL_KEY_MATERIAL';
  const limit = num(input, 'Limit') ?? 100;
  const after = decodeMarker(str(input, 'Marker'));
  const materials = ctx.core.store
    .listMaterials(key.keyId)
    .filter((m) => all || m.rotationType !== undefined)
    .filter((m) => after === undefined || m.seq > Number(after));
  const { shown, truncated, nextMarker } = page(materials, limit, (m) => String(m.seq));
  const imported = key.origin === 'EXTERNAL' && key.keySpec === 'SYMMETRIC_DEFAULT';
  return {
    Rotations: shown.map((m) => ({
      KeyId: key.keyId,
      KeyMaterialId: m.materialId,
      ...(imported && m.imported?.description !== undefined ? { KeyMaterialDescription: m.imported.description } : {}),
      ...(imported ? { ImportState: m.imported?.state ?? 'PENDING_IMPORT' } : {}),
      KeyMaterialState: m.imported?.pendingRotation ? 'PENDING_ROTATION' : m.materialId === key.currentMaterialId ? 'CURRENT' : 'NON_CURRENT',
      ...(imported && m.imported?.expirationModel ? { ExpirationModel: m.imported.expirationModel } : {}),
      ...(imported && m.imported?.validTo !== undefined ? { ValidTo: epochSeconds(m.imported.validTo) } : {}),
      ...(m.rotationType ? { RotationDate: epochSeconds(m.createdAt), RotationType: m.rotationType } : {}),
    })),
    ...(nextMarker ? { NextMarker: nextMarker } : {}),
    Truncated: truncated,
  };
}
