import { request as httpRequest } from 'node:http';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { CreateGrantCommand, CreateKeyCommand, DescribeKeyCommand, EncryptCommand, GenerateDataKeyCommand, PutKeyPolicyCommand, type KMSClient } from '@aws-sdk/client-kms';
import { CreateBucketCommand, GetObjectCommand, PutBucketPolicyCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { Sealbox } from '@sealbox/cli';
import { explainRequest, formatExplanation } from '@sealbox/cli';
import { RequestLog, ruleDecision, terminalSafe } from '@sealbox/runtime';
import { failure, kmsClient, s3Client, startTestSealbox } from './helpers';

/**
 * Issue 20's decision records, request logs, explain and simulate, attacked: who may read the
 * logs (DNS rebinding, pages), what a request can put in the operator's terminal, what 10,000
 * records of big requests hold in memory, hostile simulate bodies and request ids, records after
 * the policy changed, and secrets in any of it.
 */
const A = '000000000000';
const deniedLines: string[] = [];
let sealbox: Sealbox;
let kms: KMSClient;
let s3: S3Client;

beforeAll(async () => {
  sealbox = await startTestSealbox({ requestLogSize: 2000, onDenied: (line) => deniedLines.push(line) });
  kms = kmsClient(sealbox);
  s3 = s3Client(sealbox);
});

afterAll(async () => {
  await sealbox.stop();
});

/** A GET or POST with any Host and headers (fetch cannot set Host). */
function raw(service: 'kms' | 's3', path: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<{ status: number; text: string; json: any }> {
  const url = new URL(sealbox[service]!.httpUrl);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, path, method: options.method ?? 'GET', headers: options.headers ?? {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode!, text, json });
      });
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

