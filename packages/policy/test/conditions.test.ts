/**
 * Condition operators, evaluated through a one-statement identity policy: `holds(condition, keys)`
 * is true when the statement applies (the Allow is granted).
 */
import { evaluatePolicy, parsePolicy, type RequestContext } from '../src';

type Keys = RequestContext['keys'];

function holds(condition: Record<string, unknown>, keys: Keys, version = '2012-10-17'): boolean {
  const policy = parsePolicy(
    JSON.stringify({ Version: version, Statement: [{ Effect: 'Allow', Action: '*', Resource: '*', Condition: condition }] }),
    'identity',
  );
  const ctx: RequestContext = {
    principal: { arn: 'arn:aws:iam::111122223333:user/alice', accountId: '111122223333' },
    action: 's3:GetObject',
    resource: 'arn:aws:s3:::bucket/key',
    keys,
  };
  return evaluatePolicy(policy, ctx) === 'Allow';
}

describe('string operators', () => {
  test('StringEquals: exact and case-sensitive, several values are OR, no wildcards', () => {
    const c = { StringEquals: { 'aws:PrincipalTag/team': ['red', 'blue'] } };
    expect(holds(c, { 'aws:PrincipalTag/team': 'red' })).toBe(true);
    expect(holds(c, { 'aws:PrincipalTag/team': 'blue' })).toBe(true);
    expect(holds(c, { 'aws:PrincipalTag/team': 'Red' })).toBe(false);
    expect(holds(c, { 'aws:PrincipalTag/team': 'green' })).toBe(false);
    expect(holds(c, {})).toBe(false); // absent key: false
    expect(holds({ StringEquals: { k: 'a*' } }, { k: 'abc' })).toBe(false);
    expect(holds({ StringEquals: { k: 'a*' } }, { k: 'a*' })).toBe(true);
  });

  test('StringNotEquals: several values are NOR; an absent key makes it true', () => {
    const c = { StringNotEquals: { 'aws:PrincipalTag/role': ['audit', 'security'] } };
    expect(holds(c, { 'aws:PrincipalTag/role': 'audit' })).toBe(false);
    expect(holds(c, { 'aws:PrincipalTag/role': 'security' })).toBe(false);
    expect(holds(c, { 'aws:PrincipalTag/role': 'dev' })).toBe(true);
    expect(holds(c, {})).toBe(true);
  });

  test('IgnoreCase variants', () => {
    expect(holds({ StringEqualsIgnoreCase: { k: 'AES256' } }, { k: 'aes256' })).toBe(true);
    expect(holds({ StringEqualsIgnoreCase: { k: 'AES256' } }, { k: 'aws:kms' })).toBe(false);
    expect(holds({ StringNotEqualsIgnoreCase: { k: 'AES256' } }, { k: 'aes256' })).toBe(false);
    expect(holds({ StringNotEqualsIgnoreCase: { k: 'AES256' } }, { k: 'aws:kms' })).toBe(true);
    expect(holds({ StringNotEqualsIgnoreCase: { k: 'AES256' } }, {})).toBe(true);
  });

  test('StringLike / StringNotLike: * and ?, case-sensitive', () => {
    const like = { StringLike: { 's3:prefix': ['', 'home/', 'home/*/'] } };
    expect(holds(like, { 's3:prefix': '' })).toBe(true);
    expect(holds(like, { 's3:prefix': 'home/alice/' })).toBe(true);
    expect(holds(like, { 's3:prefix': 'Home/alice/' })).toBe(false);
    expect(holds(like, { 's3:prefix': 'tmp/' })).toBe(false);
    expect(holds(like, {})).toBe(false);
    expect(holds({ StringLike: { k: 'v?' } }, { k: 'v1' })).toBe(true);
    expect(holds({ StringLike: { k: 'v?' } }, { k: 'v12' })).toBe(false);
    const notLike = { StringNotLike: { k: ['tmp/*', 'cache/*'] } };
    expect(holds(notLike, { k: 'tmp/x' })).toBe(false);
    expect(holds(notLike, { k: 'cache/y' })).toBe(false);
    expect(holds(notLike, { k: 'data/z' })).toBe(true);
    expect(holds(notLike, {})).toBe(true);
  });

  test('condition key names are case-insensitive; values are not', () => {
    expect(holds({ StringEquals: { 'AWS:SourceVpce': 'vpce-1a2b' } }, { 'aws:sourcevpce': 'vpce-1a2b' })).toBe(true);
    expect(holds({ StringEquals: { 'aws:sourcevpce': 'vpce-1a2b' } }, { 'AWS:SOURCEVPCE': 'VPCE-1A2B' })).toBe(false);
  });

  test('several keys, and several operators, must all hold', () => {
    const c = { StringEquals: { a: '1', b: '2' }, StringLike: { c: 'x*' } };
    expect(holds(c, { a: '1', b: '2', c: 'xyz' })).toBe(true);
    expect(holds(c, { a: '1', b: '3', c: 'xyz' })).toBe(false);
    expect(holds(c, { a: '1', b: '2', c: 'yyy' })).toBe(false);
    expect(holds(c, { a: '1', c: 'xyz' })).toBe(false);
  });
});

