/** Browser POST uploads: a form with a policy signed by SigV4 (or legacy SigV2), as a browser sends it. */
import { createHmac } from 'node:crypto';
import { GetObjectCommand, GetObjectLegalHoldCommand, GetObjectRetentionCommand, HeadObjectCommand, PutBucketPolicyCommand, PutObjectLockConfigurationCommand, S3Client, CreateBucketCommand } from '@aws-sdk/client-s3';
import type { Sealbox } from '@sealbox/cli';
import { deriveSigningKey, toAmzDate } from '@sealbox/sigv4';
import { httpsCall, s3Client, startTestSealbox, tlsS3Client } from './helpers';

let sealbox: Sealbox;
let s3: S3Client;
beforeAll(async () => {
  sealbox = await startTestSealbox({
    only: 's3',
    users: [
      // May upload, nothing about Object Lock.
      {
        accessKeyId: 'AKIDWRITER',
        secretAccessKey: 'writer',
        accountId: '000000000000',
        principalArn: 'arn:aws:iam::000000000000:user/writer',
        policies: [JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:PutObject', Resource: '*' }] })],
      },
    ],
  });
  s3 = s3Client(sealbox);
  await s3.send(new CreateBucketCommand({ Bucket: 'uploads' }));
});
afterAll(async () => {
  s3.destroy();
  await sealbox.stop();
});

/** The fields of a SigV4 POST form whose policy allows `conditions` until `expires`. */
function sigV4Form(conditions: unknown[], fields: Record<string, string>, expires = new Date(Date.now() + 600_000), secret = 'test', bucket = 'uploads', accessKeyId = 'test') {
  const now = new Date();
  const date = toAmzDate(now);
  const credential = `${accessKeyId}/${date.slice(0, 8)}/us-east-1/s3/aws4_request`;
  const policy = Buffer.from(
    JSON.stringify({
      expiration: expires.toISOString(),
      conditions: [...conditions, { bucket }, { 'x-amz-algorithm': 'AWS4-HMAC-SHA256' }, { 'x-amz-credential': credential }, { 'x-amz-date': date }],
    }),
  ).toString('base64');
  const signature = createHmac('sha256', deriveSigningKey(secret, date.slice(0, 8), 'us-east-1', 's3')).update(policy).digest('hex');
  return { ...fields, 'X-Amz-Algorithm': 'AWS4-HMAC-SHA256', 'X-Amz-Credential': credential, 'X-Amz-Date': date, Policy: policy, 'X-Amz-Signature': signature };
}

/** The fields of a legacy SigV2 POST form whose policy allows `conditions` for a minute. */
function sigV2Form(conditions: unknown[], fields: Record<string, string>) {
  const policy = Buffer.from(JSON.stringify({ expiration: new Date(Date.now() + 60_000).toISOString(), conditions: [{ bucket: 'uploads' }, ...conditions] })).toString('base64');
  return { ...fields, AWSAccessKeyId: 'test', policy, signature: createHmac('sha1', 'test').update(policy).digest('base64') };
}

/** A form whose file is a file part named `fileName`, or with `fileName` null a plain text field. */
function formData(fields: Record<string, string>, file: string | Buffer, fileName: string | null): FormData {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  if (fileName === null) form.append('file', String(file));
  else form.append('file', new Blob([file]), fileName);
  return form;
}

async function post(fields: Record<string, string>, file: string | Buffer, fileName: string | null = 'photo.jpg', bucket = 'uploads') {
  const res = await fetch(`${sealbox.s3!.url}/${bucket}`, { method: 'POST', body: formData(fields, file, fileName), redirect: 'manual' });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

/** The same POST to a `tls: true` Sealbox, over https.request trusting its CA (fetch cannot). */
async function postOverTls(target: Sealbox, fields: Record<string, string>, file: string | Buffer, fileName = 'photo.jpg') {
  // Let the platform encode the multipart body, then send its bytes.
  const encoded = new Request('https://form.invalid/', { method: 'POST', body: formData(fields, file, fileName) });
  const body = Buffer.from(await encoded.arrayBuffer());
  return httpsCall(target, `${target.s3!.url}/uploads`, { method: 'POST', headers: { 'content-type': encoded.headers.get('content-type')! }, body });
}

it('uploads the file under the key, with the fields as metadata; 204 by default', async () => {
  const res = await post(
    sigV4Form([['starts-with', '$key', 'user/'], { 'content-type': 'image/jpeg' }, ['starts-with', '$x-amz-meta-tag', '']], {
      key: 'user/${filename}',
      'Content-Type': 'image/jpeg',
      'x-amz-meta-tag': 'holiday',
    }),
    'jpeg bytes',
  );
  expect(res.status).toBe(204);
  expect(res.headers.get('etag')).toMatch(/^"[0-9a-f]{32}"$/);
  const got = await s3.send(new GetObjectCommand({ Bucket: 'uploads', Key: 'user/photo.jpg' }));
  expect(await got.Body!.transformToString()).toBe('jpeg bytes');
  expect(got.ContentType).toBe('image/jpeg');
  expect(got.Metadata).toEqual({ tag: 'holiday' });
});

it('success_action_status 201 answers a PostResponse document; success_action_redirect a 303', async () => {
  const created = await post(sigV4Form([{ key: 'a.txt' }, { success_action_status: '201' }], { key: 'a.txt', success_action_status: '201' }), 'a');
  expect(created.status).toBe(201);
  expect(created.text).toContain('<Bucket>uploads</Bucket><Key>a.txt</Key>');
  const redirected = await post(
    sigV4Form([{ key: 'b.txt' }, { success_action_redirect: 'https://app.example/done' }], { key: 'b.txt', success_action_redirect: 'https://app.example/done' }),
    'b',
  );
  expect(redirected.status).toBe(303);
  expect(redirected.headers.get('location')).toMatch(/^https:\/\/app\.example\/done\?bucket=uploads&key=b\.txt&etag=%22[0-9a-f]{32}%22$/);
});

it('the policy is enforced: conditions, extra fields, expiry, content-length-range', async () => {
  const failed = await post(sigV4Form([['starts-with', '$key', 'user/']], { key: 'other/x' }), 'x');
  expect(failed.status).toBe(403);
  expect(failed.text).toContain('<Message>Invalid according to Policy: Policy Condition failed: [&quot;starts-with&quot;, &quot;$key&quot;, &quot;user/&quot;]</Message>');
  const extra = await post(sigV4Form([{ key: 'x' }], { key: 'x', 'x-amz-meta-sneaky': '1' }), 'x');
  expect(extra.text).toContain('Extra input fields: x-amz-meta-sneaky');
  const expired = await post(sigV4Form([{ key: 'x' }], { key: 'x' }, new Date(Date.now() - 1000)), 'x');
  expect(expired.text).toContain('Invalid according to Policy: Policy expired.');
  const big = await post(sigV4Form([{ key: 'x' }, ['content-length-range', 1, 10]], { key: 'x' }), 'x'.repeat(11));
  expect(big.status).toBe(400);
  expect(big.text).toContain('<Code>EntityTooLarge</Code>');
  await expect(s3.send(new HeadObjectCommand({ Bucket: 'uploads', Key: 'x' }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
});

it('a wrong signature or an anonymous form is refused', async () => {
  const wrong = await post(sigV4Form([{ key: 'w' }], { key: 'w' }, undefined, 'not-the-secret'), 'w');
  expect(wrong.status).toBe(403);
  expect(wrong.text).toContain('<Code>SignatureDoesNotMatch</Code>');
  const anonymous = await post({ key: 'anon' }, 'a');
  expect(anonymous.status).toBe(403);
  expect(anonymous.text).toContain('<Code>AccessDenied</Code>');
});

it('legacy SigV2 forms (AWSAccessKeyId, signature) still work', async () => {
  const policy = Buffer.from(JSON.stringify({ expiration: new Date(Date.now() + 60_000).toISOString(), conditions: [{ bucket: 'uploads' }, { key: 'v2.txt' }] })).toString('base64');
  const signature = createHmac('sha1', 'test').update(policy).digest('base64');
  const res = await post({ key: 'v2.txt', AWSAccessKeyId: 'test', policy, signature }, 'v2');
  expect(res.status).toBe(204);
  expect(await (await s3.send(new GetObjectCommand({ Bucket: 'uploads', Key: 'v2.txt' }))).Body!.transformToString()).toBe('v2');
});

const SIGV4_REQUIRED = 'Requests specifying Server Side Encryption with AWS KMS managed keys require AWS Signature Version 4.';

it('a SigV2 form asking for SSE-KMS (or DSSE-KMS) is refused: SSE-KMS needs SigV4', async () => {
  for (const sse of ['aws:kms', 'aws:kms:dsse']) {
    const res = await post(sigV2Form([{ key: 'v2-kms.txt' }, { 'x-amz-server-side-encryption': sse }], { key: 'v2-kms.txt', 'x-amz-server-side-encryption': sse }), 'v2');
    expect(res.status).toBe(400);
    expect(res.text).toContain('<Code>InvalidArgument</Code>');
    expect(res.text).toContain(`<Message>${SIGV4_REQUIRED}</Message>`);
    expect(res.text).toContain('<ArgumentName>Authorization</ArgumentName><ArgumentValue>null</ArgumentValue>');
  }
  await expect(s3.send(new HeadObjectCommand({ Bucket: 'uploads', Key: 'v2-kms.txt' }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
  // SigV2 itself is not the problem: the same form asking for SSE-S3 is stored.
  const sseS3 = await post(sigV2Form([{ key: 'v2-aes.txt' }, { 'x-amz-server-side-encryption': 'AES256' }], { key: 'v2-aes.txt', 'x-amz-server-side-encryption': 'AES256' }), 'v2');
  expect(sseS3.status).toBe(204);
  expect(sseS3.headers.get('x-amz-server-side-encryption')).toBe('AES256');
  // And a SigV4 form passes the signature check, to meet the next rule: TLS (this Sealbox is plain HTTP).
  const v4 = await post(sigV4Form([{ key: 'v4-kms.txt' }, { 'x-amz-server-side-encryption': 'aws:kms' }], { key: 'v4-kms.txt', 'x-amz-server-side-encryption': 'aws:kms' }), 'v4');
  expect(v4.status).toBe(400);
  expect(v4.text).toContain('<Message>Requests specifying Server Side Encryption with AWS KMS managed keys must be made over a secure connection.</Message>');
});

it('over TLS, a SigV4 form may ask for SSE-KMS; a SigV2 form still may not', async () => {
  const secure = await startTestSealbox({ tls: true });
  const client = tlsS3Client(secure);
  try {
    await client.send(new CreateBucketCommand({ Bucket: 'uploads' }));
    const v4 = await postOverTls(secure, sigV4Form([{ key: 'kms.txt' }, { 'x-amz-server-side-encryption': 'aws:kms' }], { key: 'kms.txt', 'x-amz-server-side-encryption': 'aws:kms' }), 'sealed');
    expect(v4.status).toBe(204);
    expect(v4.headers['x-amz-server-side-encryption']).toBe('aws:kms');
    const got = await client.send(new GetObjectCommand({ Bucket: 'uploads', Key: 'kms.txt' }));
    expect(got.ServerSideEncryption).toBe('aws:kms');
    expect(await got.Body!.transformToString()).toBe('sealed');

    const v2 = await postOverTls(secure, sigV2Form([{ key: 'v2.txt' }, { 'x-amz-server-side-encryption': 'aws:kms' }], { key: 'v2.txt', 'x-amz-server-side-encryption': 'aws:kms' }), 'v2');
    expect(v2.status).toBe(400);
    expect(v2.text).toContain(`<Message>${SIGV4_REQUIRED}</Message>`);
  } finally {
    client.destroy();
    await secure.stop();
  }
});

describe('form fields a header cannot carry', () => {
  const field = (value: string) =>
    sigV4Form([{ key: 'odd.txt' }, ['starts-with', '$x-amz-meta-note', '']], { key: 'odd.txt', 'x-amz-meta-note': value });

  it('refuses a line break or a control character (it would split every later GET), storing nothing', async () => {
    for (const value of ['a\r\nX-Injected: 1', 'a\u0001b']) {
      const res = await post(field(value), 'x');
      expect(res.status).toBe(400);
      expect(res.text).toContain('<Code>InvalidArgument</Code><Message>Header value cannot be represented using ISO-8859-1.</Message><ArgumentName>x-amz-meta-note</ArgumentName>');
    }
    await expect(s3.send(new HeadObjectCommand({ Bucket: 'uploads', Key: 'odd.txt' }))).rejects.toMatchObject({ name: 'NotFound' });
  });

  it('keeps text beyond Latin-1 as its UTF-8 bytes, returned RFC 2047-encoded as S3 returns non-ASCII metadata', async () => {
    expect((await post(field('caf\u00e9 \u4e2d'), 'x')).status).toBe(204);
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'uploads', Key: 'odd.txt' }));
    expect(head.Metadata!.note).toBe(`=?UTF-8?B?${Buffer.from('caf\u00e9 \u4e2d', 'utf8').toString('base64')}?=`);
  });

  it('a redirect URL a header cannot carry is sent percent-encoded', async () => {
    const res = await post(
      sigV4Form([{ key: 'r.txt' }, ['starts-with', '$success_action_redirect', '']], { key: 'r.txt', success_action_redirect: 'http://example.com/done\u4e2d?x=\r\n1' }),
      'x',
    );
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('http://example.com/done%E4%B8%AD?x=1&bucket=uploads&key=r.txt&etag=' + encodeURIComponent(res.headers.get('etag') ?? '').replace(/%20/g, '+'));
  });
});

describe('Object Lock form fields (x-amz-object-lock-mode, -retain-until-date, -legal-hold)', () => {
  const DAY = 86_400_000;
  let n = 0;
  async function lockedBucket(): Promise<string> {
    const Bucket = `locked-uploads-${++n}`;
    await s3.send(new CreateBucketCommand({ Bucket, ObjectLockEnabledForBucket: true }));
    return Bucket;
  }
  const LOCK_CONDITIONS = [['starts-with', '$x-amz-object-lock-mode', ''], ['starts-with', '$x-amz-object-lock-retain-until-date', ''], ['starts-with', '$x-amz-object-lock-legal-hold', '']];
  /** A form for `bucket` whose policy covers the key and whichever lock fields are given. */
  const lockForm = (bucket: string, lock: Record<string, string>, user: [string, string] = ['test', 'test']) =>
    sigV4Form([{ key: 'k' }, ...LOCK_CONDITIONS.filter((c) => c[1]!.slice(1) in lock)], { key: 'k', ...lock }, undefined, user[1], bucket, user[0]);

  it('lock the new version as the headers do on PutObject', async () => {
    const Bucket = await lockedBucket();
    const until = new Date(Date.now() + 3 * DAY);
    until.setUTCMilliseconds(0);
    const res = await post(lockForm(Bucket, { 'x-amz-object-lock-mode': 'COMPLIANCE', 'x-amz-object-lock-retain-until-date': until.toISOString(), 'x-amz-object-lock-legal-hold': 'ON' }), 'locked', 'a.txt', Bucket);
    expect(res.status).toBe(204);
    const VersionId = res.headers.get('x-amz-version-id')!;
    const retention = await s3.send(new GetObjectRetentionCommand({ Bucket, Key: 'k', VersionId }));
    expect(retention.Retention).toEqual({ Mode: 'COMPLIANCE', RetainUntilDate: until });
    expect((await s3.send(new GetObjectLegalHoldCommand({ Bucket, Key: 'k', VersionId }))).LegalHold).toEqual({ Status: 'ON' });
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'k' }));
    expect([head.ObjectLockMode, head.ObjectLockLegalHoldStatus]).toEqual(['COMPLIANCE', 'ON']);
  });

  it('override the bucket default; a legal hold alone still gets the default retention', async () => {
    const Bucket = await lockedBucket();
    await s3.send(new PutObjectLockConfigurationCommand({ Bucket, ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 1 } } } }));
    const until = new Date(Date.now() + 30 * DAY);
    until.setUTCMilliseconds(0);
    await post(lockForm(Bucket, { 'x-amz-object-lock-mode': 'COMPLIANCE', 'x-amz-object-lock-retain-until-date': until.toISOString() }), 'x', 'a.txt', Bucket);
    expect((await s3.send(new GetObjectRetentionCommand({ Bucket, Key: 'k' }))).Retention).toEqual({ Mode: 'COMPLIANCE', RetainUntilDate: until });
    await post(lockForm(Bucket, { 'x-amz-object-lock-legal-hold': 'ON' }), 'x', 'a.txt', Bucket);
    expect((await s3.send(new GetObjectRetentionCommand({ Bucket, Key: 'k' }))).Retention!.Mode).toBe('GOVERNANCE');
  });

  it.each([
    ['only a mode', { 'x-amz-object-lock-mode': 'GOVERNANCE' }, 'x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied'],
    ['an unknown mode', { 'x-amz-object-lock-mode': 'FOREVER', 'x-amz-object-lock-retain-until-date': '2099-01-01T00:00:00Z' }, 'Unknown wormMode directive.'],
    ['a date in the past', { 'x-amz-object-lock-mode': 'GOVERNANCE', 'x-amz-object-lock-retain-until-date': '2001-01-01T00:00:00Z' }, 'The retain until date must be in the future!'],
    ['a date not ISO 8601', { 'x-amz-object-lock-mode': 'GOVERNANCE', 'x-amz-object-lock-retain-until-date': 'tomorrow' }, 'The retain until date must be provided in ISO 8601 format'],
    ['an unknown legal hold', { 'x-amz-object-lock-legal-hold': 'YES' }, "Legal Hold must be either of 'ON' or 'OFF'"],
  ])('with %s: 400 InvalidArgument, as on PutObject; nothing stored', async (_name, lock, message) => {
    const Bucket = await lockedBucket();
    const res = await post(lockForm(Bucket, lock), 'x', 'a.txt', Bucket);
    expect(res.status).toBe(400);
    expect(res.text).toContain(`<Code>InvalidArgument</Code><Message>${message.replace(/'/g, '&apos;')}</Message>`);
    await expect(s3.send(new HeadObjectCommand({ Bucket, Key: 'k' }))).rejects.toMatchObject({ name: 'NotFound' });
  });

  it('into a bucket without Object Lock: 400 InvalidRequest', async () => {
    const res = await post(lockForm('uploads', { 'x-amz-object-lock-legal-hold': 'ON' }), 'x', 'a.txt');
    expect(res.status).toBe(400);
    expect(res.text).toContain('<Code>InvalidRequest</Code><Message>Bucket is missing ObjectLockConfiguration</Message>');
  });

  it('must be covered by the policy like any field', async () => {
    const Bucket = await lockedBucket();
    const res = await post(sigV4Form([{ key: 'k' }], { key: 'k', 'x-amz-object-lock-legal-hold': 'ON' }, undefined, 'test', Bucket), 'x', 'a.txt', Bucket);
    expect(res.status).toBe(403);
    expect(res.text).toContain('Invalid according to Policy: Extra input fields: x-amz-object-lock-legal-hold');
  });

  it('need s3:PutObjectRetention and s3:PutObjectLegalHold, as the headers do', async () => {
    const Bucket = await lockedBucket();
    const writer: [string, string] = ['AKIDWRITER', 'writer'];
    expect((await post(lockForm(Bucket, {}, writer), 'x', 'a.txt', Bucket)).status).toBe(204);
    const hold = await post(lockForm(Bucket, { 'x-amz-object-lock-legal-hold': 'ON' }, writer), 'x', 'a.txt', Bucket);
    expect([hold.status, hold.text]).toEqual([403, expect.stringContaining('s3:PutObjectLegalHold')]);
    const retention = await post(lockForm(Bucket, { 'x-amz-object-lock-mode': 'GOVERNANCE', 'x-amz-object-lock-retain-until-date': new Date(Date.now() + DAY).toISOString() }, writer), 'x', 'a.txt', Bucket);
    expect([retention.status, retention.text]).toEqual([403, expect.stringContaining('s3:PutObjectRetention')]);
  });

  it('set the Object Lock condition keys: a bucket policy capping retention at 10 days holds for forms', async () => {
    const Bucket = await lockedBucket();
    const cap = { Effect: 'Deny', Principal: '*', Action: ['s3:PutObject', 's3:PutObjectRetention'], Resource: `arn:aws:s3:::${Bucket}/*`, Condition: { NumericGreaterThan: { 's3:object-lock-remaining-retention-days': '10' } } };
    await s3.send(new PutBucketPolicyCommand({ Bucket, Policy: JSON.stringify({ Version: '2012-10-17', Statement: [cap] }) }));
    const at = (days: number) => lockForm(Bucket, { 'x-amz-object-lock-mode': 'GOVERNANCE', 'x-amz-object-lock-retain-until-date': new Date(Date.now() + days * DAY).toISOString() });
    expect((await post(at(9), 'x', 'a.txt', Bucket)).status).toBe(204);
    expect((await post(at(11), 'x', 'a.txt', Bucket)).status).toBe(403);
  });

  it('a legacy SigV2 form with lock fields: 400, Object Lock needs Signature Version 4', async () => {
    const Bucket = await lockedBucket();
    const fields = sigV2Form([{ key: 'k' }, ['starts-with', '$x-amz-object-lock-legal-hold', '']], { key: 'k', 'x-amz-object-lock-legal-hold': 'ON' });
    // sigV2Form's policy names the bucket "uploads": swap it for this one.
    const policy = Buffer.from(Buffer.from(fields.policy, 'base64').toString().replace('"uploads"', JSON.stringify(Bucket))).toString('base64');
    const res = await post({ ...fields, policy, signature: createHmac('sha1', 'test').update(policy).digest('base64') }, 'x', 'a.txt', Bucket);
    expect(res.status).toBe(400);
    expect(res.text).toContain('<Message>Put Object requests with Object Lock parameters require AWS Signature Version 4</Message>');
  });
});

