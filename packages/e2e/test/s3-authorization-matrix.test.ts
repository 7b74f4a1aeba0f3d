/**
 * S3 authorization as a matrix: every operation Sealbox serves x every kind of principal x every
 * policy source, each cell asserted through the real SDK v3 client (raw HTTP for POST forms).
 * The operations come from one table (OPERATIONS below) that must name every operation in
 * @sealbox/s3's OPERATION_ACCESS: a new operation cannot be served without its row here.
 *
 * A cell is "allowed" when the answer is anything but AccessDenied (an allowed DeleteBucket on a
 * bucket with objects answers BucketNotEmpty, which is fine: authorization let it through), and
 * "denied" when it is 403 AccessDenied (for DeleteObjects: the key's <Error> entry).
 */
import { createHmac } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteBucketCorsCommand,
  DeleteBucketLifecycleCommand,
  DeleteBucketEncryptionCommand,
  DeleteBucketOwnershipControlsCommand,
  DeleteBucketPolicyCommand,
  DeleteBucketTaggingCommand,
  DeleteObjectCommand,
  DeleteObjectTaggingCommand,
  DeleteObjectsCommand,
  DeletePublicAccessBlockCommand,
  GetBucketAclCommand,
  GetBucketCorsCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketEncryptionCommand,
  GetBucketLocationCommand,
  GetBucketOwnershipControlsCommand,
  GetBucketPolicyCommand,
  GetBucketPolicyStatusCommand,
  GetBucketTaggingCommand,
  GetBucketVersioningCommand,
  GetObjectAclCommand,
  GetObjectAttributesCommand,
  GetObjectCommand,
  GetObjectLegalHoldCommand,
  GetObjectLockConfigurationCommand,
  GetObjectRetentionCommand,
  GetObjectTaggingCommand,
  GetPublicAccessBlockCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListMultipartUploadsCommand,
  ListObjectVersionsCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutBucketAclCommand,
  PutBucketCorsCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketEncryptionCommand,
  PutBucketOwnershipControlsCommand,
  PutBucketPolicyCommand,
  PutBucketTaggingCommand,
  PutBucketVersioningCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  PutObjectLegalHoldCommand,
  PutObjectLockConfigurationCommand,
  PutObjectRetentionCommand,
  PutObjectTaggingCommand,
  PutPublicAccessBlockCommand,
  S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import type { Sealbox } from '@sealbox/cli';
import { OPERATION_ACCESS } from '@sealbox/s3';
import { deriveSigningKey, toAmzDate, type Credentials } from '@sealbox/sigv4';
import aws4 from 'aws4';
import { noteRequestId, s3DecisionProblems, takeRequestId, trackRequestIds } from './decision-checks';
import { s3Client, startTestSealbox } from './helpers';

const OWNER = '000000000000';
const OTHER = '111111111111';
const allowAll = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }] });
const denyAll = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }, { Effect: 'Deny', Action: 's3:*', Resource: '*' }] });

type PrincipalName = 'root' | 'allowUser' | 'noPolicyUser' | 'denyUser' | 'roleSession' | 'otherRoot' | 'otherUser' | 'anonymous';
const PRINCIPALS: PrincipalName[] = ['root', 'allowUser', 'noPolicyUser', 'denyUser', 'roleSession', 'otherRoot', 'otherUser', 'anonymous'];

/** Sets up every cell: an IAM user of the owner's account with s3:*, not itself under test. */
const SETUP_ARN = `arn:aws:iam::${OWNER}:user/setup`;
const SETUP = { accessKeyId: 'AKIDSETUP', secretAccessKey: 's-setup' };

