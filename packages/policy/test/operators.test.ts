// Condition operator names and value grammars read exactly (packages/policy/src/conditions.ts):
// which names are operators, the numbers Numeric* takes, how Bool, BinaryEquals and Null read
// their values, and policy variables substituted per request.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
import { CONDITION_OPERATORS, type RequestContext, evaluatePolicy, isConditionOperator, parsePolicy } from '../src';

function holds(condition: Record<string, unknown>, keys: RequestContext['keys'], version = '2012-10-17'): boolean {
  const policy = parsePolicy(JSON.stringify({ Version: version, Statement: [{ Effect: 'Allow', Action: '*', Resource: '*', Condition: condition }] }), 'identity');
  return evaluatePolicy(policy, { principal: { arn: 'arn:aws:iam::111122223333:user/alice', accountId: '111122223333' }, action: 's3:GetObject', resource: '*', keys }) === 'Allow';
}

describe('operator names', () => {
  it('lists the base operators', () => {
    expect(CONDITION_OPERATORS).toEqual([
      'StringEquals',
      'StringNotEquals',
      'StringEqualsIgnoreCase',
      'StringNotEqualsIgnoreCase',
      'StringLike',
      'StringNotLike',
      'NumericEquals',
      'NumericNotEquals',
      'NumericLessThan',
      'NumericLessThanEquals',
      'NumericGreaterThan',
      'NumericGreaterThanEquals',
      'DateEquals',
      'DateNotEquals',
      'DateLessThan',
      'DateLessThanEquals',
      'DateGreaterThan',
      'DateGreaterThanEquals',
      'Bool',
      'BinaryEquals',
      'IpAddress',
      'NotIpAddress',
      'ArnEquals',
      'ArnLike',
      'ArnNotEquals',
      'ArnNotLike',
      'Null',
    ]);
  });

  it.each([
    ['StringEquals', true],
    ['stringequals', true],
    ['ForAllValues:StringEquals', true],
    ['forallvalues:stringequals', true],
    ['ForAnyValue:StringLikeIfExists', true],
    ['FORANYVALUE:ARNLIKEIFEXISTS', true],
    ['StringEqualsIfExists', true],
    ['NumericLessThanEqualsIfExists', true],
    ['Null', true],
    ['NullIfExists', false],
    ['ForAllValues:Null', false],
    ['ForAnyValue:Null', false],
    ['IfExists', false],
    ['ForAllValues:', false],
    ['ForAllValues:IfExists', false],
    ['ForAllValues:ForAnyValue:StringEquals', false],
    ['StringEqualsIfExistsIfExists', false],
    ['ForAllValuesStringEquals', false],
    ['ForAllValue:StringEquals', false],
    ['StringEqualsIfExist', false],
    ['IfExistsStringEquals', false],
    [' StringEquals', false],
    ['', false],
  ])('%j: %s', (name, expected) => {
    expect(isConditionOperator(name)).toBe(expected);
  });

  it('qualifiers and IfExists change what the operator does', () => {
    expect(holds({ 'forallvalues:stringequals': { k: 'a' } }, {})).toBe(true);
    expect(holds({ 'FORANYVALUE:STRINGEQUALS': { k: 'a' } }, {})).toBe(false);
    expect(holds({ stringequalsifexists: { k: 'a' } }, {})).toBe(true);
    expect(holds({ StringEquals: { k: 'a' } }, {})).toBe(false);
  });
});

