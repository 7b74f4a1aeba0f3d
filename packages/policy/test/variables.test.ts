// Policy variables read exactly (packages/policy/src/variables.ts): what is a variable, a default,
// an escape, and what stays plain text; how substitution treats absent keys and defaults.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
import { parseTemplate, piecesToString, plainTemplate, resolveTemplate } from '../src/variables';

const text = (t: string) => ({ kind: 'text', text: t });
const literal = (t: string) => ({ kind: 'literal', text: t });
const variable = (name: string, fallback?: string) => (fallback === undefined ? { kind: 'var', name } : { kind: 'var', name, fallback });

describe('parseTemplate', () => {
  it.each([
    ['', [], false],
    ['plain', [text('plain')], false],
    ['${aws:username}', [variable('aws:username')], true],
    ['home/${AWS:UserName}/*', [text('home/'), variable('aws:username'), text('/*')], true],
    ['${ aws:username }', [variable('aws:username')], true],
    ['${\taws:username\r\n}', [variable('aws:username')], true],
    ["${aws:username,'x'}", [variable('aws:username', 'x')], true],
    ["${ aws:username , 'd e' }", [variable('aws:username', 'd e')], true],
    ["${aws:username,\t'x'\n}", [variable('aws:username', 'x')], true],
    ["${k, ''}", [variable('k', '')], true],
    ["${k, 'it''s'}", [variable('k', "it's")], true],
    ["${k, ''''}", [variable('k', "'")], true],
    ["${k, 'a,b}c'}", [variable('k', 'a,b}c')], true],
    ['a${*}b', [text('a'), literal('*'), text('b')], false],
    ['${?}', [literal('?')], false],
    ['${$}', [literal('$')], false],
    ['${ * }', [literal('*')], false],
    ['${*}${?}${$}', [literal('*'), literal('?'), literal('$')], false],
    ['${a}${b}', [variable('a'), variable('b')], true],
    ['x${a}y${b}z', [text('x'), variable('a'), text('y'), variable('b'), text('z')], true],
  ])('%j', (source, parts, hasVariables) => {
    expect(parseTemplate(source)).toEqual({ parts, hasVariables });
  });

  it.each([
    ['$'],
    ['${'],
    ['${}'],
    ['${ }'],
    ['${a'],
    ['${a,'],
    ['${a, b}'],
    ["${a, 'b}"],
    ["${a, 'b'"],
    ["${a, 'b' x}"],
    ['${a{b}'],
    ['${a$b}'],
    ["${a'b}"],
    ['${*x}'],
    ['${?x}'],
    ['${,}'],
    ['{a}'],
    ['$ {a}'],
  ])('%j is plain text', (source) => {
    expect(parseTemplate(source)).toEqual({ parts: [text(source)], hasVariables: false });
  });

  it('text around a malformed variable stays one piece; a later variable is still read', () => {
    expect(parseTemplate('a${b${c}')).toEqual({ parts: [text('a${b'), variable('c')], hasVariables: true });
    expect(parseTemplate('${${c}')).toEqual({ parts: [text('${'), variable('c')], hasVariables: true });
    // ${$...} that is not ${$}: the "$" starts no escape, the scan goes on after "${".
    expect(parseTemplate('${$x}')).toEqual({ parts: [text('${$x}')], hasVariables: false });
  });
});

describe('plainTemplate', () => {
  it('is the text as one ordinary piece, and nothing for an empty string', () => {
    expect(plainTemplate('a${b}*')).toEqual({ parts: [text('a${b}*')], hasVariables: false });
    expect(plainTemplate('')).toEqual({ parts: [], hasVariables: false });
  });
});

describe('resolveTemplate', () => {
  const lookup = (values: Record<string, string>) => (name: string) => values[name];

  it('text is wild, escapes and substituted values are literal', () => {
    expect(resolveTemplate(parseTemplate('a*${*}${k}'), lookup({ k: 'v*' }))).toEqual([
      { text: 'a*', wild: true },
      { text: '*', wild: false },
      { text: 'v*', wild: false },
    ]);
  });

  it('uses the default only when the key is absent; an empty value is a value', () => {
    const t = parseTemplate("${k, 'dflt'}");
    expect(resolveTemplate(t, lookup({}))).toEqual([{ text: 'dflt', wild: false }]);
    expect(resolveTemplate(t, lookup({ k: '' }))).toEqual([{ text: '', wild: false }]);
    expect(resolveTemplate(t, null)).toEqual([{ text: 'dflt', wild: false }]);
    expect(resolveTemplate(parseTemplate("${k, ''}"), lookup({}))).toEqual([{ text: '', wild: false }]);
  });

  it('is null when a variable has neither a value nor a default, or when there is no lookup', () => {
    expect(resolveTemplate(parseTemplate('a${k}'), lookup({}))).toBeNull();
    expect(resolveTemplate(parseTemplate('a${k}'), null)).toBeNull();
    expect(resolveTemplate(parseTemplate('plain'), null)).toEqual([{ text: 'plain', wild: true }]);
    expect(resolveTemplate(plainTemplate(''), null)).toEqual([]);
  });

  it('piecesToString joins the pieces', () => {
    expect(piecesToString([{ text: 'a*', wild: true }, { text: '?', wild: false }])).toBe('a*?');
    expect(piecesToString([])).toBe('');
  });
});
