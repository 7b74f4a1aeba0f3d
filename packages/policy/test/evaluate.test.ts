import {
  type Decision,
  type PolicyDocument,
  type RequestContext,
  combineDecisions,
  evaluatePolicy,
  evaluatePolicyDetailed,
  parsePolicy,
} from '../src';

const ACCOUNT = '111122223333';
const OTHER = '444455556666';
const alice: RequestContext['principal'] = { arn: `arn:aws:iam::${ACCOUNT}:user/alice`, accountId: ACCOUNT };
const root: RequestContext['principal'] = { arn: `arn:aws:iam::${ACCOUNT}:root`, accountId: ACCOUNT };
const outsider: RequestContext['principal'] = { arn: `arn:aws:iam::${OTHER}:user/mallory`, accountId: OTHER };
const session: RequestContext['principal'] = {
  arn: `arn:aws:sts::${ACCOUNT}:assumed-role/deployer/ci-42`,
  accountId: ACCOUNT,
};
const s3Service: RequestContext['principal'] = { arn: '', accountId: '', service: 's3.amazonaws.com' };

function ctx(partial: Partial<RequestContext>): RequestContext {
  return {
    principal: alice,
    action: 's3:GetObject',
    resource: 'arn:aws:s3:::bucket/key.txt',
    keys: {},
    ...partial,
  };
}

function resourcePolicy(statements: unknown[]): PolicyDocument {
  return parsePolicy(JSON.stringify({ Version: '2012-10-17', Statement: statements }), 'resource');
}

function allowFor(principal: unknown, extra: Record<string, unknown> = {}): PolicyDocument {
  return resourcePolicy([{ Effect: 'Allow', Principal: principal, Action: 's3:GetObject', Resource: 'arn:aws:s3:::bucket/*', ...extra }]);
}

describe('actions', () => {
  // Built inside each test: Stryker counts code run while a describe block is collected as
  // "static" and runs every test of the target for each of its mutants.
  const policy = (): PolicyDocument =>
    parsePolicy(
    JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['kms:Gen*', 'kms:Decrypt', 's3:Get?bject'], Resource: '*' }] }),
    'identity',
  );

  test('matched case-insensitively, with wildcards', () => {
    expect(evaluatePolicy(policy(), ctx({ action: 'kms:Decrypt' }))).toBe('Allow');
    expect(evaluatePolicy(policy(), ctx({ action: 'KMS:decrypt' }))).toBe('Allow');
    expect(evaluatePolicy(policy(), ctx({ action: 'kms:GenerateDataKeyWithoutPlaintext' }))).toBe('Allow');
    expect(evaluatePolicy(policy(), ctx({ action: 's3:getobject' }))).toBe('Allow');
    expect(evaluatePolicy(policy(), ctx({ action: 'kms:Encrypt' }))).toBe('NotApplicable');
    expect(evaluatePolicy(policy(), ctx({ action: 'kms:DecryptX' }))).toBe('NotApplicable');
  });

  test('"*" matches every action; NotAction matches every action not listed', () => {
    const all = parsePolicy('{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}', 'identity');
    expect(evaluatePolicy(all, ctx({ action: 'anything:AtAll' }))).toBe('Allow');
    const not = parsePolicy('{"Statement":{"Effect":"Deny","NotAction":["kms:Describe*","kms:List*"],"Resource":"*"}}', 'identity');
    expect(evaluatePolicy(not, ctx({ action: 'kms:ScheduleKeyDeletion' }))).toBe('Deny');
    expect(evaluatePolicy(not, ctx({ action: 'kms:describekey' }))).toBe('NotApplicable');
    expect(evaluatePolicy(not, ctx({ action: 'kms:ListAliases' }))).toBe('NotApplicable');
  });
});