const USERS: Credentials[] = [
  { ...SETUP, accountId: OWNER, principalArn: SETUP_ARN, policies: [allowAll] },
  { accessKeyId: 'AKIDALLOW', secretAccessKey: 's-allow', accountId: OWNER, principalArn: `arn:aws:iam::${OWNER}:user/allowed`, policies: [allowAll] },
  { accessKeyId: 'AKIDNOPOLICY', secretAccessKey: 's-none', accountId: OWNER, principalArn: `arn:aws:iam::${OWNER}:user/nobody`, policies: [] },
  { accessKeyId: 'AKIDDENY', secretAccessKey: 's-deny', accountId: OWNER, principalArn: `arn:aws:iam::${OWNER}:user/denied`, policies: [denyAll] },
  {
    accessKeyId: 'ASIAROLE',
    secretAccessKey: 's-role',
    sessionToken: 'role-session-token',
    accountId: OWNER,
    principalArn: `arn:aws:sts::${OWNER}:assumed-role/app/session-1`,
    roleArn: `arn:aws:iam::${OWNER}:role/app`,
    policies: [allowAll],
  },
  { accessKeyId: 'AKIDOTHERROOT', secretAccessKey: 's-other-root', accountId: OTHER, principalArn: `arn:aws:iam::${OTHER}:root` },
  { accessKeyId: 'AKIDOTHERUSER', secretAccessKey: 's-other-user', accountId: OTHER, principalArn: `arn:aws:iam::${OTHER}:user/partner`, policies: [allowAll] },
];
const CREDENTIALS: Record<Exclude<PrincipalName, 'anonymous'>, { accessKeyId: string; secretAccessKey: string; sessionToken?: string }> = {
  root: { accessKeyId: 'test', secretAccessKey: 'test' },
  allowUser: USERS[1]!,
  noPolicyUser: USERS[2]!,
  denyUser: USERS[3]!,
  roleSession: USERS[4]!,
  otherRoot: USERS[5]!,
  otherUser: USERS[6]!,
};

/** The policy sources, each set on its own bucket by the owner's root. */
type ScenarioName = 'identity' | 'named' | 'denyAll' | 'public' | 'restricted' | 'acl';
const SCENARIOS: ScenarioName[] = ['identity', 'named', 'denyAll', 'public', 'restricted', 'acl'];

