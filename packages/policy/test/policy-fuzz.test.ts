/**
 * Grammar-based property tests of the policy language: mostly VALID documents (identity and
 * resource policies with random statements, Action/NotAction, Resource/NotResource, principals,
 * and conditions over every operator family with IfExists, ForAnyValue/ForAllValues and policy
 * variables), evaluated against random request contexts and checked against
 * - a small independent reference evaluator written from the IAM documentation, and
 * - invariants: an added Deny never allows more and an added match-all Deny always denies; an added
 *   Allow never removes a Deny; Action vs NotAction (and Resource vs NotResource) are complements;
 *   statement order does not matter; parse(serialize(parse(x))) is parse(x); key and action case
 *   do not matter; evaluatePolicyDetailed agrees with evaluatePolicy.
 * A share of documents gets one targeted mutation that makes it invalid; each must be refused with
 * PolicyError. Counters assert the deep path was reached (documents parsed and evaluated, every
 * decision, every condition family both true and false).
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
 */
import { type Decision, type PolicyDocument, type RequestContext, PolicyError, evaluatePolicy, evaluatePolicyDetailed, explainPolicy, parsePolicy } from '../src';
import { Counters, type Rng, cases, forCases } from '../../e2e/test/fuzz-random';

const ACCOUNT = '111122223333';
const OTHER = '444455556666';

type Family = 'String' | 'Numeric' | 'Date' | 'Bool' | 'IpAddress' | 'Arn' | 'Null';

interface KeySpec {
  name: string;
  family: Exclude<Family, 'Null'>;
  /** Request values are drawn from this small pool, so policy values match often. */
  pool: string[];
  multi?: boolean;
}

const KEYS: KeySpec[] = [
  { name: 'aws:username', family: 'String', pool: ['alice', 'bob', 'Alice', 'a*b', 'al?ce'] },
  { name: 's3:prefix', family: 'String', pool: ['home/alice/', 'home/bob/x', 'public/', '', 'home/'] },
  { name: 'kms:EncryptionContext:team', family: 'String', pool: ['red', 'blue', 'RED', 'alice'] },
  { name: 'kms:EncryptionContextKeys', family: 'String', pool: ['team', 'app', 'stage', 'aws:s3:arn'], multi: true },
  { name: 's3:max-keys', family: 'Numeric', pool: ['0', '10', '100', '1000', '-5', '2.5', 'x'] },
  { name: 'aws:CurrentTime', family: 'Date', pool: ['2026-01-01T00:00:00Z', '2026-06-15T12:00:00Z', '2027-01-01T00:00:00Z', 'soon'] },
  { name: 'aws:SecureTransport', family: 'Bool', pool: ['true', 'false', 'TRUE'] },
  { name: 'aws:SourceIp', family: 'IpAddress', pool: ['10.0.0.1', '10.1.2.3', '192.168.1.7', '203.0.113.9', 'nope'] },
  {
    name: 'aws:SourceArn',
    family: 'Arn',
    pool: [`arn:aws:s3:::bucket-a`, `arn:aws:s3:::bucket-b/x:y`, `arn:aws:sns:us-east-1:${ACCOUNT}:topic`, `arn:aws:sns:eu-west-1:${OTHER}:topic`, 'not-an-arn'],
  },
];

const OPERATORS: Record<Exclude<Family, 'Null'>, string[]> = {
  String: ['StringEquals', 'StringNotEquals', 'StringEqualsIgnoreCase', 'StringNotEqualsIgnoreCase', 'StringLike', 'StringNotLike'],
  Numeric: ['NumericEquals', 'NumericNotEquals', 'NumericLessThan', 'NumericLessThanEquals', 'NumericGreaterThan', 'NumericGreaterThanEquals'],
  Date: ['DateEquals', 'DateNotEquals', 'DateLessThan', 'DateLessThanEquals', 'DateGreaterThan', 'DateGreaterThanEquals'],
  Bool: ['Bool'],
  IpAddress: ['IpAddress', 'NotIpAddress'],
  Arn: ['ArnEquals', 'ArnLike', 'ArnNotEquals', 'ArnNotLike'],
};
const NEGATED = new Set(['StringNotEquals', 'StringNotEqualsIgnoreCase', 'StringNotLike', 'NumericNotEquals', 'DateNotEquals', 'NotIpAddress', 'ArnNotEquals', 'ArnNotLike']);