describe('resources', () => {
  test('matched case-sensitively; NotResource excludes', () => {
    const policy = resourcePolicy([
      { Effect: 'Allow', Principal: '*', Action: 's3:*', Resource: ['arn:aws:s3:::bucket', 'arn:aws:s3:::bucket/public/*'] },
      { Effect: 'Deny', Principal: '*', Action: 's3:DeleteObject', NotResource: 'arn:aws:s3:::bucket/tmp/*' },
    ]);
    expect(evaluatePolicy(policy, ctx({ resource: 'arn:aws:s3:::bucket/public/a.png' }))).toBe('Allow');
    expect(evaluatePolicy(policy, ctx({ resource: 'arn:aws:s3:::bucket/Public/a.png' }))).toBe('NotApplicable');
    expect(evaluatePolicy(policy, ctx({ resource: 'arn:aws:s3:::bucket', action: 's3:ListBucket' }))).toBe('Allow');
    expect(evaluatePolicy(policy, ctx({ resource: 'arn:aws:s3:::bucket/public/a', action: 's3:DeleteObject' }))).toBe('Deny');
    expect(evaluatePolicy(policy, ctx({ resource: 'arn:aws:s3:::bucket/tmp/a', action: 's3:DeleteObject' }))).toBe('NotApplicable');
  });

  test('variables in Resource: substituted literally, unresolved means no match', () => {
    const policy = resourcePolicy([
      {
        Effect: 'Allow',
        Principal: { AWS: ACCOUNT },
        Action: 's3:*',
        Resource: ['arn:aws:s3:::bucket/home/${aws:username}/*', "arn:aws:s3:::bucket/guest/${aws:userid, 'anon'}/*"],
      },
    ]);
    const keys = { 'aws:username': 'alice' };
    expect(evaluatePolicy(policy, ctx({ resource: 'arn:aws:s3:::bucket/home/alice/x', keys }))).toBe('Allow');
    expect(evaluatePolicy(policy, ctx({ resource: 'arn:aws:s3:::bucket/home/bob/x', keys }))).toBe('NotApplicable');
    expect(evaluatePolicy(policy, ctx({ resource: 'arn:aws:s3:::bucket/home/alice/x' }))).toBe('NotApplicable');
    expect(evaluatePolicy(policy, ctx({ resource: 'arn:aws:s3:::bucket/guest/anon/x' }))).toBe('Allow');
    // A user name containing * is not a wildcard.
    expect(evaluatePolicy(policy, ctx({ resource: 'arn:aws:s3:::bucket/home/alice/x', keys: { 'aws:username': '*' } }))).toBe('NotApplicable');
  });

  test('unresolvable variable in NotResource: the statement does not apply', () => {
    const policy = resourcePolicy([
      { Effect: 'Deny', Principal: '*', Action: 's3:*', NotResource: 'arn:aws:s3:::bucket/home/${aws:username}/*' },
    ]);
    expect(evaluatePolicy(policy, ctx({ resource: 'arn:aws:s3:::bucket/other', keys: { 'aws:username': 'alice' } }))).toBe('Deny');
    expect(evaluatePolicy(policy, ctx({ resource: 'arn:aws:s3:::bucket/home/alice/a', keys: { 'aws:username': 'alice' } }))).toBe('NotApplicable');
    expect(evaluatePolicy(policy, ctx({ resource: 'arn:aws:s3:::bucket/other' }))).toBe('NotApplicable');
  });
});

