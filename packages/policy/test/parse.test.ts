import { PolicyError, isConditionOperator, parsePolicy } from '../src';

function errorOf(text: string, kind: 'resource' | 'identity' = 'resource'): PolicyError {
  try {
    parsePolicy(text, kind);
  } catch (err) {
    if (err instanceof PolicyError) return err;
    throw err;
  }
  throw new Error('expected a PolicyError');
}

const stmt = (extra: Record<string, unknown>) =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*', ...extra }],
  });

describe('parsePolicy: normalization', () => {
  test('single statement and single values become arrays; numbers and booleans become strings', () => {
    const doc = parsePolicy(
      JSON.stringify({
        Version: '2012-10-17',
        Id: 'key-default-1',
        Statement: {
          Sid: 'One',
          Effect: 'Allow',
          Principal: { AWS: '111122223333', Service: ['s3.amazonaws.com'] },
          Action: 'kms:Decrypt',
          Resource: '*',
          Condition: { NumericLessThan: { 's3:max-keys': 10 }, Bool: { 'aws:SecureTransport': true } },
        },
      }),
      'resource',
    );
    expect(doc).toEqual({
      Version: '2012-10-17',
      Id: 'key-default-1',
      Statement: [
        {
          Sid: 'One',
          Effect: 'Allow',
          Principal: { AWS: ['111122223333'], Service: ['s3.amazonaws.com'] },
          Action: ['kms:Decrypt'],
          Resource: ['*'],
          Condition: { NumericLessThan: { 's3:max-keys': ['10'] }, Bool: { 'aws:SecureTransport': ['true'] } },
        },
      ],
    });
  });

  test('Principal "*" stays the string "*"; NotPrincipal/NotAction/NotResource are kept', () => {
    const doc = parsePolicy(
      JSON.stringify({
        Statement: [
          { Effect: 'Deny', NotPrincipal: { AWS: 'arn:aws:iam::111122223333:user/Bob' }, NotAction: 's3:Get*', NotResource: 'arn:aws:s3:::b/public/*' },
          { Effect: 'Allow', Principal: '*', Action: '*', Resource: '*' },
        ],
      }),
      'resource',
    );
    expect(doc.Version).toBeUndefined();
    expect(doc.Statement[0]).toEqual({
      Effect: 'Deny',
      NotPrincipal: { AWS: ['arn:aws:iam::111122223333:user/Bob'] },
      NotAction: ['s3:Get*'],
      NotResource: ['arn:aws:s3:::b/public/*'],
    });
    expect(doc.Statement[1]!.Principal).toBe('*');
  });

  test('accepts both language versions, the KMS default key policy and identity policies', () => {
    expect(parsePolicy(stmt({}).replace('2012-10-17', '2008-10-17'), 'resource').Version).toBe('2008-10-17');
    const kmsDefault = {
      Version: '2012-10-17',
      Id: 'key-default-1',
      Statement: [
        {
          Sid: 'Enable IAM User Permissions',
          Effect: 'Allow',
          Principal: { AWS: 'arn:aws:iam::111122223333:root' },
          Action: 'kms:*',
          Resource: '*',
        },
      ],
    };
    expect(parsePolicy(JSON.stringify(kmsDefault), 'resource').Statement).toHaveLength(1);
    const identity = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['kms:Encrypt', 'kms:Decrypt'], Resource: '*' }] };
    expect(parsePolicy(JSON.stringify(identity), 'identity').Statement[0]!.Action).toEqual(['kms:Encrypt', 'kms:Decrypt']);
  });

  test('condition operators: qualifiers, IfExists, any letter case', () => {
    for (const op of [
      'StringEquals',
      'ForAnyValue:StringLike',
      'ForAllValues:StringNotEqualsIfExists',
      'ArnLikeIfExists',
      'Null',
      'stringequalsignorecase',
      'BinaryEquals',
      'NotIpAddressIfExists',
      'DateGreaterThanEquals',
    ]) {
      expect(isConditionOperator(op)).toBe(true);
    }
    for (const op of ['StringEqual', 'NullIfExists', 'ForAnyValue:Null', 'ForSomeValues:StringEquals', 'BinaryNotEquals', 'IfExists']) {
      expect(isConditionOperator(op)).toBe(false);
    }
  });
});

