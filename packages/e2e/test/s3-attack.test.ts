/**
 * Requests found by attacking S3's access control from outside (issue 14's review): each one was
 * served (or answered wrongly) before its fix. One test per hole, through SDK v3 where the SDK can
 * send the request, raw HTTP where only a browser or a hand-made client would.
 */
import { createHmac } from 'node:crypto';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeletePublicAccessBlockCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutBucketEncryptionCommand,
  PutBucketOwnershipControlsCommand,
  PutBucketPolicyCommand,
  PutObjectCommand,
  UploadPartCopyCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { CreateKeyCommand, type KMSClient } from '@aws-sdk/client-kms';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { Sealbox } from '@sealbox/cli';
import { deriveSigningKey, toAmzDate, type Credentials } from '@sealbox/sigv4';
import { failure, kmsClient, s3Client, startTestSealbox } from './helpers';

let sealbox: Sealbox;
let s3: S3Client;
let kms: KMSClient;
/** A user who may create buckets in eu-west-1 only, as AWS's example policy says it. */
const EU_ONLY: Credentials = {
  accessKeyId: 'AKIDEUONLY',
  secretAccessKey: 'euonly',
  accountId: '000000000000',
  principalArn: 'arn:aws:iam::000000000000:user/eu-only',
  policies: [
    JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: 's3:CreateBucket', Resource: '*' },
        { Effect: 'Deny', Action: 's3:CreateBucket', Resource: '*', Condition: { StringNotEquals: { 's3:LocationConstraint': 'eu-west-1' } } },
      ],
    }),
  ],
};

beforeAll(async () => {
  sealbox = await startTestSealbox({ users: [EU_ONLY] });
  s3 = s3Client(sealbox);
  kms = kmsClient(sealbox);
});
afterAll(async () => {
  s3.destroy();
  kms.destroy();
  await sealbox.stop();
});

const policy = (bucket: string, statements: unknown[]) => ({ Bucket: bucket, Policy: JSON.stringify({ Version: '2012-10-17', Statement: statements }) });

/** A bucket that takes public policies and ACLs (Block Public Access removed, ObjectWriter). */
async function openBucket(name: string): Promise<void> {
  await s3.send(new CreateBucketCommand({ Bucket: name }));
  await s3.send(new DeletePublicAccessBlockCommand({ Bucket: name }));
  await s3.send(new PutBucketOwnershipControlsCommand({ Bucket: name, OwnershipControls: { Rules: [{ ObjectOwnership: 'ObjectWriter' }] } }));
}

async function postForm(bucket: string, fields: Record<string, string>, file = 'posted') {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  form.append('file', new Blob([file]), 'f.txt');
  const res = await fetch(`${sealbox.s3!.url}/${bucket}`, { method: 'POST', body: form, redirect: 'manual' });
  return { status: res.status, text: await res.text() };
}

