import { explainPolicy, type PolicyDocument, type RequestContext } from '@sealbox/policy';
import { contextValues, contextWeight, identitySources, principalType, statementReason, type DecisionReason, type DecisionRecord, type DecisionSourceTrace, type LazyDecision } from '@sealbox/runtime';
import { roleArnOf } from '@sealbox/sigv4';
import type { GrantRecord } from '../model';
import { satisfiesConstraints } from './grants';

/**
 * Why KMS decided as it did, in IAM's terms; the code alone is kept on the request path.
 * https://docs.aws.amazon.com/kms/latest/developerguide/determining-access.html
 */
export type KmsDecisionCode =
  | 'identity-deny'
  | 'key-policy-deny'
  | 'identity-allow'
  | 'key-policy-allow'
  | 'grant-allow'
  | 'no-identity-allow'
  | 'no-key-policy-allow'
  | 'cross-account-no-identity';

/** What one KMS authorization had in hand: references only, the explanation is built on demand. */
export interface KmsDecisionInputs {
  code: KmsDecisionCode;
  evaluation: RequestContext;
  /** The caller's identity-based policies (texts); undefined for an account's root user. */
  identityPolicies: readonly string[] | undefined;
  /** The key policy evaluated; undefined when only identity policies decide. */
  keyPolicy: string | undefined;
  /** The key's grants, when they were consulted. */
  grants: readonly GrantRecord[] | undefined;
  /** The grant that allowed. */
  grant: GrantRecord | undefined;
  /** The encryption context grant constraints are checked against. */
  encryptionContext: Record<string, string> | undefined;
  /** Whether the grant's operations take an encryption context (constraints apply). */
  constraintsApply: boolean;
  /** Credentials.roleArn of a role session (a grant naming the role names its sessions). */
  roleArn: string | undefined;
  /** A module-level function: a record keeps it, and a closure would keep its whole scope (the key record, its policy text). */
  parse: (text: string, kind: 'resource' | 'identity') => PolicyDocument;
}

function constraintText(grant: GrantRecord): string {
  const c = grant.constraints;
  if (!c) return 'no constraints';
  const parts: string[] = [];
  if (c.EncryptionContextEquals) parts.push(`EncryptionContextEquals ${JSON.stringify(c.EncryptionContextEquals)}`);
  if (c.EncryptionContextSubset) parts.push(`EncryptionContextSubset ${JSON.stringify(c.EncryptionContextSubset)}`);
  return parts.join(', ');
}

const ALLOWING = new Set<KmsDecisionCode>(['identity-allow', 'key-policy-allow', 'grant-allow']);

/**
 * Grants a record keeps of a key's (AWS allows 50,000 per key): read afresh from the store on
 * every request, 10,000 records of a key with many grants would hold millions of them.
 */
export const GRANTS_KEPT = 25;

/** What a record keeps: the inputs, with the key policy as its shared parsed document and at most GRANTS_KEPT grants. */
type KeptInputs = Omit<KmsDecisionInputs, 'keyPolicy'> & { keyPolicy: PolicyDocument | undefined; grantsLeftOut: number };

/** One KMS authorization, explained lazily (GET /_sealbox/decisions/<id>). */
export class KmsDecision implements LazyDecision {
  readonly outcome: 'Allow' | 'Deny';
  readonly weight: number;
  private readonly inputs: KeptInputs;

  constructor(inputs: KmsDecisionInputs) {
    this.outcome = ALLOWING.has(inputs.code) ? 'Allow' : 'Deny';
    // The store parses a key's record afresh for every request, so its policy text is a new
    // string each time (up to 32 KB): the record keeps the parsed document, which the policy
    // cache shares between all requests that saw the same text, and which a later
    // PutKeyPolicy does not change.
    const grants = inputs.grants;
    let kept = grants;
    if (grants !== undefined && grants.length > GRANTS_KEPT) {
      kept = grants.slice(0, GRANTS_KEPT);
      if (inputs.grant !== undefined && !kept.includes(inputs.grant)) kept = [...kept, inputs.grant];
    }
    this.inputs = {
      ...inputs,
      keyPolicy: inputs.keyPolicy === undefined ? undefined : inputs.parse(inputs.keyPolicy, 'resource'),
      grants: kept,
      grantsLeftOut: grants === undefined ? 0 : grants.length - kept!.length,
    };
    this.weight = contextWeight(inputs.evaluation.keys) + (kept?.length ?? 0) * 300;
  }

