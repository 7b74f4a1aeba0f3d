/**
 * The web console in headless Chromium (Debian's chromium, driven by playwright-core): a key, a
 * bucket, an SSE-KMS object and the log entries of its PUT, the filter, and an event arriving
 * live. Leaves a screenshot in the OS temp directory and prints its path. Without Chromium the
 * test fails: CI installs it (.ci/run).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateAliasCommand, CreateKeyCommand } from '@aws-sdk/client-kms';
import { CreateBucketCommand, GetObjectCommand, PutBucketEncryptionCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { Sealbox } from '@sealbox/cli';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { kmsClient, s3Client, startTestSealbox } from './helpers';

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

  // The key, with its alias and state.
  const keyRow = page.locator('#key-rows tr', { hasText: 'alias/reports' });
  await keyRow.waitFor();
  await expect(keyRow.textContent()).resolves.toContain(keyArn);
  await expect(keyRow.textContent()).resolves.toContain('Enabled');
  await expect(keyRow.textContent()).resolves.toContain('GenerateDataKey'); // last use

  // The bucket, with its default encryption; its objects once chosen.
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

  // The PUT's GenerateDataKey: S3 calling KMS on the caller's behalf.
  const put = page.locator('#event-rows tr.event[data-event-name="GenerateDataKey"]');
  await put.waitFor();
  await expect(put.locator('td.caller').textContent()).resolves.toMatch(/via s3\.amazonaws\.com.*on behalf of arn:aws:iam::000000000000:root/);
  await expect(page.locator('#event-rows tr.event[data-event-name="CreateKey"]').count()).resolves.toBe(1);

  // Filtered by event name: the other events go.
  await page.fill('#filters input[name="eventName"]', 'GenerateDataKey');
  await page.locator('#event-rows tr.event:not([data-event-name="GenerateDataKey"])').first().waitFor({ state: 'detached' });
  await expect(eventRows().count()).resolves.toBe(1);

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
