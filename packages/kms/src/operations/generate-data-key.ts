import type { OperationContext } from '../context';
import type { ValidatedInput } from '../model/validate';
import { generateDataKeyFor } from './common';

/** https://docs.aws.amazon.com/kms/latest/APIReference/API_GenerateDataKey.html */
export function generateDataKey(input: ValidatedInput, ctx: OperationContext) {
  const { key, plaintext, blob } = generateDataKeyFor(ctx, input, 'GenerateDataKey');
  return { CiphertextBlob: blob.toString('base64'), Plaintext: plaintext.toString('base64'), KeyId: key.arn };
}
