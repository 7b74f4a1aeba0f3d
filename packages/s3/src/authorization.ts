import { combineDecisions, evaluatePolicy, evaluatePolicyDetailed, isAccountRoot, namesPrincipal, parsePolicyCached, type Decision, type PrincipalBlock, type RequestContext } from '@sealbox/policy';
import { AdminInputError, principalType, ruleDecision, type DecisionRecord, type LazyDecision } from '@sealbox/runtime';
import { credentialsFor, sessionRoleArn, type CredentialProvider, type Credentials } from '@sealbox/sigv4';
import type { S3State } from './state';
import { OPERATION_ACCESS, POLICY_OPERATIONS } from './actions';
import type { S3Request } from './context';
import { lookupVersion } from './access';
import { AccessDenied, MethodNotAllowed } from './errors';
import { header } from './http-util';
import { remainingRetentionDays } from './object-lock';
import { effectiveBlock, isPublicPolicy } from './public-policy';
import type { BucketRecord, ObjectVersion } from './store/model';
import { aclGrants, aclPermission, aclsEnabled, cannedGrants } from './acl';
import { S3Decision, type S3DecisionCode, type S3DecisionInputs } from './decision';

/**
 * S3's authorization of one action, the way AWS evaluates it, in one place for every operation:
 * - an explicit Deny in the caller's identity-based policies or in the bucket policy wins (the
 *   account root is not exempt from the bucket policy);
 * - in the bucket owner's account, either side may allow: an identity-based policy (the root user's
 *   always does), or a bucket policy statement naming the caller itself (one naming only the
 *   account delegates to the account's IAM policies);
 * - from another account, both must: the caller's identity-based policies and the bucket policy;
 * - anonymous callers only through the bucket policy;
 * - Block Public Access's RestrictPublicBuckets: a public bucket policy grants nothing to callers
 *   outside the owner's account.
 * - ACL grants count where the bucket's ownership setting honours them (ObjectWriter,
 *   BucketOwnerPreferred); new buckets disable them (BucketOwnerEnforced).
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/how-s3-evaluates-access-control.html
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html
 */
export interface AccessCheck {
  /** e.g. `s3:GetObject`. */
  action: string;
  /** The bucket concerned; absent for account-level actions (ListBuckets, CreateBucket). */
  bucket?: BucketRecord;
  /** The bucket to name in the resource when it does not exist yet (CreateBucket). */
  bucketName?: string;
  /** The object concerned; absent for bucket-level actions. */
  key?: string;
  /** The version the request names, for s3:ExistingObjectTag. */
  versionId?: string;
  /** The action is part of writing a new object (x-amz-acl on PutObject): the writer will own it. */
  newObject?: boolean;
  /** CreateBucket's LocationConstraint, from its body (s3:LocationConstraint). */
  locationConstraint?: string;
  /** Condition keys that replace the request's own (a simulated request's). */
  keys?: Record<string, string | string[] | undefined>;
}

export type DenyReason =
  | 'explicit-identity'
  | 'explicit-resource'
  | 'no-identity'
  | 'no-resource'
  | 'block-public-policy'
  | 'block-public-acls';

export type AccessOutcome = { allowed: true } | { allowed: false; reason: DenyReason };

/** The resource ARN of a check. */
export function resourceArn(check: AccessCheck): string {
  const name = check.bucket?.name ?? check.bucketName;
  if (name === undefined) return 'arn:aws:s3:::*';
  return check.key !== undefined ? `arn:aws:s3:::${name}/${check.key}` : `arn:aws:s3:::${name}`;
}

/** A bucket policy statement naming only the caller's account lets the account's IAM policies decide. */
const namesCaller = (block: PrincipalBlock | undefined, credentials: Credentials) => namesPrincipal(block, credentials.principalArn, sessionRoleArn(credentials));

