/**
 * The web console's JSON API, after real SDK clients created a key, an alias, a rotation, a
 * bucket with default SSE-KMS and an SSE-KMS object: it shows them, and the KMS events of the PUT
 * as S3's calls on the caller's behalf, and never key material, data keys or object bytes.
 */
import { request } from 'node:http';
import { CreateAliasCommand, CreateKeyCommand, DescribeKeyCommand, EnableKeyRotationCommand, RotateKeyOnDemandCommand, ScheduleKeyDeletionCommand } from '@aws-sdk/client-kms';
import {
  CreateBucketCommand,
  GetObjectCommand,
  PutBucketAclCommand,
  PutBucketEncryptionCommand,
  PutBucketOwnershipControlsCommand,
  PutBucketPolicyCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutPublicAccessBlockCommand,
  type BucketCannedACL,
} from '@aws-sdk/client-s3';
import { parseSeed, SEED_EXAMPLE, type Sealbox } from '@sealbox/cli';
import type { EventView, KeyView } from '@sealbox/kms';
import { failure, httpsCall, kmsClient, s3Client, startTestSealbox } from './helpers';

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
    // The one POST, "what if", takes JSON only (a form post from another page cannot send it
    // without a preflight) and from no other origin; it answers nothing else.
    expect((await fetch(`${url}/api/simulate`)).status).toBe(405);
    const question = JSON.stringify({ principal: 'test', action: 'kms:DescribeKey', resource: keyArn });
    expect((await fetch(`${url}/api/simulate`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: question })).status).toBe(415);
    expect((await fetch(`${url}/api/simulate`, { method: 'POST', headers: { 'content-type': 'application/json', origin: 'http://evil.example' }, body: question })).status).toBe(403);
    expect((await fetch(`${url}/api/simulate`, { method: 'POST', headers: { 'content-type': 'application/json', origin: url }, body: question })).status).toBe(200);
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

