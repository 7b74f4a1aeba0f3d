/**
 * Asymmetric and HMAC cryptography through @aws-sdk/client-kms, checked against independent
 * implementations: RSA-OAEP ciphertexts made with Node, Python `cryptography` and `openssl` from
 * the GetPublicKey key decrypt in Sealbox; data key pairs sign and verify in Node; HMACs equal
 * Node's createHmac; ECDH secrets equal Node's. Every error path, DryRun and the authorization
 * actions are checked too.
 */
import { createHmac, createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, publicEncrypt, constants, sign, verify, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateGrantCommand,
  CreateKeyCommand,
  DecryptCommand,
  DeriveSharedSecretCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EncryptCommand,
  type EncryptionAlgorithmSpec,
  GenerateDataKeyPairCommand,
  GenerateDataKeyPairWithoutPlaintextCommand,
  GenerateMacCommand,
  GetPublicKeyCommand,
  type KeyMetadata,
  type KeySpec,
  type KeyUsageType,
  type KMSClient,
  type MacAlgorithmSpec,
  ReEncryptCommand,
  VerifyMacCommand,
  type DataKeyPairSpec,
} from '@aws-sdk/client-kms';
import type { Sealbox } from '@sealbox/cli';
import { awsEnv, failure, kmsClient, runCommand, startTestSealbox } from './helpers';

let sealbox: Sealbox;
let kms: KMSClient;
const keys: Record<string, KeyMetadata> = {};
const publicKeys: Record<string, KeyObject> = {};
/** A real grant token (GrantTokens are accepted, and must be well formed). */
let grantToken: string;

async function createKey(name: string, KeySpec: KeySpec, KeyUsage: KeyUsageType, Policy?: string): Promise<void> {
  keys[name] = (await kms.send(new CreateKeyCommand({ KeySpec, KeyUsage, Policy }))).KeyMetadata!;
}

const ROOT = 'arn:aws:iam::000000000000:root';
/** A key policy that lets the account do everything except `denied`. */
const denyPolicy = (...denied: string[]) =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      { Sid: 'root', Effect: 'Allow', Principal: { AWS: ROOT }, Action: 'kms:*', Resource: '*' },
      { Sid: 'deny', Effect: 'Deny', Principal: { AWS: '*' }, Action: denied.map((a) => `kms:${a}`), Resource: '*' },
    ],
  });

/**
 * carol's IAM policy allows one operation of each pair; grace has no policy and works through
 * grants only.
 */
const SEED = {
  accounts: [
    {
      id: '000000000000',
      users: [
        {
          name: 'carol',
          accessKeyId: 'CAROL',
          secretAccessKey: 'carol-secret',
          policies: [{ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['kms:GenerateDataKeyPair', 'kms:GenerateMac', 'kms:DeriveSharedSecret', 'kms:Decrypt'], Resource: '*' }] }],
        },
        { name: 'grace', accessKeyId: 'GRACE', secretAccessKey: 'grace-secret' },
      ],
    },
  ],
};
let seedDir: string;
let carol: KMSClient;
let grace: KMSClient;

beforeAll(async () => {
  seedDir = mkdtempSync(join(tmpdir(), 'sealbox-asym-'));
  writeFileSync(join(seedDir, 'seed.json'), JSON.stringify(SEED));
  sealbox = await startTestSealbox({ only: 'kms', seed: join(seedDir, 'seed.json') });
  kms = kmsClient(sealbox);
  carol = kmsClient(sealbox, { credentials: { accessKeyId: 'CAROL', secretAccessKey: 'carol-secret' } });
  grace = kmsClient(sealbox, { credentials: { accessKeyId: 'GRACE', secretAccessKey: 'grace-secret' } });
  await Promise.all([
    createKey('sym', 'SYMMETRIC_DEFAULT', 'ENCRYPT_DECRYPT'),
    createKey('sym2', 'SYMMETRIC_DEFAULT', 'ENCRYPT_DECRYPT'),
    createKey('rsa2048', 'RSA_2048', 'ENCRYPT_DECRYPT'),
    createKey('rsa3072', 'RSA_3072', 'ENCRYPT_DECRYPT'),
    createKey('rsa4096', 'RSA_4096', 'ENCRYPT_DECRYPT'),
    createKey('rsaDisabled', 'RSA_2048', 'ENCRYPT_DECRYPT'),
    createKey('signing', 'ECC_NIST_P256', 'SIGN_VERIFY'),
    createKey('hmac224', 'HMAC_224', 'GENERATE_VERIFY_MAC'),
    createKey('hmac256', 'HMAC_256', 'GENERATE_VERIFY_MAC'),
    createKey('hmac384', 'HMAC_384', 'GENERATE_VERIFY_MAC'),
    createKey('hmac512', 'HMAC_512', 'GENERATE_VERIFY_MAC'),
    createKey('p256', 'ECC_NIST_P256', 'KEY_AGREEMENT'),
    createKey('p384', 'ECC_NIST_P384', 'KEY_AGREEMENT'),
    createKey('p521', 'ECC_NIST_P521', 'KEY_AGREEMENT'),
    createKey('symDenied', 'SYMMETRIC_DEFAULT', 'ENCRYPT_DECRYPT', denyPolicy('GenerateDataKeyPair', 'GenerateDataKeyPairWithoutPlaintext')),
    createKey('hmacDenied', 'HMAC_256', 'GENERATE_VERIFY_MAC', denyPolicy('GenerateMac', 'VerifyMac')),
    createKey('p256Denied', 'ECC_NIST_P256', 'KEY_AGREEMENT', denyPolicy('DeriveSharedSecret')),
  ]);
  grantToken = (await kms.send(new CreateGrantCommand({ KeyId: keys.sym!.KeyId, GranteePrincipal: ROOT, Operations: ['GenerateDataKeyPair', 'Decrypt'] }))).GrantToken!;
  for (const name of ['rsa2048', 'rsa3072', 'rsa4096', 'p256', 'p384', 'p521']) {
    const out = await kms.send(new GetPublicKeyCommand({ KeyId: keys[name]!.KeyId }));
    publicKeys[name] = createPublicKey({ key: Buffer.from(out.PublicKey!), format: 'der', type: 'spki' });
  }
}, 120_000);
afterAll(async () => {
  await sealbox.stop();
  rmSync(seedDir, { recursive: true, force: true });
});

/** The SDK reports an error sent without a message with its placeholder, UnknownError. */
async function expectError(promise: Promise<unknown>, name: string, message?: string) {
  const err = await failure(promise);
  expect({ name: err.name, message: err.message }).toEqual({ name, message: message ?? expect.any(String) });
}

const oaepHash = (algorithm: string) => (algorithm === 'RSAES_OAEP_SHA_1' ? 'sha1' : 'sha256');
const RSA_ALGORITHMS: EncryptionAlgorithmSpec[] = ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256'];

interface TrailRecord {
  eventName: string;
  errorCode?: string;
  requestParameters?: Record<string, unknown> | null;
  responseElements?: unknown;
  additionalEventData?: Record<string, unknown>;
}

