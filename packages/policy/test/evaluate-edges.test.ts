// evaluate.ts at its edges: hand-built documents, principals of every kind, the condition keys
// derived from the principal, variables in Resource and NotResource, and what
// evaluatePolicyDetailed reports.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html
import { type PolicyDocument, type RequestContext, PolicyError, evaluatePolicy, evaluatePolicyDetailed, parsePolicy } from '../src';

const ACCOUNT = '111122223333';
const alice = { arn: `arn:aws:iam::${ACCOUNT}:user/alice`, accountId: ACCOUNT };

function ctx(partial: Partial<RequestContext>): RequestContext {
  return { principal: alice, action: 's3:GetObject', resource: 'arn:aws:s3:::bucket/key', keys: {}, ...partial };
}

const resource = (statements: unknown[], version: string | null = '2012-10-17'): PolicyDocument =>
  parsePolicy(JSON.stringify({ ...(version ? { Version: version } : {}), Statement: statements }), 'resource');
const identity = (statements: unknown[], version: string | null = '2012-10-17'): PolicyDocument =>
  parsePolicy(JSON.stringify({ ...(version ? { Version: version } : {}), Statement: statements }), 'identity');

function thrown(fn: () => unknown): PolicyError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(PolicyError);
    return err as PolicyError;
  }
  throw new Error('no error');
}

describe('hand-built documents', () => {
  it('an Effect other than Allow or Deny is a PolicyError at Statement[i].Effect', () => {
    const doc = { Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }, { Effect: 'allow', Action: '*', Resource: '*' }] } as unknown as PolicyDocument;
    const err = thrown(() => evaluatePolicy(doc, ctx({})));
    expect(err.message).toBe('Invalid effect: allow');
    expect(err.path).toBe('Statement[1].Effect');
  });

  it('a document without a Statement array is a PolicyError', () => {
    for (const doc of [null, 'x', {}, { Statement: {} }]) {
      const err = thrown(() => evaluatePolicy(doc as unknown as PolicyDocument, ctx({})));
      expect(err.message).toBe('Policy document has no Statement array');
    }
  });

  it('an unknown condition operator is a PolicyError at its condition', () => {
    const doc = { Statement: [{ Effect: 'Allow', Action: '*', Resource: '*', Condition: { StringEquality: { k: 'v' } } }] } as unknown as PolicyDocument;
    const err = thrown(() => evaluatePolicy(doc, ctx({})));
    expect(err.message).toBe('Invalid Condition type : StringEquality');
    expect(err.path).toBe('Statement[0].Condition.StringEquality');
  });

  it('a statement with neither Action nor NotAction applies to nothing; values may be numbers', () => {
    const none = { Statement: [{ Effect: 'Allow', Resource: '*' }] } as unknown as PolicyDocument;
    expect(evaluatePolicy(none, ctx({}))).toBe('NotApplicable');
    const numbers = { Statement: [{ Effect: 'Allow', Action: '*', Resource: '*', Condition: { NumericEquals: { n: 5 } } }] } as unknown as PolicyDocument;
    expect(evaluatePolicy(numbers, ctx({ keys: { n: '5' } }))).toBe('Allow');
    expect(evaluatePolicy(numbers, ctx({ keys: { n: '6' } }))).toBe('NotApplicable');
  });

  it('is compiled once: the same object evaluates the same way each time', () => {
    const doc = identity([{ Effect: 'Allow', Action: 's3:Get*', Resource: 'arn:aws:s3:::bucket/${aws:username}' }]);
    expect(evaluatePolicy(doc, ctx({ resource: 'arn:aws:s3:::bucket/alice', keys: { 'aws:username': 'alice' } }))).toBe('Allow');
    expect(evaluatePolicy(doc, ctx({ resource: 'arn:aws:s3:::bucket/alice', keys: { 'aws:username': 'bob' } }))).toBe('NotApplicable');
    expect(evaluatePolicy(doc, ctx({ resource: 'arn:aws:s3:::bucket/bob', keys: { 'aws:username': 'bob' } }))).toBe('Allow');
  });
});