describe('principals', () => {
  test('"*" and {"AWS": "*"} match everyone, anonymous included', () => {
    for (const p of ['*', { AWS: '*' }]) {
      const policy = allowFor(p);
      for (const who of [alice, outsider, root, session, s3Service, 'anonymous' as const]) {
        expect(evaluatePolicy(policy, ctx({ principal: who }))).toBe('Allow');
      }
    }
  });

  test('an account id, or its root ARN, matches every principal of that account', () => {
    for (const p of [{ AWS: ACCOUNT }, { AWS: `arn:aws:iam::${ACCOUNT}:root` }]) {
      const policy = allowFor(p);
      expect(evaluatePolicy(policy, ctx({ principal: alice }))).toBe('Allow');
      expect(evaluatePolicy(policy, ctx({ principal: root }))).toBe('Allow');
      expect(evaluatePolicy(policy, ctx({ principal: session }))).toBe('Allow');
      expect(evaluatePolicy(policy, ctx({ principal: outsider }))).toBe('NotApplicable');
      expect(evaluatePolicy(policy, ctx({ principal: 'anonymous' }))).toBe('NotApplicable');
      expect(evaluatePolicy(policy, ctx({ principal: s3Service }))).toBe('NotApplicable');
    }
  });

  test('a user ARN matches exactly that user (case-sensitive)', () => {
    const policy = allowFor({ AWS: [`arn:aws:iam::${ACCOUNT}:user/alice`, `arn:aws:iam::${OTHER}:user/bob`] });
    expect(evaluatePolicy(policy, ctx({ principal: alice }))).toBe('Allow');
    expect(evaluatePolicy(policy, ctx({ principal: root }))).toBe('NotApplicable');
    expect(evaluatePolicy(policy, ctx({ principal: { arn: `arn:aws:iam::${ACCOUNT}:user/Alice`, accountId: ACCOUNT } }))).toBe('NotApplicable');
  });

  test('a role ARN matches sessions of that role, a session ARN only that session', () => {
    const byRole = allowFor({ AWS: `arn:aws:iam::${ACCOUNT}:role/service-role/deployer` });
    expect(evaluatePolicy(byRole, ctx({ principal: session }))).toBe('Allow');
    expect(evaluatePolicy(byRole, ctx({ principal: { arn: `arn:aws:sts::${ACCOUNT}:assumed-role/other/ci-42`, accountId: ACCOUNT } }))).toBe(
      'NotApplicable',
    );
    expect(evaluatePolicy(byRole, ctx({ principal: { arn: `arn:aws:sts::${OTHER}:assumed-role/deployer/x`, accountId: OTHER } }))).toBe(
      'NotApplicable',
    );
    const bySession = allowFor({ AWS: `arn:aws:sts::${ACCOUNT}:assumed-role/deployer/ci-42` });
    expect(evaluatePolicy(bySession, ctx({ principal: session }))).toBe('Allow');
    expect(evaluatePolicy(bySession, ctx({ principal: { ...session, arn: `arn:aws:sts::${ACCOUNT}:assumed-role/deployer/ci-43` } }))).toBe(
      'NotApplicable',
    );
  });

  test('Service, CanonicalUser and Federated principals', () => {
    const policy = allowFor({
      Service: 'S3.amazonaws.com',
      CanonicalUser: '79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be',
      Federated: 'cognito-identity.amazonaws.com',
    });
    expect(evaluatePolicy(policy, ctx({ principal: s3Service }))).toBe('Allow');
    expect(evaluatePolicy(policy, ctx({ principal: { ...s3Service, service: 'logging.s3.amazonaws.com' } }))).toBe('NotApplicable');
    expect(
      evaluatePolicy(policy, ctx({ principal: { ...outsider, canonicalUserId: '79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be' } })),
    ).toBe('Allow');
    expect(evaluatePolicy(policy, ctx({ principal: { ...outsider, federated: 'cognito-identity.amazonaws.com' } }))).toBe('Allow');
    expect(evaluatePolicy(policy, ctx({ principal: alice }))).toBe('NotApplicable');
    expect(evaluatePolicy(policy, ctx({ principal: 'anonymous' }))).toBe('NotApplicable');
  });

  test('NotPrincipal applies to everyone not listed, anonymous included', () => {
    const policy = resourcePolicy([
      { Effect: 'Deny', NotPrincipal: { AWS: [`arn:aws:iam::${ACCOUNT}:user/alice`] }, Action: 's3:*', Resource: '*' },
    ]);
    expect(evaluatePolicy(policy, ctx({ principal: alice }))).toBe('NotApplicable');
    expect(evaluatePolicy(policy, ctx({ principal: outsider }))).toBe('Deny');
    expect(evaluatePolicy(policy, ctx({ principal: root }))).toBe('Deny');
    expect(evaluatePolicy(policy, ctx({ principal: 'anonymous' }))).toBe('Deny');
    const byAccount = resourcePolicy([{ Effect: 'Deny', NotPrincipal: { AWS: ACCOUNT }, Action: 's3:*', Resource: '*' }]);
    expect(evaluatePolicy(byAccount, ctx({ principal: session }))).toBe('NotApplicable');
    expect(evaluatePolicy(byAccount, ctx({ principal: outsider }))).toBe('Deny');
  });

  test('identity policies have no principal and apply to the caller', () => {
    const policy = parsePolicy('{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}', 'identity');
    expect(evaluatePolicy(policy, ctx({ principal: outsider }))).toBe('Allow');
  });

  test('aws:PrincipalArn / aws:PrincipalAccount / aws:PrincipalIsAWSService are derived from the principal', () => {
    const policy = resourcePolicy([
      {
        Effect: 'Deny',
        Principal: '*',
        Action: 's3:*',
        Resource: '*',
        Condition: { ArnNotEquals: { 'aws:PrincipalArn': `arn:aws:iam::${OTHER}:user/mallory` } },
      },
      { Effect: 'Allow', Principal: '*', Action: 's3:*', Resource: '*', Condition: { StringEquals: { 'aws:PrincipalAccount': OTHER } } },
    ]);
    expect(evaluatePolicy(policy, ctx({ principal: outsider }))).toBe('Allow');
    expect(evaluatePolicy(policy, ctx({ principal: alice }))).toBe('Deny');
    expect(evaluatePolicy(policy, ctx({ principal: 'anonymous' }))).toBe('Deny'); // no PrincipalArn: ArnNotEquals holds
    // An explicit key wins over the derived one.
    expect(evaluatePolicy(policy, ctx({ principal: alice, keys: { 'aws:principalarn': `arn:aws:iam::${OTHER}:user/mallory` } }))).toBe(
      'NotApplicable',
    );
    const svc = resourcePolicy([
      { Effect: 'Allow', Principal: '*', Action: 's3:*', Resource: '*', Condition: { Bool: { 'aws:PrincipalIsAWSService': 'true' } } },
    ]);
    expect(evaluatePolicy(svc, ctx({ principal: s3Service }))).toBe('Allow');
    expect(evaluatePolicy(svc, ctx({ principal: alice }))).toBe('NotApplicable');
  });
});

