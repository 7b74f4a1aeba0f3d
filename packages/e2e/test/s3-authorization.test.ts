/**
 * S3 authorization along the paths around the front door: copies, DeleteObjects, POST forms,
 * Block Public Access, S3 Bucket Keys, SSE-KMS transport rules and AWS's exact answers. The
 * operation x principal x policy-source table is s3-authorization-matrix.test.ts.
 */
import { createHmac } from 'node:crypto';
import aws4 from 'aws4';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  DeletePublicAccessBlockCommand,
  GetBucketPolicyCommand,
  GetBucketPolicyStatusCommand,
  GetObjectAclCommand,
  GetObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutBucketAclCommand,
  PutObjectAclCommand,
  HeadObjectCommand,
  PutBucketEncryptionCommand,
  PutBucketPolicyCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutPublicAccessBlockCommand,
  UploadPartCopyCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { CreateKeyCommand, type KMSClient } from '@aws-sdk/client-kms';
import type { Sealbox } from '@sealbox/cli';
import { deriveSigningKey, toAmzDate, type Credentials } from '@sealbox/sigv4';
import { failure, httpsCall, kmsClient, s3Client, startTestSealbox, tlsKmsClient, tlsS3Client } from './helpers';

const OWNER = '000000000000';
const OTHER = '111111111111';
const allow = (action: string, resource = '*') => JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: action, Resource: resource }] });
const USERS: Credentials[] = [
  { accessKeyId: 'AKIDS3ONLY', secretAccessKey: 's3only', accountId: OWNER, principalArn: `arn:aws:iam::${OWNER}:user/s3-only`, policies: [allow('s3:*')] },
  { accessKeyId: 'AKIDNONE', secretAccessKey: 'none', accountId: OWNER, principalArn: `arn:aws:iam::${OWNER}:user/nobody`, policies: [] },
  { accessKeyId: 'AKIDOTHER', secretAccessKey: 'other', accountId: OTHER, principalArn: `arn:aws:iam::${OTHER}:root` },
];
const s3Only = { accessKeyId: 'AKIDS3ONLY', secretAccessKey: 's3only' };
const nobody = { accessKeyId: 'AKIDNONE', secretAccessKey: 'none' };
const other = { accessKeyId: 'AKIDOTHER', secretAccessKey: 'other' };

let sealbox: Sealbox;
let s3: S3Client;
let kms: KMSClient;
beforeAll(async () => {
  sealbox = await startTestSealbox({ users: USERS, tls: true });
  s3 = tlsS3Client(sealbox);
  kms = tlsKmsClient(sealbox);
});
afterAll(async () => {
  s3.destroy();
  kms.destroy();
  await sealbox.stop();
});

const policy = (bucket: string, statements: unknown[]) => ({ Bucket: bucket, Policy: JSON.stringify({ Version: '2012-10-17', Statement: statements }) });

