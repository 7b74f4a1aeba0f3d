import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateAliasCommand,
  CreateGrantCommand,
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GetKeyPolicyCommand,
  type KMSClient,
  ListGrantsCommand,
  ListKeysCommand,
  ListRetirableGrantsCommand,
  PutKeyPolicyCommand,
  ReEncryptCommand,
  RetireGrantCommand,
  RevokeGrantCommand,
} from '@aws-sdk/client-kms';
import { GetObjectCommand, CreateBucketCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Sealbox } from '@sealbox/cli';
import { failure, kmsClient, startTestSealbox, tlsKmsClient, tlsS3Client } from './helpers';

/**
 * KMS access control end to end: two accounts, several users and a role, all from a seed file.
 * Account 000000000000: root (test/test); alice may do kms:* (and s3:*) by IAM policy; bob has no KMS policy (only s3:*);
 * dave may use S3 and kms:Decrypt but not kms:GenerateDataKey; the role app (session worker)
 * has no policy. Account 111111111111: its root, and erin who may kms:Encrypt/Decrypt anything.
 */
const A = '000000000000';
const B = '111111111111';
const kmsAll = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'kms:*', Resource: '*' }] };
// S3 judges identity policies too: alice and bob may use S3, so that their SSE-KMS calls reach KMS.
const s3All = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }] };
const SEED = {
  accounts: [
    {
      id: A,
      users: [
        { name: 'alice', accessKeyId: 'ALICE', secretAccessKey: 'alice-secret', policies: [kmsAll, s3All] },
        { name: 'bob', accessKeyId: 'BOB', secretAccessKey: 'bob-secret', policies: [s3All] },
        {
          name: 'dave',
          accessKeyId: 'DAVE',
          secretAccessKey: 'dave-secret',
          policies: [{ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['s3:*', 'kms:Decrypt', 'kms:DescribeKey'], Resource: '*' }] }],
        },
      ],
      roles: [{ name: 'app', sessionName: 'worker', accessKeyId: 'APP', secretAccessKey: 'app-secret' }],
    },
    {
      id: B,
      root: { accessKeyId: 'BROOT', secretAccessKey: 'b-secret' },
      users: [
        {
          name: 'erin',
          accessKeyId: 'ERIN',
          secretAccessKey: 'erin-secret',
          policies: [JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:DescribeKey'], Resource: '*' }] })],
        },
      ],
    },
  ],
};

let sealbox: Sealbox;
let dir: string;
let root: KMSClient;
const client = (accessKeyId: string, secretAccessKey: string) => tlsKmsClient(sealbox, { credentials: { accessKeyId, secretAccessKey } });
let alice: KMSClient, bob: KMSClient, dave: KMSClient, app: KMSClient, erin: KMSClient, rootB: KMSClient;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sealbox-access-'));
  writeFileSync(join(dir, 'seed.json'), JSON.stringify(SEED));
  sealbox = await startTestSealbox({ tls: true, seed: join(dir, 'seed.json') });
  root = tlsKmsClient(sealbox);
  alice = client('ALICE', 'alice-secret');
  bob = client('BOB', 'bob-secret');
  dave = client('DAVE', 'dave-secret');
  app = client('APP', 'app-secret');
  erin = client('ERIN', 'erin-secret');
  rootB = client('BROOT', 'b-secret');
});

afterAll(async () => {
  await sealbox.stop();
  rmSync(dir, { recursive: true, force: true });
});

