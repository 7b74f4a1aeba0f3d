// checkAccess() on its own, as a table: who is allowed what by the key policy, identity policies
// and grants, with IAM's exact denial messages. The end-to-end matrices drive it through the SDK;
// these cases pin each branch so a mutation of the decision is caught by the unit tests
// (`npm run mutate -- kms`).
// https://docs.aws.amazon.com/kms/latest/developerguide/determining-access.html
import type { Credentials } from '@sealbox/sigv4';
import { authorize, checkAccess, type AccessRequest } from '../src/access/authorize';
import type { OperationContext } from '../src/context';
import { AccessDeniedException } from '../src/errors';
import type { GrantRecord, KeyRecord } from '../src/model';

const ACCOUNT = '111122223333';
const OTHER = '444455556666';
const KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';
const KEY_ARN = `arn:aws:kms:us-east-1:${ACCOUNT}:key/${KEY_ID}`;

const root: Credentials = { accessKeyId: 'AKROOT', secretAccessKey: 's', accountId: ACCOUNT, principalArn: `arn:aws:iam::${ACCOUNT}:root` };
const alice: Credentials = { accessKeyId: 'AKALICE', secretAccessKey: 's', accountId: ACCOUNT, principalArn: `arn:aws:iam::${ACCOUNT}:user/alice`, policies: [] };
const stranger: Credentials = { accessKeyId: 'AKOTHER', secretAccessKey: 's', accountId: OTHER, principalArn: `arn:aws:iam::${OTHER}:user/eve`, policies: [] };
const otherRoot: Credentials = { accessKeyId: 'AKOROOT', secretAccessKey: 's', accountId: OTHER, principalArn: `arn:aws:iam::${OTHER}:root` };
const session: Credentials = {
  accessKeyId: 'ASIA1', secretAccessKey: 's', accountId: ACCOUNT, sessionToken: 't',
  principalArn: `arn:aws:sts::${ACCOUNT}:assumed-role/app/s1`, roleArn: `arn:aws:iam::${ACCOUNT}:role/app`, policies: [],
};

const doc = (...Statement: object[]) => JSON.stringify({ Version: '2012-10-17', Statement });
const allow = (principal: unknown, action: string | string[] = 'kms:*', extra: object = {}) => ({ Effect: 'Allow', Principal: principal, Action: action, Resource: '*', ...extra });
const denyStatement = (principal: unknown, action: string | string[] = 'kms:*', extra: object = {}) => ({ Effect: 'Deny', Principal: principal, Action: action, Resource: '*', ...extra });
const identity = (effect: 'Allow' | 'Deny', action: string | string[], extra: object = {}) => doc({ Effect: effect, Action: action, Resource: '*', ...extra });

/** The default key policy: the account's root, so IAM policies decide. */
const DEFAULT_POLICY = doc(allow({ AWS: `arn:aws:iam::${ACCOUNT}:root` }));

function key(policy: string, overrides: Partial<KeyRecord> = {}): KeyRecord {
  return {
    keyId: KEY_ID, accountId: ACCOUNT, region: 'us-east-1', arn: KEY_ARN, creationDate: 0, description: '',
    keyUsage: 'ENCRYPT_DECRYPT', keySpec: 'SYMMETRIC_DEFAULT', origin: 'AWS_KMS', keyManager: 'CUSTOMER',
    state: 'Enabled', rotationEnabled: false, onDemandRotations: 0, policy, tags: [], currentMaterialId: 'm', multiRegion: false,
    ...overrides,
  } as KeyRecord;
}

function grant(grantee: string, operations: string[], constraints?: GrantRecord['constraints']): GrantRecord {
  return { grantId: 'g'.repeat(64), keyId: KEY_ID, granteePrincipal: grantee, operations, constraints } as unknown as GrantRecord;
}

interface Setup { grants?: GrantRecord[]; aliases?: string[]; enforce?: boolean }

