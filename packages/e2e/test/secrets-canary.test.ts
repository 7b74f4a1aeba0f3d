/**
 * No secret is stored or shown. The `sealbox` command runs on a data directory; a distinctive
 * canary goes into every sensitive member of every KMS operation that has one (custom key store
 * passwords, the XKS proxy credential, Plaintext, Message, imported key material), in calls that
 * succeed and calls that fail (validation errors, access denied, not found, wrong state), and into
 * S3 object bodies and an SSE-C key. Then every file of the data directory (bytes, SQLite WAL
 * files included, while running and after stopping), the process's stdout and stderr,
 * LookupEvents' answers and the web console's API are searched for each canary, as sent and in
 * base64: none may hold one.
 *
 * One exception, by AWS's design: the XKS proxy's AccessKeyId of a store that was created or
 * updated is kept (DescribeCustomKeyStores returns it in XksProxyConfiguration), so it is in the
 * KMS database's store rows. It is searched everywhere else: the event log (its table, its file,
 * LookupEvents, the console) and the logs.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { constants, createHash, publicEncrypt, randomBytes } from 'node:crypto';
import { lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import {
  CreateCustomKeyStoreCommand,
  CreateKeyCommand,
  DecryptCommand,
  EncryptCommand,
  GenerateMacCommand,
  GetParametersForImportCommand,
  ImportKeyMaterialCommand,
  KMSClient,
  SignCommand,
  UpdateCustomKeyStoreCommand,
  VerifyCommand,
  VerifyMacCommand,
} from '@aws-sdk/client-kms';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import aws4 from 'aws4';
import Database from 'better-sqlite3';

const BIN = join(__dirname, '..', '..', 'cli', 'dist', 'bin.js');
const TOKEN = randomBytes(6).toString('hex').toUpperCase();
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

interface Canary {
  name: string;
  value: string;
  /** Data-directory files that may hold it (the XKS AccessKeyId of a kept store). */
  keptIn?: RegExp;
}
const canaries: Canary[] = [];
function canary(name: string, value: string, keptIn?: RegExp): string {
  canaries.push({ name, value, keptIn });
  return value;
}
/** A password: 7 to 32 characters. */
const password = (name: string) => canary(name, `cnry${TOKEN}${name}`.slice(0, 32));
/** An XKS access key id: 20 to 30 of [A-Z2-7]. */
const accessKeyId = (name: string, keptIn?: RegExp) =>
  canary(name, `CANARY${[...randomBytes(18)].map((b) => BASE32[b % 32]).join('')}`, keptIn);
/** An XKS secret: 43 to 64 of [a-zA-Z0-9/+=]. */
const rawSecret = (name: string) => canary(name, `canaryRawSecret${TOKEN}${randomBytes(24).toString('hex')}`.slice(0, 48));
/** Plaintext bytes: a length divisible by 3, so its base64 is found inside a longer one's too. */
const plaintext = (name: string) => {
  let text = `CANARY-${TOKEN}-${name}-plaintext`;
  while (text.length % 3 !== 0) text += '.';
  return Buffer.from(canary(name, text));
};

const SEED = `
accounts:
  - id: "111122223333"
    root: { accessKeyId: AKIAROOTCANARY, secretAccessKey: root-secret }
    users:
      - name: nobody
        accessKeyId: AKIANOBODYCANARY
        secretAccessKey: nobody-secret
        policies: []
`;

interface Started {
  child: ChildProcessWithoutNullStreams;
  ready: { kms: string; s3: string; console: string };
  stdout: string[];
  stderr: string[];
}

function startCli(dataDir: string, seed: string): Promise<Started> {
  const child = spawn(process.execPath, [
    BIN, 'start', '--no-tls', '--json', '--data-dir', dataDir, '--kms-port', '0', '--s3-port', '0', '--console-port', '0', '--seed', seed, '--allow-http-sse-kms',
  ]);
  const stdout: string[] = [];
  const stderr: string[] = [];
  child.stderr.setEncoding('utf8').on('data', (d: string) => stderr.push(d));
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => stdout.push(line + '\n'));
    lines.once('line', (line) => resolve({ child, ready: JSON.parse(line) as Started['ready'], stdout, stderr }));
    child.once('exit', (code) => reject(new Error(`sealbox exited with ${code}: ${stderr.join('')}`)));
  });
}

