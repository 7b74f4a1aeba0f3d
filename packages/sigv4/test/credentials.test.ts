// Credentials (packages/sigv4/src/credentials.ts) and the Node adapter (node.ts): the `--user`
// option's parser, the default credential, role sessions, and the raw request the verifier sees.
import type { IncomingMessage } from 'node:http';
import { DEFAULT_ACCOUNT_ID, DEFAULT_CREDENTIALS, StaticCredentialProvider, parseUserSpec, roleArnOf, sessionRoleArn, signedRequestFromNode } from '../src';

describe('parseUserSpec (--user ACCESS_KEY:SECRET:ACCOUNT_ID)', () => {
  it('gives the root credentials of the account; the secret may hold colons', () => {
    expect(parseUserSpec('AKID:secret:111122223333')).toEqual({ accessKeyId: 'AKID', secretAccessKey: 'secret', accountId: '111122223333', principalArn: 'arn:aws:iam::111122223333:root' });
    expect(parseUserSpec('a:b:c:d:111122223333')).toMatchObject({ accessKeyId: 'a', secretAccessKey: 'b:c:d', accountId: '111122223333' });
    expect(parseUserSpec(`${'K'.repeat(128)}:s:111122223333`).accessKeyId).toHaveLength(128);
    expect(parseUserSpec('A_+=,.@-z9:s:000000000000').accessKeyId).toBe('A_+=,.@-z9');
  });

  it.each([
    ['AKID', "--user must be ACCESS_KEY:SECRET:ACCOUNT_ID, got 'AKID'"],
    ['AKID:111122223333', "--user must be ACCESS_KEY:SECRET:ACCOUNT_ID, got 'AKID:111122223333'"],
    [':secret:111122223333', "--user must be ACCESS_KEY:SECRET:ACCOUNT_ID, got ':secret:111122223333'"],
    ['AK ID:secret:111122223333', "invalid access key id 'AK ID'"],
    [`${'K'.repeat(129)}:s:111122223333`, `invalid access key id '${'K'.repeat(129)}'`],
    ['AKID::111122223333', 'the secret access key must not be empty'],
    ['AKID:secret:11112222333', "account id must be 12 digits, got '11112222333'"],
    ['AKID:secret:1111222233334', "account id must be 12 digits, got '1111222233334'"],
    ['AKID:secret:11112222333x', "account id must be 12 digits, got '11112222333x'"],
    ['AKID:secret:x111122223333', "account id must be 12 digits, got 'x111122223333'"],
  ])('refuses %s', (spec, message) => {
    expect(() => parseUserSpec(spec)).toThrow(new Error(message));
  });
});

describe('role sessions', () => {
  it('roleArnOf maps a session ARN to its role, in every partition', () => {
    expect(roleArnOf('arn:aws:sts::111122223333:assumed-role/app/s1')).toBe('arn:aws:iam::111122223333:role/app');
    expect(roleArnOf('arn:aws-cn:sts::111122223333:assumed-role/app/s1')).toBe('arn:aws-cn:iam::111122223333:role/app');
    expect(roleArnOf('arn:aws-us-gov:sts::111122223333:assumed-role/app/s/1')).toBe('arn:aws-us-gov:iam::111122223333:role/app');
    for (const not of [
      'arn:aws:iam::111122223333:user/app', 'arn:aws:sts::111122223333:assumed-role/app', 'arn:aws:sts::111122223333:assumed-role/app/',
      'arn:aws:sts::11112222333:assumed-role/app/s1', 'arn:aws:sts::1111222233334:assumed-role/app/s1', 'xarn:aws:sts::111122223333:assumed-role/app/s1',
      'arn:aws:sts::111122223333:assumed-role//s1', 'arn:awz:sts::111122223333:assumed-role/app/s1', 'arn:aws+x:sts::111122223333:assumed-role/app/s1',
      'arn:aws:sts::abcdefghijkl:assumed-role/app/s1',
    ]) expect([not, roleArnOf(not)]).toEqual([not, undefined]);
  });

  it('sessionRoleArn prefers the role ARN with its path', () => {
    const session = { accessKeyId: 'a', secretAccessKey: 's', accountId: '111122223333', principalArn: 'arn:aws:sts::111122223333:assumed-role/app/s1' };
    expect(sessionRoleArn(session)).toBe('arn:aws:iam::111122223333:role/app');
    expect(sessionRoleArn({ ...session, roleArn: 'arn:aws:iam::111122223333:role/team/app' })).toBe('arn:aws:iam::111122223333:role/team/app');
    expect(sessionRoleArn({ ...session, principalArn: 'arn:aws:iam::111122223333:user/u' })).toBeUndefined();
  });
});

