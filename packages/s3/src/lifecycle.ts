/**
 * S3 Lifecycle configuration: the document (parse with AWS's validation, serialize as
 * GetBucketLifecycleConfiguration answers it), which objects a rule applies to, and when an
 * action falls due. Pure functions; lifecycle-runner.ts carries the actions out.
 *
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketLifecycleConfiguration.html
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/intro-lifecycle-rules.html
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_LifecycleRule.html
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_LifecycleRuleFilter.html
 *
 * Where AWS's exact answer is documented or recorded (an AWS response reproduced in a public
 * issue or in LocalStack's AWS-validated snapshots), the code says so; the rest are marked "Guess".
 */
import { randomUUID } from 'node:crypto';
import { S3Error } from './errors';
import { httpDate } from './http-util';
import { calendarFieldsValid } from './iso-date';
import { childrenNamed, malformedXml, parseXml, type XmlNode } from './xml-parse';
import { el, s3Document } from './xml';

export const MAX_LIFECYCLE_RULES = 1000;
export const MAX_RULE_ID_LENGTH = 255;
/** "Maximum filter size is 5 TB" (intro-lifecycle-filters.html). */
export const MAX_FILTER_SIZE = 5 * 1024 ** 4;
const DAY_MS = 86_400_000;

/**
 * The storage classes a transition may name (TransitionStorageClass). Transitions are accepted,
 * validated and reported back; Sealbox has a single storage tier, so they change nothing.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_Transition.html
 */
export const TRANSITION_STORAGE_CLASSES = ['GLACIER', 'STANDARD_IA', 'ONEZONE_IA', 'INTELLIGENT_TIERING', 'DEEP_ARCHIVE', 'GLACIER_IR'] as const;
/** S3 Standard-IA and One Zone-IA take objects 30 days old at the earliest (lifecycle-transition-general-considerations.html). */
const THIRTY_DAY_CLASSES = new Set(['STANDARD_IA', 'ONEZONE_IA']);

/** x-amz-transition-default-minimum-object-size: what S3 applies when the request names none. */
export const TRANSITION_MINIMUM_SIZES = ['all_storage_classes_128K', 'varies_by_storage_class'] as const;
export type TransitionMinimumSize = (typeof TRANSITION_MINIMUM_SIZES)[number];
export const DEFAULT_TRANSITION_MINIMUM_SIZE: TransitionMinimumSize = 'all_storage_classes_128K';

export interface LifecycleTag {
  key: string;
  /** Always present in the document (an empty `<Value/>` matches objects whose tag has an empty value). */
  value: string;
}

/** The rule's filter as it was written (GET echoes the same form back). */
export type LifecycleFilter =
  | { kind: 'none' }
  | { kind: 'legacy-prefix'; prefix: string }
  | { kind: 'empty' }
  | { kind: 'prefix'; prefix: string }
  | { kind: 'tag'; tag: LifecycleTag }
  | { kind: 'greater'; size: number }
  | { kind: 'less'; size: number }
  | { kind: 'and'; prefix?: string; tags: LifecycleTag[]; greater?: number; less?: number };

export interface LifecycleTransition {
  days?: number;
  /** ISO 8601, midnight UTC. */
  date?: string;
  storageClass: string;
}

export interface LifecycleRule {
  id: string;
  status: 'Enabled' | 'Disabled';
  filter: LifecycleFilter;
  expiration?: { days?: number; date?: string; expiredObjectDeleteMarker?: boolean };
  noncurrentVersionExpiration?: { noncurrentDays?: number; newerNoncurrentVersions?: number };
  abortIncompleteMultipartUpload?: { daysAfterInitiation: number };
  transitions: LifecycleTransition[];
  noncurrentVersionTransitions: { noncurrentDays?: number; newerNoncurrentVersions?: number; storageClass: string }[];
}

export interface LifecycleConfiguration {
  rules: LifecycleRule[];
  transitionDefaultMinimumObjectSize: TransitionMinimumSize;
}

// ---------------------------------------------------------------------------
// Errors

