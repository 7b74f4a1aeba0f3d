import { explainPolicy, parsePolicy, type RequestContext } from '../src';

const alice = { arn: 'arn:aws:iam::111122223333:user/alice', accountId: '111122223333' };

const policy = parsePolicy(
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      { Sid: 'DenyUnlessKms', Effect: 'Deny', Principal: '*', Action: 's3:PutObject', Resource: 'arn:aws:s3:::b/*', Condition: { StringNotEquals: { 's3:x-amz-server-side-encryption': 'aws:kms' } } },
      { Sid: 'AliceHome', Effect: 'Allow', Principal: { AWS: ['arn:aws:iam::444455556666:root', 'arn:aws:iam::111122223333:user/alice'] }, Action: ['s3:Get*', 's3:PutObject'], Resource: 'arn:aws:s3:::b/home/${aws:username}/*' },
      { Effect: 'Allow', NotPrincipal: { AWS: 'arn:aws:iam::111122223333:user/alice' }, NotAction: 's3:Delete*', Resource: '*', Condition: { 'ForAnyValue:StringEqualsIfExists': { 'aws:TagKeys': ['a', 'b'] }, Null: { 'aws:SourceVpc': 'true' } } },
    ],
  }),
  'resource',
);

const ctx = (keys: RequestContext['keys']): RequestContext => ({ principal: alice, action: 's3:PutObject', resource: 'arn:aws:s3:::b/home/alice/x', keys: { 'aws:username': 'alice', ...keys } });

describe('explainPolicy', () => {
  it('names the deciding Deny statement and its failed condition with both sides', () => {
    const e = explainPolicy(policy, ctx({ 's3:x-amz-server-side-encryption': 'AES256' }));
    expect(e.decision).toBe('Deny');
    const deny = e.statements[0]!;
    expect(deny).toMatchObject({ index: 0, sid: 'DenyUnlessKms', effect: 'Deny', applies: true });
    expect(deny.conditions).toEqual([
      expect.objectContaining({ operator: 'StringNotEquals', key: 's3:x-amz-server-side-encryption', policyValues: ['aws:kms'], requestValues: ['AES256'], result: true }),
    ]);
    expect(deny.elements.map((el) => [el.element, el.matched])).toEqual([['Principal', '*'], ['Action', 's3:PutObject'], ['Resource', 'arn:aws:s3:::b/*']]);
  });

  it('says "key absent" and why a negated operator holds without the key', () => {
    const c = explainPolicy(policy, ctx({})).statements[0]!.conditions[0]!;
    expect(c.requestValues).toBeNull();
    expect(c.text).toContain('key absent: a negated operator holds for an absent key');
  });

  it('names the matching Principal entry, the Action pattern and the Resource with its variable substituted', () => {
    const st = explainPolicy(policy, ctx({ 's3:x-amz-server-side-encryption': 'aws:kms' })).statements[1]!;
    expect(st.applies).toBe(true);
    expect(st.elements[0]).toMatchObject({ element: 'Principal', satisfied: true, matched: 'AWS: arn:aws:iam::111122223333:user/alice' });
    expect(st.elements[1]).toMatchObject({ element: 'Action', matched: 's3:PutObject' });
    expect(st.elements[2]!.text).toBe('Resource arn:aws:s3:::b/home/${aws:username}/* (= arn:aws:s3:::b/home/alice/*) matches arn:aws:s3:::b/home/alice/x');
  });

  it('says which entry is missing when no Principal names the caller', () => {
    const bob = { arn: 'arn:aws:iam::111122223333:user/bob', accountId: '111122223333' };
    const st = explainPolicy(policy, { ...ctx({}), principal: bob }).statements[1]!;
    expect(st.applies).toBe(false);
    expect(st.text).toBe('does not apply: no Principal entry names arn:aws:iam::111122223333:user/bob');
  });

  it('explains NotPrincipal, NotAction, IfExists with a set qualifier and Null', () => {
    const st = explainPolicy(policy, ctx({})).statements[2]!;
    expect(st.elements[0]).toMatchObject({ element: 'NotPrincipal', satisfied: false, matched: 'AWS: arn:aws:iam::111122223333:user/alice' });
    expect(st.elements[1]).toMatchObject({ element: 'NotAction', satisfied: true });
    expect(st.conditions[0]).toMatchObject({ operator: 'ForAnyValue:StringEqualsIfExists', requestValues: null, result: true });
    expect(st.conditions[0]!.text).toContain('IfExists makes the condition true');
    expect(st.conditions[1]).toMatchObject({ operator: 'Null', key: 'aws:SourceVpc', policyValues: ['true'], result: true });
    const tagged = explainPolicy(policy, { ...ctx({ 'aws:TagKeys': ['c', 'b'] }), principal: 'anonymous' }).statements[2]!;
    expect(tagged.conditions[0]).toMatchObject({ requestValues: ['c', 'b'], result: true });
    expect(tagged.conditions[0]!.text).toContain('some request value of ["c","b"] must match ["a","b"]');
    expect(tagged.applies).toBe(true);
  });
});
