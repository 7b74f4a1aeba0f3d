import { randomBytes } from 'node:crypto';
import type { DecisionOutcome, DecisionReason, LazyDecision } from '@sealbox/runtime';
import { authorize, checkAccess } from '../access/authorize';
import { grantIdOfToken, grantToken, GRANT_OPERATIONS, isPrincipal } from '../access/grants';
import type { OperationContext } from '../context';
import { AccessDeniedException, DisabledException, InvalidGrantIdException, InvalidGrantTokenException, NotFoundException, ValidationException } from '../errors';
import { epochSeconds, requireNotPendingDeletion, requireNotPendingImport, resolveKey } from '../keys';
import type { GrantConstraints, GrantRecord, KeyRecord } from '../model';
import type { ValidatedInput } from '../model/validate';
import { checkDryRun, decodeMarker, num, page, str } from './common';

/** Grant ids are 64 hex digits. */
const GRANT_ID = /^[0-9a-f]{64}$/;

/** Grantee and retiring principals: an IAM ARN (account, user, role, session) or a service principal. */
const PRINCIPAL = /^(arn:aws[\w-]*:(iam|sts)::\d{12}:.+|[a-z0-9.-]+\.amazonaws\.com(\.cn)?|\d{12})$/;

/**
 * Every token in GrantTokens must be one KMS issued; the grant it names need not exist any more
 * (AWS accepts tokens of retired grants).
 */
export function checkGrantTokens(input: ValidatedInput): void {
  for (const token of (input.GrantTokens as string[] | undefined) ?? []) {
    if (grantIdOfToken(token) === undefined) throw new InvalidGrantTokenException('Grant token is invalid.');
  }
}

const sameConstraints = (a: GrantConstraints | undefined, b: GrantConstraints | undefined) => JSON.stringify(sortedConstraints(a)) === JSON.stringify(sortedConstraints(b));

function sortedConstraints(c: GrantConstraints | undefined) {
  if (!c) return null;
  const sort = (m?: Record<string, string>) => (m ? Object.fromEntries(Object.entries(m).sort(([x], [y]) => (x < y ? -1 : 1))) : null);
  return { eq: sort(c.EncryptionContextEquals), sub: sort(c.EncryptionContextSubset) };
}

/** A grant as ListGrants and ListRetirableGrants show it. */
function grantEntry(grant: GrantRecord, key: KeyRecord | undefined) {
  return {
    KeyId: key?.arn ?? grant.keyId,
    GrantId: grant.grantId,
    Name: grant.name,
    CreationDate: epochSeconds(grant.creationDate),
    GranteePrincipal: grant.granteePrincipal,
    ...(grant.retiringPrincipal ? { RetiringPrincipal: grant.retiringPrincipal } : {}),
    IssuingAccount: `arn:aws:iam::${grant.issuingAccount}:root`,
    Operations: grant.operations,
    ...(grant.constraints ? { Constraints: grant.constraints } : {}),
  };
}

/**
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateGrant.html
 * Retrying with the same Name and the same parameters returns the existing grant's id, as AWS
 * does; the same Name with other parameters makes a new grant.
 */
