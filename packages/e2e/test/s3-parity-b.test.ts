/**
 * S3 and KMS answers that differed from AWS (issue 19, part B), each as a real client sees it:
 * a browser POST form whose every part carries a filename (python-requests), DeleteBucket over
 * unfinished multipart uploads, bucket policy principals, KMS alias names, GetBucketPolicyStatus.
 */
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetBucketPolicyStatusCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListMultipartUploadsCommand,
  PutBucketPolicyCommand,
  PutObjectCommand,
  PutPublicAccessBlockCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { CreateAliasCommand, CreateKeyCommand, ListAliasesCommand, UpdateAliasCommand, type KMSClient } from '@aws-sdk/client-kms';
import type { Sealbox } from '@sealbox/cli';
import { awsEnv, failure, kmsClient, runCommand, s3Client, startTestSealbox } from './helpers';

let sealbox: Sealbox;
let s3: S3Client;
let kms: KMSClient;
beforeAll(async () => {
  sealbox = await startTestSealbox();
  s3 = s3Client(sealbox);
  kms = kmsClient(sealbox);
});
afterAll(async () => {
  s3.destroy();
  kms.destroy();
  await sealbox.stop();
});

describe('a browser POST form whose every part carries a filename', () => {
  // python-requests sends `files={...}` so: every part gets `filename="<name>"`. S3 matches form
  // fields by name, and the part named `file` is the object.
  // https://docs.aws.amazon.com/AmazonS3/latest/API/RESTObjectPOST.html
  it('boto3 generate_presigned_post + requests.post(files=...) stores the file under the form key', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'post-filenames' }));
    const script = [
      'import boto3, requests, sys',
      "s3 = boto3.client('s3')",
      "post = s3.generate_presigned_post('post-filenames', 'uploads/${filename}', Fields={'Content-Type': 'text/plain'}, Conditions=[['starts-with', '$Content-Type', 'text/']])",
      "files = dict(post['fields'])",
      "files['file'] = ('notes.txt', b'hello from requests')",
      "r = requests.post(post['url'], files=files)",
      // Every part of the body named a filename, as the issue reports.
      "body = r.request.body.decode('latin1')",
      "assert body.count('filename=') == len(files), body",
      'print(r.status_code)',
      'sys.stdout.write(r.text)',
    ].join('\n');
    const result = await runCommand('python3', ['-c', script], awsEnv(sealbox));
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/^204\n/);
    const got = await s3.send(new GetObjectCommand({ Bucket: 'post-filenames', Key: 'uploads/notes.txt' }));
    expect(await got.Body!.transformToString()).toBe('hello from requests');
    expect(got.ContentType).toBe('text/plain');
  });

  it('a form whose policy is not met is still refused by name (a field sent as a file part counts)', async () => {
    const script = [
      'import boto3, requests',
      "s3 = boto3.client('s3')",
      "post = s3.generate_presigned_post('post-filenames', 'fixed-key', Conditions=[{'Content-Type': 'image/png'}])",
      "files = dict(post['fields'])",
      "files['Content-Type'] = 'text/plain'",
      "files['file'] = ('x.txt', b'x')",
      "r = requests.post(post['url'], files=files)",
      'print(r.status_code)',
      'print(r.text)',
    ].join('\n');
    const result = await runCommand('python3', ['-c', script], awsEnv(sealbox));
    expect(result.stdout).toMatch(/^403\n/);
    expect(result.stdout).toContain('<Code>AccessDenied</Code>');
    expect(result.stdout).toContain("Invalid according to Policy: Policy Condition failed: [&quot;eq&quot;, &quot;$Content-Type&quot;, &quot;image/png&quot;]");
  });
});

describe('DeleteBucket with unfinished multipart uploads', () => {
  // S3 deletes a bucket that holds only unfinished uploads, and the uploads with it; objects still
  // keep it (BucketNotEmpty). AWS's pages do not say so: see the note in operations/buckets.ts.
  it('deletes the bucket (204) and its uploads; a re-created bucket of that name has none', async () => {
    const bucket = 'only-uploads';
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const upload = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'big' }));
    await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'big', UploadId: upload.UploadId, PartNumber: 1, Body: 'part one' }));
    await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'other' }));
    const deleted = await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
    expect(deleted.$metadata.httpStatusCode).toBe(204);
    expect((await failure(s3.send(new HeadBucketCommand({ Bucket: bucket })))).$metadata?.httpStatusCode).toBe(404);
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    expect((await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads ?? []).toEqual([]);
    const gone = await failure(s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'big', UploadId: upload.UploadId, PartNumber: 2, Body: 'x' })));
    expect(gone.name).toBe('NoSuchUpload');
  });

  it('an object beside the uploads still keeps the bucket: 409 BucketNotEmpty', async () => {
    const bucket = 'uploads-and-object';
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const upload = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'big' }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'x' }));
    const err = await failure(s3.send(new DeleteBucketCommand({ Bucket: bucket })));
    expect([err.name, err.$metadata?.httpStatusCode, err.message]).toEqual(['BucketNotEmpty', 409, 'The bucket you tried to delete is not empty']);
    // Nothing was taken: the upload is still there.
    expect((await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads?.map((u) => u.UploadId)).toEqual([upload.UploadId]);
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'k' }));
    await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: 'big', UploadId: upload.UploadId }));
    await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
  });
});

