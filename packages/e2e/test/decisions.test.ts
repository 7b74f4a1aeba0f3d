import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateGrantCommand, CreateKeyCommand, EncryptCommand, type KMSClient } from '@aws-sdk/client-kms';
import { CopyObjectCommand, CreateBucketCommand, DeleteObjectsCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Sealbox } from '@sealbox/cli';
import { failure, kmsClient, runCommand, s3Client, startTestSealbox, tlsKmsClient, tlsS3Client } from './helpers';

/**
 * Decision records end to end (issue 20): every KMS and S3 authorization leaves a record naming
 * the deciding statement, grant or rule with the values compared; the request log lists every
 * request with failures first-class; `sealbox explain` and the simulate endpoint read them.
 */
const A = '000000000000';
const BUCKET = 'secure-uploads';
const kmsAndS3 = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['kms:*', 's3:*'], Resource: '*' }] };
const s3Only = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }] };
const SEED = {
  accounts: [
    {
      id: A,
      users: [
        { name: 'alice', accessKeyId: 'ALICE', secretAccessKey: 'alice-secret-key-value', policies: [kmsAndS3] },
        { name: 'bob', accessKeyId: 'BOB', secretAccessKey: 'bob-secret-key-value', policies: [s3Only] },
      ],
    },
  ],
  buckets: [
    {
      name: BUCKET,
      policy: {
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'DenyUnencryptedUploads',
            Effect: 'Deny',
            Principal: '*',
            Action: 's3:PutObject',
            Resource: `arn:aws:s3:::${BUCKET}/*`,
            Condition: { StringNotEquals: { 's3:x-amz-server-side-encryption': 'aws:kms' } },
          },
        ],
      },
    },
  ],
};

let sealbox: Sealbox;
let dir: string;
let root: KMSClient;
let alice: KMSClient;
let bob: KMSClient;
let aliceS3: S3Client;
let bobS3: S3Client;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sealbox-decisions-'));
  writeFileSync(join(dir, 'seed.json'), JSON.stringify(SEED));
  sealbox = await startTestSealbox({ tls: true, seed: join(dir, 'seed.json') });
  root = tlsKmsClient(sealbox);
  alice = tlsKmsClient(sealbox, { credentials: { accessKeyId: 'ALICE', secretAccessKey: 'alice-secret-key-value' } });
  bob = tlsKmsClient(sealbox, { credentials: { accessKeyId: 'BOB', secretAccessKey: 'bob-secret-key-value' } });
  aliceS3 = tlsS3Client(sealbox, { credentials: { accessKeyId: 'ALICE', secretAccessKey: 'alice-secret-key-value' } });
  bobS3 = tlsS3Client(sealbox, { credentials: { accessKeyId: 'BOB', secretAccessKey: 'bob-secret-key-value' } });
});

afterAll(async () => {
  await sealbox.stop();
  rmSync(dir, { recursive: true, force: true });
});

const policyOf = (...statements: object[]) => JSON.stringify({ Version: '2012-10-17', Statement: statements });
const enableIam = { Sid: 'EnableIam', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${A}:root` }, Action: 'kms:*', Resource: '*' };
const newKey = async (policy: string) => (await root.send(new CreateKeyCommand({ Policy: policy }))).KeyMetadata!;

/** An admin GET on a service's plain-HTTP address (the same port serves HTTPS and HTTP). */
async function admin(service: 'kms' | 's3', path: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${sealbox[service]!.httpUrl}${path}`);
  return { status: res.status, body: await res.json() };
}