const invalidArgument = (message: string, name?: string, value?: string) =>
  new S3Error('InvalidArgument', 400, message, name === undefined ? [] : [['ArgumentName', name], ['ArgumentValue', value ?? '']]);
const invalidRequest = (message: string) => new S3Error('InvalidRequest', 400, message);

// ---------------------------------------------------------------------------
// XML helpers (element names by local name; a single-valued element twice is MalformedXML)

function one(node: XmlNode, name: string): XmlNode | undefined {
  const found = childrenNamed(node, name);
  if (found.length > 1) throw malformedXml();
  return found[0];
}

function text(node: XmlNode, name: string): string | undefined {
  const e = one(node, name);
  if (!e) return undefined;
  if (e.children.length) throw malformedXml();
  return e.text;
}

/** The day and count fields are xs:int (the model's Integer): a wider number does not validate. */
const INT_MAX = 2 ** 31 - 1;

/**
 * xs:int (or, for the object sizes, xs:long) after white-space collapse; anything else does not
 * validate (MalformedXML). Days beyond xs:int (2147483648) would otherwise become due dates no
 * HTTP date can carry.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_LifecycleExpiration.html (Days: Integer)
 */
function integer(node: XmlNode, name: string, long = false): number | undefined {
  const t = text(node, name);
  if (t === undefined) return undefined;
  const v = t.trim();
  if (!/^[+-]?[0-9]{1,16}$/.test(v)) throw malformedXml();
  const n = Number(v);
  if (!long && (n > INT_MAX || n < -INT_MAX - 1)) throw malformedXml();
  return n === 0 ? 0 : n;
}

function bool(node: XmlNode, name: string): boolean | undefined {
  const t = text(node, name)?.trim().toLowerCase();
  if (t === undefined) return undefined;
  if (t === 'true' || t === '1') return true;
  if (t === 'false' || t === '0') return false;
  throw malformedXml();
}

/**
 * A Date element: ISO 8601 (xs:dateTime, or a bare date), which must fall on midnight UTC.
 * AWS: InvalidArgument "'Date' must be at midnight GMT" (recorded in LocalStack's AWS-validated
 * lifecycle snapshots); an unparseable date does not validate against the schema.
 */
function midnightDate(node: XmlNode, name: string): string | undefined {
  const t = text(node, name)?.trim();
  if (t === undefined) return undefined;
  if (!/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(t)) throw malformedXml();
  // 2031-02-30 does not validate as a date (Date.parse would roll it over into March).
  if (!calendarFieldsValid(t)) throw malformedXml();
  const ms = Date.parse(/T/.test(t) && !/(Z|[+-]\d{2}:?\d{2})$/.test(t) ? `${t}Z` : t);
  if (Number.isNaN(ms)) throw malformedXml();
  if (ms % DAY_MS !== 0) throw invalidArgument("'Date' must be at midnight GMT", 'Date', t);
  return new Date(ms).toISOString();
}

function storageClass(node: XmlNode): string {
  const value = text(node, 'StorageClass');
  if (value === undefined || !(TRANSITION_STORAGE_CLASSES as readonly string[]).includes(value)) throw malformedXml();
  return value;
}

/**
 * A filter's Tag needs both Key and Value: the Tag type marks both "Required: Yes"
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/API_Tag.html), and a document that does not
 * validate against the schema is MalformedXML
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html). A missing required element
 * of a lifecycle rule is answered MalformedXML on AWS where it has been recorded (an empty Status,
 * aws/aws-sdk-java#376; a Transition with no Days or Date, hashicorp/terraform-provider-aws#41399);
 * a Tag without its Value itself has not been seen recorded. PutBucketTagging's parser refuses the
 * same Tag the same way (documents.ts). An empty `<Value/>` is a value: the empty string.
 */
function tagOf(node: XmlNode): LifecycleTag {
  const key = text(node, 'Key');
  const value = text(node, 'Value');
  if (key === undefined || value === undefined) throw malformedXml();
  return { key, value };
}

