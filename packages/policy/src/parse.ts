/**
 * Parsing and validation of policy JSON (IAM JSON policy elements reference). The result is a
 * normalized PolicyDocument (see types.ts), already compiled, so evaluating it never throws.
 *
 * Rules enforced, each with a PolicyError naming the problem:
 * - the text is a JSON object with only `Version`, `Id` and `Statement`;
 * - `Version`, when present, is `2012-10-17` or `2008-10-17`;
 * - `Statement` is one statement object or a non-empty array of them;
 * - a statement has only Sid, Effect, Principal, NotPrincipal, Action, NotAction, Resource,
 *   NotResource and Condition; `Sid`s are unique within the document;
 * - `Effect` is exactly `Allow` or `Deny`;
 * - resource policies (key policies, bucket policies) need exactly one of Principal and
 *   NotPrincipal; identity policies may have neither;
 * - exactly one of Action / NotAction, and exactly one of Resource / NotResource;
 * - actions are `*` or `service:pattern`; resources are `*` or start with `arn:`;
 * - principals are `*` or an object of AWS / Service / Federated / CanonicalUser lists, AWS values
 *   being `*`, a 12-digit account id or an ARN without wildcards ("You cannot use a wildcard to
 *   match part of a principal name or ARN");
 * - condition operators are known (with optional ForAllValues:/ForAnyValue: and IfExists), values
 *   are strings, numbers or booleans (or arrays of them), and Numeric, Date, IpAddress,
 *   BinaryEquals and Null values are well-formed.
 */
import { parseOperator } from './conditions';
import { PolicyError } from './errors';
import { compiledPolicy } from './evaluate';
import type { PolicyDocument, PrincipalBlock, Statement } from './types';

export const POLICY_VERSIONS: readonly string[] = ['2012-10-17', '2008-10-17'];

const TOP_LEVEL = new Set(['Version', 'Id', 'Statement']);
const STATEMENT_FIELDS = new Set([
  'Sid',
  'Effect',
  'Principal',
  'NotPrincipal',
  'Action',
  'NotAction',
  'Resource',
  'NotResource',
  'Condition',
]);
const PRINCIPAL_TYPES = new Set(['AWS', 'Service', 'Federated', 'CanonicalUser']);

const ACTION = /^[^:\s*?]+:[^:\s]+$/;
const ACCOUNT_ID = /^\d{12}$/;
/**
 * An AWS principal ARN: an account's root, an IAM user or role, a role session or a federated
 * user, always in a 12-digit account (`arn:aws:iam::abc:root` is "Invalid principal in policy", as
 * is a user group, which cannot be a principal); and the one principal outside any account, a
 * CloudFront origin access identity, whose name holds spaces.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
 * https://repost.aws/knowledge-center/s3-invalid-principal-in-policy-error
 */
const PRINCIPAL_ARN = /^arn:aws[a-z-]*:(iam::\d{12}:(root|user\/\S+|role\/\S+)|sts::\d{12}:(assumed-role\/\S+|federated-user\/\S+)|iam::cloudfront:user\/CloudFront Origin Access Identity [A-Z0-9]+)$/;

/**
 * A policy value for an error message. JSON.stringify recurses, and a 32 KB policy can nest
 * some 16,000 arrays, which overflows the stack: anything nested is named by its kind instead.
 */