async function simulate(service: 'kms' | 's3', body: object): Promise<{ status: number; body: any }> {
  const res = await fetch(`${sealbox[service]!.httpUrl}/_sealbox/decisions/simulate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

async function decisionsOf(service: 'kms' | 's3', requestId: string): Promise<any> {
  const { status, body } = await admin(service, `/_sealbox/decisions/${requestId}`);
  expect(status).toBe(200);
  return body;
}

async function deniedId(promise: Promise<unknown>): Promise<string> {
  const err = await failure(promise);
  expect(err.name).toMatch(/AccessDenied/);
  return (err as unknown as { $metadata: { requestId: string } }).$metadata.requestId;
}

const deciding = (d: any) => {
  const source = d.sources.find((s: any) => s.source === d.reason.source && s.name === (d.reason.policy ?? s.name));
  return source.statements.find((s: any) => s.index === d.reason.statement.index);
};

describe('KMS decision records', () => {
  it('an explicit Deny names the key policy statement and its condition with both values', async () => {
    const key = await newKey(policyOf(enableIam, { Sid: 'RedTeamOnly', Effect: 'Deny', Principal: { AWS: '*' }, Action: 'kms:Encrypt', Resource: '*', Condition: { StringNotEquals: { 'kms:EncryptionContext:team': 'red' } } }));
    const id = await deniedId(alice.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x'), EncryptionContext: { team: 'blue' } })));
    const doc = await decisionsOf('kms', id);
    expect(doc).toMatchObject({ requestId: id, service: 'kms', operation: 'Encrypt', request: { status: 400, errorCode: 'AccessDeniedException', decision: 'Deny' } });
    const [d] = doc.decisions;
    expect(d).toMatchObject({
      principal: { arn: `arn:aws:iam::${A}:user/alice`, accountId: A, type: 'User' },
      action: 'kms:Encrypt',
      resource: key.Arn,
      outcome: 'Deny',
      reason: { code: 'explicit-deny', source: 'key-policy', policy: 'key policy', statement: { index: 1, sid: 'RedTeamOnly' }, text: "explicit deny in statement 'RedTeamOnly' of the key policy" },
    });
    expect(d.context['kms:EncryptionContext:team']).toEqual(['blue']);
    expect(deciding(d).conditions).toEqual([expect.objectContaining({ operator: 'StringNotEquals', key: 'kms:EncryptionContext:team', policyValues: ['red'], requestValues: ['blue'], result: true })]);
    expect(d.sources.map((s: any) => [s.source, s.decision])).toEqual([
      ['identity', 'Allow'],
      ['key-policy', 'Deny'],
    ]);
  });

  it('a missing Allow says no statement allows, listing what was considered', async () => {
    const key = await newKey(policyOf(enableIam));
    const id = await deniedId(bob.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x') })));
    const [d] = (await decisionsOf('kms', id)).decisions;
    expect(d.outcome).toBe('Deny');
    expect(d.reason).toMatchObject({ code: 'no-allow', source: 'identity' });
    expect(d.reason.text).toContain('no identity-based policy allows kms:Encrypt');
    const identity = d.sources.find((s: any) => s.source === 'identity');
    expect(identity.statements[0].text).toBe('does not apply: no Action entry matches kms:Encrypt (s3:*)');
    // The key policy statement naming the account matched: it delegates to IAM.
    expect(d.sources.find((s: any) => s.source === 'key-policy').statements[0]).toMatchObject({ sid: 'EnableIam', applies: true });
  });

  it('a grant constraint that does not hold is shown with both contexts; a grant that allows is named', async () => {
    const key = await newKey(policyOf(enableIam));
    const grant = await root.send(new CreateGrantCommand({ KeyId: key.KeyId, GranteePrincipal: `arn:aws:iam::${A}:user/bob`, Operations: ['Encrypt'], Constraints: { EncryptionContextEquals: { app: 'billing' } } }));
    const id = await deniedId(bob.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x'), EncryptionContext: { app: 'payroll' } })));
    const [d] = (await decisionsOf('kms', id)).decisions;
    const g = d.sources.find((s: any) => s.source === 'grant');
    expect(g).toMatchObject({ grantId: grant.GrantId, decision: 'NotApplicable', constraints: { EncryptionContextEquals: { app: 'billing' } } });
    expect(g.text).toBe('constraint not met: EncryptionContextEquals {"app":"billing"}; the request\'s encryption context is {"app":"payroll"}');

    const ok = await bob.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x'), EncryptionContext: { app: 'billing' } }));
    const [allowed] = (await decisionsOf('kms', ok.$metadata.requestId!)).decisions;
    expect(allowed).toMatchObject({ outcome: 'Allow', reason: { code: 'allowed', source: 'grant', grantId: grant.GrantId, text: `allowed by grant ${grant.GrantId}` } });
  });

  it('an allow names the statement that allowed', async () => {
    const key = await newKey(policyOf(enableIam, { Sid: 'BobMayEncrypt', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${A}:user/bob` }, Action: 'kms:Encrypt', Resource: '*' }));
    const ok = await bob.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x') }));
    const [d] = (await decisionsOf('kms', ok.$metadata.requestId!)).decisions;
    expect(d.reason).toEqual({ code: 'allowed', source: 'key-policy', policy: 'key policy', statement: { index: 1, sid: 'BobMayEncrypt' }, text: "allowed by statement 'BobMayEncrypt' of the key policy" });
  });
});