export function createGrant(input: ValidatedInput, ctx: OperationContext) {
  const key = resolveKey(ctx, str(input, 'KeyId')!, { aliases: false, crossAccount: true });
  ctx.audit.keys.push(key);
  const operations = [...new Set(input.Operations as string[])];
  const constraints = input.Constraints as GrantConstraints | undefined;
  const constrained = constraints && (constraints.EncryptionContextEquals || constraints.EncryptionContextSubset) ? constraints : undefined;
  authorizeCreateGrant(ctx, key, operations, constrained);
  // Key-state table: a disabled key gets no grants (note 1); an Unavailable one does.
  if (key.state === 'Disabled') throw new DisabledException(`${key.arn} is disabled.`);
  requireNotPendingDeletion(key);
  requireNotPendingImport(key);
  checkGrantTokens(input);
  const grantee = str(input, 'GranteePrincipal')!;
  const retiring = str(input, 'RetiringPrincipal');
  for (const p of [grantee, retiring]) {
    if (p !== undefined && !PRINCIPAL.test(p)) throw new ValidationException(`Invalid principal: ${p}`);
  }
  if (operations.length === 0) throw new ValidationException('Grant operations must not be empty.');
  const allowed = grantOperationsFor(key);
  const unsupported = operations.filter((op) => !allowed.has(op));
  if (unsupported.length > 0) {
    throw new ValidationException(`Grant operations ${unsupported.join(', ')} are not supported for the KeyUsage ${key.keyUsage} of ${key.arn}`);
  }
  checkDryRun(input);

  const name = str(input, 'Name') ?? '';
  const store = ctx.core.store;
  const existing = name
    ? store.grantsOfKey(key.keyId, key.region).find(
        (g) =>
          g.name === name &&
          g.granteePrincipal === grantee &&
          g.retiringPrincipal === retiring &&
          g.operations.length === operations.length &&
          g.operations.every((op) => operations.includes(op)) &&
          sameConstraints(g.constraints, constrained),
      )
    : undefined;
  const grant: GrantRecord = existing ?? {
    grantId: randomBytes(32).toString('hex'),
    keyId: key.keyId,
    issuingAccount: ctx.accountId,
    name,
    granteePrincipal: grantee,
    ...(retiring ? { retiringPrincipal: retiring } : {}),
    operations,
    ...(constrained ? { constraints: constrained } : {}),
    creationDate: ctx.now.getTime(),
    region: key.region,
  };
  if (!existing) store.putGrant(grant);
  ctx.audit.responseElements = { grantId: grant.grantId };
  return { GrantToken: grantToken(grant), GrantId: grant.grantId };
}

/**
 * kms:CreateGrant from the key policy or IAM policies; or from a grant that includes CreateGrant,
 * which lets its grantee pass on only its own operations (or fewer) under an encryption context
 * constraint at least as strict as its own.
 * https://docs.aws.amazon.com/kms/latest/developerguide/grants.html#terms-grant-constraint
 */
function authorizeCreateGrant(ctx: OperationContext, key: KeyRecord, operations: string[], constraints: GrantConstraints | undefined): void {
  if (!ctx.enforcePolicies) return;
  const direct = checkAccess(ctx, { action: 'CreateGrant', key, withoutGrants: true });
  if (direct.allowed) return;
  const parent = ctx.core.store
    .grantsOfKey(key.keyId, key.region)
    .find(
      (g) =>
        isPrincipal(g.granteePrincipal, ctx.credentials) &&
        g.operations.includes('CreateGrant') &&
        operations.every((op) => g.operations.includes(op)) &&
        atLeastAsStrict(constraints, g.constraints),
    );
  if (!parent) throw new AccessDeniedException(direct.message);
  overrideDecision(ctx, 'Allow', { code: 'allowed', source: 'grant', grantId: parent.grantId, text: `allowed by grant ${parent.grantId}: its grantee may pass on CreateGrant with its own operations (or fewer) under constraints at least as strict` });
}

/**
 * The grant rules of CreateGrant and RetireGrant decide after a policy check: the record of that
 * check is replaced by the rule's outcome (its sources kept), so the record says what the answer
 * said. Explained lazily, like every decision.
 */
function overrideDecision(ctx: OperationContext, outcome: DecisionOutcome, reason: DecisionReason): void {
  const before = ctx.decisions?.pop();
  if (!before) return;
  const decision: LazyDecision = { outcome, weight: before.weight, explain: () => ({ ...before.explain(), outcome, reason }) };
  ctx.decisions!.push(decision);
}

/** Whether a child grant's constraint allows no more than its parent's. */
export function atLeastAsStrict(child: GrantConstraints | undefined, parent: GrantConstraints | undefined): boolean {
  if (!parent || (!parent.EncryptionContextEquals && !parent.EncryptionContextSubset)) return true;
  if (!child) return false;
  const contains = (outer: Record<string, string> | undefined, inner: Record<string, string>) =>
    outer !== undefined && Object.entries(inner).every(([k, v]) => outer[k] === v);
  if (parent.EncryptionContextEquals) {
    const want = parent.EncryptionContextEquals;
    const eq = child.EncryptionContextEquals;
    return eq !== undefined && Object.keys(eq).length === Object.keys(want).length && contains(eq, want);
  }
  const subset = parent.EncryptionContextSubset!;
  return contains(child.EncryptionContextEquals, subset) || contains(child.EncryptionContextSubset, subset);
}

/**
 * The grant operations a key supports: the cryptographic operations of its key usage and type
 * (symmetric encryption keys make data keys and data key pairs, RSA encryption keys do not but
 * have a public key), plus the ones every key has.
 * https://docs.aws.amazon.com/kms/latest/developerguide/grants.html#terms-grant-operations
 */