describe('principals', () => {
  const allow = (principal: unknown) => resource([{ Effect: 'Allow', Principal: principal, Action: '*', Resource: '*' }]);

  it('a service principal is matched by Service entries only, in any case', () => {
    const svc = { arn: '', accountId: '', service: 'S3.AmazonAWS.com' };
    expect(evaluatePolicy(allow({ Service: 's3.amazonaws.com' }), ctx({ principal: svc }))).toBe('Allow');
    expect(evaluatePolicy(allow({ Service: ['logs.amazonaws.com', 'S3.AMAZONAWS.COM'] }), ctx({ principal: svc }))).toBe('Allow');
    expect(evaluatePolicy(allow({ Service: 'logs.amazonaws.com' }), ctx({ principal: svc }))).toBe('NotApplicable');
    // A service principal that also carries an account and an ARN is still judged as the service.
    const svcWithAccount = { arn: alice.arn, accountId: ACCOUNT, service: 's3.amazonaws.com' };
    expect(evaluatePolicy(allow({ AWS: ACCOUNT }), ctx({ principal: svcWithAccount }))).toBe('NotApplicable');
    expect(evaluatePolicy(allow({ AWS: alice.arn }), ctx({ principal: svcWithAccount }))).toBe('NotApplicable');
    expect(evaluatePolicy(allow('*'), ctx({ principal: svcWithAccount }))).toBe('Allow');
  });

  it('an empty service name is no service: the account and ARN decide', () => {
    const p = { ...alice, service: '' };
    expect(evaluatePolicy(allow({ AWS: ACCOUNT }), ctx({ principal: p }))).toBe('Allow');
    expect(evaluatePolicy(allow({ AWS: alice.arn }), ctx({ principal: p }))).toBe('Allow');
    expect(evaluatePolicy(allow({ Service: 's3.amazonaws.com' }), ctx({ principal: p }))).toBe('NotApplicable');
  });

  it('a root ARN names its account in any partition; other IAM ARNs name only themselves', () => {
    expect(evaluatePolicy(allow({ AWS: `arn:aws-cn:iam::${ACCOUNT}:root` }), ctx({}))).toBe('Allow');
    expect(evaluatePolicy(allow({ AWS: `arn:aws:iam::${ACCOUNT}:user/root` }), ctx({}))).toBe('NotApplicable');
    expect(evaluatePolicy(allow({ AWS: `arn:aws:iam::${ACCOUNT}:user/root` }), ctx({ principal: { arn: `arn:aws:iam::${ACCOUNT}:user/root`, accountId: ACCOUNT } }))).toBe(
      'Allow',
    );
  });

  it('a role matches its sessions only in its own partition and account, by its last path segment', () => {
    const session = (arn: string, accountId = ACCOUNT) => ctx({ principal: { arn, accountId } });
    const role = allow({ AWS: `arn:aws:iam::${ACCOUNT}:role/team/app` });
    expect(evaluatePolicy(role, session(`arn:aws:sts::${ACCOUNT}:assumed-role/app/s1`))).toBe('Allow');
    expect(evaluatePolicy(role, session(`arn:aws-cn:sts::${ACCOUNT}:assumed-role/app/s1`))).toBe('NotApplicable');
    expect(evaluatePolicy(role, session(`arn:aws:sts::${ACCOUNT}:assumed-role/team/s1`))).toBe('NotApplicable');
    expect(evaluatePolicy(role, session(`arn:aws:sts::${ACCOUNT}:assumed-role/app`))).toBe('NotApplicable');
    expect(evaluatePolicy(role, session(`arn:aws:sts::${ACCOUNT}:assumed-role/app/`))).toBe('NotApplicable');
    expect(evaluatePolicy(role, session(`arn:aws:iam::${ACCOUNT}:assumed-role/app/s1`))).toBe('NotApplicable');
    expect(evaluatePolicy(role, session(`xarn:aws:sts::${ACCOUNT}:assumed-role/app/s1`))).toBe('NotApplicable');
    // A user ARN is no role: its sessions do not exist, and a session named like it is not it.
    const user = allow({ AWS: `arn:aws:iam::${ACCOUNT}:user/app` });
    expect(evaluatePolicy(user, session(`arn:aws:sts::${ACCOUNT}:assumed-role/app/s1`))).toBe('NotApplicable');
    // Role names match exactly.
    expect(evaluatePolicy(allow({ AWS: `arn:aws:iam::${ACCOUNT}:role/ap` }), session(`arn:aws:sts::${ACCOUNT}:assumed-role/app/s1`))).toBe('NotApplicable');
  });

  it('canonical users and federated identities match only when the caller has one', () => {
    const both = allow({ CanonicalUser: 'c'.repeat(64), Federated: 'accounts.google.com' });
    expect(evaluatePolicy(both, ctx({ principal: { ...alice, canonicalUserId: 'c'.repeat(64) } }))).toBe('Allow');
    expect(evaluatePolicy(both, ctx({ principal: { ...alice, canonicalUserId: 'd'.repeat(64) } }))).toBe('NotApplicable');
    expect(evaluatePolicy(both, ctx({ principal: { ...alice, federated: 'accounts.google.com' } }))).toBe('Allow');
    expect(evaluatePolicy(both, ctx({ principal: { ...alice, federated: 'graph.facebook.com' } }))).toBe('NotApplicable');
    expect(evaluatePolicy(both, ctx({}))).toBe('NotApplicable');
  });
});

