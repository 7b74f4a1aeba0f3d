/**
 * The web console's JSON API, after real SDK clients created a key, an alias, a rotation, a
 * bucket with default SSE-KMS and an SSE-KMS object: it shows them, and the KMS events of the PUT
 * as S3's calls on the caller's behalf, and never key material, data keys or object bytes.
 */
import { request } from 'node:http';
import { CreateAliasCommand, CreateKeyCommand, DescribeKeyCommand, EnableKeyRotationCommand, RotateKeyOnDemandCommand } from '@aws-sdk/client-kms';
import { CreateBucketCommand, GetObjectCommand, PutBucketEncryptionCommand, PutBucketPolicyCommand, PutBucketVersioningCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { Sealbox } from '@sealbox/cli';
import type { EventView, KeyView } from '@sealbox/kms';
import { httpsCall, kmsClient, s3Client, startTestSealbox } from './helpers';

/** The console's views of S3 (@sealbox/s3's BucketView and VersionView), as far as checked here. */
interface BucketView {
  name: string;
  encryption: { algorithm: string; kmsMasterKeyId?: string; bucketKeyEnabled: boolean };
}
interface VersionView {
  versionId: string;
  isLatest: boolean;
  encryption?: { algorithm: string; kmsKeyArn?: string; bucketKeyEnabled?: boolean; context?: Record<string, string> };
}

const BODY = 'console test body: this text must never reach the console';
const CONTEXT = { project: 'console-test' };
const POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Sid: 'KeepObjects', Effect: 'Deny', Principal: '*', Action: 's3:DeleteObject', Resource: 'arn:aws:s3:::console-bucket/*' }],
});

let sealbox: Sealbox;
let keyArn: string;
let keyId: string;

async function api<T>(path: string): Promise<T> {
  const res = await fetch(`${sealbox.console!.url}${path}`);
  expect(res.status).toBe(200);
  return (await res.json()) as T;
}

