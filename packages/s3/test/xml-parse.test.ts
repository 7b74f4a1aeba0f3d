import {
  parseCompleteMultipartUpload,
  parseCorsConfiguration,
  parseCreateBucketConfiguration,
  parseDelete,
  parseOwnershipControls,
  parsePublicAccessBlock,
  parseTagging,
  parseVersioningConfiguration,
} from '../src/documents';
import { S3Error } from '../src/errors';
import { child, childrenNamed, childText, MALFORMED_XML_MESSAGE, MAX_DEPTH, MAX_NODES, parseXml } from '../src/xml-parse';

const NS = 'http://s3.amazonaws.com/doc/2006-03-01/';
const DECL = '<?xml version="1.0" encoding="UTF-8"?>\n';

/** The S3Error a call throws (fails the test if it returns or throws something else). */
function thrown(fn: () => unknown): S3Error {
  try {
    fn();
  } catch (err) {
    if (err instanceof S3Error) return err;
    throw err;
  }
  throw new Error('expected an S3Error to be thrown');
}

function expectMalformed(fn: () => unknown): void {
  const err = thrown(fn);
  expect({ code: err.code, status: err.status, message: err.message }).toEqual({
    code: 'MalformedXML',
    status: 400,
    message: 'The XML you provided was not well-formed or did not validate against our published schema',
  });
}

function expectError(fn: () => unknown, code: string, status: number, message: string, fields?: [string, string][]): void {
  const err = thrown(fn);
  expect({ code: err.code, status: err.status, message: err.message }).toEqual({ code, status, message });
  if (fields) expect(err.fields).toEqual(fields);
}

