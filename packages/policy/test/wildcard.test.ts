// Resource and ARN patterns read exactly (packages/policy/src/wildcard.ts): which wildcards stay
// in their segment, which characters are literal, and the edges of ArnLike.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_ARN
import { matchesArn, matchesResource, matchesWildcard, splitArn } from '../src';
import { compileResourcePatternCached, matchResourcePattern, piecesKey } from '../src/wildcard';

describe('Resource patterns', () => {
  it.each([
    // A mid-segment wildcard bounds the pattern to its segment; the rest is literal text, regex
    // characters included.
    ['arn:aws:kms:us-*-1:*:key/a.b', 'arn:aws:kms:us-east-1:111122223333:key/a.b', true],
    ['arn:aws:kms:us-*-1:*:key/a.b', 'arn:aws:kms:us-east-1:111122223333:key/aXb', false],
    ['arn:aws:kms:us-*-1:*:key/a+b', 'arn:aws:kms:us-east-1:111122223333:key/a+b', true],
    ['arn:aws:kms:us-*-1:*:key/a+b', 'arn:aws:kms:us-east-1:111122223333:key/aab', false],
    ['arn:aws:kms:us-*-1:*:key/(a|b)[c]{1}^$\\', 'arn:aws:kms:us-east-1:111122223333:key/(a|b)[c]{1}^$\\', true],
    ['arn:aws:kms:us-*-1:*:key/(a|b)', 'arn:aws:kms:us-east-1:111122223333:key/a', false],
    // Anchored at both ends.
    ['arn:aws:kms:us-*-1:*:key/k', 'xarn:aws:kms:us-east-1:111122223333:key/k', false],
    ['arn:aws:kms:us-*-1:*:key/k', 'arn:aws:kms:us-east-1:111122223333:key/kx', false],
    // A star that ends a segment may run past colons, even in a bounded pattern.
    ['arn:aws:kms:us-*-1:*:key/k', 'arn:aws:kms:us-east-1:1111:2222:key/k', true],
    ['arn:aws:kms:us-*-1:1*:key/k', 'arn:aws:kms:us-east-1:1:2:key/k', true],
    // ...but not a mid-segment one.
    ['arn:aws:kms:us-*-1:*:key/k', 'arn:aws:kms:us-e:x-1:111122223333:key/k', false],
    ['arn:aws:kms:*-1:*:key/k', 'arn:aws:kms:a:b-1:111122223333:key/k', false],
    // ? is one character other than ':' in the first five segments, any character after them.
    ['arn:aws:kms:us-east-?:*:key/k', 'arn:aws:kms:us-east-1:111122223333:key/k', true],
    ['arn:aws:kms:us-east-?:*:key/k', 'arn:aws:kms:us-east-12:111122223333:key/k', false],
    ['arn:aws:kms:us-east-1?:*:key/k', 'arn:aws:kms:us-east-1::111122223333:key/k', false],
    ['arn:aws:kms:us-*-1:*:key/?', 'arn:aws:kms:us-east-1:111122223333:key/:', true],
    ['arn:aws:kms:us-*-1:*:key/?', 'arn:aws:kms:us-east-1:111122223333:key/ab', false],
    ['arn:aws:kms:us-*-1:*:key/a*', 'arn:aws:kms:us-east-1:111122223333:key/a:b:c', true],
    // Wildcards in the resource part match any character, newlines too.
    ['arn:aws:kms:us-*-1:*:key/*', 'arn:aws:kms:us-east-1:111122223333:key/a\nb', true],
    ['arn:aws:kms:us-*-1:*:key/a?b', 'arn:aws:kms:us-east-1:111122223333:key/a\nb', true],
    ['arn:aws:s3:::b/*', 'arn:aws:s3:::b/a\nb', true],
    // Without a bounded wildcard it is a plain glob.
    ['arn:aws:s3:::b?/k', 'arn:aws:s3:::b:/k', true],
    ['arn:aws:s3:::b', 'arn:aws:s3:::b', true],
    ['arn:aws:s3:::b', 'arn:aws:s3:::c', false],
    ['*', '', true],
    ['**', 'arn:aws:s3:::b', true],
  ])('%j vs %j: %s', (pattern, value, expected) => {
    expect(matchesResource(pattern, value)).toBe(expected);
  });
});

