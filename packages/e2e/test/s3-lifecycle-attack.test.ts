/**
 * Issue 19, adversarial review of lifecycle rules: hostile configuration documents (rule counts,
 * nesting, duplicates, oversized bodies, huge day counts), prefixes with characters XML and URLs
 * treat specially, size filters at their boundaries, a rule added after its objects, 10,000
 * objects expiring in one clock advance (the event loop stays responsive, nothing is lost), churn
 * in a versioned bucket, multipart uploads racing the abort rule, and Object Lock's default
 * retention under an expiration rule. SDK v3 against a started Sealbox; raw signed requests where
 * the SDK cannot send what is tested.
 */
import { createHash } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetBucketLifecycleConfigurationCommand,
  GetObjectRetentionCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectVersionsCommand,
  ListObjectsV2Command,
  PutBucketLifecycleConfigurationCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectLockConfigurationCommand,
  UploadPartCommand,
  type LifecycleRule,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { Sealbox } from '@sealbox/cli';
import aws4 from 'aws4';
import { failure, s3Client, startTestSealbox } from './helpers';

const DAY = 86_400;
let sealbox: Sealbox;
let s3: S3Client;
let n = 0;
const bucketName = () => `life-attack-${process.pid}-${++n}`;

beforeAll(async () => {
  sealbox = await startTestSealbox();
  s3 = s3Client(sealbox);
});
afterAll(async () => {
  s3.destroy();
  await sealbox.stop();
});

async function advance(seconds: number): Promise<number> {
  const started = Date.now();
  const res = await fetch(`${sealbox.s3!.url}/_sealbox/clock`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ advanceSeconds: seconds }) });
  expect(res.status).toBe(200);
  return Date.now() - started;
}

async function bucket(versioned = false): Promise<string> {
  const Bucket = bucketName();
  await s3.send(new CreateBucketCommand({ Bucket }));
  if (versioned) await s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Enabled' } }));
  return Bucket;
}

const putLifecycle = (Bucket: string, rules: LifecycleRule[]) => s3.send(new PutBucketLifecycleConfigurationCommand({ Bucket, LifecycleConfiguration: { Rules: rules } }));

/** A signed GET. */
async function signedGet(path: string) {
  const url = new URL(sealbox.s3!.url);
  const req = { host: url.host, path, method: 'GET', service: 's3', region: 'us-east-1', headers: {} as Record<string, string> };
  aws4.sign(req, { accessKeyId: 'test', secretAccessKey: 'test' });
  const res = await fetch(`${sealbox.s3!.url}${path}`, { headers: req.headers });
  return { status: res.status, text: await res.text() };
}

/** PutBucketLifecycleConfiguration with this exact body (and its Content-MD5). */
async function putRaw(Bucket: string, body: string) {
  const url = new URL(sealbox.s3!.url);
  const req = { host: url.host, path: `/${Bucket}?lifecycle`, method: 'PUT', service: 's3', region: 'us-east-1', body, headers: { 'content-md5': createHash('md5').update(body).digest('base64') } as Record<string, string> };
  aws4.sign(req, { accessKeyId: 'test', secretAccessKey: 'test' });
  const res = await fetch(`${sealbox.s3!.url}${req.path}`, { method: 'PUT', headers: req.headers, body });
  return { status: res.status, text: await res.text() };
}

const rule = (id: string, inner: string) => `<Rule><ID>${id}</ID>${inner}<Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>`;
const doc = (rules: string) => `<LifecycleConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${rules}</LifecycleConfiguration>`;

async function keys(Bucket: string): Promise<string[]> {
  const out: string[] = [];
  let ContinuationToken: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket, ContinuationToken }));
    out.push(...(page.Contents ?? []).map((o) => o.Key!));
    ContinuationToken = page.NextContinuationToken;
  } while (ContinuationToken);
  return out.sort();
}