/** The decision for one action, with the reason when it is a denial. */
export function checkS3Access(req: S3Request, check: AccessCheck): AccessOutcome {
  const credentials = req.credentials;
  const bucket = check.bucket;
  const evaluation: RequestContext = {
    principal: credentials ? { arn: credentials.principalArn, accountId: credentials.accountId } : 'anonymous',
    action: check.action,
    resource: resourceArn(check),
    keys: conditionKeys(req, check),
  };
  const root = credentials !== undefined && isAccountRoot(credentials.principalArn);
  // The decision record: references and the code only; explained when someone asks.
  let acl: S3DecisionInputs['acl'];
  let restricted = false;
  let crossAccount = false;
  const decided = (code: S3DecisionCode): AccessOutcome => {
    if (req.decisions !== undefined) {
      req.decisions.push(
        new S3Decision({
          code,
          evaluation,
          identityPolicies: credentials ? (root ? undefined : (credentials.policies ?? [])) : null,
          bucketPolicy: code === 'explicit-identity' ? undefined : bucket?.policy,
          restricted,
          acl,
          crossAccount,
          parse: parsePolicyCached,
        }),
      );
    }
    return ALLOWING.has(code) ? { allowed: true } : { allowed: false, reason: code as DenyReason };
  };

  let identity: Decision = 'NotApplicable';
  if (credentials) {
    identity = root
      ? 'Allow'
      : combineDecisions((credentials.policies ?? []).map((p) => evaluatePolicy(parsePolicyCached(p, 'identity'), evaluation)));
  }
  if (identity === 'Deny') return decided('explicit-identity');
  // Account-level actions (and a bucket still to be created): identity-based policies alone.
  if (!bucket) return decided(identity === 'Allow' ? 'identity-allow' : 'no-identity');

  // An object another account wrote into an ACL-enabled bucket (ObjectWriter) is that account's:
  // reading it or its ACL is decided by its owner's account and its ACL; the bucket owner's
  // policy can still deny, never grant.
  // https://docs.aws.amazon.com/AmazonS3/latest/userguide/about-object-ownership.html
  const aclNeed = aclsEnabled(bucket) ? aclPermission(check.action) : undefined;
  const object = aclNeed?.on === 'object' && check.key !== undefined && !check.newObject ? existingObject(req, bucket, check) : undefined;
  const resourceAccount = aclNeed?.on === 'object' && object && object.ownerAccountId !== bucket.accountId ? object.ownerAccountId : bucket.accountId;
  const sameAccount = credentials !== undefined && credentials.accountId === resourceAccount;
  crossAccount = credentials !== undefined && !sameAccount;
  let policyAllows = false;
  let policyNamesCaller = false;
  let allowedBy: 'bucket-policy-allow' | 'acl-allow' = 'bucket-policy-allow';
  if (bucket.policy) {
    const doc = parsePolicyCached(bucket.policy, 'resource');
    const result = evaluatePolicyDetailed(doc, evaluation);
    if (result.decision === 'Deny') return decided('explicit-resource');
    const allows = result.matched.filter((m) => m.effect === 'Allow');
    restricted = allows.length > 0 && !sameAccount && effectiveBlock(req.state.meta, bucket).restrictPublicBuckets && isPublicPolicy(doc);
    if (allows.length > 0 && !restricted && resourceAccount === bucket.accountId) {
      policyAllows = true;
      policyNamesCaller = credentials === undefined || allows.some((m) => namesCaller(doc.Statement[m.index]!.Principal, credentials));
    }
  }
  // The ACL of the bucket (bucket actions, object writes) or of the object (reads, its ACL):
  // a grant to a group (AllUsers, AuthenticatedUsers) names the caller itself; a grant to the
  // caller's account hands the decision to that account's IAM policies.
  if (aclNeed) {
    const grants =
      aclNeed.on === 'bucket'
        ? (bucket.acl ?? cannedGrants('private', bucket.accountId, bucket.accountId))
        : check.newObject && credentials
          ? cannedGrants('private', credentials.accountId, credentials.accountId)
          : object
            ? (object.meta.acl ?? cannedGrants('private', object.ownerAccountId, object.ownerAccountId))
            : [];
    const via = aclGrants(grants, credentials, aclNeed.permission, effectiveBlock(req.state.meta, bucket).ignorePublicAcls);
    acl = { on: aclNeed.on, permission: aclNeed.permission, grants, via };
    if (via !== undefined) {
      if (!policyAllows) allowedBy = 'acl-allow';
      policyAllows = true;
      if (via === 'group' && !policyNamesCaller) {
        policyNamesCaller = true;
        allowedBy = 'acl-allow';
      }
    }
  }
  if (sameAccount) {
    return decided(identity === 'Allow' ? 'identity-allow' : policyNamesCaller ? allowedBy : 'no-identity');
  }
  // Another account (whose identity side must allow too), or anonymous (no identity side).
  if (!policyAllows) return decided('no-resource');
  if (credentials && identity !== 'Allow') return decided('no-identity');
  return decided(allowedBy);
}

