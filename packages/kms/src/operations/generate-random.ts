import { randomBytes } from 'node:crypto';
import { authorize } from '../access/authorize';
import type { OperationContext } from '../context';
import { CustomKeyStoreNotFoundException, ValidationException } from '../errors';
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
    throw new CustomKeyStoreNotFoundException(`Custom key store '${customKeyStoreId}' does not exist.`);
  }
  return { Plaintext: randomBytes(numberOfBytes).toString('base64') };
}