describe('numeric operators', () => {
  test.each([
    ['NumericEquals', '10', [['10', true], ['10.0', true], ['11', false]]],
    ['NumericNotEquals', '10', [['10', false], ['11', true]]],
    ['NumericLessThan', '10', [['9.5', true], ['10', false], ['-3', true]]],
    ['NumericLessThanEquals', '10', [['10', true], ['11', false]]],
    ['NumericGreaterThan', '10', [['10', false], ['1e2', true]]],
    ['NumericGreaterThanEquals', '10', [['10', true], ['9', false]]],
  ] as const)('%s %s', (op, policyValue, cases) => {
    for (const [value, expected] of cases) {
      expect(holds({ [op]: { 's3:max-keys': policyValue } }, { 's3:max-keys': value })).toBe(expected);
    }
  });

  test('JSON numbers, absent keys and non-numeric request values', () => {
    expect(holds({ NumericLessThanEquals: { 's3:max-keys': 10 } }, { 's3:max-keys': '10' })).toBe(true);
    expect(holds({ NumericLessThanEquals: { 's3:max-keys': 10 } }, {})).toBe(false);
    expect(holds({ NumericNotEquals: { 's3:max-keys': 10 } }, {})).toBe(true);
    expect(holds({ NumericLessThan: { 's3:max-keys': 10 } }, { 's3:max-keys': 'lots' })).toBe(false);
  });
});

describe('date operators', () => {
  const now = '2024-06-15T12:00:00Z';
  test.each([
    ['DateLessThan', '2024-07-01T00:00:00Z', true],
    ['DateLessThan', '2024-06-15T12:00:00Z', false],
    ['DateLessThanEquals', '2024-06-15T12:00:00Z', true],
    ['DateGreaterThan', '2024-06-15', true],
    ['DateGreaterThan', '2024-06-16', false],
    ['DateGreaterThanEquals', '2024-06-15T14:00:00+02:00', true], // same instant
    ['DateEquals', '2024-06-15T08:00:00-04:00', true],
    ['DateEquals', '2024-06-15T12:00:01Z', false],
    ['DateNotEquals', '2024-06-15T12:00:01Z', true],
    ['DateNotEquals', '1718452800', false], // epoch seconds of the same instant
    ['DateLessThan', '1718452801', true],
  ])('aws:CurrentTime %s %s → %s', (op, policyValue, expected) => {
    expect(holds({ [op]: { 'aws:CurrentTime': policyValue } }, { 'aws:CurrentTime': now })).toBe(expected);
  });

  test('epoch request values (aws:EpochTime) compare with ISO policy values, and vice versa', () => {
    expect(holds({ DateGreaterThan: { 'aws:EpochTime': '2024-01-01T00:00:00Z' } }, { 'aws:EpochTime': '1718452800' })).toBe(true);
    expect(holds({ DateLessThan: { 'aws:EpochTime': 1704067200 } }, { 'aws:EpochTime': '1718452800' })).toBe(false);
  });

  test('absent key and unparseable request value', () => {
    expect(holds({ DateGreaterThan: { 'aws:TokenIssueTime': '2020-01-01T00:00:01Z' } }, {})).toBe(false);
    expect(holds({ DateNotEquals: { 'aws:TokenIssueTime': '2020-01-01T00:00:01Z' } }, {})).toBe(true);
    expect(holds({ DateGreaterThan: { 'aws:TokenIssueTime': '2020-01-01' } }, { 'aws:TokenIssueTime': 'soon' })).toBe(false);
  });
});

