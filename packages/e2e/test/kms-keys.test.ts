/** KMS core through @aws-sdk/client-kms: keys, identifiers, the state machine, crypto, aliases, tags, rotation. */
import {
  CancelKeyDeletionCommand,
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  DeleteAliasCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  DisableKeyRotationCommand,
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
  ListKeyPoliciesCommand,
  ListKeyRotationsCommand,
  ListKeysCommand,
  ListResourceTagsCommand,
  PutKeyPolicyCommand,
  ReEncryptCommand,
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
const DAY = 86400;

beforeAll(async () => {
  sealbox = await startTestSealbox({
    only: 'kms',
    users: [{ accessKeyId: 'AKIDOTHER', secretAccessKey: 'other', accountId: '111111111111', principalArn: 'arn:aws:iam::111111111111:root' }],
  });
  kms = kmsClient(sealbox);
});
afterAll(async () => {
  kms.destroy();
  await sealbox.stop();
});

const newKey = async (description?: string) => (await kms.send(new CreateKeyCommand({ Description: description }))).KeyMetadata!;
const arnOf = (id: string, region = 'us-east-1', account = '000000000000') => `arn:aws:kms:${region}:${account}:key/${id}`;
async function expectError(promise: Promise<unknown>, name: string, message?: string) {
  const err = await failure(promise);
  expect({ name: err.name, status: err.$metadata?.httpStatusCode }).toEqual({ name, status: 400 });
  if (message !== undefined) expect(err.message).toBe(message);
  return err;
}

describe('CreateKey and DescribeKey', () => {
  it('creates a symmetric key with the metadata AWS returns', async () => {
    const before = Date.now();
    const meta = await newKey('my key');
    expect(meta).toEqual({
      AWSAccountId: '000000000000',
      KeyId: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
      Arn: arnOf(meta.KeyId!),
      CreationDate: expect.any(Date),
      Enabled: true,
      Description: 'my key',
      KeyUsage: 'ENCRYPT_DECRYPT',
      KeyState: 'Enabled',
      Origin: 'AWS_KMS',
      KeyManager: 'CUSTOMER',
      CustomerMasterKeySpec: 'SYMMETRIC_DEFAULT',
      KeySpec: 'SYMMETRIC_DEFAULT',
      EncryptionAlgorithms: ['SYMMETRIC_DEFAULT'],
      MultiRegion: false,
      CurrentKeyMaterialId: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(meta.CreationDate!.getTime()).toBeGreaterThanOrEqual(before - 1000);
  });

  it('DescribeKey accepts key id, key ARN, alias name and alias ARN', async () => {
    const meta = await newKey();
    await kms.send(new CreateAliasCommand({ AliasName: 'alias/describe-me', TargetKeyId: meta.KeyId }));
    for (const id of [meta.KeyId!, meta.Arn!, 'alias/describe-me', 'arn:aws:kms:us-east-1:000000000000:alias/describe-me']) {
      expect((await kms.send(new DescribeKeyCommand({ KeyId: id }))).KeyMetadata!.KeyId).toBe(meta.KeyId);
    }
  });

  it('refuses bad usage, and a custom key store origin without a store, clearly', async () => {
    await expectError(kms.send(new CreateKeyCommand({ KeyUsage: 'SIGN_VERIFY' })), 'ValidationException', 'KeyUsage SIGN_VERIFY is not compatible with KeySpec SYMMETRIC_DEFAULT');
    await expectError(kms.send(new CreateKeyCommand({ KeySpec: 'RSA_2048' })), 'ValidationException', 'You must specify a KeyUsage value for all KMS keys except for symmetric encryption keys.');
    await expectError(kms.send(new CreateKeyCommand({ Origin: 'AWS_CLOUDHSM' })), 'ValidationException', 'Origin AWS_CLOUDHSM requires a CustomKeyStoreId.');
    // AWS lists the enum's values in the model's order.
    await expectError(
      kms.send(new CreateKeyCommand({ KeySpec: 'AES_512' as never })),
      'ValidationException',
      "1 validation error detected: Value 'AES_512' at 'keySpec' failed to satisfy constraint: Member must satisfy enum value set: " +
        '[RSA_2048, RSA_3072, RSA_4096, ECC_NIST_P256, ECC_NIST_P384, ECC_NIST_P521, ECC_SECG_P256K1, SYMMETRIC_DEFAULT, HMAC_224, HMAC_256, HMAC_384, HMAC_512, SM2, ML_DSA_44, ML_DSA_65, ML_DSA_87, ECC_NIST_EDWARDS25519]',
    );
  });

  it('validates the description length against the model', async () => {
    await expectError(
      kms.send(new CreateKeyCommand({ Description: 'x'.repeat(8193) })),
      'ValidationException',
      `1 validation error detected: Value '${'x'.repeat(8193)}' at 'description' failed to satisfy constraint: Member must have length less than or equal to 8192`,
    );
  });
});

describe('key identifiers, as AWS accepts and words them', () => {
  it('a malformed key id', async () => {
    await expectError(kms.send(new DescribeKeyCommand({ KeyId: 'not-a-key' })), 'NotFoundException', "Invalid keyId 'not-a-key'");
  });

  it('a well-formed id that does not exist is quoted as a full ARN', async () => {
    const id = '1234abcd-12ab-34cd-56ef-1234567890ab';
    await expectError(kms.send(new EncryptCommand({ KeyId: id, Plaintext: Buffer.from('x') })), 'NotFoundException', `Key '${arnOf(id)}' does not exist`);
  });

  it("another region's ARN", async () => {
    const meta = await newKey();
    await expectError(kms.send(new DescribeKeyCommand({ KeyId: meta.Arn!.replace('us-east-1', 'us-west-2') })), 'NotFoundException', 'Invalid arn us-west-2');
  });

  it('a missing alias', async () => {
    await expectError(kms.send(new DescribeKeyCommand({ KeyId: 'alias/nope' })), 'NotFoundException', 'Alias arn:aws:kms:us-east-1:000000000000:alias/nope is not found.');
  });

  it('an alias where only keys are accepted', async () => {
    await expectError(kms.send(new DisableKeyCommand({ KeyId: 'alias/anything' })), 'InvalidArnException', 'Key Aliases are not supported for this operation.');
  });

  it('keys belong to the account and region that created them', async () => {
    const meta = await newKey();
    const west = kmsClient(sealbox, { region: 'eu-west-1' });
    const other = kmsClient(sealbox, { credentials: { accessKeyId: 'AKIDOTHER', secretAccessKey: 'other' } });
    try {
      await expectError(west.send(new DescribeKeyCommand({ KeyId: meta.KeyId })), 'NotFoundException', `Key '${arnOf(meta.KeyId!, 'eu-west-1')}' does not exist`);
      await expectError(other.send(new DescribeKeyCommand({ KeyId: meta.KeyId })), 'NotFoundException', `Key '${arnOf(meta.KeyId!, 'us-east-1', '111111111111')}' does not exist`);
      const westKey = (await west.send(new CreateKeyCommand({}))).KeyMetadata!;
      expect(westKey.Arn).toBe(arnOf(westKey.KeyId!, 'eu-west-1'));
      const ids = (await other.send(new ListKeysCommand({}))).Keys!.map((k) => k.KeyId);
      expect(ids).not.toContain(meta.KeyId);
    } finally {
      west.destroy();
      other.destroy();
    }
  });
});

describe('Encrypt, Decrypt, ReEncrypt, GenerateDataKey', () => {
  let keyId: string;
  beforeAll(async () => {
    keyId = (await newKey()).KeyId!;
  });

  it('round-trips, and Decrypt finds the key without KeyId', async () => {
    const enc = await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('hello'), EncryptionContext: { purpose: 'test' } }));
    expect(enc.KeyId).toBe(arnOf(keyId));
    expect(enc.EncryptionAlgorithm).toBe('SYMMETRIC_DEFAULT');
    const dec = await kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { purpose: 'test' } }));
    expect(Buffer.from(dec.Plaintext!).toString()).toBe('hello');
    expect(dec.KeyId).toBe(arnOf(keyId));
    expect(dec.KeyMaterialId).toMatch(/^[0-9a-f]{64}$/);
  });

  it('ciphertext is opaque and sized like AWS: 32 bytes -> 184 bytes starting 01 02 02 00 78', async () => {
    const { CiphertextBlob, Plaintext } = await kms.send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256' }));
    expect(Plaintext).toHaveLength(32);
    const blob = Buffer.from(CiphertextBlob!);
    expect(blob).toHaveLength(184);
    expect([...blob.subarray(0, 5)]).toEqual([0x01, 0x02, 0x02, 0x00, 0x78]);
    expect(blob.includes(Buffer.from(keyId))).toBe(false);
    expect(blob.includes(Buffer.from(keyId.replace(/-/g, ''), 'hex'))).toBe(false);
  });

  it('a KeyId naming another key is IncorrectKeyException', async () => {
    const other = await newKey();
    const enc = await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('x') }));
    await expectError(
      kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, KeyId: other.KeyId })),
      'IncorrectKeyException',
      'The key ID in the request does not identify a CMK that can perform this operation.',
    );
  });

  it('a tampered blob or another context is InvalidCiphertextException with no message', async () => {
    const enc = await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('secret'), EncryptionContext: { ab: 'c' } }));
    const blob = Buffer.from(enc.CiphertextBlob!);
    for (const i of [5, 40, 70, 90, 140, blob.length - 1]) {
      const tampered = Buffer.from(blob);
      tampered[i] = tampered[i]! ^ 1;
      // No message at all: the SDK then reports its placeholder, UnknownError.
      await expectError(kms.send(new DecryptCommand({ CiphertextBlob: tampered, EncryptionContext: { ab: 'c' } })), 'InvalidCiphertextException', 'UnknownError');
    }
    for (const ec of [{ a: 'bc' }, { ab: 'C' }, {}, { ab: 'c', x: 'y' }] as Record<string, string>[]) {
      await expectError(kms.send(new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: ec })), 'InvalidCiphertextException', 'UnknownError');
    }
  });

  it('ReEncrypt moves a ciphertext to another key and context', async () => {
    const target = await newKey();
    const enc = await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('move me'), EncryptionContext: { a: '1' } }));
    const re = await kms.send(
      new ReEncryptCommand({ CiphertextBlob: enc.CiphertextBlob, SourceEncryptionContext: { a: '1' }, DestinationKeyId: target.KeyId, DestinationEncryptionContext: { b: '2' } }),
    );
    expect(re.SourceKeyId).toBe(arnOf(keyId));
    expect(re.KeyId).toBe(target.Arn);
    const dec = await kms.send(new DecryptCommand({ CiphertextBlob: re.CiphertextBlob, EncryptionContext: { b: '2' } }));
    expect(Buffer.from(dec.Plaintext!).toString()).toBe('move me');
    expect(dec.KeyId).toBe(target.Arn);
  });

  it('GenerateDataKey: exactly one of NumberOfBytes and KeySpec', async () => {
    expect((await kms.send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_128' }))).Plaintext).toHaveLength(16);
    expect((await kms.send(new GenerateDataKeyCommand({ KeyId: keyId, NumberOfBytes: 7 }))).Plaintext).toHaveLength(7);
    await expectError(kms.send(new GenerateDataKeyCommand({ KeyId: keyId })), 'ValidationException', 'Please specify either number of bytes or key spec.');
    await expectError(kms.send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256', NumberOfBytes: 32 })), 'ValidationException', 'Please specify either number of bytes or key spec.');
    await expectError(
      kms.send(new GenerateDataKeyCommand({ KeyId: keyId, NumberOfBytes: 1025 })),
      'ValidationException',
      "1 validation error detected: Value '1025' at 'numberOfBytes' failed to satisfy constraint: Member must have value less than or equal to 1024",
    );
    const without = await kms.send(new GenerateDataKeyWithoutPlaintextCommand({ KeyId: keyId, KeySpec: 'AES_256' }));
    expect(without).not.toHaveProperty('Plaintext');
    expect(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob: without.CiphertextBlob }))).Plaintext!)).toHaveLength(32);
  });

  it('DryRun answers DryRunOperationException and changes nothing', async () => {
    await expectError(
      kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('x'), DryRun: true })),
      'DryRunOperationException',
      'The request would have succeeded, but the DryRun option is set.',
    );
  });

  it('plaintext of 1 to 4096 bytes', async () => {
    await expect(kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.alloc(4096, 1) }))).resolves.toHaveProperty('CiphertextBlob');
    await expectError(
      kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.alloc(4097, 1) })),
      'ValidationException',
      "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: Member must have length less than or equal to 4096",
    );
  });
});

