import { sessionRoleArn, type Credentials } from '@sealbox/sigv4';
import type { KeyRecord, Tag } from '../model';

/** Condition keys of a request, by name (names are matched case-insensitively by @sealbox/policy). */
export type ConditionKeys = Record<string, string | string[] | undefined>;

/** What the global condition keys are made of. */
export interface CallFacts {
  credentials: Credentials;
  region: string;
  now: Date;
  sourceIp: string;
  secureTransport: boolean;
  /** `s3.amazonaws.com` when S3 calls for the caller. */
  invokedBy?: string;
}

/**
 * The global keys and kms:CallerAccount / kms:ViaService.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html
 * https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service
 */
export function globalConditionKeys(facts: CallFacts): ConditionKeys {
  const { credentials, invokedBy } = facts;
  const arn = credentials.principalArn;
  const type = /:root$/.test(arn) ? 'Account' : /:assumed-role\//.test(arn) ? 'AssumedRole' : 'User';
  const service = invokedBy?.replace(/\.amazonaws\.com$/, '');
  const keys: ConditionKeys = {
    // A role session is known by its role's ARN here, never the session's: "Do not specify the
    // assumed role session ARN as a value for this condition key" (as S3 does).
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalarn
    'aws:PrincipalArn': sessionRoleArn(credentials) ?? arn,
    'aws:PrincipalAccount': credentials.accountId,
    'aws:PrincipalType': type,
    'aws:userid': type === 'Account' ? credentials.accountId : credentials.accessKeyId,
    'aws:SecureTransport': String(facts.secureTransport),
    'aws:CurrentTime': facts.now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    'aws:EpochTime': String(Math.floor(facts.now.getTime() / 1000)),
    'aws:ViaAWSService': String(invokedBy !== undefined),
    'kms:CallerAccount': credentials.accountId,
  };
  const user = /:user\/(?:.*\/)?([^/]+)$/.exec(arn);
  if (user) keys['aws:username'] = user[1];
  // A request an AWS service makes for the caller has no source IP of the caller's.
  if (!invokedBy) keys['aws:SourceIp'] = facts.sourceIp.replace(/^::ffff:/, '');
  if (service) keys['kms:ViaService'] = `${service}.${facts.region}.amazonaws.com`;
  return keys;
}

/** kms:EncryptionContext:<key> for each pair, and kms:EncryptionContextKeys. */
export function encryptionContextKeys(context: Record<string, string> | undefined): ConditionKeys {
  const keys: ConditionKeys = { 'kms:EncryptionContextKeys': context ? Object.keys(context) : [] };
  for (const [k, v] of Object.entries(context ?? {})) keys[`kms:EncryptionContext:${k}`] = v;
  return keys;
}

function tagKeys(prefix: 'aws:RequestTag' | 'aws:ResourceTag', tags: readonly Tag[]): ConditionKeys {
  return Object.fromEntries(tags.map((t) => [`${prefix}/${t.TagKey}`, t.TagValue]));
}

/**
 * The condition keys a request's parameters make, by member name, for every operation alike.
 * ReEncrypt's two contexts are the exception: its callers pass them with each key.
 * https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html
 */