function size(node: XmlNode, name: string): number | undefined {
  const n = integer(node, name, true);
  // Guess: AWS's wording for a size out of range is not documented; the limits are
  // (intro-lifecycle-filters.html: sizes in bytes, at most 5 TB).
  if (n !== undefined && (n < 0 || n > MAX_FILTER_SIZE)) throw invalidRequest(`'${name}' must be between 0 and ${MAX_FILTER_SIZE} bytes`);
  return n;
}

// ---------------------------------------------------------------------------
// Parse

/**
 * A LifecycleConfiguration document, validated as S3 validates it. `minimumSize` is the
 * request's x-amz-transition-default-minimum-object-size header.
 */
export function parseLifecycleConfiguration(body: string, minimumSize: string | undefined): LifecycleConfiguration {
  if (minimumSize !== undefined && !(TRANSITION_MINIMUM_SIZES as readonly string[]).includes(minimumSize)) {
    // Guess: the header's enum is documented, AWS's answer to another value is not.
    throw invalidArgument('Invalid value for x-amz-transition-default-minimum-object-size', 'x-amz-transition-default-minimum-object-size', minimumSize);
  }
  const root = parseXml(body);
  if (root.name !== 'LifecycleConfiguration') throw malformedXml();
  const ruleNodes = childrenNamed(root, 'Rule');
  // The schema wants one Rule or more; "can contain up to 1,000 rules" (intro-lifecycle-rules.html).
  // Guess: more than 1,000 is refused as not validating, like other count limits of S3 documents.
  if (ruleNodes.length === 0 || ruleNodes.length > MAX_LIFECYCLE_RULES) throw malformedXml();
  const rules = ruleNodes.map(parseRule);
  const seen = new Set<string>();
  for (const rule of rules) {
    // AWS: InvalidArgument "Rule ID must be unique. Found same ID for more than one rule".
    if (seen.has(rule.id)) throw invalidArgument('Rule ID must be unique. Found same ID for more than one rule', 'ID', rule.id);
    seen.add(rule.id);
  }
  return { rules, transitionDefaultMinimumObjectSize: (minimumSize as TransitionMinimumSize | undefined) ?? DEFAULT_TRANSITION_MINIMUM_SIZE };
}

function parseFilter(rule: XmlNode): LifecycleFilter {
  const legacy = text(rule, 'Prefix');
  const filter = one(rule, 'Filter');
  // "Filter ... is required if the LifecycleRule does not contain a Prefix element"; both: the
  // rule does not validate. Neither: S3 now accepts the rule, applied to every object.
  if (legacy !== undefined && filter) throw malformedXml();
  if (legacy !== undefined) return { kind: 'legacy-prefix', prefix: legacy };
  if (!filter) return { kind: 'none' };
  const present = ['Prefix', 'Tag', 'ObjectSizeGreaterThan', 'ObjectSizeLessThan', 'And'].filter((n) => childrenNamed(filter, n).length > 0);
  // "A Filter can have exactly one of Prefix, Tag, ObjectSizeGreaterThan, ObjectSizeLessThan, or And".
  if (present.length > 1) throw malformedXml();
  switch (present[0]) {
    case undefined:
      return { kind: 'empty' };
    case 'Prefix':
      return { kind: 'prefix', prefix: text(filter, 'Prefix')! };
    case 'Tag':
      return { kind: 'tag', tag: tagOf(one(filter, 'Tag')!) };
    case 'ObjectSizeGreaterThan':
      return { kind: 'greater', size: size(filter, 'ObjectSizeGreaterThan')! };
    case 'ObjectSizeLessThan':
      return { kind: 'less', size: size(filter, 'ObjectSizeLessThan')! };
    default: {
      const and = one(filter, 'And')!;
      const tags = childrenNamed(and, 'Tag').map(tagOf);
      const result: LifecycleFilter = { kind: 'and', prefix: text(and, 'Prefix'), tags, greater: size(and, 'ObjectSizeGreaterThan'), less: size(and, 'ObjectSizeLessThan') };
      const predicates = (result.prefix !== undefined ? 1 : 0) + tags.length + (result.greater !== undefined ? 1 : 0) + (result.less !== undefined ? 1 : 0);
      // "And ... a logical AND to two or more predicates". Guess: fewer does not validate.
      if (predicates < 2) throw malformedXml();
      const keys = new Set<string>();
      for (const t of tags) {
        // AWS: InvalidRequest "Duplicate Tag Keys are not allowed." (LocalStack's AWS-validated snapshots).
        if (keys.has(t.key)) throw invalidRequest('Duplicate Tag Keys are not allowed.');
        keys.add(t.key);
      }
      if (result.greater !== undefined && result.less !== undefined && result.greater >= result.less) {
        // Guess at the wording: the rule itself is documented ("ObjectSizeGreaterThan must be
        // less than ObjectSizeLessThan", intro-lifecycle-filters.html).
        throw invalidArgument('ObjectSizeGreaterThan must be less than ObjectSizeLessThan', 'ObjectSizeGreaterThan', String(result.greater));
      }
      return result;
    }
  }
}

