/**
 * Schema-valid S3 request documents from a grammar, for the XML fuzz tests (unit:
 * packages/s3/test/xml-fuzz.test.ts, end to end: packages/e2e/test/fuzz-s3-xml.test.ts).
 *
 * Each generator returns the document as a tree plus what the parser must make of it (the
 * generator's intent). `render` writes the tree with the noise that well-formed XML allows:
 * an XML declaration or none, a byte order mark, the S3 namespace as default or through a prefix
 * or absent, CRLF line ends, indentation, comments and processing instructions between and inside
 * elements, attributes on any element, unknown elements (themselves nested) the parsers must
 * ignore, and text written through the predefined entities, character references and CDATA
 * sections split at random points.
 */
import { createHash } from 'node:crypto';
import type { Rng } from './fuzz-random';

export const S3_NS = 'http://s3.amazonaws.com/doc/2006-03-01/';

export interface El {
  name: string;
  /** Simple-valued element: its exact text. */
  text?: string;
  children?: El[];
  attributes?: Record<string, string>;
  /** Order among siblings matters for repeated elements only; siblings may be shuffled otherwise. */
}

export interface Doc<T> {
  root: El;
  intent: T;
}

// ---------------------------------------------------------------- rendering

function escapeText(rng: Rng, text: string): string {
  // Cut the text into runs; each is written plainly (escaped), as CDATA or as character references.
  let out = '';
  let i = 0;
  const chars = [...text];
  while (i < chars.length) {
    const n = rng.int(1, 6);
    const run = chars.slice(i, i + n).join('');
    i += n;
    const style = rng.next();
    if (style < 0.15 && !run.includes(']]>')) out += `<![CDATA[${run.replace(/\r/g, '')}]]>` + (run.includes('\r') ? '' : '');
    else if (style < 0.3) out += [...run].map((c) => (rng.chance(0.5) ? `&#${c.codePointAt(0)};` : `&#x${c.codePointAt(0)!.toString(16).toUpperCase()};`)).join('');
    else out += run.replace(/[&<>"'\r]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': rng.chance(0.5) ? '&quot;' : '"', "'": rng.chance(0.5) ? '&apos;' : "'", '\r': '&#13;' })[c]!);
    if (rng.chance(0.05)) out += '<!-- between -->';
  }
  return out;
}

/** A CDATA run cannot carry a CR through end-of-line handling; escapeText avoids that by construction. */
function safeEscape(rng: Rng, text: string): string {
  if (text.includes('\r')) return text.replace(/[&<>\r]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '\r': '&#13;' })[c]!);
  return escapeText(rng, text);
}

const NOISE_NAMES = ['Extra', 'FutureElement', 'x-Note', 'Annotation'];

function unknownElement(rng: Rng, depth: number): El {
  const el: El = { name: rng.pick(NOISE_NAMES) };
  if (depth < 3 && rng.chance(0.5)) el.children = rng.many(1, 2, () => unknownElement(rng, depth + 1));
  else el.text = rng.pick(['', 'ignored', '<Key>not a key</Key>', 'a & b']);
  return el;
}

interface RenderOptions {
  /** '' for no prefix. */
  prefix: string;
  indent: boolean;
  noise: boolean;
}

