// parsePolicy's refusals word for word, with the location each names (PolicyError.path): KMS puts
// the message into MalformedPolicyDocumentException and S3 into MalformedPolicy, so the words are
// part of what a user sees. Also what is accepted at the edges of each rule.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
import { PolicyError, parsePolicy } from '../src';

type Kind = 'resource' | 'identity';

function refusal(text: unknown, kind: Kind = 'resource'): { message: string; path: string | undefined } {
  try {
    parsePolicy(text as string, kind);
  } catch (err) {
    expect(err).toBeInstanceOf(PolicyError);
    const e = err as PolicyError;
    expect(e.name).toBe('PolicyError');
    return { message: e.message, path: e.path };
  }
  throw new Error(`accepted: ${String(text)}`);
}

const statement = (extra: Record<string, unknown>, kind: Kind = 'resource') =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', ...(kind === 'resource' ? { Principal: '*' } : {}), Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*', ...extra },
    ],
  });
const condition = (block: unknown) => statement({ Condition: block });

describe('document-level refusals (no path)', () => {
  it.each([
    ['a number instead of text', 42, 'Policy must be a string of JSON'],
    ['a JSON array', '[]', 'Policy must be a JSON object'],
    ['JSON null', 'null', 'Policy must be a JSON object'],
    ['a JSON string', '"x"', 'Policy must be a JSON object'],
    ['an unknown top-level field', '{"Statement": {}, "statement": 1}', 'Unknown field statement'],
    ['no Statement', '{"Version": "2012-10-17", "Id": "x"}', 'Missing required field Statement'],
  ])('%s', (_name, text, message) => {
    expect(refusal(text)).toEqual({ message, path: undefined });
  });

  it('invalid JSON says why, in the parser words', () => {
    const { message, path } = refusal('{"Statement": [');
    expect(message).toMatch(/^Policy is not valid JSON: ./);
    expect(message).toContain(((): string => {
      try {
        JSON.parse('{"Statement": [');
      } catch (err) {
        return (err as Error).message;
      }
      return '';
    })());
    expect(path).toBeUndefined();
  });

  it.each([
    ['a wrong date', '"2012-10-18"', 'Invalid Version "2012-10-18": use "2012-10-17" or "2008-10-17"'],
    ['a number', '20121017', 'Invalid Version 20121017: use "2012-10-17" or "2008-10-17"'],
    ['null', 'null', 'Invalid Version null: use "2012-10-17" or "2008-10-17"'],
    ['an object', '{}', 'Invalid Version an object: use "2012-10-17" or "2008-10-17"'],
    ['an array', '["2012-10-17"]', 'Invalid Version an array: use "2012-10-17" or "2008-10-17"'],
  ])('Version %s', (_name, version, message) => {
    expect(refusal(`{"Version": ${version}, "Statement": {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}}`)).toEqual({
      message,
      path: 'Version',
    });
  });

  it('Id must be a string; an empty Statement array is refused at Statement', () => {
    expect(refusal('{"Id": 7, "Statement": {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}}')).toEqual({
      message: 'Id must be a string',
      path: 'Id',
    });
    expect(refusal('{"Statement": []}')).toEqual({ message: 'Policy has no statements', path: 'Statement' });
  });

  it('keeps Version and Id, and both versions are valid', () => {
    const doc = parsePolicy('{"Version": "2008-10-17", "Id": "", "Statement": {"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*"}}', 'resource');
    expect(doc).toEqual({ Version: '2008-10-17', Id: '', Statement: [{ Effect: 'Deny', Principal: '*', Action: ['*'], Resource: ['*'] }] });
    expect(parsePolicy(statement({}), 'resource').Version).toBe('2012-10-17');
    expect('Version' in parsePolicy('{"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}', 'identity')).toBe(false);
  });
});

