import type { OperationContext } from './context';
import type { KmsCore } from './core';
import { refreshConnection } from './custom-key-stores';
import { DisabledException, InvalidArnException, InvalidKeyUsageException, KMSInvalidStateException, NotFoundException } from './errors';
import { algorithmsOf, type KeyUsage } from './key-specs';
import { KEY_ID, MRK_ID, aliasArn, keyArn, parseKmsArn } from './ids';
import type { KeyRecord } from './model';

/**
 * Finds the key a KeyId parameter names, accepting exactly what AWS accepts: key id and key ARN
 * always, alias name and alias ARN only where `aliases` is true, another account's key ARN or
 * alias ARN only where `crossAccount` is true (an alias name is always the caller's account's).
 * Messages quote full ARNs, built from the caller's region and account when a bare id was given.
 * https://docs.aws.amazon.com/kms/latest/developerguide/concepts.html#key-id
 * https://docs.aws.amazon.com/kms/latest/developerguide/alias-using.html ("If the KMS key is in a
 * different AWS account, you must use a key ARN or alias ARN in these operations.")
 */
export function resolveKey(ctx: OperationContext, value: string, options: { aliases: boolean; crossAccount?: boolean }): KeyRecord {
  const { core, accountId, region } = ctx;
  let keyId: string;
  let account = accountId;
  if (value.startsWith('arn:')) {
    const arn = parseKmsArn(value);
    if (!arn) throw new NotFoundException(`Invalid arn ${value}`);
    if (arn.region !== region) throw new NotFoundException(`Invalid arn ${arn.region}`);
    if (arn.resourceType === 'alias') {
      if (!options.aliases) throw new InvalidArnException('Key Aliases are not supported for this operation.');
      return resolveAlias(ctx, arn.resource, arn.accountId, options.crossAccount === true);
    }
    if (!KEY_ID.test(arn.resource.toLowerCase()) && !MRK_ID.test(arn.resource)) throw new NotFoundException(`Invalid keyId ${arn.resource}`);
    keyId = arn.resource;
    account = arn.accountId;
  } else if (value.startsWith('alias/')) {
    if (!options.aliases) throw new InvalidArnException('Key Aliases are not supported for this operation.');
    return resolveAlias(ctx, value, accountId, false);
  } else {
    if (!KEY_ID.test(value.toLowerCase()) && !MRK_ID.test(value)) throw new NotFoundException(`Invalid keyId '${value}'`);
    keyId = value;
  }
  const key = core.store.getKey(keyId.toLowerCase(), region);
  // A key of another account is reachable by its ARN, for the operations that work across
  // accounts; its key policy then decides. Elsewhere it does not exist for the caller.
  if (!key || key.accountId !== account || key.region !== region || (account !== accountId && !options.crossAccount)) {
    throw new NotFoundException(`Key '${keyArn(region, account, keyId)}' does not exist`);
  }
  return withConnection(ctx, key);
}

/** A key of a custom key store that has just finished connecting is available again. */
function withConnection(ctx: OperationContext, key: KeyRecord): KeyRecord {
  if (key.state !== 'Unavailable' || key.customKeyStoreId === undefined) return key;
  const store = ctx.core.store.getCustomKeyStore(key.customKeyStoreId);
  if (!store || store.connectionState !== 'CONNECTING') return key;
  refreshConnection(ctx.core, store);
  return ctx.core.store.getKey(key.keyId, key.region) ?? key;
}

function resolveAlias(ctx: OperationContext, aliasName: string, account: string, crossAccount: boolean): KeyRecord {
  const { core, region } = ctx;
  const own = account === ctx.accountId;
  // Another account's alias ARN names its key for the operations that work across accounts; the
  // key policy then decides. AWS managed keys are made on first use by their own account only.
  const alias = own || crossAccount ? core.store.getAlias(account, region, aliasName) : undefined;
  const key = alias
    ? core.store.getKey(alias.targetKeyId, region)
    : aliasName.startsWith('alias/aws/') && own
      ? core.awsManagedKey(account, region, aliasName.slice('alias/aws/'.length))
      : undefined;
  if (!key) throw new NotFoundException(`Alias ${aliasArn(region, account, aliasName)} is not found.`);
  return withConnection(ctx, key);
}

/**
 * Cryptographic operations need an Enabled key (or one whose multi-Region set is Updating, which
 * Sealbox never shows: UpdatePrimaryRegion is instant). The messages are the key-state table's:
 * https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html
 */
export function requireEnabled(key: KeyRecord): void {
  if (key.state === 'Enabled' || key.state === 'Updating') return;
  if (key.state === 'Disabled') throw new DisabledException(`${key.arn} is disabled.`);
  requireNotPendingDeletion(key);
  requireNotPendingImport(key);
  // "<arn> is unavailable." for a key whose custom key store is disconnected (table note 11).
  if (key.state === 'Unavailable') throw new KMSInvalidStateException(`${key.arn} is unavailable.`);
  throw new KMSInvalidStateException(`${key.arn} is ${STATE_WORDS[key.state] ?? key.state}.`);
}

/**
 * A key without its imported material refuses cryptography, EnableKey, DisableKey and CreateGrant:
 * "KMSInvalidStateException: <arn> is pending import."
 * https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html
 */
