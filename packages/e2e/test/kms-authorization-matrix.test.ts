import { constants, createECDH, createPublicKey, publicEncrypt, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CancelKeyDeletionCommand,
  ConnectCustomKeyStoreCommand,
  CreateAliasCommand,
  CreateCustomKeyStoreCommand,
  CreateGrantCommand,
  CreateKeyCommand,
  type CreateKeyCommandInput,
  DecryptCommand,
  DeleteAliasCommand,
  DeleteCustomKeyStoreCommand,
  DeleteImportedKeyMaterialCommand,
  DeriveSharedSecretCommand,
  DescribeCustomKeyStoresCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  DisableKeyRotationCommand,
  DisconnectCustomKeyStoreCommand,
  EnableKeyCommand,
  EnableKeyRotationCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GenerateDataKeyPairCommand,
  GenerateDataKeyPairWithoutPlaintextCommand,
  GenerateDataKeyWithoutPlaintextCommand,
  GenerateMacCommand,
  GenerateRandomCommand,
  GetKeyLastUsageCommand,
  GetKeyPolicyCommand,
  GetKeyRotationStatusCommand,
  GetParametersForImportCommand,
  GetPublicKeyCommand,
  type GrantOperation,
  ImportKeyMaterialCommand,
  type KMSClient,
  ListAliasesCommand,
  ListGrantsCommand,
  ListKeyPoliciesCommand,
  ListKeyRotationsCommand,
  ListKeysCommand,
  ListResourceTagsCommand,
  ListRetirableGrantsCommand,
  PutKeyPolicyCommand,
  ReEncryptCommand,
  ReplicateKeyCommand,
  RetireGrantCommand,
  RevokeGrantCommand,
  RotateKeyOnDemandCommand,
  ScheduleKeyDeletionCommand,
  SignCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateAliasCommand,
  UpdateCustomKeyStoreCommand,
  UpdateKeyDescriptionCommand,
  UpdatePrimaryRegionCommand,
  VerifyCommand,
  VerifyMacCommand,
} from '@aws-sdk/client-kms';
import type { Sealbox } from '@sealbox/cli';
import { KMS_OPERATIONS } from '@sealbox/kms';
import { kmsDecisionProblems, takeRequestId, trackRequestIds } from './decision-checks';
import { kmsClient, startTestSealbox } from './helpers';

/**
 * KMS's authorization matrix, generated from one table: every operation Sealbox serves x every way
 * a principal can be allowed or refused, with the outcome AWS documents, through the SDK v3 client.
 * The rules: https://docs.aws.amazon.com/kms/latest/developerguide/kms-api-permissions-reference.html
 * (which operations work across accounts, which are grant operations, the resources of the alias
 * operations) and https://docs.aws.amazon.com/kms/latest/developerguide/determining-access.html.
 *
 * Principals (seeded): in account A, `plain` has no identity policy (the key policy or a grant
 * must allow it), `iam` may do kms:* by identity policy, `denier` has an identity policy denying
 * kms:*; in account B, `outsider` may do kms:* by identity policy. Every key is created by A's
 * root with a key policy that keeps the account's IAM policies enabled plus the cell's statement.
 */
const A = '000000000000';
const B = '111111111111';
const REGION = 'us-east-1';
const OTHER_REGION = 'us-west-2';
const arnOf = (account: string, user: string) => `arn:aws:iam::${account}:user/${user}`;
const PLAIN = arnOf(A, 'plain');
const IAM = arnOf(A, 'iam');
const DENIER = arnOf(A, 'denier');
const OUTSIDER = arnOf(B, 'outsider');
const statement = (Effect: 'Allow' | 'Deny', Action: string | string[]) => ({ Version: '2012-10-17', Statement: [{ Effect, Action, Resource: '*' }] });
const SEED = {
  accounts: [
    {
      id: A,
      users: [
        { name: 'plain', accessKeyId: 'PLAIN', secretAccessKey: 'plain-secret', policies: [] },
        { name: 'iam', accessKeyId: 'IAM', secretAccessKey: 'iam-secret', policies: [statement('Allow', 'kms:*')] },
        { name: 'denier', accessKeyId: 'DENIER', secretAccessKey: 'denier-secret', policies: [statement('Deny', 'kms:*')] },
      ],
    },
    { id: B, users: [{ name: 'outsider', accessKeyId: 'OUTSIDER', secretAccessKey: 'outsider-secret', policies: [statement('Allow', 'kms:*')] }] },
  ],
};

