/**
 * S3 Lifecycle end to end, with the AWS SDK v3: Put/Get/DeleteBucketLifecycleConfiguration and
 * their errors, x-amz-expiration (and the multipart abort date) on the responses that carry it,
 * and the rules running as the virtual clock passes (POST /_sealbox/clock): no sleeping.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketLifecycleCommand,
  DeleteObjectCommand,
  GetBucketLifecycleConfigurationCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectVersionsCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  UploadPartCommand,
  type LifecycleRule,
  type S3Client,
} from '@aws-sdk/client-s3';
import aws4 from 'aws4';
import { exportSnapshot, importSnapshot, type Sealbox } from '@sealbox/cli';
import { failure, s3Client, startTestSealbox, TEST_CREDENTIALS } from './helpers';

const DAY = 86_400;

/** Time passes for the whole sandbox: POST /_sealbox/clock, as a test suite would. */
async function advance(sealbox: Sealbox, seconds: number): Promise<void> {
  const res = await fetch(`${sealbox.s3!.url}/_sealbox/clock`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ advanceSeconds: seconds }) });
  expect(res.status).toBe(200);
}

/** The next midnight UTC after `ms` + `days` days, as an HTTP date (AWS's rounding). */
const dueDate = (ms: number, days: number) => new Date(Math.floor((ms + days * DAY * 1000) / (DAY * 1000)) * DAY * 1000 + DAY * 1000).toUTCString();

async function keysOf(s3: S3Client, bucket: string): Promise<string[]> {
  const listed = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket }));
  return [...(listed.Versions ?? []).map((v) => `${v.Key}@${v.IsLatest ? 'current' : 'old'}`), ...(listed.DeleteMarkers ?? []).map((m) => `${m.Key}@${m.IsLatest ? 'marker' : 'old-marker'}`)].sort();
}

const putLifecycle = (s3: S3Client, bucket: string, rules: LifecycleRule[]) => s3.send(new PutBucketLifecycleConfigurationCommand({ Bucket: bucket, LifecycleConfiguration: { Rules: rules } }));

