/** Multi-Region keys through @aws-sdk/client-kms: one Sealbox, clients in several Regions. */
import {
  CancelKeyDeletionCommand,
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EnableKeyRotationCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GetKeyPolicyCommand,
  GetKeyRotationStatusCommand,
  KMSClient,
  ListKeyRotationsCommand,
  ListKeysCommand,
  ListResourceTagsCommand,
  ReplicateKeyCommand,
  RotateKeyOnDemandCommand,
  ScheduleKeyDeletionCommand,
  UpdatePrimaryRegionCommand,
} from '@aws-sdk/client-kms';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Sealbox } from '@sealbox/cli';
import { failure, kmsClient, runCommand, startTestSealbox } from './helpers';

let sealbox: Sealbox;
let east: KMSClient;
let west: KMSClient;
let eu: KMSClient;
const DAY = 86400;

beforeAll(async () => {
  sealbox = await startTestSealbox({ only: 'kms' });
  east = kmsClient(sealbox, { region: 'us-east-1' });
  west = kmsClient(sealbox, { region: 'us-west-2' });
  eu = kmsClient(sealbox, { region: 'eu-west-1' });
});
afterAll(async () => {
  for (const c of [east, west, eu]) c.destroy();
  await sealbox.stop();
});

const arnOf = (id: string, region: string) => `arn:aws:kms:${region}:000000000000:key/${id}`;
async function expectError(promise: Promise<unknown>, name: string, message?: string) {
  const err = await failure(promise);
  expect({ name: err.name, status: err.$metadata?.httpStatusCode }).toEqual({ name, status: 400 });
  if (message !== undefined) expect(err.message).toBe(message);
  return err;
}
const newPrimary = async (extra: Partial<ConstructorParameters<typeof CreateKeyCommand>[0]> = {}) =>
  (await east.send(new CreateKeyCommand({ MultiRegion: true, ...extra }))).KeyMetadata!;
