/**
 * Issue 19, adversarial review of Object Lock: every other way to remove or overwrite a locked
 * version (DeleteObjects in both modes, the null version of a once-suspended history, copies,
 * multipart completions and plain writes over it, a second principal, the bypass header spelled
 * otherwise, presigned URLs, DeleteBucket, lifecycle rules), dates at their edges, and the lock
 * surviving a kill -9 in the middle of PutObjectRetention traffic. SDK v3 against a started
 * Sealbox, raw SigV4 requests where the SDK cannot send what is tested.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash, createHmac } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  GetObjectRetentionCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectLegalHoldCommand,
  PutObjectLockConfigurationCommand,
  PutObjectRetentionCommand,
  S3Client,
  UploadPartCommand,
  type ObjectLockConfiguration,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { Sealbox } from '@sealbox/cli';
import { deriveSigningKey, toAmzDate, type Credentials } from '@sealbox/sigv4';
import aws4 from 'aws4';
import { failure, s3Client, startTestSealbox } from './helpers';

const OWNER = '000000000000';
const LOCKED = 'Access Denied because object protected by object lock.';
const DAY = 86_400_000;
const policy = (...statements: object[]) => JSON.stringify({ Version: '2012-10-17', Statement: statements });
const USERS: Credentials[] = [
  // Everything in S3 but s3:BypassGovernanceRetention: the careless (or hostile) second principal.
  {
    accessKeyId: 'AKIDSECOND',
    secretAccessKey: 'second',
    accountId: OWNER,
    principalArn: `arn:aws:iam::${OWNER}:user/second`,
    policies: [policy({ Effect: 'Allow', Action: 's3:*', Resource: '*' }, { Effect: 'Deny', Action: 's3:BypassGovernanceRetention', Resource: '*' })],
  },
];

let sealbox: Sealbox;
let s3: S3Client;
let second: S3Client;
let n = 0;
const bucketName = () => `lock-attack-${process.pid}-${++n}`;
const ahead = (days: number) => new Date(sealbox.clock.now().getTime() + days * DAY);

beforeAll(async () => {
  sealbox = await startTestSealbox({ users: USERS });
  s3 = s3Client(sealbox);
  second = s3Client(sealbox, { credentials: { accessKeyId: 'AKIDSECOND', secretAccessKey: 'second' } });
});
afterAll(async () => {
  s3.destroy();
  second.destroy();
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

/** A SigV4-signed request with exactly these headers. */
async function signed(method: string, path: string, body = '', headers: Record<string, string> = {}) {
  const url = new URL(sealbox.s3!.url);
  const req = { host: url.host, path, method, service: 's3', region: 'us-east-1', body, headers: { ...headers } };
  aws4.sign(req, { accessKeyId: 'test', secretAccessKey: 'test' });
  const res = await fetch(`${sealbox.s3!.url}${req.path}`, { method, headers: req.headers, body: method === 'GET' || method === 'HEAD' ? undefined : body });
  return { status: res.status, text: await res.text() };
}

const md5 = (body: string) => createHash('md5').update(body).digest('base64');

async function advanceClock(seconds: number) {
  const res = await fetch(`${sealbox.s3!.url}/_sealbox/clock`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ advanceSeconds: seconds }) });
  expect(res.status).toBe(200);
}

async function versionsOf(Bucket: string, Key: string): Promise<string[]> {
  const listed = await s3.send(new ListObjectVersionsCommand({ Bucket, Prefix: Key }));
  return (listed.Versions ?? []).filter((v) => v.Key === Key).map((v) => v.VersionId!);
}

async function bodyOf(Bucket: string, Key: string, VersionId: string): Promise<string> {
  return (await s3.send(new GetObjectCommand({ Bucket, Key, VersionId }))).Body!.transformToString();
}