it('a copy reads its source: a source bucket that denies s3:GetObject stops CopyObject and UploadPartCopy', async () => {
  await s3.send(new CreateBucketCommand({ Bucket: 'copy-src' }));
  await s3.send(new CreateBucketCommand({ Bucket: 'copy-dst' }));
  await s3.send(new PutObjectCommand({ Bucket: 'copy-src', Key: 'secret', Body: 'secret data' }));
  await s3.send(new PutObjectCommand({ Bucket: 'copy-src', Key: 'open', Body: 'open data' }));
  await s3.send(new PutBucketPolicyCommand(policy('copy-src', [{ Effect: 'Deny', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::copy-src/secret' }])));
  const err = await failure(s3.send(new CopyObjectCommand({ Bucket: 'copy-dst', Key: 'stolen', CopySource: 'copy-src/secret' })));
  expect(err.name).toBe('AccessDenied');
  expect(err.message).toBe(`User: arn:aws:iam::${OWNER}:root is not authorized to perform: s3:GetObject on resource: "arn:aws:s3:::copy-src/secret" with an explicit deny in a resource-based policy`);
  expect(err.$metadata?.httpStatusCode).toBe(403);
  expect((await failure(s3.send(new HeadObjectCommand({ Bucket: 'copy-dst', Key: 'stolen' })))).$metadata?.httpStatusCode).toBe(404);
  const upload = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'copy-dst', Key: 'parts' }));
  const partErr = await failure(s3.send(new UploadPartCopyCommand({ Bucket: 'copy-dst', Key: 'parts', UploadId: upload.UploadId, PartNumber: 1, CopySource: 'copy-src/secret' })));
  expect(partErr.name).toBe('AccessDenied');
  // The same copy of an object the policy does not protect goes through.
  await s3.send(new CopyObjectCommand({ Bucket: 'copy-dst', Key: 'fine', CopySource: 'copy-src/open' }));
  // A copy from another account's bucket needs that bucket's policy to allow the read.
  const otherS3 = tlsS3Client(sealbox, { credentials: other });
  try {
    await otherS3.send(new CreateBucketCommand({ Bucket: 'other-dst' }));
    expect((await failure(otherS3.send(new CopyObjectCommand({ Bucket: 'other-dst', Key: 'x', CopySource: 'copy-src/open' })))).message).toBe('Access Denied');
  } finally {
    otherS3.destroy();
  }
});

it('a copy of a named version reads it with s3:GetObjectVersion: a Deny on that action stops CopyObject and UploadPartCopy of the version', async () => {
  await s3.send(new CreateBucketCommand({ Bucket: 'copy-versions' }));
  await s3.send(new PutBucketVersioningCommand({ Bucket: 'copy-versions', VersioningConfiguration: { Status: 'Enabled' } }));
  const { VersionId } = await s3.send(new PutObjectCommand({ Bucket: 'copy-versions', Key: 'old', Body: 'version data' }));
  await s3.send(new PutBucketPolicyCommand(policy('copy-versions', [{ Effect: 'Deny', Principal: '*', Action: 's3:GetObjectVersion', Resource: 'arn:aws:s3:::copy-versions/*' }])));
  const source = `copy-versions/old?versionId=${VersionId}`;
  const err = await failure(s3.send(new CopyObjectCommand({ Bucket: 'copy-dst', Key: 'stolen-version', CopySource: source })));
  expect([err.name, err.$metadata?.httpStatusCode]).toEqual(['AccessDenied', 403]);
  expect(err.message).toBe(`User: arn:aws:iam::${OWNER}:root is not authorized to perform: s3:GetObjectVersion on resource: "arn:aws:s3:::copy-versions/old" with an explicit deny in a resource-based policy`);
  expect((await failure(s3.send(new HeadObjectCommand({ Bucket: 'copy-dst', Key: 'stolen-version' })))).$metadata?.httpStatusCode).toBe(404);
  const upload = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'copy-dst', Key: 'version-parts' }));
  const partErr = await failure(s3.send(new UploadPartCopyCommand({ Bucket: 'copy-dst', Key: 'version-parts', UploadId: upload.UploadId, PartNumber: 1, CopySource: source })));
  expect([partErr.name, partErr.message]).toEqual(['AccessDenied', err.message]);
  // The current version, named by key alone, is read with s3:GetObject, which the policy allows.
  await s3.send(new CopyObjectCommand({ Bucket: 'copy-dst', Key: 'current', CopySource: 'copy-versions/old' }));
});

it('DeleteObjects judges each key: a protected key is an AccessDenied entry, the others are deleted', async () => {
  await s3.send(new CreateBucketCommand({ Bucket: 'multi-delete' }));
  for (const key of ['keep/a', 'keep/b', 'tmp/a', 'tmp/b']) await s3.send(new PutObjectCommand({ Bucket: 'multi-delete', Key: key, Body: key }));
  await s3.send(new PutBucketPolicyCommand(policy('multi-delete', [{ Effect: 'Deny', Principal: '*', Action: 's3:DeleteObject', Resource: 'arn:aws:s3:::multi-delete/keep/*' }])));
  const out = await s3.send(new DeleteObjectsCommand({ Bucket: 'multi-delete', Delete: { Objects: ['keep/a', 'tmp/a', 'keep/b', 'tmp/b'].map((Key) => ({ Key })) } }));
  expect(out.Deleted?.map((d) => d.Key).sort()).toEqual(['tmp/a', 'tmp/b']);
  expect(out.Errors?.map((e) => [e.Key, e.Code]).sort()).toEqual([
    ['keep/a', 'AccessDenied'],
    ['keep/b', 'AccessDenied'],
  ]);
  expect(out.Errors?.[0]?.Message).toMatch(/^User: arn:aws:iam::000000000000:root is not authorized to perform: s3:DeleteObject on resource: "arn:aws:s3:::multi-delete\/keep\/[ab]" with an explicit deny in a resource-based policy$/);
  expect(await (await s3.send(new GetObjectCommand({ Bucket: 'multi-delete', Key: 'keep/a' }))).Body!.transformToString()).toBe('keep/a');
  expect((await failure(s3.send(new HeadObjectCommand({ Bucket: 'multi-delete', Key: 'tmp/a' })))).$metadata?.httpStatusCode).toBe(404);
});