const status = async (promise: Promise<unknown>) => {
  try {
    await promise;
    return 200;
  } catch (err) {
    return (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  }
};

describe('condition keys S3 documents for a request are all in its context', () => {
  it('a SigV2 POST form is s3:signatureversion "AWS": a policy that requires SigV4 refuses it', async () => {
    await openBucket('sigv4-only');
    // https://docs.aws.amazon.com/AmazonS3/latest/API/bucket-policy-s3-sigv4-conditions.html
    await s3.send(
      new PutBucketPolicyCommand(
        policy('sigv4-only', [{ Effect: 'Deny', Principal: '*', Action: 's3:PutObject', Resource: 'arn:aws:s3:::sigv4-only/*', Condition: { StringNotEquals: { 's3:signatureversion': 'AWS4-HMAC-SHA256' } } }]),
      ),
    );
    const v2Policy = Buffer.from(JSON.stringify({ expiration: new Date(Date.now() + 60_000).toISOString(), conditions: [{ bucket: 'sigv4-only' }, { key: 'v2.txt' }] })).toString('base64');
    const v2 = await postForm('sigv4-only', { key: 'v2.txt', AWSAccessKeyId: 'test', policy: v2Policy, signature: createHmac('sha1', 'test').update(v2Policy).digest('base64') });
    expect(v2.status).toBe(403);
    expect(v2.text).toContain('<Code>AccessDenied</Code>');
    expect(await status(s3.send(new HeadObjectCommand({ Bucket: 'sigv4-only', Key: 'v2.txt' })))).toBe(404);

    // The same upload in a SigV4 form is stored.
    const date = toAmzDate(new Date());
    const credential = `test/${date.slice(0, 8)}/us-east-1/s3/aws4_request`;
    const v4Policy = Buffer.from(
      JSON.stringify({
        expiration: new Date(Date.now() + 60_000).toISOString(),
        conditions: [{ bucket: 'sigv4-only' }, { key: 'v4.txt' }, { 'x-amz-algorithm': 'AWS4-HMAC-SHA256' }, { 'x-amz-credential': credential }, { 'x-amz-date': date }],
      }),
    ).toString('base64');
    const signature = createHmac('sha256', deriveSigningKey('test', date.slice(0, 8), 'us-east-1', 's3')).update(v4Policy).digest('hex');
    const v4 = await postForm('sigv4-only', { key: 'v4.txt', 'X-Amz-Algorithm': 'AWS4-HMAC-SHA256', 'X-Amz-Credential': credential, 'X-Amz-Date': date, Policy: v4Policy, 'X-Amz-Signature': signature });
    expect(v4.status).toBe(204);
  });

  it('a presigned URL has s3:signatureAge: a policy that caps it refuses an old URL, not a fresh one', async () => {
    await openBucket('short-urls');
    await s3.send(new PutObjectCommand({ Bucket: 'short-urls', Key: 'doc', Body: 'shared' }));
    // The documented control: presigned URLs older than 10 minutes are refused.
    await s3.send(
      new PutBucketPolicyCommand(
        policy('short-urls', [{ Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: 'arn:aws:s3:::short-urls/*', Condition: { NumericGreaterThan: { 's3:signatureAge': '600000' } } }]),
      ),
    );
    const old = await getSignedUrl(s3, new GetObjectCommand({ Bucket: 'short-urls', Key: 'doc' }), { expiresIn: 3600, signingDate: new Date(Date.now() - 20 * 60_000) });
    const refused = await fetch(old);
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain('<Code>AccessDenied</Code>');
    const fresh = await fetch(await getSignedUrl(s3, new GetObjectCommand({ Bucket: 'short-urls', Key: 'doc' }), { expiresIn: 3600 }));
    expect([fresh.status, await fresh.text()]).toEqual([200, 'shared']);
  });

  it('x-amz-grant-* headers are condition keys: a policy that forbids a grant header refuses the PUT that carries it', async () => {
    await openBucket('no-grants');
    await s3.send(
      new PutBucketPolicyCommand(
        policy('no-grants', [{ Effect: 'Deny', Principal: '*', Action: 's3:PutObject', Resource: 'arn:aws:s3:::no-grants/*', Condition: { Null: { 's3:x-amz-grant-read': 'false' } } }]),
      ),
    );
    const err = await failure(s3.send(new PutObjectCommand({ Bucket: 'no-grants', Key: 'granted', Body: 'x', GrantRead: 'uri="http://acs.amazonaws.com/groups/global/AllUsers"' })));
    expect([err.name, err.$metadata?.httpStatusCode]).toEqual(['AccessDenied', 403]);
    expect(err.message).toBe('User: arn:aws:iam::000000000000:root is not authorized to perform: s3:PutObject on resource: "arn:aws:s3:::no-grants/granted" with an explicit deny in a resource-based policy');
    expect(await status(s3.send(new HeadObjectCommand({ Bucket: 'no-grants', Key: 'granted' })))).toBe(404);
    // Without the header the PUT goes through.
    await s3.send(new PutObjectCommand({ Bucket: 'no-grants', Key: 'plain', Body: 'x' }));
  });

  it('CreateBucket has s3:LocationConstraint from its body: a user limited to one Region creates buckets there only', async () => {
    const eu = s3Client(sealbox, { credentials: { accessKeyId: 'AKIDEUONLY', secretAccessKey: 'euonly' } });
    try {
      // https://docs.aws.amazon.com/AmazonS3/latest/userguide/amazon-s3-policy-keys.html (LocationConstraint)
      await eu.send(new CreateBucketCommand({ Bucket: 'in-europe', CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } }));
      const elsewhere = await failure(eu.send(new CreateBucketCommand({ Bucket: 'in-oregon', CreateBucketConfiguration: { LocationConstraint: 'us-west-2' } })));
      expect([elsewhere.name, elsewhere.$metadata?.httpStatusCode, elsewhere.message]).toEqual([
        'AccessDenied',
        403,
        'User: arn:aws:iam::000000000000:user/eu-only is not authorized to perform: s3:CreateBucket on resource: "arn:aws:s3:::in-oregon" with an explicit deny in an identity-based policy',
      ]);
      // No LocationConstraint: the endpoint's Region (us-east-1), which the policy does not allow.
      expect((await failure(eu.send(new CreateBucketCommand({ Bucket: 'in-virginia' })))).name).toBe('AccessDenied');
    } finally {
      eu.destroy();
    }
  });

  it('aws:Referer and aws:UserAgent are in the context: a policy that denies a referer refuses it', async () => {
    await openBucket('referer');
    await s3.send(new PutObjectCommand({ Bucket: 'referer', Key: 'img', Body: 'pixels' }));
    // https://docs.aws.amazon.com/AmazonS3/latest/userguide/example-bucket-policies.html (HTTP referer)
    await s3.send(
      new PutBucketPolicyCommand(
        policy('referer', [
          { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::referer/*' },
          { Effect: 'Deny', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::referer/*', Condition: { StringLike: { 'aws:Referer': 'http://hotlinker.example/*' } } },
          { Effect: 'Deny', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::referer/*', Condition: { StringLike: { 'aws:UserAgent': 'BadBot*' } } },
        ]),
      ),
    );
    const url = `${sealbox.s3!.url}/referer/img`;
    expect((await fetch(url, { headers: { referer: 'http://hotlinker.example/page' } })).status).toBe(403);
    expect((await fetch(url, { headers: { 'user-agent': 'BadBot/1.0' } })).status).toBe(403);
    const ok = await fetch(url, { headers: { referer: 'http://friend.example/page' } });
    expect([ok.status, await ok.text()]).toEqual([200, 'pixels']);
  });
});

describe('SSE-KMS objects: the transport rule comes before anything about the object', () => {
  const insecure = 'Requests specifying Server Side Encryption with AWS KMS managed keys must be made over a secure connection.';
  beforeAll(async () => {
    const key = await kms.send(new CreateKeyCommand({}));
    await openBucket('kms-first');
    await s3.send(new PutBucketEncryptionCommand({ Bucket: 'kms-first', ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: key.KeyMetadata!.Arn } }] } }));
    await s3.send(new PutObjectCommand({ Bucket: 'kms-first', Key: 'doc', Body: 'classified' }));
    await s3.send(new PutBucketPolicyCommand(policy('kms-first', [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::kms-first/*' }])));
  });

  it('a conditional GET over plain HTTP is 400, not 304 with the object\'s ETag', async () => {
    const head = await failure(s3.send(new HeadObjectCommand({ Bucket: 'kms-first', Key: 'doc' })));
    expect(head.$metadata?.httpStatusCode).toBe(400);
    const err = await failure(s3.send(new GetObjectCommand({ Bucket: 'kms-first', Key: 'doc', IfNoneMatch: '*' })));
    expect([err.name, err.$metadata?.httpStatusCode, err.message]).toEqual(['InvalidArgument', 400, insecure]);
    const modified = await failure(s3.send(new GetObjectCommand({ Bucket: 'kms-first', Key: 'doc', IfModifiedSince: new Date(Date.now() + 3600_000) })));
    expect([modified.name, modified.$metadata?.httpStatusCode]).toEqual(['InvalidArgument', 400]);
  });

  it('an anonymous GET with a Range past the end is 400 (SigV4 required), not 416 with the object\'s size', async () => {
    const res = await fetch(`${sealbox.s3!.url}/kms-first/doc`, { headers: { range: 'bytes=1000-2000' } });
    const text = await res.text();
    expect(res.status).toBe(400);
    expect(text).toContain('<Message>Requests specifying Server Side Encryption with AWS KMS managed keys require AWS Signature Version 4.</Message>');
    expect(text).not.toContain('ActualObjectSize');
    const part = await fetch(`${sealbox.s3!.url}/kms-first/doc?partNumber=5`);
    expect(part.status).toBe(400);
    expect(await part.text()).not.toContain('ActualPartCount');
  });

  it('a copy of an SSE-KMS source over plain HTTP is 400 before its copy-source conditions or range are judged', async () => {
    // A failed x-amz-copy-source-if-match would tell the caller the ETag does not match (412).
    const copy = await failure(s3.send(new CopyObjectCommand({ Bucket: 'kms-first', Key: 'copy', CopySource: 'kms-first/doc', CopySourceIfMatch: '"0123"' })));
    expect([copy.name, copy.$metadata?.httpStatusCode, copy.message]).toEqual(['InvalidArgument', 400, insecure]);
    await s3.send(new CreateBucketCommand({ Bucket: 'kms-parts' }));
    const upload = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'kms-parts', Key: 'p' }));
    // A range past the end would tell the caller the source's size (416 with ActualObjectSize).
    const part = await failure(
      s3.send(new UploadPartCopyCommand({ Bucket: 'kms-parts', Key: 'p', UploadId: upload.UploadId, PartNumber: 1, CopySource: 'kms-first/doc', CopySourceRange: 'bytes=1000-2000' })),
    );
    expect([part.name, part.$metadata?.httpStatusCode, part.message]).toEqual(['InvalidArgument', 400, insecure]);
  });
});
