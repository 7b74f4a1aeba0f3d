/**
 * The key-state table (https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html),
 * row by row for the operations Sealbox implements, for keys Enabled, Disabled, PendingDeletion,
 * PendingReplicaDeletion (a multi-Region primary waiting for its replica) and Unavailable (a key
 * of a disconnected CloudHSM key store). Then DryRun on every operation that has it.
 */
import {
  CancelKeyDeletionCommand,
  ConnectCustomKeyStoreCommand,
  CreateAliasCommand,
  CreateCustomKeyStoreCommand,
  CreateGrantCommand,
  CreateKeyCommand,
  DecryptCommand,
  DeleteAliasCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  DisableKeyRotationCommand,
  DisconnectCustomKeyStoreCommand,
  EnableKeyCommand,
  EnableKeyRotationCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GenerateDataKeyWithoutPlaintextCommand,
  GetKeyLastUsageCommand,
  GetKeyPolicyCommand,
  GetKeyRotationStatusCommand,
  KMSClient,
  ListAliasesCommand,
  ListGrantsCommand,
  ListKeyPoliciesCommand,
  ListKeyRotationsCommand,
  ListResourceTagsCommand,
  PutKeyPolicyCommand,
  ReEncryptCommand,
  ReplicateKeyCommand,
  RetireGrantCommand,
  RevokeGrantCommand,
  RotateKeyOnDemandCommand,
  ScheduleKeyDeletionCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateAliasCommand,
  UpdateKeyDescriptionCommand,
} from '@aws-sdk/client-kms';
import type { Sealbox } from '@sealbox/cli';
import { failure, kmsClient, startTestSealbox } from './helpers';

let sealbox: Sealbox;
let kms: KMSClient;

const STATES = ['Enabled', 'Disabled', 'PendingDeletion', 'PendingReplicaDeletion', 'Unavailable'] as const;
type State = (typeof STATES)[number];

/** What the table says: success, or the error (with the table's message where it gives one). */
type Outcome = 'ok' | 'disabled' | 'pendingDeletion' | 'pendingReplicaDeletion' | 'unavailable' | 'notPendingDeletion' | 'unsupported';

function expected(outcome: Outcome, arn: string): { name: string; message?: string } | undefined {
  switch (outcome) {
    case 'ok':
      return undefined;
    case 'disabled':
      return { name: 'DisabledException', message: `${arn} is disabled.` };
    case 'pendingDeletion':
      return { name: 'KMSInvalidStateException', message: `${arn} is pending deletion.` };
    case 'pendingReplicaDeletion':
      // AWS's wording for this state is not documented; Sealbox's (see keys.ts).
      return { name: 'KMSInvalidStateException', message: `${arn} is pending replica deletion.` };
    case 'unavailable':
      return { name: 'KMSInvalidStateException', message: `${arn} is unavailable.` };
    case 'notPendingDeletion':
      return { name: 'KMSInvalidStateException', message: `${arn} is not pending deletion.` };
    case 'unsupported':
      return { name: 'UnsupportedOperationException' };
  }
}

/** A key in a state, with what operations need: a ciphertext made while it was Enabled, a grant, an alias. */
interface Fixture {
  keyId: string;
  arn: string;
  ciphertext: Uint8Array;
  grantId: string;
  grantToken: string;
  alias: string;
}

const crypto = (disabled: Outcome = 'disabled'): Outcome[] => ['ok', disabled, 'pendingDeletion', 'pendingReplicaDeletion', 'unavailable'];
const manage: Outcome[] = ['ok', 'ok', 'pendingDeletion', 'pendingReplicaDeletion', 'ok'];
const always: Outcome[] = ['ok', 'ok', 'ok', 'ok', 'ok'];
const rotation: Outcome[] = ['ok', 'disabled', 'pendingDeletion', 'pendingReplicaDeletion', 'unsupported'];
const rotationRead: Outcome[] = ['ok', 'ok', 'ok', 'ok', 'unsupported'];