function context(credentials: Credentials, setup: Setup = {}) {
  const aliasCalls: string[] = [];
  const ctx = {
    credentials,
    enforcePolicies: setup.enforce ?? true,
    conditionKeys: { 'aws:SourceIp': '10.1.2.3' },
    core: {
      store: {
        grantsOfKey: (keyId: string, region: string) => (keyId === KEY_ID && region === 'us-east-1' ? (setup.grants ?? []) : []),
        aliasesOfKey: (keyId: string, region: string) => {
          aliasCalls.push(`${keyId} ${region}`);
          return (setup.aliases ?? []).map((aliasName) => ({ aliasName }));
        },
      },
    },
  } as unknown as OperationContext;
  return { ctx, aliasCalls };
}

const deniedMessage = (who: Credentials, action: string, resource: string, why: string) =>
  `User: ${who.principalArn} is not authorized to perform: kms:${action} on resource: ${resource} ${why}`;
const NO_IDENTITY = (action: string) => `because no identity-based policy allows the kms:${action} action`;
const NO_RESOURCE = (action: string) => `because no resource-based policy allows the kms:${action} action`;
const IDENTITY_DENY = 'with an explicit deny in an identity-based policy';
const RESOURCE_DENY = 'with an explicit deny in a resource-based policy';

interface Row {
  title: string;
  who: Credentials;
  keyPolicy?: string;
  keyOverrides?: Partial<KeyRecord>;
  request?: Partial<AccessRequest>;
  setup?: Setup;
  /** `true` for allowed, else the end of the message. */
  expected: true | string;
}

