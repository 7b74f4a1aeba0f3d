/**
 * Adversarial review of ACLs and Object Ownership (issue 19): a second account with WRITE_ACP,
 * public grants under Block Public Access, another writer's objects, grant headers written
 * oddly, and a copy's ACL. Every case here held; the tests keep it so.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/acl-overview.html
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/about-object-ownership.html
 */
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteObjectCommand,
  GetBucketAclCommand,
  GetObjectAclCommand,
  GetObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutBucketAclCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  PutPublicAccessBlockCommand,
  type Grant,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { Sealbox } from '@sealbox/cli';
import type { Credentials } from '@sealbox/sigv4';
import { failure, s3Client, startTestSealbox } from './helpers';

const OTHER = '333333333333';
const USERS: Credentials[] = [{ accessKeyId: 'AKIDACLATTACK', secretAccessKey: 'other', accountId: OTHER, principalArn: `arn:aws:iam::${OTHER}:root` }];
const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers';

let sealbox: Sealbox;
let s3: S3Client;
let otherS3: S3Client;
let anonymous: S3Client;
let ownerId: string;
let otherId: string;
beforeAll(async () => {
  sealbox = await startTestSealbox({ users: USERS });
  s3 = s3Client(sealbox);
  otherS3 = s3Client(sealbox, { credentials: { accessKeyId: 'AKIDACLATTACK', secretAccessKey: 'other' } });
  anonymous = s3Client(sealbox, { signer: { sign: async (request) => request } });
  ownerId = (await s3.send(new ListBucketsCommand({}))).Owner!.ID!;
  otherId = (await otherS3.send(new ListBucketsCommand({}))).Owner!.ID!;
});
afterAll(async () => {
  for (const c of [s3, otherS3, anonymous]) c.destroy();
  await sealbox.stop();
});

const grantsOf = (grants: Grant[] | undefined) => (grants ?? []).map((g) => [g.Grantee?.ID ?? g.Grantee?.URI, g.Permission]);
const code = (err: Awaited<ReturnType<typeof failure>>) => [err.name, err.$metadata?.httpStatusCode];

async function aclBucket(name: string, publicAcls: boolean): Promise<void> {
  await s3.send(new CreateBucketCommand({ Bucket: name, ObjectOwnership: 'ObjectWriter' }));
  if (publicAcls) {
    await s3.send(new PutPublicAccessBlockCommand({ Bucket: name, PublicAccessBlockConfiguration: { BlockPublicAcls: false, IgnorePublicAcls: false, BlockPublicPolicy: true, RestrictPublicBuckets: true } }));
  }
}

it('an account granted WRITE_ACP rewrites the bucket ACL to itself alone: the owner still reads and writes the ACL and the bucket', async () => {
  await aclBucket('acl-lockout', false);
  await s3.send(new PutBucketAclCommand({ Bucket: 'acl-lockout', GrantWriteACP: `id="${otherId}"`, GrantFullControl: `id="${ownerId}"` }));
  // The document's Owner must stay the bucket owner; the grants may leave the owner out.
  await otherS3.send(new PutBucketAclCommand({
    Bucket: 'acl-lockout',
    AccessControlPolicy: { Owner: { ID: ownerId }, Grants: [{ Grantee: { Type: 'CanonicalUser', ID: otherId }, Permission: 'FULL_CONTROL' }] },
  }));
  const stolen = await failure(otherS3.send(new PutBucketAclCommand({
    Bucket: 'acl-lockout',
    AccessControlPolicy: { Owner: { ID: otherId }, Grants: [{ Grantee: { Type: 'CanonicalUser', ID: otherId }, Permission: 'FULL_CONTROL' }] },
  })));
  expect(code(stolen)).toEqual(['AccessDenied', 403]);
  const acl = await s3.send(new GetBucketAclCommand({ Bucket: 'acl-lockout' }));
  expect([acl.Owner?.ID, grantsOf(acl.Grants)]).toEqual([ownerId, [[otherId, 'FULL_CONTROL']]]);
  await s3.send(new PutObjectCommand({ Bucket: 'acl-lockout', Key: 'k', Body: 'x' }));
  await s3.send(new ListObjectsV2Command({ Bucket: 'acl-lockout' }));
  await s3.send(new PutBucketAclCommand({ Bucket: 'acl-lockout', ACL: 'private' }));
  expect(code(await failure(otherS3.send(new ListObjectsV2Command({ Bucket: 'acl-lockout' }))))).toEqual(['AccessDenied', 403]);
});

