import { explainPolicy, type PolicyDocument, type RequestContext } from '@sealbox/policy';
import { contextValues, contextWeight, identitySources, principalType, statementReason, type DecisionReason, type DecisionRecord, type DecisionSourceTrace, type LazyDecision } from '@sealbox/runtime';
import type { Grant } from './acl';

/**
 * Why S3 decided as it did (the deny codes are authorization.ts's DenyReason); only the code and
 * references are kept on the request path, explain() builds the record when asked.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/how-s3-evaluates-access-control.html
 */
export type S3DecisionCode =
  | 'explicit-identity'
  | 'explicit-resource'
  | 'no-identity'
  | 'no-resource'
  | 'block-public-policy'
  | 'block-public-acls'
  | 'identity-allow'
  | 'bucket-policy-allow'
  | 'acl-allow';

const ALLOWING = new Set<S3DecisionCode>(['identity-allow', 'bucket-policy-allow', 'acl-allow']);

export interface S3DecisionInputs {
  code: S3DecisionCode;
  evaluation: RequestContext;
  /** The caller's identity policies; undefined for an account's root user, null when anonymous. */
  identityPolicies: readonly string[] | undefined | null;
  bucketPolicy?: string;
  /** RestrictPublicBuckets kept a public bucket policy from granting this caller anything. */
  restricted?: boolean;
  /** The ACL consulted: its grants and the permission the action needs. */
  acl?: { on: 'bucket' | 'object'; permission: string; grants: readonly Grant[]; via: 'group' | 'account' | undefined };
  /** The bucket (or object, ObjectWriter) owner's account, when it is not the caller's. */
  crossAccount?: boolean;
  parse: (text: string, kind: 'resource' | 'identity') => PolicyDocument;
}

const BPA_TEXT: Partial<Record<S3DecisionCode, string>> = {
  'block-public-policy': 'public policies are blocked by the BlockPublicPolicy block public access setting',
  'block-public-acls': 'public ACLs are prevented by the BlockPublicAcls setting in S3 Block Public Access',
};

function granteeText(g: Grant): string {
  const grantee = g.grantee as { type: string; id?: string; uri?: string };
  return `${grantee.uri ?? grantee.id ?? grantee.type}: ${g.permission}`;
}

/** One S3 authorization, explained lazily (GET /_sealbox/decisions/<id>). */
export class S3Decision implements LazyDecision {
  readonly outcome: 'Allow' | 'Deny';
  readonly weight: number;
  private readonly inputs: Omit<S3DecisionInputs, 'bucketPolicy'> & { bucketPolicy: PolicyDocument | undefined };

  constructor(inputs: S3DecisionInputs) {
    this.outcome = ALLOWING.has(inputs.code) ? 'Allow' : 'Deny';
    // The store parses a bucket's record afresh for every request, so its policy text is a new
    // string each time (up to 20 KB): the record keeps the parsed document, which the policy
    // cache shares between all requests that saw the same text, and which a later
    // PutBucketPolicy does not change.
    this.inputs = { ...inputs, bucketPolicy: inputs.bucketPolicy ? inputs.parse(inputs.bucketPolicy, 'resource') : undefined };
    this.weight = contextWeight(inputs.evaluation.keys) + (inputs.acl?.grants.length ?? 0) * 200;
  }