function bucketPolicy(scenario: ScenarioName, bucket: string): string | undefined {
  const resource = [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`];
  switch (scenario) {
    case 'identity':
    case 'acl':
      return undefined;
    case 'named':
      // The no-policy user by name (same account), and the other account as a whole.
      return JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: [`arn:aws:iam::${OWNER}:user/nobody`, OTHER] }, Action: 's3:*', Resource: resource }] });
    case 'denyAll':
      // Everyone but the user that sets up each cell (not one of the principals under test).
      return JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: resource, Condition: { StringNotEquals: { 'aws:PrincipalArn': SETUP_ARN } } }],
      });
    case 'public':
    case 'restricted':
      return JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:*', Resource: resource }] });
  }
}

/**
 * The expected outcome for bucket and object operations, by policy source and principal: the
 * rules of https://docs.aws.amazon.com/AmazonS3/latest/userguide/how-s3-evaluates-access-control.html
 * written out, not computed.
 */
const EXPECTED: Record<ScenarioName, Record<PrincipalName, 'allow' | 'deny'>> = {
  //         identity policies only: the owner's account, through IAM
  identity: { root: 'allow', allowUser: 'allow', noPolicyUser: 'deny', denyUser: 'deny', roleSession: 'allow', otherRoot: 'deny', otherUser: 'deny', anonymous: 'deny' },
  //         a bucket policy naming the no-policy user and the other account
  named: { root: 'allow', allowUser: 'allow', noPolicyUser: 'allow', denyUser: 'deny', roleSession: 'allow', otherRoot: 'allow', otherUser: 'allow', anonymous: 'deny' },
  //         an explicit Deny for everyone wins over everything, the root included
  denyAll: { root: 'deny', allowUser: 'deny', noPolicyUser: 'deny', denyUser: 'deny', roleSession: 'deny', otherRoot: 'deny', otherUser: 'deny', anonymous: 'deny' },
  //         Principal "*", Block Public Access off
  public: { root: 'allow', allowUser: 'allow', noPolicyUser: 'allow', denyUser: 'deny', roleSession: 'allow', otherRoot: 'allow', otherUser: 'allow', anonymous: 'allow' },
  //         the same policy with RestrictPublicBuckets: only the owner's account still gets in
  restricted: { root: 'allow', allowUser: 'allow', noPolicyUser: 'allow', denyUser: 'deny', roleSession: 'allow', otherRoot: 'deny', otherUser: 'deny', anonymous: 'deny' },
  //         ACLs on (ObjectWriter), Block Public Access off, bucket and objects granting FULL_CONTROL
  //         to AllUsers, no policy: for an action an ACL can grant (aclGrantable rows) everyone but
  //         an explicit identity Deny gets in, as with a public policy; for the others, as 'identity'.
  //         https://docs.aws.amazon.com/AmazonS3/latest/userguide/acl-overview.html#permissions
  acl: { root: 'allow', allowUser: 'allow', noPolicyUser: 'allow', denyUser: 'deny', roleSession: 'allow', otherRoot: 'allow', otherUser: 'allow', anonymous: 'allow' },
};

/** Account-level operations: identity policies alone, whatever the bucket says. */
const SERVICE_EXPECTED: Record<PrincipalName, 'allow' | 'deny'> = {
  root: 'allow', allowUser: 'allow', noPolicyUser: 'deny', denyUser: 'deny', roleSession: 'allow', otherRoot: 'allow', otherUser: 'allow', anonymous: 'deny',
};

interface Ctx {
  client: S3Client;
  principal: PrincipalName;
  bucket: string;
  /** A key the owner wrote before this cell. */
  key: string;
  /** Set by prepare: an upload the owner started (with one part). */
  uploadId?: string;
  etag?: string;
  /** A unique suffix for this cell. */
  n: number;
}

interface OperationRow {
  /** The OPERATION_ACCESS name this row exercises. */
  operation: string;
  /** Account-level (identity only). */
  service?: boolean;
  /** The bucket policy operations: an allowed caller from outside the owner's account gets 405. */
  policyOperation?: boolean;
  /** Every action the row needs is one an ACL grant (READ, WRITE, READ_ACP, WRITE_ACP) can give. */
  aclGrantable?: boolean;
  /** Work the owner does before the cell. */
  prepare?: (owner: S3Client, ctx: Ctx) => Promise<void>;
  /** The call; returns 'denied' itself when the refusal is not an exception (DeleteObjects). */
  call: (ctx: Ctx) => Promise<unknown>;
}

const body = 'matrix data';
const ALL_USERS = 'uri="http://acs.amazonaws.com/groups/global/AllUsers"';
const policyFor = (ctx: Ctx) => bucketPolicy('named', ctx.bucket)!;
const startUpload = async (owner: S3Client, ctx: Ctx, withPart = false) => {
  const up = await owner.send(new CreateMultipartUploadCommand({ Bucket: ctx.bucket, Key: `mp-${ctx.n}` }));
  ctx.uploadId = up.UploadId;
  if (withPart) ctx.etag = (await owner.send(new UploadPartCommand({ Bucket: ctx.bucket, Key: `mp-${ctx.n}`, UploadId: up.UploadId, PartNumber: 1, Body: 'part' }))).ETag;
};

const OPERATIONS: OperationRow[] = [
  { operation: 'ListBuckets', service: true, call: ({ client }) => client.send(new ListBucketsCommand({})) },
  { operation: 'CreateBucket', service: true, call: ({ client, n }) => client.send(new CreateBucketCommand({ Bucket: `mx-created-${n}` })) },
  // The bucket keeps objects, so an allowed DeleteBucket answers BucketNotEmpty and the bucket stays.
  { operation: 'DeleteBucket', call: ({ client, bucket }) => client.send(new DeleteBucketCommand({ Bucket: bucket })) },
  { operation: 'HeadBucket', aclGrantable: true, call: ({ client, bucket }) => client.send(new HeadBucketCommand({ Bucket: bucket })) },
  { operation: 'GetBucketLocation', call: ({ client, bucket }) => client.send(new GetBucketLocationCommand({ Bucket: bucket })) },
  { operation: 'PutBucketVersioning', call: ({ client, bucket }) => client.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Suspended' } })) },
  { operation: 'GetBucketVersioning', call: ({ client, bucket }) => client.send(new GetBucketVersioningCommand({ Bucket: bucket })) },
  { operation: 'PutBucketTagging', call: ({ client, bucket }) => client.send(new PutBucketTaggingCommand({ Bucket: bucket, Tagging: { TagSet: [{ Key: 'k', Value: 'v' }] } })) },
  { operation: 'GetBucketTagging', call: ({ client, bucket }) => client.send(new GetBucketTaggingCommand({ Bucket: bucket })) },
  { operation: 'DeleteBucketTagging', call: ({ client, bucket }) => client.send(new DeleteBucketTaggingCommand({ Bucket: bucket })) },
  { operation: 'ListObjects', aclGrantable: true, call: ({ client, bucket }) => client.send(new ListObjectsCommand({ Bucket: bucket })) },
  { operation: 'ListObjectsV2', aclGrantable: true, call: ({ client, bucket }) => client.send(new ListObjectsV2Command({ Bucket: bucket })) },
  { operation: 'ListObjectVersions', aclGrantable: true, call: ({ client, bucket }) => client.send(new ListObjectVersionsCommand({ Bucket: bucket })) },
  { operation: 'ListMultipartUploads', aclGrantable: true, call: ({ client, bucket }) => client.send(new ListMultipartUploadsCommand({ Bucket: bucket })) },
  // Writing the current settings back keeps each scenario's bucket as it was.
  {
    operation: 'PutPublicAccessBlock',
    call: async ({ client, bucket }) => client.send(new PutPublicAccessBlockCommand({ Bucket: bucket, PublicAccessBlockConfiguration: currentBlock.get(bucket)! })),
  },
  { operation: 'GetPublicAccessBlock', call: ({ client, bucket }) => client.send(new GetPublicAccessBlockCommand({ Bucket: bucket })) },
  {
    operation: 'DeletePublicAccessBlock',
    // Only where deleting it changes nothing that matters to the scenario.
    call: ({ client, bucket }) => client.send(new DeletePublicAccessBlockCommand({ Bucket: bucket })),
  },
  { operation: 'PutBucketOwnershipControls', call: ({ client, bucket }) => client.send(new PutBucketOwnershipControlsCommand({ Bucket: bucket, OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] } })) },
  { operation: 'GetBucketOwnershipControls', call: ({ client, bucket }) => client.send(new GetBucketOwnershipControlsCommand({ Bucket: bucket })) },
  { operation: 'DeleteBucketOwnershipControls', call: ({ client, bucket }) => client.send(new DeleteBucketOwnershipControlsCommand({ Bucket: bucket })) },
  { operation: 'GetBucketAcl', aclGrantable: true, call: ({ client, bucket }) => client.send(new GetBucketAclCommand({ Bucket: bucket })) },
  { operation: 'PutBucketAcl', aclGrantable: true, call: ({ client, bucket }) => client.send(new PutBucketAclCommand({ Bucket: bucket, ACL: 'private' })) },
  { operation: 'PutBucketCors', call: ({ client, bucket }) => client.send(new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: { CORSRules: [{ AllowedMethods: ['GET'], AllowedOrigins: ['https://app.example'] }] } })) },
  { operation: 'GetBucketCors', call: ({ client, bucket }) => client.send(new GetBucketCorsCommand({ Bucket: bucket })) },
  { operation: 'DeleteBucketCors', call: ({ client, bucket }) => client.send(new DeleteBucketCorsCommand({ Bucket: bucket })) },
  {
    operation: 'PutBucketLifecycleConfiguration',
    call: ({ client, bucket }) =>
      client.send(new PutBucketLifecycleConfigurationCommand({ Bucket: bucket, LifecycleConfiguration: { Rules: [{ ID: 'r', Status: 'Enabled', Filter: { Prefix: 'tmp/' }, Expiration: { Days: 30 } }] } })),
  },
  { operation: 'GetBucketLifecycleConfiguration', call: ({ client, bucket }) => client.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket })) },
  { operation: 'DeleteBucketLifecycleConfiguration', call: ({ client, bucket }) => client.send(new DeleteBucketLifecycleCommand({ Bucket: bucket })) },
  // The scenario's own policy is written back (for denyAll the public one would be blocked or change the scenario: see policyOperation).
  { operation: 'PutBucketPolicy', policyOperation: true, call: (ctx) => ctx.client.send(new PutBucketPolicyCommand({ Bucket: ctx.bucket, Policy: currentPolicy.get(ctx.bucket) ?? policyFor(ctx) })) },
  { operation: 'GetBucketPolicy', policyOperation: true, call: ({ client, bucket }) => client.send(new GetBucketPolicyCommand({ Bucket: bucket })) },
  // DeleteBucketPolicy is exercised on its own bucket per cell (prepare gives it the scenario's policy).
  { operation: 'DeleteBucketPolicy', policyOperation: true, call: ({ client, bucket }) => client.send(new DeleteBucketPolicyCommand({ Bucket: bucket })) },
  { operation: 'GetBucketPolicyStatus', call: ({ client, bucket }) => client.send(new GetBucketPolicyStatusCommand({ Bucket: bucket })) },
  { operation: 'GetBucketEncryption', call: ({ client, bucket }) => client.send(new GetBucketEncryptionCommand({ Bucket: bucket })) },
  {
    operation: 'PutBucketEncryption',
    call: ({ client, bucket }) => client.send(new PutBucketEncryptionCommand({ Bucket: bucket, ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] } })),
  },
  { operation: 'DeleteBucketEncryption', call: ({ client, bucket }) => client.send(new DeleteBucketEncryptionCommand({ Bucket: bucket })) },

  { operation: 'PutObject', aclGrantable: true, call: ({ client, bucket, n }) => client.send(new PutObjectCommand({ Bucket: bucket, Key: `put-${n}`, Body: body })) },
  { operation: 'GetObject', aclGrantable: true, call: ({ client, bucket, key }) => client.send(new GetObjectCommand({ Bucket: bucket, Key: key })) },
  { operation: 'GetObject', aclGrantable: true, call: ({ client, bucket, key }) => client.send(new GetObjectCommand({ Bucket: bucket, Key: key, VersionId: 'null' })) },
  { operation: 'HeadObject', aclGrantable: true, call: ({ client, bucket, key }) => client.send(new HeadObjectCommand({ Bucket: bucket, Key: key })) },
  { operation: 'DeleteObject', aclGrantable: true, call: ({ client, bucket, key }) => client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })) },
  { operation: 'DeleteObject', aclGrantable: true, call: ({ client, bucket, key }) => client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key, VersionId: 'null' })) },
  {
    operation: 'DeleteObjects',
    aclGrantable: true,
    call: async ({ client, bucket, key }) => {
      const out = await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: key }] } }));
      if (out.Errors?.[0]?.Code === 'AccessDenied') throw Object.assign(new Error(out.Errors[0].Message), { name: 'AccessDenied' });
      return out;
    },
  },
  { operation: 'CopyObject', aclGrantable: true, call: ({ client, bucket, key, n }) => client.send(new CopyObjectCommand({ Bucket: bucket, Key: `copy-${n}`, CopySource: `${bucket}/${key}` })) },
  { operation: 'PutObjectTagging', call: ({ client, bucket, key }) => client.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: key, Tagging: { TagSet: [{ Key: 't', Value: '1' }] } })) },
  { operation: 'GetObjectTagging', call: ({ client, bucket, key }) => client.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key })) },
  // Object Lock: the scenario buckets have none, so an allowed call answers 400 or 404 or 409, never 403.
  { operation: 'PutObjectLockConfiguration', call: ({ client, bucket }) => client.send(new PutObjectLockConfigurationCommand({ Bucket: bucket, ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled' } })) },
  { operation: 'GetObjectLockConfiguration', call: ({ client, bucket }) => client.send(new GetObjectLockConfigurationCommand({ Bucket: bucket })) },
  { operation: 'PutObjectRetention', call: ({ client, bucket, key }) => client.send(new PutObjectRetentionCommand({ Bucket: bucket, Key: key, Retention: { Mode: 'GOVERNANCE', RetainUntilDate: new Date(Date.now() + 86_400_000) } })) },
  { operation: 'GetObjectRetention', call: ({ client, bucket, key }) => client.send(new GetObjectRetentionCommand({ Bucket: bucket, Key: key })) },
  { operation: 'PutObjectLegalHold', call: ({ client, bucket, key }) => client.send(new PutObjectLegalHoldCommand({ Bucket: bucket, Key: key, LegalHold: { Status: 'ON' } })) },
  { operation: 'GetObjectLegalHold', call: ({ client, bucket, key }) => client.send(new GetObjectLegalHoldCommand({ Bucket: bucket, Key: key })) },
  { operation: 'DeleteObjectTagging', call: ({ client, bucket, key }) => client.send(new DeleteObjectTaggingCommand({ Bucket: bucket, Key: key })) },
  { operation: 'GetObjectAcl', aclGrantable: true, call: ({ client, bucket, key }) => client.send(new GetObjectAclCommand({ Bucket: bucket, Key: key })) },
  { operation: 'PutObjectAcl', aclGrantable: true, call: ({ client, bucket, key }) => client.send(new PutObjectAclCommand({ Bucket: bucket, Key: key, ACL: 'private' })) },
  { operation: 'GetObjectAttributes', call: ({ client, bucket, key }) => client.send(new GetObjectAttributesCommand({ Bucket: bucket, Key: key, ObjectAttributes: ['ETag'] })) },
  { operation: 'CreateMultipartUpload', aclGrantable: true, call: ({ client, bucket, n }) => client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: `mpu-${n}` })) },
  {
    operation: 'UploadPart',
    aclGrantable: true,
    prepare: (owner, ctx) => startUpload(owner, ctx),
    call: ({ client, bucket, n, uploadId }) => client.send(new UploadPartCommand({ Bucket: bucket, Key: `mp-${n}`, UploadId: uploadId, PartNumber: 1, Body: 'p' })),
  },
  {
    operation: 'UploadPartCopy',
    aclGrantable: true,
    prepare: (owner, ctx) => startUpload(owner, ctx),
    call: ({ client, bucket, key, n, uploadId }) => client.send(new UploadPartCopyCommand({ Bucket: bucket, Key: `mp-${n}`, UploadId: uploadId, PartNumber: 1, CopySource: `${bucket}/${key}` })),
  },
  {
    operation: 'CompleteMultipartUpload',
    aclGrantable: true,
    prepare: (owner, ctx) => startUpload(owner, ctx, true),
    call: ({ client, bucket, n, uploadId, etag }) =>
      client.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: `mp-${n}`, UploadId: uploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: etag }] } })),
  },
  {
    operation: 'AbortMultipartUpload',
    prepare: (owner, ctx) => startUpload(owner, ctx),
    call: ({ client, bucket, n, uploadId }) => client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: `mp-${n}`, UploadId: uploadId })),
  },
  {
    operation: 'ListParts',
    prepare: (owner, ctx) => startUpload(owner, ctx),
    call: ({ client, bucket, n, uploadId }) => client.send(new ListPartsCommand({ Bucket: bucket, Key: `mp-${n}`, UploadId: uploadId })),
  },
  { operation: 'PostObject', aclGrantable: true, call: (ctx) => postForm(ctx) },
  // S3 Control, account-level Block Public Access, on the caller's own account (all off: changes nothing).
  { operation: 'GetAccountPublicAccessBlock', service: true, call: (ctx) => controlCall(ctx, 'GET') },
  { operation: 'PutAccountPublicAccessBlock', service: true, call: (ctx) => controlCall(ctx, 'PUT', OFF_BLOCK) },
  { operation: 'DeleteAccountPublicAccessBlock', service: true, call: (ctx) => controlCall(ctx, 'DELETE') },
  // A CORS preflight is answered by the bucket's CORS rules, not by authorization.
  { operation: 'PreflightRequest', call: async () => undefined },
];

let sealbox: Sealbox;
let owner: S3Client;
const clients = new Map<PrincipalName, S3Client>();
const currentPolicy = new Map<string, string>();
const currentBlock = new Map<string, { BlockPublicAcls: boolean; IgnorePublicAcls: boolean; BlockPublicPolicy: boolean; RestrictPublicBuckets: boolean }>();

beforeAll(async () => {
  sealbox = await startTestSealbox({ only: 's3', users: USERS });
  owner = s3Client(sealbox, { credentials: SETUP });
  for (const p of PRINCIPALS) {
    if (p === 'anonymous') {
      // Unsigned requests, as a browser or curl sends them.
      clients.set(p, trackRequestIds(s3Client(sealbox, { signer: { sign: async (request) => request } })));
    } else clients.set(p, trackRequestIds(s3Client(sealbox, { credentials: CREDENTIALS[p] })));
  }
});

afterAll(async () => {
  owner.destroy();
  for (const c of clients.values()) c.destroy();
  await sealbox.stop();
});

let counter = 0;

/** A bucket set up for one scenario by the setup user. */
async function scenarioBucket(scenario: ScenarioName, suffix: string): Promise<string> {
  const bucket = `mx-${scenario.toLowerCase()}-${suffix}`;
  const acl = scenario === 'acl';
  await owner.send(new CreateBucketCommand({ Bucket: bucket, ...(acl ? { ObjectOwnership: 'ObjectWriter' as const } : {}) }));
  await owner.send(new PutObjectCommand({ Bucket: bucket, Key: 'keep', Body: 'keeps the bucket non-empty' }));
  const block = acl
    ? { BlockPublicAcls: false, IgnorePublicAcls: false, BlockPublicPolicy: true, RestrictPublicBuckets: true }
    : { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: scenario !== 'public' && scenario !== 'restricted', RestrictPublicBuckets: scenario !== 'public' };
  // Public policies need BlockPublicPolicy off first; RestrictPublicBuckets then applies or not.
  await owner.send(new PutPublicAccessBlockCommand({ Bucket: bucket, PublicAccessBlockConfiguration: { ...block, BlockPublicPolicy: false } }));
  const policy = bucketPolicy(scenario, bucket);
  if (policy) {
    await owner.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: policy }));
    currentPolicy.set(bucket, policy);
  }
  await owner.send(new PutPublicAccessBlockCommand({ Bucket: bucket, PublicAccessBlockConfiguration: block }));
  currentBlock.set(bucket, block);
  if (acl) await owner.send(new PutBucketAclCommand({ Bucket: bucket, GrantFullControl: ALL_USERS }));
  return bucket;
}

/** The outcome of one call: allowed (anything but a refusal), denied, or 405 for policy operations. */
async function outcome(call: () => Promise<unknown>): Promise<string> {
  try {
    await call();
    return 'allow';
  } catch (err) {
    const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
    // HEAD answers carry no body: a bare 403 is the refusal.
    if (e.name === 'AccessDenied' || (e.$metadata?.httpStatusCode === 403 && (e.name === 'Forbidden' || e.name === 'Unknown'))) return 'deny';
    if (e.name === 'MethodNotAllowed' || e.$metadata?.httpStatusCode === 405) return '405';
    if (e.$metadata?.httpStatusCode === 403) return `403 ${e.name}`;
    // Any other 4xx is an answer past authorization (BucketNotEmpty, NoSuchCORSConfiguration...);
    // a 5xx is a failure, never an allowed cell.
    if ((e.$metadata?.httpStatusCode ?? 500) >= 500) return `error ${e.$metadata?.httpStatusCode} ${e.name}`;
    return 'allow';
  }
}

function expected(row: OperationRow, scenario: ScenarioName, principal: PrincipalName): string {
  if (row.operation === 'PreflightRequest') return 'allow';
  if (row.service) return SERVICE_EXPECTED[principal];
  // ACLs grant only what they can; everything else is decided as without them.
  if (scenario === 'acl' && !row.aclGrantable) scenario = 'identity';
  if (row.policyOperation) {
    // The owner's root may always manage the policy; others of the owner's account as any action;
    // an allowed caller from elsewhere gets 405.
    if (principal === 'root') return 'allow';
    const e = EXPECTED[scenario][principal];
    const outsider = principal === 'otherRoot' || principal === 'otherUser' || principal === 'anonymous';
    return e === 'allow' && outsider ? '405' : e;
  }
  return EXPECTED[scenario][principal];
}

it('every operation S3 serves has a row in the matrix', () => {
  const covered = new Set(OPERATIONS.map((r) => r.operation));
  expect(Object.keys(OPERATION_ACCESS).filter((op) => !covered.has(op))).toEqual([]);
});

describe.each(SCENARIOS)('policy source: %s', (scenario) => {
  it.each(PRINCIPALS)('%s: every operation as the table says', async (principal) => {
    const client = clients.get(principal)!;
    const mismatches: string[] = [];
    for (const row of OPERATIONS) {
      const n = ++counter;
      // Operations that change what the scenario is made of get a bucket of their own.
      const own = ['DeleteBucketPolicy', 'DeletePublicAccessBlock', 'PutBucketPolicy', 'PutBucketAcl', 'PutBucketOwnershipControls'].includes(row.operation);
      const bucket = own ? await scenarioBucket(scenario, `own-${n}`) : await sharedBucket(scenario);
      const key = `obj-${n}`;
      await owner.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ...(scenario === 'acl' ? { GrantFullControl: ALL_USERS } : {}) }));
      const ctx: Ctx = { client, principal, bucket, key, n };
      await row.prepare?.(owner, ctx);
      const got = await outcome(() => row.call(ctx));
      const want = expected(row, scenario, principal);
      if (got !== want) mismatches.push(`${row.operation}#${OPERATIONS.indexOf(row)}: expected ${want}, got ${got}`);
      // The request's decision record agrees with the answer (decision-checks.ts); a preflight makes no request.
      else if (row.operation !== 'PreflightRequest') {
        const cell = { scenario, principal, got, service: row.service, aclGranted: scenario === 'acl' && row.aclGrantable };
        mismatches.push(...s3DecisionProblems(sealbox, takeRequestId(), cell).map((p) => `${row.operation}#${OPERATIONS.indexOf(row)}: ${p}`));
      }
    }
    expect(mismatches).toEqual([]);
  });
});

