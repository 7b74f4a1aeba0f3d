import type { OperationContext } from '../context';
import { DAY_MS } from '../core';
import { importedMaterialId, unwrapKeyMaterial } from '../crypto/import-wrapping';
import { checkImportedMaterial } from '../crypto/key-material';
import { IncorrectKeyMaterialException, InvalidCiphertextException, KMSInvalidStateException, ValidationException } from '../errors';
import { requireNotPendingDeletion, requireNotPendingImport } from '../keys';
import type { ExpirationModel, ImportedMaterialInfo } from '../model';
import type { ValidatedInput } from '../model/validate';
import { javaDate } from '../trail/records';
import { blob, num, str, targetKey } from './common';
import { openImportToken, requireExternal } from './import-common';

/** ValidTo may be at most 365 days ahead. */
const MAX_VALID_TO_MS = 365 * DAY_MS;

/**
 * Imports (or re-imports) key material wrapped under a GetParametersForImport public key.
 *
 * - The first import makes the material current and the key Enabled.
 * - Re-importing (ImportType EXISTING_KEY_MATERIAL, the default after the first import) must bring
 *   back material the key already has (recognised by its KeyMaterialId, which is derived from the
 *   key and the material); it restores deleted or expired material and sets a new expiry.
 * - Symmetric encryption keys take NEW_KEY_MATERIAL later too: the material waits in
 *   PENDING_ROTATION until RotateKeyOnDemand makes it current. Asymmetric and HMAC keys keep
 *   their first material for ever.
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_ImportKeyMaterial.html
 */