/** A SigV4 browser form for `bucket`, signed by `creds`, with extra fields (and their policy conditions). */
function signedForm(bucket: string, key: string, creds: { accessKeyId: string; secretAccessKey: string }, extra: Record<string, string> = {}): Record<string, string> {
  const date = toAmzDate(new Date());
  const credential = `${creds.accessKeyId}/${date.slice(0, 8)}/us-east-1/s3/aws4_request`;
  const conditions = [{ bucket }, { key }, { 'x-amz-algorithm': 'AWS4-HMAC-SHA256' }, { 'x-amz-credential': credential }, { 'x-amz-date': date }, ...Object.entries(extra).map(([k, v]) => ({ [k]: v }))];
  const doc = Buffer.from(JSON.stringify({ expiration: new Date(Date.now() + 600_000).toISOString(), conditions })).toString('base64');
  const signature = createHmac('sha256', deriveSigningKey(creds.secretAccessKey, date.slice(0, 8), 'us-east-1', 's3')).update(doc).digest('hex');
  return { key, ...extra, 'X-Amz-Algorithm': 'AWS4-HMAC-SHA256', 'X-Amz-Credential': credential, 'X-Amz-Date': date, Policy: doc, 'X-Amz-Signature': signature };
}

async function postForm(bucket: string, fields: Record<string, string>) {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  form.append('file', new Blob(['posted']), 'f.txt');
  const encoded = new Request('https://form.invalid/', { method: 'POST', body: form });
  return httpsCall(sealbox, `${sealbox.s3!.url}/${bucket}`, { method: 'POST', headers: { 'content-type': encoded.headers.get('content-type')! }, body: Buffer.from(await encoded.arrayBuffer()) });
}

it('POST forms are authorized like PutObject: the bucket policy with the form fields as condition keys, the signer identity policies', async () => {
  await s3.send(new CreateBucketCommand({ Bucket: 'post-policy' }));
  // The seed document's policy: deny PutObject unless aws:kms, plus a protected prefix.
  await s3.send(
    new PutBucketPolicyCommand(
      policy('post-policy', [
        { Sid: 'RequireKms', Effect: 'Deny', Principal: '*', Action: 's3:PutObject', Resource: 'arn:aws:s3:::post-policy/*', Condition: { StringNotEquals: { 's3:x-amz-server-side-encryption': 'aws:kms' } } },
        { Sid: 'Frozen', Effect: 'Deny', Principal: '*', Action: 's3:PutObject', Resource: 'arn:aws:s3:::post-policy/frozen/*' },
      ]),
    ),
  );
  const plain = await postForm('post-policy', signedForm('post-policy', 'plain.txt', { accessKeyId: 'test', secretAccessKey: 'test' }));
  expect(plain.status).toBe(403);
  expect(plain.text).toContain('<Code>AccessDenied</Code>');
  expect(plain.text).toContain('with an explicit deny in a resource-based policy');
  const frozen = await postForm('post-policy', signedForm('post-policy', 'frozen/x', { accessKeyId: 'test', secretAccessKey: 'test' }, { 'x-amz-server-side-encryption': 'aws:kms' }));
  expect(frozen.status).toBe(403);
  const kmsOk = await postForm('post-policy', signedForm('post-policy', 'ok.txt', { accessKeyId: 'test', secretAccessKey: 'test' }, { 'x-amz-server-side-encryption': 'aws:kms' }));
  expect(kmsOk.status).toBe(204);
  expect((await s3.send(new HeadObjectCommand({ Bucket: 'post-policy', Key: 'ok.txt' }))).ServerSideEncryption).toBe('aws:kms');
  for (const key of ['plain.txt', 'frozen/x']) expect((await failure(s3.send(new HeadObjectCommand({ Bucket: 'post-policy', Key: key })))).$metadata?.httpStatusCode).toBe(404);

  // A user with no permissions cannot upload by form either, and an anonymous form needs a public policy.
  await s3.send(new CreateBucketCommand({ Bucket: 'post-open' }));
  const none = await postForm('post-open', signedForm('post-open', 'n.txt', nobody));
  expect(none.status).toBe(403);
  expect(none.text).toContain('because no identity-based policy allows the s3:PutObject action');
  expect((await postForm('post-open', { key: 'anon.txt' })).status).toBe(403);
});