  explain(): DecisionRecord {
    const { evaluation, code } = this.inputs;
    const p = evaluation.principal;
    const arn = p === 'anonymous' ? null : p.arn;
    const action = evaluation.action;
    const sources: DecisionSourceTrace[] = [];
    const policies = this.inputs.identityPolicies;
    const identity = identitySources(
      policies === undefined ? 'root' : policies === null ? 'anonymous' : policies.map((text) => { const doc = this.inputs.parse(text, 'identity'); return { id: doc.Id, explained: explainPolicy(doc, evaluation) }; }),
    );
    sources.push(...identity.sources);
    const identityDeny = identity.deny;
    const identityAllow = identity.allow;
    let bucketTrace: DecisionSourceTrace | undefined;
    if (this.inputs.bucketPolicy !== undefined) {
      const explained = explainPolicy(this.inputs.bucketPolicy, evaluation);
      bucketTrace = { source: 'bucket-policy', name: 'bucket policy', decision: explained.decision, statements: explained.statements };
      sources.push(bucketTrace);
    } else if (evaluation.resource !== 'arn:aws:s3:::*') {
      sources.push({ source: 'bucket-policy', name: 'bucket policy', decision: 'NotApplicable', statements: [], text: 'the bucket has no policy' });
    }
    if (this.inputs.restricted) {
      sources.push({ source: 'block-public-access', name: 'RestrictPublicBuckets', decision: 'Deny', statements: [], text: "the bucket policy is public: it grants nothing to callers outside the bucket owner's account" });
    }
    if (BPA_TEXT[code]) sources.push({ source: 'block-public-access', name: code === 'block-public-policy' ? 'BlockPublicPolicy' : 'BlockPublicAcls', decision: 'Deny', statements: [], text: BPA_TEXT[code]! });
    const acl = this.inputs.acl;
    if (acl) {
      sources.push({
        source: 'acl',
        name: `${acl.on} ACL`,
        decision: acl.via ? 'Allow' : 'NotApplicable',
        statements: [],
        permission: acl.permission,
        grants: acl.grants.map(granteeText),
        text: acl.via === 'group' ? `a group grant gives ${acl.permission}` : acl.via === 'account' ? `a grant to the caller's account gives ${acl.permission} (its IAM policies decide)` : `no grant gives the caller ${acl.permission}`,
      });
    }
    let reason: DecisionReason;
    switch (code) {
      case 'explicit-identity':
        reason = statementReason('explicit-deny', 'identity', identityDeny?.name ?? 'identity-based policy', identityDeny, 'Deny');
        break;
      case 'explicit-resource':
        reason = statementReason('explicit-deny', 'bucket-policy', 'bucket policy', bucketTrace, 'Deny');
        break;
      case 'identity-allow':
        reason = statementReason('allowed', 'identity', identityAllow?.name ?? 'identity-based policy', identityAllow, 'Allow');
        break;
      case 'bucket-policy-allow':
        reason = statementReason('allowed', 'bucket-policy', 'bucket policy', bucketTrace, 'Allow', !this.inputs.crossAccount);
        if (this.inputs.crossAccount && identityAllow) reason.text += ` and by the caller's ${identityAllow.name} (another account: both must allow)`;
        break;
      case 'acl-allow':
        reason = { code: 'allowed', text: `allowed by the ${acl?.on ?? ''} ACL's grant of ${acl?.permission ?? ''}`.replace('  ', ' '), source: 'acl' };
        break;
      case 'no-identity':
        reason = {
          code: 'no-allow',
          source: 'identity',
          text: this.inputs.crossAccount
            ? `no identity-based policy of the caller allows ${action}: the bucket is another account's, so both its policy and the caller's must allow`
            : `no statement allows ${action}: no identity-based policy allows it, and no bucket policy statement or ACL grant names the caller`,
        };
        break;
      case 'no-resource':
        reason = { code: 'no-allow', source: 'bucket-policy', policy: 'bucket policy', text: `no statement of the bucket policy (nor an ACL grant) allows ${action} for ${arn ?? 'an anonymous caller'}${this.inputs.restricted ? ' (RestrictPublicBuckets set its public statements aside)' : ''}` };
        break;
      default:
        reason = { code: 'block-public-access', source: 'block-public-access', text: BPA_TEXT[code]! };
    }
    return {
      principal: { arn, accountId: p === 'anonymous' ? null : p.accountId, type: principalType(arn) },
      action,
      resource: evaluation.resource,
      context: contextValues(evaluation.keys),
      outcome: this.outcome,
      reason,
      sources,
    };
  }
}