function renderEl(rng: Rng, el: El, o: RenderOptions, depth: number, isRoot: boolean): string {
  const q = o.prefix ? `${o.prefix}:${el.name}` : el.name;
  let attrs = '';
  if (isRoot) {
    if (o.prefix) attrs += ` xmlns:${o.prefix}="${S3_NS}"`;
    else if (rng.chance(0.7)) attrs += ` xmlns="${S3_NS}"`;
  }
  for (const [k, v] of Object.entries(el.attributes ?? {})) attrs += ` ${k}=${rng.chance(0.5) ? `"${v}"` : `'${v}'`}`;
  if (o.noise && rng.chance(0.15)) attrs += rng.pick([' id="x"', " xml:lang='en'", ' data-n="1 &amp; 2"', '\n  note="a"']);
  const nl = o.indent ? '\n' + '  '.repeat(depth + 1) : '';
  const close = o.indent ? '\n' + '  '.repeat(depth) : '';
  if (el.children !== undefined) {
    const kids = [...el.children];
    if (o.noise && rng.chance(0.3)) kids.splice(rng.int(0, kids.length), 0, unknownElement(rng, 0));
    let inner = '';
    for (const kid of kids) {
      if (o.noise && rng.chance(0.08)) inner += nl + rng.pick(['<!-- comment -->', '<?sealbox-fuzz note?>', '<!---->']);
      inner += nl + renderEl(rng, kid, o, depth + 1, false);
    }
    if (kids.length === 0 && rng.chance(0.5)) return `<${q}${attrs}/>`;
    return `<${q}${attrs}>${inner}${close}</${q}${rng.chance(0.1) ? ' ' : ''}>`;
  }
  const text = el.text ?? '';
  if (text === '' && rng.chance(0.5)) return `<${q}${attrs}/>`;
  let body = safeEscape(rng, text);
  if (o.noise && rng.chance(0.05) && !text.includes('\r')) body = `<!-- before -->${body}<?pi inside?>`;
  return `<${q}${attrs}>${body}</${q}>`;
}

/** Writes a document tree as XML text with random (well-formed) noise. */
export function render(rng: Rng, root: El, noise = true): string {
  const o: RenderOptions = { prefix: noise && rng.chance(0.25) ? rng.pick(['s3', 'ns0', 'a']) : '', indent: noise && rng.chance(0.5), noise };
  let out = '';
  if (noise && rng.chance(0.1)) out += '\uFEFF';
  if (!noise || rng.chance(0.7)) out += rng.pick(['<?xml version="1.0" encoding="UTF-8"?>', "<?xml version='1.0'?>", '<?xml version="1.0" encoding="utf-8" standalone="yes"?>']);
  if (o.indent || rng.chance(0.2)) out += '\n';
  if (noise && rng.chance(0.1)) out += '<!-- leading comment -->\n';
  out += renderEl(rng, root, o, 0, true);
  if (noise && rng.chance(0.2)) out += '\n';
  if (noise && rng.chance(0.2)) out = out.replace(/\n/g, '\r\n');
  return out;
}

// ---------------------------------------------------------------- values

/** Text an S3 string element may hold, including characters XML must escape and non-ASCII. */
export function xmlString(rng: Rng, min = 1, max = 24): string {
  return rng.text('abcXYZ019 -_./&<>"\'éß漢😀\t\n', min, max);
}

/** Tag keys and values: letters, numbers, spaces (any script) and + - = . _ : / @ (the tag pattern). */
const TAG_ALPHABET = 'abcdefXYZ0129 +-=._:/@éÅß漢字ñ';

/** Object keys that are valid for S3 and survive XML (no control characters except TAB/LF escaped). */
export function objectKey(rng: Rng): string {
  const key = rng.text('abcdef012/._- ~!&<>"\'éß漢', 1, 30);
  return key.startsWith('/') ? `k${key}` : key;
}

/** Pads a schema-typed value (xs:int, xs:boolean) with white space, which the parsers collapse. */
function padded(rng: Rng, v: string): string {
  return rng.chance(0.3) ? `${rng.pick(['', ' ', '\n  '])}${v}${rng.pick(['', ' ', '\t'])}` : v;
}

const bool = (rng: Rng): [boolean, string] => {
  const v = rng.chance(0.5);
  return [v, padded(rng, rng.pick(v ? ['true', '1', 'TRUE', 'True'] : ['false', '0', 'FALSE']))];
};

const shuffled = <T>(rng: Rng, items: T[]): T[] => rng.shuffle([...items]);

// ---------------------------------------------------------------- the documents

export function createBucketConfiguration(rng: Rng): Doc<{ locationConstraint?: string }> {
  const region = rng.pick(['', 'us-east-1', 'eu-west-1', 'ap-southeast-2', 'us-west-2']);
  const children: El[] = rng.chance(0.85) ? [{ name: 'LocationConstraint', text: region }] : [];
  return { root: { name: 'CreateBucketConfiguration', children }, intent: children.length ? { locationConstraint: region } : {} };
}