describe('parseXml', () => {
  it('parses a document with the S3 namespace and a declaration', () => {
    const root = parseXml(`${DECL}<Tagging xmlns="${NS}">\n  <TagSet>\n    <Tag><Key>a</Key><Value>1</Value></Tag>\n  </TagSet>\n</Tagging>\n`);
    expect(root.name).toBe('Tagging');
    expect(root.attributes).toEqual({ xmlns: NS });
    expect(root.children).toHaveLength(1);
    const tag = child(child(root, 'TagSet')!, 'Tag')!;
    expect(childText(tag, 'Key')).toBe('a');
    expect(childText(tag, 'Value')).toBe('1');
  });

  it('parses a document without namespace or declaration', () => {
    const root = parseXml('<Delete><Object><Key>k</Key></Object><Object><Key>j</Key></Object></Delete>');
    expect(root).toEqual({
      name: 'Delete',
      text: '',
      attributes: {},
      children: [
        { name: 'Object', text: '', attributes: {}, children: [{ name: 'Key', text: 'k', attributes: {}, children: [] }] },
        { name: 'Object', text: '', attributes: {}, children: [{ name: 'Key', text: 'j', attributes: {}, children: [] }] },
      ],
    });
    expect(childrenNamed(root, 'Object').map((o) => childText(o, 'Key'))).toEqual(['k', 'j']);
    expect(child(root, 'Nope')).toBeUndefined();
    expect(childText(root, 'Nope')).toBeUndefined();
  });

  it('strips namespace prefixes from element names', () => {
    const root = parseXml(`<s3:Tagging xmlns:s3="${NS}"><s3:TagSet/></s3:Tagging>`);
    expect(root.name).toBe('Tagging');
    expect(root.children[0]!.name).toBe('TagSet');
    expect(root.attributes).toEqual({ 'xmlns:s3': NS });
  });

  it('resolves prefixes declared on ancestors and the predeclared xml prefix', () => {
    const root = parseXml(`<a xmlns:p="urn:p"><b><p:c xml:lang="en" p:x="1"/></b></a>`);
    expect(root.children[0]!.children[0]).toEqual({ name: 'c', text: '', children: [], attributes: { 'xml:lang': 'en', 'p:x': '1' } });
    expectMalformed(() => parseXml(`<a><b xmlns:p="urn:p"/><p:c/></a>`));
  });

  it('decodes the predefined entities and character references', () => {
    const root = parseXml('<a>&lt;&gt;&amp;&quot;&apos; &#65;&#x42;&#x1F600; &#13;</a>');
    expect(root.text).toBe('<>&"\' AB\u{1F600} \r');
  });

  it('decodes entities in attribute values and normalises literal white space', () => {
    const root = parseXml(`<a x="1 &amp; 2" y='say "hi"' z="a\tb\nc&#10;"/>`);
    expect(root.attributes).toEqual({ x: '1 & 2', y: 'say "hi"', z: 'a b c\n' });
  });

  it('keeps CDATA content verbatim', () => {
    const root = parseXml('<Key>a<![CDATA[<b>&amp;]]>c<![CDATA[]]></Key>');
    expect(root.text).toBe('a<b>&amp;c');
  });

  it('skips comments and processing instructions, inside and around the root', () => {
    const root = parseXml(`${DECL}<!-- before --><?pi data?>\n<a><!-- x -->b<?other?>c</a>\n<!-- after -->\n`);
    expect(root.name).toBe('a');
    expect(root.text).toBe('bc');
    expect(root.children).toEqual([]);
  });

  it('normalises line ends and accepts a byte order mark', () => {
    expect(parseXml('\uFEFF<a>x\r\ny\rz</a>').text).toBe('x\ny\nz');
  });

  it('keeps only the element own text, not that of its children', () => {
    const root = parseXml('<a> 1 <b>2</b> 3 </a>');
    expect(root.text).toBe(' 1  3 ');
    expect(root.children[0]!.text).toBe('2');
  });

  it('accepts non-ASCII names and text', () => {
    const root = parseXml('<Clé>été 日本</Clé>');
    expect(root.name).toBe('Clé');
    expect(root.text).toBe('été 日本');
  });

  it('treats an attribute called __proto__ as an ordinary attribute', () => {
    const root = parseXml('<a __proto__="x"/>');
    expect(Object.getPrototypeOf(root.attributes)).toBe(Object.prototype);
    expect(Object.keys(root.attributes)).toEqual(['__proto__']);
  });

  it.each([
    ['empty', ''],
    ['white space only', '  \n '],
    ['garbage', 'hello world'],
    ['garbage with brackets', '<<>>'],
    ['JSON', '{"Tagging":{}}'],
    ['DOCTYPE', '<!DOCTYPE a><a/>'],
    ['XXE external entity', '<?xml version="1.0"?><!DOCTYPE a [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><a>&xxe;</a>'],
    ['entity expansion', '<!DOCTYPE a [<!ENTITY x "xx"><!ENTITY y "&x;&x;">]><a>&y;</a>'],
    ['ENTITY declaration inside the root', '<a><!ENTITY x "y"></a>'],
    ['an undefined entity', '<a>&nbsp;</a>'],
    ['a bare ampersand', '<a>fish & chips</a>'],
    ['an unterminated reference', '<a>&amp</a>'],
    ['a reference to a non-character', '<a>&#0;</a>'],
    ['a reference to a surrogate', '<a>&#xD800;</a>'],
    ['a reference beyond Unicode', '<a>&#x110000;</a>'],
    ['an unclosed tag', '<a><b></a>'],
    ['an unclosed root', '<a>'],
    ['an unopened end tag', '<a></b></a>'],
    ['a stray end tag after the root', '<a></a></a>'],
    ['mismatched prefixes', `<s3:a xmlns:s3="${NS}"></a>`],
    ['two roots', '<a/><b/>'],
    ['text before the root', 'x<a/>'],
    ['text after the root', '<a/>x'],
    ['CDATA outside the root', '<a/><![CDATA[x]]>'],
    ['an entity outside the root', '&amp;<a/>'],
    ['a name starting with a digit', '<1a/>'],
    ['a name starting with a hyphen', '<-a/>'],
    ['an empty name', '< a/>'],
    ['an unterminated start tag', '<a'],
    ['an unterminated comment', '<a><!-- x </a>'],
    ['a double hyphen in a comment', '<a><!-- x -- y --></a>'],
    ['an unterminated CDATA section', '<a><![CDATA[x</a>'],
    [']]> in text', '<a>x]]>y</a>'],
    ['a declaration not at the start', ' <?xml version="1.0"?><a/>'],
    ['a second declaration', '<?xml version="1.0"?><?xml version="1.0"?><a/>'],
    ['a declaration without version', '<?xml encoding="UTF-8"?><a/>'],
    ['a duplicate attribute', '<a x="1" x="2"/>'],
    ['an unquoted attribute', '<a x=1/>'],
    ['an attribute without value', '<a x/>'],
    ['attributes without white space between them', '<a x="1"y="2"/>'],
    ['< in an attribute value', '<a x="<"/>'],
    ['an undeclared element prefix', '<s3:a/>'],
    ['an undeclared attribute prefix', '<a p:x="1"/>'],
    ['two colons in a name', `<s3:a:b xmlns:s3="${NS}"/>`],
    ['an empty prefix declaration', '<a xmlns:p=""/>'],
    ['a control character', '<a>\u0001</a>'],
    ['a lone surrogate', '<a>\uD800</a>'],
  ])('rejects %s', (_label, text) => {
    expectMalformed(() => parseXml(text));
  });

  it(`allows nesting up to ${MAX_DEPTH} levels and rejects deeper`, () => {
    const nest = (depth: number) => '<a>'.repeat(depth) + '</a>'.repeat(depth);
    expect(parseXml(nest(MAX_DEPTH)).name).toBe('a');
    expectMalformed(() => parseXml(nest(MAX_DEPTH + 1)));
  });

  it(`allows ${MAX_NODES} elements and rejects more`, () => {
    expect(parseXml(`<r>${'<a/>'.repeat(MAX_NODES - 1)}</r>`).children).toHaveLength(MAX_NODES - 1);
    expectMalformed(() => parseXml(`<r>${'<a/>'.repeat(MAX_NODES)}</r>`));
  });

  it('throws the exact MalformedXML message', () => {
    expect(MALFORMED_XML_MESSAGE).toBe('The XML you provided was not well-formed or did not validate against our published schema');
    expect(thrown(() => parseXml('<a>'))).toBeInstanceOf(S3Error);
  });
});

