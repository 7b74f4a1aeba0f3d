// S3's authorization decision (packages/s3/src/authorization.ts, actions.ts, acl.ts,
// public-policy.ts) on its own, as tables: identity policies, the bucket policy, ACLs, Block
// Public Access, anonymous and cross-account callers, the denial messages, the condition keys,
// and which actions each operation asks for. The end-to-end suites drive the same code through
// the SDK; these cases pin each branch for the unit-level mutation run (`npm run mutate -- s3`).
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/how-s3-evaluates-access-control.html
import { parsePolicy, parsePolicyCached as parsedPolicy } from '@sealbox/policy';
import type { Credentials } from '@sealbox/sigv4';
import { ALL_USERS, AUTHENTICATED_USERS, LOG_DELIVERY, aclGrants, aclPermission, cannedGrants, type Grant } from '../src/acl';
import { OPERATION_ACCESS, POLICY_OPERATIONS } from '../src/actions';
import {
  accessDenied, authorize, authorizeCreateBucket, authorizeObjectLockBody, authorizeOperation, withLegalHoldKey, withRetentionKeys, checkS3Access, conditionKeys, resourceArn, type AccessCheck,
} from '../src/authorization';
import type { S3Request } from '../src/context';
import { AccessDenied, MethodNotAllowed } from '../src/errors';
import { canonicalUserId } from '../src/owner';
import { effectiveBlock, isPublicPolicy } from '../src/public-policy';
import type { BucketRecord, ObjectVersion, PublicAccessBlock } from '../src/store/model';

const OWNER = '111122223333';
const OTHER = '444455556666';
const root: Credentials = { accessKeyId: 'AKROOT', secretAccessKey: 's', accountId: OWNER, principalArn: `arn:aws:iam::${OWNER}:root` };
const alice: Credentials = { accessKeyId: 'AKALICE', secretAccessKey: 's', accountId: OWNER, principalArn: `arn:aws:iam::${OWNER}:user/dev/alice`, policies: [] };
const eve: Credentials = { accessKeyId: 'AKEVE', secretAccessKey: 's', accountId: OTHER, principalArn: `arn:aws:iam::${OTHER}:user/eve`, policies: [] };
const otherRoot: Credentials = { accessKeyId: 'AKOROOT', secretAccessKey: 's', accountId: OTHER, principalArn: `arn:aws:iam::${OTHER}:root` };
const session: Credentials = {
  accessKeyId: 'ASIA1', secretAccessKey: 's', accountId: OWNER, sessionToken: 't',
  principalArn: `arn:aws:sts::${OWNER}:assumed-role/app/s1`, roleArn: `arn:aws:iam::${OWNER}:role/app`, policies: [],
};

const doc = (...Statement: object[]) => JSON.stringify({ Version: '2012-10-17', Statement });
const stmt = (effect: 'Allow' | 'Deny', principal: unknown, action: string | string[] = 's3:*', resource: string | string[] = ['arn:aws:s3:::data', 'arn:aws:s3:::data/*'], extra: object = {}) =>
  ({ Effect: effect, Principal: principal, Action: action, Resource: resource, ...extra });
const identity = (effect: 'Allow' | 'Deny', action: string | string[], resource = '*', extra: object = {}) => doc({ Effect: effect, Action: action, Resource: resource, ...extra });
const withPolicies = (c: Credentials, ...policies: string[]): Credentials => ({ ...c, policies });

interface World {
  bucket?: Partial<BucketRecord>;
  objects?: Partial<ObjectVersion>[];
  accountBlock?: PublicAccessBlock;
}

function bucketRecord(overrides: Partial<BucketRecord> = {}): BucketRecord {
  return { name: 'data', accountId: OWNER, region: 'us-east-1', creationDate: 0, objectOwnership: 'BucketOwnerEnforced', ...overrides } as BucketRecord;
}

function request(credentials: Credentials | undefined, world: World = {}, overrides: Partial<S3Request> = {}): S3Request {
  const bucket = bucketRecord(world.bucket);
  const objects = (world.objects ?? []).map((o) => ({ bucket: 'data', versionId: 'null', deleteMarker: false, ownerAccountId: OWNER, meta: {}, ...o }) as ObjectVersion);
  const meta = {
    getBucket: (name: string) => (name === bucket.name ? bucket : undefined),
    bucketView: (name: string) => (name === bucket.name ? bucket : undefined),
    objectsGeneration: 0,
    getAccount: (id: string) => (id === OWNER ? { publicAccessBlock: world.accountBlock } : {}),
    latest: (b: string, key: string) => objects.filter((o) => o.bucket === b && o.key === key).at(-1),
    latestView: (b: string, key: string) => objects.filter((o) => o.bucket === b && o.key === key).at(-1),
    version: (b: string, key: string, versionId: string) => objects.find((o) => o.bucket === b && o.key === key && o.versionId === versionId),
  };
  return {
    operation: 'GetObject', method: 'GET', bucket: 'data', key: 'notes.txt', query: new Map(), headers: {},
    credentials, region: 'us-east-1', endpointRegion: 'us-east-1', secure: true, allowHttpSseKms: false,
    requestId: 'r', now: new Date('2026-11-27T10:00:00.456Z'), sourceIp: '::ffff:10.0.0.7', authType: 'REST-HEADER',
    state: { meta } as unknown as S3Request['state'],
    ...overrides,
  } as S3Request;
}

/** The decision for one action on the bucket "data" (and its object notes.txt when `key`). */
function decide(credentials: Credentials | undefined, action: string, world: World = {}, check: Partial<AccessCheck> = {}, req: Partial<S3Request> = {}) {
  const r = request(credentials, world, req);
  return checkS3Access(r, { action, bucket: r.state.meta.getBucket('data'), key: action.includes('Object') ? 'notes.txt' : undefined, ...check });
}

const ALLOWED = { allowed: true };
const denied = (reason: string) => ({ allowed: false, reason });