describe('the key state machine', () => {
  it('Disabled keys refuse cryptography until enabled again', async () => {
    const meta = await newKey();
    await kms.send(new DisableKeyCommand({ KeyId: meta.KeyId }));
    expect((await kms.send(new DescribeKeyCommand({ KeyId: meta.KeyId }))).KeyMetadata).toMatchObject({ KeyState: 'Disabled', Enabled: false });
    await expectError(kms.send(new EncryptCommand({ KeyId: meta.KeyId, Plaintext: Buffer.from('x') })), 'DisabledException', `${meta.Arn} is disabled.`);
    await kms.send(new EnableKeyCommand({ KeyId: meta.KeyId }));
    await expect(kms.send(new EncryptCommand({ KeyId: meta.KeyId, Plaintext: Buffer.from('x') }))).resolves.toHaveProperty('CiphertextBlob');
  });

  it('deletion: 7 to 30 days, cancel leaves the key Disabled, the clock deletes it and its aliases', async () => {
    const meta = await newKey();
    await kms.send(new CreateAliasCommand({ AliasName: 'alias/doomed', TargetKeyId: meta.KeyId }));
    await expectError(kms.send(new ScheduleKeyDeletionCommand({ KeyId: meta.KeyId, PendingWindowInDays: 6 })), 'ValidationException', 'PendingWindowInDays must be between 7 and 30');
    const scheduled = await kms.send(new ScheduleKeyDeletionCommand({ KeyId: meta.KeyId }));
    expect(scheduled).toMatchObject({ KeyId: meta.Arn, KeyState: 'PendingDeletion', PendingWindowInDays: 30 });
    expect(scheduled.DeletionDate!.getTime() - Date.now()).toBeGreaterThan(29.9 * DAY * 1000);
    await expectError(kms.send(new EncryptCommand({ KeyId: meta.KeyId, Plaintext: Buffer.from('x') })), 'KMSInvalidStateException', `${meta.Arn} is pending deletion.`);
    await expectError(kms.send(new ScheduleKeyDeletionCommand({ KeyId: meta.KeyId })), 'KMSInvalidStateException', `${meta.Arn} is pending deletion.`);

    expect(await kms.send(new CancelKeyDeletionCommand({ KeyId: meta.KeyId }))).toMatchObject({ KeyId: meta.Arn });
    expect((await kms.send(new DescribeKeyCommand({ KeyId: meta.KeyId }))).KeyMetadata!.KeyState).toBe('Disabled');
    await expectError(kms.send(new CancelKeyDeletionCommand({ KeyId: meta.KeyId })), 'KMSInvalidStateException', `${meta.Arn} is not pending deletion.`);

    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: meta.KeyId, PendingWindowInDays: 7 }));
    await sealbox.clock.advance(7 * DAY - 60);
    expect((await kms.send(new DescribeKeyCommand({ KeyId: meta.KeyId }))).KeyMetadata!.KeyState).toBe('PendingDeletion');
    await sealbox.clock.advance(61);
    await expectError(kms.send(new DescribeKeyCommand({ KeyId: meta.KeyId })), 'NotFoundException', `Key '${meta.Arn}' does not exist`);
    await expectError(kms.send(new DescribeKeyCommand({ KeyId: 'alias/doomed' })), 'NotFoundException');
  });

  it('management calls on a key pending deletion fail; reads still work', async () => {
    const meta = await newKey();
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: meta.KeyId, PendingWindowInDays: 30 }));
    await expectError(kms.send(new UpdateKeyDescriptionCommand({ KeyId: meta.KeyId, Description: 'd' })), 'KMSInvalidStateException');
    await expectError(kms.send(new TagResourceCommand({ KeyId: meta.KeyId, Tags: [{ TagKey: 'a', TagValue: 'b' }] })), 'KMSInvalidStateException');
    await expect(kms.send(new GetKeyPolicyCommand({ KeyId: meta.KeyId }))).resolves.toHaveProperty('Policy');
    await expect(kms.send(new ListResourceTagsCommand({ KeyId: meta.KeyId }))).resolves.toHaveProperty('Tags');
  });
});

