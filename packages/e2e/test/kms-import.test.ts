import {
  constants,
  createCipheriv,
  createPublicKey,
  generateKeyPairSync,
  publicEncrypt,
  randomBytes,
} from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CancelKeyDeletionCommand,
  CreateAliasCommand,
  CreateGrantCommand,
  CreateKeyCommand,
  DecryptCommand,
  DeleteImportedKeyMaterialCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  EnableKeyRotationCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GetKeyRotationStatusCommand,
  GetParametersForImportCommand,
  GetPublicKeyCommand,
  ImportKeyMaterialCommand,
  type ImportKeyMaterialCommandInput,
  type KeySpec,
  type KeyUsageType,
  type KMSClient,
  ListKeyRotationsCommand,
  RotateKeyOnDemandCommand,
  ScheduleKeyDeletionCommand,
  TagResourceCommand,
  UpdateKeyDescriptionCommand,
  type AlgorithmSpec,
  type WrappingKeySpec,
} from '@aws-sdk/client-kms';
import type { Sealbox } from '@sealbox/cli';
import { awsEnv, failure, kmsClient, runCommand, startTestSealbox } from './helpers';

// Every GetParametersForImport generates an RSA key pair (up to 4096 bits): slow on a busy machine.
jest.setTimeout(120_000);

let sealbox: Sealbox;
let kms: KMSClient;
let work: string;

beforeAll(async () => {
  sealbox = await startTestSealbox({ only: 'kms' });
  kms = kmsClient(sealbox);
  work = mkdtempSync(join(tmpdir(), 'sealbox-import-'));
});
afterAll(async () => {
  kms.destroy();
  await sealbox.stop();
  rmSync(work, { recursive: true, force: true });
});

const DAY = 86400;
const KWP_IV = Buffer.from('A65959A6', 'hex');

type Wrapping = 'RSAES_OAEP_SHA_1' | 'RSAES_OAEP_SHA_256' | 'RSA_AES_KEY_WRAP_SHA_1' | 'RSA_AES_KEY_WRAP_SHA_256';

/**
 * Wraps material as AWS's guide tells users to, with Node's crypto: RSA-OAEP (MGF1 with the same
 * hash) directly, or RSA-OAEP of a fresh AES-256 key followed by AES key wrap with padding.
 */
function wrapWithNode(algorithm: Wrapping, publicKeyDer: Uint8Array, material: Buffer): Buffer {
  const key = createPublicKey({ key: Buffer.from(publicKeyDer), format: 'der', type: 'spki' });
  const oaep = (data: Buffer) =>
    publicEncrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: algorithm.endsWith('SHA_1') ? 'sha1' : 'sha256' }, data);
  if (algorithm.startsWith('RSAES_OAEP')) return oaep(material);
  const aesKey = randomBytes(32);
  const kwp = createCipheriv('id-aes256-wrap-pad', aesKey, KWP_IV);
  return Buffer.concat([oaep(aesKey), kwp.update(material), kwp.final()]);
}