const hasTags = (f: LifecycleFilter) => f.kind === 'tag' || (f.kind === 'and' && f.tags.length > 0);

/** A positive day count. AWS: InvalidArgument "'<name>' for <action> action must be a positive integer" (reproduced against AWS, scality/Arsenal#2648). */
function positiveDays(node: XmlNode, name: string, action: string): number | undefined {
  const n = integer(node, name);
  if (n !== undefined && n <= 0) throw invalidArgument(`'${name}' for ${action} action must be a positive integer`, name, String(n));
  return n;
}

function parseRule(node: XmlNode): LifecycleRule {
  const idText = text(node, 'ID');
  // AWS: InvalidArgument "ID length should not exceed allowed limit of 255".
  if (idText !== undefined && idText.length > MAX_RULE_ID_LENGTH) throw invalidArgument(`ID length should not exceed allowed limit of ${MAX_RULE_ID_LENGTH}`, 'ID', idText);
  const status = text(node, 'Status');
  if (status !== 'Enabled' && status !== 'Disabled') throw malformedXml();
  const filter = parseFilter(node);
  const rule: LifecycleRule = {
    // No ID (or an empty one): S3 names the rule itself, a base64 string like this.
    id: idText ? idText : Buffer.from(randomUUID()).toString('base64'),
    status,
    filter,
    transitions: [],
    noncurrentVersionTransitions: [],
  };

  const expiration = one(node, 'Expiration');
  if (expiration) {
    const days = positiveDays(expiration, 'Days', 'Expiration');
    const date = midnightDate(expiration, 'Date');
    const marker = bool(expiration, 'ExpiredObjectDeleteMarker');
    // Exactly one of Days, Date and ExpiredObjectDeleteMarker: "This cannot be specified with
    // Days or Date" (API_LifecycleExpiration.html); AWS answers MalformedXML.
    if ((days !== undefined ? 1 : 0) + (date !== undefined ? 1 : 0) + (marker !== undefined ? 1 : 0) !== 1) throw malformedXml();
    // "You can't use tag-based filtering ... with ExpiredObjectDeleteMarker" (intro-lifecycle-rules.html). Guess at the wording.
    if (marker && hasTags(filter)) throw invalidRequest('ExpiredObjectDeleteMarker cannot be specified with tag-based filter.');
    rule.expiration = { days, date, expiredObjectDeleteMarker: marker };
  }

  const noncurrent = one(node, 'NoncurrentVersionExpiration');
  if (noncurrent) {
    const noncurrentDays = positiveDays(noncurrent, 'NoncurrentDays', 'NoncurrentVersionExpiration');
    const newer = integer(noncurrent, 'NewerNoncurrentVersions');
    // "You can specify up to 100 noncurrent versions to retain" (intro-lifecycle-rules.html). Guess at the wording.
    if (newer !== undefined && (newer < 1 || newer > 100)) throw invalidArgument("'NewerNoncurrentVersions' for NoncurrentVersionExpiration action must be a positive integer up to 100", 'NewerNoncurrentVersions', String(newer));
    if (noncurrentDays === undefined && newer === undefined) throw malformedXml();
    rule.noncurrentVersionExpiration = { noncurrentDays, newerNoncurrentVersions: newer };
  }

  const abort = one(node, 'AbortIncompleteMultipartUpload');
  if (abort) {
    const days = positiveDays(abort, 'DaysAfterInitiation', 'AbortIncompleteMultipartUpload');
    if (days === undefined) throw malformedXml();
    // Uploads have no tags: AWS refuses the combination (mpu-abort-incomplete-mpu-lifecycle-config.html).
    if (hasTags(filter)) throw invalidRequest('AbortIncompleteMultipartUpload cannot be specified with Tags.');
    rule.abortIncompleteMultipartUpload = { daysAfterInitiation: days };
  }

  for (const t of childrenNamed(node, 'Transition')) {
    const sc = storageClass(t);
    const days = integer(t, 'Days');
    const date = midnightDate(t, 'Date');
    if ((days === undefined) === (date === undefined)) throw malformedXml();
    // Guess at the wording for a negative count ("The value can be 0 or any positive integer").
    if (days !== undefined && days < 0) throw invalidArgument("'Days' in Transition action must be nonnegative", 'Days', String(days));
    // AWS: InvalidArgument "'Days' in Transition action must be greater than or equal to 30 for storageClass 'STANDARD_IA'".
    if (days !== undefined && THIRTY_DAY_CLASSES.has(sc) && days < 30) {
      throw invalidArgument(`'Days' in Transition action must be greater than or equal to 30 for storageClass '${sc}'`, 'Days', String(days));
    }
    rule.transitions.push({ days, date, storageClass: sc });
  }
  for (const t of childrenNamed(node, 'NoncurrentVersionTransition')) {
    const sc = storageClass(t);
    const days = integer(t, 'NoncurrentDays');
    const newer = integer(t, 'NewerNoncurrentVersions');
    if (days === undefined) throw malformedXml();
    if (days < 0) throw invalidArgument("'NoncurrentDays' in NoncurrentVersionTransition action must be nonnegative", 'NoncurrentDays', String(days));
    if (THIRTY_DAY_CLASSES.has(sc) && days < 30) {
      throw invalidArgument(`'NoncurrentDays' in NoncurrentVersionTransition action must be greater than or equal to 30 for storageClass '${sc}'`, 'NoncurrentDays', String(days));
    }
    rule.noncurrentVersionTransitions.push({ noncurrentDays: days, newerNoncurrentVersions: newer, storageClass: sc });
  }
  // Not checked: Date and Days mixed between a rule's Expiration and Transitions (or among its
  // Transitions), and transitions against the storage-class order or with days that do not grow.
  // AWS refuses those ("you must use the same time unit for both", CloudFormation's
  // AWS::S3::Bucket Rule; lifecycle-transition-general-considerations.html), but no recorded AWS
  // response gives its status, code and message; only other S3 implementations' own wording was found.
  // Guess: the same storage class twice in one rule's transitions is refused (one move per class).
  if (new Set(rule.transitions.map((t) => t.storageClass)).size !== rule.transitions.length) throw invalidRequest("'StorageClass' must be different for 'Transition' actions in same 'Rule'");

  // An expiration must come after every transition of the same rule. AWS: InvalidArgument
  // "'Days' in the Expiration action for filter '(prefix=logs/)' must be greater than 'Days' in the Transition action".
  if (rule.expiration?.days !== undefined) {
    for (const t of rule.transitions) {
      if (t.days !== undefined && rule.expiration.days <= t.days) {
        throw invalidArgument(`'Days' in the Expiration action for filter '${describeFilter(filter)}' must be greater than 'Days' in the Transition action`, 'Days', String(rule.expiration.days));
      }
    }
  }
  if (rule.noncurrentVersionExpiration?.noncurrentDays !== undefined) {
    for (const t of rule.noncurrentVersionTransitions) {
      if (t.noncurrentDays !== undefined && rule.noncurrentVersionExpiration.noncurrentDays <= t.noncurrentDays) {
        throw invalidArgument(
          `'NoncurrentDays' in the NoncurrentVersionExpiration action for filter '${describeFilter(filter)}' must be greater than 'NoncurrentDays' in the NoncurrentVersionTransition action`,
          'NoncurrentDays',
          String(rule.noncurrentVersionExpiration.noncurrentDays),
        );
      }
    }
  }

  // AWS: InvalidRequest "At least one action needs to be specified in a rule".
  if (!rule.expiration && !rule.noncurrentVersionExpiration && !rule.abortIncompleteMultipartUpload && !rule.transitions.length && !rule.noncurrentVersionTransitions.length) {
    throw invalidRequest('At least one action needs to be specified in a rule');
  }
  return rule;
}

