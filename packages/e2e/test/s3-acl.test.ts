/**
 * ACLs and the three Object Ownership settings, through SDK v3 (issue 19, item 3): ACLs on every
 * write that takes them, AccessControlPolicy documents, who owns an object in each setting, ACL
 * grants in authorization, and every ACL write where ACLs are disabled.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/about-object-ownership.html
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-ownership-error-responses.html
 */
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetBucketAclCommand,
  GetObjectAclCommand,
  GetObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutBucketAclCommand,
  PutBucketOwnershipControlsCommand,
  PutBucketPolicyCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  PutPublicAccessBlockCommand,
  UploadPartCommand,
  type Grant,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { Sealbox } from '@sealbox/cli';
import type { Credentials } from '@sealbox/sigv4';
import { failure, s3Client, startTestSealbox } from './helpers';

const OTHER = '111111111111';
const USERS: Credentials[] = [{ accessKeyId: 'AKIDOTHER', secretAccessKey: 'other', accountId: OTHER, principalArn: `arn:aws:iam::${OTHER}:root` }];
const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers';
const AUTHENTICATED_USERS = 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers';

let sealbox: Sealbox;
let s3: S3Client;
let otherS3: S3Client;
let anonymous: S3Client;
let ownerId: string;
let otherId: string;
beforeAll(async () => {
  sealbox = await startTestSealbox({ users: USERS });
  s3 = s3Client(sealbox);
  otherS3 = s3Client(sealbox, { credentials: { accessKeyId: 'AKIDOTHER', secretAccessKey: 'other' } });
  anonymous = s3Client(sealbox, { signer: { sign: async (request) => request } });
  ownerId = (await s3.send(new ListBucketsCommand({}))).Owner!.ID!;
  otherId = (await otherS3.send(new ListBucketsCommand({}))).Owner!.ID!;
});
afterAll(async () => {
  for (const c of [s3, otherS3, anonymous]) c.destroy();
  await sealbox.stop();
});

const grantsOf = (grants: Grant[] | undefined) => (grants ?? []).map((g) => [g.Grantee?.Type, g.Grantee?.ID ?? g.Grantee?.URI, g.Permission]);
const ownerOnly = () => [['CanonicalUser', ownerId, 'FULL_CONTROL']];
const status = (err: Awaited<ReturnType<typeof failure>>) => [err.name, err.$metadata?.httpStatusCode, err.message];
const NOT_SUPPORTED = ['AccessControlListNotSupported', 400, 'The bucket does not allow ACLs'];

/** A bucket with ACLs enabled in `ownership` and Block Public Access off, so public grants are taken. */
async function aclBucket(name: string, ownership: 'ObjectWriter' | 'BucketOwnerPreferred'): Promise<string> {
  await s3.send(new CreateBucketCommand({ Bucket: name, ObjectOwnership: ownership }));
  await s3.send(new PutPublicAccessBlockCommand({ Bucket: name, PublicAccessBlockConfiguration: { BlockPublicAcls: false, IgnorePublicAcls: false, BlockPublicPolicy: true, RestrictPublicBuckets: true } }));
  return name;
}