const newKey = async (policy?: string) => (await root.send(new CreateKeyCommand({ Policy: policy }))).KeyMetadata!;
const policyOf = (...statements: object[]) => JSON.stringify({ Version: '2012-10-17', Statement: statements });
const enableIam = (account = A) => ({ Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${account}:root` }, Action: 'kms:*', Resource: '*' });
const denied = (user: string, action: string, resource: string, why: 'identity' | 'resource' | 'explicit-resource' | 'explicit-identity') =>
  `User: ${user} is not authorized to perform: kms:${action} on resource: ${resource} ` +
  {
    identity: `because no identity-based policy allows the kms:${action} action`,
    resource: `because no resource-based policy allows the kms:${action} action`,
    'explicit-resource': 'with an explicit deny in a resource-based policy',
    'explicit-identity': 'with an explicit deny in an identity-based policy',
  }[why];

/** The call is denied with `message`, and the denial is in the event log with the caller's identity. */
async function expectDenied(promise: Promise<unknown>, message: string, box = sealbox) {
  const err = await failure(promise);
  expect(err.name).toBe('AccessDeniedException');
  expect(err.$metadata?.httpStatusCode).toBe(400);
  expect(err.message).toBe(message);
  const caller = /^User: (\S+) /.exec(message)![1]!;
  const event = events(box).find((e) => e.errorMessage === message);
  expect(event).toMatchObject({ errorCode: 'AccessDenied', userIdentity: { arn: caller, type: caller.endsWith(':root') ? 'Root' : caller.includes(':assumed-role/') ? 'AssumedRole' : 'IAMUser' } });
}

interface TrailRecord {
  eventName: string;
  errorCode?: string;
  errorMessage?: string;
  userIdentity: { type: string; arn: string; accountId: string; invokedBy?: string; sessionContext?: { sessionIssuer?: { arn: string; type: string } } };
  requestParameters?: Record<string, unknown>;
}

/** Every event recorded so far, oldest first, from the admin view of the log. */
function events(box = sealbox): TrailRecord[] {
  const core = box.kms as unknown as { core: { trail: { flush(): void }; store: { lookupEvents(q: object): { event: { record: string } }[] } } };
  core.core.trail.flush();
  const accounts = [A, B];
  return accounts
    .flatMap((accountId) => core.core.store.lookupEvents({ accountId, region: 'us-east-1', limit: 10_000 }))
    .map((e) => JSON.parse(e.event.record) as TrailRecord)
    .reverse();
}

describe('the default key policy enables IAM policies', () => {
  it('lets the root and IAM-allowed users use the key, and refuses others with IAM words', async () => {
    const key = await newKey();
    await root.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x') }));
    const { CiphertextBlob } = await alice.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x') }));
    expect((await alice.send(new DecryptCommand({ CiphertextBlob })))!.KeyId).toBe(key.Arn);
    await expectDenied(bob.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x') })), denied(`arn:aws:iam::${A}:user/bob`, 'Encrypt', key.Arn!, 'identity'));
    await expectDenied(bob.send(new DecryptCommand({ CiphertextBlob })), denied(`arn:aws:iam::${A}:user/bob`, 'Decrypt', key.Arn!, 'identity'));
    await expectDenied(
      app.send(new DescribeKeyCommand({ KeyId: key.KeyId })),
      denied(`arn:aws:sts::${A}:assumed-role/app/worker`, 'DescribeKey', key.Arn!, 'identity'),
    );
  });

  it('IAM-only actions (CreateKey, ListKeys) are decided by identity policies alone, on resource *', async () => {
    await alice.send(new ListKeysCommand({}));
    await expectDenied(bob.send(new CreateKeyCommand({})), denied(`arn:aws:iam::${A}:user/bob`, 'CreateKey', '*', 'identity'));
    await expectDenied(bob.send(new ListKeysCommand({})), denied(`arn:aws:iam::${A}:user/bob`, 'ListKeys', '*', 'identity'));
  });

  it('each denial is in the event log with errorCode AccessDenied and the caller as userIdentity', () => {
    const bobs = events().filter((e) => e.userIdentity.arn === `arn:aws:iam::${A}:user/bob` && e.eventName === 'Encrypt');
    expect(bobs.length).toBeGreaterThan(0);
    expect(bobs[0]).toMatchObject({ errorCode: 'AccessDenied', userIdentity: { type: 'IAMUser', accountId: A, userName: 'bob' } });
    expect(bobs[0]!.errorMessage).toMatch(/^User: arn:aws:iam::000000000000:user\/bob is not authorized to perform: kms:Encrypt/);
    const session = events().find((e) => e.userIdentity.arn === `arn:aws:sts::${A}:assumed-role/app/worker`)!;
    expect(session.userIdentity).toMatchObject({ type: 'AssumedRole', sessionContext: { sessionIssuer: { type: 'Role', arn: `arn:aws:iam::${A}:role/app` } } });
  });
});

describe('key policies that name principals', () => {
  it('a statement naming a role lets its sessions in without any IAM policy; others are refused by the key policy', async () => {
    const key = await newKey(
      policyOf(enableIam(), { Sid: 'app', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${A}:role/app` }, Action: ['kms:Encrypt', 'kms:Decrypt'], Resource: '*' }),
    );
    const { CiphertextBlob } = await app.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x') }));
    await app.send(new DecryptCommand({ CiphertextBlob }));
    await expectDenied(
      app.send(new GenerateDataKeyCommand({ KeyId: key.KeyId, KeySpec: 'AES_256' })),
      denied(`arn:aws:sts::${A}:assumed-role/app/worker`, 'GenerateDataKey', key.Arn!, 'identity'),
    );
  });

  it('without the IAM statement, not even the root or an IAM admin gets in', async () => {
    const key = await newKey(
      policyOf({ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${A}:user/alice` }, Action: 'kms:*', Resource: '*' }),
    ).catch((e: Error) => e);
    // The root would lock itself out: refused unless it bypasses the safety check.
    expect((key as Error).name).toBe('MalformedPolicyDocumentException');
    expect((key as Error).message).toBe('The new key policy will not allow you to update the key policy in the future.');
    const meta = (
      await root.send(
        new CreateKeyCommand({ Policy: policyOf({ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${A}:user/alice` }, Action: 'kms:*', Resource: '*' }), BypassPolicyLockoutSafetyCheck: true }),
      )
    ).KeyMetadata!;
    await alice.send(new EncryptCommand({ KeyId: meta.KeyId, Plaintext: Buffer.from('x') }));
    await expectDenied(root.send(new EncryptCommand({ KeyId: meta.KeyId, Plaintext: Buffer.from('x') })), denied(`arn:aws:iam::${A}:root`, 'Encrypt', meta.Arn!, 'resource'));
    await expectDenied(root.send(new GetKeyPolicyCommand({ KeyId: meta.KeyId })), denied(`arn:aws:iam::${A}:root`, 'GetKeyPolicy', meta.Arn!, 'resource'));
  });

  it('a Deny with an encryption context condition refuses Decrypt unless the context holds', async () => {
    const key = await newKey(
      policyOf(enableIam(), {
        Sid: 'RequirePurpose',
        Effect: 'Deny',
        Principal: '*',
        Action: 'kms:Decrypt',
        Resource: '*',
        Condition: { StringNotEquals: { 'kms:EncryptionContext:purpose': 'billing' } },
      }),
    );
    const good = await root.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x'), EncryptionContext: { purpose: 'billing' } }));
    const other = await root.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x'), EncryptionContext: { purpose: 'other' } }));
    await root.send(new DecryptCommand({ CiphertextBlob: good.CiphertextBlob, EncryptionContext: { purpose: 'billing' } }));
    await expectDenied(
      root.send(new DecryptCommand({ CiphertextBlob: other.CiphertextBlob, EncryptionContext: { purpose: 'other' } })),
      denied(`arn:aws:iam::${A}:root`, 'Decrypt', key.Arn!, 'explicit-resource'),
    );
    // ReEncrypt asks kms:ReEncryptFrom, which the Deny does not name.
    await root.send(new ReEncryptCommand({ CiphertextBlob: other.CiphertextBlob, SourceEncryptionContext: { purpose: 'other' }, DestinationKeyId: key.KeyId }));
  });

  it('an explicit Deny in an identity policy wins over the key policy', async () => {
    const seedDir = mkdtempSync(join(tmpdir(), 'sealbox-deny-'));
    const deny = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'kms:*', Resource: '*' }, { Effect: 'Deny', Action: 'kms:Decrypt', Resource: '*' }] };
    writeFileSync(join(seedDir, 's.json'), JSON.stringify({ accounts: [{ id: A, users: [{ name: 'frank', accessKeyId: 'FRANK', secretAccessKey: 'f', policies: [deny] }] }] }));
    const other = await startTestSealbox({ seed: join(seedDir, 's.json') });
    try {
      const frank = kmsClient(other, { credentials: { accessKeyId: 'FRANK', secretAccessKey: 'f' } });
      const key = (await frank.send(new CreateKeyCommand({}))).KeyMetadata!;
      const { CiphertextBlob } = await frank.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x') }));
      await expectDenied(frank.send(new DecryptCommand({ CiphertextBlob })), denied(`arn:aws:iam::${A}:user/frank`, 'Decrypt', key.Arn!, 'explicit-identity'), other);
    } finally {
      await other.stop();
      rmSync(seedDir, { recursive: true, force: true });
    }
  });
});