it('Block Public Access: BlockPublicPolicy refuses a public policy, RestrictPublicBuckets stops its use from outside, GetBucketPolicyStatus tells', async () => {
  await s3.send(new CreateBucketCommand({ Bucket: 'bpa' }));
  await s3.send(new PutObjectCommand({ Bucket: 'bpa', Key: 'page.html', Body: '<p>hi</p>' }));
  const publicRead = policy('bpa', [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::bpa/*' }]);
  const err = await failure(s3.send(new PutBucketPolicyCommand(publicRead)));
  expect(err.name).toBe('AccessDenied');
  expect(err.message).toBe(
    `User: arn:aws:iam::${OWNER}:root is not authorized to perform: s3:PutBucketPolicy on resource: "arn:aws:s3:::bpa" because public policies are blocked by the BlockPublicPolicy block public access setting`,
  );
  expect((await failure(s3.send(new GetBucketPolicyCommand({ Bucket: 'bpa' })))).name).toBe('NoSuchBucketPolicy');
  // A policy pinned to an account or a source IP range is not public, and is accepted.
  await s3.send(new PutBucketPolicyCommand(policy('bpa', [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::bpa/*', Condition: { StringEquals: { 'aws:PrincipalAccount': OTHER } } }])));
  expect((await s3.send(new GetBucketPolicyStatusCommand({ Bucket: 'bpa' }))).PolicyStatus?.IsPublic).toBe(false);

  await s3.send(new PutPublicAccessBlockCommand({ Bucket: 'bpa', PublicAccessBlockConfiguration: { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: false, RestrictPublicBuckets: true } }));
  await s3.send(new PutBucketPolicyCommand(publicRead));
  expect((await s3.send(new GetBucketPolicyStatusCommand({ Bucket: 'bpa' }))).PolicyStatus?.IsPublic).toBe(true);
  const url = `${sealbox.s3!.url}/bpa/page.html`;
  expect((await httpsCall(sealbox, url)).status).toBe(403);
  // The owner's account still reads through it; once RestrictPublicBuckets is off, so does everyone.
  const nobodyS3 = tlsS3Client(sealbox, { credentials: nobody });
  try {
    expect(await (await nobodyS3.send(new GetObjectCommand({ Bucket: 'bpa', Key: 'page.html' }))).Body!.transformToString()).toBe('<p>hi</p>');
  } finally {
    nobodyS3.destroy();
  }
  await s3.send(new DeletePublicAccessBlockCommand({ Bucket: 'bpa' }));
  const open = await httpsCall(sealbox, url);
  expect([open.status, open.text]).toEqual([200, '<p>hi</p>']);
});

it('AccessDenied is worded as S3 words it: the detail for the owner account, "Access Denied" for others; 405 for another account\'s policy calls', async () => {
  await s3.send(new CreateBucketCommand({ Bucket: 'words' }));
  await s3.send(new PutBucketPolicyCommand(policy('words', [{ Effect: 'Allow', Principal: { AWS: OTHER }, Action: ['s3:GetBucketPolicy', 's3:GetObject'], Resource: ['arn:aws:s3:::words', 'arn:aws:s3:::words/*'] }])));
  const nobodyS3 = tlsS3Client(sealbox, { credentials: nobody });
  const otherS3 = tlsS3Client(sealbox, { credentials: other });
  try {
    const mine = await failure(nobodyS3.send(new PutObjectCommand({ Bucket: 'words', Key: 'k', Body: 'x' })));
    expect(mine.message).toBe(`User: arn:aws:iam::${OWNER}:user/nobody is not authorized to perform: s3:PutObject on resource: "arn:aws:s3:::words/k" because no identity-based policy allows the s3:PutObject action`);
    const theirs = await failure(otherS3.send(new PutObjectCommand({ Bucket: 'words', Key: 'k', Body: 'x' })));
    expect([theirs.name, theirs.message]).toEqual(['AccessDenied', 'Access Denied']);
    const create = await failure(nobodyS3.send(new CreateBucketCommand({ Bucket: 'nobodys-bucket' })));
    expect(create.message).toBe(`User: arn:aws:iam::${OWNER}:user/nobody is not authorized to perform: s3:CreateBucket on resource: "arn:aws:s3:::nobodys-bucket" because no identity-based policy allows the s3:CreateBucket action`);
    // Allowed by the policy, but not of the owner's account: 405, as S3 answers.
    const policyCall = await failure(otherS3.send(new GetBucketPolicyCommand({ Bucket: 'words' })));
    expect([policyCall.name, policyCall.$metadata?.httpStatusCode]).toEqual(['MethodNotAllowed', 405]);
    // A missing key is 404 to those who may list the bucket, 403 to those who may only read objects.
    expect((await failure(s3.send(new GetObjectCommand({ Bucket: 'words', Key: 'missing' })))).name).toBe('NoSuchKey');
    expect((await failure(otherS3.send(new GetObjectCommand({ Bucket: 'words', Key: 'missing' })))).name).toBe('AccessDenied');
  } finally {
    nobodyS3.destroy();
    otherS3.destroy();
  }
});

it('S3 Bucket Keys: each caller must be allowed to use the KMS key, even after another caller obtained the bucket key', async () => {
  const key = await kms.send(new CreateKeyCommand({}));
  await s3.send(new CreateBucketCommand({ Bucket: 'bucket-key' }));
  await s3.send(
    new PutBucketEncryptionCommand({
      Bucket: 'bucket-key',
      ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: key.KeyMetadata!.Arn }, BucketKeyEnabled: true }] },
    }),
  );
  await s3.send(new PutObjectCommand({ Bucket: 'bucket-key', Key: 'root.txt', Body: 'root' }));
  // The user may use S3, not KMS: its write under the bucket key must ask KMS, and be refused.
  const userS3 = tlsS3Client(sealbox, { credentials: s3Only });
  try {
    const err = await failure(userS3.send(new PutObjectCommand({ Bucket: 'bucket-key', Key: 'user.txt', Body: 'user' })));
    expect(err.name).toBe('AccessDenied');
    expect(err.message).toContain('kms:GenerateDataKey');
    expect((await failure(userS3.send(new GetObjectCommand({ Bucket: 'bucket-key', Key: 'root.txt' })))).name).toBe('AccessDenied');
  } finally {
    userS3.destroy();
  }
});

it('SSE-KMS objects are read only with SigV4 over TLS: plain HTTP and anonymous reads get S3\'s 400', async () => {
  const plain = await startTestSealbox();
  const plainS3 = s3Client(plain);
  const plainKms = kmsClient(plain);
  try {
    const key = await plainKms.send(new CreateKeyCommand({}));
    await plainS3.send(new CreateBucketCommand({ Bucket: 'kms-read' }));
    await plainS3.send(new DeletePublicAccessBlockCommand({ Bucket: 'kms-read' }));
    await plainS3.send(new PutBucketEncryptionCommand({ Bucket: 'kms-read', ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: key.KeyMetadata!.Arn } }] } }));
    await plainS3.send(new PutObjectCommand({ Bucket: 'kms-read', Key: 'doc', Body: 'classified' }));
    await plainS3.send(new PutBucketPolicyCommand(policy('kms-read', [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::kms-read/*' }])));
    const overHttp = await failure(plainS3.send(new GetObjectCommand({ Bucket: 'kms-read', Key: 'doc' })));
    expect([overHttp.name, overHttp.$metadata?.httpStatusCode, overHttp.message]).toEqual([
      'InvalidArgument',
      400,
      'Requests specifying Server Side Encryption with AWS KMS managed keys must be made over a secure connection.',
    ]);
    const anonymous = await fetch(`${plain.s3!.url}/kms-read/doc`);
    const text = await anonymous.text();
    expect(anonymous.status).toBe(400);
    expect(text).toContain('<Code>InvalidArgument</Code>');
    expect(text).toContain('<Message>Requests specifying Server Side Encryption with AWS KMS managed keys require AWS Signature Version 4.</Message>');
    expect(text).not.toContain('classified');
  } finally {
    plainS3.destroy();
    plainKms.destroy();
    await plain.stop();
  }
});

describe('ACLs, where the ownership setting honours them', () => {
  const anonymousS3 = () => tlsS3Client(sealbox, { signer: { sign: async (request) => request } });
  type Who = 'owner' | 'nobody' | 'other' | 'anonymous';
  const clientOf = (who: Who) => (who === 'owner' ? s3 : who === 'anonymous' ? anonymousS3() : tlsS3Client(sealbox, { credentials: who === 'nobody' ? nobody : other }));
  async function outcome(who: Who, call: (c: S3Client) => Promise<unknown>): Promise<string> {
    const c = clientOf(who);
    try {
      await call(c);
      return 'allow';
    } catch (err) {
      const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
      return e.$metadata?.httpStatusCode === 403 ? 'deny' : `error ${e.name}`;
    } finally {
      if (c !== s3) c.destroy();
    }
  }

  it('canned and granted ACLs grant what they say to whom they say; IgnorePublicAcls and BlockPublicAcls act on the public ones', async () => {
    const bucket = 'acl-open';
    await s3.send(new CreateBucketCommand({ Bucket: bucket, ObjectOwnership: 'ObjectWriter' }));
    await s3.send(new PutPublicAccessBlockCommand({ Bucket: bucket, PublicAccessBlockConfiguration: { BlockPublicAcls: false, IgnorePublicAcls: false, BlockPublicPolicy: true, RestrictPublicBuckets: true } }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'public', Body: 'p', ACL: 'public-read' }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'private', Body: 'q' }));
    const otherClient = tlsS3Client(sealbox, { credentials: other });
    const otherId = (await otherClient.send(new ListBucketsCommand({}))).Owner!.ID!;
    otherClient.destroy();
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'granted', Body: 'g', GrantRead: `id="${otherId}"` }));
    await s3.send(new PutBucketAclCommand({ Bucket: bucket, ACL: 'authenticated-read' }));

    const acl = await s3.send(new GetObjectAclCommand({ Bucket: bucket, Key: 'public' }));
    expect(acl.Grants?.map((g) => [g.Grantee?.Type, g.Grantee?.URI ?? g.Grantee?.ID, g.Permission])).toEqual([
      ['CanonicalUser', acl.Owner!.ID, 'FULL_CONTROL'],
      ['Group', 'http://acs.amazonaws.com/groups/global/AllUsers', 'READ'],
    ]);
    const table: [string, (c: S3Client) => Promise<unknown>, Record<Who, string>][] = [
      ['GetObject public-read', (c) => c.send(new GetObjectCommand({ Bucket: bucket, Key: 'public' })), { owner: 'allow', nobody: 'allow', other: 'allow', anonymous: 'allow' }],
      ['GetObject private', (c) => c.send(new GetObjectCommand({ Bucket: bucket, Key: 'private' })), { owner: 'allow', nobody: 'deny', other: 'deny', anonymous: 'deny' }],
      ['GetObject granted to the other account', (c) => c.send(new GetObjectCommand({ Bucket: bucket, Key: 'granted' })), { owner: 'allow', nobody: 'deny', other: 'allow', anonymous: 'deny' }],
      ['GetObjectAcl public-read (READ is not READ_ACP)', (c) => c.send(new GetObjectAclCommand({ Bucket: bucket, Key: 'public' })), { owner: 'allow', nobody: 'deny', other: 'deny', anonymous: 'deny' }],
      ['ListObjects authenticated-read', (c) => c.send(new ListObjectsV2Command({ Bucket: bucket })), { owner: 'allow', nobody: 'allow', other: 'allow', anonymous: 'deny' }],
      ['PutObject (no WRITE grant)', (c) => c.send(new PutObjectCommand({ Bucket: bucket, Key: 'w', Body: 'w' })), { owner: 'allow', nobody: 'deny', other: 'deny', anonymous: 'deny' }],
    ];
    const got = async () => {
      const rows: Record<string, Record<Who, string>> = {};
      for (const [name, call] of table) {
        rows[name] = { owner: await outcome('owner', call), nobody: await outcome('nobody', call), other: await outcome('other', call), anonymous: await outcome('anonymous', call) };
      }
      return rows;
    };
    expect(await got()).toEqual(Object.fromEntries(table.map(([name, , want]) => [name, want])));

    // IgnorePublicAcls: the AllUsers and AuthenticatedUsers grants count for nothing.
    await s3.send(new PutPublicAccessBlockCommand({ Bucket: bucket, PublicAccessBlockConfiguration: { BlockPublicAcls: false, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true } }));
    expect(await outcome('anonymous', table[0]![1])).toBe('deny');
    expect(await outcome('other', table[4]![1])).toBe('deny');
    expect(await outcome('other', table[2]![1])).toBe('allow');

    // BlockPublicAcls: a public ACL is refused on the way in, by header or document.
    await s3.send(new PutPublicAccessBlockCommand({ Bucket: bucket, PublicAccessBlockConfiguration: { BlockPublicAcls: true, IgnorePublicAcls: false, BlockPublicPolicy: true, RestrictPublicBuckets: true } }));
    const put = await failure(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'p2', Body: 'x', ACL: 'public-read' })));
    expect([put.name, put.message]).toEqual([
      'AccessDenied',
      `User: arn:aws:iam::${OWNER}:root is not authorized to perform: s3:PutObject on resource: "arn:aws:s3:::${bucket}/p2" because public ACLs are prevented by the BlockPublicAcls setting in S3 Block Public Access`,
    ]);
    expect((await failure(s3.send(new PutBucketAclCommand({ Bucket: bucket, ACL: 'public-read' })))).name).toBe('AccessDenied');
    const doc = {
      Owner: { ID: acl.Owner!.ID },
      Grants: [{ Grantee: { Type: 'Group' as const, URI: 'http://acs.amazonaws.com/groups/global/AllUsers' }, Permission: 'READ' as const }],
    };
    expect((await failure(s3.send(new PutObjectAclCommand({ Bucket: bucket, Key: 'private', AccessControlPolicy: doc })))).name).toBe('AccessDenied');
    await s3.send(new PutPublicAccessBlockCommand({ Bucket: bucket, PublicAccessBlockConfiguration: { BlockPublicAcls: false, IgnorePublicAcls: false, BlockPublicPolicy: true, RestrictPublicBuckets: true } }));
    await s3.send(new PutObjectAclCommand({ Bucket: bucket, Key: 'private', AccessControlPolicy: doc }));
    expect(await outcome('anonymous', (c) => c.send(new GetObjectCommand({ Bucket: bucket, Key: 'private' })))).toBe('allow');
  });

  it('ObjectWriter: another account\'s object is its own, unless it gives the bucket owner control; BucketOwnerEnforced refuses ACLs', async () => {
    const bucket = 'acl-writer';
    await s3.send(new CreateBucketCommand({ Bucket: bucket, ObjectOwnership: 'ObjectWriter' }));
    const otherS3 = tlsS3Client(sealbox, { credentials: other });
    try {
      const otherId = (await otherS3.send(new ListBucketsCommand({}))).Owner!.ID!;
      // The bucket owner lets the other account write (a WRITE grant to its canonical id).
      await s3.send(new PutBucketAclCommand({ Bucket: bucket, GrantWrite: `id="${otherId}"`, GrantFullControl: `id="${(await s3.send(new ListBucketsCommand({}))).Owner!.ID}"` }));
      await otherS3.send(new PutObjectCommand({ Bucket: bucket, Key: 'theirs', Body: 't' }));
      await otherS3.send(new PutObjectCommand({ Bucket: bucket, Key: 'shared', Body: 's', ACL: 'bucket-owner-full-control' }));
      // The writer owns its object, and reads it; the bucket owner may not even read its ACL.
      expect(await (await otherS3.send(new GetObjectCommand({ Bucket: bucket, Key: 'theirs' }))).Body!.transformToString()).toBe('t');
      expect((await otherS3.send(new GetObjectAclCommand({ Bucket: bucket, Key: 'theirs' }))).Owner?.ID).toBe(otherId);
      expect((await failure(s3.send(new GetObjectAclCommand({ Bucket: bucket, Key: 'theirs' })))).name).toBe('AccessDenied');
    } finally {
      otherS3.destroy();
    }
    expect((await failure(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'theirs' })))).name).toBe('AccessDenied');
    expect(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'shared' }))).Body!.transformToString()).toBe('s');
    // The bucket owner may still delete what is in its bucket.
    await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: 'theirs' }] } }));

    await s3.send(new CreateBucketCommand({ Bucket: 'acl-enforced' }));
    expect((await failure(s3.send(new PutBucketAclCommand({ Bucket: 'acl-enforced', ACL: 'public-read' })))).name).toBe('AccessControlListNotSupported');
    const create = await failure(s3.send(new CreateBucketCommand({ Bucket: 'acl-refused', ACL: 'public-read' })));
    expect([create.name, create.message]).toEqual(['InvalidBucketAclWithObjectOwnership', "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting"]);
  });
});

describe('account-level Block Public Access (S3 Control)', () => {
  const path = '/v20180820/configuration/publicAccessBlock';
  /** An S3 Control call as clients send it: the account id in the host name and in x-amz-account-id. */
  async function control(method: string, account: string, creds: { accessKeyId: string; secretAccessKey: string }, body?: string) {
    const url = new URL(sealbox.s3!.url);
    // A host name as a client with an s3.localhost endpoint builds it (the account id prefixed).
    const host = `${account}.s3.localhost:${url.port}`;
    const request = { host, method, path, service: 's3', region: 'us-east-1', headers: { 'x-amz-account-id': account } as Record<string, string>, body };
    aws4.sign(request, creds);
    return httpsCall(sealbox, `${sealbox.s3!.url}${path}`, { method, headers: request.headers, body });
  }
  const config = (on: Partial<Record<'BlockPublicAcls' | 'IgnorePublicAcls' | 'BlockPublicPolicy' | 'RestrictPublicBuckets', boolean>>) =>
    `<PublicAccessBlockConfiguration xmlns="http://awss3control.amazonaws.com/doc/2018-08-20/">${(['BlockPublicAcls', 'IgnorePublicAcls', 'BlockPublicPolicy', 'RestrictPublicBuckets'] as const).map((k) => `<${k}>${on[k] === true}</${k}>`).join('')}</PublicAccessBlockConfiguration>`;
  const root = { accessKeyId: 'test', secretAccessKey: 'test' };

  afterEach(async () => {
    await control('DELETE', OWNER, root);
  });

  it('Get/Put/DeletePublicAccessBlock for the caller\'s own account only', async () => {
    const none = await control('GET', OWNER, root);
    expect(none.status).toBe(404);
    expect(none.text).toContain('<Code>NoSuchPublicAccessBlockConfiguration</Code>');
    expect((await control('PUT', OWNER, root, config({ BlockPublicPolicy: true }))).status).toBe(200);
    const got = await control('GET', OWNER, root);
    expect(got.status).toBe(200);
    expect(got.text).toContain('<BlockPublicPolicy>true</BlockPublicPolicy><RestrictPublicBuckets>false</RestrictPublicBuckets>');
    // Another account's settings are not the caller's to read or change; a user needs the IAM action.
    expect((await control('GET', OWNER, other)).status).toBe(403);
    expect((await control('PUT', OWNER, other, config({}))).status).toBe(403);
    const denied = await control('PUT', OWNER, nobody, config({}));
    expect(denied.status).toBe(403);
    expect(denied.text).toContain('s3:PutAccountPublicAccessBlock');
    expect((await control('DELETE', OWNER, root)).status).toBe(204);
    expect((await control('GET', OWNER, root)).status).toBe(404);
  });

  it('applies to every bucket of the account, beside each bucket\'s own settings', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'account-bpa' }));
    await s3.send(new PutObjectCommand({ Bucket: 'account-bpa', Key: 'page', Body: 'public page' }));
    await s3.send(new DeletePublicAccessBlockCommand({ Bucket: 'account-bpa' }));
    const publicRead = policy('account-bpa', [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::account-bpa/*' }]);
    await control('PUT', OWNER, root, config({ BlockPublicPolicy: true }));
    const err = await failure(s3.send(new PutBucketPolicyCommand(publicRead)));
    expect(err.message).toContain('because public policies are blocked by the BlockPublicPolicy block public access setting');
    await control('PUT', OWNER, root, config({ RestrictPublicBuckets: true }));
    await s3.send(new PutBucketPolicyCommand(publicRead));
    expect((await httpsCall(sealbox, `${sealbox.s3!.url}/account-bpa/page`)).status).toBe(403);
    await control('DELETE', OWNER, root);
    const open = await httpsCall(sealbox, `${sealbox.s3!.url}/account-bpa/page`);
    expect([open.status, open.text]).toEqual([200, 'public page']);
  });
});