describe('hostile configuration documents', () => {
  it('1,000 rules are taken, 1,001 are MalformedXML; an unchanged configuration stays', async () => {
    const Bucket = await bucket();
    const thousand = Array.from({ length: 1000 }, (_, i) => rule(`r${i}`, `<Filter><Prefix>p${i}/</Prefix></Filter>`)).join('');
    expect((await putRaw(Bucket, doc(thousand))).status).toBe(200);
    const more = await putRaw(Bucket, doc(thousand + rule('r1000', '<Filter/>')));
    expect(more.status).toBe(400);
    expect(more.text).toContain('<Code>MalformedXML</Code>');
    expect((await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket }))).Rules!.length).toBe(1000);
  });

  it('nesting: an And inside an And, nesting deeper than 64: MalformedXML', async () => {
    const Bucket = await bucket();
    const nested = rule('n', '<Filter><And><Prefix>a</Prefix><And><Prefix>b</Prefix><Tag><Key>k</Key><Value>v</Value></Tag></And></And></Filter>');
    const deep = rule('d', `<Filter><And><Prefix>a</Prefix>${'<Tag>'.repeat(70)}${'</Tag>'.repeat(70)}</And></Filter>`);
    for (const body of [nested, deep]) {
      const res = await putRaw(Bucket, doc(body));
      expect([body.slice(0, 40), res.status]).toEqual([body.slice(0, 40), 400]);
      expect(res.text).toContain('<Code>MalformedXML</Code>');
    }
    await failure(s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket })));
  });

  it('duplicate tag keys in And are InvalidRequest; two Tag elements outside And are MalformedXML', async () => {
    const Bucket = await bucket();
    const dup = await putRaw(Bucket, doc(rule('t', '<Filter><And><Tag><Key>k</Key><Value>1</Value></Tag><Tag><Key>k</Key><Value>2</Value></Tag></And></Filter>')));
    expect(dup.status).toBe(400);
    expect(dup.text).toContain('<Message>Duplicate Tag Keys are not allowed.</Message>');
    const two = await putRaw(Bucket, doc(rule('t', '<Filter><Tag><Key>a</Key><Value>1</Value></Tag><Tag><Key>b</Key><Value>2</Value></Tag></Filter>')));
    expect(two.status).toBe(400);
    expect(two.text).toContain('<Code>MalformedXML</Code>');
  });

  it('a body over 1 MiB is refused without being kept; one just under is parsed', async () => {
    const Bucket = await bucket();
    const padding = (size: number) => `<!--${'x'.repeat(size)}-->`;
    const base = doc(rule('big', '<Filter/>'));
    const over = await putRaw(Bucket, base.replace('<Rule>', `${padding(1024 * 1024)}<Rule>`));
    expect(over.status).toBe(400);
    await failure(s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket })));
    const under = await putRaw(Bucket, base.replace('<Rule>', `${padding(1024 * 1024 - base.length - 100)}<Rule>`));
    expect(under.status).toBe(200);
  });

  it('day counts that are no xs:int (or no date) are MalformedXML, never an "Invalid Date" header', async () => {
    const Bucket = await bucket();
    for (const days of ['2147483648', '9999999999999999']) {
      const res = await putRaw(Bucket, doc(`<Rule><ID>huge</ID><Filter/><Status>Enabled</Status><Expiration><Days>${days}</Days></Expiration></Rule>`));
      expect([days, res.status]).toEqual([days, 400]);
      expect(res.text).toContain('<Code>MalformedXML</Code>');
    }
    // The largest xs:int is taken: the expiry lies past any date a header can carry, so none is sent,
    // and nothing ever expires; likewise an abort date.
    const max = await putRaw(
      Bucket,
      doc(`<Rule><ID>max</ID><Filter/><Status>Enabled</Status><Expiration><Days>2147483647</Days></Expiration><AbortIncompleteMultipartUpload><DaysAfterInitiation>2147483647</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule>`),
    );
    expect(max.status).toBe(200);
    const put = await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'x' }));
    expect(put.Expiration).toBeUndefined();
    const upload = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'k' }));
    expect(upload.AbortDate).toBeUndefined();
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'k' }));
    expect(head.Expiration).toBeUndefined();
    await advance(400 * DAY);
    expect(await keys(Bucket)).toEqual(['k']);
  });
});