describe('key policy validation', () => {
  it('refuses unknown principals, statements without a principal and lockouts, with KMS messages', async () => {
    const key = await newKey();
    const put = (policy: string, bypass?: boolean) => root.send(new PutKeyPolicyCommand({ KeyId: key.KeyId, Policy: policy, BypassPolicyLockoutSafetyCheck: bypass }));
    for (const [policy, message] of [
      [policyOf(enableIam(), { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${A}:user/nobody` }, Action: 'kms:*', Resource: '*' }), 'Policy contains a statement with one or more invalid principals.'],
      [policyOf(enableIam(), { Effect: 'Allow', Principal: { AWS: 'not-an-arn' }, Action: 'kms:*', Resource: '*' }), 'Policy contains a statement with one or more invalid principals.'],
      [policyOf(enableIam(), { Effect: 'Allow', Action: 'kms:*', Resource: '*' }), 'Policy contains a statement with no principal.'],
      [policyOf({ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${A}:user/bob` }, Action: 'kms:*', Resource: '*' }), 'The new key policy will not allow you to update the key policy in the future.'],
    ] as const) {
      const err = await failure(put(policy));
      expect(err.name).toBe('MalformedPolicyDocumentException');
      expect(err.message).toBe(message);
    }
    // Seeded principals, accounts, services and everyone are valid.
    await put(
      policyOf(
        enableIam(),
        { Effect: 'Allow', Principal: { AWS: [`arn:aws:iam::${A}:user/alice`, `arn:aws:iam::${A}:role/app`, B, `arn:aws:iam::${B}:root`] }, Action: 'kms:Encrypt', Resource: '*' },
        { Effect: 'Allow', Principal: { Service: 'logs.amazonaws.com' }, Action: 'kms:Encrypt', Resource: '*' },
      ),
    );
  });
});