describe('parseCreateBucketConfiguration', () => {
  it('allows an empty body', () => {
    expect(parseCreateBucketConfiguration('')).toEqual({});
    expect(parseCreateBucketConfiguration(' \n')).toEqual({});
  });

  it('reads LocationConstraint with or without the namespace', () => {
    expect(
      parseCreateBucketConfiguration(
        `${DECL}<CreateBucketConfiguration xmlns="${NS}"><LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>`,
      ),
    ).toEqual({ locationConstraint: 'eu-west-1' });
    expect(parseCreateBucketConfiguration('<CreateBucketConfiguration/>')).toEqual({});
  });

  it('rejects a wrong root or malformed body', () => {
    expectMalformed(() => parseCreateBucketConfiguration('<BucketConfiguration/>'));
    expectMalformed(() => parseCreateBucketConfiguration('<CreateBucketConfiguration>'));
    expectMalformed(() =>
      parseCreateBucketConfiguration(
        '<CreateBucketConfiguration><LocationConstraint>a</LocationConstraint><LocationConstraint>b</LocationConstraint></CreateBucketConfiguration>',
      ),
    );
  });
});

describe('parseDelete', () => {
  it('reads objects, version ids, ETags and Quiet', () => {
    const body = `${DECL}<Delete xmlns="${NS}">
      <Object><Key>a b&amp;c</Key></Object>
      <Object><Key>v</Key><VersionId>123</VersionId><ETag>"abc"</ETag></Object>
      <Quiet>true</Quiet>
    </Delete>`;
    expect(parseDelete(body)).toEqual({
      quiet: true,
      objects: [{ key: 'a b&c' }, { key: 'v', versionId: '123', eTag: '"abc"' }],
    });
  });

  it('defaults Quiet to false', () => {
    expect(parseDelete('<Delete><Object><Key>k</Key></Object></Delete>').quiet).toBe(false);
    expect(parseDelete('<Delete><Quiet>false</Quiet><Object><Key>k</Key></Object></Delete>').quiet).toBe(false);
  });

  it('keeps white space in keys', () => {
    expect(parseDelete('<Delete><Object><Key> k </Key></Object></Delete>').objects).toEqual([{ key: ' k ' }]);
  });

  it('accepts 1000 objects and rejects 1001', () => {
    const objects = (n: number) => '<Object><Key>k</Key></Object>'.repeat(n);
    expect(parseDelete(`<Delete>${objects(1000)}</Delete>`).objects).toHaveLength(1000);
    expectMalformed(() => parseDelete(`<Delete>${objects(1001)}</Delete>`));
  });

  it.each([
    ['no objects', '<Delete><Quiet>true</Quiet></Delete>'],
    ['an object without Key', '<Delete><Object><VersionId>1</VersionId></Object></Delete>'],
    ['an object with two Keys', '<Delete><Object><Key>a</Key><Key>b</Key></Object></Delete>'],
    ['a Key with child elements', '<Delete><Object><Key><a/></Key></Object></Delete>'],
    ['a non-boolean Quiet', '<Delete><Quiet>yes</Quiet><Object><Key>k</Key></Object></Delete>'],
    ['a wrong root', '<DeleteObjects><Object><Key>k</Key></Object></DeleteObjects>'],
    ['a malformed body', '<Delete><Object><Key>k</Key></Object>'],
  ])('rejects %s', (_label, body) => {
    expectMalformed(() => parseDelete(body));
  });
});

