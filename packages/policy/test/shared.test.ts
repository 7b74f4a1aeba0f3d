// The helpers KMS and S3 share (packages/policy/src/shared.ts): the parsed-policy cache, the
// account-root test and "does this Principal name the caller itself".
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html
import { PolicyError, isAccountRoot, namesPrincipal, parsePolicy, parsePolicyCached } from '../src';

const IDENTITY = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }] });
const RESOURCE = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: '*' }] });

describe('parsePolicyCached', () => {
  it('parses as parsePolicy does, once per text and kind', () => {
    const first = parsePolicyCached(IDENTITY, 'identity');
    expect(first).toEqual(parsePolicy(IDENTITY, 'identity'));
    expect(parsePolicyCached(IDENTITY, 'identity')).toBe(first);
    // The same text as the other kind is another entry, and is judged by that kind's rules.
    expect(() => parsePolicyCached(IDENTITY, 'resource')).toThrow(new PolicyError('Missing required field Principal'));
    const resource = parsePolicyCached(RESOURCE, 'resource');
    expect(resource.Statement[0]!.Principal).toBe('*');
    expect(() => parsePolicyCached(RESOURCE, 'identity')).toThrow('Has prohibited field Principal');
    expect(parsePolicyCached(RESOURCE, 'resource')).toBe(resource);
  });

  it('does not cache a refusal: an invalid text throws every time', () => {
    const bad = '{"Statement": []}';
    expect(() => parsePolicyCached(bad, 'identity')).toThrow('Policy has no statements');
    expect(() => parsePolicyCached(bad, 'identity')).toThrow('Policy has no statements');
  });

  it('forgets the oldest text first once it holds 1,000, and only then', () => {
    const text = (i: number) => JSON.stringify({ Id: `cache-${i}`, Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }] });
    const oldest = parsePolicyCached(text(0), 'identity');
    const second = parsePolicyCached(text(1), 'identity');
    // Up to 1,000 entries (the tests above may have put 2 in first): nothing is forgotten.
    for (let i = 2; i < 998; i++) parsePolicyCached(text(i), 'identity');
    expect(parsePolicyCached(text(0), 'identity')).toBe(oldest);
    // 1,001 texts of this test alone: the oldest has gone (the cache is insertion-ordered), but
    // not before the 1,001st.
    for (let i = 998; i < 1001; i++) parsePolicyCached(text(i), 'identity');
    const again = parsePolicyCached(text(0), 'identity');
    expect(again).not.toBe(oldest);
    expect(again).toEqual(oldest);
    // An entry evicted is parsed again; an entry still held is the same object.
    expect(parsePolicyCached(text(1000), 'identity')).toBe(parsePolicyCached(text(1000), 'identity'));
    expect(second).toEqual(parsePolicy(text(1), 'identity'));
  });
});

describe('isAccountRoot', () => {
  it.each([
    ['arn:aws:iam::111122223333:root', true],
    ['arn:aws-cn:iam::111122223333:root', true],
    ['arn:aws-us-gov:iam::111122223333:root', true],
    ['arn:aws:iam::111122223333:user/root', false],
    ['arn:aws:iam::111122223333:rootx', false],
    ['xarn:aws:iam::111122223333:root', false],
    ['arn:aws:iam::11112222333:root', false],
    ['arn:aws:iam::1111222233334:root', false],
    ['arn:aws:sts::111122223333:root', false],
    ['arn:other:iam::111122223333:root', false],
    ['111122223333', false],
  ])('%s: %s', (arn, expected) => {
    expect(isAccountRoot(arn)).toBe(expected);
  });
});

describe('namesPrincipal', () => {
  const alice = 'arn:aws:iam::111122223333:user/alice';
  const session = 'arn:aws:sts::111122223333:assumed-role/app/s1';
  const role = 'arn:aws:iam::111122223333:role/app';

  it('no Principal (an identity policy) and "*" name everyone', () => {
    expect(namesPrincipal(undefined, alice)).toBe(true);
    expect(namesPrincipal('*', alice)).toBe(true);
    expect(namesPrincipal({ AWS: ['*'] }, alice)).toBe(true);
  });

  it('names the caller by its own ARN, or a role session by its role', () => {
    expect(namesPrincipal({ AWS: [alice] }, alice)).toBe(true);
    expect(namesPrincipal({ AWS: ['arn:aws:iam::111122223333:user/bob', alice] }, alice)).toBe(true);
    expect(namesPrincipal({ AWS: [role] }, session, role)).toBe(true);
    expect(namesPrincipal({ AWS: [role] }, session)).toBe(false);
    expect(namesPrincipal({ AWS: [session] }, session, role)).toBe(true);
  });

  it('an account (root ARN or bare id) names no one itself, nor does another type or an empty block', () => {
    expect(namesPrincipal({ AWS: ['arn:aws:iam::111122223333:root'] }, alice)).toBe(false);
    expect(namesPrincipal({ AWS: ['111122223333'] }, alice)).toBe(false);
    expect(namesPrincipal({ AWS: ['arn:aws:iam::111122223333:user/bob'] }, alice, role)).toBe(false);
    expect(namesPrincipal({ Service: ['s3.amazonaws.com'] }, alice)).toBe(false);
    expect(namesPrincipal({ Service: ['*'] }, alice)).toBe(false);
    expect(namesPrincipal({}, alice)).toBe(false);
    // An undefined role never matches a principal entry (an entry is never undefined, but '' is no role).
    expect(namesPrincipal({ AWS: [''] }, alice)).toBe(false);
  });
});