const ACTIONS = ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 's3:GetObject', 's3:PutObject', 's3:ListBucket'];
const ACTION_PATTERNS = [...ACTIONS, 'kms:*', 's3:Get*', 'KMS:decrypt', 'kms:Generate?ataKey', 's3:*Object', '*', 'kms:Re*'];
const RESOURCES = [`arn:aws:kms:us-east-1:${ACCOUNT}:key/k1`, `arn:aws:kms:us-east-1:${ACCOUNT}:key/k2`, 'arn:aws:s3:::bucket-a/home/alice/notes', 'arn:aws:s3:::bucket-a/public/x', 'arn:aws:s3:::bucket-b'];
/** Wildcards only where a plain glob and IAM's colon rule agree (see wildcard.ts). */
const RESOURCE_PATTERNS = [...RESOURCES, '*', `arn:aws:kms:*:${ACCOUNT}:key/*`, 'arn:aws:s3:::bucket-a/*', 'arn:aws:s3:::bucket-?', 'arn:aws:s3:::bucket-a/home/${aws:username}/*', 'arn:aws:s3:::*/public/*', 'arn:aws:kms:us-east-1:*'];
const PRINCIPALS: RequestContext['principal'][] = [
  { arn: `arn:aws:iam::${ACCOUNT}:user/alice`, accountId: ACCOUNT },
  { arn: `arn:aws:iam::${ACCOUNT}:role/deployer`, accountId: ACCOUNT },
  { arn: `arn:aws:iam::${OTHER}:user/mallory`, accountId: OTHER },
  'anonymous',
];
const PRINCIPAL_VALUES = ['*', ACCOUNT, `arn:aws:iam::${ACCOUNT}:root`, `arn:aws:iam::${ACCOUNT}:user/alice`, `arn:aws:iam::${OTHER}:user/mallory`, `arn:aws:iam::${ACCOUNT}:role/deployer`];

const VARIABLES = ['${aws:username}', "${kms:EncryptionContext:team, 'red'}", '${aws:userid}', "${aws:userid, 'alice'}", '${*}'];

// ---------------------------------------------------------------- generators

interface Generated {
  kind: 'resource' | 'identity';
  doc: { Version?: string; Statement: Record<string, unknown>[] };
}

function policyValue(rng: Rng, spec: KeySpec, operator: string, version: boolean): string | number | boolean {
  switch (spec.family) {
    case 'String': {
      const base = rng.pick(spec.pool.filter((v) => v !== ''));
      if (version && rng.chance(0.25)) return rng.pick(VARIABLES);
      if (operator.includes('Like') && rng.chance(0.5)) return rng.pick([base.slice(0, 2) + '*', '*', base.replace(/.$/, '?'), `*${base.slice(-1)}`]);
      return base;
    }
    case 'Numeric':
      return rng.chance(0.3) ? rng.pick([0, 10, 100, 5.5]) : rng.pick(['0', '10', '100', '1e3', ' 50 ', '-5']);
    case 'Date':
      return rng.pick(['2026-01-01T00:00:00Z', '2026-06-15T12:00:00Z', '2026-03-01T00:00:00Z', '2027-01-01T00:00:00Z']);
    case 'Bool':
      return rng.chance(0.3) ? rng.pick([true, false]) : rng.pick(['true', 'false', 'True']);
    case 'IpAddress':
      return rng.pick(['10.0.0.0/8', '10.0.0.1', '10.1.0.0/16', '192.168.1.0/24', '203.0.113.9/32', '0.0.0.0/0']);
    case 'Arn':
      if (version && rng.chance(0.15)) return 'arn:aws:s3:::${aws:username}';
      return rng.pick([`arn:aws:s3:::bucket-*`, `arn:aws:sns:*:${ACCOUNT}:topic`, `arn:aws:sns:us-east-1:${ACCOUNT}:topic`, 'arn:aws:s3:::bucket-b/x:y', 'arn:aws:s3:::bucket-b/*', '*', 'arn:aws:*:*:*:*', `arn:aws:sns:eu-west-?:${OTHER}:*`]);
  }
}