describe('PutBucketPolicy principals', () => {
  const bucket = 'principals';
  const policyWith = (principal: unknown) =>
    JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: principal, Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/*` }] });
  beforeAll(async () => {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    // Public principals ("*") are refused by BlockPublicPolicy otherwise; this is about the syntax.
    await s3.send(new PutPublicAccessBlockCommand({ Bucket: bucket, PublicAccessBlockConfiguration: { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: false, RestrictPublicBuckets: false } }));
  });

  // https://repost.aws/knowledge-center/s3-invalid-principal-in-policy-error
  it.each([
    ['an ARN whose account is not an account id', { AWS: 'arn:aws:iam::abc:root' }],
    ['a bare name', { AWS: 'bob' }],
    ['an 11-digit account id', { AWS: '11112222333' }],
    ['a user group', { AWS: 'arn:aws:iam::111122223333:group/admins' }],
    ['a list with one bad entry', { AWS: ['111122223333', 'arn:aws:iam::12345:user/x'] }],
  ])('%s: 400 MalformedPolicy "Invalid principal in policy"', async (_name, principal) => {
    const err = await failure(s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: policyWith(principal) })));
    expect([err.name, err.$metadata?.httpStatusCode, err.message]).toEqual(['MalformedPolicy', 400, 'Invalid principal in policy']);
  });

  it.each([
    ['a 12-digit account id', { AWS: '111122223333' }],
    ['an account root ARN', { AWS: 'arn:aws:iam::111122223333:root' }],
    ['a user ARN', { AWS: 'arn:aws:iam::111122223333:user/bob' }],
    ['a role ARN', { AWS: 'arn:aws:iam::111122223333:role/app' }],
    ['a role session', { AWS: 'arn:aws:sts::111122223333:assumed-role/app/s1' }],
    ['everyone', '*'],
    ['every AWS principal', { AWS: '*' }],
    ['a service principal', { Service: 'cloudfront.amazonaws.com' }],
    ['a canonical user', { CanonicalUser: '79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be' }],
    ['a CloudFront origin access identity', { AWS: 'arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity E2QWRUHAPOMQZL' }],
  ])('%s is accepted', async (_name, principal) => {
    const put = await s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: policyWith(principal) }));
    expect(put.$metadata.httpStatusCode).toBe(204);
  });
});

describe('GetBucketPolicyStatus', () => {
  // IsPublic describes the policy by AWS's meaning of "public"; the API reference and that page
  // say nothing of Block Public Access changing the answer, so RestrictPublicBuckets does not.
  // https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketPolicyStatus.html
  // https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html#access-control-block-public-access-policy-status
  it('true for an Allow to everyone, false once pinned to an account', async () => {
    const bucket = 'policy-status';
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new PutPublicAccessBlockCommand({ Bucket: bucket, PublicAccessBlockConfiguration: { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: false, RestrictPublicBuckets: true } }));
    const statement = { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/*` };
    await s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: JSON.stringify({ Version: '2012-10-17', Statement: [statement] }) }));
    expect((await s3.send(new GetBucketPolicyStatusCommand({ Bucket: bucket }))).PolicyStatus?.IsPublic).toBe(true);
    const pinned = { ...statement, Condition: { StringEquals: { 'aws:PrincipalAccount': '111122223333' } } };
    await s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: JSON.stringify({ Version: '2012-10-17', Statement: [pinned] }) }));
    expect((await s3.send(new GetBucketPolicyStatusCommand({ Bucket: bucket }))).PolicyStatus?.IsPublic).toBe(false);
  });
});

describe('KMS alias names', () => {
  // Alphanumerics, "/", "_" and "-" only; the model's pattern lets ":" through, KMS does not.
  // https://docs.aws.amazon.com/kms/latest/developerguide/alias-create.html
  it('CreateAlias and UpdateAlias refuse a colon with ValidationException', async () => {
    const key = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    const create = await failure(kms.send(new CreateAliasCommand({ AliasName: 'alias/my:alias', TargetKeyId: key })));
    expect([create.name, create.$metadata?.httpStatusCode, create.message]).toEqual(['ValidationException', 400, 'alias/my:alias contains invalid characters for an alias']);
    const update = await failure(kms.send(new UpdateAliasCommand({ AliasName: 'alias/a:b', TargetKeyId: key })));
    expect([update.name, update.message]).toEqual(['ValidationException', 'alias/a:b contains invalid characters for an alias']);
    // Characters outside the model's pattern get the model's message.
    const space = await failure(kms.send(new CreateAliasCommand({ AliasName: 'alias/my alias', TargetKeyId: key })));
    expect(space.name).toBe('ValidationException');
    expect(space.message).toContain('Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$');
    // What the guide allows is accepted.
    await kms.send(new CreateAliasCommand({ AliasName: 'alias/My_app-key/2', TargetKeyId: key }));
    const names = (await kms.send(new ListAliasesCommand({ KeyId: key }))).Aliases!.map((a) => a.AliasName);
    expect(names).toEqual(['alias/My_app-key/2']);
  });
});