const EVERY_KEY = ['CreateGrant', 'RetireGrant', 'DescribeKey'];
const BY_USAGE: Record<string, string[]> = {
  ENCRYPT_DECRYPT: ['Decrypt', 'Encrypt', 'ReEncryptFrom', 'ReEncryptTo'],
  SIGN_VERIFY: ['Sign', 'Verify', 'GetPublicKey'],
  GENERATE_VERIFY_MAC: ['GenerateMac', 'VerifyMac'],
  KEY_AGREEMENT: ['DeriveSharedSecret', 'GetPublicKey'],
};
const DATA_KEYS = ['GenerateDataKey', 'GenerateDataKeyWithoutPlaintext', 'GenerateDataKeyPair', 'GenerateDataKeyPairWithoutPlaintext'];

function grantOperationsFor(key: KeyRecord): Set<string> {
  const ops = [...EVERY_KEY, ...(BY_USAGE[key.keyUsage] ?? [])];
  if (key.keyUsage === 'ENCRYPT_DECRYPT') ops.push(...(key.keySpec === 'SYMMETRIC_DEFAULT' ? DATA_KEYS : ['GetPublicKey']));
  return new Set(ops.filter((op) => (GRANT_OPERATIONS as readonly string[]).includes(op)));
}

/** https://docs.aws.amazon.com/kms/latest/APIReference/API_ListGrants.html */
export function listGrants(input: ValidatedInput, ctx: OperationContext) {
  const key = resolveKey(ctx, str(input, 'KeyId')!, { aliases: false, crossAccount: true });
  ctx.audit.keys.push(key);
  authorize(ctx, { action: 'ListGrants', key });
  const grantId = str(input, 'GrantId');
  const grantee = str(input, 'GranteePrincipal');
  const grants = ctx.core.store
    .grantsOfKey(key.keyId, key.region)
    .filter((g) => (grantId === undefined || g.grantId === grantId) && (grantee === undefined || g.granteePrincipal === grantee));
  return pageOfGrants(input, grants, () => key);
}

/**
 * Grants whose retiring principal is the one named, in the caller's account and region; an
 * identity-based permission (kms:ListRetirableGrants on "*").
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_ListRetirableGrants.html
 */
export function listRetirableGrants(input: ValidatedInput, ctx: OperationContext) {
  authorize(ctx, { action: 'ListRetirableGrants' });
  const store = ctx.core.store;
  const keys = new Map<string, KeyRecord | undefined>();
  const keyOf = (g: GrantRecord) => {
    if (!keys.has(g.keyId)) keys.set(g.keyId, store.getKey(g.keyId, g.region ?? ctx.region));
    return keys.get(g.keyId);
  };
  const grants = store.grantsRetirableBy(str(input, 'RetiringPrincipal')!).filter((g) => (g.region ?? ctx.region) === ctx.region && keyOf(g) !== undefined && g.issuingAccount === ctx.accountId);
  return pageOfGrants(input, grants, keyOf);
}

function pageOfGrants(input: ValidatedInput, grants: GrantRecord[], keyOf: (g: GrantRecord) => KeyRecord | undefined) {
  const limit = num(input, 'Limit') ?? 50;
  const after = decodeMarker(str(input, 'Marker'));
  const start = after === undefined ? 0 : grants.findIndex((g) => g.grantId === after) + 1;
  const { shown, truncated, nextMarker } = page(grants.slice(start, start + limit + 1), limit, (g) => g.grantId);
  return { Grants: shown.map((g) => grantEntry(g, keyOf(g))), ...(nextMarker ? { NextMarker: nextMarker } : {}), Truncated: truncated };
}

function grantOn(ctx: OperationContext, key: KeyRecord, grantId: string): GrantRecord {
  if (!GRANT_ID.test(grantId)) throw new InvalidGrantIdException('Invalid grant ID.');
  const grant = ctx.core.store.getGrant(grantId);
  if (!grant || grant.keyId !== key.keyId || (grant.region ?? key.region) !== key.region) throw new NotFoundException(`Grant ID ${grantId} not found`);
  return grant;
}

