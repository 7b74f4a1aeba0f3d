import { randomBytes } from 'node:crypto';
import { authorize } from '../access/authorize';
import type { OperationContext } from '../context';
import { CustomKeyStoreInvalidStateException, UnsupportedOperationException, ValidationException } from '../errors';
import { findCustomKeyStore } from './custom-key-stores';
import type { ValidatedInput } from '../model/validate';
import { num, str } from './common';

/** https://docs.aws.amazon.com/kms/latest/APIReference/API_GenerateRandom.html */
export function generateRandom(input: ValidatedInput, ctx: OperationContext) {
  authorize(ctx, { action: 'GenerateRandom' });
  const numberOfBytes = num(input, 'NumberOfBytes');
  // The model marks the member optional; KMS still requires it, with this message.
  if (numberOfBytes === undefined) throw new ValidationException('NumberOfBytes is required.');
  const customKeyStoreId = str(input, 'CustomKeyStoreId');
  if (customKeyStoreId !== undefined) {
    // Random bytes "from" a CloudHSM key store: it must be CONNECTED; external key stores are
    // not valid here (UnsupportedOperationException, as documented). Messages not documented.
    const store = findCustomKeyStore(ctx, customKeyStoreId);
    if (store.type !== 'AWS_CLOUDHSM') {
      throw new UnsupportedOperationException(`GenerateRandom is not supported for custom key store '${store.id}' of type ${store.type}.`);
    }
    if (store.connectionState !== 'CONNECTED') {
      throw new CustomKeyStoreInvalidStateException(`Custom key store '${store.id}' is not connected. Its connection state is ${store.connectionState}.`);
    }
  }
  return { Plaintext: randomBytes(numberOfBytes).toString('base64') };
}