/** Advances the virtual clock (it takes effect, and resolves, at the next whole second of wall time). */
async function advance(seconds: number) {
  await sealbox.clock.advance(seconds);
}
const state = async (client: KMSClient, keyId: string) => (await client.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata!.KeyState;

describe('CreateKey MultiRegion and ReplicateKey', () => {
  it('a primary key has an mrk- id and a PRIMARY configuration without replicas', async () => {
    const meta = await newPrimary({ Description: 'global' });
    expect(meta.KeyId).toMatch(/^mrk-[0-9a-f]{32}$/);
    expect(meta).toMatchObject({
      Arn: arnOf(meta.KeyId!, 'us-east-1'),
      MultiRegion: true,
      MultiRegionConfiguration: {
        MultiRegionKeyType: 'PRIMARY',
        PrimaryKey: { Arn: arnOf(meta.KeyId!, 'us-east-1'), Region: 'us-east-1' },
        ReplicaKeys: [],
      },
    });
    // Another Region does not see it until it is replicated there.
    await expectError(eu.send(new DescribeKeyCommand({ KeyId: meta.KeyId })), 'NotFoundException', `Key '${arnOf(meta.KeyId!, 'eu-west-1')}' does not exist`);
  });

  it('ReplicateKey makes a key with the same id in the other Region; DescribeKey in each Region shows the set', async () => {
    const primary = await newPrimary({ Description: 'primary', Tags: [{ TagKey: 'team', TagValue: 'a' }] });
    const out = await east.send(
      new ReplicateKeyCommand({ KeyId: primary.Arn, ReplicaRegion: 'eu-west-1', Description: 'replica', Tags: [{ TagKey: 'copy', TagValue: 'yes' }] }),
    );
    const replicaArn = arnOf(primary.KeyId!, 'eu-west-1');
    expect(out.ReplicaKeyMetadata).toMatchObject({
      KeyId: primary.KeyId,
      Arn: replicaArn,
      Description: 'replica',
      KeyState: 'Enabled',
      KeySpec: 'SYMMETRIC_DEFAULT',
      MultiRegion: true,
      MultiRegionConfiguration: {
        MultiRegionKeyType: 'REPLICA',
        PrimaryKey: { Arn: primary.Arn, Region: 'us-east-1' },
        ReplicaKeys: [{ Arn: replicaArn, Region: 'eu-west-1' }],
      },
    });
    expect(out.ReplicaTags).toEqual([{ TagKey: 'copy', TagValue: 'yes' }]);
    // The replica gets the default key policy, not the primary's.
    expect(JSON.parse(out.ReplicaPolicy!)).toMatchObject({ Id: 'key-default-1' });
    expect((await eu.send(new GetKeyPolicyCommand({ KeyId: primary.KeyId }))).Policy).toBe(out.ReplicaPolicy);
    await east.send(new ReplicateKeyCommand({ KeyId: primary.KeyId, ReplicaRegion: 'us-west-2' }));

    const fromEast = (await east.send(new DescribeKeyCommand({ KeyId: primary.KeyId }))).KeyMetadata!;
    expect(fromEast.MultiRegionConfiguration).toEqual({
      MultiRegionKeyType: 'PRIMARY',
      PrimaryKey: { Arn: primary.Arn, Region: 'us-east-1' },
      ReplicaKeys: [
        { Arn: replicaArn, Region: 'eu-west-1' },
        { Arn: arnOf(primary.KeyId!, 'us-west-2'), Region: 'us-west-2' },
      ],
    });
    const fromWest = (await west.send(new DescribeKeyCommand({ KeyId: primary.KeyId }))).KeyMetadata!;
    expect(fromWest.MultiRegionConfiguration!.MultiRegionKeyType).toBe('REPLICA');
    expect(fromWest.Description).toBe('');
    // Tags, policy and description are each Region's own; ListKeys lists the replica in its Region.
    expect((await east.send(new ListResourceTagsCommand({ KeyId: primary.KeyId }))).Tags).toEqual([{ TagKey: 'team', TagValue: 'a' }]);
    expect((await eu.send(new ListKeysCommand({}))).Keys).toContainEqual({ KeyId: primary.KeyId, KeyArn: replicaArn });
    // Aliases are Regional too.
    await eu.send(new CreateAliasCommand({ AliasName: 'alias/global', TargetKeyId: primary.KeyId }));
    await expectError(east.send(new DescribeKeyCommand({ KeyId: 'alias/global' })), 'NotFoundException');
  });

  it("a ciphertext from us-east-1 decrypts in eu-west-1 with the replica's ARN, and back", async () => {
    const primary = await newPrimary();
    await east.send(new ReplicateKeyCommand({ KeyId: primary.KeyId, ReplicaRegion: 'eu-west-1' }));
    const replicaArn = arnOf(primary.KeyId!, 'eu-west-1');
    const context = { purpose: 'dr' };
    const enc = await east.send(new EncryptCommand({ KeyId: primary.Arn, Plaintext: Buffer.from('across regions'), EncryptionContext: context }));
    const dec = await eu.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, KeyId: replicaArn, EncryptionContext: context }));
    expect(Buffer.from(dec.Plaintext!).toString()).toBe('across regions');
    expect(dec.KeyId).toBe(replicaArn);
    // Without KeyId too, and the other way round with a data key.
    expect(Buffer.from((await eu.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: context }))).Plaintext!).toString()).toBe('across regions');
    const dk = await eu.send(new GenerateDataKeyCommand({ KeyId: replicaArn, KeySpec: 'AES_256' }));
    const back = await east.send(new DecryptCommand({ CiphertextBlob: dk.CiphertextBlob }));
    expect(Buffer.from(back.Plaintext!)).toEqual(Buffer.from(dk.Plaintext!));
    expect(back.KeyId).toBe(primary.Arn);
    // The primary's ARN is not the replica's: naming it in eu-west-1 is another Region's ARN.
    await expectError(eu.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, KeyId: primary.Arn, EncryptionContext: context })), 'NotFoundException', 'Invalid arn us-east-1');
  });

  it('a Region without the replica cannot decrypt', async () => {
    const primary = await newPrimary();
    const enc = await east.send(new EncryptCommand({ KeyId: primary.KeyId, Plaintext: Buffer.from('x') }));
    await expectError(west.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob })), 'InvalidCiphertextException');
  });

  it("AWS's errors: replica already exists, the primary's own Region, a single-Region key, a replica as source", async () => {
    const primary = await newPrimary();
    await east.send(new ReplicateKeyCommand({ KeyId: primary.KeyId, ReplicaRegion: 'eu-west-1' }));
    await expectError(east.send(new ReplicateKeyCommand({ KeyId: primary.KeyId, ReplicaRegion: 'eu-west-1' })), 'AlreadyExistsException');
    await expectError(east.send(new ReplicateKeyCommand({ KeyId: primary.KeyId, ReplicaRegion: 'us-east-1' })), 'ValidationException');
    const single = (await east.send(new CreateKeyCommand({}))).KeyMetadata!;
    expect(single.MultiRegion).toBe(false);
    expect(single.MultiRegionConfiguration).toBeUndefined();
    await expectError(east.send(new ReplicateKeyCommand({ KeyId: single.KeyId, ReplicaRegion: 'eu-west-1' })), 'UnsupportedOperationException');
    await expectError(eu.send(new ReplicateKeyCommand({ KeyId: primary.KeyId, ReplicaRegion: 'us-west-2' })), 'UnsupportedOperationException');
    await expectError(east.send(new ReplicateKeyCommand({ KeyId: primary.KeyId, ReplicaRegion: 'not a region' })), 'ValidationException');
    // A disabled primary is not replicated.
    const disabled = await newPrimary();
    await east.send(new DisableKeyCommand({ KeyId: disabled.KeyId }));
    await expectError(east.send(new ReplicateKeyCommand({ KeyId: disabled.KeyId, ReplicaRegion: 'eu-west-1' })), 'DisabledException', `${disabled.Arn} is disabled.`);
  });

  it('asymmetric and HMAC multi-Region keys share their material as-is', async () => {
    const hmac = await newPrimary({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' });
    const replica = (await east.send(new ReplicateKeyCommand({ KeyId: hmac.KeyId, ReplicaRegion: 'us-west-2' }))).ReplicaKeyMetadata!;
    expect(replica).toMatchObject({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC', MacAlgorithms: ['HMAC_SHA_256'] });
    const rsa = await newPrimary({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' });
    const rsaReplica = (await east.send(new ReplicateKeyCommand({ KeyId: rsa.KeyId, ReplicaRegion: 'us-west-2' }))).ReplicaKeyMetadata!;
    expect(rsaReplica).toMatchObject({ KeySpec: 'ECC_NIST_P256', SigningAlgorithms: ['ECDSA_SHA_256'] });
  });
});

describe('rotation is shared', () => {
  it('on-demand rotation of the primary gives the replicas the new material; old and new ciphertexts decrypt everywhere', async () => {
    const primary = await newPrimary();
    await east.send(new ReplicateKeyCommand({ KeyId: primary.KeyId, ReplicaRegion: 'eu-west-1' }));
    const before = await east.send(new EncryptCommand({ KeyId: primary.KeyId, Plaintext: Buffer.from('before') }));
    await east.send(new RotateKeyOnDemandCommand({ KeyId: primary.KeyId }));
    const eastMeta = (await east.send(new DescribeKeyCommand({ KeyId: primary.KeyId }))).KeyMetadata!;
    const euMeta = (await eu.send(new DescribeKeyCommand({ KeyId: primary.KeyId }))).KeyMetadata!;
    expect(euMeta.CurrentKeyMaterialId).toBe(eastMeta.CurrentKeyMaterialId);
    expect(eastMeta.CurrentKeyMaterialId).not.toBe(primary.CurrentKeyMaterialId);
    const after = await eu.send(new EncryptCommand({ KeyId: primary.KeyId, Plaintext: Buffer.from('after') }));
    const opened = await east.send(new DecryptCommand({ CiphertextBlob: after.CiphertextBlob }));
    expect(Buffer.from(opened.Plaintext!).toString()).toBe('after');
    expect(opened.KeyMaterialId).toBe(eastMeta.CurrentKeyMaterialId);
    expect(Buffer.from((await eu.send(new DecryptCommand({ CiphertextBlob: before.CiphertextBlob }))).Plaintext!).toString()).toBe('before');
    const rotations = (await eu.send(new ListKeyRotationsCommand({ KeyId: primary.KeyId }))).Rotations!;
    expect(rotations).toEqual([expect.objectContaining({ RotationType: 'ON_DEMAND', KeyMaterialId: eastMeta.CurrentKeyMaterialId })]);
    // Rotation belongs to the primary key: a replica refuses it.
    await expectError(eu.send(new RotateKeyOnDemandCommand({ KeyId: primary.KeyId })), 'UnsupportedOperationException');
    await expectError(eu.send(new EnableKeyRotationCommand({ KeyId: primary.KeyId })), 'UnsupportedOperationException');
  });

  it('automatic rotation set on the primary shows in the replicas and rotates them all', async () => {
    const primary = await newPrimary();
    await east.send(new ReplicateKeyCommand({ KeyId: primary.KeyId, ReplicaRegion: 'us-west-2' }));
    await east.send(new EnableKeyRotationCommand({ KeyId: primary.KeyId, RotationPeriodInDays: 90 }));
    expect(await west.send(new GetKeyRotationStatusCommand({ KeyId: primary.KeyId }))).toMatchObject({ KeyRotationEnabled: true, RotationPeriodInDays: 90 });
    await advance(91 * DAY);
    const eastMeta = (await east.send(new DescribeKeyCommand({ KeyId: primary.KeyId }))).KeyMetadata!;
    const westMeta = (await west.send(new DescribeKeyCommand({ KeyId: primary.KeyId }))).KeyMetadata!;
    expect(eastMeta.CurrentKeyMaterialId).not.toBe(primary.CurrentKeyMaterialId);
    expect(westMeta.CurrentKeyMaterialId).toBe(eastMeta.CurrentKeyMaterialId);
    expect((await west.send(new ListKeyRotationsCommand({ KeyId: primary.KeyId }))).Rotations).toHaveLength(1);
  });
});

describe('UpdatePrimaryRegion', () => {
  it('swaps the roles at once; the new primary replicates and rotates, the old one refuses', async () => {
    const primary = await newPrimary();
    await east.send(new ReplicateKeyCommand({ KeyId: primary.KeyId, ReplicaRegion: 'eu-west-1' }));
    await east.send(new UpdatePrimaryRegionCommand({ KeyId: primary.Arn, PrimaryRegion: 'eu-west-1' }));
    const euArn = arnOf(primary.KeyId!, 'eu-west-1');
    for (const client of [east, eu]) {
      const meta = (await client.send(new DescribeKeyCommand({ KeyId: primary.KeyId }))).KeyMetadata!;
      expect(meta.KeyState).toBe('Enabled');
      expect(meta.MultiRegionConfiguration).toMatchObject({
        PrimaryKey: { Arn: euArn, Region: 'eu-west-1' },
        ReplicaKeys: [{ Arn: primary.Arn, Region: 'us-east-1' }],
      });
    }
    expect((await eu.send(new DescribeKeyCommand({ KeyId: primary.KeyId }))).KeyMetadata!.MultiRegionConfiguration!.MultiRegionKeyType).toBe('PRIMARY');
    expect((await east.send(new DescribeKeyCommand({ KeyId: primary.KeyId }))).KeyMetadata!.MultiRegionConfiguration!.MultiRegionKeyType).toBe('REPLICA');
    await expectError(east.send(new ReplicateKeyCommand({ KeyId: primary.KeyId, ReplicaRegion: 'us-west-2' })), 'UnsupportedOperationException');
    await eu.send(new ReplicateKeyCommand({ KeyId: primary.KeyId, ReplicaRegion: 'us-west-2' }));
    await eu.send(new RotateKeyOnDemandCommand({ KeyId: primary.KeyId }));
    const material = (await eu.send(new DescribeKeyCommand({ KeyId: primary.KeyId }))).KeyMetadata!.CurrentKeyMaterialId;
    expect((await west.send(new DescribeKeyCommand({ KeyId: primary.KeyId }))).KeyMetadata!.CurrentKeyMaterialId).toBe(material);
    expect((await east.send(new DescribeKeyCommand({ KeyId: primary.KeyId }))).KeyMetadata!.CurrentKeyMaterialId).toBe(material);
  });

  it("refuses a Region without a replica, the primary's own Region, a replica as KeyId and single-Region keys", async () => {
    const primary = await newPrimary();
    await east.send(new ReplicateKeyCommand({ KeyId: primary.KeyId, ReplicaRegion: 'eu-west-1' }));
    await expectError(east.send(new UpdatePrimaryRegionCommand({ KeyId: primary.KeyId, PrimaryRegion: 'us-west-2' })), 'NotFoundException');
    await expectError(east.send(new UpdatePrimaryRegionCommand({ KeyId: primary.KeyId, PrimaryRegion: 'us-east-1' })), 'ValidationException');
    await expectError(eu.send(new UpdatePrimaryRegionCommand({ KeyId: primary.KeyId, PrimaryRegion: 'us-east-1' })), 'UnsupportedOperationException');
    const single = (await east.send(new CreateKeyCommand({}))).KeyMetadata!;
    await expectError(east.send(new UpdatePrimaryRegionCommand({ KeyId: single.KeyId, PrimaryRegion: 'eu-west-1' })), 'UnsupportedOperationException');
  });
});

describe('deletion', () => {
  it('a replica is deleted like any key; a primary with replicas waits in PendingReplicaDeletion, then its own window runs', async () => {
    const primary = await newPrimary();
    await east.send(new ReplicateKeyCommand({ KeyId: primary.KeyId, ReplicaRegion: 'eu-west-1' }));
    await east.send(new ReplicateKeyCommand({ KeyId: primary.KeyId, ReplicaRegion: 'us-west-2' }));
    const scheduled = await east.send(new ScheduleKeyDeletionCommand({ KeyId: primary.KeyId, PendingWindowInDays: 7 }));
    expect(scheduled).toMatchObject({ KeyId: primary.Arn, KeyState: 'PendingReplicaDeletion', PendingWindowInDays: 7 });
    expect(scheduled.DeletionDate).toBeUndefined();
    const meta = (await east.send(new DescribeKeyCommand({ KeyId: primary.KeyId }))).KeyMetadata!;
    expect(meta).toMatchObject({ KeyState: 'PendingReplicaDeletion', PendingDeletionWindowInDays: 7, Enabled: false });
    expect(meta.DeletionDate).toBeUndefined();
    // It cannot be used or replicated meanwhile; its replicas still work.
    await expectError(
      east.send(new EncryptCommand({ KeyId: primary.KeyId, Plaintext: Buffer.from('x') })),
      'KMSInvalidStateException',
      `${primary.Arn} is pending replica deletion.`,
    );
    await expectError(east.send(new ReplicateKeyCommand({ KeyId: primary.KeyId, ReplicaRegion: 'ap-south-1' })), 'KMSInvalidStateException');
    await eu.send(new EncryptCommand({ KeyId: primary.KeyId, Plaintext: Buffer.from('x') }));
    // It waits as long as replicas remain, whatever the time.
    await advance(40 * DAY);
    expect(await state(east, primary.KeyId!)).toBe('PendingReplicaDeletion');

    const euDeletion = await eu.send(new ScheduleKeyDeletionCommand({ KeyId: primary.KeyId, PendingWindowInDays: 7 }));
    expect(euDeletion).toMatchObject({ KeyState: 'PendingDeletion', KeyId: arnOf(primary.KeyId!, 'eu-west-1') });
    const westDeletion = await west.send(new ScheduleKeyDeletionCommand({ KeyId: primary.KeyId, PendingWindowInDays: 30 }));
    await advance(8 * DAY);
    await expectError(eu.send(new DescribeKeyCommand({ KeyId: primary.KeyId })), 'NotFoundException');
    expect(await state(east, primary.KeyId!)).toBe('PendingReplicaDeletion');
    await advance(23 * DAY);
    await expectError(west.send(new DescribeKeyCommand({ KeyId: primary.KeyId })), 'NotFoundException');
    // The last replica is gone: the primary's 7 days start from that moment.
    const last = (await east.send(new DescribeKeyCommand({ KeyId: primary.KeyId }))).KeyMetadata!;
    expect(last.KeyState).toBe('PendingDeletion');
    expect(last.DeletionDate!.getTime()).toBe(westDeletion.DeletionDate!.getTime() + 7 * DAY * 1000);
    await advance(7 * DAY);
    await expectError(east.send(new DescribeKeyCommand({ KeyId: primary.KeyId })), 'NotFoundException');
  });

  it('CancelKeyDeletion of a primary pending replica deletion leaves it Disabled; a deleted replica can be made again', async () => {
    const primary = await newPrimary();
    await east.send(new ReplicateKeyCommand({ KeyId: primary.KeyId, ReplicaRegion: 'eu-west-1' }));
    await east.send(new ScheduleKeyDeletionCommand({ KeyId: primary.KeyId }));
    await east.send(new CancelKeyDeletionCommand({ KeyId: primary.KeyId }));
    expect(await state(east, primary.KeyId!)).toBe('Disabled');
    await eu.send(new ScheduleKeyDeletionCommand({ KeyId: primary.KeyId, PendingWindowInDays: 7 }));
    // While the replica is pending deletion it still exists in its Region.
    await expectError(east.send(new ReplicateKeyCommand({ KeyId: primary.KeyId, ReplicaRegion: 'eu-west-1' })), 'DisabledException');
    await advance(8 * DAY);
    // The primary (not scheduled any more) is untouched; the material survives the replica.
    expect(await state(east, primary.KeyId!)).toBe('Disabled');
  });

  it('the material outlives a deleted replica: the primary still decrypts, and a new replica too', async () => {
    const primary = await newPrimary();
    await east.send(new ReplicateKeyCommand({ KeyId: primary.KeyId, ReplicaRegion: 'eu-west-1' }));
    const enc = await eu.send(new EncryptCommand({ KeyId: primary.KeyId, Plaintext: Buffer.from('kept') }));
    await eu.send(new ScheduleKeyDeletionCommand({ KeyId: primary.KeyId, PendingWindowInDays: 7 }));
    await advance(8 * DAY);
    expect(Buffer.from((await east.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob }))).Plaintext!).toString()).toBe('kept');
    await east.send(new ReplicateKeyCommand({ KeyId: primary.KeyId, ReplicaRegion: 'eu-west-1' }));
    expect(Buffer.from((await eu.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob }))).Plaintext!).toString()).toBe('kept');
  });
});

