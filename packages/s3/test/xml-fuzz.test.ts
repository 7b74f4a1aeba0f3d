/**
 * Grammar-based property tests of every S3 request-document parser (the fourteen: the ten of
 * fuzz-xml.ts, and lifecycle, Object Lock configuration, retention and legal hold of
 * xml-fuzz-lock-lifecycle.ts): schema-valid documents written with namespaces, prefixes,
 * entities, character references, CDATA, comments, processing instructions, attribute noise and
 * nested unknown elements must parse to exactly what the generator meant; the same documents with
 * one targeted mutation must be refused with S3's exact error code. Counters assert that every
 * parser accepted a minimum number of documents, that the valid documents exercised every shape
 * the grammar has (each lifecycle filter and action, ...), and that every mutation kind was refused.
 * Retention and legal hold are parsed inside their handlers (PutObjectRetention,
 * PutObjectLegalHold), driven here on an in-memory S3 state; what they stored is their answer.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html (MalformedXML, InvalidTag, InvalidRequest)
 */
import { Readable } from 'node:stream';
import type { CredentialProvider } from '@sealbox/sigv4';
import { Counters, type Rng, cases, forCases, forCasesAsync } from '../../e2e/test/fuzz-random';
import {
  type Doc,
  type El,
  aclDocument,
  clone,
  completeDocument,
  contentMd5,
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
import type { S3Request } from '../src/context';
import { type LifecycleConfiguration, parseLifecycleConfiguration } from '../src/lifecycle';
import { parseObjectLockConfiguration, putObjectLegalHold, putObjectRetention } from '../src/operations/object-lock';
import { S3State } from '../src/state';
import type { BucketObjectLock, ObjectLockState } from '../src/store/model';
import {
  LIFECYCLE_FEATURES,
  LIFECYCLE_MUTATIONS,
  MAX_FILTER_SIZE,
  OBJECT_LOCK_MUTATIONS,
  legalHoldDocument,
  lifecycleDocument,
  lifecycleFeatures,
  objectLockDocument,
  retentionDocument,
} from './xml-fuzz-lock-lifecycle';
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
  /** What the document means to S3 (a parse, or what a handler stored); an S3Error when refused. */
  parse: (text: string) => unknown;
  /** Elements whose removal (every one of that name under one parent) makes the document invalid; `Parent>Name` for one parent only. */
  required: string[];
  /** Elements that may appear once: a second copy is MalformedXML (`Parent>Name` for one parent only). */
  single: string[];
  /** Element name → values outside the schema, and the error code each gets. */
  invalid: Array<{ element: string; values: string[]; code: string; parent?: string }>;
  /** The code of a document that is not well-formed or off the schema (an ACL's is MalformedACLError). */
  malformed?: string;
  /** Mutations of several elements at once, by kind: each returns [kind, S3's code], or null where the document has nothing to mutate. */
  mutations?: Record<string, (rng: Rng, root: El) => [string, string] | null>;
  /** Refusals each kind of `mutations` must reach. */
  mutationFloor?: number;
  /** The shapes of a valid document's intent; each of `shapes` must be parsed at least `shapeFloor` times. */
  shapesOf?: (intent: unknown) => string[];
  shapes?: string[];
  shapeFloor?: number;
  /** Documents per property (default 250). */
  count?: number;
}

/** Whether `el` (under `parent`) is named in a list of `Name` and `Parent>Name` entries. */
const listed = (list: string[], el: El, parent: El | null): boolean => list.includes(el.name) || (parent !== null && list.includes(`${parent.name}>${el.name}`));

// ---------------------------------------------------------------- retention and legal hold, through their handlers

const LOCK_BUCKET = 'locked';
/** The handlers judge RetainUntilDate against the request's time. */
const LOCK_NOW = new Date('2026-12-01T12:00:00Z');
let lockState: S3State | undefined;
let lockKeys = 0;
afterAll(() => lockState?.close());

/**
 * Sends `text` as the body of PutObjectRetention or PutObjectLegalHold (with its Content-MD5) for a
 * new version without any lock in a bucket with Object Lock, and returns the lock it then holds.
 */