describe('S3 decision records and the request log', () => {
  it("a PUT denied by the seed's bucket policy names the statement and the condition with its values", async () => {
    const id = await deniedId(aliceS3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'plain.txt', Body: 'x', ServerSideEncryption: 'AES256' })));
    const doc = await decisionsOf('s3', id);
    expect(doc).toMatchObject({ service: 's3', operation: 'PutObject', request: { status: 403, errorCode: 'AccessDenied', principal: `arn:aws:iam::${A}:user/alice` } });
    const [d] = doc.decisions;
    expect(d).toMatchObject({
      action: 's3:PutObject',
      resource: `arn:aws:s3:::${BUCKET}/plain.txt`,
      outcome: 'Deny',
      reason: { code: 'explicit-deny', source: 'bucket-policy', statement: { index: 0, sid: 'DenyUnencryptedUploads' }, text: "explicit deny in statement 'DenyUnencryptedUploads' of the bucket policy" },
    });
    expect(deciding(d).conditions[0]).toMatchObject({ operator: 'StringNotEquals', key: 's3:x-amz-server-side-encryption', policyValues: ['aws:kms'], requestValues: ['AES256'], result: true });
    // Without the header the key is absent, and StringNotEquals holds for an absent key.
    const id2 = await deniedId(aliceS3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'plain.txt', Body: 'x' })));
    const [d2] = (await decisionsOf('s3', id2)).decisions;
    expect(deciding(d2).conditions[0]).toMatchObject({ requestValues: null, result: true });
    expect(deciding(d2).conditions[0].text).toContain('key absent');
  });

  it('an SSE-KMS PUT links the KMS request S3 made; a KMS refusal seen through S3 is explained by the KMS record', async () => {
    const put = await aliceS3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'enc.txt', Body: 'x', ServerSideEncryption: 'aws:kms' }));
    const doc = await decisionsOf('s3', put.$metadata.requestId!);
    expect(doc.decisions[0]).toMatchObject({ outcome: 'Allow', reason: { code: 'allowed', source: 'identity' } });
    expect(doc.kmsRequestIds).toHaveLength(1);
    const kms = await decisionsOf('kms', doc.kmsRequestIds[0]);
    expect(kms).toMatchObject({ operation: 'GenerateDataKey', request: { principal: `arn:aws:iam::${A}:user/alice`, status: 200 } });
    expect(kms.decisions[0].context['kms:ViaService']).toEqual(['s3.us-east-1.amazonaws.com']);

    // bob may use S3 but not this key (aws/s3 would let him, through S3): S3 answers
    // AccessDenied, and the KMS record says why.
    const key = await newKey(policyOf(enableIam));
    const id = await deniedId(bobS3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'enc.txt', Body: 'x', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: key.Arn })));
    const { body } = await admin('s3', '/_sealbox/requests?failed=1&limit=5');
    const listed = body.requests.find((r: any) => r.requestId === id);
    expect(listed).toMatchObject({ service: 's3', operation: 'PutObject', status: 403, errorCode: 'AccessDenied', decision: 'Allow', kmsRequestIds: [expect.any(String)] });
    const viaKms = await decisionsOf('kms', listed.kmsRequestIds[0]);
    expect(viaKms.decisions[0]).toMatchObject({ outcome: 'Deny', principal: { arn: `arn:aws:iam::${A}:user/bob` }, reason: { code: 'no-allow' } });
    // In process: the sandbox's explain follows the link.
    const explained = sealbox.explain(id)!;
    expect(explained.kmsRequests?.[0]?.decisions[0]?.outcome).toBe('Deny');
  });

  it('SigV4 failures and SSE-KMS over plain HTTP are in the request log, newest first', async () => {
    const wrong = tlsS3Client(sealbox, { credentials: { accessKeyId: 'ALICE', secretAccessKey: 'not-the-secret' } });
    const sig = await failure(wrong.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'k', Body: 'x' })));
    expect(sig.name).toBe('SignatureDoesNotMatch');
    const http = s3Client(sealbox, { endpoint: sealbox.s3!.httpUrl, credentials: { accessKeyId: 'ALICE', secretAccessKey: 'alice-secret-key-value' } });
    const plain = await failure(http.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'k', Body: 'x', ServerSideEncryption: 'aws:kms' })));
    expect(plain.name).toBe('InvalidArgument');
    const { body } = await admin('s3', '/_sealbox/requests?failed=1&limit=2');
    const [transport, signature] = body.requests;
    expect(signature).toMatchObject({ requestId: (sig as any).$metadata.requestId, errorCode: 'SignatureDoesNotMatch', principal: null, accessKeyId: 'ALICE', status: 403, decision: 'Deny' });
    expect(signature.message).toMatch(/^The request signature we calculated does not match/);
    expect(transport).toMatchObject({ requestId: (plain as any).$metadata.requestId, errorCode: 'InvalidArgument', status: 400, message: 'Requests specifying Server Side Encryption with AWS KMS managed keys must be made over a secure connection.', decision: 'Deny' });
    // Authorized by policy first, then refused by the SSE-KMS rule: both decisions are kept.
    const [authorized, t] = (await decisionsOf('s3', transport.requestId)).decisions;
    expect(authorized.outcome).toBe('Allow');
    expect(t).toMatchObject({ reason: { code: 'transport', source: 'transport' }, context: { 'aws:SecureTransport': ['false'] } });
    const [s] = (await decisionsOf('s3', signature.requestId)).decisions;
    expect(s).toMatchObject({ reason: { code: 'signature', source: 'signature' }, principal: { arn: null } });
    expect(new Date(transport.time).getTime()).toBeGreaterThanOrEqual(new Date(signature.time).getTime());
  });

  it('a copy is decided on its source too, DeleteObjects on each key', async () => {
    const s3 = tlsS3Client(sealbox);
    await s3.send(new CreateBucketCommand({ Bucket: 'multi' }));
    for (const Key of ['a.txt', 'b.txt']) await s3.send(new PutObjectCommand({ Bucket: 'multi', Key, Body: 'x' }));
    const copy = await s3.send(new CopyObjectCommand({ Bucket: 'multi', Key: 'c.txt', CopySource: 'multi/a.txt' }));
    const copied = await decisionsOf('s3', copy.$metadata.requestId!);
    expect(copied.decisions.map((d: any) => [d.action, d.resource, d.outcome])).toEqual([
      ['s3:PutObject', 'arn:aws:s3:::multi/c.txt', 'Allow'],
      ['s3:GetObject', 'arn:aws:s3:::multi/a.txt', 'Allow'],
    ]);
    const del = await s3.send(new DeleteObjectsCommand({ Bucket: 'multi', Delete: { Objects: [{ Key: 'a.txt' }, { Key: 'b.txt' }] } }));
    const deleted = await decisionsOf('s3', del.$metadata.requestId!);
    expect(deleted.decisions.map((d: any) => [d.action, d.resource])).toEqual([
      ['s3:DeleteObject', 'arn:aws:s3:::multi/a.txt'],
      ['s3:DeleteObject', 'arn:aws:s3:::multi/b.txt'],
    ]);
  });

  it('an unknown request id is a 404 in the contract shape; a bad limit is a 400', async () => {
    expect(await admin('s3', '/_sealbox/decisions/0123456789ABCDEF')).toEqual({ status: 404, body: { error: 'NotFound', message: expect.stringContaining('no request "0123456789ABCDEF"') } });
    expect((await admin('kms', '/_sealbox/requests?limit=0')).status).toBe(400);
  });
});