const rows: Row[] = [
  // The key's own account.
  { title: 'root of the account, default policy', who: root, keyPolicy: DEFAULT_POLICY, expected: true },
  { title: 'root of the account, policy naming only alice', who: root, keyPolicy: doc(allow({ AWS: alice.principalArn })), expected: NO_RESOURCE('Decrypt') },
  { title: 'user, default policy, no identity policy', who: alice, keyPolicy: DEFAULT_POLICY, expected: NO_IDENTITY('Decrypt') },
  { title: 'user, default policy, identity policy allows', who: { ...alice, policies: [identity('Allow', 'kms:Decrypt')] }, keyPolicy: DEFAULT_POLICY, expected: true },
  { title: 'user, default policy, identity policy allows another action', who: { ...alice, policies: [identity('Allow', 'kms:Encrypt')] }, keyPolicy: DEFAULT_POLICY, expected: NO_IDENTITY('Decrypt') },
  { title: 'user, identity policy denies what another allows', who: { ...alice, policies: [identity('Allow', 'kms:*'), identity('Deny', 'kms:Decrypt')] }, keyPolicy: DEFAULT_POLICY, expected: IDENTITY_DENY },
  { title: 'user, identity deny listed first', who: { ...alice, policies: [identity('Deny', 'kms:Decrypt'), identity('Allow', 'kms:*')] }, keyPolicy: DEFAULT_POLICY, expected: IDENTITY_DENY },
  { title: 'user named by the key policy, no identity policy', who: alice, keyPolicy: doc(allow({ AWS: alice.principalArn }, 'kms:Decrypt')), expected: true },
  { title: 'user named by the key policy for another action', who: alice, keyPolicy: doc(allow({ AWS: alice.principalArn }, 'kms:Encrypt')), expected: NO_RESOURCE('Decrypt') },
  { title: 'everyone (*) in the key policy', who: alice, keyPolicy: doc(allow('*', 'kms:Decrypt')), expected: true },
  { title: 'everyone as AWS "*" in the key policy', who: alice, keyPolicy: doc(allow({ AWS: '*' }, 'kms:Decrypt')), expected: true },
  { title: 'key policy names bob, not alice', who: alice, keyPolicy: doc(allow({ AWS: `arn:aws:iam::${ACCOUNT}:user/bob` })), expected: NO_RESOURCE('Decrypt') },
  { title: 'key policy names bob, alice has an identity allow', who: { ...alice, policies: [identity('Allow', 'kms:*')] }, keyPolicy: doc(allow({ AWS: `arn:aws:iam::${ACCOUNT}:user/bob` })), expected: NO_RESOURCE('Decrypt') },
  { title: 'key policy explicitly denies the user', who: { ...alice, policies: [identity('Allow', 'kms:*')] }, keyPolicy: doc(allow({ AWS: root.principalArn }), denyStatement({ AWS: alice.principalArn }, 'kms:Decrypt')), expected: RESOURCE_DENY },
  { title: 'key policy deny beats the root', who: root, keyPolicy: doc(allow({ AWS: root.principalArn }), denyStatement('*', 'kms:Decrypt')), expected: RESOURCE_DENY },
  { title: 'role session, default policy, no identity policy', who: session, keyPolicy: DEFAULT_POLICY, expected: NO_IDENTITY('Decrypt') },
  { title: 'user named in a list beside the account', who: alice, keyPolicy: doc(allow({ AWS: [root.principalArn, alice.principalArn] })), expected: true },
  { title: 'user named by one of two matching statements', who: alice, keyPolicy: doc(allow({ AWS: root.principalArn }), allow({ AWS: alice.principalArn })), expected: true },
  { title: 'an Allow with NotPrincipal names the caller', who: alice, keyPolicy: doc({ Effect: 'Allow', NotPrincipal: { AWS: `arn:aws:iam::${ACCOUNT}:user/bob` }, Action: 'kms:*', Resource: '*' }), expected: true },
  { title: 'role session named by its role ARN', who: session, keyPolicy: doc(allow({ AWS: session.roleArn })), expected: true },
  { title: 'role session named by its session ARN', who: session, keyPolicy: doc(allow({ AWS: session.principalArn })), expected: true },
  { title: 'role session, role not named', who: session, keyPolicy: doc(allow({ AWS: `arn:aws:iam::${ACCOUNT}:role/other` })), expected: NO_RESOURCE('Decrypt') },
  { title: 'key policy condition on a request key that holds', who: alice, keyPolicy: doc(allow({ AWS: alice.principalArn }, 'kms:Decrypt', { Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } })), expected: true },
  { title: 'key policy condition on a request key that fails', who: alice, keyPolicy: doc(allow({ AWS: alice.principalArn }, 'kms:Decrypt', { Condition: { IpAddress: { 'aws:SourceIp': '192.168.0.0/16' } } })), expected: NO_RESOURCE('Decrypt') },
  { title: 'key policy condition on the key spec', who: alice, keyPolicy: doc(allow({ AWS: alice.principalArn }, 'kms:Decrypt', { Condition: { StringEquals: { 'kms:KeySpec': 'SYMMETRIC_DEFAULT' } } })), expected: true },
  { title: 'key policy condition on a tag of the key', who: alice, keyPolicy: doc(allow({ AWS: alice.principalArn }, 'kms:Decrypt', { Condition: { StringEquals: { 'aws:ResourceTag/team': 'red' } } })), keyOverrides: { tags: [{ TagKey: 'team', TagValue: 'red' }] }, expected: true },
  { title: 'key policy condition on a tag the key lacks', who: alice, keyPolicy: doc(allow({ AWS: alice.principalArn }, 'kms:Decrypt', { Condition: { StringEquals: { 'aws:ResourceTag/team': 'red' } } })), keyOverrides: { tags: [{ TagKey: 'team', TagValue: 'blue' }] }, expected: NO_RESOURCE('Decrypt') },
  { title: 'condition keys the request adds (ReEncrypt contexts)', who: alice, keyPolicy: doc(allow({ AWS: alice.principalArn }, 'kms:ReEncryptFrom', { Condition: { StringEquals: { 'kms:EncryptionContext:app': 'x' } } })), request: { action: 'ReEncryptFrom', keys: { 'kms:EncryptionContext:app': 'x' } }, expected: true },
  { title: 'condition keys the request adds override the call\'s', who: alice, keyPolicy: doc(allow({ AWS: alice.principalArn }, 'kms:Decrypt', { Condition: { IpAddress: { 'aws:SourceIp': '192.168.0.0/16' } } })), request: { keys: { 'aws:SourceIp': '192.168.1.1' } }, expected: true },

  // Another account: the key policy and the caller's identity policies must both allow.
  { title: 'other account named by the key policy, no identity policy', who: stranger, keyPolicy: doc(allow({ AWS: `arn:aws:iam::${OTHER}:root` })), expected: NO_IDENTITY('Decrypt') },
  { title: 'other account user named directly, no identity policy', who: stranger, keyPolicy: doc(allow({ AWS: stranger.principalArn })), expected: NO_IDENTITY('Decrypt') },
  { title: 'other account named, identity policy allows', who: { ...stranger, policies: [identity('Allow', 'kms:Decrypt')] }, keyPolicy: doc(allow({ AWS: `arn:aws:iam::${OTHER}:root` })), expected: true },
  { title: 'other account not named, identity policy allows', who: { ...stranger, policies: [identity('Allow', 'kms:Decrypt')] }, keyPolicy: DEFAULT_POLICY, expected: NO_RESOURCE('Decrypt') },
  { title: 'other account\'s root, named by the key policy', who: otherRoot, keyPolicy: doc(allow({ AWS: `arn:aws:iam::${OTHER}:root` })), expected: true },
  { title: 'other account\'s root, not named', who: otherRoot, keyPolicy: DEFAULT_POLICY, expected: NO_RESOURCE('Decrypt') },

  // Grants.
  { title: 'grant for the user', who: alice, keyPolicy: DEFAULT_POLICY, setup: { grants: [grant(alice.principalArn, ['Decrypt'])] }, expected: true },
  { title: 'grant for another operation', who: alice, keyPolicy: DEFAULT_POLICY, setup: { grants: [grant(alice.principalArn, ['Encrypt'])] }, expected: NO_IDENTITY('Decrypt') },
  { title: 'grant for another principal', who: alice, keyPolicy: DEFAULT_POLICY, setup: { grants: [grant(`arn:aws:iam::${ACCOUNT}:user/bob`, ['Decrypt'])] }, expected: NO_IDENTITY('Decrypt') },
  { title: 'grant where no key policy statement applies', who: alice, keyPolicy: doc(allow({ AWS: root.principalArn }, 'kms:Encrypt')), setup: { grants: [grant(alice.principalArn, ['Decrypt'])] }, expected: true },
  { title: 'grant to a role, used by its session', who: session, keyPolicy: DEFAULT_POLICY, setup: { grants: [grant(session.roleArn!, ['Decrypt'])] }, expected: true },
  { title: 'grant across accounts', who: stranger, keyPolicy: DEFAULT_POLICY, setup: { grants: [grant(stranger.principalArn, ['Decrypt'])] }, expected: true },
  { title: 'grant with a context constraint that holds', who: alice, keyPolicy: DEFAULT_POLICY, request: { context: { app: 'x' } }, setup: { grants: [grant(alice.principalArn, ['Decrypt'], { EncryptionContextSubset: { app: 'x' } })] }, expected: true },
  { title: 'grant with a context constraint that fails', who: alice, keyPolicy: DEFAULT_POLICY, request: { context: { app: 'y' } }, setup: { grants: [grant(alice.principalArn, ['Decrypt'], { EncryptionContextSubset: { app: 'x' } })] }, expected: NO_IDENTITY('Decrypt') },
  { title: 'grant constraints do not apply to DescribeKey', who: alice, keyPolicy: DEFAULT_POLICY, request: { action: 'DescribeKey' }, setup: { grants: [grant(alice.principalArn, ['DescribeKey'], { EncryptionContextEquals: { app: 'x' } })] }, expected: true },
  { title: 'grants do not count when withoutGrants', who: alice, keyPolicy: DEFAULT_POLICY, request: { withoutGrants: true }, setup: { grants: [grant(alice.principalArn, ['Decrypt'])] }, expected: NO_IDENTITY('Decrypt') },
  { title: 'a grant does not override an identity deny', who: { ...alice, policies: [identity('Deny', 'kms:Decrypt')] }, keyPolicy: DEFAULT_POLICY, setup: { grants: [grant(alice.principalArn, ['Decrypt'])] }, expected: IDENTITY_DENY },
  { title: 'a grant does not override a key policy deny', who: alice, keyPolicy: doc(allow({ AWS: root.principalArn }), denyStatement('*', 'kms:Decrypt')), setup: { grants: [grant(alice.principalArn, ['Decrypt'])] }, expected: RESOURCE_DENY },

  // Another policy than the key's (the lockout check of PutKeyPolicy).
  { title: 'request.policy replaces the key policy (allows)', who: alice, keyPolicy: doc(allow({ AWS: `arn:aws:iam::${ACCOUNT}:user/bob` })), request: { policy: doc(allow({ AWS: alice.principalArn })) }, expected: true },
  { title: 'request.policy replaces the key policy (refuses)', who: alice, keyPolicy: doc(allow({ AWS: alice.principalArn })), request: { policy: doc(allow({ AWS: `arn:aws:iam::${ACCOUNT}:user/bob` })) }, expected: NO_RESOURCE('Decrypt') },

  // Identity-based policies alone (RetireGrant): the key policy does not count.
  { title: 'identityOnly: key policy allow is not enough', who: alice, keyPolicy: doc(allow({ AWS: alice.principalArn })), request: { action: 'RetireGrant', identityOnly: true }, expected: NO_IDENTITY('RetireGrant') },
  { title: 'identityOnly: identity allow is enough', who: { ...alice, policies: [identity('Allow', 'kms:RetireGrant')] }, keyPolicy: doc(allow({ AWS: `arn:aws:iam::${ACCOUNT}:user/bob` })), request: { action: 'RetireGrant', identityOnly: true }, expected: true },
  { title: 'identityOnly: root', who: root, keyPolicy: doc(allow({ AWS: `arn:aws:iam::${ACCOUNT}:user/bob` })), request: { action: 'RetireGrant', identityOnly: true }, expected: true },
];

