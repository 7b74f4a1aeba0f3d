/**
 * The seed file's keys and buckets, end to end: Sealboxes seeded with the same file share
 * ciphertexts, seeded material is what the file says, aliases, grants and bucket settings work
 * through the AWS SDKs, applying twice changes nothing, and `sealbox seed` seeds a running
 * `sealbox start`.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHmac, createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import {
  DecryptCommand,
  DescribeKeyCommand,
  EncryptCommand,
  GenerateMacCommand,
  GetKeyRotationStatusCommand,
  GetPublicKeyCommand,
  KMSClient,
  ListAliasesCommand,
  ListGrantsCommand,
  ListKeyRotationsCommand,
  ListResourceTagsCommand,
} from '@aws-sdk/client-kms';
import {
  GetBucketCorsCommand,
  GetBucketEncryptionCommand,
  GetBucketPolicyCommand,
  GetBucketTaggingCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { SEED_EXAMPLE, SeedError, applySeedInProcess, loadSeed, parseSeed, type Sealbox } from '@sealbox/cli';
import { seededMaterialIds } from '@sealbox/kms';
import { kmsClient, runCommand, s3Client, startTestSealbox } from './helpers';

const BIN = join(__dirname, '..', '..', 'cli', 'dist', 'bin.js');
const FIXTURES = join(__dirname, 'fixtures');

const KEY = '6f0b2d55-3a1e-4c3b-9d7e-2b8f1a4c5d60';
const MAC_KEY = '7a1c3e55-3a1e-4c3b-9d7e-2b8f1a4c5d61';
const RSA_KEY = '8b2d4f55-3a1e-4c3b-9d7e-2b8f1a4c5d62';
const DISABLED_KEY = '9c3e5a55-3a1e-4c3b-9d7e-2b8f1a4c5d63';
const EXTERNAL_KEY = 'ad4f6b55-3a1e-4c3b-9d7e-2b8f1a4c5d64';
const PENDING_KEY = 'be507c55-3a1e-4c3b-9d7e-2b8f1a4c5d65';
const MRK = 'mrk-0123456789abcdef0123456789abcdef';
const MRK_MATERIAL = randomBytes(32).toString('hex');
const M1 = randomBytes(32).toString('hex');
const M2 = randomBytes(32).toString('base64');
const MAC_MATERIAL = randomBytes(32).toString('hex');
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const RSA_PEM = rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sealbox-seed-e2e-'));
});

function writeSeed(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

const indent = (text: string, n: number) => text.trimEnd().split('\n').map((l) => ' '.repeat(n) + l).join('\n');

function seedText(material: string[], bucket = 'seeded-bucket'): string {
  return `accounts:
  - id: "000000000000"
    users:
      - name: grantee
        accessKeyId: GRANTEEKEY
        secretAccessKey: granteesecret
keys:
  - id: ${KEY}
    description: seeded app key
    tags: { team: payments }
    rotation: { enabled: true, periodDays: 180 }
    material: [${material.map((m) => JSON.stringify(m)).join(', ')}]
    aliases: [alias/seeded-app]
    grants:
      - name: grantee-decrypt
        grantee: arn:aws:iam::000000000000:user/grantee
        operations: [Decrypt]
        constraints:
          encryptionContextSubset: { app: payments }
  - id: ${MAC_KEY}
    spec: HMAC_256
    usage: GENERATE_VERIFY_MAC
    material: [${MAC_MATERIAL}]
  - id: ${RSA_KEY}
    spec: RSA_2048
    usage: SIGN_VERIFY
    material:
      - |
${indent(RSA_PEM, 8)}
  - id: ${DISABLED_KEY}
    enabled: false
  - id: ${EXTERNAL_KEY}
    origin: EXTERNAL
    material: ["${M1}"]
  - id: ${PENDING_KEY}
    origin: EXTERNAL
  - id: ${MRK}
    replicaRegions: [eu-west-1]
    material: ["${MRK_MATERIAL}"]
buckets:
  - name: ${bucket}
    versioning: Enabled
    encryption: { algorithm: aws:kms, kmsKeyId: alias/seeded-app, bucketKey: true }
    policy:
      Version: "2012-10-17"
      Statement:
        - Effect: Deny
          Principal: "*"
          Action: s3:DeleteBucket
          Resource: arn:aws:s3:::${bucket}
    cors:
      - allowedOrigins: ["http://localhost:3000"]
        allowedMethods: [GET]
    tags: { team: payments }
    objects:
      - key: hello.txt
        text: hello from the seed
        contentType: text/plain
        metadata: { owner: alice }
      - key: data/payload.bin
        file: payload.bin
      - key: explicit.txt
        text: explicitly encrypted
        sse: { algorithm: aws:kms, kmsKeyId: ${KEY}, context: { purpose: demo }, bucketKey: false }
`;
}

describe('seeded keys', () => {
  let a: Sealbox;
  let b: Sealbox;
  let kmsA: KMSClient;
  let kmsB: KMSClient;
  beforeAll(async () => {
    writeFileSync(join(dir, 'payload.bin'), Buffer.from([0, 1, 2, 255]));
    a = await startTestSealbox({ seed: writeSeed('a.yaml', seedText([M1])), allowHttpSseKms: true });
    b = await startTestSealbox({ seed: writeSeed('b.yaml', seedText([M1, M2], 'seeded-bucket-b')), allowHttpSseKms: true });
    kmsA = kmsClient(a);
    kmsB = kmsClient(b);
  });
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
  });

  it('reports what it created', () => {
    expect(a.seedReport!.skipped).toEqual([]);
    expect(a.seedReport!.created).toEqual(
      expect.arrayContaining([`key ${KEY} (000000000000, us-east-1)`, 'alias/seeded-app (000000000000, us-east-1)', `grant grantee-decrypt on ${KEY}`, 'bucket seeded-bucket', 'object seeded-bucket/hello.txt']),
    );
  });

  it('a ciphertext from one Sealbox decrypts in another seeded with the same material (rotation history included)', async () => {
    const context = { app: 'payments' };
    const fromA = await kmsA.send(new EncryptCommand({ KeyId: 'alias/seeded-app', Plaintext: Buffer.from('portable'), EncryptionContext: context }));
    // B has A's material as its first version and M2 as current: it still opens A's ciphertext.
    const inB = await kmsB.send(new DecryptCommand({ CiphertextBlob: fromA.CiphertextBlob, EncryptionContext: context }));
    expect(Buffer.from(inB.Plaintext!).toString()).toBe('portable');
    expect(inB.KeyId).toBe(`arn:aws:kms:us-east-1:000000000000:key/${KEY}`);
    // B encrypts with M2, which A never had.
    const fromB = await kmsB.send(new EncryptCommand({ KeyId: KEY, Plaintext: Buffer.from('newer'), EncryptionContext: context }));
    await expect(kmsA.send(new DecryptCommand({ CiphertextBlob: fromB.CiphertextBlob, EncryptionContext: context }))).rejects.toMatchObject({ name: 'InvalidCiphertextException' });
    // Material versions have the same KeyMaterialIds everywhere: derived from (key id, material).
    const idOf = (m: Buffer) => seededMaterialIds(KEY, m).materialId;
    const m1 = Buffer.from(M1, 'hex');
    const m2 = Buffer.from(M2, 'base64');
    const currentOf = async (kms: KMSClient) => ((await kms.send(new DescribeKeyCommand({ KeyId: KEY }))).KeyMetadata as { CurrentKeyMaterialId?: string }).CurrentKeyMaterialId;
    expect(await currentOf(kmsA)).toBe(idOf(m1));
    expect(await currentOf(kmsB)).toBe(idOf(m2));
    const rotations = (await kmsB.send(new ListKeyRotationsCommand({ KeyId: KEY }))).Rotations as { KeyMaterialId?: string }[];
    expect(rotations.map((r) => r.KeyMaterialId)).toEqual(expect.arrayContaining([idOf(m2)]));
  });

  it('keeps the description, tags and rotation settings', async () => {
    const d = await kmsA.send(new DescribeKeyCommand({ KeyId: KEY }));
    expect(d.KeyMetadata!.Description).toBe('seeded app key');
    expect(d.KeyMetadata!.KeyState).toBe('Enabled');
    expect((await kmsA.send(new ListResourceTagsCommand({ KeyId: KEY }))).Tags).toEqual([{ TagKey: 'team', TagValue: 'payments' }]);
    const rotation = await kmsA.send(new GetKeyRotationStatusCommand({ KeyId: KEY }));
    expect(rotation.KeyRotationEnabled).toBe(true);
    expect(rotation.RotationPeriodInDays).toBe(180);
  });

  it('enabled: false, origin EXTERNAL with and without material', async () => {
    const state = async (KeyId: string) => (await kmsA.send(new DescribeKeyCommand({ KeyId }))).KeyMetadata!;
    expect((await state(DISABLED_KEY)).KeyState).toBe('Disabled');
    expect(await state(EXTERNAL_KEY)).toMatchObject({ KeyState: 'Enabled', Origin: 'EXTERNAL', ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' });
    expect(await state(PENDING_KEY)).toMatchObject({ KeyState: 'PendingImport', Origin: 'EXTERNAL' });
    // The same material under another key id makes ciphertexts that only that key opens.
    const blob = (await kmsB.send(new EncryptCommand({ KeyId: EXTERNAL_KEY, Plaintext: Buffer.from('imported') }))).CiphertextBlob;
    expect(Buffer.from((await kmsA.send(new DecryptCommand({ CiphertextBlob: blob }))).Plaintext!).toString()).toBe('imported');
  });

  it('a multi-Region key and its replica share seeded material across Sealboxes', async () => {
    const eu = kmsClient(b, { region: 'eu-west-1' });
    const replica = (await eu.send(new DescribeKeyCommand({ KeyId: MRK }))).KeyMetadata!;
    expect(replica.MultiRegionConfiguration!.MultiRegionKeyType).toBe('REPLICA');
    const blob = (await kmsA.send(new EncryptCommand({ KeyId: MRK, Plaintext: Buffer.from('everywhere') }))).CiphertextBlob;
    expect(Buffer.from((await eu.send(new DecryptCommand({ CiphertextBlob: blob }))).Plaintext!).toString()).toBe('everywhere');
  });

  it('an HMAC key computes the MAC of its seeded material', async () => {
    const mac = await kmsA.send(new GenerateMacCommand({ KeyId: MAC_KEY, MacAlgorithm: 'HMAC_SHA_256', Message: Buffer.from('msg') }));
    expect(Buffer.from(mac.Mac!).toString('hex')).toBe(createHmac('sha256', Buffer.from(MAC_MATERIAL, 'hex')).update('msg').digest('hex'));
  });

  it('an RSA key seeded from PEM has the expected public key', async () => {
    const pub = await kmsA.send(new GetPublicKeyCommand({ KeyId: RSA_KEY }));
    const expected = createPublicKey(rsa.privateKey).export({ type: 'spki', format: 'der' });
    expect(Buffer.from(pub.PublicKey!).equals(expected)).toBe(true);
  });

  it('aliases and grants work: the grantee may Decrypt under its constraint, nothing else', async () => {
    const aliases = await kmsA.send(new ListAliasesCommand({ KeyId: KEY }));
    expect(aliases.Aliases!.map((x) => x.AliasName)).toEqual(['alias/seeded-app']);
    const grants = await kmsA.send(new ListGrantsCommand({ KeyId: KEY }));
    expect(grants.Grants!.map((g) => [g.Name, g.Operations])).toEqual([['grantee-decrypt', ['Decrypt']]]);
    const grantee = kmsClient(a, { credentials: { accessKeyId: 'GRANTEEKEY', secretAccessKey: 'granteesecret' } });
    const blob = (await kmsA.send(new EncryptCommand({ KeyId: KEY, Plaintext: Buffer.from('for the grantee'), EncryptionContext: { app: 'payments' } }))).CiphertextBlob;
    const opened = await grantee.send(new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: { app: 'payments' } }));
    expect(Buffer.from(opened.Plaintext!).toString()).toBe('for the grantee');
    await expect(grantee.send(new EncryptCommand({ KeyId: KEY, Plaintext: Buffer.from('x') }))).rejects.toThrow(/not authorized/);
  });

  it('buckets have their versioning, default encryption, policy, CORS, tags and objects', async () => {
    const s3 = s3Client(a);
    const Bucket = 'seeded-bucket';
    expect((await s3.send(new GetBucketVersioningCommand({ Bucket }))).Status).toBe('Enabled');
    const enc = await s3.send(new GetBucketEncryptionCommand({ Bucket }));
    const rule = enc.ServerSideEncryptionConfiguration!.Rules![0]!;
    expect(rule.ApplyServerSideEncryptionByDefault).toMatchObject({ SSEAlgorithm: 'aws:kms', KMSMasterKeyID: 'alias/seeded-app' });
    expect(rule.BucketKeyEnabled).toBe(true);
    expect(JSON.parse((await s3.send(new GetBucketPolicyCommand({ Bucket }))).Policy!).Statement[0].Action).toBe('s3:DeleteBucket');
    expect((await s3.send(new GetBucketCorsCommand({ Bucket }))).CORSRules![0]!.AllowedOrigins).toEqual(['http://localhost:3000']);
    expect((await s3.send(new GetBucketTaggingCommand({ Bucket }))).TagSet).toEqual([{ Key: 'team', Value: 'payments' }]);

    const hello = await s3.send(new GetObjectCommand({ Bucket, Key: 'hello.txt' }));
    expect(await hello.Body!.transformToString()).toBe('hello from the seed');
    expect(hello.ContentType).toBe('text/plain');
    expect(hello.Metadata).toEqual({ owner: 'alice' });
    expect(hello.ServerSideEncryption).toBe('aws:kms');
    expect(hello.SSEKMSKeyId).toBe(`arn:aws:kms:us-east-1:000000000000:key/${KEY}`);
    const payload = await s3.send(new GetObjectCommand({ Bucket, Key: 'data/payload.bin' }));
    expect([...(await payload.Body!.transformToByteArray())]).toEqual([0, 1, 2, 255]);
    const explicit = await s3.send(new HeadObjectCommand({ Bucket, Key: 'explicit.txt' }));
    expect(explicit.ServerSideEncryption).toBe('aws:kms');
    expect(explicit.BucketKeyEnabled).toBeFalsy();
  });

  it('applying the seed again creates nothing and changes nothing', async () => {
    const s3 = s3Client(a);
    await s3.send(new PutObjectCommand({ Bucket: 'seeded-bucket', Key: 'hello.txt', Body: 'changed since' }));
    const seed = loadSeed(join(dir, 'a.yaml'));
    const again = await applySeedInProcess(seed, { core: a.kms!.core, s3Endpoint: a.s3!.url, region: a.region, credentials: a.credentials });
    expect(again.created).toEqual([]);
    expect(again.skipped.length).toBe(a.seedReport!.created.length);
    const hello = await s3.send(new GetObjectCommand({ Bucket: 'seeded-bucket', Key: 'hello.txt' }));
    expect(await hello.Body!.transformToString()).toBe('changed since');
    expect((await kmsA.send(new ListGrantsCommand({ KeyId: KEY }))).Grants!.length).toBe(1);
  });
});

describe('POST /_sealbox/seed', () => {
  it('takes JSON only (a web page cannot post it without a preflight), and refuses what the KMS refuses', async () => {
    const sealbox = await startTestSealbox();
    try {
      const url = `${sealbox.kms!.url}/_sealbox/seed`;
      const keys = [{ at: 'x.yaml:2: keys.0', id: KEY, account: '000000000000', region: 'us-east-1', spec: 'SYMMETRIC_DEFAULT', material: [Buffer.from(M1, 'hex').toString('base64')] }];
      const plain = await fetch(url, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: JSON.stringify({ keys }) });
      expect(plain.status).toBe(415);
      const bad = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ keys: [{ ...keys[0], material: ['AAAA'] }] }) });
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { error: string }).error).toBe('x.yaml:2: keys.0.material.0: Key material for a SYMMETRIC_DEFAULT key must be 256 bits (32 bytes), not 3 bytes.');
      const ok = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ keys }) });
      expect(await ok.json()).toEqual({ created: [`key ${KEY} (000000000000, us-east-1)`], skipped: [] });
    } finally {
      await sealbox.stop();
    }
  });
});

describe('invalid seeds', () => {
  it.each([
    ['a key id that is not one', `keys:\n  - id: 1234\n`, 2, 'keys.0.id: must be a key id'],
    ['a key id declared in two regions', `keys:\n  - id: ${KEY}\n  - id: ${KEY}\n    region: eu-west-1\n`, 3, `keys.1.id: key ${KEY} is declared twice`],
    ['a grant the KMS refuses', `keys:\n  - id: ${KEY}\n    grants:\n      - grantee: arn:aws:iam::000000000000:root\n        operations: [Sign]\n`, 4, 'keys.0.grants.0: Grant operations Sign are not supported'],
    ['a key policy that locks the caller out', `keys:\n  - id: ${KEY}\n    policy:\n      Version: "2012-10-17"\n      Statement:\n        - { Effect: Allow, Principal: { AWS: "arn:aws:iam::000000000000:root" }, Action: "kms:Encrypt", Resource: "*" }\n`, 2, 'keys.0.policy:'],
    ['SSE-KMS headers over plain HTTP', `buckets:\n  - name: bkt\n    objects:\n      - key: k\n        text: t\n        sse: { algorithm: aws:kms }\n`, 6, 'buckets.0.objects.0.sse: S3 accepts SSE-KMS request headers only over TLS'],
  ])('%s fails before anything starts, naming the line', async (_name, text, line, message) => {
    const file = writeSeed(`bad-${line}.yaml`, text);
    const started = startTestSealbox({ seed: file });
    await expect(started).rejects.toThrow(SeedError);
    await expect(started).rejects.toThrow(`${file}:${line}: ${message}`);
  });
});

describe('portability across versions', () => {
  it('a committed ciphertext made with seed-demo.yaml decrypts in a fresh Sealbox seeded from it', async () => {
    const fixture = JSON.parse(readFileSync(join(FIXTURES, 'seed-demo.ciphertext.json'), 'utf8')) as { keyId: string; encryptionContext: Record<string, string>; plaintext: string; ciphertextBlob: string };
    const sealbox = await startTestSealbox({ seed: join(FIXTURES, 'seed-demo.yaml') });
    try {
      const out = await kmsClient(sealbox).send(new DecryptCommand({ CiphertextBlob: Buffer.from(fixture.ciphertextBlob, 'base64'), EncryptionContext: fixture.encryptionContext }));
      expect(Buffer.from(out.Plaintext!).toString()).toBe(fixture.plaintext);
      expect(out.KeyId).toBe(fixture.keyId);
    } finally {
      await sealbox.stop();
    }
  });
});

describe('sealbox seed', () => {
  it('--example prints a seed that parses', async () => {
    const { stdout, code } = await runCommand(process.execPath, [BIN, 'seed', '--example'], {});
    expect(code).toBe(0);
    expect(stdout).toBe(SEED_EXAMPLE);
    const seed = parseSeed(stdout, 'example.yaml');
    expect(seed.keys.length).toBeGreaterThan(0);
    expect(seed.buckets.length).toBeGreaterThan(0);
  });

  it('start --seed reports in its JSON line; sealbox seed FILE seeds the running instance, then skips', async () => {
    const first = writeSeed('cli-start.yaml', `keys:\n  - id: ${KEY}\n    material: [${M1}]\n    aliases: [alias/cli]\n`);
    const child: ChildProcessWithoutNullStreams = spawn(process.execPath, [BIN, 'start', '--no-tls', '--json', '--quiet', '--in-memory', '--kms-port', '0', '--s3-port', '0', '--no-console', '--seed', first]);
    const stderr: string[] = [];
    child.stderr.setEncoding('utf8').on('data', (d: string) => stderr.push(d));
    try {
      const ready = await new Promise<{ kms: string; s3: string; seed: { created: string[]; skipped: string[] } }>((resolve, reject) => {
        createInterface({ input: child.stdout }).once('line', (line) => resolve(JSON.parse(line)));
        child.once('exit', (code) => reject(new Error(`sealbox exited with ${code}: ${stderr.join('')}`)));
      });
      expect(ready.seed).toEqual({ created: [`key ${KEY} (000000000000, us-east-1)`, 'alias/cli (000000000000, us-east-1)'], skipped: [] });

      const more = writeSeed(
        'cli-more.yaml',
        `keys:\n  - id: ${KEY}\n    material: [${M1}]\n    aliases: [alias/cli, alias/cli-2]\nbuckets:\n  - name: cli-bucket\n    objects:\n      - { key: a.txt, text: from sealbox seed }\n`,
      );
      const args = [BIN, 'seed', more, '--endpoint-kms', ready.kms, '--endpoint-s3', ready.s3];
      const applied = await runCommand(process.execPath, args, {});
      expect(applied.stderr).toBe('');
      expect(applied.code).toBe(0);
      expect(applied.stdout).toContain('created alias/cli-2 (000000000000, us-east-1)');
      expect(applied.stdout).toContain(`skipped key ${KEY} (000000000000, us-east-1) (exists)`);
      expect(applied.stdout).toContain('seeded: 3 created, 2 skipped');
      const again = await runCommand(process.execPath, [...args, '--json'], {});
      expect(JSON.parse(again.stdout)).toEqual({ created: [], skipped: expect.any(Array) });
      expect((JSON.parse(again.stdout) as { skipped: string[] }).skipped.length).toBe(5);

      const s3 = new S3Client({ endpoint: ready.s3, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, forcePathStyle: true });
      expect(await (await s3.send(new GetObjectCommand({ Bucket: 'cli-bucket', Key: 'a.txt' }))).Body!.transformToString()).toBe('from sealbox seed');
      const kms = new KMSClient({ endpoint: ready.kms, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
      expect((await kms.send(new DescribeKeyCommand({ KeyId: 'alias/cli-2' }))).KeyMetadata!.KeyId).toBe(KEY);

      const bad = writeSeed('cli-bad.yaml', `keys:\n  - id: ${KEY}\n    spec: NOPE\n`);
      const refused = await runCommand(process.execPath, [BIN, 'seed', bad, '--endpoint-kms', ready.kms, '--endpoint-s3', ready.s3], {});
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain(`${bad}:3: keys.0.spec: must be a key spec`);
    } finally {
      child.kill('SIGTERM');
    }
  });
});