describe('Numeric values', () => {
  it.each(['5', '+5', '-5', '5.', '5.0', '.5', '05', '1e3', '1E3', '1e+3', '1e-3', '-.5e1', ' 5 '])('%j is a number', (value) => {
    expect(() => holds({ NumericEquals: { n: value } }, {})).not.toThrow();
  });

  it.each(['', ' ', '.', '+', '-', '5..', '1.2.3', '--5', '+-5', 'e3', '1e', '1e+', '0x10', 'Infinity', 'NaN', '1_000', '1,000', '5 5'])('%j is not a number', (value) => {
    expect(() => holds({ NumericEquals: { n: value } }, {})).toThrow(`Invalid numeric value ${JSON.stringify(value)} for NumericEquals`);
  });

  it('request values are read with the same grammar, spaces trimmed; anything else matches nothing', () => {
    expect(holds({ NumericEquals: { n: '1000' } }, { n: '1e3' })).toBe(true);
    expect(holds({ NumericEquals: { n: '1000' } }, { n: ' 1000 ' })).toBe(true);
    expect(holds({ NumericEquals: { n: '0.5' } }, { n: '.5' })).toBe(true);
    expect(holds({ NumericEquals: { n: '1000' } }, { n: '0x3e8' })).toBe(false);
    expect(holds({ NumericEquals: { n: '0' } }, { n: '' })).toBe(false);
    // A request value that is not a number is equal to none: the negation holds.
    expect(holds({ NumericNotEquals: { n: '0' } }, { n: 'zero' })).toBe(true);
    expect(holds({ NumericGreaterThanEquals: { n: '0' } }, { n: 'zero' })).toBe(false);
  });

  it('compares at the boundary in each direction', () => {
    expect(holds({ NumericLessThan: { n: '10' } }, { n: '10' })).toBe(false);
    expect(holds({ NumericLessThan: { n: '10' } }, { n: '9.999' })).toBe(true);
    expect(holds({ NumericLessThanEquals: { n: '10' } }, { n: '10.001' })).toBe(false);
    expect(holds({ NumericGreaterThan: { n: '10' } }, { n: '10.001' })).toBe(true);
    expect(holds({ NumericGreaterThan: { n: '10' } }, { n: '9' })).toBe(false);
    expect(holds({ NumericGreaterThanEquals: { n: '10' } }, { n: '11' })).toBe(true);
    expect(holds({ NumericNotEquals: { n: ['1', '2'] } }, { n: '2' })).toBe(false);
    expect(holds({ NumericNotEquals: { n: ['1', '2'] } }, { n: '3' })).toBe(true);
  });
});

describe('Date values', () => {
  it('compares instants, whatever form each side is written in', () => {
    expect(holds({ DateEquals: { t: '2024-01-01T00:00:00Z' } }, { t: '1704067200' })).toBe(true);
    expect(holds({ DateEquals: { t: '1704067200' } }, { t: '2024-01-01T01:00:00+01:00' })).toBe(true);
    expect(holds({ DateNotEquals: { t: '2024-01-01' } }, { t: '2024-01-01T00:00:01Z' })).toBe(true);
    expect(holds({ DateNotEquals: { t: '2024-01-01' } }, { t: '2024' })).toBe(false);
    expect(holds({ DateLessThanEquals: { t: '2024-01-01' } }, { t: '2023-12-31T23:59:59Z' })).toBe(true);
    expect(holds({ DateLessThanEquals: { t: '2024-01-01' } }, { t: '2024-01-01T00:00:01Z' })).toBe(false);
    expect(holds({ DateGreaterThanEquals: { t: '2024-01-01' } }, { t: '2024-01-01' })).toBe(true);
    expect(holds({ DateGreaterThanEquals: { t: '2024-01-01' } }, { t: '2023-12-31' })).toBe(false);
    expect(holds({ DateLessThan: { t: '2024-01-01' } }, { t: 'not a date' })).toBe(false);
    expect(holds({ DateNotEquals: { t: '2024-01-01' } }, { t: 'not a date' })).toBe(true);
  });
});

