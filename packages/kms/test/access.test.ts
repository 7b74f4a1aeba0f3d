import { encryptionContextKeys, globalConditionKeys, keyConditionKeys, requestConditionKeys } from '../src/access/condition-keys';
import { grantIdOfToken, grantToken, isPrincipal, satisfiesConstraints } from '../src/access/grants';
import type { GrantRecord, KeyRecord } from '../src/model';
import { parseKeyPolicy } from '../src/policy-document';
import { atLeastAsStrict } from '../src/operations/grants';

const user = { accessKeyId: 'AKIDBOB', secretAccessKey: 's', accountId: '111122223333', principalArn: 'arn:aws:iam::111122223333:user/team/bob' };
const now = new Date('2026-11-27T10:00:00.123Z');

describe('global condition keys', () => {
  it('describe the caller, the transport and the time', () => {
    expect(globalConditionKeys({ credentials: user, region: 'eu-west-1', now, sourceIp: '::ffff:10.0.0.7', secureTransport: true })).toEqual({
      'aws:PrincipalArn': user.principalArn,
      'aws:PrincipalAccount': '111122223333',
      'aws:PrincipalType': 'User',
      'aws:userid': 'AKIDBOB',
      'aws:username': 'bob',
      'aws:SecureTransport': 'true',
      'aws:CurrentTime': '2026-11-27T10:00:00Z',
      'aws:EpochTime': '1795773600',
      'aws:ViaAWSService': 'false',
      'aws:SourceIp': '10.0.0.7',
      'kms:CallerAccount': '111122223333',
    });
  });

  it('name the service acting for the caller in kms:ViaService, without the caller IP', () => {
    const keys = globalConditionKeys({ credentials: user, region: 'eu-west-1', now, sourceIp: '127.0.0.1', secureTransport: false, invokedBy: 's3.amazonaws.com' });
    expect(keys['kms:ViaService']).toBe('s3.eu-west-1.amazonaws.com');
    expect(keys['aws:ViaAWSService']).toBe('true');
    expect(keys['aws:SourceIp']).toBeUndefined();
  });

  it('type roots and role sessions', () => {
    const root = { ...user, principalArn: 'arn:aws:iam::111122223333:root' };
    expect(globalConditionKeys({ credentials: root, region: 'us-east-1', now, sourceIp: '1.2.3.4', secureTransport: true })).toMatchObject({ 'aws:PrincipalType': 'Account', 'aws:userid': '111122223333' });
    const session = { ...user, principalArn: 'arn:aws:sts::111122223333:assumed-role/app/s1' };
    expect(globalConditionKeys({ credentials: session, region: 'us-east-1', now, sourceIp: '1.2.3.4', secureTransport: true })['aws:PrincipalType']).toBe('AssumedRole');
  });
});

describe('request condition keys', () => {
  it('turn an encryption context into kms:EncryptionContext:* and kms:EncryptionContextKeys', () => {
    expect(encryptionContextKeys({ a: '1', 'aws:s3:arn': 'arn:aws:s3:::b/k' })).toEqual({
      'kms:EncryptionContextKeys': ['a', 'aws:s3:arn'],
      'kms:EncryptionContext:a': '1',
      'kms:EncryptionContext:aws:s3:arn': 'arn:aws:s3:::b/k',
    });
    expect(requestConditionKeys('Decrypt', {})).toMatchObject({ 'kms:EncryptionContextKeys': [], 'kms:EncryptionAlgorithm': 'SYMMETRIC_DEFAULT' });
  });

  it('take the alias a request names, with or without its ARN', () => {
    expect(requestConditionKeys('Encrypt', { KeyId: 'alias/app' })['kms:RequestAlias']).toBe('alias/app');
    expect(requestConditionKeys('Encrypt', { KeyId: 'arn:aws:kms:us-east-1:111122223333:alias/app' })['kms:RequestAlias']).toBe('alias/app');
    expect(requestConditionKeys('Encrypt', { KeyId: '1234abcd-12ab-34cd-56ef-1234567890ab' })['kms:RequestAlias']).toBeUndefined();
  });

  it('describe CreateKey, CreateGrant, tags and the management parameters', () => {
    expect(requestConditionKeys('CreateKey', { Tags: [{ TagKey: 'team', TagValue: 'x' }] })).toMatchObject({
      'kms:KeySpec': 'SYMMETRIC_DEFAULT',
      'kms:KeyUsage': 'ENCRYPT_DECRYPT',
      'kms:KeyOrigin': 'AWS_KMS',
      'kms:MultiRegion': 'false',
      'kms:BypassPolicyLockoutSafetyCheck': 'false',
      'aws:RequestTag/team': 'x',
      'aws:TagKeys': ['team'],
    });
    expect(
      requestConditionKeys('CreateGrant', {
        GranteePrincipal: 'arn:aws:iam::111122223333:role/r',
        RetiringPrincipal: 'arn:aws:iam::111122223333:user/u',
        Operations: ['Decrypt'],
        Constraints: { EncryptionContextSubset: { dept: 'x' } },
      }),
    ).toMatchObject({
      'kms:GrantOperations': ['Decrypt'],
      'kms:GranteePrincipal': 'arn:aws:iam::111122223333:role/r',
      'kms:RetiringPrincipal': 'arn:aws:iam::111122223333:user/u',
      'kms:GrantConstraintType': ['EncryptionContextSubset'],
      'kms:EncryptionContext:dept': 'x',
    });
    expect(requestConditionKeys('ScheduleKeyDeletion', {})['kms:ScheduleKeyDeletionPendingWindowInDays']).toBe('30');
    expect(requestConditionKeys('EnableKeyRotation', { RotationPeriodInDays: 90 })['kms:RotationPeriodInDays']).toBe('90');
    expect(requestConditionKeys('UntagResource', { TagKeys: ['a'] })['aws:TagKeys']).toEqual(['a']);
  });

  it('describe the key: spec, usage, origin, aliases and resource tags', () => {
    const key = { keySpec: 'SYMMETRIC_DEFAULT', keyUsage: 'ENCRYPT_DECRYPT', origin: 'AWS_KMS', keyManager: 'CUSTOMER', multiRegion: false, tags: [{ TagKey: 'env', TagValue: 'prod' }] } as unknown as KeyRecord;
    expect(keyConditionKeys(key, ['alias/a'])).toMatchObject({ 'kms:ResourceAliases': ['alias/a'], 'aws:ResourceTag/env': 'prod', 'kms:KeyOrigin': 'AWS_KMS' });
  });
});