describe('condition keys derived from the principal', () => {
  const holds = (condition: unknown, principal: RequestContext['principal'], keys: RequestContext['keys'] = {}) =>
    evaluatePolicy(identity([{ Effect: 'Allow', Action: '*', Resource: '*', Condition: condition }]), ctx({ principal, keys })) === 'Allow';
  const svc = { arn: '', accountId: '', service: 'logs.amazonaws.com' };

  it('aws:PrincipalServiceName and aws:PrincipalIsAWSService for a service; no ARN or account', () => {
    expect(holds({ StringEquals: { 'aws:PrincipalServiceName': 'logs.amazonaws.com' } }, svc)).toBe(true);
    expect(holds({ Bool: { 'aws:PrincipalIsAWSService': 'true' } }, svc)).toBe(true);
    expect(holds({ Null: { 'aws:PrincipalArn': 'true', 'aws:PrincipalAccount': 'true' } }, svc)).toBe(true);
    expect(holds({ Null: { 'aws:PrincipalArn': 'true' } }, { arn: alice.arn, accountId: ACCOUNT, service: 'logs.amazonaws.com' })).toBe(true);
  });

  it('aws:PrincipalArn and aws:PrincipalAccount for a user; no service name; none for anonymous', () => {
    expect(holds({ StringEquals: { 'aws:PrincipalArn': alice.arn, 'aws:PrincipalAccount': ACCOUNT } }, alice)).toBe(true);
    expect(holds({ Bool: { 'aws:PrincipalIsAWSService': 'false' } }, alice)).toBe(true);
    expect(holds({ Null: { 'aws:PrincipalServiceName': 'true' } }, alice)).toBe(true);
    expect(holds({ Null: { 'aws:PrincipalArn': 'true', 'aws:PrincipalAccount': 'true', 'aws:PrincipalIsAWSService': 'true' } }, 'anonymous')).toBe(true);
  });

  it('an empty derived value is left out; a key the caller gave (in any case) is kept', () => {
    expect(holds({ Null: { 'aws:PrincipalAccount': 'true' } }, { arn: alice.arn, accountId: '' })).toBe(true);
    expect(holds({ Null: { 'aws:PrincipalArn': 'false' } }, { arn: alice.arn, accountId: '' })).toBe(true);
    expect(holds({ StringEquals: { 'aws:PrincipalAccount': '999988887777' } }, alice, { 'AWS:PRINCIPALACCOUNT': '999988887777' })).toBe(true);
    expect(holds({ StringEquals: { 'aws:PrincipalIsAWSService': 'maybe' } }, alice, { 'aws:PrincipalIsAWSService': 'maybe' })).toBe(true);
  });

  it('an undefined key is absent, a string is one value, an array several', () => {
    expect(holds({ Null: { k: 'true' } }, alice, { k: undefined })).toBe(true);
    expect(holds({ 'ForAllValues:StringEquals': { k: ['a', 'b'] } }, alice, { k: ['a', 'b'] })).toBe(true);
    expect(holds({ 'ForAllValues:StringEquals': { k: ['a', 'b'] } }, alice, { k: ['a', 'c'] })).toBe(false);
    expect(holds({ StringEquals: { k: 'a,b' } }, alice, { k: 'a,b' })).toBe(true);
  });
});