describe('checkS3Access: identity policies and the bucket policy', () => {
  const rows: [string, Credentials | undefined, string, World, object][] = [
    ['the owner root, no policy', root, 's3:GetObject', {}, ALLOWED],
    ['a user without policies', alice, 's3:GetObject', {}, denied('no-identity')],
    ['a user whose identity policy allows', withPolicies(alice, identity('Allow', 's3:GetObject')), 's3:GetObject', {}, ALLOWED],
    ['a user whose identity policy allows another action', withPolicies(alice, identity('Allow', 's3:PutObject')), 's3:GetObject', {}, denied('no-identity')],
    ['a user whose identity policy allows another bucket', withPolicies(alice, identity('Allow', 's3:GetObject', 'arn:aws:s3:::other/*')), 's3:GetObject', {}, denied('no-identity')],
    ['an identity deny after an allow', withPolicies(alice, identity('Allow', 's3:*'), identity('Deny', 's3:GetObject')), 's3:GetObject', {}, denied('explicit-identity')],
    ['an identity deny before an allow', withPolicies(alice, identity('Deny', 's3:GetObject'), identity('Allow', 's3:*')), 's3:GetObject', {}, denied('explicit-identity')],
    ['a bucket policy naming the user', alice, 's3:GetObject', { bucket: { policy: doc(stmt('Allow', { AWS: alice.principalArn }, 's3:GetObject')) } }, ALLOWED],
    ['a bucket policy naming the user, another action', alice, 's3:PutObject', { bucket: { policy: doc(stmt('Allow', { AWS: alice.principalArn }, 's3:GetObject')) } }, denied('no-identity')],
    ['a bucket policy naming only the account', alice, 's3:GetObject', { bucket: { policy: doc(stmt('Allow', { AWS: `arn:aws:iam::${OWNER}:root` })) } }, denied('no-identity')],
    ['a bucket policy naming the account, identity allows', withPolicies(alice, identity('Allow', 's3:GetObject')), 's3:GetObject', { bucket: { policy: doc(stmt('Allow', { AWS: `arn:aws:iam::${OWNER}:root` })) } }, ALLOWED],
    ['a bucket policy for everyone', alice, 's3:GetObject', { bucket: { policy: doc(stmt('Allow', '*', 's3:GetObject')) } }, ALLOWED],
    ['a bucket policy for AWS "*"', alice, 's3:GetObject', { bucket: { policy: doc(stmt('Allow', { AWS: '*' }, 's3:GetObject')) } }, ALLOWED],
    ['a bucket policy naming the role of a session', session, 's3:GetObject', { bucket: { policy: doc(stmt('Allow', { AWS: session.roleArn })) } }, ALLOWED],
    ['a bucket policy naming another role', session, 's3:GetObject', { bucket: { policy: doc(stmt('Allow', { AWS: `arn:aws:iam::${OWNER}:role/other` })) } }, denied('no-identity')],
    ['a bucket policy deny beats the root', root, 's3:GetObject', { bucket: { policy: doc(stmt('Deny', '*', 's3:GetObject')) } }, denied('explicit-resource')],
    ['a bucket policy deny beats an identity allow', withPolicies(alice, identity('Allow', 's3:*')), 's3:GetObject', { bucket: { policy: doc(stmt('Deny', { AWS: alice.principalArn }, 's3:GetObject')) } }, denied('explicit-resource')],
    ['an identity deny is reported before the bucket policy deny', withPolicies(alice, identity('Deny', 's3:*')), 's3:GetObject', { bucket: { policy: doc(stmt('Deny', '*')) } }, denied('explicit-identity')],
    // Another account: both sides.
    ['another account, no bucket policy', withPolicies(eve, identity('Allow', 's3:*')), 's3:GetObject', {}, denied('no-resource')],
    ['another account, bucket policy names it, no identity policy', eve, 's3:GetObject', { bucket: { policy: doc(stmt('Allow', { AWS: eve.principalArn })) } }, denied('no-identity')],
    ['another account, both allow', withPolicies(eve, identity('Allow', 's3:GetObject')), 's3:GetObject', { bucket: { policy: doc(stmt('Allow', { AWS: `arn:aws:iam::${OTHER}:root` })) } }, ALLOWED],
    ['another account\'s root, bucket policy names its account', otherRoot, 's3:GetObject', { bucket: { policy: doc(stmt('Allow', { AWS: OTHER })) } }, ALLOWED],
    ['another account\'s root, bucket policy names nobody of it', otherRoot, 's3:GetObject', { bucket: { policy: doc(stmt('Allow', { AWS: alice.principalArn })) } }, denied('no-resource')],
    // Anonymous: the bucket policy alone.
    ['anonymous, no bucket policy', undefined, 's3:GetObject', {}, denied('no-resource')],
    ['anonymous, public bucket policy', undefined, 's3:GetObject', { bucket: { policy: doc(stmt('Allow', '*', 's3:GetObject')) } }, ALLOWED],
    ['anonymous, bucket policy for another action', undefined, 's3:PutObject', { bucket: { policy: doc(stmt('Allow', '*', 's3:GetObject')) } }, denied('no-resource')],
    // RestrictPublicBuckets: a public policy grants only to the owner's account.
    ['RestrictPublicBuckets on the bucket: anonymous', undefined, 's3:GetObject', { bucket: { policy: doc(stmt('Allow', '*', 's3:GetObject')), publicAccessBlock: { restrictPublicBuckets: true } as PublicAccessBlock } }, denied('no-resource')],
    ['RestrictPublicBuckets on the account: anonymous', undefined, 's3:GetObject', { bucket: { policy: doc(stmt('Allow', '*', 's3:GetObject')) }, accountBlock: { restrictPublicBuckets: true } as PublicAccessBlock }, denied('no-resource')],
    ['RestrictPublicBuckets: another account', withPolicies(eve, identity('Allow', 's3:*')), 's3:GetObject', { bucket: { policy: doc(stmt('Allow', '*', 's3:GetObject')), publicAccessBlock: { restrictPublicBuckets: true } as PublicAccessBlock } }, denied('no-resource')],
    ['RestrictPublicBuckets: the owner\'s user still', alice, 's3:GetObject', { bucket: { policy: doc(stmt('Allow', '*', 's3:GetObject')), publicAccessBlock: { restrictPublicBuckets: true } as PublicAccessBlock } }, ALLOWED],
    ['RestrictPublicBuckets: a non-public policy still grants', withPolicies(eve, identity('Allow', 's3:*')), 's3:GetObject', { bucket: { policy: doc(stmt('Allow', { AWS: eve.principalArn }, 's3:GetObject')), publicAccessBlock: { restrictPublicBuckets: true } as PublicAccessBlock } }, ALLOWED],
    ['other Block Public Access settings do not restrict', undefined, 's3:GetObject', { bucket: { policy: doc(stmt('Allow', '*', 's3:GetObject')), publicAccessBlock: { blockPublicAcls: true, ignorePublicAcls: true, blockPublicPolicy: true, restrictPublicBuckets: false } } }, ALLOWED],
  ];
  it.each(rows)('%s', (_, who, action, world, expected) => {
    expect(decide(who, action, world)).toEqual(expected);
  });

  it('decides account-level actions and new buckets by identity policies alone', () => {
    const r = (c: Credentials | undefined) => request(c);
    expect(checkS3Access(r(root), { action: 's3:ListAllMyBuckets' })).toEqual(ALLOWED);
    expect(checkS3Access(r(otherRoot), { action: 's3:CreateBucket', bucketName: 'new' })).toEqual(ALLOWED);
    expect(checkS3Access(r(alice), { action: 's3:ListAllMyBuckets' })).toEqual(denied('no-identity'));
    expect(checkS3Access(r(undefined), { action: 's3:ListAllMyBuckets' })).toEqual(denied('no-identity'));
    expect(checkS3Access(r(withPolicies(alice, identity('Allow', 's3:CreateBucket', 'arn:aws:s3:::new'))), { action: 's3:CreateBucket', bucketName: 'new' })).toEqual(ALLOWED);
    expect(checkS3Access(r(withPolicies(alice, identity('Allow', 's3:CreateBucket', 'arn:aws:s3:::new'))), { action: 's3:CreateBucket', bucketName: 'old' })).toEqual(denied('no-identity'));
    expect(checkS3Access(r(withPolicies(alice, identity('Allow', 's3:*'), identity('Deny', 's3:CreateBucket'))), { action: 's3:CreateBucket', bucketName: 'new' })).toEqual(denied('explicit-identity'));
  });
});