/** Every file under `dir`, by path relative to it. */
function files(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (path: string) => {
    const stat = lstatSync(path);
    if (stat.isDirectory()) for (const name of readdirSync(path)) walk(join(path, name));
    else if (stat.isFile()) out.set(relative(dir, path), readFileSync(path));
  };
  walk(dir);
  return out;
}

/** The forms a canary may take: as sent, base64 (padded or not) and hex. */
const forms = (value: string) => {
  const b64 = Buffer.from(value).toString('base64');
  return [value, b64, b64.replace(/=+$/, ''), Buffer.from(value).toString('hex')];
};

/** `where: canary` for each canary found in `bytes` and not allowed there. */
function found(where: string, bytes: Buffer, allowed: (c: Canary) => boolean = () => false): string[] {
  return canaries.filter((c) => !allowed(c) && forms(c.value).some((f) => bytes.includes(Buffer.from(f)))).map((c) => `${where}: ${c.name}`);
}

function get(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    request(url, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    })
      .on('error', reject)
      .end();
  });
}

/** CloudTrail's LookupEvents on the KMS port, signed with SigV4, every page. */
async function lookupEvents(kmsUrl: string, credentials: { accessKeyId: string; secretAccessKey: string }): Promise<string[]> {
  const url = new URL(kmsUrl);
  const pages: string[] = [];
  let token: string | undefined;
  do {
    const body = JSON.stringify({ MaxResults: 50, ...(token ? { NextToken: token } : {}) });
    const signed = aws4.sign(
      {
        host: url.host,
        path: '/',
        method: 'POST',
        service: 'cloudtrail',
        region: 'us-east-1',
        body,
        headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents' },
      },
      credentials,
    );
    const text = await new Promise<string>((resolve, reject) => {
      const req = request({ host: url.hostname, port: url.port, path: '/', method: 'POST', headers: signed.headers as Record<string, string> }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => (res.statusCode === 200 ? resolve(Buffer.concat(chunks).toString('utf8')) : reject(new Error(`LookupEvents: ${res.statusCode} ${Buffer.concat(chunks).toString('utf8')}`))));
      });
      req.on('error', reject);
      req.end(body);
    });
    pages.push(text);
    token = (JSON.parse(text) as { NextToken?: string }).NextToken;
  } while (token);
  return pages;
}

/** Runs a call that must fail, and returns its error's name. */
async function fails(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    return (err as Error).name;
  }
  throw new Error('expected the call to fail');
}