export function requestConditionKeys(operation: string, input: Record<string, unknown>): ConditionKeys {
  const keys: ConditionKeys = {};
  const ec = input.EncryptionContext as Record<string, string> | undefined;
  if (operation !== 'ReEncrypt' && operation !== 'CreateGrant') Object.assign(keys, encryptionContextKeys(ec));
  if (typeof input.EncryptionAlgorithm === 'string') keys['kms:EncryptionAlgorithm'] = input.EncryptionAlgorithm;
  else if (/^(Encrypt|Decrypt)$/.test(operation)) keys['kms:EncryptionAlgorithm'] = 'SYMMETRIC_DEFAULT';
  // kms:MacAlgorithm (GenerateMac, VerifyMac) and kms:KeyAgreementAlgorithm (DeriveSharedSecret).
  if (typeof input.MacAlgorithm === 'string') keys['kms:MacAlgorithm'] = input.MacAlgorithm;
  if (typeof input.KeyAgreementAlgorithm === 'string') keys['kms:KeyAgreementAlgorithm'] = input.KeyAgreementAlgorithm;
  const keyId = input.KeyId;
  if (typeof keyId === 'string' && /^(arn:[^:]+:kms:[^:]*:\d*:)?alias\//.test(keyId)) keys['kms:RequestAlias'] = keyId.replace(/^arn:[^:]+:kms:[^:]*:\d*:/, '');
  if (typeof input.BypassPolicyLockoutSafetyCheck === 'boolean' || operation === 'CreateKey' || operation === 'PutKeyPolicy') {
    keys['kms:BypassPolicyLockoutSafetyCheck'] = String(input.BypassPolicyLockoutSafetyCheck === true);
  }
  // https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-signing-algorithm
  if (typeof input.SigningAlgorithm === 'string') keys['kms:SigningAlgorithm'] = input.SigningAlgorithm;
  if (operation === 'Sign' || operation === 'Verify') keys['kms:MessageType'] = typeof input.MessageType === 'string' ? input.MessageType : 'RAW';
  if (typeof input.RotationPeriodInDays === 'number') keys['kms:RotationPeriodInDays'] = String(input.RotationPeriodInDays);
  if (operation === 'ScheduleKeyDeletion') keys['kms:ScheduleKeyDeletionPendingWindowInDays'] = String(input.PendingWindowInDays ?? 30);
  if (Array.isArray(input.Tags)) {
    const tags = input.Tags as Tag[];
    Object.assign(keys, tagKeys('aws:RequestTag', tags));
    keys['aws:TagKeys'] = tags.map((t) => t.TagKey);
  }
  if (Array.isArray(input.TagKeys)) keys['aws:TagKeys'] = input.TagKeys as string[];
  // Imported key material: https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html
  if (typeof input.WrappingAlgorithm === 'string') keys['kms:WrappingAlgorithm'] = input.WrappingAlgorithm;
  if (typeof input.WrappingKeySpec === 'string') keys['kms:WrappingKeySpec'] = input.WrappingKeySpec;
  if (operation === 'ImportKeyMaterial') {
    keys['kms:ExpirationModel'] = (input.ExpirationModel ?? 'KEY_MATERIAL_EXPIRES') as string;
    if (typeof input.ValidTo === 'number') keys['kms:ValidTo'] = String(Math.floor(input.ValidTo));
  }
  if (operation === 'CreateKey') {
    keys['kms:KeySpec'] = (input.KeySpec ?? input.CustomerMasterKeySpec ?? 'SYMMETRIC_DEFAULT') as string;
    keys['kms:KeyUsage'] = (input.KeyUsage ?? 'ENCRYPT_DECRYPT') as string;
    keys['kms:KeyOrigin'] = (input.Origin ?? 'AWS_KMS') as string;
    keys['kms:MultiRegion'] = String(input.MultiRegion === true);
  }
  // Multi-Region keys: where a key may be replicated, which Region may become primary.
  if (operation === 'ReplicateKey' && typeof input.ReplicaRegion === 'string') keys['kms:ReplicaRegion'] = input.ReplicaRegion;
  if (operation === 'UpdatePrimaryRegion' && typeof input.PrimaryRegion === 'string') keys['kms:PrimaryRegion'] = input.PrimaryRegion;
  if (operation === 'CreateGrant') {
    keys['kms:GrantOperations'] = (input.Operations as string[] | undefined) ?? [];
    if (typeof input.GranteePrincipal === 'string') keys['kms:GranteePrincipal'] = input.GranteePrincipal;
    if (typeof input.RetiringPrincipal === 'string') keys['kms:RetiringPrincipal'] = input.RetiringPrincipal;
    const constraints = (input.Constraints ?? {}) as { EncryptionContextEquals?: Record<string, string>; EncryptionContextSubset?: Record<string, string> };
    const types = Object.keys(constraints).filter((k) => k === 'EncryptionContextEquals' || k === 'EncryptionContextSubset');
    keys['kms:GrantConstraintType'] = types;
    // The pairs of a grant's constraint are the grant's encryption context condition keys.
    Object.assign(keys, encryptionContextKeys(constraints.EncryptionContextEquals ?? constraints.EncryptionContextSubset));
  }
  return keys;
}

/** The keys the KMS key itself brings: its spec, usage, origin, aliases and tags. */
export function keyConditionKeys(key: KeyRecord, aliases: readonly string[]): ConditionKeys {
  return {
    'kms:KeySpec': key.keySpec,
    'kms:CustomerMasterKeySpec': key.keySpec,
    'kms:KeyUsage': key.keyUsage,
    'kms:KeyOrigin': key.origin,
    'kms:KeyManager': key.keyManager,
    'kms:MultiRegion': String(key.multiRegion),
    // PRIMARY or REPLICA, for multi-Region keys only.
    ...(key.multiRegion ? { 'kms:MultiRegionKeyType': key.region === key.primaryRegion ? 'PRIMARY' : 'REPLICA' } : {}),
    'kms:ResourceAliases': [...aliases],
    ...tagKeys('aws:ResourceTag', key.tags),
  };
}
