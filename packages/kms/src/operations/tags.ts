import type { OperationContext } from '../context';
import { requireNotPendingDeletion } from '../keys';
import type { Tag } from '../model';
import type { ValidatedInput } from '../model/validate';
import { checkTags, decodeMarker, num, page, str, targetKey } from './common';

/** https://docs.aws.amazon.com/kms/latest/APIReference/API_TagResource.html */
export function tagResource(input: ValidatedInput, ctx: OperationContext) {
  const key = targetKey(input, ctx, 'TagResource', { manage: true });
  requireNotPendingDeletion(key);
  key.tags = checkTags(input.Tags as Tag[], key.tags);
  ctx.core.store.putKey(key);
  return {};
}

/** Removing a tag the key does not have is not an error. */
export function untagResource(input: ValidatedInput, ctx: OperationContext) {
  const key = targetKey(input, ctx, 'UntagResource', { manage: true });
  requireNotPendingDeletion(key);
  const remove = new Set(input.TagKeys as string[]);
  key.tags = key.tags.filter((t) => !remove.has(t.TagKey));
  ctx.core.store.putKey(key);
  return {};
}

/** https://docs.aws.amazon.com/kms/latest/APIReference/API_ListResourceTags.html */
export function listResourceTags(input: ValidatedInput, ctx: OperationContext) {
  const key = targetKey(input, ctx, 'ListResourceTags');
  const limit = Math.min(num(input, 'Limit') ?? 50, 50);
  const after = decodeMarker(str(input, 'Marker'));
  const start = after === undefined ? 0 : Number(after);
  const { shown, truncated } = page(key.tags.slice(start), limit, () => '');
  return {
    Tags: shown,
    ...(truncated ? { NextMarker: Buffer.from(`sealbox:${start + limit}`).toString('base64url') } : {}),
    Truncated: truncated,
  };
}