async function putLock(operation: typeof putObjectRetention, text: string): Promise<ObjectLockState> {
  if (!lockState) {
    lockState = new S3State(undefined, {} as CredentialProvider);
    lockState.meta.putBucket({ name: LOCK_BUCKET, accountId: OWNER, region: 'us-east-1', creationDate: 0, versioning: 'Enabled', objectLock: { enabled: true } });
  }
  const state = lockState;
  const key = `k${++lockKeys}`;
  state.meta.putLatest({
    bucket: LOCK_BUCKET, key, versionId: String(lockKeys).padStart(32, 'v'), seq: state.meta.nextSeq(), isLatest: true, deleteMarker: false, lastModified: 0,
    etag: 'e', size: 0, ownerAccountId: OWNER, parts: [], meta: { userMetadata: [] },
  });
  const body = Buffer.from(text, 'utf8');
  const req: S3Request = {
    operation: operation === putObjectRetention ? 'PutObjectRetention' : 'PutObjectLegalHold', method: 'PUT', bucket: LOCK_BUCKET, key, query: new Map(),
    headers: { 'content-md5': contentMd5(body), 'content-length': String(body.length) }, body: Readable.from(body), trailers: () => undefined,
    region: 'us-east-1', endpointRegion: 'us-east-1', state, secure: true, allowHttpSseKms: false, requestId: 'r', now: LOCK_NOW, sourceIp: '127.0.0.1',
    // The bucket owner's root: PutObjectRetention authorizes itself once its body is read.
    credentials: { accessKeyId: 'test', secretAccessKey: 'test', accountId: OWNER, principalArn: `arn:aws:iam::${OWNER}:root` },
  };
  await operation(req);
  return state.meta.latest(LOCK_BUCKET, key)!.meta.lock ?? {};
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
  {
    name: 'LifecycleConfiguration',
    generate: lifecycleDocument,
    parse: (text) => parseLifecycleConfiguration(text, undefined),
    count: 400,
    required: ['Rule', 'Status', 'StorageClass', 'DaysAfterInitiation', 'Key', 'Value', 'Days', 'Date', 'ExpiredObjectDeleteMarker', 'NoncurrentVersionTransition>NoncurrentDays'],
    single: [
      'ID', 'Status', 'Filter', 'Prefix', 'Filter>Tag', 'And', 'Key', 'Value', 'ObjectSizeGreaterThan', 'ObjectSizeLessThan', 'Expiration', 'Days', 'Date',
      'ExpiredObjectDeleteMarker', 'StorageClass', 'NoncurrentVersionExpiration', 'NoncurrentDays', 'NewerNoncurrentVersions', 'AbortIncompleteMultipartUpload', 'DaysAfterInitiation',
    ],
    invalid: [
      { element: 'Status', values: ['enabled', 'ENABLED', 'On', ''], code: 'MalformedXML' },
      { element: 'StorageClass', values: ['STANDARD', 'glacier', 'REDUCED_REDUNDANCY', ''], code: 'MalformedXML' },
      { element: 'Days', values: ['ten', '1.5', '99999999999', ''], code: 'MalformedXML' },
      // AWS: InvalidArgument "'Days' for Expiration action must be a positive integer".
      { element: 'Days', values: ['0', '-1'], code: 'InvalidArgument', parent: 'Expiration' },
      { element: 'Days', values: ['-1', '-30'], code: 'InvalidArgument', parent: 'Transition' },
      { element: 'Date', values: ['2031-02-30T00:00:00Z', 'tomorrow', '2031-13-01T00:00:00Z', ''], code: 'MalformedXML' },
      // AWS: InvalidArgument "'Date' must be at midnight GMT".
      { element: 'Date', values: ['2031-01-01T10:00:00Z', '2031-01-01T00:00:00+02:00', '2031-01-01T00:00:01Z'], code: 'InvalidArgument' },
      { element: 'ExpiredObjectDeleteMarker', values: ['yes', '2', ''], code: 'MalformedXML' },
      { element: 'DaysAfterInitiation', values: ['0', '-5'], code: 'InvalidArgument' },
      { element: 'DaysAfterInitiation', values: ['soon', '1e2'], code: 'MalformedXML' },
      { element: 'NoncurrentDays', values: ['0'], code: 'InvalidArgument', parent: 'NoncurrentVersionExpiration' },
      { element: 'NoncurrentDays', values: ['-1'], code: 'InvalidArgument', parent: 'NoncurrentVersionTransition' },
      { element: 'NewerNoncurrentVersions', values: ['0', '101'], code: 'InvalidArgument', parent: 'NoncurrentVersionExpiration' },
      // AWS: InvalidArgument "ID length should not exceed allowed limit of 255".
      { element: 'ID', values: ['x'.repeat(256)], code: 'InvalidArgument' },
      // Sealbox's guess (lifecycle.ts): a size outside 0..5 TB is InvalidRequest.
      { element: 'ObjectSizeGreaterThan', values: ['-1', String(MAX_FILTER_SIZE + 1)], code: 'InvalidRequest' },
      { element: 'ObjectSizeLessThan', values: ['-1', String(MAX_FILTER_SIZE + 1)], code: 'InvalidRequest' },
      { element: 'ObjectSizeGreaterThan', values: ['big', '1.5'], code: 'MalformedXML' },
    ],
    mutations: LIFECYCLE_MUTATIONS,
    mutationFloor: 3,
    shapesOf: (intent) => lifecycleFeatures(intent as LifecycleConfiguration),
    shapes: LIFECYCLE_FEATURES,
    shapeFloor: 30,
  },
  {
    name: 'ObjectLockConfiguration',
    generate: objectLockDocument,
    parse: parseObjectLockConfiguration,
    required: ['ObjectLockEnabled', 'DefaultRetention', 'Mode', 'Days', 'Years'],
    single: ['ObjectLockEnabled', 'Rule', 'DefaultRetention', 'Mode', 'Days', 'Years'],
    invalid: [
      { element: 'ObjectLockEnabled', values: ['enabled', 'Disabled', 'true', ''], code: 'MalformedXML' },
      { element: 'Mode', values: ['governance', 'Compliance', 'LEGAL_HOLD', ''], code: 'MalformedXML' },
      { element: 'Days', values: ['ten', '1.5', ''], code: 'MalformedXML' },
      { element: 'Years', values: ['one', '2.0'], code: 'MalformedXML' },
      // "Default retention period must be a positive integer value." / "Default retention period too large." (100 years).
      { element: 'Days', values: ['0', '-1', '36501'], code: 'InvalidArgument' },
      { element: 'Years', values: ['0', '-3', '101'], code: 'InvalidArgument' },
    ],
    mutations: OBJECT_LOCK_MUTATIONS,
    mutationFloor: 5,
    shapesOf: (intent) => {
      const r = (intent as BucketObjectLock).defaultRetention;
      return [r ? `${r.mode} ${r.days !== undefined ? 'days' : 'years'}` : 'no rule'];
    },
    shapes: ['no rule', 'GOVERNANCE days', 'GOVERNANCE years', 'COMPLIANCE days', 'COMPLIANCE years'],
    shapeFloor: 15,
  },
  {
    name: 'Retention',
    generate: (rng) => retentionDocument(rng, LOCK_NOW.getTime()),
    parse: (text) => putLock(putObjectRetention, text),
    required: ['Mode', 'RetainUntilDate'],
    single: ['Mode', 'RetainUntilDate'],
    invalid: [
      { element: 'Mode', values: ['governance', 'LEGAL_HOLD', 'Compliance', ''], code: 'MalformedXML' },
      { element: 'RetainUntilDate', values: ['2031-02-30T00:00:00Z', 'tomorrow', '2031-01-01T25:00:00Z', '1893456000', ''], code: 'MalformedXML' },
      // AWS: InvalidArgument "The retain until date must be in the future!"
      { element: 'RetainUntilDate', values: ['2020-01-01T00:00:00Z', LOCK_NOW.toISOString(), '2026-12-01T13:00:00+02:00'], code: 'InvalidArgument' },
    ],
    shapesOf: (intent) => [(intent as ObjectLockState).mode ?? 'removed'],
    shapes: ['GOVERNANCE', 'COMPLIANCE', 'removed'],
    shapeFloor: 10,
  },
  {
    name: 'LegalHold',
    generate: legalHoldDocument,
    parse: (text) => putLock(putObjectLegalHold, text),
    required: ['Status'],
    single: ['Status'],
    invalid: [{ element: 'Status', values: ['on', 'Off', 'TRUE', 'ON OFF', ''], code: 'MalformedXML' }],
    shapesOf: (intent) => [(intent as ObjectLockState).legalHold!],
    shapes: ['ON', 'OFF'],
    shapeFloor: 50,
  },
];