describe('every other way to remove a locked version', () => {
  it('DeleteObjects, quiet and verbose, mixed locked and unlocked, with and without version ids', async () => {
    const Bucket = await lockedBucket();
    const gov = (await s3.send(new PutObjectCommand({ Bucket, Key: 'gov', Body: 'g', ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: ahead(2) }))).VersionId!;
    const comp = (await s3.send(new PutObjectCommand({ Bucket, Key: 'comp', Body: 'c', ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: ahead(2) }))).VersionId!;
    const held = (await s3.send(new PutObjectCommand({ Bucket, Key: 'held', Body: 'h', ObjectLockLegalHoldStatus: 'ON' }))).VersionId!;
    const free = (await s3.send(new PutObjectCommand({ Bucket, Key: 'free', Body: 'f' }))).VersionId!;
    const objects = [{ Key: 'gov', VersionId: gov }, { Key: 'comp', VersionId: comp }, { Key: 'held', VersionId: held }, { Key: 'free', VersionId: free }, { Key: 'gov' }];

    // Quiet mode still reports every refused entry; the free version and the marker go.
    const quiet = await s3.send(new DeleteObjectsCommand({ Bucket, Delete: { Quiet: true, Objects: objects } }));
    expect(quiet.Deleted).toBeUndefined();
    expect(quiet.Errors!.map((e) => [e.Key, e.Code, e.Message])).toEqual([
      ['gov', 'AccessDenied', LOCKED],
      ['comp', 'AccessDenied', LOCKED],
      ['held', 'AccessDenied', LOCKED],
    ]);
    expect(await versionsOf(Bucket, 'free')).toEqual([]);

    // Verbose with the bypass, by a principal without s3:BypassGovernanceRetention: refused per key.
    const denied = await second.send(new DeleteObjectsCommand({ Bucket, BypassGovernanceRetention: true, Delete: { Objects: objects.slice(0, 3) } }));
    expect(denied.Deleted).toBeUndefined();
    expect(denied.Errors!.map((e) => [e.Key, e.Code])).toEqual([
      ['gov', 'AccessDenied'],
      ['comp', 'AccessDenied'],
      ['held', 'AccessDenied'],
    ]);
    expect(denied.Errors![0]!.Message).toContain('s3:BypassGovernanceRetention');

    // The owner with the bypass: only GOVERNANCE goes; COMPLIANCE and the hold stay.
    const bypassed = await s3.send(new DeleteObjectsCommand({ Bucket, BypassGovernanceRetention: true, Delete: { Objects: objects.slice(0, 3) } }));
    expect(bypassed.Deleted!.map((d) => [d.Key, d.VersionId])).toEqual([['gov', gov]]);
    expect(bypassed.Errors!.map((e) => [e.Key, e.Message])).toEqual([
      ['comp', LOCKED],
      ['held', LOCKED],
    ]);
    expect(await versionsOf(Bucket, 'comp')).toEqual([comp]);
    expect(await versionsOf(Bucket, 'held')).toEqual([held]);
  });

  it('the null version of a once-suspended history: DeleteObject and DeleteObjects with versionId=null are refused; writes never replace it', async () => {
    const Bucket = bucketName();
    await s3.send(new CreateBucketCommand({ Bucket }));
    await s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Suspended' } }));
    await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'null body' }));
    await s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Enabled' } }));
    await s3.send(new PutObjectLockConfigurationCommand({ Bucket, ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled' } }));
    await s3.send(new PutObjectRetentionCommand({ Bucket, Key: 'k', VersionId: 'null', Retention: { Mode: 'COMPLIANCE', RetainUntilDate: ahead(2) } }));

    await expectError(s3.send(new DeleteObjectCommand({ Bucket, Key: 'k', VersionId: 'null' })), 'AccessDenied', 403, LOCKED);
    await expectError(s3.send(new DeleteObjectCommand({ Bucket, Key: 'k', VersionId: 'null', BypassGovernanceRetention: true })), 'AccessDenied', 403, LOCKED);
    const many = await s3.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: [{ Key: 'k', VersionId: 'null' }] } }));
    expect(many.Errors!.map((e) => [e.Key, e.VersionId, e.Code])).toEqual([['k', 'null', 'AccessDenied']]);
    // Versioning can no longer be suspended, so no write can make a new null version over it.
    await expectError(s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Suspended' } })), 'InvalidBucketState', 409);
    const put = await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'new' }));
    expect(put.VersionId).not.toBe('null');
    await s3.send(new CopyObjectCommand({ Bucket, Key: 'k', CopySource: `${Bucket}/k?versionId=null` }));
    expect(await bodyOf(Bucket, 'k', 'null')).toBe('null body');
    expect((await s3.send(new GetObjectRetentionCommand({ Bucket, Key: 'k', VersionId: 'null' }))).Retention!.Mode).toBe('COMPLIANCE');
  });

  it('PutObject, CopyObject (same key, with a versionId) and CompleteMultipartUpload over a locked key make new versions; the locked one stays whole', async () => {
    const Bucket = await lockedBucket();
    const v = (await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'original', ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: ahead(2), ObjectLockLegalHoldStatus: 'ON' }))).VersionId!;
    const put = (await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'overwrite' }))).VersionId!;
    const copy = (await s3.send(new CopyObjectCommand({ Bucket, Key: 'k', CopySource: `${Bucket}/k?versionId=${v}`, MetadataDirective: 'REPLACE', Metadata: { a: 'b' } }))).VersionId!;
    const upload = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'k' }));
    const part = await s3.send(new UploadPartCommand({ Bucket, Key: 'k', UploadId: upload.UploadId, PartNumber: 1, Body: 'multipart', ChecksumAlgorithm: 'CRC32' }));
    const mpu = (
      await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key: 'k', UploadId: upload.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag, ChecksumCRC32: part.ChecksumCRC32 }] } }))
    ).VersionId!;
    expect(new Set([v, put, copy, mpu]).size).toBe(4);
    expect((await versionsOf(Bucket, 'k')).sort()).toEqual([v, put, copy, mpu].sort());
    expect(await bodyOf(Bucket, 'k', v)).toBe('original');
    // The copy never took the source's lock; the original keeps it.
    expect((await s3.send(new HeadObjectCommand({ Bucket, Key: 'k', VersionId: copy }))).ObjectLockMode).toBeUndefined();
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'k', VersionId: v }));
    expect([head.ObjectLockMode, head.ObjectLockLegalHoldStatus]).toEqual(['COMPLIANCE', 'ON']);
    await expectError(s3.send(new DeleteObjectCommand({ Bucket, Key: 'k', VersionId: v })), 'AccessDenied', 403, LOCKED);
  });

  it('a second principal without s3:BypassGovernanceRetention cannot shorten, remove or downgrade retention, header or not', async () => {
    const Bucket = await lockedBucket();
    const v = (await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'x', ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: ahead(10) }))).VersionId!;
    const shorter = { Mode: 'GOVERNANCE' as const, RetainUntilDate: ahead(1) };
    await expectError(second.send(new PutObjectRetentionCommand({ Bucket, Key: 'k', VersionId: v, Retention: shorter })), 'AccessDenied', 403, LOCKED);
    const named = await expectError(second.send(new PutObjectRetentionCommand({ Bucket, Key: 'k', VersionId: v, Retention: shorter, BypassGovernanceRetention: true })), 'AccessDenied', 403);
    expect(named.message).toContain('s3:BypassGovernanceRetention');
    await expectError(second.send(new PutObjectRetentionCommand({ Bucket, Key: 'k', VersionId: v, Retention: {}, BypassGovernanceRetention: true })), 'AccessDenied', 403);
    // Extending is anyone's right; the owner (who may bypass) can then shorten it again.
    await second.send(new PutObjectRetentionCommand({ Bucket, Key: 'k', VersionId: v, Retention: { Mode: 'GOVERNANCE', RetainUntilDate: ahead(20) } }));
    await s3.send(new PutObjectRetentionCommand({ Bucket, Key: 'k', VersionId: v, Retention: shorter, BypassGovernanceRetention: true }));
    // A default retention cannot be used to shorten an existing version either: it only applies to new ones.
    await second.send(new PutObjectLockConfigurationCommand({ Bucket, ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 1 } } } }));
    expect((await s3.send(new GetObjectRetentionCommand({ Bucket, Key: 'k', VersionId: v }))).Retention!.RetainUntilDate).toEqual(new Date(Math.floor(shorter.RetainUntilDate.getTime() / 1000) * 1000 + (shorter.RetainUntilDate.getTime() % 1000)));
  });

  it('the bypass header: "true" in any case bypasses; "1", "yes" and an empty value do not', async () => {
    const Bucket = await lockedBucket();
    const put = () => s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'x', ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: ahead(2) }));
    for (const value of ['1', 'yes', '', 'true,true', 'truee']) {
      const v = (await put()).VersionId!;
      const res = await signed('DELETE', `/${Bucket}/k?versionId=${v}`, '', { 'x-amz-bypass-governance-retention': value });
      expect([value, res.status]).toEqual([value, 403]);
      expect(res.text).toContain(LOCKED);
    }
    for (const value of ['TRUE', 'True', ' true ']) {
      const v = (await put()).VersionId!;
      const res = await signed('DELETE', `/${Bucket}/k?versionId=${v}`, '', { 'X-Amz-Bypass-Governance-Retention': value });
      expect([value, res.status]).toEqual([value, 204]);
    }
    // The same on PutObjectRetention (which reads the header on its own).
    const v = (await put()).VersionId!;
    const body = `<Retention><Mode>GOVERNANCE</Mode><RetainUntilDate>${ahead(1).toISOString()}</RetainUntilDate></Retention>`;
    const refused = await signed('PUT', `/${Bucket}/k?retention&versionId=${v}`, body, { 'content-md5': md5(body), 'x-amz-bypass-governance-retention': '1' });
    expect(refused.status).toBe(403);
    const allowed = await signed('PUT', `/${Bucket}/k?retention&versionId=${v}`, body, { 'content-md5': md5(body), 'x-amz-bypass-governance-retention': 'TRUE' });
    expect(allowed.status).toBe(200);
  });

  it('presigned URLs: an added bypass header is refused as unsigned; a URL signed without it cannot delete', async () => {
    const Bucket = await lockedBucket();
    const v = (await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'x', ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: ahead(2) }))).VersionId!;
    const url = await getSignedUrl(s3, new DeleteObjectCommand({ Bucket, Key: 'k', VersionId: v }), { expiresIn: 300 });
    const smuggled = await fetch(url, { method: 'DELETE', headers: { 'x-amz-bypass-governance-retention': 'true' } });
    expect(smuggled.status).toBe(403);
    expect(await smuggled.text()).toContain('There were headers present in the request which were not signed');
    const plain = await fetch(url, { method: 'DELETE' });
    expect(plain.status).toBe(403);
    expect(await plain.text()).toContain(LOCKED);
    // A URL that asks for the bypass, presigned by a principal who may not bypass: refused.
    const secondUrl = await getSignedUrl(second, new DeleteObjectCommand({ Bucket, Key: 'k', VersionId: v, BypassGovernanceRetention: true }), { expiresIn: 300 });
    const viaSecond = await fetch(secondUrl, { method: 'DELETE', headers: secondUrl.includes('x-amz-bypass-governance-retention') ? {} : { 'x-amz-bypass-governance-retention': 'true' } });
    expect(viaSecond.status).toBe(403);
    expect(await versionsOf(Bucket, 'k')).toEqual([v]);
  });

  it('a browser POST upload over a locked key makes a new version; a bypass field does nothing', async () => {
    const Bucket = await lockedBucket();
    const v = (await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'x', ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: ahead(2) }))).VersionId!;
    const date = toAmzDate(new Date());
    const credential = `test/${date.slice(0, 8)}/us-east-1/s3/aws4_request`;
    const fields: Record<string, string> = { key: 'k', 'x-amz-bypass-governance-retention': 'true' };
    const policyDoc = Buffer.from(
      JSON.stringify({
        expiration: new Date(Date.now() + 600_000).toISOString(),
        conditions: [{ bucket: Bucket }, { key: 'k' }, { 'x-amz-bypass-governance-retention': 'true' }, { 'x-amz-algorithm': 'AWS4-HMAC-SHA256' }, { 'x-amz-credential': credential }, { 'x-amz-date': date }],
      }),
    ).toString('base64');
    const signature = createHmac('sha256', deriveSigningKey('test', date.slice(0, 8), 'us-east-1', 's3')).update(policyDoc).digest('hex');
    Object.assign(fields, { 'X-Amz-Algorithm': 'AWS4-HMAC-SHA256', 'X-Amz-Credential': credential, 'X-Amz-Date': date, Policy: policyDoc, 'X-Amz-Signature': signature });
    const form = new FormData();
    for (const [name, value] of Object.entries(fields)) form.append(name, value);
    form.append('file', new Blob(['posted']), 'k');
    const res = await fetch(`${sealbox.s3!.url}/${Bucket}`, { method: 'POST', body: form });
    expect(res.status).toBe(204);
    expect((await versionsOf(Bucket, 'k')).length).toBe(2);
    expect(await bodyOf(Bucket, 'k', v)).toBe('x');
    await expectError(s3.send(new DeleteObjectCommand({ Bucket, Key: 'k', VersionId: v })), 'AccessDenied', 403, LOCKED);
  });

  it('DeleteBucket of a bucket whose only versions are locked (behind delete markers): 409 BucketNotEmpty', async () => {
    const Bucket = await lockedBucket({ ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 1 } } });
    await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'x' }));
    await s3.send(new DeleteObjectCommand({ Bucket, Key: 'k' }));
    await expectError(s3.send(new DeleteBucketCommand({ Bucket })), 'BucketNotEmpty', 409);
    expect((await versionsOf(Bucket, 'k')).length).toBe(1);
  });
});