/** The access-control side and the request log, over the seed file `sealbox seed --example` prints. */
describe('console access-control API', () => {
  const PRIMARY_KEY = '0e1f3c4d-8a7b-4c2d-9e10-3f2a1b0c9d8e';
  const SIGNING_KEY = 'f972a5cf-3280-443f-b623-7c84d4c27240';
  const MRK = 'mrk-5d05b645e4a32845d94ae7a33df83c6f';
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
  /** Everything the seed and the process hold that must never reach the console. */
  const SECRETS = ['root-secret', 'alice-secret', 'app-secret', 'app-token', '15781d237857841ad182290c689b593e3516a80a85b61fcc1d39ae2b95fa1787', 'GXrWgL7oNPA', 'BEGIN PRIVATE KEY', '752e9878e22a16296ba447dfef6a75a5d3d2cc3378b86aa3fb66a87aa35256fa', 's3cr3t'];
  let seeded: Sealbox;
  let deniedPut: string;

  const get = async <T>(path: string, status = 200): Promise<T> => {
    const res = await fetch(`${seeded.console!.url}${path}`);
    expect(res.status).toBe(status);
    return (await res.json()) as T;
  };
  const ask = (body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
    fetch(`${seeded.console!.url}/api/simulate`, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });

  beforeAll(async () => {
    seeded = await startTestSealbox({ consolePort: 0, allowHttpSseKms: true, seedData: parseSeed(SEED_EXAMPLE, 'example.yaml') });
    const kms = kmsClient(seeded);
    const s3 = s3Client(seeded);
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: SIGNING_KEY, PendingWindowInDays: 7 }));
    await s3.send(new CreateBucketCommand({ Bucket: 'acl-bucket', ObjectOwnership: 'ObjectWriter' }));
    await s3.send(new PutPublicAccessBlockCommand({ Bucket: 'acl-bucket', PublicAccessBlockConfiguration: { BlockPublicAcls: true, IgnorePublicAcls: false, BlockPublicPolicy: true, RestrictPublicBuckets: false } }));
    await s3.send(new PutBucketAclCommand({ Bucket: 'acl-bucket', ACL: 'log-delivery-write' as BucketCannedACL }));
    await s3.send(new PutBucketOwnershipControlsCommand({ Bucket: 'acl-bucket', OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerPreferred' }] } }));
    await s3.send(new PutBucketPolicyCommand({ Bucket: 'acl-bucket', Policy: REQUIRE_KMS }));
    const denied = await failure(s3.send(new PutObjectCommand({ Bucket: 'acl-bucket', Key: 'plain.txt', Body: 'not encrypted' })));
    expect(denied.name).toBe('AccessDenied');
    deniedPut = (denied as unknown as { $metadata: { requestId: string } }).$metadata.requestId;
  }, 30_000);

  afterAll(() => seeded?.stop());

  it("shows a key's policy, grants with their constraints, tags and aliases", async () => {
    const arn = `arn:aws:kms:us-east-1:000000000000:key/${PRIMARY_KEY}`;
    const key = await get<Record<string, unknown>>(`/api/key?arn=${encodeURIComponent(arn)}`);
    expect(key).toMatchObject({
      arn,
      aliases: ['alias/app-data', 'alias/app-data-current'],
      tags: expect.arrayContaining([
        { TagKey: 'team', TagValue: 'payments' },
        { TagKey: 'env', TagValue: 'dev' },
      ]),
      grants: [
        {
          name: 'app-decrypt',
          grantId: expect.any(String),
          granteePrincipal: 'arn:aws:iam::000000000000:role/app',
          retiringPrincipal: 'arn:aws:iam::000000000000:root',
          operations: ['Decrypt', 'Encrypt', 'GenerateDataKey'],
          constraints: { EncryptionContextSubset: { app: 'payments' } },
        },
      ],
    });
    expect(JSON.parse(key.policy as string)).toMatchObject({ Statement: [{ Sid: 'Enable IAM policies', Action: 'kms:*' }] });
    await get(`/api/key?arn=${encodeURIComponent(arn.replace('0e1f', '0e1e'))}`, 404);
    await get('/api/key?arn=not-an-arn', 404);
    await get('/api/key', 400);
  });

  it('tells multi-Region primaries from replicas, and dates a pending deletion', async () => {
    const { keys } = await get<{ keys: (KeyView & { multiRegionConfiguration?: unknown })[] }>('/api/keys');
    const mrk = keys.filter((k) => k.keyId === MRK).map((k) => [k.region, k.multiRegionConfiguration]);
    expect(mrk.sort()).toEqual([
      ['eu-west-1', { role: 'REPLICA', primaryRegion: 'us-east-1', replicaRegions: ['eu-west-1'] }],
      ['us-east-1', { role: 'PRIMARY', primaryRegion: 'us-east-1', replicaRegions: ['eu-west-1'] }],
    ]);
    expect(keys.find((k) => k.keyId === PRIMARY_KEY)!.multiRegionConfiguration).toBeUndefined();
    const pending = keys.find((k) => k.keyId === SIGNING_KEY)!;
    expect(pending.state).toBe('PendingDeletion');
    expect(pending.deletionDate! - seeded.clock.now().getTime()).toBeGreaterThan(6.9 * 86_400_000);
  });

  it("shows a bucket's policy, Block Public Access, ownership, ACL, CORS and default encryption", async () => {
    const appData = await get<Record<string, unknown>>('/api/bucket?name=app-data');
    expect(appData).toMatchObject({
      name: 'app-data',
      accountId: '000000000000',
      encryption: { algorithm: 'aws:kms', kmsMasterKeyId: 'alias/app-data', bucketKeyEnabled: true },
      tags: [{ key: 'team', value: 'payments' }],
      aclsEnabled: false,
      acl: [{ grantee: 'account 000000000000', granteeType: 'CanonicalUser', permission: 'FULL_CONTROL' }],
    });
    expect(JSON.parse(appData.policy as string)).toMatchObject({ Statement: [{ Effect: 'Deny', Action: 's3:DeleteBucket' }] });
    expect(JSON.stringify(appData.cors)).toContain('http://localhost:3000');

    const acl = await get<Record<string, unknown>>('/api/bucket?name=acl-bucket');
    expect(acl).toMatchObject({
      objectOwnership: 'BucketOwnerPreferred',
      aclsEnabled: true,
      publicAccessBlock: { blockPublicAcls: true, ignorePublicAcls: false, blockPublicPolicy: true, restrictPublicBuckets: false },
      policy: REQUIRE_KMS,
      encryption: { algorithm: 'AES256', bucketKeyEnabled: false },
    });
    expect(acl.acl).toEqual(
      expect.arrayContaining([
        { grantee: 'account 000000000000', granteeType: 'CanonicalUser', permission: 'FULL_CONTROL' },
        { grantee: 'LogDelivery', granteeType: 'Group', permission: 'WRITE' },
        { grantee: 'LogDelivery', granteeType: 'Group', permission: 'READ_ACP' },
      ]),
    );
    expect(acl.cors).toBeUndefined();
    await get('/api/bucket?name=no-such-bucket', 404);
  });

  it('lists the identities with their policies, and no secret', async () => {
    const { accounts } = await get<{ accounts: { accountId: string; identities: Record<string, unknown>[] }[] }>('/api/identities');
    expect(accounts.map((a) => a.accountId)).toEqual(['000000000000', '111122223333']);
    expect(accounts[0]!.identities).toEqual([{ kind: 'root', arn: 'arn:aws:iam::000000000000:root', accessKeyId: 'test', sessionToken: false, policies: [] }]);
    const [root, alice, app] = accounts[1]!.identities;
    expect(root).toMatchObject({ kind: 'root', accessKeyId: 'AKIAROOT1111' });
    expect(alice).toMatchObject({ kind: 'user', arn: 'arn:aws:iam::111122223333:user/dev/alice', accessKeyId: 'AKIAALICE', sessionToken: false });
    expect(JSON.parse((alice!.policies as string[])[0]!)).toMatchObject({ Statement: [{ Effect: 'Allow', Action: ['kms:*', 's3:*'] }] });
    expect(app).toMatchObject({ kind: 'role', arn: 'arn:aws:iam::111122223333:role/app', sessionArn: 'arn:aws:sts::111122223333:assumed-role/app/app-session', sessionToken: true, policies: [] });
    for (const identity of accounts.flatMap((a) => a.identities)) expect(Object.keys(identity).sort()).toEqual(expect.arrayContaining(['accessKeyId', 'arn', 'kind', 'policies', 'sessionToken']));
  });

  it("lists both services' requests, newest first, failures filterable, and opens a denied PutObject's decision", async () => {
    const { requests } = await get<{ requests: { requestId: string; service: string; operation: string; status: number; errorCode?: string; decision?: string }[] }>('/api/requests');
    expect(new Set(requests.map((r) => r.service))).toEqual(new Set(['kms', 's3']));
    expect(requests[0]).toMatchObject({ requestId: deniedPut, service: 's3', operation: 'PutObject', status: 403, errorCode: 'AccessDenied', decision: 'Deny' });
    const failed = (await get<{ requests: typeof requests }>('/api/requests?failed=1')).requests;
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.every((r) => r.status >= 400)).toBe(true);
    expect(failed.length).toBeLessThan(requests.length);
    // Denied: refused by an authorization (the 404s of HeadObject were allowed, then failed).
    expect((await get<{ requests: typeof requests }>('/api/requests?failed=denied')).requests.map((r) => r.requestId)).toEqual([deniedPut]);
    await get('/api/requests?failed=yes', 400);
    expect((await get<{ requests: typeof requests }>('/api/requests?service=kms')).requests.every((r) => r.service === 'kms')).toBe(true);
    expect((await get<{ requests: typeof requests }>('/api/requests?service=s3&q=accessdenied')).requests.map((r) => r.requestId)).toEqual([deniedPut]);
    expect((await get<{ requests: typeof requests }>('/api/requests?limit=1')).requests).toHaveLength(1);
    await get('/api/requests?service=ec2', 400);

    const doc = await get<{ requestId: string; operation: string; decisions: { outcome: string; reason: Record<string, unknown>; sources: { source: string; statements: { sid?: string; applies: boolean; conditions: Record<string, unknown>[] }[] }[] }[] }>(
      `/api/decisions?id=${deniedPut}`,
    );
    expect(doc).toMatchObject({ requestId: deniedPut, operation: 'PutObject' });
    const decision = doc.decisions[0]!;
    expect(decision).toMatchObject({ outcome: 'Deny', reason: { code: 'explicit-deny', source: 'bucket-policy', statement: { index: 0, sid: 'RequireKms' } } });
    const statement = decision.sources.find((s) => s.source === 'bucket-policy')!.statements[0]!;
    expect(statement).toMatchObject({ sid: 'RequireKms', applies: true });
    expect(statement.conditions).toEqual([expect.objectContaining({ operator: 'StringNotEquals', key: 's3:x-amz-server-side-encryption', policyValues: ['aws:kms'], requestValues: null, result: true })]);
    await get('/api/decisions?id=no-such-request', 404);
  });

  it('evaluates a request without making it ("what if")', async () => {
    const question = { service: 's3', principal: 'test', action: 's3:PutObject', resource: 'arn:aws:s3:::acl-bucket/plain.txt' };
    const denied = await ask(question);
    expect(denied.status).toBe(200);
    expect(await denied.json()).toMatchObject({ outcome: 'Deny', reason: { code: 'explicit-deny', statement: { sid: 'RequireKms' } } });
    // The service follows from the action when not named.
    const allowed = await ask({ ...question, service: undefined, context: { 's3:x-amz-server-side-encryption': 'aws:kms' } });
    expect(await allowed.json()).toMatchObject({ outcome: 'Allow' });
    const kms = await ask({ principal: 'AKIAALICE', action: 'kms:Decrypt', resource: `arn:aws:kms:us-east-1:000000000000:key/${PRIMARY_KEY}` });
    expect(kms.status).toBe(200);
    // Alice is another account's user: the key policy names only its own account.
    expect(await kms.json()).toMatchObject({ outcome: 'Deny', principal: { arn: 'arn:aws:iam::111122223333:user/dev/alice' }, reason: { code: 'no-allow' } });
    const before = (await get<{ requests: unknown[] }>('/api/requests?limit=1000')).requests.length;

    const unknown = await ask({ ...question, principal: 'AKIANOBODY' });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: string }).error).toContain('AKIANOBODY');
    expect((await ask('{not json')).status).toBe(400);
    expect((await ask({ principal: 'test', action: 'ec2:RunInstances' })).status).toBe(400);
    expect((await ask('x'.repeat(70_000))).status).toBe(413);
    // Nothing was made: the request log did not grow.
    expect((await get<{ requests: unknown[] }>('/api/requests?limit=1000')).requests).toHaveLength(before);
  });

  it('never shows a secret access key, a session token or key material', async () => {
    const service = seeded.credentials.list().find((c) => c.service)!;
    const everything = JSON.stringify(
      await Promise.all([
        get('/api/keys'),
        get(`/api/key?arn=${encodeURIComponent(`arn:aws:kms:us-east-1:000000000000:key/${PRIMARY_KEY}`)}`),
        get(`/api/key?arn=${encodeURIComponent(`arn:aws:kms:us-east-1:000000000000:key/${MRK}`)}`),
        get('/api/buckets'),
        get('/api/bucket?name=app-data'),
        get('/api/objects?bucket=app-data'),
        get('/api/identities'),
        get('/api/requests?limit=1000'),
        get(`/api/decisions?id=${deniedPut}`),
        get('/api/events?limit=1000'),
        get('/api/overview'),
      ]),
    );
    for (const secret of [...SECRETS, service.secretAccessKey]) expect(everything).not.toContain(secret);
    expect(everything).not.toMatch(/secretAccessKey|sessionToken"\s*:\s*"/);
  });
});