/** Every event recorded so far, newest first, from the admin view of the log. */
function events(): TrailRecord[] {
  const box = sealbox.kms as unknown as { core: { trail: { flush(): void }; store: { lookupEvents(q: object): { event: { record: string } }[] } } };
  box.core.trail.flush();
  return box.core.store.lookupEvents({ accountId: '000000000000', region: 'us-east-1', limit: 10_000 }).map((e) => JSON.parse(e.event.record) as TrailRecord);
}

describe('Encrypt and Decrypt with RSA keys', () => {
  it.each(RSA_ALGORITHMS)('%s: raw RSA-OAEP of the modulus length, round trip with KeyId and algorithm', async (algorithm) => {
    const key = keys.rsa2048!;
    const plaintext = Buffer.from('attack at dawn');
    const enc = await kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: plaintext, EncryptionAlgorithm: algorithm }));
    expect(enc).toMatchObject({ KeyId: key.Arn, EncryptionAlgorithm: algorithm });
    expect(enc.CiphertextBlob!.length).toBe(256);
    const dec = await kms.send(new DecryptCommand({ KeyId: key.Arn, CiphertextBlob: enc.CiphertextBlob, EncryptionAlgorithm: algorithm }));
    expect(Buffer.from(dec.Plaintext!)).toEqual(plaintext);
    expect(dec).toMatchObject({ KeyId: key.Arn, EncryptionAlgorithm: algorithm });
    expect(dec.KeyMaterialId).toBeUndefined();
    // The same ciphertext under the other OAEP hash does not open.
    const other = algorithm === 'RSAES_OAEP_SHA_1' ? 'RSAES_OAEP_SHA_256' : 'RSAES_OAEP_SHA_1';
    await expectError(kms.send(new DecryptCommand({ KeyId: key.KeyId, CiphertextBlob: enc.CiphertextBlob, EncryptionAlgorithm: other })), 'IncorrectKeyException');
    // Nor under another RSA key.
    await expectError(kms.send(new DecryptCommand({ KeyId: keys.rsa4096!.KeyId, CiphertextBlob: enc.CiphertextBlob, EncryptionAlgorithm: algorithm })), 'IncorrectKeyException');
  });

  it.each(RSA_ALGORITHMS)('%s: ciphertexts Node makes with the GetPublicKey key decrypt in Sealbox (MGF1 with the same hash)', async (algorithm) => {
    for (const name of ['rsa2048', 'rsa4096']) {
      const plaintext = Buffer.from(`made outside with ${algorithm}`);
      const ciphertext = publicEncrypt({ key: publicKeys[name]!, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: oaepHash(algorithm) }, plaintext);
      const dec = await kms.send(new DecryptCommand({ KeyId: keys[name]!.KeyId, CiphertextBlob: ciphertext, EncryptionAlgorithm: algorithm }));
      expect(Buffer.from(dec.Plaintext!)).toEqual(plaintext);
    }
  });

  it('ciphertexts Python cryptography and openssl make with the public key decrypt in Sealbox', async () => {
    const key = keys.rsa3072!;
    const spki = publicKeys.rsa3072!.export({ type: 'spki', format: 'der' });
    const script = [
      'import base64, sys',
      'from cryptography.hazmat.primitives import hashes, serialization',
      'from cryptography.hazmat.primitives.asymmetric import padding',
      'key = serialization.load_der_public_key(base64.b64decode(sys.argv[1]))',
      'for h in (hashes.SHA1(), hashes.SHA256()):',
      '    print(base64.b64encode(key.encrypt(sys.argv[2].encode(), padding.OAEP(mgf=padding.MGF1(algorithm=h), algorithm=h, label=None))).decode())',
    ].join('\n');
    const py = await runCommand('python3', ['-c', script, spki.toString('base64'), 'from python'], {});
    expect(py.stderr).toBe('');
    const [sha1, sha256] = py.stdout.trim().split('\n');
    for (const [ciphertext, algorithm] of [[sha1, 'RSAES_OAEP_SHA_1'], [sha256, 'RSAES_OAEP_SHA_256']] as const) {
      const dec = await kms.send(new DecryptCommand({ KeyId: key.KeyId, CiphertextBlob: Buffer.from(ciphertext!, 'base64'), EncryptionAlgorithm: algorithm }));
      expect(Buffer.from(dec.Plaintext!).toString()).toBe('from python');
    }

    const dir = mkdtempSync(join(tmpdir(), 'sealbox-oaep-'));
    try {
      writeFileSync(join(dir, 'pub.pem'), publicKeys.rsa3072!.export({ type: 'spki', format: 'pem' }));
      writeFileSync(join(dir, 'plain'), 'from openssl');
      for (const [md, algorithm] of [['sha1', 'RSAES_OAEP_SHA_1'], ['sha256', 'RSAES_OAEP_SHA_256']] as const) {
        const out = join(dir, `ct-${md}`);
        const args = ['pkeyutl', '-encrypt', '-pubin', '-inkey', join(dir, 'pub.pem'), '-in', join(dir, 'plain'), '-out', out];
        const result = await runCommand('openssl', [...args, '-pkeyopt', 'rsa_padding_mode:oaep', '-pkeyopt', `rsa_oaep_md:${md}`, '-pkeyopt', `rsa_mgf1_md:${md}`], {});
        expect(result.code).toBe(0);
        const dec = await kms.send(new DecryptCommand({ KeyId: key.KeyId, CiphertextBlob: readFileSync(out), EncryptionAlgorithm: algorithm }));
        expect(Buffer.from(dec.Plaintext!).toString()).toBe('from openssl');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([
    ['rsa2048', 'RSA_2048', 'RSAES_OAEP_SHA_1', 214],
    ['rsa2048', 'RSA_2048', 'RSAES_OAEP_SHA_256', 190],
    ['rsa3072', 'RSA_3072', 'RSAES_OAEP_SHA_1', 342],
    ['rsa3072', 'RSA_3072', 'RSAES_OAEP_SHA_256', 318],
    ['rsa4096', 'RSA_4096', 'RSAES_OAEP_SHA_1', 470],
    ['rsa4096', 'RSA_4096', 'RSAES_OAEP_SHA_256', 446],
  ] as const)('%s %s takes at most %s bytes with %s', async (name, spec, algorithm, max) => {
    const KeyId = keys[name]!.KeyId;
    const enc = await kms.send(new EncryptCommand({ KeyId, Plaintext: Buffer.alloc(max, 7), EncryptionAlgorithm: algorithm }));
    expect(enc.CiphertextBlob!.length).toBe(Number(spec.slice(4)) / 8);
    await expectError(
      kms.send(new EncryptCommand({ KeyId, Plaintext: Buffer.alloc(max + 1, 7), EncryptionAlgorithm: algorithm })),
      'ValidationException',
      `Algorithm ${algorithm} and key spec ${spec} cannot encrypt data larger than ${max} bytes.`,
    );
  });

  it('refuses what AWS refuses, in its words', async () => {
    const rsa = keys.rsa2048!;
    const sym = keys.sym!;
    const plaintext = Buffer.from('x');
    // No algorithm means SYMMETRIC_DEFAULT, which RSA keys refuse; RSA algorithms are refused by symmetric keys.
    for (const EncryptionAlgorithm of [undefined, 'SYMMETRIC_DEFAULT'] as const) {
      await expectError(kms.send(new EncryptCommand({ KeyId: rsa.KeyId, Plaintext: plaintext, EncryptionAlgorithm })), 'InvalidKeyUsageException', 'Algorithm SYMMETRIC_DEFAULT is incompatible with key spec RSA_2048.');
    }
    await expectError(
      kms.send(new EncryptCommand({ KeyId: sym.KeyId, Plaintext: plaintext, EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' })),
      'InvalidKeyUsageException',
      'Algorithm RSAES_OAEP_SHA_256 is incompatible with key spec SYMMETRIC_DEFAULT.',
    );
    await expectError(
      kms.send(new EncryptCommand({ KeyId: keys.signing!.KeyId, Plaintext: plaintext, EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' })),
      'InvalidKeyUsageException',
      `${keys.signing!.Arn} key usage is SIGN_VERIFY which is not valid for Encrypt.`,
    );
    // Asymmetric encryption takes no encryption context.
    const contextMessage = 'EncryptionContext is not supported when encrypting/decrypting with asymmetric CMKs.';
    await expectError(kms.send(new EncryptCommand({ KeyId: rsa.KeyId, Plaintext: plaintext, EncryptionAlgorithm: 'RSAES_OAEP_SHA_1', EncryptionContext: { a: 'b' } })), 'ValidationException', contextMessage);
    const { CiphertextBlob } = await kms.send(new EncryptCommand({ KeyId: rsa.KeyId, Plaintext: plaintext, EncryptionAlgorithm: 'RSAES_OAEP_SHA_1' }));
    await expectError(kms.send(new DecryptCommand({ KeyId: rsa.KeyId, CiphertextBlob, EncryptionAlgorithm: 'RSAES_OAEP_SHA_1', EncryptionContext: { a: 'b' } })), 'ValidationException', contextMessage);
    // RSA ciphertext names no key: KeyId is required, and without the algorithm it is not a ciphertext at all.
    await expectError(kms.send(new DecryptCommand({ CiphertextBlob, EncryptionAlgorithm: 'RSAES_OAEP_SHA_1' })), 'ValidationException', 'KeyId must not be null');
    await expectError(kms.send(new DecryptCommand({ KeyId: rsa.KeyId, CiphertextBlob })), 'InvalidCiphertextException', 'UnknownError');
    await expectError(
      kms.send(new DecryptCommand({ KeyId: sym.KeyId, CiphertextBlob, EncryptionAlgorithm: 'RSAES_OAEP_SHA_1' })),
      'InvalidKeyUsageException',
      'Algorithm RSAES_OAEP_SHA_1 is incompatible with key spec SYMMETRIC_DEFAULT.',
    );
    await expectError(
      kms.send(new DecryptCommand({ KeyId: keys.signing!.KeyId, CiphertextBlob, EncryptionAlgorithm: 'RSAES_OAEP_SHA_1' })),
      'InvalidKeyUsageException',
      `${keys.signing!.Arn} key usage is SIGN_VERIFY which is not valid for Decrypt.`,
    );
    // A symmetric blob named with an RSA algorithm goes to the RSA key, and does not open there.
    const symBlob = (await kms.send(new EncryptCommand({ KeyId: sym.KeyId, Plaintext: plaintext }))).CiphertextBlob;
    await expectError(kms.send(new DecryptCommand({ KeyId: rsa.KeyId, CiphertextBlob: symBlob, EncryptionAlgorithm: 'RSAES_OAEP_SHA_1' })), 'IncorrectKeyException');
    // DryRun checks everything, then stops.
    const dry = 'The request would have succeeded, but the DryRun option is set.';
    await expectError(kms.send(new EncryptCommand({ KeyId: rsa.KeyId, Plaintext: plaintext, EncryptionAlgorithm: 'RSAES_OAEP_SHA_1', DryRun: true })), 'DryRunOperationException', dry);
    await expectError(kms.send(new DecryptCommand({ KeyId: rsa.KeyId, CiphertextBlob, EncryptionAlgorithm: 'RSAES_OAEP_SHA_1', DryRun: true })), 'DryRunOperationException', dry);
    await expectError(kms.send(new EncryptCommand({ KeyId: rsa.KeyId, Plaintext: Buffer.alloc(300), EncryptionAlgorithm: 'RSAES_OAEP_SHA_1', DryRun: true })), 'ValidationException');
    // GrantTokens are accepted.
    const withGrantTokens = await kms.send(new DecryptCommand({ KeyId: rsa.KeyId, CiphertextBlob, EncryptionAlgorithm: 'RSAES_OAEP_SHA_1', GrantTokens: [grantToken] }));
    expect(Buffer.from(withGrantTokens.Plaintext!)).toEqual(plaintext);
  });

  it('a disabled RSA key neither encrypts nor decrypts', async () => {
    const key = keys.rsaDisabled!;
    const { CiphertextBlob } = await kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x'), EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' }));
    await kms.send(new DisableKeyCommand({ KeyId: key.KeyId }));
    await expectError(kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x'), EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' })), 'DisabledException', `${key.Arn} is disabled.`);
    await expectError(kms.send(new DecryptCommand({ KeyId: key.KeyId, CiphertextBlob, EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' })), 'DisabledException', `${key.Arn} is disabled.`);
  });
});

describe('ReEncrypt across symmetric and RSA keys', () => {
  it('symmetric to RSA, RSA to RSA, RSA to symmetric', async () => {
    const plaintext = Buffer.from('moving between keys');
    const sym = keys.sym!;
    const rsa = keys.rsa2048!;
    const rsa4096 = keys.rsa4096!;
    const start = await kms.send(new EncryptCommand({ KeyId: sym.KeyId, Plaintext: plaintext, EncryptionContext: { purpose: 'test' } }));

    const toRsa = await kms.send(
      new ReEncryptCommand({ CiphertextBlob: start.CiphertextBlob, SourceEncryptionContext: { purpose: 'test' }, DestinationKeyId: rsa.KeyId, DestinationEncryptionAlgorithm: 'RSAES_OAEP_SHA_256' }),
    );
    expect(toRsa).toMatchObject({ SourceKeyId: sym.Arn, KeyId: rsa.Arn, SourceEncryptionAlgorithm: 'SYMMETRIC_DEFAULT', DestinationEncryptionAlgorithm: 'RSAES_OAEP_SHA_256' });
    expect(toRsa.SourceKeyMaterialId).toBe(sym.CurrentKeyMaterialId);
    expect(toRsa.DestinationKeyMaterialId).toBeUndefined();
    expect(toRsa.CiphertextBlob!.length).toBe(256);

    const rsaToRsa = await kms.send(
      new ReEncryptCommand({
        CiphertextBlob: toRsa.CiphertextBlob,
        SourceKeyId: rsa.KeyId,
        SourceEncryptionAlgorithm: 'RSAES_OAEP_SHA_256',
        DestinationKeyId: rsa4096.KeyId,
        DestinationEncryptionAlgorithm: 'RSAES_OAEP_SHA_1',
      }),
    );
    expect(rsaToRsa).toMatchObject({ SourceKeyId: rsa.Arn, KeyId: rsa4096.Arn, SourceEncryptionAlgorithm: 'RSAES_OAEP_SHA_256', DestinationEncryptionAlgorithm: 'RSAES_OAEP_SHA_1' });
    expect(rsaToRsa.CiphertextBlob!.length).toBe(512);

    const back = await kms.send(
      new ReEncryptCommand({
        CiphertextBlob: rsaToRsa.CiphertextBlob,
        SourceKeyId: rsa4096.Arn,
        SourceEncryptionAlgorithm: 'RSAES_OAEP_SHA_1',
        DestinationKeyId: keys.sym2!.KeyId,
        DestinationEncryptionContext: { back: 'yes' },
      }),
    );
    expect(back).toMatchObject({ SourceKeyId: rsa4096.Arn, KeyId: keys.sym2!.Arn, SourceEncryptionAlgorithm: 'RSAES_OAEP_SHA_1', DestinationEncryptionAlgorithm: 'SYMMETRIC_DEFAULT' });
    expect(back.SourceKeyMaterialId).toBeUndefined();
    expect(back.DestinationKeyMaterialId).toBe(keys.sym2!.CurrentKeyMaterialId);
    const dec = await kms.send(new DecryptCommand({ CiphertextBlob: back.CiphertextBlob, EncryptionContext: { back: 'yes' } }));
    expect(Buffer.from(dec.Plaintext!)).toEqual(plaintext);

    // A ciphertext made outside Sealbox with the public key re-encrypts too.
    const outside = publicEncrypt({ key: publicKeys.rsa2048!, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, plaintext);
    const fromOutside = await kms.send(new ReEncryptCommand({ CiphertextBlob: outside, SourceKeyId: rsa.KeyId, SourceEncryptionAlgorithm: 'RSAES_OAEP_SHA_1', DestinationKeyId: sym.KeyId }));
    expect(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob: fromOutside.CiphertextBlob }))).Plaintext!)).toEqual(plaintext);
  });

  it('SourceKeyId, the algorithms and the contexts follow the Encrypt and Decrypt rules', async () => {
    const sym = keys.sym!;
    const rsa = keys.rsa2048!;
    const symBlob = (await kms.send(new EncryptCommand({ KeyId: sym.KeyId, Plaintext: Buffer.from('x') }))).CiphertextBlob;
    const rsaBlob = (await kms.send(new EncryptCommand({ KeyId: rsa.KeyId, Plaintext: Buffer.from('x'), EncryptionAlgorithm: 'RSAES_OAEP_SHA_1' }))).CiphertextBlob;
    await expectError(kms.send(new ReEncryptCommand({ CiphertextBlob: symBlob, DestinationKeyId: rsa.KeyId })), 'InvalidKeyUsageException', 'Algorithm SYMMETRIC_DEFAULT is incompatible with key spec RSA_2048.');
    await expectError(
      kms.send(new ReEncryptCommand({ CiphertextBlob: symBlob, DestinationKeyId: sym.KeyId, DestinationEncryptionAlgorithm: 'RSAES_OAEP_SHA_1' })),
      'InvalidKeyUsageException',
      'Algorithm RSAES_OAEP_SHA_1 is incompatible with key spec SYMMETRIC_DEFAULT.',
    );
    await expectError(
      kms.send(new ReEncryptCommand({ CiphertextBlob: symBlob, DestinationKeyId: rsa.KeyId, DestinationEncryptionAlgorithm: 'RSAES_OAEP_SHA_1', DestinationEncryptionContext: { a: 'b' } })),
      'ValidationException',
      'EncryptionContext is not supported when encrypting/decrypting with asymmetric CMKs.',
    );
    await expectError(kms.send(new ReEncryptCommand({ CiphertextBlob: rsaBlob, SourceEncryptionAlgorithm: 'RSAES_OAEP_SHA_1', DestinationKeyId: sym.KeyId })), 'ValidationException', 'SourceKeyId must not be null');
    await expectError(kms.send(new ReEncryptCommand({ CiphertextBlob: rsaBlob, SourceKeyId: rsa.KeyId, DestinationKeyId: sym.KeyId })), 'InvalidCiphertextException', 'UnknownError');
    await expectError(
      kms.send(new ReEncryptCommand({ CiphertextBlob: rsaBlob, SourceKeyId: rsa.KeyId, SourceEncryptionAlgorithm: 'RSAES_OAEP_SHA_1', SourceEncryptionContext: { a: 'b' }, DestinationKeyId: sym.KeyId })),
      'ValidationException',
      'EncryptionContext is not supported when encrypting/decrypting with asymmetric CMKs.',
    );
    await expectError(
      kms.send(new ReEncryptCommand({ CiphertextBlob: symBlob, DestinationKeyId: keys.signing!.KeyId, DestinationEncryptionAlgorithm: 'RSAES_OAEP_SHA_1' })),
      'InvalidKeyUsageException',
      `${keys.signing!.Arn} key usage is SIGN_VERIFY which is not valid for ReEncrypt.`,
    );
    await expectError(
      kms.send(new ReEncryptCommand({ CiphertextBlob: rsaBlob, SourceKeyId: rsa.KeyId, SourceEncryptionAlgorithm: 'RSAES_OAEP_SHA_1', DestinationKeyId: rsa.KeyId, DestinationEncryptionAlgorithm: 'RSAES_OAEP_SHA_256', DryRun: true })),
      'DryRunOperationException',
    );
  });
});

/** What Node sees in each KeyPairSpec's public key, and the digest its signature test uses. */
const PAIRS: [DataKeyPairSpec, string, Record<string, unknown>, string | null][] = [
  ['RSA_2048', 'rsa', { modulusLength: 2048 }, 'sha256'],
  ['RSA_3072', 'rsa', { modulusLength: 3072 }, 'sha256'],
  ['RSA_4096', 'rsa', { modulusLength: 4096 }, 'sha256'],
  ['ECC_NIST_P256', 'ec', { namedCurve: 'prime256v1' }, 'sha256'],
  ['ECC_NIST_P384', 'ec', { namedCurve: 'secp384r1' }, 'sha384'],
  ['ECC_NIST_P521', 'ec', { namedCurve: 'secp521r1' }, 'sha512'],
  ['ECC_SECG_P256K1', 'ec', { namedCurve: 'secp256k1' }, 'sha256'],
  ['ECC_NIST_EDWARDS25519', 'ed25519', {}, null],
];

describe('GenerateDataKeyPair and GenerateDataKeyPairWithoutPlaintext', () => {
  it.each(PAIRS)('%s: a matching SPKI public key and PKCS #8 private key; the ciphertext blob decrypts to the private key', async (spec, type, details, digest) => {
    const sym = keys.sym!;
    const ec = { pair: spec };
    const out = await kms.send(new GenerateDataKeyPairCommand({ KeyId: sym.KeyId, KeyPairSpec: spec, EncryptionContext: ec, GrantTokens: [grantToken] }));
    expect(out).toMatchObject({ KeyId: sym.Arn, KeyPairSpec: spec, KeyMaterialId: sym.CurrentKeyMaterialId });
    const publicKey = createPublicKey({ key: Buffer.from(out.PublicKey!), format: 'der', type: 'spki' });
    const privateKey = createPrivateKey({ key: Buffer.from(out.PrivateKeyPlaintext!), format: 'der', type: 'pkcs8' });
    expect(publicKey.asymmetricKeyType).toBe(type);
    expect(publicKey.asymmetricKeyDetails).toMatchObject(details);
    const message = Buffer.from('signed with the data key pair');
    expect(verify(digest, message, publicKey, sign(digest, message, privateKey))).toBe(true);
    const dec = await kms.send(new DecryptCommand({ CiphertextBlob: out.PrivateKeyCiphertextBlob, EncryptionContext: ec }));
    expect(Buffer.from(dec.Plaintext!)).toEqual(Buffer.from(out.PrivateKeyPlaintext!));
    expect(dec.KeyId).toBe(sym.Arn);
    await expectError(kms.send(new DecryptCommand({ CiphertextBlob: out.PrivateKeyCiphertextBlob })), 'InvalidCiphertextException', 'UnknownError');
  });

  it('WithoutPlaintext returns the public key and the encrypted private key only', async () => {
    const sym = keys.sym!;
    for (const spec of ['RSA_2048', 'ECC_NIST_P256'] as DataKeyPairSpec[]) {
      const out = await kms.send(new GenerateDataKeyPairWithoutPlaintextCommand({ KeyId: sym.Arn, KeyPairSpec: spec }));
      expect(out).toMatchObject({ KeyId: sym.Arn, KeyPairSpec: spec, KeyMaterialId: sym.CurrentKeyMaterialId });
      expect(out).not.toHaveProperty('PrivateKeyPlaintext');
      const dec = await kms.send(new DecryptCommand({ CiphertextBlob: out.PrivateKeyCiphertextBlob }));
      const derived = createPublicKey(createPrivateKey({ key: Buffer.from(dec.Plaintext!), format: 'der', type: 'pkcs8' })).export({ type: 'spki', format: 'der' });
      expect(derived).toEqual(Buffer.from(out.PublicKey!));
    }
  });

  it('SM2 key pairs only in China Regions', async () => {
    await expectError(
      kms.send(new GenerateDataKeyPairCommand({ KeyId: keys.sym!.KeyId, KeyPairSpec: 'SM2' })),
      'UnsupportedOperationException',
      'KeyPairSpec SM2 is supported only in China Regions.',
    );
    const china = kmsClient(sealbox, { region: 'cn-north-1' });
    const key = (await china.send(new CreateKeyCommand({}))).KeyMetadata!;
    const out = await china.send(new GenerateDataKeyPairCommand({ KeyId: key.KeyId, KeyPairSpec: 'SM2' }));
    expect(out.KeyId).toBe(key.Arn);
    // An id-ecPublicKey SPKI naming the SM2 curve, OID 1.2.156.10197.1.301 (Node does not name it).
    const spki = Buffer.from(out.PublicKey!);
    expect(spki.subarray(0, 27).toString('hex')).toBe('3059301306072a8648ce3d020106082a811ccf5501822d03420004');
    const derived = createPublicKey(createPrivateKey({ key: Buffer.from(out.PrivateKeyPlaintext!), format: 'der', type: 'pkcs8' })).export({ type: 'spki', format: 'der' });
    expect(derived).toEqual(Buffer.from(out.PublicKey!));
  });

  it('only symmetric encryption keys generate data key pairs; DryRun, Recipient and the key policy are honoured', async () => {
    for (const Command of [GenerateDataKeyPairCommand, GenerateDataKeyPairWithoutPlaintextCommand]) {
      const op = Command === GenerateDataKeyPairCommand ? 'GenerateDataKeyPair' : 'GenerateDataKeyPairWithoutPlaintext';
      await expectError(kms.send(new Command({ KeyId: keys.rsa2048!.KeyId, KeyPairSpec: 'ECC_NIST_P256' }) as never), 'InvalidKeyUsageException', `${keys.rsa2048!.Arn} key spec is RSA_2048 which is not valid for ${op}.`);
      await expectError(kms.send(new Command({ KeyId: keys.signing!.KeyId, KeyPairSpec: 'ECC_NIST_P256' }) as never), 'InvalidKeyUsageException', `${keys.signing!.Arn} key usage is SIGN_VERIFY which is not valid for ${op}.`);
      await expectError(kms.send(new Command({ KeyId: keys.hmac256!.KeyId, KeyPairSpec: 'ECC_NIST_P256' }) as never), 'InvalidKeyUsageException', `${keys.hmac256!.Arn} key usage is GENERATE_VERIFY_MAC which is not valid for ${op}.`);
      await expectError(kms.send(new Command({ KeyId: keys.sym!.KeyId, KeyPairSpec: 'ECC_NIST_P256', DryRun: true }) as never), 'DryRunOperationException', 'The request would have succeeded, but the DryRun option is set.');
      await expectError(
        kms.send(new Command({ KeyId: keys.symDenied!.KeyId, KeyPairSpec: 'ECC_NIST_P256' }) as never),
        'AccessDeniedException',
        `User: ${ROOT} is not authorized to perform: kms:${op} on resource: ${keys.symDenied!.Arn} with an explicit deny in a resource-based policy`,
      );
    }
    await expectError(
      kms.send(new GenerateDataKeyPairCommand({ KeyId: keys.sym!.KeyId, KeyPairSpec: 'ECC_NIST_P256', Recipient: { KeyEncryptionAlgorithm: 'RSAES_OAEP_SHA_256', AttestationDocument: Buffer.from('doc') } })),
      'UnsupportedOperationException',
      'Recipient (Nitro Enclaves attestation) is not supported by Sealbox.',
    );
  });

  it('CloudTrail records the call without the private key', async () => {
    const out = await kms.send(new GenerateDataKeyPairCommand({ KeyId: keys.sym!.KeyId, KeyPairSpec: 'ECC_NIST_P384', EncryptionContext: { trail: 'check' } }));
    const event = events().find((e) => e.eventName === 'GenerateDataKeyPair' && !e.errorCode && (e.requestParameters?.encryptionContext as Record<string, string> | undefined)?.trail === 'check')!;
    expect(event.requestParameters).toEqual({ keyId: keys.sym!.KeyId, keyPairSpec: 'ECC_NIST_P384', encryptionContext: { trail: 'check' } });
    expect(event.responseElements).toBeNull();
    expect(event.additionalEventData).toEqual({ keyMaterialId: keys.sym!.CurrentKeyMaterialId });
    const record = JSON.stringify(event);
    expect(record).not.toContain(Buffer.from(out.PrivateKeyPlaintext!).toString('base64'));
    expect(record).not.toContain(Buffer.from(out.PublicKey!).toString('base64'));
  });
});

const MACS: [string, MacAlgorithmSpec, string, number][] = [
  ['hmac224', 'HMAC_SHA_224', 'sha224', 28],
  ['hmac256', 'HMAC_SHA_256', 'sha256', 32],
  ['hmac384', 'HMAC_SHA_384', 'sha384', 48],
  ['hmac512', 'HMAC_SHA_512', 'sha512', 64],
];

/** An HMAC key's bytes, read through the in-process KMS (KMS never exports them). */
function hmacMaterial(key: KeyMetadata): Buffer {
  const box = sealbox.kms as unknown as { core: { store: { getKey(id: string, region: string): unknown }; currentMaterial(k: unknown): { material: Buffer } } };
  return box.core.currentMaterial(box.core.store.getKey(key.KeyId!, 'us-east-1')).material;
}

describe('GenerateMac and VerifyMac', () => {
  it.each(MACS)('%s with %s: the HMAC of the message, deterministic, and it verifies', async (name, algorithm, hash, length) => {
    const key = keys[name]!;
    const Message = Buffer.from('message to authenticate');
    const out = await kms.send(new GenerateMacCommand({ KeyId: key.KeyId, MacAlgorithm: algorithm, Message, GrantTokens: [grantToken] }));
    expect(out).toMatchObject({ KeyId: key.Arn, MacAlgorithm: algorithm });
    expect(out.Mac!.length).toBe(length);
    expect(Buffer.from(out.Mac!)).toEqual(createHmac(hash, hmacMaterial(key)).update(Message).digest());
    const again = await kms.send(new GenerateMacCommand({ KeyId: key.Arn, MacAlgorithm: algorithm, Message }));
    expect(Buffer.from(again.Mac!)).toEqual(Buffer.from(out.Mac!));
    const verified = await kms.send(new VerifyMacCommand({ KeyId: key.KeyId, MacAlgorithm: algorithm, Message, Mac: out.Mac }));
    expect(verified).toMatchObject({ KeyId: key.Arn, MacValid: true, MacAlgorithm: algorithm });
    // Another message, a changed MAC or a truncated one: KMSInvalidMacException, with no message.
    await expectError(kms.send(new VerifyMacCommand({ KeyId: key.KeyId, MacAlgorithm: algorithm, Message: Buffer.from('another message'), Mac: out.Mac })), 'KMSInvalidMacException', 'UnknownError');
    const flipped = Buffer.from(out.Mac!);
    flipped[0] = flipped[0]! ^ 1;
    await expectError(kms.send(new VerifyMacCommand({ KeyId: key.KeyId, MacAlgorithm: algorithm, Message, Mac: flipped })), 'KMSInvalidMacException', 'UnknownError');
    await expectError(kms.send(new VerifyMacCommand({ KeyId: key.KeyId, MacAlgorithm: algorithm, Message, Mac: flipped.subarray(1) })), 'KMSInvalidMacException', 'UnknownError');
  });

  it('refuses another algorithm, other keys, and messages outside 1..4096 bytes, in AWS words', async () => {
    const key = keys.hmac224!;
    await expectError(kms.send(new GenerateMacCommand({ KeyId: key.KeyId, MacAlgorithm: 'HMAC_SHA_256', Message: Buffer.from('m') })), 'InvalidKeyUsageException', 'Algorithm HMAC_SHA_256 is incompatible with key spec HMAC_224.');
    await expectError(
      kms.send(new VerifyMacCommand({ KeyId: key.KeyId, MacAlgorithm: 'HMAC_SHA_512', Message: Buffer.from('m'), Mac: Buffer.alloc(64) })),
      'InvalidKeyUsageException',
      'Algorithm HMAC_SHA_512 is incompatible with key spec HMAC_224.',
    );
    await expectError(kms.send(new GenerateMacCommand({ KeyId: keys.sym!.KeyId, MacAlgorithm: 'HMAC_SHA_256', Message: Buffer.from('m') })), 'InvalidKeyUsageException', `${keys.sym!.Arn} key usage is ENCRYPT_DECRYPT which is not valid for GenerateMac.`);
    await expectError(
      kms.send(new VerifyMacCommand({ KeyId: keys.signing!.KeyId, MacAlgorithm: 'HMAC_SHA_256', Message: Buffer.from('m'), Mac: Buffer.alloc(32) })),
      'InvalidKeyUsageException',
      `${keys.signing!.Arn} key usage is SIGN_VERIFY which is not valid for VerifyMac.`,
    );
    await expectError(
      kms.send(new GenerateMacCommand({ KeyId: key.KeyId, MacAlgorithm: 'HMAC_SHA_224', Message: Buffer.alloc(4097) })),
      'ValidationException',
      "1 validation error detected: Value at 'message' failed to satisfy constraint: Member must have length less than or equal to 4096",
    );
    expect((await kms.send(new GenerateMacCommand({ KeyId: key.KeyId, MacAlgorithm: 'HMAC_SHA_224', Message: Buffer.alloc(4096) }))).Mac!.length).toBe(28);
    await expectError(
      kms.send(new GenerateMacCommand({ KeyId: key.KeyId, MacAlgorithm: 'HMAC_SHA_224', Message: Buffer.alloc(0) })),
      'ValidationException',
      "1 validation error detected: Value at 'message' failed to satisfy constraint: Member must have length greater than or equal to 1",
    );
    const dry = 'The request would have succeeded, but the DryRun option is set.';
    await expectError(kms.send(new GenerateMacCommand({ KeyId: key.KeyId, MacAlgorithm: 'HMAC_SHA_224', Message: Buffer.from('m'), DryRun: true })), 'DryRunOperationException', dry);
    await expectError(kms.send(new VerifyMacCommand({ KeyId: key.KeyId, MacAlgorithm: 'HMAC_SHA_224', Message: Buffer.from('m'), Mac: Buffer.alloc(28), DryRun: true })), 'DryRunOperationException', dry);
    for (const [Command, op] of [[GenerateMacCommand, 'GenerateMac'], [VerifyMacCommand, 'VerifyMac']] as const) {
      await expectError(
        kms.send(new Command({ KeyId: keys.hmacDenied!.KeyId, MacAlgorithm: 'HMAC_SHA_256', Message: Buffer.from('m'), Mac: Buffer.alloc(32) }) as never),
        'AccessDeniedException',
        `User: ${ROOT} is not authorized to perform: kms:${op} on resource: ${keys.hmacDenied!.Arn} with an explicit deny in a resource-based policy`,
      );
    }
  });

  it('CloudTrail logs neither the message nor the MAC', async () => {
    const Message = Buffer.from('never in the event log');
    const { Mac } = await kms.send(new GenerateMacCommand({ KeyId: keys.hmac256!.KeyId, MacAlgorithm: 'HMAC_SHA_256', Message }));
    await kms.send(new VerifyMacCommand({ KeyId: keys.hmac256!.KeyId, MacAlgorithm: 'HMAC_SHA_256', Message, Mac }));
    const all = events();
    for (const name of ['GenerateMac', 'VerifyMac']) {
      const event = all.find((e) => e.eventName === name && !e.errorCode)!;
      expect(event.requestParameters).toEqual({ keyId: keys.hmac256!.KeyId, macAlgorithm: 'HMAC_SHA_256' });
      expect(JSON.stringify(event)).not.toContain(Message.toString('base64'));
      expect(JSON.stringify(event)).not.toContain(Buffer.from(Mac!).toString('base64'));
    }
  });
});

describe('DeriveSharedSecret', () => {
  it.each([
    ['p256', 'prime256v1', 32],
    ['p384', 'secp384r1', 48],
    ['p521', 'secp521r1', 66],
  ] as const)('%s: the raw ECDH secret equals what Node derives from the peer key and the KMS public key', async (name, curve, length) => {
    const key = keys[name]!;
    const peer = generateKeyPairSync('ec', { namedCurve: curve });
    const out = await kms.send(
      new DeriveSharedSecretCommand({ KeyId: key.KeyId, KeyAgreementAlgorithm: 'ECDH', PublicKey: peer.publicKey.export({ type: 'spki', format: 'der' }), GrantTokens: [grantToken] }),
    );
    expect(out).toMatchObject({ KeyId: key.Arn, KeyAgreementAlgorithm: 'ECDH', KeyOrigin: 'AWS_KMS' });
    const expected = diffieHellman({ privateKey: peer.privateKey, publicKey: publicKeys[name]! });
    expect(Buffer.from(out.SharedSecret!)).toEqual(expected);
    expect(out.SharedSecret!.length).toBe(length);
  });

  it('refuses other keys, bad or mismatched public keys, Recipient, and honours DryRun and the key policy', async () => {
    const key = keys.p256!;
    const derive = (input: Partial<ConstructorParameters<typeof DeriveSharedSecretCommand>[0]>) =>
      kms.send(new DeriveSharedSecretCommand({ KeyId: key.KeyId, KeyAgreementAlgorithm: 'ECDH', PublicKey: generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({ type: 'spki', format: 'der' }), ...input }));
    const wrongCurve = generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).publicKey.export({ type: 'spki', format: 'der' });
    await expectError(derive({ PublicKey: wrongCurve }), 'ValidationException', 'PublicKey must be on the same elliptic curve as the KMS key (ECC_NIST_P256).');
    const rsaPublic = publicKeys.rsa2048!.export({ type: 'spki', format: 'der' });
    await expectError(derive({ PublicKey: rsaPublic }), 'ValidationException', 'PublicKey must be on the same elliptic curve as the KMS key (ECC_NIST_P256).');
    await expectError(derive({ PublicKey: Buffer.from('not a key') }), 'ValidationException', 'PublicKey must be a DER-encoded X.509 SubjectPublicKeyInfo of an elliptic curve public key.');
    // A P-256 point moved off the curve.
    const offCurve = Buffer.from(generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({ type: 'spki', format: 'der' }));
    offCurve[offCurve.length - 1] = offCurve[offCurve.length - 1]! ^ 1;
    await expectError(derive({ PublicKey: offCurve }), 'ValidationException', 'PublicKey must be a DER-encoded X.509 SubjectPublicKeyInfo of an elliptic curve public key.');
    await expectError(derive({ KeyId: keys.signing!.KeyId }), 'InvalidKeyUsageException', `${keys.signing!.Arn} key usage is SIGN_VERIFY which is not valid for DeriveSharedSecret.`);
    await expectError(derive({ KeyId: keys.sym!.KeyId }), 'InvalidKeyUsageException', `${keys.sym!.Arn} key usage is ENCRYPT_DECRYPT which is not valid for DeriveSharedSecret.`);
    await expectError(derive({ Recipient: { KeyEncryptionAlgorithm: 'RSAES_OAEP_SHA_256', AttestationDocument: Buffer.from('doc') } }), 'UnsupportedOperationException', 'Recipient (Nitro Enclaves attestation) is not supported by Sealbox.');
    await expectError(derive({ DryRun: true }), 'DryRunOperationException', 'The request would have succeeded, but the DryRun option is set.');
    await expectError(
      derive({ KeyId: keys.p256Denied!.KeyId }),
      'AccessDeniedException',
      `User: ${ROOT} is not authorized to perform: kms:DeriveSharedSecret on resource: ${keys.p256Denied!.Arn} with an explicit deny in a resource-based policy`,
    );
    const described = await kms.send(new DescribeKeyCommand({ KeyId: key.KeyId }));
    expect(described.KeyMetadata!.KeyAgreementAlgorithms).toEqual(['ECDH']);
  });
});

describe('authorization of the new operations', () => {
  const CAROL = 'arn:aws:iam::000000000000:user/carol';
  const GRACE = 'arn:aws:iam::000000000000:user/grace';
  const notAllowed = (user: string, action: string, arn: string) =>
    `User: ${user} is not authorized to perform: kms:${action} on resource: ${arn} because no identity-based policy allows the kms:${action} action`;

  it('IAM policies allow each action by its own name', async () => {
    const peer = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({ type: 'spki', format: 'der' });
    const pair = await carol.send(new GenerateDataKeyPairCommand({ KeyId: keys.sym!.KeyId, KeyPairSpec: 'ECC_NIST_P256' }));
    expect(pair.PrivateKeyPlaintext).toBeDefined();
    await expectError(carol.send(new GenerateDataKeyPairWithoutPlaintextCommand({ KeyId: keys.sym!.KeyId, KeyPairSpec: 'ECC_NIST_P256' })), 'AccessDeniedException', notAllowed(CAROL, 'GenerateDataKeyPairWithoutPlaintext', keys.sym!.Arn!));
    const { Mac } = await carol.send(new GenerateMacCommand({ KeyId: keys.hmac256!.KeyId, MacAlgorithm: 'HMAC_SHA_256', Message: Buffer.from('m') }));
    await expectError(carol.send(new VerifyMacCommand({ KeyId: keys.hmac256!.KeyId, MacAlgorithm: 'HMAC_SHA_256', Message: Buffer.from('m'), Mac })), 'AccessDeniedException', notAllowed(CAROL, 'VerifyMac', keys.hmac256!.Arn!));
    expect((await carol.send(new DeriveSharedSecretCommand({ KeyId: keys.p256!.KeyId, KeyAgreementAlgorithm: 'ECDH', PublicKey: peer }))).SharedSecret!.length).toBe(32);
    const { CiphertextBlob } = await kms.send(new EncryptCommand({ KeyId: keys.rsa2048!.KeyId, Plaintext: Buffer.from('x'), EncryptionAlgorithm: 'RSAES_OAEP_SHA_1' }));
    expect(Buffer.from((await carol.send(new DecryptCommand({ KeyId: keys.rsa2048!.KeyId, CiphertextBlob, EncryptionAlgorithm: 'RSAES_OAEP_SHA_1' }))).Plaintext!).toString()).toBe('x');
    await expectError(
      carol.send(new EncryptCommand({ KeyId: keys.rsa2048!.KeyId, Plaintext: Buffer.from('x'), EncryptionAlgorithm: 'RSAES_OAEP_SHA_1' })),
      'AccessDeniedException',
      notAllowed(CAROL, 'Encrypt', keys.rsa2048!.Arn!),
    );
  });

  it('grants allow them too, under their encryption context constraints', async () => {
    await kms.send(
      new CreateGrantCommand({
        KeyId: keys.sym2!.KeyId,
        GranteePrincipal: GRACE,
        Operations: ['GenerateDataKeyPairWithoutPlaintext'],
        Constraints: { EncryptionContextSubset: { tenant: 'blue' } },
      }),
    );
    await kms.send(new CreateGrantCommand({ KeyId: keys.hmac512!.KeyId, GranteePrincipal: GRACE, Operations: ['VerifyMac'] }));
    await kms.send(new CreateGrantCommand({ KeyId: keys.p384!.KeyId, GranteePrincipal: GRACE, Operations: ['DeriveSharedSecret'] }));
    const out = await grace.send(new GenerateDataKeyPairWithoutPlaintextCommand({ KeyId: keys.sym2!.Arn, KeyPairSpec: 'ECC_NIST_EDWARDS25519', EncryptionContext: { tenant: 'blue', x: 'y' } }));
    expect(out.KeyId).toBe(keys.sym2!.Arn);
    await expectError(
      grace.send(new GenerateDataKeyPairWithoutPlaintextCommand({ KeyId: keys.sym2!.Arn, KeyPairSpec: 'ECC_NIST_EDWARDS25519', EncryptionContext: { tenant: 'red' } })),
      'AccessDeniedException',
      notAllowed(GRACE, 'GenerateDataKeyPairWithoutPlaintext', keys.sym2!.Arn!),
    );
    const Message = Buffer.from('granted');
    const { Mac } = await kms.send(new GenerateMacCommand({ KeyId: keys.hmac512!.KeyId, MacAlgorithm: 'HMAC_SHA_512', Message }));
    expect((await grace.send(new VerifyMacCommand({ KeyId: keys.hmac512!.Arn, MacAlgorithm: 'HMAC_SHA_512', Message, Mac }))).MacValid).toBe(true);
    await expectError(grace.send(new GenerateMacCommand({ KeyId: keys.hmac512!.Arn, MacAlgorithm: 'HMAC_SHA_512', Message })), 'AccessDeniedException', notAllowed(GRACE, 'GenerateMac', keys.hmac512!.Arn!));
    const peer = generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).publicKey.export({ type: 'spki', format: 'der' });
    expect((await grace.send(new DeriveSharedSecretCommand({ KeyId: keys.p384!.Arn, KeyAgreementAlgorithm: 'ECDH', PublicKey: peer }))).SharedSecret!.length).toBe(48);
    // A grant allows only operations of its key's usage and type.
    await kms.send(new CreateGrantCommand({ KeyId: keys.rsa2048!.KeyId, GranteePrincipal: GRACE, Operations: ['Decrypt', 'GetPublicKey'] }));
    for (const [name, op, usage] of [['rsa2048', 'GenerateDataKeyPair', 'ENCRYPT_DECRYPT'], ['hmac256', 'DeriveSharedSecret', 'GENERATE_VERIFY_MAC'], ['p256', 'GenerateMac', 'KEY_AGREEMENT']] as const) {
      await expectError(
        kms.send(new CreateGrantCommand({ KeyId: keys[name]!.KeyId, GranteePrincipal: GRACE, Operations: [op] })),
        'ValidationException',
        `Grant operations ${op} are not supported for the KeyUsage ${usage} of ${keys[name]!.Arn}`,
      );
    }
  });
});

