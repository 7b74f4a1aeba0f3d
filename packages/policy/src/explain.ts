/**
 * Why a policy decides what it decides: for each statement, each element (Principal, Action,
 * Resource and their Not- forms) with the entry that matched, and each condition with the
 * operator, the key, the policy's values (variables substituted), the request's values and the
 * result. The IAM policy simulator's "matched statements" view, for one policy.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_testing-policies.html
 *
 * It uses evaluate.ts's own matchers and condition evaluation, statement by statement without
 * short-cuts, so it agrees with evaluatePolicy on every input (packages/policy/test checks this
 * on the fuzz generator's documents). It is for debugging, computed only when asked: nothing on a
 * request's path calls it. Condition key values appear in it (they are the request's, and what a
 * user needs to see); nothing else of the request does.
 */
import { evaluateCondition, type CompiledCondition } from './conditions';
import {
  compiledPolicy,
  compilePrincipal,
  list,
  principalBlock,
  principalMatches,
  requestState,
  resourceMatches,
  type CompiledResource,
  type CompiledStatement,
  type PrincipalMatcher,
  type RequestState,
} from './evaluate';
import type { Decision, PolicyDocument, PrincipalBlock, RequestContext, RequestPrincipal } from './types';
import { parseTemplate, piecesToString, resolveTemplate } from './variables';
import { matchGlob } from './wildcard';

export type ElementName = 'Principal' | 'NotPrincipal' | 'Action' | 'NotAction' | 'Resource' | 'NotResource';

export interface ElementTrace {
  element: ElementName;
  /** Whether this element lets the statement apply. */
  satisfied: boolean;
  /** The entry that matched the request (for a Not- element: the one that excludes it). */
  matched?: string;
  text: string;
}

export interface ConditionTrace {
  /** As written, e.g. `ForAnyValue:StringLikeIfExists`. */
  operator: string;
  key: string;
  /** The policy's values, with policy variables substituted where they resolve. */
  policyValues: string[];
  /** The request's values for the key; null when the key is absent from the request context. */
  requestValues: string[] | null;
  result: boolean;
  text: string;
}

export interface StatementTrace {
  index: number;
  sid?: string;
  effect: 'Allow' | 'Deny';
  /** Whether every element and condition matched: the statement's effect applies. */
  applies: boolean;
  elements: ElementTrace[];
  conditions: ConditionTrace[];
  /** One line: why it applies, or the first element or condition that kept it from applying. */
  text: string;
}

export interface PolicyExplanation {
  decision: Decision;
  statements: StatementTrace[];
}

const principalName = (p: RequestPrincipal): string => (p === 'anonymous' ? 'anonymous' : p.service ? p.service : p.arn);

/** The block's entries that match, one by one (the matcher is the union of its entries). */
function matchingEntry(block: PrincipalBlock, p: RequestPrincipal): string | undefined {
  if (block === '*') return '*';
  for (const [type, values] of Object.entries(block)) {
    for (const value of values) {
      if (principalMatches(compilePrincipal({ [type]: [value] }), p)) return `${type}: ${value}`;
    }
  }
  return undefined;
}

function principalTrace(element: 'Principal' | 'NotPrincipal', block: PrincipalBlock, m: PrincipalMatcher, p: RequestPrincipal): ElementTrace {
  const hit = principalMatches(m, p);
  const entry = hit ? matchingEntry(block, p) : undefined;
  const satisfied = element === 'Principal' ? hit : !hit;
  const who = principalName(p);
  const text =
    element === 'Principal'
      ? hit
        ? `Principal ${entry ?? ''} matches ${who}`
        : `no Principal entry names ${who}`
      : hit
        ? `NotPrincipal ${entry ?? ''} names ${who}, so the statement does not apply`
        : `NotPrincipal names no entry matching ${who}, so the statement applies to it`;
  const trace: ElementTrace = { element, satisfied, text };
  if (entry !== undefined) trace.matched = entry;
  return trace;
}

function actionTrace(st: CompiledStatement, raw: { Action?: unknown; NotAction?: unknown }, req: RequestState): ElementTrace {
  const action = req.ctx.action;
  if (st.actions !== null) {
    const i = st.actions.findIndex((g) => matchGlob(g, req.actionLower));
    const patterns = list(raw.Action)!;
    return i >= 0
      ? { element: 'Action', satisfied: true, matched: patterns[i]!, text: `Action ${patterns[i]!} matches ${action}` }
      : { element: 'Action', satisfied: false, text: `no Action entry matches ${action} (${patterns.join(', ')})` };
  }
  if (st.notActions !== null) {
    const i = st.notActions.findIndex((g) => matchGlob(g, req.actionLower));
    const patterns = list(raw.NotAction)!;
    return i >= 0
      ? { element: 'NotAction', satisfied: false, matched: patterns[i]!, text: `NotAction ${patterns[i]!} excludes ${action}` }
      : { element: 'NotAction', satisfied: true, text: `NotAction (${patterns.join(', ')}) does not exclude ${action}` };
  }
  return { element: 'Action', satisfied: false, text: 'the statement has neither Action nor NotAction' };
}

