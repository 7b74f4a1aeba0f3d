// The value grammars behind IpAddress and the Date operators, at their boundaries
// (packages/policy/src/ip.ts, date.ts): what each accepts and what it refuses, exactly.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
import { cidrContains, parseCidr, parseDate, parseIpAddress } from '../src';

describe('IPv4', () => {
  it.each([
    ['0.0.0.0', 0n],
    ['255.255.255.255', 0xffffffffn],
    ['10.0.0.1', 0x0a000001n],
    ['001.002.003.004', 0x01020304n],
    [' 192.0.2.1 ', 0xc0000201n],
  ])('%j', (textValue, value) => {
    expect(parseIpAddress(textValue)).toEqual({ family: 4, value });
  });

  it.each(['256.0.0.1', '1.2.3.999', '1.2.3', '1.2.3.4.5', '1.2.3.', '.1.2.3', '1.2.3.0001', '1.2.3.-1', '1.2.3.a', '1..2.3', ' '])('%j is not an address', (bad) => {
    expect(parseIpAddress(bad)).toBeNull();
  });
});

describe('IPv6', () => {
  it.each([
    ['::', 0n],
    ['::1', 1n],
    ['1::', 1n << 112n],
    ['1:2:3:4:5:6:7::', 0x0001000200030004000500060007_0000n],
    ['::2:3:4:5:6:7:8', 0x0000000200030004000500060007_0008n],
    ['ffff:FFFF:0:0:0:0:0:1', 0xffffffff000000000000000000000001n],
    ['1:2:3:4:5:6:1.2.3.4', 0x00010002000300040005000601020304n],
    ['64:ff9b::192.0.2.1', 0x0064ff9b0000000000000000c0000201n],
  ])('%j', (textValue, value) => {
    expect(parseIpAddress(textValue)).toEqual({ family: 6, value });
  });

  it('an IPv4-mapped address is the IPv4 address', () => {
    expect(parseIpAddress('::ffff:192.0.2.1')).toEqual({ family: 4, value: 0xc0000201n });
    expect(parseIpAddress('::ffff:c000:201')).toEqual({ family: 4, value: 0xc0000201n });
    // Only ::ffff:0:0/96 maps: ::fffe:... and 1::ffff:... stay IPv6.
    expect(parseIpAddress('::fffe:c000:201')).toEqual({ family: 6, value: 0xfffec0000201n });
    expect(parseIpAddress('1::ffff:c000:201')).toEqual({ family: 6, value: (1n << 112n) | 0xffffc0000201n });
  });

  it.each([
    '1:2:3:4:5:6:7',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7::8',
    '1::2::3',
    ':::',
    '1:::2',
    '12345::',
    'g::',
    '1:2:3:4:5:6:7:',
    ':1:2:3:4:5:6:7',
    '::1.2.3.4:5',
    '1.2.3.4::',
    '1:2:3:4:5:6:7:1.2.3.4',
    '::1.2.3.256',
    'fe80::1%1',
    '::ffff:1.2.3',
  ])('%j is not an address', (bad) => {
    expect(parseIpAddress(bad)).toBeNull();
  });
});

describe('CIDR blocks', () => {
  it.each([
    ['10.1.2.3', { family: 4, network: 0x0a010203n, prefix: 32, mask: 0xffffffffn }],
    ['10.1.2.3/32', { family: 4, network: 0x0a010203n, prefix: 32, mask: 0xffffffffn }],
    ['10.1.2.3/31', { family: 4, network: 0x0a010202n, prefix: 31, mask: 0xfffffffen }],
    ['10.1.2.3/1', { family: 4, network: 0n, prefix: 1, mask: 0x80000000n }],
    ['200.1.2.3/1', { family: 4, network: 0x80000000n, prefix: 1, mask: 0x80000000n }],
    ['10.1.2.3/0', { family: 4, network: 0n, prefix: 0, mask: 0n }],
    [' 10.1.2.3/08 ', { family: 4, network: 0x0a000000n, prefix: 8, mask: 0xff000000n }],
    ['2001:db8::1', { family: 6, network: 0x20010db8000000000000000000000001n, prefix: 128, mask: (1n << 128n) - 1n }],
    ['2001:db8::1/128', { family: 6, network: 0x20010db8000000000000000000000001n, prefix: 128, mask: (1n << 128n) - 1n }],
    ['2001:db8::1/127', { family: 6, network: 0x20010db8000000000000000000000000n, prefix: 127, mask: ((1n << 128n) - 1n) ^ 1n }],
    ['ffff::/1', { family: 6, network: 1n << 127n, prefix: 1, mask: 1n << 127n }],
    ['::/0', { family: 6, network: 0n, prefix: 0, mask: 0n }],
    // IPv4-mapped blocks are the IPv4 blocks they map, from /96 on.
    ['::ffff:10.1.2.3/120', { family: 4, network: 0x0a010200n, prefix: 24, mask: 0xffffff00n }],
    ['::ffff:10.1.2.3/96', { family: 4, network: 0n, prefix: 0, mask: 0n }],
    ['::ffff:10.1.2.3', { family: 4, network: 0x0a010203n, prefix: 32, mask: 0xffffffffn }],
    ['::ffff:10.1.2.3/95', { family: 6, network: 0xfffe00000000n, prefix: 95, mask: ((1n << 95n) - 1n) << 33n }],
    ['::fffe:10.1.2.3/120', { family: 6, network: 0xfffe0a010200n, prefix: 120, mask: ((1n << 120n) - 1n) << 8n }],
  ])('%j', (textValue, cidr) => {
    expect(parseCidr(textValue)).toEqual(cidr);
  });

  it.each(['10.0.0.0/8x', '10.0.0.0/33', '10.0.0.0/', '10.0.0.0/-1', '10.0.0.0/1000', '10.0.0.0/a', '10.0.0.0/ 8', '::/129', 'x/8', '10.0.0/8', '/8', ''])(
    '%j is not a block',
    (bad) => {
      expect(parseCidr(bad)).toBeNull();
    },
  );

  it('contains an address of its family under its mask, never across families', () => {
    expect(cidrContains('10.0.0.0/8', '10.255.255.255')).toBe(true);
    expect(cidrContains('10.0.0.0/8', '11.0.0.0')).toBe(false);
    expect(cidrContains('10.0.0.0/8', '9.255.255.255')).toBe(false);
    expect(cidrContains('0.0.0.0/0', '::')).toBe(false);
    expect(cidrContains('::/0', '0.0.0.0')).toBe(false);
    expect(cidrContains('::/0', '2001:db8::1')).toBe(true);
    expect(cidrContains('2001:db8::/127', '2001:db8::1')).toBe(true);
    expect(cidrContains('2001:db8::/127', '2001:db8::2')).toBe(false);
    expect(cidrContains('bad', '10.0.0.1')).toBe(false);
    expect(cidrContains('10.0.0.0/8', 'bad')).toBe(false);
  });
});