function condition(rng: Rng, version: boolean): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (let i = rng.int(1, 3); i > 0; i--) {
    if (rng.chance(0.12)) {
      const spec = rng.pick(KEYS);
      out.Null = { ...(out.Null ?? {}), [spec.name]: rng.pick(['true', 'false', true]) };
      continue;
    }
    const spec = rng.pick(KEYS);
    let operator = rng.pick(OPERATORS[spec.family]);
    if (rng.chance(0.25)) operator += 'IfExists';
    if (rng.chance(spec.multi ? 0.7 : 0.15)) operator = `${rng.pick(['ForAnyValue', 'ForAllValues'])}:${operator}`;
    const values = rng.many(1, 3, () => policyValue(rng, spec, operator, version));
    const keyName = rng.chance(0.2) ? spec.name.toUpperCase() : spec.name;
    out[operator] = { ...(out[operator] ?? {}), [keyName]: values.length === 1 && rng.chance(0.5) ? values[0] : values };
  }
  return out;
}

function oneOrMany<T>(rng: Rng, items: T[]): T | T[] {
  return items.length === 1 && rng.chance(0.5) ? items[0]! : items;
}

function statement(rng: Rng, kind: 'resource' | 'identity', version: boolean, sid: number): Record<string, unknown> {
  const st: Record<string, unknown> = { Effect: rng.chance(0.6) ? 'Allow' : 'Deny' };
  if (rng.chance(0.3)) st.Sid = `S${sid}`;
  if (kind === 'resource') {
    const principal = rng.chance(0.3) ? '*' : { AWS: oneOrMany(rng, rng.subset(PRINCIPAL_VALUES, 1, 2)) };
    st[rng.chance(0.1) ? 'NotPrincipal' : 'Principal'] = principal;
  }
  st[rng.chance(0.2) ? 'NotAction' : 'Action'] = oneOrMany(rng, rng.subset(ACTION_PATTERNS, 1, 3));
  st[rng.chance(0.15) ? 'NotResource' : 'Resource'] = oneOrMany(rng, rng.subset(version ? RESOURCE_PATTERNS : RESOURCE_PATTERNS.filter((r) => !r.includes('$')), 1, 2));
  if (rng.chance(0.7)) st.Condition = condition(rng, version);
  return st;
}

function generate(rng: Rng): Generated {
  const kind = rng.chance(0.5) ? 'resource' : 'identity';
  const version = rng.next();
  const doc: Generated['doc'] = { Statement: [] };
  if (version < 0.8) doc.Version = '2012-10-17';
  else if (version < 0.9) doc.Version = '2008-10-17';
  doc.Statement = rng.many(1, 4, (i) => statement(rng, kind, doc.Version === '2012-10-17', i));
  return { kind, doc };
}

/** One targeted mutation that AWS refuses; returns its name. */
const MUTATIONS: Array<[string, (g: Generated, rng: Rng) => void]> = [
  ['bad effect', (g, rng) => (rng.pick(g.doc.Statement).Effect = rng.pick(['allow', 'Permit', '', 1]))],
  ['unknown operator', (g, rng) => (rng.pick(g.doc.Statement).Condition = { StringEqualz: { 'aws:username': 'x' } })],
  ['numeric value', (g, rng) => (rng.pick(g.doc.Statement).Condition = { NumericLessThan: { 's3:max-keys': rng.pick(['ten', '1..2', '']) } })],
  ['date value', (g, rng) => (rng.pick(g.doc.Statement).Condition = { DateGreaterThan: { 'aws:CurrentTime': rng.pick(['2026-02-30', 'yesterday', '2026-13-01']) } })],
  ['cidr', (g, rng) => (rng.pick(g.doc.Statement).Condition = { IpAddress: { 'aws:SourceIp': rng.pick(['10.0.0.0/33', '300.1.1.1', '10.0.0']) } })],
  ['null qualifier', (g, rng) => (rng.pick(g.doc.Statement).Condition = { [rng.pick(['NullIfExists', 'ForAnyValue:Null'])]: { 'aws:username': 'true' } })],
  ['null value', (g, rng) => (rng.pick(g.doc.Statement).Condition = { Null: { 'aws:username': rng.pick(['yes', '1']) } })],
  ['object value', (g, rng) => (rng.pick(g.doc.Statement).Condition = { StringEquals: { 'aws:username': [{ a: 1 }] } })],
  ['missing action', (g, rng) => {
    const st = rng.pick(g.doc.Statement);
    delete st.Action;
    delete st.NotAction;
  }],
  ['both action forms', (g, rng) => {
    const st = rng.pick(g.doc.Statement);
    st.Action = 'kms:Decrypt';
    st.NotAction = 'kms:Encrypt';
  }],
  ['bad action', (g, rng) => (rng.pick(g.doc.Statement).Action = rng.pick(['Decrypt', 'kms:', ':x', 'kms :Decrypt']))],
  ['bad resource', (g, rng) => (rng.pick(g.doc.Statement).Resource = rng.pick(['bucket-a', 'ARN:aws:s3:::x', '']))],
  ['unknown field', (g, rng) => (rng.pick(g.doc.Statement).Actions = 'kms:*')],
  ['principal mismatch', (g, rng) => {
    const st = rng.pick(g.doc.Statement);
    if (g.kind === 'identity') st.Principal = '*';
    else {
      delete st.Principal;
      delete st.NotPrincipal;
    }
  }],
  ['wildcard principal arn', (g, rng) => {
    g.kind = 'resource';
    for (const st of g.doc.Statement) {
      delete st.NotPrincipal;
      st.Principal = { AWS: '*' };
    }
    rng.pick(g.doc.Statement).Principal = { AWS: `arn:aws:iam::${ACCOUNT}:user/*` };
  }],
  ['duplicate sid', (g) => {
    g.doc.Statement.push({ ...g.doc.Statement[0]!, Sid: 'Same' }, { ...g.doc.Statement[0]!, Sid: 'Same' });
  }],
  ['bad version', (g, rng) => (g.doc.Version = rng.pick(['2012-10-18', '2012', '']))],
  ['empty statement list', (g) => (g.doc.Statement = [])],
];