export function importKeyMaterial(input: ValidatedInput, ctx: OperationContext) {
  const key = targetKey(input, ctx, 'ImportKeyMaterial', { manage: true });
  requireExternal(key);
  requireNotPendingDeletion(key);
  const now = ctx.now.getTime();

  // Expiry. AWS's ValidationException messages for these cases are not documented.
  const expirationModel = (str(input, 'ExpirationModel') ?? 'KEY_MATERIAL_EXPIRES') as ExpirationModel;
  const validToSeconds = num(input, 'ValidTo');
  // CloudTrail shows the request without the token and the wrapped material, ValidTo as a Java date.
  // https://docs.aws.amazon.com/kms/latest/developerguide/ct-importkeymaterial.html
  ctx.audit.requestParameters = Object.fromEntries(
    Object.entries({
      keyId: str(input, 'KeyId'),
      validTo: validToSeconds === undefined ? undefined : javaDate(validToSeconds * 1000),
      expirationModel: str(input, 'ExpirationModel'),
      importType: str(input, 'ImportType'),
      keyMaterialDescription: str(input, 'KeyMaterialDescription'),
      keyMaterialId: str(input, 'KeyMaterialId'),
    }).filter(([, v]) => v !== undefined),
  );
  let validTo: number | undefined;
  if (expirationModel === 'KEY_MATERIAL_EXPIRES') {
    if (validToSeconds === undefined) throw new ValidationException('A validTo date must be set if the ExpirationModel is KEY_MATERIAL_EXPIRES');
    validTo = Math.round(validToSeconds * 1000);
    if (validTo <= now) throw new ValidationException('The validTo date must be in the future.');
    if (validTo > now + MAX_VALID_TO_MS) throw new ValidationException('The validTo date must be no more than 365 days from the current date.');
  } else if (validToSeconds !== undefined) {
    throw new ValidationException('A validTo date must not be set if the ExpirationModel is KEY_MATERIAL_DOES_NOT_EXPIRE');
  }

  const symmetric = key.keySpec === 'SYMMETRIC_DEFAULT';
  const importTypeParam = str(input, 'ImportType') as 'NEW_KEY_MATERIAL' | 'EXISTING_KEY_MATERIAL' | undefined;
  const materialIdParam = str(input, 'KeyMaterialId');
  const description = str(input, 'KeyMaterialDescription');
  // "This parameter is optional and only usable with symmetric encryption keys" (AWS's error
  // wording is not documented).
  if (!symmetric) {
    for (const [member, value] of [['KeyMaterialId', materialIdParam], ['KeyMaterialDescription', description]] as const) {
      if (value !== undefined) throw new ValidationException(`${member} is only valid for symmetric encryption keys; ${key.arn} key spec is ${key.keySpec}.`);
    }
  }
  if (importTypeParam === 'NEW_KEY_MATERIAL' && materialIdParam !== undefined) {
    throw new ValidationException('You cannot specify a KeyMaterialId with ImportType NEW_KEY_MATERIAL.');
  }

  const { token, privateKey } = openImportToken(ctx, key, blob(input, 'ImportToken')!);
  const unwrapped = unwrapKeyMaterial(token.algorithm, privateKey, blob(input, 'EncryptedKeyMaterial')!);
  // Material that does not open under the token's wrapping key and algorithm (AWS answers
  // InvalidCiphertextException; whether with a message is not documented).
  if (!unwrapped) throw new InvalidCiphertextException();
  const checked = checkImportedMaterial(key.keySpec, unwrapped);
  if ('problem' in checked) throw new IncorrectKeyMaterialException(checked.problem);

  const materialId = importedMaterialId(key.keyId, unwrapped);
  if (materialIdParam !== undefined && materialIdParam !== materialId) {
    throw new IncorrectKeyMaterialException(`The imported key material does not match the key material ID ${materialIdParam}.`);
  }
  const materials = ctx.core.store.listMaterials(key.keyId);
  const existing = materials.find((m) => m.materialId === materialId);
  const importType = importTypeParam ?? (materials.length === 0 ? 'NEW_KEY_MATERIAL' : 'EXISTING_KEY_MATERIAL');
  const info = (pendingRotation: boolean, previous?: string): ImportedMaterialInfo => ({
    state: 'IMPORTED',
    expirationModel,
    ...(validTo !== undefined ? { validTo } : {}),
    // Without a description, KMS keeps the one given when this material was last imported.
    ...((description ?? previous) !== undefined ? { description: description ?? previous } : {}),
    ...(pendingRotation ? { pendingRotation } : {}),
  });

  // AWS's IncorrectKeyMaterialException messages are not documented; these say what was expected.
  if (importType === 'EXISTING_KEY_MATERIAL') {
    if (!existing) {
      throw new IncorrectKeyMaterialException(
        materials.length === 0
          ? `${key.arn} has no key material yet. Import its first key material with ImportType NEW_KEY_MATERIAL.`
          : `The key material is not the key material previously imported into ${key.arn}.`,
      );
    }
    ctx.core.restoreImportedMaterial(key, existing, checked.material, info(existing.imported?.pendingRotation === true, existing.imported?.description));
  } else if (existing) {
    throw new IncorrectKeyMaterialException(`The key material is already associated with ${key.arn}. Use ImportType EXISTING_KEY_MATERIAL to reimport it.`);
  } else if (materials.length === 0) {
    ctx.core.addImportedMaterial(key, checked.material, materialId, info(false));
  } else {
    if (!symmetric) {
      throw new IncorrectKeyMaterialException(`The key material of ${key.arn} cannot change: ${key.keySpec} keys keep the key material of their first import.`);
    }
    requireNotPendingImport(key);
    // One new material at a time waits for rotation; to replace it, delete it first (AWS's
    // answer to a second one is not documented).
    const pending = materials.find((m) => m.imported?.pendingRotation);
    if (pending) {
      throw new KMSInvalidStateException(`${key.arn} already has key material ${pending.materialId} pending rotation. Rotate the key or delete that key material first.`);
    }
    ctx.core.addImportedMaterial(key, checked.material, materialId, info(true));
  }
  // AWS's older example records responseElements null, from before the response had members; it
  // now returns KeyId and KeyMaterialId, recorded here as other operations record theirs.
  ctx.audit.responseElements = { keyId: key.arn, keyMaterialId: materialId };
  return { KeyId: key.arn, KeyMaterialId: materialId };
}