describe('condition keys', () => {
  it('kms:ReplicaRegion, kms:PrimaryRegion and kms:MultiRegionKeyType decide as IAM policies say', async () => {
    const deny = (action: string, test: string, key: string, value: string) => ({ Effect: 'Deny', Action: action, Resource: '*', Condition: { [test]: { [key]: value } } });
    const seed = {
      accounts: [
        {
          id: '000000000000',
          users: [
            {
              name: 'ops',
              accessKeyId: 'OPS',
              secretAccessKey: 'ops-secret',
              policies: [
                {
                  Version: '2012-10-17',
                  Statement: [
                    { Effect: 'Allow', Action: 'kms:*', Resource: '*' },
                    deny('kms:ReplicateKey', 'StringNotEquals', 'kms:ReplicaRegion', 'eu-west-1'),
                    deny('kms:UpdatePrimaryRegion', 'StringEquals', 'kms:PrimaryRegion', 'us-west-2'),
                    deny('kms:ScheduleKeyDeletion', 'StringEquals', 'kms:MultiRegionKeyType', 'PRIMARY'),
                  ],
                },
              ],
            },
          ],
        },
      ],
    };
    const dir = mkdtempSync(join(tmpdir(), 'sealbox-mrk-'));
    writeFileSync(join(dir, 'seed.json'), JSON.stringify(seed));
    const box = await startTestSealbox({ only: 'kms', seed: join(dir, 'seed.json') });
    const ops = (region: string) => kmsClient(box, { region, credentials: { accessKeyId: 'OPS', secretAccessKey: 'ops-secret' } });
    const [opsEast, opsWest] = [ops('us-east-1'), ops('us-west-2')];
    try {
      const key = (await opsEast.send(new CreateKeyCommand({ MultiRegion: true }))).KeyMetadata!;
      await opsEast.send(new ReplicateKeyCommand({ KeyId: key.KeyId, ReplicaRegion: 'eu-west-1' }));
      const denied = await expectError(opsEast.send(new ReplicateKeyCommand({ KeyId: key.KeyId, ReplicaRegion: 'us-west-2' })), 'AccessDeniedException');
      expect(denied.message).toBe(`User: arn:aws:iam::000000000000:user/ops is not authorized to perform: kms:ReplicateKey on resource: ${key.Arn} with an explicit deny in an identity-based policy`);
      await expectError(opsEast.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId })), 'AccessDeniedException');
      const root = kmsClient(box);
      await root.send(new ReplicateKeyCommand({ KeyId: key.KeyId, ReplicaRegion: 'us-west-2' }));
      root.destroy();
      await expectError(opsEast.send(new UpdatePrimaryRegionCommand({ KeyId: key.KeyId, PrimaryRegion: 'us-west-2' })), 'AccessDeniedException');
      await opsEast.send(new UpdatePrimaryRegionCommand({ KeyId: key.KeyId, PrimaryRegion: 'eu-west-1' }));
      // us-east-1's key is a replica now: its deletion is allowed.
      expect((await opsEast.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId }))).KeyState).toBe('PendingDeletion');
      await opsWest.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId }));
    } finally {
      opsEast.destroy();
      opsWest.destroy();
      await box.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('persistence', () => {
  it('a multi-Region key set and its shared material survive a restart', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sealbox-mrk-data-'));
    let keyId: string;
    let blob: Uint8Array;
    try {
      const first = await startTestSealbox({ only: 'kms', dataDir });
      const a = kmsClient(first);
      keyId = (await a.send(new CreateKeyCommand({ MultiRegion: true }))).KeyMetadata!.KeyId!;
      await a.send(new ReplicateKeyCommand({ KeyId: keyId, ReplicaRegion: 'eu-west-1' }));
      blob = (await a.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('durable') }))).CiphertextBlob!;
      a.destroy();
      await first.stop();

      const second = await startTestSealbox({ only: 'kms', dataDir });
      const b = kmsClient(second, { region: 'eu-west-1' });
      const meta = (await b.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata!;
      expect(meta.MultiRegionConfiguration).toMatchObject({ MultiRegionKeyType: 'REPLICA', PrimaryKey: { Region: 'us-east-1' } });
      expect(Buffer.from((await b.send(new DecryptCommand({ CiphertextBlob: blob }))).Plaintext!).toString()).toBe('durable');
      b.destroy();
      await second.stop();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('the event log', () => {
  it("ReplicateKey is recorded in the primary's Region with the replica's metadata, and a CreateKey in the replica's", async () => {
    const primary = await newPrimary();
    await east.send(new ReplicateKeyCommand({ KeyId: primary.KeyId, ReplicaRegion: 'ap-northeast-1' }));
    const lookup = async (region: string, eventName: string) => {
      const res = await runCommand(
        'aws',
        ['cloudtrail', 'lookup-events', '--no-paginate', '--endpoint-url', sealbox.kms!.url, '--lookup-attributes', `AttributeKey=EventName,AttributeValue=${eventName}`],
        { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_DEFAULT_REGION: region },
      );
      expect(res.stderr).toBe('');
      const events = (JSON.parse(res.stdout) as { Events: { CloudTrailEvent: string }[] }).Events;
      return events.map((e) => JSON.parse(e.CloudTrailEvent) as Record<string, unknown>);
    };
    const replicate = (await lookup('us-east-1', 'ReplicateKey')).find((r) => JSON.stringify(r).includes(primary.KeyId!))!;
    expect(replicate).toMatchObject({
      awsRegion: 'us-east-1',
      requestParameters: { keyId: primary.KeyId, replicaRegion: 'ap-northeast-1' },
      responseElements: {
        replicaKeyMetadata: {
          aWSAccountId: '000000000000',
          arn: arnOf(primary.KeyId!, 'ap-northeast-1'),
          creationDate: expect.stringMatching(/^[A-Z][a-z]{2} \d{1,2}, \d{4}, \d{1,2}:\d{2}:\d{2} [AP]M$/),
          multiRegionConfiguration: { multiRegionKeyType: 'REPLICA', primaryKey: { arn: primary.Arn, region: 'us-east-1' } },
        },
      },
      resources: [{ ARN: primary.Arn }],
    });
    const created = await lookup('ap-northeast-1', 'CreateKey');
    expect(created).toContainEqual(expect.objectContaining({ awsRegion: 'ap-northeast-1', eventName: 'CreateKey', resources: [expect.objectContaining({ ARN: arnOf(primary.KeyId!, 'ap-northeast-1') })] }));
  });
});
