// S3 authorization (packages/s3/src/authorization.ts) beyond authorization.test.ts: cases written
// for the mutation run (`npm run mutate -- s3`).
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/amazon-s3-policy-keys.html
import type { Credentials } from '@sealbox/sigv4';
import { accessDenied, authorizeOperation, checkS3Access, conditionKeys, type AccessCheck } from '../src/authorization';
import type { S3Request } from '../src/context';
import { AccessDenied } from '../src/errors';
import type { BucketRecord, ObjectVersion } from '../src/store/model';

const OWNER = '111122223333';
const OTHER = '444455556666';
const alice: Credentials = { accessKeyId: 'AKALICE', secretAccessKey: 's', accountId: OWNER, principalArn: `arn:aws:iam::${OWNER}:user/alice`, policies: [] };
const doc = (...Statement: object[]) => JSON.stringify({ Version: '2012-10-17', Statement });

interface World {
  bucket?: Partial<BucketRecord>;
  objects?: Partial<ObjectVersion>[];
}

/** A request on the bucket "data" (owned by OWNER) and its objects. */
function request(overrides: Partial<S3Request> = {}, world: World = {}): S3Request {
  const bucket = { name: 'data', accountId: OWNER, region: 'us-east-1', creationDate: 0, objectOwnership: 'BucketOwnerEnforced', ...world.bucket } as BucketRecord;
  const objects = (world.objects ?? []).map((o) => ({ bucket: 'data', key: 'notes.txt', versionId: 'null', deleteMarker: false, ownerAccountId: OWNER, meta: {}, ...o }) as ObjectVersion);
  const meta = {
    getBucket: (name: string) => (name === bucket.name ? bucket : undefined),
    bucketView: (name: string) => (name === bucket.name ? bucket : undefined),
    objectsGeneration: 0,
    getAccount: () => ({}),
    latest: (b: string, key: string) => objects.filter((o) => o.bucket === b && o.key === key).at(-1),
    latestView: (b: string, key: string) => objects.filter((o) => o.bucket === b && o.key === key).at(-1),
    version: (b: string, key: string, versionId: string) => objects.find((o) => o.bucket === b && o.key === key && o.versionId === versionId),
  };
  return {
    operation: 'PutObject', method: 'PUT', bucket: 'data', key: 'k', query: new Map(), headers: {},
    credentials: alice, region: 'us-east-1', endpointRegion: 'us-east-1', secure: true, allowHttpSseKms: false,
    requestId: 'r', now: new Date('2026-11-27T10:00:00.000Z'), sourceIp: '10.0.0.7', authType: 'REST-HEADER',
    state: { meta } as unknown as S3Request['state'],
    ...overrides,
  } as S3Request;
}

describe('conditionKeys: every S3 header key', () => {
  // The S3 condition keys a request's headers make, each named s3:<header>.
  // https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html#amazons3-policy-keys
  const HEADERS = [
    'x-amz-server-side-encryption',
    'x-amz-server-side-encryption-aws-kms-key-id',
    'x-amz-server-side-encryption-customer-algorithm',
    'x-amz-acl',
    'x-amz-copy-source',
    'x-amz-metadata-directive',
    'x-amz-storage-class',
    'x-amz-content-sha256',
    'x-amz-object-ownership',
    'x-amz-grant-read',
    'x-amz-grant-write',
    'x-amz-grant-read-acp',
    'x-amz-grant-write-acp',
    'x-amz-grant-full-control',
  ];

  it.each(HEADERS)('%s', (name) => {
    const keys = conditionKeys(request({ headers: { [name]: `value of ${name}` } }), { action: 's3:PutObject' });
    expect(Object.entries(keys).filter(([k]) => k.startsWith('s3:x-amz-'))).toEqual([[`s3:${name}`, `value of ${name}`]]);
  });

  it('headers that are no condition keys make none', () => {
    const keys = conditionKeys(request({ headers: { 'x-amz-meta-a': 'b', 'x-amz-website-redirect-location': '/x', 'content-type': 'text/plain' } }), { action: 's3:PutObject' });
    expect(Object.keys(keys).filter((k) => k.startsWith('s3:x-amz-'))).toEqual([]);
  });
});

