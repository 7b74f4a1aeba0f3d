/**
 * Evaluation of a policy document against a request (IAM "Policy evaluation logic"):
 * a statement applies when its principal (if it names one), action, resource and every condition
 * match. Within a policy an applicable Deny wins over any Allow; with no applicable statement the
 * result is an implicit deny (`NotApplicable`). `combineDecisions` applies the same rule across
 * policies: "an explicit deny in any of these policies overrides the allow".
 *
 * Documents are compiled once (patterns, CIDRs, dates, numbers) and cached per document object, so
 * treat a PolicyDocument as immutable once it has been evaluated or returned by `parsePolicy`.
 */
import { type CompiledCondition, type ConditionContext, compileCondition, evaluateCondition } from './conditions';
import { PolicyError } from './errors';
import type {
  Decision,
  DetailedDecision,
  MatchedStatement,
  PolicyDocument,
  PrincipalBlock,
  RequestContext,
  RequestPrincipal,
} from './types';
import { type Template, parseTemplate, plainTemplate, resolveTemplate } from './variables';
import {
  type Glob,
  type ResourcePattern,
  compilePattern,
  compileResourcePattern,
  compileResourcePatternCached,
  matchGlob,
  matchResourcePattern,
} from './wildcard';

/** Policy language version that introduced policy variables. */
export const VERSION_2012 = '2012-10-17';

export interface PrincipalMatcher {
  everyone: boolean;
  accounts: Set<string>;
  arns: Set<string>;
  /** `partition:account:role-name` of role ARNs, to match sessions of those roles. */
  roles: Set<string>;
  services: Set<string>;
  canonicalUsers: Set<string>;
  federated: Set<string>;
}

export interface CompiledResource {
  template: Template;
  /** Precompiled when the pattern has no variables. */
  pattern: ResourcePattern | null;
  /** Literal text every match starts with (up to the first wildcard or variable). */
  prefix: string;
}

export interface CompiledStatement {
  index: number;
  sid?: string;
  effect: 'Allow' | 'Deny';
  principal: PrincipalMatcher | null;
  notPrincipal: PrincipalMatcher | null;
  actions: Glob[] | null;
  notActions: Glob[] | null;
  resources: CompiledResource[] | null;
  notResources: CompiledResource[] | null;
  conditions: CompiledCondition[];
}

export interface CompiledPolicy {
  variables: boolean;
  statements: CompiledStatement[];
}

const ACCOUNT_ID = /^\d{12}$/;
const ROOT_ARN = /^arn:[^:]+:iam::([^:]+):root$/;
const ROLE_ARN = /^arn:([^:]+):iam::([^:]+):role\/(?:.*\/)?([^/]+)$/;
const ASSUMED_ROLE_ARN = /^arn:([^:]+):sts::([^:]+):assumed-role\/([^/]+)\/.+$/;

export function compilePrincipal(block: PrincipalBlock): PrincipalMatcher {
  const m: PrincipalMatcher = {
    everyone: false,
    accounts: new Set(),
    arns: new Set(),
    roles: new Set(),
    services: new Set(),
    canonicalUsers: new Set(),
    federated: new Set(),
  };
  if (block === '*') {
    m.everyone = true;
    return m;
  }
  for (const [type, values] of Object.entries(block)) {
    for (const value of values) {
      switch (type) {
        case 'AWS': {
          if (value === '*') m.everyone = true;
          else if (ACCOUNT_ID.test(value)) m.accounts.add(value);
          else {
            const root = ROOT_ARN.exec(value);
            if (root !== null) m.accounts.add(root[1]!);
            else {
              m.arns.add(value);
              const role = ROLE_ARN.exec(value);
              if (role !== null) m.roles.add(`${role[1]}:${role[2]}:${role[3]}`);
            }
          }
          break;
        }
        case 'Service':
          m.services.add(value.toLowerCase());
          break;
        case 'CanonicalUser':
          m.canonicalUsers.add(value);
          break;
        case 'Federated':
          m.federated.add(value);
          break;
        default:
          break;
      }
    }
  }
  return m;
}

/**
 * Principal matching. `"*"` and `{"AWS": "*"}` match everyone, anonymous callers included (IAM
 * Principal reference: "For anonymous users, the following elements are equivalent"). An account
 * (`"111122223333"` or `arn:aws:iam::111122223333:root`) matches every principal of that account:
 * on AWS it delegates to the account, whose identity policies then decide; Sealbox models that
 * delegation as a match and leaves the identity-policy half to the caller. A role ARN also
 * matches that role's sessions (`arn:aws:sts::…:assumed-role/name/session`). A service principal
 * matches only `Service` entries (and `*`).
 */