/** Rows of the table: Enabled, Disabled, PendingDeletion, PendingReplicaDeletion, Unavailable. */
const TABLE: { op: string; outcomes: Outcome[]; run: (f: Fixture) => Promise<unknown> }[] = [
  { op: 'CancelKeyDeletion', outcomes: ['notPendingDeletion', 'notPendingDeletion', 'ok', 'ok', 'notPendingDeletion'], run: (f) => kms.send(new CancelKeyDeletionCommand({ KeyId: f.keyId })) },
  { op: 'CreateAlias', outcomes: manage, run: (f) => kms.send(new CreateAliasCommand({ AliasName: `${f.alias}-new`, TargetKeyId: f.keyId })) },
  { op: 'CreateGrant', outcomes: crypto('disabled').map((o) => (o === 'unavailable' ? 'ok' : o)), run: (f) => kms.send(new CreateGrantCommand({ KeyId: f.keyId, GranteePrincipal: 'arn:aws:iam::000000000000:root', Operations: ['Decrypt'] })) },
  { op: 'Decrypt', outcomes: crypto(), run: (f) => kms.send(new DecryptCommand({ CiphertextBlob: f.ciphertext })) },
  { op: 'DeleteAlias', outcomes: always, run: (f) => kms.send(new DeleteAliasCommand({ AliasName: f.alias })) },
  { op: 'DescribeKey', outcomes: always, run: (f) => kms.send(new DescribeKeyCommand({ KeyId: f.keyId })) },
  { op: 'DisableKey', outcomes: manage, run: (f) => kms.send(new DisableKeyCommand({ KeyId: f.keyId })) },
  { op: 'DisableKeyRotation', outcomes: rotation, run: (f) => kms.send(new DisableKeyRotationCommand({ KeyId: f.keyId })) },
  { op: 'EnableKey', outcomes: manage, run: (f) => kms.send(new EnableKeyCommand({ KeyId: f.keyId })) },
  { op: 'EnableKeyRotation', outcomes: rotation, run: (f) => kms.send(new EnableKeyRotationCommand({ KeyId: f.keyId })) },
  { op: 'Encrypt', outcomes: crypto(), run: (f) => kms.send(new EncryptCommand({ KeyId: f.keyId, Plaintext: Buffer.from('x') })) },
  { op: 'GenerateDataKey', outcomes: crypto(), run: (f) => kms.send(new GenerateDataKeyCommand({ KeyId: f.keyId, KeySpec: 'AES_256' })) },
  { op: 'GenerateDataKeyWithoutPlaintext', outcomes: crypto(), run: (f) => kms.send(new GenerateDataKeyWithoutPlaintextCommand({ KeyId: f.keyId, NumberOfBytes: 16 })) },
  { op: 'GetKeyLastUsage', outcomes: always, run: (f) => kms.send(new GetKeyLastUsageCommand({ KeyId: f.keyId })) },
  { op: 'GetKeyPolicy', outcomes: always, run: (f) => kms.send(new GetKeyPolicyCommand({ KeyId: f.keyId })) },
  { op: 'GetKeyRotationStatus', outcomes: rotationRead, run: (f) => kms.send(new GetKeyRotationStatusCommand({ KeyId: f.keyId })) },
  { op: 'ListAliases', outcomes: always, run: (f) => kms.send(new ListAliasesCommand({ KeyId: f.keyId })) },
  { op: 'ListGrants', outcomes: always, run: (f) => kms.send(new ListGrantsCommand({ KeyId: f.keyId })) },
  { op: 'ListKeyPolicies', outcomes: always, run: (f) => kms.send(new ListKeyPoliciesCommand({ KeyId: f.keyId })) },
  { op: 'ListKeyRotations', outcomes: rotationRead, run: (f) => kms.send(new ListKeyRotationsCommand({ KeyId: f.keyId })) },
  { op: 'ListResourceTags', outcomes: always, run: (f) => kms.send(new ListResourceTagsCommand({ KeyId: f.keyId })) },
  {
    op: 'PutKeyPolicy',
    outcomes: always,
    run: async (f) => kms.send(new PutKeyPolicyCommand({ KeyId: f.keyId, Policy: (await kms.send(new GetKeyPolicyCommand({ KeyId: f.keyId }))).Policy })),
  },
  // ReEncrypt with the key as source (the ciphertext's key) ...
  {
    op: 'ReEncrypt (source)',
    outcomes: crypto(),
    run: async (f) => kms.send(new ReEncryptCommand({ CiphertextBlob: f.ciphertext, DestinationKeyId: (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId })),
  },
  // ... and as destination.
  {
    op: 'ReEncrypt (destination)',
    outcomes: crypto(),
    run: async (f) => {
      const source = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId;
      const blob = (await kms.send(new EncryptCommand({ KeyId: source, Plaintext: Buffer.from('x') }))).CiphertextBlob;
      return kms.send(new ReEncryptCommand({ CiphertextBlob: blob, DestinationKeyId: f.keyId }));
    },
  },
  { op: 'RetireGrant', outcomes: always, run: (f) => kms.send(new RetireGrantCommand({ GrantToken: f.grantToken })) },
  { op: 'RevokeGrant', outcomes: always, run: (f) => kms.send(new RevokeGrantCommand({ KeyId: f.keyId, GrantId: f.grantId })) },
  { op: 'RotateKeyOnDemand', outcomes: rotation, run: (f) => kms.send(new RotateKeyOnDemandCommand({ KeyId: f.keyId })) },
  { op: 'ScheduleKeyDeletion', outcomes: manage, run: (f) => kms.send(new ScheduleKeyDeletionCommand({ KeyId: f.keyId })) },
  { op: 'TagResource', outcomes: manage, run: (f) => kms.send(new TagResourceCommand({ KeyId: f.keyId, Tags: [{ TagKey: 'k', TagValue: 'v' }] })) },
  { op: 'UntagResource', outcomes: manage, run: (f) => kms.send(new UntagResourceCommand({ KeyId: f.keyId, TagKeys: ['k'] })) },
  // UpdateAlias: the key as new target (a source key pending deletion is fine, note 10).
  {
    op: 'UpdateAlias (new target)',
    outcomes: manage,
    run: async (f) => {
      const other = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
      await kms.send(new CreateAliasCommand({ AliasName: `${f.alias}-moving`, TargetKeyId: other }));
      return kms.send(new UpdateAliasCommand({ AliasName: `${f.alias}-moving`, TargetKeyId: f.keyId }));
    },
  },
  {
    op: 'UpdateAlias (old target)',
    outcomes: always,
    run: async (f) => kms.send(new UpdateAliasCommand({ AliasName: f.alias, TargetKeyId: (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId })),
  },
  { op: 'UpdateKeyDescription', outcomes: manage, run: (f) => kms.send(new UpdateKeyDescriptionCommand({ KeyId: f.keyId, Description: 'new' })) },
];

let storeId: string;
const fixtures = new Map<string, Fixture>();
let serial = 0;

/** A fresh key for one row and one state, with a ciphertext, a grant and an alias. */
async function makeFixture(state: State): Promise<Fixture> {
  const n = serial++;
  const meta = (
    await kms.send(
      new CreateKeyCommand(
        state === 'Unavailable' ? { Origin: 'AWS_CLOUDHSM', CustomKeyStoreId: storeId } : state === 'PendingReplicaDeletion' ? { MultiRegion: true } : {},
      ),
    )
  ).KeyMetadata!;
  const ciphertext = (await kms.send(new EncryptCommand({ KeyId: meta.KeyId, Plaintext: Buffer.from('table') }))).CiphertextBlob!;
  const grant = await kms.send(new CreateGrantCommand({ KeyId: meta.KeyId, GranteePrincipal: 'arn:aws:iam::000000000000:root', Operations: ['Encrypt'], RetiringPrincipal: 'arn:aws:iam::000000000000:root' }));
  const alias = `alias/state-${n}`;
  await kms.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: meta.KeyId }));
  if (state === 'Disabled') await kms.send(new DisableKeyCommand({ KeyId: meta.KeyId }));
  if (state === 'PendingDeletion') await kms.send(new ScheduleKeyDeletionCommand({ KeyId: meta.KeyId }));
  if (state === 'PendingReplicaDeletion') {
    await kms.send(new ReplicateKeyCommand({ KeyId: meta.KeyId, ReplicaRegion: 'eu-west-1' }));
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: meta.KeyId }));
  }
  return { keyId: meta.KeyId!, arn: meta.Arn!, ciphertext, grantId: grant.GrantId!, grantToken: grant.GrantToken!, alias };
}