/** The status of GET /api/overview sent with this Host header. */
function statusWithHost(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${sealbox.console!.url}/api/overview`, { headers: { host } }, (res) => {
      res.resume();
      resolve(res.statusCode!);
    });
    req.on('error', reject);
    req.end();
  });
}

const events = (query = '') => api<{ events: EventView[]; cursor: number }>(`/api/events?${query}`);



describe('console API', () => {
  beforeAll(async () => {
    sealbox = await startTestSealbox({ consolePort: 0, allowHttpSseKms: true });
    const kms = kmsClient(sealbox);
    const s3 = s3Client(sealbox);
    const created = await kms.send(new CreateKeyCommand({ Description: 'console test key' }));
    keyArn = created.KeyMetadata!.Arn!;
    keyId = created.KeyMetadata!.KeyId!;
    await kms.send(new CreateAliasCommand({ AliasName: 'alias/console-test', TargetKeyId: keyId }));
    await kms.send(new EnableKeyRotationCommand({ KeyId: keyId, RotationPeriodInDays: 90 }));
    await kms.send(new RotateKeyOnDemandCommand({ KeyId: keyId }));
    await expect(kms.send(new DescribeKeyCommand({ KeyId: 'alias/missing' }))).rejects.toThrow();
    await s3.send(new CreateBucketCommand({ Bucket: 'console-bucket' }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: 'console-bucket', VersioningConfiguration: { Status: 'Enabled' } }));
    await s3.send(
      new PutBucketEncryptionCommand({
        Bucket: 'console-bucket',
        ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: 'alias/console-test' }, BucketKeyEnabled: false }] },
      }),
    );
    await s3.send(new PutBucketPolicyCommand({ Bucket: 'console-bucket', Policy: POLICY }));
    await s3.send(
      new PutObjectCommand({
        Bucket: 'console-bucket',
        Key: 'reports/a.txt',
        Body: BODY,
        ServerSideEncryption: 'aws:kms',
        SSEKMSKeyId: 'alias/console-test',
        SSEKMSEncryptionContext: Buffer.from(JSON.stringify(CONTEXT)).toString('base64'),
      }),
    );
    await s3.send(new PutObjectCommand({ Bucket: 'console-bucket', Key: 'reports/a.txt', Body: 'second version', ServerSideEncryption: 'AES256' }));
    const got = await s3.send(new GetObjectCommand({ Bucket: 'console-bucket', Key: 'reports/a.txt', VersionId: undefined }));
    await got.Body!.transformToString();
  });

  afterAll(() => sealbox?.stop());

  it('lists the key with its alias, state, rotation history and last use', async () => {
    const { keys } = await api<{ keys: KeyView[] }>('/api/keys');
    const key = keys.find((k) => k.arn === keyArn)!;
    expect(key).toMatchObject({
      keyId,
      state: 'Enabled',
      keySpec: 'SYMMETRIC_DEFAULT',
      keyUsage: 'ENCRYPT_DECRYPT',
      description: 'console test key',
      aliases: ['alias/console-test'],
      rotation: { enabled: true, periodDays: 90, onDemandRotations: 1 },
      lastUse: { operation: 'GenerateDataKey' },
    });
    expect(key.rotation.history).toEqual([{ keyMaterialId: expect.stringMatching(/^[0-9a-f]{64}$/), type: 'ON_DEMAND', date: expect.any(Number) }]);
    expect(key.rotation.nextRotationDate).toBeGreaterThan(key.creationDate);
  });

  it('lists the bucket with its default encryption, versioning, policy and object count', async () => {
    const { buckets } = await api<{ buckets: BucketView[] }>('/api/buckets');
    expect(buckets).toEqual([
      {
        name: 'console-bucket',
        accountId: '000000000000',
        region: 'us-east-1',
        creationDate: expect.any(Number),
        versioning: 'Enabled',
        encryption: { algorithm: 'aws:kms', kmsMasterKeyId: 'alias/console-test', bucketKeyEnabled: false },
        policy: POLICY,
        objectCount: 1,
      },
    ]);
  });

  it("lists an object's versions with their encryption: key ARN, Bucket Key and context", async () => {
    const listed = await api<{ bucket: string; objects: { key: string; versions: VersionView[] }[]; truncated: boolean }>('/api/objects?bucket=console-bucket');
    expect(listed.truncated).toBe(false);
    expect(listed.objects).toHaveLength(1);
    const [latest, first] = listed.objects[0]!.versions;
    expect(listed.objects[0]!.key).toBe('reports/a.txt');
    expect(latest).toMatchObject({ isLatest: true, deleteMarker: false, size: 'second version'.length, encryption: { algorithm: 'AES256' } });
    expect(first).toMatchObject({
      isLatest: false,
      size: BODY.length,
      encryption: { algorithm: 'aws:kms', kmsKeyArn: keyArn, bucketKeyEnabled: false, context: { ...CONTEXT, 'aws:s3:arn': 'arn:aws:s3:::console-bucket/reports/a.txt' } },
    });
    const missing = await fetch(`${sealbox.console!.url}/api/objects?bucket=nope`);
    expect(missing.status).toBe(404);
  });

  it("shows the PUT's GenerateDataKey as S3 calling on the caller's behalf", async () => {
    const { events: list, cursor } = await events('eventName=GenerateDataKey');
    expect(list).toHaveLength(1);
    const event = list[0]!;
    expect(event).toMatchObject({ eventName: 'GenerateDataKey', username: 'root', identityType: 'Root', invokedBy: 's3.amazonaws.com', keyArns: [keyArn] });
    expect(event.record).toMatchObject({
      userIdentity: { invokedBy: 's3.amazonaws.com' },
      sourceIPAddress: 's3.amazonaws.com',
      requestParameters: { encryptionContext: { ...CONTEXT, 'aws:s3:arn': 'arn:aws:s3:::console-bucket/reports/a.txt' } },
    });
    expect(cursor).toBeGreaterThanOrEqual(event.seq);
  });

  it('filters by key (id, ARN or alias), event name, user and error, with a cursor for what is new', async () => {
    const all = await events();
    const names = all.events.map((e) => e.eventName);
    expect(names).toEqual(expect.arrayContaining(['CreateKey', 'CreateAlias', 'EnableKeyRotation', 'RotateKeyOnDemand', 'DescribeKey', 'GenerateDataKey']));
    // Oldest first, in log order.
    expect(all.events.map((e) => e.seq)).toEqual([...all.events.map((e) => e.seq)].sort((a, b) => a - b));

    const byAlias = await events('key=alias/console-test');
    const byId = await events(`key=${keyId}`);
    const byArn = await events(`key=${encodeURIComponent(keyArn)}`);
    expect(byAlias.events.map((e) => e.eventId)).toEqual(byId.events.map((e) => e.eventId));
    expect(byArn.events.map((e) => e.eventId)).toEqual(byId.events.map((e) => e.eventId));
    expect(byId.events.every((e) => e.keyArns.includes(keyArn))).toBe(true);
    expect((await events('key=alias/nothing-named-so')).events).toEqual([]);

    expect((await events('eventName=generatedatakey')).events.map((e) => e.eventName)).toEqual(['GenerateDataKey']);
    // Every call was root's; the on-demand rotation's RotateKey is KMS's own event.
    const internal = all.events.filter((e) => e.invokedBy === 'AWS Internal');
    expect(internal.map((e) => [e.eventName, e.eventType])).toEqual([['RotateKey', 'AwsServiceEvent']]);
    expect((await events('user=root')).events).toHaveLength(all.events.length - 1);
    expect((await events('user=arn:aws:iam::000000000000:ROOT')).events).toHaveLength(all.events.length - 1);
    expect((await events('user=aws internal')).events.map((e) => e.eventId)).toEqual(internal.map((e) => e.eventId));
    expect((await events('user=nobody')).events).toEqual([]);

    const errors = await events('error=errors');
    expect(errors.events.map((e) => [e.eventName, e.errorCode])).toEqual([['DescribeKey', 'NotFoundException']]);
    expect(errors.events[0]!.errorMessage).toContain('alias/missing');
    expect((await events('error=NotFoundException')).events).toHaveLength(1);
    expect((await events('error=successes')).events).toHaveLength(all.events.length - 1);

    // Nothing after the cursor until something happens; then just that.
    expect((await events(`after=${all.cursor}`)).events).toEqual([]);
    await kmsClient(sealbox).send(new DescribeKeyCommand({ KeyId: 'alias/console-test' }));
    const next = await events(`after=${all.cursor}`);
    expect(next.events.map((e) => e.eventName)).toEqual(['DescribeKey']);
    expect(next.cursor).toBe(next.events[0]!.seq);
    expect((await events(`after=${all.cursor}&eventName=Decrypt`)).cursor).toBe(next.cursor);
    expect((await events('limit=2')).events.map((e) => e.seq)).toEqual(all.events.slice(-1).concat(next.events).map((e) => e.seq));
  });

  it('never shows object bytes, data keys or key material', async () => {
    const everything = JSON.stringify(
      await Promise.all([api('/api/keys'), api('/api/buckets'), api('/api/objects?bucket=console-bucket'), api('/api/events'), api('/api/overview')]),
    );
    expect(everything).not.toContain(BODY);
    expect(everything).not.toContain('second version');
    const object = (JSON.parse(everything) as [unknown, unknown, { objects: { versions: VersionView[] }[] }])[2].objects[0]!.versions[1]!.encryption!;
    expect(Object.keys(object).sort()).toEqual(['algorithm', 'bucketKeyEnabled', 'context', 'kmsKeyArn']);
    expect(everything).not.toMatch(/ciphertext|wrapped|plaintext|handle/i);
  });

  it('is read-only and answers only to its own address', async () => {
    const url = sealbox.console!.url;
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
      const res = await fetch(`${url}/api/keys`, { method });
      expect(res.status).toBe(405);
      expect(res.headers.get('allow')).toBe('GET, HEAD');
    }
    const page = await fetch(`${url}/`);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    for (const path of ['/console.js', '/console.css']) expect((await fetch(`${url}${path}`)).status).toBe(200);
    for (const path of ['/index.html', '/../package.json', '/%2e%2e/package.json', '/api/nothing']) expect((await fetch(`${url}${path}`)).status).toBe(404);
    expect((await fetch(`${url}/api/events?after=-1`)).status).toBe(400);
    // A page whose name was rebound to 127.0.0.1 sends its own name as Host.
    expect(await statusWithHost('attacker.example:1234')).toBe(403);
    expect(await statusWithHost('sealbox.attacker.example')).toBe(403);
    expect(await statusWithHost(`localhost:${sealbox.console!.port}`)).toBe(200);
    expect(await statusWithHost(`127.0.0.1:${sealbox.console!.port}`)).toBe(200);
  });

  it('answers 500 while a read fails, and says a failure that persists once, not at every poll', async () => {
    const trail = sealbox.kms!.core.trail;
    const flush = jest.spyOn(trail, 'flush').mockImplementation(() => {
      throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
    });
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      for (let i = 0; i < 3; i++) expect((await fetch(`${sealbox.console!.url}/api/events`)).status).toBe(500);
      const said = stderr.mock.calls.map((c) => String(c[0])).filter((line) => line.startsWith('sealbox console: internal error'));
      expect(said).toHaveLength(1);
      expect(said[0]).toContain('database or disk is full');
    } finally {
      stderr.mockRestore();
      flush.mockRestore();
    }
    expect((await fetch(`${sealbox.console!.url}/api/events`)).status).toBe(200);
  });

  it('reads the services that reset() put in place', async () => {
    await sealbox.reset();
    expect(await api('/api/keys')).toEqual({ keys: [] });
    expect(await api('/api/buckets')).toEqual({ buckets: [] });
    expect((await events()).events).toEqual([]);
  });
});

describe('console options', () => {
  it('is off unless asked for, and needs both services in the process', async () => {
    const plain = await startTestSealbox();
    try {
      expect(plain.console).toBeUndefined();
    } finally {
      await plain.stop();
    }
    await expect(startTestSealbox({ consolePort: 0, only: 'kms' })).rejects.toThrow('the console shows both services');
  });

  it('is served over HTTPS, with the services’ certificate, under --tls', async () => {
    const tls = await startTestSealbox({ consolePort: 0, tls: true });
    try {
      expect(tls.console!.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const overview = await httpsCall(tls, `${tls.console!.url}/api/overview`);
      expect(overview.status).toBe(200);
      expect(JSON.parse(overview.text)).toMatchObject({ kms: tls.kms!.url, s3: tls.s3!.url, region: 'us-east-1' });
    } finally {
      await tls.stop();
    }
  });
});