describe('Bool and BinaryEquals', () => {
  test('Bool compares "true"/"false", string or JSON boolean, any case', () => {
    expect(holds({ Bool: { 'aws:SecureTransport': 'false' } }, { 'aws:SecureTransport': 'false' })).toBe(true);
    expect(holds({ Bool: { 'aws:SecureTransport': 'false' } }, { 'aws:SecureTransport': 'true' })).toBe(false);
    expect(holds({ Bool: { 'aws:SecureTransport': false } }, { 'aws:SecureTransport': 'false' })).toBe(true);
    expect(holds({ Bool: { 'aws:SecureTransport': 'true' } }, { 'aws:SecureTransport': 'TRUE' })).toBe(true);
    expect(holds({ Bool: { 'aws:MultiFactorAuthPresent': 'true' } }, {})).toBe(false);
    expect(holds({ BoolIfExists: { 'aws:MultiFactorAuthPresent': 'false' } }, {})).toBe(true);
  });

  test('BinaryEquals compares bytes of base-64 values', () => {
    const policyValue = Buffer.from('BinaryValueInBase64').toString('base64');
    expect(holds({ BinaryEquals: { k: policyValue } }, { k: policyValue })).toBe(true);
    expect(holds({ BinaryEquals: { k: policyValue } }, { k: Buffer.from('other').toString('base64') })).toBe(false);
    expect(holds({ BinaryEquals: { k: policyValue } }, {})).toBe(false);
  });
});

describe('IP address operators', () => {
  const c = { IpAddress: { 'aws:SourceIp': ['203.0.113.0/24', '2001:DB8:1234:5678::/64'] } };
  test('IpAddress with IPv4 and IPv6 blocks', () => {
    expect(holds(c, { 'aws:SourceIp': '203.0.113.42' })).toBe(true);
    expect(holds(c, { 'aws:SourceIp': '2001:db8:1234:5678::abcd' })).toBe(true);
    expect(holds(c, { 'aws:SourceIp': '198.51.100.1' })).toBe(false);
    expect(holds(c, { 'aws:SourceIp': '2001:db8:1234:9999::1' })).toBe(false);
    expect(holds(c, { 'aws:SourceIp': '127.0.0.1' })).toBe(false);
    expect(holds(c, {})).toBe(false); // e.g. a request through a VPC endpoint
  });

  test('NotIpAddress is NOR over the blocks and true for an absent key', () => {
    const n = { NotIpAddress: { 'aws:SourceIp': ['203.0.113.0/24', '10.0.0.0/8'] } };
    expect(holds(n, { 'aws:SourceIp': '203.0.113.42' })).toBe(false);
    expect(holds(n, { 'aws:SourceIp': '10.1.2.3' })).toBe(false);
    expect(holds(n, { 'aws:SourceIp': '192.0.2.1' })).toBe(true);
    expect(holds(n, { 'aws:SourceIp': '::1' })).toBe(true);
    expect(holds(n, {})).toBe(true);
  });
});