describe('lifecycle never removes a retained or held version', () => {
  it('Expiration Days 1: three days on, the locked version remains (behind a delete marker); after retention ends, the noncurrent rule removes it', async () => {
    const Bucket = await lockedBucket();
    const retained = (await s3.send(new PutObjectCommand({ Bucket, Key: 'r', Body: 'r', ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: ahead(5) }))).VersionId!;
    const held = (await s3.send(new PutObjectCommand({ Bucket, Key: 'h', Body: 'h', ObjectLockLegalHoldStatus: 'ON' }))).VersionId!;
    const free = (await s3.send(new PutObjectCommand({ Bucket, Key: 'f', Body: 'f' }))).VersionId!;
    await s3.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket,
        LifecycleConfiguration: { Rules: [{ ID: 'all', Status: 'Enabled', Filter: {}, Expiration: { Days: 1 }, NoncurrentVersionExpiration: { NoncurrentDays: 1 } }] },
      }),
    );
    await advanceClock(3 * 86_400);
    // Each current version got a delete marker (allowed on locked objects, as DeleteObject
    // without a version id is); the versions themselves remain, now noncurrent.
    expect(await versionsOf(Bucket, 'r')).toEqual([retained]);
    expect(await versionsOf(Bucket, 'h')).toEqual([held]);
    expect(await versionsOf(Bucket, 'f')).toEqual([free]);
    expect(await bodyOf(Bucket, 'r', retained)).toBe('r');

    // Three days more: the noncurrent rule is due for all three. The retention is over (five
    // days after the write), so the retained version goes with the free one; the hold keeps its version.
    await advanceClock(3 * 86_400);
    expect(await versionsOf(Bucket, 'f')).toEqual([]);
    expect(await versionsOf(Bucket, 'r')).toEqual([]);
    expect(await versionsOf(Bucket, 'h')).toEqual([held]);
    await s3.send(new PutObjectLegalHoldCommand({ Bucket, Key: 'h', VersionId: held, LegalHold: { Status: 'OFF' } }));
    await advanceClock(86_400);
    expect(await versionsOf(Bucket, 'h')).toEqual([]);
  });
});