describe('ACLs on the writes that take them', () => {
  it('CreateBucket: a canned ACL or grant headers where the ownership setting honours ACLs', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'acl-create-grants', ObjectOwnership: 'ObjectWriter', GrantRead: `id="${otherId}"`, GrantFullControl: `id="${ownerId}"` }));
    expect(grantsOf((await s3.send(new GetBucketAclCommand({ Bucket: 'acl-create-grants' }))).Grants)).toEqual([
      ['CanonicalUser', otherId, 'READ'],
      ['CanonicalUser', ownerId, 'FULL_CONTROL'],
    ]);
    // The other account may list the bucket through its READ grant, not read its ACL (READ_ACP).
    await otherS3.send(new ListObjectsV2Command({ Bucket: 'acl-create-grants' }));
    expect((await failure(otherS3.send(new GetBucketAclCommand({ Bucket: 'acl-create-grants' })))).name).toBe('AccessDenied');
  });

  it('PutObject, CopyObject and CreateMultipartUpload (applied at completion) store the ACL they send', async () => {
    const bucket = await aclBucket('acl-writes', 'ObjectWriter');
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'put', Body: 'p', ACL: 'authenticated-read' }));
    expect(grantsOf((await s3.send(new GetObjectAclCommand({ Bucket: bucket, Key: 'put' }))).Grants)).toEqual([...ownerOnly(), ['Group', AUTHENTICATED_USERS, 'READ']]);

    // A copy takes the ACL of its own request, never the source's.
    await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'copy', CopySource: `${bucket}/put`, GrantRead: `uri="${ALL_USERS}"`, GrantFullControl: `id="${ownerId}"` }));
    expect(grantsOf((await s3.send(new GetObjectAclCommand({ Bucket: bucket, Key: 'copy' }))).Grants)).toEqual([['Group', ALL_USERS, 'READ'], ...ownerOnly()]);
    await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'copy-default', CopySource: `${bucket}/put` }));
    expect(grantsOf((await s3.send(new GetObjectAclCommand({ Bucket: bucket, Key: 'copy-default' }))).Grants)).toEqual(ownerOnly());

    const upload = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mpu', ACL: 'public-read' }));
    const part = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'mpu', UploadId: upload.UploadId, PartNumber: 1, Body: 'part' }));
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'mpu', UploadId: upload.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }));
    expect(grantsOf((await s3.send(new GetObjectAclCommand({ Bucket: bucket, Key: 'mpu' }))).Grants)).toEqual([...ownerOnly(), ['Group', ALL_USERS, 'READ']]);
    expect(await (await anonymous.send(new GetObjectCommand({ Bucket: bucket, Key: 'mpu' }))).Body!.transformToString()).toBe('part');
  });
});

describe('Put/GetObjectAcl and Put/GetBucketAcl with AccessControlPolicy documents', () => {
  it('canonical ids and the AllUsers and AuthenticatedUsers groups, granted and enforced', async () => {
    const bucket = await aclBucket('acl-documents', 'ObjectWriter');
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'doc', Body: 'd' }));
    expect((await failure(otherS3.send(new GetObjectCommand({ Bucket: bucket, Key: 'doc' })))).name).toBe('AccessDenied');
    await s3.send(
      new PutObjectAclCommand({
        Bucket: bucket,
        Key: 'doc',
        AccessControlPolicy: {
          Owner: { ID: ownerId },
          Grants: [
            { Grantee: { Type: 'CanonicalUser', ID: ownerId }, Permission: 'FULL_CONTROL' },
            { Grantee: { Type: 'CanonicalUser', ID: otherId }, Permission: 'READ' },
            { Grantee: { Type: 'Group', URI: AUTHENTICATED_USERS }, Permission: 'READ_ACP' },
          ],
        },
      }),
    );
    const acl = await s3.send(new GetObjectAclCommand({ Bucket: bucket, Key: 'doc' }));
    expect(acl.Owner?.ID).toBe(ownerId);
    expect(grantsOf(acl.Grants)).toEqual([...ownerOnly(), ['CanonicalUser', otherId, 'READ'], ['Group', AUTHENTICATED_USERS, 'READ_ACP']]);
    // READ to the other account's canonical id: it reads; READ_ACP to every AWS account: it reads the ACL, the public does not.
    expect(await (await otherS3.send(new GetObjectCommand({ Bucket: bucket, Key: 'doc' }))).Body!.transformToString()).toBe('d');
    await otherS3.send(new GetObjectAclCommand({ Bucket: bucket, Key: 'doc' }));
    expect((await failure(anonymous.send(new GetObjectAclCommand({ Bucket: bucket, Key: 'doc' })))).$metadata?.httpStatusCode).toBe(403);

    await s3.send(new PutBucketAclCommand({ Bucket: bucket, AccessControlPolicy: { Owner: { ID: ownerId }, Grants: [{ Grantee: { Type: 'CanonicalUser', ID: ownerId }, Permission: 'FULL_CONTROL' }, { Grantee: { Type: 'Group', URI: ALL_USERS }, Permission: 'READ' }] } }));
    expect(grantsOf((await s3.send(new GetBucketAclCommand({ Bucket: bucket }))).Grants)).toEqual([...ownerOnly(), ['Group', ALL_USERS, 'READ']]);
  });

  it('refuses e-mail grantees (405 since October 2025) and documents off the schema (MalformedACLError)', async () => {
    const bucket = await aclBucket('acl-refusals', 'ObjectWriter');
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'k' }));
    // https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObjectAcl.html ("End of support notice")
    const byEmail = await failure(s3.send(new PutObjectAclCommand({ Bucket: bucket, Key: 'k', AccessControlPolicy: { Owner: { ID: ownerId }, Grants: [{ Grantee: { Type: 'AmazonCustomerByEmail', EmailAddress: 'bob@example.com' }, Permission: 'READ' }] } })));
    expect(byEmail.$metadata?.httpStatusCode).toBe(405);
    expect(byEmail.name).toBe('MethodNotAllowed');
    expect((await failure(s3.send(new PutBucketAclCommand({ Bucket: bucket, GrantRead: 'emailAddress="bob@example.com"' })))).$metadata?.httpStatusCode).toBe(405);
    // A permission S3 does not define.
    const bad = await failure(s3.send(new PutObjectAclCommand({ Bucket: bucket, Key: 'k', AccessControlPolicy: { Owner: { ID: ownerId }, Grants: [{ Grantee: { Type: 'CanonicalUser', ID: otherId }, Permission: 'READ_WRITE' as 'READ' }] } })));
    expect([bad.name, bad.$metadata?.httpStatusCode]).toEqual(['MalformedACLError', 400]);
    // Nothing changed.
    expect(grantsOf((await s3.send(new GetObjectAclCommand({ Bucket: bucket, Key: 'k' }))).Grants)).toEqual(ownerOnly());
  });
});