describe('boto3 and the AWS CLI', () => {
  it('boto3 encrypts with RSA, makes data key pairs and MACs, derives secrets', async () => {
    const script = `
import base64, json, sys
import boto3
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding
keys = json.loads(sys.argv[1])
kms = boto3.client('kms')
enc = kms.encrypt(KeyId=keys['rsa'], Plaintext=b'boto3 secret', EncryptionAlgorithm='RSAES_OAEP_SHA_256')
dec = kms.decrypt(KeyId=keys['rsa'], CiphertextBlob=enc['CiphertextBlob'], EncryptionAlgorithm='RSAES_OAEP_SHA_256')
assert dec['Plaintext'] == b'boto3 secret', dec
pair = kms.generate_data_key_pair(KeyId=keys['sym'], KeyPairSpec='ECC_NIST_P256')
private = serialization.load_der_private_key(pair['PrivateKeyPlaintext'], None)
public = serialization.load_der_public_key(pair['PublicKey'])
public.verify(private.sign(b'm', ec.ECDSA(hashes.SHA256())), b'm', ec.ECDSA(hashes.SHA256()))
assert kms.decrypt(CiphertextBlob=pair['PrivateKeyCiphertextBlob'])['Plaintext'] == pair['PrivateKeyPlaintext']
mac = kms.generate_mac(KeyId=keys['hmac'], MacAlgorithm='HMAC_SHA_384', Message=b'm')['Mac']
assert kms.verify_mac(KeyId=keys['hmac'], MacAlgorithm='HMAC_SHA_384', Message=b'm', Mac=mac)['MacValid'] is True
try:
    kms.verify_mac(KeyId=keys['hmac'], MacAlgorithm='HMAC_SHA_384', Message=b'other', Mac=mac)
    raise SystemExit('VerifyMac accepted a wrong message')
except kms.exceptions.KMSInvalidMacException:
    pass
peer = ec.generate_private_key(ec.SECP521R1())
der = peer.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
secret = kms.derive_shared_secret(KeyId=keys['ecdh'], KeyAgreementAlgorithm='ECDH', PublicKey=der)['SharedSecret']
kms_public = serialization.load_der_public_key(kms.get_public_key(KeyId=keys['ecdh'])['PublicKey'])
assert secret == peer.exchange(ec.ECDH(), kms_public), 'ECDH secrets differ'
print('ok')
`;
    const ids = { rsa: keys.rsa3072!.KeyId, sym: keys.sym!.KeyId, hmac: keys.hmac384!.KeyId, ecdh: keys.p521!.KeyId };
    const result = await runCommand('python3', ['-c', script, JSON.stringify(ids)], awsEnv(sealbox));
    expect(result.stderr).toBe('');
    expect(result.stdout.trim()).toBe('ok');
  });

  it('the AWS CLI decrypts an RSA ciphertext made outside KMS', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sealbox-cli-'));
    try {
      const ciphertext = publicEncrypt({ key: publicKeys.rsa4096!, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, Buffer.from('from the cli'));
      writeFileSync(join(dir, 'ct'), ciphertext);
      const dec = await runCommand(
        'aws',
        ['kms', 'decrypt', '--key-id', keys.rsa4096!.KeyId!, '--encryption-algorithm', 'RSAES_OAEP_SHA_256', '--ciphertext-blob', `fileb://${join(dir, 'ct')}`, '--query', 'Plaintext', '--output', 'text'],
        awsEnv(sealbox),
      );
      expect(dec.stderr).toBe('');
      expect(Buffer.from(dec.stdout.trim(), 'base64').toString()).toBe('from the cli');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