describe('ARN operators', () => {
  const topic = 'arn:aws:sns:us-east-2:123456789012:TOPIC-ID';
  test('ArnEquals and ArnLike behave identically, per segment', () => {
    for (const op of ['ArnEquals', 'ArnLike']) {
      expect(holds({ [op]: { 'aws:SourceArn': topic } }, { 'aws:SourceArn': topic })).toBe(true);
      expect(holds({ [op]: { 'aws:SourceArn': 'arn:aws:sns:*:123456789012:*' } }, { 'aws:SourceArn': topic })).toBe(true);
      expect(holds({ [op]: { 'aws:SourceArn': 'arn:aws:sns:*:123456789012:topic-id' } }, { 'aws:SourceArn': topic })).toBe(false);
      expect(holds({ [op]: { 'aws:SourceArn': 'arn:aws:sns:*:1234567890?2:*' } }, { 'aws:SourceArn': topic })).toBe(true);
      expect(holds({ [op]: { 'aws:SourceArn': topic } }, {})).toBe(false);
    }
  });

  test('ArnNotEquals / ArnNotLike: NOR, absent key true', () => {
    for (const op of ['ArnNotEquals', 'ArnNotLike']) {
      const c = { [op]: { 'aws:PrincipalArn': ['arn:aws:iam::444455556666:user/admin', 'arn:aws:iam::444455556666:role/ops-*'] } };
      expect(holds(c, { 'aws:PrincipalArn': 'arn:aws:iam::444455556666:user/admin' })).toBe(false);
      expect(holds(c, { 'aws:PrincipalArn': 'arn:aws:iam::444455556666:role/ops-east' })).toBe(false);
      expect(holds(c, { 'aws:PrincipalArn': 'arn:aws:iam::444455556666:user/bob' })).toBe(true);
      expect(holds(c, {})).toBe(true);
    }
  });
});

describe('Null', () => {
  test('"true" means absent, "false" means present', () => {
    expect(holds({ Null: { 'aws:TokenIssueTime': 'true' } }, {})).toBe(true);
    expect(holds({ Null: { 'aws:TokenIssueTime': 'true' } }, { 'aws:TokenIssueTime': '2024-01-01T00:00:00Z' })).toBe(false);
    expect(holds({ Null: { 'aws:TokenIssueTime': false } }, { 'aws:TokenIssueTime': '2024-01-01T00:00:00Z' })).toBe(true);
    expect(holds({ Null: { 'aws:TokenIssueTime': 'false' } }, {})).toBe(false);
    expect(holds({ Null: { 'aws:TokenIssueTime': 'false' } }, { 'aws:TokenIssueTime': undefined })).toBe(false);
  });

  test('an empty multi-valued key counts as null; an empty string is a value', () => {
    expect(holds({ Null: { 'aws:TagKeys': 'true' } }, { 'aws:TagKeys': [] })).toBe(true);
    expect(holds({ Null: { 'aws:TagKeys': 'false' } }, { 'aws:TagKeys': ['a'] })).toBe(true);
    expect(holds({ Null: { 's3:prefix': 'false' } }, { 's3:prefix': '' })).toBe(true);
  });
});

describe('...IfExists', () => {
  test('absent key: true for every operator, positive or negated', () => {
    for (const op of [
      'StringEqualsIfExists',
      'StringNotEqualsIfExists',
      'StringLikeIfExists',
      'NumericLessThanIfExists',
      'DateGreaterThanIfExists',
      'IpAddressIfExists',
      'NotIpAddressIfExists',
      'ArnLikeIfExists',
      'BinaryEqualsIfExists',
    ]) {
      const value = op.startsWith('Numeric') ? '1' : op.startsWith('Date') ? '2020-01-01' : op.includes('Ip') ? '10.0.0.0/8' : op.startsWith('Binary') ? 'AAAA' : 'x';
      expect(holds({ [op]: { 'ec2:InstanceType': value } }, {})).toBe(true);
    }
  });

  test('present key: evaluated as the plain operator', () => {
    const c = { StringLikeIfExists: { 'ec2:InstanceType': ['t1.*', 't2.*', 'm3.*'] } };
    expect(holds(c, { 'ec2:InstanceType': 't2.micro' })).toBe(true);
    expect(holds(c, { 'ec2:InstanceType': 'c5.large' })).toBe(false);
    const n = { StringNotEqualsIfExists: { 's3:x-amz-server-side-encryption': 'aws:kms' } };
    expect(holds(n, { 's3:x-amz-server-side-encryption': 'AES256' })).toBe(true);
    expect(holds(n, { 's3:x-amz-server-side-encryption': 'aws:kms' })).toBe(false);
    expect(holds(n, {})).toBe(true);
  });
});

