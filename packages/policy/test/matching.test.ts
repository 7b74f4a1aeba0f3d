import { cidrContains, matchesArn, matchesResource, matchesWildcard, parseCidr, parseDate, parseIpAddress, splitArn } from '../src';

describe('matchesWildcard', () => {
  test.each([
    ['*', '', true],
    ['*', 'anything:at/all', true],
    ['', '', true],
    ['', 'x', false],
    ['abc', 'abc', true],
    ['abc', 'abcd', false],
    ['a?c', 'abc', true],
    ['a?c', 'ac', false],
    ['a*c', 'ac', true],
    ['a*c', 'abbbbc', true],
    ['a*c', 'abbbbcd', false],
    ['*.txt', 'dir/file.txt', true],
    ['home/*/docs/*', 'home/alice/docs/a/b.pdf', true],
    ['home/*/docs/*', 'home/alice/pics/a.png', false],
    ['*a*a*a*b', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaac', false],
    ['*a*a*a*b', 'xaxaxab', true],
    ['??', 'ab', true],
    ['??', 'a', false],
    ['**', 'x', true],
  ])('%j vs %j → %s', (pattern, value, expected) => {
    expect(matchesWildcard(pattern, value)).toBe(expected);
  });

  test('case-sensitive by default, insensitive on request', () => {
    expect(matchesWildcard('s3:Get*', 's3:getobject')).toBe(false);
    expect(matchesWildcard('s3:Get*', 's3:getobject', { caseInsensitive: true })).toBe(true);
    expect(matchesWildcard('KMS:DECRYPT', 'kms:Decrypt', { caseInsensitive: true })).toBe(true);
  });
});

describe('ARN matching', () => {
  test('splitArn keeps colons of the resource part', () => {
    expect(splitArn('arn:aws:kms:us-east-1:111122223333:key/abc')).toEqual(['arn', 'aws', 'kms', 'us-east-1', '111122223333', 'key/abc']);
    expect(splitArn('arn:aws:s3:::b/a:b:c')).toEqual(['arn', 'aws', 's3', '', '', 'b/a:b:c']);
    expect(splitArn('arn:aws:s3')).toBeNull();
  });

  test('ArnLike matches each of the six components separately (IAM reference example)', () => {
    const pattern = 'arn:aws:someservice:*:111122223333:finance/*';
    const value = 'arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt';
    expect(matchesWildcard(pattern, value)).toBe(true); // StringLike would match...
    expect(matchesArn(pattern, value)).toBe(false); // ...ArnLike does not
    expect(matchesArn(pattern, 'arn:aws:someservice:us-east-2:111122223333:finance/q1/report')).toBe(true);
  });

  test('ArnLike wildcards per segment, case-sensitive, "*" alone matches anything', () => {
    expect(matchesArn('arn:aws:sns:*:*:topic-?', 'arn:aws:sns:eu-west-1:111122223333:topic-a')).toBe(true);
    expect(matchesArn('arn:aws:sns:*:*:topic-?', 'arn:aws:sns:eu-west-1:111122223333:topic-ab')).toBe(false);
    expect(matchesArn('arn:aws:sns:*:*:Topic', 'arn:aws:sns:eu-west-1:111122223333:topic')).toBe(false);
    expect(matchesArn('arn:aws:s3:::bucket/*', 'arn:aws:s3:::bucket/a:b')).toBe(true);
    expect(matchesArn('*', 'whatever')).toBe(true);
    expect(matchesArn('arn:aws:s3:*', 'arn:aws:s3:::b')).toBe(false); // fewer than six components
    expect(matchesArn('arn:aws:s3:::b', 'not-an-arn')).toBe(false);
  });

  test('Resource: wildcards stay in their segment unless they end it; case-sensitive', () => {
    expect(matchesResource('*', 'arn:aws:kms:us-east-1:111122223333:key/k')).toBe(true);
    expect(matchesResource('arn:aws:s3:::bucket/*', 'arn:aws:s3:::bucket/a/b:c.txt')).toBe(true);
    expect(matchesResource('arn:aws:s3:::bucket/*', 'arn:aws:s3:::Bucket/a')).toBe(false);
    expect(matchesResource('arn:aws:s3:::bucket/*/test/*', 'arn:aws:s3:::bucket/1/2/test/object.jpg')).toBe(true);
    expect(matchesResource('arn:aws:s3:::bucket', 'arn:aws:s3:::bucket/x')).toBe(false);
    expect(matchesResource('arn:aws:kms:*:111122223333:key/*', 'arn:aws:kms:us-east-1:111122223333:key/k')).toBe(true);
    expect(matchesResource('arn:aws:kms:*:111122223333:key/*', 'arn:aws:kms:us-east-1:999999999999:key/k')).toBe(false);
    // Mid-segment wildcard: bounded by the segment.
    expect(matchesResource('arn:aws:kms:us-*-1:*:key/*', 'arn:aws:kms:us-east-1:111122223333:key/k')).toBe(true);
    expect(matchesResource('arn:aws:kms:us-*-1:*:key/*', 'arn:aws:kms:us-east:x-1:111122223333:key/k')).toBe(false);
    expect(matchesResource('arn:aws:kms:us-east-?:*:key/*', 'arn:aws:kms:us-east-1:111122223333:key/k')).toBe(true);
    // A star that ends a segment may run past colons.
    expect(matchesResource('arn:aws:kms:*', 'arn:aws:kms:us-east-1:111122223333:key/k')).toBe(true);
  });
});

describe('IP addresses', () => {
  test.each([
    ['203.0.113.0/24', '203.0.113.0', true],
    ['203.0.113.0/24', '203.0.113.255', true],
    ['203.0.113.0/24', '203.0.114.1', false],
    ['203.0.113.7', '203.0.113.7', true], // no prefix = /32
    ['203.0.113.7', '203.0.113.8', false],
    ['203.0.113.77/24', '203.0.113.1', true], // host bits ignored
    ['0.0.0.0/0', '8.8.8.8', true],
    ['10.0.0.0/8', '10.255.1.2', true],
    ['2001:DB8:1234:5678::/64', '2001:db8:1234:5678:abcd::1', true],
    ['2001:DB8:1234:5678::/64', '2001:db8:1234:5679::1', false],
    ['2001:db8::1', '2001:0db8:0000:0000:0000:0000:0000:0001', true], // no prefix = /128
    ['::/0', '::1', true],
    ['::1', '::1', true],
    ['2001:db8::/32', '203.0.113.1', false], // families never mix
    ['203.0.113.0/24', '2001:db8::1', false],
    ['203.0.113.0/24', '::ffff:203.0.113.9', true], // IPv4-mapped request address
    ['::ffff:203.0.113.0/120', '203.0.113.9', true], // IPv4-mapped block
    ['64:ff9b::/96', '64:ff9b::203.0.113.1', true],
    ['203.0.113.0/24', 'garbage', false],
  ])('%s contains %s → %s', (cidr, ip, expected) => {
    expect(cidrContains(cidr, ip)).toBe(expected);
  });

  test('parsing', () => {
    expect(parseIpAddress('1.2.3.4')).toEqual({ family: 4, value: 0x01020304n });
    expect(parseIpAddress('::')).toEqual({ family: 6, value: 0n });
    expect(parseIpAddress('1:2:3:4:5:6:7:8')).toEqual({ family: 6, value: 0x00010002000300040005000600070008n });
    for (const bad of ['1.2.3', '1.2.3.256', '01.2.3.4.5', ':::', '1::2::3', '1:2:3:4:5:6:7:8:9', 'fe80::1%eth0', '12345::', '']) {
      expect(parseIpAddress(bad)).toBeNull();
    }
    expect(parseCidr('10.0.0.0/33')).toBeNull();
    expect(parseCidr('::/129')).toBeNull();
    expect(parseCidr('10.0.0.0/x')).toBeNull();
    expect(parseCidr('10.1.2.3/16')).toMatchObject({ family: 4, network: 0x0a010000n, prefix: 16 });
  });
});

describe('dates', () => {
  test('W3C ISO 8601 forms and epoch seconds', () => {
    expect(parseDate('2020-01-01T00:00:01Z')).toBe(Date.UTC(2020, 0, 1, 0, 0, 1));
    expect(parseDate('2020-01-01T00:00:01.500Z')).toBe(Date.UTC(2020, 0, 1, 0, 0, 1, 500));
    expect(parseDate('2020-01-01T02:00+02:00')).toBe(Date.UTC(2020, 0, 1, 0, 0));
    expect(parseDate('2019-12-31T19:00:00-05:00')).toBe(Date.UTC(2020, 0, 1));
    expect(parseDate('2020-01-01')).toBe(Date.UTC(2020, 0, 1));
    expect(parseDate('2020-06')).toBe(Date.UTC(2020, 5, 1));
    expect(parseDate('2020')).toBe(Date.UTC(2020, 0, 1));
    expect(parseDate('2020-01-01T00:00:00')).toBe(Date.UTC(2020, 0, 1)); // no zone: UTC
    expect(parseDate('1577836800')).toBe(Date.UTC(2020, 0, 1));
    expect(parseDate('1577836800.25')).toBe(Date.UTC(2020, 0, 1) + 250);
    for (const bad of ['', 'yesterday', '2020-1-1', '2020-01-01 00:00:00Z', '2020-02-30', '2020-01-01T25:61Z']) {
      expect(parseDate(bad)).toBeNull();
    }
  });
});