describe('Put/Get/DeleteBucketLifecycleConfiguration', () => {
  let sealbox: Sealbox;
  let s3: S3Client;
  beforeAll(async () => {
    sealbox = await startTestSealbox();
    s3 = s3Client(sealbox);
    await s3.send(new CreateBucketCommand({ Bucket: 'config' }));
  });
  afterAll(async () => {
    s3.destroy();
    await sealbox.stop();
  });

  it('answers NoSuchLifecycleConfiguration (404) while there is none', async () => {
    const err = await failure(s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: 'config' })));
    expect(err.name).toBe('NoSuchLifecycleConfiguration');
    expect(err.message).toBe('The lifecycle configuration does not exist');
    expect(err.$metadata?.httpStatusCode).toBe(404);
    expect((await failure(s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: 'no-such-bucket-here' })))).name).toBe('NoSuchBucket');
  });

  it('keeps every rule kind and gives it back, with the default minimum object size', async () => {
    const rules: LifecycleRule[] = [
      { ID: 'prefix', Status: 'Enabled', Filter: { Prefix: 'logs/' }, Expiration: { Days: 365 }, Transitions: [{ Days: 30, StorageClass: 'STANDARD_IA' }, { Days: 90, StorageClass: 'GLACIER' }] },
      { ID: 'tag', Status: 'Disabled', Filter: { Tag: { Key: 'class', Value: 'temp' } }, Expiration: { Date: new Date('2031-01-01T00:00:00Z') } },
      { ID: 'bigger', Status: 'Enabled', Filter: { ObjectSizeGreaterThan: 1024 }, NoncurrentVersionExpiration: { NoncurrentDays: 60, NewerNoncurrentVersions: 2 } },
      { ID: 'smaller', Status: 'Enabled', Filter: { ObjectSizeLessThan: 10 }, NoncurrentVersionTransitions: [{ NoncurrentDays: 30, StorageClass: 'GLACIER_IR' }] },
      { ID: 'and', Status: 'Enabled', Filter: { And: { Prefix: 'tmp/', Tags: [{ Key: 'a', Value: '1' }], ObjectSizeGreaterThan: 5, ObjectSizeLessThan: 500 } }, Expiration: { Days: 1 } },
      { ID: 'markers', Status: 'Enabled', Filter: {}, Expiration: { ExpiredObjectDeleteMarker: true }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 } },
      { ID: 'legacy', Status: 'Enabled', Prefix: 'old/', Expiration: { Days: 3 } },
    ];
    const put = await putLifecycle(s3, 'config', rules);
    expect(put.TransitionDefaultMinimumObjectSize).toBe('all_storage_classes_128K');
    const got = await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: 'config' }));
    expect(got.TransitionDefaultMinimumObjectSize).toBe('all_storage_classes_128K');
    expect(got.Rules).toEqual(rules);
  });

  it('names a rule without an ID, takes x-amz-transition-default-minimum-object-size, and replaces the whole configuration', async () => {
    const put = await s3.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket: 'config',
        TransitionDefaultMinimumObjectSize: 'varies_by_storage_class',
        LifecycleConfiguration: { Rules: [{ Status: 'Enabled', Filter: { Prefix: '' }, Expiration: { Days: 1 } }] },
      }),
    );
    expect(put.TransitionDefaultMinimumObjectSize).toBe('varies_by_storage_class');
    const got = await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: 'config' }));
    expect(got.TransitionDefaultMinimumObjectSize).toBe('varies_by_storage_class');
    expect(got.Rules).toHaveLength(1);
    expect(got.Rules![0]!.ID).toMatch(/^[A-Za-z0-9+/=]{40,}$/);
  });

  it('DeleteBucketLifecycle answers 204, and Get then 404', async () => {
    const deleted = await s3.send(new DeleteBucketLifecycleCommand({ Bucket: 'config' }));
    expect(deleted.$metadata.httpStatusCode).toBe(204);
    expect((await failure(s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: 'config' })))).name).toBe('NoSuchLifecycleConfiguration');
    // Deleting again is no error.
    expect((await s3.send(new DeleteBucketLifecycleCommand({ Bucket: 'config' }))).$metadata.httpStatusCode).toBe(204);
  });

  const expire = { Filter: {}, Expiration: { Days: 1 } };
  it.each<[string, LifecycleRule[], string, string]>([
    ['an ID over 255 characters', [{ ID: 'x'.repeat(256), Status: 'Enabled', ...expire }], 'InvalidArgument', 'ID length should not exceed allowed limit of 255'],
    ['two rules with the same ID', [{ ID: 'a', Status: 'Enabled', ...expire }, { ID: 'a', Status: 'Enabled', Filter: {}, Expiration: { Days: 2 } }], 'InvalidArgument', 'Rule ID must be unique. Found same ID for more than one rule'],
    ['a status that is not Enabled or Disabled', [{ ID: 'a', Status: 'enabled' as 'Enabled', ...expire }], 'MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema'],
    ['no action', [{ ID: 'a', Status: 'Enabled', Filter: { Prefix: 'x' } }], 'InvalidRequest', 'At least one action needs to be specified in a rule'],
    ['Expiration Days 0', [{ ID: 'a', Status: 'Enabled', Filter: {}, Expiration: { Days: 0 } }], 'InvalidArgument', "'Days' for Expiration action must be a positive integer"],
    ['an Expiration Date that is not midnight UTC', [{ ID: 'a', Status: 'Enabled', Filter: {}, Expiration: { Date: new Date('2031-01-01T12:00:00Z') } }], 'InvalidArgument', "'Date' must be at midnight GMT"],
    ['Days with ExpiredObjectDeleteMarker', [{ ID: 'a', Status: 'Enabled', Filter: {}, Expiration: { Days: 1, ExpiredObjectDeleteMarker: true } }], 'MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema'],
    ['a Filter with two predicates outside And', [{ ID: 'a', Status: 'Enabled', Filter: { Prefix: 'a', ObjectSizeLessThan: 5 }, Expiration: { Days: 1 } }], 'MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema'],
    // SDK v3 does not check required members: a Tag without Value goes out as <Tag><Key>k</Key></Tag> (API_Tag.html: Value "Required: Yes").
    ['a filter Tag with no Value', [{ ID: 'a', Status: 'Enabled', Filter: { Tag: { Key: 'k' } as { Key: string; Value: string } }, Expiration: { Days: 1 } }], 'MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema'],
    ['And with one tag key twice', [{ ID: 'a', Status: 'Enabled', Filter: { And: { Tags: [{ Key: 'k', Value: '1' }, { Key: 'k', Value: '2' }] } }, Expiration: { Days: 1 } }], 'InvalidRequest', 'Duplicate Tag Keys are not allowed.'],
    ['STANDARD_IA before 30 days', [{ ID: 'a', Status: 'Enabled', Filter: {}, Transitions: [{ Days: 7, StorageClass: 'STANDARD_IA' }] }], 'InvalidArgument', "'Days' in Transition action must be greater than or equal to 30 for storageClass 'STANDARD_IA'"],
    ['expiration no later than a transition', [{ ID: 'a', Status: 'Enabled', Filter: { Prefix: 'logs/' }, Transitions: [{ Days: 30, StorageClass: 'GLACIER' }], Expiration: { Days: 20 } }], 'InvalidArgument', "'Days' in the Expiration action for filter '(prefix=logs/)' must be greater than 'Days' in the Transition action"],
    ['NoncurrentDays 0', [{ ID: 'a', Status: 'Enabled', Filter: {}, NoncurrentVersionExpiration: { NoncurrentDays: 0 } }], 'InvalidArgument', "'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer"],
    ['AbortIncompleteMultipartUpload with a tag filter', [{ ID: 'a', Status: 'Enabled', Filter: { Tag: { Key: 'k', Value: 'v' } }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }], 'InvalidRequest', 'AbortIncompleteMultipartUpload cannot be specified with Tags.'],
    ['ExpiredObjectDeleteMarker with a tag filter', [{ ID: 'a', Status: 'Enabled', Filter: { Tag: { Key: 'k', Value: 'v' } }, Expiration: { ExpiredObjectDeleteMarker: true } }], 'InvalidRequest', 'ExpiredObjectDeleteMarker cannot be specified with tag-based filter.'],
    ['1,001 rules', Array.from({ length: 1001 }, (_, i): LifecycleRule => ({ ID: `r${i}`, Status: 'Enabled', ...expire })), 'MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema'],
  ])('refuses %s', async (_name, rules, code, message) => {
    const err = await failure(putLifecycle(s3, 'config', rules));
    expect({ name: err.name, message: err.message, status: err.$metadata?.httpStatusCode }).toEqual({ name: code, message, status: 400 });
    // A refused configuration changes nothing.
    expect((await failure(s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: 'config' })))).name).toBe('NoSuchLifecycleConfiguration');
  });

  it('requires Content-MD5 or a checksum, and checks it', async () => {
    const body = '<LifecycleConfiguration><Rule><ID>a</ID><Status>Enabled</Status><Filter/><Expiration><Days>1</Days></Expiration></Rule></LifecycleConfiguration>';
    const url = new URL(sealbox.s3!.url);
    const send = async (headers: Record<string, string>) => {
      const signed = aws4.sign({ host: url.host, path: '/config?lifecycle', method: 'PUT', service: 's3', region: 'us-east-1', body, headers }, TEST_CREDENTIALS);
      const res = await fetch(`${sealbox.s3!.url}/config?lifecycle`, { method: 'PUT', headers: signed.headers as Record<string, string>, body });
      return { status: res.status, text: await res.text() };
    };
    const bare = await send({});
    expect(bare.status).toBe(400);
    expect(bare.text).toContain('<Code>InvalidRequest</Code><Message>Missing required header for this request: Content-MD5</Message>');
    const wrong = await send({ 'Content-MD5': Buffer.alloc(16).toString('base64') });
    expect(wrong.status).toBe(400);
    expect(wrong.text).toContain('<Code>BadDigest</Code>');
    const right = await send({ 'Content-MD5': createHash('md5').update(body).digest('base64') });
    expect(right.status).toBe(200);
    await s3.send(new DeleteBucketLifecycleCommand({ Bucket: 'config' }));
  });
});

