/**
 * S3 Object Lock (issue 19, item 1) through @aws-sdk/client-s3, raw signed requests where the SDK
 * cannot send what is tested (no checksum), and the AWS CLI / boto3 (second-precision dates).
 */
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  DeletePublicAccessBlockCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  GetObjectLegalHoldCommand,
  GetObjectLockConfigurationCommand,
  GetObjectRetentionCommand,
  HeadObjectCommand,
  PutBucketPolicyCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectLegalHoldCommand,
  PutObjectLockConfigurationCommand,
  PutObjectRetentionCommand,
  UploadPartCommand,
  type ObjectLockConfiguration,
  type S3Client,
} from '@aws-sdk/client-s3';
import { exportSnapshot, importSnapshot, type Sealbox } from '@sealbox/cli';
import type { Credentials } from '@sealbox/sigv4';
import aws4 from 'aws4';
import { failure, runCommand, s3Client, startTestSealbox } from './helpers';

const OWNER = '000000000000';
const policy = (...statements: object[]) => JSON.stringify({ Version: '2012-10-17', Statement: statements });
const USERS: Credentials[] = [
  // Everything in S3 but bypassing governance retention.
  {
    accessKeyId: 'AKIDNOBYPASS',
    secretAccessKey: 'nobypass',
    accountId: OWNER,
    principalArn: `arn:aws:iam::${OWNER}:user/no-bypass`,
    policies: [policy({ Effect: 'Allow', Action: 's3:*', Resource: '*' }, { Effect: 'Deny', Action: 's3:BypassGovernanceRetention', Resource: '*' })],
  },
  // Reads objects, but may not read their retention or legal hold.
  {
    accessKeyId: 'AKIDREADER',
    secretAccessKey: 'reader',
    accountId: OWNER,
    principalArn: `arn:aws:iam::${OWNER}:user/reader`,
    policies: [policy({ Effect: 'Allow', Action: ['s3:GetObject', 's3:GetObjectVersion', 's3:ListBucket'], Resource: '*' })],
  },
  // May create buckets and write objects, nothing about Object Lock.
  {
    accessKeyId: 'AKIDWRITER',
    secretAccessKey: 'writer',
    accountId: OWNER,
    principalArn: `arn:aws:iam::${OWNER}:user/writer`,
    policies: [policy({ Effect: 'Allow', Action: ['s3:CreateBucket', 's3:PutObject', 's3:PutBucketVersioning'], Resource: '*' })],
  },
];

let sealbox: Sealbox;
let s3: S3Client;
let n = 0;
const bucketName = () => `lock-${process.pid}-${++n}`;
const DAY = 86_400_000;
/** A date `days` ahead of the server's virtual clock. */
const ahead = (days: number) => new Date(sealbox.clock.now().getTime() + days * DAY);

beforeAll(async () => {
  sealbox = await startTestSealbox({ users: USERS });
  s3 = s3Client(sealbox);
});
afterAll(async () => {
  s3.destroy();
  await sealbox.stop();
});

async function expectError(promise: Promise<unknown>, code: string, status: number, message?: string) {
  const err = await failure(promise);
  expect([err.name, err.$metadata?.httpStatusCode]).toEqual([code, status]);
  if (message !== undefined) expect(err.message).toBe(message);
  return err;
}

async function lockedBucket(config?: ObjectLockConfiguration): Promise<string> {
  const Bucket = bucketName();
  await s3.send(new CreateBucketCommand({ Bucket, ObjectLockEnabledForBucket: true }));
  if (config) await s3.send(new PutObjectLockConfigurationCommand({ Bucket, ObjectLockConfiguration: config }));
  return Bucket;
}

async function plainBucket(): Promise<string> {
  const Bucket = bucketName();
  await s3.send(new CreateBucketCommand({ Bucket }));
  return Bucket;
}

/** A SigV4-signed request with exactly these headers (no checksum unless given). */
async function signed(method: string, path: string, body = '', headers: Record<string, string> = {}) {
  const url = new URL(sealbox.s3!.url);
  const req = { host: url.host, path, method, service: 's3', region: 'us-east-1', body, headers: { ...headers } };
  aws4.sign(req, { accessKeyId: 'test', secretAccessKey: 'test' });
  const res = await fetch(`${sealbox.s3!.url}${req.path}`, { method, headers: req.headers, body: method === 'GET' || method === 'HEAD' ? undefined : body });
  return { status: res.status, text: await res.text() };
}

async function advanceClock(seconds: number) {
  const res = await fetch(`${sealbox.s3!.url}/_sealbox/clock`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ advanceSeconds: seconds }) });
  expect(res.status).toBe(200);
}