/**
 * Retires a grant named by its token, or by key and grant id. Who may retire is decided by the
 * grant: its retiring principal, its grantee when the grant allows RetireGrant, or the account
 * that issued it; a key or IAM policy allowing kms:RetireGrant also does.
 * https://docs.aws.amazon.com/kms/latest/developerguide/grant-delete.html
 */
export function retireGrant(input: ValidatedInput, ctx: OperationContext) {
  const token = str(input, 'GrantToken');
  const keyParam = str(input, 'KeyId');
  const grantIdParam = str(input, 'GrantId');
  let grant: GrantRecord | undefined;
  let key: KeyRecord | undefined;
  if (token !== undefined) {
    const id = grantIdOfToken(token);
    if (id === undefined) throw new InvalidGrantTokenException('Grant token is invalid.');
    grant = ctx.core.store.getGrant(id);
    if (!grant) throw new NotFoundException(`Grant ID ${id} not found`);
    key = ctx.core.store.getKey(grant.keyId, grant.region ?? ctx.region);
    if (grantIdParam !== undefined && grantIdParam !== grant.grantId) throw new InvalidGrantIdException('The grant ID does not match the grant token.');
  } else {
    if (keyParam === undefined || grantIdParam === undefined) {
      throw new ValidationException('Either GrantToken or both KeyId and GrantId must be specified.');
    }
    key = resolveKey(ctx, keyParam, { aliases: false, crossAccount: true });
    grant = grantOn(ctx, key, grantIdParam);
  }
  if (key) ctx.audit.keys.push(key);
  const caller = ctx.credentials;
  const byGrant =
    isPrincipal(grant.retiringPrincipal, caller) ||
    (grant.operations.includes('RetireGrant') && isPrincipal(grant.granteePrincipal, caller)) ||
    caller.principalArn === `arn:aws:iam::${grant.issuingAccount}:root`;
  // kms:RetireGrant counts in IAM policies only: a Deny there refuses even the principals the
  // grant names; an Allow delegates the right of the issuing account, or of a retiring account,
  // to its principals. A key policy neither allows nor denies it.
  // https://docs.aws.amazon.com/kms/latest/developerguide/grant-delete.html
  if (ctx.enforcePolicies && key) {
    const access = checkAccess(ctx, { action: 'RetireGrant', key, identityOnly: true });
    const explicitDeny = !access.allowed && access.message.endsWith('with an explicit deny in an identity-based policy');
    const delegated = access.allowed && (caller.accountId === grant.issuingAccount || grant.retiringPrincipal === `arn:aws:iam::${caller.accountId}:root`);
    if (!explicitDeny && byGrant && !access.allowed) {
      const who = isPrincipal(grant.retiringPrincipal, caller) ? 'its retiring principal' : caller.principalArn.endsWith(':root') && caller.accountId === grant.issuingAccount ? 'the account that issued it' : 'its grantee, and it allows RetireGrant';
      overrideDecision(ctx, 'Allow', { code: 'allowed', source: 'grant', grantId: grant.grantId, text: `allowed by grant ${grant.grantId}: the caller is ${who}` });
    }
    if (!explicitDeny && !byGrant && !delegated && access.allowed) {
      overrideDecision(ctx, 'Deny', {
        code: 'no-allow',
        source: 'identity',
        text: `an identity-based policy allows kms:RetireGrant, but it can only delegate the right of the grant's issuing account or of an account the grant names as retiring principal, and the caller's account ${caller.accountId} is neither`,
      });
    }
    if (explicitDeny || (!byGrant && !delegated)) {
      throw new AccessDeniedException(
        access.allowed
          ? `User: ${caller.principalArn} is not authorized to perform: kms:RetireGrant on resource: ${key.arn} because no identity-based policy allows the kms:RetireGrant action`
          : access.message,
      );
    }
  }
  checkDryRun(input);
  ctx.core.store.deleteGrant(grant.grantId);
  return {};
}

/** https://docs.aws.amazon.com/kms/latest/APIReference/API_RevokeGrant.html */
export function revokeGrant(input: ValidatedInput, ctx: OperationContext) {
  const key = resolveKey(ctx, str(input, 'KeyId')!, { aliases: false, crossAccount: true });
  ctx.audit.keys.push(key);
  authorize(ctx, { action: 'RevokeGrant', key });
  const grant = grantOn(ctx, key, str(input, 'GrantId')!);
  checkDryRun(input);
  ctx.core.store.deleteGrant(grant.grantId);
  return {};
}