describe('aliases', () => {
  it('create, duplicate, update, list and delete', async () => {
    const a = await newKey();
    const b = await newKey();
    await kms.send(new CreateAliasCommand({ AliasName: 'alias/app', TargetKeyId: a.KeyId }));
    await expectError(
      kms.send(new CreateAliasCommand({ AliasName: 'alias/app', TargetKeyId: b.KeyId })),
      'AlreadyExistsException',
      'An alias with the name arn:aws:kms:us-east-1:000000000000:alias/app already exists',
    );
    await kms.send(new UpdateAliasCommand({ AliasName: 'alias/app', TargetKeyId: b.Arn }));
    expect((await kms.send(new DescribeKeyCommand({ KeyId: 'alias/app' }))).KeyMetadata!.KeyId).toBe(b.KeyId);
    const listed = (await kms.send(new ListAliasesCommand({ KeyId: b.KeyId }))).Aliases!;
    expect(listed).toEqual([
      { AliasName: 'alias/app', AliasArn: 'arn:aws:kms:us-east-1:000000000000:alias/app', TargetKeyId: b.KeyId, CreationDate: expect.any(Date), LastUpdatedDate: expect.any(Date) },
    ]);
    await kms.send(new DeleteAliasCommand({ AliasName: 'alias/app' }));
    await expectError(kms.send(new DeleteAliasCommand({ AliasName: 'alias/app' })), 'NotFoundException', 'Alias arn:aws:kms:us-east-1:000000000000:alias/app is not found.');
  });

  it('names: the alias/ prefix is required and alias/aws/ is reserved', async () => {
    const a = await newKey();
    await expectError(
      kms.send(new CreateAliasCommand({ AliasName: 'app', TargetKeyId: a.KeyId })),
      'ValidationException',
      'Alias must start with the prefix "alias/". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html',
    );
    await expectError(kms.send(new CreateAliasCommand({ AliasName: 'alias/aws/mine', TargetKeyId: a.KeyId })), 'NotAuthorizedException');
    await expectError(
      kms.send(new CreateAliasCommand({ AliasName: 'alias/bad name', TargetKeyId: a.KeyId })),
      'ValidationException',
      "1 validation error detected: Value 'alias/bad name' at 'aliasName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$",
    );
  });

  it('ListAliases pages with Limit and Marker and shows predefined AWS aliases', async () => {
    const k = await newKey();
    for (const n of ['p1', 'p2', 'p3']) await kms.send(new CreateAliasCommand({ AliasName: `alias/page-${n}`, TargetKeyId: k.KeyId }));
    const names: string[] = [];
    let marker: string | undefined;
    do {
      const out = await kms.send(new ListAliasesCommand({ Limit: 2, Marker: marker }));
      expect(out.Aliases!.length).toBeLessThanOrEqual(2);
      names.push(...out.Aliases!.map((a) => a.AliasName!));
      marker = out.NextMarker;
      expect(out.Truncated).toBe(marker !== undefined);
    } while (marker);
    expect(names).toEqual([...names].sort());
    expect(names).toEqual(expect.arrayContaining(['alias/page-p1', 'alias/page-p2', 'alias/page-p3', 'alias/aws/s3']));
    await expectError(kms.send(new ListAliasesCommand({ Marker: 'garbage' })), 'InvalidMarkerException');
  });
});

