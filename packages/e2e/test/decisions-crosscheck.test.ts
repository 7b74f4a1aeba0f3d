import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateAliasCommand, CreateKeyCommand, DisableKeyCommand, EncryptCommand, type KMSClient, ScheduleKeyDeletionCommand } from '@aws-sdk/client-kms';
import { CreateBucketCommand, GetObjectCommand, PutBucketPolicyCommand, PutObjectCommand, PutPublicAccessBlockCommand, type S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import type { Sealbox } from '@sealbox/cli';
import { takeRequestId, trackRequestIds } from './decision-checks';
import { s3Client, startTestSealbox, tlsKmsClient, tlsS3Client } from './helpers';

/**
 * The simulate endpoint (POST /_sealbox/decisions/simulate) against the real request (issue 20):
 * for each case the request is made with the SDK and its outcome, read from its answer and its
 * decision record, is compared with what simulate says of the same principal, action, resource
 * and condition keys. Outcomes: Allow (answered, or refused after authorization allowed it, e.g.
 * DisabledException), Deny (AccessDenied), refused (before any authorization: an unknown access
 * key, a key the caller cannot reach; simulate answers 404).
 * The simulator's question: https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_testing-policies.html
 */
const A = '000000000000';
const B = '111111111111';
const everything = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['kms:*', 's3:*'], Resource: '*' }] };
const SEED = {
  accounts: [
    {
      id: A,
      users: [
        { name: 'alice', accessKeyId: 'XCALICE', secretAccessKey: 'alice-secret-key-value', policies: [everything] },
        { name: 'bob', accessKeyId: 'XCBOB', secretAccessKey: 'bob-secret-key-value', policies: [] },
      ],
    },
    { id: B, users: [{ name: 'carol', accessKeyId: 'XCCAROL', secretAccessKey: 'carol-secret-key-value', policies: [everything] }] },
  ],
};
const CREDS: Record<string, { accessKeyId: string; secretAccessKey: string }> = {
  alice: { accessKeyId: 'XCALICE', secretAccessKey: 'alice-secret-key-value' },
  bob: { accessKeyId: 'XCBOB', secretAccessKey: 'bob-secret-key-value' },
  carol: { accessKeyId: 'XCCAROL', secretAccessKey: 'carol-secret-key-value' },
  nobody: { accessKeyId: 'XCNOBODY', secretAccessKey: 'nobody-secret-key-value' },
};

type Outcome = 'Allow' | 'Deny' | 'refused';

let sealbox: Sealbox;
let dir: string;
const kms = new Map<string, KMSClient>();
const s3 = new Map<string, S3Client>();
const keys: Record<string, string> = {};

/** The KMS client of a caller, in a region. */
function kmsAs(who: string, region = 'us-east-1'): KMSClient {
  const id = `${who}@${region}`;
  if (!kms.has(id)) kms.set(id, trackRequestIds(tlsKmsClient(sealbox, { region, ...(who === 'root' ? {} : { credentials: CREDS[who] }) })));
  return kms.get(id)!;
}
/** The S3 client of a caller, over TLS or plain HTTP; anonymous sends unsigned requests. */
function s3As(who: string, http = false): S3Client {
  const id = `${who}${http ? ':http' : ''}`;
  if (!s3.has(id)) {
    const auth: Partial<S3ClientConfig> = who === 'anonymous' ? { signer: { sign: async (r) => r } } : who === 'root' ? {} : { credentials: CREDS[who] };
    s3.set(id, trackRequestIds(http ? s3Client(sealbox, { endpoint: sealbox.s3!.httpUrl, ...auth }) : tlsS3Client(sealbox, auth)));
  }
  return s3.get(id)!;
}