const ALLOWING = new Set<S3DecisionCode>(['identity-allow', 'bucket-policy-allow', 'acl-allow']);

/** The version a check names (the latest without a versionId), if it exists and is not a delete marker. */
function existingObject(req: S3Request, bucket: BucketRecord, check: AccessCheck): ObjectVersion | undefined {
  const v = lookupVersion(req, bucket.name, check.key!, check.versionId);
  return v && !v.deleteMarker ? v : undefined;
}

const REASONS: Record<DenyReason, (action: string) => string> = {
  'explicit-identity': () => 'with an explicit deny in an identity-based policy',
  'explicit-resource': () => 'with an explicit deny in a resource-based policy',
  'no-identity': (action) => `because no identity-based policy allows the ${action} action`,
  'no-resource': (action) => `because no resource-based policy allows the ${action} action`,
  'block-public-policy': () => 'because public policies are blocked by the BlockPublicPolicy block public access setting',
  'block-public-acls': () => 'because public ACLs are prevented by the BlockPublicAcls setting in S3 Block Public Access',
};

/**
 * AccessDenied as S3 words it: requests within the resource's account get the principal, the
 * action, the resource and the reason; others (another account, anonymous) only "Access Denied".
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/troubleshoot-403-errors.html#access-denied-message-examples
 */
export function accessDenied(req: S3Request, check: AccessCheck, reason: DenyReason): AccessDenied {
  const credentials = req.credentials;
  // Block Public Access refusals are decided by the handlers (the document a request sends is
  // public); the others were recorded by checkS3Access already.
  if ((reason === 'block-public-policy' || reason === 'block-public-acls') && req.decisions !== undefined) {
    const evaluation: RequestContext = {
      principal: credentials ? { arn: credentials.principalArn, accountId: credentials.accountId } : 'anonymous',
      action: check.action,
      resource: resourceArn(check),
      keys: conditionKeys(req, check),
    };
    req.decisions.push(new S3Decision({ code: reason, evaluation, identityPolicies: credentials ? (isAccountRoot(credentials.principalArn) ? undefined : (credentials.policies ?? [])) : null, parse: parsePolicyCached }));
  }
  const owner = check.bucket?.accountId ?? credentials?.accountId;
  if (!credentials || credentials.accountId !== owner) return new AccessDenied();
  return new AccessDenied(`User: ${credentials.principalArn} is not authorized to perform: ${check.action} on resource: "${resourceArn(check)}" ${REASONS[reason](check.action)}`);
}

/** Throws S3's AccessDenied unless the caller may take the action. */
export function authorize(req: S3Request, check: AccessCheck): void {
  const outcome = checkS3Access(req, check);
  if (!outcome.allowed) throw accessDenied(req, check, outcome.reason);
}

/** The operations whose x-amz-object-lock-* headers (or POST fields) are what they ask for. */
const LOCK_KEY_OPERATIONS = new Set(['PutObject', 'CopyObject', 'CreateMultipartUpload', 'PostObject', 'PutObjectRetention', 'PutObjectLegalHold']);

/**
 * The actions Object Lock headers (or a POST form's fields) add to a write: a mode or a date needs
 * s3:PutObjectRetention, a legal hold s3:PutObjectLegalHold.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock.html#object-lock-permissions
 */
export function lockActions(headers: S3Request['headers']): string[] {
  const actions: string[] = [];
  if (header(headers, 'x-amz-object-lock-mode') !== undefined || header(headers, 'x-amz-object-lock-retain-until-date') !== undefined) actions.push('s3:PutObjectRetention');
  if (header(headers, 'x-amz-object-lock-legal-hold') !== undefined) actions.push('s3:PutObjectLegalHold');
  return actions;
}

