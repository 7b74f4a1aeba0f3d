import type { Sealbox } from '@sealbox/cli';
import type { DecisionRecord } from '@sealbox/runtime';

/**
 * Decision records checked against the answers the services gave (issue 20): the authorization
 * matrices call these after each request, with the request id the SDK read from the response
 * (`$metadata.requestId`: `x-amzn-RequestId` for KMS, `x-amz-request-id` for S3).
 */

let lastId: string | undefined;

/** The id of the last request a tracked client (or a raw call) made; each id is taken once. */
export function takeRequestId(): string | undefined {
  const id = lastId;
  lastId = undefined;
  return id;
}

/** For raw HTTP calls: the response's x-amz-request-id. */
export function noteRequestId(id: string | null | undefined): void {
  lastId = id ?? undefined;
}

interface MiddlewareClient {
  middlewareStack: { add(middleware: unknown, options: { step: 'initialize'; name: string }): void };
}

/** Notes the request id of every call the client makes, answered or refused. */
export function trackRequestIds<C extends MiddlewareClient>(client: C): C {
  const middleware =
    (next: (args: unknown) => Promise<{ output?: { $metadata?: { requestId?: string } } }>) =>
    async (args: unknown) => {
      try {
        const out = await next(args);
        lastId = out.output?.$metadata?.requestId;
        return out;
      } catch (err) {
        lastId = (err as { $metadata?: { requestId?: string } }).$metadata?.requestId;
        throw err;
      }
    };
  client.middlewareStack.add(middleware, { step: 'initialize', name: 'sealboxRequestIds' });
  return client;
}

const describe = (d: DecisionRecord) => `${d.outcome} ${d.action} (${d.reason.code}/${d.reason.source ?? '-'}: ${d.reason.text})`;

/** The decisions of a request, or the problem that there is no record of it. */
function decisionsOf(sealbox: Sealbox, requestId: string | undefined): DecisionRecord[] | string {
  if (!requestId) return 'the response carried no request id';
  const record = sealbox.explain(requestId);
  if (!record) return `no decision record for request ${requestId}`;
  return record.decisions;
}

export type KmsWant = 'allowed' | { denied: 'identity' | 'resource' | 'explicit-identity' | 'explicit-resource'; on: string; action?: string } | { error: string };

export interface KmsCell {
  /** The matrix's scenario: how the caller is (or is not) allowed. */
  scenario: string;
  /** The caller's ARN. */
  caller: string;
  want: KmsWant;
  /** The IAM action a denial names (without kms:). */
  action: string;
  /** The grant the caller holds in the grant scenario. */
  grantId?: string;
}

/** Where the allowing reason of each KMS scenario comes from. */
const KMS_ALLOW_SOURCE: Record<string, string> = {
  'key policy': 'key-policy',
  'identity policy': 'identity',
  grant: 'grant',
  'other account named': 'identity',
  // RetireGrant: the key policy is not effective, the IAM policy delegates the account's right.
  'key policy deny': 'identity',
};

const KMS_DENY_REASON: Record<string, [string, string]> = {
  identity: ['no-allow', 'identity'],
  resource: ['no-allow', 'key-policy'],
  'explicit-identity': ['explicit-deny', 'identity'],
  'explicit-resource': ['explicit-deny', 'key-policy'],
};

/**
 * What is wrong with a KMS request's decision record, given the answer (an AccessDeniedException
 * or not) and what the cell expects: [] when it fits.
 */