describe('dates', () => {
  const invalid = 'The retain until date must be provided in ISO 8601 format';
  const put = (Bucket: string, date: string) =>
    signed('PUT', `/${Bucket}/k`, 'x', { 'content-md5': md5('x'), 'x-amz-object-lock-mode': 'GOVERNANCE', 'x-amz-object-lock-retain-until-date': date });

  it('a date that is not a calendar date is refused, not rolled over (2031-02-29, 2031-04-31, 24:00)', async () => {
    const Bucket = await lockedBucket();
    for (const date of ['2031-02-29T00:00:00Z', '2031-04-31T00:00:00Z', '2031-01-01T24:00:00Z', '2031-00-10T00:00:00Z', '10000-01-01T00:00:00Z']) {
      const res = await put(Bucket, date);
      expect([date, res.status]).toEqual([date, 400]);
      expect(res.text).toContain(invalid);
    }
    // A real leap day is a date.
    expect((await put(Bucket, '2032-02-29T00:00:00Z')).status).toBe(200);
    const body = '<Retention><Mode>GOVERNANCE</Mode><RetainUntilDate>2033-02-29T00:00:00Z</RetainUntilDate></Retention>';
    const retention = await signed('PUT', `/${Bucket}/k?retention`, body, { 'content-md5': md5(body) });
    expect(retention.status).toBe(400);
  });

  it('far future, fractions and offsets: stored as the instant they name', async () => {
    const Bucket = await lockedBucket();
    const cases: [string, string][] = [
      ['9999-12-31T23:59:59Z', '9999-12-31T23:59:59.000Z'],
      ['2040-06-01T12:00:00.5Z', '2040-06-01T12:00:00.500Z'],
      ['2040-06-01T12:00:00+02:00', '2040-06-01T10:00:00.000Z'],
      ['2040-06-01T12:00:00-0130', '2040-06-01T13:30:00.000Z'],
    ];
    for (const [sent, stored] of cases) {
      const res = await put(Bucket, sent);
      expect([sent, res.status]).toEqual([sent, 200]);
      const got = await signed('GET', `/${Bucket}/k?retention`);
      expect(got.text).toContain(`<RetainUntilDate>${stored}</RetainUntilDate>`);
    }
    // The year-9999 COMPLIANCE version is not deletable, and a default of 100 years is served.
    await s3.send(new PutObjectLockConfigurationCommand({ Bucket, ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Years: 100 } } } }));
    const v = (await s3.send(new PutObjectCommand({ Bucket, Key: 'century', Body: 'x' }))).VersionId!;
    const until = (await s3.send(new GetObjectRetentionCommand({ Bucket, Key: 'century', VersionId: v }))).Retention!.RetainUntilDate!;
    expect(until.getTime() - sealbox.clock.now().getTime()).toBeGreaterThan(36_499 * DAY);
    await expectError(s3.send(new DeleteObjectCommand({ Bucket, Key: 'century', VersionId: v })), 'AccessDenied', 403, LOCKED);
  });

  it('a retention that ends exactly at the clock is over: the version can go', async () => {
    const Bucket = await lockedBucket();
    const until = new Date(Math.ceil((sealbox.clock.now().getTime() + 60_000) / 1000) * 1000);
    const v = (await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'x', ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: until }))).VersionId!;
    await expectError(s3.send(new DeleteObjectCommand({ Bucket, Key: 'k', VersionId: v })), 'AccessDenied', 403, LOCKED);
    // Land the clock exactly on the date: setting it is allowed forward only, so ask for the instant.
    const res = await fetch(`${sealbox.s3!.url}/_sealbox/clock`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ advanceSeconds: Math.ceil((until.getTime() - sealbox.clock.now().getTime()) / 1000) }) });
    expect(res.status).toBe(200);
    expect(sealbox.clock.now().getTime()).toBeGreaterThanOrEqual(until.getTime());
    await s3.send(new DeleteObjectCommand({ Bucket, Key: 'k', VersionId: v }));
  });
});