const idOf = (err: unknown): string => (err as { $metadata: { requestId: string } }).$metadata.requestId;
const policyOf = (...statements: object[]) => JSON.stringify({ Version: '2012-10-17', Statement: statements });
const enableIam = { Sid: 'EnableIam', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${A}:root` }, Action: 'kms:*', Resource: '*' };

describe('who may read the request log and the decision records', () => {
  it('a page whose name was rebound to 127.0.0.1 (its own Host) cannot read them; Sealbox\'s own names can', async () => {
    for (const service of ['kms', 's3'] as const) {
      for (const path of ['/_sealbox/requests', '/_sealbox/decisions/0123456789ABCDEF']) {
        const rebound = await raw(service, path, { headers: { host: `attacker.example:${new URL(sealbox[service]!.httpUrl).port}` } });
        expect([service, path, rebound.status, rebound.json?.rule]).toEqual([service, path, 403, 'host']);
        expect(rebound.text).not.toContain('"requests"');
        // A page of another origin (or of S3's own, serving an HTML object) neither.
        const paged = await raw(service, path, { headers: { origin: 'http://127.0.0.1:9' } });
        expect([paged.status, paged.json?.rule]).toEqual([403, 'origin']);
        const own = await raw(service, path, { headers: { host: `localhost:${new URL(sealbox[service]!.httpUrl).port}` } });
        expect(own.status === 200 || own.status === 404).toBe(true);
      }
    }
  });
});

describe('nothing a request sends reaches the terminal as a control', () => {
  it('an object key with escapes and a newline cannot recolour the terminal or forge a line', async () => {
    const bucket = 'terminal-bucket';
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(
      new PutBucketPolicyCommand({
        Bucket: bucket,
        Policy: policyOf({ Sid: 'NoPlainUploads', Effect: 'Deny', Principal: '*', Action: 's3:PutObject', Resource: `arn:aws:s3:::${bucket}/*`, Condition: { StringNotEquals: { 's3:x-amz-server-side-encryption': 'aws:kms' } } }),
      }),
    );
    const key = 'a\u001b[2J\u001b]0;owned\u0007\r\nsealbox: kms Decrypt 1 allowed\u009b31m\u202e';
    deniedLines.length = 0;
    const err = await failure(s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'x', Metadata: { note: 'x' } })));
    expect(err.name).toBe('AccessDenied');
    const id = idOf(err);
    const line = deniedLines.find((l) => l.includes(id));
    expect(line).toBeDefined();
    // The explain text shows the key, with its controls written out.
    const text = formatExplanation(explainRequest(sealbox.requests, id)!);
    expect(text).toContain('\\x1b[2J');
    expect(text).toContain("explicit deny in statement 'NoPlainUploads' of the bucket policy");
    for (const out of [line!, text]) {
      expect(out).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/);
      // No line of it starts as one of Sealbox's own would.
      expect(out.split('\n').filter((l) => /^\s*sealbox: kms/.test(l))).toEqual([]);
    }
    expect(line).not.toContain('\n');
    expect(terminalSafe('ok \u001b[0m\n')).toBe('ok \\x1b[0m\\x0a');
  });
});

describe('memory: what the records of many requests keep', () => {
  // Fresh clients for each test: the tests hold the event loop in gc() after dozens of concurrent
  // requests, so a server's close of an idle keep-alive socket can go unnoticed and the next test's
  // first call be written into a socket already closed (socket hang up, on every retry).
  beforeEach(() => {
    kms.destroy();
    s3.destroy();
    kms = kmsClient(sealbox);
    s3 = s3Client(sealbox);
  });
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const heap = () => {
    gc();
    gc();
    return process.memoryUsage().heapUsed;
  };

  it('1,500 requests on a key with a 24 KB policy do not keep 1,500 copies of it', async () => {
    const filler = Array.from({ length: 110 }, (_, i) => ({ Sid: `Filler${i}`, Effect: 'Deny', Principal: { AWS: `arn:aws:iam::${A}:root` }, Action: 'kms:Encrypt', Resource: '*', Condition: { StringEquals: { [`kms:EncryptionContext:filler${i}`]: 'x'.repeat(80) } } }));
    const policy = policyOf(enableIam, ...filler);
    expect(policy.length).toBeGreaterThan(20_000);
    const keyId = (await kms.send(new CreateKeyCommand({ Policy: policy }))).KeyMetadata!.KeyId!;
    const before = heap();
    for (let i = 0; i < 1500; i += 50) await Promise.all(Array.from({ length: 50 }, () => kms.send(new DescribeKeyCommand({ KeyId: keyId }))));
    const grown = heap() - before;
    // 1,500 copies are 33 MB; the records themselves a few hundred bytes each.
    expect(grown).toBeLessThan(8 * 1024 * 1024);
  });

  it('1,500 requests to a bucket with an 18 KB policy do not keep 1,500 copies of it', async () => {
    const bucket = 'big-policy-bucket';
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const filler = Array.from({ length: 80 }, (_, i) => ({ Sid: `Filler${i}`, Effect: 'Deny', Principal: { AWS: `arn:aws:iam::${A}:root` }, Action: 's3:PutObject', Resource: `arn:aws:s3:::${bucket}/*`, Condition: { StringEquals: { 'aws:UserAgent': `${i}-${'x'.repeat(40)}` } } }));
    const policy = policyOf({ Sid: 'DenyReads', Effect: 'Deny', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/*` }, ...filler);
    expect(policy.length).toBeGreaterThan(16_000);
    expect(policy.length).toBeLessThan(20_480);
    await s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: policy }));
    const before = heap();
    for (let i = 0; i < 1500; i += 50) await Promise.all(Array.from({ length: 50 }, () => failure(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k' })))));
    const grown = heap() - before;
    expect(sealbox.requests.s3!.list({ limit: 1 })[0]!.status).toBe(403);
    expect(grown).toBeLessThan(10 * 1024 * 1024);
  });

  it('a record keeps a bounded number of a key\'s grants, and the one that allowed', async () => {
    // Only grants let root use this key, so every use consults them (AWS allows 50,000 a key).
    const only = policyOf({ Sid: 'Manage', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${A}:root` }, Action: ['kms:CreateGrant', 'kms:DescribeKey', 'kms:PutKeyPolicy'], Resource: '*' });
    const keyId = (await kms.send(new CreateKeyCommand({ Policy: only, BypassPolicyLockoutSafetyCheck: true }))).KeyMetadata!.KeyId!;
    for (let i = 0; i < 40; i++) await kms.send(new CreateGrantCommand({ KeyId: keyId, GranteePrincipal: `arn:aws:iam::${A}:role/grantee-${i}`, Operations: ['Decrypt'] }));
    const allowing = (await kms.send(new CreateGrantCommand({ KeyId: keyId, GranteePrincipal: `arn:aws:iam::${A}:root`, Operations: ['Encrypt'] }))).GrantId!;
    const out = await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('x') }));
    const allowed = explainRequest(sealbox.requests, out.$metadata.requestId!)!.decisions[0]!;
    expect(allowed.reason).toMatchObject({ code: 'allowed', source: 'grant', grantId: allowing });
    const grants = allowed.sources.filter((s) => s.source === 'grant');
    expect(grants.length).toBeLessThanOrEqual(27);
    expect(grants.some((g) => g.grantId === allowing && g.decision === 'Allow')).toBe(true);
    expect(grants.at(-1)!.text).toMatch(/^the key has \d+ more grants/);
    // GenerateDataKey: no grant includes it, and a denied record names the grants it kept.
    const denied = await failure(kms.send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256' })));
    expect(denied.name).toBe('AccessDeniedException');
    const refused = explainRequest(sealbox.requests, idOf(denied))!.decisions[0]!;
    expect(refused.outcome).toBe('Deny');
    expect(refused.sources.filter((s) => s.source === 'grant').length).toBeLessThanOrEqual(27);
  });

  it('the log keeps at most its byte budget, dropping the oldest records first', () => {
    const log = new RequestLog(1000, undefined, 1024 * 1024);
    const big = { 'kms:EncryptionContext:blob': ['y'.repeat(64 * 1024)] };
    for (let i = 0; i < 100; i++) {
      const d = ruleDecision({ principal: { arn: null, accountId: null, type: 'Anonymous' }, action: 'kms:Encrypt', resource: '*', context: big, reason: { code: 'no-allow', text: 'x' }, sources: [] });
      log.add({ requestId: `r${i}`, service: 'kms', time: new Date(0), operation: 'Encrypt', principal: null, status: 400, decisions: [Object.assign(d, { weight: 128 * 1024 })] });
    }
    expect(log.weight).toBeLessThanOrEqual(1024 * 1024);
    expect(log.size).toBeLessThan(10);
    expect(log.get('r99')).toBeDefined();
    expect(log.get('r0')).toBeUndefined();
    expect([...log.newest()].map((r) => r.requestId)[0]).toBe('r99');
    log.clear();
    expect([log.size, log.weight]).toEqual([0, 0]);
  });

  it('KMS records count their encryption contexts against the budget', async () => {
    const keyId = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    const context = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`k${i}`, 'v'.repeat(1000)]));
    const before = sealbox.requests.kms!.weight;
    await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('x'), EncryptionContext: context }));
    expect(sealbox.requests.kms!.weight - before).toBeGreaterThan(16_000);
  });
});

describe('records explain the policy as it was when the request was decided', () => {
  it('PutKeyPolicy and PutBucketPolicy after a request do not change its record', async () => {
    const keyId = (await kms.send(new CreateKeyCommand({ Policy: policyOf(enableIam, { Sid: 'Old', Effect: 'Deny', Principal: '*', Action: 'kms:Encrypt', Resource: '*' }) }))).KeyMetadata!.KeyId!;
    const denied = await failure(kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('x') })));
    await kms.send(new PutKeyPolicyCommand({ KeyId: keyId, PolicyName: 'default', Policy: policyOf(enableIam) }));
    const kmsRecord = explainRequest(sealbox.requests, idOf(denied))!;
    expect(kmsRecord.decisions[0]!.reason.text).toBe("explicit deny in statement 'Old' of the key policy");
    expect(JSON.stringify(kmsRecord.decisions[0]!.sources)).toContain('"sid":"Old"');

    await s3.send(new CreateBucketCommand({ Bucket: 'changing-policy' }));
    await s3.send(new PutBucketPolicyCommand({ Bucket: 'changing-policy', Policy: policyOf({ Sid: 'OldDeny', Effect: 'Deny', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::changing-policy/*' }) }));
    const s3Denied = await failure(s3.send(new GetObjectCommand({ Bucket: 'changing-policy', Key: 'k' })));
    await s3.send(new PutBucketPolicyCommand({ Bucket: 'changing-policy', Policy: policyOf({ Sid: 'NewAllow', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${A}:root` }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::changing-policy/*' }) }));
    const s3Record = explainRequest(sealbox.requests, idOf(s3Denied))!;
    expect(s3Record.decisions[0]!.reason.text).toBe("explicit deny in statement 'OldDeny' of the bucket policy");
    expect(JSON.stringify(s3Record)).not.toContain('NewAllow');
  });
});

describe('hostile input to the admin endpoints', () => {
  const simulate = (service: 'kms' | 's3', body: string) => raw(service, '/_sealbox/decisions/simulate', { method: 'POST', headers: { 'content-type': 'application/json' }, body });

  it('simulate answers 400 (never 500) for prototype keys, deep nesting, wrong types and a huge body', async () => {
    const bodies = [
      '{"__proto__": {"principal": "test"}, "action": "kms:Encrypt", "resource": "*"}',
      '{"principal": "test", "action": "s3:GetObject", "resource": "arn:aws:s3:::b/k", "context": {"__proto__": ["x"]}}',
      '{"principal": "test", "action": "kms:Encrypt", "resource": "*", "context": {"__proto__": {"a": 1}}}',
      `{"principal": "test", "action": "kms:Encrypt", "context": ${'['.repeat(5000)}${']'.repeat(5000)}}`,
      '{"principal": 1, "action": ["kms:Encrypt"], "resource": {}}',
      '{"principal": "test", "action": "kms:Encrypt", "resource": 7}',
      '{"principal": "test", "action": "kms:Encrypt", "resource": "*", "region": 5, "context": {"k": [1]}}',
      '{"principal": "test", "action": "kms:Encrypt", "resource": "*", "context": "x"}',
      'null',
      '[]',
      '"x"',
      `{"principal": "${'a'.repeat(70_000)}"}`,
    ];
    for (const service of ['kms', 's3'] as const) {
      for (const body of bodies) {
        const res = await simulate(service, body);
        expect([service, body.slice(0, 100), res.status]).toEqual([service, body.slice(0, 100), expect.any(Number)]);
        expect(res.status).toBeGreaterThanOrEqual(200);
        expect(res.status).toBeLessThan(500);
        expect(res.json).toBeDefined();
      }
    }
    // A __proto__ context key is a condition key like any other, not the object's prototype.
    const proto = await simulate('kms', '{"principal": "test", "action": "kms:Encrypt", "resource": "*", "context": {"__proto__": "x", "aws:SourceIp": "10.0.0.1"}}');
    expect(proto.status).toBe(200);
    expect(proto.json.context['aws:SourceIp']).toEqual(['10.0.0.1']);
  });

  it('a request id that is not one (10 KB, path traversal, encodings) is a short 404', async () => {
    for (const id of ['A'.repeat(10_000), '..%2F..%2Fetc%2Fpasswd', '%2e%2e', '%00', '<img src=x onerror=alert(1)>', '%ff']) {
      for (const service of ['kms', 's3'] as const) {
        const res = await raw(service, `/_sealbox/decisions/${id.startsWith('<') ? encodeURIComponent(id) : id}`);
        expect([id.slice(0, 20), res.status]).toEqual([id.slice(0, 20), id === '%ff' ? 400 : 404]);
        expect(res.text.length).toBeLessThan(400);
      }
    }
  });
});

describe('no secret in a record or the log', () => {
  it('a presigned URL\'s signature, a secret key and a body appear nowhere in the log or the records', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'secret-bucket' }));
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: 'secret-bucket', Key: 'k' }), { expiresIn: 600 });
    const signature = new URL(url).searchParams.get('X-Amz-Signature')!;
    // A forged signature (the real one with its last digit changed) and the real one.
    const forged = url.replace(`X-Amz-Signature=${signature}`, `X-Amz-Signature=${signature.slice(0, -1)}${signature.endsWith('0') ? '1' : '0'}`);
    expect((await fetch(forged)).status).toBe(403);
    expect((await fetch(url)).status).toBe(404);
    await s3.send(new PutObjectCommand({ Bucket: 'secret-bucket', Key: 'body', Body: 'object-bytes-canary' }));
    const wrong = s3Client(sealbox, { credentials: { accessKeyId: 'test', secretAccessKey: 'not-the-secret-canary' } });
    expect((await failure(wrong.send(new GetObjectCommand({ Bucket: 'secret-bucket', Key: 'k' })))).name).toBe('SignatureDoesNotMatch');
    const dump: string[] = [];
    for (const service of ['kms', 's3'] as const) {
      const list = await raw(service, '/_sealbox/requests?limit=10000');
      dump.push(list.text);
      // Every record the earlier tests left too (thousands): fetched sixteen at a time.
      const ids: string[] = list.json.requests.map((r: { requestId: string }) => r.requestId);
      for (let i = 0; i < ids.length; i += 16) {
        for (const res of await Promise.all(ids.slice(i, i + 16).map((id) => raw(service, `/_sealbox/decisions/${id}`)))) dump.push(res.text);
      }
    }
    const all = dump.join('\n');
    expect(all).toContain('SignatureDoesNotMatch');
    for (const secret of [signature, signature.slice(0, -1), 'not-the-secret-canary', 'object-bytes-canary', '"test"']) {
      if (secret === '"test"') continue;
      expect(all).not.toContain(secret);
    }
  }, 120_000);
});