export function requireNotPendingImport(key: KeyRecord): void {
  if (key.state === 'PendingImport') throw new KMSInvalidStateException(`${key.arn} is pending import.`);
}

const STATE_WORDS: Partial<Record<KeyRecord['state'], string>> = { PendingImport: 'pending import', Creating: 'creating' };

/**
 * Most management operations work on Enabled, Disabled and Unavailable keys, not on keys pending
 * deletion. A primary key waiting for its replicas' deletion (PendingReplicaDeletion) is refused
 * alike; AWS's wording for that state is not documented, so Sealbox says "is pending replica
 * deletion." in the same form.
 */
export function requireNotPendingDeletion(key: KeyRecord): void {
  if (key.state === 'PendingDeletion') throw new KMSInvalidStateException(`${key.arn} is pending deletion.`);
  if (key.state === 'PendingReplicaDeletion') throw new KMSInvalidStateException(`${key.arn} is pending replica deletion.`);
}

/** Epoch seconds with milliseconds, as the JSON protocol sends timestamps. */
export const epochSeconds = (ms: number) => ms / 1000;

/**
 * KeyMetadata as DescribeKey and CreateKey return it. With `core`, the fields that need other
 * records: a multi-Region key's configuration (its primary and replicas) and a custom key
 * store's cluster.
 */
export function keyMetadata(key: KeyRecord, core?: KmsCore): Record<string, unknown> {
  const customKeyStore = key.customKeyStoreId !== undefined ? core?.store.getCustomKeyStore(key.customKeyStoreId) : undefined;
  return {
    AWSAccountId: key.accountId,
    KeyId: key.keyId,
    Arn: key.arn,
    CreationDate: epochSeconds(key.creationDate),
    Enabled: key.state === 'Enabled',
    Description: key.description,
    KeyUsage: key.keyUsage,
    KeyState: key.state,
    ...(key.state === 'PendingDeletion' && key.deletionDate !== undefined ? { DeletionDate: epochSeconds(key.deletionDate) } : {}),
    // ValidTo and ExpirationModel: EXTERNAL keys only, once material was imported.
    ...(key.origin === 'EXTERNAL' && key.validTo !== undefined ? { ValidTo: epochSeconds(key.validTo) } : {}),
    Origin: key.origin,
    ...(key.origin === 'EXTERNAL' && key.expirationModel !== undefined ? { ExpirationModel: key.expirationModel } : {}),
    ...(key.customKeyStoreId !== undefined ? { CustomKeyStoreId: key.customKeyStoreId } : {}),
    ...(customKeyStore?.cloudHsmClusterId !== undefined ? { CloudHsmClusterId: customKeyStore.cloudHsmClusterId } : {}),
    KeyManager: key.keyManager,
    CustomerMasterKeySpec: key.keySpec,
    KeySpec: key.keySpec,
    ...algorithmsOf(key.keySpec, key.keyUsage),
    MultiRegion: key.multiRegion,
    ...(key.multiRegion && core ? { MultiRegionConfiguration: multiRegionConfiguration(key, core.keySet(key)) } : {}),
    ...(key.state === 'PendingReplicaDeletion' && key.pendingWindowDays !== undefined ? { PendingDeletionWindowInDays: key.pendingWindowDays } : {}),
    ...(key.xksKeyId !== undefined ? { XksKeyConfiguration: { Id: key.xksKeyId } } : {}),
    // "Present for symmetric encryption keys with AWS_KMS or EXTERNAL origin" (the keys that rotate);
    // an EXTERNAL key has none before its first import.
    ...(key.currentMaterialId && key.keySpec === 'SYMMETRIC_DEFAULT' ? { CurrentKeyMaterialId: key.currentMaterialId } : {}),
  };
}

/**
 * PRIMARY or REPLICA, the primary key, and every replica (a replica's list includes itself).
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_MultiRegionConfiguration.html
 */
function multiRegionConfiguration(key: KeyRecord, set: KeyRecord[]) {
  const primary = set.find((k) => k.region === key.primaryRegion);
  return {
    MultiRegionKeyType: key.region === key.primaryRegion ? 'PRIMARY' : 'REPLICA',
    PrimaryKey: { Arn: primary?.arn ?? keyArn(key.primaryRegion!, key.accountId, key.keyId), Region: key.primaryRegion },
    ReplicaKeys: set.filter((k) => k.region !== key.primaryRegion).map((k) => ({ Arn: k.arn, Region: k.region })),
  };
}

/**
 * An operation needs a key of one usage, worded as AWS words it:
 * "<arn> key usage is SIGN_VERIFY which is not valid for Encrypt."
 */
export function requireUsage(key: KeyRecord, usage: KeyUsage, operation: string): void {
  if (key.keyUsage !== usage) throw new InvalidKeyUsageException(`${key.arn} key usage is ${key.keyUsage} which is not valid for ${operation}.`);
}

/** Operations only symmetric encryption keys can do (data keys, ReEncrypt to a symmetric key, ...). */
export function requireSymmetric(key: KeyRecord, operation: string): void {
  requireUsage(key, 'ENCRYPT_DECRYPT', operation);
  if (key.keySpec !== 'SYMMETRIC_DEFAULT') throw new InvalidKeyUsageException(`${key.arn} key spec is ${key.keySpec} which is not valid for ${operation}.`);
}