describe('decisions', () => {
  // Built inside each test: Stryker counts code run while a describe block is collected as
  // "static" and runs every test of the target for each of its mutants.
  const policy = (): PolicyDocument =>
    resourcePolicy([
    { Sid: 'AllowAll', Effect: 'Allow', Principal: '*', Action: 's3:*', Resource: '*' },
    { Sid: 'DenyDelete', Effect: 'Deny', Principal: '*', Action: 's3:Delete*', Resource: '*' },
    { Sid: 'AllowGet', Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: '*' },
  ]);

  test('an explicit Deny wins over any Allow; nothing matching is NotApplicable', () => {
    expect(evaluatePolicy(policy(), ctx({ action: 's3:DeleteObject' }))).toBe('Deny');
    expect(evaluatePolicy(policy(), ctx({ action: 's3:GetObject' }))).toBe('Allow');
    expect(evaluatePolicy(policy(), ctx({ action: 'kms:Decrypt' }))).toBe('NotApplicable');
  });

  test('evaluatePolicyDetailed lists every matching statement', () => {
    expect(evaluatePolicyDetailed(policy(), ctx({ action: 's3:GetObject' }))).toEqual({
      decision: 'Allow',
      matched: [
        { index: 0, sid: 'AllowAll', effect: 'Allow' },
        { index: 2, sid: 'AllowGet', effect: 'Allow' },
      ],
    });
    expect(evaluatePolicyDetailed(policy(), ctx({ action: 's3:DeleteBucket' })).matched.map((m) => m.sid)).toEqual(['AllowAll', 'DenyDelete']);
    expect(evaluatePolicyDetailed(policy(), ctx({ action: 'sqs:SendMessage' }))).toEqual({ decision: 'NotApplicable', matched: [] });
  });

  test('combineDecisions: deny wins, then allow, else implicit deny', () => {
    const cases: [Decision[], Decision][] = [
      [[], 'NotApplicable'],
      [['NotApplicable', 'NotApplicable'], 'NotApplicable'],
      [['NotApplicable', 'Allow'], 'Allow'],
      [['Allow', 'Deny', 'Allow'], 'Deny'],
      [['Deny', 'NotApplicable'], 'Deny'],
    ];
    for (const [input, expected] of cases) expect(combineDecisions(input)).toBe(expected);
  });

  test('hand-built (unparsed) documents evaluate too, single values allowed', () => {
    const doc = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { AWS: ACCOUNT }, Action: 'kms:*', Resource: '*' }],
    } as unknown as PolicyDocument;
    expect(evaluatePolicy(doc, ctx({ action: 'kms:Encrypt' }))).toBe('Allow');
    expect(evaluatePolicy(doc, ctx({ action: 'kms:Encrypt', principal: outsider }))).toBe('NotApplicable');
  });
});

