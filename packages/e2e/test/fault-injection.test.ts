/**
 * Fault injection and KMS request quotas (issue 18, items 5 and 6): rules added over HTTP on
 * either port (and in the fixture and the seed file) make chosen calls fail as AWS fails; S3's
 * own calls to KMS meet the KMS rules; every injected failure is marked in the event log.
 */
import { CreateAliasCommand, CreateKeyCommand, DescribeKeyCommand, EncryptCommand, GenerateRandomCommand } from '@aws-sdk/client-kms';
import { CreateBucketCommand, ListBucketsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { Sealbox } from '@sealbox/cli';
import { parseKmsQuotas, parseSeed } from '@sealbox/cli';
import { AWS_QUOTAS, inspectEvents, KmsQuotas } from '@sealbox/kms';
import { VirtualClock } from '@sealbox/runtime';
import { awsEnv, failure, kmsClient, runCommand, s3Client, startTestSealbox } from './helpers';

const KMS_THROTTLED = 'You have exceeded the rate at which you may call KMS. Reduce the frequency of your calls.';
const S3_KMS_THROTTLED = 'Please reduce your request rate for operations involving AWS KMS.';

async function call(url: string, method: string, body?: unknown, contentType = 'application/json'): Promise<{ status: number; json: any }> {
  const res = await fetch(url, { method, ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': contentType } }) });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

function events(sealbox: Sealbox, name?: string) {
  return inspectEvents(sealbox.kms!.core, 0, 1000, name ? { eventName: name } : {}).events;
}

describe('fault rules over HTTP', () => {
  let sealbox: Sealbox;
  beforeAll(async () => {
    sealbox = await startTestSealbox({ allowHttpSseKms: true });
  });
  afterAll(() => sealbox.stop());
  afterEach(() => sealbox.reset());

  it('a KMS rule added on the S3 port throttles the next 2 Encrypt calls with KMS\'s error, marked in the event log and the console', async () => {
    const kms = kmsClient(sealbox);
    const keyId = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    const added = await call(`${sealbox.s3!.url}/_sealbox/faults`, 'POST', { service: 'kms', operation: 'Encrypt', error: 'ThrottlingException', count: 2 });
    expect(added.status).toBe(201);
    expect(added.json).toMatchObject({ id: 'f1', service: 'kms', operation: 'Encrypt', remaining: 2, action: { kind: 'error', code: 'ThrottlingException', status: 400, message: KMS_THROTTLED } });
    expect((await call(`${sealbox.kms!.url}/_sealbox/faults`, 'GET')).json.rules).toHaveLength(1);

    for (let i = 0; i < 2; i++) {
      const err = await failure(kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('x') })));
      expect(err.name).toBe('ThrottlingException');
      expect(err.message).toBe(KMS_THROTTLED);
      expect(err.$metadata?.httpStatusCode).toBe(400);
    }
    await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('x') }));
    // Spent: the rule is gone.
    expect((await call(`${sealbox.kms!.url}/_sealbox/faults`, 'GET')).json.rules).toEqual([]);

    const encrypts = events(sealbox, 'Encrypt');
    expect(encrypts.map((e) => e.errorCode ?? 'OK')).toEqual(['ThrottlingException', 'ThrottlingException', 'OK']);
    expect(encrypts.map((e) => e.injectedFault)).toEqual(['f1', 'f1', undefined]);
    expect(encrypts[0]!.record.additionalEventData).toEqual({ sealboxInjectedFault: { ruleId: 'f1', kind: 'error' } });
    expect(encrypts[2]!.record.additionalEventData ?? {}).not.toHaveProperty('sealboxInjectedFault');
  });

  it('KMSInternalException, DependencyTimeoutException and KMSInvalidStateException with AWS\'s statuses; a rule the model does not allow is refused', async () => {
    const kms = kmsClient(sealbox);
    const url = `${sealbox.kms!.url}/_sealbox/faults`;
    const keyId = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    for (const [code, status] of [
      ['KMSInternalException', 500],
      ['DependencyTimeoutException', 503],
      ['KMSInvalidStateException', 400],
    ] as const) {
      expect((await call(url, 'POST', { service: 'kms', operation: 'DescribeKey', error: code, count: 1, ...(code === 'KMSInvalidStateException' ? {} : {}) })).status).toBe(code === 'KMSInvalidStateException' ? 400 : 201);
      if (code === 'KMSInvalidStateException') continue; // DescribeKey cannot return it (below)
      const err = await failure(kms.send(new DescribeKeyCommand({ KeyId: keyId })));
      expect([err.name, err.$metadata?.httpStatusCode]).toEqual([code, status]);
    }
    expect((await call(url, 'POST', { service: 'kms', operation: 'Encrypt', error: 'KMSInvalidStateException', count: 1 })).status).toBe(201);
    const invalid = await failure(kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('x') })));
    expect([invalid.name, invalid.$metadata?.httpStatusCode]).toEqual(['KMSInvalidStateException', 400]);

    const refused = await call(url, 'POST', { service: 'kms', operation: 'DescribeKey', error: 'KMSInvalidStateException' });
    expect(refused.json.error).toMatch(/^DescribeKey does not return KMSInvalidStateException in AWS's model/);
    expect((await call(url, 'POST', { service: 'kms', operation: 'Encrypt', error: 'NoSuchThing' })).json.error).toMatch(/NoSuchThing is not a KMS error/);
    expect((await call(url, 'POST', { service: 'kms', operation: 'Encryptt', error: 'ThrottlingException' })).json.error).toBe('kms has no operation "Encryptt"');
    expect((await call(url, 'POST', { service: 'kms', bucket: 'b', error: 'ThrottlingException' })).json.error).toMatch(/bucket is not a filter for kms rules/);
    // A web page cannot add rules: JSON only (a preflight it cannot pass), Sealbox's own Host.
    expect((await call(url, 'POST', { service: 'kms', error: 'ThrottlingException' }, 'text/plain')).status).toBe(415);
    // All or nothing: a list with one bad rule adds none.
    expect((await call(url, 'POST', { rules: [{ service: 'kms', error: 'ThrottlingException' }, { service: 'kms', error: 'Nope' }] })).json.error).toMatch(/^rules\[1\]: /);
    expect((await call(url, 'GET')).json.rules).toEqual([]);
  });

  it('filters: a key (by id or ARN) and an alias (named, or its key used by id); DELETE removes one rule or all', async () => {
    const kms = kmsClient(sealbox);
    const a = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
    const b = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
    await kms.send(new CreateAliasCommand({ AliasName: 'alias/app', TargetKeyId: a.KeyId }));
    const url = `${sealbox.kms!.url}/_sealbox/faults`;
    const rule = (await call(url, 'POST', { service: 'kms', key: a.Arn, error: 'KMSInternalException' })).json;
    const enc = (keyId: string) => kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('x') })).then(() => 'OK', (e: Error) => e.name);
    expect(await enc(a.KeyId!)).toBe('KMSInternalException');
    expect(await enc('alias/app')).toBe('KMSInternalException');
    expect(await enc(b.KeyId!)).toBe('OK');
    expect((await call(`${url}/${rule.id}`, 'DELETE')).status).toBe(204);
    expect((await call(`${url}/${rule.id}`, 'DELETE')).status).toBe(404);
    expect(await enc(a.KeyId!)).toBe('OK');

    await call(url, 'POST', { service: 'kms', alias: 'alias/app', error: 'KMSInternalException' });
    expect(await enc(a.KeyId!)).toBe('KMSInternalException');
    expect(await enc(b.KeyId!)).toBe('OK');
    expect((await call(url, 'DELETE')).status).toBe(204);
    expect(await enc('alias/app')).toBe('OK');
  });

  it('a probability rule is seeded: the same seed fails the same calls; a reset removes the rules', async () => {
    const kms = kmsClient(sealbox);
    const pattern = async () => {
      await call(`${sealbox.kms!.url}/_sealbox/faults`, 'POST', { service: 'kms', operation: 'GenerateRandom', error: 'KMSInternalException', probability: 0.5, seed: 42 });
      const out: string[] = [];
      for (let i = 0; i < 24; i++) out.push(await kms.send(new GenerateRandomCommand({ NumberOfBytes: 8 })).then(() => '.', () => 'x'));
      return out.join('');
    };
    const first = await pattern();
    expect(first).toMatch(/x/);
    expect(first).toMatch(/\./);
    expect((await call(`${sealbox.kms!.url}/_sealbox/reset`, 'POST')).status).toBe(200);
    expect((await call(`${sealbox.kms!.url}/_sealbox/faults`, 'GET')).json.rules).toEqual([]);
    expect(await pattern()).toBe(first);
  });

  it('latency delays the answer; drop closes the connection with no answer, and the event log says so', async () => {
    const kms = kmsClient(sealbox);
    const keyId = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    await sealbox.faults.add({ service: 'kms', operation: 'DescribeKey', latencyMs: 400, count: 1 });
    let started = Date.now();
    await kms.send(new DescribeKeyCommand({ KeyId: keyId }));
    expect(Date.now() - started).toBeGreaterThanOrEqual(390);
    started = Date.now();
    await kms.send(new DescribeKeyCommand({ KeyId: keyId }));
    expect(Date.now() - started).toBeLessThan(390);

    await sealbox.faults.add({ service: 'kms', operation: 'DescribeKey', drop: true, count: 1 });
    const err = await failure(kms.send(new DescribeKeyCommand({ KeyId: keyId })));
    expect(err.$metadata?.httpStatusCode).toBeUndefined();
    expect(String((err as { code?: string }).code ?? err.message)).toMatch(/ECONNRESET|socket hang up/);
    const describes = events(sealbox, 'DescribeKey');
    expect(describes.map((e) => [e.errorCode ?? 'OK', e.injectedFault])).toEqual([
      ['OK', 'f1'],
      ['OK', undefined],
      ['ConnectionDropped', 'f2'],
    ]);
  });

  it('S3 rules: SlowDown 503 for a bucket and key prefix, marked with x-sealbox-injected-fault; SDK v3 retries it', async () => {
    const s3 = s3Client(sealbox);
    await s3.send(new CreateBucketCommand({ Bucket: 'faulty' }));
    const rule = (await call(`${sealbox.kms!.url}/_sealbox/faults`, 'POST', { service: 's3', operation: 'PutObject', bucket: 'faulty', prefix: 'logs/', error: 'SlowDown', count: 2 })).json;
    expect(rule.action).toEqual({ kind: 'error', code: 'SlowDown', status: 503, message: 'Please reduce your request rate.' });
    await s3.send(new PutObjectCommand({ Bucket: 'faulty', Key: 'data/a', Body: 'x' }));
    const err = await failure(s3.send(new PutObjectCommand({ Bucket: 'faulty', Key: 'logs/a', Body: 'x' })));
    expect([err.name, err.$metadata?.httpStatusCode, err.message]).toEqual(['SlowDown', 503, 'Please reduce your request rate.']);
    expect((err as { $response?: { headers: Record<string, string> } }).$response?.headers['x-sealbox-injected-fault']).toBe('f1');
    // One left: an SDK client that retries gets through on its second attempt.
    const retrying = s3Client(sealbox, { maxAttempts: 3 });
    const out = await retrying.send(new PutObjectCommand({ Bucket: 'faulty', Key: 'logs/b', Body: 'x' }));
    expect(out.$metadata.attempts).toBe(2);
    expect((await call(`${sealbox.s3!.url}/_sealbox/faults`, 'POST', { service: 's3', operation: 'ListBuckets', error: 'NoSuchKey' })).json.error).toMatch(/ListBuckets does not return NoSuchKey/);
    expect((await call(`${sealbox.s3!.url}/_sealbox/faults`, 'POST', { service: 's3', error: 'ThrottlingException' })).status).toBe(400);
  });
});