beforeAll(async () => {
  sealbox = await startTestSealbox({ only: 'kms' });
  kms = kmsClient(sealbox);
  storeId = (
    await kms.send(
      new CreateCustomKeyStoreCommand({ CustomKeyStoreName: 'table', CloudHsmClusterId: 'cluster-abcdefghijkl', TrustAnchorCertificate: 'cert', KeyStorePassword: 'kmsPswd1' }),
    )
  ).CustomKeyStoreId!;
  await kms.send(new ConnectCustomKeyStoreCommand({ CustomKeyStoreId: storeId }));
  await sealbox.clock.advance(2);
  for (const row of TABLE) for (const state of STATES) fixtures.set(`${row.op}/${state}`, await makeFixture(state));
  await kms.send(new DisconnectCustomKeyStoreCommand({ CustomKeyStoreId: storeId }));
}, 120_000);
afterAll(async () => {
  kms.destroy();
  await sealbox.stop();
});

describe('the fixtures are in their states', () => {
  it.each(STATES)('%s', async (state) => {
    const f = fixtures.get(`DescribeKey/${state}`)!;
    expect((await kms.send(new DescribeKeyCommand({ KeyId: f.keyId }))).KeyMetadata!.KeyState).toBe(state);
  });
});

describe.each(TABLE)('$op', ({ op, outcomes, run }) => {
  it.each(STATES.map((state, i) => [state, outcomes[i]!] as const))('%s: %s', async (state, outcome) => {
    const f = fixtures.get(`${op}/${state}`)!;
    const want = expected(outcome, f.arn);
    if (!want) {
      await run(f);
      return;
    }
    const err = await failure(run(f));
    expect(err.name).toBe(want.name);
    if (want.message !== undefined) expect(err.message).toBe(want.message);
  });
});