describe('what-if: POST /_sealbox/decisions/simulate', () => {
  it('decides a KMS request against the current policies and grants, naming what decided', async () => {
    const key = await newKey(policyOf(enableIam));
    const grant = await root.send(new CreateGrantCommand({ KeyId: key.KeyId, GranteePrincipal: `arn:aws:iam::${A}:user/bob`, Operations: ['Encrypt'], Constraints: { EncryptionContextSubset: { app: 'billing' } } }));
    const no = await simulate('kms', { service: 'kms', principal: 'BOB', action: 'kms:Encrypt', resource: key.Arn });
    expect(no.status).toBe(200);
    expect(no.body).toMatchObject({ outcome: 'Deny', reason: { code: 'no-allow' }, principal: { arn: `arn:aws:iam::${A}:user/bob` } });
    const yes = await simulate('kms', { service: 'kms', principal: `arn:aws:iam::${A}:user/bob`, action: 'Encrypt', resource: key.KeyId, context: { 'kms:EncryptionContext:app': 'billing' } });
    expect(yes.body).toMatchObject({ outcome: 'Allow', reason: { source: 'grant', grantId: grant.GrantId } });
    expect((await simulate('kms', { service: 'kms', principal: 'NOBODY', action: 'kms:Encrypt', resource: key.KeyId })).status).toBe(404);
    expect((await simulate('kms', { service: 'kms', principal: 'BOB', action: 'kms:Encrypt', resource: 'alias/none' })).body.error).toBe('NotFound');
  });

  it('decides an S3 request with the condition keys given, and refuses a page (admin request rule)', async () => {
    const without = await simulate('s3', { service: 's3', principal: 'ALICE', action: 's3:PutObject', resource: `arn:aws:s3:::${BUCKET}/x` });
    expect(without.body).toMatchObject({ outcome: 'Deny', reason: { code: 'explicit-deny', statement: { sid: 'DenyUnencryptedUploads' } } });
    const withKms = await simulate('s3', { service: 's3', principal: 'ALICE', action: 's3:PutObject', resource: `arn:aws:s3:::${BUCKET}/x`, context: { 's3:x-amz-server-side-encryption': 'aws:kms' } });
    expect(withKms.body).toMatchObject({ outcome: 'Allow', reason: { code: 'allowed', source: 'identity' } });
    const anonymous = await simulate('s3', { service: 's3', principal: 'anonymous', action: 's3:GetObject', resource: `${BUCKET}/x` });
    expect(anonymous.body).toMatchObject({ outcome: 'Deny', principal: { arn: null, type: 'Anonymous' }, reason: { code: 'no-allow', source: 'bucket-policy' } });
    const page = await fetch(`${sealbox.s3!.httpUrl}/_sealbox/decisions/simulate`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{}' });
    expect(page.status).toBe(415);
  });
});

describe('sealbox explain', () => {
  it('prints the deciding statement first, then each source; --json prints the record', async () => {
    const id = await deniedId(aliceS3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'cli.txt', Body: 'x' })));
    const bin = join(__dirname, '..', '..', 'cli', 'dist', 'bin.js');
    const endpoints = ['--kms-endpoint', sealbox.kms!.url, '--s3-endpoint', sealbox.s3!.url, '--ca-bundle', sealbox.caBundle!];
    const text = await runCommand(process.execPath, [bin, 'explain', id, ...endpoints], {});
    expect(text.stderr).toBe('');
    const lines = text.stdout.split('\n');
    expect(lines[0]).toBe(`s3 PutObject ${id} -> 403 AccessDenied`);
    const deny = lines.findIndex((l) => l.includes("explicit deny in statement 'DenyUnencryptedUploads' of the bucket policy"));
    const considered = lines.findIndex((l) => l.trim() === 'considered:');
    expect(deny).toBeGreaterThan(0);
    expect(considered).toBeGreaterThan(deny);
    expect(lines.slice(deny, considered).join('\n')).toContain('StringNotEquals s3:x-amz-server-side-encryption: key absent');
    expect(lines.slice(considered).join('\n')).toContain('bucket policy (bucket-policy): Deny');
    const json = await runCommand(process.execPath, [bin, 'explain', id, '--json', ...endpoints], {});
    expect(JSON.parse(json.stdout)).toMatchObject({ requestId: id, decisions: [{ outcome: 'Deny' }] });
    const missing = await runCommand(process.execPath, [bin, 'explain', 'NOSUCHREQUEST000', ...endpoints], {});
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no request NOSUCHREQUEST000');
  });
});