  explain(): DecisionRecord {
    const { evaluation, code } = this.inputs;
    const p = evaluation.principal;
    const arn = p === 'anonymous' ? null : p.arn;
    const sources: DecisionSourceTrace[] = [];
    const policies = this.inputs.identityPolicies;
    const identity = identitySources(policies === undefined ? 'root' : policies.map((text) => { const doc = this.inputs.parse(text, 'identity'); return { id: doc.Id, explained: explainPolicy(doc, evaluation) }; }));
    sources.push(...identity.sources);
    const identityDeciding = identity.deny;
    const identityAllowing = identity.allow;
    let keyTrace: DecisionSourceTrace | undefined;
    if (this.inputs.keyPolicy !== undefined) {
      const explained = explainPolicy(this.inputs.keyPolicy, evaluation);
      keyTrace = { source: 'key-policy', name: 'key policy', decision: explained.decision, statements: explained.statements };
      sources.push(keyTrace);
    }
    for (const g of this.inputs.grants ?? []) {
      const role = this.inputs.roleArn ?? (arn === null ? undefined : roleArnOf(arn));
      const grantee = g.granteePrincipal === arn || (role !== undefined && g.granteePrincipal === role);
      const operation = evaluation.action.replace(/^kms:/, '');
      const hasOperation = g.operations.includes(operation);
      const constraintsHold = !this.inputs.constraintsApply || satisfiesConstraints(g.constraints, this.inputs.encryptionContext);
      const allows = grantee && hasOperation && constraintsHold;
      const text = !grantee
        ? `grantee ${g.granteePrincipal} is not the caller`
        : !hasOperation
          ? `does not include ${operation} (${g.operations.join(', ')})`
          : !constraintsHold
            ? `constraint not met: ${constraintText(g)}; the request's encryption context is ${JSON.stringify(this.inputs.encryptionContext ?? {})}`
            : `allows ${operation} to ${g.granteePrincipal} (${constraintText(g)})`;
      sources.push({
        source: 'grant',
        name: g.name ? `grant ${g.grantId} ('${g.name}')` : `grant ${g.grantId}`,
        decision: allows ? 'Allow' : 'NotApplicable',
        statements: [],
        grantId: g.grantId,
        granteePrincipal: g.granteePrincipal,
        operations: [...g.operations],
        ...(g.constraints ? { constraints: g.constraints } : {}),
        text,
      });
    }
    if (this.inputs.grantsLeftOut > 0) {
      sources.push({ source: 'grant', name: `${this.inputs.grantsLeftOut} more grants`, decision: 'NotApplicable', statements: [], text: `the key has ${this.inputs.grantsLeftOut} more grants, not kept with the request (a record keeps ${GRANTS_KEPT}); none of them allowed it` });
    }
    const action = evaluation.action;
    let reason: DecisionReason;
    switch (code) {
      case 'identity-deny':
        reason = statementReason('explicit-deny', 'identity', identityDeciding?.name ?? 'identity-based policy', identityDeciding, 'Deny');
        break;
      case 'key-policy-deny':
        reason = statementReason('explicit-deny', 'key-policy', 'key policy', keyTrace, 'Deny');
        break;
      case 'identity-allow':
        reason = statementReason('allowed', 'identity', identityAllowing?.name ?? 'identity-based policy', identityAllowing, 'Allow');
        if (keyTrace) reason.text += ', which the key policy lets decide';
        break;
      case 'key-policy-allow':
        reason = statementReason('allowed', 'key-policy', 'key policy', keyTrace, 'Allow', true);
        break;
      case 'grant-allow': {
        const g = this.inputs.grant!;
        reason = { code: 'allowed', text: `allowed by grant ${g.grantId}${g.name ? ` ('${g.name}')` : ''}`, source: 'grant', grantId: g.grantId };
        break;
      }
      case 'no-identity-allow':
        reason = {
          code: 'no-allow',
          text: keyTrace ? `no identity-based policy allows ${action}: the key policy only lets the account's IAM policies decide, and no grant allows it` : `no identity-based policy allows ${action}`,
          source: 'identity',
        };
        break;
      case 'cross-account-no-identity':
        reason = { code: 'no-allow', text: `the key policy allows ${action}, but the key is in another account: an identity-based policy must allow it too, and none does`, source: 'identity' };
        break;
      case 'no-key-policy-allow':
      default:
        reason = { code: 'no-allow', text: `no statement of the key policy allows ${action} for ${arn ?? 'the caller'}, no identity-based policy can (the key policy does not delegate to IAM), and no grant allows it`, source: 'key-policy', policy: 'key policy' };
        break;
    }
    return {
      principal: { arn, accountId: p === 'anonymous' ? null : p.accountId, type: arn === null ? 'Anonymous' : principalType(arn) },
      action,
      resource: evaluation.resource,
      context: contextValues(evaluation.keys),
      outcome: this.outcome,
      reason,
      sources,
    };
  }
}