describe('the file as a plain text field (no filename)', () => {
  it('S3 takes its value as the content', async () => {
    const res = await post(sigV4Form([{ key: 'plain/${filename}' }, ['starts-with', '$content-type', '']], { key: 'plain/${filename}', 'Content-Type': 'text/plain' }), 'typed in a textarea', null);
    expect(res.status).toBe(204);
    // Without a filename, ${filename} stays as it is (as it does for a file part without one).
    const got = await s3.send(new GetObjectCommand({ Bucket: 'uploads', Key: 'plain/${filename}' }));
    expect([await got.Body!.transformToString(), got.ContentType]).toEqual(['typed in a textarea', 'text/plain']);
  });

  it('the policy still applies to it (content-length-range), and a field after it is not read', async () => {
    const tooBig = await post(sigV4Form([{ key: 'plain2' }, ['content-length-range', 0, 3]], { key: 'plain2' }), 'four', null);
    expect([tooBig.status, tooBig.text]).toEqual([400, expect.stringContaining('<Code>EntityTooLarge</Code>')]);
    const form = new FormData();
    for (const [k, v] of Object.entries(sigV4Form([{ key: 'plain3' }], { key: 'plain3' }))) form.append(k, v);
    form.append('file', 'text');
    form.append('x-amz-meta-late', 'ignored');
    const res = await fetch(`${sealbox.s3!.url}/uploads`, { method: 'POST', body: form });
    expect(res.status).toBe(204);
    expect((await s3.send(new HeadObjectCommand({ Bucket: 'uploads', Key: 'plain3' }))).Metadata).toEqual({});
  });
});