describe('conditionKeys: keys absent when the request has no value for them', () => {
  it('no version, no LocationConstraint, no tagging header, no existing tags', () => {
    const req = request({}, { objects: [{ key: 'notes.txt' }] });
    const keys = conditionKeys(req, { action: 's3:GetObject', bucket: req.state.meta.getBucket('data'), key: 'notes.txt' });
    expect(Object.keys(keys).filter((k) => k.startsWith('s3:') && !['s3:authType', 's3:signatureversion', 's3:signatureAge', 's3:ResourceAccount'].includes(k))).toEqual([]);
    expect('s3:signatureAge' in keys && keys['s3:signatureAge'] !== undefined).toBe(false);
  });

  it('a key without a bucket (no object to read tags from)', () => {
    expect(() => conditionKeys(request(), { action: 's3:GetObject', key: 'notes.txt' })).not.toThrow();
  });

  it('aws:SourceIp drops only a leading ::ffff: (IPv4-mapped), never one inside an IPv6 address', () => {
    expect(conditionKeys(request({ sourceIp: '::ffff:10.0.0.7' }), { action: 's3:ListAllMyBuckets' })['aws:SourceIp']).toBe('10.0.0.7');
    expect(conditionKeys(request({ sourceIp: '2001:db8::ffff:a00:7' }), { action: 's3:ListAllMyBuckets' })['aws:SourceIp']).toBe('2001:db8::ffff:a00:7');
  });

  it('aws:username of a user without a path', () => {
    expect(conditionKeys(request(), { action: 's3:ListAllMyBuckets' })['aws:username']).toBe('alice');
    const deep = { ...alice, principalArn: `arn:aws:iam::${OWNER}:user/a/b/carol` };
    expect(conditionKeys(request({ credentials: deep }), { action: 's3:ListAllMyBuckets' })['aws:username']).toBe('carol');
  });
});

describe('checkS3Access: cases for the mutation run', () => {
  const decide = (credentials: Credentials | undefined, check: Partial<AccessCheck>, world: World = {}) => {
    const req = request({ credentials }, world);
    return checkS3Access(req, { action: 's3:GetObject', bucket: req.state.meta.getBucket('data'), key: 'notes.txt', ...check });
  };

  it('a user whose credentials carry no policies at all: no identity-based allow', () => {
    const { policies: _, ...bare } = alice;
    expect(decide(bare, {})).toEqual({ allowed: false, reason: 'no-identity' });
  });

  it('one of several allowing statements naming the user is enough (another names only the account)', () => {
    const policy = doc(
      { Effect: 'Allow', Principal: { AWS: OWNER }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::data/*' },
      { Effect: 'Allow', Principal: { AWS: alice.principalArn }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::data/*' },
    );
    expect(decide(alice, {}, { bucket: { policy } })).toEqual({ allowed: true });
    const accountOnly = doc({ Effect: 'Allow', Principal: { AWS: OWNER }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::data/*' });
    expect(decide(alice, {}, { bucket: { policy: accountOnly } })).toEqual({ allowed: false, reason: 'no-identity' });
  });

  it('anonymous callers have no aws:PrincipalArn (a Null condition on it matches them)', () => {
    const policy = doc({ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::data/*', Condition: { Null: { 'aws:PrincipalArn': 'true' } } });
    expect(decide(undefined, {}, { bucket: { policy } })).toEqual({ allowed: true });
    expect(decide(alice, {}, { bucket: { policy } })).toEqual({ allowed: false, reason: 'no-identity' });
  });

  it('the ACL of a new object: an older object under the key, owned by another account, changes nothing', () => {
    // ObjectWriter: the writer owns what it writes; the bucket policy grants alice the write.
    const world: World = {
      bucket: { objectOwnership: 'ObjectWriter', policy: doc({ Effect: 'Allow', Principal: { AWS: alice.principalArn }, Action: ['s3:PutObject', 's3:PutObjectAcl'], Resource: 'arn:aws:s3:::data/*' }) },
      objects: [{ key: 'notes.txt', ownerAccountId: OTHER }],
    };
    expect(decide(alice, { action: 's3:PutObjectAcl', newObject: true }, world)).toEqual({ allowed: true });
    // The existing object's ACL (PutObjectAcl on it) is its owner's to grant.
    expect(decide(alice, { action: 's3:PutObjectAcl' }, world)).toEqual({ allowed: false, reason: 'no-resource' });
    // Through the operation: PutObject with x-amz-acl checks s3:PutObjectAcl for the new object.
    const req = request({ credentials: alice, operation: 'PutObject', method: 'PUT', key: 'notes.txt', headers: { 'x-amz-acl': 'private' } }, world);
    expect(() => authorizeOperation(req)).not.toThrow();
  });
});

describe('authorizeOperation and accessDenied: anonymous callers', () => {
  it.each(['GetBucketPolicy', 'PutBucketPolicy', 'DeleteBucketPolicy'])('%s: AccessDenied', (operation) => {
    const req = request({ credentials: undefined, operation, method: 'GET', key: undefined });
    expect(() => authorizeOperation(req)).toThrow(AccessDenied);
  });

  it('operations authorized per item are left to their handlers, even for anonymous callers', () => {
    for (const operation of ['DeleteObjects', 'PostObject', 'PreflightRequest']) {
      expect(() => authorizeOperation(request({ credentials: undefined, operation, method: 'POST', key: undefined }))).not.toThrow();
    }
  });

  it('an account-level denial of an anonymous caller says only "Access Denied"', () => {
    const error = accessDenied(request({ credentials: undefined }), { action: 's3:ListAllMyBuckets' }, 'no-identity');
    expect(error).toBeInstanceOf(AccessDenied);
    expect(error.message).toBe('Access Denied');
  });
});
