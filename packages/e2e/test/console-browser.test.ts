/**
 * The web console in headless Chromium (Debian's chromium, driven by playwright-core): a key, a
 * bucket, an SSE-KMS object and the log entries of its PUT, the filter, and an event arriving
 * live; the access-control views over the example seed (key policy, grants, tags; bucket policy,
 * Block Public Access, ownership, ACL), the view and filters in the URL with back/forward, the
 * request log opening a denied PutObject's decision record, "what if", the live badge while
 * Sealbox is unreachable, the tables at 800 px and the empty sandbox's hint. Leaves screenshots
 * in the OS temp directory and prints their paths. Without Chromium the test fails: CI installs
 * it (.ci/run).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateAliasCommand, CreateKeyCommand, ScheduleKeyDeletionCommand } from '@aws-sdk/client-kms';
import { CreateBucketCommand, GetObjectCommand, PutBucketAclCommand, PutBucketEncryptionCommand, PutBucketOwnershipControlsCommand, PutBucketPolicyCommand, PutObjectCommand, type BucketCannedACL } from '@aws-sdk/client-s3';
import { parseSeed, SEED_EXAMPLE, type Sealbox } from '@sealbox/cli';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { failure, kmsClient, s3Client, startTestSealbox } from './helpers';

const CHROMIUM = '/usr/bin/chromium';
/** The machine has no internet: without these, Chromium keeps trying to reach Google's services. */
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let sealbox: Sealbox;
let context: BrowserContext;
let page: Page;
let profile: string;
let keyArn: string;
const pageErrors: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (.ci/run does)`);
  sealbox = await startTestSealbox({ consolePort: 0, allowHttpSseKms: true });
  const kms = kmsClient(sealbox);
  const s3 = s3Client(sealbox);
  const created = await kms.send(new CreateKeyCommand({ Description: 'reports key' }));
  keyArn = created.KeyMetadata!.Arn!;
  await kms.send(new CreateAliasCommand({ AliasName: 'alias/reports', TargetKeyId: created.KeyMetadata!.KeyId! }));
  await s3.send(new CreateBucketCommand({ Bucket: 'reports-bucket' }));
  await s3.send(
    new PutBucketEncryptionCommand({
      Bucket: 'reports-bucket',
      ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: 'alias/reports' }, BucketKeyEnabled: false }] },
    }),
  );
  await s3.send(
    new PutObjectCommand({
      Bucket: 'reports-bucket',
      Key: 'q3/summary.txt',
      Body: 'quarterly summary',
      ServerSideEncryption: 'aws:kms',
      SSEKMSKeyId: 'alias/reports',
      SSEKMSEncryptionContext: Buffer.from(JSON.stringify({ department: 'finance' })).toString('base64'),
    }),
  );

  // A fresh profile each run: launchPersistentContext is how playwright takes a user-data-dir.
  profile = mkdtempSync(join(tmpdir(), 'sealbox-chromium-'));
  context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1440, height: 1000 } });
  page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (err) => pageErrors.push(err.message));
  page.on('console', (message) => {
    if (message.type() === 'error') pageErrors.push(message.text());
  });
}, 60_000);

afterAll(async () => {
  await context?.close();
  await sealbox?.stop();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

const eventRows = () => page.locator('#event-rows tr.event');

it('shows the key, the bucket, the SSE-KMS object and the log entries of its PUT, filters them, and follows the log live', async () => {
  await page.goto(`${sealbox.console!.url}/`);
  // The keys are the first view.
  await expect(page.locator('#nav a[aria-current="page"]').textContent()).resolves.toBe('Keys');

  // The key, with its alias and state.
  const keyRow = page.locator('#key-rows tr', { hasText: 'alias/reports' });
  await keyRow.waitFor();
  await expect(keyRow.textContent()).resolves.toContain(keyArn);
  await expect(keyRow.textContent()).resolves.toContain('Enabled');
  await expect(keyRow.textContent()).resolves.toContain('GenerateDataKey'); // last use

  // The bucket, with its default encryption; its objects once chosen.
  await page.click('#nav a[data-view="buckets"]');
  const bucketRow = page.locator('#bucket-rows tr', { hasText: 'reports-bucket' });
  await expect(bucketRow.textContent()).resolves.toMatch(/SSE-KMS.*alias\/reports/);
  await bucketRow.locator('a.bucket-link').click();
  const objectRow = page.locator('#object-rows tr', { hasText: 'q3/summary.txt' });
  await objectRow.waitFor();
  const objectText = await objectRow.textContent();
  expect(objectText).toContain('SSE-KMS');
  expect(objectText).toContain(keyArn);
  expect(objectText).toContain('"department": "finance"');
  expect(objectText).toContain('"aws:s3:arn": "arn:aws:s3:::reports-bucket/q3/summary.txt"');
  expect(objectText).not.toContain('quarterly summary');

  // The PUT's GenerateDataKey: S3 calling KMS on the caller's behalf, its key named by alias.
  await page.click('#nav a[data-view="events"]');
  const put = page.locator('#event-rows tr.event[data-event-name="GenerateDataKey"]');
  await put.waitFor();
  await expect(put.locator('td.caller').textContent()).resolves.toMatch(/via s3\.amazonaws\.com.*on behalf of arn:aws:iam::000000000000:root/);
  await expect(put.locator('.event-key').textContent()).resolves.toBe(`alias/reports ${keyArn.split('/')[1]}`);
  await expect(page.locator('#event-rows tr.event[data-event-name="CreateKey"]').count()).resolves.toBe(1);

  // Filtered by event name: the other events go.
  await page.fill('#filters input[name="eventName"]', 'GenerateDataKey');
  await page.locator('#event-rows tr.event:not([data-event-name="GenerateDataKey"])').first().waitFor({ state: 'detached' });
  await expect(eventRows().count()).resolves.toBe(1);
  // The filter is in the URL: a link to it shows the same.
  await page.waitForURL(/[?&]eventName=GenerateDataKey/);

  // Live: a GET's Decrypt appears without reloading, under its own filter.
  await page.fill('#filters input[name="eventName"]', 'Decrypt');
  await page.fill('#filters input[name="key"]', 'alias/reports');
  await page.waitForSelector('#event-rows td.empty');
  const got = await s3Client(sealbox).send(new GetObjectCommand({ Bucket: 'reports-bucket', Key: 'q3/summary.txt' }));
  expect(await got.Body!.transformToString()).toBe('quarterly summary');
  const decrypt = page.locator('#event-rows tr.event[data-event-name="Decrypt"]');
  await decrypt.waitFor({ timeout: 5000 });
  await expect(decrypt.locator('td.caller').textContent()).resolves.toContain('via s3.amazonaws.com');

  // Everything again, for the screenshot: the PUT's and the GET's entries, the record opened.
  await page.click('#filters button[type="reset"]');
  await eventRows().nth(3).waitFor();
  await page.locator('#event-rows tr.event[data-event-name="GenerateDataKey"] + tr.record summary').click();
  const shot = join(tmpdir(), `sealbox-console-${process.pid}.png`);
  await page.screenshot({ path: shot, fullPage: true });
  console.log(`console screenshot: ${shot}`);
  expect(existsSync(shot)).toBe(true);

  // Nothing was refused by the content security policy, and no script failed.
  expect(pageErrors).toEqual([]);
}, 60_000);

describe('the access-control side and the request log', () => {
  const PRIMARY_KEY = 'arn:aws:kms:us-east-1:000000000000:key/0e1f3c4d-8a7b-4c2d-9e10-3f2a1b0c9d8e';
  const REQUIRE_KMS = JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'RequireKms',
        Effect: 'Deny',
        Principal: '*',
        Action: 's3:PutObject',
        Resource: 'arn:aws:s3:::acl-bucket/*',
        Condition: { StringNotEquals: { 's3:x-amz-server-side-encryption': 'aws:kms' } },
      },
    ],
  });
  let seeded: Sealbox;
  let deniedPut: string;
  let url: string;

  beforeAll(async () => {
    seeded = await startTestSealbox({ consolePort: 0, allowHttpSseKms: true, seedData: parseSeed(SEED_EXAMPLE, 'example.yaml') });
    url = seeded.console!.url;
    const s3 = s3Client(seeded);
    await kmsClient(seeded).send(new ScheduleKeyDeletionCommand({ KeyId: 'f972a5cf-3280-443f-b623-7c84d4c27240', PendingWindowInDays: 7 }));
    await s3.send(new CreateBucketCommand({ Bucket: 'acl-bucket', ObjectOwnership: 'ObjectWriter' }));
    await s3.send(new PutBucketAclCommand({ Bucket: 'acl-bucket', ACL: 'log-delivery-write' as BucketCannedACL }));
    await s3.send(new PutBucketOwnershipControlsCommand({ Bucket: 'acl-bucket', OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerPreferred' }] } }));
    await s3.send(new PutBucketPolicyCommand({ Bucket: 'acl-bucket', Policy: REQUIRE_KMS }));
    const denied = await failure(s3.send(new PutObjectCommand({ Bucket: 'acl-bucket', Key: 'plain.txt', Body: 'not encrypted' })));
    deniedPut = (denied as unknown as { $metadata: { requestId: string } }).$metadata.requestId;
  }, 30_000);

  afterAll(() => seeded?.stop());

  it("shows a key's policy, grants and tags and a bucket's policy, BPA, ownership and ACL; the URL holds the view, back and forward work", async () => {
    await page.goto(`${url}/?view=keys`);
    const row = page.locator('#key-rows tr', { hasText: 'alias/app-data' });
    await row.locator('a.key-link').click();
    await page.waitForURL((u) => u.searchParams.get('arn') === PRIMARY_KEY);
    await expect(page.locator('#key-policy').textContent()).resolves.toContain('"Sid": "Enable IAM policies"');
    await expect(page.locator('#key-grants').textContent()).resolves.toMatch(/app-decrypt.*arn:aws:iam::000000000000:role\/app.*Decrypt, Encrypt, GenerateDataKey.*EncryptionContextSubset \{"app":"payments"\}/);
    await expect(page.locator('#key-tags').textContent()).resolves.toMatch(/team\s*payments/);
    await expect(page.locator('#key-aliases').textContent()).resolves.toBe('alias/app-dataalias/app-data-current');
    // Multi-Region: the primary and its replica share an id, and are told apart.
    const mrk = page.locator('#key-rows tr[data-key-id="mrk-5d05b645e4a32845d94ae7a33df83c6f"]');
    await expect(mrk.nth(0).textContent()).resolves.toContain('multi-Region replicaprimary in us-east-1');
    await expect(mrk.nth(1).textContent()).resolves.toContain('multi-Region primaryreplicas in eu-west-1');
    // A pending deletion says when.
    const deletion = new Date(seeded.clock.now().getTime() + 7 * 86_400_000).toISOString().slice(0, 10);
    await expect(page.locator('#key-rows tr[data-key-id="f972a5cf-3280-443f-b623-7c84d4c27240"] .deletes').textContent()).resolves.toMatch(new RegExp(`^deletes on ${deletion} `));

    await page.click('#nav a[data-view="buckets"]');
    await page.locator('#bucket-rows a.bucket-link', { hasText: 'acl-bucket' }).click();
    await page.waitForURL(/view=buckets&bucket=acl-bucket$/);
    await expect(page.locator('#bucket-policy').textContent()).resolves.toContain('"Sid": "RequireKms"');
    await expect(page.locator('#bucket-bpa tr[data-setting="BlockPublicAcls"]').textContent()).resolves.toBe('BlockPublicAclsonnot set');
    await expect(page.locator('#bucket-ownership').textContent()).resolves.toBe('BucketOwnerPreferred ACLs honoured');
    await expect(page.locator('#bucket-acl').textContent()).resolves.toMatch(/account 000000000000CanonicalUserFULL_CONTROL.*LogDeliveryGroupWRITE/);
    const bucketUrl = page.url();

    // Back: the bucket list, then the key as it was; forward again: the bucket.
    await page.goBack();
    await page.locator('#bucket-detail').waitFor({ state: 'hidden' });
    expect(new URL(page.url()).search).toBe('?view=buckets');
    await page.goBack();
    await page.locator('#key-policy').waitFor();
    expect(new URL(page.url()).searchParams.get('view')).toBe('keys');
    await expect(page.locator('#buckets').isHidden()).resolves.toBe(true);
    await page.goForward();
    await page.goForward();
    await page.locator('#bucket-policy').waitFor();
    await expect(page.locator('#keys').isHidden()).resolves.toBe(true);
    // A link reproduces what was seen.
    const other = await context.newPage();
    try {
      await other.goto(bucketUrl);
      await expect(other.locator('#bucket-ownership').textContent()).resolves.toBe('BucketOwnerPreferred ACLs honoured');
      await other.goto(`${url}/?view=events&eventName=GenerateDataKey`);
      await other.locator('#event-rows tr.event').first().waitFor();
      await expect(other.locator('#filters input[name="eventName"]').inputValue()).resolves.toBe('GenerateDataKey');
      await expect(other.locator('#event-rows tr.event:not([data-event-name="GenerateDataKey"])').count()).resolves.toBe(0);
      await expect(other.locator('#event-rows .event-key').first().textContent()).resolves.toMatch(/^alias\/app-data, alias\/app-data-current 0e1f3c4d/);
    } finally {
      await other.close();
    }

    // The identities, their policies, and never a secret.
    await page.click('#nav a[data-view="identities"]');
    const alice = page.locator('#identity-rows tr[data-identity="arn:aws:iam::111122223333:user/dev/alice"]');
    await expect(alice.textContent()).resolves.toMatch(/IAM user.*AKIAALICE.*identity policy 1/);
    const html = await page.content();
    for (const secret of ['alice-secret', 'root-secret', 'app-secret', 'app-token']) expect(html).not.toContain(secret);
    expect(pageErrors).toEqual([]);
  }, 60_000);

  it("opens a denied PutObject's decision from the request log, the deciding statement and its condition marked, and asks what if", async () => {
    await page.goto(`${url}/?view=requests`);
    await page.selectOption('#request-filters select[name="failed"]', 'denied');
    await page.waitForURL(/failed=denied/);
    const denied = page.locator(`#request-rows tr[data-request-id="${deniedPut}"]`);
    await denied.waitFor();
    // The unfiltered list holds the denied row too: wait for the filtered list to replace it.
    await page.waitForFunction("document.querySelectorAll('#request-rows tr.request').length === 1", undefined, { timeout: 10_000 }).catch(() => undefined);
    await expect(page.locator('#request-rows tr.request').count()).resolves.toBe(1);
    await expect(denied.textContent()).resolves.toMatch(/S3PutObject.*403AccessDenied.*Deny/);
    await denied.locator('a.request-link').click();
    await page.waitForURL((u) => u.searchParams.get('id') === deniedPut);

    const decision = page.locator('#decision .decision');
    await expect(decision.locator('.reason-text').textContent()).resolves.toBe("explicit deny in statement 'RequireKms' of the bucket policy");
    const deciding = decision.locator('.source.deciding');
    await expect(deciding.count()).resolves.toBe(1);
    await expect(deciding.getAttribute('data-source')).resolves.toBe('bucket-policy');
    const statement = deciding.locator('tr.statement.deciding');
    await expect(statement.getAttribute('data-sid')).resolves.toBe('RequireKms');
    const condition = statement.locator('tr.condition[data-key="s3:x-amz-server-side-encryption"]');
    await expect(condition.locator('.expected').textContent()).resolves.toBe('aws:kms');
    await expect(condition.locator('.actual').textContent()).resolves.toBe('absent');
    const shot = join(tmpdir(), `sealbox-console-decision-${process.pid}.png`);
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`console decision screenshot: ${shot}`);

    // What if: the same question, from the record; then with SSE-KMS, allowed.
    await decision.locator('a.whatif-link').click();
    await page.waitForURL(/view=whatif/);
    await expect(page.locator('#whatif-form input[name="principal"]').inputValue()).resolves.toBe('arn:aws:iam::000000000000:root');
    await expect(page.locator('#whatif-result .reason-text').textContent()).resolves.toBe("explicit deny in statement 'RequireKms' of the bucket policy");
    await page.fill('#whatif-form textarea[name="context"]', '{"s3:x-amz-server-side-encryption": "aws:kms"}');
    await page.click('#whatif-form button[type="submit"]');
    await page.locator('#whatif-result .decision.allow').waitFor();
    await expect(page.locator('#whatif-result .reason-text').textContent()).resolves.toBe("allowed by the account's root user");
    expect(pageErrors).toEqual([]);
  }, 60_000);

  it('keeps its tables within 800 px, and its live badge turns red while Sealbox is unreachable', async () => {
    await page.setViewportSize({ width: 800, height: 900 });
    try {
      for (const [view, ready] of [
        [`?view=keys&arn=${encodeURIComponent(PRIMARY_KEY)}`, '#key-policy'],
        ['?view=buckets&bucket=app-data', '#object-rows tr'],
        ['?view=events', '#event-rows tr.event'],
        [`?view=requests&id=${deniedPut}`, '#decision .decision'],
        ['?view=identities', '#identity-rows tr'],
      ] as const) {
        await page.goto(`${url}/${view}`);
        await page.locator(ready).first().waitFor();
        // The page's own measure (a string: the test is compiled without the DOM's types).
        const widths = (await page.evaluate(`({
          page: document.documentElement.scrollWidth,
          tables: [...document.querySelectorAll('section:not([hidden]) table')].filter((t) => t.offsetParent !== null).map((t) => t.getBoundingClientRect().right),
        })`)) as { page: number; tables: number[] };
        expect({ view, page: widths.page }).toEqual({ view, page: 800 });
        for (const right of widths.tables) expect({ view, right: Math.min(right, 800) }).toEqual({ view, right });
      }
      const shot = join(tmpdir(), `sealbox-console-800-${process.pid}.png`);
      await page.screenshot({ path: shot, fullPage: true });
      console.log(`console at 800 px: ${shot}`);
    } finally {
      await page.setViewportSize({ width: 1440, height: 1000 });
    }

    await page.goto(`${url}/?view=keys`);
    await expect(page.locator('#live').textContent()).resolves.toBe('live');
    await page.route('**/api/**', (route) => route.abort());
    try {
      await page.locator('#live.down').waitFor({ timeout: 5000 });
      await expect(page.locator('#live').textContent()).resolves.toBe('offline');
    } finally {
      await page.unroute('**/api/**');
    }
    await page.locator('#live:not(.down)').waitFor({ timeout: 5000 });
    // The aborted fetches were the test's doing.
    pageErrors.length = 0;
  }, 60_000);
});

it('tells an empty sandbox how to create its first key and bucket, with its own endpoints', async () => {
  const empty = await startTestSealbox({ consolePort: 0 });
  try {
    await page.goto(`${empty.console!.url}/`);
    const hint = page.locator('#empty-hint');
    await hint.waitFor();
    const commands = (await page.locator('#empty-commands').textContent())!.split('\n');
    expect(commands).toEqual([
      `aws --endpoint-url ${empty.kms!.url} kms create-key --description "my first key"`,
      `aws --endpoint-url ${empty.kms!.url} kms create-alias --alias-name alias/my-first-key --target-key-id KEY_ID`,
      `aws --endpoint-url ${empty.s3!.url} s3 mb s3://my-first-bucket`,
    ]);
    // Once there is a key, the hint goes.
    await kmsClient(empty).send(new CreateKeyCommand({}));
    await hint.waitFor({ state: 'hidden', timeout: 5000 });
  } finally {
    await empty.stop();
  }
  expect(pageErrors).toEqual([]);
}, 30_000);