describe('grants', () => {
  it('constraints: Equals needs exactly the pairs, Subset at least them', () => {
    expect(satisfiesConstraints(undefined, undefined)).toBe(true);
    expect(satisfiesConstraints({ EncryptionContextEquals: { a: '1' } }, { a: '1' })).toBe(true);
    expect(satisfiesConstraints({ EncryptionContextEquals: { a: '1' } }, { a: '1', b: '2' })).toBe(false);
    expect(satisfiesConstraints({ EncryptionContextEquals: { a: '1' } }, undefined)).toBe(false);
    expect(satisfiesConstraints({ EncryptionContextSubset: { a: '1' } }, { a: '1', b: '2' })).toBe(true);
    expect(satisfiesConstraints({ EncryptionContextSubset: { a: '1' } }, { a: '2' })).toBe(false);
  });

  it('a child grant is at least as strict as its parent', () => {
    expect(atLeastAsStrict(undefined, undefined)).toBe(true);
    expect(atLeastAsStrict(undefined, { EncryptionContextSubset: { a: '1' } })).toBe(false);
    expect(atLeastAsStrict({ EncryptionContextSubset: { a: '1', b: '2' } }, { EncryptionContextSubset: { a: '1' } })).toBe(true);
    expect(atLeastAsStrict({ EncryptionContextEquals: { a: '1', b: '2' } }, { EncryptionContextSubset: { a: '1' } })).toBe(true);
    expect(atLeastAsStrict({ EncryptionContextSubset: { b: '2' } }, { EncryptionContextSubset: { a: '1' } })).toBe(false);
    expect(atLeastAsStrict({ EncryptionContextEquals: { a: '1' } }, { EncryptionContextEquals: { a: '1' } })).toBe(true);
    expect(atLeastAsStrict({ EncryptionContextEquals: { a: '1', b: '2' } }, { EncryptionContextEquals: { a: '1' } })).toBe(false);
    expect(atLeastAsStrict({ EncryptionContextSubset: { a: '1' } }, { EncryptionContextEquals: { a: '1' } })).toBe(false);
  });

  it('a grantee role covers its sessions', () => {
    const session = { ...user, principalArn: 'arn:aws:sts::111122223333:assumed-role/app/s1' };
    expect(isPrincipal('arn:aws:iam::111122223333:role/app', session)).toBe(true);
    expect(isPrincipal('arn:aws:iam::111122223333:role/other', session)).toBe(false);
    expect(isPrincipal('arn:aws:iam::111122223333:role/ops/app', session)).toBe(false);
    expect(isPrincipal('arn:aws:iam::111122223333:role/ops/app', { ...session, roleArn: 'arn:aws:iam::111122223333:role/ops/app' })).toBe(true);
    expect(isPrincipal(undefined, user)).toBe(false);
  });

  it('tokens name their grant and nothing else decodes', () => {
    const grant = { grantId: 'ab'.repeat(32) } as GrantRecord;
    const token = grantToken(grant);
    expect(grantIdOfToken(token)).toBe(grant.grantId);
    expect(grantToken(grant)).not.toBe(token);
    expect(grantIdOfToken('not-a-token')).toBeUndefined();
    expect(grantIdOfToken(token.slice(0, -4))).toBeUndefined();
  });
});

describe('key policy validation', () => {
  const exists = (arn: string) => arn === 'arn:aws:iam::111122223333:user/alice';
  const doc = (principal: unknown) => JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: principal, Action: 'kms:*', Resource: '*' }] });

  it('accepts accounts, configured users, services and everyone', () => {
    for (const p of ['*', { AWS: '*' }, { AWS: '111122223333' }, { AWS: 'arn:aws:iam::111122223333:root' }, { AWS: 'arn:aws:iam::111122223333:user/alice' }, { Service: 'cloudtrail.amazonaws.com' }]) {
      expect(() => parseKeyPolicy(doc(p), exists)).not.toThrow();
    }
  });

  it('refuses unknown and malformed principals, and oversized documents', () => {
    for (const p of [{ AWS: 'arn:aws:iam::111122223333:user/nobody' }, { AWS: 'arn:aws:iam::111122223333:role/ghost' }, { AWS: 'bob' }, { Service: 'not a service' }]) {
      expect(() => parseKeyPolicy(doc(p), exists)).toThrow('Policy contains a statement with one or more invalid principals.');
    }
    expect(() => parseKeyPolicy('{', exists)).toThrow(expect.objectContaining({ code: 'MalformedPolicyDocumentException', message: '' }));
    expect(() => parseKeyPolicy(doc('*').replace('"Resource":"*"', `"Resource":"*","Sid":"${'x'.repeat(33000)}"`), exists)).toThrow(
      expect.objectContaining({ code: 'LimitExceededException' }),
    );
  });
});