describe('grants', () => {
  it('a grant with a constraint lets its grantee use the key via its token; retire and revoke end it', async () => {
    const key = await newKey();
    const bobArn = `arn:aws:iam::${A}:user/bob`;
    await expectDenied(bob.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x') })), denied(bobArn, 'Encrypt', key.Arn!, 'identity'));
    const grant = await root.send(
      new CreateGrantCommand({
        KeyId: key.KeyId,
        GranteePrincipal: bobArn,
        RetiringPrincipal: `arn:aws:iam::${A}:user/alice`,
        Operations: ['Encrypt', 'Decrypt'],
        Constraints: { EncryptionContextSubset: { dept: 'finance' } },
        Name: 'bob-finance',
      }),
    );
    expect(grant.GrantId).toMatch(/^[0-9a-f]{64}$/);
    const tokens = [grant.GrantToken!];
    const { CiphertextBlob } = await bob.send(
      new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x'), EncryptionContext: { dept: 'finance', extra: '1' }, GrantTokens: tokens }),
    );
    await bob.send(new DecryptCommand({ CiphertextBlob, EncryptionContext: { dept: 'finance', extra: '1' }, GrantTokens: tokens }));
    // Outside the constraint, or an operation the grant does not name: refused.
    await expectDenied(bob.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x'), GrantTokens: tokens })), denied(bobArn, 'Encrypt', key.Arn!, 'identity'));
    await expectDenied(bob.send(new GenerateDataKeyCommand({ KeyId: key.KeyId, KeySpec: 'AES_256', EncryptionContext: { dept: 'finance' } })), denied(bobArn, 'GenerateDataKey', key.Arn!, 'identity'));

    // Same name and parameters: the same grant.
    const again = await root.send(
      new CreateGrantCommand({ KeyId: key.KeyId, GranteePrincipal: bobArn, RetiringPrincipal: `arn:aws:iam::${A}:user/alice`, Operations: ['Decrypt', 'Encrypt'], Constraints: { EncryptionContextSubset: { dept: 'finance' } }, Name: 'bob-finance' }),
    );
    expect(again.GrantId).toBe(grant.GrantId);
    const listed = await root.send(new ListGrantsCommand({ KeyId: key.KeyId }));
    expect(listed.Grants).toHaveLength(1);
    expect(listed.Grants![0]).toMatchObject({
      KeyId: key.Arn,
      GrantId: grant.GrantId,
      Name: 'bob-finance',
      GranteePrincipal: bobArn,
      RetiringPrincipal: `arn:aws:iam::${A}:user/alice`,
      IssuingAccount: `arn:aws:iam::${A}:root`,
      Operations: ['Encrypt', 'Decrypt'],
      Constraints: { EncryptionContextSubset: { dept: 'finance' } },
    });
    const retirable = await alice.send(new ListRetirableGrantsCommand({ RetiringPrincipal: `arn:aws:iam::${A}:user/alice` }));
    expect(retirable.Grants!.map((g) => g.GrantId)).toContain(grant.GrantId);

    // Bob is neither the retiring principal nor granted RetireGrant.
    await expectDenied(bob.send(new RetireGrantCommand({ GrantToken: grant.GrantToken })), denied(bobArn, 'RetireGrant', key.Arn!, 'identity'));
    await alice.send(new RetireGrantCommand({ GrantToken: grant.GrantToken }));
    expect((await root.send(new ListGrantsCommand({ KeyId: key.KeyId }))).Grants).toEqual([]);
    await expectDenied(bob.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x'), EncryptionContext: { dept: 'finance' } })), denied(bobArn, 'Encrypt', key.Arn!, 'identity'));

    const second = await root.send(new CreateGrantCommand({ KeyId: key.KeyId, GranteePrincipal: bobArn, Operations: ['GenerateDataKey'] }));
    await bob.send(new GenerateDataKeyCommand({ KeyId: key.KeyId, KeySpec: 'AES_256', GrantTokens: [second.GrantToken!] }));
    await root.send(new RevokeGrantCommand({ KeyId: key.KeyId, GrantId: second.GrantId }));
    await expectDenied(bob.send(new GenerateDataKeyCommand({ KeyId: key.KeyId, KeySpec: 'AES_256' })), denied(bobArn, 'GenerateDataKey', key.Arn!, 'identity'));
    const gone = await failure(root.send(new RevokeGrantCommand({ KeyId: key.KeyId, GrantId: second.GrantId })));
    expect(gone.name).toBe('NotFoundException');
    expect((await failure(bob.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x'), GrantTokens: ['not-a-token'] })))).name).toBe('InvalidGrantTokenException');
  });
});

describe('grants that allow CreateGrant', () => {
  it('let the grantee pass on its own operations under an equally strict constraint, nothing more', async () => {
    const key = await newKey();
    const bobArn = `arn:aws:iam::${A}:user/bob`;
    const appRole = `arn:aws:iam::${A}:role/app`;
    await root.send(
      new CreateGrantCommand({ KeyId: key.KeyId, GranteePrincipal: bobArn, Operations: ['Encrypt', 'CreateGrant'], Constraints: { EncryptionContextSubset: { dept: 'finance' } } }),
    );
    const child = await bob.send(
      new CreateGrantCommand({ KeyId: key.KeyId, GranteePrincipal: appRole, Operations: ['Encrypt'], Constraints: { EncryptionContextSubset: { dept: 'finance', team: 'a' } } }),
    );
    await app.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x'), EncryptionContext: { dept: 'finance', team: 'a' }, GrantTokens: [child.GrantToken!] }));
    await expectDenied(
      bob.send(new CreateGrantCommand({ KeyId: key.KeyId, GranteePrincipal: appRole, Operations: ['Decrypt'], Constraints: { EncryptionContextSubset: { dept: 'finance' } } })),
      denied(bobArn, 'CreateGrant', key.Arn!, 'identity'),
    );
    await expectDenied(bob.send(new CreateGrantCommand({ KeyId: key.KeyId, GranteePrincipal: appRole, Operations: ['Encrypt'] })), denied(bobArn, 'CreateGrant', key.Arn!, 'identity'));
  });
});

describe('cross-account use', () => {
  it('a key policy naming another account lets its principals use the key by ARN, with their IAM permission', async () => {
    const key = await newKey(policyOf(enableIam(), { Sid: 'B', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${B}:root` }, Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:DescribeKey'], Resource: '*' }));
    await root.send(new CreateAliasCommand({ AliasName: 'alias/shared', TargetKeyId: key.KeyId }));
    const { CiphertextBlob, KeyId } = await erin.send(new EncryptCommand({ KeyId: key.Arn, Plaintext: Buffer.from('cross') }));
    expect(KeyId).toBe(key.Arn);
    expect(Buffer.from((await rootB.send(new DecryptCommand({ CiphertextBlob }))).Plaintext!).toString()).toBe('cross');
    expect((await erin.send(new DescribeKeyCommand({ KeyId: key.Arn }))).KeyMetadata!.AWSAccountId).toBe(A);
    // A bare key id or alias name is the caller's own account's; the alias ARN names the other
    // account's key (https://docs.aws.amazon.com/kms/latest/developerguide/alias-using.html).
    expect((await failure(erin.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x') })))).name).toBe('NotFoundException');
    expect((await failure(erin.send(new EncryptCommand({ KeyId: 'alias/shared', Plaintext: Buffer.from('x') })))).name).toBe('NotFoundException');
    expect((await erin.send(new EncryptCommand({ KeyId: `arn:aws:kms:us-east-1:${A}:alias/shared`, Plaintext: Buffer.from('x') }))).KeyId).toBe(key.Arn);
    // The key policy does not allow GenerateDataKey to account B.
    await expectDenied(rootB.send(new GenerateDataKeyCommand({ KeyId: key.Arn, KeySpec: 'AES_256' })), denied(`arn:aws:iam::${B}:root`, 'GenerateDataKey', key.Arn!, 'resource'));
    // A key whose policy does not name account B.
    const privateKey = await newKey();
    await expectDenied(erin.send(new EncryptCommand({ KeyId: privateKey.Arn, Plaintext: Buffer.from('x') })), denied(`arn:aws:iam::${B}:user/erin`, 'Encrypt', privateKey.Arn!, 'resource'));
    const crossEvent = events().find((e) => e.eventName === 'Encrypt' && e.userIdentity.arn === `arn:aws:iam::${B}:user/erin` && !e.errorCode)!;
    expect(crossEvent.userIdentity).toMatchObject({ type: 'IAMUser', accountId: B });
  });
});

describe('AWS managed keys and S3 acting for the caller', () => {
  let s3Alice: S3Client;
  let s3Dave: S3Client;
  beforeAll(async () => {
    s3Alice = tlsS3Client(sealbox, { credentials: { accessKeyId: 'ALICE', secretAccessKey: 'alice-secret' } });
    s3Dave = tlsS3Client(sealbox, { credentials: { accessKeyId: 'DAVE', secretAccessKey: 'dave-secret' } });
    await tlsS3Client(sealbox).send(new CreateBucketCommand({ Bucket: 'access' }));
  });

  it('alias/aws/s3 refuses direct use even by a kms:* user, while S3 uses it for the same user', async () => {
    const managed = (await root.send(new DescribeKeyCommand({ KeyId: 'alias/aws/s3' }))).KeyMetadata!;
    await expectDenied(alice.send(new EncryptCommand({ KeyId: 'alias/aws/s3', Plaintext: Buffer.from('x') })), denied(`arn:aws:iam::${A}:user/alice`, 'Encrypt', managed.Arn!, 'resource'));
    const put = await s3Alice.send(new PutObjectCommand({ Bucket: 'access', Key: 'managed', Body: 'hello', ServerSideEncryption: 'aws:kms' }));
    expect(put.SSEKMSKeyId).toBe(managed.Arn);
    const got = await s3Alice.send(new GetObjectCommand({ Bucket: 'access', Key: 'managed' }));
    expect(await got.Body!.transformToString()).toBe('hello');
    const viaS3 = events().filter((e) => e.eventName === 'GenerateDataKey' && e.userIdentity.arn === `arn:aws:iam::${A}:user/alice` && e.userIdentity.invokedBy === 's3.amazonaws.com');
    expect(viaS3.length).toBeGreaterThan(0);
    expect(viaS3[0]!.errorCode).toBeUndefined();
  });

  it('an SSE-KMS PUT by a user whose policy lacks kms:GenerateDataKey is AccessDenied from S3', async () => {
    const key = await newKey();
    await expectDenied(dave.send(new GenerateDataKeyCommand({ KeyId: key.KeyId, KeySpec: 'AES_256' })), denied(`arn:aws:iam::${A}:user/dave`, 'GenerateDataKey', key.Arn!, 'identity'));
    const err = await failure(s3Dave.send(new PutObjectCommand({ Bucket: 'access', Key: 'dave', Body: 'x', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: key.KeyId })));
    expect(err.name).toBe('AccessDenied');
    expect(err.$metadata?.httpStatusCode).toBe(403);
    expect(err.message).toBe(denied(`arn:aws:iam::${A}:user/dave`, 'GenerateDataKey', key.Arn!, 'identity'));
    const denial = events().find((e) => e.eventName === 'GenerateDataKey' && e.userIdentity.arn === `arn:aws:iam::${A}:user/dave` && e.userIdentity.invokedBy !== undefined)!;
    expect(denial).toMatchObject({ errorCode: 'AccessDenied', userIdentity: { type: 'IAMUser', invokedBy: 's3.amazonaws.com' } });
    // Nothing was stored.
    expect((await failure(s3Dave.send(new GetObjectCommand({ Bucket: 'access', Key: 'dave' })))).name).toBe('NoSuchKey');

    // Alice writes with the key; dave, who may kms:Decrypt, reads it; bob may not.
    await s3Alice.send(new PutObjectCommand({ Bucket: 'access', Key: 'for-dave', Body: 'secret', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: key.KeyId }));
    expect(await (await s3Dave.send(new GetObjectCommand({ Bucket: 'access', Key: 'for-dave' }))).Body!.transformToString()).toBe('secret');
    const s3Bob = tlsS3Client(sealbox, { credentials: { accessKeyId: 'BOB', secretAccessKey: 'bob-secret' } });
    const bobErr = await failure(s3Bob.send(new GetObjectCommand({ Bucket: 'access', Key: 'for-dave' })));
    expect(bobErr.name).toBe('AccessDenied');
    expect(bobErr.message).toBe(denied(`arn:aws:iam::${A}:user/bob`, 'Decrypt', key.Arn!, 'identity'));
  });
});

describe('condition keys', () => {
  it('kms:ViaService keeps a customer key for S3, and kms:RequestAlias / aws:SecureTransport are seen', async () => {
    const key = await newKey(
      policyOf(enableIam(), {
        Sid: 'OnlyThroughS3',
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: ['kms:Encrypt', 'kms:GenerateDataKey*'],
        Resource: '*',
        Condition: { StringNotEquals: { 'kms:ViaService': 's3.us-east-1.amazonaws.com' } },
      }, {
        Sid: 'NoAliasUse',
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: 'kms:DescribeKey',
        Resource: '*',
        Condition: { StringLike: { 'kms:RequestAlias': 'alias/blocked*' }, Bool: { 'aws:SecureTransport': 'true' } },
      }),
    );
    await expectDenied(alice.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x') })), denied(`arn:aws:iam::${A}:user/alice`, 'Encrypt', key.Arn!, 'explicit-resource'));
    const s3 = tlsS3Client(sealbox, { credentials: { accessKeyId: 'ALICE', secretAccessKey: 'alice-secret' } });
    await s3.send(new CreateBucketCommand({ Bucket: 'via-service' }));
    await s3.send(new PutObjectCommand({ Bucket: 'via-service', Key: 'k', Body: 'through s3', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: key.Arn }));
    expect(await (await s3.send(new GetObjectCommand({ Bucket: 'via-service', Key: 'k' }))).Body!.transformToString()).toBe('through s3');

    await root.send(new CreateAliasCommand({ AliasName: 'alias/blocked-1', TargetKeyId: key.KeyId }));
    await root.send(new CreateAliasCommand({ AliasName: 'alias/open-1', TargetKeyId: key.KeyId }));
    await root.send(new DescribeKeyCommand({ KeyId: 'alias/open-1' }));
    await root.send(new DescribeKeyCommand({ KeyId: key.KeyId }));
    await expectDenied(root.send(new DescribeKeyCommand({ KeyId: 'alias/blocked-1' })), denied(`arn:aws:iam::${A}:root`, 'DescribeKey', key.Arn!, 'explicit-resource'));
  });

  it("aws:PrincipalArn of a role session is the role's ARN: a condition naming the role lets the session in, one naming the session does not", async () => {
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalarn
    const key = await newKey(
      policyOf(enableIam(), {
        Sid: 'RoleByArn',
        Effect: 'Allow',
        Principal: { AWS: '*' },
        Action: 'kms:Encrypt',
        Resource: '*',
        Condition: { ArnEquals: { 'aws:PrincipalArn': `arn:aws:iam::${A}:role/app` } },
      }, {
        Sid: 'SessionByArn',
        Effect: 'Allow',
        Principal: { AWS: '*' },
        Action: 'kms:GenerateDataKey',
        Resource: '*',
        Condition: { ArnEquals: { 'aws:PrincipalArn': `arn:aws:sts::${A}:assumed-role/app/worker` } },
      }),
    );
    await app.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x') }));
    await expectDenied(
      app.send(new GenerateDataKeyCommand({ KeyId: key.KeyId, KeySpec: 'AES_256' })),
      denied(`arn:aws:sts::${A}:assumed-role/app/worker`, 'GenerateDataKey', key.Arn!, 'identity'),
    );
  });

  it('kms:ResourceAliases sees the aliases a key has, however the request names it', async () => {
    const key = await newKey(
      policyOf(enableIam(), {
        Sid: 'NoTaggedByAlias',
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: 'kms:Encrypt',
        Resource: '*',
        Condition: { 'ForAnyValue:StringLike': { 'kms:ResourceAliases': 'alias/frozen-*' } },
      }),
    );
    await root.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x') }));
    await root.send(new CreateAliasCommand({ AliasName: 'alias/frozen-1', TargetKeyId: key.KeyId }));
    await expectDenied(root.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x') })), denied(`arn:aws:iam::${A}:root`, 'Encrypt', key.Arn!, 'explicit-resource'));
  });
});

describe('seeded identities', () => {
  it('a seed may not reuse the default access key', async () => {
    const seedDir = mkdtempSync(join(tmpdir(), 'sealbox-dup-'));
    writeFileSync(join(seedDir, 's.json'), JSON.stringify({ accounts: [{ id: B, users: [{ name: 'x', accessKeyId: 'test', secretAccessKey: 'y' }] }] }));
    await expect(startTestSealbox({ seed: join(seedDir, 's.json') })).rejects.toThrow('access key test is given twice');
    rmSync(seedDir, { recursive: true, force: true });
  });

  it('a key policy may name a role by its ARN with a path; its sessions match', async () => {
    const seedDir = mkdtempSync(join(tmpdir(), 'sealbox-path-'));
    writeFileSync(join(seedDir, 's.json'), JSON.stringify({ accounts: [{ id: A, roles: [{ name: 'ops', path: '/team/', accessKeyId: 'OPS', secretAccessKey: 'o' }] }] }));
    const other = await startTestSealbox({ seed: join(seedDir, 's.json') });
    try {
      const rootOther = kmsClient(other);
      const key = (
        await rootOther.send(
          new CreateKeyCommand({ Policy: policyOf(enableIam(), { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${A}:role/team/ops` }, Action: 'kms:Encrypt', Resource: '*' }) }),
        )
      ).KeyMetadata!;
      const ops = kmsClient(other, { credentials: { accessKeyId: 'OPS', secretAccessKey: 'o' } });
      await ops.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x') }));
      const grant = await rootOther.send(new CreateGrantCommand({ KeyId: key.KeyId, GranteePrincipal: `arn:aws:iam::${A}:role/team/ops`, Operations: ['Decrypt'] }));
      expect(grant.GrantId).toBeDefined();
      const { CiphertextBlob } = await rootOther.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x') }));
      await ops.send(new DecryptCommand({ CiphertextBlob }));
    } finally {
      await other.stop();
      rmSync(seedDir, { recursive: true, force: true });
    }
  });
});

describe('--no-enforce-kms-policies', () => {
  it('lets every authenticated caller use every key of its account', async () => {
    const seedDir = mkdtempSync(join(tmpdir(), 'sealbox-open-'));
    writeFileSync(join(seedDir, 's.json'), JSON.stringify({ accounts: [{ id: A, users: [{ name: 'bob', accessKeyId: 'BOB', secretAccessKey: 'bob-secret' }] }] }));
    const open = await startTestSealbox({ seed: join(seedDir, 's.json'), enforceKmsPolicies: false });
    try {
      const openBob = kmsClient(open, { credentials: { accessKeyId: 'BOB', secretAccessKey: 'bob-secret' } });
      const key = (await openBob.send(new CreateKeyCommand({}))).KeyMetadata!;
      const { CiphertextBlob } = await openBob.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x') }));
      await openBob.send(new DecryptCommand({ CiphertextBlob }));
    } finally {
      await open.stop();
      rmSync(seedDir, { recursive: true, force: true });
    }
  });
});