function resourceTrace(element: 'Resource' | 'NotResource', compiled: CompiledResource[], patterns: string[], req: RequestState, variables: boolean): ElementTrace {
  const { resource } = req.ctx;
  const conditions = variables ? req.conditions : req.conditionsNoVars;
  const shown = (i: number): string => {
    const r = compiled[i]!;
    if (!r.template.hasVariables) return patterns[i]!;
    const pieces = resolveTemplate(r.template, conditions.lookup);
    return pieces === null ? `${patterns[i]!} (a variable has no value)` : `${patterns[i]!} (= ${piecesToString(pieces)})`;
  };
  if (element === 'Resource') {
    const i = compiled.findIndex((r) => resource.startsWith(r.prefix) && resourceMatches(r, resource, conditions) === true);
    return i >= 0
      ? { element, satisfied: true, matched: patterns[i]!, text: `Resource ${shown(i)} matches ${resource}` }
      : { element, satisfied: false, text: `no Resource entry matches ${resource} (${compiled.map((_, j) => shown(j)).join(', ')})` };
  }
  for (let i = 0; i < compiled.length; i++) {
    const m = resourceMatches(compiled[i]!, resource, conditions);
    if (m === null) return { element, satisfied: false, matched: patterns[i]!, text: `NotResource ${shown(i)} cannot be applied` };
    if (m) return { element, satisfied: false, matched: patterns[i]!, text: `NotResource ${shown(i)} excludes ${resource}` };
  }
  return { element, satisfied: true, text: `NotResource (${patterns.join(', ')}) does not exclude ${resource}` };
}

function conditionTrace(cond: CompiledCondition, raw: string[], req: RequestState, variables: boolean): ConditionTrace {
  const ctx = variables ? req.conditions : req.conditionsNoVars;
  const result = evaluateCondition(cond, ctx);
  const values = ctx.keys.get(cond.keyLower);
  const present = values !== undefined && values.length > 0;
  const substitute = cond.op.base.variables && variables;
  const policyValues = raw.map((v) => {
    if (!substitute) return v;
    const template = parseTemplate(v);
    if (!template.hasVariables) return v;
    const pieces = resolveTemplate(template, ctx.lookup);
    return pieces === null ? `${v} (a variable has no value)` : piecesToString(pieces);
  });
  const { base, qualifier, ifExists } = cond.op;
  let why: string;
  if (base.family === 'Null') why = `${cond.key} is ${present ? 'present' : 'absent'}; Null wants ${policyValues.join(' or ')}`;
  else if (!present) {
    why = `key absent: ${
      ifExists
        ? 'IfExists makes the condition true'
        : qualifier === 'ForAllValues'
          ? 'ForAllValues holds for an absent key'
          : qualifier === 'ForAnyValue'
            ? 'ForAnyValue needs a value'
            : base.negated
              ? 'a negated operator holds for an absent key'
              : 'the condition cannot hold'
    }`;
  } else {
    const quantifier = qualifier === 'ForAllValues' ? 'every request value' : qualifier === 'ForAnyValue' ? 'some request value' : base.negated ? 'every request value' : 'some request value';
    why = `${quantifier} of ${JSON.stringify(values)} ${base.negated ? 'must match none of' : 'must match'} ${JSON.stringify(policyValues)}`;
  }
  const text = `${cond.operator} ${cond.key}: ${why} -> ${result}`;
  return { operator: cond.operator, key: cond.key, policyValues, requestValues: present ? [...values] : null, result, text };
}

function statementTrace(st: CompiledStatement, policy: PolicyDocument, req: RequestState, variables: boolean): StatementTrace {
  const raw = policy.Statement[st.index]! as unknown as Record<string, unknown>;
  const elements: ElementTrace[] = [];
  if (st.principal !== null) elements.push(principalTrace('Principal', principalBlock(raw.Principal)!, st.principal, req.ctx.principal));
  if (st.notPrincipal !== null) elements.push(principalTrace('NotPrincipal', principalBlock(raw.NotPrincipal)!, st.notPrincipal, req.ctx.principal));
  elements.push(actionTrace(st, raw, req));
  if (st.resources !== null) elements.push(resourceTrace('Resource', st.resources, list(raw.Resource)!, req, variables));
  if (st.notResources !== null) elements.push(resourceTrace('NotResource', st.notResources, list(raw.NotResource)!, req, variables));
  // The compiled conditions are in the order of the Condition block's operators and keys.
  const rawConditions: string[][] = [];
  for (const block of Object.values((raw.Condition ?? {}) as Record<string, Record<string, unknown>>)) {
    for (const values of Object.values(block)) rawConditions.push(list(values)!);
  }
  const conditions = st.conditions.map((c, i) => conditionTrace(c, rawConditions[i] ?? [], req, variables));
  const failedElement = elements.find((e) => !e.satisfied);
  const failedCondition = conditions.find((c) => !c.result);
  const applies = failedElement === undefined && failedCondition === undefined;
  const text = applies
    ? `applies: ${st.effect}`
    : failedElement !== undefined
      ? `does not apply: ${failedElement.text}`
      : `does not apply: condition ${failedCondition!.text}`;
  const trace: StatementTrace = { index: st.index, effect: st.effect, applies, elements, conditions, text };
  if (st.sid !== undefined) trace.sid = st.sid;
  return trace;
}

/** Explains one policy's decision for a request, statement by statement. */
export function explainPolicy(policy: PolicyDocument, ctx: RequestContext): PolicyExplanation {
  const compiled = compiledPolicy(policy);
  const req = requestState(ctx);
  const statements = compiled.statements.map((st) => statementTrace(st, policy, req, compiled.variables));
  const decision: Decision = statements.some((s) => s.applies && s.effect === 'Deny')
    ? 'Deny'
    : statements.some((s) => s.applies && s.effect === 'Allow')
      ? 'Allow'
      : 'NotApplicable';
  return { decision, statements };
}