function context(rng: Rng): RequestContext {
  const keys: Record<string, string | string[] | undefined> = {};
  for (const spec of KEYS) {
    const roll = rng.next();
    if (roll < 0.3) continue;
    const name = rng.chance(0.2) ? spec.name.toLowerCase() : spec.name;
    if (spec.multi || roll > 0.9) keys[name] = rng.subset(spec.pool, 0, 3);
    else keys[name] = rng.pick(spec.pool);
  }
  return { principal: rng.pick(PRINCIPALS), action: rng.pick(ACTIONS), resource: rng.pick(RESOURCES), keys };
}

// ---------------------------------------------------------------- the reference evaluator

/** The request's values by lower-cased key name (absent: undefined). */
function requestValues(ctx: RequestContext, key: string): string[] | undefined {
  for (const [name, value] of Object.entries(ctx.keys)) {
    if (name.toLowerCase() === key.toLowerCase() && value !== undefined) return typeof value === 'string' ? [value] : value;
  }
  return undefined;
}

/** Substitutes `${...}` (2012-10-17 only). Returns null for a variable with no value and no default. */
function substitute(text: string, ctx: RequestContext, enabled: boolean): Array<{ text: string; literal: boolean }> | null {
  if (!enabled) return [{ text, literal: false }];
  const out: Array<{ text: string; literal: boolean }> = [];
  const re = /\$\{([^}]*)\}/g;
  let last = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    out.push({ text: text.slice(last, m.index), literal: false });
    last = m.index + m[0].length;
    const inner = m[1]!.trim();
    if (inner === '*' || inner === '?' || inner === '$') {
      out.push({ text: inner, literal: true });
      continue;
    }
    const withDefault = /^([^,]+),\s*'(.*)'$/.exec(inner);
    const name = (withDefault ? withDefault[1]! : inner).trim();
    const values = requestValues(ctx, name);
    if (values !== undefined && values.length === 1) out.push({ text: values[0]!, literal: true });
    else if (withDefault) out.push({ text: withDefault[2]!, literal: true });
    else return null;
  }
  out.push({ text: text.slice(last), literal: false });
  return out;
}