describe('x-amz-expiration and the multipart abort date', () => {
  let sealbox: Sealbox;
  let s3: S3Client;
  beforeAll(async () => {
    sealbox = await startTestSealbox();
    s3 = s3Client(sealbox);
    await s3.send(new CreateBucketCommand({ Bucket: 'echo' }));
    await putLifecycle(s3, 'echo', [
      { ID: 'logs rule/1', Status: 'Enabled', Filter: { Prefix: 'logs/' }, Expiration: { Days: 3 } },
      { ID: 'soon', Status: 'Enabled', Filter: { Prefix: 'logs/tmp/' }, Expiration: { Days: 1 } },
      { ID: 'off', Status: 'Disabled', Filter: { Prefix: 'off/' }, Expiration: { Days: 1 } },
      { ID: 'dated', Status: 'Enabled', Filter: { Prefix: 'dated/' }, Expiration: { Date: new Date('2040-06-01T00:00:00Z') } },
      { ID: 'tagged', Status: 'Enabled', Filter: { And: { Prefix: 't/', Tags: [{ Key: 'class', Value: 'temp' }] } }, Expiration: { Days: 5 } },
      { ID: 'big', Status: 'Enabled', Filter: { And: { Prefix: 's/', ObjectSizeGreaterThan: 10 } }, Expiration: { Days: 6 } },
      { ID: 'uploads', Status: 'Enabled', Filter: { Prefix: 'mpu/' }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 2 } },
    ]);
  });
  afterAll(async () => {
    s3.destroy();
    await sealbox.stop();
  });

  it('PutObject, HeadObject and GetObject say when the object expires and by which rule (URL-encoded)', async () => {
    const put = await s3.send(new PutObjectCommand({ Bucket: 'echo', Key: 'logs/a.txt', Body: 'x' }));
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'echo', Key: 'logs/a.txt' }));
    const expected = `expiry-date="${dueDate(head.LastModified!.getTime(), 3)}", rule-id="logs%20rule%2F1"`;
    expect(put.Expiration).toBe(expected);
    expect(head.Expiration).toBe(expected);
    const got = await s3.send(new GetObjectCommand({ Bucket: 'echo', Key: 'logs/a.txt' }));
    expect(got.Expiration).toBe(expected);
    await got.Body!.transformToString();
  });

  it('the earliest rule wins; a Date rule gives its date', async () => {
    const put = await s3.send(new PutObjectCommand({ Bucket: 'echo', Key: 'logs/tmp/b', Body: 'x' }));
    expect(put.Expiration).toMatch(/^expiry-date="[^"]+", rule-id="soon"$/);
    const dated = await s3.send(new PutObjectCommand({ Bucket: 'echo', Key: 'dated/x', Body: 'x' }));
    expect(dated.Expiration).toBe('expiry-date="Fri, 01 Jun 2040 00:00:00 GMT", rule-id="dated"');
  });

  it('no header outside every enabled rule', async () => {
    expect((await s3.send(new PutObjectCommand({ Bucket: 'echo', Key: 'other', Body: 'x' }))).Expiration).toBeUndefined();
    expect((await s3.send(new PutObjectCommand({ Bucket: 'echo', Key: 'off/x', Body: 'x' }))).Expiration).toBeUndefined();
    expect((await s3.send(new HeadObjectCommand({ Bucket: 'echo', Key: 'off/x' }))).Expiration).toBeUndefined();
  });

  it('tag and size filters decide too', async () => {
    expect((await s3.send(new PutObjectCommand({ Bucket: 'echo', Key: 't/yes', Body: 'x', Tagging: 'class=temp' }))).Expiration).toMatch(/rule-id="tagged"$/);
    expect((await s3.send(new PutObjectCommand({ Bucket: 'echo', Key: 't/no', Body: 'x', Tagging: 'class=keep' }))).Expiration).toBeUndefined();
    expect((await s3.send(new PutObjectCommand({ Bucket: 'echo', Key: 's/big', Body: 'more than ten bytes' }))).Expiration).toMatch(/rule-id="big"$/);
    expect((await s3.send(new PutObjectCommand({ Bucket: 'echo', Key: 's/small', Body: 'tiny' }))).Expiration).toBeUndefined();
  });

  it('CopyObject and CompleteMultipartUpload say it too; CreateMultipartUpload gives the abort date', async () => {
    const copy = await s3.send(new CopyObjectCommand({ Bucket: 'echo', Key: 'logs/copy', CopySource: 'echo/other' }));
    expect(copy.Expiration).toMatch(/rule-id="logs%20rule%2F1"$/);
    const created = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'echo', Key: 'mpu/big' }));
    expect(created.AbortRuleId).toBe('uploads');
    const now = Date.parse(((await (await fetch(`${sealbox.s3!.url}/_sealbox/clock`)).json()) as { now: string }).now);
    expect(created.AbortDate!.toUTCString()).toBe(dueDate(now, 2));
    await s3.send(new AbortMultipartUploadCommand({ Bucket: 'echo', Key: 'mpu/big', UploadId: created.UploadId! }));
    const upload = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'echo', Key: 'logs/mp' }));
    expect(upload.AbortDate).toBeUndefined();
    const part = await s3.send(new UploadPartCommand({ Bucket: 'echo', Key: 'logs/mp', UploadId: upload.UploadId!, PartNumber: 1, Body: 'part' }));
    const done = await s3.send(
      new CompleteMultipartUploadCommand({ Bucket: 'echo', Key: 'logs/mp', UploadId: upload.UploadId!, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag! }] } }),
    );
    expect(done.Expiration).toMatch(/rule-id="logs%20rule%2F1"$/);
  });
});