describe('set qualifiers on multi-valued keys', () => {
  test('ForAllValues: every request value must match some policy value', () => {
    const c = { 'ForAllValues:StringLike': { 'dynamodb:requestedAttributes': ['PostDateTime', 'Message', 'Tags'] } };
    expect(holds(c, { 'dynamodb:requestedAttributes': ['PostDateTime', 'Message'] })).toBe(true);
    expect(holds(c, { 'dynamodb:requestedAttributes': ['PostDateTime', 'UserName'] })).toBe(false);
  });

  test('ForAnyValue: one request value matching one policy value is enough', () => {
    const c = { 'ForAnyValue:StringLike': { 'dynamodb:requestedAttributes': ['ID', 'PostDateTime'] } };
    expect(holds(c, { 'dynamodb:requestedAttributes': ['UserName', 'Message', 'PostDateTime'] })).toBe(true);
    expect(holds(c, { 'dynamodb:requestedAttributes': ['UserName'] })).toBe(false);
  });

  test('absent key or empty set: ForAllValues true, ForAnyValue false', () => {
    const all = { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['env', 'team'] } };
    const any = { 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['env', 'team'] } };
    expect(holds(all, {})).toBe(true);
    expect(holds(all, { 'aws:TagKeys': [] })).toBe(true);
    expect(holds(any, {})).toBe(false);
    expect(holds(any, { 'aws:TagKeys': [] })).toBe(false);
    // ...and IfExists makes ForAnyValue true for an absent key.
    expect(holds({ 'ForAnyValue:StringEqualsIfExists': { 'aws:TagKeys': 'team' } }, {})).toBe(true);
    expect(holds({ 'ForAnyValue:StringEqualsIfExists': { 'aws:TagKeys': 'team' } }, { 'aws:TagKeys': ['env'] })).toBe(false);
  });

  test('negated operators under a qualifier (IAM multivalued examples)', () => {
    // Deny unless every tag key starts with key1: matches when some key does not.
    const all = { 'ForAllValues:StringNotLike': { 'aws:TagKeys': 'key1*' } };
    expect(holds(all, { 'aws:TagKeys': ['key1:legal'] })).toBe(false);
    expect(holds(all, { 'aws:TagKeys': ['key1:hr', 'key1:personnel'] })).toBe(false);
    expect(holds(all, { 'aws:TagKeys': ['key2:audit'] })).toBe(true);
    expect(holds(all, {})).toBe(true);
    const any = { 'ForAnyValue:StringNotEquals': { 'aws:TagKeys': ['env', 'team'] } };
    expect(holds(any, { 'aws:TagKeys': ['env', 'cost'] })).toBe(true);
    expect(holds(any, { 'aws:TagKeys': ['env', 'team'] })).toBe(false);
    expect(holds(any, {})).toBe(false);
  });

  test('without a qualifier a multi-valued key matches if any value matches; the negation if none does', () => {
    expect(holds({ StringEquals: { 'kms:EncryptionContextKeys': 'dept' } }, { 'kms:EncryptionContextKeys': ['dept', 'project'] })).toBe(true);
    expect(holds({ StringNotEquals: { 'kms:EncryptionContextKeys': 'dept' } }, { 'kms:EncryptionContextKeys': ['dept', 'project'] })).toBe(false);
    expect(holds({ StringNotEquals: { 'kms:EncryptionContextKeys': 'dept' } }, { 'kms:EncryptionContextKeys': ['project'] })).toBe(true);
    expect(holds({ StringEquals: { 'kms:EncryptionContextKeys': 'dept' } }, { 'kms:EncryptionContextKeys': [] })).toBe(false);
    expect(holds({ StringNotEquals: { 'kms:EncryptionContextKeys': 'dept' } }, { 'kms:EncryptionContextKeys': [] })).toBe(true);
  });
});