describe('who owns an object, in each ownership setting', () => {
  /** A bucket the other account may write to (and set ACLs in), through the bucket policy. */
  async function sharedBucket(name: string, ownership?: 'ObjectWriter' | 'BucketOwnerPreferred' | 'BucketOwnerEnforced') {
    await s3.send(new CreateBucketCommand({ Bucket: name, ObjectOwnership: ownership }));
    const statement = { Effect: 'Allow', Principal: { AWS: OTHER }, Action: ['s3:PutObject', 's3:PutObjectAcl', 's3:GetObject', 's3:GetObjectAcl'], Resource: `arn:aws:s3:::${name}/*` };
    await s3.send(new PutBucketPolicyCommand({ Bucket: name, Policy: JSON.stringify({ Version: '2012-10-17', Statement: [statement] }) }));
  }
  const objectOwner = async (client: S3Client, bucket: string, key: string) => (await client.send(new GetObjectAclCommand({ Bucket: bucket, Key: key }))).Owner?.ID;

  it('ObjectWriter: the writer, whatever ACL it sends', async () => {
    await sharedBucket('own-writer', 'ObjectWriter');
    await otherS3.send(new PutObjectCommand({ Bucket: 'own-writer', Key: 'plain', Body: 'x' }));
    await otherS3.send(new PutObjectCommand({ Bucket: 'own-writer', Key: 'full', Body: 'x', ACL: 'bucket-owner-full-control' }));
    expect(await objectOwner(otherS3, 'own-writer', 'plain')).toBe(otherId);
    expect(await objectOwner(otherS3, 'own-writer', 'full')).toBe(otherId);
    expect(grantsOf((await otherS3.send(new GetObjectAclCommand({ Bucket: 'own-writer', Key: 'full' }))).Grants)).toEqual([['CanonicalUser', otherId, 'FULL_CONTROL'], ['CanonicalUser', ownerId, 'FULL_CONTROL']]);
    // The bucket owner reads the second (its grant), not the first.
    expect((await failure(s3.send(new GetObjectCommand({ Bucket: 'own-writer', Key: 'plain' })))).name).toBe('AccessDenied');
    await s3.send(new GetObjectCommand({ Bucket: 'own-writer', Key: 'full' }));
  });

  it('BucketOwnerPreferred: the bucket owner when the write sends bucket-owner-full-control, else the writer', async () => {
    await sharedBucket('own-preferred', 'BucketOwnerPreferred');
    await otherS3.send(new PutObjectCommand({ Bucket: 'own-preferred', Key: 'plain', Body: 'x' }));
    await otherS3.send(new PutObjectCommand({ Bucket: 'own-preferred', Key: 'full', Body: 'x', ACL: 'bucket-owner-full-control' }));
    expect(await objectOwner(otherS3, 'own-preferred', 'plain')).toBe(otherId);
    expect(await objectOwner(s3, 'own-preferred', 'full')).toBe(ownerId);
  });

  it('BucketOwnerEnforced: always the bucket owner; switching to it hands every object to the bucket owner', async () => {
    await sharedBucket('own-enforced', 'BucketOwnerEnforced');
    await otherS3.send(new PutObjectCommand({ Bucket: 'own-enforced', Key: 'k', Body: 'x' }));
    expect(await objectOwner(s3, 'own-enforced', 'k')).toBe(ownerId);

    await sharedBucket('own-switch', 'ObjectWriter');
    await otherS3.send(new PutObjectCommand({ Bucket: 'own-switch', Key: 'theirs', Body: 'theirs' }));
    expect((await failure(s3.send(new GetObjectCommand({ Bucket: 'own-switch', Key: 'theirs' })))).name).toBe('AccessDenied');
    await s3.send(new PutBucketOwnershipControlsCommand({ Bucket: 'own-switch', OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] } }));
    const acl = await s3.send(new GetObjectAclCommand({ Bucket: 'own-switch', Key: 'theirs' }));
    expect([acl.Owner?.ID, grantsOf(acl.Grants)]).toEqual([ownerId, ownerOnly()]);
    expect(await (await s3.send(new GetObjectCommand({ Bucket: 'own-switch', Key: 'theirs' }))).Body!.transformToString()).toBe('theirs');
  });
});

