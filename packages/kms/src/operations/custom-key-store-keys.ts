import type { OperationContext } from '../context';
import { CustomKeyStoreInvalidStateException, UnsupportedOperationException, ValidationException, XksKeyAlreadyInUseException } from '../errors';
import type { KeySpec } from '../key-specs';
import type { KeyRecord } from '../model';
import type { ValidatedInput } from '../model/validate';
import { str } from './common';
import { findCustomKeyStore } from './custom-key-stores';

export const isCustomKeyStoreOrigin = (origin: string): origin is 'AWS_CLOUDHSM' | 'EXTERNAL_KEY_STORE' =>
  origin === 'AWS_CLOUDHSM' || origin === 'EXTERNAL_KEY_STORE';

/**
 * Where CreateKey puts a key in a custom key store: Origin AWS_CLOUDHSM with the id of a CloudHSM
 * key store, or EXTERNAL_KEY_STORE with the id of an external key store and XksKeyId. The store
 * must be CONNECTED; its keys are symmetric encryption keys. Sealbox generates and keeps their
 * material like any other key's. Nothing for a key outside custom key stores.
 * https://docs.aws.amazon.com/kms/latest/developerguide/create-cmk-keystore.html
 * https://docs.aws.amazon.com/kms/latest/developerguide/create-xks-keys.html
 * The messages of the refusals below are not documented by AWS (the exceptions are).
 */
export function customKeyStorePlacement(
  input: ValidatedInput,
  ctx: OperationContext,
  origin: string,
  keySpec: KeySpec,
): Pick<KeyRecord, 'origin'> & { customKeyStoreId?: string; xksKeyId?: string } {
  const customKeyStoreId = str(input, 'CustomKeyStoreId');
  const xksKeyId = str(input, 'XksKeyId');
  if (!isCustomKeyStoreOrigin(origin)) {
    if (customKeyStoreId !== undefined) {
      throw new UnsupportedOperationException(`CustomKeyStoreId requires Origin AWS_CLOUDHSM or EXTERNAL_KEY_STORE, not ${origin}.`);
    }
    if (xksKeyId !== undefined) throw new ValidationException('XksKeyId is valid only with Origin EXTERNAL_KEY_STORE.');
    return { origin: origin as KeyRecord['origin'] };
  }
  if (customKeyStoreId === undefined) throw new ValidationException(`Origin ${origin} requires a CustomKeyStoreId.`);
  const store = findCustomKeyStore(ctx, customKeyStoreId);
  const expected = origin === 'AWS_CLOUDHSM' ? 'AWS_CLOUDHSM' : 'EXTERNAL_KEY_STORE';
  if (store.type !== expected) {
    throw new UnsupportedOperationException(`Origin ${origin} is not valid for custom key store '${store.id}' of type ${store.type}.`);
  }
  if (keySpec !== 'SYMMETRIC_DEFAULT') {
    throw new UnsupportedOperationException(`KeySpec ${keySpec} is not supported for KMS keys in custom key stores.`);
  }
  if (origin === 'EXTERNAL_KEY_STORE' && xksKeyId === undefined) throw new ValidationException('XksKeyId is required for Origin EXTERNAL_KEY_STORE.');
  if (origin === 'AWS_CLOUDHSM' && xksKeyId !== undefined) throw new ValidationException('XksKeyId is valid only with Origin EXTERNAL_KEY_STORE.');
  if (store.connectionState !== 'CONNECTED') {
    throw new CustomKeyStoreInvalidStateException(`Custom key store '${store.id}' is not connected. Its connection state is ${store.connectionState}.`);
  }
  if (xksKeyId !== undefined && ctx.core.store.keysInCustomKeyStore(store.id).some((k) => k.xksKeyId === xksKeyId)) {
    throw new XksKeyAlreadyInUseException(`The external key ${xksKeyId} is already associated with a KMS key in custom key store '${store.id}'.`);
  }
  return { origin, customKeyStoreId: store.id, ...(xksKeyId !== undefined ? { xksKeyId } : {}) };
}