const shared = new Map<ScenarioName, Promise<string>>();
function sharedBucket(scenario: ScenarioName): Promise<string> {
  let b = shared.get(scenario);
  if (!b) {
    b = scenarioBucket(scenario, 'shared');
    shared.set(scenario, b);
  }
  return b;
}

const OFF_BLOCK =
  '<PublicAccessBlockConfiguration xmlns="http://awss3control.amazonaws.com/doc/2018-08-20/"><BlockPublicAcls>false</BlockPublicAcls><IgnorePublicAcls>false</IgnorePublicAcls><BlockPublicPolicy>false</BlockPublicPolicy><RestrictPublicBuckets>false</RestrictPublicBuckets></PublicAccessBlockConfiguration>';

/** An S3 Control call as the SDKs sign it (service s3), for the caller's own account. */
async function controlCall(ctx: Ctx, method: string, body?: string): Promise<void> {
  const url = new URL(sealbox.s3!.url);
  const account = ctx.principal === 'otherRoot' || ctx.principal === 'otherUser' ? OTHER : OWNER;
  const request = { host: url.host, method, path: '/v20180820/configuration/publicAccessBlock', service: 's3', region: 'us-east-1', headers: { 'x-amz-account-id': account } as Record<string, string>, body };
  if (ctx.principal !== 'anonymous') aws4.sign(request, CREDENTIALS[ctx.principal]);
  const res = await fetch(`${sealbox.s3!.url}${request.path}`, { method, headers: request.headers, body });
  noteRequestId(res.headers.get('x-amz-request-id'));
  const text = await res.text();
  if (res.status >= 300) throw Object.assign(new Error(text), { name: /<Code>(\w+)<\/Code>/.exec(text)?.[1] ?? 'Unknown', $metadata: { httpStatusCode: res.status } });
}