/** How AWS's messages name a rule's filter: `(prefix=logs/)`, with tags and sizes after it. */
function describeFilter(f: LifecycleFilter): string {
  const m = predicates(f);
  const parts = [`prefix=${m.prefix}`, ...m.tags.map((t) => `tag=${t.key}:${t.value}`)];
  if (m.greater !== undefined) parts.push(`size>${m.greater}`);
  if (m.less !== undefined) parts.push(`size<${m.less}`);
  return `(${parts.join(', ')})`;
}

// ---------------------------------------------------------------------------
// Serialize (GetBucketLifecycleConfiguration)

const tagXml = (t: LifecycleTag) => el('Tag', [el('Key', t.key), el('Value', t.value)]);

function filterXml(f: LifecycleFilter): string {
  switch (f.kind) {
    case 'none':
    case 'empty':
      return el('Filter', []);
    case 'legacy-prefix':
      return el('Prefix', f.prefix);
    case 'prefix':
      return el('Filter', [el('Prefix', f.prefix)]);
    case 'tag':
      return el('Filter', [tagXml(f.tag)]);
    case 'greater':
      return el('Filter', [el('ObjectSizeGreaterThan', f.size)]);
    case 'less':
      return el('Filter', [el('ObjectSizeLessThan', f.size)]);
    case 'and':
      return el('Filter', [el('And', [el('Prefix', f.prefix), ...f.tags.map(tagXml), el('ObjectSizeGreaterThan', f.greater), el('ObjectSizeLessThan', f.less)])]);
  }
}