describe('the bucket: Object Lock at CreateBucket and PutObjectLockConfiguration', () => {
  it('x-amz-bucket-object-lock-enabled enables versioning and Object Lock; versioning can no longer be suspended', async () => {
    const Bucket = await lockedBucket();
    expect((await s3.send(new GetBucketVersioningCommand({ Bucket }))).Status).toBe('Enabled');
    expect((await s3.send(new GetObjectLockConfigurationCommand({ Bucket }))).ObjectLockConfiguration).toEqual({ ObjectLockEnabled: 'Enabled' });
    await expectError(
      s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Suspended' } })),
      'InvalidBucketState',
      409,
      'An Object Lock configuration is present on this bucket, so the versioning state cannot be changed.',
    );
    await s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Enabled' } }));
  });

  it('a bucket without Object Lock: GetObjectLockConfiguration 404; enabling it needs versioning Enabled', async () => {
    const Bucket = await plainBucket();
    const err = await expectError(s3.send(new GetObjectLockConfigurationCommand({ Bucket })), 'ObjectLockConfigurationNotFoundError', 404, 'Object Lock configuration does not exist for this bucket');
    expect((err as unknown as { BucketName?: string }).BucketName).toBe(Bucket);
    const config = { ObjectLockEnabled: 'Enabled' as const };
    await expectError(
      s3.send(new PutObjectLockConfigurationCommand({ Bucket, ObjectLockConfiguration: config })),
      'InvalidBucketState',
      409,
      "Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration",
    );
    // Since November 2023 an existing versioned bucket can be given Object Lock, without a token.
    await s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Enabled' } }));
    await s3.send(new PutObjectLockConfigurationCommand({ Bucket, ObjectLockConfiguration: config }));
    expect((await s3.send(new GetObjectLockConfigurationCommand({ Bucket }))).ObjectLockConfiguration).toEqual(config);
    await expectError(s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Suspended' } })), 'InvalidBucketState', 409);
  });

  it('stores the default retention (Days or Years) and removes it, never Object Lock itself', async () => {
    const Bucket = await lockedBucket();
    for (const DefaultRetention of [{ Mode: 'GOVERNANCE' as const, Days: 30 }, { Mode: 'COMPLIANCE' as const, Years: 2 }]) {
      await s3.send(new PutObjectLockConfigurationCommand({ Bucket, ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention } } }));
      expect((await s3.send(new GetObjectLockConfigurationCommand({ Bucket }))).ObjectLockConfiguration).toEqual({ ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention } });
    }
    await s3.send(new PutObjectLockConfigurationCommand({ Bucket, ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled' } }));
    expect((await s3.send(new GetObjectLockConfigurationCommand({ Bucket }))).ObjectLockConfiguration).toEqual({ ObjectLockEnabled: 'Enabled' });
  });

  it.each([
    ['Days and Years', { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 1, Years: 1 } } }, 'MalformedXML', undefined],
    ['no period', { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE' } } }, 'MalformedXML', undefined],
    ['no mode', { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Days: 1 } } }, 'MalformedXML', undefined],
    ['a lower-case mode', { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'governance', Days: 1 } } }, 'MalformedXML', undefined],
    ['an empty Rule', { ObjectLockEnabled: 'Enabled', Rule: {} }, 'MalformedXML', undefined],
    ['no ObjectLockEnabled', { Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 1 } } }, 'MalformedXML', undefined],
    ['ObjectLockEnabled Disabled', { ObjectLockEnabled: 'Disabled' }, 'MalformedXML', undefined],
    ['Days 0', { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 0 } } }, 'InvalidArgument', 'Default retention period must be a positive integer value.'],
    ['Years -1', { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Years: -1 } } }, 'InvalidArgument', 'Default retention period must be a positive integer value.'],
    ['Days 36501', { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 36501 } } }, 'InvalidArgument', 'Default retention period too large.'],
    ['Years 101', { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Years: 101 } } }, 'InvalidArgument', 'Default retention period too large.'],
  ])('refuses a configuration with %s', async (_name, config, code, message) => {
    const Bucket = await lockedBucket();
    await expectError(s3.send(new PutObjectLockConfigurationCommand({ Bucket, ObjectLockConfiguration: config as ObjectLockConfiguration })), code, 400, message);
  });

  it('requires Content-MD5 or a checksum on PutObjectLockConfiguration, PutObjectRetention and PutObjectLegalHold', async () => {
    const Bucket = await lockedBucket();
    await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'x' }));
    const bodies: [string, string][] = [
      [`/${Bucket}?object-lock`, '<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled></ObjectLockConfiguration>'],
      [`/${Bucket}/k?retention`, `<Retention><Mode>GOVERNANCE</Mode><RetainUntilDate>${ahead(1).toISOString()}</RetainUntilDate></Retention>`],
      [`/${Bucket}/k?legal-hold`, '<LegalHold><Status>ON</Status></LegalHold>'],
    ];
    for (const [path, body] of bodies) {
      const bare = await signed('PUT', path, body);
      expect(bare.status).toBe(400);
      expect(bare.text).toContain('<Code>InvalidRequest</Code><Message>Missing required header for this request: Content-MD5 OR x-amz-checksum-*</Message>');
      const wrong = await signed('PUT', path, body, { 'Content-MD5': createHash('md5').update('other').digest('base64') });
      expect(wrong.text).toContain('<Code>BadDigest</Code>');
      const ok = await signed('PUT', path, body, { 'Content-MD5': createHash('md5').update(body).digest('base64') });
      expect(ok.status).toBe(200);
    }
  });

  it('CreateBucket with Object Lock needs s3:PutBucketObjectLockConfiguration and s3:PutBucketVersioning', async () => {
    const writer = s3Client(sealbox, { credentials: { accessKeyId: 'AKIDWRITER', secretAccessKey: 'writer' } });
    const Bucket = bucketName();
    const err = await expectError(writer.send(new CreateBucketCommand({ Bucket, ObjectLockEnabledForBucket: true })), 'AccessDenied', 403);
    expect(err.message).toContain('s3:PutBucketObjectLockConfiguration');
    await writer.send(new CreateBucketCommand({ Bucket }));
    writer.destroy();
  });
});

