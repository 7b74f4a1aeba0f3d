// The condition keys KMS hands to policies (packages/kms/src/access/condition-keys.ts), whole,
// per operation; and grants (grants.ts): constraints, which operations they apply to, tokens.
// https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html
// https://docs.aws.amazon.com/kms/latest/developerguide/grants.html
import { globalConditionKeys, keyConditionKeys, requestConditionKeys } from '../src/access/condition-keys';
import { GRANT_OPERATIONS, grantAllows, grantIdOfToken, grantToken, satisfiesConstraints } from '../src/access/grants';
import type { OperationContext } from '../src/context';
import type { GrantRecord, KeyRecord } from '../src/model';

describe('requestConditionKeys', () => {
  const rows: [string, Record<string, unknown>, Record<string, unknown>][] = [
    ['Encrypt', { KeyId: 'k', EncryptionContext: { a: '1', b: '2' } }, { 'kms:EncryptionContextKeys': ['a', 'b'], 'kms:EncryptionContext:a': '1', 'kms:EncryptionContext:b': '2', 'kms:EncryptionAlgorithm': 'SYMMETRIC_DEFAULT' }],
    ['Decrypt', { CiphertextBlob: 'x' }, { 'kms:EncryptionContextKeys': [], 'kms:EncryptionAlgorithm': 'SYMMETRIC_DEFAULT' }],
    ['Decrypt', { EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' }, { 'kms:EncryptionContextKeys': [], 'kms:EncryptionAlgorithm': 'RSAES_OAEP_SHA_256' }],
    ['GenerateDataKey', { KeyId: 'alias/app' }, { 'kms:EncryptionContextKeys': [], 'kms:RequestAlias': 'alias/app' }],
    ['GenerateDataKey', { KeyId: 'arn:aws:kms:us-east-1:111122223333:alias/app' }, { 'kms:EncryptionContextKeys': [], 'kms:RequestAlias': 'alias/app' }],
    ['GenerateDataKey', { KeyId: 'arn:aws:kms:us-east-1:111122223333:key/1234' }, { 'kms:EncryptionContextKeys': [] }],
    ['GenerateDataKey', { KeyId: 'xalias/app' }, { 'kms:EncryptionContextKeys': [] }],
    ['ReEncrypt', { SourceEncryptionContext: { a: '1' }, EncryptionContext: { b: '2' } }, {}],
    ['GenerateMac', { MacAlgorithm: 'HMAC_SHA_256' }, { 'kms:EncryptionContextKeys': [], 'kms:MacAlgorithm': 'HMAC_SHA_256' }],
    ['DeriveSharedSecret', { KeyAgreementAlgorithm: 'ECDH' }, { 'kms:EncryptionContextKeys': [], 'kms:KeyAgreementAlgorithm': 'ECDH' }],
    ['PutKeyPolicy', {}, { 'kms:EncryptionContextKeys': [], 'kms:BypassPolicyLockoutSafetyCheck': 'false' }],
    ['PutKeyPolicy', { BypassPolicyLockoutSafetyCheck: true }, { 'kms:EncryptionContextKeys': [], 'kms:BypassPolicyLockoutSafetyCheck': 'true' }],
    ['OtherOp', { BypassPolicyLockoutSafetyCheck: false }, { 'kms:EncryptionContextKeys': [], 'kms:BypassPolicyLockoutSafetyCheck': 'false' }],
    ['OtherOp', { BypassPolicyLockoutSafetyCheck: 'true' }, { 'kms:EncryptionContextKeys': [] }],
    ['Sign', { SigningAlgorithm: 'ECDSA_SHA_256' }, { 'kms:EncryptionContextKeys': [], 'kms:SigningAlgorithm': 'ECDSA_SHA_256', 'kms:MessageType': 'RAW' }],
    ['Verify', { SigningAlgorithm: 'ECDSA_SHA_256', MessageType: 'DIGEST' }, { 'kms:EncryptionContextKeys': [], 'kms:SigningAlgorithm': 'ECDSA_SHA_256', 'kms:MessageType': 'DIGEST' }],
    ['GetPublicKey', { MessageType: 'DIGEST' }, { 'kms:EncryptionContextKeys': [] }],
    ['EnableKeyRotation', { RotationPeriodInDays: 90 }, { 'kms:EncryptionContextKeys': [], 'kms:RotationPeriodInDays': '90' }],
    ['EnableKeyRotation', { RotationPeriodInDays: '90' }, { 'kms:EncryptionContextKeys': [] }],
    ['ScheduleKeyDeletion', {}, { 'kms:EncryptionContextKeys': [], 'kms:ScheduleKeyDeletionPendingWindowInDays': '30' }],
    ['ScheduleKeyDeletion', { PendingWindowInDays: 7 }, { 'kms:EncryptionContextKeys': [], 'kms:ScheduleKeyDeletionPendingWindowInDays': '7' }],
    ['TagResource', { Tags: [{ TagKey: 'team', TagValue: 'red' }, { TagKey: 'env', TagValue: 'dev' }] }, { 'kms:EncryptionContextKeys': [], 'aws:RequestTag/team': 'red', 'aws:RequestTag/env': 'dev', 'aws:TagKeys': ['team', 'env'] }],
    ['UntagResource', { TagKeys: ['team'] }, { 'kms:EncryptionContextKeys': [], 'aws:TagKeys': ['team'] }],
    ['GetParametersForImport', { WrappingAlgorithm: 'RSA_AES_KEY_WRAP_SHA_256', WrappingKeySpec: 'RSA_4096' }, { 'kms:EncryptionContextKeys': [], 'kms:WrappingAlgorithm': 'RSA_AES_KEY_WRAP_SHA_256', 'kms:WrappingKeySpec': 'RSA_4096' }],
    ['ImportKeyMaterial', {}, { 'kms:EncryptionContextKeys': [], 'kms:ExpirationModel': 'KEY_MATERIAL_EXPIRES' }],
    ['ImportKeyMaterial', { ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE', ValidTo: 1795773600.9 }, { 'kms:EncryptionContextKeys': [], 'kms:ExpirationModel': 'KEY_MATERIAL_DOES_NOT_EXPIRE', 'kms:ValidTo': '1795773600' }],
    ['CreateKey', {}, { 'kms:EncryptionContextKeys': [], 'kms:BypassPolicyLockoutSafetyCheck': 'false', 'kms:KeySpec': 'SYMMETRIC_DEFAULT', 'kms:KeyUsage': 'ENCRYPT_DECRYPT', 'kms:KeyOrigin': 'AWS_KMS', 'kms:MultiRegion': 'false' }],
    ['CreateKey', { CustomerMasterKeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY', Origin: 'EXTERNAL', MultiRegion: true }, { 'kms:EncryptionContextKeys': [], 'kms:BypassPolicyLockoutSafetyCheck': 'false', 'kms:KeySpec': 'RSA_2048', 'kms:KeyUsage': 'SIGN_VERIFY', 'kms:KeyOrigin': 'EXTERNAL', 'kms:MultiRegion': 'true' }],
    ['CreateKey', { KeySpec: 'ECC_NIST_P256', CustomerMasterKeySpec: 'RSA_2048', MultiRegion: 'true' }, { 'kms:EncryptionContextKeys': [], 'kms:BypassPolicyLockoutSafetyCheck': 'false', 'kms:KeySpec': 'ECC_NIST_P256', 'kms:KeyUsage': 'ENCRYPT_DECRYPT', 'kms:KeyOrigin': 'AWS_KMS', 'kms:MultiRegion': 'false' }],
    ['ReplicateKey', { ReplicaRegion: 'eu-west-1' }, { 'kms:EncryptionContextKeys': [], 'kms:ReplicaRegion': 'eu-west-1' }],
    ['OtherOp', { ReplicaRegion: 'eu-west-1', PrimaryRegion: 'eu-west-1' }, { 'kms:EncryptionContextKeys': [] }],
    ['UpdatePrimaryRegion', { PrimaryRegion: 'eu-west-1' }, { 'kms:EncryptionContextKeys': [], 'kms:PrimaryRegion': 'eu-west-1' }],
    ['CreateGrant', { Operations: ['Decrypt'], GranteePrincipal: 'arn:aws:iam::1:user/a', RetiringPrincipal: 'arn:aws:iam::1:user/b', Constraints: { EncryptionContextSubset: { app: 'x' } }, EncryptionContext: { ignored: 'y' } },
      { 'kms:GrantOperations': ['Decrypt'], 'kms:GranteePrincipal': 'arn:aws:iam::1:user/a', 'kms:RetiringPrincipal': 'arn:aws:iam::1:user/b', 'kms:GrantConstraintType': ['EncryptionContextSubset'], 'kms:EncryptionContextKeys': ['app'], 'kms:EncryptionContext:app': 'x' }],
    ['CreateGrant', { Constraints: { EncryptionContextEquals: { a: '1' }, Other: {} } },
      { 'kms:GrantOperations': [], 'kms:GrantConstraintType': ['EncryptionContextEquals'], 'kms:EncryptionContextKeys': ['a'], 'kms:EncryptionContext:a': '1' }],
    ['CreateGrant', {}, { 'kms:GrantOperations': [], 'kms:GrantConstraintType': [], 'kms:EncryptionContextKeys': [] }],
  ];
  it.each(rows)('%s %j', (operation, input, expected) => {
    // Strict: a key that does not apply is absent, not present as undefined.
    expect(requestConditionKeys(operation, input)).toStrictEqual(expected);
  });
});

describe('globalConditionKeys and keyConditionKeys', () => {
  const user = { accessKeyId: 'AKID', secretAccessKey: 's', accountId: '111122223333', principalArn: 'arn:aws:iam::111122223333:user/bob' };
  const now = new Date('2026-11-27T10:00:00.999Z');

  it('a user without a path, a plain IPv4 address, and a service without the amazonaws.com suffix', () => {
    const keys = globalConditionKeys({ credentials: user, region: 'us-east-1', now, sourceIp: '10.0.0.1', secureTransport: false, invokedBy: 'firehose' });
    expect(keys).toMatchObject({ 'aws:username': 'bob', 'aws:CurrentTime': '2026-11-27T10:00:00Z', 'aws:EpochTime': '1795773600', 'kms:ViaService': 'firehose.us-east-1.amazonaws.com', 'aws:ViaAWSService': 'true', 'aws:SecureTransport': 'false' });
    expect(keys['aws:SourceIp']).toBeUndefined();
    expect(globalConditionKeys({ credentials: user, region: 'us-east-1', now, sourceIp: '::1', secureTransport: true })['aws:SourceIp']).toBe('::1');
  });

  it("a role session's aws:PrincipalArn is its role's ARN (the path too when known), not the session's", () => {
    const session = { ...user, principalArn: 'arn:aws:sts::111122223333:assumed-role/app/s1' };
    expect(globalConditionKeys({ credentials: session, region: 'us-east-1', now, sourceIp: '1.1.1.1', secureTransport: true })['aws:PrincipalArn']).toBe('arn:aws:iam::111122223333:role/app');
    const withPath = { ...session, roleArn: 'arn:aws:iam::111122223333:role/team/app' };
    expect(globalConditionKeys({ credentials: withPath, region: 'us-east-1', now, sourceIp: '1.1.1.1', secureTransport: true })['aws:PrincipalArn']).toBe('arn:aws:iam::111122223333:role/team/app');
    expect(globalConditionKeys({ credentials: user, region: 'us-east-1', now, sourceIp: '1.1.1.1', secureTransport: true })['aws:PrincipalArn']).toBe(user.principalArn);
  });

  it('roles have no aws:username; an ARN merely containing :root is not the account', () => {
    const role = { ...user, principalArn: 'arn:aws:sts::111122223333:assumed-role/app/s' };
    expect(globalConditionKeys({ credentials: role, region: 'us-east-1', now, sourceIp: '1.1.1.1', secureTransport: true })['aws:username']).toBeUndefined();
    const notRoot = { ...user, principalArn: 'arn:aws:iam::111122223333:root/x' };
    expect(globalConditionKeys({ credentials: notRoot, region: 'us-east-1', now, sourceIp: '1.1.1.1', secureTransport: true })['aws:PrincipalType']).toBe('User');
    const notSession = { ...user, principalArn: 'arn:aws:iam::111122223333:user/assumed-role' };
    expect(globalConditionKeys({ credentials: notSession, region: 'us-east-1', now, sourceIp: '1.1.1.1', secureTransport: true })['aws:PrincipalType']).toBe('User');
  });

  it('keyConditionKeys: multi-Region primary and replica, aliases copied, tags', () => {
    const key = { keySpec: 'SYMMETRIC_DEFAULT', keyUsage: 'ENCRYPT_DECRYPT', origin: 'AWS_KMS', keyManager: 'CUSTOMER', multiRegion: true, region: 'eu-west-1', primaryRegion: 'eu-west-1', tags: [{ TagKey: 't', TagValue: 'v' }] } as KeyRecord;
    const aliases = ['alias/a'];
    const keys = keyConditionKeys(key, aliases);
    expect(keys).toEqual({
      'kms:KeySpec': 'SYMMETRIC_DEFAULT', 'kms:CustomerMasterKeySpec': 'SYMMETRIC_DEFAULT', 'kms:KeyUsage': 'ENCRYPT_DECRYPT', 'kms:KeyOrigin': 'AWS_KMS',
      'kms:KeyManager': 'CUSTOMER', 'kms:MultiRegion': 'true', 'kms:MultiRegionKeyType': 'PRIMARY', 'kms:ResourceAliases': ['alias/a'], 'aws:ResourceTag/t': 'v',
    });
    expect(keys['kms:ResourceAliases']).not.toBe(aliases);
    expect(keyConditionKeys({ ...key, region: 'us-east-1' }, [])['kms:MultiRegionKeyType']).toBe('REPLICA');
    expect(keyConditionKeys({ ...key, multiRegion: false }, [])).not.toHaveProperty('kms:MultiRegionKeyType');
  });
});

describe('grants', () => {
  const caller = { accessKeyId: 'a', secretAccessKey: 's', accountId: '111122223333', principalArn: 'arn:aws:iam::111122223333:user/u' };
  const key = { keyId: 'k1', region: 'us-east-1' } as KeyRecord;
  const ctxWith = (grants: Partial<GrantRecord>[]) => ({ credentials: caller, core: { store: { grantsOfKey: () => grants } } }) as unknown as OperationContext;
  const grant = (operations: string[], constraints?: GrantRecord['constraints'], grantee = caller.principalArn): Partial<GrantRecord> => ({ granteePrincipal: grantee, operations, constraints });

  it('constraints apply to exactly the operations that take an encryption context', () => {
    const withContext = ['Decrypt', 'Encrypt', 'GenerateDataKey', 'GenerateDataKeyWithoutPlaintext', 'ReEncryptFrom', 'ReEncryptTo', 'GenerateDataKeyPair', 'GenerateDataKeyPairWithoutPlaintext'];
    for (const op of GRANT_OPERATIONS) {
      const ctx = ctxWith([grant([op], { EncryptionContextEquals: { a: '1' } })]);
      expect([op, grantAllows(ctx, key, op, { a: '2' })]).toEqual([op, !withContext.includes(op)]);
      expect([op, grantAllows(ctx, key, op, { a: '1' })]).toEqual([op, true]);
    }
    expect(GRANT_OPERATIONS).toHaveLength(17);
  });

  it('a grant must name the caller and the operation; any of several grants may allow', () => {
    expect(grantAllows(ctxWith([]), key, 'Decrypt', undefined)).toBe(false);
    expect(grantAllows(ctxWith([grant(['Encrypt']), grant(['Decrypt'], undefined, 'arn:aws:iam::111122223333:user/x')]), key, 'Decrypt', undefined)).toBe(false);
    expect(grantAllows(ctxWith([grant(['Encrypt']), grant(['Decrypt'])]), key, 'Decrypt', undefined)).toBe(true);
  });

  it('satisfiesConstraints: Equals needs exactly the pairs, Subset at least them', () => {
    expect(satisfiesConstraints(undefined, undefined)).toBe(true);
    expect(satisfiesConstraints({}, { a: '1' })).toBe(true);
    expect(satisfiesConstraints({ EncryptionContextEquals: { a: '1' } }, { a: '1' })).toBe(true);
    expect(satisfiesConstraints({ EncryptionContextEquals: { a: '1' } }, { a: '1', b: '2' })).toBe(false);
    expect(satisfiesConstraints({ EncryptionContextEquals: { a: '1', b: '2' } }, { a: '1', c: '2' })).toBe(false);
    expect(satisfiesConstraints({ EncryptionContextEquals: { a: '1' } }, undefined)).toBe(false);
    expect(satisfiesConstraints({ EncryptionContextEquals: {} }, undefined)).toBe(true);
    expect(satisfiesConstraints({ EncryptionContextSubset: { a: '1' } }, { a: '1', b: '2' })).toBe(true);
    expect(satisfiesConstraints({ EncryptionContextSubset: { a: '1', b: '2' } }, { a: '1' })).toBe(false);
    expect(satisfiesConstraints({ EncryptionContextSubset: { a: '1' } }, undefined)).toBe(false);
    expect(satisfiesConstraints({ EncryptionContextEquals: { a: '1' }, EncryptionContextSubset: { b: '2' } }, { a: '1' })).toBe(false);
  });

  it('grant tokens name one grant; anything else names none', () => {
    const grantId = 'ab'.repeat(32);
    const token = grantToken({ grantId } as GrantRecord);
    expect(grantIdOfToken(token)).toBe(grantId);
    expect(Buffer.from(token, 'base64')).toHaveLength(97);
    expect(grantToken({ grantId } as GrantRecord)).not.toBe(token);
    const bytes = Buffer.from(token, 'base64');
    expect(grantIdOfToken(Buffer.concat([Buffer.from([2]), bytes.subarray(1)]).toString('base64'))).toBeUndefined();
    expect(grantIdOfToken(bytes.subarray(0, 96).toString('base64'))).toBeUndefined();
    expect(grantIdOfToken(Buffer.concat([bytes, Buffer.from([0])]).toString('base64'))).toBeUndefined();
    expect(grantIdOfToken(`${token.slice(0, -1)}*`)).toBeUndefined();
  });
});