export function lifecycleConfigurationXml(config: LifecycleConfiguration): string {
  return s3Document(
    'LifecycleConfiguration',
    config.rules.map((r) =>
      el('Rule', [
        el('ID', r.id),
        filterXml(r.filter),
        el('Status', r.status),
        ...r.transitions.map((t) => el('Transition', [el('Date', t.date), el('Days', t.days), el('StorageClass', t.storageClass)])),
        ...r.noncurrentVersionTransitions.map((t) =>
          el('NoncurrentVersionTransition', [el('NoncurrentDays', t.noncurrentDays), el('StorageClass', t.storageClass), el('NewerNoncurrentVersions', t.newerNoncurrentVersions)]),
        ),
        r.expiration ? el('Expiration', [el('Date', r.expiration.date), el('Days', r.expiration.days), el('ExpiredObjectDeleteMarker', r.expiration.expiredObjectDeleteMarker)]) : '',
        r.noncurrentVersionExpiration
          ? el('NoncurrentVersionExpiration', [el('NoncurrentDays', r.noncurrentVersionExpiration.noncurrentDays), el('NewerNoncurrentVersions', r.noncurrentVersionExpiration.newerNoncurrentVersions)])
          : '',
        r.abortIncompleteMultipartUpload ? el('AbortIncompleteMultipartUpload', [el('DaysAfterInitiation', r.abortIncompleteMultipartUpload.daysAfterInitiation)]) : '',
      ]),
    ),
  );
}

// ---------------------------------------------------------------------------
// Matching

/** The predicates of a filter, all of which an object must satisfy. */
function predicates(f: LifecycleFilter): { prefix: string; tags: LifecycleTag[]; greater?: number; less?: number } {
  switch (f.kind) {
    case 'none':
    case 'empty':
      return { prefix: '', tags: [] };
    case 'legacy-prefix':
    case 'prefix':
      return { prefix: f.prefix, tags: [] };
    case 'tag':
      return { prefix: '', tags: [f.tag] };
    case 'greater':
      return { prefix: '', tags: [], greater: f.size };
    case 'less':
      return { prefix: '', tags: [], less: f.size };
    case 'and':
      return { prefix: f.prefix ?? '', tags: f.tags, greater: f.greater, less: f.less };
  }
}

