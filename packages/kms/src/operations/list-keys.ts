import { authorize } from '../access/authorize';
import type { OperationContext } from '../context';
import type { ValidatedInput } from '../model/validate';
import { decodeMarker, num, page, str } from './common';

/** https://docs.aws.amazon.com/kms/latest/APIReference/API_ListKeys.html */
export function listKeys(input: ValidatedInput, ctx: OperationContext) {
  authorize(ctx, { action: 'ListKeys' });
  const limit = num(input, 'Limit') ?? 100;
  const after = decodeMarker(str(input, 'Marker'));
  const keys = ctx.core.store.listKeys(ctx.accountId, ctx.region, after, limit + 1);
  const { shown, truncated, nextMarker } = page(keys, limit, (k) => k.keyId);
  return {
    Keys: shown.map((k) => ({ KeyId: k.keyId, KeyArn: k.arn })),
    ...(nextMarker ? { NextMarker: nextMarker } : {}),
    Truncated: truncated,
  };
}