const keyless: Row[] = [
  { title: 'no key: root', who: root, request: { action: 'CreateKey' }, expected: true },
  { title: 'no key: other account\'s root', who: otherRoot, request: { action: 'CreateKey' }, expected: true },
  { title: 'no key: user without identity policy', who: alice, request: { action: 'CreateKey' }, expected: NO_IDENTITY('CreateKey') },
  { title: 'no key: user with identity policy', who: { ...alice, policies: [identity('Allow', 'kms:CreateKey')] }, request: { action: 'CreateKey' }, expected: true },
  { title: 'no key: identity deny', who: { ...alice, policies: [identity('Allow', 'kms:*'), identity('Deny', 'kms:CreateKey')] }, request: { action: 'CreateKey' }, expected: IDENTITY_DENY },
  { title: 'no key: identity policy on another resource', who: { ...alice, policies: [doc({ Effect: 'Allow', Action: 'kms:CreateAlias', Resource: `arn:aws:kms:us-east-1:${ACCOUNT}:alias/app` })] }, request: { action: 'CreateAlias', resource: `arn:aws:kms:us-east-1:${ACCOUNT}:alias/other` }, expected: NO_IDENTITY('CreateAlias') },
  { title: 'no key: identity policy on the alias', who: { ...alice, policies: [doc({ Effect: 'Allow', Action: 'kms:CreateAlias', Resource: `arn:aws:kms:us-east-1:${ACCOUNT}:alias/app` })] }, request: { action: 'CreateAlias', resource: `arn:aws:kms:us-east-1:${ACCOUNT}:alias/app` }, expected: true },
];