describe('checkS3Access: ACLs (buckets whose ownership setting honours them)', () => {
  const aclBucket = (acl?: Grant[], extra: Partial<BucketRecord> = {}): World['bucket'] => ({ objectOwnership: 'ObjectWriter', acl, ...extra });
  const publicRead = cannedGrants('public-read', OWNER, OWNER);

  it('grants nothing through ACLs when the bucket enforces ownership', () => {
    expect(decide(undefined, 's3:ListBucket', { bucket: { objectOwnership: 'BucketOwnerEnforced', acl: publicRead } })).toEqual(denied('no-resource'));
    expect(decide(undefined, 's3:ListBucket', { bucket: { objectOwnership: undefined, acl: publicRead } })).toEqual(ALLOWED);
  });

  it('a public-read bucket ACL lets anyone list, not write', () => {
    expect(decide(undefined, 's3:ListBucket', { bucket: aclBucket(publicRead) })).toEqual(ALLOWED);
    expect(decide(eve, 's3:ListBucket', { bucket: aclBucket(publicRead) })).toEqual(denied('no-identity'));
    expect(decide(withPolicies(eve, identity('Allow', 's3:ListBucket')), 's3:ListBucket', { bucket: aclBucket(publicRead) })).toEqual(ALLOWED);
    expect(decide(alice, 's3:ListBucket', { bucket: aclBucket(publicRead) })).toEqual(ALLOWED);
    expect(decide(undefined, 's3:PutObject', { bucket: aclBucket(publicRead) })).toEqual(denied('no-resource'));
  });

  it('IgnorePublicAcls drops public grants', () => {
    expect(decide(undefined, 's3:ListBucket', { bucket: aclBucket(publicRead, { publicAccessBlock: { ignorePublicAcls: true } as PublicAccessBlock }) })).toEqual(denied('no-resource'));
    expect(decide(undefined, 's3:ListBucket', { bucket: aclBucket(publicRead), accountBlock: { ignorePublicAcls: true } as PublicAccessBlock })).toEqual(denied('no-resource'));
  });

  it('a bucket ACL grant to another account hands the decision to that account\'s policies', () => {
    const acl = [...cannedGrants('private', OWNER, OWNER), { grantee: { type: 'CanonicalUser', id: canonicalUserId(OTHER) }, permission: 'WRITE' } as Grant];
    expect(decide(eve, 's3:PutObject', { bucket: aclBucket(acl) }, { newObject: true })).toEqual(denied('no-identity'));
    expect(decide(withPolicies(eve, identity('Allow', 's3:PutObject')), 's3:PutObject', { bucket: aclBucket(acl) })).toEqual(ALLOWED);
    expect(decide(withPolicies(eve, identity('Allow', 's3:GetBucketAcl')), 's3:GetBucketAcl', { bucket: aclBucket(acl) })).toEqual(denied('no-resource'));
  });

  it('without a stored ACL the bucket owner alone has FULL_CONTROL', () => {
    expect(decide(otherRoot, 's3:ListBucket', { bucket: aclBucket(undefined) })).toEqual(denied('no-resource'));
    expect(decide(alice, 's3:ListBucket', { bucket: aclBucket(undefined) })).toEqual(denied('no-identity'));
    expect(decide(withPolicies(alice, identity('Allow', 's3:ListBucket')), 's3:ListBucket', { bucket: aclBucket(undefined) })).toEqual(ALLOWED);
  });

  it('an object another account wrote is decided by its owner and its ACL', () => {
    const objects = [{ key: 'notes.txt', ownerAccountId: OTHER, meta: {} as ObjectVersion['meta'] }];
    const world = { bucket: aclBucket(undefined, { policy: doc(stmt('Allow', '*', 's3:GetObject')) }), objects };
    // The object's owner (the writer's account) holds it: its users need their own policies only.
    expect(decide(withPolicies(eve, identity('Allow', 's3:GetObject')), 's3:GetObject', world)).toEqual(ALLOWED);
    expect(decide(eve, 's3:GetObject', world)).toEqual(denied('no-identity'));
    // The bucket owner's policy cannot grant it to the bucket owner's users...
    expect(decide(alice, 's3:GetObject', world)).toEqual(denied('no-resource'));
    // ...but can deny it.
    const denying = { ...world, bucket: aclBucket(undefined, { policy: doc(stmt('Deny', '*', 's3:GetObject')) }) };
    expect(decide(withPolicies(eve, identity('Allow', 's3:GetObject')), 's3:GetObject', denying)).toEqual(denied('explicit-resource'));
    // The object's ACL can grant it to the bucket owner.
    const shared = [{ key: 'notes.txt', ownerAccountId: OTHER, meta: { acl: cannedGrants('bucket-owner-read', OTHER, OWNER) } as ObjectVersion['meta'] }];
    expect(decide(withPolicies(alice, identity('Allow', 's3:GetObject')), 's3:GetObject', { bucket: aclBucket(undefined), objects: shared })).toEqual(ALLOWED);
  });

  it('looks at the version named, and a delete marker is no object', () => {
    const objects = [
      { key: 'notes.txt', versionId: 'v1', ownerAccountId: OTHER, meta: {} as ObjectVersion['meta'] },
      { key: 'notes.txt', versionId: 'v2', ownerAccountId: OWNER, meta: {} as ObjectVersion['meta'] },
    ];
    const world = { bucket: aclBucket(undefined), objects };
    const reader = withPolicies(eve, identity('Allow', 's3:GetObject*'));
    expect(decide(reader, 's3:GetObjectVersion', world, { versionId: 'v1' })).toEqual(ALLOWED);
    expect(decide(reader, 's3:GetObjectVersion', world, { versionId: 'v2' })).toEqual(denied('no-resource'));
    expect(decide(reader, 's3:GetObject', world)).toEqual(denied('no-resource'));
    const marker = { bucket: aclBucket(undefined), objects: [{ key: 'notes.txt', ownerAccountId: OTHER, deleteMarker: true, meta: {} as ObjectVersion['meta'] }] };
    expect(decide(reader, 's3:GetObject', marker)).toEqual(denied('no-resource'));
  });

  it('a public-read object ACL lets anyone read the object', () => {
    const objects = [{ key: 'notes.txt', ownerAccountId: OWNER, meta: { acl: cannedGrants('public-read', OWNER, OWNER) } as ObjectVersion['meta'] }];
    expect(decide(undefined, 's3:GetObject', { bucket: aclBucket(undefined), objects })).toEqual(ALLOWED);
    expect(decide(undefined, 's3:GetObjectAcl', { bucket: aclBucket(undefined), objects })).toEqual(denied('no-resource'));
    expect(decide(undefined, 's3:GetObject', { bucket: aclBucket(undefined), objects: [] })).toEqual(denied('no-resource'));
  });

  it('a new object\'s ACL action is the writer\'s own (private to the writer)', () => {
    const objects = [{ key: 'notes.txt', ownerAccountId: OWNER, meta: {} as ObjectVersion['meta'] }];
    const acl = [...cannedGrants('private', OWNER, OWNER), { grantee: { type: 'CanonicalUser', id: canonicalUserId(OTHER) }, permission: 'WRITE' } as Grant];
    const writer = withPolicies(eve, identity('Allow', 's3:PutObject*'));
    expect(decide(writer, 's3:PutObjectAcl', { bucket: aclBucket(acl), objects }, { newObject: true })).toEqual(ALLOWED);
    expect(decide(writer, 's3:PutObjectAcl', { bucket: aclBucket(acl), objects })).toEqual(denied('no-resource'));
    expect(decide(undefined, 's3:PutObjectAcl', { bucket: aclBucket(cannedGrants('public-read-write', OWNER, OWNER)), objects }, { newObject: true })).toEqual(denied('no-resource'));
  });
});

