import type { OperationContext } from '../context';
import { NotFoundException } from '../errors';
import type { ValidatedInput } from '../model/validate';
import { str, targetKey } from './common';
import { requireExternal } from './import-common';

/**
 * Deletes imported material (the current one unless KeyMaterialId names another): the key becomes
 * PendingImport (a key pending deletion stays so) and what was encrypted under it cannot be
 * decrypted until the same material is imported again. Material pending rotation is forgotten.
 * On a key whose material is already gone this has no effect.
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_DeleteImportedKeyMaterial.html
 */
export function deleteImportedKeyMaterial(input: ValidatedInput, ctx: OperationContext) {
  const key = targetKey(input, ctx, 'DeleteImportedKeyMaterial', { manage: true });
  requireExternal(key);
  const materialId = str(input, 'KeyMaterialId') ?? key.currentMaterialId;
  const record = materialId ? ctx.core.store.listMaterials(key.keyId).find((m) => m.materialId === materialId) : undefined;
  if (!record) {
    // AWS's answer for a KeyMaterialId the key does not have is not documented.
    if (str(input, 'KeyMaterialId') !== undefined) throw new NotFoundException(`Key material ${materialId} does not exist for ${key.arn}.`);
    ctx.audit.responseElements = { keyId: key.arn };
    return { KeyId: key.arn };
  }
  if (record.imported?.state === 'IMPORTED') ctx.core.deleteImportedMaterial(key, record);
  ctx.audit.responseElements = { keyId: key.arn, keyMaterialId: record.materialId };
  return { KeyId: key.arn, KeyMaterialId: record.materialId };
}