describe('retention and legal hold of a version', () => {
  it('on a bucket without Object Lock: 400 InvalidRequest; a version without them: 404 NoSuchObjectLockConfiguration', async () => {
    const plain = await plainBucket();
    await s3.send(new PutObjectCommand({ Bucket: plain, Key: 'k', Body: 'x' }));
    const missing = 'Bucket is missing Object Lock Configuration';
    await expectError(s3.send(new GetObjectRetentionCommand({ Bucket: plain, Key: 'k' })), 'InvalidRequest', 400, missing);
    await expectError(s3.send(new GetObjectLegalHoldCommand({ Bucket: plain, Key: 'k' })), 'InvalidRequest', 400, missing);
    await expectError(s3.send(new PutObjectRetentionCommand({ Bucket: plain, Key: 'k', Retention: { Mode: 'GOVERNANCE', RetainUntilDate: ahead(1) } })), 'InvalidRequest', 400, missing);
    await expectError(s3.send(new PutObjectLegalHoldCommand({ Bucket: plain, Key: 'k', LegalHold: { Status: 'ON' } })), 'InvalidRequest', 400, missing);

    const Bucket = await lockedBucket();
    await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'x' }));
    const none = 'The specified object does not have a ObjectLock configuration';
    await expectError(s3.send(new GetObjectRetentionCommand({ Bucket, Key: 'k' })), 'NoSuchObjectLockConfiguration', 404, none);
    await expectError(s3.send(new GetObjectLegalHoldCommand({ Bucket, Key: 'k' })), 'NoSuchObjectLockConfiguration', 404, none);
    await expectError(s3.send(new GetObjectRetentionCommand({ Bucket, Key: 'nothing' })), 'NoSuchKey', 404);
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'k' }));
    expect([head.ObjectLockMode, head.ObjectLockRetainUntilDate, head.ObjectLockLegalHoldStatus]).toEqual([undefined, undefined, undefined]);
  });

  it('puts and reads them per version, and GET and HEAD echo them', async () => {
    const Bucket = await lockedBucket();
    const first = (await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'one' }))).VersionId!;
    const second = (await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'two' }))).VersionId!;
    const until = new Date(Math.floor(ahead(3).getTime() / 1000) * 1000);
    await s3.send(new PutObjectRetentionCommand({ Bucket, Key: 'k', VersionId: first, Retention: { Mode: 'GOVERNANCE', RetainUntilDate: until } }));
    await s3.send(new PutObjectLegalHoldCommand({ Bucket, Key: 'k', VersionId: first, LegalHold: { Status: 'ON' } }));
    expect((await s3.send(new GetObjectRetentionCommand({ Bucket, Key: 'k', VersionId: first }))).Retention).toEqual({ Mode: 'GOVERNANCE', RetainUntilDate: until });
    expect((await s3.send(new GetObjectLegalHoldCommand({ Bucket, Key: 'k', VersionId: first }))).LegalHold).toEqual({ Status: 'ON' });
    // The latest version has neither.
    await expectError(s3.send(new GetObjectRetentionCommand({ Bucket, Key: 'k' })), 'NoSuchObjectLockConfiguration', 404);
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'k', VersionId: first }));
    expect([head.ObjectLockMode, head.ObjectLockRetainUntilDate, head.ObjectLockLegalHoldStatus]).toEqual(['GOVERNANCE', until, 'ON']);
    const get = await s3.send(new GetObjectCommand({ Bucket, Key: 'k', VersionId: first }));
    expect([get.ObjectLockMode, get.ObjectLockRetainUntilDate, get.ObjectLockLegalHoldStatus]).toEqual(['GOVERNANCE', until, 'ON']);
    // A hold once applied and removed is reported OFF.
    await s3.send(new PutObjectLegalHoldCommand({ Bucket, Key: 'k', VersionId: first, LegalHold: { Status: 'OFF' } }));
    expect((await s3.send(new HeadObjectCommand({ Bucket, Key: 'k', VersionId: first }))).ObjectLockLegalHoldStatus).toBe('OFF');
    expect((await s3.send(new HeadObjectCommand({ Bucket, Key: 'k', VersionId: second }))).ObjectLockMode).toBeUndefined();
  });

  it('echoes them on GET and HEAD only to callers with s3:GetObjectRetention and s3:GetObjectLegalHold', async () => {
    const Bucket = await lockedBucket();
    await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'x', ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: ahead(1), ObjectLockLegalHoldStatus: 'ON' }));
    const reader = s3Client(sealbox, { credentials: { accessKeyId: 'AKIDREADER', secretAccessKey: 'reader' } });
    const head = await reader.send(new HeadObjectCommand({ Bucket, Key: 'k' }));
    expect([head.ObjectLockMode, head.ObjectLockRetainUntilDate, head.ObjectLockLegalHoldStatus]).toEqual([undefined, undefined, undefined]);
    await expectError(reader.send(new GetObjectRetentionCommand({ Bucket, Key: 'k' })), 'AccessDenied', 403);
    reader.destroy();
  });

  it('validates PutObjectRetention: a date in the past, a mode without a date', async () => {
    const Bucket = await lockedBucket();
    await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'x' }));
    const err = await expectError(
      s3.send(new PutObjectRetentionCommand({ Bucket, Key: 'k', Retention: { Mode: 'GOVERNANCE', RetainUntilDate: ahead(-1) } })),
      'InvalidArgument',
      400,
      'The retain until date must be in the future!',
    );
    expect((err as unknown as { ArgumentName?: string }).ArgumentName).toBe('RetainUntilDate');
    await expectError(s3.send(new PutObjectRetentionCommand({ Bucket, Key: 'k', Retention: { Mode: 'GOVERNANCE' } })), 'MalformedXML', 400);
    await expectError(s3.send(new PutObjectRetentionCommand({ Bucket, Key: 'k', Retention: { Mode: 'governance' as 'GOVERNANCE', RetainUntilDate: ahead(1) } })), 'MalformedXML', 400);
    await expectError(s3.send(new PutObjectLegalHoldCommand({ Bucket, Key: 'k', LegalHold: { Status: 'on' as 'ON' } })), 'MalformedXML', 400);
  });

  it('GOVERNANCE: extending is allowed; shortening, removing or turning it into COMPLIANCE needs the bypass', async () => {
    const Bucket = await lockedBucket();
    await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'x', ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: ahead(2) }));
    const put = (Mode: 'GOVERNANCE' | 'COMPLIANCE' | undefined, RetainUntilDate: Date | undefined, BypassGovernanceRetention?: boolean) =>
      s3.send(new PutObjectRetentionCommand({ Bucket, Key: 'k', Retention: Mode ? { Mode, RetainUntilDate } : {}, BypassGovernanceRetention }));
    const locked = 'Access Denied because object protected by object lock.';
    await put('GOVERNANCE', ahead(3));
    await expectError(put('GOVERNANCE', ahead(1)), 'AccessDenied', 403, locked);
    await expectError(put('COMPLIANCE', ahead(4)), 'AccessDenied', 403, locked);
    await expectError(put(undefined, undefined), 'AccessDenied', 403, locked);
    await put('GOVERNANCE', ahead(1), true);
    expect((await s3.send(new GetObjectRetentionCommand({ Bucket, Key: 'k' }))).Retention!.RetainUntilDate!.getTime()).toBeLessThan(ahead(1.5).getTime());
    // A caller denied s3:BypassGovernanceRetention cannot bypass, header or not.
    const noBypass = s3Client(sealbox, { credentials: { accessKeyId: 'AKIDNOBYPASS', secretAccessKey: 'nobypass' } });
    const denied = await expectError(
      noBypass.send(new PutObjectRetentionCommand({ Bucket, Key: 'k', Retention: {}, BypassGovernanceRetention: true })),
      'AccessDenied',
      403,
    );
    expect(denied.message).toContain('s3:BypassGovernanceRetention');
    noBypass.destroy();
    // An empty Retention with the bypass removes it.
    await put(undefined, undefined, true);
    await expectError(s3.send(new GetObjectRetentionCommand({ Bucket, Key: 'k' })), 'NoSuchObjectLockConfiguration', 404);
  });

  it('COMPLIANCE: only extending; never shortened, removed or made GOVERNANCE, bypass or not', async () => {
    const Bucket = await lockedBucket();
    await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'x', ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: ahead(2) }));
    const put = (Mode: 'GOVERNANCE' | 'COMPLIANCE' | undefined, RetainUntilDate: Date | undefined) =>
      s3.send(new PutObjectRetentionCommand({ Bucket, Key: 'k', Retention: Mode ? { Mode, RetainUntilDate } : {}, BypassGovernanceRetention: true }));
    await expectError(put('COMPLIANCE', ahead(1)), 'AccessDenied', 403);
    await expectError(put('GOVERNANCE', ahead(5)), 'AccessDenied', 403);
    await expectError(put(undefined, undefined), 'AccessDenied', 403);
    await put('COMPLIANCE', ahead(3));
    expect((await s3.send(new GetObjectRetentionCommand({ Bucket, Key: 'k' }))).Retention!.Mode).toBe('COMPLIANCE');
  });
});