describe('parsePolicy: rejections', () => {
  test.each([
    ['not JSON', '{"Statement": [', /not valid JSON/],
    ['a JSON array', '[]', /must be a JSON object/],
    ['null', 'null', /must be a JSON object/],
    ['an unknown top-level element', JSON.stringify({ Statement: [], Foo: 1 }), /Unknown field Foo/],
    ['a bad Version', stmt({}).replace('2012-10-17', '2012-10-18'), /Invalid Version/],
    ['a missing Statement', JSON.stringify({ Version: '2012-10-17' }), /Missing required field Statement/],
    ['an empty Statement', JSON.stringify({ Statement: [] }), /no statements/],
    ['a statement that is not an object', JSON.stringify({ Statement: ['x'] }), /must be an object/],
    ['a missing Effect', stmt({ Effect: undefined }), /Missing required field Effect/],
    ['Effect in the wrong case', stmt({ Effect: 'allow' }), /Invalid effect: allow/],
    ['Effect not a string', stmt({ Effect: true }), /Invalid effect/],
    ['both Action and NotAction', stmt({ NotAction: 's3:PutObject' }), /both Action and NotAction/],
    ['neither Action nor NotAction', stmt({ Action: undefined }), /Missing required field Action/],
    ['both Resource and NotResource', stmt({ NotResource: '*' }), /both Resource and NotResource/],
    ['no Resource', stmt({ Resource: undefined }), /Missing required field Resource/],
    ['an unknown statement element', stmt({ Actions: 's3:*' }), /Unknown field Actions/],
    ['an unknown condition operator', stmt({ Condition: { StringEqualz: { 'aws:SourceIp': 'x' } } }), /Invalid Condition type : StringEqualz/],
    ['NullIfExists', stmt({ Condition: { NullIfExists: { k: 'true' } } }), /Invalid Condition type/],
    ['ForAllValues:Null', stmt({ Condition: { 'ForAllValues:Null': { k: 'true' } } }), /Invalid Condition type/],
    ['a condition block that is not an object', stmt({ Condition: { StringEquals: 'x' } }), /must map condition keys/],
    ['a Condition that is not an object', stmt({ Condition: ['x'] }), /Condition must be an object/],
    ['an object as a condition value', stmt({ Condition: { StringEquals: { k: { a: 1 } } } }), /Condition values must be/],
    ['a null condition value', stmt({ Condition: { StringEquals: { k: null } } }), /Condition values must be/],
    ['a non-numeric Numeric value', stmt({ Condition: { NumericLessThan: { 's3:max-keys': 'ten' } } }), /Invalid numeric value/],
    ['an invalid date', stmt({ Condition: { DateLessThan: { 'aws:CurrentTime': '2020-13-01T00:00:00Z' } } }), /Invalid date value/],
    ['Feb 30', stmt({ Condition: { DateLessThan: { 'aws:CurrentTime': '2024-02-30' } } }), /Invalid date value/],
    ['an invalid CIDR', stmt({ Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/33' } } }), /Invalid IP address/],
    ['an invalid IPv6 address', stmt({ Condition: { NotIpAddress: { 'aws:SourceIp': '2001:db8::1::2' } } }), /Invalid IP address/],
    ['a Null value other than true/false', stmt({ Condition: { Null: { k: 'yes' } } }), /Invalid value "yes" for Null/],
    ['invalid base-64 for BinaryEquals', stmt({ Condition: { BinaryEquals: { k: 'not base64!' } } }), /Invalid base-64/],
    ['an action without a service prefix', stmt({ Action: 'GetObject' }), /invalid action: "GetObject"/],
    ['an empty Action list', stmt({ Action: [] }), /Action must not be empty/],
    ['a resource that is not an ARN', stmt({ Resource: 'b/*' }), /invalid resource: "b\/\*"/],
    ['a missing Principal in a resource policy', stmt({ Principal: undefined }), /Missing required field Principal/],
    ['both Principal and NotPrincipal', stmt({ NotPrincipal: { AWS: '111122223333' } }), /both Principal and NotPrincipal/],
    ['a principal string other than *', stmt({ Principal: '111122223333' }), /Invalid principal/],
    ['an unknown principal type', stmt({ Principal: { IAM: '111122223333' } }), /unknown principal type "IAM"/],
    ['an empty principal object', stmt({ Principal: {} }), /Invalid principal/],
    ['a partial wildcard principal', stmt({ Principal: { AWS: 'arn:aws:iam::111122223333:user/*' } }), /wildcards are not allowed/],
    ['a malformed AWS principal', stmt({ Principal: { AWS: 'alice' } }), /Invalid principal in policy: "alice"/],
    ['an 11-digit account', stmt({ Principal: { AWS: '11112222333' } }), /Invalid principal/],
    // The account of a principal ARN is 12 digits; a user group is never a principal.
    // https://repost.aws/knowledge-center/s3-invalid-principal-in-policy-error
    ['an ARN whose account is not 12 digits', stmt({ Principal: { AWS: 'arn:aws:iam::abc:root' } }), /Invalid principal in policy/],
    ['an ARN with an 11-digit account', stmt({ Principal: { AWS: 'arn:aws:iam::11112222333:user/bob' } }), /Invalid principal in policy/],
    ['a user group ARN', stmt({ Principal: { AWS: 'arn:aws:iam::111122223333:group/admins' } }), /Invalid principal in policy/],
    ['an IAM policy ARN', stmt({ Principal: { AWS: 'arn:aws:iam::aws:policy/AdministratorAccess' } }), /Invalid principal in policy/],
    ['an S3 ARN', stmt({ Principal: { AWS: 'arn:aws:s3:::bucket' } }), /Invalid principal in policy/],
    [
      'duplicate Sids',
      JSON.stringify({
        Statement: [
          { Sid: 'A', Effect: 'Allow', Principal: '*', Action: '*', Resource: '*' },
          { Sid: 'A', Effect: 'Deny', Principal: '*', Action: '*', Resource: '*' },
        ],
      }),
      /must be unique/,
    ],
  ])('%s', (_name, text, message) => {
    const err = errorOf(text);
    expect(err).toBeInstanceOf(PolicyError);
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toMatch(message);
  });

  test.each([
    '111122223333',
    '*',
    'arn:aws:iam::111122223333:root',
    'arn:aws:iam::111122223333:user/bob',
    'arn:aws:iam::111122223333:user/path/to/bob',
    'arn:aws:iam::111122223333:role/app',
    'arn:aws:sts::111122223333:assumed-role/app/session',
    'arn:aws:sts::111122223333:federated-user/carol',
    'arn:aws-cn:iam::111122223333:root',
    'arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity E2QWRUHAPOMQZL',
  ])('accepts the AWS principal %s', (principal) => {
    expect(() => parsePolicy(stmt({ Principal: { AWS: principal } }), 'resource')).not.toThrow();
  });

  test('identity policies must not name a principal', () => {
    expect(errorOf(stmt({}), 'identity').message).toMatch(/prohibited field Principal/);
    expect(errorOf(stmt({ Principal: undefined, NotPrincipal: '*' }), 'identity').message).toMatch(/prohibited field NotPrincipal/);
  });

  test('errors say where the problem is', () => {
    const err = errorOf(
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Principal: '*', Action: '*', Resource: '*' },
          { Effect: 'Allow', Principal: '*', Action: '*', Resource: '*', Condition: { IpAddress: { 'aws:SourceIp': 'nope' } } },
        ],
      }),
    );
    expect(err.path).toBe('Statement[1].Condition.IpAddress');
  });

  test('a policy variable is fine in string operators but not where values are checked', () => {
    expect(() => parsePolicy(stmt({ Condition: { StringLike: { 's3:prefix': '${aws:username}/*' } } }), 'resource')).not.toThrow();
    expect(() => parsePolicy(stmt({ Condition: { NumericEquals: { 's3:max-keys': '${aws:username}' } } }), 'resource')).toThrow(
      /Invalid numeric value/,
    );
  });
});

describe('parsePolicy: deeply nested values (a 32 KB policy nests some 16,000 levels)', () => {
  const nested = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);
  test.each([
    ['Effect', `{"Statement": [{"Effect": ${nested(16_000)}, "Principal": "*", "Action": "kms:*", "Resource": "*"}]}`, /Invalid effect: an array/],
    ['Version', `{"Version": ${nested(16_000)}, "Statement": []}`, /Invalid Version an array/],
    ['Resource', `{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": ${nested(16_000)}}]}`, /Resource values must be strings/],
    ['a condition value', `{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*", "Condition": {"StringEquals": {"k": ${nested(16_000)}}}}]}`, /Condition values must be/],
  ])('in %s is a PolicyError, not a stack overflow', (_name, text, message) => {
    expect(() => parsePolicy(text, 'resource')).toThrow(PolicyError);
    expect(() => parsePolicy(text, 'resource')).toThrow(message);
  });
});