export function principalMatches(m: PrincipalMatcher, p: RequestPrincipal): boolean {
  if (m.everyone) return true;
  if (p === 'anonymous') return false;
  if (p.service !== undefined && p.service !== '') return m.services.has(p.service.toLowerCase());
  if (m.accounts.has(p.accountId)) return true;
  if (m.arns.has(p.arn)) return true;
  if (m.roles.size > 0) {
    const session = ASSUMED_ROLE_ARN.exec(p.arn);
    if (session !== null && m.roles.has(`${session[1]}:${session[2]}:${session[3]}`)) return true;
  }
  if (p.canonicalUserId !== undefined && m.canonicalUsers.has(p.canonicalUserId)) return true;
  if (p.federated !== undefined && m.federated.has(p.federated)) return true;
  return false;
}

function compileResources(patterns: readonly string[], variables: boolean): CompiledResource[] {
  return patterns.map((raw) => {
    const template = variables ? parseTemplate(raw) : plainTemplate(raw);
    const pattern = template.hasVariables ? null : compileResourcePattern(resolveTemplate(template, null)!);
    let prefix = '';
    for (const part of template.parts) {
      if (part.kind === 'var') break;
      const wild = part.kind === 'text' ? part.text.search(/[*?]/) : -1;
      prefix += wild < 0 ? part.text : part.text.slice(0, wild);
      if (wild >= 0) break;
    }
    return { template, pattern, prefix };
  });
}

export function list(value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  return (Array.isArray(value) ? value : [value]).map((v) => String(v));
}

export function principalBlock(value: unknown): PrincipalBlock | undefined {
  if (value === undefined || value === '*') return value;
  const block: Record<string, string[]> = {};
  for (const [type, values] of Object.entries(value as Record<string, unknown>)) block[type] = list(values)!;
  return block;
}

/**
 * Compiles a document. Throws PolicyError for what only compilation can see: unknown condition
 * operators and invalid condition values. `parsePolicy` calls it, so parsed documents never throw.
 */
function compile(policy: PolicyDocument): CompiledPolicy {
  const variables = policy.Version === VERSION_2012;
  // Documents from parsePolicy are normalized already; hand-built ones may use single values.
  const statements = policy.Statement.map((st, index): CompiledStatement => {
    const conditions: CompiledCondition[] = [];
    for (const [operator, block] of Object.entries(st.Condition ?? {})) {
      for (const [key, values] of Object.entries(block)) {
        conditions.push(
          compileCondition(operator, key, list(values)!, variables, `Statement[${index}].Condition.${operator}`),
        );
      }
    }
    if (st.Effect !== 'Allow' && st.Effect !== 'Deny') {
      throw new PolicyError(`Invalid effect: ${String(st.Effect)}`, `Statement[${index}].Effect`);
    }
    const principal = principalBlock(st.Principal);
    const notPrincipal = principalBlock(st.NotPrincipal);
    const action = list(st.Action);
    const notAction = list(st.NotAction);
    const resource = list(st.Resource);
    const notResource = list(st.NotResource);
    const compiled: CompiledStatement = {
      index,
      effect: st.Effect,
      principal: principal === undefined ? null : compilePrincipal(principal),
      notPrincipal: notPrincipal === undefined ? null : compilePrincipal(notPrincipal),
      actions: action === undefined ? null : action.map((a) => compilePattern(a, true)),
      notActions: notAction === undefined ? null : notAction.map((a) => compilePattern(a, true)),
      resources: resource === undefined ? null : compileResources(resource, variables),
      notResources: notResource === undefined ? null : compileResources(notResource, variables),
      conditions,
    };
    if (st.Sid !== undefined) compiled.sid = st.Sid;
    return compiled;
  });
  return { variables, statements };
}

const compiledCache = new WeakMap<PolicyDocument, CompiledPolicy>();

/** Returns the compiled form of a document, compiling it on first use. */
export function compiledPolicy(policy: PolicyDocument): CompiledPolicy {
  let compiled = compiledCache.get(policy);
  if (compiled === undefined) {
    if (policy === null || typeof policy !== 'object' || !Array.isArray(policy.Statement)) {
      throw new PolicyError('Policy document has no Statement array');
    }
    compiled = compile(policy);
    compiledCache.set(policy, compiled);
  }
  return compiled;
}

/** Per-request state shared by all statements of one evaluation. */
export interface RequestState {
  ctx: RequestContext;
  actionLower: string;
  conditions: ConditionContext;
  conditionsNoVars: ConditionContext;
}

/**
 * Builds the lower-cased key index. Also supplies, when the caller did not, the global keys that
 * follow from the principal: aws:PrincipalArn, aws:PrincipalAccount, aws:PrincipalIsAWSService
 * and aws:PrincipalServiceName (AWS global condition context keys).
 */