describe('lock headers on writes', () => {
  it.each([
    ['only a mode', { ObjectLockMode: 'GOVERNANCE' }, 'InvalidArgument', 'x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied'],
    ['only a date', { ObjectLockRetainUntilDate: new Date(Date.now() + 10 * 86_400_000) }, 'InvalidArgument', 'x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied'],
    ['an unknown mode', { ObjectLockMode: 'FOREVER', ObjectLockRetainUntilDate: new Date(Date.now() + 10 * 86_400_000) }, 'InvalidArgument', 'Unknown wormMode directive.'],
    ['a date in the past', { ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: new Date(Date.now() - 86_400_000) }, 'InvalidArgument', 'The retain until date must be in the future!'],
    ['an unknown legal hold', { ObjectLockLegalHoldStatus: 'YES' }, 'InvalidArgument', "Legal Hold must be either of 'ON' or 'OFF'"],
  ])('PutObject with %s: 400', async (_name, headers, code, message) => {
    const Bucket = await lockedBucket();
    await expectError(s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'x', ...(headers as object) })), code, 400, message);
    await expectError(s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'k', ...(headers as object) })), code, 400, message);
  });

  it('PutObject, CopyObject and CreateMultipartUpload with lock headers into a bucket without Object Lock: 400', async () => {
    const Bucket = await plainBucket();
    await s3.send(new PutObjectCommand({ Bucket, Key: 'src', Body: 'x' }));
    const lock = { ObjectLockMode: 'GOVERNANCE' as const, ObjectLockRetainUntilDate: ahead(1) };
    const message = 'Bucket is missing ObjectLockConfiguration';
    await expectError(s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'x', ...lock })), 'InvalidRequest', 400, message);
    await expectError(s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'x', ObjectLockLegalHoldStatus: 'ON' })), 'InvalidRequest', 400, message);
    await expectError(s3.send(new CopyObjectCommand({ Bucket, Key: 'k', CopySource: `${Bucket}/src`, ...lock })), 'InvalidRequest', 400, message);
    await expectError(s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'k', ...lock })), 'InvalidRequest', 400, message);
  });

  it('PutObject with Object Lock parameters, a bucket default included, needs Content-MD5 or a checksum', async () => {
    // This client sends no checksum where the operation does not require one (PutObject).
    const bare = s3Client(sealbox, { requestChecksumCalculation: 'WHEN_REQUIRED' });
    const message = 'Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with Object Lock parameters';
    const Bucket = await lockedBucket();
    await bare.send(new PutObjectCommand({ Bucket, Key: 'plain', Body: 'x' }));
    await expectError(bare.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'x', ObjectLockLegalHoldStatus: 'OFF' })), 'InvalidRequest', 400, message);
    await expectError(bare.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'x', ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: ahead(1) })), 'InvalidRequest', 400, message);
    await bare.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'x', ObjectLockLegalHoldStatus: 'OFF', ContentMD5: createHash('md5').update('x').digest('base64') }));
    await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'x', ObjectLockLegalHoldStatus: 'OFF' }));
    const withDefault = await lockedBucket({ ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 1 } } });
    await expectError(bare.send(new PutObjectCommand({ Bucket: withDefault, Key: 'k', Body: 'x' })), 'InvalidRequest', 400, message);
    await s3.send(new PutObjectCommand({ Bucket: withDefault, Key: 'k', Body: 'x' }));
    bare.destroy();
  });

  it('applies the bucket default to new versions without their own retention; headers override it', async () => {
    const Bucket = await lockedBucket({ ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 1 } } });
    await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'x', ObjectLockLegalHoldStatus: 'ON' }));
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'k' }));
    expect(head.ObjectLockMode).toBe('GOVERNANCE');
    expect(head.ObjectLockLegalHoldStatus).toBe('ON');
    expect(Math.abs(head.ObjectLockRetainUntilDate!.getTime() - head.LastModified!.getTime() - DAY)).toBeLessThan(2000);
    const until = new Date(Math.floor(ahead(10).getTime() / 1000) * 1000);
    await s3.send(new PutObjectCommand({ Bucket, Key: 'own', Body: 'x', ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: until }));
    const own = await s3.send(new HeadObjectCommand({ Bucket, Key: 'own' }));
    expect([own.ObjectLockMode, own.ObjectLockRetainUntilDate, own.ObjectLockLegalHoldStatus]).toEqual(['COMPLIANCE', until, undefined]);
    // Years count 365 days each.
    const years = await lockedBucket({ ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Years: 1 } } });
    await s3.send(new PutObjectCommand({ Bucket: years, Key: 'k', Body: 'x' }));
    const y = await s3.send(new HeadObjectCommand({ Bucket: years, Key: 'k' }));
    expect(Math.abs(y.ObjectLockRetainUntilDate!.getTime() - y.LastModified!.getTime() - 365 * DAY)).toBeLessThan(2000);
  });

  it('CopyObject: the copy never takes the source lock, only its own headers (or the default)', async () => {
    const Bucket = await lockedBucket();
    await s3.send(new PutObjectCommand({ Bucket, Key: 'src', Body: 'x', ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: ahead(1), ObjectLockLegalHoldStatus: 'ON' }));
    await s3.send(new CopyObjectCommand({ Bucket, Key: 'copy', CopySource: `${Bucket}/src` }));
    const copy = await s3.send(new HeadObjectCommand({ Bucket, Key: 'copy' }));
    expect([copy.ObjectLockMode, copy.ObjectLockLegalHoldStatus]).toEqual([undefined, undefined]);
    await s3.send(new CopyObjectCommand({ Bucket, Key: 'held', CopySource: `${Bucket}/src`, ObjectLockLegalHoldStatus: 'ON' }));
    expect((await s3.send(new HeadObjectCommand({ Bucket, Key: 'held' }))).ObjectLockLegalHoldStatus).toBe('ON');
  });

  it('multipart: the lock asked at CreateMultipartUpload is on the completed object; its parts need a checksum', async () => {
    const Bucket = await lockedBucket();
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'mp', ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: ahead(1) }));
    const bare = s3Client(sealbox, { requestChecksumCalculation: 'WHEN_REQUIRED' });
    await expectError(
      bare.send(new UploadPartCommand({ Bucket, Key: 'mp', UploadId, PartNumber: 1, Body: 'part' })),
      'InvalidRequest',
      400,
      'Content-MD5 OR x-amz-checksum- HTTP header is required for Put Part requests with Object Lock parameters',
    );
    bare.destroy();
    const part = await s3.send(new UploadPartCommand({ Bucket, Key: 'mp', UploadId, PartNumber: 1, Body: 'part' }));
    const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key: 'mp', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag, ChecksumCRC32: part.ChecksumCRC32 }] } }));
    expect((await s3.send(new HeadObjectCommand({ Bucket, Key: 'mp' }))).ObjectLockMode).toBe('COMPLIANCE');
    await expectError(s3.send(new DeleteObjectCommand({ Bucket, Key: 'mp', VersionId: done.VersionId })), 'AccessDenied', 403);
  });

  it('an anonymous write with lock headers: 400, Object Lock needs Signature Version 4', async () => {
    const Bucket = await lockedBucket();
    await s3.send(new DeletePublicAccessBlockCommand({ Bucket }));
    await s3.send(new PutBucketPolicyCommand({ Bucket, Policy: policy({ Effect: 'Allow', Principal: '*', Action: ['s3:PutObject', 's3:PutObjectLegalHold'], Resource: `arn:aws:s3:::${Bucket}/*` }) }));
    const md5 = createHash('md5').update('x').digest('base64');
    const anonymous = (headers: Record<string, string>) => fetch(`${sealbox.s3!.url}/${Bucket}/k`, { method: 'PUT', headers: { 'content-md5': md5, ...headers }, body: 'x' });
    expect((await anonymous({})).status).toBe(200);
    const refused = await anonymous({ 'x-amz-object-lock-legal-hold': 'ON' });
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain('<Code>InvalidArgument</Code><Message>Put Object requests with Object Lock parameters require AWS Signature Version 4</Message>');
  });

  it('lock headers need s3:PutObjectRetention and s3:PutObjectLegalHold', async () => {
    const Bucket = await lockedBucket();
    const writer = s3Client(sealbox, { credentials: { accessKeyId: 'AKIDWRITER', secretAccessKey: 'writer' } });
    await writer.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'x' }));
    expect((await expectError(writer.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'x', ObjectLockLegalHoldStatus: 'ON' })), 'AccessDenied', 403)).message).toContain('s3:PutObjectLegalHold');
    const retention = writer.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'x', ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: ahead(1) }));
    expect((await expectError(retention, 'AccessDenied', 403)).message).toContain('s3:PutObjectRetention');
    writer.destroy();
  });
});