describe('filters', () => {
  it('prefixes with XML and URL special characters round-trip and match literally', async () => {
    const Bucket = await bucket();
    const prefixes = ['a&b/<c>/', '%2F/', 'sp ace/', 'ü/ñ/', "quote'\"/", '*/'];
    await putLifecycle(
      Bucket,
      prefixes.map((Prefix, i) => ({ ID: `p${i} & <${Prefix}>`, Status: 'Enabled', Filter: { Prefix }, Expiration: { Days: 1 } })),
    );
    const got = await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket }));
    expect(got.Rules!.map((r) => r.Filter!.Prefix)).toEqual(prefixes);
    for (const p of prefixes) await s3.send(new PutObjectCommand({ Bucket, Key: `${p}x`, Body: 'x' }));
    // A look-alike for each prefix (decoded, unescaped, wildcard-matched): never selected.
    const lookalikes = ['a&amp;b/<c>/x', '//x', 'sp+ace/x', 'u/n/x', 'anything/x'];
    for (const k of lookalikes) await s3.send(new PutObjectCommand({ Bucket, Key: k, Body: 'x' }));
    const put = await s3.send(new PutObjectCommand({ Bucket, Key: 'a&b/<c>/y', Body: 'x' }));
    expect(put.Expiration).toContain(`rule-id="${encodeURIComponent('p0 & <a&b/<c>/>')}"`);
    await advance(3 * DAY);
    expect(await keys(Bucket)).toEqual(lookalikes.sort());
  });

  it('size filters are strict: an object exactly at ObjectSizeGreaterThan or ObjectSizeLessThan is not selected', async () => {
    const Bucket = await bucket();
    await putLifecycle(Bucket, [
      { ID: 'gt', Status: 'Enabled', Filter: { And: { Prefix: 'gt/', ObjectSizeGreaterThan: 10 } }, Expiration: { Days: 1 } },
      { ID: 'lt', Status: 'Enabled', Filter: { And: { Prefix: 'lt/', ObjectSizeLessThan: 10 } }, Expiration: { Days: 1 } },
    ]);
    for (const size of [9, 10, 11]) {
      await s3.send(new PutObjectCommand({ Bucket, Key: `gt/${size}`, Body: 'x'.repeat(size) }));
      await s3.send(new PutObjectCommand({ Bucket, Key: `lt/${size}`, Body: 'x'.repeat(size) }));
    }
    await advance(3 * DAY);
    expect(await keys(Bucket)).toEqual(['gt/10', 'gt/9', 'lt/10', 'lt/11']);
  });

  it('a rule added after the objects exist counts from their creation: already-due objects go at the next run', async () => {
    const Bucket = await bucket();
    await s3.send(new PutObjectCommand({ Bucket, Key: 'old', Body: 'x' }));
    await advance(5 * DAY);
    await s3.send(new PutObjectCommand({ Bucket, Key: 'new', Body: 'x' }));
    await putLifecycle(Bucket, [{ ID: 'late', Status: 'Enabled', Filter: {}, Expiration: { Days: 2 } }]);
    expect((await s3.send(new HeadObjectCommand({ Bucket, Key: 'old' }))).Expiration).toMatch(/^expiry-date="/);
    await advance(1);
    expect(await keys(Bucket)).toEqual(['new']);
  });
});