describe('ACL helpers', () => {
  it('aclPermission maps each action to the ACL permission S3 documents, case-insensitively', () => {
    const table: [string, unknown][] = [
      ['s3:ListBucket', { on: 'bucket', permission: 'READ' }], ['s3:ListBucketVersions', { on: 'bucket', permission: 'READ' }],
      ['s3:ListBucketMultipartUploads', { on: 'bucket', permission: 'READ' }], ['s3:PutObject', { on: 'bucket', permission: 'WRITE' }],
      ['s3:DeleteObject', { on: 'bucket', permission: 'WRITE' }], ['s3:DeleteObjectVersion', { on: 'bucket', permission: 'WRITE' }],
      ['s3:GetBucketAcl', { on: 'bucket', permission: 'READ_ACP' }], ['s3:PutBucketAcl', { on: 'bucket', permission: 'WRITE_ACP' }],
      ['s3:GetObject', { on: 'object', permission: 'READ' }], ['s3:GetObjectVersion', { on: 'object', permission: 'READ' }],
      ['s3:GetObjectAcl', { on: 'object', permission: 'READ_ACP' }], ['s3:GetObjectVersionAcl', { on: 'object', permission: 'READ_ACP' }],
      ['s3:PutObjectAcl', { on: 'object', permission: 'WRITE_ACP' }], ['s3:PutObjectVersionAcl', { on: 'object', permission: 'WRITE_ACP' }],
      ['S3:GETOBJECT', { on: 'object', permission: 'READ' }], ['s3:GetObjectTagging', undefined], ['s3:DeleteBucket', undefined],
    ];
    for (const [action, expected] of table) expect([action, aclPermission(action)]).toEqual([action, expected]);
  });

  it('aclGrants: groups name the caller, the caller\'s account hands over, FULL_CONTROL covers all', () => {
    const to = (id: string, permission: Grant['permission']): Grant => ({ grantee: { type: 'CanonicalUser', id: canonicalUserId(id) }, permission });
    const toGroup = (uri: string, permission: Grant['permission']): Grant => ({ grantee: { type: 'Group', uri }, permission });
    const caller = { accountId: OTHER };
    expect(aclGrants([toGroup(ALL_USERS, 'READ')], undefined, 'READ', false)).toBe('group');
    expect(aclGrants([toGroup(ALL_USERS, 'READ')], undefined, 'READ', true)).toBeUndefined();
    expect(aclGrants([toGroup(AUTHENTICATED_USERS, 'READ')], caller, 'READ', false)).toBe('group');
    expect(aclGrants([toGroup(AUTHENTICATED_USERS, 'READ')], undefined, 'READ', false)).toBeUndefined();
    expect(aclGrants([toGroup(AUTHENTICATED_USERS, 'READ')], caller, 'READ', true)).toBeUndefined();
    expect(aclGrants([toGroup(LOG_DELIVERY, 'READ')], caller, 'READ', false)).toBeUndefined();
    expect(aclGrants([toGroup(LOG_DELIVERY, 'WRITE')], caller, 'WRITE', true)).toBeUndefined();
    expect(aclGrants([to(OTHER, 'READ')], caller, 'READ', true)).toBe('account');
    expect(aclGrants([to(OTHER, 'FULL_CONTROL')], caller, 'WRITE_ACP', false)).toBe('account');
    expect(aclGrants([to(OTHER, 'READ')], caller, 'WRITE', false)).toBeUndefined();
    expect(aclGrants([to(OWNER, 'FULL_CONTROL')], caller, 'READ', false)).toBeUndefined();
    expect(aclGrants([to(OTHER, 'READ')], undefined, 'READ', false)).toBeUndefined();
    // A group grant after an account grant still names the caller.
    expect(aclGrants([to(OTHER, 'READ'), toGroup(ALL_USERS, 'FULL_CONTROL')], caller, 'READ', false)).toBe('group');
    expect(aclGrants([toGroup(ALL_USERS, 'WRITE'), to(OTHER, 'READ')], caller, 'READ', false)).toBe('account');
  });

  it('cannedGrants gives each canned ACL its documented grants', () => {
    const u = (id: string, permission: string) => ({ grantee: { type: 'CanonicalUser', id: canonicalUserId(id) }, permission });
    const g = (uri: string, permission: string) => ({ grantee: { type: 'Group', uri }, permission });
    expect(cannedGrants('private', OTHER, OWNER)).toEqual([u(OTHER, 'FULL_CONTROL')]);
    expect(cannedGrants('public-read', OTHER, OWNER)).toEqual([u(OTHER, 'FULL_CONTROL'), g(ALL_USERS, 'READ')]);
    expect(cannedGrants('public-read-write', OTHER, OWNER)).toEqual([u(OTHER, 'FULL_CONTROL'), g(ALL_USERS, 'READ'), g(ALL_USERS, 'WRITE')]);
    expect(cannedGrants('authenticated-read', OTHER, OWNER)).toEqual([u(OTHER, 'FULL_CONTROL'), g(AUTHENTICATED_USERS, 'READ')]);
    expect(cannedGrants('bucket-owner-read', OTHER, OWNER)).toEqual([u(OTHER, 'FULL_CONTROL'), u(OWNER, 'READ')]);
    expect(cannedGrants('bucket-owner-read', OWNER, OWNER)).toEqual([u(OWNER, 'FULL_CONTROL')]);
    expect(cannedGrants('bucket-owner-full-control', OTHER, OWNER)).toEqual([u(OTHER, 'FULL_CONTROL'), u(OWNER, 'FULL_CONTROL')]);
    expect(cannedGrants('bucket-owner-full-control', OWNER, OWNER)).toEqual([u(OWNER, 'FULL_CONTROL')]);
    expect(cannedGrants('log-delivery-write', OWNER, OWNER)).toEqual([u(OWNER, 'FULL_CONTROL'), g(LOG_DELIVERY, 'WRITE'), g(LOG_DELIVERY, 'READ_ACP')]);
    expect(cannedGrants('aws-exec-read', OWNER, OWNER)).toEqual([u(OWNER, 'FULL_CONTROL')]);
  });
});