/** Headers that add an action to a write: ACL headers need s3:PutObjectAcl, tags s3:PutObjectTagging. */
function extraActions(req: S3Request): string[] {
  const extra: string[] = [];
  const hasAcl = Object.keys(req.headers).some((h) => h === 'x-amz-acl' || h.startsWith('x-amz-grant-'));
  switch (req.operation) {
    case 'PutObject':
    case 'CopyObject':
    case 'CreateMultipartUpload':
      if (hasAcl) extra.push('s3:PutObjectAcl');
      if (header(req.headers, 'x-amz-tagging') !== undefined) extra.push('s3:PutObjectTagging');
      extra.push(...lockActions(req.headers));
      break;
    case 'CreateBucket':
      // https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html (Permissions)
      if (hasAcl) extra.push('s3:PutBucketAcl');
      if (header(req.headers, 'x-amz-object-ownership') !== undefined) extra.push('s3:PutBucketOwnershipControls');
      if (header(req.headers, 'x-amz-bucket-object-lock-enabled')?.trim().toLowerCase() === 'true') extra.push('s3:PutBucketObjectLockConfiguration', 's3:PutBucketVersioning');
      break;
  }
  return extra;
}

/**
 * Authorizes a request for its operation, before its handler runs: every action the operation
 * needs (OPERATION_ACCESS), on its bucket or object. A bucket that does not exist is left to the
 * handler (NoSuchBucket). Operations authorized per item (DeleteObjects, PostObject, a copy's
 * source) check those items themselves.
 */
export function authorizeOperation(req: S3Request): void {
  const access = OPERATION_ACCESS[req.operation];
  if (!access) throw new AccessDenied();
  if (access.resource === 'none' || access.resource === 'special') return;
  const versionId = req.query.get('versionId');
  const actions = versionId !== undefined && access.versionActions ? access.versionActions : access.actions;
  const extra = extraActions(req);
  if (access.resource === 'service') {
    if (!req.credentials) refuseAnonymous(req, actions[0]!);
    // CreateBucket is decided once its body is read: s3:LocationConstraint comes from it
    // (authorizeCreateBucket, called by the handler).
    if (req.operation === 'CreateBucket') return;
    for (const action of [...actions, ...extra]) authorize(req, { action });
    return;
  }
  const bucket = req.state.meta.bucketView(req.bucket!);
  if (!bucket) return;
  // PutObjectRetention and PutObjectLegalHold are decided once their bodies are read: the Object
  // Lock condition keys come from them (authorizeObjectLockBody, called by the handlers).
  if (req.operation === 'PutObjectRetention' || req.operation === 'PutObjectLegalHold') return;
  const key = access.resource === 'object' ? req.key : undefined;
  const owner = req.credentials !== undefined && req.credentials.accountId === bucket.accountId;
  if (POLICY_OPERATIONS.has(req.operation)) {
    // The owning account's root can always manage the bucket policy, so a policy cannot lock it out.
    // https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketPolicy.html
    if (owner && isAccountRoot(req.credentials!.principalArn)) return;
    for (const action of actions) authorize(req, { action, bucket });
    // Allowed, but only identities of the owner's account may touch the policy (405).
    if (!owner) throw new MethodNotAllowed(undefined, [['Method', req.method], ['ResourceType', 'BUCKETPOLICY']]);
    return;
  }
  for (const action of actions) authorize(req, { action, bucket, key, versionId });
  for (const action of extra) authorize(req, { action, bucket, key, newObject: true });
}

/**
 * PutObjectRetention's and PutObjectLegalHold's authorization, once the body is read: `req`
 * carries the body's mode and date (or legal hold status) as the lock headers (and no others), so
 * s3:object-lock-mode, -retain-until-date, -remaining-retention-days and -legal-hold are what the
 * body asks for, never headers the client added beside it. AWS's example policy caps retention
 * this way ("Deny s3:PutObjectRetention when NumericGreaterThan
 * s3:object-lock-remaining-retention-days 10").
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock-managing.html#object-lock-managing-retention-limits
 */