describe('tags', () => {
  it('tag, list, untag; reserved prefix, duplicates and the 50-tag limit', async () => {
    const meta = await newKey();
    await kms.send(new TagResourceCommand({ KeyId: meta.KeyId, Tags: [{ TagKey: 'team', TagValue: 'a' }, { TagKey: 'env', TagValue: '' }] }));
    await kms.send(new TagResourceCommand({ KeyId: meta.KeyId, Tags: [{ TagKey: 'team', TagValue: 'b' }] }));
    expect((await kms.send(new ListResourceTagsCommand({ KeyId: meta.KeyId }))).Tags).toEqual([
      { TagKey: 'env', TagValue: '' },
      { TagKey: 'team', TagValue: 'b' },
    ]);
    await kms.send(new UntagResourceCommand({ KeyId: meta.KeyId, TagKeys: ['team', 'absent'] }));
    expect((await kms.send(new ListResourceTagsCommand({ KeyId: meta.KeyId }))).Tags).toEqual([{ TagKey: 'env', TagValue: '' }]);
    await expectError(kms.send(new TagResourceCommand({ KeyId: meta.KeyId, Tags: [{ TagKey: 'AWS:x', TagValue: 'v' }] })), 'TagException', 'Tags beginning with aws: are reserved');
    await expectError(
      kms.send(new TagResourceCommand({ KeyId: meta.KeyId, Tags: [{ TagKey: 'd', TagValue: '1' }, { TagKey: 'd', TagValue: '2' }] })),
      'TagException',
      'Duplicate tag keys',
    );
    const many = Array.from({ length: 50 }, (_, i) => ({ TagKey: `k${i}`, TagValue: 'v' }));
    await expectError(kms.send(new TagResourceCommand({ KeyId: meta.KeyId, Tags: many })), 'TagException', 'Too many tags');
    await expectError(
      kms.send(new TagResourceCommand({ KeyId: meta.KeyId, Tags: [{ TagKey: 'k'.repeat(129), TagValue: 'v' }] })),
      'ValidationException',
      `1 validation error detected: Value '${'k'.repeat(129)}' at 'tags.1.member.tagKey' failed to satisfy constraint: Member must have length less than or equal to 128`,
    );
  });
});