describe('checkAccess', () => {
  it.each(rows)('$title', ({ who, keyPolicy, keyOverrides, request, setup, expected }) => {
    const { ctx } = context(who, setup);
    const action = request?.action ?? 'Decrypt';
    const result = checkAccess(ctx, { action, key: key(keyPolicy!, keyOverrides), ...request });
    if (expected === true) expect(result).toEqual({ allowed: true });
    else expect(result).toEqual({ allowed: false, message: deniedMessage(who, action, KEY_ARN, expected) });
  });

  it.each(keyless)('$title', ({ who, request, expected }) => {
    const { ctx } = context(who);
    const action = request!.action!;
    const result = checkAccess(ctx, { action, ...request });
    const resource = request?.resource ?? '*';
    if (expected === true) expect(result).toEqual({ allowed: true });
    else expect(result).toEqual({ allowed: false, message: deniedMessage(who, action, resource, expected) });
  });

  it('looks up the key\'s aliases only when a policy names kms:ResourceAliases', () => {
    const aliasPolicy = doc(allow({ AWS: alice.principalArn }, 'kms:Decrypt', { Condition: { 'ForAnyValue:StringEquals': { 'kms:ResourceAliases': 'alias/app' } } }));
    const withAlias = context(alice, { aliases: ['alias/app'] });
    expect(checkAccess(withAlias.ctx, { action: 'Decrypt', key: key(aliasPolicy) })).toEqual({ allowed: true });
    expect(withAlias.aliasCalls).toEqual([`${KEY_ID} us-east-1`]);
    const otherAlias = context(alice, { aliases: ['alias/other'] });
    expect(checkAccess(otherAlias.ctx, { action: 'Decrypt', key: key(aliasPolicy) }).allowed).toBe(false);
    // The key name is matched case-insensitively, as policy condition keys are.
    const lower = context(alice, { aliases: ['alias/app'] });
    expect(checkAccess(lower.ctx, { action: 'Decrypt', key: key(aliasPolicy.replace('kms:ResourceAliases', 'KMS:resourcealiases')) })).toEqual({ allowed: true });
    // Named in an identity policy only.
    const identityAlias = { ...alice, policies: [identity('Allow', 'kms:Decrypt', { Condition: { 'ForAnyValue:StringEquals': { 'kms:ResourceAliases': 'alias/app' } } })] };
    const fromIdentity = context(identityAlias, { aliases: ['alias/app'] });
    expect(checkAccess(fromIdentity.ctx, { action: 'Decrypt', key: key(DEFAULT_POLICY) })).toEqual({ allowed: true });
    expect(fromIdentity.aliasCalls).toHaveLength(1);
    // Named in the replacement policy of the request.
    const replaced = context(alice, { aliases: ['alias/app'] });
    expect(checkAccess(replaced.ctx, { action: 'Decrypt', key: key(DEFAULT_POLICY), policy: aliasPolicy })).toEqual({ allowed: true });
    expect(replaced.aliasCalls).toHaveLength(1);
    // Not named: no query.
    const plain = context(alice, { aliases: ['alias/app'] });
    checkAccess(plain.ctx, { action: 'Decrypt', key: key(doc(allow({ AWS: alice.principalArn }))) });
    expect(plain.aliasCalls).toEqual([]);
  });

  it('evaluates the same policy text again from its cache with the same outcome', () => {
    const policy = doc(allow({ AWS: alice.principalArn }, 'kms:Encrypt'));
    for (let i = 0; i < 3; i++) {
      expect(checkAccess(context(alice).ctx, { action: 'Encrypt', key: key(policy) })).toEqual({ allowed: true });
      expect(checkAccess(context(alice).ctx, { action: 'Decrypt', key: key(policy) }).allowed).toBe(false);
    }
    // The same text as an identity policy is parsed as one (no Principal), not taken from the resource entry.
    const text = identity('Allow', 'kms:Decrypt');
    expect(checkAccess(context({ ...alice, policies: [text] }).ctx, { action: 'Decrypt', key: key(DEFAULT_POLICY) })).toEqual({ allowed: true });
  });

  it('stays correct past a thousand distinct policies (the cache is emptied)', () => {
    for (let i = 0; i < 1005; i++) {
      const policy = doc(allow({ AWS: alice.principalArn }, `kms:Action${i}`));
      expect(checkAccess(context(alice).ctx, { action: `Action${i}`, key: key(policy) })).toEqual({ allowed: true });
    }
    const first = doc(allow({ AWS: alice.principalArn }, 'kms:Action0'));
    expect(checkAccess(context(alice).ctx, { action: 'Action1', key: key(first) }).allowed).toBe(false);
  });
});

describe('authorize', () => {
  it('throws AccessDeniedException with the message of the denial', () => {
    const { ctx } = context(alice);
    expect(() => authorize(ctx, { action: 'Decrypt', key: key(DEFAULT_POLICY) })).toThrow(AccessDeniedException);
    expect(() => authorize(ctx, { action: 'Decrypt', key: key(DEFAULT_POLICY) })).toThrow(deniedMessage(alice, 'Decrypt', KEY_ARN, NO_IDENTITY('Decrypt')));
  });

  it('returns when allowed', () => {
    expect(authorize(context(root).ctx, { action: 'Decrypt', key: key(DEFAULT_POLICY) })).toBeUndefined();
  });

  it('checks nothing when enforcement is off (--no-enforce-kms-policies)', () => {
    expect(() => authorize(context(alice, { enforce: false }).ctx, { action: 'Decrypt', key: key(doc(denyStatement('*'))) })).not.toThrow();
  });
});