describe('statement refusals (path Statement[i])', () => {
  it.each([
    ['a statement that is a string', '{"Statement": ["x"]}', 'Each statement must be an object'],
    ['a statement that is null', '{"Statement": [null]}', 'Each statement must be an object'],
    ['a statement that is an array', '{"Statement": [[]]}', 'Each statement must be an object'],
    ['an unknown field', statement({ Conditions: {} }), 'Unknown field Conditions'],
    ['no Effect', statement({ Effect: undefined }), 'Missing required field Effect'],
    ['Effect in lower case', statement({ Effect: 'deny' }), 'Invalid effect: deny'],
    ['Effect true', statement({ Effect: true }), 'Invalid effect: true'],
    ['Effect null', statement({ Effect: null }), 'Invalid effect: null'],
    ['Effect an object', statement({ Effect: { Allow: true } }), 'Invalid effect: an object'],
    ['Effect an array', statement({ Effect: ['Allow'] }), 'Invalid effect: an array'],
    ['a Sid that is a number', statement({ Sid: 1 }), 'Sid must be a string'],
    ['Principal and NotPrincipal', statement({ NotPrincipal: '*' }), 'Statement cannot have both Principal and NotPrincipal'],
    ['no Principal', statement({ Principal: undefined }), 'Missing required field Principal'],
    ['Action and NotAction', statement({ NotAction: '*' }), 'Statement cannot have both Action and NotAction'],
    ['no Action', statement({ Action: undefined }), 'Missing required field Action'],
    ['Resource and NotResource', statement({ NotResource: '*' }), 'Statement cannot have both Resource and NotResource'],
    ['no Resource', statement({ Resource: undefined }), 'Missing required field Resource'],
    ['an empty Action list', statement({ Action: [] }), 'Action must not be empty'],
    ['an empty NotAction list', statement({ Action: undefined, NotAction: [] }), 'NotAction must not be empty'],
    ['a number as an action', statement({ Action: ['s3:GetObject', 5] }), 'Action values must be strings'],
    ['a number as a NotResource', statement({ Resource: undefined, NotResource: 5 }), 'NotResource values must be strings'],
    ['an empty Resource list', statement({ Resource: [] }), 'Resource must not be empty'],
    ['an action without a service', statement({ Action: 'GetObject' }), 'Policy has invalid action: "GetObject"'],
    ['an action with a space', statement({ Action: 's3:Get Object' }), 'Policy has invalid action: "s3:Get Object"'],
    ['an action with a leading space', statement({ Action: ' s3:GetObject' }), 'Policy has invalid action: " s3:GetObject"'],
    ['an action with two colons', statement({ Action: 's3:Get:Object' }), 'Policy has invalid action: "s3:Get:Object"'],
    ['a wildcard service', statement({ Action: 's*:GetObject' }), 'Policy has invalid action: "s*:GetObject"'],
    ['a ? in the service', statement({ Action: 's?:GetObject' }), 'Policy has invalid action: "s?:GetObject"'],
    ['an empty action name', statement({ Action: 's3:' }), 'Policy has invalid action: "s3:"'],
    ['no service before the colon', statement({ Action: ':GetObject' }), 'Policy has invalid action: ":GetObject"'],
    ['a NotAction without a service', statement({ Action: undefined, NotAction: 'x' }), 'Policy has invalid action: "x"'],
    ['a resource that is not an ARN', statement({ Resource: 'bucket/*' }), 'Policy has invalid resource: "bucket/*"'],
    ['a NotResource that is not an ARN', statement({ Resource: undefined, NotResource: ['arn:aws:s3:::b', 'Arn:x'] }), 'Policy has invalid resource: "Arn:x"'],
  ])('%s', (_name, text, message) => {
    expect(refusal(text)).toEqual({ message, path: 'Statement[0]' });
  });

  it('names the statement by its index, for a later statement too', () => {
    const text = JSON.stringify({
      Statement: [
        { Effect: 'Allow', Principal: '*', Action: '*', Resource: '*' },
        { Effect: 'Allow', Principal: '*', Action: '*', Resource: '*', Extra: 1 },
      ],
    });
    expect(refusal(text)).toEqual({ message: 'Unknown field Extra', path: 'Statement[1]' });
  });

  it('identity policies: Principal and NotPrincipal are prohibited, and neither is required', () => {
    expect(refusal(statement({ Principal: '*' }, 'identity'), 'identity')).toEqual({ message: 'Has prohibited field Principal', path: 'Statement[0]' });
    expect(refusal(statement({ NotPrincipal: '*' }, 'identity'), 'identity')).toEqual({ message: 'Has prohibited field NotPrincipal', path: 'Statement[0]' });
    expect(parsePolicy(statement({}, 'identity'), 'identity').Statement[0]).toEqual({ Effect: 'Allow', Action: ['s3:GetObject'], Resource: ['arn:aws:s3:::b/*'] });
  });

  it('accepts "*", service:pattern actions with wildcards after the colon, and arn: resources', () => {
    const doc = parsePolicy(
      statement({ Sid: 'S1', Action: ['*', 's3:*', 'kms:Re*', 's3:Get?bject', 'iam-x_y.z:A'], Resource: ['*', 'arn:', 'arn:aws:s3:::b/*'] }),
      'resource',
    );
    expect(doc.Statement[0]).toEqual({
      Sid: 'S1',
      Effect: 'Allow',
      Principal: '*',
      Action: ['*', 's3:*', 'kms:Re*', 's3:Get?bject', 'iam-x_y.z:A'],
      Resource: ['*', 'arn:', 'arn:aws:s3:::b/*'],
    });
    const not = parsePolicy(statement({ Action: undefined, NotAction: 'kms:*', Resource: undefined, NotResource: 'arn:aws:kms:*' }), 'resource');
    expect(not.Statement[0]).toEqual({ Effect: 'Allow', Principal: '*', NotAction: ['kms:*'], NotResource: ['arn:aws:kms:*'] });
  });

  it('Sids are unique within a document, but empty Sids may repeat', () => {
    const two = (a: string, b: string) =>
      JSON.stringify({
        Statement: [
          { Sid: a, Effect: 'Allow', Principal: '*', Action: '*', Resource: '*' },
          { Sid: b, Effect: 'Deny', Principal: '*', Action: '*', Resource: '*' },
        ],
      });
    expect(refusal(two('Same', 'Same'))).toEqual({ message: 'Statement IDs (SID) in a single policy must be unique: "Same"', path: 'Statement[1]' });
    expect(parsePolicy(two('', ''), 'resource').Statement.map((s) => s.Sid)).toEqual(['', '']);
    expect(parsePolicy(two('a', 'A'), 'resource').Statement.map((s) => s.Sid)).toEqual(['a', 'A']);
  });
});