/** How the caller of a cell is (or is not) allowed. */
const SCENARIOS = ['key policy', 'identity policy', 'grant', 'no permission', 'identity deny', 'key policy deny', 'other account named', 'other account not named'] as const;
type Scenario = (typeof SCENARIOS)[number];
/** Operations without a key are decided by identity policies alone: only these apply. */
const KEYLESS_SCENARIOS: readonly Scenario[] = ['identity policy', 'no permission', 'identity deny'];

type KeyKind = 'symmetric' | 'sign' | 'mac' | 'agreement' | 'external' | 'multi-region';
const KEY_SPECS: Record<KeyKind, CreateKeyCommandInput> = {
  symmetric: {},
  sign: { KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' },
  mac: { KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' },
  agreement: { KeySpec: 'ECC_NIST_P256', KeyUsage: 'KEY_AGREEMENT' },
  external: { Origin: 'EXTERNAL' },
  'multi-region': { MultiRegion: true },
};
/** The grant operations each kind of key can be given (a grant for a non-grant operation gets all of them). */
const GRANTABLE: Record<KeyKind, GrantOperation[]> = {
  symmetric: ['Decrypt', 'Encrypt', 'GenerateDataKey', 'GenerateDataKeyWithoutPlaintext', 'GenerateDataKeyPair', 'GenerateDataKeyPairWithoutPlaintext', 'ReEncryptFrom', 'ReEncryptTo', 'CreateGrant', 'RetireGrant', 'DescribeKey'],
  sign: ['Sign', 'Verify', 'GetPublicKey', 'CreateGrant', 'RetireGrant', 'DescribeKey'],
  mac: ['GenerateMac', 'VerifyMac', 'CreateGrant', 'RetireGrant', 'DescribeKey'],
  agreement: ['DeriveSharedSecret', 'GetPublicKey', 'CreateGrant', 'RetireGrant', 'DescribeKey'],
  external: ['Decrypt', 'Encrypt', 'CreateGrant', 'RetireGrant', 'DescribeKey'],
  'multi-region': ['Decrypt', 'Encrypt', 'CreateGrant', 'RetireGrant', 'DescribeKey'],
};

/** What a cell's setup made: the key and whatever the call needs. */
interface Fixture {
  arn: string;
  policy: string;
  scenario: Scenario;
  /** The grant the cell's caller holds, in the grant scenario. */
  grantId?: string;
  ciphertext?: Uint8Array;
  signature?: Uint8Array;
  mac?: Uint8Array;
  alias?: string;
  secondArn?: string;
  importToken?: Uint8Array;
  wrapped?: Uint8Array;
  /** Key material imported into an EXTERNAL key: once imported, only the same may come back. */
  material?: Buffer;
  storeId?: string;
  targetGrantId?: string;
}

interface Row {
  /** The operation (X-Amz-Target). */
  op: string;
  /** The key the operation works on; none: identity policies alone decide. */
  key?: KeyKind;
  /** The IAM actions the call needs on the key, in the order Sealbox checks them. */
  actions?: string[];
  /** Usable on another account's key by its ARN (the permissions reference's "Cross-account use"). */
  crossAccount?: boolean;
  /** A grant can allow it (grants.html#terms-grant-operations). */
  grant?: boolean;
  /**
   * Alias operations need kms:<op> on the alias, from identity policies only, before the key's
   * own permission (alias-access.html); the key policy alone never allows them.
   */
  alias?: boolean;
  /** Extra setup by the key's owner, before the call. */
  setup?: (root: KMSClient, f: Fixture) => Promise<void>;
  call: (c: KMSClient, f: Fixture) => Promise<unknown>;
  /** Outcomes where this operation departs from the general rule, with AWS's reason. */
  special?: Partial<Record<Scenario, Outcome>>;
}

type Why = 'identity' | 'resource' | 'explicit-identity' | 'explicit-resource';
type Outcome = 'allowed' | { denied: Why; on: 'key' | 'alias' | '*'; action?: string } | { error: string };

let counter = 0;
const unique = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${(counter++).toString(36)}`;
/** CloudHSM cluster ids: cluster- and 11 letters of [2-7a-z]. */
const clusterId = () => `cluster-${[...randomBytes(11)].map((b) => 'abcdefghijklmnopqrstuvwxyz234567'[b % 32]).join('')}`;
const agreementPeer = (() => {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  // An SPKI DER public key of the other party, as DeriveSharedSecret takes it.
  return createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: ecdh.getPublicKey().subarray(1, 33).toString('base64url'), y: ecdh.getPublicKey().subarray(33).toString('base64url') }, format: 'jwk' }).export({ type: 'spki', format: 'der' });
})();
const hsmStore = async (root: KMSClient) =>
  (await root.send(new CreateCustomKeyStoreCommand({ CustomKeyStoreName: unique('hsm'), CloudHsmClusterId: clusterId(), TrustAnchorCertificate: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----', KeyStorePassword: 'kmsPswd1' }))).CustomKeyStoreId!;
async function importParameters(root: KMSClient, f: Fixture) {
  const p = await root.send(new GetParametersForImportCommand({ KeyId: f.arn, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' }));
  f.importToken = p.ImportToken;
  const key = createPublicKey({ key: Buffer.from(p.PublicKey!), format: 'der', type: 'spki' });
  f.wrapped = publicEncrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, (f.material ??= randomBytes(32)));
}
const importMaterial = (c: KMSClient, f: Fixture) =>
  c.send(new ImportKeyMaterialCommand({ KeyId: f.arn, ImportToken: f.importToken, EncryptedKeyMaterial: f.wrapped, ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' }));
const encryptFirst = async (root: KMSClient, f: Fixture) => {
  f.ciphertext = (await root.send(new EncryptCommand({ KeyId: f.arn, Plaintext: Buffer.from('matrix') }))).CiphertextBlob;
};
const aliasFirst = async (root: KMSClient, f: Fixture) => {
  f.alias = `alias/${unique('matrix')}`;
  await root.send(new CreateAliasCommand({ AliasName: f.alias, TargetKeyId: f.arn }));
};
const denyAlias = (why: Why): Outcome => ({ denied: why, on: 'alias' });

/**
 * The table: one row per operation. A new operation in KMS_OPERATIONS fails the coverage test
 * until it has its row.
 */
const ROWS: Row[] = [
  // Operations on no key: identity policies only, on resource "*".
  { op: 'CreateKey', call: (c) => c.send(new CreateKeyCommand({})) },
  { op: 'ListKeys', call: (c) => c.send(new ListKeysCommand({})) },
  { op: 'ListAliases', call: (c) => c.send(new ListAliasesCommand({})) },
  { op: 'GenerateRandom', call: (c) => c.send(new GenerateRandomCommand({ NumberOfBytes: 16 })) },
  { op: 'ListRetirableGrants', call: (c) => c.send(new ListRetirableGrantsCommand({ RetiringPrincipal: PLAIN })) },
  { op: 'CreateCustomKeyStore', call: (c) => hsmStore(c) },
  { op: 'DescribeCustomKeyStores', call: (c) => c.send(new DescribeCustomKeyStoresCommand({})) },
  { op: 'ConnectCustomKeyStore', setup: async (r, f) => void (f.storeId = await hsmStore(r)), call: (c, f) => c.send(new ConnectCustomKeyStoreCommand({ CustomKeyStoreId: f.storeId })) },
  {
    op: 'DisconnectCustomKeyStore',
    setup: async (r, f) => {
      f.storeId = await hsmStore(r);
      await r.send(new ConnectCustomKeyStoreCommand({ CustomKeyStoreId: f.storeId }));
    },
    call: (c, f) => c.send(new DisconnectCustomKeyStoreCommand({ CustomKeyStoreId: f.storeId })),
  },
  { op: 'UpdateCustomKeyStore', setup: async (r, f) => void (f.storeId = await hsmStore(r)), call: (c, f) => c.send(new UpdateCustomKeyStoreCommand({ CustomKeyStoreId: f.storeId, NewCustomKeyStoreName: unique('renamed') })) },
  { op: 'DeleteCustomKeyStore', setup: async (r, f) => void (f.storeId = await hsmStore(r)), call: (c, f) => c.send(new DeleteCustomKeyStoreCommand({ CustomKeyStoreId: f.storeId })) },

  // Cryptographic operations: grant operations, usable across accounts.
  { op: 'Encrypt', key: 'symmetric', crossAccount: true, grant: true, call: (c, f) => c.send(new EncryptCommand({ KeyId: f.arn, Plaintext: Buffer.from('x') })) },
  { op: 'Decrypt', key: 'symmetric', crossAccount: true, grant: true, setup: encryptFirst, call: (c, f) => c.send(new DecryptCommand({ KeyId: f.arn, CiphertextBlob: f.ciphertext })) },
  {
    op: 'ReEncrypt',
    key: 'symmetric',
    actions: ['ReEncryptFrom', 'ReEncryptTo'],
    crossAccount: true,
    grant: true,
    setup: encryptFirst,
    call: (c, f) => c.send(new ReEncryptCommand({ CiphertextBlob: f.ciphertext, SourceKeyId: f.arn, DestinationKeyId: f.arn })),
  },
  { op: 'GenerateDataKey', key: 'symmetric', crossAccount: true, grant: true, call: (c, f) => c.send(new GenerateDataKeyCommand({ KeyId: f.arn, KeySpec: 'AES_256' })) },
  { op: 'GenerateDataKeyWithoutPlaintext', key: 'symmetric', crossAccount: true, grant: true, call: (c, f) => c.send(new GenerateDataKeyWithoutPlaintextCommand({ KeyId: f.arn, KeySpec: 'AES_256' })) },
  { op: 'GenerateDataKeyPair', key: 'symmetric', crossAccount: true, grant: true, call: (c, f) => c.send(new GenerateDataKeyPairCommand({ KeyId: f.arn, KeyPairSpec: 'ECC_NIST_P256' })) },
  {
    op: 'GenerateDataKeyPairWithoutPlaintext',
    key: 'symmetric',
    crossAccount: true,
    grant: true,
    call: (c, f) => c.send(new GenerateDataKeyPairWithoutPlaintextCommand({ KeyId: f.arn, KeyPairSpec: 'ECC_NIST_P256' })),
  },
  { op: 'Sign', key: 'sign', crossAccount: true, grant: true, call: (c, f) => c.send(new SignCommand({ KeyId: f.arn, Message: Buffer.from('m'), SigningAlgorithm: 'ECDSA_SHA_256' })) },
  {
    op: 'Verify',
    key: 'sign',
    crossAccount: true,
    grant: true,
    setup: async (r, f) => {
      f.signature = (await r.send(new SignCommand({ KeyId: f.arn, Message: Buffer.from('m'), SigningAlgorithm: 'ECDSA_SHA_256' }))).Signature;
    },
    call: (c, f) => c.send(new VerifyCommand({ KeyId: f.arn, Message: Buffer.from('m'), Signature: f.signature, SigningAlgorithm: 'ECDSA_SHA_256' })),
  },
  { op: 'GetPublicKey', key: 'sign', crossAccount: true, grant: true, call: (c, f) => c.send(new GetPublicKeyCommand({ KeyId: f.arn })) },
  { op: 'GenerateMac', key: 'mac', crossAccount: true, grant: true, call: (c, f) => c.send(new GenerateMacCommand({ KeyId: f.arn, Message: Buffer.from('m'), MacAlgorithm: 'HMAC_SHA_256' })) },
  {
    op: 'VerifyMac',
    key: 'mac',
    crossAccount: true,
    grant: true,
    setup: async (r, f) => {
      f.mac = (await r.send(new GenerateMacCommand({ KeyId: f.arn, Message: Buffer.from('m'), MacAlgorithm: 'HMAC_SHA_256' }))).Mac;
    },
    call: (c, f) => c.send(new VerifyMacCommand({ KeyId: f.arn, Message: Buffer.from('m'), Mac: f.mac, MacAlgorithm: 'HMAC_SHA_256' })),
  },
  {
    op: 'DeriveSharedSecret',
    key: 'agreement',
    crossAccount: true,
    grant: true,
    call: (c, f) => c.send(new DeriveSharedSecretCommand({ KeyId: f.arn, KeyAgreementAlgorithm: 'ECDH', PublicKey: agreementPeer })),
  },

  // Grants.
  { op: 'DescribeKey', key: 'symmetric', crossAccount: true, grant: true, call: (c, f) => c.send(new DescribeKeyCommand({ KeyId: f.arn })) },
  {
    op: 'CreateGrant',
    key: 'symmetric',
    crossAccount: true,
    grant: true,
    call: (c, f) => c.send(new CreateGrantCommand({ KeyId: f.arn, GranteePrincipal: arnOf(A, 'someone'), Operations: ['CreateGrant'] })),
  },
  { op: 'ListGrants', key: 'symmetric', crossAccount: true, call: (c, f) => c.send(new ListGrantsCommand({ KeyId: f.arn })) },
  {
    op: 'RevokeGrant',
    key: 'symmetric',
    crossAccount: true,
    setup: async (r, f) => {
      f.targetGrantId = (await r.send(new CreateGrantCommand({ KeyId: f.arn, GranteePrincipal: arnOf(A, 'someone'), Operations: ['Decrypt'] }))).GrantId;
    },
    call: (c, f) => c.send(new RevokeGrantCommand({ KeyId: f.arn, GrantId: f.targetGrantId })),
  },
  {
    // The grant decides who may retire it: its retiring principal, its grantee when it allows
    // RetireGrant, the account that issued it, or a principal that account (or the retiring
    // account) delegates kms:RetireGrant to by IAM policy. "The kms:RetireGrant permission is not
    // effective in a key policy." https://docs.aws.amazon.com/kms/latest/developerguide/grant-delete.html
    // Here the grant to retire names B as its retiring principal in the "other account named"
    // cell, and is the caller's own grant (with RetireGrant) in the grant cell.
    op: 'RetireGrant',
    key: 'symmetric',
    crossAccount: true,
    grant: true,
    setup: async (r, f) => {
      if (f.scenario === 'grant') {
        f.targetGrantId = f.grantId;
        return;
      }
      f.targetGrantId = (
        await r.send(
          new CreateGrantCommand({
            KeyId: f.arn,
            GranteePrincipal: arnOf(A, 'someone'),
            Operations: ['Decrypt'],
            ...(f.scenario === 'other account named' ? { RetiringPrincipal: `arn:aws:iam::${B}:root` } : {}),
          }),
        )
      ).GrantId;
    },
    call: (c, f) => c.send(new RetireGrantCommand({ KeyId: f.arn, GrantId: f.targetGrantId })),
    special: {
      'key policy': { denied: 'identity', on: 'key' },
      // Not named by the grant, so B's IAM policy has no right to delegate. AWS's wording for
      // this refusal is not documented; the key policy is not consulted, so not its message.
      'other account not named': { denied: 'identity', on: 'key' },
      // A Deny in the key policy is not effective either: the IAM policy delegates the account's right.
      'key policy deny': 'allowed',
    },
  },

  // Key management: the key policy or IAM policies, never grants, never across accounts.
  { op: 'DisableKey', key: 'symmetric', call: (c, f) => c.send(new DisableKeyCommand({ KeyId: f.arn })) },
  { op: 'EnableKey', key: 'symmetric', call: (c, f) => c.send(new EnableKeyCommand({ KeyId: f.arn })) },
  { op: 'ScheduleKeyDeletion', key: 'symmetric', call: (c, f) => c.send(new ScheduleKeyDeletionCommand({ KeyId: f.arn, PendingWindowInDays: 7 })) },
  {
    op: 'CancelKeyDeletion',
    key: 'symmetric',
    setup: async (r, f) => void (await r.send(new ScheduleKeyDeletionCommand({ KeyId: f.arn, PendingWindowInDays: 7 }))),
    call: (c, f) => c.send(new CancelKeyDeletionCommand({ KeyId: f.arn })),
  },
  { op: 'UpdateKeyDescription', key: 'symmetric', call: (c, f) => c.send(new UpdateKeyDescriptionCommand({ KeyId: f.arn, Description: 'renamed' })) },
  { op: 'TagResource', key: 'symmetric', call: (c, f) => c.send(new TagResourceCommand({ KeyId: f.arn, Tags: [{ TagKey: 'k', TagValue: 'v' }] })) },
  { op: 'UntagResource', key: 'symmetric', call: (c, f) => c.send(new UntagResourceCommand({ KeyId: f.arn, TagKeys: ['k'] })) },
  { op: 'ListResourceTags', key: 'symmetric', call: (c, f) => c.send(new ListResourceTagsCommand({ KeyId: f.arn })) },
  { op: 'GetKeyPolicy', key: 'symmetric', call: (c, f) => c.send(new GetKeyPolicyCommand({ KeyId: f.arn })) },
  { op: 'ListKeyPolicies', key: 'symmetric', call: (c, f) => c.send(new ListKeyPoliciesCommand({ KeyId: f.arn })) },
  // The same policy again, so that the lockout safety check finds the caller still allowed.
  { op: 'PutKeyPolicy', key: 'symmetric', call: (c, f) => c.send(new PutKeyPolicyCommand({ KeyId: f.arn, Policy: f.policy })) },
  { op: 'EnableKeyRotation', key: 'symmetric', call: (c, f) => c.send(new EnableKeyRotationCommand({ KeyId: f.arn })) },
  { op: 'DisableKeyRotation', key: 'symmetric', call: (c, f) => c.send(new DisableKeyRotationCommand({ KeyId: f.arn })) },
  { op: 'GetKeyRotationStatus', key: 'symmetric', crossAccount: true, call: (c, f) => c.send(new GetKeyRotationStatusCommand({ KeyId: f.arn })) },
  { op: 'RotateKeyOnDemand', key: 'symmetric', call: (c, f) => c.send(new RotateKeyOnDemandCommand({ KeyId: f.arn })) },
  { op: 'ListKeyRotations', key: 'symmetric', call: (c, f) => c.send(new ListKeyRotationsCommand({ KeyId: f.arn })) },
  { op: 'GetKeyLastUsage', key: 'symmetric', call: (c, f) => c.send(new GetKeyLastUsageCommand({ KeyId: f.arn })) },
  {
    op: 'GetParametersForImport',
    key: 'external',
    call: (c, f) => c.send(new GetParametersForImportCommand({ KeyId: f.arn, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' })),
  },
  { op: 'ImportKeyMaterial', key: 'external', setup: importParameters, call: importMaterial },
  {
    op: 'DeleteImportedKeyMaterial',
    key: 'external',
    setup: async (r, f) => {
      await importParameters(r, f);
      await importMaterial(r, f);
    },
    call: (c, f) => c.send(new DeleteImportedKeyMaterialCommand({ KeyId: f.arn })),
  },
  {
    // kms:ReplicateKey on the primary (key policy), kms:CreateKey in the replica's Region (IAM only).
    op: 'ReplicateKey',
    key: 'multi-region',
    call: (c, f) => c.send(new ReplicateKeyCommand({ KeyId: f.arn, ReplicaRegion: OTHER_REGION })),
    special: { 'key policy': { denied: 'identity', on: '*', action: 'CreateKey' } },
  },
  {
    // kms:UpdatePrimaryRegion on the primary and on the replica (each with the cell's policy).
    op: 'UpdatePrimaryRegion',
    key: 'multi-region',
    setup: async (r, f) => void (await r.send(new ReplicateKeyCommand({ KeyId: f.arn, ReplicaRegion: OTHER_REGION, Policy: f.policy }))),
    call: (c, f) => c.send(new UpdatePrimaryRegionCommand({ KeyId: f.arn, PrimaryRegion: OTHER_REGION })),
  },

  // Aliases: the alias (identity policies) and each key concerned (its key policy).
  { op: 'CreateAlias', key: 'symmetric', alias: true, call: (c, f) => c.send(new CreateAliasCommand({ AliasName: `alias/${unique('new')}`, TargetKeyId: f.arn })) },
  {
    op: 'UpdateAlias',
    key: 'symmetric',
    alias: true,
    setup: async (r, f) => {
      await aliasFirst(r, f);
      f.secondArn = (await r.send(new CreateKeyCommand({ Policy: f.policy }))).KeyMetadata!.Arn;
    },
    call: (c, f) => c.send(new UpdateAliasCommand({ AliasName: f.alias, TargetKeyId: f.secondArn })),
  },
  { op: 'DeleteAlias', key: 'symmetric', alias: true, setup: aliasFirst, call: (c, f) => c.send(new DeleteAliasCommand({ AliasName: f.alias })) },
];

/** The key policy of a cell: A's IAM policies enabled (so the root can set it up), plus the cell's statement. */
function policyFor(row: Row, scenario: Scenario): string {
  const actions = (row.actions ?? [row.op]).map((a) => `kms:${a}`);
  const enableIam = { Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${A}:root` }, Action: 'kms:*', Resource: '*' };
  const extra: Partial<Record<Scenario, object>> = {
    'key policy': { Sid: 'cell', Effect: 'Allow', Principal: { AWS: PLAIN }, Action: actions, Resource: '*' },
    'identity deny': { Sid: 'cell', Effect: 'Allow', Principal: { AWS: DENIER }, Action: 'kms:*', Resource: '*' },
    'key policy deny': { Sid: 'cell', Effect: 'Deny', Principal: { AWS: IAM }, Action: actions, Resource: '*' },
    'other account named': { Sid: 'cell', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${B}:root` }, Action: actions, Resource: '*' },
  };
  return JSON.stringify({ Version: '2012-10-17', Statement: [enableIam, ...(extra[scenario] ? [extra[scenario]] : [])] });
}

const CALLER: Record<Scenario, [string, string, string]> = {
  'key policy': ['PLAIN', 'plain-secret', PLAIN],
  'identity policy': ['IAM', 'iam-secret', IAM],
  grant: ['PLAIN', 'plain-secret', PLAIN],
  'no permission': ['PLAIN', 'plain-secret', PLAIN],
  'identity deny': ['DENIER', 'denier-secret', DENIER],
  'key policy deny': ['IAM', 'iam-secret', IAM],
  'other account named': ['OUTSIDER', 'outsider-secret', OUTSIDER],
  'other account not named': ['OUTSIDER', 'outsider-secret', OUTSIDER],
};

/** The outcome AWS's rules give a cell. */
function expected(row: Row, scenario: Scenario): Outcome {
  const special = row.special?.[scenario];
  if (special) return special;
  if (!row.key) return scenario === 'identity policy' ? 'allowed' : { denied: scenario === 'identity deny' ? 'explicit-identity' : 'identity', on: '*' };
  const first = row.alias ? 'alias' : 'key';
  switch (scenario) {
    case 'identity policy':
      return 'allowed';
    case 'key policy':
      // A key policy naming the caller is enough, except for the alias resource, which it cannot allow.
      return row.alias ? denyAlias('identity') : 'allowed';
    case 'grant':
      return row.grant ? 'allowed' : { denied: 'identity', on: first };
    case 'no permission':
      return { denied: 'identity', on: first };
    case 'identity deny':
      return { denied: 'explicit-identity', on: first };
    case 'key policy deny':
      return { denied: 'explicit-resource', on: 'key' };
    case 'other account named':
      // Another account's key is only reachable by ARN in the cross-account operations; elsewhere
      // it does not exist for the caller (and aliases are always the caller's own).
      return row.crossAccount ? 'allowed' : { error: 'NotFoundException' };
    case 'other account not named':
      return row.crossAccount ? { denied: 'resource', on: 'key' } : { error: 'NotFoundException' };
  }
}

let sealbox: Sealbox;
let dir: string;
let root: KMSClient;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sealbox-kms-matrix-'));
  writeFileSync(join(dir, 'seed.json'), JSON.stringify(SEED));
  sealbox = await startTestSealbox({ seed: join(dir, 'seed.json'), only: 'kms' });
  root = kmsClient(sealbox);
});

afterAll(async () => {
  await sealbox.stop();
  rmSync(dir, { recursive: true, force: true });
});

const clients = new Map<string, KMSClient>();
function callerClient(scenario: Scenario): KMSClient {
  const [accessKeyId, secretAccessKey] = CALLER[scenario];
  if (!clients.has(accessKeyId)) clients.set(accessKeyId, trackRequestIds(kmsClient(sealbox, { credentials: { accessKeyId, secretAccessKey } })));
  return clients.get(accessKeyId)!;
}

async function setUp(row: Row, scenario: Scenario): Promise<Fixture> {
  const policy = policyFor(row, scenario);
  const f: Fixture = { arn: '', policy, scenario };
  if (row.key) {
    f.arn = (await root.send(new CreateKeyCommand({ ...KEY_SPECS[row.key], Policy: policy }))).KeyMetadata!.Arn!;
    if (scenario === 'grant') {
      // A key pending import takes no grants (key-state.html): the grant is made while the key
      // has material, which is then deleted, so the key is pending import again.
      const external = row.key === 'external';
      if (external) {
        await importParameters(root, f);
        await importMaterial(root, f);
      }
      const operations = row.grant ? ((row.actions ?? [row.op]) as GrantOperation[]) : GRANTABLE[row.key];
      f.grantId = (await root.send(new CreateGrantCommand({ KeyId: f.arn, GranteePrincipal: PLAIN, Operations: operations }))).GrantId;
      if (external) await root.send(new DeleteImportedKeyMaterialCommand({ KeyId: f.arn }));
    }
  }
  await row.setup?.(root, f);
  return f;
}

const message = (caller: string, action: string, resource: string, why: Why) =>
  `User: ${caller} is not authorized to perform: kms:${action} on resource: ${resource} ` +
  {
    identity: `because no identity-based policy allows the kms:${action} action`,
    resource: `because no resource-based policy allows the kms:${action} action`,
    'explicit-resource': 'with an explicit deny in a resource-based policy',
    'explicit-identity': 'with an explicit deny in an identity-based policy',
  }[why];

/** What the SDK saw: success, or the error's code, HTTP status and message. */
async function outcomeOf(promise: Promise<unknown>): Promise<{ ok: true } | { name: string; status?: number; message: string }> {
  try {
    await promise;
    return { ok: true };
  } catch (err) {
    const e = err as Error & { $metadata?: { httpStatusCode?: number } };
    return { name: e.name, status: e.$metadata?.httpStatusCode, message: e.message };
  }
}

const cells = ROWS.flatMap((row) => (row.key ? SCENARIOS : KEYLESS_SCENARIOS).map((scenario) => [row.op, scenario, row] as const));

describe('the matrix covers every KMS operation', () => {
  it('has exactly one row per operation Sealbox serves', () => {
    const ops = ROWS.map((r) => r.op);
    expect(new Set(ops).size).toBe(ops.length);
    expect([...ops].sort()).toEqual([...KMS_OPERATIONS].sort());
  });
});

describe.each(cells)('%s, %s', (op, scenario, row) => {
  const want = expected(row, scenario);
  const title =
    want === 'allowed' ? 'is allowed' : 'error' in want ? `fails with ${want.error}` : `is denied (${want.denied}, on the ${want.on === '*' ? 'resource *' : want.on})`;
  it(title, async () => {
    const f = await setUp(row, scenario);
    const got = await outcomeOf(row.call(callerClient(scenario), f));
    // The request's decision record agrees with the answer (decision-checks.ts).
    expect(kmsDecisionProblems(sealbox, takeRequestId(), { scenario, caller: CALLER[scenario][2], want, action: (row.actions ?? [op])[0]!, grantId: f.grantId }, got)).toEqual([]);
    if (want === 'allowed') {
      expect(got).toEqual({ ok: true });
      return;
    }
    if ('error' in want) {
      expect(got).toMatchObject({ name: want.error, status: 400 });
      return;
    }
    const resource = want.on === '*' ? '*' : f.arn;
    const action = want.action ?? (row.actions ?? [op])[0]!;
    if (want.on === 'alias') {
      // The alias's name is the one the call used; its ARN is in the caller's account.
      expect(got).toMatchObject({ name: 'AccessDeniedException', status: 400 });
      const m = (got as { message: string }).message;
      expect(m.replace(/alias\/[\w/-]+/, 'alias/NAME')).toBe(message(CALLER[scenario][2], action, `arn:aws:kms:${REGION}:${A}:alias/NAME`, want.denied));
      return;
    }
    expect(got).toEqual({ name: 'AccessDeniedException', status: 400, message: message(CALLER[scenario][2], action, resource, want.denied) });
  });
});

/**
 * Operations on two keys are authorized on each: UpdateAlias needs kms:UpdateAlias on the alias,
 * on the key it points at and on the new target key (alias-access.html); ReEncrypt needs
 * kms:ReEncryptFrom on the source key and kms:ReEncryptTo on the destination key
 * (kms-api-permissions-reference.html); UpdatePrimaryRegion needs kms:UpdatePrimaryRegion on the
 * primary key and on the replica that becomes primary (multi-region-update.html). The rows above give both keys one policy, so the first
 * key's refusal hides a missing check on the second: here only the second key refuses the caller,
 * which its identity policy (kms:*) allows everywhere.
 */
interface SecondKeyCase {
  op: string;
  action: string;
  /** The second key, with this policy (by default a new key). */
  second?: (f: Fixture, policy: string) => Promise<string>;
  call: (c: KMSClient, f: Fixture, second: string) => Promise<unknown>;
  unchanged: (f: Fixture) => Promise<void>;
}
const SECOND_KEY: SecondKeyCase[] = [
  {
    op: 'UpdateAlias',
    action: 'UpdateAlias',
    call: (c, f, second) => c.send(new UpdateAliasCommand({ AliasName: f.alias, TargetKeyId: second })),
    unchanged: async (f) => expect((await root.send(new ListAliasesCommand({ KeyId: f.arn }))).Aliases?.map((a) => a.AliasName)).toEqual([f.alias]),
  },
  {
    op: 'ReEncrypt',
    action: 'ReEncryptTo',
    call: (c, f, second) => c.send(new ReEncryptCommand({ CiphertextBlob: f.ciphertext, SourceKeyId: f.arn, DestinationKeyId: second })),
    unchanged: async () => undefined,
  },
  {
    // The row's setup made the replica with the cell's policy; here the replica alone refuses.
    op: 'UpdatePrimaryRegion',
    action: 'UpdatePrimaryRegion',
    second: async (f, policy) => {
      const replica = f.arn.replace(`:${REGION}:`, `:${OTHER_REGION}:`);
      const rootThere = kmsClient(sealbox, { region: OTHER_REGION });
      await rootThere.send(new PutKeyPolicyCommand({ KeyId: replica, Policy: policy }));
      rootThere.destroy();
      return replica;
    },
    call: (c, f) => c.send(new UpdatePrimaryRegionCommand({ KeyId: f.arn, PrimaryRegion: OTHER_REGION })),
    unchanged: async (f) => expect((await root.send(new DescribeKeyCommand({ KeyId: f.arn }))).KeyMetadata!.MultiRegionConfiguration!.PrimaryKey!.Region).toBe(REGION),
  },
];

describe.each(SECOND_KEY)('$op, only the second key refuses', ({ op, action, second: makeSecond, call, unchanged }) => {
  it(`is denied (explicit-resource, kms:${action} on the second key)`, async () => {
    const row = ROWS.find((r) => r.op === op)!;
    const f = await setUp(row, 'identity policy');
    const denying = policyFor(row, 'key policy deny');
    const second = makeSecond ? await makeSecond(f, denying) : (await root.send(new CreateKeyCommand({ Policy: denying }))).KeyMetadata!.Arn!;
    const got = await outcomeOf(call(callerClient('key policy deny'), f, second));
    expect(got).toEqual({ name: 'AccessDeniedException', status: 400, message: message(IAM, action, second, 'explicit-resource') });
    await unchanged(f);
  });
});