/** The same with the tools AWS's guide uses: `openssl pkeyutl` for RSA-OAEP, `openssl enc -id-aes256-wrap-pad`. */
async function wrapWithOpenssl(algorithm: Wrapping, publicKeyDer: Uint8Array, material: Buffer): Promise<Buffer> {
  const dir = mkdtempSync(join(work, 'openssl-'));
  const file = (name: string) => join(dir, name);
  writeFileSync(file('wrapping.der'), publicKeyDer);
  writeFileSync(file('material.bin'), material);
  const md = algorithm.endsWith('SHA_1') ? 'sha1' : 'sha256';
  const pkeyutl = async (input: string, output: string) => {
    const r = await runCommand(
      'openssl',
      ['pkeyutl', '-encrypt', '-in', file(input), '-out', file(output), '-inkey', file('wrapping.der'), '-keyform', 'DER', '-pubin',
        '-pkeyopt', 'rsa_padding_mode:oaep', '-pkeyopt', `rsa_oaep_md:${md}`, '-pkeyopt', `rsa_mgf1_md:${md}`],
      {},
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  };
  if (algorithm.startsWith('RSAES_OAEP')) {
    await pkeyutl('material.bin', 'wrapped.bin');
    return readFileSync(file('wrapped.bin'));
  }
  const aesKey = randomBytes(32);
  writeFileSync(file('aes.bin'), aesKey);
  await pkeyutl('aes.bin', 'aes-wrapped.bin');
  const enc = await runCommand(
    'openssl',
    ['enc', '-id-aes256-wrap-pad', '-K', aesKey.toString('hex'), '-iv', 'A65959A6', '-in', file('material.bin'), '-out', file('material-wrapped.bin')],
    {},
  );
  expect(enc.code).toBe(0);
  return Buffer.concat([readFileSync(file('aes-wrapped.bin')), readFileSync(file('material-wrapped.bin'))]);
}

/** RSA_AES_KEY_WRAP with Python's `cryptography` (its own RFC 5649 implementation). */
async function wrapWithPython(algorithm: 'RSA_AES_KEY_WRAP_SHA_1' | 'RSA_AES_KEY_WRAP_SHA_256', publicKeyDer: Uint8Array, material: Buffer): Promise<Buffer> {
  const script = `
import os, sys
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.keywrap import aes_key_wrap_with_padding
public = serialization.load_der_public_key(bytes.fromhex(sys.argv[1]))
material = bytes.fromhex(sys.argv[2])
h = hashes.SHA1() if sys.argv[3] == 'sha1' else hashes.SHA256()
aes = os.urandom(32)
wrapped = public.encrypt(aes, padding.OAEP(mgf=padding.MGF1(algorithm=h), algorithm=h, label=None))
sys.stdout.write((wrapped + aes_key_wrap_with_padding(aes, material)).hex())
`;
  const r = await runCommand('python3', ['-c', script, Buffer.from(publicKeyDer).toString('hex'), material.toString('hex'), algorithm.endsWith('SHA_1') ? 'sha1' : 'sha256'], {});
  expect(r.stderr).toBe('');
  return Buffer.from(r.stdout, 'hex');
}

async function externalKey(spec: KeySpec = 'SYMMETRIC_DEFAULT', usage?: KeyUsageType) {
  return (await kms.send(new CreateKeyCommand({ Origin: 'EXTERNAL', KeySpec: spec, KeyUsage: usage }))).KeyMetadata!;
}

async function params(KeyId: string, WrappingAlgorithm: Wrapping = 'RSAES_OAEP_SHA_256', WrappingKeySpec: WrappingKeySpec = 'RSA_2048') {
  return kms.send(new GetParametersForImportCommand({ KeyId, WrappingAlgorithm, WrappingKeySpec }));
}

/** GetParametersForImport, wrap with Node, ImportKeyMaterial. */
async function importMaterial(KeyId: string, material: Buffer, extra: Partial<ImportKeyMaterialCommandInput> = {}, algorithm: Wrapping = 'RSAES_OAEP_SHA_256') {
  const p = await params(KeyId, algorithm);
  return kms.send(
    new ImportKeyMaterialCommand({
      KeyId,
      ImportToken: p.ImportToken,
      EncryptedKeyMaterial: wrapWithNode(algorithm, p.PublicKey!, material),
      ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE',
      ...extra,
    }),
  );
}

async function describe_(KeyId: string) {
  return (await kms.send(new DescribeKeyCommand({ KeyId }))).KeyMetadata!;
}

async function encryptDecrypt(KeyId: string) {
  const plaintext = randomBytes(40);
  const { CiphertextBlob } = await kms.send(new EncryptCommand({ KeyId, Plaintext: plaintext, EncryptionContext: { purpose: 'import' } }));
  const out = await kms.send(new DecryptCommand({ CiphertextBlob, EncryptionContext: { purpose: 'import' } }));
  expect(Buffer.from(out.Plaintext!)).toEqual(plaintext);
  return { CiphertextBlob: CiphertextBlob!, materialId: out.KeyMaterialId };
}

const pendingImport = (arn: string) => ({ name: 'KMSInvalidStateException', message: `${arn} is pending import.` });

describe('CreateKey with Origin EXTERNAL', () => {
  it('makes a key PendingImport without material; cryptography, EnableKey, DisableKey and CreateGrant refuse it', async () => {
    const meta = await externalKey();
    expect(meta).toMatchObject({ Origin: 'EXTERNAL', KeyState: 'PendingImport', Enabled: false, KeySpec: 'SYMMETRIC_DEFAULT' });
    expect(meta).not.toHaveProperty('CurrentKeyMaterialId');
    expect(meta).not.toHaveProperty('ExpirationModel');
    expect(meta).not.toHaveProperty('ValidTo');
    expect(await describe_(meta.KeyId!)).toMatchObject({ Origin: 'EXTERNAL', KeyState: 'PendingImport' });

    for (const call of [
      kms.send(new EncryptCommand({ KeyId: meta.KeyId, Plaintext: Buffer.from('x') })),
      kms.send(new GenerateDataKeyCommand({ KeyId: meta.KeyId, KeySpec: 'AES_256' })),
      kms.send(new EnableKeyCommand({ KeyId: meta.KeyId })),
      kms.send(new DisableKeyCommand({ KeyId: meta.KeyId })),
      kms.send(new CreateGrantCommand({ KeyId: meta.KeyId, GranteePrincipal: 'arn:aws:iam::000000000000:root', Operations: ['Encrypt'] })),
    ]) {
      expect(await failure(call)).toMatchObject(pendingImport(meta.Arn!));
    }
    // Automatic rotation never applies to imported material.
    expect(await failure(kms.send(new EnableKeyRotationCommand({ KeyId: meta.KeyId })))).toMatchObject({
      name: 'UnsupportedOperationException',
      message: `${meta.Arn} origin is EXTERNAL which is not valid for this operation.`,
    });
    // Management that does not need material works, as AWS's key state table says.
    await kms.send(new TagResourceCommand({ KeyId: meta.KeyId, Tags: [{ TagKey: 'k', TagValue: 'v' }] }));
    await kms.send(new UpdateKeyDescriptionCommand({ KeyId: meta.KeyId, Description: 'imported' }));
    await kms.send(new CreateAliasCommand({ AliasName: `alias/import-${meta.KeyId}`, TargetKeyId: meta.KeyId }));
    expect((await kms.send(new GetKeyRotationStatusCommand({ KeyId: meta.KeyId }))).KeyRotationEnabled).toBe(false);
  });

  it.each<[KeySpec, KeyUsageType]>([
    ['HMAC_256', 'GENERATE_VERIFY_MAC'],
    ['RSA_2048', 'SIGN_VERIFY'],
    ['ECC_NIST_P256', 'SIGN_VERIFY'],
    ['ECC_NIST_P384', 'KEY_AGREEMENT'],
  ])('works for %s / %s too', async (spec, usage) => {
    const meta = await externalKey(spec, usage);
    expect(meta).toMatchObject({ Origin: 'EXTERNAL', KeyState: 'PendingImport', KeySpec: spec, KeyUsage: usage });
    if (spec !== 'HMAC_256') expect(await failure(kms.send(new GetPublicKeyCommand({ KeyId: meta.KeyId })))).toMatchObject(pendingImport(meta.Arn!));
  });
});

describe('GetParametersForImport', () => {
  it.each<WrappingKeySpec>(['RSA_2048', 'RSA_3072', 'RSA_4096'])('%s: an RSA public key (DER SPKI), a token, valid 24 hours', async (spec) => {
    const { KeyId, Arn } = await externalKey();
    const before = sealbox.clock.now().getTime();
    const out = await params(KeyId!, 'RSA_AES_KEY_WRAP_SHA_256', spec);
    expect(out.KeyId).toBe(Arn);
    const publicKey = createPublicKey({ key: Buffer.from(out.PublicKey!), format: 'der', type: 'spki' });
    expect(publicKey.asymmetricKeyType).toBe('rsa');
    expect(publicKey.asymmetricKeyDetails?.modulusLength).toBe(Number(spec.slice(4)));
    expect(out.ImportToken!.length).toBeGreaterThan(0);
    expect(out.ParametersValidTo!.getTime() - before).toBeGreaterThanOrEqual(24 * 3600 * 1000 - 1000);
    expect(out.ParametersValidTo!.getTime() - before).toBeLessThanOrEqual(24 * 3600 * 1000 + 1000);
  });

  it('refuses PKCS #1 v1.5, SM2, keys that are not EXTERNAL, RSA material without RSA_AES, and keys pending deletion', async () => {
    const { KeyId, Arn } = await externalKey();
    const refuse = async (algorithm: string, spec: string, keyId = KeyId) =>
      failure(kms.send(new GetParametersForImportCommand({ KeyId: keyId, WrappingAlgorithm: algorithm as AlgorithmSpec, WrappingKeySpec: spec as WrappingKeySpec })));
    expect((await refuse('RSAES_PKCS1_V1_5', 'RSA_2048')).name).toBe('UnsupportedOperationException');
    expect((await refuse('SM2PKE', 'SM2')).name).toBe('UnsupportedOperationException');
    expect((await refuse('RSAES_OAEP_SHA_256', 'SM2')).name).toBe('UnsupportedOperationException');
    expect((await refuse('RSAES_OAEP_SHA_256', 'RSA_1024')).name).toBe('ValidationException');

    const native = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
    expect(await refuse('RSAES_OAEP_SHA_256', 'RSA_2048', native.KeyId)).toMatchObject({
      name: 'UnsupportedOperationException',
      message: `${native.Arn} origin is AWS_KMS which is not valid for this operation.`,
    });

    const rsa = await externalKey('RSA_2048', 'SIGN_VERIFY');
    expect((await refuse('RSAES_OAEP_SHA_256', 'RSA_4096', rsa.KeyId)).name).toBe('UnsupportedOperationException');
    const p521 = await externalKey('ECC_NIST_P521', 'SIGN_VERIFY');
    expect((await refuse('RSAES_OAEP_SHA_1', 'RSA_2048', p521.KeyId)).name).toBe('UnsupportedOperationException');
    await params(p521.KeyId!, 'RSAES_OAEP_SHA_256', 'RSA_4096');

    await kms.send(new ScheduleKeyDeletionCommand({ KeyId, PendingWindowInDays: 7 }));
    expect(await refuse('RSAES_OAEP_SHA_256', 'RSA_2048')).toMatchObject({ name: 'KMSInvalidStateException', message: `${Arn} is pending deletion.` });
  });
});

describe('ImportKeyMaterial', () => {
  it.each<Wrapping>(['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256', 'RSA_AES_KEY_WRAP_SHA_1', 'RSA_AES_KEY_WRAP_SHA_256'])(
    'symmetric material wrapped with %s: the key is Enabled and encrypts and decrypts',
    async (algorithm) => {
      const { KeyId, Arn } = await externalKey();
      const material = randomBytes(32);
      const p = await params(KeyId!, algorithm, 'RSA_3072');
      const out = await kms.send(
        new ImportKeyMaterialCommand({
          KeyId,
          ImportToken: p.ImportToken,
          EncryptedKeyMaterial: wrapWithNode(algorithm, p.PublicKey!, material),
          ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE',
        }),
      );
      expect(out.KeyId).toBe(Arn);
      expect(out.KeyMaterialId).toMatch(/^[0-9a-f]{64}$/);
      const meta = await describe_(KeyId!);
      expect(meta).toMatchObject({ KeyState: 'Enabled', Enabled: true, Origin: 'EXTERNAL', ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE', CurrentKeyMaterialId: out.KeyMaterialId });
      expect(meta).not.toHaveProperty('ValidTo');
      const { materialId } = await encryptDecrypt(KeyId!);
      expect(materialId).toBe(out.KeyMaterialId);
    },
  );

  it('takes material wrapped by openssl pkeyutl (RSAES_OAEP_SHA_256 with an RSA_4096 wrapping key)', async () => {
    const { KeyId } = await externalKey();
    const p = await params(KeyId!, 'RSAES_OAEP_SHA_256', 'RSA_4096');
    const wrapped = await wrapWithOpenssl('RSAES_OAEP_SHA_256', p.PublicKey!, randomBytes(32));
    await kms.send(new ImportKeyMaterialCommand({ KeyId, ImportToken: p.ImportToken, EncryptedKeyMaterial: wrapped, ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' }));
    await encryptDecrypt(KeyId!);
  });

  it('asymmetric: an ECC_NIST_P256 PKCS #8 key wrapped with openssl (RSA_AES_KEY_WRAP_SHA_256); GetPublicKey returns its public key', async () => {
    const { KeyId, Arn } = await externalKey('ECC_NIST_P256', 'SIGN_VERIFY');
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pkcs8 = pair.privateKey.export({ type: 'pkcs8', format: 'der' });
    const p = await params(KeyId!, 'RSA_AES_KEY_WRAP_SHA_256', 'RSA_2048');
    const wrapped = await wrapWithOpenssl('RSA_AES_KEY_WRAP_SHA_256', p.PublicKey!, pkcs8);
    await kms.send(new ImportKeyMaterialCommand({ KeyId, ImportToken: p.ImportToken, EncryptedKeyMaterial: wrapped, ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' }));
    const out = await kms.send(new GetPublicKeyCommand({ KeyId }));
    expect(out).toMatchObject({ KeyId: Arn, KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY', SigningAlgorithms: ['ECDSA_SHA_256'] });
    expect(Buffer.from(out.PublicKey!)).toEqual(pair.publicKey.export({ type: 'spki', format: 'der' }));
    const meta = await describe_(KeyId!);
    expect(meta).toMatchObject({ KeyState: 'Enabled', Origin: 'EXTERNAL', ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' });
    // CurrentKeyMaterialId is for symmetric encryption keys only.
    expect(meta).not.toHaveProperty('CurrentKeyMaterialId');
  });

  it('asymmetric: an RSA_2048 private key needs RSA_AES_KEY_WRAP; GetPublicKey returns its public key', async () => {
    const { KeyId } = await externalKey('RSA_2048', 'ENCRYPT_DECRYPT');
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    await importMaterial(KeyId!, pair.privateKey.export({ type: 'pkcs8', format: 'der' }), {}, 'RSA_AES_KEY_WRAP_SHA_1');
    const out = await kms.send(new GetPublicKeyCommand({ KeyId }));
    expect(Buffer.from(out.PublicKey!)).toEqual(pair.publicKey.export({ type: 'spki', format: 'der' }));
  });

  it('HMAC: material of the lengths AWS allows (wrapped by Python cryptography); other lengths are IncorrectKeyMaterialException', async () => {
    // GenerateMac is not built on this branch: the import is checked by state and metadata only.
    const { KeyId } = await externalKey('HMAC_256', 'GENERATE_VERIFY_MAC');
    const p = await params(KeyId!, 'RSA_AES_KEY_WRAP_SHA_1');
    const short = await wrapWithPython('RSA_AES_KEY_WRAP_SHA_1', p.PublicKey!, randomBytes(16));
    expect((await failure(kms.send(new ImportKeyMaterialCommand({ KeyId, ImportToken: p.ImportToken, EncryptedKeyMaterial: short, ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' })))).name).toBe(
      'IncorrectKeyMaterialException',
    );
    const tooLong = await wrapWithPython('RSA_AES_KEY_WRAP_SHA_1', p.PublicKey!, randomBytes(65));
    expect((await failure(kms.send(new ImportKeyMaterialCommand({ KeyId, ImportToken: p.ImportToken, EncryptedKeyMaterial: tooLong, ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' })))).name).toBe(
      'IncorrectKeyMaterialException',
    );
    const wrapped = await wrapWithPython('RSA_AES_KEY_WRAP_SHA_1', p.PublicKey!, randomBytes(40));
    await kms.send(new ImportKeyMaterialCommand({ KeyId, ImportToken: p.ImportToken, EncryptedKeyMaterial: wrapped, ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' }));
    const meta = await describe_(KeyId!);
    expect(meta).toMatchObject({ KeyState: 'Enabled', Origin: 'EXTERNAL', KeySpec: 'HMAC_256', MacAlgorithms: ['HMAC_SHA_256'], ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' });
    // Asymmetric and HMAC keys keep their first material.
    expect((await failure(importMaterial(KeyId!, randomBytes(40), { ImportType: 'NEW_KEY_MATERIAL' }))).name).toBe('IncorrectKeyMaterialException');
  });

  it('material that does not fit the key spec is IncorrectKeyMaterialException', async () => {
    const symmetric = await externalKey();
    expect((await failure(importMaterial(symmetric.KeyId!, randomBytes(16)))).name).toBe('IncorrectKeyMaterialException');
    const p256 = await externalKey('ECC_NIST_P256', 'SIGN_VERIFY');
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey.export({ type: 'pkcs8', format: 'der' });
    expect((await failure(importMaterial(p256.KeyId!, p384, {}, 'RSA_AES_KEY_WRAP_SHA_256'))).name).toBe('IncorrectKeyMaterialException');
    expect((await failure(importMaterial(p256.KeyId!, randomBytes(32)))).name).toBe('IncorrectKeyMaterialException');
    expect(await describe_(p256.KeyId!)).toMatchObject({ KeyState: 'PendingImport' });
  });

  it('checks the token: another key’s, a forged one, an expired one (24 hours of the virtual clock); and the wrapping', async () => {
    const a = await externalKey();
    const b = await externalKey();
    const material = randomBytes(32);
    const pa = await params(a.KeyId!);
    const pb = await params(b.KeyId!);
    const attempt = (KeyId: string, ImportToken: Uint8Array, EncryptedKeyMaterial: Uint8Array) =>
      failure(kms.send(new ImportKeyMaterialCommand({ KeyId, ImportToken, EncryptedKeyMaterial, ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' })));

    expect((await attempt(a.KeyId!, pb.ImportToken!, wrapWithNode('RSAES_OAEP_SHA_256', pb.PublicKey!, material))).name).toBe('InvalidImportTokenException');
    expect((await attempt(a.KeyId!, randomBytes(600), wrapWithNode('RSAES_OAEP_SHA_256', pa.PublicKey!, material))).name).toBe('InvalidImportTokenException');
    const tampered = Buffer.from(pa.ImportToken!);
    tampered[40] ^= 1;
    expect((await attempt(a.KeyId!, tampered, wrapWithNode('RSAES_OAEP_SHA_256', pa.PublicKey!, material))).name).toBe('InvalidImportTokenException');
    // Wrapped under another public key, or with another algorithm than the token's.
    expect((await attempt(a.KeyId!, pa.ImportToken!, wrapWithNode('RSAES_OAEP_SHA_256', pb.PublicKey!, material))).name).toBe('InvalidCiphertextException');
    expect((await attempt(a.KeyId!, pa.ImportToken!, wrapWithNode('RSAES_OAEP_SHA_1', pa.PublicKey!, material))).name).toBe('InvalidCiphertextException');
    expect((await attempt(a.KeyId!, pa.ImportToken!, wrapWithNode('RSA_AES_KEY_WRAP_SHA_256', pa.PublicKey!, material))).name).toBe('InvalidCiphertextException');

    await sealbox.clock.advance(24 * 3600 + 1);
    expect((await attempt(a.KeyId!, pa.ImportToken!, wrapWithNode('RSAES_OAEP_SHA_256', pa.PublicKey!, material))).name).toBe('ExpiredImportTokenException');
    await importMaterial(a.KeyId!, material);
    expect(await describe_(a.KeyId!)).toMatchObject({ KeyState: 'Enabled' });
  });

  it('validates ExpirationModel and ValidTo (required when the material expires, at most 365 days ahead)', async () => {
    const { KeyId } = await externalKey();
    const material = randomBytes(32);
    const now = sealbox.clock.now().getTime();
    const cases: Partial<ImportKeyMaterialCommandInput>[] = [
      { ExpirationModel: undefined },
      { ExpirationModel: 'KEY_MATERIAL_EXPIRES' },
      { ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE', ValidTo: new Date(now + DAY * 1000) },
      { ExpirationModel: 'KEY_MATERIAL_EXPIRES', ValidTo: new Date(now - 1000) },
      { ExpirationModel: 'KEY_MATERIAL_EXPIRES', ValidTo: new Date(now + 366 * DAY * 1000) },
    ];
    for (const extra of cases) expect((await failure(importMaterial(KeyId!, material, extra))).name).toBe('ValidationException');
    expect(await describe_(KeyId!)).toMatchObject({ KeyState: 'PendingImport' });
  });

  it('refuses keys that are not EXTERNAL', async () => {
    const native = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
    const external = await externalKey();
    const p = await params(external.KeyId!);
    const call = new ImportKeyMaterialCommand({
      KeyId: native.KeyId,
      ImportToken: p.ImportToken,
      EncryptedKeyMaterial: wrapWithNode('RSAES_OAEP_SHA_256', p.PublicKey!, randomBytes(32)),
      ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE',
    });
    expect(await failure(kms.send(call))).toMatchObject({
      name: 'UnsupportedOperationException',
      message: `${native.Arn} origin is AWS_KMS which is not valid for this operation.`,
    });
  });
});

describe('expiry, deletion and re-import', () => {
  it('KEY_MATERIAL_EXPIRES: ValidTo in DescribeKey; when the clock passes it the material is deleted (DeleteExpiredKeyMaterial), until re-imported', async () => {
    const { KeyId, Arn } = await externalKey();
    const material = randomBytes(32);
    const validTo = new Date(Math.floor(sealbox.clock.now().getTime() / 1000 + 2 * DAY) * 1000);
    const imported = await importMaterial(KeyId!, material, { ExpirationModel: 'KEY_MATERIAL_EXPIRES', ValidTo: validTo });
    expect(await describe_(KeyId!)).toMatchObject({ KeyState: 'Enabled', ExpirationModel: 'KEY_MATERIAL_EXPIRES', ValidTo: validTo });
    const { CiphertextBlob } = await encryptDecrypt(KeyId!);

    await sealbox.clock.advance(2 * DAY - 10);
    expect(await describe_(KeyId!)).toMatchObject({ KeyState: 'Enabled' });
    await sealbox.clock.advance(11);
    expect(await describe_(KeyId!)).toMatchObject({ KeyState: 'PendingImport', Origin: 'EXTERNAL', CurrentKeyMaterialId: imported.KeyMaterialId });
    expect(await failure(kms.send(new DecryptCommand({ CiphertextBlob, EncryptionContext: { purpose: 'import' } })))).toMatchObject(pendingImport(Arn!));

    const records = trailRecords().filter((r) => r.eventName === 'DeleteExpiredKeyMaterial' && (r.resources as { ARN: string }[])[0]!.ARN === Arn);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      eventType: 'AwsServiceEvent',
      eventTime: validTo.toISOString().replace('.000Z', 'Z'),
      userIdentity: { accountId: '000000000000', invokedBy: 'AWS Internal' },
      serviceEventDetails: { keyId: KeyId },
    });

    // Different material cannot take its place; the same material brings the ciphertexts back.
    expect((await failure(importMaterial(KeyId!, randomBytes(32)))).name).toBe('IncorrectKeyMaterialException');
    const again = await importMaterial(KeyId!, material);
    expect(again.KeyMaterialId).toBe(imported.KeyMaterialId);
    const meta = await describe_(KeyId!);
    expect(meta).toMatchObject({ KeyState: 'Enabled', ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' });
    expect(meta).not.toHaveProperty('ValidTo');
    const out = await kms.send(new DecryptCommand({ CiphertextBlob, EncryptionContext: { purpose: 'import' } }));
    expect(out.KeyMaterialId).toBe(imported.KeyMaterialId);
  });

  it('DeleteImportedKeyMaterial: PendingImport, ciphertexts fail until the same material is re-imported', async () => {
    const { KeyId, Arn } = await externalKey();
    // Before any import there is nothing to delete: no effect.
    expect(await kms.send(new DeleteImportedKeyMaterialCommand({ KeyId }))).toMatchObject({ KeyId: Arn });
    const material = randomBytes(32);
    const imported = await importMaterial(KeyId!, material, {}, 'RSA_AES_KEY_WRAP_SHA_256');
    const { CiphertextBlob } = await encryptDecrypt(KeyId!);
    await kms.send(new DisableKeyCommand({ KeyId }));

    const deleted = await kms.send(new DeleteImportedKeyMaterialCommand({ KeyId }));
    expect(deleted).toMatchObject({ KeyId: Arn, KeyMaterialId: imported.KeyMaterialId });
    expect(await describe_(KeyId!)).toMatchObject({ KeyState: 'PendingImport', Enabled: false });
    expect(await failure(kms.send(new DecryptCommand({ CiphertextBlob, EncryptionContext: { purpose: 'import' } })))).toMatchObject(pendingImport(Arn!));
    expect(await failure(kms.send(new EncryptCommand({ KeyId, Plaintext: Buffer.from('x') })))).toMatchObject(pendingImport(Arn!));
    // Deleting again changes nothing.
    await kms.send(new DeleteImportedKeyMaterialCommand({ KeyId }));

    expect((await failure(importMaterial(KeyId!, randomBytes(32)))).name).toBe('IncorrectKeyMaterialException');
    await importMaterial(KeyId!, material, { ImportType: 'EXISTING_KEY_MATERIAL', KeyMaterialId: imported.KeyMaterialId });
    expect(await describe_(KeyId!)).toMatchObject({ KeyState: 'Enabled' });
    const out = await kms.send(new DecryptCommand({ CiphertextBlob, EncryptionContext: { purpose: 'import' } }));
    expect(out.KeyMaterialId).toBe(imported.KeyMaterialId);
  });

  it('on a key pending deletion, deletion of material leaves the state; ImportKeyMaterial is refused', async () => {
    const { KeyId, Arn } = await externalKey();
    const material = randomBytes(32);
    await importMaterial(KeyId!, material);
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId, PendingWindowInDays: 7 }));
    await kms.send(new DeleteImportedKeyMaterialCommand({ KeyId }));
    expect(await describe_(KeyId!)).toMatchObject({ KeyState: 'PendingDeletion' });
    expect(await failure(importMaterial(KeyId!, material))).toMatchObject({ name: 'KMSInvalidStateException', message: `${Arn} is pending deletion.` });
  });

  it('a key whose deletion is cancelled without its material comes back PendingImport; an unknown KeyMaterialId is NotFoundException', async () => {
    const { KeyId } = await externalKey();
    const { KeyMaterialId } = await importMaterial(KeyId!, randomBytes(32));
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId, PendingWindowInDays: 7 }));
    await kms.send(new DeleteImportedKeyMaterialCommand({ KeyId, KeyMaterialId }));
    await kms.send(new CancelKeyDeletionCommand({ KeyId }));
    expect(await describe_(KeyId!)).toMatchObject({ KeyState: 'PendingImport' });
    expect((await failure(kms.send(new DeleteImportedKeyMaterialCommand({ KeyId, KeyMaterialId: 'a'.repeat(64) })))).name).toBe('NotFoundException');
  });

  it('refuses keys that are not EXTERNAL', async () => {
    const native = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
    expect(await failure(kms.send(new DeleteImportedKeyMaterialCommand({ KeyId: native.KeyId })))).toMatchObject({
      name: 'UnsupportedOperationException',
      message: `${native.Arn} origin is AWS_KMS which is not valid for this operation.`,
    });
  });
});

describe('on-demand rotation of imported symmetric keys', () => {
  it('NEW_KEY_MATERIAL waits in PENDING_ROTATION; RotateKeyOnDemand makes it current; old ciphertexts keep their material', async () => {
    const { KeyId, Arn } = await externalKey();
    const first = randomBytes(32);
    const second = randomBytes(32);
    const m1 = await importMaterial(KeyId!, first, { KeyMaterialDescription: 'first material' });
    const c1 = await encryptDecrypt(KeyId!);

    expect(await failure(kms.send(new RotateKeyOnDemandCommand({ KeyId })))).toMatchObject({ name: 'KMSInvalidStateException' });
    // The current material is not new; a KeyMaterialId cannot go with NEW_KEY_MATERIAL.
    expect((await failure(importMaterial(KeyId!, first, { ImportType: 'NEW_KEY_MATERIAL' }))).name).toBe('IncorrectKeyMaterialException');
    expect((await failure(importMaterial(KeyId!, second, { ImportType: 'NEW_KEY_MATERIAL', KeyMaterialId: m1.KeyMaterialId }))).name).toBe('ValidationException');
    // Without ImportType, a later import is a re-import: other material does not match.
    expect((await failure(importMaterial(KeyId!, second))).name).toBe('IncorrectKeyMaterialException');

    const validTo = new Date(Math.floor(sealbox.clock.now().getTime() / 1000 + 30 * DAY) * 1000);
    const m2 = await importMaterial(KeyId!, second, { ImportType: 'NEW_KEY_MATERIAL', KeyMaterialDescription: 'second material', ExpirationModel: 'KEY_MATERIAL_EXPIRES', ValidTo: validTo });
    expect(m2.KeyMaterialId).not.toBe(m1.KeyMaterialId);
    expect((await describe_(KeyId!)).CurrentKeyMaterialId).toBe(m1.KeyMaterialId);
    const all = await kms.send(new ListKeyRotationsCommand({ KeyId, IncludeKeyMaterial: 'ALL_KEY_MATERIAL' }));
    expect(all.Rotations).toEqual([
      { KeyId, KeyMaterialId: m1.KeyMaterialId, KeyMaterialDescription: 'first material', ImportState: 'IMPORTED', KeyMaterialState: 'CURRENT', ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' },
      { KeyId, KeyMaterialId: m2.KeyMaterialId, KeyMaterialDescription: 'second material', ImportState: 'IMPORTED', KeyMaterialState: 'PENDING_ROTATION', ExpirationModel: 'KEY_MATERIAL_EXPIRES', ValidTo: validTo },
    ]);
    expect((await kms.send(new ListKeyRotationsCommand({ KeyId }))).Rotations).toEqual([]);

    expect((await kms.send(new RotateKeyOnDemandCommand({ KeyId }))).KeyId).toBe(KeyId);
    const meta = await describe_(KeyId!);
    expect(meta).toMatchObject({ KeyState: 'Enabled', CurrentKeyMaterialId: m2.KeyMaterialId, ExpirationModel: 'KEY_MATERIAL_EXPIRES', ValidTo: validTo });
    const rotations = (await kms.send(new ListKeyRotationsCommand({ KeyId }))).Rotations!;
    expect(rotations).toHaveLength(1);
    expect(rotations[0]).toMatchObject({ KeyMaterialId: m2.KeyMaterialId, KeyMaterialState: 'CURRENT', ImportState: 'IMPORTED', RotationType: 'ON_DEMAND' });
    expect(rotations[0]!.RotationDate).toBeInstanceOf(Date);

    const c2 = await encryptDecrypt(KeyId!);
    expect(c2.materialId).toBe(m2.KeyMaterialId);
    const old = await kms.send(new DecryptCommand({ CiphertextBlob: c1.CiphertextBlob, EncryptionContext: { purpose: 'import' } }));
    expect(old.KeyMaterialId).toBe(m1.KeyMaterialId);

    // Deleting the older material takes the whole key to PendingImport until it is back.
    await kms.send(new DeleteImportedKeyMaterialCommand({ KeyId, KeyMaterialId: m1.KeyMaterialId }));
    expect(await describe_(KeyId!)).toMatchObject({ KeyState: 'PendingImport', CurrentKeyMaterialId: m2.KeyMaterialId });
    const listed = (await kms.send(new ListKeyRotationsCommand({ KeyId, IncludeKeyMaterial: 'ALL_KEY_MATERIAL' }))).Rotations!;
    expect(listed[0]).toEqual({ KeyId, KeyMaterialId: m1.KeyMaterialId, KeyMaterialDescription: 'first material', ImportState: 'PENDING_IMPORT', KeyMaterialState: 'NON_CURRENT' });
    expect(await failure(kms.send(new EncryptCommand({ KeyId, Plaintext: Buffer.from('x') })))).toMatchObject(pendingImport(Arn!));
    expect((await failure(importMaterial(KeyId!, first, { KeyMaterialId: m2.KeyMaterialId }))).name).toBe('IncorrectKeyMaterialException');
    await importMaterial(KeyId!, first, { ImportType: 'EXISTING_KEY_MATERIAL', KeyMaterialId: m1.KeyMaterialId });
    expect(await describe_(KeyId!)).toMatchObject({ KeyState: 'Enabled' });
    const back = await kms.send(new DecryptCommand({ CiphertextBlob: c1.CiphertextBlob, EncryptionContext: { purpose: 'import' } }));
    expect(back.KeyMaterialId).toBe(m1.KeyMaterialId);
  });

  it('material pending rotation can be deleted and replaced; the key stays Enabled', async () => {
    const { KeyId } = await externalKey();
    const m1 = await importMaterial(KeyId!, randomBytes(32));
    const pending = await importMaterial(KeyId!, randomBytes(32), { ImportType: 'NEW_KEY_MATERIAL' });
    expect((await failure(importMaterial(KeyId!, randomBytes(32), { ImportType: 'NEW_KEY_MATERIAL' }))).name).toBe('KMSInvalidStateException');
    await kms.send(new DeleteImportedKeyMaterialCommand({ KeyId, KeyMaterialId: pending.KeyMaterialId }));
    expect(await describe_(KeyId!)).toMatchObject({ KeyState: 'Enabled', CurrentKeyMaterialId: m1.KeyMaterialId });
    const replacement = await importMaterial(KeyId!, randomBytes(32), { ImportType: 'NEW_KEY_MATERIAL' });
    const listed = (await kms.send(new ListKeyRotationsCommand({ KeyId, IncludeKeyMaterial: 'ALL_KEY_MATERIAL' }))).Rotations!;
    expect(listed.map((r) => [r.KeyMaterialId, r.KeyMaterialState])).toEqual([
      [m1.KeyMaterialId, 'CURRENT'],
      [replacement.KeyMaterialId, 'PENDING_ROTATION'],
    ]);
  });
});

describe('the AWS CLI and the event log', () => {
  it('imports with aws kms and openssl as AWS’s guide does; CloudTrail records neither token nor wrapped material', async () => {
    const dir = mkdtempSync(join(work, 'cli-'));
    // Midnight UTC, 30 days ahead on the virtual clock.
    const validTo = new Date(Math.floor(sealbox.clock.now().getTime() / (DAY * 1000) + 30) * DAY * 1000);
    const script = `
set -euo pipefail
cd "${dir}"
KEY=$(aws kms create-key --origin EXTERNAL --query KeyMetadata.KeyId --output text)
aws kms get-parameters-for-import --key-id "$KEY" --wrapping-algorithm RSA_AES_KEY_WRAP_SHA_256 --wrapping-key-spec RSA_3072 \
  --query '[PublicKey,ImportToken]' --output text > params.txt
cut -f1 params.txt | base64 -d > WrappingPublicKey.bin
cut -f2 params.txt | base64 -d > ImportToken.bin
openssl rand -out PlaintextKeyMaterial.bin 32
openssl rand -out aes-key.bin 32
openssl enc -id-aes256-wrap-pad -K "$(xxd -p < aes-key.bin | tr -d '\\n')" -iv A65959A6 -in PlaintextKeyMaterial.bin -out key-material-wrapped.bin
openssl pkeyutl -encrypt -in aes-key.bin -out aes-key-wrapped.bin -inkey WrappingPublicKey.bin -keyform DER -pubin \
  -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256
cat aes-key-wrapped.bin key-material-wrapped.bin > EncryptedKeyMaterial.bin
aws kms import-key-material --key-id "$KEY" --encrypted-key-material fileb://EncryptedKeyMaterial.bin \
  --import-token fileb://ImportToken.bin --expiration-model KEY_MATERIAL_EXPIRES --valid-to ${validTo.toISOString()} > /dev/null
aws kms describe-key --key-id "$KEY" --query '[KeyMetadata.KeyId,KeyMetadata.KeyState,KeyMetadata.ExpirationModel]' --output text
`;
    const r = await runCommand('bash', ['-c', script], awsEnv(sealbox));
    expect(r.stderr).toBe('');
    const [keyId, state, model] = r.stdout.trim().split('\t');
    expect([state, model]).toEqual(['Enabled', 'KEY_MATERIAL_EXPIRES']);
    expect((await describe_(keyId!)).ValidTo).toEqual(validTo);
    await encryptDecrypt(keyId!);

    const records = trailRecords().filter((e) => (e.resources as { ARN: string }[] | undefined)?.[0]?.ARN.endsWith(keyId!));
    const get = records.find((e) => e.eventName === 'GetParametersForImport')!;
    expect(get).toMatchObject({ readOnly: true, requestParameters: { keyId, wrappingAlgorithm: 'RSA_AES_KEY_WRAP_SHA_256', wrappingKeySpec: 'RSA_3072' } });
    const imported = records.find((e) => e.eventName === 'ImportKeyMaterial')!;
    expect(imported).toMatchObject({ readOnly: false, requestParameters: { keyId, validTo: expect.stringMatching(/^[A-Z][a-z]{2} \d{1,2}, \d{4}, 12:00:00 AM$/), expirationModel: 'KEY_MATERIAL_EXPIRES' } });
    expect(Object.keys(imported.requestParameters as object).sort()).toEqual(['expirationModel', 'keyId', 'validTo']);
  });
});

describe('persistence', () => {
  it('imported material, its expiry and open import tokens survive a restart; the material is never on disk in clear', async () => {
    const dataDir = mkdtempSync(join(work, 'data-'));
    const material = randomBytes(32);
    let first = await startTestSealbox({ only: 'kms', dataDir });
    let client = kmsClient(first);
    let keyId: string;
    let second: string;
    let ciphertext: Uint8Array;
    let token: { ImportToken?: Uint8Array; PublicKey?: Uint8Array };
    const validTo = new Date(Math.floor(Date.now() / 1000 + 10 * DAY) * 1000);
    try {
      keyId = (await client.send(new CreateKeyCommand({ Origin: 'EXTERNAL' }))).KeyMetadata!.KeyId!;
      const p = await client.send(new GetParametersForImportCommand({ KeyId: keyId, WrappingAlgorithm: 'RSAES_OAEP_SHA_1', WrappingKeySpec: 'RSA_2048' }));
      await client.send(
        new ImportKeyMaterialCommand({ KeyId: keyId, ImportToken: p.ImportToken, EncryptedKeyMaterial: wrapWithNode('RSAES_OAEP_SHA_1', p.PublicKey!, material), ValidTo: validTo }),
      );
      ciphertext = (await client.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('kept') }))).CiphertextBlob!;
      second = (await client.send(new CreateKeyCommand({ Origin: 'EXTERNAL' }))).KeyMetadata!.KeyId!;
      token = await client.send(new GetParametersForImportCommand({ KeyId: second, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' }));
    } finally {
      client.destroy();
      await first.stop();
    }
    for (const file of readdirSync(dataDir)) expect(readFileSync(join(dataDir, file)).includes(material)).toBe(false);

    first = await startTestSealbox({ only: 'kms', dataDir });
    client = kmsClient(first);
    try {
      expect((await client.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata).toMatchObject({ KeyState: 'Enabled', ExpirationModel: 'KEY_MATERIAL_EXPIRES', ValidTo: validTo });
      const out = await client.send(new DecryptCommand({ CiphertextBlob: ciphertext }));
      expect(Buffer.from(out.Plaintext!).toString()).toBe('kept');
      await client.send(
        new ImportKeyMaterialCommand({
          KeyId: second,
          ImportToken: token.ImportToken,
          EncryptedKeyMaterial: wrapWithNode('RSAES_OAEP_SHA_256', token.PublicKey!, randomBytes(32)),
          ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE',
        }),
      );
      // The expiry still falls due after the restart.
      await first.clock.advance(10 * DAY + 1);
      expect((await client.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata!.KeyState).toBe('PendingImport');
      expect((await client.send(new DescribeKeyCommand({ KeyId: second }))).KeyMetadata!.KeyState).toBe('Enabled');
    } finally {
      client.destroy();
      await first.stop();
    }
  });
});

interface TrailRecord {
  eventName: string;
  [k: string]: unknown;
}

/** Every event recorded so far, oldest first, from the admin view of the log. */
function trailRecords(): TrailRecord[] {
  const core = sealbox.kms as unknown as { core: { trail: { flush(): void }; store: { lookupEvents(q: object): { event: { record: string } }[] } } };
  core.core.trail.flush();
  return core.core.store
    .lookupEvents({ accountId: '000000000000', region: 'us-east-1', limit: 10_000 })
    .map((e) => JSON.parse(e.event.record) as TrailRecord)
    .reverse();
}
