/**
 * Condition operators (IAM JSON policy elements: Condition operators) and their evaluation.
 *
 * Semantics, with the rule each follows:
 * - Several operators in one Condition block, and several keys under one operator: all must hold
 *   (AND). Several values for one key: any may match (OR); for a negated operator
 *   (`StringNotEquals`, `StringNotLike`, `NumericNotEquals`, `DateNotEquals`, `NotIpAddress`,
 *   `ArnNotEquals`, `ArnNotLike`, `StringNotEqualsIgnoreCase`) the values combine as NOR: the
 *   request value must match none of them ("Conditions with multiple context keys or values").
 * - A key absent from the request context: the condition is false, except that a negated operator
 *   is true ("If the policy condition requires that the key is not matched ... and the right key is
 *   not present, the condition is true"). `...IfExists` makes any operator true for an absent key;
 *   `Null` tests presence itself.
 * - Set qualifiers on a multi-valued key: `ForAnyValue:` is true when at least one request value
 *   satisfies the operator, `ForAllValues:` when every request value does. For an absent key or an
 *   empty set `ForAllValues` is true and `ForAnyValue` false (IfExists still makes both true).
 *   With a negated operator "satisfies" means "matches none of the policy values".
 * - A multi-valued key without a qualifier: a positive operator holds when any request value
 *   matches, a negated one when no request value matches — the exact complement of the positive
 *   operator, so `StringNotEquals` is always `!StringEquals`.
 * - Condition key names are case-insensitive; values are case-sensitive except for the
 *   `...IgnoreCase` operators and `Bool`.
 * - Policy variables are substituted in the String, ARN and Bool operators only. A variable that
 *   cannot be resolved makes its value match nothing; under a negated operator it makes the whole
 *   condition false, because the comparison cannot be made ("any attempt to match it fails and
 *   causes the statement to be invalid").
 */
import { parseDate } from './date';
import { PolicyError } from './errors';
import { type Cidr, type IpAddress, cidrContainsAddress, parseCidr, parseIpAddress } from './ip';
import { type Template, parseTemplate, piecesToString, plainTemplate, resolveTemplate, type VariableLookup } from './variables';
import {
  type ArnPattern,
  type Glob,
  type PatternPiece,
  compileArnPattern,
  compileGlob,
  matchArnPattern,
  matchGlob,
  piecesKey,
} from './wildcard';

export type Family = 'String' | 'Numeric' | 'Date' | 'Bool' | 'Binary' | 'IpAddress' | 'Arn' | 'Null';

export interface OperatorSpec<P = unknown, C = unknown> {
  name: string;
  family: Family;
  negated: boolean;
  /** Whether policy variables are substituted in this operator's values. */
  variables: boolean;
  /** Turns a (substituted) policy value into its comparable form; throws PolicyError if invalid. */
  prepare(pieces: PatternPiece[], raw: string): P;
  /** Turns a request value into its comparable form; null = cannot match anything. */
  context(value: string): C | null;
  /** The positive test (negation is applied by the evaluator). */
  match(request: C, policy: P): boolean;
}

function spec<P, C>(s: OperatorSpec<P, C>): OperatorSpec {
  return s as unknown as OperatorSpec;
}

const identity = (v: string): string => v;
const lower = (v: string): string => v.toLowerCase();

const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
function parseNumber(text: string): number | null {
  const t = text.trim();
  return NUMBER.test(t) ? Number(t) : null;
}

function numericOp(name: string, negated: boolean, test: (a: number, b: number) => boolean): OperatorSpec {
  return spec<number, number>({
    name,
    family: 'Numeric',
    negated,
    variables: false,
    prepare(_pieces, raw) {
      const n = parseNumber(raw);
      if (n === null) throw new PolicyError(`Invalid numeric value ${JSON.stringify(raw)} for ${name}`);
      return n;
    },
    context: parseNumber,
    match: test,
  });
}

function dateOp(name: string, negated: boolean, test: (a: number, b: number) => boolean): OperatorSpec {
  return spec<number, number>({
    name,
    family: 'Date',
    negated,
    variables: false,
    prepare(_pieces, raw) {
      const d = parseDate(raw);
      if (d === null) throw new PolicyError(`Invalid date value ${JSON.stringify(raw)} for ${name}`);
      return d;
    },
    context: parseDate,
    match: test,
  });
}

function stringEqualsOp(name: string, negated: boolean, ignoreCase: boolean): OperatorSpec {
  const norm = ignoreCase ? lower : identity;
  return spec<string, string>({
    name,
    family: 'String',
    negated,
    variables: true,
    prepare: (pieces) => norm(piecesToString(pieces)),
    context: norm,
    match: (a, b) => a === b,
  });
}

