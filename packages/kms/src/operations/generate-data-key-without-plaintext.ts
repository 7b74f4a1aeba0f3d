import type { OperationContext } from '../context';
import type { ValidatedInput } from '../model/validate';
import { generateDataKeyFor } from './common';

/** https://docs.aws.amazon.com/kms/latest/APIReference/API_GenerateDataKeyWithoutPlaintext.html */
export function generateDataKeyWithoutPlaintext(input: ValidatedInput, ctx: OperationContext) {
  const { key, blob } = generateDataKeyFor(ctx, input, 'GenerateDataKeyWithoutPlaintext');
  return { CiphertextBlob: blob.toString('base64'), KeyId: key.arn };
}