describe('the rules run as the clock passes', () => {
  let sealbox: Sealbox;
  let s3: S3Client;
  const uploads: Record<string, string> = {};

  beforeAll(async () => {
    sealbox = await startTestSealbox({ consolePort: 0 });
    s3 = s3Client(sealbox);
    const put = (Bucket: string, Key: string, Body = 'data', Tagging?: string) => s3.send(new PutObjectCommand({ Bucket, Key, Body, Tagging }));

    // Unversioned: expiration by prefix, tag, size and And; an upload to abort.
    await s3.send(new CreateBucketCommand({ Bucket: 'plain' }));
    await putLifecycle(s3, 'plain', [
      { ID: 'exp', Status: 'Enabled', Filter: { Prefix: 'exp/' }, Expiration: { Days: 1 } },
      { ID: 'tag', Status: 'Enabled', Filter: { Tag: { Key: 'class', Value: 'temp' } }, Expiration: { Days: 1 } },
      { ID: 'size', Status: 'Enabled', Filter: { And: { Prefix: 'size/', ObjectSizeGreaterThan: 10 } }, Expiration: { Days: 1 } },
      { ID: 'small', Status: 'Enabled', Filter: { ObjectSizeLessThan: 2 }, Expiration: { Days: 1 } },
      { ID: 'later', Status: 'Enabled', Filter: { Prefix: 'later/' }, Expiration: { Days: 30 } },
      { ID: 'off', Status: 'Disabled', Filter: { Prefix: 'off/' }, Expiration: { Days: 1 } },
      { ID: 'mpu', Status: 'Enabled', Filter: { Prefix: 'mpu/' }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } },
    ]);
    await put('plain', 'exp/a');
    await put('plain', 'keep/a');
    await put('plain', 'tagged', 'data', 'class=temp');
    await put('plain', 'tagged-other', 'data', 'class=keep');
    await put('plain', 'size/big', 'more than ten bytes');
    await put('plain', 'size/small', 'tiny');
    await put('plain', 'one', 'x');
    await put('plain', 'later/x');
    await put('plain', 'off/x');
    for (const key of ['mpu/u', 'other/u']) {
      const u = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'plain', Key: key }));
      await s3.send(new UploadPartCommand({ Bucket: 'plain', Key: key, UploadId: u.UploadId!, PartNumber: 1, Body: 'part' }));
      uploads[key] = u.UploadId!;
    }

    // Versioning enabled: current versions, noncurrent versions (keeping the newest one), delete markers.
    await s3.send(new CreateBucketCommand({ Bucket: 'versioned' }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: 'versioned', VersioningConfiguration: { Status: 'Enabled' } }));
    await putLifecycle(s3, 'versioned', [
      { ID: 'current', Status: 'Enabled', Filter: { Prefix: 'cur/' }, Expiration: { Days: 1 } },
      { ID: 'keep-one', Status: 'Enabled', Filter: { Prefix: 'nc/' }, NoncurrentVersionExpiration: { NoncurrentDays: 1, NewerNoncurrentVersions: 1 } },
      { ID: 'markers', Status: 'Enabled', Filter: { Prefix: 'dm/' }, Expiration: { ExpiredObjectDeleteMarker: true } },
      { ID: 'whole', Status: 'Enabled', Filter: { Prefix: 'all/' }, Expiration: { Days: 1 }, NoncurrentVersionExpiration: { NoncurrentDays: 1 } },
    ]);
    await put('versioned', 'cur/a');
    for (const body of ['v1', 'v2', 'v3']) await put('versioned', 'nc/a', body);
    const dm = await put('versioned', 'dm/a');
    await s3.send(new DeleteObjectCommand({ Bucket: 'versioned', Key: 'dm/a' }));
    await s3.send(new DeleteObjectCommand({ Bucket: 'versioned', Key: 'dm/a', VersionId: dm.VersionId }));
    const kept = await put('versioned', 'dm/kept');
    await s3.send(new DeleteObjectCommand({ Bucket: 'versioned', Key: 'dm/kept' }));
    expect(kept.VersionId).toBeDefined();
    await put('versioned', 'all/a');

    // Versioning suspended: the null delete marker replaces the null version.
    await s3.send(new CreateBucketCommand({ Bucket: 'suspended' }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: 'suspended', VersioningConfiguration: { Status: 'Suspended' } }));
    await putLifecycle(s3, 'suspended', [{ ID: 'all', Status: 'Enabled', Filter: {}, Expiration: { Days: 1 } }]);
    await put('suspended', 'x');
  });
  afterAll(async () => {
    s3.destroy();
    await sealbox.stop();
  });

  it('nothing falls due before midnight UTC after creation + Days', async () => {
    await advance(sealbox, DAY - 120);
    expect(await keysOf(s3, 'plain')).toContain('exp/a@current');
    expect(await keysOf(s3, 'versioned')).toContain('cur/a@current');
    // Except an expired object delete marker, removed as soon as the rules run.
    expect((await keysOf(s3, 'versioned')).filter((k) => k.startsWith('dm/'))).toEqual(['dm/kept@marker', 'dm/kept@old']);
  });

  it('two days on: expired objects, noncurrent versions and stale uploads are gone, as S3 removes them', async () => {
    await advance(sealbox, DAY + 240);
    expect(await keysOf(s3, 'plain')).toEqual(['keep/a@current', 'later/x@current', 'off/x@current', 'size/small@current', 'tagged-other@current']);
    const listed = await s3.send(new ListMultipartUploadsCommand({ Bucket: 'plain' }));
    expect((listed.Uploads ?? []).map((u) => u.Key)).toEqual(['other/u']);
    expect((await failure(s3.send(new UploadPartCommand({ Bucket: 'plain', Key: 'mpu/u', UploadId: uploads['mpu/u'], PartNumber: 2, Body: 'x' })))).name).toBe('NoSuchUpload');

    // Versioned: a delete marker over cur/a (its data kept as a noncurrent version); nc/a keeps
    // its current version and the newest noncurrent one.
    expect(await keysOf(s3, 'versioned')).toEqual(['all/a@marker', 'all/a@old', 'cur/a@marker', 'cur/a@old', 'dm/kept@marker', 'dm/kept@old', 'nc/a@current', 'nc/a@old']);
    const nc = await s3.send(new ListObjectVersionsCommand({ Bucket: 'versioned', Prefix: 'nc/' }));
    const bodies = await Promise.all(nc.Versions!.map(async (v) => (await s3.send(new GetObjectCommand({ Bucket: 'versioned', Key: 'nc/a', VersionId: v.VersionId }))).Body!.transformToString()));
    expect(bodies).toEqual(['v3', 'v2']);
    expect((await failure(s3.send(new GetObjectCommand({ Bucket: 'versioned', Key: 'cur/a' })))).name).toBe('NoSuchKey');

    // Suspended: one null delete marker, the null version gone.
    const suspended = await s3.send(new ListObjectVersionsCommand({ Bucket: 'suspended' }));
    expect(suspended.Versions ?? []).toEqual([]);
    expect(suspended.DeleteMarkers!.map((m) => [m.Key, m.VersionId, m.IsLatest])).toEqual([['x', 'null', true]]);
  });

  it('later still: noncurrent versions past NoncurrentDays go, and the lone delete marker after them', async () => {
    await advance(sealbox, 2 * DAY);
    const keys = await keysOf(s3, 'versioned');
    expect(keys.filter((k) => k.startsWith('all/'))).toEqual([]);
    expect(keys.filter((k) => k.startsWith('cur/'))).toEqual(['cur/a@marker', 'cur/a@old']);
    // The suspended bucket's null delete marker, alone and old enough under the Days rule.
    expect(await keysOf(s3, 'suspended')).toEqual([]);
  });

  it('each removal is in the lifecycle log the console lists', async () => {
    const res = await fetch(`${sealbox.console!.url}/api/lifecycle`);
    expect(res.status).toBe(200);
    const { events } = (await res.json()) as { events: { bucket: string; key: string; action: string; ruleId: string; versionId?: string; uploadId?: string }[] };
    const seen = events.map((e) => `${e.bucket} ${e.key} ${e.action} ${e.ruleId}`);
    // In the order they happened: run by run, bucket by bucket, key by key.
    expect(seen).toEqual([
      'versioned dm/a delete-marker-removed markers',
      'plain exp/a expired exp',
      'plain one expired small',
      'plain size/big expired size',
      'plain tagged expired tag',
      'plain mpu/u upload-aborted mpu',
      'suspended x delete-marker-added all',
      'versioned all/a delete-marker-added whole',
      'versioned cur/a delete-marker-added current',
      'versioned nc/a noncurrent-expired keep-one',
      'suspended x delete-marker-removed all',
      'versioned all/a noncurrent-expired whole',
      'versioned all/a delete-marker-removed whole',
    ]);
    expect(events.find((e) => e.action === 'upload-aborted')!.uploadId).toBe(uploads['mpu/u']);
  });
});