describe('rotation', () => {
  it('automatic rotation when the clock passes NextRotationDate; old ciphertexts still decrypt', async () => {
    const meta = await newKey();
    const before = await kms.send(new EncryptCommand({ KeyId: meta.KeyId, Plaintext: Buffer.from('old') }));
    await expectError(
      kms.send(new EnableKeyRotationCommand({ KeyId: meta.KeyId, RotationPeriodInDays: 89 })),
      'ValidationException',
      "1 validation error detected: Value '89' at 'rotationPeriodInDays' failed to satisfy constraint: Member must have value greater than or equal to 90",
    );
    await kms.send(new EnableKeyRotationCommand({ KeyId: meta.KeyId, RotationPeriodInDays: 90 }));
    const status = await kms.send(new GetKeyRotationStatusCommand({ KeyId: meta.KeyId }));
    expect(status).toMatchObject({ KeyRotationEnabled: true, RotationPeriodInDays: 90 });
    expect(status.NextRotationDate!.getTime() - sealbox.clock.now().getTime()).toBeGreaterThan(89.9 * DAY * 1000);
    expect((await kms.send(new ListKeyRotationsCommand({ KeyId: meta.KeyId }))).Rotations).toEqual([]);

    await sealbox.clock.advance(91 * DAY);
    const rotations = (await kms.send(new ListKeyRotationsCommand({ KeyId: meta.KeyId }))).Rotations!;
    expect(rotations).toEqual([
      { KeyId: meta.KeyId, KeyMaterialId: expect.stringMatching(/^[0-9a-f]{64}$/), KeyMaterialState: 'CURRENT', RotationDate: expect.any(Date), RotationType: 'AUTOMATIC' },
    ]);
    const now = (await kms.send(new DescribeKeyCommand({ KeyId: meta.KeyId }))).KeyMetadata!;
    expect(now.CurrentKeyMaterialId).toBe(rotations[0]!.KeyMaterialId);
    expect(now.CurrentKeyMaterialId).not.toBe(meta.CurrentKeyMaterialId);

    const old = await kms.send(new DecryptCommand({ CiphertextBlob: before.CiphertextBlob }));
    expect(Buffer.from(old.Plaintext!).toString()).toBe('old');
    expect(old.KeyMaterialId).toBe(meta.CurrentKeyMaterialId);
    const after = await kms.send(new EncryptCommand({ KeyId: meta.KeyId, Plaintext: Buffer.from('new') }));
    expect((await kms.send(new DecryptCommand({ CiphertextBlob: after.CiphertextBlob }))).KeyMaterialId).toBe(now.CurrentKeyMaterialId);

    const all = (await kms.send(new ListKeyRotationsCommand({ KeyId: meta.KeyId, IncludeKeyMaterial: 'ALL_KEY_MATERIAL' }))).Rotations!;
    expect(all.map((r) => r.KeyMaterialState)).toEqual(['NON_CURRENT', 'CURRENT']);
    await kms.send(new DisableKeyRotationCommand({ KeyId: meta.KeyId }));
    expect(await kms.send(new GetKeyRotationStatusCommand({ KeyId: meta.KeyId }))).toMatchObject({ KeyRotationEnabled: false });
  });

  it('the on-demand limit is configurable', async () => {
    const limited = await startTestSealbox({ only: 'kms', onDemandRotationLimit: 1 });
    const client = kmsClient(limited);
    try {
      const { KeyId } = (await client.send(new CreateKeyCommand({}))).KeyMetadata!;
      await client.send(new RotateKeyOnDemandCommand({ KeyId }));
      await expectError(client.send(new RotateKeyOnDemandCommand({ KeyId })), 'LimitExceededException');
    } finally {
      client.destroy();
      await limited.stop();
    }
  });

  it('RotateKeyOnDemand: new material at once, at most 10 times per key', async () => {
    const meta = await newKey();
    for (let i = 0; i < 10; i++) expect((await kms.send(new RotateKeyOnDemandCommand({ KeyId: meta.KeyId }))).KeyId).toBe(meta.KeyId);
    await expectError(
      kms.send(new RotateKeyOnDemandCommand({ KeyId: meta.KeyId })),
      'LimitExceededException',
      `The on-demand rotations limit has been reached for the given keyId. No more on-demand rotations can be performed for this key: ${meta.Arn}`,
    );
    const first = await kms.send(new ListKeyRotationsCommand({ KeyId: meta.KeyId, Limit: 4 }));
    expect(first.Rotations).toHaveLength(4);
    expect(first.Truncated).toBe(true);
    expect(first.Rotations!.every((r) => r.RotationType === 'ON_DEMAND')).toBe(true);
    const rest = await kms.send(new ListKeyRotationsCommand({ KeyId: meta.KeyId, Marker: first.NextMarker, Limit: 100 }));
    expect(rest.Rotations).toHaveLength(6);
    expect(rest.Truncated).toBe(false);
  });

  it('rotation needs an enabled key', async () => {
    const meta = await newKey();
    await kms.send(new DisableKeyCommand({ KeyId: meta.KeyId }));
    await expectError(kms.send(new EnableKeyRotationCommand({ KeyId: meta.KeyId })), 'DisabledException', `${meta.Arn} is disabled.`);
    await expectError(kms.send(new RotateKeyOnDemandCommand({ KeyId: meta.KeyId })), 'DisabledException', `${meta.Arn} is disabled.`);
  });
});