it("ObjectWriter: another account's object is not the bucket owner's to read or re-grant, only to delete", async () => {
  await aclBucket('acl-writer', false);
  await s3.send(new PutBucketAclCommand({ Bucket: 'acl-writer', GrantWrite: `id="${otherId}"`, GrantFullControl: `id="${ownerId}"` }));
  await otherS3.send(new PutObjectCommand({ Bucket: 'acl-writer', Key: 'theirs', Body: 'secret' }));
  expect(code(await failure(s3.send(new GetObjectCommand({ Bucket: 'acl-writer', Key: 'theirs' }))))).toEqual(['AccessDenied', 403]);
  expect(code(await failure(s3.send(new GetObjectAclCommand({ Bucket: 'acl-writer', Key: 'theirs' }))))).toEqual(['AccessDenied', 403]);
  expect(code(await failure(s3.send(new PutObjectAclCommand({ Bucket: 'acl-writer', Key: 'theirs', GrantRead: `id="${ownerId}"` }))))).toEqual(['AccessDenied', 403]);
  // A copy is a read of the source: refused the same way.
  expect(code(await failure(s3.send(new CopyObjectCommand({ Bucket: 'acl-writer', Key: 'mine', CopySource: 'acl-writer/theirs' }))))).toEqual(['AccessDenied', 403]);
  await s3.send(new DeleteObjectCommand({ Bucket: 'acl-writer', Key: 'theirs' }));
});

it('AllUsers grants: BlockPublicAcls refuses them on every ACL write, IgnorePublicAcls makes a stored one grant nothing', async () => {
  await aclBucket('acl-public', true);
  await s3.send(new PutObjectCommand({ Bucket: 'acl-public', Key: 'open', Body: 'hello', ACL: 'public-read' }));
  expect(await (await anonymous.send(new GetObjectCommand({ Bucket: 'acl-public', Key: 'open' }))).Body!.transformToString()).toBe('hello');
  await s3.send(new PutPublicAccessBlockCommand({ Bucket: 'acl-public', PublicAccessBlockConfiguration: { BlockPublicAcls: true, IgnorePublicAcls: true } }));
  expect(code(await failure(anonymous.send(new GetObjectCommand({ Bucket: 'acl-public', Key: 'open' }))))).toEqual(['AccessDenied', 403]);
  for (const write of [
    () => s3.send(new PutObjectAclCommand({ Bucket: 'acl-public', Key: 'open', GrantRead: `uri="${ALL_USERS}"` })),
    () => s3.send(new PutObjectAclCommand({ Bucket: 'acl-public', Key: 'open', AccessControlPolicy: { Owner: { ID: ownerId }, Grants: [{ Grantee: { Type: 'Group', URI: ALL_USERS }, Permission: 'READ' }] } })),
    () => s3.send(new PutObjectCommand({ Bucket: 'acl-public', Key: 'new', Body: 'x', ACL: 'public-read-write' })),
    () => s3.send(new CopyObjectCommand({ Bucket: 'acl-public', Key: 'copy', CopySource: 'acl-public/open', ACL: 'public-read' })),
    () => s3.send(new PutBucketAclCommand({ Bucket: 'acl-public', GrantRead: `id="${ownerId}", uri="${ALL_USERS}"` })),
  ]) {
    expect(code(await failure(write()))).toEqual(['AccessDenied', 403]);
  }
});

it('grant headers: several grantees with odd spacing parse; an upper-case id or another group uri is refused', async () => {
  await aclBucket('acl-headers', false);
  await s3.send(new PutObjectCommand({ Bucket: 'acl-headers', Key: 'k', Body: 'x', GrantRead: ` id="${otherId}" ,id=${ownerId},  ID = "${otherId}"`, GrantFullControl: `id="${ownerId}"` }));
  const acl = await s3.send(new GetObjectAclCommand({ Bucket: 'acl-headers', Key: 'k' }));
  expect(grantsOf(acl.Grants)).toEqual([[otherId, 'READ'], [ownerId, 'READ'], [otherId, 'READ'], [ownerId, 'FULL_CONTROL']]);
  expect(await (await otherS3.send(new GetObjectCommand({ Bucket: 'acl-headers', Key: 'k' }))).Body!.transformToString()).toBe('x');
  for (const value of [`id="${otherId.toUpperCase()}"`, 'uri="http://acs.amazonaws.com/groups/global/AllUsers/"', 'uri="http://acs.amazonaws.com/groups/global/Everyone"', `id="${otherId}",`]) {
    expect(code(await failure(s3.send(new PutObjectAclCommand({ Bucket: 'acl-headers', Key: 'k', GrantRead: value }))))).toEqual(['InvalidArgument', 400]);
  }
});

it("a copy takes the ACL its request sends, never the source's", async () => {
  await aclBucket('acl-copy', true);
  await s3.send(new PutObjectCommand({ Bucket: 'acl-copy', Key: 'src', Body: 'x', ACL: 'public-read' }));
  await s3.send(new CopyObjectCommand({ Bucket: 'acl-copy', Key: 'dst', CopySource: 'acl-copy/src' }));
  expect(grantsOf((await s3.send(new GetObjectAclCommand({ Bucket: 'acl-copy', Key: 'dst' }))).Grants)).toEqual([[ownerId, 'FULL_CONTROL']]);
  expect(code(await failure(anonymous.send(new GetObjectCommand({ Bucket: 'acl-copy', Key: 'dst' }))))).toEqual(['AccessDenied', 403]);
});