// Known bug, not fixed: busboy hands a part without a filename (and not application/octet-stream)
// to postObject as a decoded string (UTF-8, or the part's declared charset), and postObject
// re-encodes it as UTF-8, so such a `file` is not stored as the bytes sent. The two `it.failing`
// cases pass while the bug stands; make them `it` when it is fixed.
describe('the file as a plain text field: its bytes as sent (review s10-rev3)', () => {
  /** A multipart body built by hand, so the plain `file` part carries exactly `file`'s bytes. */
  async function rawPost(fields: Record<string, string>, file: Buffer, partHeaders = '') {
    const boundary = '----sealboxrev3';
    const parts: Buffer[] = [];
    for (const [k, v] of Object.entries(fields)) parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`));
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"\r\n${partHeaders}\r\n`), file, Buffer.from(`\r\n--${boundary}--\r\n`));
    const res = await fetch(`${sealbox.s3!.url}/uploads`, { method: 'POST', headers: { 'content-type': `multipart/form-data; boundary=${boundary}` }, body: Buffer.concat(parts) });
    return { status: res.status, text: await res.text() };
  }
  const stored = async (Key: string) => Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: 'uploads', Key }))).Body!.transformToByteArray());

  it.failing('bytes that are not UTF-8 are stored unchanged', async () => {
    const bytes = Buffer.from([0xff, 0xfe, 0x00, 0xe9, 0x41]);
    const res = await rawPost(sigV4Form([{ key: 'raw-binary' }], { key: 'raw-binary' }), bytes);
    expect(res.status).toBe(204);
    expect((await stored('raw-binary')).toString('hex')).toBe(bytes.toString('hex'));
  });

  it.failing('a part declaring a charset is stored as its bytes, not re-encoded as UTF-8', async () => {
    const bytes = Buffer.from('caf\xe9', 'latin1');
    const res = await rawPost(sigV4Form([{ key: 'raw-latin1' }], { key: 'raw-latin1' }), bytes, 'Content-Type: text/plain; charset=iso-8859-1\r\n');
    expect(res.status).toBe(204);
    expect((await stored('raw-latin1')).toString('hex')).toBe(bytes.toString('hex'));
  });

  it('a part without a filename typed application/octet-stream is a file: its bytes are stored as sent', async () => {
    const bytes = Buffer.from([0xff, 0xfe, 0x00, 0xe9, 0x41]);
    const res = await rawPost(sigV4Form([{ key: 'raw-octets' }], { key: 'raw-octets' }), bytes, 'Content-Type: application/octet-stream\r\n');
    expect(res.status).toBe(204);
    expect((await stored('raw-octets')).toString('hex')).toBe(bytes.toString('hex'));
  });

  it('an empty plain text file is an empty object', async () => {
    const res = await rawPost(sigV4Form([{ key: 'raw-empty' }], { key: 'raw-empty' }), Buffer.alloc(0));
    expect(res.status).toBe(204);
    expect((await stored('raw-empty')).length).toBe(0);
  });
});