export interface DeleteIntent {
  quiet: boolean;
  objects: Array<{ key: string; versionId?: string; eTag?: string }>;
}

export function deleteDocument(rng: Rng, keys?: string[]): Doc<DeleteIntent> {
  const objects = (keys ?? rng.many(1, 8, () => objectKey(rng))).map((key) => {
    const o: DeleteIntent['objects'][number] = { key };
    if (!keys && rng.chance(0.3)) o.versionId = rng.text('abcdefABC0123456789._', 8, 32);
    if (!keys && rng.chance(0.2)) o.eTag = `"${rng.text('0123456789abcdef', 32, 32)}"`;
    return o;
  });
  const hasQuiet = rng.chance(0.6);
  const [quiet, quietText] = bool(rng);
  const children: El[] = objects.map((o) => ({
    name: 'Object',
    children: shuffled(rng, [
      { name: 'Key', text: o.key },
      ...(o.versionId !== undefined ? [{ name: 'VersionId', text: o.versionId }] : []),
      ...(o.eTag !== undefined ? [{ name: 'ETag', text: o.eTag }] : []),
    ]),
  }));
  if (hasQuiet) children.splice(rng.int(0, children.length), 0, { name: 'Quiet', text: quietText });
  return { root: { name: 'Delete', children }, intent: { quiet: hasQuiet ? quiet : false, objects } };
}

export interface CompleteIntent {
  parts: Array<{ partNumber: number; eTag: string; checksums: Record<string, string> }>;
}

export function completeDocument(rng: Rng, parts?: Array<{ partNumber: number; eTag: string }>): Doc<CompleteIntent> {
  const list =
    parts ??
    rng.many(1, 6, (i) => ({ partNumber: i + 1 + rng.int(0, 3) * 100, eTag: rng.chance(0.5) ? `"${rng.text('0123456789abcdef', 32, 32)}"` : rng.text('0123456789abcdef', 32, 32) }));
  const intent: CompleteIntent = { parts: [] };
  const children: El[] = list.map((p) => {
    const checksums: Record<string, string> = {};
    if (!parts && rng.chance(0.3)) checksums[rng.pick(['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'])] = rng.bytes(4).toString('base64');
    intent.parts.push({ ...p, checksums });
    return {
      name: 'Part',
      children: shuffled(rng, [
        { name: 'PartNumber', text: padded(rng, rng.chance(0.1) ? `+${p.partNumber}` : String(p.partNumber)) },
        { name: 'ETag', text: p.eTag },
        ...Object.entries(checksums).map(([a, v]) => ({ name: `Checksum${a}`, text: v })),
      ]),
    };
  });
  return { root: { name: 'CompleteMultipartUpload', children }, intent };
}

export function tagKey(rng: Rng): string {
  return rng.text(TAG_ALPHABET, 1, rng.chance(0.05) ? 128 : 20);
}

export function taggingDocument(rng: Rng, maxTags = 10): Doc<Array<{ key: string; value: string }>> {
  const keys = new Set<string>();
  for (let n = rng.int(0, maxTags); keys.size < n; ) keys.add(tagKey(rng));
  const tags = [...keys].map((key) => ({ key, value: rng.text(TAG_ALPHABET, 0, rng.chance(0.05) ? 256 : 20) }));
  const tagSet: El = { name: 'TagSet', children: tags.map((t) => ({ name: 'Tag', children: shuffled(rng, [{ name: 'Key', text: t.key }, { name: 'Value', text: t.value }]) })) };
  return { root: { name: 'Tagging', children: [tagSet] }, intent: tags };
}

export function versioningDocument(rng: Rng): Doc<{ status?: 'Enabled' | 'Suspended'; mfaDelete?: 'Enabled' | 'Disabled' }> {
  const intent: { status?: 'Enabled' | 'Suspended'; mfaDelete?: 'Enabled' | 'Disabled' } = {};
  const children: El[] = [];
  if (rng.chance(0.9)) {
    intent.status = rng.pick(['Enabled', 'Suspended'] as const);
    children.push({ name: 'Status', text: intent.status });
  }
  if (rng.chance(0.3)) {
    intent.mfaDelete = rng.pick(['Enabled', 'Disabled'] as const);
    children.push({ name: rng.pick(['MfaDelete', 'MFADelete']), text: intent.mfaDelete });
  }
  return { root: { name: 'VersioningConfiguration', children: shuffled(rng, children) }, intent };
}