describe('policy variables in conditions', () => {
  test('${aws:username} and tag variables, key names in any case', () => {
    const c = { StringLike: { 's3:prefix': ['home/${aws:username}/*'] } };
    expect(holds(c, { 's3:prefix': 'home/alice/docs', 'aws:username': 'alice' })).toBe(true);
    expect(holds(c, { 's3:prefix': 'home/bob/docs', 'aws:username': 'alice' })).toBe(false);
    expect(holds({ StringEquals: { 'aws:ResourceTag/owner': '${AWS:PrincipalTag/Owner}' } }, {
      'aws:ResourceTag/owner': 'team-a',
      'aws:PrincipalTag/owner': 'team-a',
    })).toBe(true);
    expect(holds({ ArnEquals: { 'aws:SourceArn': 'arn:aws:sns:us-east-1:${aws:PrincipalAccount}:topic' } }, {
      'aws:SourceArn': 'arn:aws:sns:us-east-1:111122223333:topic',
    })).toBe(true); // aws:PrincipalAccount is derived from the principal
  });

  test('default values, quotes and spacing', () => {
    const c = { StringEquals: { 'aws:ResourceTag/owner': "${aws:userid, 'anonymous'}" } };
    expect(holds(c, { 'aws:ResourceTag/owner': 'anonymous' })).toBe(true);
    expect(holds(c, { 'aws:ResourceTag/owner': 'anonymous', 'aws:userid': 'AIDAEXAMPLE' })).toBe(false);
    expect(holds(c, { 'aws:ResourceTag/owner': 'AIDAEXAMPLE', 'aws:userid': 'AIDAEXAMPLE' })).toBe(true);
    const quoted = { StringEquals: { k: "${  aws:username ,  'it''s ${x}'  }" } };
    expect(holds(quoted, { k: "it's ${x}" })).toBe(true);
  });

  test('${*}, ${?} and ${$} are literal characters, and substituted text is never a wildcard', () => {
    expect(holds({ StringLike: { k: 'a${*}b*' } }, { k: 'a*bcd' })).toBe(true);
    expect(holds({ StringLike: { k: 'a${*}b*' } }, { k: 'axbcd' })).toBe(false);
    expect(holds({ StringLike: { k: 'why${?}' } }, { k: 'why?' })).toBe(true);
    expect(holds({ StringLike: { k: 'why${?}' } }, { k: 'whyx' })).toBe(false);
    expect(holds({ StringEquals: { k: '${$}{aws:username}' } }, { k: '${aws:username}', 'aws:username': 'alice' })).toBe(true);
    expect(holds({ StringLike: { k: '${aws:username}' } }, { k: 'anything', 'aws:username': '*' })).toBe(false);
    expect(holds({ StringLike: { k: '${aws:username}' } }, { k: '*', 'aws:username': '*' })).toBe(true);
  });

  test('an unresolved variable matches nothing; under a negated operator the condition fails', () => {
    const c = { StringLike: { 's3:prefix': ['', 'home/${aws:username}/*'] } };
    expect(holds(c, { 's3:prefix': '' })).toBe(true); // the other value still matches
    expect(holds(c, { 's3:prefix': 'home//x' })).toBe(false);
    expect(holds({ StringNotEquals: { k: '${aws:username}' } }, { k: 'alice' })).toBe(false);
    // A multi-valued key cannot be a variable.
    expect(holds({ StringEquals: { k: '${aws:TagKeys}' } }, { k: 'a', 'aws:TagKeys': ['a', 'b'] })).toBe(false);
  });

  test('no substitution without Version 2012-10-17', () => {
    expect(holds({ StringEquals: { k: '${aws:username}' } }, { k: 'alice', 'aws:username': 'alice' }, '2008-10-17')).toBe(false);
    expect(holds({ StringEquals: { k: '${aws:username}' } }, { k: '${aws:username}', 'aws:username': 'alice' }, '2008-10-17')).toBe(true);
  });

  test('malformed variable syntax is plain text', () => {
    expect(holds({ StringEquals: { k: '${aws:username' } }, { k: '${aws:username', 'aws:username': 'a' })).toBe(true);
    expect(holds({ StringEquals: { k: '${aws:username, default}' } }, { k: '${aws:username, default}' })).toBe(true);
  });
});