describe('scale and races', () => {
  it('expires 4,000 objects in one advance without blocking the event loop, and loses none', async () => {
    const Bucket = await bucket();
    // Unsliced, 4,000 expirations blocked the loop for about 0.5 s here (10,000: 1.35 s); sliced, under 0.1 s.
    const total = 4_000;
    const names = Array.from({ length: total }, (_, i) => `bulk/${String(i).padStart(5, '0')}`);
    for (let i = 0; i < total; i += 100) {
      await Promise.all(names.slice(i, i + 100).map((Key) => s3.send(new PutObjectCommand({ Bucket, Key, Body: 'x' }))));
    }
    await s3.send(new PutObjectCommand({ Bucket, Key: 'keep/me', Body: 'x' }));
    await putLifecycle(Bucket, [{ ID: 'bulk', Status: 'Enabled', Filter: { Prefix: 'bulk/' }, Expiration: { Days: 1 } }]);

    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    // While the advance runs, another client keeps reading: it must be answered.
    let reads = 0;
    const failures: string[] = [];
    let reading = true;
    const reader = (async () => {
      while (reading) {
        const signedAt = new Date().toISOString();
        const res = await signedGet(`/${Bucket}/keep/me`);
        if (res.status !== 200) failures.push(`signed ${signedAt}: ${res.status} ${res.text}`);
        reads++;
      }
    })();
    const took = await advance(3 * DAY);
    reading = false;
    await reader;
    delay.disable();
    const maxBlockMs = delay.max / 1e6;
    // Measured on the shared 2-core machine: see docs/s3-lifecycle.md.
    console.log(`lifecycle: ${total} expirations, advance answered in ${took} ms, longest event-loop block ${maxBlockMs.toFixed(0)} ms, ${reads} reads served meanwhile`);
    expect(maxBlockMs).toBeLessThan(250);
    expect(reads).toBeGreaterThan(3);
    // A read signed in the second before the advance takes effect and answered after it is
    // current (clock.fromWallClockLatest): none is refused.
    expect(failures).toEqual([]);
    expect(await keys(Bucket)).toEqual(['keep/me']);
  }, 240_000);

  it('versioned churn: NewerNoncurrentVersions keeps the newest, the rest go, the current one stays', async () => {
    const Bucket = await bucket(true);
    await putLifecycle(Bucket, [{ ID: 'churn', Status: 'Enabled', Filter: {}, NoncurrentVersionExpiration: { NoncurrentDays: 1, NewerNoncurrentVersions: 3 } }]);
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) ids.push((await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: `v${i}` }))).VersionId!);
    await advance(3 * DAY);
    const left = (await s3.send(new ListObjectVersionsCommand({ Bucket }))).Versions!.map((v) => v.VersionId);
    expect(left).toEqual(ids.slice(-4).reverse());
  });

  it('a CompleteMultipartUpload whose body is still arriving when the abort rule removes the upload: NoSuchUpload, no object', async () => {
    const Bucket = await bucket();
    await putLifecycle(Bucket, [{ ID: 'abort', Status: 'Enabled', Filter: {}, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }]);
    const upload = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'race' }));
    const part = await s3.send(new UploadPartCommand({ Bucket, Key: 'race', UploadId: upload.UploadId, PartNumber: 1, Body: 'part' }));
    const body = `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>${part.ETag}</ETag></Part></CompleteMultipartUpload>`;
    // The Complete request's body arrives in two halves, with the clock advanced between them.
    const url = new URL(sealbox.s3!.url);
    const req = { host: url.host, path: `/${Bucket}/race?uploadId=${encodeURIComponent(upload.UploadId!)}`, method: 'POST', service: 's3', region: 'us-east-1', body, headers: {} as Record<string, string> };
    aws4.sign(req, { accessKeyId: 'test', secretAccessKey: 'test' });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const stream = Readable.from(
      (async function* () {
        yield Buffer.from(body.slice(0, 20));
        await gate;
        yield Buffer.from(body.slice(20));
      })(),
    );
    const pending = fetch(`${sealbox.s3!.url}${req.path}`, { method: 'POST', headers: { ...req.headers, 'content-length': String(Buffer.byteLength(body)) }, body: Readable.toWeb(stream) as ReadableStream, duplex: 'half' } as RequestInit);
    await new Promise((r) => setTimeout(r, 200));
    await advance(3 * DAY);
    expect((await s3.send(new ListMultipartUploadsCommand({ Bucket }))).Uploads).toBeUndefined();
    release();
    const res = await pending;
    const text = await res.text();
    expect([res.status, text.match(/<Code>(\w+)<\/Code>/)?.[1]]).toEqual([404, 'NoSuchUpload']);
    expect(await keys(Bucket)).toEqual([]);
  });

  it('Object Lock default retention under an expiration rule: the current version gets a delete marker, the retained version stays until its retention ends', async () => {
    const Bucket = bucketName();
    await s3.send(new CreateBucketCommand({ Bucket, ObjectLockEnabledForBucket: true }));
    await s3.send(new PutObjectLockConfigurationCommand({ Bucket, ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 10 } } } }));
    await putLifecycle(Bucket, [{ ID: 'short', Status: 'Enabled', Filter: {}, Expiration: { Days: 1 }, NoncurrentVersionExpiration: { NoncurrentDays: 1 } }]);
    const v = (await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'x' }))).VersionId!;
    expect((await s3.send(new GetObjectRetentionCommand({ Bucket, Key: 'k', VersionId: v }))).Retention!.Mode).toBe('COMPLIANCE');
    await advance(5 * DAY);
    const mid = await s3.send(new ListObjectVersionsCommand({ Bucket }));
    expect(mid.Versions!.map((x) => x.VersionId)).toEqual([v]);
    expect(mid.DeleteMarkers!.length).toBe(1);
    await advance(7 * DAY);
    const after = await s3.send(new ListObjectVersionsCommand({ Bucket }));
    expect(after.Versions).toBeUndefined();
  });
});