describe('secrets canary', () => {
  let work: string;
  let dataDir: string;
  let box: Started;
  let kms: KMSClient;
  let nobody: KMSClient;
  let s3: S3Client;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'sealbox-canary-'));
    dataDir = join(work, 'data');
    writeFileSync(join(work, 'seed.yaml'), SEED);
    box = await startCli(dataDir, join(work, 'seed.yaml'));
    const client = (credentials: { accessKeyId: string; secretAccessKey: string }) =>
      new KMSClient({ endpoint: box.ready.kms, region: 'us-east-1', credentials, maxAttempts: 1 });
    kms = client({ accessKeyId: 'test', secretAccessKey: 'test' });
    nobody = client({ accessKeyId: 'AKIANOBODYCANARY', secretAccessKey: 'nobody-secret' });
    s3 = new S3Client({ endpoint: box.ready.s3, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, forcePathStyle: true, maxAttempts: 1 });
  });

  afterAll(async () => {
    kms.destroy();
    nobody.destroy();
    s3.destroy();
    if (box.child.exitCode === null) {
      box.child.kill('SIGKILL');
      await new Promise((r) => box.child.once('exit', r));
    }
    rmSync(work, { recursive: true, force: true });
  });

  it('no canary is stored in the data directory, logged, or shown by LookupEvents or the console', async () => {
    const trustAnchor = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----';
    const cluster = (n: number) => `cluster-${'abcdefghijk'.slice(0, 10)}${BASE32[n]}`;
    const keptInKmsDb = /^kms\.db(-wal)?$/;

    // --- Custom key stores: CloudHSM passwords.
    const hsm = (
      await kms.send(new CreateCustomKeyStoreCommand({ CustomKeyStoreName: 'hsm', CloudHsmClusterId: cluster(0), TrustAnchorCertificate: trustAnchor, KeyStorePassword: password('kspCreate') }))
    ).CustomKeyStoreId!;
    await kms.send(new UpdateCustomKeyStoreCommand({ CustomKeyStoreId: hsm, KeyStorePassword: password('kspUpdate') }));
    const failures = [
      await fails(kms.send(new CreateCustomKeyStoreCommand({ CustomKeyStoreName: 'hsm', CloudHsmClusterId: cluster(1), TrustAnchorCertificate: trustAnchor, KeyStorePassword: password('kspNameUsed') }))),
      await fails(
        kms.send(new CreateCustomKeyStoreCommand({ CustomKeyStoreName: 'hsm-long', CloudHsmClusterId: cluster(2), TrustAnchorCertificate: trustAnchor, KeyStorePassword: canary('kspTooLong', `cnry${TOKEN}-far-too-long-for-a-password`) })),
      ),
      await fails(nobody.send(new CreateCustomKeyStoreCommand({ CustomKeyStoreName: 'hsm-denied', CloudHsmClusterId: cluster(3), TrustAnchorCertificate: trustAnchor, KeyStorePassword: password('kspDenied') }))),
      await fails(kms.send(new UpdateCustomKeyStoreCommand({ CustomKeyStoreId: 'cks-1234567890abcdef0', KeyStorePassword: password('kspNoStore') }))),
      await fails(nobody.send(new UpdateCustomKeyStoreCommand({ CustomKeyStoreId: hsm, KeyStorePassword: password('kspUpdDenied') }))),
    ];

    // --- Custom key stores: the XKS proxy credential.
    const xksBase = { CustomKeyStoreType: 'EXTERNAL_KEY_STORE' as const, XksProxyUriPath: '/kms/xks/v1', XksProxyConnectivity: 'PUBLIC_ENDPOINT' as const };
    const xks = (
      await kms.send(
        new CreateCustomKeyStoreCommand({
          ...xksBase,
          CustomKeyStoreName: 'xks',
          XksProxyUriEndpoint: 'https://xks.example.com',
          XksProxyAuthenticationCredential: { AccessKeyId: accessKeyId('akidCreate', keptInKmsDb), RawSecretAccessKey: rawSecret('rawCreate') },
        }),
      )
    ).CustomKeyStoreId!;
    await kms.send(
      new UpdateCustomKeyStoreCommand({ CustomKeyStoreId: xks, XksProxyAuthenticationCredential: { AccessKeyId: accessKeyId('akidUpdate', keptInKmsDb), RawSecretAccessKey: rawSecret('rawUpdate') } }),
    );
    failures.push(
      await fails(
        kms.send(
          new CreateCustomKeyStoreCommand({
            ...xksBase,
            CustomKeyStoreName: 'xks',
            XksProxyUriEndpoint: 'https://xks2.example.com',
            XksProxyAuthenticationCredential: { AccessKeyId: accessKeyId('akidNameUsed'), RawSecretAccessKey: rawSecret('rawNameUsed') },
          }),
        ),
      ),
      await fails(
        nobody.send(
          new CreateCustomKeyStoreCommand({
            ...xksBase,
            CustomKeyStoreName: 'xks-denied',
            XksProxyUriEndpoint: 'https://xks3.example.com',
            XksProxyAuthenticationCredential: { AccessKeyId: accessKeyId('akidDenied'), RawSecretAccessKey: rawSecret('rawDenied') },
          }),
        ),
      ),
      // Not a valid secret (a '-' is outside its pattern): a validation error about a sensitive member.
      await fails(
        kms.send(
          new UpdateCustomKeyStoreCommand({
            CustomKeyStoreId: xks,
            XksProxyAuthenticationCredential: { AccessKeyId: accessKeyId('akidInvalid'), RawSecretAccessKey: canary('rawInvalid', `canary-raw-secret-${TOKEN}-with-dashes-not-allowed`) },
          }),
        ),
      ),
      // An XKS credential for a CloudHSM store.
      await fails(
        kms.send(new UpdateCustomKeyStoreCommand({ CustomKeyStoreId: hsm, XksProxyAuthenticationCredential: { AccessKeyId: accessKeyId('akidWrongType'), RawSecretAccessKey: rawSecret('rawWrongType') } })),
      ),
    );

    // --- Plaintext and messages.
    const key = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    const hmac = (await kms.send(new CreateKeyCommand({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' }))).KeyMetadata!.KeyId!;
    const signer = (await kms.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' }))).KeyMetadata!.KeyId!;
    const encrypted = await kms.send(new EncryptCommand({ KeyId: key, Plaintext: plaintext('encrypt') }));
    await kms.send(new DecryptCommand({ CiphertextBlob: encrypted.CiphertextBlob }));
    const macMessage = plaintext('macMessage');
    const { Mac } = await kms.send(new GenerateMacCommand({ KeyId: hmac, MacAlgorithm: 'HMAC_SHA_256', Message: macMessage }));
    await kms.send(new VerifyMacCommand({ KeyId: hmac, MacAlgorithm: 'HMAC_SHA_256', Message: macMessage, Mac }));
    const signMessage = plaintext('signMessage');
    const { Signature } = await kms.send(new SignCommand({ KeyId: signer, SigningAlgorithm: 'ECDSA_SHA_256', MessageType: 'RAW', Message: signMessage }));
    await kms.send(new VerifyCommand({ KeyId: signer, SigningAlgorithm: 'ECDSA_SHA_256', MessageType: 'RAW', Message: signMessage, Signature }));
    const long = (name: string) => Buffer.concat([plaintext(name), Buffer.alloc(4100, 0x2e)]);
    failures.push(
      await fails(nobody.send(new EncryptCommand({ KeyId: `arn:aws:kms:us-east-1:000000000000:key/${key}`, Plaintext: plaintext('encryptDenied') }))),
      await fails(kms.send(new EncryptCommand({ KeyId: '00000000-0000-0000-0000-000000000000', Plaintext: plaintext('encryptNoKey') }))),
      await fails(kms.send(new EncryptCommand({ KeyId: key, Plaintext: long('encryptTooLong') }))),
      await fails(kms.send(new EncryptCommand({ KeyId: hmac, Plaintext: plaintext('encryptWrongUsage') }))),
      await fails(kms.send(new GenerateMacCommand({ KeyId: key, MacAlgorithm: 'HMAC_SHA_256', Message: plaintext('macWrongKey') }))),
      await fails(kms.send(new VerifyMacCommand({ KeyId: hmac, MacAlgorithm: 'HMAC_SHA_256', Message: plaintext('verifyMacBad'), Mac }))),
      await fails(kms.send(new SignCommand({ KeyId: signer, SigningAlgorithm: 'ECDSA_SHA_256', MessageType: 'RAW', Message: long('signTooLong') }))),
      await fails(kms.send(new SignCommand({ KeyId: signer, SigningAlgorithm: 'RSASSA_PSS_SHA_256', MessageType: 'RAW', Message: plaintext('signWrongAlgorithm') }))),
      await fails(kms.send(new VerifyCommand({ KeyId: signer, SigningAlgorithm: 'ECDSA_SHA_256', MessageType: 'RAW', Message: plaintext('verifyBad'), Signature }))),
    );

    // --- Imported key material (wrapped on the wire: the material itself must never appear).
    const external = (await kms.send(new CreateKeyCommand({ Origin: 'EXTERNAL' }))).KeyMetadata!.KeyId!;
    const params = await kms.send(new GetParametersForImportCommand({ KeyId: external, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' }));
    const material = Buffer.from(canary('material', `CANARY${TOKEN}material0123456789`.slice(0, 32)));
    expect(material).toHaveLength(32);
    const wrapPublicKey = { key: Buffer.from(params.PublicKey!), format: 'der' as const, type: 'spki' as const, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' };
    await kms.send(
      new ImportKeyMaterialCommand({ KeyId: external, ImportToken: params.ImportToken, EncryptedKeyMaterial: publicEncrypt(wrapPublicKey, material), ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' }),
    );
    failures.push(
      await fails(
        kms.send(new ImportKeyMaterialCommand({ KeyId: key, ImportToken: params.ImportToken, EncryptedKeyMaterial: publicEncrypt(wrapPublicKey, material), ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' })),
      ),
    );

    // --- S3: object bodies (SSE-S3 and SSE-KMS) and an SSE-C key.
    await s3.send(new CreateBucketCommand({ Bucket: 'canary' }));
    await s3.send(new PutObjectCommand({ Bucket: 'canary', Key: 'sse-s3', Body: plaintext('objectSseS3') }));
    await s3.send(new PutObjectCommand({ Bucket: 'canary', Key: 'sse-kms', Body: plaintext('objectSseKms'), ServerSideEncryption: 'aws:kms', SSEKMSKeyId: key }));
    const customerKey = Buffer.from(canary('sseCustomerKey', `CANARY${TOKEN}ssec-key-0123456789`.slice(0, 32)));
    expect(customerKey).toHaveLength(32);
    const ssec = { SSECustomerAlgorithm: 'AES256', SSECustomerKey: customerKey.toString('base64') as unknown as string };
    await s3.send(new PutObjectCommand({ Bucket: 'canary', Key: 'sse-c', Body: plaintext('objectSseC'), ...ssec }));
    const back = await s3.send(new GetObjectCommand({ Bucket: 'canary', Key: 'sse-c', ...ssec }));
    expect(await back.Body!.transformToString()).toContain(TOKEN);

    // Every failure is the one meant (a call that succeeded would test nothing).
    expect(failures).toEqual([
      'CustomKeyStoreNameInUseException',
      'ValidationException',
      'AccessDeniedException',
      'CustomKeyStoreNotFoundException',
      'AccessDeniedException',
      'CustomKeyStoreNameInUseException',
      'AccessDeniedException',
      'ValidationException',
      'ValidationException',
      'AccessDeniedException',
      'NotFoundException',
      'ValidationException',
      'InvalidKeyUsageException',
      'InvalidKeyUsageException',
      'KMSInvalidMacException',
      'ValidationException',
      'InvalidKeyUsageException',
      'KMSInvalidSignatureException',
      'UnsupportedOperationException',
    ]);

    // --- Search. Everything the process shows: LookupEvents in both accounts, the console's API.
    const leaks: string[] = [];
    for (const credentials of [
      { accessKeyId: 'test', secretAccessKey: 'test' },
      { accessKeyId: 'AKIAROOTCANARY', secretAccessKey: 'root-secret' },
    ]) {
      const pages = await lookupEvents(box.ready.kms, credentials);
      expect(pages.join('')).toContain('CreateCustomKeyStore');
      for (const page of pages) leaks.push(...found(`LookupEvents (${credentials.accessKeyId})`, Buffer.from(page)));
    }
    const events = await get(`${box.ready.console}/api/events?after=0&limit=1000`);
    expect(events).toContain('UpdateCustomKeyStore');
    for (const path of ['/api/overview', '/api/keys', '/api/buckets', '/api/objects?bucket=canary', '/api/events?after=0&limit=1000']) {
      leaks.push(...found(`console ${path}`, Buffer.from(await get(`${box.ready.console}${path}`))));
    }
    // The request log and every decision record of both services (issue 20), with a request
    // signed with the wrong secret among them: no canary, no secret key, no signature.
    const url = new URL(box.ready.kms);
    const badBody = JSON.stringify({ KeyId: key, Plaintext: plaintext('wrongSecret').toString('base64') });
    const bad = aws4.sign(
      { host: url.host, path: '/', method: 'POST', service: 'kms', region: 'us-east-1', body: badBody, headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': 'TrentService.Encrypt' } },
      { accessKeyId: 'AKIANOBODYCANARY', secretAccessKey: 'not-nobody-secret' },
    );
    const signature = /Signature=([0-9a-f]{64})/.exec(String((bad.headers as Record<string, string>).Authorization))![1]!;
    await new Promise<void>((resolve, reject) => {
      request({ host: url.hostname, port: url.port, path: '/', method: 'POST', headers: bad.headers as Record<string, string> }, (res) => {
        expect(res.statusCode).toBe(400);
        res.resume().on('end', () => resolve());
      })
        .on('error', reject)
        .end(badBody);
    });
    let records = 0;
    for (const endpoint of [box.ready.kms, box.ready.s3]) {
      const log = await get(`${endpoint}/_sealbox/requests?limit=10000`);
      const ids = (JSON.parse(log) as { requests: Array<{ requestId: string }> }).requests.map((r) => r.requestId);
      const docs = [log];
      for (const id of ids) docs.push(await get(`${endpoint}/_sealbox/decisions/${id}`));
      records += ids.length;
      for (const doc of docs) {
        leaks.push(...found(`decision records ${endpoint}`, Buffer.from(doc)));
        for (const secret of ['root-secret', 'nobody-secret', signature]) if (doc.includes(secret)) leaks.push(`decision records ${endpoint}: ${secret}`);
      }
    }
    expect(records).toBeGreaterThan(40);

    // The data directory while running (the WAL files hold the latest writes).
    const running = files(dataDir);
    expect([...running.keys()]).toEqual(expect.arrayContaining(['kms.db-wal', 's3.db-wal', 'cloudtrail.jsonl']));
    for (const [name, bytes] of running) leaks.push(...found(`${name} (running)`, bytes, (c) => c.keptIn?.test(name) === true));

    // Stopped cleanly: what is left on disk, and everything the process printed.
    box.child.kill('SIGTERM');
    await new Promise((r) => (box.child.exitCode !== null ? r(null) : box.child.once('exit', r)));
    for (const [name, bytes] of files(dataDir)) leaks.push(...found(`${name} (stopped)`, bytes, (c) => c.keptIn?.test(name) === true));
    const stdout = box.stdout.join('');
    const stderr = box.stderr.join('');
    // The access log was on (stderr, with --json): the calls were logged, their secrets not.
    expect(stderr).toContain('CreateCustomKeyStore');
    leaks.push(...found('stdout', Buffer.from(stdout)), ...found('stderr', Buffer.from(stderr)));
    // Kept store AccessKeyIds: in the store rows only, never in the event log's table.
    const db = new Database(join(dataDir, 'kms.db'), { readonly: true, fileMustExist: true });
    try {
      const rows = JSON.stringify(db.prepare('SELECT * FROM events').all());
      expect(rows).toContain('UpdateCustomKeyStore');
      leaks.push(...found('kms.db events table', Buffer.from(rows)));
    } finally {
      db.close();
    }

    expect(canaries.length).toBeGreaterThan(30);
    expect(leaks).toEqual([]);
    // The canary search itself works: the kept AccessKeyId is found in the store's rows.
    expect(found('kms.db', readFileSync(join(dataDir, 'kms.db'))).some((l) => l.endsWith('akidUpdate'))).toBe(true);
    // And the MD5 of the SSE-C key (which S3 keeps and returns, as AWS does) is not the key.
    expect(createHash('md5').update(customerKey).digest('base64')).not.toContain(TOKEN);
  }, 120_000);
});