/** The S3Error code a parse throws, or 'accepted'. Anything else thrown fails the test. */
async function outcome(parser: Parser, text: string): Promise<string> {
  try {
    await parser.parse(text);
    return 'accepted';
  } catch (err) {
    if (!(err instanceof S3Error)) throw new Error(`${parser.name} threw a non-S3 error: ${String(err)}\n${text}`);
    return err.code;
  }
}

describe.each(PARSERS)('$name', (parser) => {
  const documents = cases(parser.count ?? 250);

  it('parses every schema-valid document, however written, to what the generator meant', async () => {
    let accepted = 0;
    let nestedNoise = 0;
    const shapes = new Counters();
    await forCasesAsync(parser.name, documents, async (rng) => {
      const doc = parser.generate(rng);
      const text = render(rng, doc.root);
      let parsed: unknown;
      try {
        parsed = await parser.parse(text);
      } catch (err) {
        throw new Error(`${parser.name} refused a valid document (${(err as Error).message}):\n${text}`);
      }
      expect(parsed).toEqual(doc.intent);
      accepted++;
      for (const shape of parser.shapesOf?.(doc.intent) ?? []) shapes.hit(shape);
      if (/<(Extra|FutureElement|x-Note|Annotation)\b[^>]*>\s*<(Extra|FutureElement|x-Note|Annotation)\b/.test(text.replace(/<\/?\w+:/g, (m) => m.replace(/\w+:/, '')))) nestedNoise++;
    });
    expect(accepted).toBe(documents);
    expect(nestedNoise).toBeGreaterThanOrEqual(5);
    for (const shape of parser.shapes ?? []) {
      if (shapes.get(shape) < parser.shapeFloor!) throw new Error(`${parser.name}: "${shape}" parsed ${shapes.get(shape)} times, fewer than ${parser.shapeFloor} (${shapes})`);
    }
  });

  it('refuses each targeted mutation with S3 exact error', async () => {
    const refused = new Counters();
    const malformed = parser.malformed ?? 'MalformedXML';
    await forCasesAsync(`${parser.name} mutation`, documents, async (rng, index) => {
      const doc = parser.generate(rng);
      const root = clone(doc.root);
      const all = elements(root);
      const choices: Array<() => [string, string] | null> = [
        () => {
          // Remove every element of a required name under one parent.
          const targets = all.filter(({ el, parent }) => parent !== null && listed(parser.required, el, parent));
          if (targets.length === 0) return null;
          const { el, parent } = rng.pick(targets);
          parent!.children = parent!.children!.filter((c) => c.name !== el.name);
          return [`remove ${el.name}`, malformed];
        },
        () => {
          const targets = all.filter(({ el, parent }) => parent !== null && listed(parser.single, el, parent));
          if (targets.length === 0) return null;
          const { el, parent } = rng.pick(targets);
          parent!.children!.splice(rng.int(0, parent!.children!.length), 0, clone(el));
          return [`duplicate ${el.name}`, malformed];
        },
        () => {
          // A simple-valued element that has an element inside it does not match the schema.
          const targets = all.filter(({ el, parent }) => parent !== null && el.children === undefined && (listed(parser.single, el, parent) || listed(parser.required, el, parent)));
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
        const custom = Object.values(parser.mutations ?? {});
        if (custom.length > 0 && rng.chance(0.5)) {
          // Half the time, where the parser has them, a mutation of several elements: each kind in
          // turn (the next one where the document has nothing for it), so that every kind gets its share.
          for (let k = 0; mutation === null && k < custom.length; k++) mutation = custom[(index + k) % custom.length]!(rng, root);
        } else {
          for (let tries = 0; mutation === null && tries < 10; tries++) mutation = rng.pick(choices)();
        }
        if (mutation === null) return;
        text = render(rng, root);
      }
      const [name, code] = mutation;
      const got = await outcome(parser, text);
      if (got !== code) throw new Error(`${parser.name}, mutation "${name}": expected ${code}, got ${got}\n${text}`);
      refused.hit(name.split(' ')[0]!);
    });
    // Every parser must have been fed its refusals: well-formedness breaks and schema breaks.
    for (const kind of ['truncated', 'root']) expect(refused.get(kind)).toBeGreaterThanOrEqual(3);
    if (parser.required.length > 0) expect(refused.get('remove')).toBeGreaterThanOrEqual(5);
    if (parser.single.length > 0) expect(refused.get('duplicate')).toBeGreaterThanOrEqual(5);
    if (parser.invalid.length > 0) expect(refused.get('invalid')).toBeGreaterThanOrEqual(5);
    for (const kind of Object.keys(parser.mutations ?? {})) {
      if (refused.get(kind) < parser.mutationFloor!) throw new Error(`${parser.name}: mutation "${kind}" refused ${refused.get(kind)} times, fewer than ${parser.mutationFloor} (${refused})`);
    }
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