export function authorizeObjectLockBody(req: S3Request, bucket: BucketRecord): void {
  const access = OPERATION_ACCESS[req.operation]!;
  const versionId = req.query.get('versionId');
  const actions = versionId !== undefined && access.versionActions ? access.versionActions : access.actions;
  for (const action of actions) authorize(req, { action, bucket, key: req.key, versionId });
}

/**
 * The request as PutObjectRetention's authorization sees it: the body's mode and date in place of
 * any lock headers the client sent.
 */
export function withRetentionKeys(req: S3Request, mode: string | undefined, retainUntil: string | undefined): S3Request {
  return withLockKeys(req, { 'x-amz-object-lock-mode': mode, 'x-amz-object-lock-retain-until-date': retainUntil });
}

/**
 * The request as PutObjectLegalHold's authorization sees it: the body's status as
 * s3:object-lock-legal-hold, in place of any lock headers the client sent (the Service
 * Authorization Reference lists the key for PutObjectLegalHold).
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html
 */
export function withLegalHoldKey(req: S3Request, status: string): S3Request {
  return withLockKeys(req, { 'x-amz-object-lock-legal-hold': status });
}

function withLockKeys(req: S3Request, values: Record<string, string | undefined>): S3Request {
  const headers = { ...req.headers };
  for (const name of ['x-amz-object-lock-mode', 'x-amz-object-lock-retain-until-date', 'x-amz-object-lock-legal-hold']) delete headers[name];
  for (const [name, value] of Object.entries(values)) if (value !== undefined) headers[name] = value;
  return { ...req, headers };
}

/**
 * Account-level operations are never anonymous: refused with "Access Denied", with the decision
 * recorded like any other (no identity-based policy can allow an anonymous caller), so the
 * request log and `sealbox explain` say why.
 */
function refuseAnonymous(req: S3Request, action: string): never {
  authorize(req, { action });
  throw new AccessDenied();
}

/**
 * CreateBucket's authorization, with the region its body asks for as s3:LocationConstraint, the
 * key of AWS's "restrict bucket creation to a Region" policies (without it a Deny on another
 * Region let every bucket through, and a Deny unless the allowed Region refused every bucket).
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/amazon-s3-policy-keys.html
 */
export function authorizeCreateBucket(req: S3Request, locationConstraint: string | undefined): void {
  if (!req.credentials) refuseAnonymous(req, OPERATION_ACCESS.CreateBucket!.actions[0]!);
  for (const action of [...OPERATION_ACCESS.CreateBucket!.actions, ...extraActions(req)]) authorize(req, { action, bucketName: req.bucket, locationConstraint });
}

/**
 * The condition keys of a request: the global ones, and the S3 ones its headers and query make
 * (a write relying on the bucket default names no encryption, so `Null` matches).
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/amazon-s3-policy-keys.html
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html
 */