describe('variables in Resource and NotResource', () => {
  it('substituted only in 2012-10-17 documents', () => {
    const statement = { Effect: 'Allow', Action: '*', Resource: 'arn:aws:s3:::bucket/${aws:username}' };
    const keys = { 'aws:username': 'alice' };
    expect(evaluatePolicy(identity([statement]), ctx({ resource: 'arn:aws:s3:::bucket/alice', keys }))).toBe('Allow');
    expect(evaluatePolicy(identity([statement], '2008-10-17'), ctx({ resource: 'arn:aws:s3:::bucket/alice', keys }))).toBe('NotApplicable');
    expect(evaluatePolicy(identity([statement], null), ctx({ resource: 'arn:aws:s3:::bucket/${aws:username}', keys }))).toBe('Allow');
  });

  it('a multi-valued key is no variable', () => {
    const doc = identity([{ Effect: 'Allow', Action: '*', Resource: 'arn:aws:s3:::bucket/${aws:username}' }]);
    expect(evaluatePolicy(doc, ctx({ resource: 'arn:aws:s3:::bucket/a', keys: { 'aws:username': ['a'] } }))).toBe('Allow');
    expect(evaluatePolicy(doc, ctx({ resource: 'arn:aws:s3:::bucket/a', keys: { 'aws:username': ['a', 'b'] } }))).toBe('NotApplicable');
    expect(evaluatePolicy(doc, ctx({ resource: 'arn:aws:s3:::bucket/', keys: { 'aws:username': [] } }))).toBe('NotApplicable');
  });

  it('wildcards before, between and after variables keep their meaning', () => {
    const doc = identity([
      { Effect: 'Allow', Action: '*', Resource: ['arn:aws:s3:::b*/${aws:username}/*', 'arn:aws:s3:::c${*}/${aws:username}', 'arn:aws:s3:::d?/${aws:userid}-${aws:username}'] },
    ]);
    const keys = { 'aws:username': 'alice', 'aws:userid': 'AID' };
    const decide = (r: string) => evaluatePolicy(doc, ctx({ resource: r, keys }));
    expect(decide('arn:aws:s3:::bucket/alice/x')).toBe('Allow');
    expect(decide('arn:aws:s3:::b/alice/')).toBe('Allow');
    expect(decide('arn:aws:s3:::bucket/bob/x')).toBe('NotApplicable');
    expect(decide('arn:aws:s3:::c*/alice')).toBe('Allow');
    expect(decide('arn:aws:s3:::cx/alice')).toBe('NotApplicable');
    expect(decide('arn:aws:s3:::dx/AID-alice')).toBe('Allow');
    expect(decide('arn:aws:s3:::dxy/AID-alice')).toBe('NotApplicable');
    expect(decide('arn:aws:s3:::dx/AID-bob')).toBe('NotApplicable');
  });

  it('NotResource with a resolved variable excludes what it names, and several entries all exclude', () => {
    const doc = identity([{ Effect: 'Deny', Action: '*', NotResource: ['arn:aws:s3:::bucket/${aws:username}/*', 'arn:aws:s3:::public/*'] }]);
    const keys = { 'aws:username': 'alice' };
    expect(evaluatePolicy(doc, ctx({ resource: 'arn:aws:s3:::bucket/alice/a', keys }))).toBe('NotApplicable');
    expect(evaluatePolicy(doc, ctx({ resource: 'arn:aws:s3:::public/a', keys }))).toBe('NotApplicable');
    expect(evaluatePolicy(doc, ctx({ resource: 'arn:aws:s3:::bucket/bob/a', keys }))).toBe('Deny');
  });
});

describe('evaluatePolicyDetailed', () => {
  it('lists every matching statement, those after a Deny too, with a Sid only when it has one', () => {
    const doc = resource([
      { Effect: 'Deny', Principal: '*', Action: 's3:Delete*', Resource: '*' },
      { Sid: '', Effect: 'Allow', Principal: '*', Action: '*', Resource: '*' },
      { Sid: 'Other', Effect: 'Allow', Principal: '*', Action: 'kms:*', Resource: '*' },
      { Sid: 'Last', Effect: 'Deny', Principal: '*', Action: '*', Resource: '*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } },
    ]);
    const detailed = evaluatePolicyDetailed(doc, ctx({ action: 's3:DeleteObject', keys: { 'aws:SecureTransport': 'false' } }));
    expect(detailed).toEqual({
      decision: 'Deny',
      matched: [
        { index: 0, effect: 'Deny' },
        { index: 1, sid: '', effect: 'Allow' },
        { index: 3, sid: 'Last', effect: 'Deny' },
      ],
    });
    expect('sid' in detailed.matched[0]!).toBe(false);
    expect(evaluatePolicy(doc, ctx({ action: 's3:DeleteObject' }))).toBe('Deny');
    expect(evaluatePolicy(doc, ctx({ action: 's3:GetObject' }))).toBe('Allow');
    expect(evaluatePolicy(doc, ctx({ action: 's3:GetObject', keys: { 'aws:SecureTransport': 'false' } }))).toBe('Deny');
  });

  it('an Allow after an Allow still lets a later Deny win', () => {
    const doc = identity([
      { Effect: 'Allow', Action: '*', Resource: '*' },
      { Effect: 'Allow', Action: 's3:*', Resource: '*' },
      { Effect: 'Deny', Action: 's3:GetObject', Resource: '*' },
    ]);
    expect(evaluatePolicy(doc, ctx({}))).toBe('Deny');
    expect(evaluatePolicy(doc, ctx({ action: 's3:PutObject' }))).toBe('Allow');
  });
});