describe('principal refusals', () => {
  it.each([
    ['a string other than *', '111122223333', 'Invalid principal in policy: Principal must be "*" or an object'],
    ['an array', ['*'], 'Invalid principal in policy: Principal must be "*" or an object'],
    ['null', null, 'Invalid principal in policy: Principal must be "*" or an object'],
    ['an empty object', {}, 'Invalid principal in policy: Principal is empty'],
    ['an unknown type', { aws: '*' }, 'Invalid principal in policy: unknown principal type "aws"'],
    ['an empty list', { AWS: [] }, 'Principal.AWS must not be empty'],
    ['a number', { Service: [5] }, 'Principal.Service values must be strings'],
    ['an empty AWS principal', { AWS: '' }, 'Invalid principal in policy: empty AWS principal'],
    ['an empty Service principal', { Service: ['s3.amazonaws.com', ''] }, 'Invalid principal in policy: empty Service principal'],
    ['a user name', { AWS: 'alice' }, 'Invalid principal in policy: "alice"'],
    ['13 digits', { AWS: '1111222233334' }, 'Invalid principal in policy: "1111222233334"'],
    ['an account id with a prefix', { AWS: 'x111122223333' }, 'Invalid principal in policy: "x111122223333"'],
    ['an S3 ARN', { AWS: 'arn:aws:s3:::bucket' }, 'Invalid principal in policy: "arn:aws:s3:::bucket"'],
    ['an IAM ARN with a region', { AWS: 'arn:aws:iam:us-east-1:111122223333:root' }, 'Invalid principal in policy: "arn:aws:iam:us-east-1:111122223333:root"'],
    ['an ARN with no account', { AWS: 'arn:aws:iam:::root' }, 'Invalid principal in policy: "arn:aws:iam:::root"'],
    ['an ARN with no resource', { AWS: 'arn:aws:iam::111122223333:' }, 'Invalid principal in policy: "arn:aws:iam::111122223333:"'],
    ['an ARN with a space', { AWS: 'arn:aws:iam::111122223333:user/a b' }, 'Invalid principal in policy: "arn:aws:iam::111122223333:user/a b"'],
    ['text before the ARN', { AWS: 'x arn:aws:iam::111122223333:root' }, 'Invalid principal in policy: "x arn:aws:iam::111122223333:root"'],
    ['no partition', { AWS: 'arn::iam::111122223333:root' }, 'Invalid principal in policy: "arn::iam::111122223333:root"'],
    [
      'a * in a user ARN',
      { AWS: 'arn:aws:iam::111122223333:user/*' },
      'Invalid principal in policy: "arn:aws:iam::111122223333:user/*" (wildcards are not allowed in principal ARNs)',
    ],
    [
      'a ? in a role ARN',
      { AWS: 'arn:aws:iam::111122223333:role/a?c' },
      'Invalid principal in policy: "arn:aws:iam::111122223333:role/a?c" (wildcards are not allowed in principal ARNs)',
    ],
    [
      'a * for the account',
      { AWS: 'arn:aws:iam::*:root' },
      'Invalid principal in policy: "arn:aws:iam::*:root" (wildcards are not allowed in principal ARNs)',
    ],
  ])('Principal: %s', (_name, principal, message) => {
    expect(refusal(statement({ Principal: principal }))).toEqual({ message, path: 'Statement[0]' });
  });

  it('NotPrincipal is named as such', () => {
    expect(refusal(statement({ Principal: undefined, NotPrincipal: 'me' }))).toEqual({
      message: 'Invalid principal in policy: NotPrincipal must be "*" or an object',
      path: 'Statement[0]',
    });
    expect(refusal(statement({ Principal: undefined, NotPrincipal: {} }))).toEqual({ message: 'Invalid principal in policy: NotPrincipal is empty', path: 'Statement[0]' });
    expect(refusal(statement({ Principal: undefined, NotPrincipal: { AWS: [] } }))).toEqual({ message: 'NotPrincipal.AWS must not be empty', path: 'Statement[0]' });
  });

  it('accepts accounts, IAM and STS ARNs of any partition, and wildcards only outside AWS ARNs', () => {
    const principal = {
      AWS: ['*', '111122223333', 'arn:aws:iam::111122223333:root', 'arn:aws-cn:sts::111122223333:assumed-role/r/s', 'arn:aws:iam::111122223333:user/path/a.b+c'],
      Service: ['*.amazonaws.com'],
      Federated: 'cognito-identity.amazonaws.com',
      CanonicalUser: '79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be',
    };
    expect(parsePolicy(statement({ Principal: principal }), 'resource').Statement[0]!.Principal).toEqual({
      ...principal,
      Federated: ['cognito-identity.amazonaws.com'],
      CanonicalUser: ['79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be'],
    });
    expect(parsePolicy(statement({ Principal: undefined, NotPrincipal: { AWS: '111122223333' } }), 'resource').Statement[0]).toMatchObject({
      NotPrincipal: { AWS: ['111122223333'] },
    });
  });
});