describe('s3:object-lock-remaining-retention-days (AWS\'s "set retention limits" bucket policy)', () => {
  // https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock-managing.html#object-lock-managing-retention-limits
  async function cappedBucket(): Promise<string> {
    const Bucket = await lockedBucket();
    const cap = { Effect: 'Deny', Principal: '*', Action: ['s3:PutObject', 's3:PutObjectRetention'], Resource: `arn:aws:s3:::${Bucket}/*`, Condition: { NumericGreaterThan: { 's3:object-lock-remaining-retention-days': '10' } } };
    await s3.send(new PutBucketPolicyCommand({ Bucket, Policy: policy(cap) }));
    return Bucket;
  }

  it('PutObject and CreateMultipartUpload: a retention beyond the cap is refused, within it allowed', async () => {
    const Bucket = await cappedBucket();
    await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'x', ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: ahead(10) }));
    await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'x' }));
    await expectError(s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'x', ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: ahead(10.01) })), 'AccessDenied', 403);
    await expectError(s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'k', ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: ahead(365) })), 'AccessDenied', 403);
  });

  it('PutObjectRetention is judged by the retention in its body, not by headers sent beside it', async () => {
    const Bucket = await cappedBucket();
    const { VersionId } = await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'x' }));
    await s3.send(new PutObjectRetentionCommand({ Bucket, Key: 'k', VersionId, Retention: { Mode: 'GOVERNANCE', RetainUntilDate: ahead(5) } }));
    await s3.send(new PutObjectRetentionCommand({ Bucket, Key: 'k', VersionId, Retention: { Mode: 'GOVERNANCE', RetainUntilDate: ahead(10) } }));
    await expectError(s3.send(new PutObjectRetentionCommand({ Bucket, Key: 'k', VersionId, Retention: { Mode: 'GOVERNANCE', RetainUntilDate: ahead(30) } })), 'AccessDenied', 403);
    // A near date in a header does not hide the far one in the body.
    const far = ahead(30).toISOString();
    const body = `<Retention><Mode>GOVERNANCE</Mode><RetainUntilDate>${far}</RetainUntilDate></Retention>`;
    const md5 = createHash('md5').update(body).digest('base64');
    const spoofed = await signed('PUT', `/${Bucket}/k?retention&versionId=${encodeURIComponent(VersionId!)}`, body, { 'content-md5': md5, 'x-amz-object-lock-retain-until-date': ahead(1).toISOString() });
    expect([spoofed.status, spoofed.text]).toEqual([403, expect.stringContaining('<Code>AccessDenied</Code>')]);
    expect((await s3.send(new GetObjectRetentionCommand({ Bucket, Key: 'k', VersionId }))).Retention!.RetainUntilDate!.getTime()).toBeLessThan(ahead(11).getTime());
  });

  it('a bucket policy may allow retention only within a cap (the key is there when the decision is made)', async () => {
    const Bucket = await lockedBucket();
    const { VersionId } = await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'x' }));
    // The bucket policy alone grants: a PutObjectRetention of at most 10 days, to the writer.
    const allow = { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${OWNER}:user/writer` }, Action: 's3:PutObjectRetention', Resource: `arn:aws:s3:::${Bucket}/*`, Condition: { NumericLessThanEquals: { 's3:object-lock-remaining-retention-days': '10' } } };
    await s3.send(new PutBucketPolicyCommand({ Bucket, Policy: policy(allow) }));
    const writer = s3Client(sealbox, { credentials: { accessKeyId: 'AKIDWRITER', secretAccessKey: 'writer' } });
    await writer.send(new PutObjectRetentionCommand({ Bucket, Key: 'k', VersionId, Retention: { Mode: 'GOVERNANCE', RetainUntilDate: ahead(7) } }));
    await expectError(writer.send(new PutObjectRetentionCommand({ Bucket, Key: 'k', VersionId, Retention: { Mode: 'GOVERNANCE', RetainUntilDate: ahead(20) } })), 'AccessDenied', 403);
    writer.destroy();
  });
});

describe('Object Lock condition keys on a delete (review s10-rev3)', () => {
  it('lock headers sent on a DeleteObject set no keys: an Allow of the bypass conditioned on them cannot be met by forging one', async () => {
    const Bucket = await lockedBucket();
    const { VersionId } = await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'x', ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: ahead(30) }));
    // The writer may delete versions, and bypass governance only where the keys say at most a day.
    const allow = [
      { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${OWNER}:user/writer` }, Action: 's3:DeleteObjectVersion', Resource: `arn:aws:s3:::${Bucket}/*` },
      { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${OWNER}:user/writer` }, Action: 's3:BypassGovernanceRetention', Resource: `arn:aws:s3:::${Bucket}/*`, Condition: { NumericLessThanEquals: { 's3:object-lock-remaining-retention-days': '1' } } },
    ];
    await s3.send(new PutBucketPolicyCommand({ Bucket, Policy: policy(...allow) }));
    const url = new URL(sealbox.s3!.url);
    const del = async (headers: Record<string, string>) => {
      const req = { host: url.host, path: `/${Bucket}/k?versionId=${encodeURIComponent(VersionId!)}`, method: 'DELETE', service: 's3', region: 'us-east-1', headers: { 'x-amz-bypass-governance-retention': 'true', ...headers } };
      aws4.sign(req, { accessKeyId: 'AKIDWRITER', secretAccessKey: 'writer' });
      const res = await fetch(`${sealbox.s3!.url}${req.path}`, { method: 'DELETE', headers: req.headers });
      return { status: res.status, text: await res.text() };
    };
    expect((await del({})).status).toBe(403);
    // A near date in a header beside the delete says nothing about the version: no key from it.
    const forged = await del({ 'x-amz-object-lock-mode': 'GOVERNANCE', 'x-amz-object-lock-retain-until-date': ahead(0.5).toISOString() });
    expect([forged.status, forged.text]).toEqual([403, expect.stringContaining('<Code>AccessDenied</Code>')]);
    expect((await s3.send(new GetObjectRetentionCommand({ Bucket, Key: 'k', VersionId }))).Retention!.Mode).toBe('GOVERNANCE');
  });
});

describe('Object Lock condition keys on a multi-object delete', () => {
  it('lock headers forged on a DeleteObjects with the bypass set no keys either: the version stays', async () => {
    const Bucket = await lockedBucket();
    const { VersionId } = await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'x', ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: ahead(30) }));
    const allow = [
      { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${OWNER}:user/writer` }, Action: 's3:DeleteObjectVersion', Resource: `arn:aws:s3:::${Bucket}/*` },
      { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${OWNER}:user/writer` }, Action: 's3:BypassGovernanceRetention', Resource: `arn:aws:s3:::${Bucket}/*`, Condition: { NumericLessThanEquals: { 's3:object-lock-remaining-retention-days': '1' } } },
    ];
    await s3.send(new PutBucketPolicyCommand({ Bucket, Policy: policy(...allow) }));
    const url = new URL(sealbox.s3!.url);
    const body = `<Delete><Object><Key>k</Key><VersionId>${VersionId}</VersionId></Object></Delete>`;
    const req = {
      host: url.host,
      path: `/${Bucket}?delete`,
      method: 'POST',
      service: 's3',
      region: 'us-east-1',
      body,
      headers: {
        'content-md5': createHash('md5').update(body).digest('base64'),
        'x-amz-bypass-governance-retention': 'true',
        'x-amz-object-lock-mode': 'GOVERNANCE',
        'x-amz-object-lock-retain-until-date': ahead(0.5).toISOString(),
      },
    };
    aws4.sign(req, { accessKeyId: 'AKIDWRITER', secretAccessKey: 'writer' });
    const res = await fetch(`${sealbox.s3!.url}${req.path}`, { method: 'POST', headers: req.headers as Record<string, string>, body });
    const text = await res.text();
    expect(res.status).toBe(200);
    expect(text).toContain('<Code>AccessDenied</Code>');
    expect(text).not.toContain('<Deleted>');
    expect((await s3.send(new GetObjectRetentionCommand({ Bucket, Key: 'k', VersionId }))).Retention!.Mode).toBe('GOVERNANCE');
  });
});

describe('s3:object-lock-legal-hold', () => {
  it('PutObjectLegalHold is judged by the status in its body, not by a header sent beside it', async () => {
    const Bucket = await lockedBucket();
    const { VersionId } = await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'x' }));
    // Nobody may place a legal hold here; removing one stays allowed.
    const noHolds = { Effect: 'Deny', Principal: '*', Action: 's3:PutObjectLegalHold', Resource: `arn:aws:s3:::${Bucket}/*`, Condition: { StringEquals: { 's3:object-lock-legal-hold': 'ON' } } };
    await s3.send(new PutBucketPolicyCommand({ Bucket, Policy: policy(noHolds) }));
    await expectError(s3.send(new PutObjectLegalHoldCommand({ Bucket, Key: 'k', VersionId, LegalHold: { Status: 'ON' } })), 'AccessDenied', 403);
    await s3.send(new PutObjectLegalHoldCommand({ Bucket, Key: 'k', VersionId, LegalHold: { Status: 'OFF' } }));
    const body = '<LegalHold><Status>ON</Status></LegalHold>';
    const md5 = createHash('md5').update(body).digest('base64');
    const spoofed = await signed('PUT', `/${Bucket}/k?legal-hold&versionId=${encodeURIComponent(VersionId!)}`, body, { 'content-md5': md5, 'x-amz-object-lock-legal-hold': 'OFF' });
    expect([spoofed.status, spoofed.text]).toEqual([403, expect.stringContaining('<Code>AccessDenied</Code>')]);
    expect((await s3.send(new GetObjectLegalHoldCommand({ Bucket, Key: 'k', VersionId }))).LegalHold!.Status).toBe('OFF');
  });
});

describe('deletes', () => {
  const locked = 'Access Denied because object protected by object lock.';

  it('a retained or held version cannot be deleted; a simple delete adds a delete marker', async () => {
    const Bucket = await lockedBucket();
    const v = (await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'x', ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: ahead(1) }))).VersionId!;
    await expectError(s3.send(new DeleteObjectCommand({ Bucket, Key: 'k', VersionId: v })), 'AccessDenied', 403, locked);
    await expectError(s3.send(new DeleteObjectCommand({ Bucket, Key: 'k', VersionId: v, BypassGovernanceRetention: true })), 'AccessDenied', 403, locked);
    const marker = await s3.send(new DeleteObjectCommand({ Bucket, Key: 'k' }));
    expect(marker.DeleteMarker).toBe(true);
    // Delete markers are never protected.
    await s3.send(new DeleteObjectCommand({ Bucket, Key: 'k', VersionId: marker.VersionId }));
    expect((await s3.send(new HeadObjectCommand({ Bucket, Key: 'k' }))).VersionId).toBe(v);

    const held = (await s3.send(new PutObjectCommand({ Bucket, Key: 'h', Body: 'x', ObjectLockLegalHoldStatus: 'ON' }))).VersionId!;
    await expectError(s3.send(new DeleteObjectCommand({ Bucket, Key: 'h', VersionId: held, BypassGovernanceRetention: true })), 'AccessDenied', 403, locked);
    await s3.send(new PutObjectLegalHoldCommand({ Bucket, Key: 'h', VersionId: held, LegalHold: { Status: 'OFF' } }));
    await s3.send(new DeleteObjectCommand({ Bucket, Key: 'h', VersionId: held }));
  });

  it('GOVERNANCE is bypassed with the header and s3:BypassGovernanceRetention, not without either', async () => {
    const Bucket = await lockedBucket({ ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 5 } } });
    const v = (await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'x' }))).VersionId!;
    await expectError(s3.send(new DeleteObjectCommand({ Bucket, Key: 'k', VersionId: v })), 'AccessDenied', 403, locked);
    await expectError(s3.send(new DeleteObjectCommand({ Bucket, Key: 'k', VersionId: v, BypassGovernanceRetention: false })), 'AccessDenied', 403, locked);
    const noBypass = s3Client(sealbox, { credentials: { accessKeyId: 'AKIDNOBYPASS', secretAccessKey: 'nobypass' } });
    const denied = await expectError(noBypass.send(new DeleteObjectCommand({ Bucket, Key: 'k', VersionId: v, BypassGovernanceRetention: true })), 'AccessDenied', 403);
    expect(denied.message).toContain('s3:BypassGovernanceRetention');
    noBypass.destroy();
    expect((await s3.send(new DeleteObjectCommand({ Bucket, Key: 'k', VersionId: v, BypassGovernanceRetention: true }))).$metadata.httpStatusCode).toBe(204);
  });

  it('DeleteObjects: each protected version is an AccessDenied entry, the others are deleted', async () => {
    const Bucket = await lockedBucket();
    const kept = (await s3.send(new PutObjectCommand({ Bucket, Key: 'kept', Body: 'x', ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: ahead(1) }))).VersionId!;
    const free = (await s3.send(new PutObjectCommand({ Bucket, Key: 'free', Body: 'x' }))).VersionId!;
    const result = await s3.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: [{ Key: 'kept', VersionId: kept }, { Key: 'free', VersionId: free }, { Key: 'kept' }] } }));
    expect(result.Errors).toEqual([{ Key: 'kept', VersionId: kept, Code: 'AccessDenied', Message: locked }]);
    expect(result.Deleted!.map((d) => d.Key).sort()).toEqual(['free', 'kept']);
    const bypassed = await s3.send(new DeleteObjectsCommand({ Bucket, BypassGovernanceRetention: true, Delete: { Objects: [{ Key: 'kept', VersionId: kept }] } }));
    expect(bypassed.Errors).toBeUndefined();
  });

  it('x-amz-bypass-governance-retention on a bucket without Object Lock: 400 InvalidArgument', async () => {
    const Bucket = await plainBucket();
    await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'x' }));
    const message = 'x-amz-bypass-governance-retention is only applicable to Object Lock enabled buckets.';
    await expectError(s3.send(new DeleteObjectCommand({ Bucket, Key: 'k', BypassGovernanceRetention: true })), 'InvalidArgument', 400, message);
    await expectError(s3.send(new DeleteObjectsCommand({ Bucket, BypassGovernanceRetention: false, Delete: { Objects: [{ Key: 'k' }] } })), 'InvalidArgument', 400, message);
  });

  it('retention ends on the virtual clock: POST /_sealbox/clock past the date, and the version can be deleted', async () => {
    const Bucket = await lockedBucket({ ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 1 } } });
    const v = (await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'x' }))).VersionId!;
    const retained = (await s3.send(new PutObjectCommand({ Bucket, Key: 'k2', Body: 'x', ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: ahead(3) }))).VersionId!;
    await expectError(s3.send(new DeleteObjectCommand({ Bucket, Key: 'k', VersionId: v })), 'AccessDenied', 403, locked);
    await advanceClock(2 * 86_400);
    await s3.send(new DeleteObjectCommand({ Bucket, Key: 'k', VersionId: v }));
    await expectError(s3.send(new HeadObjectCommand({ Bucket, Key: 'k', VersionId: v })), 'NotFound', 404);
    // Still within its own three days.
    await expectError(s3.send(new DeleteObjectCommand({ Bucket, Key: 'k2', VersionId: retained })), 'AccessDenied', 403, locked);
    // An expired COMPLIANCE retention can be set again, shorter or in another mode.
    await advanceClock(2 * 86_400);
    await s3.send(new PutObjectRetentionCommand({ Bucket, Key: 'k2', VersionId: retained, Retention: { Mode: 'GOVERNANCE', RetainUntilDate: ahead(1) } }));
  });
});

describe('persistence', () => {
  it('lock state survives a restart, and a snapshot export and import', async () => {
    const root = mkdtempSync(join(tmpdir(), 'sealbox-lock-'));
    const dataDir = join(root, 'data');
    let onDisk = await startTestSealbox({ dataDir });
    let client = s3Client(onDisk);
    const until = new Date(Math.floor((onDisk.clock.now().getTime() + 3 * DAY) / 1000) * 1000);
    await client.send(new CreateBucketCommand({ Bucket: 'kept', ObjectLockEnabledForBucket: true }));
    await client.send(new PutObjectLockConfigurationCommand({ Bucket: 'kept', ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 7 } } } }));
    const v = (await client.send(new PutObjectCommand({ Bucket: 'kept', Key: 'k', Body: 'x', ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: until, ObjectLockLegalHoldStatus: 'ON' }))).VersionId!;
    const check = async (c: S3Client) => {
      expect((await c.send(new GetObjectLockConfigurationCommand({ Bucket: 'kept' }))).ObjectLockConfiguration!.Rule!.DefaultRetention).toEqual({ Mode: 'GOVERNANCE', Days: 7 });
      expect((await c.send(new GetObjectRetentionCommand({ Bucket: 'kept', Key: 'k', VersionId: v }))).Retention).toEqual({ Mode: 'COMPLIANCE', RetainUntilDate: until });
      expect((await c.send(new GetObjectLegalHoldCommand({ Bucket: 'kept', Key: 'k', VersionId: v }))).LegalHold!.Status).toBe('ON');
      await expectError(c.send(new DeleteObjectCommand({ Bucket: 'kept', Key: 'k', VersionId: v })), 'AccessDenied', 403);
      await expectError(c.send(new PutBucketVersioningCommand({ Bucket: 'kept', VersioningConfiguration: { Status: 'Suspended' } })), 'InvalidBucketState', 409);
    };
    client.destroy();
    await onDisk.stop();
    onDisk = await startTestSealbox({ dataDir });
    client = s3Client(onDisk);
    await check(client);
    client.destroy();
    await onDisk.stop();

    await exportSnapshot({ dataDir, file: join(root, 'lock.tgz'), sealboxVersion: 'test' });
    await importSnapshot({ file: join(root, 'lock.tgz'), dataDir: join(root, 'copy') });
    const copy = await startTestSealbox({ dataDir: join(root, 'copy') });
    client = s3Client(copy);
    await check(client);
    client.destroy();
    await copy.stop();
  });

  it('POST /_sealbox/reset forgets every lock: the bucket made again has none', async () => {
    const fresh = await startTestSealbox();
    const client = s3Client(fresh);
    try {
      await client.send(new CreateBucketCommand({ Bucket: 'kept', ObjectLockEnabledForBucket: true }));
      await client.send(new PutObjectCommand({ Bucket: 'kept', Key: 'k', Body: 'x', ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: new Date(fresh.clock.now().getTime() + DAY) }));
      expect((await fetch(`${fresh.s3!.url}/_sealbox/reset`, { method: 'POST' })).status).toBe(200);
      await client.send(new CreateBucketCommand({ Bucket: 'kept' }));
      await expectError(client.send(new GetObjectLockConfigurationCommand({ Bucket: 'kept' })), 'ObjectLockConfigurationNotFoundError', 404);
      await expectError(client.send(new HeadObjectCommand({ Bucket: 'kept', Key: 'k' })), 'NotFound', 404);
    } finally {
      client.destroy();
      await fresh.stop();
    }
  });
});

describe('AWS CLI (botocore: dates to the second, a checksum on every lock request)', () => {
  it('create-bucket --object-lock-enabled-for-bucket, put-object with a lock, put/get-object-retention, delete refused', async () => {
    const env = { AWS_ENDPOINT_URL_S3: sealbox.s3!.url, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_DEFAULT_REGION: 'us-east-1' };
    const aws = async (...args: string[]) => {
      const r = await runCommand('aws', ['s3api', ...args], env);
      return { ...r, json: r.code === 0 && r.stdout.trim() ? (JSON.parse(r.stdout) as Record<string, unknown>) : undefined };
    };
    const Bucket = bucketName();
    expect((await aws('create-bucket', '--bucket', Bucket, '--object-lock-enabled-for-bucket')).code).toBe(0);
    const until = new Date(Math.floor(ahead(2).getTime() / 1000) * 1000).toISOString().replace('.000Z', 'Z');
    const put = await aws('put-object', '--bucket', Bucket, '--key', 'k', '--object-lock-mode', 'GOVERNANCE', '--object-lock-retain-until-date', until, '--object-lock-legal-hold-status', 'ON');
    expect(put.code).toBe(0);
    const versionId = put.json!.VersionId as string;
    const head = (await aws('head-object', '--bucket', Bucket, '--key', 'k')).json!;
    expect([head.ObjectLockMode, head.ObjectLockLegalHoldStatus, Date.parse(head.ObjectLockRetainUntilDate as string)]).toEqual(['GOVERNANCE', 'ON', Date.parse(until)]);
    const later = new Date(Date.parse(until) + DAY).toISOString().replace('.000Z', 'Z');
    expect((await aws('put-object-retention', '--bucket', Bucket, '--key', 'k', '--retention', `Mode=GOVERNANCE,RetainUntilDate=${later}`)).code).toBe(0);
    const retention = (await aws('get-object-retention', '--bucket', Bucket, '--key', 'k')).json!.Retention as { Mode: string; RetainUntilDate: string };
    expect([retention.Mode, Date.parse(retention.RetainUntilDate)]).toEqual(['GOVERNANCE', Date.parse(later)]);
    expect((await aws('put-object-legal-hold', '--bucket', Bucket, '--key', 'k', '--legal-hold', 'Status=OFF')).code).toBe(0);
    const refused = await aws('delete-object', '--bucket', Bucket, '--key', 'k', `--version-id=${versionId}`);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('(AccessDenied)');
    expect((await aws('delete-object', '--bucket', Bucket, '--key', 'k', `--version-id=${versionId}`, '--bypass-governance-retention')).code).toBe(0);
  }, 120_000);
});