function stringLikeOp(name: string, negated: boolean): OperatorSpec {
  return spec<Glob, string>({
    name,
    family: 'String',
    negated,
    variables: true,
    prepare: (pieces) => compileGlob(pieces, false),
    context: identity,
    match: (value, glob) => matchGlob(glob, value),
  });
}

function arnOp(name: string, negated: boolean): OperatorSpec {
  return spec<ArnPattern, string>({
    name,
    family: 'Arn',
    negated,
    variables: true,
    prepare: (pieces) => compileArnPattern(pieces),
    context: identity,
    match: (value, pattern) => matchArnPattern(pattern, value),
  });
}

function ipOp(name: string, negated: boolean): OperatorSpec {
  return spec<Cidr, IpAddress>({
    name,
    family: 'IpAddress',
    negated,
    variables: false,
    prepare(_pieces, raw) {
      const cidr = parseCidr(raw);
      if (cidr === null) throw new PolicyError(`Invalid IP address or CIDR block ${JSON.stringify(raw)} for ${name}`);
      return cidr;
    },
    context: parseIpAddress,
    match: (address, cidr) => cidrContainsAddress(cidr, address),
  });
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

const OPERATORS: OperatorSpec[] = [
  stringEqualsOp('StringEquals', false, false),
  stringEqualsOp('StringNotEquals', true, false),
  stringEqualsOp('StringEqualsIgnoreCase', false, true),
  stringEqualsOp('StringNotEqualsIgnoreCase', true, true),
  stringLikeOp('StringLike', false),
  stringLikeOp('StringNotLike', true),
  numericOp('NumericEquals', false, (a, b) => a === b),
  numericOp('NumericNotEquals', true, (a, b) => a === b),
  numericOp('NumericLessThan', false, (a, b) => a < b),
  numericOp('NumericLessThanEquals', false, (a, b) => a <= b),
  numericOp('NumericGreaterThan', false, (a, b) => a > b),
  numericOp('NumericGreaterThanEquals', false, (a, b) => a >= b),
  dateOp('DateEquals', false, (a, b) => a === b),
  dateOp('DateNotEquals', true, (a, b) => a === b),
  dateOp('DateLessThan', false, (a, b) => a < b),
  dateOp('DateLessThanEquals', false, (a, b) => a <= b),
  dateOp('DateGreaterThan', false, (a, b) => a > b),
  dateOp('DateGreaterThanEquals', false, (a, b) => a >= b),
  spec<string, string>({
    name: 'Bool',
    family: 'Bool',
    negated: false,
    variables: true,
    prepare: (pieces) => piecesToString(pieces).trim().toLowerCase(),
    context: (v) => v.trim().toLowerCase(),
    match: (a, b) => a === b,
  }),
  spec<Buffer, Buffer>({
    name: 'BinaryEquals',
    family: 'Binary',
    negated: false,
    variables: false,
    prepare(_pieces, raw) {
      const t = raw.trim();
      if (!BASE64.test(t)) throw new PolicyError(`Invalid base-64 value ${JSON.stringify(raw)} for BinaryEquals`);
      return Buffer.from(t, 'base64');
    },
    context: (v) => Buffer.from(v.trim(), 'base64'),
    match: (a, b) => a.equals(b),
  }),
  ipOp('IpAddress', false),
  ipOp('NotIpAddress', true),
  arnOp('ArnEquals', false),
  arnOp('ArnLike', false),
  arnOp('ArnNotEquals', true),
  arnOp('ArnNotLike', true),
  spec<boolean, string>({
    name: 'Null',
    family: 'Null',
    negated: false,
    variables: false,
    prepare(_pieces, raw) {
      const t = raw.trim().toLowerCase();
      if (t !== 'true' && t !== 'false') {
        throw new PolicyError(`Invalid value ${JSON.stringify(raw)} for Null: use "true" or "false"`);
      }
      return t === 'true';
    },
    context: identity,
    match: () => false,
  }),
];

const BY_NAME = new Map(OPERATORS.map((op) => [op.name.toLowerCase(), op]));

/** The names of the base condition operators, without qualifiers or the IfExists suffix. */
export const CONDITION_OPERATORS: readonly string[] = OPERATORS.map((op) => op.name);

export type SetQualifier = 'ForAllValues' | 'ForAnyValue';

/** True for a valid operator name such as `StringEquals`, `ForAnyValue:StringLikeIfExists`. */
export function isConditionOperator(name: string): boolean {
  return parseOperator(name) !== null;
}

export interface ParsedOperator {
  base: OperatorSpec;
  qualifier: SetQualifier | null;
  ifExists: boolean;
}

/**
 * Parses `[ForAllValues:|ForAnyValue:]Operator[IfExists]` (case-insensitively). Returns null for
 * an unknown operator, for `Null` with a qualifier or `IfExists`.
 */
export function parseOperator(name: string): ParsedOperator | null {
  let rest = name.toLowerCase();
  let qualifier: SetQualifier | null = null;
  if (rest.startsWith('forallvalues:')) {
    qualifier = 'ForAllValues';
    rest = rest.slice('forallvalues:'.length);
  } else if (rest.startsWith('foranyvalue:')) {
    qualifier = 'ForAnyValue';
    rest = rest.slice('foranyvalue:'.length);
  }
  let ifExists = false;
  let base = BY_NAME.get(rest);
  if (base === undefined && rest.endsWith('ifexists')) {
    ifExists = true;
    base = BY_NAME.get(rest.slice(0, -'ifexists'.length));
  }
  if (base === undefined) return null;
  if (base.family === 'Null' && (ifExists || qualifier !== null)) return null;
  return { base, qualifier, ifExists };
}

export interface CompiledValue {
  /** Present when the value contains variables and must be resolved per request. */
  template?: Template;
  prepared?: unknown;
  /** One-entry cache of the last substitution of `template` and its prepared form. */
  lastKey?: string;
  lastPrepared?: unknown;
}

export interface CompiledCondition {
  operator: string;
  key: string;
  keyLower: string;
  op: ParsedOperator;
  values: CompiledValue[];
}

/** Compiles one operator/key/values triple; throws PolicyError for an invalid operator or value. */
export function compileCondition(
  operator: string,
  key: string,
  values: readonly string[],
  variablesEnabled: boolean,
  path: string,
): CompiledCondition {
  const op = parseOperator(operator);
  if (op === null) throw new PolicyError(`Invalid Condition type : ${operator}`, path);
  const compiled: CompiledValue[] = values.map((raw) => {
    const template = op.base.variables && variablesEnabled ? parseTemplate(raw) : plainTemplate(raw);
    if (template.hasVariables) return { template };
    const pieces = resolveTemplate(template, null)!;
    try {
      return { prepared: op.base.prepare(pieces, op.base.variables ? piecesToString(pieces) : raw) };
    } catch (err) {
      if (err instanceof PolicyError) throw new PolicyError(err.message, path);
      throw err;
    }
  });
  return { operator, key, keyLower: key.toLowerCase(), op, values: compiled };
}

/** What the evaluator knows about the request's condition keys. */
export interface ConditionContext {
  /** Lower-cased key name → values (a single-valued key is a one-element array). */
  keys: ReadonlyMap<string, readonly string[]>;
  /** Variable lookup, or null when the policy's Version has no variables. */
  lookup: VariableLookup | null;
}

export function evaluateCondition(cond: CompiledCondition, ctx: ConditionContext): boolean {
  const { base, qualifier, ifExists } = cond.op;
  const requestValues = ctx.keys.get(cond.keyLower);
  const present = requestValues !== undefined && requestValues.length > 0;
  if (base.family === 'Null') {
    // "true": the key must be absent; "false": it must be present. Several values: any may hold.
    return cond.values.some((v) => v.prepared === !present);
  }
  if (!present) {
    if (ifExists || qualifier === 'ForAllValues') return true;
    if (qualifier === 'ForAnyValue') return false;
    return base.negated;
  }
  const policyValues: unknown[] = [];
  for (const value of cond.values) {
    if (value.template === undefined) {
      policyValues.push(value.prepared);
      continue;
    }
    const pieces = resolveTemplate(value.template, ctx.lookup);
    if (pieces === null) {
      if (base.negated) return false;
      continue;
    }
    const key = piecesKey(pieces);
    if (value.lastKey !== key) {
      value.lastPrepared = base.prepare(pieces, piecesToString(pieces));
      value.lastKey = key;
    }
    policyValues.push(value.lastPrepared);
  }
  const satisfies = (raw: string): boolean => {
    const request = base.context(raw);
    let matched = false;
    if (request !== null) {
      for (const p of policyValues) {
        if (base.match(request, p)) {
          matched = true;
          break;
        }
      }
    }
    return base.negated ? !matched : matched;
  };
  if (qualifier === 'ForAllValues' || (qualifier === null && base.negated)) return requestValues.every(satisfies);
  return requestValues.some(satisfies);
}