export function conditionKeys(req: S3Request, check: AccessCheck): Record<string, string | string[] | undefined> {
  const c = req.credentials;
  const keys: Record<string, string | string[] | undefined> = {
    'aws:SecureTransport': String(req.secure),
    'aws:SourceIp': req.sourceIp.replace(/^::ffff:/, ''),
    'aws:CurrentTime': req.now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    'aws:EpochTime': String(Math.floor(req.now.getTime() / 1000)),
    's3:authType': req.authType,
    // "AWS" for Signature Version 2 (a legacy POST form), "AWS4-HMAC-SHA256" for SigV4.
    // https://docs.aws.amazon.com/AmazonS3/latest/API/bucket-policy-s3-sigv4-conditions.html
    's3:signatureversion': c ? (req.signatureVersion ?? 'AWS4-HMAC-SHA256') : undefined,
    // Milliseconds since a presigned URL was signed (presigned URLs only, as the page above says).
    's3:signatureAge': req.signedAt ? String(Math.max(0, req.now.getTime() - req.signedAt.getTime())) : undefined,
    // Global keys from the request's own headers: the documented referer example, and the agent.
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-referer
    'aws:Referer': header(req.headers, 'referer'),
    'aws:UserAgent': header(req.headers, 'user-agent'),
  };
  if (check.bucket) {
    keys['s3:ResourceAccount'] = check.bucket.accountId;
    keys['aws:ResourceAccount'] = check.bucket.accountId;
  }
  if (c) {
    const type = isAccountRoot(c.principalArn) ? 'Account' : /:assumed-role\//.test(c.principalArn) ? 'AssumedRole' : 'User';
    keys['aws:PrincipalArn'] = sessionRoleArn(c) ?? c.principalArn;
    keys['aws:PrincipalAccount'] = c.accountId;
    keys['aws:PrincipalType'] = type;
    keys['aws:userid'] = type === 'Account' ? c.accountId : c.accessKeyId;
    const user = /:user\/(?:.*\/)?([^/]+)$/.exec(c.principalArn);
    if (user) keys['aws:username'] = user[1];
  } else {
    keys['aws:PrincipalType'] = 'Anonymous';
  }
  for (const name of [
    'x-amz-server-side-encryption',
    'x-amz-server-side-encryption-aws-kms-key-id',
    'x-amz-server-side-encryption-customer-algorithm',
    'x-amz-acl',
    'x-amz-copy-source',
    'x-amz-metadata-directive',
    'x-amz-storage-class',
    'x-amz-content-sha256',
    'x-amz-object-ownership',
    // The ACL grant headers are condition keys of the writes that take them (PutObject,
    // PutObjectAcl, CreateBucket, PutBucketAcl, ...): a policy can require or forbid each one.
    // https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html#amazons3-policy-keys
    'x-amz-grant-read',
    'x-amz-grant-write',
    'x-amz-grant-read-acp',
    'x-amz-grant-write-acp',
    'x-amz-grant-full-control',
  ]) {
    const value = header(req.headers, name);
    if (value !== undefined) keys[`s3:${name}`] = value;
  }
  // Object Lock's condition keys, from the headers of the writes that carry them (and the bodies
  // of PutObjectRetention / PutObjectLegalHold, put in their place by withLockKeys). On any other
  // request (a DeleteObject with a bypass, say) such headers are not lock parameters: a key from
  // them would be whatever the caller chose, and could meet an Allow conditioned on it.
  // https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock-managing.html#object-lock-managing-retention-limits
  if (LOCK_KEY_OPERATIONS.has(req.operation)) {
    for (const name of ['object-lock-mode', 'object-lock-retain-until-date', 'object-lock-legal-hold']) {
      const value = header(req.headers, `x-amz-${name}`);
      if (value !== undefined) keys[`s3:${name}`] = value;
    }
    const retainUntil = header(req.headers, 'x-amz-object-lock-retain-until-date');
    if (retainUntil !== undefined) keys['s3:object-lock-remaining-retention-days'] = remainingRetentionDays(retainUntil, req.now);
  }
  for (const name of ['prefix', 'delimiter', 'max-keys']) {
    const value = req.query.get(name);
    if (value !== undefined) keys[`s3:${name}`] = value;
  }
  if (check.versionId !== undefined) keys['s3:versionid'] = check.versionId;
  if (check.locationConstraint !== undefined) keys['s3:LocationConstraint'] = check.locationConstraint;
  const tagging = header(req.headers, 'x-amz-tagging');
  if (tagging !== undefined) {
    const tags = [...new URLSearchParams(tagging)];
    keys['s3:RequestObjectTagKeys'] = tags.map(([k]) => k);
    for (const [k, v] of tags) keys[`s3:RequestObjectTag/${k}`] = v;
  }
  if (check.bucket && check.key !== undefined) {
    // s3:ExistingObjectTag/<key>: the tags of the object the request acts on, when it exists.
    const existing = existingObject(req, check.bucket, check);
    for (const tag of existing?.meta.tags ?? []) keys[`s3:ExistingObjectTag/${tag.key}`] = tag.value;
  }
  if (check.keys) Object.assign(keys, check.keys);
  return keys;
}

/**
 * POST /_sealbox/decisions/simulate on the S3 port: may this principal (an ARN, an access key id,
 * or "anonymous") take this action on this bucket or object, with these condition keys? Decided
 * by checkS3Access against the current identity policies, bucket policy, ACLs and Block Public
 * Access, as a TLS, SigV4 header-signed request would be; nothing is done or logged. The IAM
 * policy simulator's question: https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_testing-policies.html
 */