describe('StaticCredentialProvider', () => {
  it('holds the default credential unless given others', () => {
    expect(DEFAULT_CREDENTIALS).toEqual({ accessKeyId: 'test', secretAccessKey: 'test', accountId: '000000000000', principalArn: 'arn:aws:iam::000000000000:root' });
    expect(DEFAULT_ACCOUNT_ID).toBe('000000000000');
    const provider = new StaticCredentialProvider();
    expect(provider.get('test')).toBe(DEFAULT_CREDENTIALS);
    expect(provider.list()).toEqual([DEFAULT_CREDENTIALS]);
    const empty = new StaticCredentialProvider([]);
    expect(empty.get('test')).toBeUndefined();
    expect(empty.list()).toEqual([]);
  });

  it('looks credentials up by access key; principalExists knows users, roots and the roles of sessions', () => {
    const user = { accessKeyId: 'AKU', secretAccessKey: 's', accountId: '111122223333', principalArn: 'arn:aws:iam::111122223333:user/u' };
    const session = { accessKeyId: 'ASIA', secretAccessKey: 's', accountId: '111122223333', principalArn: 'arn:aws:sts::111122223333:assumed-role/app/s1' };
    const provider = new StaticCredentialProvider([user]);
    provider.add(session);
    expect(provider.get('AKU')).toBe(user);
    expect(provider.get('ASIA')).toBe(session);
    expect(provider.list()).toEqual([user, session]);
    expect(provider.principalExists('arn:aws:iam::111122223333:user/u')).toBe(true);
    expect(provider.principalExists('arn:aws:iam::111122223333:role/app')).toBe(true);
    expect(provider.principalExists(session.principalArn)).toBe(true);
    expect(provider.principalExists('arn:aws:iam::111122223333:user/other')).toBe(false);
    expect(provider.principalExists('arn:aws:iam::111122223333:role/other')).toBe(false);
  });
});

describe('signedRequestFromNode', () => {
  it('keeps the raw target and every raw header, repeated ones folded in order', () => {
    const req = {
      method: 'PUT',
      url: '/b/a%2Fb?x=1',
      rawHeaders: ['Host', 'h', 'X-Amz-Meta-A', 'one', 'x-amz-meta-a', 'two', 'X-Amz-Date', '20261127T100000Z'],
    } as unknown as IncomingMessage;
    const signed = signedRequestFromNode(req);
    expect(signed.method).toBe('PUT');
    expect(signed.target).toBe('/b/a%2Fb?x=1');
    expect(signed.headers.get('host')).toEqual(['h']);
    expect(signed.headers.get('x-amz-meta-a')).toEqual(['one', 'two']);
    expect(signed.headers.get('x-amz-date')).toEqual(['20261127T100000Z']);
    expect(signed.headers.size).toBe(3);
  });

  it('defaults a missing method and target', () => {
    const signed = signedRequestFromNode({ rawHeaders: [] } as unknown as IncomingMessage);
    expect(signed).toMatchObject({ method: 'GET', target: '/' });
    expect(signed.headers.size).toBe(0);
  });
});