describe('SSE-KMS bucket policies (Amazon S3 user guide)', () => {
  // The two statements of the guide's "require SSE-KMS" example.
  // Built inside each test: Stryker counts code run while a describe block is collected as
  // "static" and runs every test of the target for each of its mutants.
  const policy = (): PolicyDocument =>
    resourcePolicy([
    {
      Sid: 'DenyIncorrectEncryptionHeader',
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:PutObject',
      Resource: 'arn:aws:s3:::amzn-s3-demo-bucket/*',
      Condition: { StringNotEquals: { 's3:x-amz-server-side-encryption': 'aws:kms' } },
    },
    {
      Sid: 'DenyUnEncryptedObjectUploads',
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:PutObject',
      Resource: 'arn:aws:s3:::amzn-s3-demo-bucket/*',
      Condition: { Null: { 's3:x-amz-server-side-encryption': 'true' } },
    },
  ]);
  const put = (keys: RequestContext['keys']) =>
    evaluatePolicyDetailed(policy(), ctx({ action: 's3:PutObject', resource: 'arn:aws:s3:::amzn-s3-demo-bucket/a.txt', keys }));

  test('with the header set to aws:kms neither statement applies', () => {
    expect(put({ 's3:x-amz-server-side-encryption': 'aws:kms' })).toEqual({ decision: 'NotApplicable', matched: [] });
  });

  test('with another algorithm only StringNotEquals applies', () => {
    const r = put({ 's3:x-amz-server-side-encryption': 'AES256' });
    expect(r.decision).toBe('Deny');
    expect(r.matched.map((m) => m.sid)).toEqual(['DenyIncorrectEncryptionHeader']);
  });

  test('without the header BOTH apply: a negated operator is true for an absent key', () => {
    // "If the policy condition requires that the key is not matched, such as StringNotLike or
    // ArnNotLike, and the right key is not present, the condition is true." So the Null statement
    // is redundant for this decision; the guide keeps it for clarity.
    const r = put({});
    expect(r.decision).toBe('Deny');
    expect(r.matched.map((m) => m.sid)).toEqual(['DenyIncorrectEncryptionHeader', 'DenyUnEncryptedObjectUploads']);
  });

  test('each statement alone', () => {
    const notEquals = resourcePolicy([policy().Statement[0]]);
    const isNull = resourcePolicy([policy().Statement[1]]);
    const req = (keys: RequestContext['keys']) =>
      ctx({ action: 's3:PutObject', resource: 'arn:aws:s3:::amzn-s3-demo-bucket/a.txt', keys });
    expect(evaluatePolicy(notEquals, req({}))).toBe('Deny');
    expect(evaluatePolicy(isNull, req({}))).toBe('Deny');
    expect(evaluatePolicy(isNull, req({ 's3:x-amz-server-side-encryption': 'AES256' }))).toBe('NotApplicable');
    // IfExists does not change that: "If you are using an "Effect": "Deny" element with a negated
    // condition operator like StringNotEqualsIfExists, the request is still denied even if the
    // tag is missing." Only a positive IfExists operator lets header-less uploads through.
    const notEqualsIfExists = resourcePolicy([
      { ...policy().Statement[0], Condition: { StringNotEqualsIfExists: { 's3:x-amz-server-side-encryption': 'aws:kms' } } },
    ]);
    expect(evaluatePolicy(notEqualsIfExists, req({}))).toBe('Deny');
    expect(evaluatePolicy(notEqualsIfExists, req({ 's3:x-amz-server-side-encryption': 'AES256' }))).toBe('Deny');
    expect(evaluatePolicy(notEqualsIfExists, req({ 's3:x-amz-server-side-encryption': 'aws:kms' }))).toBe('NotApplicable');
    const allowIfExists = resourcePolicy([
      {
        Effect: 'Allow',
        Principal: '*',
        Action: 's3:PutObject',
        Resource: 'arn:aws:s3:::amzn-s3-demo-bucket/*',
        Condition: { StringEqualsIfExists: { 's3:x-amz-server-side-encryption': 'aws:kms' } },
      },
    ]);
    expect(evaluatePolicy(allowIfExists, req({}))).toBe('Allow');
    expect(evaluatePolicy(allowIfExists, req({ 's3:x-amz-server-side-encryption': 'AES256' }))).toBe('NotApplicable');
  });

  test('other actions and other buckets are untouched', () => {
    expect(evaluatePolicy(policy(), ctx({ action: 's3:GetObject', resource: 'arn:aws:s3:::amzn-s3-demo-bucket/a.txt' }))).toBe('NotApplicable');
    expect(evaluatePolicy(policy(), ctx({ action: 's3:PutObject', resource: 'arn:aws:s3:::other/a.txt' }))).toBe('NotApplicable');
  });
});

