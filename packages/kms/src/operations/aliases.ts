import { authorize } from '../access/authorize';
import type { OperationContext } from '../context';
import { AlreadyExistsException, NotAuthorizedException, NotFoundException, ValidationException } from '../errors';
import { aliasArn } from '../ids';
import { epochSeconds, requireNotPendingDeletion, resolveKey } from '../keys';
import type { KeyRecord } from '../model';
import type { ValidatedInput } from '../model/validate';
import { AWS_MANAGED_KEYS } from '../policies';
import { decodeMarker, denyIfAwsManaged, num, page, str } from './common';

/**
 * Alias names start with alias/; alias/aws/ belongs to AWS managed keys; and they hold only
 * alphanumerics, `/`, `_` and `-`. The API model's pattern (^[a-zA-Z0-9:/_-]+$, checked before
 * this) lets a colon through, but the developer guide excludes it and KMS refuses it with its own
 * message. AWS's pages do not print that message: it is the one recorded from KMS in the moto
 * project's tests ("alias/my:alias contains invalid characters for an alias").
 * https://docs.aws.amazon.com/kms/latest/developerguide/alias-create.html
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateAlias.html#API_CreateAlias_RequestSyntax
 */
function checkAliasName(name: string): void {
  if (!name.startsWith('alias/')) {
    throw new ValidationException('Alias must start with the prefix "alias/". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html');
  }
  if (name.startsWith('alias/aws/')) throw new NotAuthorizedException();
  if (name.includes(':')) throw new ValidationException(`${name} contains invalid characters for an alias`);
}

/** An alias points at a customer managed key, given by key id or key ARN, not pending deletion. */
function aliasTarget(input: ValidatedInput, ctx: OperationContext, action: string): KeyRecord {
  const target = str(input, 'TargetKeyId')!;
  if (target.startsWith('alias/') || /^arn:[^:]*:kms:[^:]*:[^:]*:alias\//.test(target)) {
    throw new ValidationException('Aliases must refer to keys. Not aliases');
  }
  const key = resolveKey(ctx, target, { aliases: false });
  ctx.audit.keys.push(key);
  authorize(ctx, { action, key });
  denyIfAwsManaged(ctx, key, action);
  requireNotPendingDeletion(key);
  return key;
}

/**
 * Alias operations need permission on the alias (identity-based policies only) and on each key
 * concerned (its key policy).
 * https://docs.aws.amazon.com/kms/latest/developerguide/alias-access.html
 */
function authorizeAlias(ctx: OperationContext, action: string, name: string): void {
  authorize(ctx, { action, resource: aliasArn(ctx.region, ctx.accountId, name) });
}

/** https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateAlias.html */
export function createAlias(input: ValidatedInput, ctx: OperationContext) {
  const name = str(input, 'AliasName')!;
  checkAliasName(name);
  authorizeAlias(ctx, 'CreateAlias', name);
  const key = aliasTarget(input, ctx, 'CreateAlias');
  const store = ctx.core.store;
  if (store.getAlias(ctx.accountId, ctx.region, name)) {
    throw new AlreadyExistsException(`An alias with the name ${aliasArn(ctx.region, ctx.accountId, name)} already exists`);
  }
  const now = ctx.now.getTime();
  store.putAlias({ accountId: ctx.accountId, region: ctx.region, aliasName: name, targetKeyId: key.keyId, creationDate: now, lastUpdatedDate: now });
  return {};
}

/** https://docs.aws.amazon.com/kms/latest/APIReference/API_UpdateAlias.html */
export function updateAlias(input: ValidatedInput, ctx: OperationContext) {
  const name = str(input, 'AliasName')!;
  checkAliasName(name);
  const store = ctx.core.store;
  const alias = store.getAlias(ctx.accountId, ctx.region, name);
  if (!alias) throw new NotFoundException(`Alias ${aliasArn(ctx.region, ctx.accountId, name)} is not found.`);
  authorizeAlias(ctx, 'UpdateAlias', name);
  const current = store.getKey(alias.targetKeyId, alias.region);
  if (current) authorize(ctx, { action: 'UpdateAlias', key: current });
  const key = aliasTarget(input, ctx, 'UpdateAlias');
  store.putAlias({ ...alias, targetKeyId: key.keyId, lastUpdatedDate: ctx.now.getTime() });
  return {};
}

/** https://docs.aws.amazon.com/kms/latest/APIReference/API_DeleteAlias.html */
export function deleteAlias(input: ValidatedInput, ctx: OperationContext) {
  const name = str(input, 'AliasName')!;
  checkAliasName(name);
  const store = ctx.core.store;
  const alias = store.getAlias(ctx.accountId, ctx.region, name);
  if (!alias) throw new NotFoundException(`Alias ${aliasArn(ctx.region, ctx.accountId, name)} is not found.`);
  authorizeAlias(ctx, 'DeleteAlias', name);
  const key = store.getKey(alias.targetKeyId, alias.region);
  if (key) {
    ctx.audit.keys.push(key);
    authorize(ctx, { action: 'DeleteAlias', key });
  }
  store.deleteAlias(ctx.accountId, ctx.region, name);
  return {};
}

/**
 * Aliases by name. Like AWS, the list includes the predefined alias/aws/<service> aliases whose
 * AWS managed key does not exist yet, without a TargetKeyId.
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_ListAliases.html
 */
export function listAliases(input: ValidatedInput, ctx: OperationContext) {
  authorize(ctx, { action: 'ListAliases' });
  const limit = Math.min(num(input, 'Limit') ?? 50, 100);
  const after = decodeMarker(str(input, 'Marker'));
  const keyParam = str(input, 'KeyId');
  const key = keyParam === undefined ? undefined : resolveKey(ctx, keyParam, { aliases: false });
  const entries = ctx.core.store
    .listAliases(ctx.accountId, ctx.region, key?.keyId, after, limit + 1)
    .map((a) => ({
      AliasName: a.aliasName,
      AliasArn: aliasArn(ctx.region, ctx.accountId, a.aliasName),
      TargetKeyId: a.targetKeyId as string | undefined,
      CreationDate: epochSeconds(a.creationDate) as number | undefined,
      LastUpdatedDate: epochSeconds(a.lastUpdatedDate) as number | undefined,
    }));
  if (!key) {
    const existing = new Set(entries.map((e) => e.AliasName));
    for (const service of Object.keys(AWS_MANAGED_KEYS)) {
      const name = `alias/aws/${service}`;
      if (existing.has(name) || (after !== undefined && name <= after)) continue;
      if (ctx.core.store.getAlias(ctx.accountId, ctx.region, name)) continue;
      entries.push({ AliasName: name, AliasArn: aliasArn(ctx.region, ctx.accountId, name), TargetKeyId: undefined, CreationDate: undefined, LastUpdatedDate: undefined });
    }
    entries.sort((a, b) => (a.AliasName < b.AliasName ? -1 : a.AliasName > b.AliasName ? 1 : 0));
  }
  const { shown, truncated, nextMarker } = page(entries, limit, (a) => a.AliasName);
  return { Aliases: shown, ...(nextMarker ? { NextMarker: nextMarker } : {}), Truncated: truncated };
}