export function requestState(ctx: RequestContext): RequestState {
  const keys = new Map<string, readonly string[]>();
  for (const [name, value] of Object.entries(ctx.keys)) {
    if (value === undefined) continue;
    keys.set(name.toLowerCase(), typeof value === 'string' ? [value] : value);
  }
  const p = ctx.principal;
  if (p !== 'anonymous') {
    const isService = p.service !== undefined && p.service !== '';
    const derive = (name: string, value: string): void => {
      if (!keys.has(name) && value !== '') keys.set(name, [value]);
    };
    derive('aws:principalisawsservice', isService ? 'true' : 'false');
    if (isService) derive('aws:principalservicename', p.service!);
    else {
      derive('aws:principalarn', p.arn);
      derive('aws:principalaccount', p.accountId);
    }
  }
  const lookup = (name: string): string | undefined => {
    const values = keys.get(name);
    return values !== undefined && values.length === 1 ? values[0] : undefined;
  };
  return {
    ctx,
    actionLower: ctx.action.toLowerCase(),
    conditions: { keys, lookup },
    conditionsNoVars: { keys, lookup: null },
  };
}

export function resourceMatches(r: CompiledResource, resource: string, conditions: ConditionContext): boolean | null {
  if (r.pattern !== null) return matchResourcePattern(r.pattern, resource);
  const pieces = resolveTemplate(r.template, conditions.lookup);
  if (pieces === null) return null;
  return matchResourcePattern(compileResourcePatternCached(pieces), resource);
}

function statementMatches(st: CompiledStatement, req: RequestState, variables: boolean): boolean {
  const { ctx } = req;
  if (st.principal !== null && !principalMatches(st.principal, ctx.principal)) return false;
  if (st.notPrincipal !== null && principalMatches(st.notPrincipal, ctx.principal)) return false;
  if (st.actions !== null) {
    if (!st.actions.some((g) => matchGlob(g, req.actionLower))) return false;
  } else if (st.notActions !== null) {
    if (st.notActions.some((g) => matchGlob(g, req.actionLower))) return false;
  } else {
    return false; // a (hand-built) statement without Action or NotAction grants or denies nothing
  }
  const conditions = variables ? req.conditions : req.conditionsNoVars;
  if (st.resources !== null) {
    // A pattern whose variable cannot be resolved matches nothing.
    if (!st.resources.some((r) => ctx.resource.startsWith(r.prefix) && resourceMatches(r, ctx.resource, conditions) === true)) {
      return false;
    }
  }
  if (st.notResources !== null) {
    for (const r of st.notResources) {
      const m = resourceMatches(r, ctx.resource, conditions);
      // Unresolvable variable in NotResource: the statement cannot be applied.
      if (m === null || m) return false;
    }
  }
  for (const cond of st.conditions) {
    if (!evaluateCondition(cond, conditions)) return false;
  }
  return true;
}

function run(policy: PolicyDocument, ctx: RequestContext, collect: MatchedStatement[] | null): Decision {
  const compiled = compiledPolicy(policy);
  const req = requestState(ctx);
  let allowed = false;
  let denied = false;
  for (const st of compiled.statements) {
    // Without details, nothing can change a Deny, and an Allow only needs Deny statements checked.
    if (collect === null && allowed && st.effect === 'Allow') continue;
    if (!statementMatches(st, req, compiled.variables)) continue;
    if (collect !== null) {
      const m: MatchedStatement = { index: st.index, effect: st.effect };
      if (st.sid !== undefined) m.sid = st.sid;
      collect.push(m);
    }
    if (st.effect === 'Deny') {
      denied = true;
      if (collect === null) break;
    } else {
      allowed = true;
    }
  }
  return denied ? 'Deny' : allowed ? 'Allow' : 'NotApplicable';
}

/**
 * Evaluates one policy: `Deny` if any applicable Deny statement, else `Allow` if any applicable
 * Allow statement, else `NotApplicable`. Statements that name a Principal/NotPrincipal (resource
 * policies) are matched against `ctx.principal`; statements without one (identity policies) apply
 * to whoever the policy is attached to.
 */
export function evaluatePolicy(policy: PolicyDocument, ctx: RequestContext): Decision {
  return run(policy, ctx, null);
}

/** Like `evaluatePolicy`, also listing every statement that matched (for error messages and logs). */
export function evaluatePolicyDetailed(policy: PolicyDocument, ctx: RequestContext): DetailedDecision {
  const matched: MatchedStatement[] = [];
  const decision = run(policy, ctx, matched);
  return { decision, matched };
}

/** Explicit `Deny` anywhere wins; otherwise `Allow` if any policy allows; otherwise `NotApplicable`. */
export function combineDecisions(decisions: readonly Decision[]): Decision {
  let allowed = false;
  for (const d of decisions) {
    if (d === 'Deny') return 'Deny';
    if (d === 'Allow') allowed = true;
  }
  return allowed ? 'Allow' : 'NotApplicable';
}