function shown(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object' && value !== null) return 'an object';
  return JSON.stringify(value);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A string or a non-empty array of strings, as an array. */
function stringList(value: unknown, field: string, path: string): string[] {
  const items = Array.isArray(value) ? value : [value];
  if (items.length === 0) throw new PolicyError(`${field} must not be empty`, path);
  for (const item of items) {
    if (typeof item !== 'string') throw new PolicyError(`${field} values must be strings`, path);
  }
  return items as string[];
}

function parsePrincipal(value: unknown, field: string, path: string): PrincipalBlock {
  if (value === '*') return '*';
  if (!isObject(value)) throw new PolicyError(`Invalid principal in policy: ${field} must be "*" or an object`, path);
  const entries = Object.entries(value);
  if (entries.length === 0) throw new PolicyError(`Invalid principal in policy: ${field} is empty`, path);
  const block: Record<string, string[]> = {};
  for (const [type, raw] of entries) {
    if (!PRINCIPAL_TYPES.has(type)) throw new PolicyError(`Invalid principal in policy: unknown principal type "${type}"`, path);
    const values = stringList(raw, `${field}.${type}`, path);
    for (const v of values) {
      if (v === '') throw new PolicyError(`Invalid principal in policy: empty ${type} principal`, path);
      if (type === 'AWS' && v !== '*') {
        // The wildcard first: its message says what to do instead.
        if (v.includes('*') || v.includes('?')) {
          throw new PolicyError(`Invalid principal in policy: "${v}" (wildcards are not allowed in principal ARNs)`, path);
        }
        if (!ACCOUNT_ID.test(v) && !PRINCIPAL_ARN.test(v)) {
          throw new PolicyError(`Invalid principal in policy: "${v}"`, path);
        }
      }
    }
    block[type] = values;
  }
  return block;
}

function conditionValues(value: unknown, path: string): string[] {
  const items = Array.isArray(value) ? value : [value];
  return items.map((item) => {
    if (typeof item === 'string') return item;
    if (typeof item === 'number' || typeof item === 'boolean') return String(item);
    throw new PolicyError('Condition values must be strings, numbers or booleans', path);
  });
}

function parseCondition(value: unknown, path: string): Record<string, Record<string, string[]>> {
  if (!isObject(value)) throw new PolicyError('Condition must be an object', path);
  const out: Record<string, Record<string, string[]>> = {};
  for (const [operator, block] of Object.entries(value)) {
    const opPath = `${path}.${operator}`;
    if (parseOperator(operator) === null) throw new PolicyError(`Invalid Condition type : ${operator}`, opPath);
    if (!isObject(block)) throw new PolicyError(`Condition ${operator} must map condition keys to values`, opPath);
    const keys: Record<string, string[]> = {};
    for (const [key, raw] of Object.entries(block)) {
      if (key === '') throw new PolicyError('Condition key must not be empty', opPath);
      keys[key] = conditionValues(raw, `${opPath}.${key}`);
    }
    out[operator] = keys;
  }
  return out;
}

function onlyOne(st: Record<string, unknown>, a: string, b: string, path: string, required: boolean): void {
  const hasA = st[a] !== undefined;
  const hasB = st[b] !== undefined;
  if (hasA && hasB) throw new PolicyError(`Statement cannot have both ${a} and ${b}`, path);
  if (required && !hasA && !hasB) throw new PolicyError(`Missing required field ${a}`, path);
}

function parseStatement(raw: unknown, index: number, kind: 'resource' | 'identity'): Statement {
  const path = `Statement[${index}]`;
  if (!isObject(raw)) throw new PolicyError('Each statement must be an object', path);
  for (const field of Object.keys(raw)) {
    if (!STATEMENT_FIELDS.has(field)) throw new PolicyError(`Unknown field ${field}`, path);
  }
  if (raw.Effect === undefined) throw new PolicyError('Missing required field Effect', path);
  if (raw.Effect !== 'Allow' && raw.Effect !== 'Deny') {
    throw new PolicyError(`Invalid effect: ${typeof raw.Effect === 'string' ? raw.Effect : shown(raw.Effect)}`, path);
  }
  const st: Statement = { Effect: raw.Effect };
  if (raw.Sid !== undefined) {
    if (typeof raw.Sid !== 'string') throw new PolicyError('Sid must be a string', path);
    st.Sid = raw.Sid;
  }
  if (kind === 'identity') {
    if (raw.Principal !== undefined) throw new PolicyError('Has prohibited field Principal', path);
    if (raw.NotPrincipal !== undefined) throw new PolicyError('Has prohibited field NotPrincipal', path);
  } else {
    onlyOne(raw, 'Principal', 'NotPrincipal', path, true);
    if (raw.Principal !== undefined) st.Principal = parsePrincipal(raw.Principal, 'Principal', path);
    if (raw.NotPrincipal !== undefined) st.NotPrincipal = parsePrincipal(raw.NotPrincipal, 'NotPrincipal', path);
  }
  onlyOne(raw, 'Action', 'NotAction', path, true);
  for (const field of ['Action', 'NotAction'] as const) {
    if (raw[field] === undefined) continue;
    const actions = stringList(raw[field], field, path);
    for (const a of actions) {
      if (a !== '*' && !ACTION.test(a)) throw new PolicyError(`Policy has invalid action: "${a}"`, path);
    }
    st[field] = actions;
  }
  onlyOne(raw, 'Resource', 'NotResource', path, true);
  for (const field of ['Resource', 'NotResource'] as const) {
    if (raw[field] === undefined) continue;
    const resources = stringList(raw[field], field, path);
    for (const r of resources) {
      if (r !== '*' && !r.startsWith('arn:')) throw new PolicyError(`Policy has invalid resource: "${r}"`, path);
    }
    st[field] = resources;
  }
  if (raw.Condition !== undefined) st.Condition = parseCondition(raw.Condition, `${path}.Condition`);
  return st;
}

/**
 * Parses policy JSON into a normalized, validated document. `kind` says whether statements must
 * name a Principal (`'resource'`: key policies, bucket policies) or must not (`'identity'`).
 * Throws PolicyError with a human-readable message for anything AWS would reject.
 */
export function parsePolicy(text: string, kind: 'resource' | 'identity'): PolicyDocument {
  if (typeof text !== 'string') throw new PolicyError('Policy must be a string of JSON');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new PolicyError(`Policy is not valid JSON: ${(err as Error).message}`);
  }
  if (!isObject(json)) throw new PolicyError('Policy must be a JSON object');
  for (const field of Object.keys(json)) {
    if (!TOP_LEVEL.has(field)) throw new PolicyError(`Unknown field ${field}`);
  }
  const doc: PolicyDocument = { Statement: [] };
  if (json.Version !== undefined) {
    if (typeof json.Version !== 'string' || !POLICY_VERSIONS.includes(json.Version)) {
      throw new PolicyError(
        `Invalid Version ${shown(json.Version)}: use "2012-10-17" or "2008-10-17"`,
        'Version',
      );
    }
    doc.Version = json.Version;
  }
  if (json.Id !== undefined) {
    if (typeof json.Id !== 'string') throw new PolicyError('Id must be a string', 'Id');
    doc.Id = json.Id;
  }
  if (json.Statement === undefined) throw new PolicyError('Missing required field Statement');
  const statements = Array.isArray(json.Statement) ? json.Statement : [json.Statement];
  if (statements.length === 0) throw new PolicyError('Policy has no statements', 'Statement');
  const sids = new Set<string>();
  statements.forEach((raw, index) => {
    const st = parseStatement(raw, index, kind);
    if (st.Sid !== undefined && st.Sid !== '') {
      if (sids.has(st.Sid)) {
        throw new PolicyError(`Statement IDs (SID) in a single policy must be unique: "${st.Sid}"`, `Statement[${index}]`);
      }
      sids.add(st.Sid);
    }
    doc.Statement.push(st);
  });
  // Compile now: validates condition values (numbers, dates, CIDRs, ...) and caches the result.
  compiledPolicy(doc);
  return doc;
}