describe('public bucket policies (Block Public Access)', () => {
  const pub = (statement: object) => isPublicPolicy(parsePolicy(doc(statement), 'resource'));
  const allowAll = (extra: object = {}) => ({ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::data/*', ...extra });
  const rows: [string, object, boolean][] = [
    ['Principal "*"', allowAll(), true],
    ['Principal AWS "*"', allowAll({ Principal: { AWS: '*' } }), true],
    ['Principal AWS "*" beside an account', allowAll({ Principal: { AWS: [OTHER, '*'] } }), true],
    ['one account', allowAll({ Principal: { AWS: OTHER } }), false],
    ['a Deny for everyone', { ...allowAll(), Effect: 'Deny' }, false],
    ['NotPrincipal', { Effect: 'Allow', NotPrincipal: { AWS: OTHER }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::data/*' }, true],
    ['pinned to a source account', allowAll({ Condition: { StringEquals: { 'aws:SourceAccount': OTHER } } }), false],
    ['pinned with a case-insensitive key name', allowAll({ Condition: { StringEquals: { 'AWS:SOURCEACCOUNT': OTHER } } }), false],
    ['pinned with ForAnyValue:', allowAll({ Condition: { 'ForAnyValue:StringEquals': { 'aws:PrincipalOrgID': 'o-123' } } }), false],
    ['pinned by StringLike without wildcards', allowAll({ Condition: { StringLike: { 'aws:SourceArn': 'arn:aws:sns:us-east-1:1:t' } } }), false],
    ['StringLike with a wildcard', allowAll({ Condition: { StringLike: { 'aws:SourceArn': 'arn:aws:sns:*' } } }), true],
    ['StringLike with ?', allowAll({ Condition: { StringLike: { 'aws:SourceArn': 'arn:aws:sns:us-east-?' } } }), true],
    ['a policy variable', allowAll({ Condition: { StringEquals: { 'aws:userid': '${aws:username}' } } }), true],
    ['a negated operator', allowAll({ Condition: { StringNotEquals: { 'aws:SourceAccount': OTHER } } }), true],
    ['IfExists', allowAll({ Condition: { StringEqualsIfExists: { 'aws:SourceAccount': OTHER } } }), true],
    ['a key that does not narrow', allowAll({ Condition: { StringEquals: { 's3:prefix': 'home/' } } }), true],
    ['an IPv4 /8', allowAll({ Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } }), false],
    ['an IPv4 /7', allowAll({ Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/7' } } }), true],
    ['an IPv6 /32', allowAll({ Condition: { IpAddress: { 'aws:SourceIp': '2001:db8::/32' } } }), false],
    ['an IPv6 /31', allowAll({ Condition: { IpAddress: { 'aws:SourceIp': '2001:db8::/31' } } }), true],
    ['an IPv4 /16 among /0', allowAll({ Condition: { IpAddress: { 'aws:SourceIp': ['10.1.0.0/16', '0.0.0.0/0'] } } }), true],
    ['NotIpAddress', allowAll({ Condition: { NotIpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } }), true],
    ['ArnEquals on aws:SourceArn', allowAll({ Condition: { ArnEquals: { 'aws:SourceArn': 'arn:aws:sns:us-east-1:111122223333:t' } } }), false],
    ['ArnLike with a wildcard', allowAll({ Condition: { ArnLike: { 'aws:SourceArn': 'arn:aws:sns:us-east-1:*:t' } } }), true],
    ['StringEqualsIgnoreCase on aws:PrincipalAccount', allowAll({ Condition: { StringEqualsIgnoreCase: { 'aws:PrincipalAccount': OTHER } } }), false],
  ];
  it.each(rows)('%s', (_, statement, expected) => {
    expect(pub(statement)).toBe(expected);
  });

  it('a policy is public when any of its statements is', () => {
    expect(isPublicPolicy(parsePolicy(doc(allowAll({ Principal: { AWS: OTHER } }), allowAll()), 'resource'))).toBe(true);
    expect(isPublicPolicy(parsePolicy(doc(allowAll({ Principal: { AWS: OTHER } })), 'resource'))).toBe(false);
  });

  it('effectiveBlock turns each setting on from the bucket or the account', () => {
    const settings = ['blockPublicAcls', 'ignorePublicAcls', 'blockPublicPolicy', 'restrictPublicBuckets'] as const;
    const off = { blockPublicAcls: false, ignorePublicAcls: false, blockPublicPolicy: false, restrictPublicBuckets: false };
    const r = request(alice, {});
    expect(effectiveBlock(r.state.meta, bucketRecord())).toEqual(off);
    for (const s of settings) {
      const fromBucket = request(alice, {});
      expect(effectiveBlock(fromBucket.state.meta, bucketRecord({ publicAccessBlock: { ...off, [s]: true } }))).toEqual({ ...off, [s]: true });
      const fromAccount = request(alice, { accountBlock: { ...off, [s]: true } });
      expect(effectiveBlock(fromAccount.state.meta, bucketRecord())).toEqual({ ...off, [s]: true });
    }
  });
});

describe('denial messages', () => {
  const bucket = bucketRecord();
  it('name the principal, action, resource and reason within the account', () => {
    const req = request(alice);
    const check = { action: 's3:GetObject', bucket, key: 'a/b.txt' };
    const cases: [Parameters<typeof accessDenied>[2], string][] = [
      ['explicit-identity', 'with an explicit deny in an identity-based policy'],
      ['explicit-resource', 'with an explicit deny in a resource-based policy'],
      ['no-identity', 'because no identity-based policy allows the s3:GetObject action'],
      ['no-resource', 'because no resource-based policy allows the s3:GetObject action'],
      ['block-public-policy', 'because public policies are blocked by the BlockPublicPolicy block public access setting'],
      ['block-public-acls', 'because public ACLs are prevented by the BlockPublicAcls setting in S3 Block Public Access'],
    ];
    for (const [reason, why] of cases) {
      const error = accessDenied(req, check, reason);
      expect(error).toBeInstanceOf(AccessDenied);
      expect(error.message).toBe(`User: ${alice.principalArn} is not authorized to perform: s3:GetObject on resource: "arn:aws:s3:::data/a/b.txt" ${why}`);
    }
  });

  it('say only "Access Denied" to another account and to anonymous callers', () => {
    expect(accessDenied(request(eve), { action: 's3:GetObject', bucket }, 'no-resource').message).toBe('Access Denied');
    expect(accessDenied(request(undefined), { action: 's3:GetObject', bucket }, 'no-resource').message).toBe('Access Denied');
    // Account-level actions are the caller's own account.
    expect(accessDenied(request(eve), { action: 's3:ListAllMyBuckets' }, 'no-identity').message).toBe(`User: ${eve.principalArn} is not authorized to perform: s3:ListAllMyBuckets on resource: "arn:aws:s3:::*" because no identity-based policy allows the s3:ListAllMyBuckets action`);
  });

  it('resourceArn: the object, the bucket, a bucket to be, or every bucket', () => {
    expect(resourceArn({ action: 'x', bucket, key: 'k' })).toBe('arn:aws:s3:::data/k');
    expect(resourceArn({ action: 'x', bucket, key: '' })).toBe('arn:aws:s3:::data/');
    expect(resourceArn({ action: 'x', bucket })).toBe('arn:aws:s3:::data');
    expect(resourceArn({ action: 'x', bucketName: 'new' })).toBe('arn:aws:s3:::new');
    expect(resourceArn({ action: 'x' })).toBe('arn:aws:s3:::*');
  });

  it('authorize throws the denial and returns when allowed', () => {
    expect(() => authorize(request(alice), { action: 's3:GetObject', bucket, key: 'k' })).toThrow(AccessDenied);
    expect(authorize(request(root), { action: 's3:GetObject', bucket, key: 'k' })).toBeUndefined();
  });
});

describe('authorizeOperation: the actions each operation needs', () => {
  /** The actions checked for a request, recorded through identity policies that allow only those. */
  function run(operation: string, who: Credentials | undefined, opts: { query?: [string, string][]; headers?: Record<string, string>; key?: string; world?: World; method?: string } = {}) {
    const req = request(who, opts.world ?? {}, { operation, method: opts.method ?? 'GET', key: opts.key, query: new Map(opts.query ?? []), headers: opts.headers ?? {} });
    return () => authorizeOperation(req);
  }
  const only = (...actions: string[]) => withPolicies(alice, identity('Allow', actions));

  it('every operation has a row, and unknown operations are refused', () => {
    expect(() => run('NoSuchOperation', root)()).toThrow(AccessDenied);
    expect(OPERATION_ACCESS.GetObject).toEqual({ resource: 'object', actions: ['s3:GetObject'], versionActions: ['s3:GetObjectVersion'] });
    expect([...POLICY_OPERATIONS].sort()).toEqual(['DeleteBucketPolicy', 'GetBucketPolicy', 'PutBucketPolicy']);
  });

  it('special and none operations are left to their handlers', () => {
    expect(run('PostObject', undefined)).not.toThrow();
    expect(run('DeleteObjects', undefined)).not.toThrow();
    expect(run('PreflightRequest', undefined)).not.toThrow();
  });

  it('service operations need credentials and the identity side', () => {
    expect(run('ListBuckets', undefined)).toThrow(AccessDenied);
    expect(run('ListBuckets', alice)).toThrow(AccessDenied);
    expect(run('ListBuckets', only('s3:ListAllMyBuckets'))).not.toThrow();
    expect(run('CreateBucket', undefined)).toThrow(AccessDenied);
    // Decided later, with the body's LocationConstraint (authorizeCreateBucket).
    expect(run('CreateBucket', alice)).not.toThrow();
    expect(run('PutAccountPublicAccessBlock', only('s3:PutAccountPublicAccessBlock'))).not.toThrow();
    expect(run('DeleteAccountPublicAccessBlock', only('s3:PutAccountPublicAccessBlock'))).not.toThrow();
    expect(run('GetAccountPublicAccessBlock', only('s3:PutAccountPublicAccessBlock'))).toThrow(AccessDenied);
  });

  it('a version names the version actions', () => {
    expect(run('GetObject', only('s3:GetObject'), { key: 'k' })).not.toThrow();
    expect(run('GetObject', only('s3:GetObject'), { key: 'k', query: [['versionId', 'v1']] })).toThrow(AccessDenied);
    expect(run('GetObject', only('s3:GetObjectVersion'), { key: 'k', query: [['versionId', 'v1']] })).not.toThrow();
    // PutObject has no version actions: a versionId changes nothing.
    expect(run('PutObject', only('s3:PutObject'), { key: 'k', query: [['versionId', 'v1']] })).not.toThrow();
  });

  it('every action of an operation must be allowed (GetObjectAttributes needs two)', () => {
    expect(run('GetObjectAttributes', only('s3:GetObject'), { key: 'k' })).toThrow(AccessDenied);
    expect(run('GetObjectAttributes', only('s3:GetObjectAttributes'), { key: 'k' })).toThrow(AccessDenied);
    expect(run('GetObjectAttributes', only('s3:GetObject', 's3:GetObjectAttributes'), { key: 'k' })).not.toThrow();
  });

  it('checks the object\'s ARN for object operations and the bucket\'s for bucket operations', () => {
    const objectOnly = withPolicies(alice, identity('Allow', 's3:*', 'arn:aws:s3:::data/k'));
    expect(run('GetObject', objectOnly, { key: 'k' })).not.toThrow();
    expect(run('GetObject', objectOnly, { key: 'other' })).toThrow(AccessDenied);
    expect(run('ListObjectsV2', objectOnly, { key: 'k' })).toThrow(AccessDenied);
    const bucketOnly = withPolicies(alice, identity('Allow', 's3:*', 'arn:aws:s3:::data'));
    expect(run('ListObjectsV2', bucketOnly, { key: 'k' })).not.toThrow();
  });

  it('ACL and tagging headers add their actions to writes', () => {
    expect(run('PutObject', only('s3:PutObject'), { key: 'k', headers: { 'x-amz-acl': 'private' } })).toThrow(AccessDenied);
    expect(run('PutObject', only('s3:PutObject'), { key: 'k', headers: { 'x-amz-grant-read': `id=${canonicalUserId(OWNER)}` } })).toThrow(AccessDenied);
    expect(run('PutObject', only('s3:PutObject', 's3:PutObjectAcl'), { key: 'k', headers: { 'x-amz-acl': 'private' } })).not.toThrow();
    expect(run('CopyObject', only('s3:PutObject'), { key: 'k', headers: { 'x-amz-tagging': 'a=b' } })).toThrow(AccessDenied);
    expect(run('CreateMultipartUpload', only('s3:PutObject', 's3:PutObjectTagging'), { key: 'k', headers: { 'x-amz-tagging': 'a=b' } })).not.toThrow();
    expect(run('CreateMultipartUpload', only('s3:PutObject'), { key: 'k', headers: { 'x-amz-tagging': '' } })).toThrow(AccessDenied);
    // Other operations ignore those headers.
    expect(run('UploadPart', only('s3:PutObject'), { key: 'k', headers: { 'x-amz-acl': 'private', 'x-amz-tagging': 'a=b' } })).not.toThrow();
    expect(run('PutObject', only('s3:PutObject'), { key: 'k', headers: { 'x-amz-acl-other': 'x', 'x-amz-granted': 'y' } })).not.toThrow();
  });

  it('a bucket that does not exist is left to the handler', () => {
    const req = request(alice, {}, { operation: 'GetObject', bucket: 'missing', key: 'k' });
    expect(() => authorizeOperation(req)).not.toThrow();
  });

  it('bucket policy operations: the owner\'s root always, others of the account by policy, other accounts 405', () => {
    const denyAll = { bucket: { policy: doc(stmt('Deny', '*')) } };
    expect(run('PutBucketPolicy', root, { world: denyAll, method: 'PUT' })).not.toThrow();
    expect(run('GetBucketPolicy', only('s3:GetBucketPolicy'))).not.toThrow();
    expect(run('GetBucketPolicy', only('s3:GetBucketPolicy'), { world: denyAll })).toThrow(AccessDenied);
    expect(run('DeleteBucketPolicy', alice)).toThrow(AccessDenied);
    expect(run('PutBucketPolicy', otherRoot)).toThrow(AccessDenied);
    const granted = { bucket: { policy: doc(stmt('Allow', { AWS: OTHER }, 's3:GetBucketPolicy')) } };
    const other = withPolicies(eve, identity('Allow', 's3:GetBucketPolicy'));
    let error: unknown;
    try {
      run('GetBucketPolicy', other, { world: granted, method: 'GET' })();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MethodNotAllowed);
    expect((error as MethodNotAllowed).fields).toEqual([['Method', 'GET'], ['ResourceType', 'BUCKETPOLICY']]);
    // Another account's root is not the owner's root.
    expect(run('GetBucketPolicy', otherRoot, { world: granted })).toThrow(MethodNotAllowed);
  });

  it('authorizeCreateBucket passes the LocationConstraint and the ACL/ownership headers', () => {
    const regionOnly = withPolicies(alice, identity('Allow', 's3:CreateBucket', '*', { Condition: { StringEquals: { 's3:LocationConstraint': 'eu-west-1' } } }));
    const req = (who: Credentials | undefined, headers: Record<string, string> = {}) => request(who, {}, { operation: 'CreateBucket', bucket: 'new', key: undefined, headers });
    expect(() => authorizeCreateBucket(req(regionOnly), 'eu-west-1')).not.toThrow();
    expect(() => authorizeCreateBucket(req(regionOnly), 'us-west-2')).toThrow(AccessDenied);
    expect(() => authorizeCreateBucket(req(regionOnly), undefined)).toThrow(AccessDenied);
    expect(() => authorizeCreateBucket(req(undefined), 'eu-west-1')).toThrow(AccessDenied);
    const newOnly = withPolicies(alice, identity('Allow', 's3:CreateBucket', 'arn:aws:s3:::new'));
    expect(() => authorizeCreateBucket(req(newOnly), undefined)).not.toThrow();
    expect(() => authorizeCreateBucket(req(newOnly, { 'x-amz-acl': 'private' }), undefined)).toThrow(AccessDenied);
    expect(() => authorizeCreateBucket(req(newOnly, { 'x-amz-object-ownership': 'ObjectWriter' }), undefined)).toThrow(AccessDenied);
    const all = withPolicies(alice, identity('Allow', ['s3:CreateBucket', 's3:PutBucketAcl', 's3:PutBucketOwnershipControls']));
    expect(() => authorizeCreateBucket(req(all, { 'x-amz-acl': 'private', 'x-amz-object-ownership': 'ObjectWriter' }), undefined)).not.toThrow();
  });
});

describe('condition keys', () => {
  it('of a signed request by a user, on an object with tags', () => {
    const objects = [{ key: 'notes.txt', versionId: 'v1', meta: { tags: [{ key: 'class', value: 'secret' }] } as ObjectVersion['meta'] }];
    const req = request(alice, { objects }, {
      headers: { referer: 'https://example.com/', 'user-agent': 'aws-sdk-js/3', 'x-amz-server-side-encryption': 'aws:kms', 'x-amz-acl': 'private', 'x-amz-grant-read': 'id=1', 'x-amz-tagging': 'a=1&b=2' },
      query: new Map([['prefix', 'home/'], ['delimiter', '/'], ['max-keys', '10'], ['other', 'x']]),
      signedAt: new Date('2026-11-27T09:59:58.000Z'),
      authType: 'REST-QUERY-STRING',
    });
    const bucket = req.state.meta.getBucket('data');
    expect(conditionKeys(req, { action: 's3:GetObject', bucket, key: 'notes.txt', versionId: 'v1', locationConstraint: 'eu-west-1' })).toEqual({
      'aws:SecureTransport': 'true',
      'aws:SourceIp': '10.0.0.7',
      'aws:CurrentTime': '2026-11-27T10:00:00Z',
      'aws:EpochTime': '1795773600',
      's3:authType': 'REST-QUERY-STRING',
      's3:signatureversion': 'AWS4-HMAC-SHA256',
      's3:signatureAge': '2456',
      'aws:Referer': 'https://example.com/',
      'aws:UserAgent': 'aws-sdk-js/3',
      's3:ResourceAccount': OWNER,
      'aws:ResourceAccount': OWNER,
      'aws:PrincipalArn': alice.principalArn,
      'aws:PrincipalAccount': OWNER,
      'aws:PrincipalType': 'User',
      'aws:userid': 'AKALICE',
      'aws:username': 'alice',
      's3:x-amz-server-side-encryption': 'aws:kms',
      's3:x-amz-acl': 'private',
      's3:x-amz-grant-read': 'id=1',
      's3:prefix': 'home/',
      's3:delimiter': '/',
      's3:max-keys': '10',
      's3:versionid': 'v1',
      's3:LocationConstraint': 'eu-west-1',
      's3:RequestObjectTagKeys': ['a', 'b'],
      's3:RequestObjectTag/a': '1',
      's3:RequestObjectTag/b': '2',
      's3:ExistingObjectTag/class': 'secret',
    });
  });

  it('of anonymous, root and role-session callers', () => {
    const anon = conditionKeys(request(undefined, {}, { secure: false, sourceIp: '127.0.0.1', signedAt: new Date('2026-11-27T10:00:05Z') }), { action: 's3:ListAllMyBuckets' });
    expect(anon).toMatchObject({ 'aws:PrincipalType': 'Anonymous', 'aws:SecureTransport': 'false', 'aws:SourceIp': '127.0.0.1', 's3:signatureAge': '0' });
    expect(anon['s3:signatureversion']).toBeUndefined();
    expect(anon['aws:PrincipalArn']).toBeUndefined();
    expect(anon['s3:ResourceAccount']).toBeUndefined();
    const r = conditionKeys(request(root, {}, { signatureVersion: 'AWS' }), { action: 's3:ListAllMyBuckets' });
    expect(r).toMatchObject({ 'aws:PrincipalType': 'Account', 'aws:userid': OWNER, 's3:signatureversion': 'AWS' });
    expect(r['aws:username']).toBeUndefined();
    expect(r['s3:signatureAge']).toBeUndefined();
    const s = conditionKeys(request(session), { action: 's3:ListAllMyBuckets' });
    expect(s).toMatchObject({ 'aws:PrincipalType': 'AssumedRole', 'aws:PrincipalArn': session.roleArn, 'aws:userid': 'ASIA1' });
  });

  describe('s3:object-lock-remaining-retention-days', () => {
    // now is 2026-11-27T10:00:00.456Z
    const days = (date: string | undefined, headers: Record<string, string> = {}) =>
      conditionKeys(request(alice, {}, { operation: 'PutObject', method: 'PUT', headers: date === undefined ? headers : { ...headers, 'x-amz-object-lock-retain-until-date': date } }), { action: 's3:PutObject', bucket: bucketRecord(), key: 'notes.txt' })[
        's3:object-lock-remaining-retention-days'
      ];
    it.each([
      ['exactly 10 days ahead', '2026-12-07T10:00:00.456Z', '10'],
      ['10 days and a minute: a part of a day counts as a day', '2026-12-07T10:01:00Z', '11'],
      ['10 days less a second', '2026-12-07T09:59:59.456Z', '10'],
      ['a second ahead', '2026-11-27T10:00:01Z', '1'],
      ['an offset is honoured', '2026-12-07T12:00:00.456+02:00', '10'],
      ['the date already past: 0, never negative', '2026-11-01T00:00:00Z', '0'],
      ['a date that is not ISO 8601: no key', 'tomorrow', undefined],
      ['no date: no key', undefined, undefined],
    ])('%s', (_name, date, expected) => {
      expect(days(date)).toBe(expected);
    });

    it('a policy capping retention (AWS\'s example) refuses a write or retention beyond the cap', () => {
      // https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock-managing.html#object-lock-managing-retention-limits
      const capped = withPolicies(
        alice,
        identity('Allow', 's3:*'),
        identity('Deny', ['s3:PutObject', 's3:PutObjectRetention'], '*', { Condition: { NumericGreaterThan: { 's3:object-lock-remaining-retention-days': '10' } } }),
      );
      const at = (date: string) => ({ operation: 'PutObject', method: 'PUT', headers: { 'x-amz-object-lock-retain-until-date': date } });
      expect(decide(capped, 's3:PutObjectRetention', {}, {}, at('2026-12-07T10:00:00.456Z'))).toEqual(ALLOWED);
      expect(decide(capped, 's3:PutObjectRetention', {}, {}, at('2026-12-07T10:01:00Z')).allowed).toBe(false);
      expect(decide(capped, 's3:PutObject', {}, {}, at('2027-11-27T10:00:00Z')).allowed).toBe(false);
      expect(decide(capped, 's3:PutObject')).toEqual(ALLOWED);
    });

    it('lock headers on a request that carries no lock parameters (DeleteObject with a bypass) set no keys', () => {
      const headers = { 'x-amz-object-lock-retain-until-date': '2026-11-28T00:00:00Z', 'x-amz-object-lock-mode': 'GOVERNANCE', 'x-amz-object-lock-legal-hold': 'OFF', 'x-amz-bypass-governance-retention': 'true' };
      const keys = conditionKeys(request(alice, {}, { operation: 'DeleteObject', method: 'DELETE', query: new Map([['versionId', 'v1']]), headers }), { action: 's3:BypassGovernanceRetention', bucket: bucketRecord(), key: 'notes.txt', versionId: 'v1' });
      expect(Object.keys(keys).filter((k) => k.startsWith('s3:object-lock-'))).toEqual([]);
    });

    it('PutObjectRetention is judged by its body: withRetentionKeys replaces any lock header the client sent', () => {
      const req = request(alice, {}, { operation: 'PutObjectRetention', method: 'PUT', headers: { 'x-amz-object-lock-retain-until-date': '2026-11-28T00:00:00Z', 'x-amz-object-lock-mode': 'GOVERNANCE', 'x-amz-object-lock-legal-hold': 'OFF' } });
      const keys = conditionKeys(withRetentionKeys(req, 'COMPLIANCE', '2027-11-27T10:00:00Z'), { action: 's3:PutObjectRetention', bucket: bucketRecord(), key: 'notes.txt' });
      expect(keys).toMatchObject({ 's3:object-lock-mode': 'COMPLIANCE', 's3:object-lock-retain-until-date': '2027-11-27T10:00:00Z', 's3:object-lock-remaining-retention-days': '365' });
      expect(keys['s3:object-lock-legal-hold']).toBeUndefined();
      const removal = conditionKeys(withRetentionKeys(req, undefined, undefined), { action: 's3:PutObjectRetention', bucket: bucketRecord(), key: 'notes.txt' });
      expect(Object.keys(removal).filter((k) => k.startsWith('s3:object-lock-'))).toEqual([]);
    });

    it('authorizeOperation leaves PutObjectRetention to its handler (authorizeObjectLockBody, with the body\'s keys)', () => {
      const capped = withPolicies(alice, identity('Allow', 's3:PutObjectRetention', '*', { Condition: { NumericLessThanEquals: { 's3:object-lock-remaining-retention-days': '10' } } }));
      const req = request(capped, {}, { operation: 'PutObjectRetention', method: 'PUT', query: new Map([['retention', '']]) });
      expect(() => authorizeOperation(req)).not.toThrow();
      const bucket = req.state.meta.getBucket('data')!;
      expect(() => authorizeObjectLockBody(withRetentionKeys(req, 'GOVERNANCE', '2026-12-01T00:00:00Z'), bucket)).not.toThrow();
      expect(() => authorizeObjectLockBody(withRetentionKeys(req, 'GOVERNANCE', '2027-12-01T00:00:00Z'), bucket)).toThrow(AccessDenied);
      expect(() => authorizeObjectLockBody(withRetentionKeys(req, undefined, undefined), bucket)).toThrow(AccessDenied);
    });
  });

  it('PutObjectLegalHold is judged by its body: s3:object-lock-legal-hold is the status asked for, never a header beside it', () => {
    const onlyOff = withPolicies(alice, identity('Allow', 's3:PutObjectLegalHold', '*', { Condition: { StringEquals: { 's3:object-lock-legal-hold': 'OFF' } } }));
    const req = request(onlyOff, {}, { operation: 'PutObjectLegalHold', method: 'PUT', query: new Map([['legal-hold', '']]), headers: { 'x-amz-object-lock-legal-hold': 'OFF', 'x-amz-object-lock-mode': 'GOVERNANCE' } });
    expect(() => authorizeOperation(req)).not.toThrow();
    const bucket = req.state.meta.getBucket('data')!;
    expect(() => authorizeObjectLockBody(withLegalHoldKey(req, 'OFF'), bucket)).not.toThrow();
    expect(() => authorizeObjectLockBody(withLegalHoldKey(req, 'ON'), bucket)).toThrow(AccessDenied);
    const keys = conditionKeys(withLegalHoldKey(req, 'ON'), { action: 's3:PutObjectLegalHold', bucket: bucketRecord(), key: 'notes.txt' });
    expect(keys['s3:object-lock-legal-hold']).toBe('ON');
    expect(keys['s3:object-lock-mode']).toBeUndefined();
  });

  it('a key condition in a policy sees them (ExistingObjectTag of the version named)', () => {
    const objects = [
      { key: 'notes.txt', versionId: 'v1', meta: { tags: [{ key: 'class', value: 'public' }] } as ObjectVersion['meta'] },
      { key: 'notes.txt', versionId: 'v2', meta: { tags: [{ key: 'class', value: 'secret' }] } as ObjectVersion['meta'] },
    ];
    const reader = withPolicies(alice, identity('Allow', 's3:GetObject*', '*', { Condition: { StringEquals: { 's3:ExistingObjectTag/class': 'public' } } }));
    expect(decide(reader, 's3:GetObjectVersion', { objects }, { versionId: 'v1' })).toEqual(ALLOWED);
    expect(decide(reader, 's3:GetObjectVersion', { objects }, { versionId: 'v2' })).toEqual(denied('no-identity'));
    expect(decide(reader, 's3:GetObject', { objects })).toEqual(denied('no-identity'));
  });
});

describe('the policy cache', () => {
  it('parses a text once per kind and stays correct past 1000 entries', () => {
    const text = doc(stmt('Allow', '*', 's3:GetObject'));
    expect(parsedPolicy(text, 'resource')).toBe(parsedPolicy(text, 'resource'));
    // The same text as an identity policy is refused (Principal), not served from the resource entry.
    expect(() => parsedPolicy(text, 'identity')).toThrow();
    const first = parsedPolicy(text, 'resource');
    for (let i = 0; i < 1000; i++) parsedPolicy(doc(stmt('Allow', '*', `s3:Action${i}`)), 'resource');
    const again = parsedPolicy(text, 'resource');
    expect(again).not.toBe(first);
    expect(again).toEqual(first);
    // The newest entries are still there.
    expect(parsedPolicy(doc(stmt('Allow', '*', 's3:Action999')), 'resource')).toBe(parsedPolicy(doc(stmt('Allow', '*', 's3:Action999')), 'resource'));
  });
});
