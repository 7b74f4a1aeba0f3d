import { createPublicKey } from 'node:crypto';
import {
  CreateKeyCommand,
  DescribeKeyCommand,
  EnableKeyRotationCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GetKeyRotationStatusCommand,
  GetPublicKeyCommand,
  type KeySpec,
  type KeyUsageType,
  type KMSClient,
  RotateKeyOnDemandCommand,
} from '@aws-sdk/client-kms';
import type { Sealbox } from '@sealbox/cli';
import { failure, kmsClient, startTestSealbox } from './helpers';

let sealbox: Sealbox;
let kms: KMSClient;

beforeAll(async () => {
  sealbox = await startTestSealbox({ only: 'kms' });
  kms = kmsClient(sealbox);
});
afterAll(() => sealbox.stop());

const RSA_SIGNING = ['RSASSA_PKCS1_V1_5_SHA_256', 'RSASSA_PKCS1_V1_5_SHA_384', 'RSASSA_PKCS1_V1_5_SHA_512', 'RSASSA_PSS_SHA_256', 'RSASSA_PSS_SHA_384', 'RSASSA_PSS_SHA_512'];

/** spec, usage, the algorithms DescribeKey lists, and what Node sees in the public key. */
const CASES: [KeySpec, KeyUsageType, Record<string, string[]>, { type: string; detail?: Record<string, unknown> } | null][] = [
  ['SYMMETRIC_DEFAULT', 'ENCRYPT_DECRYPT', { EncryptionAlgorithms: ['SYMMETRIC_DEFAULT'] }, null],
  ['HMAC_224', 'GENERATE_VERIFY_MAC', { MacAlgorithms: ['HMAC_SHA_224'] }, null],
  ['HMAC_512', 'GENERATE_VERIFY_MAC', { MacAlgorithms: ['HMAC_SHA_512'] }, null],
  ['RSA_2048', 'ENCRYPT_DECRYPT', { EncryptionAlgorithms: ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256'] }, { type: 'rsa', detail: { modulusLength: 2048 } }],
  ['RSA_3072', 'SIGN_VERIFY', { SigningAlgorithms: RSA_SIGNING }, { type: 'rsa', detail: { modulusLength: 3072 } }],
  ['ECC_NIST_P256', 'SIGN_VERIFY', { SigningAlgorithms: ['ECDSA_SHA_256'] }, { type: 'ec', detail: { namedCurve: 'prime256v1' } }],
  ['ECC_NIST_P384', 'KEY_AGREEMENT', { KeyAgreementAlgorithms: ['ECDH'] }, { type: 'ec', detail: { namedCurve: 'secp384r1' } }],
  ['ECC_NIST_P521', 'SIGN_VERIFY', { SigningAlgorithms: ['ECDSA_SHA_512'] }, { type: 'ec', detail: { namedCurve: 'secp521r1' } }],
  ['ECC_SECG_P256K1', 'SIGN_VERIFY', { SigningAlgorithms: ['ECDSA_SHA_256'] }, { type: 'ec', detail: { namedCurve: 'secp256k1' } }],
  ['ECC_NIST_EDWARDS25519', 'SIGN_VERIFY', { SigningAlgorithms: ['ED25519_SHA_512', 'ED25519_PH_SHA_512'] }, { type: 'ed25519' }],
];

describe('CreateKey for every key spec', () => {
  it.each(CASES)('%s / %s: DescribeKey lists its algorithms; GetPublicKey returns the SPKI', async (spec, usage, algorithms, publicKey) => {
    const meta = (await kms.send(new CreateKeyCommand({ KeySpec: spec, KeyUsage: usage }))).KeyMetadata!;
    expect(meta).toMatchObject({ KeySpec: spec, CustomerMasterKeySpec: spec, KeyUsage: usage, ...algorithms });
    for (const field of ['EncryptionAlgorithms', 'SigningAlgorithms', 'MacAlgorithms', 'KeyAgreementAlgorithms']) {
      if (!(field in algorithms)) expect(meta).not.toHaveProperty(field);
    }
    expect((await kms.send(new DescribeKeyCommand({ KeyId: meta.KeyId }))).KeyMetadata).toMatchObject({ KeySpec: spec, KeyUsage: usage, ...algorithms });
    if (publicKey === null) {
      expect((await failure(kms.send(new GetPublicKeyCommand({ KeyId: meta.KeyId })))).name).toBe('UnsupportedOperationException');
      return;
    }
    const out = await kms.send(new GetPublicKeyCommand({ KeyId: meta.KeyId }));
    expect(out).toMatchObject({ KeyId: meta.Arn, KeySpec: spec, KeyUsage: usage, ...algorithms });
    const key = createPublicKey({ key: Buffer.from(out.PublicKey!), format: 'der', type: 'spki' });
    expect(key.asymmetricKeyType).toBe(publicKey.type);
    if (publicKey.detail) expect(key.asymmetricKeyDetails).toMatchObject(publicKey.detail);
  });

  it('refuses a usage the spec does not allow, and a missing usage for non-symmetric specs', async () => {
    for (const [spec, usage] of [
      ['ECC_NIST_P256', 'ENCRYPT_DECRYPT'],
      ['ECC_SECG_P256K1', 'KEY_AGREEMENT'],
      ['HMAC_256', 'SIGN_VERIFY'],
      ['SYMMETRIC_DEFAULT', 'SIGN_VERIFY'],
      ['RSA_2048', 'GENERATE_VERIFY_MAC'],
      ['ECC_NIST_EDWARDS25519', 'KEY_AGREEMENT'],
    ] as [KeySpec, KeyUsageType][]) {
      const err = await failure(kms.send(new CreateKeyCommand({ KeySpec: spec, KeyUsage: usage })));
      expect(err.name).toBe('ValidationException');
      expect(err.message).toBe(`KeyUsage ${usage} is not compatible with KeySpec ${spec}`);
    }
    const err = await failure(kms.send(new CreateKeyCommand({ KeySpec: 'RSA_2048' })));
    expect(err.message).toBe('You must specify a KeyUsage value for all KMS keys except for symmetric encryption keys.');
  });

  it('symmetric-only operations refuse other keys with AWS words', async () => {
    const signing = (await kms.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' }))).KeyMetadata!;
    const err = await failure(kms.send(new EncryptCommand({ KeyId: signing.KeyId, Plaintext: Buffer.from('x') })));
    expect(err.name).toBe('InvalidKeyUsageException');
    expect(err.message).toBe(`${signing.Arn} key usage is SIGN_VERIFY which is not valid for Encrypt.`);
    const gdk = await failure(kms.send(new GenerateDataKeyCommand({ KeyId: signing.KeyId, KeySpec: 'AES_256' })));
    expect(gdk.message).toBe(`${signing.Arn} key usage is SIGN_VERIFY which is not valid for GenerateDataKey.`);
  });

  it('only symmetric encryption keys rotate; the others report rotation off', async () => {
    for (const [spec, usage] of [['RSA_2048', 'SIGN_VERIFY'], ['HMAC_256', 'GENERATE_VERIFY_MAC']] as [KeySpec, KeyUsageType][]) {
      const meta = (await kms.send(new CreateKeyCommand({ KeySpec: spec, KeyUsage: usage }))).KeyMetadata!;
      for (const command of [new EnableKeyRotationCommand({ KeyId: meta.KeyId }), new RotateKeyOnDemandCommand({ KeyId: meta.KeyId })]) {
        const err = await failure(kms.send(command as never));
        expect(err.name).toBe('UnsupportedOperationException');
        expect(err.message).toBe('You cannot perform this operation on a non-symmetric key or a key with non-ENCRYPT_DECRYPT key usage.');
      }
      expect((await kms.send(new GetKeyRotationStatusCommand({ KeyId: meta.KeyId }))).KeyRotationEnabled).toBe(false);
    }
  });
});