describe('parseCompleteMultipartUpload', () => {
  it('reads parts with ETags and checksums', () => {
    const body = `${DECL}<CompleteMultipartUpload xmlns="${NS}">
      <Part><PartNumber>1</PartNumber><ETag>"e1"</ETag><ChecksumCRC32>AAAAAA==</ChecksumCRC32></Part>
      <Part>
        <ETag>&quot;e2&quot;</ETag>
        <PartNumber> 2 </PartNumber>
        <ChecksumCRC32C>c</ChecksumCRC32C><ChecksumCRC64NVME>n</ChecksumCRC64NVME>
        <ChecksumSHA1>s1</ChecksumSHA1><ChecksumSHA256>s256</ChecksumSHA256>
      </Part>
    </CompleteMultipartUpload>`;
    expect(parseCompleteMultipartUpload(body)).toEqual({
      parts: [
        { partNumber: 1, eTag: '"e1"', checksums: { CRC32: 'AAAAAA==' } },
        { partNumber: 2, eTag: '"e2"', checksums: { CRC32C: 'c', CRC64NVME: 'n', SHA1: 's1', SHA256: 's256' } },
      ],
    });
  });

  it.each([
    ['no parts', '<CompleteMultipartUpload/>'],
    ['a part without PartNumber', '<CompleteMultipartUpload><Part><ETag>e</ETag></Part></CompleteMultipartUpload>'],
    ['a part without ETag', '<CompleteMultipartUpload><Part><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>'],
    ['a non-numeric PartNumber', '<CompleteMultipartUpload><Part><PartNumber>one</PartNumber><ETag>e</ETag></Part></CompleteMultipartUpload>'],
    ['a fractional PartNumber', '<CompleteMultipartUpload><Part><PartNumber>1.5</PartNumber><ETag>e</ETag></Part></CompleteMultipartUpload>'],
    [
      'a PartNumber beyond 32 bits',
      '<CompleteMultipartUpload><Part><PartNumber>99999999999</PartNumber><ETag>e</ETag></Part></CompleteMultipartUpload>',
    ],
    ['a wrong root', '<CompleteUpload><Part><PartNumber>1</PartNumber><ETag>e</ETag></Part></CompleteUpload>'],
  ])('rejects %s', (_label, body) => {
    expectMalformed(() => parseCompleteMultipartUpload(body));
  });
});