describe('condition refusals (path Statement[i].Condition...)', () => {
  it.each([
    ['a Condition that is an array', [], 'Condition must be an object', 'Statement[0].Condition'],
    ['a Condition that is a string', 'x', 'Condition must be an object', 'Statement[0].Condition'],
    ['an unknown operator', { StringEqual: { k: 'v' } }, 'Invalid Condition type : StringEqual', 'Statement[0].Condition.StringEqual'],
    // The operator is judged before its block: an unknown one with a malformed block names the operator.
    ['an unknown operator with a block that is no object', { StringEqual: 'k' }, 'Invalid Condition type : StringEqual', 'Statement[0].Condition.StringEqual'],
    ['NullIfExists', { NullIfExists: { k: 'true' } }, 'Invalid Condition type : NullIfExists', 'Statement[0].Condition.NullIfExists'],
    ['ForAnyValue:Null', { 'ForAnyValue:Null': { k: 'true' } }, 'Invalid Condition type : ForAnyValue:Null', 'Statement[0].Condition.ForAnyValue:Null'],
    ['a block that is a string', { StringEquals: 'k' }, 'Condition StringEquals must map condition keys to values', 'Statement[0].Condition.StringEquals'],
    ['a block that is an array', { StringEquals: [] }, 'Condition StringEquals must map condition keys to values', 'Statement[0].Condition.StringEquals'],
    ['an empty key', { StringEquals: { '': 'v' } }, 'Condition key must not be empty', 'Statement[0].Condition.StringEquals'],
    ['an object value', { StringEquals: { 'aws:username': { a: 1 } } }, 'Condition values must be strings, numbers or booleans', 'Statement[0].Condition.StringEquals.aws:username'],
    ['a null in a list', { StringLike: { 's3:prefix': ['a', null] } }, 'Condition values must be strings, numbers or booleans', 'Statement[0].Condition.StringLike.s3:prefix'],
    ['a number that is not one', { NumericLessThan: { 's3:max-keys': 'ten' } }, 'Invalid numeric value "ten" for NumericLessThan', 'Statement[0].Condition.NumericLessThan'],
    ['a numeric value under IfExists', { NumericEqualsIfExists: { n: '1x' } }, 'Invalid numeric value "1x" for NumericEquals', 'Statement[0].Condition.NumericEqualsIfExists'],
    ['a bad date', { DateGreaterThan: { 'aws:CurrentTime': '2020-13-01' } }, 'Invalid date value "2020-13-01" for DateGreaterThan', 'Statement[0].Condition.DateGreaterThan'],
    ['a bad CIDR', { NotIpAddress: { 'aws:SourceIp': '10.0.0.0/33' } }, 'Invalid IP address or CIDR block "10.0.0.0/33" for NotIpAddress', 'Statement[0].Condition.NotIpAddress'],
    ['a bad Null value', { Null: { k: 'yes' } }, 'Invalid value "yes" for Null: use "true" or "false"', 'Statement[0].Condition.Null'],
    ['bad base-64', { BinaryEquals: { k: 'a!' } }, 'Invalid base-64 value "a!" for BinaryEquals', 'Statement[0].Condition.BinaryEquals'],
    ['base-64 with three =', { BinaryEquals: { k: 'QQ===' } }, 'Invalid base-64 value "QQ===" for BinaryEquals', 'Statement[0].Condition.BinaryEquals'],
  ])('%s', (_name, block, message, path) => {
    expect(refusal(condition(block))).toEqual({ message, path });
  });

  it('keeps numbers and booleans as their text, and single values as one-element lists', () => {
    const doc = parsePolicy(
      condition({ NumericLessThan: { 's3:max-keys': 10 }, Bool: { 'aws:SecureTransport': [true, false] }, StringEquals: { 'aws:username': 'alice' } }),
      'resource',
    );
    expect(doc.Statement[0]!.Condition).toEqual({
      NumericLessThan: { 's3:max-keys': ['10'] },
      Bool: { 'aws:SecureTransport': ['true', 'false'] },
      StringEquals: { 'aws:username': ['alice'] },
    });
  });

  it('accepts well-formed values of every checked family, and Null in any case', () => {
    expect(() =>
      parsePolicy(
        condition({
          NumericEquals: { n: ['1', '-2.5', '+3', '.5', '1e3', ' 7 '] },
          DateEquals: { d: ['2020', '2020-01-01T00:00:00Z', '1577836800'] },
          IpAddress: { ip: ['10.0.0.0/8', '::1', ' 1.2.3.4 '] },
          Null: { k: ['TRUE', 'False', ' true '] },
          BinaryEquals: { b: ['QQ==', '', ' QUJD '] },
        }),
        'resource',
      ),
    ).not.toThrow();
  });
});