describe('the configuration is kept', () => {
  const rules: LifecycleRule[] = [{ ID: 'kept', Status: 'Enabled', Filter: { Prefix: 'a/' }, Expiration: { Days: 10 } }];

  it('across a restart, and in an exported snapshot', async () => {
    const root = mkdtempSync(join(tmpdir(), 'sealbox-lifecycle-'));
    const dataDir = join(root, 'data');
    let sealbox = await startTestSealbox({ dataDir });
    let s3 = s3Client(sealbox);
    await s3.send(new CreateBucketCommand({ Bucket: 'kept' }));
    await putLifecycle(s3, 'kept', rules);
    s3.destroy();
    await sealbox.stop();

    sealbox = await startTestSealbox({ dataDir });
    s3 = s3Client(sealbox);
    try {
      expect((await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: 'kept' }))).Rules).toEqual(rules);
    } finally {
      s3.destroy();
      await sealbox.stop();
    }

    await exportSnapshot({ dataDir, file: join(root, 'kept.tgz'), sealboxVersion: 'test' });
    await importSnapshot({ file: join(root, 'kept.tgz'), dataDir: join(root, 'copy') });
    sealbox = await startTestSealbox({ dataDir: join(root, 'copy') });
    s3 = s3Client(sealbox);
    try {
      expect((await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: 'kept' }))).Rules).toEqual(rules);
    } finally {
      s3.destroy();
      await sealbox.stop();
    }
  });

  it('in an in-memory snapshot, and not after a reset', async () => {
    const sealbox = await startTestSealbox();
    const s3 = s3Client(sealbox);
    const admin = (path: string) => fetch(`${sealbox.s3!.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    try {
      await s3.send(new CreateBucketCommand({ Bucket: 'snap' }));
      await putLifecycle(s3, 'snap', rules);
      expect((await admin('/_sealbox/snapshots/with-rules')).status).toBe(200);
      expect((await admin('/_sealbox/reset')).status).toBe(200);
      expect((await failure(s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: 'snap' })))).name).toBe('NoSuchBucket');
      expect((await admin('/_sealbox/snapshots/with-rules/restore')).status).toBe(200);
      expect((await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: 'snap' }))).Rules).toEqual(rules);
    } finally {
      s3.destroy();
      await sealbox.stop();
    }
  });
});