describe('ArnLike', () => {
  it.each([
    ['', '', false],
    ['**', 'anything', true],
    ['arn:aws:s3:::b', 'arn:aws:s3:::b', true],
    ['arn:aws:s3:::b', 'arn:aws:s3:::B', false],
    ['arn:aws:s3:::*', 'arn:aws:s3:::b/c:d', true],
    ['arn:aws:s3:*:*:b', 'arn:aws:s3:::b', true],
    ['arn:aws:*:::b', 'arn:aws:s3:x:::b', false],
    ['arn:aws:s3:::b:c', 'arn:aws:s3:::b:c', true],
    ['arn:aws:s3:::b:*', 'arn:aws:s3:::b:c:d', true],
    ['arn:aws:s3::::b', 'arn:aws:s3:::b', false],
    ['arn:aws:s3::', 'arn:aws:s3::', false],
    ['arn:aws:s3:::', 'arn:aws:s3:::', true],
    ['arn:aws:s3:::?', 'arn:aws:s3:::', false],
  ])('%j vs %j: %s', (pattern, value, expected) => {
    expect(matchesArn(pattern, value)).toBe(expected);
  });

  it('splitArn splits at the first five colons only', () => {
    expect(splitArn('a:b:c:d:e:f:g')).toEqual(['a', 'b', 'c', 'd', 'e', 'f:g']);
    expect(splitArn('a:b:c:d:e:')).toEqual(['a', 'b', 'c', 'd', 'e', '']);
    expect(splitArn('a:b:c:d:e')).toBeNull();
    expect(splitArn('')).toBeNull();
  });
});

describe('matchesWildcard', () => {
  it.each([
    ['a*b*c', 'abc', true],
    ['a*b*c', 'aXbYc', true],
    ['a*b*c', 'aXbY', false],
    ['*b', 'bbb', true],
    ['a*', 'a', true],
    ['a*?', 'a', false],
    ['a*?', 'ab', true],
    ['?*', '', false],
    ['*?*', 'x', true],
    ['a', 'b', false],
    ['ab', 'a', false],
    ['a', 'ab', false],
  ])('%j vs %j: %s', (pattern, value, expected) => {
    expect(matchesWildcard(pattern, value)).toBe(expected);
  });

  it('keeps case-sensitive and case-insensitive compilations of one pattern apart', () => {
    expect(matchesWildcard('Ab*', 'abc')).toBe(false);
    expect(matchesWildcard('Ab*', 'abc', { caseInsensitive: true })).toBe(true);
    expect(matchesWildcard('Ab*', 'ABC', { caseInsensitive: true })).toBe(true);
    expect(matchesWildcard('Ab*', 'abc')).toBe(false);
    expect(matchesWildcard('xY', 'XY', { caseInsensitive: true })).toBe(true);
    expect(matchesWildcard('xY', 'XY')).toBe(false);
  });
});

describe('compiled resource patterns, cached by their pieces', () => {
  it('a literal piece never shares a cache entry with a wildcard piece of the same text', () => {
    // A variable's value is literal: "*" from ${aws:username} must not match what the wildcard "*" does.
    const wild = compileResourcePatternCached([{ text: 'arn:aws:s3:::b/', wild: true }, { text: '*', wild: true }]);
    expect(matchResourcePattern(wild, 'arn:aws:s3:::b/other')).toBe(true);
    const literal = compileResourcePatternCached([{ text: 'arn:aws:s3:::b/', wild: true }, { text: '*', wild: false }]);
    expect(matchResourcePattern(literal, 'arn:aws:s3:::b/other')).toBe(false);
    expect(matchResourcePattern(literal, 'arn:aws:s3:::b/*')).toBe(true);
    // And the other way round, the literal first.
    const literal2 = compileResourcePatternCached([{ text: 'arn:aws:s3:::c/', wild: true }, { text: '?', wild: false }]);
    expect(matchResourcePattern(literal2, 'arn:aws:s3:::c/x')).toBe(false);
    const wild2 = compileResourcePatternCached([{ text: 'arn:aws:s3:::c/', wild: true }, { text: '?', wild: true }]);
    expect(matchResourcePattern(wild2, 'arn:aws:s3:::c/x')).toBe(true);
  });

  it('piecesKey tells apart every split of the same text', () => {
    const keys = [
      [{ text: 'a', wild: true }],
      [{ text: 'a', wild: false }],
      [{ text: 'ab', wild: false }],
      [{ text: 'a', wild: false }, { text: 'b', wild: false }],
      [{ text: 'a', wild: true }, { text: 'b', wild: false }],
      [{ text: '1:a', wild: false }],
      [{ text: '', wild: false }, { text: 'a', wild: false }],
    ].map(piecesKey);
    expect(new Set(keys).size).toBe(keys.length);
  });
});