describe('dates', () => {
  it.each([
    ['2024', Date.UTC(2024, 0, 1)],
    ['1999', Date.UTC(1999, 0, 1)],
    ['2024-02', Date.UTC(2024, 1, 1)],
    ['2024-12', Date.UTC(2024, 11, 1)],
    ['2024-02-29', Date.UTC(2024, 1, 29)],
    ['2024-01-31', Date.UTC(2024, 0, 31)],
    ['2024-01-31T23:59Z', Date.UTC(2024, 0, 31, 23, 59)],
    ['2024-01-31t23:59:59z', Date.UTC(2024, 0, 31, 23, 59, 59)],
    ['2024-01-01T24:00:00Z', Date.UTC(2024, 0, 2)],
    ['2024-01-01T00:00:60Z', Date.UTC(2024, 0, 1, 0, 1)],
    ['2024-01-01T00:00:00.1Z', Date.UTC(2024, 0, 1) + 100],
    ['2024-01-01T00:00:00.123456Z', Date.UTC(2024, 0, 1) + 123],
    ['2024-01-01T00:00:00.999Z', Date.UTC(2024, 0, 1) + 999],
    ['2024-01-01T05:30+05:30', Date.UTC(2024, 0, 1)],
    ['2024-01-01T05:30+0530', Date.UTC(2024, 0, 1)],
    ['2023-12-31T22:15-01:45', Date.UTC(2024, 0, 1)],
    ['2024-01-01T00:00:00+00:00', Date.UTC(2024, 0, 1)],
    [' 2024-01-01 ', Date.UTC(2024, 0, 1)],
    ['0', 0],
    ['1', 1000],
    ['12345', 12345000],
    ['-60', -60000],
    ['1704067200.5', Date.UTC(2024, 0, 1) + 500],
  ])('%j', (textValue, ms) => {
    expect(parseDate(textValue)).toBe(ms);
  });

  it('years 0000-0099 are those years, not 1900-1999 (Date.UTC reads two-digit years so)', () => {
    const year = (y: number, month = 0, day = 1) => {
      const d = new Date(0);
      d.setUTCFullYear(y, month, day);
      return d.getTime();
    };
    expect(parseDate('0099')).toBe(year(99));
    expect(parseDate('0000')).toBe(year(0));
    expect(parseDate('0050-06')).toBe(year(50, 5));
    expect(parseDate('0099-12-31T00:00:00Z')).toBe(year(99, 11, 31));
    expect(parseDate('0004-02-29')).toBe(year(4, 1, 29));
    expect(parseDate('0099')).toBeLessThan(parseDate('1999')!);
  });

  it.each([
    '2024-99',
    '2024-01-99',
    '2024-00',
    '2024-13',
    '2024-01-00',
    '2024-01-32',
    '2023-02-29',
    '2024-04-31',
    '2024-01-01T25:00Z',
    '2024-01-01T00:60Z',
    '2024-01-01T00:00:61Z',
    '2024-01-01T00Z',
    '2024-01-01T00:00:00.Z',
    '2024-01-01T00:00:00+5:30',
    '2024-01-01 00:00:00Z',
    '2024-1-01',
    '+1',
    '1.',
    '.5',
    '1e3',
    'x2024',
    '2024x',
  ])('%j is not a date', (bad) => {
    expect(parseDate(bad)).toBeNull();
  });
});
