import { randomBytes } from 'node:crypto';
import { CustomKeyStoreNotFoundException, ValidationException } from '../errors';
import { optionalInteger, optionalString, type JsonInput } from '../input';
import type { OperationContext } from '../context';
import { Violations } from '../validation';

/**
 * GenerateRandom: 1 to 1024 cryptographically secure random bytes.
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_GenerateRandom.html
 */
export function generateRandom(input: JsonInput, _ctx: OperationContext) {
  const numberOfBytes = optionalInteger(input, 'NumberOfBytes');
  const customKeyStoreId = optionalString(input, 'CustomKeyStoreId');
  const violations = new Violations();
  violations.integerRange(numberOfBytes, 'NumberOfBytes', 1, 1024);
  violations.stringLength(customKeyStoreId, 'CustomKeyStoreId', 1, 64);
  violations.throwIfAny();
  // The model marks the member optional; KMS still requires it, with this message.
  if (numberOfBytes === undefined) throw new ValidationException('NumberOfBytes is required.');
  if (customKeyStoreId !== undefined) {
    throw new CustomKeyStoreNotFoundException(`Custom key store '${customKeyStoreId}' does not exist.`);
  }
  return { Plaintext: randomBytes(numberOfBytes).toString('base64') };
}