describe('parseTagging', () => {
  const tagging = (tags: string) => `<Tagging xmlns="${NS}"><TagSet>${tags}</TagSet></Tagging>`;
  const tag = (key: string, value: string) => `<Tag><Key>${key}</Key><Value>${value}</Value></Tag>`;

  it('reads the tag set, with and without namespace', () => {
    expect(parseTagging(`${DECL}${tagging(tag('env', 'prod') + tag('team', '') + tag('a b:c/d=e+f-g.h_i@j', 'x'))}`)).toEqual([
      { key: 'env', value: 'prod' },
      { key: 'team', value: '' },
      { key: 'a b:c/d=e+f-g.h_i@j', value: 'x' },
    ]);
    expect(parseTagging('<Tagging><TagSet><Tag><Key>k</Key><Value/></Tag></TagSet></Tagging>')).toEqual([{ key: 'k', value: '' }]);
  });

  it('allows an empty tag set', () => {
    expect(parseTagging('<Tagging><TagSet/></Tagging>')).toEqual([]);
  });

  it('allows keys of 128 and values of 256 characters, counted in code points', () => {
    // U+1D49C is a letter outside the BMP: two UTF-16 code units, one character.
    const key = '\u{1D49C}'.repeat(128);
    const value = 'é'.repeat(255) + '\u{1D49C}';
    expect(parseTagging(tagging(tag(key, value)))).toEqual([{ key, value }]);
    expectError(() => parseTagging(tagging(tag(key + 'k', value))), 'InvalidTag', 400, 'The TagKey you have provided is invalid');
  });

  it('rejects duplicate keys', () => {
    expectError(() => parseTagging(tagging(tag('a', '1') + tag('a', '2'))), 'InvalidTag', 400, 'Cannot provide multiple Tags with the same key', [
      ['TagKey', 'a'],
    ]);
  });

  it.each([
    ['an empty key', ''],
    ['a key of 129 characters', 'k'.repeat(129)],
    ['a key with a disallowed character', 'a&amp;b'],
  ])('rejects %s', (_label, key) => {
    expectError(() => parseTagging(tagging(tag(key, 'v'))), 'InvalidTag', 400, 'The TagKey you have provided is invalid');
  });

  it.each([
    ['a value of 257 characters', 'v'.repeat(257)],
    ['a value with a disallowed character', 'inv&amp;alid'],
  ])('rejects %s', (_label, value) => {
    expectError(() => parseTagging(tagging(tag('k', value))), 'InvalidTag', 400, 'The TagValue you have provided is invalid', [
      ['TagKey', 'k'],
      ['TagValue', value.replace('&amp;', '&')],
    ]);
  });

  it.each([
    ['no TagSet', '<Tagging/>'],
    ['a tag without Value', '<Tagging><TagSet><Tag><Key>k</Key></Tag></TagSet></Tagging>'],
    ['a tag without Key', '<Tagging><TagSet><Tag><Value>v</Value></Tag></TagSet></Tagging>'],
    ['a wrong root', '<TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet>'],
    ['unclosed tags', '<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag></Tagging>'],
  ])('rejects %s as MalformedXML', (_label, body) => {
    expectMalformed(() => parseTagging(body));
  });
});