export function simulateS3(state: S3State, provider: CredentialProvider, now: Date, input: Record<string, unknown>): DecisionRecord {
  const { principal, action, resource } = input;
  if (typeof principal !== 'string' || typeof action !== 'string' || typeof resource !== 'string') {
    throw new AdminInputError(400, 'InvalidInput', 'principal (an ARN, an access key id or "anonymous"), action (s3:GetObject) and resource (arn:aws:s3:::bucket/key) are required strings');
  }
  const credentials = principal === 'anonymous' ? undefined : credentialsFor(provider, principal);
  if (principal !== 'anonymous' && !credentials) throw new AdminInputError(404, 'NotFound', `no configured principal or access key is ${JSON.stringify(principal.slice(0, 200))}`);
  const keys: Record<string, string | string[] | undefined> = {};
  if (input.context !== undefined) {
    if (typeof input.context !== 'object' || input.context === null || Array.isArray(input.context)) throw new AdminInputError(400, 'InvalidInput', 'context must be an object of condition keys: {"s3:x-amz-server-side-encryption": "aws:kms"}');
    for (const [k, v] of Object.entries(input.context as Record<string, unknown>)) {
      if (typeof v === 'string') keys[k] = v;
      else if (typeof v === 'number' || typeof v === 'boolean') keys[k] = String(v);
      else if (Array.isArray(v) && v.every((x) => typeof x === 'string')) keys[k] = v as string[];
      else throw new AdminInputError(400, 'InvalidInput', `context key ${JSON.stringify(k)} must be a string or a list of strings`);
    }
  }
  const path = resource.replace(/^arn:aws[\w-]*:s3:::/, '');
  const slash = path.indexOf('/');
  const bucketName = path === '*' || path === '' ? undefined : slash < 0 ? path : path.slice(0, slash);
  const key = bucketName !== undefined && slash >= 0 ? path.slice(slash + 1) : undefined;
  const bucket = bucketName !== undefined ? state.meta.getBucket(bucketName) : undefined;
  if (bucketName !== undefined && !bucket && !/^s3:CreateBucket$/i.test(action)) throw new AdminInputError(404, 'NotFound', `there is no bucket ${JSON.stringify(bucketName.slice(0, 80))}`);
  const req = {
    operation: 'Simulated',
    method: 'GET',
    bucket: bucketName,
    key,
    query: new Map<string, string>(),
    headers: {},
    credentials,
    authType: credentials ? 'REST-HEADER' : undefined,
    signatureVersion: credentials ? 'AWS4-HMAC-SHA256' : undefined,
    region: bucket?.region ?? 'us-east-1',
    endpointRegion: bucket?.region ?? 'us-east-1',
    state,
    secure: true,
    allowHttpSseKms: false,
    requestId: 'simulated',
    now,
    sourceIp: '127.0.0.1',
    decisions: [] as LazyDecision[],
  } as unknown as S3Request;
  checkS3Access(req, bucket ? { action, bucket, key, keys } : { action, bucketName, keys });
  return req.decisions![0]!.explain();
}

/**
 * Records a refusal by the SSE rules on transport and signature (SSE-KMS needs TLS and SigV4,
 * SSE-C TLS), which no policy can override: the request log shows it as the deciding rule.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html#aws-signature-version-4-sse-kms
 */
export function recordTransportRefusal(req: S3Request, rule: string, message: string): void {
  if (req.decisions === undefined) return;
  const arn = req.credentials?.principalArn ?? null;
  const resource = req.bucket === undefined ? 'arn:aws:s3:::*' : `arn:aws:s3:::${req.bucket}${req.key !== undefined ? `/${req.key}` : ''}`;
  req.decisions.push(
    ruleDecision({
      principal: { arn, accountId: req.credentials?.accountId ?? null, type: principalType(arn) },
      action: `s3:${req.operation}`,
      resource,
      context: { 'aws:SecureTransport': [String(req.secure)], ...(req.credentials ? { 's3:signatureversion': [req.signatureVersion ?? 'AWS4-HMAC-SHA256'] } : {}) },
      reason: { code: 'transport', text: `${rule}: ${message}`, source: 'transport' },
      sources: [{ source: 'transport', name: rule, decision: 'Deny', statements: [], text: message }],
    }),
  );
}
