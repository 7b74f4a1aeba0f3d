/**
 * Grammar-based property tests of every S3 request-document parser: schema-valid documents
 * (fuzz-xml.ts) written with namespaces, prefixes, entities, character references, CDATA,
 * comments, processing instructions, attribute noise and nested unknown elements must parse to
 * exactly what the generator meant; the same documents with one targeted mutation must be refused
 * with S3's exact error code. Counters assert that every parser accepted a minimum number of
 * documents and that every mutation kind was refused.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html (MalformedXML, InvalidTag, InvalidRequest)
 */
import { Counters, type Rng, cases, forCases } from '../../e2e/test/fuzz-random';
import {
  type Doc,
  type El,
  aclDocument,
  clone,
  completeDocument,
  corsDocument,
  createBucketConfiguration,
  deleteDocument,
  elements,
  encryptionDocument,
  ownershipDocument,
  publicAccessBlockDocument,
  render,
  taggingDocument,
  versioningDocument,
} from '../../e2e/test/fuzz-xml';
import { parseAccessControlPolicy } from '../src/acl';
import {
  parseBucketEncryption,
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
import { canonicalUserId } from '../src/owner';

const OWNER = '111122223333';
const OWNER_ID = canonicalUserId(OWNER);
const OTHER_IDS = [canonicalUserId('444455556666'), 'a'.repeat(64)];

interface Parser {
  name: string;
  generate: (rng: Rng) => Doc<unknown>;
  parse: (text: string) => unknown;
  /** Elements whose removal (every one of that name under one parent) makes the document invalid. */
  required: string[];
  /** Elements that may appear once: a second copy is MalformedXML. */
  single: string[];
  /** Element name → values outside the schema, and the error code each gets. */
  invalid: Array<{ element: string; values: string[]; code: string; parent?: string }>;
  /** The code of a document that is not well-formed or off the schema (an ACL's is MalformedACLError). */
  malformed?: string;
}

const PARSERS: Parser[] = [
  { name: 'CreateBucketConfiguration', generate: createBucketConfiguration, parse: parseCreateBucketConfiguration, required: [], single: ['LocationConstraint'], invalid: [] },
  {
    name: 'Delete',
    generate: (rng) => deleteDocument(rng),
    parse: parseDelete,
    required: ['Object', 'Key'],
    single: ['Quiet', 'Key', 'VersionId', 'ETag'],
    invalid: [{ element: 'Quiet', values: ['yes', 'tru', ''], code: 'MalformedXML' }],
  },
  {
    name: 'CompleteMultipartUpload',
    generate: (rng) => completeDocument(rng),
    parse: parseCompleteMultipartUpload,
    required: ['Part', 'PartNumber', 'ETag'],
    single: ['PartNumber', 'ETag', 'ChecksumCRC32'],
    invalid: [{ element: 'PartNumber', values: ['one', '1.5', '99999999999', ''], code: 'MalformedXML' }],
  },
  {
    name: 'Tagging',
    generate: (rng) => taggingDocument(rng),
    parse: parseTagging,
    required: ['TagSet', 'Key', 'Value'],
    single: ['TagSet', 'Key', 'Value'],
    invalid: [
      { element: 'Key', values: ['', 'a*b', 'x#y', 'k'.repeat(129)], code: 'InvalidTag' },
      { element: 'Value', values: ['v!', 'a#b', 'v'.repeat(257)], code: 'InvalidTag' },
    ],
  },
  {
    name: 'VersioningConfiguration',
    generate: versioningDocument,
    parse: parseVersioningConfiguration,
    required: [],
    single: ['Status', 'MfaDelete', 'MFADelete'],
    invalid: [
      { element: 'Status', values: ['enabled', 'On', ' Enabled', ''], code: 'MalformedXML' },
      { element: 'MfaDelete', values: ['Suspended', 'enabled'], code: 'MalformedXML' },
    ],
  },
  {
    name: 'CORSConfiguration',
    generate: corsDocument,
    parse: parseCorsConfiguration,
    required: ['CORSRule', 'AllowedMethod', 'AllowedOrigin'],
    single: ['ID', 'MaxAgeSeconds'],
    invalid: [
      { element: 'AllowedMethod', values: ['get', 'PATCH', 'OPTIONS'], code: 'InvalidRequest' },
      { element: 'AllowedOrigin', values: ['https://*.*.example.com'], code: 'InvalidRequest' },
      { element: 'ExposeHeader', values: ['x-amz-*'], code: 'InvalidRequest' },
      { element: 'MaxAgeSeconds', values: ['soon', '1e3', '3000000000'], code: 'MalformedXML' },
    ],
  },
  {
    name: 'PublicAccessBlockConfiguration',
    generate: publicAccessBlockDocument,
    parse: parsePublicAccessBlock,
    required: [],
    single: ['BlockPublicAcls', 'IgnorePublicAcls', 'BlockPublicPolicy', 'RestrictPublicBuckets'],
    invalid: [{ element: 'BlockPublicAcls', values: ['yes', '2', ''], code: 'MalformedXML' }],
  },
  {
    name: 'OwnershipControls',
    generate: ownershipDocument,
    parse: parseOwnershipControls,
    required: ['Rule', 'ObjectOwnership'],
    single: ['Rule', 'ObjectOwnership'],
    invalid: [{ element: 'ObjectOwnership', values: ['bucketOwnerEnforced', 'Owner', ''], code: 'MalformedXML' }],
  },
  {
    name: 'ServerSideEncryptionConfiguration',
    generate: (rng) => encryptionDocument(rng),
    parse: parseBucketEncryption,
    required: ['Rule', 'ApplyServerSideEncryptionByDefault', 'SSEAlgorithm'],
    single: ['Rule', 'ApplyServerSideEncryptionByDefault', 'SSEAlgorithm', 'KMSMasterKeyID', 'BucketKeyEnabled'],
    invalid: [{ element: 'SSEAlgorithm', values: ['aes256', 'aws:kms:x', ''], code: 'MalformedXML' }],
  },
  {
    name: 'AccessControlPolicy',
    generate: (rng) => aclDocument(rng, OWNER_ID, OTHER_IDS),
    parse: (text) => parseAccessControlPolicy(text, OWNER),
    // S3's error list names MalformedACLError for an ACL document off its schema.
    // https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList
    malformed: 'MalformedACLError',
    required: ['AccessControlList', 'Grantee', 'Permission'],
    single: [],
    invalid: [
      { element: 'Permission', values: ['read', 'ALL', ''], code: 'MalformedACLError' },
      { element: 'URI', values: ['http://acs.amazonaws.com/groups/global/Everyone'], code: 'InvalidArgument' },
      { element: 'ID', values: ['abc', 'A'.repeat(64)], code: 'InvalidArgument', parent: 'Grantee' },
      // The Owner must be the resource's owner.
      { element: 'ID', values: [OTHER_IDS[0]!], code: 'AccessDenied', parent: 'Owner' },
    ],
  },
];

/** The S3Error code a parse throws, or 'accepted'. Anything else thrown fails the test. */
function outcome(parser: Parser, text: string): string {
  try {
    parser.parse(text);
    return 'accepted';
  } catch (err) {
    if (!(err instanceof S3Error)) throw new Error(`${parser.name} threw a non-S3 error: ${String(err)}\n${text}`);
    return err.code;
  }
}

const DOCUMENTS = cases(250);

describe.each(PARSERS)('$name', (parser) => {
  it('parses every schema-valid document, however written, to what the generator meant', () => {
    let accepted = 0;
    let nestedNoise = 0;
    forCases(parser.name, DOCUMENTS, (rng) => {
      const doc = parser.generate(rng);
      const text = render(rng, doc.root);
      let parsed: unknown;
      try {
        parsed = parser.parse(text);
      } catch (err) {
        throw new Error(`${parser.name} refused a valid document (${(err as Error).message}):\n${text}`);
      }
      expect(parsed).toEqual(doc.intent);
      accepted++;
      if (/<(Extra|FutureElement|x-Note|Annotation)\b[^>]*>\s*<(Extra|FutureElement|x-Note|Annotation)\b/.test(text.replace(/<\/?\w+:/g, (m) => m.replace(/\w+:/, '')))) nestedNoise++;
    });
    expect(accepted).toBe(DOCUMENTS);
    expect(nestedNoise).toBeGreaterThanOrEqual(5);
  });

  it('refuses each targeted mutation with S3 exact error', () => {
    const refused = new Counters();
    const malformed = parser.malformed ?? 'MalformedXML';
    forCases(`${parser.name} mutation`, DOCUMENTS, (rng) => {
      const doc = parser.generate(rng);
      const root = clone(doc.root);
      const all = elements(root);
      const choices: Array<() => [string, string] | null> = [
        () => {
          // Remove every element of a required name under one parent.
          const targets = all.filter(({ el, parent }) => parent !== null && parser.required.includes(el.name));
          if (targets.length === 0) return null;
          const { el, parent } = rng.pick(targets);
          parent!.children = parent!.children!.filter((c) => c.name !== el.name);
          return [`remove ${el.name}`, malformed];
        },
        () => {
          const targets = all.filter(({ el, parent }) => parent !== null && parser.single.includes(el.name));
          if (targets.length === 0) return null;
          const { el, parent } = rng.pick(targets);
          parent!.children!.splice(rng.int(0, parent!.children!.length), 0, clone(el));
          return [`duplicate ${el.name}`, malformed];
        },
        () => {
          // A simple-valued element that has an element inside it does not match the schema.
          const targets = all.filter(({ el, parent }) => parent !== null && el.children === undefined && (parser.single.includes(el.name) || parser.required.includes(el.name)));
          if (targets.length === 0) return null;
          const { el } = rng.pick(targets);
          el.children = [{ name: 'Nested', text: el.text ?? '' }];
          delete el.text;
          return [`element inside ${el.name}`, malformed];
        },
        () => {
          const targets = parser.invalid.flatMap((inv) => all.filter(({ el, parent }) => el.name === inv.element && el.children === undefined && (inv.parent === undefined || parent?.name === inv.parent)).map(({ el }) => ({ el, inv })));
          if (targets.length === 0) return null;
          const { el, inv } = rng.pick(targets);
          el.text = rng.pick(inv.values);
          return [`invalid ${el.name}`, inv.code];
        },
        () => {
          root.name = rng.pick([`${root.name}s`, root.name.toLowerCase(), 'Document']);
          return ['root name', malformed];
        },
      ];
      let mutation: [string, string] | null = null;
      let text: string;
      if (rng.chance(0.3)) {
        // Break well-formedness of an otherwise valid document.
        text = render(rng, root);
        const close = text.lastIndexOf('</');
        // Right after the root's start tag: character data of the root, outside any CDATA or comment.
        const rootOpen = new RegExp(`<(\\w+:)?${root.name}[\\s>/]`).exec(text)!;
        const afterRoot = text.indexOf('>', rootOpen.index) + 1;
        const inRoot = (insert: string) => (text[afterRoot - 2] === '/' ? text : text.slice(0, afterRoot) + insert + text.slice(afterRoot));
        const breaks: Array<[string, string]> = [
          // Cut after the root's start tag (a blank CreateBucket body is valid) and before its end.
          ['truncated', close > afterRoot ? text.slice(0, rng.int(afterRoot, close)) : text],
          ['unknown entity', inRoot('&bogus;')],
          ['doctype', `<!DOCTYPE x [<!ENTITY e "v">]>${text.replace(/^\uFEFF?(<\?xml[^>]*\?>)?/, '')}`],
          ['second root', `${text}<${root.name}/>`],
          ['undeclared prefix', rootOpen[1] === undefined ? `${text.slice(0, rootOpen.index + 1)}zz:${text.slice(rootOpen.index + 1)}` : text],
          ['text outside root', `${text}trailing`],
          ['unescaped ampersand', inRoot(' & ')],
          ['bad char reference', inRoot('&#0;')],
        ];
        const [name, broken] = rng.pick(breaks);
        if (broken === text) return;
        mutation = [name, malformed];
        text = broken;
      } else {
        for (let tries = 0; mutation === null && tries < 10; tries++) mutation = rng.pick(choices)();
        if (mutation === null) return;
        text = render(rng, root);
      }
      const [name, code] = mutation;
      const got = outcome(parser, text);
      if (got !== code) throw new Error(`${parser.name}, mutation "${name}": expected ${code}, got ${got}\n${text}`);
      refused.hit(name.split(' ')[0]!);
    });
    // Every parser must have been fed its refusals: well-formedness breaks and schema breaks.
    for (const kind of ['truncated', 'root']) expect(refused.get(kind)).toBeGreaterThanOrEqual(3);
    if (parser.required.length > 0) expect(refused.get('remove')).toBeGreaterThanOrEqual(5);
    if (parser.single.length > 0) expect(refused.get('duplicate')).toBeGreaterThanOrEqual(5);
    if (parser.invalid.length > 0) expect(refused.get('invalid')).toBeGreaterThanOrEqual(5);
  });
});

describe('documents nested as deep as the parser allows', () => {
  it('unknown elements nested to the depth limit are ignored; one level more is MalformedXML', () => {
    forCases('deep', cases(20), (rng) => {
      const doc = taggingDocument(rng, 3);
      let depth = 60 - rng.int(0, 10);
      let noise: El = { name: 'Leaf', text: 'x' };
      // Root (1) + TagSet (2) + noise chain: stays within 64.
      while (depth-- > 2) noise = { name: 'Wrap', children: [noise] };
      (doc.root.children![0]!.children ??= []).push(noise);
      expect(parseTagging(render(rng, doc.root, false))).toEqual(doc.intent);
      let leaf = noise;
      while (leaf.children) leaf = leaf.children[0]!;
      leaf.children = [{ name: 'Deeper', children: [{ name: 'Deepest', children: [{ name: 'TooDeep', text: 'x' }] }] }];
      delete leaf.text;
      let levels = 0;
      for (let n: El | undefined = doc.root; n; n = n.children?.[n.children.length - 1]) levels++;
      const code = levels > 64 ? 'MalformedXML' : 'accepted';
      let got = 'accepted';
      try {
        parseTagging(render(rng, doc.root, false));
      } catch (err) {
        got = (err as S3Error).code;
      }
      expect(got).toBe(code);
    });
  });
});