function globRegex(pieces: Array<{ text: string; literal: boolean }>, flags = ''): RegExp {
  const source = pieces
    .map((p) => [...p.text].map((c) => (!p.literal && c === '*' ? '.*' : !p.literal && c === '?' ? '.' : c.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&'))).join(''))
    .join('');
  return new RegExp(`^${source}$`, `s${flags}`);
}

const plain = (pieces: Array<{ text: string }>) => pieces.map((p) => p.text).join('');

function ipv4(text: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text.trim());
  if (!m) return null;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return null;
  return parts.reduce((a, p) => a * 256 + p, 0);
}

function ipMatch(request: string, policy: string): boolean {
  const address = ipv4(request);
  const [net, bits] = policy.split('/');
  const network = ipv4(net!);
  if (address === null || network === null) return false;
  const prefix = bits === undefined ? 32 : Number(bits);
  const size = 2 ** (32 - prefix);
  return Math.floor(address / size) === Math.floor(network / size);
}

function arnMatch(request: string, pieces: Array<{ text: string; literal: boolean }>): boolean {
  if (plain(pieces) === '*' && !pieces.some((p) => p.literal && p.text !== '')) return true;
  const split = (s: string) => {
    const parts = s.split(':');
    return parts.length < 6 ? null : [...parts.slice(0, 5), parts.slice(5).join(':')];
  };
  const r = split(request);
  // Variables here only ever fill the resource part, so splitting the substituted text is exact.
  const p = split(plain(pieces));
  if (r === null || p === null) return false;
  const literalText = pieces.some((x) => x.literal);
  return p.every((seg, i) => (i === 5 && literalText ? seg === r[i] || globRegex([{ text: seg, literal: false }]).test(r[i]!) : globRegex([{ text: seg, literal: false }]).test(r[i]!)));
}

/** Does request value `v` match policy value `pv` under the base (positive) operator? */
function baseMatch(base: string, v: string, pieces: Array<{ text: string; literal: boolean }>): boolean {
  const pv = plain(pieces);
  const num = (s: string) => (/^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/.test(s.trim()) ? Number(s.trim()) : null);
  const date = (s: string) => (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(s.trim()) ? Date.parse(s.trim()) : null);
  switch (base) {
    case 'StringEquals':
    case 'StringNotEquals':
      return v === pv;
    case 'StringEqualsIgnoreCase':
    case 'StringNotEqualsIgnoreCase':
      return v.toLowerCase() === pv.toLowerCase();
    case 'StringLike':
    case 'StringNotLike':
      return globRegex(pieces).test(v);
    case 'Bool':
      return v.trim().toLowerCase() === pv.trim().toLowerCase();
    case 'IpAddress':
    case 'NotIpAddress':
      return ipMatch(v, pv);
    case 'ArnEquals':
    case 'ArnLike':
    case 'ArnNotEquals':
    case 'ArnNotLike':
      return arnMatch(v, pieces);
    default: {
      const numeric = base.startsWith('Numeric');
      const a = numeric ? num(v) : date(v);
      const b = numeric ? num(pv) : date(pv);
      if (a === null || b === null) return false;
      const test = base.replace(/^(Numeric|Date)/, '');
      return { Equals: a === b, NotEquals: a === b, LessThan: a < b, LessThanEquals: a <= b, GreaterThan: a > b, GreaterThanEquals: a >= b }[test]!;
    }
  }
}

function referenceCondition(operator: string, key: string, values: string[], ctx: RequestContext, version2012: boolean): boolean {
  const qualifier = /^(ForAllValues|ForAnyValue):/.exec(operator)?.[1];
  let base = operator.replace(/^(ForAllValues|ForAnyValue):/, '');
  const ifExists = base.endsWith('IfExists') && base !== 'IfExists';
  if (ifExists) base = base.slice(0, -'IfExists'.length);
  const request = requestValues(ctx, key);
  const present = request !== undefined && request.length > 0;
  if (base === 'Null') return values.some((v) => (v.toLowerCase() === 'true') === !present);
  const negated = NEGATED.has(base);
  if (!present) return ifExists || qualifier === 'ForAllValues' ? true : qualifier === 'ForAnyValue' ? false : negated;
  const variables = version2012 && (base.startsWith('String') || base.startsWith('Arn') || base === 'Bool');
  const resolved: Array<Array<{ text: string; literal: boolean }>> = [];
  for (const v of values) {
    const pieces = variables ? substitute(v, ctx, true) : [{ text: v, literal: false }];
    if (pieces === null) {
      if (negated) return false;
      continue;
    }
    resolved.push(pieces);
  }
  const satisfies = (v: string) => {
    const matched = resolved.some((pieces) => baseMatch(base, v, pieces));
    return negated ? !matched : matched;
  };
  if (qualifier === 'ForAllValues' || (qualifier === undefined && negated)) return request.every(satisfies);
  return request.some(satisfies);
}

function referencePrincipal(block: unknown, p: RequestContext['principal']): boolean {
  if (block === '*') return true;
  const values = ([] as string[]).concat((block as { AWS: string | string[] }).AWS);
  if (values.includes('*')) return true;
  if (p === 'anonymous') return false;
  return values.some((v) => v === p.accountId || v === `arn:aws:iam::${p.accountId}:root` || v === p.arn);
}

function referenceStatementMatches(st: Record<string, unknown>, ctx: RequestContext, version2012: boolean): boolean {
  const list = (v: unknown) => ([] as unknown[]).concat(v).map(String);
  if (st.Principal !== undefined && !referencePrincipal(st.Principal, ctx.principal)) return false;
  if (st.NotPrincipal !== undefined && referencePrincipal(st.NotPrincipal, ctx.principal)) return false;
  const actionMatches = (patterns: string[]) => patterns.some((a) => globRegex([{ text: a, literal: false }], 'i').test(ctx.action));
  if (st.Action !== undefined && !actionMatches(list(st.Action))) return false;
  if (st.NotAction !== undefined && actionMatches(list(st.NotAction))) return false;
  const resourceMatch = (r: string) => {
    const pieces = substitute(r, ctx, version2012);
    return pieces === null ? null : globRegex(pieces).test(ctx.resource);
  };
  if (st.Resource !== undefined && !list(st.Resource).some((r) => resourceMatch(r) === true)) return false;
  if (st.NotResource !== undefined && list(st.NotResource).some((r) => resourceMatch(r) !== false)) return false;
  for (const [operator, block] of Object.entries((st.Condition ?? {}) as Record<string, Record<string, unknown>>)) {
    for (const [key, raw] of Object.entries(block)) {
      if (!referenceCondition(operator, key, list(raw), ctx, version2012)) return false;
    }
  }
  return true;
}

function reference(doc: Generated['doc'], ctx: RequestContext): Decision {
  const version2012 = doc.Version === '2012-10-17';
  let allowed = false;
  for (const st of doc.Statement) {
    if (!referenceStatementMatches(st, ctx, version2012)) continue;
    if (st.Effect === 'Deny') return 'Deny';
    allowed = true;
  }
  return allowed ? 'Allow' : 'NotApplicable';
}

// ---------------------------------------------------------------- properties

const DOCUMENTS = cases(600);
const CONTEXTS = 6;

function parse(g: Generated): PolicyDocument {
  return parsePolicy(JSON.stringify(g.doc), g.kind);
}

function swapCase(s: string): string {
  return [...s].map((c) => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase())).join('');
}

describe('policy documents from a grammar', () => {
  const counters = new Counters();

  afterAll(() => {
    // Printed so a reader can see what the run covered.
    console.log(`policy fuzz: ${counters.toString()}`);
  });

  it('valid documents parse, evaluate as the reference evaluator does, and keep the invariants', () => {
    forCases('policy', DOCUMENTS, (rng) => {
      const g = generate(rng);
      let doc: PolicyDocument;
      try {
        doc = parse(g);
      } catch (err) {
        throw new Error(`a valid document was refused: ${(err as Error).message}\n${JSON.stringify(g.doc)}`);
      }
      counters.hit('parsed');
      const again = parsePolicy(JSON.stringify(doc), g.kind);
      expect(again).toEqual(doc);
      const shuffled = parsePolicy(JSON.stringify({ ...g.doc, Statement: rng.shuffle([...g.doc.Statement]).map((st) => ({ ...st, Sid: undefined })) }), g.kind);
      const denyAll = parsePolicy(JSON.stringify({ ...g.doc, Statement: [...g.doc.Statement, { Effect: 'Deny', ...(g.kind === 'resource' ? { Principal: '*' } : {}), Action: '*', Resource: '*' }] }), g.kind);
      const extraDeny = parsePolicy(JSON.stringify({ ...g.doc, Statement: [...g.doc.Statement, { ...statement(rng, g.kind, g.doc.Version === '2012-10-17', 99), Effect: 'Deny', Sid: undefined }] }), g.kind);
      const extraAllow = parsePolicy(JSON.stringify({ ...g.doc, Statement: [...g.doc.Statement, { ...statement(rng, g.kind, g.doc.Version === '2012-10-17', 98), Effect: 'Allow', Sid: undefined }] }), g.kind);
      for (let c = 0; c < CONTEXTS; c++) {
        const ctx = context(rng);
        const decision = evaluatePolicy(doc, ctx);
        counters.hit(`decision ${decision}`);
        expect({ decision, doc: g.doc, ctx }).toEqual({ decision: reference(g.doc, ctx), doc: g.doc, ctx });
        const detailed = evaluatePolicyDetailed(doc, ctx);
        expect(detailed.decision).toBe(decision);
        expect(detailed.matched.some((m) => m.effect === 'Deny')).toBe(decision === 'Deny');
        expect(evaluatePolicy(again, ctx)).toBe(decision);
        expect(evaluatePolicy(shuffled, ctx)).toBe(decision);
        // Explicit deny wins; a Deny never allows more; an Allow never removes a Deny.
        expect(evaluatePolicy(denyAll, ctx)).toBe('Deny');
        const withDeny = evaluatePolicy(extraDeny, ctx);
        if (decision === 'Deny') expect(withDeny).toBe('Deny');
        if (decision === 'NotApplicable') expect(withDeny).not.toBe('Allow');
        const withAllow = evaluatePolicy(extraAllow, ctx);
        if (decision !== 'NotApplicable') expect(withAllow).toBe(decision);
        // Action names and condition key names are case-insensitive.
        const recased: RequestContext = { ...ctx, action: swapCase(ctx.action), keys: Object.fromEntries(Object.entries(ctx.keys).map(([k, v]) => [swapCase(k), v])) };
        expect(evaluatePolicy(doc, recased)).toBe(decision);
      }
    });
    expect(counters.get('parsed')).toBe(DOCUMENTS);
    for (const d of ['Allow', 'Deny', 'NotApplicable']) expect(counters.get(`decision ${d}`)).toBeGreaterThanOrEqual(DOCUMENTS / 10);
  });

  it('explainPolicy agrees with evaluatePolicy: the same decision and exactly the matched statements apply', () => {
    forCases('explain', DOCUMENTS, (rng) => {
      const g = generate(rng);
      const doc = parse(g);
      for (let c = 0; c < CONTEXTS; c++) {
        const ctx = context(rng);
        const explained = explainPolicy(doc, ctx);
        const detailed = evaluatePolicyDetailed(doc, ctx);
        counters.hit(`explained ${explained.decision}`);
        expect({ decision: explained.decision, doc: g.doc, ctx }).toEqual({ decision: evaluatePolicy(doc, ctx), doc: g.doc, ctx });
        expect(explained.statements.filter((s) => s.applies).map((s) => s.index)).toEqual(detailed.matched.map((m) => m.index));
        for (const st of explained.statements) {
          // A statement applies exactly when every element and condition it lists holds.
          expect(st.applies).toBe(st.elements.every((e) => e.satisfied) && st.conditions.every((k) => k.result));
          expect(st.conditions.length).toBe(Object.values(g.doc.Statement[st.index]!.Condition ?? {}).reduce((n, block) => n + Object.keys(block as object).length, 0));
        }
      }
    });
    for (const d of ['Allow', 'Deny', 'NotApplicable']) expect(counters.get(`explained ${d}`)).toBeGreaterThanOrEqual(DOCUMENTS / 10);
  });

  it('every operator family, qualifier and IfExists agrees with the reference, both true and false', () => {
    const families = new Counters();
    forCases('condition', cases(3000), (rng) => {
      const version = rng.chance(0.85);
      const cond = condition(rng, version);
      const [operator, block] = rng.pick(Object.entries(cond));
      const [key, raw] = rng.pick(Object.entries(block));
      const st = { Effect: 'Allow', Action: '*', Resource: '*', Condition: { [operator]: { [key]: raw } } };
      const g: Generated = { kind: 'identity', doc: { ...(version ? { Version: '2012-10-17' } : {}), Statement: [st] } };
      const doc = parse(g);
      const ctx = context(rng);
      const expected = reference(g.doc, ctx) === 'Allow';
      const actual = evaluatePolicy(doc, ctx) === 'Allow';
      if (actual !== expected) throw new Error(`${operator} ${key} ${JSON.stringify(raw)} on ${JSON.stringify(ctx.keys)}: engine ${actual}, reference ${expected}`);
      const base = operator.replace(/^For\w+:/, '').replace(/IfExists$/, '');
      const family = base === 'Null' ? 'Null' : (Object.entries(OPERATORS).find(([, ops]) => ops.includes(base))![0] as Family);
      families.hit(`${family} ${actual}`);
      if (operator.startsWith('For')) families.hit(`qualified ${actual}`);
      if (operator.endsWith('IfExists')) families.hit(`ifexists ${actual}`);
      if (JSON.stringify(raw).includes('${')) families.hit(`variable ${actual}`);
    });
    console.log(`policy condition fuzz: ${families.toString()}`);
    for (const family of ['String', 'Numeric', 'Date', 'Bool', 'IpAddress', 'Arn', 'Null', 'qualified', 'ifexists', 'variable']) {
      expect(families.get(`${family} true`)).toBeGreaterThanOrEqual(10);
      expect(families.get(`${family} false`)).toBeGreaterThanOrEqual(10);
    }
  });

  it('Action and NotAction, Resource and NotResource, an operator and its negation are complements', () => {
    let complemented = 0;
    forCases('complement', cases(1500), (rng) => {
      const version = rng.chance(0.8);
      const st = statement(rng, 'identity', version, 0);
      delete st.Sid;
      st.Effect = 'Allow';
      const actions = st.Action ?? st.NotAction;
      const resources = st.Resource ?? st.NotResource;
      delete st.Action;
      delete st.NotAction;
      delete st.Resource;
      delete st.NotResource;
      const v = version ? { Version: '2012-10-17' } : {};
      const decide = (s: Record<string, unknown>, ctx: RequestContext) => evaluatePolicy(parsePolicy(JSON.stringify({ ...v, Statement: [s] }), 'identity'), ctx);
      const ctx = context(rng);
      const rest = decide({ ...st, Action: '*', Resource: resources }, ctx);
      const yes = decide({ ...st, Action: actions, Resource: resources }, ctx);
      const no = decide({ ...st, NotAction: actions, Resource: resources }, ctx);
      if (rest === 'Allow') expect([yes, no].filter((d) => d === 'Allow')).toHaveLength(1);
      else expect([yes, no]).toEqual(['NotApplicable', 'NotApplicable']);
      const plainResources = ([] as string[]).concat(resources as string | string[]).filter((r) => !r.includes('$'));
      if (plainResources.length > 0) {
        const anyResource = decide({ ...st, Action: '*', Resource: '*' }, ctx);
        const inR = decide({ ...st, Action: '*', Resource: plainResources }, ctx);
        const notR = decide({ ...st, Action: '*', NotResource: plainResources }, ctx);
        if (anyResource === 'Allow') expect([inR, notR].filter((d) => d === 'Allow')).toHaveLength(1);
        else expect([inR, notR]).toEqual(['NotApplicable', 'NotApplicable']);
      }
      // Without IfExists, qualifiers or variables, a negated operator is the exact complement.
      const spec = rng.pick(KEYS.filter((k) => k.family !== 'Bool' && !k.multi));
      const positive = rng.pick(OPERATORS[spec.family].filter((o) => !NEGATED.has(o) && (o.endsWith('Equals') || o.endsWith('Like') || o === 'IpAddress')));
      const negative = positive === 'IpAddress' ? 'NotIpAddress' : positive.replace(/^(String|Numeric|Date|Arn)/, '$1Not');
      if (!NEGATED.has(negative)) return;
      const values = rng.many(1, 3, () => policyValue(rng, spec, positive, false));
      const p = decide({ Effect: 'Allow', Action: '*', Resource: '*', Condition: { [positive]: { [spec.name]: values } } }, ctx);
      const n = decide({ Effect: 'Allow', Action: '*', Resource: '*', Condition: { [negative]: { [spec.name]: values } } }, ctx);
      expect([p, n].sort()).toEqual(['Allow', 'NotApplicable']);
      complemented++;
    });
    expect(complemented).toBeGreaterThanOrEqual(cases(1000));
  });

  it('documents with one targeted mutation are refused with PolicyError', () => {
    const refused = new Counters();
    forCases('mutation', cases(600), (rng, i) => {
      const g = generate(rng);
      const [name, mutate] = MUTATIONS[i % MUTATIONS.length]!;
      mutate(g, rng);
      let error: unknown;
      try {
        parse(g);
      } catch (err) {
        error = err;
      }
      if (!(error instanceof PolicyError)) throw new Error(`mutation "${name}" was not refused with PolicyError (${String(error)}): ${JSON.stringify(g.doc)}`);
      refused.hit(name);
    });
    for (const [name] of MUTATIONS) expect(refused.get(name)).toBeGreaterThanOrEqual(Math.floor(cases(600) / MUTATIONS.length));
  });
});