export function kmsDecisionProblems(sealbox: Sealbox, requestId: string | undefined, cell: KmsCell, answer: { ok: true } | { name: string }): string[] {
  const decisions = decisionsOf(sealbox, requestId);
  if (typeof decisions === 'string') return [decisions];
  const problems: string[] = [];
  const denied = 'name' in answer && answer.name === 'AccessDeniedException';
  const deny = decisions.find((d) => d.outcome === 'Deny');
  if (denied) {
    if (!deny) return [`AccessDeniedException, but no decision denied: ${decisions.map(describe).join('; ') || 'none'}`];
    if (decisions.at(-1) !== deny) problems.push(`the denying decision is not the last one made: ${decisions.map(describe).join('; ')}`);
    if (deny.principal.arn !== cell.caller) problems.push(`denied principal ${deny.principal.arn}, not the caller ${cell.caller}`);
    if (typeof cell.want === 'object' && 'denied' in cell.want) {
      const action = `kms:${cell.want.action ?? cell.action}`;
      if (deny.action !== action) problems.push(`denied ${deny.action}, the answer names ${action}`);
      const [code, source] = KMS_DENY_REASON[cell.want.denied]!;
      if (deny.reason.code !== code || deny.reason.source !== source) problems.push(`reason ${deny.reason.code}/${deny.reason.source}, expected ${code}/${source}: ${deny.reason.text}`);
    }
    return problems;
  }
  if (deny) return [`answered ${'name' in answer ? answer.name : 'success'}, but a decision denied: ${describe(deny)}`];
  if (!('ok' in answer)) return problems; // refused before any authorization (NotFoundException)
  if (decisions.length === 0) return ['allowed without any authorization recorded'];
  const source = KMS_ALLOW_SOURCE[cell.scenario];
  for (const d of decisions) {
    if (d.reason.code !== 'allowed') problems.push(`allowing decision with reason ${d.reason.code}`);
    if (source && d.reason.source !== source) problems.push(`${d.action} allowed by ${d.reason.source} (${d.reason.text}), expected ${source}`);
    if (source === 'grant' && d.reason.grantId !== cell.grantId) problems.push(`${d.action} allowed by grant ${d.reason.grantId}, the caller's is ${cell.grantId}`);
  }
  return problems;
}

export interface S3Cell {
  scenario: string;
  principal: string;
  /** The matrix's outcome: 'allow' (any answer past authorization), 'deny', '405'. */
  got: string;
  /** Account-level operation (identity policies alone). */
  service?: boolean;
  /** The cell's scenario is 'acl' and the operation is one an ACL grants. */
  aclGranted?: boolean;
}

/** The principals whose identity policy allows s3:* in the bucket owner's account. */
const OWNER_IDENTITY = new Set(['root', 'allowUser', 'roleSession']);

/** What is wrong with an S3 request's decision record, given the matrix's outcome: [] when it fits. */
export function s3DecisionProblems(sealbox: Sealbox, requestId: string | undefined, cell: S3Cell): string[] {
  const decisions = decisionsOf(sealbox, requestId);
  if (typeof decisions === 'string') return [decisions];
  const deny = decisions.find((d) => d.outcome === 'Deny');
  const problems: string[] = [];
  if (cell.got === 'deny') {
    if (!deny) return [`AccessDenied, but no decision denied: ${decisions.map(describe).join('; ') || 'none'}`];
    // An explicit Deny: the user's identity policy (evaluated first), else the deny-all bucket policy.
    const [code, source] =
      cell.principal === 'denyUser' ? ['explicit-deny', 'identity'] : cell.scenario === 'denyAll' && !cell.service ? ['explicit-deny', 'bucket-policy'] : ['no-allow', undefined];
    if (deny.reason.code !== code || (source && deny.reason.source !== source)) problems.push(`reason ${deny.reason.code}/${deny.reason.source}, expected ${code}/${source ?? 'any'}: ${deny.reason.text}`);
    if (cell.principal === 'anonymous' ? deny.principal.arn !== null : deny.principal.arn === null) problems.push(`denied principal ${deny.principal.arn} for ${cell.principal}`);
    return problems;
  }
  if (deny) return [`answered ${cell.got}, but a decision denied: ${describe(deny)}`];
  // Allowed: by the caller's identity policy in the owner's account (and every account-level
  // operation), else by the ACL's group grant where ACLs decide, else by the bucket policy.
  const source = cell.service || OWNER_IDENTITY.has(cell.principal) ? 'identity' : cell.aclGranted ? 'acl' : 'bucket-policy';
  for (const d of decisions) {
    if (d.reason.code !== 'allowed' || d.reason.source !== source) problems.push(`${d.action} allowed by ${d.reason.code}/${d.reason.source} (${d.reason.text}), expected ${source}`);
  }
  return problems;
}