describe('ACL grants count only where the ownership setting honours them', () => {
  it('an object READ grant lets the other account read; with ACLs disabled it grants nothing', async () => {
    const bucket = await aclBucket('acl-honoured', 'ObjectWriter');
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'k', GrantRead: `id="${otherId}"` }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'public', Body: 'p', ACL: 'public-read' }));
    await otherS3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k' }));
    await anonymous.send(new GetObjectCommand({ Bucket: bucket, Key: 'public' }));
    await s3.send(new PutBucketOwnershipControlsCommand({ Bucket: bucket, OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] } }));
    expect((await failure(otherS3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k' })))).$metadata?.httpStatusCode).toBe(403);
    expect((await failure(anonymous.send(new GetObjectCommand({ Bucket: bucket, Key: 'public' })))).$metadata?.httpStatusCode).toBe(403);
  });
});

describe('where ACLs are disabled (BucketOwnerEnforced, the default)', () => {
  const bucket = 'acl-disabled';
  beforeAll(async () => {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'k' }));
  });

  it('CreateBucket with a public canned ACL and no ownership header: 400 InvalidBucketAclWithObjectOwnership', async () => {
    const err = await failure(s3.send(new CreateBucketCommand({ Bucket: 'acl-disabled-public', ACL: 'public-read' })));
    expect(status(err)).toEqual(['InvalidBucketAclWithObjectOwnership', 400, "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting"]);
    const granted = await failure(s3.send(new CreateBucketCommand({ Bucket: 'acl-disabled-grant', GrantRead: `id="${otherId}"` })));
    expect(granted.name).toBe('InvalidBucketAclWithObjectOwnership');
    // The owner's full control alone, however it is written, is accepted.
    await s3.send(new CreateBucketCommand({ Bucket: 'acl-disabled-private', ACL: 'private' }));
    await s3.send(new CreateBucketCommand({ Bucket: 'acl-disabled-owner-grant', GrantFullControl: `id="${ownerId}"` }));
  });

  it('PutObjectAcl and PutBucketAcl with a grant: 400 AccessControlListNotSupported; nothing stored', async () => {
    const doc = { Owner: { ID: ownerId }, Grants: [{ Grantee: { Type: 'CanonicalUser' as const, ID: ownerId }, Permission: 'FULL_CONTROL' as const }, { Grantee: { Type: 'CanonicalUser' as const, ID: otherId }, Permission: 'READ' as const }] };
    expect(status(await failure(s3.send(new PutObjectAclCommand({ Bucket: bucket, Key: 'k', AccessControlPolicy: doc }))))).toEqual(NOT_SUPPORTED);
    expect(status(await failure(s3.send(new PutObjectAclCommand({ Bucket: bucket, Key: 'k', ACL: 'public-read' }))))).toEqual(NOT_SUPPORTED);
    expect(status(await failure(s3.send(new PutObjectAclCommand({ Bucket: bucket, Key: 'k', GrantRead: `id="${otherId}"` }))))).toEqual(NOT_SUPPORTED);
    expect(status(await failure(s3.send(new PutBucketAclCommand({ Bucket: bucket, AccessControlPolicy: doc }))))).toEqual(NOT_SUPPORTED);
    expect(status(await failure(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'n', Body: 'n', GrantRead: `id="${otherId}"` }))))).toEqual(NOT_SUPPORTED);
    expect(status(await failure(s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'n', CopySource: `${bucket}/k`, ACL: 'authenticated-read' }))))).toEqual(NOT_SUPPORTED);
    expect(status(await failure(s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'n', ACL: 'public-read' }))))).toEqual(NOT_SUPPORTED);
    expect(grantsOf((await s3.send(new GetObjectAclCommand({ Bucket: bucket, Key: 'k' }))).Grants)).toEqual(ownerOnly());
  });

  it('bucket-owner-full-control, or a body granting only the owner FULL_CONTROL, is accepted', async () => {
    await s3.send(new PutObjectAclCommand({ Bucket: bucket, Key: 'k', ACL: 'bucket-owner-full-control' }));
    // (bucket-owner-full-control is an object ACL; a bucket's own-only canned ACL is private.)
    await s3.send(new PutBucketAclCommand({ Bucket: bucket, ACL: 'private' }));
    const ownerDoc = { Owner: { ID: ownerId }, Grants: [{ Grantee: { Type: 'CanonicalUser' as const, ID: ownerId }, Permission: 'FULL_CONTROL' as const }] };
    await s3.send(new PutObjectAclCommand({ Bucket: bucket, Key: 'k', AccessControlPolicy: ownerDoc }));
    await s3.send(new PutBucketAclCommand({ Bucket: bucket, AccessControlPolicy: ownerDoc }));
    await s3.send(new PutObjectAclCommand({ Bucket: bucket, Key: 'k', GrantFullControl: `id="${ownerId}"` }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'bofc', Body: 'b', ACL: 'bucket-owner-full-control' }));
    expect(grantsOf((await s3.send(new GetBucketAclCommand({ Bucket: bucket }))).Grants)).toEqual(ownerOnly());
  });

  it('PutBucketOwnershipControls cannot disable ACLs while the bucket ACL grants to others', async () => {
    const name = await aclBucket('acl-to-enforced', 'ObjectWriter');
    await s3.send(new PutBucketAclCommand({ Bucket: name, GrantRead: `id="${otherId}"`, GrantFullControl: `id="${ownerId}"` }));
    const err = await failure(s3.send(new PutBucketOwnershipControlsCommand({ Bucket: name, OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] } })));
    expect(status(err)).toEqual(['InvalidBucketAclWithObjectOwnership', 400, "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting"]);
    await s3.send(new PutBucketAclCommand({ Bucket: name, ACL: 'private' }));
    await s3.send(new PutBucketOwnershipControlsCommand({ Bucket: name, OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] } }));
  });
});
