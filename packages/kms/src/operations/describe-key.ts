import { authorize } from '../access/authorize';
import type { OperationContext } from '../context';
import { keyMetadata, resolveKey } from '../keys';
import type { ValidatedInput } from '../model/validate';
import { str } from './common';

/**
 * Any key state; alias/aws/<service> creates the account's AWS managed key on first use.
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_DescribeKey.html
 */
export function describeKey(input: ValidatedInput, ctx: OperationContext) {
  const key = resolveKey(ctx, str(input, 'KeyId')!, { aliases: true, crossAccount: true });
  ctx.audit.keys.push(key);
  authorize(ctx, { action: 'DescribeKey', key });
  return { KeyMetadata: keyMetadata(key, ctx.core) };
}
