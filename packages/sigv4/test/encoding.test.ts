// SigV4's encoding and canonical pieces on their own (packages/sigv4/src/encoding.ts,
// canonical.ts): URI encoding, lenient decoding, request targets, query strings, header maps.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
import { canonicalHeaders, canonicalQuery, headerMap, parseAmzDate, parseQuery, splitTarget, uriDecode, uriEncode } from '../src';

describe('uriEncode', () => {
  it('encodes every reserved byte, even in a string of nothing else', () => {
    expect(uriEncode(' ')).toBe('%20');
    expect(uriEncode('/')).toBe('%2F');
    expect(uriEncode('/', true)).toBe('/');
    expect(uriEncode('a/b c', true)).toBe('a/b%20c');
    expect(uriEncode('\u007f')).toBe('%7F');
    expect(uriEncode('é')).toBe('%C3%A9');
    expect(uriEncode('AZaz09-_.~')).toBe('AZaz09-_.~');
    expect(uriEncode('!*\'()')).toBe('%21%2A%27%28%29');
  });
});

describe('uriDecode', () => {
  it('decodes what it can and leaves malformed escapes as they are', () => {
    expect(uriDecode('plain')).toBe('plain');
    expect(uriDecode('a%20b')).toBe('a b');
    expect(uriDecode('100%')).toBe('100%');
    expect(uriDecode('a%20b%zz%41')).toBe('a b%zzA');
    expect(uriDecode('%E2%82%AC%E2%82')).toBe('%E2%82%AC%E2%82');
    expect(uriDecode('%41%42%4')).toBe('AB%4');
    expect(uriDecode('%C3%A9-%C3')).toBe('é-%C3');
  });
});

describe('splitTarget', () => {
  it('splits path and query; an empty path is "/"', () => {
    expect(splitTarget('/a/b?x=1&y')).toEqual({ path: '/a/b', query: 'x=1&y' });
    expect(splitTarget('/a')).toEqual({ path: '/a', query: '' });
    expect(splitTarget('')).toEqual({ path: '/', query: '' });
    expect(splitTarget('?a=1')).toEqual({ path: '/', query: 'a=1' });
    expect(splitTarget('/p?')).toEqual({ path: '/p', query: '' });
  });
});

describe('query strings', () => {
  it('parseQuery keeps order, skips empty parts, and splits at the first "="', () => {
    expect(parseQuery('')).toEqual([]);
    expect(parseQuery('b=2&&a&=x&c=1=2&d%20e=f%2Bg')).toEqual([
      { name: 'b', value: '2' },
      { name: 'a', value: '' },
      { name: '', value: 'x' },
      { name: 'c', value: '1=2' },
      { name: 'd e', value: 'f+g' },
    ]);
  });

  it('canonicalQuery sorts by name then value, encodes both, and drops the excluded name', () => {
    const params = [
      { name: 'b', value: '2' }, { name: 'a', value: 'z' }, { name: 'a', value: 'b' }, { name: 'a', value: 'b' },
      { name: 'X-Amz-Signature', value: 'sig' }, { name: 'c d', value: 'é' },
    ];
    expect(canonicalQuery(params, 'X-Amz-Signature')).toBe('a=b&a=b&a=z&b=2&c%20d=%C3%A9');
    expect(canonicalQuery(params)).toBe('X-Amz-Signature=sig&a=b&a=b&a=z&b=2&c%20d=%C3%A9');
    expect(canonicalQuery([{ name: 'a', value: '2' }, { name: 'a', value: '10' }])).toBe('a=10&a=2');
    // One name, its values in every order (sorted, reversed, mixed): sorted by value each time.
    for (const order of [['1', '2', '3'], ['3', '2', '1'], ['2', '3', '1'], ['1', '3', '2'], ['2', '1', '3'], ['3', '1', '2']]) {
      expect(canonicalQuery(order.map((value) => ({ name: 'n', value })))).toBe('n=1&n=2&n=3');
      expect(canonicalQuery(order.map((name) => ({ name, value: 'v' })))).toBe('1=v&2=v&3=v');
    }
  });
});

describe('header maps', () => {
  it('from an object: lower-case names, arrays kept in order, undefined skipped', () => {
    const map = headerMap({ 'X-Amz-Date': '1', 'x-amz-meta-a': ['one', 'two'], skipped: undefined });
    expect([...map.entries()]).toEqual([['x-amz-date', ['1']], ['x-amz-meta-a', ['one', 'two']]]);
  });

  it('canonicalHeaders: a signed header that is missing has an empty value; values are trimmed and folded', () => {
    const map = headerMap([['Host', ' h  o '], ['X-A', 'a'], ['x-a', ' b ']]);
    expect(canonicalHeaders(map, ['host', 'missing', 'x-a'])).toBe('host:h o\nmissing:\nx-a:a,b\n');
  });
});

describe('parseAmzDate', () => {
  it('refuses an empty value, even before any date was parsed', () => {
    expect(parseAmzDate('')).toBeUndefined();
    expect(parseAmzDate('20261127T100000Z')).toEqual(new Date('2026-11-27T10:00:00Z'));
    expect(parseAmzDate('')).toBeUndefined();
  });
});