describe('ListKeys', () => {
  it('pages with Limit, Marker, NextMarker and Truncated', async () => {
    const region = kmsClient(sealbox, { region: 'ap-south-1' });
    try {
      const created = [];
      for (let i = 0; i < 5; i++) created.push((await region.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!);
      const seen: string[] = [];
      let marker: string | undefined;
      do {
        const out = await region.send(new ListKeysCommand({ Limit: 2, Marker: marker }));
        seen.push(...out.Keys!.map((k) => k.KeyId!));
        for (const k of out.Keys!) expect(k.KeyArn).toBe(arnOf(k.KeyId!, 'ap-south-1'));
        marker = out.NextMarker;
      } while (marker);
      expect(seen.sort()).toEqual(created.sort());
      await expectError(region.send(new ListKeysCommand({ Limit: 1001 })), 'ValidationException');
    } finally {
      region.destroy();
    }
  });
});

describe('key policies', () => {
  it('every key gets the default policy, exactly as AWS prints it', async () => {
    const meta = await newKey();
    const out = await kms.send(new GetKeyPolicyCommand({ KeyId: meta.KeyId }));
    expect(out.PolicyName).toBe('default');
    expect(out.Policy).toBe(
      '{\n  "Version" : "2012-10-17",\n  "Id" : "key-default-1",\n  "Statement" : [ {\n    "Sid" : "Enable IAM User Permissions",\n    "Effect" : "Allow",\n    "Principal" : {\n      "AWS" : "arn:aws:iam::000000000000:root"\n    },\n    "Action" : "kms:*",\n    "Resource" : "*"\n  } ]\n}',
    );
    expect((await kms.send(new ListKeyPoliciesCommand({ KeyId: meta.KeyId }))).PolicyNames).toEqual(['default']);
  });

  it('PutKeyPolicy stores a policy verbatim and refuses malformed ones', async () => {
    const meta = await newKey();
    const policy = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::000000000000:root' }, Action: 'kms:*', Resource: '*' }] });
    await kms.send(new PutKeyPolicyCommand({ KeyId: meta.KeyId, Policy: policy }));
    expect((await kms.send(new GetKeyPolicyCommand({ KeyId: meta.KeyId }))).Policy).toBe(policy);
    await expectError(kms.send(new PutKeyPolicyCommand({ KeyId: meta.KeyId, Policy: '{not json' })), 'MalformedPolicyDocumentException');
  });
});

describe('AWS managed keys', () => {
  it('alias/aws/s3 is created on first use, managed by AWS, rotated yearly, and cannot be changed', async () => {
    const meta = (await kms.send(new DescribeKeyCommand({ KeyId: 'alias/aws/s3' }))).KeyMetadata!;
    expect(meta).toMatchObject({ KeyManager: 'AWS', KeyState: 'Enabled', Description: 'Default key that protects my S3 objects when no other key is defined' });
    expect((await kms.send(new DescribeKeyCommand({ KeyId: 'alias/aws/s3' }))).KeyMetadata!.KeyId).toBe(meta.KeyId);
    expect(await kms.send(new GetKeyRotationStatusCommand({ KeyId: meta.KeyId }))).toMatchObject({ KeyRotationEnabled: true, RotationPeriodInDays: 365 });
    const policy = JSON.parse((await kms.send(new GetKeyPolicyCommand({ KeyId: meta.KeyId }))).Policy!) as { Id: string };
    expect(policy.Id).toBe('auto-s3-2');
    for (const command of [
      new DisableKeyCommand({ KeyId: meta.KeyId }),
      new ScheduleKeyDeletionCommand({ KeyId: meta.KeyId }),
      new RotateKeyOnDemandCommand({ KeyId: meta.KeyId }),
      new PutKeyPolicyCommand({ KeyId: meta.KeyId, Policy: '{"Statement":[]}' }),
    ]) {
      const err = await failure(kms.send(command as never));
      expect(err.name).toBe('AccessDeniedException');
      expect(err.message).toMatch(/^User: arn:aws:iam::000000000000:root is not authorized to perform: kms:\w+ on resource: arn:aws:kms:us-east-1:000000000000:key\/[0-9a-f-]+ because no resource-based policy allows the kms:\w+ action$/);
    }
    await expectError(kms.send(new UpdateAliasCommand({ AliasName: 'alias/aws/s3', TargetKeyId: (await newKey()).KeyId })), 'NotAuthorizedException');
  });
});

describe('GetKeyLastUsage', () => {
  it('reports the last successful cryptographic operation', async () => {
    const meta = await newKey();
    expect(await kms.send(new GetKeyLastUsageCommand({ KeyId: meta.KeyId }))).not.toHaveProperty('KeyLastUsage');
    const enc = await kms.send(new EncryptCommand({ KeyId: meta.KeyId, Plaintext: Buffer.from('x') }));
    await failure(kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { wrong: 'ctx' } })));
    const usage = await kms.send(new GetKeyLastUsageCommand({ KeyId: meta.KeyId }));
    expect(usage.KeyLastUsage).toMatchObject({ Operation: 'Encrypt', CloudTrailEventId: expect.stringMatching(/^[0-9a-f-]{36}$/), KmsRequestId: enc.$metadata.requestId });
    expect(usage.KeyCreationDate).toEqual(meta.CreationDate);
  });
});