describe('kill -9 during PutObjectRetention', () => {
  const BIN = join(__dirname, '..', '..', 'cli', 'dist', 'bin.js');

  function start(dataDir: string): Promise<{ child: ChildProcessWithoutNullStreams; client: S3Client; url: string }> {
    const child = spawn(process.execPath, [BIN, 'start', '--no-tls', '--json', '--quiet', '--data-dir', dataDir, '--kms-port', '0', '--s3-port', '0', '--no-console']);
    return new Promise((resolve, reject) => {
      createInterface({ input: child.stdout }).once('line', (line) => {
        const ready = JSON.parse(line) as { s3: string };
        resolve({ child, url: ready.s3, client: new S3Client({ region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1, endpoint: ready.s3, forcePathStyle: true }) });
      });
      child.once('exit', (code) => reject(new Error(`sealbox exited with ${code}`)));
    });
  }

  it('the version stays locked with an acknowledged (or the in-flight) retention, never none', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'sealbox-lock-kill-')), 'data');
    let box = await start(dataDir);
    const Bucket = 'killed';
    await box.client.send(new CreateBucketCommand({ Bucket, ObjectLockEnabledForBucket: true }));
    const base = Date.now() + 30 * DAY;
    const v = (await box.client.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'x', ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: new Date(base) }))).VersionId!;
    let acknowledged = base;
    let inFlight = base;
    let stop = false;
    const loop = (async () => {
      for (let i = 1; !stop; i++) {
        inFlight = base + i * 1000;
        try {
          await box.client.send(new PutObjectRetentionCommand({ Bucket, Key: 'k', VersionId: v, Retention: { Mode: 'COMPLIANCE', RetainUntilDate: new Date(inFlight) } }));
          acknowledged = inFlight;
        } catch {
          return;
        }
      }
    })();
    while (acknowledged < base + 50_000) await new Promise((r) => setTimeout(r, 20));
    box.child.kill('SIGKILL');
    stop = true;
    await loop;
    box.client.destroy();
    box = await start(dataDir);
    try {
      const until = (await box.client.send(new GetObjectRetentionCommand({ Bucket, Key: 'k', VersionId: v }))).Retention!.RetainUntilDate!.getTime();
      expect([acknowledged, inFlight]).toContain(until);
      await expectError(box.client.send(new DeleteObjectCommand({ Bucket, Key: 'k', VersionId: v })), 'AccessDenied', 403, LOCKED);
    } finally {
      box.client.destroy();
      box.child.kill('SIGKILL');
    }
  }, 60_000);
});