describe('KMS key policies', () => {
  const keyArn = `arn:aws:kms:us-east-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
  // Built inside each test: Stryker counts code run while a describe block is collected as
  // "static" and runs every test of the target for each of its mutants.
  const policy = (): PolicyDocument =>
    resourcePolicy([
    { Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'kms:*', Resource: '*' },
    {
      Sid: 'Allow use through S3 for one bucket',
      Effect: 'Allow',
      Principal: { AWS: `arn:aws:iam::${OTHER}:root` },
      Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      Resource: '*',
      Condition: {
        StringEquals: { 'kms:ViaService': 's3.us-east-1.amazonaws.com' },
        StringLike: { 'kms:EncryptionContext:aws:s3:arn': 'arn:aws:s3:::shared-bucket/*' },
        'ForAllValues:StringEquals': { 'kms:EncryptionContextKeys': ['aws:s3:arn'] },
      },
    },
  ]);

  test('the key account can do anything; the other account only through S3 with the right context', () => {
    expect(evaluatePolicy(policy(), ctx({ principal: alice, action: 'kms:ScheduleKeyDeletion', resource: keyArn }))).toBe('Allow');
    const good = {
      'kms:ViaService': 's3.us-east-1.amazonaws.com',
      'kms:EncryptionContext:aws:s3:arn': 'arn:aws:s3:::shared-bucket/file',
      'kms:EncryptionContextKeys': ['aws:s3:arn'],
    };
    expect(evaluatePolicy(policy(), ctx({ principal: outsider, action: 'kms:GenerateDataKey', resource: keyArn, keys: good }))).toBe('Allow');
    expect(evaluatePolicy(policy(), ctx({ principal: outsider, action: 'kms:Encrypt', resource: keyArn, keys: good }))).toBe('NotApplicable');
    expect(
      evaluatePolicy(policy(), ctx({ principal: outsider, action: 'kms:Decrypt', resource: keyArn, keys: { ...good, 'kms:ViaService': undefined } })),
    ).toBe('NotApplicable');
    expect(
      evaluatePolicy(
        policy(),
        ctx({ principal: outsider, action: 'kms:Decrypt', resource: keyArn, keys: { ...good, 'kms:EncryptionContextKeys': ['aws:s3:arn', 'extra'] } }),
      ),
    ).toBe('NotApplicable');
    // Context key names are case-insensitive.
    const shouting = {
      'KMS:VIASERVICE': 's3.us-east-1.amazonaws.com',
      'KMS:ENCRYPTIONCONTEXT:AWS:S3:ARN': 'arn:aws:s3:::shared-bucket/file',
      'kms:encryptioncontextkeys': ['aws:s3:arn'],
    };
    expect(evaluatePolicy(policy(), ctx({ principal: outsider, action: 'kms:Decrypt', resource: keyArn, keys: shouting }))).toBe('Allow');
    expect(
      evaluatePolicy(
        policy(),
        ctx({ principal: outsider, action: 'kms:Decrypt', resource: keyArn, keys: { ...shouting, 'KMS:ENCRYPTIONCONTEXT:AWS:S3:ARN': 'arn:aws:s3:::other/f' } }),
      ),
    ).toBe('NotApplicable');
  });
});

describe('performance', () => {
  test('compiled once, fast per request', () => {
    const statements = [];
    for (let i = 0; i < 50; i++) {
      statements.push({
        Sid: `S${i}`,
        Effect: i % 10 === 0 ? 'Deny' : 'Allow',
        Principal: { AWS: [`arn:aws:iam::${ACCOUNT}:user/u${i}`, OTHER] },
        Action: ['s3:Get*', 's3:List*', `kms:Op${i}`],
        Resource: [`arn:aws:s3:::bucket-${i}/*`, `arn:aws:s3:::bucket-${i}/home/\${aws:username}/*`],
        Condition: { StringLike: { 's3:prefix': ['home/${aws:username}/*'] }, IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } },
      });
    }
    const policy = resourcePolicy(statements);
    const request = ctx({
      principal: outsider,
      action: 's3:GetObject',
      resource: 'arn:aws:s3:::bucket-49/home/mallory/x',
      keys: { 'aws:username': 'mallory', 's3:prefix': 'home/mallory/', 'aws:SourceIp': '10.1.2.3' },
    });
    expect(evaluatePolicy(policy, request)).toBe('Allow');
    // Under mutation testing (npm run mutate sets SEALBOX_MUTATE_TARGET) the code is instrumented
    // and several times slower: a bound would only measure the instrumentation, and 2,000 runs
    // would cost every mutant this test reaches seconds.
    const mutating = process.env.SEALBOX_MUTATE_TARGET !== undefined;
    const start = process.hrtime.bigint();
    for (let i = 0; i < (mutating ? 1 : 2000); i++) evaluatePolicy(policy, request);
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (!mutating) expect(ms).toBeLessThan(2000);
  });
});