describe('Bool, BinaryEquals and Null values', () => {
  it('Bool trims and ignores case on both sides, and is no wildcard match', () => {
    expect(holds({ Bool: { b: ' TRUE ' } }, { b: 'true' })).toBe(true);
    expect(holds({ Bool: { b: 'true' } }, { b: ' True ' })).toBe(true);
    expect(holds({ Bool: { b: 'true' } }, { b: 'yes' })).toBe(false);
    expect(holds({ Bool: { b: 't*' } }, { b: 'true' })).toBe(false);
    // Policy variables are substituted in Bool.
    expect(holds({ Bool: { b: '${aws:SecureTransport}' } }, { b: 'TRUE', 'aws:SecureTransport': 'true' })).toBe(true);
  });

  it('BinaryEquals compares the decoded bytes; spaces around either side are ignored', () => {
    expect(holds({ BinaryEquals: { k: ' QUJD ' } }, { k: 'QUJD' })).toBe(true);
    expect(holds({ BinaryEquals: { k: 'QUJD' } }, { k: ' QUJD\n' })).toBe(true);
    expect(holds({ BinaryEquals: { k: 'QUJD' } }, { k: 'QUJE' })).toBe(false);
    expect(holds({ BinaryEquals: { k: '' } }, { k: '' })).toBe(true);
    expect(holds({ BinaryEquals: { k: 'QQ==' } }, { k: 'QQ' })).toBe(true);
    // No variables in BinaryEquals: "${x}" is refused as base-64.
    expect(() => holds({ BinaryEquals: { k: '${aws:username}' } }, {})).toThrow('Invalid base-64 value');
  });

  it('Null reads "true"/"false" in any case, spaces trimmed; several values: any may hold', () => {
    expect(holds({ Null: { k: ' TRUE ' } }, {})).toBe(true);
    expect(holds({ Null: { k: 'False' } }, { k: 'v' })).toBe(true);
    expect(holds({ Null: { k: ['true', 'false'] } }, {})).toBe(true);
    expect(holds({ Null: { k: ['true', 'false'] } }, { k: 'v' })).toBe(true);
    expect(holds({ Null: { k: ['true', 'true'] } }, { k: 'v' })).toBe(false);
  });
});

describe('policy variables in condition values', () => {
  it('are substituted again for each request', () => {
    const policy = parsePolicy(
      JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*', Condition: { StringLike: { 's3:prefix': 'home/${aws:username}/*' } } }] }),
      'identity',
    );
    const decide = (username: string, prefix: string) =>
      evaluatePolicy(policy, { principal: 'anonymous', action: 's3:ListBucket', resource: '*', keys: { 'aws:username': username, 's3:prefix': prefix } });
    expect(decide('alice', 'home/alice/x')).toBe('Allow');
    expect(decide('bob', 'home/alice/x')).toBe('NotApplicable');
    expect(decide('bob', 'home/bob/x')).toBe('Allow');
    expect(decide('alice', 'home/alice/y')).toBe('Allow');
  });

  it('an unresolved value under a negated operator makes the condition false even beside other values', () => {
    expect(holds({ StringNotEquals: { k: ['x', '${aws:username}'] } }, { k: 'y' })).toBe(false);
    expect(holds({ StringNotEquals: { k: ['x', '${aws:username}'] } }, { k: 'y', 'aws:username': 'z' })).toBe(true);
    expect(holds({ StringEquals: { k: ['${aws:username}', 'y'] } }, { k: 'y' })).toBe(true);
    expect(holds({ ArnLike: { k: 'arn:aws:s3:::${aws:username}' } }, { k: 'arn:aws:s3:::alice', 'aws:username': 'alice' })).toBe(true);
  });

  it('are not substituted in Numeric, Date and IpAddress values', () => {
    expect(() => holds({ DateLessThan: { t: '${aws:CurrentTime}' } }, {})).toThrow('Invalid date value "${aws:CurrentTime}" for DateLessThan');
    expect(() => holds({ IpAddress: { ip: '${aws:SourceIp}' } }, {})).toThrow('Invalid IP address or CIDR block "${aws:SourceIp}" for IpAddress');
  });
});