describe('DryRun', () => {
  it('succeeds as DryRunOperationException after authorization, validation and state checks, changing nothing', async () => {
    const dryRun = async (promise: Promise<unknown>) => {
      const err = await failure(promise);
      expect(err.name).toBe('DryRunOperationException');
      expect(err.message).toBe('The request would have succeeded, but the DryRun option is set.');
    };
    const key = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
    const blob = (await kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x') }))).CiphertextBlob!;
    await dryRun(kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x'), DryRun: true })));
    await dryRun(kms.send(new DecryptCommand({ CiphertextBlob: blob, DryRun: true })));
    await dryRun(kms.send(new ReEncryptCommand({ CiphertextBlob: blob, DestinationKeyId: key.KeyId, DryRun: true })));
    await dryRun(kms.send(new GenerateDataKeyCommand({ KeyId: key.KeyId, KeySpec: 'AES_256', DryRun: true })));
    await dryRun(kms.send(new GenerateDataKeyWithoutPlaintextCommand({ KeyId: key.KeyId, KeySpec: 'AES_256', DryRun: true })));
    await dryRun(kms.send(new CreateGrantCommand({ KeyId: key.KeyId, GranteePrincipal: 'arn:aws:iam::000000000000:root', Operations: ['Decrypt'], DryRun: true })));
    expect((await kms.send(new ListGrantsCommand({ KeyId: key.KeyId }))).Grants).toEqual([]);
    const grant = await kms.send(new CreateGrantCommand({ KeyId: key.KeyId, GranteePrincipal: 'arn:aws:iam::000000000000:root', Operations: ['Decrypt'] }));
    await dryRun(kms.send(new RevokeGrantCommand({ KeyId: key.KeyId, GrantId: grant.GrantId, DryRun: true })));
    await dryRun(kms.send(new RetireGrantCommand({ GrantToken: grant.GrantToken, DryRun: true })));
    expect((await kms.send(new ListGrantsCommand({ KeyId: key.KeyId }))).Grants).toHaveLength(1);
    // Nothing was used: GetKeyLastUsage still shows the one real Encrypt.
    expect((await kms.send(new GetKeyLastUsageCommand({ KeyId: key.KeyId }))).KeyLastUsage?.Operation).toBe('Encrypt');

    // The other checks come first: state, validation, a key of a disconnected store.
    await kms.send(new DisableKeyCommand({ KeyId: key.KeyId }));
    expect((await failure(kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x'), DryRun: true })))).name).toBe('DisabledException');
    expect((await failure(kms.send(new GenerateDataKeyCommand({ KeyId: key.KeyId, DryRun: true })))).name).toBe('ValidationException');
    const unavailable = fixtures.get('Encrypt/Unavailable')!;
    expect((await failure(kms.send(new EncryptCommand({ KeyId: unavailable.keyId, Plaintext: Buffer.from('x'), DryRun: true })))).name).toBe('KMSInvalidStateException');
    expect((await failure(kms.send(new CreateGrantCommand({ KeyId: key.KeyId, GranteePrincipal: 'nobody', Operations: ['Decrypt'], DryRun: true })))).name).toBe('DisabledException');
  });
});