const policyOf = (...statements: object[]) => JSON.stringify({ Version: '2012-10-17', Statement: statements });
const enableIam = { Sid: 'EnableIam', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${A}:root` }, Action: 'kms:*', Resource: '*' };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sealbox-crosscheck-'));
  writeFileSync(join(dir, 'seed.json'), JSON.stringify(SEED));
  sealbox = await startTestSealbox({ tls: true, seed: join(dir, 'seed.json') });
  const root = tlsKmsClient(sealbox);
  const newKey = async (policy: string, client = root) => (await client.send(new CreateKeyCommand({ Policy: policy }))).KeyMetadata!.Arn!;
  keys.private = await newKey(policyOf(enableIam));
  keys.shared = await newKey(policyOf(enableIam, { Sid: 'AccountB', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${B}:root` }, Action: 'kms:*', Resource: '*' }));
  await root.send(new CreateAliasCommand({ AliasName: 'alias/xc-app', TargetKeyId: keys.private }));
  await root.send(new CreateAliasCommand({ AliasName: 'alias/xc-shared', TargetKeyId: keys.shared }));
  keys.west = await newKey(policyOf(enableIam), tlsKmsClient(sealbox, { region: 'us-west-2' }));
  keys.disabled = await newKey(policyOf(enableIam));
  await root.send(new DisableKeyCommand({ KeyId: keys.disabled }));
  keys.pending = await newKey(policyOf(enableIam));
  await root.send(new ScheduleKeyDeletionCommand({ KeyId: keys.pending, PendingWindowInDays: 7 }));

  const owner = tlsS3Client(sealbox);
  const bucket = async (name: string, policy?: object, ownership?: 'ObjectWriter') => {
    await owner.send(new CreateBucketCommand({ Bucket: name, ...(ownership ? { ObjectOwnership: ownership } : {}) }));
    await owner.send(new PutObjectCommand({ Bucket: name, Key: 'obj', Body: 'x' }));
    if (policy) {
      await owner.send(new PutPublicAccessBlockCommand({ Bucket: name, PublicAccessBlockConfiguration: { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: false, RestrictPublicBuckets: false } }));
      await owner.send(new PutBucketPolicyCommand({ Bucket: name, Policy: JSON.stringify({ Version: '2012-10-17', Statement: [policy] }) }));
    }
  };
  await bucket('xc-private');
  await bucket('xc-public', { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::xc-public/*' });
  // ACLs honoured (ObjectWriter): account B may write, and owns what it writes.
  await bucket('xc-acl', { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${B}:root` }, Action: 's3:PutObject', Resource: 'arn:aws:s3:::xc-acl/*' }, 'ObjectWriter');
  await s3As('carol').send(new PutObjectCommand({ Bucket: 'xc-acl', Key: 'theirs', Body: 'written by B' }));
  await bucket('xc-tls', { Sid: 'TlsOnly', Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: ['arn:aws:s3:::xc-tls', 'arn:aws:s3:::xc-tls/*'], Condition: { Bool: { 'aws:SecureTransport': 'false' } } });
  await bucket('xc-sse', {
    Sid: 'DenyUnencryptedUploads',
    Effect: 'Deny',
    Principal: '*',
    Action: 's3:PutObject',
    Resource: 'arn:aws:s3:::xc-sse/*',
    Condition: { StringNotEquals: { 's3:x-amz-server-side-encryption': 'aws:kms' } },
  });
});

afterAll(async () => {
  for (const c of [...kms.values(), ...s3.values()]) c.destroy();
  await sealbox.stop();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * The outcome of a real request, from its answer and its decision record: AccessDenied is a Deny
 * (and the record must say so); any other answer is an Allow when authorization ran, "refused"
 * when the request was turned away before it (no decision recorded).
 */
async function real(call: () => Promise<unknown>): Promise<Outcome> {
  let denied = false;
  let failed = false;
  try {
    await call();
  } catch (err) {
    const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
    denied = e.name === 'AccessDenied' || e.name === 'AccessDeniedException';
    failed = true;
  }
  const id = takeRequestId();
  const record = id ? sealbox.explain(id) : undefined;
  // A request whose signature did not verify (an unknown access key) is refused before any policy.
  const decisions = (record?.decisions ?? []).filter((d) => d.reason.code !== 'signature');
  const outcome: Outcome = decisions.some((d) => d.outcome === 'Deny') ? 'Deny' : decisions.length > 0 ? 'Allow' : 'refused';
  // The record agrees with the answer (a Deny is an AccessDenied; success has an Allow).
  if (denied) expect(outcome).toBe('Deny');
  if (!failed) expect(outcome).toBe('Allow');
  return outcome;
}

async function simulate(service: 'kms' | 's3', body: object): Promise<Outcome> {
  const res = await fetch(`${sealbox[service]!.httpUrl}/_sealbox/decisions/simulate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ service, ...body }) });
  const json = (await res.json()) as { outcome?: Outcome };
  if (res.status === 404) return 'refused';
  expect(res.status).toBe(200);
  return json.outcome!;
}

interface Case {
  name: string;
  service: 'kms' | 's3';
  /** The real request; returns what the SDK answered. */
  call: () => Promise<unknown>;
  /** The same question for simulate: principal, action, resource, context, region. */
  ask: () => Record<string, unknown>;
  /** What both must say. */
  want: Outcome;
}

const encrypt = (who: string, keyId: () => string, region?: string) => () => kmsAs(who, region).send(new EncryptCommand({ KeyId: keyId(), Plaintext: Buffer.from('x') }));
const getObject = (who: string, bucket: string, key = 'obj', http = false) => () => s3As(who, http).send(new GetObjectCommand({ Bucket: bucket, Key: key }));
const A_ALIAS_ARN = `arn:aws:kms:us-east-1:${A}:alias/xc-app`;
const A_SHARED_ALIAS_ARN = `arn:aws:kms:us-east-1:${A}:alias/xc-shared`;

const CASES: Case[] = [
  // KMS
  { name: 'a principal that does not exist', service: 'kms', call: encrypt('nobody', () => keys.private!), ask: () => ({ principal: 'XCNOBODY', action: 'kms:Encrypt', resource: keys.private }), want: 'refused' },
  { name: "another account's access key, the key policy not naming it", service: 'kms', call: encrypt('carol', () => keys.private!), ask: () => ({ principal: 'XCCAROL', action: 'kms:Encrypt', resource: keys.private }), want: 'Deny' },
  { name: 'another account named by the key policy', service: 'kms', call: encrypt('carol', () => keys.shared!), ask: () => ({ principal: 'XCCAROL', action: 'kms:Encrypt', resource: keys.shared }), want: 'Allow' },
  {
    // Key management never works across accounts: the key does not exist for the caller, whatever the policy says.
    // https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-modifying-external-accounts.html
    name: 'another account named, an operation that does not work across accounts',
    service: 'kms',
    call: () => kmsAs('carol').send(new DisableKeyCommand({ KeyId: keys.shared })),
    ask: () => ({ principal: `arn:aws:iam::${B}:user/carol`, action: 'kms:DisableKey', resource: keys.shared }),
    want: 'refused',
  },
  { name: 'an alias, allowed by IAM', service: 'kms', call: encrypt('alice', () => 'alias/xc-app'), ask: () => ({ principal: 'XCALICE', action: 'kms:Encrypt', resource: 'alias/xc-app' }), want: 'Allow' },
  { name: 'an alias, no permission', service: 'kms', call: encrypt('bob', () => 'alias/xc-app'), ask: () => ({ principal: 'XCBOB', action: 'kms:Encrypt', resource: 'alias/xc-app' }), want: 'Deny' },
  // Another account's alias ARN names its key (alias-using.html); that key's policy decides.
  { name: "another account's alias ARN, its key's policy not naming the caller", service: 'kms', call: encrypt('carol', () => A_ALIAS_ARN), ask: () => ({ principal: 'XCCAROL', action: 'kms:Encrypt', resource: A_ALIAS_ARN }), want: 'Deny' },
  { name: "another account's alias ARN, its key's policy naming the caller's account", service: 'kms', call: encrypt('carol', () => A_SHARED_ALIAS_ARN), ask: () => ({ principal: 'XCCAROL', action: 'kms:Encrypt', resource: A_SHARED_ALIAS_ARN }), want: 'Allow' },
  { name: "another account's alias by name: the caller's own account's", service: 'kms', call: encrypt('carol', () => 'alias/xc-app'), ask: () => ({ principal: 'XCCAROL', action: 'kms:Encrypt', resource: 'alias/xc-app' }), want: 'refused' },
  {
    name: 'a key in another region, asked in us-east-1',
    service: 'kms',
    call: encrypt('alice', () => keys.west!),
    ask: () => ({ principal: 'XCALICE', action: 'kms:Encrypt', resource: keys.west, region: 'us-east-1' }),
    want: 'refused',
  },
  { name: 'a key in another region, asked in its region', service: 'kms', call: encrypt('alice', () => keys.west!, 'us-west-2'), ask: () => ({ principal: 'XCALICE', action: 'kms:Encrypt', resource: keys.west }), want: 'Allow' },
  { name: 'a disabled key, allowed (DisabledException after authorization)', service: 'kms', call: encrypt('alice', () => keys.disabled!), ask: () => ({ principal: 'XCALICE', action: 'kms:Encrypt', resource: keys.disabled }), want: 'Allow' },
  { name: 'a disabled key, no permission', service: 'kms', call: encrypt('bob', () => keys.disabled!), ask: () => ({ principal: 'XCBOB', action: 'kms:Encrypt', resource: keys.disabled }), want: 'Deny' },
  { name: 'a key pending deletion, allowed (KMSInvalidStateException after authorization)', service: 'kms', call: encrypt('alice', () => keys.pending!), ask: () => ({ principal: 'XCALICE', action: 'kms:Encrypt', resource: keys.pending }), want: 'Allow' },
  { name: 'a key pending deletion, no permission', service: 'kms', call: encrypt('bob', () => keys.pending!), ask: () => ({ principal: 'XCBOB', action: 'kms:Encrypt', resource: keys.pending }), want: 'Deny' },

  // S3
  { name: 'S3: a principal that does not exist', service: 's3', call: getObject('nobody', 'xc-private'), ask: () => ({ principal: 'XCNOBODY', action: 's3:GetObject', resource: 'arn:aws:s3:::xc-private/obj' }), want: 'refused' },
  { name: "S3: another account's access key, no bucket policy", service: 's3', call: getObject('carol', 'xc-private'), ask: () => ({ principal: 'XCCAROL', action: 's3:GetObject', resource: 'arn:aws:s3:::xc-private/obj' }), want: 'Deny' },
  { name: 'S3: anonymous, a public bucket policy', service: 's3', call: getObject('anonymous', 'xc-public'), ask: () => ({ principal: 'anonymous', action: 's3:GetObject', resource: 'arn:aws:s3:::xc-public/obj' }), want: 'Allow' },
  { name: 'S3: anonymous, no bucket policy', service: 's3', call: getObject('anonymous', 'xc-private'), ask: () => ({ principal: 'anonymous', action: 's3:GetObject', resource: 'xc-private/obj' }), want: 'Deny' },
  {
    // ObjectWriter: the object is the writer's account's; the bucket owner's IAM policy does not reach it.
    // https://docs.aws.amazon.com/AmazonS3/latest/userguide/about-object-ownership.html
    name: "S3: ACLs honoured, the bucket owner's user reads another writer's object",
    service: 's3',
    call: getObject('alice', 'xc-acl', 'theirs'),
    ask: () => ({ principal: 'XCALICE', action: 's3:GetObject', resource: 'arn:aws:s3:::xc-acl/theirs' }),
    want: 'Deny',
  },
  { name: 'S3: ACLs honoured, the writer reads its own object', service: 's3', call: getObject('carol', 'xc-acl', 'theirs'), ask: () => ({ principal: 'XCCAROL', action: 's3:GetObject', resource: 'arn:aws:s3:::xc-acl/theirs' }), want: 'Allow' },
  { name: "S3: ACLs honoured, the bucket owner's user reads its own account's object", service: 's3', call: getObject('alice', 'xc-acl'), ask: () => ({ principal: 'XCALICE', action: 's3:GetObject', resource: 'arn:aws:s3:::xc-acl/obj' }), want: 'Allow' },
  {
    name: 'S3: aws:SecureTransport false (plain HTTP), given in the context',
    service: 's3',
    call: getObject('alice', 'xc-tls', 'obj', true),
    ask: () => ({ principal: 'XCALICE', action: 's3:GetObject', resource: 'arn:aws:s3:::xc-tls/obj', context: { 'aws:SecureTransport': 'false' } }),
    want: 'Deny',
  },
  { name: 'S3: aws:SecureTransport true (TLS, simulate assumes it)', service: 's3', call: getObject('alice', 'xc-tls'), ask: () => ({ principal: 'XCALICE', action: 's3:GetObject', resource: 'arn:aws:s3:::xc-tls/obj' }), want: 'Allow' },
  {
    name: 'S3: an upload without s3:x-amz-server-side-encryption',
    service: 's3',
    call: () => s3As('alice').send(new PutObjectCommand({ Bucket: 'xc-sse', Key: 'plain', Body: 'x' })),
    ask: () => ({ principal: 'XCALICE', action: 's3:PutObject', resource: 'arn:aws:s3:::xc-sse/plain' }),
    want: 'Deny',
  },
  {
    name: 'S3: an upload with s3:x-amz-server-side-encryption aws:kms, given in the context',
    service: 's3',
    call: () => s3As('alice').send(new PutObjectCommand({ Bucket: 'xc-sse', Key: 'sealed', Body: 'x', ServerSideEncryption: 'aws:kms' })),
    ask: () => ({ principal: 'XCALICE', action: 's3:PutObject', resource: 'arn:aws:s3:::xc-sse/sealed', context: { 's3:x-amz-server-side-encryption': 'aws:kms' } }),
    want: 'Allow',
  },
];

describe('simulate agrees with the real request', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const got = { real: await real(c.call), simulated: await simulate(c.service, c.ask()) };
    expect(got).toEqual({ real: c.want, simulated: c.want });
  });
});