export interface CorsIntent {
  id?: string;
  allowedMethods: string[];
  allowedOrigins: string[];
  allowedHeaders: string[];
  exposeHeaders: string[];
  maxAgeSeconds?: number;
}

export function corsDocument(rng: Rng): Doc<CorsIntent[]> {
  const rules = rng.many(1, 5, (): CorsIntent => {
    const rule: CorsIntent = {
      allowedMethods: rng.subset(['GET', 'PUT', 'HEAD', 'POST', 'DELETE'], 1, 5),
      allowedOrigins: rng.many(1, 3, () => rng.pick(['*', 'https://example.com', 'http://*.example.org', 'https://app.test:8443'])),
      allowedHeaders: rng.many(0, 3, () => rng.pick(['*', 'x-amz-*', 'Content-Type', 'Authorization'])),
      exposeHeaders: rng.many(0, 2, () => rng.pick(['ETag', 'x-amz-request-id', 'x-amz-version-id'])),
    };
    if (rng.chance(0.4)) rule.id = rng.text('abcXYZ0-_ ', 1, 20);
    if (rng.chance(0.5)) rule.maxAgeSeconds = rng.int(0, 86400);
    return rule;
  });
  const children: El[] = rules.map((r) => {
    // Repeated elements keep their order; the groups interleave.
    const groups: El[][] = [
      r.allowedMethods.map((m) => ({ name: 'AllowedMethod', text: m })),
      r.allowedOrigins.map((m) => ({ name: 'AllowedOrigin', text: m })),
      r.allowedHeaders.map((m) => ({ name: 'AllowedHeader', text: m })),
      r.exposeHeaders.map((m) => ({ name: 'ExposeHeader', text: m })),
    ];
    if (r.id !== undefined) groups.push([{ name: 'ID', text: r.id }]);
    if (r.maxAgeSeconds !== undefined) groups.push([{ name: 'MaxAgeSeconds', text: padded(rng, String(r.maxAgeSeconds)) }]);
    const kids: El[] = [];
    const queues = groups.filter((g) => g.length > 0).map((g) => [...g]);
    while (queues.some((q) => q.length > 0)) {
      const q = rng.pick(queues.filter((x) => x.length > 0));
      kids.push(q.shift()!);
    }
    return { name: 'CORSRule', children: kids };
  });
  return { root: { name: 'CORSConfiguration', children }, intent: rules };
}

export function publicAccessBlockDocument(rng: Rng): Doc<{ blockPublicAcls: boolean; ignorePublicAcls: boolean; blockPublicPolicy: boolean; restrictPublicBuckets: boolean }> {
  const intent = { blockPublicAcls: false, ignorePublicAcls: false, blockPublicPolicy: false, restrictPublicBuckets: false };
  const children: El[] = [];
  for (const [field, element] of [['blockPublicAcls', 'BlockPublicAcls'], ['ignorePublicAcls', 'IgnorePublicAcls'], ['blockPublicPolicy', 'BlockPublicPolicy'], ['restrictPublicBuckets', 'RestrictPublicBuckets']] as const) {
    if (!rng.chance(0.8)) continue;
    const [v, text] = bool(rng);
    intent[field] = v;
    children.push({ name: element, text });
  }
  return { root: { name: 'PublicAccessBlockConfiguration', children: shuffled(rng, children) }, intent };
}

export function ownershipDocument(rng: Rng): Doc<{ objectOwnership: 'BucketOwnerPreferred' | 'ObjectWriter' | 'BucketOwnerEnforced' }> {
  const objectOwnership = rng.pick(['BucketOwnerPreferred', 'ObjectWriter', 'BucketOwnerEnforced'] as const);
  return { root: { name: 'OwnershipControls', children: [{ name: 'Rule', children: [{ name: 'ObjectOwnership', text: objectOwnership }] }] }, intent: { objectOwnership } };
}