describe('parseVersioningConfiguration', () => {
  it('reads Status and MfaDelete', () => {
    expect(
      parseVersioningConfiguration(`${DECL}<VersioningConfiguration xmlns="${NS}"><Status>Enabled</Status></VersioningConfiguration>`),
    ).toEqual({ status: 'Enabled' });
    expect(
      parseVersioningConfiguration('<VersioningConfiguration><MfaDelete>Disabled</MfaDelete><Status>Suspended</Status></VersioningConfiguration>'),
    ).toEqual({ status: 'Suspended', mfaDelete: 'Disabled' });
    expect(parseVersioningConfiguration('<VersioningConfiguration/>')).toEqual({});
  });

  it.each([
    ['an invalid Status', '<VersioningConfiguration><Status>On</Status></VersioningConfiguration>'],
    ['a lower-case Status', '<VersioningConfiguration><Status>enabled</Status></VersioningConfiguration>'],
    ['Status Disabled', '<VersioningConfiguration><Status>Disabled</Status></VersioningConfiguration>'],
    ['an invalid MfaDelete', '<VersioningConfiguration><MfaDelete>Suspended</MfaDelete></VersioningConfiguration>'],
    ['two Status elements', '<VersioningConfiguration><Status>Enabled</Status><Status>Enabled</Status></VersioningConfiguration>'],
    ['a wrong root', '<Versioning><Status>Enabled</Status></Versioning>'],
    ['an empty body', ''],
  ])('rejects %s', (_label, body) => {
    expectMalformed(() => parseVersioningConfiguration(body));
  });
});

describe('parseCorsConfiguration', () => {
  const cors = (rules: string) => `<CORSConfiguration xmlns="${NS}">${rules}</CORSConfiguration>`;
  const minimal = '<CORSRule><AllowedMethod>GET</AllowedMethod><AllowedOrigin>*</AllowedOrigin></CORSRule>';

  it('reads rules', () => {
    const body = `${DECL}${cors(`
      <CORSRule>
        <ID>rule 1</ID>
        <AllowedOrigin>https://www.example.com</AllowedOrigin>
        <AllowedMethod>PUT</AllowedMethod><AllowedMethod>POST</AllowedMethod><AllowedMethod>DELETE</AllowedMethod>
        <AllowedHeader>*</AllowedHeader>
        <ExposeHeader>ETag</ExposeHeader><ExposeHeader>x-amz-request-id</ExposeHeader>
        <MaxAgeSeconds>3000</MaxAgeSeconds>
      </CORSRule>
      ${minimal}`)}`;
    expect(parseCorsConfiguration(body)).toEqual([
      {
        id: 'rule 1',
        allowedMethods: ['PUT', 'POST', 'DELETE'],
        allowedOrigins: ['https://www.example.com'],
        allowedHeaders: ['*'],
        exposeHeaders: ['ETag', 'x-amz-request-id'],
        maxAgeSeconds: 3000,
      },
      { allowedMethods: ['GET'], allowedOrigins: ['*'], allowedHeaders: [], exposeHeaders: [] },
    ]);
    expect(parseCorsConfiguration(`<CORSConfiguration>${minimal}</CORSConfiguration>`)).toHaveLength(1);
  });

  it('accepts 100 rules and rejects 101', () => {
    expect(parseCorsConfiguration(cors(minimal.repeat(100)))).toHaveLength(100);
    expectMalformed(() => parseCorsConfiguration(cors(minimal.repeat(101))));
  });

  it.each(['PATCH', 'OPTIONS', 'get', ' GET', '*'])('rejects AllowedMethod %p', (method) => {
    expectError(
      () => parseCorsConfiguration(cors(`<CORSRule><AllowedMethod>GET</AllowedMethod><AllowedMethod>${method}</AllowedMethod><AllowedOrigin>*</AllowedOrigin></CORSRule>`)),
      'InvalidRequest',
      400,
      `Found unsupported HTTP method in CORS config. Unsupported method is ${method}`,
    );
  });

  it('rejects wildcards S3 does not support', () => {
    const rule = (extra: string) => cors(`<CORSRule><AllowedMethod>GET</AllowedMethod><AllowedOrigin>*</AllowedOrigin>${extra}</CORSRule>`);
    expectError(
      () => parseCorsConfiguration(rule('<AllowedOrigin>https://*.example.*</AllowedOrigin>')),
      'InvalidRequest',
      400,
      'AllowedOrigin "https://*.example.*" can not have more than one wildcard.',
    );
    expectError(
      () => parseCorsConfiguration(rule('<AllowedHeader>x-*-*</AllowedHeader>')),
      'InvalidRequest',
      400,
      'AllowedHeader "x-*-*" can not have more than one wildcard.',
    );
    expectError(
      () => parseCorsConfiguration(rule('<ExposeHeader>*</ExposeHeader>')),
      'InvalidRequest',
      400,
      'ExposeHeader "*" contains wildcard. We currently do not support wildcard for ExposeHeader.',
    );
  });

  it.each([
    ['no rules', cors('')],
    ['a rule without AllowedMethod', cors('<CORSRule><AllowedOrigin>*</AllowedOrigin></CORSRule>')],
    ['a rule without AllowedOrigin', cors('<CORSRule><AllowedMethod>GET</AllowedMethod></CORSRule>')],
    [
      'a non-numeric MaxAgeSeconds',
      cors('<CORSRule><AllowedMethod>GET</AllowedMethod><AllowedOrigin>*</AllowedOrigin><MaxAgeSeconds>soon</MaxAgeSeconds></CORSRule>'),
    ],
    ['a wrong root', `<CorsConfiguration>${minimal}</CorsConfiguration>`],
  ])('rejects %s', (_label, body) => {
    expectMalformed(() => parseCorsConfiguration(body));
  });
});