describe('one line per denied request', () => {
  it('names the deciding statement and the command that shows the rest', async () => {
    const lines: string[] = [];
    const box = await startTestSealbox({ onDenied: (line) => lines.push(line) });
    try {
      const kms = kmsClient(box);
      const key = (await kms.send(new CreateKeyCommand({ Policy: policyOf({ Sid: 'NoEncrypt', Effect: 'Deny', Principal: '*', Action: 'kms:Encrypt', Resource: '*' }, enableIam), BypassPolicyLockoutSafetyCheck: true }))).KeyMetadata!;
      const id = await deniedId(kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x') })));
      expect(lines).toEqual([`sealbox: kms Encrypt ${id} denied: explicit deny in statement 'NoEncrypt' of the key policy (sealbox explain ${id})`]);
    } finally {
      await box.stop();
    }
  });
});

describe('bounds and reset', () => {
  it('keeps only the last N requests, and a reset clears them', async () => {
    const small = await startTestSealbox({ requestLogSize: 3 });
    try {
      const kms = kmsClient(small);
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await kms.send(new CreateKeyCommand({}))).$metadata.requestId!);
      const list = (await (await fetch(`${small.kms!.url}/_sealbox/requests?limit=100`)).json()) as { requests: Array<{ requestId: string }> };
      expect(list.requests.map((r) => r.requestId)).toEqual(ids.slice(2).reverse());
      expect((await fetch(`${small.kms!.url}/_sealbox/decisions/${ids[0]}`)).status).toBe(404);
      expect(small.explain(ids[4]!)?.decisions[0]?.outcome).toBe('Allow');
      const reset = await fetch(`${small.kms!.url}/_sealbox/reset`, { method: 'POST' });
      expect(reset.status).toBe(200);
      expect(((await (await fetch(`${small.kms!.url}/_sealbox/requests`)).json()) as { requests: unknown[] }).requests).toEqual([]);
      expect(small.explain(ids[4]!)).toBeUndefined();
    } finally {
      await small.stop();
    }
  });
});