/** What a filter looks at: the key, the object's tags and its size. */
export interface LifecycleSubject {
  key: string;
  tags?: readonly { key: string; value: string }[];
  size: number;
}

/**
 * Whether a rule's filter selects an object: the key starts with the prefix, every filter tag is
 * among the object's tags (more tags on the object are fine), and the size is strictly above
 * ObjectSizeGreaterThan and strictly below ObjectSizeLessThan.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/intro-lifecycle-filters.html
 */
export function filterMatches(f: LifecycleFilter, o: LifecycleSubject): boolean {
  const p = predicates(f);
  if (!o.key.startsWith(p.prefix)) return false;
  if (p.greater !== undefined && !(o.size > p.greater)) return false;
  if (p.less !== undefined && !(o.size < p.less)) return false;
  return p.tags.every((t) => (o.tags ?? []).some((ot) => ot.key === t.key && ot.value === t.value));
}

/** Uploads have no tags or size yet: a rule's prefix alone decides (tag rules cannot abort uploads). */
export function uploadMatches(f: LifecycleFilter, key: string): boolean {
  return key.startsWith(predicates(f).prefix);
}

// ---------------------------------------------------------------------------
// Dates

/**
 * When an action N days after `fromMs` falls due: "Amazon S3 calculates the time by adding the
 * number of days specified in the rule to the object creation time and rounding the resulting
 * time to the next day midnight UTC" (an object created 1/15 10:30 UTC with 3 days: 1/19 00:00 UTC).
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/intro-lifecycle-rules.html
 */
export function dueAfterDays(fromMs: number, days: number): number {
  return Math.floor((fromMs + days * DAY_MS) / DAY_MS) * DAY_MS + DAY_MS;
}

/** When a current version expires under this rule (Days or Date), or undefined when the rule does not expire current versions. */
export function expirationDue(rule: LifecycleRule, lastModified: number): number | undefined {
  const e = rule.expiration;
  if (e?.days !== undefined) return dueAfterDays(lastModified, e.days);
  if (e?.date !== undefined) return Date.parse(e.date);
  return undefined;
}

/** The earliest expiration of a current version among the enabled rules that select it. */
export function objectExpiration(config: LifecycleConfiguration, o: LifecycleSubject & { lastModified: number }): { due: number; ruleId: string } | undefined {
  let best: { due: number; ruleId: string } | undefined;
  for (const rule of config.rules) {
    if (rule.status !== 'Enabled' || !filterMatches(rule.filter, o)) continue;
    const due = expirationDue(rule, o.lastModified);
    if (due !== undefined && (!best || due < best.due)) best = { due, ruleId: rule.id };
  }
  return best;
}

/** The earliest abort date of an upload started at `initiated`, and the rule that sets it. */
export function uploadAbort(config: LifecycleConfiguration, key: string, initiated: number): { due: number; ruleId: string } | undefined {
  let best: { due: number; ruleId: string } | undefined;
  for (const rule of config.rules) {
    if (rule.status !== 'Enabled' || !rule.abortIncompleteMultipartUpload || !uploadMatches(rule.filter, key)) continue;
    const due = dueAfterDays(initiated, rule.abortIncompleteMultipartUpload.daysAfterInitiation);
    if (!best || due < best.due) best = { due, ruleId: rule.id };
  }
  return best;
}

/**
 * The x-amz-expiration header: `expiry-date="Fri, 23 Dec 2012 00:00:00 GMT", rule-id="..."`,
 * "The value of the rule-id is URL-encoded".
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html#API_GetObject_ResponseSyntax
 */
export function expirationHeader(e: { due: number; ruleId: string }): string {
  return `expiry-date="${httpDate(e.due)}", rule-id="${encodeURIComponent(e.ruleId)}"`;
}