describe('parsePublicAccessBlock', () => {
  it('reads the four flags, missing ones being false', () => {
    expect(
      parsePublicAccessBlock(
        `${DECL}<PublicAccessBlockConfiguration xmlns="${NS}"><BlockPublicAcls>true</BlockPublicAcls><IgnorePublicAcls>false</IgnorePublicAcls><BlockPublicPolicy>TRUE</BlockPublicPolicy></PublicAccessBlockConfiguration>`,
      ),
    ).toEqual({ blockPublicAcls: true, ignorePublicAcls: false, blockPublicPolicy: true, restrictPublicBuckets: false });
    expect(parsePublicAccessBlock('<PublicAccessBlockConfiguration><RestrictPublicBuckets>true</RestrictPublicBuckets></PublicAccessBlockConfiguration>')).toEqual({
      blockPublicAcls: false,
      ignorePublicAcls: false,
      blockPublicPolicy: false,
      restrictPublicBuckets: true,
    });
  });

  it.each([
    ['a non-boolean value', '<PublicAccessBlockConfiguration><BlockPublicAcls>maybe</BlockPublicAcls></PublicAccessBlockConfiguration>'],
    ['a wrong root', '<PublicAccessBlock><BlockPublicAcls>true</BlockPublicAcls></PublicAccessBlock>'],
  ])('rejects %s', (_label, body) => {
    expectMalformed(() => parsePublicAccessBlock(body));
  });
});

describe('parseOwnershipControls', () => {
  it.each(['BucketOwnerPreferred', 'ObjectWriter', 'BucketOwnerEnforced'])('reads %s', (value) => {
    expect(
      parseOwnershipControls(`${DECL}<OwnershipControls xmlns="${NS}"><Rule><ObjectOwnership>${value}</ObjectOwnership></Rule></OwnershipControls>`),
    ).toEqual({ objectOwnership: value });
  });

  it.each([
    ['an invalid value', '<OwnershipControls><Rule><ObjectOwnership>Everyone</ObjectOwnership></Rule></OwnershipControls>'],
    ['a lower-case value', '<OwnershipControls><Rule><ObjectOwnership>objectwriter</ObjectOwnership></Rule></OwnershipControls>'],
    ['no Rule', '<OwnershipControls/>'],
    ['a Rule without ObjectOwnership', '<OwnershipControls><Rule/></OwnershipControls>'],
    [
      'two rules',
      '<OwnershipControls><Rule><ObjectOwnership>ObjectWriter</ObjectOwnership></Rule><Rule><ObjectOwnership>ObjectWriter</ObjectOwnership></Rule></OwnershipControls>',
    ],
    ['a wrong root', '<Ownership><Rule><ObjectOwnership>ObjectWriter</ObjectOwnership></Rule></Ownership>'],
  ])('rejects %s', (_label, body) => {
    expectMalformed(() => parseOwnershipControls(body));
  });
});
