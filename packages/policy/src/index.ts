export { parsePolicy, POLICY_VERSIONS } from './parse';
export { evaluatePolicy, evaluatePolicyDetailed, combineDecisions } from './evaluate';
export { PolicyError } from './errors';
export type {
  PolicyDocument,
  Statement,
  PrincipalBlock,
  RequestContext,
  RequestPrincipal,
  Decision,
  DetailedDecision,
  MatchedStatement,
} from './types';
export { matchesWildcard, matchesArn, matchesResource, splitArn } from './wildcard';
export { cidrContains, parseCidr, parseIpAddress } from './ip';
export type { Cidr, IpAddress } from './ip';
export { parseDate } from './date';
export { CONDITION_OPERATORS, isConditionOperator } from './conditions';
export { parsePolicyCached, isAccountRoot, namesPrincipal } from './shared';
export { explainPolicy } from './explain';
export type { ConditionTrace, ElementName, ElementTrace, PolicyExplanation, StatementTrace } from './explain';