/** A browser POST upload: signed with the principal's key, or an anonymous form. */
async function postForm(ctx: Ctx): Promise<void> {
  const fields: Record<string, string> = { key: `post-${ctx.n}` };
  const creds = ctx.principal === 'anonymous' ? undefined : CREDENTIALS[ctx.principal];
  if (creds) {
    const date = toAmzDate(new Date());
    const credential = `${creds.accessKeyId}/${date.slice(0, 8)}/us-east-1/s3/aws4_request`;
    const conditions: unknown[] = [{ bucket: ctx.bucket }, { key: fields.key }, { 'x-amz-algorithm': 'AWS4-HMAC-SHA256' }, { 'x-amz-credential': credential }, { 'x-amz-date': date }];
    if (creds.sessionToken) conditions.push({ 'x-amz-security-token': creds.sessionToken });
    const policy = Buffer.from(JSON.stringify({ expiration: new Date(Date.now() + 600_000).toISOString(), conditions })).toString('base64');
    const signature = createHmac('sha256', deriveSigningKey(creds.secretAccessKey, date.slice(0, 8), 'us-east-1', 's3')).update(policy).digest('hex');
    Object.assign(fields, { 'X-Amz-Algorithm': 'AWS4-HMAC-SHA256', 'X-Amz-Credential': credential, 'X-Amz-Date': date, Policy: policy, 'X-Amz-Signature': signature });
    if (creds.sessionToken) fields['X-Amz-Security-Token'] = creds.sessionToken;
  }
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  form.append('file', new Blob([body]), 'file.txt');
  const res = await fetch(`${sealbox.s3!.url}/${ctx.bucket}`, { method: 'POST', body: form });
  noteRequestId(res.headers.get('x-amz-request-id'));
  const text = await res.text();
  if (res.status === 403) throw Object.assign(new Error(text), { name: /<Code>(\w+)<\/Code>/.exec(text)?.[1] ?? 'Forbidden', $metadata: { httpStatusCode: 403 } });
  if (res.status >= 300) throw Object.assign(new Error(text), { name: 'Unexpected', $metadata: { httpStatusCode: res.status } });
}