describe('a throttled GenerateDataKey seen through an SSE-KMS PUT', () => {
  let sealbox: Sealbox;
  let keyArn: string;
  beforeAll(async () => {
    sealbox = await startTestSealbox({ allowHttpSseKms: true });
  });
  beforeEach(async () => {
    await sealbox.reset();
    keyArn = (await kmsClient(sealbox).send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
    await s3Client(sealbox).send(new CreateBucketCommand({ Bucket: 'sealed' }));
  });
  afterAll(() => sealbox.stop());

  const generateDataKeys = () => events(sealbox, 'GenerateDataKey').map((e) => [e.errorCode ?? 'OK', e.injectedFault ?? '-', e.invokedBy]);

  it('SDK v3: S3 answers 503 SlowDown as AWS does; with its retries the PUT succeeds and the event log shows every attempt', async () => {
    await sealbox.faults.add({ service: 'kms', operation: 'GenerateDataKey', error: 'ThrottlingException', count: 3 });
    const put = (s3 = s3Client(sealbox), key = 'once') => s3.send(new PutObjectCommand({ Bucket: 'sealed', Key: key, Body: 'secret', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyArn }));
    const err = await failure(put());
    expect([err.name, err.$metadata?.httpStatusCode, err.message]).toEqual(['SlowDown', 503, S3_KMS_THROTTLED]);
    // Two throttled attempts left: the SDK's standard retry (3 attempts) gets through on its third.
    const out = await put(s3Client(sealbox, { maxAttempts: 3 }), 'retried');
    expect(out.$metadata.attempts).toBe(3);
    expect(out.SSEKMSKeyId).toBe(keyArn);
    expect(generateDataKeys()).toEqual([
      ['ThrottlingException', 'f1', 's3.amazonaws.com'],
      ['ThrottlingException', 'f1', 's3.amazonaws.com'],
      ['ThrottlingException', 'f1', 's3.amazonaws.com'],
      ['OK', '-', 's3.amazonaws.com'],
    ]);
  });

  it('boto3: the same, with botocore\'s retries visible in the event log', async () => {
    await sealbox.faults.add({ service: 'kms', operation: 'GenerateDataKey', error: 'ThrottlingException', count: 2 });
    const script = `
import boto3, botocore
s3 = boto3.client('s3', config=botocore.config.Config(s3={'addressing_style': 'path'}, retries={'mode': 'standard', 'max_attempts': 1}))
try:
    s3.put_object(Bucket='sealed', Key='a', Body=b'x', ServerSideEncryption='aws:kms', SSEKMSKeyId='${keyArn}')
    print('stored')
except botocore.exceptions.ClientError as e:
    print(e.response['Error']['Code'], e.response['ResponseMetadata']['HTTPStatusCode'], e.response['Error']['Message'])
s3 = boto3.client('s3', config=botocore.config.Config(s3={'addressing_style': 'path'}, retries={'mode': 'standard', 'max_attempts': 3}))
r = s3.put_object(Bucket='sealed', Key='b', Body=b'x', ServerSideEncryption='aws:kms', SSEKMSKeyId='${keyArn}')
print(r['ServerSideEncryption'])
`;
    const result = await runCommand('python3', ['-c', script], awsEnv(sealbox));
    expect(result.stderr).toBe('');
    expect(result.stdout.trim().split('\n')).toEqual([`SlowDown 503 ${S3_KMS_THROTTLED}`, 'aws:kms']);
    // The first PUT (no retries) met one throttled GenerateDataKey; the second, botocore's retry
    // of a 503 SlowDown: a throttled attempt, then the one that stored the object.
    expect(generateDataKeys()).toEqual([
      ['ThrottlingException', 'f1', 's3.amazonaws.com'],
      ['ThrottlingException', 'f1', 's3.amazonaws.com'],
      ['OK', '-', 's3.amazonaws.com'],
    ]);
  }, 60_000);
});

it('the console marks an injected failure (/api/events: injectedFault; the page: an "injected" badge)', async () => {
  const sealbox = await startTestSealbox({ consolePort: 0 });
  try {
    await sealbox.faults.add({ service: 'kms', operation: 'GenerateRandom', error: 'KMSInternalException', count: 1 });
    await failure(kmsClient(sealbox).send(new GenerateRandomCommand({ NumberOfBytes: 8 })));
    await kmsClient(sealbox).send(new GenerateRandomCommand({ NumberOfBytes: 8 }));
    const res = await fetch(`${sealbox.console!.url}/api/events`);
    const body = (await res.json()) as { events: { eventName: string; errorCode?: string; injectedFault?: string }[] };
    expect(body.events.filter((e) => e.eventName === 'GenerateRandom').map((e) => [e.errorCode ?? 'OK', e.injectedFault])).toEqual([
      ['KMSInternalException', 'f1'],
      ['OK', undefined],
    ]);
    const script = await (await fetch(`${sealbox.console!.url}/console.js`)).text();
    expect(script).toContain('data-injected-fault');
  } finally {
    await sealbox.stop();
  }
});

describe('fault rules in the seed file', () => {
  it('the seed\'s faults are in force from the start and again after a reset; a bad rule names its line', async () => {
    const seed = parseSeed('faults:\n  - service: s3\n    operation: ListBuckets\n    error: InternalError\n', 'seed.yaml');
    const sealbox = await startTestSealbox({ seedData: seed });
    try {
      const s3 = s3Client(sealbox);
      expect((await failure(s3.send(new ListBucketsCommand({})))).name).toBe('InternalError');
      sealbox.faults.clear();
      await s3.send(new ListBucketsCommand({}));
      await sealbox.reset();
      expect((await failure(s3.send(new ListBucketsCommand({})))).name).toBe('InternalError');
    } finally {
      await sealbox.stop();
    }
    expect(() => parseSeed('faults:\n  - service: kms\n    error: SlowDown\n', 'seed.yaml')).toThrow(/^seed\.yaml:2: faults\.0: SlowDown is not a KMS error/);
  });
});

describe('KMS request quotas', () => {
  it('off by default: a tight loop of Encrypt calls is never throttled', async () => {
    const sealbox = await startTestSealbox();
    try {
      const kms = kmsClient(sealbox);
      const keyId = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
      for (let i = 0; i < 30; i++) await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('x') }));
    } finally {
      await sealbox.stop();
    }
  });

  it('a symmetric quota of 10/s throttles a tight loop of Encrypt calls with ThrottlingException; time passing refills it; other quotas are separate', async () => {
    const sealbox = await startTestSealbox({ kmsQuotas: parseKmsQuotas('symmetric=10,CreateKey=2') });
    try {
      const kms = kmsClient(sealbox);
      const keyId = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
      const results: string[] = [];
      for (let i = 0; i < 30; i++) results.push(await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('x') })).then(() => 'OK', (e: Error) => `${e.name}: ${e.message}`));
      const ok = results.filter((r) => r === 'OK').length;
      // 10 at once, plus what refilled while the loop ran (well under a second here).
      expect(ok).toBeGreaterThanOrEqual(10);
      expect(ok).toBeLessThan(20);
      expect(results.slice(0, 10)).toEqual(Array(10).fill('OK'));
      expect(results).toContain(`ThrottlingException: ${KMS_THROTTLED}`);
      // A token may refill between any two calls (10/s on the clock, which moves with real time),
      // so the next throttled call is looked for rather than assumed to be the very next one.
      let err: (Error & { $metadata?: { httpStatusCode?: number } }) | undefined;
      for (let i = 0; i < 20 && !err; i++) {
        err = await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('x') })).then(
          () => undefined,
          (e: Error) => e,
        );
      }
      expect(err?.name).toBe('ThrottlingException');
      expect(err?.$metadata?.httpStatusCode).toBe(400);
      // The event log records throttled calls, not marked as injected: AWS throttles them too.
      const throttled = events(sealbox, 'Encrypt').filter((e) => e.errorCode === 'ThrottlingException');
      expect(throttled.length).toBeGreaterThan(0);
      expect(throttled.every((e) => e.injectedFault === undefined)).toBe(true);
      // DescribeKey has its own quota (none set here): unaffected.
      await kms.send(new DescribeKeyCommand({ KeyId: keyId }));
      // The quotas run on the virtual clock: a second passing refills the bucket.
      await sealbox.clock.advance(1);
      await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('x') }));
      // CreateKey: 2 per second (one was used above, a second ago and more).
      await kms.send(new CreateKeyCommand({}));
      await kms.send(new CreateKeyCommand({}));
      expect((await failure(kms.send(new CreateKeyCommand({})))).name).toBe('ThrottlingException');
    } finally {
      await sealbox.stop();
    }
  });

  it('quotas are per account: S3\'s GenerateDataKey on the caller\'s behalf counts against the caller; another account is not throttled', async () => {
    const sealbox = await startTestSealbox({ allowHttpSseKms: true, kmsQuotas: { rates: { symmetric: 2 } }, users: [{ accessKeyId: 'other', secretAccessKey: 'other', accountId: '111111111111', principalArn: 'arn:aws:iam::111111111111:root' }] });
    try {
      const kms = kmsClient(sealbox);
      const keyArn = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
      const s3 = s3Client(sealbox);
      await s3.send(new CreateBucketCommand({ Bucket: 'quota' }));
      const put = (k: string) => s3.send(new PutObjectCommand({ Bucket: 'quota', Key: k, Body: 'x', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyArn })).then(() => 'OK', (e: Error) => e.name);
      expect([await put('a'), await put('b'), await put('c')]).toEqual(['OK', 'OK', 'SlowDown']);
      const other = kmsClient(sealbox, { credentials: { accessKeyId: 'other', secretAccessKey: 'other' } });
      await other.send(new GenerateRandomCommand({ NumberOfBytes: 8 }));
    } finally {
      await sealbox.stop();
    }
  });

  it('--kms-quotas aws: AWS\'s defaults, the symmetric one by Region; explicit rates over them; bad specs are refused', () => {
    const quotas = new KmsQuotas(parseKmsQuotas('aws,DescribeKey=3'), new VirtualClock());
    expect(quotas.rate('symmetric', 'us-east-1')).toBe(100_000);
    expect(quotas.rate('symmetric', 'eu-west-2')).toBe(20_000);
    expect(quotas.rate('symmetric', 'sa-east-1')).toBe(10_000);
    expect(quotas.rate('CreateKey', 'us-east-1')).toBe(5);
    expect(quotas.rate('DescribeKey', 'us-east-1')).toBe(3);
    expect(quotas.rate('GenerateDataKeyPair:RSA_4096', 'us-east-1')).toBe(0.1);
    expect(AWS_QUOTAS.rsa).toBe(1000);
    expect(() => parseKmsQuotas('Encrypt=5')).toThrow(/unknown KMS quota 'Encrypt'/);
    expect(() => parseKmsQuotas('symmetric=0')).toThrow(/above 0/);
    expect(() => parseKmsQuotas('symmetric')).toThrow(/NAME=RATE/);
    expect(parseSeed('kmsQuotas: aws\n').kmsQuotas).toEqual({ aws: true });
    expect(parseSeed('kmsQuotas:\n  aws: true\n  symmetric: 50\n').kmsQuotas).toEqual({ aws: true, rates: { symmetric: 50 } });
    expect(() => parseSeed('kmsQuotas:\n  symetric: 50\n', 'seed.yaml')).toThrow(/^seed\.yaml:2: kmsQuotas\.symetric: unknown KMS quota/);
  });

  it('a quota below one call a second allows one call in each interval (GetParametersForImport: 1 in each 4 seconds)', () => {
    const clock = new VirtualClock();
    const quotas = new KmsQuotas({ aws: true }, clock);
    quotas.take('000000000000', 'us-east-1', 'GetParametersForImport', undefined, {});
    expect(() => quotas.take('000000000000', 'us-east-1', 'GetParametersForImport', undefined, {})).toThrow(KMS_THROTTLED);
    // Another Region's quota is separate.
    quotas.take('000000000000', 'us-west-2', 'GetParametersForImport', undefined, {});
  });
});
