/**
 * KMS state on disk: keys, aliases, rotations and the event log survive a restart; material is
 * wrapped at rest; the event log is readable with `aws cloudtrail lookup-events`; and the AWS
 * Encryption SDK works against Sealbox.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KmsKeyringNode, buildClient, CommitmentPolicy } from '@aws-crypto/client-node';
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  EnableKeyRotationCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  ListKeyRotationsCommand,
  KMS,
  RotateKeyOnDemandCommand,
  ScheduleKeyDeletionCommand,
} from '@aws-sdk/client-kms';
import type { Sealbox } from '@sealbox/cli';
import { failure, kmsClient, runCommand, startTestSealbox } from './helpers';

describe('persistence across a restart', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sealbox-kms-'));
  let keyId: string;
  let ciphertext: Uint8Array;
  let dataKey: Buffer;
  let rotationCount: number;

  it('writes keys, aliases, rotations and events, with material wrapped at rest', async () => {
    const sealbox = await startTestSealbox({ only: 'kms', dataDir });
    const kms = kmsClient(sealbox);
    try {
      keyId = (await kms.send(new CreateKeyCommand({ Description: 'persistent' }))).KeyMetadata!.KeyId!;
      await kms.send(new CreateAliasCommand({ AliasName: 'alias/persistent', TargetKeyId: keyId }));
      ciphertext = (await kms.send(new EncryptCommand({ KeyId: 'alias/persistent', Plaintext: Buffer.from('kept'), EncryptionContext: { k: 'v' } }))).CiphertextBlob!;
      await kms.send(new RotateKeyOnDemandCommand({ KeyId: keyId }));
      const generated = await kms.send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256' }));
      dataKey = Buffer.from(generated.Plaintext!);
      rotationCount = (await kms.send(new ListKeyRotationsCommand({ KeyId: keyId }))).Rotations!.length;
      await failure(kms.send(new DecryptCommand({ CiphertextBlob: ciphertext, EncryptionContext: { k: 'wrong' } })));
    } finally {
      kms.destroy();
      await sealbox.stop();
    }
    expect(statSync(join(dataDir, 'root.key')).mode & 0o777).toBe(0o600);
    // Neither the data key nor the plaintext appears in any file of the data directory.
    for (const file of readdirSync(dataDir)) {
      const bytes = readFileSync(join(dataDir, file));
      expect(bytes.includes(dataKey)).toBe(false);
      expect(bytes.includes(Buffer.from(dataKey.toString('base64')))).toBe(false);
    }
  });

  it('reads them all back after the restart', async () => {
    const sealbox = await startTestSealbox({ only: 'kms', dataDir });
    const kms = kmsClient(sealbox);
    try {
      const meta = (await kms.send(new DescribeKeyCommand({ KeyId: 'alias/persistent' }))).KeyMetadata!;
      expect(meta).toMatchObject({ KeyId: keyId, Description: 'persistent', KeyState: 'Enabled' });
      const plain = await kms.send(new DecryptCommand({ CiphertextBlob: ciphertext, EncryptionContext: { k: 'v' } }));
      expect(Buffer.from(plain.Plaintext!).toString()).toBe('kept');
      expect((await kms.send(new ListKeyRotationsCommand({ KeyId: keyId }))).Rotations).toHaveLength(rotationCount);

      const env = {
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        AWS_DEFAULT_REGION: 'us-east-1',
      };
      const looked = await runCommand(
        'aws',
        ['cloudtrail', 'lookup-events', '--endpoint-url', sealbox.kms!.url, '--lookup-attributes', 'AttributeKey=EventName,AttributeValue=Decrypt'],
        env,
      );
      expect(looked.stderr).toBe('');
      const events = (JSON.parse(looked.stdout) as { Events: { EventName: string; CloudTrailEvent: string; Resources: { ResourceName: string }[] }[] }).Events;
      const failed = events.map((e) => JSON.parse(e.CloudTrailEvent) as Record<string, unknown>).find((r) => r.errorCode);
      expect(failed).toMatchObject({
        eventVersion: '1.11',
        eventSource: 'kms.amazonaws.com',
        eventName: 'Decrypt',
        awsRegion: 'us-east-1',
        errorCode: 'InvalidCiphertextException',
        userIdentity: { type: 'Root', principalId: '000000000000', arn: 'arn:aws:iam::000000000000:root', accountId: '000000000000', accessKeyId: 'test' },
        requestParameters: { encryptionContext: { k: 'wrong' } },
        readOnly: true,
        eventType: 'AwsApiCall',
        managementEvent: true,
        recipientAccountId: '000000000000',
        eventCategory: 'Management',
      });
      expect(JSON.stringify(events)).not.toContain(Buffer.from(ciphertext).toString('base64'));

      const log = readFileSync(join(dataDir, 'cloudtrail.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { eventName: string; eventType: string });
      expect(log.map((e) => e.eventName)).toEqual(expect.arrayContaining(['CreateKey', 'CreateAlias', 'Encrypt', 'RotateKeyOnDemand', 'RotateKey', 'GenerateDataKey', 'Decrypt']));
      expect(log.find((e) => e.eventName === 'RotateKey')?.eventType).toBe('AwsServiceEvent');
      expect(existsSync(join(dataDir, 'kms.db'))).toBe(true);
    } finally {
      kms.destroy();
      await sealbox.stop();
    }
  });
});

describe('the event log records what KMS does by itself', () => {
  let sealbox: Sealbox;
  beforeAll(async () => {
    sealbox = await startTestSealbox({ only: 'kms' });
  });
  afterAll(() => sealbox.stop());

  const lookup = async (body: Record<string, unknown>) => {
    const res = await runCommand(
      'aws',
      ['cloudtrail', 'lookup-events', '--no-paginate', '--endpoint-url', sealbox.kms!.url, '--cli-input-json', JSON.stringify(body)],
      { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_DEFAULT_REGION: 'us-east-1' },
    );
    return res;
  };

  it('automatic rotation and deletion appear as AwsServiceEvents; LookupEvents filters and pages', async () => {
    const kms = kmsClient(sealbox);
    try {
      const { KeyId } = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
      await kms.send(new EnableKeyRotationCommand({ KeyId, RotationPeriodInDays: 90 }));
      await sealbox.clock.advance(90 * 86400 + 1);
      await kms.send(new ScheduleKeyDeletionCommand({ KeyId, PendingWindowInDays: 7 }));
      await sealbox.clock.advance(7 * 86400 + 1);

      const rotate = await lookup({ LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'RotateKey' }] });
      const record = JSON.parse((JSON.parse(rotate.stdout) as { Events: { CloudTrailEvent: string }[] }).Events[0]!.CloudTrailEvent) as Record<string, unknown>;
      expect(record).toMatchObject({
        eventName: 'RotateKey',
        eventType: 'AwsServiceEvent',
        userIdentity: { accountId: '000000000000', invokedBy: 'AWS Internal' },
        serviceEventDetails: { rotationType: 'AUTOMATIC', keyId: KeyId },
      });
      const deleted = await lookup({ LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'DeleteKey' }] });
      expect((JSON.parse(deleted.stdout) as { Events: { EventName: string; Resources: { ResourceName: string }[] }[] }).Events[0]).toMatchObject({
        EventName: 'DeleteKey',
        Resources: [{ ResourceType: 'AWS::KMS::Key', ResourceName: `arn:aws:kms:us-east-1:000000000000:key/${KeyId}` }],
      });

      const paged = await lookup({ MaxResults: 2 });
      const first = JSON.parse(paged.stdout) as { Events: { EventTime: number }[]; NextToken?: string };
      expect(first.Events).toHaveLength(2);
      expect(first.NextToken).toBeTruthy();
      expect(first.Events[0]!.EventTime).toBeGreaterThanOrEqual(first.Events[1]!.EventTime);
      const tooMany = await lookup({ LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'a' }, { AttributeKey: 'Username', AttributeValue: 'b' }] });
      expect(tooMany.stderr).toContain('(InvalidLookupAttributesException)');
    } finally {
      kms.destroy();
    }
  });
});

describe('AWS Encryption SDK for JavaScript', () => {
  it('encrypts and decrypts a message with a KMS keyring against Sealbox', async () => {
    const sealbox = await startTestSealbox({ only: 'kms' });
    const kms = kmsClient(sealbox);
    try {
      const { Arn } = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
      const { encrypt, decrypt } = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);
      // The Encryption SDK calls the aggregated client's methods (kms.generateDataKey(...)).
      const aggregated = new KMS({ endpoint: sealbox.kms!.url, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
      const keyring = new KmsKeyringNode({ generatorKeyId: Arn, clientProvider: () => aggregated as never });
      const { result } = await encrypt(keyring, Buffer.from('hello from the encryption sdk'), { encryptionContext: { stage: 'test' } });
      const { plaintext, messageHeader } = await decrypt(keyring, result);
      expect(plaintext.toString()).toBe('hello from the encryption sdk');
      expect(messageHeader.encryptionContext).toMatchObject({ stage: 'test' });
    } finally {
      kms.destroy();
      await sealbox.stop();
    }
  });
});