export function encryptionDocument(rng: Rng, keyIds: string[] = ['alias/aws/s3', '1234abcd-12ab-34cd-56ef-1234567890ab']): Doc<{ sseAlgorithm: string; kmsMasterKeyId?: string; bucketKeyEnabled: boolean }> {
  const sseAlgorithm = rng.pick(['AES256', 'aws:kms', 'aws:kms:dsse']);
  const byDefault: El[] = [{ name: 'SSEAlgorithm', text: sseAlgorithm }];
  let kmsMasterKeyId: string | undefined;
  if (sseAlgorithm !== 'AES256' && rng.chance(0.6)) {
    kmsMasterKeyId = rng.pick(keyIds);
    byDefault.push({ name: 'KMSMasterKeyID', text: kmsMasterKeyId });
  }
  const rule: El[] = [{ name: 'ApplyServerSideEncryptionByDefault', children: shuffled(rng, byDefault) }];
  let bucketKeyEnabled = false;
  if (rng.chance(0.5)) {
    const [v, text] = bool(rng);
    bucketKeyEnabled = v;
    rule.push({ name: 'BucketKeyEnabled', text });
  }
  return { root: { name: 'ServerSideEncryptionConfiguration', children: [{ name: 'Rule', children: shuffled(rng, rule) }] }, intent: { sseAlgorithm, kmsMasterKeyId, bucketKeyEnabled } };
}

export const GROUP_URIS = ['http://acs.amazonaws.com/groups/global/AllUsers', 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers', 'http://acs.amazonaws.com/groups/s3/LogDelivery'];
const XSI = 'http://www.w3.org/2001/XMLSchema-instance';

export type AclGrant = { grantee: { type: 'CanonicalUser'; id: string } | { type: 'Group'; uri: string }; permission: string };

export function aclDocument(rng: Rng, ownerId: string, otherIds: string[]): Doc<AclGrant[]> {
  const grants = rng.many(0, 5, (): AclGrant => {
    const permission = rng.pick(['READ', 'WRITE', 'READ_ACP', 'WRITE_ACP', 'FULL_CONTROL']);
    return rng.chance(0.5) ? { grantee: { type: 'CanonicalUser', id: rng.pick([ownerId, ...otherIds]) }, permission } : { grantee: { type: 'Group', uri: rng.pick(GROUP_URIS) }, permission };
  });
  const xsiPrefix = rng.pick(['xsi', 'i', 'x']);
  const children: El[] = grants.map((g) => ({
    name: 'Grant',
    children: shuffled(rng, [
      {
        name: 'Grantee',
        attributes: { [`xmlns:${xsiPrefix}`]: XSI, [`${xsiPrefix}:type`]: g.grantee.type },
        children: g.grantee.type === 'CanonicalUser' ? [{ name: 'ID', text: g.grantee.id }, ...(rng.chance(0.3) ? [{ name: 'DisplayName', text: 'someone' }] : [])] : [{ name: 'URI', text: g.grantee.uri }],
      },
      { name: 'Permission', text: g.permission },
    ]),
  }));
  const root: El[] = [{ name: 'AccessControlList', children }];
  if (rng.chance(0.7)) root.push({ name: 'Owner', children: [{ name: 'ID', text: ownerId }, ...(rng.chance(0.5) ? [{ name: 'DisplayName', text: 'owner' }] : [])] });
  return { root: { name: 'AccessControlPolicy', children: shuffled(rng, root) }, intent: grants };
}

/** Content-MD5 of a body, as DeleteObjects requires. */
export const contentMd5 = (body: string | Buffer): string => createHash('md5').update(body).digest('base64');

// ---------------------------------------------------------------- targeted mutations

/** Paths into a tree: each element with its parent. */
export function elements(root: El): Array<{ el: El; parent: El | null }> {
  const out: Array<{ el: El; parent: El | null }> = [];
  const walk = (el: El, parent: El | null) => {
    out.push({ el, parent });
    for (const c of el.children ?? []) walk(c, el);
  };
  walk(root, null);
  return out;
}

export function clone(el: El): El {
  return JSON.parse(JSON.stringify(el)) as El;
}
